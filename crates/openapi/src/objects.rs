//! The objects a document carries beside its APIs, both ways: throttling policies and ACLs
//! (`x-apigateway-ratelimits`, `x-apigateway-access-controls`, and the names an operation binds
//! them by), gateway responses (`x-apigateway-responses`) and custom authorizers
//! (`x-apigateway-authorizer` on a security scheme), and the group's custom domains
//! (`x-portico-domains`). The store hands them over typed; this is the only place that knows
//! their document form (extensions.md §2.11, §2.12).

use std::collections::{BTreeMap, HashMap};

use portico_model::{
    Acl, AclInput, Authorizer, DeclaredPolicies, Domain, DomainSettings, FieldError, GatewayResponse, PolicySet,
    Throttle, ThrottleInput, ThrottleSpecial, new_id, now, responses_from_json, special_from_json,
};
use serde_json::{Value, json};

use crate::{Object, keys};

/// What an export writes besides the APIs (at `all` and `dev`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtensionObjects {
    /// The throttling policies and ACLs bound to the exported APIs in the environment, in the
    /// order they were first bound, and the group's gateway responses.
    pub policies: PolicySet,
    /// Per API id, the names of the throttling policy and the ACL bound to it.
    pub bound: HashMap<String, DeclaredPolicies>,
    /// Custom authorizers by id: their name and their `x-apigateway-authorizer` object
    /// ([`ExtensionObjects::add_authorizer`]).
    pub authorizers: HashMap<String, (String, Object)>,
    /// The group's custom domains, oldest first.
    pub domains: Vec<DocumentDomain>,
}

/// A custom domain as a document carries it: its settings and the name (never the key, nor the
/// id, which differs between instances) of the certificate it is served with.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentDomain {
    /// The domain; its id is fresh and its group is blank when it comes from a document.
    pub domain: Domain,
    /// The name of its certificate.
    pub certificate: Option<String>,
}

impl ExtensionObjects {
    /// The document-level maps, by extension name; a map with no entry is left out.
    pub(crate) fn root(&self) -> BTreeMap<&'static str, Object> {
        let p = &self.policies;
        let maps = [
            (
                keys::RATELIMITS,
                p.throttles.iter().map(|(t, specials)| (t.name.clone(), ratelimit(t, specials))).collect(),
            ),
            (keys::ACCESS_CONTROLS, p.acls.iter().map(|a| (a.acl_name.clone(), access_control(a))).collect()),
            (keys::RESPONSES, p.gateway_responses.iter().map(|r| (r.name.clone(), gateway_response(r))).collect()),
            (keys::PORTICO_DOMAINS, self.domains.iter().map(|d| (d.domain.url_domain.clone(), domain(d))).collect()),
        ];
        maps.into_iter().filter(|(_, map): &(_, Object)| !map.is_empty()).collect()
    }

    /// The operation-level extensions naming what is bound to the API `api_id`.
    pub(crate) fn operation(&self, api_id: &str) -> Object {
        let Some(bound) = self.bound.get(api_id) else { return Object::new() };
        [(keys::RATELIMIT, &bound.throttle), (keys::ACCESS_CONTROL, &bound.acl)]
            .into_iter()
            .filter_map(|(key, name)| Some((key.to_owned(), Value::from(name.as_deref()?))))
            .collect()
    }

    /// Adds a custom authorizer, which the APIs that use it name as their security scheme.
    pub fn add_authorizer(&mut self, a: &Authorizer) {
        self.authorizers.insert(a.id.clone(), (a.name.clone(), authorizer(a)));
    }

    /// The name of the custom authorizer `id`, if it is known.
    pub(crate) fn authorizer_name(&self, id: &str) -> Option<&str> {
        self.authorizers.get(id).map(|(name, _)| name.as_str())
    }
}

/// An entry of `x-apigateway-ratelimits`.
fn ratelimit(t: &Throttle, specials: &[ThrottleSpecial]) -> Value {
    let mut map = Object::new();
    map.insert("api-limit".into(), json!(t.api_call_limits));
    for (key, value) in
        [("user-limit", t.user_call_limits), ("app-limit", t.app_call_limits), ("ip-limit", t.ip_call_limits)]
    {
        if value > 0 {
            map.insert(key.into(), json!(value));
        }
    }
    map.insert("interval".into(), json!(t.time_interval));
    map.insert("unit".into(), json!(t.time_unit));
    map.insert("shared".into(), json!(t.throttle_type == 2));
    if !specials.is_empty() {
        let special: Vec<Value> = specials
            .iter()
            .map(|s| json!({ "type": s.object_type, "limit": s.call_limits, "instance": s.object_id }))
            .collect();
        map.insert("special".into(), Value::Array(special));
    }
    Value::Object(map)
}

/// An entry of `x-apigateway-access-controls`.
fn access_control(a: &Acl) -> Value {
    json!({ "acl-type": a.acl_type, "entity-type": a.entity_type, "value": a.acl_value })
}

/// An entry of `x-apigateway-responses`: error type → `{status, body: {media type: template}}`.
fn gateway_response(r: &GatewayResponse) -> Value {
    let types: Object = r
        .responses
        .iter()
        .map(|(kind, info)| {
            let mut object = json!({"status": info.status, "body": {"application/json": info.body}});
            if !info.headers.is_empty() {
                object["headers"] = json!(info.headers);
            }
            (kind.clone(), object)
        })
        .collect();
    Value::Object(types)
}

/// A security scheme's `x-apigateway-authorizer` (snake_case keys).
fn authorizer(a: &Authorizer) -> Object {
    let mut o = json!({
        "type": a.kind, "authorizer_type": a.authorizer_type, "authorizer_uri": a.authorizer_uri,
        "network_type": a.network_type, "need_body": a.need_body, "ttl": a.ttl,
        "identities": a.identities,
    });
    for (key, value) in [
        ("authorizer_version", &a.authorizer_version),
        ("authorizer_alias_uri", &a.authorizer_alias_uri),
        ("user_data", &a.user_data),
    ] {
        if let Some(v) = value {
            o[key] = Value::from(v.as_str());
        }
    }
    match o {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// An entry of `x-portico-domains`, its settings under their management-API names.
fn domain(d: &DocumentDomain) -> Value {
    let mut entry = json!({
        "min_ssl_version": d.domain.min_ssl_version,
        "is_http_redirect_to_https": d.domain.is_http_redirect_to_https,
        "verified_client_certificate_enabled": d.domain.verified_client_certificate_enabled,
    });
    if let Some(name) = &d.certificate {
        entry["ssl_name"] = Value::from(name.as_str());
    }
    entry
}

/// A policy, gateway response or domain of a document that breaks a rule of the management API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidObject {
    /// Where in the document, e.g. `x-apigateway-ratelimits.gold`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The throttling policies, ACLs and gateway responses a document defines at its root, in
/// management-API form and checked by the rules of a create; the maps are taken out of
/// `extensions` (they become objects, not group extension fields). A gateway response whose name
/// is in `known_responses` (name → id) keeps that id, a new one gets a fresh id. The first bad
/// object fails the whole import.
pub fn document_policies(
    extensions: &mut Object,
    known_responses: &HashMap<String, String>,
) -> Result<PolicySet, InvalidObject> {
    let now = now();
    let mut set = PolicySet::default();
    let invalid = |map: &str, name: &str, what: &str, e: FieldError| {
        let field = match &e {
            FieldError::Missing(f) | FieldError::Invalid(f) => f.clone(),
            FieldError::MalformedJson(_) => "body".into(),
        };
        InvalidObject { field: format!("{map}.{name}"), reason: format!("The {what} is invalid: {field}.") }
    };
    if let Some(Value::Object(throttles)) = extensions.remove(keys::RATELIMITS) {
        for (name, policy) in throttles {
            let bad = |e| invalid(keys::RATELIMITS, &name, "policy", e);
            let field = |key: &str| policy.get(key).cloned().unwrap_or(Value::Null);
            let shared = policy.get("shared").and_then(Value::as_bool).unwrap_or(false);
            let body = json!({
                "name": name, "api_call_limits": field("api-limit"), "user_call_limits": field("user-limit"),
                "app_call_limits": field("app-limit"), "ip_call_limits": field("ip-limit"),
                "time_interval": field("interval"), "time_unit": field("unit"), "type": if shared { 2 } else { 1 },
            });
            let body: Object = body
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let throttle = ThrottleInput::from_json(Value::Object(body).to_string().as_bytes())
                .map_err(bad)?
                .into_throttle(String::new(), now);
            let mut specials = Vec::new();
            for special in policy.get("special").and_then(Value::as_array).into_iter().flatten() {
                let body = json!({"object_type": special.get("type"), "object_id": special.get("instance"),
                    "call_limits": special.get("limit")});
                let (object_type, object_id, call_limits) =
                    special_from_json(body.to_string().as_bytes()).map_err(bad)?;
                specials.push(ThrottleSpecial {
                    id: String::new(),
                    throttle_id: String::new(),
                    object_name: object_id.clone(),
                    object_type,
                    object_id,
                    call_limits,
                    apply_time: now,
                });
            }
            set.throttles.push((throttle, specials));
        }
    }
    if let Some(Value::Object(acls)) = extensions.remove(keys::ACCESS_CONTROLS) {
        for (name, policy) in acls {
            let body = json!({"acl_name": name, "acl_type": policy.get("acl-type"),
                "entity_type": policy.get("entity-type"), "acl_value": policy.get("value")});
            let acl = AclInput::from_json(body.to_string().as_bytes())
                .map_err(|e| invalid(keys::ACCESS_CONTROLS, &name, "policy", e))?
                .into_acl(String::new(), now);
            set.acls.push(acl);
        }
    }
    if let Some(Value::Object(responses)) = extensions.remove(keys::RESPONSES) {
        for (name, types) in responses {
            let types: Object = types
                .as_object()
                .into_iter()
                .flatten()
                .map(|(kind, info)| {
                    // The document keys the body template by media type; APIG keeps one template.
                    let body = info.get("body").and_then(Value::as_object).and_then(|b| b.values().next());
                    let headers = info.get("headers").cloned().unwrap_or_else(|| json!([]));
                    (kind.clone(), json!({"status": info.get("status"), "body": body, "headers": headers}))
                })
                .collect();
            let body = json!({"name": name, "responses": types});
            let (name, responses) = responses_from_json(body.to_string().as_bytes())
                .map_err(|e| invalid(keys::RESPONSES, &name, "gateway response", e))?;
            let id = known_responses.get(&name).cloned().unwrap_or_else(new_id);
            set.gateway_responses.push(GatewayResponse {
                id,
                group_id: String::new(),
                name,
                responses,
                create_time: now,
                update_time: now,
            });
        }
    }
    Ok(set)
}

/// The custom domains a document defines at its root (`x-portico-domains`), checked by the
/// rules of `AssociateDomainV2` and `UpdateDomainV2`, in document order; the map is taken out of
/// `extensions`. The first bad entry, or two entries naming one domain, fail the whole import.
pub fn document_domains(extensions: &mut Object) -> Result<Vec<DocumentDomain>, InvalidObject> {
    let Some(map) = extensions.remove(keys::PORTICO_DOMAINS) else { return Ok(Vec::new()) };
    let Value::Object(map) = map else {
        return Err(InvalidObject {
            field: keys::PORTICO_DOMAINS.into(),
            reason: "It is not a map of domains.".into(),
        });
    };
    let mut domains: Vec<DocumentDomain> = Vec::with_capacity(map.len());
    for (name, entry) in map {
        let invalid = |reason: String| InvalidObject { field: domain_field(&name), reason };
        let Value::Object(mut settings) = entry else { return Err(invalid("The domain is not a map.".into())) };
        let certificate = match settings.remove("ssl_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            Some(_) => return Err(invalid("The domain is invalid: ssl_name.".into())),
        };
        settings.insert("url_domain".into(), Value::String(name.clone()));
        let body = Value::Object(settings).to_string();
        let bad = |e: FieldError| {
            let field = match &e {
                FieldError::Missing(f) | FieldError::Invalid(f) => f.clone(),
                FieldError::MalformedJson(_) => "body".into(),
            };
            invalid(format!("The domain is invalid: {field}."))
        };
        // A domain is created without mutual TLS and has it switched on by an update: the
        // document carries the outcome of both.
        let created = Domain::from_json(body.as_bytes(), "").map_err(bad)?;
        let domain = DomainSettings::from_json(body.as_bytes()).map_err(bad)?.apply(&created);
        if domains.iter().any(|d| d.domain.url_domain == domain.url_domain) {
            return Err(invalid(format!("The domain {} is named twice.", domain.url_domain)));
        }
        domains.push(DocumentDomain { domain, certificate });
    }
    Ok(domains)
}

/// Where in a document the domain `name` of [`document_domains`] is.
pub fn domain_field(name: &str) -> String {
    format!("{}.{name}", keys::PORTICO_DOMAINS)
}

/// Where in a document the store's `field` of a throttling policy of [`document_policies`] is
/// (the store names it `<policy name>.special[i].instance`).
pub fn ratelimit_field(field: &str) -> String {
    format!("{}.{field}", keys::RATELIMITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_policies_render_as_apig_extensions() {
        let now = now();
        let throttle = ThrottleInput::from_json(
            br#"{"name":"export_tps","api_call_limits":100,"user_call_limits":50,"app_call_limits":40,
                "ip_call_limits":20,"time_interval":1,"time_unit":"SECOND"}"#,
        )
        .unwrap()
        .into_throttle("t1".into(), now);
        let special = ThrottleSpecial {
            id: "s1".into(),
            throttle_id: "t1".into(),
            object_type: "APP".into(),
            object_id: "app1".into(),
            object_name: "consumer".into(),
            call_limits: 80,
            apply_time: now,
        };
        let acl = AclInput::from_json(
            br#"{"acl_name":"office_only","acl_type":"PERMIT","entity_type":"IP","acl_value":"10.0.0.0/8"}"#,
        )
        .unwrap()
        .into_acl("a1".into(), now);
        let declared = DeclaredPolicies { throttle: Some("export_tps".into()), acl: Some("office_only".into()) };
        let objects = ExtensionObjects {
            policies: PolicySet { throttles: vec![(throttle, vec![special])], acls: vec![acl], ..Default::default() },
            bound: HashMap::from([("api1".to_owned(), declared)]),
            authorizers: HashMap::new(),
            domains: Vec::new(),
        };

        let root = objects.root();
        assert_eq!(root.keys().copied().collect::<Vec<_>>(), [keys::ACCESS_CONTROLS, keys::RATELIMITS]);
        assert_eq!(
            Value::Object(root[keys::RATELIMITS].clone()),
            json!({ "export_tps": {
                "api-limit": 100, "user-limit": 50, "app-limit": 40, "ip-limit": 20, "interval": 1, "unit": "SECOND",
                "shared": false, "special": [{ "type": "APP", "limit": 80, "instance": "app1" }],
            }})
        );
        assert_eq!(
            Value::Object(root[keys::ACCESS_CONTROLS].clone()),
            json!({ "office_only": { "acl-type": "PERMIT", "entity-type": "IP", "value": "10.0.0.0/8" } })
        );
        assert_eq!(
            Value::Object(objects.operation("api1")),
            json!({ "x-apigateway-ratelimit": "export_tps", "x-apigateway-access-control": "office_only" })
        );
        assert!(objects.operation("api2").is_empty());
        assert!(ExtensionObjects::default().root().is_empty());
    }

    fn exported_domain(body: &str, certificate: Option<&str>) -> DocumentDomain {
        let created = Domain::from_json(body.as_bytes(), "g1").unwrap();
        let domain = DomainSettings::from_json(body.as_bytes()).unwrap().apply(&created);
        DocumentDomain { domain, certificate: certificate.map(str::to_owned) }
    }

    fn document(define: crate::Define, objects: &ExtensionObjects, format: crate::Format) -> Vec<u8> {
        let export = crate::Export {
            oas: crate::OasVersion::V2,
            define,
            title: "shop",
            description: None,
            version: "1",
            host: "api.example.com",
            objects,
            names: &HashMap::new(),
            group_extensions: &Object::new(),
        };
        let mut doc = Vec::new();
        let apis: [&portico_model::Api; 0] = [];
        crate::write(&export, apis, format, &mut doc).unwrap();
        doc
    }

    #[test]
    fn domains_travel_at_all_and_come_back_as_they_went() {
        let objects = ExtensionObjects {
            domains: vec![
                exported_domain(
                    r#"{"url_domain":"api.example.com","min_ssl_version":"TLSv1.2","is_http_redirect_to_https":true,
                        "verified_client_certificate_enabled":true}"#,
                    Some("shop-cert"),
                ),
                exported_domain(r#"{"url_domain":"*.shop.example.org"}"#, None),
            ],
            ..Default::default()
        };
        for format in [crate::Format::Json, crate::Format::Yaml] {
            let doc = document(crate::Define::All, &objects, format);
            let mut parsed = crate::parse(&doc, &Default::default()).unwrap();
            assert_eq!(
                parsed.extensions[keys::PORTICO_DOMAINS],
                json!({
                    "api.example.com": {"min_ssl_version": "TLSv1.2", "is_http_redirect_to_https": true,
                        "verified_client_certificate_enabled": true, "ssl_name": "shop-cert"},
                    "*.shop.example.org": {"min_ssl_version": "TLSv1.1", "is_http_redirect_to_https": false,
                        "verified_client_certificate_enabled": false},
                })
            );
            let domains = document_domains(&mut parsed.extensions).unwrap();
            assert!(
                !parsed.extensions.contains_key(keys::PORTICO_DOMAINS),
                "the map becomes domains, not a group field"
            );
            let without_ids = |d: &[DocumentDomain]| -> Vec<(String, String, bool, bool, Option<String>)> {
                d.iter()
                    .map(|d| {
                        let x = &d.domain;
                        (
                            x.url_domain.clone(),
                            x.min_ssl_version.clone(),
                            x.is_http_redirect_to_https,
                            x.verified_client_certificate_enabled,
                            d.certificate.clone(),
                        )
                    })
                    .collect()
            };
            assert_eq!(without_ids(&domains), without_ids(&objects.domains));
            let again = ExtensionObjects { domains, ..Default::default() };
            assert_eq!(document(crate::Define::All, &again, format), doc);
        }
        for define in [crate::Define::Spec, crate::Define::Proxy] {
            let doc = String::from_utf8(document(define, &objects, crate::Format::Json)).unwrap();
            assert!(!doc.contains(keys::PORTICO_DOMAINS), "{define:?} carries no domains");
        }
    }

    #[test]
    fn a_bad_document_domain_fails_by_the_rules_of_a_create() {
        let refused = |domains: Value| {
            let mut extensions = Object::from_iter([(keys::PORTICO_DOMAINS.to_owned(), domains)]);
            document_domains(&mut extensions).unwrap_err()
        };
        let bad_name = refused(json!({"api..example.com": {}}));
        assert_eq!(bad_name.field, "x-portico-domains.api..example.com");
        assert_eq!(bad_name.reason, "The domain is invalid: url_domain.");
        assert_eq!(
            refused(json!({"a.example.com": {"min_ssl_version": "SSLv3"}})).reason,
            "The domain is invalid: min_ssl_version."
        );
        assert_eq!(refused(json!({"a.example.com": {"ssl_name": 7}})).reason, "The domain is invalid: ssl_name.");
        assert_eq!(
            refused(json!({"a.example.com": {"ingress_http_port": 8080}})).reason,
            "The domain is invalid: ingress_http_port."
        );
        assert_eq!(refused(json!({"a.example.com": [], })).reason, "The domain is not a map.");
        let twice = refused(json!({"A.example.com": {}, "a.example.com": {}}));
        assert_eq!(
            (twice.field.as_str(), twice.reason.as_str()),
            ("x-portico-domains.a.example.com", "The domain a.example.com is named twice.")
        );
        assert_eq!(refused(json!(["a.example.com"])).field, keys::PORTICO_DOMAINS);
    }
}
