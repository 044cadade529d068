//! Every management route refuses missing, forged, expired and replayed credentials (401) and
//! another project's valid ones (403), before it looks at anything else.
//!
//! The routes are read from the router's source, `src/routes/*.rs`: every `.route("…", …)` with
//! its methods, under the prefix its `fn` is mounted at in `routes/mod.rs`. A route added to a
//! mounted function is walked without anyone listing it; a new function or file of routes fails
//! [`every_route_function_is_mounted_here`] until it is added to [`MOUNTS`].

use std::collections::BTreeSet;
use std::path::Path;

use portico_api::Quota;
use portico_auth::token::{TokenClaims, TokenKey};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

const APIG: &str = "/v2/{project_id}/apigw/instances/{instance_id}";
const ROMA: &str = "/v2/{project_id}/apic/instances/{instance_id}";

/// Where each function of `src/routes/<file>.rs` that builds routes is mounted (`routes/mod.rs`);
/// `None`: its routes are not management routes and take no management credentials.
const MOUNTS: &[(&str, &str, Option<&[&str]>)] = &[
    ("acls", "routes", Some(&[APIG, ROMA])),
    ("apis", "routes", Some(&[APIG, ROMA])),
    ("apps", "routes", Some(&[APIG, ROMA])),
    ("authorizers", "routes", Some(&[APIG, ROMA])),
    ("compare", "routes", Some(&[APIG, ROMA])),
    ("gateway_responses", "routes", Some(&[APIG, ROMA])),
    ("groups", "routes", Some(&[APIG, ROMA])),
    ("openapi", "routes", Some(&[APIG, ROMA])),
    ("publish", "routes", Some(&[APIG, ROMA])),
    ("signatures", "routes", Some(&[APIG, ROMA])),
    ("throttles", "routes", Some(&[APIG, ROMA])),
    ("vpc_channels", "routes", Some(&[APIG, ROMA])),
    ("livedata", "routes", Some(&[ROMA])),
    // The custom backend runtime is called by the gateway for deployed APIs, which authenticate
    // their callers themselves (docs/livedata.md).
    ("livedata", "runtime_routes", None),
    ("roma_apps", "app_routes", Some(&["/v2/{project_id}/instances/{instance_id}"])),
    ("roma_apps", "data_source_routes", Some(&["/v2/{project_id}/fdi/instances/{instance_id}"])),
    ("instances", "routes", Some(&[""])),
    ("dataservice", "routes", Some(&["/v1/{project_id}/service"])),
];

/// A route as its source declares it: the function that builds it, the path, the methods.
#[derive(Debug)]
struct Declared {
    file: String,
    function: String,
    path: String,
    methods: Vec<Method>,
}

fn routes_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes")
}

/// The text of `.route(` … up to its closing parenthesis.
fn call_at(text: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced .route( call")
}

fn methods_in(call: &str) -> Vec<Method> {
    let mut methods = Vec::new();
    for (name, method) in [
        ("get", Method::GET),
        ("post", Method::POST),
        ("put", Method::PUT),
        ("delete", Method::DELETE),
        ("patch", Method::PATCH),
        ("any", Method::GET),
    ] {
        let needle = format!("{name}(");
        let found = call.match_indices(&needle).any(|(at, _)| {
            let before = call[..at].chars().next_back().unwrap_or(' ');
            !(before.is_alphanumeric() || before == '_')
        });
        if found && !methods.contains(&method) {
            methods.push(method);
        }
    }
    assert!(!methods.is_empty(), "no method found in {call}");
    methods
}

/// The path a `.route(` call's first argument spells: a literal, a `let` of the file bound to
/// one, or a `format!` of those (how `gateway_responses.rs` writes its paths).
fn path_of(text: &str, arguments: &str) -> String {
    let binding = |name: &str| {
        let needle = format!("let {name} = \"");
        let at = text.find(&needle).unwrap_or_else(|| panic!("no `{needle}` for a .route( path")) + needle.len();
        text[at..].split('"').next().unwrap().to_string()
    };
    if let Some(literal) = arguments.strip_prefix('"') {
        return literal.split('"').next().unwrap().to_string();
    }
    if let Some(format) = arguments.strip_prefix("&format!(\"") {
        let template = format.split('"').next().unwrap();
        let (mut path, mut rest) = (String::new(), template);
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..open]);
            if rest[open..].starts_with("{{") {
                let close = rest[open..].find("}}").expect("}} in a format! path") + open;
                path.push_str(&format!("{{{}}}", &rest[open + 2..close]));
                rest = &rest[close + 2..];
            } else {
                let close = rest[open..].find('}').expect("} in a format! path") + open;
                path.push_str(&binding(&rest[open + 1..close]));
                rest = &rest[close + 1..];
            }
        }
        path.push_str(rest);
        return path;
    }
    let name: String = arguments.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    assert!(!name.is_empty(), "cannot read the path of .route({arguments}");
    binding(&name)
}

fn declared_routes() -> Vec<Declared> {
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(routes_dir()).expect("src/routes") {
        let path = entry.expect("entry").path();
        let file = path.file_stem().unwrap().to_string_lossy().to_string();
        if file == "mod" {
            continue; // the public routes (/health, /ready, /v3/auth/tokens) and the mounts
        }
        let text = std::fs::read_to_string(&path).expect("read a routes file");
        let functions: Vec<(usize, String)> = text
            .match_indices("fn ")
            .map(|(at, _)| {
                let name: String = text[at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                (at, name)
            })
            .collect();
        for (at, _) in text.match_indices(".route(") {
            let call = call_at(&text, at + ".route".len());
            let route_path = path_of(&text, &call[1..]);
            let function = functions.iter().rev().find(|(f, _)| *f < at).map(|(_, n)| n.clone()).unwrap_or_default();
            routes.push(Declared { file: file.clone(), function, path: route_path, methods: methods_in(call) });
        }
    }
    routes
}

fn mount_of(route: &Declared) -> Option<&'static [&'static str]> {
    MOUNTS
        .iter()
        .find(|(file, function, _)| *file == route.file && *function == route.function)
        .unwrap_or_else(|| panic!("{}::{} builds routes but is not in MOUNTS", route.file, route.function))
        .2
}

#[test]
fn every_route_function_is_mounted_here() {
    let routes = declared_routes();
    assert!(routes.len() > 80, "found only {} routes: is the parser still right?", routes.len());
    let mounting = std::fs::read_to_string(routes_dir().join("mod.rs")).expect("routes/mod.rs");
    for route in &routes {
        for prefix in mount_of(route).unwrap_or_default() {
            assert!(prefix.is_empty() || mounting.contains(&format!("\"{prefix}\"")), "{prefix} is not in mod.rs");
        }
    }
    let used: BTreeSet<_> = routes.iter().map(|r| (r.file.as_str(), r.function.as_str())).collect();
    for (file, function, _) in MOUNTS {
        assert!(used.contains(&(*file, *function)), "MOUNTS names {file}::{function}, which builds no route");
    }
}

/// Every (method, concrete path) of the management API, on `app`'s project and instance.
fn management_requests(app: &TestApp) -> Vec<(Method, String)> {
    let mut requests = Vec::new();
    for route in declared_routes() {
        for prefix in mount_of(&route).unwrap_or_default() {
            let template = format!("{prefix}{}", route.path);
            let mut path = String::new();
            for (i, segment) in template.split('/').enumerate() {
                if i > 0 {
                    path.push('/');
                }
                path.push_str(match segment {
                    "{project_id}" => &app.project_id,
                    "{instance_id}" => &app.instance_id,
                    s if s.starts_with('{') => "0123456789abcdef0123456789abcdef",
                    s => s,
                });
            }
            for method in &route.methods {
                requests.push((method.clone(), path.clone()));
            }
        }
    }
    requests
}

#[tokio::test]
async fn every_management_route_refuses_bad_credentials() {
    // Replays and forged signatures count as failures of the admin's key; this test is about
    // the answers, not the lockout (auth::failed_signatures_are_rate_limited).
    let quota = Quota::per_second(std::num::NonZeroU32::new(1_000_000).unwrap());
    let app = spawn_app_with(|state| state.with_auth_failure_quota(quota)).await;
    let other = app.add_tenant(&format!("other_{}", unique())).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = |project_id: &str, issued_at: i64, expires_at: i64| TokenClaims {
        user_id: "u".repeat(32),
        user_name: app.admin.user_name.clone(),
        project_id: project_id.to_string(),
        readonly: false,
        issued_at,
        expires_at,
    };
    let expired = app.mint_token(&claims(&app.project_id, now - 7200, now - 3600));
    let foreign_key = portico_auth::token::issue(&TokenKey::generate(), &claims(&app.project_id, now, now + 3600));
    let other_token = app.mint_token(&TokenClaims {
        user_name: other.identity.user_name.clone(),
        ..claims(&other.project_id, now, now + 3600)
    });
    let sign = |secret_key: &str, skew_secs: i64| Auth::Sign {
        access_key: app.admin.access_key.clone(),
        secret_key: secret_key.to_string(),
        project_id: app.project_id.clone(),
        skew_secs,
    };
    let unauthenticated = [
        ("no credentials", Auth::Anonymous),
        ("a malformed token", Auth::Token("not-a-token".into())),
        ("a token signed with another key", Auth::Token(foreign_key)),
        ("an expired token", Auth::Token(expired)),
        ("a forged signature", sign(&"f".repeat(40), 0)),
        ("a signature dated 16 minutes ago (a replay)", sign(&app.admin.secret_key, -16 * 60)),
        ("a signature dated 16 minutes ahead", sign(&app.admin.secret_key, 16 * 60)),
    ];
    let other_project =
        [("another project's signature", other.auth()), ("another project's token", Auth::Token(other_token))];

    let requests = management_requests(&app);
    let body = json!({ "name": "never_created" });
    for (method, path) in &requests {
        for (what, auth) in &unauthenticated {
            let (status, error) = app.call(auth, method.clone(), path, Some(&body)).await.pair();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {method} {path}: {error}");
            assert_eq!(error["error_code"], "APIG.1002", "{what}: {method} {path}: {error}");
            assert_eq!(error["error_msg"], "Incorrect token or token resolution failed");
        }
        for (what, auth) in &other_project {
            let (status, error) = app.call(auth, method.clone(), path, Some(&body)).await.pair();
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {method} {path}: {error}");
            assert_eq!(error["error_code"], "APIG.1005", "{what}: {method} {path}: {error}");
        }
    }
    // A replay within the window is not refused by the date: the walk's 401s came from the check.
    let fresh = sign(&app.admin.secret_key, -14 * 60);
    assert_eq!(app.call(&fresh, Method::GET, &app.inst("/api-groups"), None).await.status, StatusCode::OK);
    let (_, groups) = app.get("/api-groups").await;
    assert_list(&groups, "groups", 0, 0);
    assert!(requests.len() > 200, "walked only {} requests", requests.len());
}
