//! VPC channels (load-balance channels): a set of backend members, optionally in member
//! groups, with a health check. APIs with `vpc_channel_status` 1 send their requests to one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_json};
use crate::group::required_str;
use crate::ids::new_id;
use crate::rules::{is_cjk, is_ip_or_cidr};

/// A member group of a channel (`MemberGroupInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberGroup {
    /// Group id.
    pub member_group_id: String,
    /// Name, unique in the channel.
    pub member_group_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_group_remark: Option<String>,
    /// Weight of the group, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_group_weight: Option<i64>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

/// A backend member of a channel (`VpcMemberInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcMember {
    /// Member id.
    pub id: String,
    /// The channel.
    pub vpc_channel_id: String,
    /// Address (for `member_type` `ip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Server id (for `member_type` `ecs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_id: Option<String>,
    /// Server name (for `member_type` `ecs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_name: Option<String>,
    /// Weight, 0–10000.
    pub weight: i64,
    /// A backup member gets traffic only when the others are down.
    pub is_backup: bool,
    /// Its member group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_group_name: Option<String>,
    /// Its member group's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_group_id: Option<String>,
    /// 1 available, 2 unavailable.
    pub status: i32,
    /// Port (the channel's port when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

impl VpcMember {
    /// What identifies the member within its channel: the host (or server id) and port.
    fn target(&self) -> (Option<&str>, Option<&str>, Option<i64>) {
        (self.host.as_deref(), self.ecs_id.as_deref(), self.port)
    }
}

/// A channel's health check (`VpcHealthConfigInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// Path checked (HTTP/HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `GET` or `HEAD` (HTTP/HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Port checked (the member's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Successes before a member counts as healthy, 1–10.
    pub threshold_normal: i64,
    /// Failures before a member counts as unhealthy, 1–10.
    pub threshold_abnormal: i64,
    /// Seconds between checks, 1–300, more than `timeout`.
    pub time_interval: i64,
    /// Healthy HTTP codes: `200`, `200,202`, `200-299`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_code: Option<String>,
    /// Two-way TLS.
    pub enable_client_ssl: bool,
    /// 1 on.
    pub status: i32,
    /// Seconds a check may take, 1–30.
    pub timeout: i64,
}

/// A VPC channel with its members and health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcChannel {
    /// Channel id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// Default port of the members.
    pub port: i64,
    /// 1 weighted round robin, 2 weighted least connections, 3 source hash, 4 URI hash.
    pub balance_strategy: i32,
    /// `ip` or `ecs`.
    pub member_type: String,
    /// 2 (server channel).
    #[serde(rename = "type")]
    pub channel_type: i32,
    /// `builtin`.
    pub vpc_channel_type: String,
    /// 1 normal.
    pub status: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Member groups.
    #[serde(default)]
    pub member_groups: Vec<MemberGroup>,
    /// Members.
    #[serde(default)]
    pub members: Vec<VpcMember>,
    /// Health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_health_config: Option<HealthConfig>,
}

#[derive(Deserialize)]
struct GroupBody {
    member_group_name: String,
    #[serde(default)]
    member_group_remark: Option<String>,
    #[serde(default)]
    member_group_weight: Option<i64>,
}

/// A member as a request gives it (`MemberInfo`).
#[derive(Debug, Clone, Deserialize)]
pub struct MemberBody {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    weight: Option<i64>,
    #[serde(default)]
    is_backup: Option<bool>,
    #[serde(default)]
    member_group_name: Option<String>,
    #[serde(default)]
    status: Option<i32>,
    #[serde(default)]
    port: Option<i64>,
    #[serde(default)]
    ecs_id: Option<String>,
    #[serde(default)]
    ecs_name: Option<String>,
}

#[derive(Deserialize)]
struct HealthBody {
    protocol: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    port: Option<i64>,
    threshold_normal: Option<i64>,
    threshold_abnormal: Option<i64>,
    time_interval: Option<i64>,
    #[serde(default)]
    http_code: Option<String>,
    #[serde(default)]
    enable_client_ssl: Option<bool>,
    #[serde(default)]
    status: Option<i32>,
    #[serde(default)]
    timeout: Option<i64>,
}

#[derive(Deserialize)]
struct ChannelBody {
    name: String,
    port: i64,
    balance_strategy: i32,
    member_type: String,
    #[serde(default, rename = "type")]
    channel_type: Option<i32>,
    #[serde(default)]
    vpc_channel_type: Option<String>,
    #[serde(default)]
    member_groups: Option<Vec<GroupBody>>,
    #[serde(default)]
    members: Option<Vec<MemberBody>>,
    #[serde(default)]
    vpc_health_config: Option<HealthBody>,
}

fn invalid<T>(field: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError::Invalid(field.into()))
}

fn is_channel_name(name: &str) -> bool {
    (3..=64).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || "-_.".contains(c))
}

fn is_host(host: &str) -> bool {
    let hostname = (1..=255).contains(&host.len())
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
        });
    (is_ip_or_cidr(host) && !host.contains('/')) || hostname
}

fn is_http_codes(codes: &str) -> bool {
    let code = |c: &str| c.parse::<u16>().is_ok_and(|n| (100..=599).contains(&n));
    codes.split(',').all(|part| match part.split_once('-') {
        Some((a, b)) => code(a) && code(b) && a <= b,
        None => code(part),
    })
}

fn check_port(port: Option<i64>, field: &str) -> Result<(), FieldError> {
    match port {
        Some(p) if !(1..=65535).contains(&p) => invalid(field),
        _ => Ok(()),
    }
}

fn health_config(b: HealthBody) -> Result<HealthConfig, FieldError> {
    let p = "vpc_health_config";
    let need = |v: Option<i64>, f: &str| v.ok_or_else(|| FieldError::Missing(format!("{p}.{f}")));
    let protocol = b.protocol.filter(|s| !s.is_empty()).ok_or_else(|| FieldError::Missing(format!("{p}.protocol")))?;
    let config = HealthConfig {
        threshold_normal: need(b.threshold_normal, "threshold_normal")?,
        threshold_abnormal: need(b.threshold_abnormal, "threshold_abnormal")?,
        time_interval: need(b.time_interval, "time_interval")?,
        timeout: b.timeout.unwrap_or(5),
        enable_client_ssl: b.enable_client_ssl.unwrap_or(false),
        status: b.status.unwrap_or(1),
        port: b.port,
        method: None,
        path: None,
        http_code: None,
        protocol,
    };
    let http = match config.protocol.as_str() {
        "TCP" => false,
        "HTTP" | "HTTPS" => true,
        _ => return invalid(format!("{p}.protocol")),
    };
    let config = if http {
        let path = b.path.filter(|s| !s.is_empty()).ok_or_else(|| FieldError::Missing(format!("{p}.path")))?;
        if !path.starts_with('/') || path.len() > 512 {
            return invalid(format!("{p}.path"));
        }
        let http_code =
            b.http_code.filter(|s| !s.is_empty()).ok_or_else(|| FieldError::Missing(format!("{p}.http_code")))?;
        if !is_http_codes(&http_code) {
            return invalid(format!("{p}.http_code"));
        }
        let method = b.method.unwrap_or_else(|| "GET".into());
        if !matches!(method.as_str(), "GET" | "HEAD") {
            return invalid(format!("{p}.method"));
        }
        HealthConfig { path: Some(path), http_code: Some(http_code), method: Some(method), ..config }
    } else {
        config
    };
    check_port(config.port, &format!("{p}.port"))?;
    for (value, field, range) in [
        (config.threshold_normal, "threshold_normal", 1..=10),
        (config.threshold_abnormal, "threshold_abnormal", 1..=10),
        (config.time_interval, "time_interval", 1..=300),
        (config.timeout, "timeout", 1..=30),
    ] {
        if !range.contains(&value) {
            return invalid(format!("{p}.{field}"));
        }
    }
    if config.timeout >= config.time_interval {
        return invalid(format!("{p}.timeout"));
    }
    if !matches!(config.status, 1 | 2) {
        return invalid(format!("{p}.status"));
    }
    Ok(config)
}

/// Validates members (`prefix` names them in errors) against the channel's member type and
/// groups, and gives them ids (kept from `existing` members with the same target).
pub fn build_members(
    prefix: &str,
    bodies: Vec<MemberBody>,
    channel: &VpcChannel,
    now: OffsetDateTime,
) -> Result<Vec<VpcMember>, FieldError> {
    let mut members: Vec<VpcMember> = Vec::with_capacity(bodies.len());
    for (i, b) in bodies.into_iter().enumerate() {
        let field = |f: &str| format!("{prefix}[{i}].{f}");
        match channel.member_type.as_str() {
            "ip" => match b.host.as_deref() {
                None | Some("") => return Err(FieldError::Missing(field("host"))),
                Some(h) if !is_host(h) => return invalid(field("host")),
                Some(_) => {}
            },
            _ => {
                if b.ecs_id.as_deref().unwrap_or("").is_empty() {
                    return Err(FieldError::Missing(field("ecs_id")));
                }
                match b.ecs_name.as_deref() {
                    None | Some("") => return Err(FieldError::Missing(field("ecs_name"))),
                    Some(n) if n.chars().count() > 64 => return invalid(field("ecs_name")),
                    Some(_) => {}
                }
            }
        }
        let weight = b.weight.unwrap_or(1);
        if !(0..=10000).contains(&weight) {
            return invalid(field("weight"));
        }
        check_port(b.port, &field("port"))?;
        let status = b.status.unwrap_or(1);
        if !matches!(status, 1 | 2) {
            return invalid(field("status"));
        }
        let group = match b.member_group_name.as_deref().filter(|g| !g.is_empty()) {
            None => None,
            Some(name) => Some(
                channel
                    .member_groups
                    .iter()
                    .find(|g| g.member_group_name == name)
                    .ok_or_else(|| FieldError::Invalid(field("member_group_name")))?,
            ),
        };
        let (host, ecs_id, ecs_name) =
            if channel.member_type == "ip" { (b.host, None, None) } else { (None, b.ecs_id, b.ecs_name) };
        let mut member = VpcMember {
            id: String::new(),
            vpc_channel_id: channel.id.clone(),
            host,
            ecs_id,
            ecs_name,
            weight,
            is_backup: b.is_backup.unwrap_or(false),
            member_group_name: group.map(|g| g.member_group_name.clone()),
            member_group_id: group.map(|g| g.member_group_id.clone()),
            status,
            port: b.port,
            create_time: now,
        };
        if members.iter().any(|m| m.target() == member.target()) {
            return invalid(field(if channel.member_type == "ip" { "host" } else { "ecs_id" }));
        }
        match channel.members.iter().find(|m| m.target() == member.target()) {
            Some(old) => {
                member.id = old.id.clone();
                member.create_time = old.create_time;
            }
            None => member.id = new_id(),
        }
        members.push(member);
    }
    Ok(members)
}

/// Parses the member list of `AddingBackendInstancesV2` / `UpdateBackendInstancesV2`, and
/// the latter's `member_group_name`.
pub fn members_from_json(body: &[u8]) -> Result<(Vec<MemberBody>, Option<String>), FieldError> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        members: Vec<MemberBody>,
        #[serde(default)]
        member_group_name: Option<String>,
    }
    let doc = parse_json(body)?;
    let b: Body = from_value(&doc)?;
    if b.members.is_empty() {
        return Err(FieldError::Missing("members".into()));
    }
    Ok((b.members, b.member_group_name.filter(|g| !g.is_empty())))
}

/// A change to a channel's members.
#[derive(Debug, Clone)]
pub enum MemberChange {
    /// `AddingBackendInstancesV2`: add members; one with the same host (or server) and port
    /// as an existing member replaces it.
    Add(Vec<MemberBody>),
    /// `UpdateBackendInstancesV2`: replace all members, or those of one member group.
    Replace {
        /// Only this group's members are replaced.
        member_group_name: Option<String>,
        /// The new members.
        members: Vec<MemberBody>,
    },
    /// `DeleteBackendInstanceV2`: remove the member with this id.
    Remove(String),
}

impl VpcChannel {
    /// Applies a member change; `Ok(false)` when the member to remove does not exist.
    pub fn change_members(&mut self, change: MemberChange, now: OffsetDateTime) -> Result<bool, FieldError> {
        match change {
            MemberChange::Add(bodies) => {
                for member in build_members("members", bodies, self, now)? {
                    match self.members.iter_mut().find(|m| m.id == member.id) {
                        Some(existing) => *existing = member,
                        None => self.members.push(member),
                    }
                }
            }
            MemberChange::Replace { member_group_name: None, members } => {
                self.members = build_members("members", members, self, now)?;
            }
            MemberChange::Replace { member_group_name: Some(group), mut members } => {
                if !self.member_groups.iter().any(|g| g.member_group_name == group) {
                    return invalid("member_group_name");
                }
                for m in &mut members {
                    if m.member_group_name.as_deref().is_none_or(|g| g != group) {
                        m.member_group_name = Some(group.clone());
                    }
                }
                let new = build_members("members", members, self, now)?;
                self.members.retain(|m| m.member_group_name.as_deref() != Some(&group));
                self.members.retain(|m| !new.iter().any(|n| n.target() == m.target()));
                self.members.extend(new);
            }
            MemberChange::Remove(id) => {
                let before = self.members.len();
                self.members.retain(|m| m.id != id);
                return Ok(self.members.len() < before);
            }
        }
        Ok(true)
    }

    /// Parses and validates `CreateVpcChannelV2` / `UpdateVpcChannelV2`. `previous` is the
    /// channel being replaced: its member groups and members keep their ids when they keep
    /// their name / target.
    pub fn from_json(
        body: &[u8],
        previous: Option<&VpcChannel>,
        now: OffsetDateTime,
    ) -> Result<VpcChannel, FieldError> {
        let doc = parse_json(body)?;
        for key in ["name", "member_type"] {
            required_str(&doc, key)?;
        }
        for key in ["port", "balance_strategy"] {
            if matches!(doc.get(key), None | Some(serde_json::Value::Null)) {
                return Err(FieldError::Missing(key.into()));
            }
        }
        let b: ChannelBody = from_value(&doc)?;
        if !is_channel_name(&b.name) {
            return invalid("name");
        }
        check_port(Some(b.port), "port")?;
        if !(1..=4).contains(&b.balance_strategy) {
            return invalid("balance_strategy");
        }
        if !matches!(b.member_type.as_str(), "ip" | "ecs") {
            return invalid("member_type");
        }
        // Microservice and reference channels need a service registry: not supported.
        if !matches!(b.channel_type, None | Some(2)) {
            return invalid("type");
        }
        if !matches!(b.vpc_channel_type.as_deref(), None | Some("builtin")) {
            return invalid("vpc_channel_type");
        }
        let given_groups = b.member_groups.is_some();
        let mut groups: Vec<MemberGroup> = Vec::new();
        for (i, g) in b.member_groups.unwrap_or_default().into_iter().enumerate() {
            let name_ok = (3..=64).contains(&g.member_group_name.chars().count())
                && g.member_group_name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
                && g.member_group_name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || "-_.".contains(c));
            if !name_ok || groups.iter().any(|o| o.member_group_name == g.member_group_name) {
                return invalid(format!("member_groups[{i}].member_group_name"));
            }
            if g.member_group_remark.as_ref().is_some_and(|r| r.chars().count() > 255) {
                return invalid(format!("member_groups[{i}].member_group_remark"));
            }
            if g.member_group_weight.is_some_and(|w| !(0..=100).contains(&w)) {
                return invalid(format!("member_groups[{i}].member_group_weight"));
            }
            let old =
                previous.and_then(|p| p.member_groups.iter().find(|o| o.member_group_name == g.member_group_name));
            groups.push(MemberGroup {
                member_group_id: old.map(|o| o.member_group_id.clone()).unwrap_or_else(new_id),
                member_group_name: g.member_group_name,
                member_group_remark: g.member_group_remark,
                member_group_weight: g.member_group_weight,
                create_time: old.map(|o| o.create_time).unwrap_or(now),
                update_time: now,
            });
        }
        // On update, what the body leaves out is kept.
        if !given_groups {
            groups = previous.map(|p| p.member_groups.clone()).unwrap_or_default();
        }
        let health = match (b.vpc_health_config, previous) {
            (Some(h), _) => Some(health_config(h)?),
            (None, Some(p)) => p.vpc_health_config.clone(),
            (None, None) => None,
        };
        let mut channel = VpcChannel {
            id: previous.map(|p| p.id.clone()).unwrap_or_else(new_id),
            name: b.name,
            port: b.port,
            balance_strategy: b.balance_strategy,
            member_type: b.member_type,
            channel_type: 2,
            vpc_channel_type: "builtin".into(),
            status: 1,
            create_time: previous.map(|p| p.create_time).unwrap_or(now),
            member_groups: groups,
            members: previous.map(|p| p.members.clone()).unwrap_or_default(),
            vpc_health_config: health,
        };
        match b.members {
            Some(bodies) => channel.members = build_members("members", bodies, &channel, now)?,
            None if previous.is_some_and(|p| p.member_type != channel.member_type) => {
                return Err(FieldError::Missing("members".into()));
            }
            None => {
                // Kept members follow their group by name; a group that went away is an error.
                for member in &mut channel.members {
                    if let Some(name) = &member.member_group_name {
                        let group = channel.member_groups.iter().find(|g| &g.member_group_name == name);
                        member.member_group_id =
                            Some(group.ok_or_else(|| FieldError::invalid("member_groups"))?.member_group_id.clone());
                    }
                }
            }
        }
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: serde_json::Value) -> Result<VpcChannel, FieldError> {
        VpcChannel::from_json(body.to_string().as_bytes(), None, crate::now())
    }

    fn base() -> serde_json::Value {
        json!({"name": "chan_1", "port": 8080, "balance_strategy": 1, "member_type": "ip", "vpc_channel_type": "builtin",
               "member_groups": [{"member_group_name": "blue", "member_group_weight": 10}],
               "members": [{"host": "10.0.0.1", "weight": 5, "member_group_name": "blue"},
                           {"host": "backend.internal", "port": 9090, "is_backup": true}],
               "vpc_health_config": {"protocol": "HTTP", "path": "/health", "http_code": "200-299",
                                     "threshold_normal": 2, "threshold_abnormal": 3, "time_interval": 10, "timeout": 5}})
    }

    #[test]
    fn a_full_channel_parses() {
        let c = parse(base()).unwrap();
        assert_eq!(c.members.len(), 2);
        assert_eq!(c.members[0].member_group_id.as_ref(), Some(&c.member_groups[0].member_group_id));
        assert_eq!(c.vpc_health_config.unwrap().method.as_deref(), Some("GET"));
    }

    #[test]
    fn an_update_keeps_what_the_body_leaves_out() {
        let before = parse(base()).unwrap();
        let body = json!({"name": "chan_2", "port": 80, "balance_strategy": 2, "member_type": "ip"});
        let after = VpcChannel::from_json(body.to_string().as_bytes(), Some(&before), crate::now()).unwrap();
        assert_eq!((after.id.as_str(), after.name.as_str()), (before.id.as_str(), "chan_2"));
        assert_eq!(after.members, before.members);
        assert_eq!(after.member_groups, before.member_groups);
        assert_eq!(after.vpc_health_config, before.vpc_health_config);
        let dropped =
            json!({"name": "chan_2", "port": 80, "balance_strategy": 2, "member_type": "ip", "member_groups": []});
        let err = VpcChannel::from_json(dropped.to_string().as_bytes(), Some(&before), crate::now());
        assert_eq!(err, Err(FieldError::invalid("member_groups")));
        let ecs = json!({"name": "chan_2", "port": 80, "balance_strategy": 2, "member_type": "ecs"});
        let err = VpcChannel::from_json(ecs.to_string().as_bytes(), Some(&before), crate::now());
        assert_eq!(err, Err(FieldError::Missing("members".into())));
    }

    #[test]
    fn rules() {
        for (pointer, value, field) in [
            ("/port", json!(0), "port"),
            ("/balance_strategy", json!(5), "balance_strategy"),
            ("/member_type", json!("k8s"), "member_type"),
            ("/vpc_channel_type", json!("microservice"), "vpc_channel_type"),
            ("/members/0/host", json!("not a host"), "members[0].host"),
            ("/members/0/member_group_name", json!("green"), "members[0].member_group_name"),
            ("/members/1", json!({"host": "10.0.0.1"}), "members[1].host"),
            ("/members/0/weight", json!(10001), "members[0].weight"),
            ("/vpc_health_config/http_code", json!("200-99x"), "vpc_health_config.http_code"),
            ("/vpc_health_config/timeout", json!(10), "vpc_health_config.timeout"),
            ("/vpc_health_config/protocol", json!("UDP"), "vpc_health_config.protocol"),
        ] {
            let mut body = base();
            *body.pointer_mut(pointer).unwrap() = value;
            assert_eq!(parse(body), Err(FieldError::invalid(field)), "{pointer}");
        }
        let mut body = base();
        body["vpc_health_config"].as_object_mut().unwrap().remove("path");
        assert_eq!(parse(body), Err(FieldError::Missing("vpc_health_config.path".into())));
        let mut body = base();
        body["member_type"] = json!("ecs");
        assert_eq!(parse(body), Err(FieldError::Missing("members[0].ecs_id".into())));
    }
}
