//! Backend policies compiled once per published version ([`compile_policies`]): their
//! conditions parsed (patterns, address ranges), ready to be judged against a request's
//! [`Facts`] by [`crate::backend::select`].

use std::net::IpAddr;

use portico_model::{ApiDefinition, ConditionOrigin, ConditionType, EffectMode};
use regex::Regex;

use crate::ip::IpRange;
use crate::params::ParamValues;

/// What a condition looks at.
#[derive(Debug)]
enum Subject {
    Param(String),
    SourceIp,
    ReqPath,
    ReqMethod,
    Cookie(String),
    /// A key of the frontend custom authorizer's context.
    FrontendAuthorizer(String),
    /// Orchestrations (Portico has none) and unknown system parameters: such a condition never
    /// holds.
    Unavailable,
}

/// How a condition compares.
#[derive(Debug)]
enum Test {
    Exact(String),
    Enum(Vec<String>),
    Pattern(Regex),
    Ips(Vec<IpRange>),
    /// An invalid pattern: never holds.
    Never,
}

/// A backend policy condition, parsed once when the route table is built.
#[derive(Debug)]
pub struct CompiledCondition {
    subject: Subject,
    test: Test,
}

/// Which backend a policy routes to: an index into the snapshot's policy list of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRef {
    /// `policy_https[i]`.
    Http(usize),
    /// `policy_functions[i]`.
    Function(usize),
    /// `policy_mocks[i]`.
    Mock(usize),
}

/// A backend policy, ready to evaluate.
#[derive(Debug)]
pub struct CompiledPolicy {
    /// The backend it routes to.
    pub target: PolicyRef,
    effect: EffectMode,
    conditions: Vec<CompiledCondition>,
}

/// Compiles every backend policy of `def`; problems (invalid patterns, unusable conditions)
/// are reported, and such a condition never holds.
pub fn compile_policies(def: &ApiDefinition) -> (Vec<CompiledPolicy>, Vec<String>) {
    let mut problems = Vec::new();
    let kinds = def
        .policy_https
        .iter()
        .enumerate()
        .map(|(i, p)| (PolicyRef::Http(i), &p.common))
        .chain(def.policy_functions.iter().enumerate().map(|(i, p)| (PolicyRef::Function(i), &p.common)))
        .chain(def.policy_mocks.iter().enumerate().map(|(i, p)| (PolicyRef::Mock(i), &p.common)));
    let policies = kinds
        .map(|(target, common)| CompiledPolicy {
            target,
            effect: common.effect_mode,
            conditions: common
                .conditions
                .iter()
                .map(|c| {
                    let subject = match c.condition_origin {
                        ConditionOrigin::Param => Subject::Param(c.req_param_name.clone().unwrap_or_default()),
                        ConditionOrigin::Source => Subject::SourceIp,
                        ConditionOrigin::System => match c.sys_param_name.as_deref() {
                            Some("req_path" | "reqPath") => Subject::ReqPath,
                            Some("req_method" | "reqMethod") => Subject::ReqMethod,
                            other => {
                                problems.push(format!("policy {}: unknown system parameter {other:?}", common.name));
                                Subject::Unavailable
                            }
                        },
                        ConditionOrigin::Cookie => Subject::Cookie(c.cookie_param_name.clone().unwrap_or_default()),
                        ConditionOrigin::FrontendAuthorizer => {
                            let name = c.frontend_authorizer_param_name.as_deref().unwrap_or_default();
                            let key = name.strip_prefix("$context.authorizer.frontend.").unwrap_or(name);
                            Subject::FrontendAuthorizer(key.to_string())
                        }
                        ConditionOrigin::Orchestration => Subject::Unavailable,
                    };
                    let value = c.condition_value.as_str();
                    let test = match (&subject, c.condition_type) {
                        (Subject::SourceIp, _) => Test::Ips(
                            value.split(',').filter(|s| !s.trim().is_empty()).filter_map(IpRange::parse).collect(),
                        ),
                        (_, Some(ConditionType::Enum)) => {
                            Test::Enum(value.split(',').map(|v| v.trim().to_string()).collect())
                        }
                        (_, Some(ConditionType::Pattern)) => match Regex::new(value) {
                            Ok(re) => Test::Pattern(re),
                            Err(e) => {
                                problems.push(format!("policy {}: invalid pattern {value:?}: {e}", common.name));
                                Test::Never
                            }
                        },
                        (_, Some(ConditionType::Exact) | None) => Test::Exact(value.to_string()),
                    };
                    CompiledCondition { subject, test }
                })
                .collect(),
        })
        .collect();
    (policies, problems)
}

/// What conditions may look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Frontend parameter values (defaults included).
    pub params: &'a ParamValues,
    /// The client's address.
    pub source_ip: IpAddr,
    /// Request method.
    pub method: &'a str,
    /// Request path.
    pub path: &'a str,
    /// The `Cookie` header.
    pub cookies: Option<&'a str>,
    /// What the frontend custom authorizer said of the caller (empty for other callers).
    pub authorizer: &'a [(String, String)],
}

fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

impl CompiledCondition {
    fn holds(&self, facts: &Facts<'_>) -> bool {
        let value = match &self.subject {
            Subject::SourceIp => {
                return matches!(&self.test, Test::Ips(ranges) if ranges.iter().any(|r| r.contains(facts.source_ip)));
            }
            Subject::Param(name) => facts.params.get(name),
            Subject::ReqPath => Some(facts.path),
            Subject::ReqMethod => Some(facts.method),
            Subject::Cookie(name) => facts.cookies.and_then(|h| cookie(h, name)),
            Subject::FrontendAuthorizer(key) => {
                facts.authorizer.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
            }
            Subject::Unavailable => None,
        };
        let Some(value) = value else { return false };
        match &self.test {
            Test::Exact(expected) => value == expected,
            Test::Enum(list) => list.iter().any(|v| v == value),
            Test::Pattern(re) => re.is_match(value),
            Test::Ips(_) | Test::Never => false,
        }
    }
}

impl CompiledPolicy {
    /// Whether the policy's conditions hold for `facts`.
    pub fn applies(&self, facts: &Facts<'_>) -> bool {
        match self.effect {
            EffectMode::All => !self.conditions.is_empty() && self.conditions.iter().all(|c| c.holds(facts)),
            EffectMode::Any => self.conditions.iter().any(|c| c.holds(facts)),
        }
    }
}
