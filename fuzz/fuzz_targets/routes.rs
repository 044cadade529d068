//! The data plane's path matcher: `RouteTable::build` and `lookup` on arbitrary definitions and
//! paths. The input is text: lines `METHOD MODE req_uri` (MODE `NORMAL` or `SWA`) define APIs,
//! up to an empty line; the lines after it are `METHOD path` lookups. Properties: nothing
//! panics; a lookup's answer is an API of the requested method (or `ANY`) with only its own
//! parameters, and an exact match leaves no rest; every API routed alone answers at its own
//! template filled in (a prefix API also below it), with the values filled in as parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico_gateway::RouteTable;
use portico_gateway::entry::RouteHit;
use portico_model::{Api, ApiDefinition, ApiGroup, MatchMode, Method};
use portico_store::{LiveApi, LiveSet, RouteKey};
use serde_json::json;
use time::OffsetDateTime;

const HOST: &str = "g.apig.test";
const STAGE: &str = "RELEASE";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (definitions, lookups) = text.split_once("\n\n").unwrap_or((text, ""));
    let apis: Vec<LiveApi> = definitions.lines().take(64).enumerate().filter_map(|(i, line)| live(i, line)).collect();

    let (table, _) = RouteTable::build(live_set(apis.clone()));
    for line in lookups.lines().take(64) {
        let Some((method, path)) = line.split_once(' ') else { continue };
        if let Ok(found) = table.lookup(HOST, STAGE, method, path) {
            check(&found, method, &apis);
        }
    }

    for api in apis.into_iter().take(8) {
        let route = &api.route;
        let (id, uri, swa) = (api.api_id.clone(), route.req_uri.clone(), route.match_mode == MatchMode::Swa);
        let method =
            if route.req_method == Method::Any { "GET".to_string() } else { route.req_method.as_str().to_string() };
        let (alone, problems) = RouteTable::build(live_set(vec![api]));
        if !problems.is_empty() {
            continue;
        }
        let (path, values) = fill(&uri);
        let found = match alone.lookup(HOST, STAGE, &method, &path) {
            Ok(found) => found,
            Err(miss) => panic!("{method} {uri} alone does not answer at {path}: {miss:?}"),
        };
        assert_eq!(*found.entry.api_id, *id);
        assert_eq!(found.path_params, values, "{uri} at {path}");
        if swa {
            let below = format!("{}/below", path.trim_end_matches('/'));
            let found = alone.lookup(HOST, STAGE, &method, &below);
            assert!(found.is_ok_and(|f| *f.entry.api_id == *id), "prefix {uri} does not answer at {below}");
        }
    }
});

fn check(found: &RouteHit, method: &str, apis: &[LiveApi]) {
    let route = &apis.iter().find(|a| *a.api_id == *found.entry.api_id).expect("an API that was routed").route;
    assert!(route.req_method == Method::Any || route.req_method.as_str() == method, "{method} answered by {route:?}");
    assert!(found.path_params.iter().all(|(name, _)| found.entry.path_params.contains(name)));
    assert!(found.rest.is_empty() || found.rest.starts_with('/'), "rest {:?}", found.rest);
    if route.match_mode == MatchMode::Normal {
        assert_eq!(found.rest, "");
    }
}

/// One definition line as a live API, if it is a valid API.
fn live(i: usize, line: &str) -> Option<LiveApi> {
    let mut fields = line.splitn(3, ' ');
    let (method, mode, uri) = (fields.next()?, fields.next()?, fields.next()?);
    let params: Vec<_> = parameter_names(uri)
        .into_iter()
        .map(|name| json!({ "name": name, "type": "STRING", "location": "PATH", "required": 1 }))
        .collect();
    let mut definition = ApiDefinition::from_value(json!({
        "name": format!("api_{i}"), "type": 1, "req_protocol": "HTTP", "req_method": method, "req_uri": uri,
        "auth_type": "NONE", "backend_type": "MOCK", "group_id": "g", "match_mode": mode,
        "mock_info": { "result_content": "x" }, "req_params": params
    }))
    .ok()?;
    let now = OffsetDateTime::UNIX_EPOCH;
    definition.prepare(None, now);
    Some(LiveApi {
        instance_id: "i".into(),
        project_id: "p".into(),
        env_id: "RELEASE_id".into(),
        env_name: STAGE.into(),
        publish_id: format!("pub_{i}"),
        version_id: format!("ver_{i}"),
        api_id: format!("api{i}"),
        route: RouteKey::of(&Api {
            id: format!("api{i}"),
            status: 1,
            register_time: now,
            update_time: now,
            definition,
        }),
    })
}

fn live_set(apis: Vec<LiveApi>) -> LiveSet {
    let now = OffsetDateTime::UNIX_EPOCH;
    let group = ApiGroup {
        id: "g".into(),
        name: "g".into(),
        status: 1,
        sl_domain: HOST.into(),
        register_time: now,
        update_time: now,
        on_sell_status: 2,
        sl_domain_access_enabled: true,
        remark: None,
        openapi_extensions: Default::default(),
    };
    LiveSet { apis, groups: vec![group], ..Default::default() }
}

/// The `{name}` and `{name+}` parameters of a template, in order.
fn parameter_names(uri: &str) -> Vec<String> {
    uri.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(name, _)| name.strip_suffix('+').unwrap_or(name).to_owned())
        .collect()
}

/// The template with each parameter filled in (a greedy one with two segments), and the values.
fn fill(uri: &str) -> (String, Vec<(String, String)>) {
    let mut path = String::new();
    let mut values = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        path.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        let (name, value) = match name.strip_suffix('+') {
            Some(greedy) => (greedy, format!("v{}/w", values.len())),
            None => (name, format!("v{}", values.len())),
        };
        path.push_str(&value);
        values.push((name.to_owned(), value));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    (path, values)
}
