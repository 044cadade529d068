//! VPC channels: APIs served by a channel's members on loopback, by each balancing strategy,
//! with failover, active health checks and backup members.

use std::collections::HashSet;
use std::net::SocketAddr;

use portico_model::{HealthConfig, MemberGroup, VpcChannel, VpcMember, new_id, now};
use serde_json::json;

use crate::helpers::{TestGateway, closed_port, spawn_backend, spawn_gateway};

/// A channel of `members` (address, weight, backup) with `strategy` and an optional TCP health
/// check every second that marks a member down after one failure.
pub(crate) async fn channel(
    gw: &TestGateway,
    strategy: i32,
    members: &[(SocketAddr, i64, bool)],
    checked: bool,
) -> String {
    grouped_channel(gw, strategy, members, &[], checked).await
}

/// [`channel`] with member groups (name, weight, the indexes of its members): a group's id is
/// `<name>_<channel id>`.
async fn grouped_channel(
    gw: &TestGateway,
    strategy: i32,
    members: &[(SocketAddr, i64, bool)],
    groups: &[(&str, i64, &[usize])],
    checked: bool,
) -> String {
    let id = new_id();
    let group_of = |member: usize| groups.iter().find(|(_, _, of)| of.contains(&member)).map(|(name, ..)| *name);
    let t = now();
    let channel = VpcChannel {
        id: id.clone(),
        name: format!("channel_{}", &new_id()[..8]),
        port: 80,
        balance_strategy: strategy,
        member_type: "ip".into(),
        channel_type: 2,
        vpc_channel_type: "builtin".into(),
        status: 1,
        create_time: t,
        member_groups: groups
            .iter()
            .map(|(name, weight, _)| MemberGroup {
                member_group_id: format!("{name}_{id}"),
                member_group_name: name.to_string(),
                member_group_remark: None,
                member_group_weight: Some(*weight),
                create_time: t,
                update_time: t,
            })
            .collect(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, (addr, weight, backup))| VpcMember {
                id: new_id(),
                vpc_channel_id: id.clone(),
                host: Some(addr.ip().to_string()),
                ecs_id: None,
                ecs_name: None,
                weight: *weight,
                is_backup: *backup,
                member_group_name: group_of(i).map(str::to_string),
                member_group_id: group_of(i).map(|name| format!("{name}_{id}")),
                status: 1,
                port: Some(i64::from(addr.port())),
                create_time: t,
            })
            .collect(),
        vpc_health_config: checked.then(|| HealthConfig {
            protocol: "TCP".into(),
            path: None,
            method: None,
            port: None,
            threshold_normal: 1,
            threshold_abnormal: 1,
            time_interval: 1,
            http_code: None,
            enable_client_ssl: false,
            status: 1,
            timeout: 1,
        }),
    };
    gw.store.create_vpc_channel(&gw.instance_id, &channel).await.expect("create channel");
    id
}

/// A live API at `uri` (prefix match) served by `channel_id`; returns its host.
pub(crate) async fn channel_api(gw: &TestGateway, uri: &str, channel_id: &str) -> String {
    let group = gw.group().await;
    gw.live_api(
        &group,
        json!({
            "req_method": "GET", "req_uri": uri, "backend_type": "HTTP", "match_mode": "SWA",
            "backend_api": { "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/", "timeout": 5000,
                             "vpc_channel_status": 1,
                             "vpc_channel_info": { "vpc_channel_id": channel_id,
                                                   "vpc_channel_proxy_host": "members.internal" } }
        }),
    )
    .await;
    gw.settle().await;
    group.sl_domain
}

async fn backend_of(gw: &TestGateway, host: &str, path: &str) -> String {
    let reply = gw.get(host, path, &[]).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.header("x-backend").unwrap_or_default().to_string()
}

#[tokio::test]
async fn weighted_round_robin_spreads_and_sends_the_proxy_host() {
    let gw = spawn_gateway().await;
    let (a, b) = (spawn_backend("a").await, spawn_backend("b").await);
    let id = channel(&gw, 1, &[(a, 2, false), (b, 1, false)], false).await;
    let host = channel_api(&gw, "/rr", &id).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(backend_of(&gw, &host, "/rr").await);
    }
    assert_eq!(seen.iter().filter(|s| *s == "a").count(), 4, "{seen:?}");
    assert_eq!(seen.iter().filter(|s| *s == "b").count(), 2, "{seen:?}");
    let reply = gw.get(&host, "/rr/x", &[]).await;
    assert_eq!(reply.body["headers"]["host"], "members.internal");
    assert_eq!(reply.body["uri"], "/x");
}

#[tokio::test]
async fn hashes_keep_a_client_or_a_path_on_one_member() {
    let gw = spawn_gateway().await;
    let members = [(spawn_backend("a").await, 1, false), (spawn_backend("b").await, 1, false)];
    let by_source = channel(&gw, 3, &members, false).await;
    let host = channel_api(&gw, "/src", &by_source).await;
    let first = backend_of(&gw, &host, "/src").await;
    for _ in 0..5 {
        assert_eq!(backend_of(&gw, &host, "/src/other").await, first, "one client, one member");
    }
    let by_uri = channel(&gw, 4, &members, false).await;
    let host = channel_api(&gw, "/uri", &by_uri).await;
    let mut members_seen = HashSet::new();
    for i in 0..16 {
        let path = format!("/uri/{i}");
        let member = backend_of(&gw, &host, &path).await;
        assert_eq!(backend_of(&gw, &host, &path).await, member, "one path, one member");
        members_seen.insert(member);
    }
    assert_eq!(members_seen.len(), 2, "paths spread over both members");
}

/// A backend answering `X-Backend: name`; `/slow` reports its arrival on `arrived`, then
/// answers after 2 s.
async fn reporting_backend(
    name: &'static str,
    arrived: tokio::sync::mpsc::UnboundedSender<&'static str>,
) -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/slow",
            axum::routing::get(move || {
                let arrived = arrived.clone();
                async move {
                    let _ = arrived.send(name);
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    ([("x-backend", name)], "late")
                }
            }),
        )
        .fallback(move || async move { ([("x-backend", name)], "quick") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn least_connections_avoids_a_busy_member() {
    let gw = std::sync::Arc::new(spawn_gateway().await);
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let members =
        [(reporting_backend("a", arrived.clone()).await, 1, false), (reporting_backend("b", arrived).await, 1, false)];
    let id = channel(&gw, 2, &members, false).await;
    let host = channel_api(&gw, "/lc", &id).await;
    let slow = {
        let (gw, host) = (gw.clone(), host.clone());
        tokio::spawn(async move { gw.get(&host, "/lc/slow", &[]).await })
    };
    let busy = arrivals.recv().await.expect("the slow request reached a member");
    for _ in 0..3 {
        let other = backend_of(&gw, &host, "/lc").await;
        assert_ne!(other, busy, "the member with a request in flight is avoided");
    }
    let reply = slow.await.unwrap();
    assert_eq!(reply.header("x-backend"), Some(busy));
}

#[tokio::test]
async fn failover_health_checks_and_backups() {
    let gw = spawn_gateway().await;
    let (down, live, backup) = (closed_port().await, spawn_backend("live").await, spawn_backend("backup").await);
    // Without health checks: a refused connection is retried on the other member.
    let unchecked = channel(&gw, 1, &[(down, 1, false), (live, 1, false), (backup, 1, true)], false).await;
    let host = channel_api(&gw, "/failover", &unchecked).await;
    for _ in 0..4 {
        assert_eq!(backend_of(&gw, &host, "/failover").await, "live");
    }

    // With health checks: when no primary is healthy, the backup answers.
    let also_down = closed_port().await;
    let checked = channel(&gw, 1, &[(down, 1, false), (also_down, 1, false), (backup, 1, true)], true).await;
    let host = channel_api(&gw, "/checked", &checked).await;
    let mut answered = String::new();
    for _ in 0..100 {
        let reply = gw.get(&host, "/checked", &[]).await;
        if reply.status == 200 {
            answered = reply.header("x-backend").unwrap_or_default().to_string();
            break;
        }
        reply.assert_error(502, "APIG.0201");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answered, "backup", "the backup answers once the primaries are found down");
}

/// A live API at `uri` (prefix match) whose backend is the member groups `groups` (name, path)
/// of channel `channel_id`.
async fn grouped_api(gw: &TestGateway, uri: &str, channel_id: &str, groups: &[(&str, &str)]) -> String {
    let group = gw.group().await;
    let infos: Vec<_> = groups
        .iter()
        .map(|(name, path)| {
            json!({ "member_group_id": format!("{name}_{channel_id}"), "req_protocol": "HTTP",
                                    "req_method": "GET", "req_uri": path })
        })
        .collect();
    gw.live_api(
        &group,
        json!({
            "req_method": "GET", "req_uri": uri, "backend_type": "HTTP", "match_mode": "SWA",
            "backend_api": { "req_protocol": "HTTP", "req_method": "POST", "req_uri": "/unused", "timeout": 5000,
                             "vpc_channel_status": 4, "member_group_url_infos": infos },
            "backend_params": [{ "name": "x-group", "location": "HEADER", "origin": "SYSTEM",
                                 "value": "$context.member_group_name" }]
        }),
    )
    .await;
    gw.settle().await;
    group.sl_domain
}

#[tokio::test]
async fn member_groups_by_weight_each_called_its_own_way() {
    let gw = spawn_gateway().await;
    let members = [
        (spawn_backend("blue").await, 1, false),
        (spawn_backend("green").await, 1, false),
        (spawn_backend("grey").await, 1, false),
    ];
    let groups: [(&str, i64, &[usize]); 3] = [("blue", 1, &[0]), ("green", 1, &[1]), ("grey", 0, &[2])];
    let id = grouped_channel(&gw, 1, &members, &groups, false).await;
    let host =
        grouped_api(&gw, "/groups", &id, &[("blue", "/to-blue"), ("green", "/to-green"), ("grey", "/to-grey")]).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        let reply = gw.get(&host, "/groups/x", &[]).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let backend = reply.header("x-backend").unwrap_or_default().to_string();
        assert_eq!(reply.body["method"], "GET", "the group's method, not the backend's");
        assert_eq!(reply.body["uri"], format!("/to-{backend}/x"), "the group's path");
        assert_eq!(reply.body["headers"]["x-group"], backend.as_str(), "$context.member_group_name");
        seen.push(backend);
    }
    assert_eq!(seen.iter().filter(|s| *s == "blue").count(), 3, "{seen:?}");
    assert_eq!(seen.iter().filter(|s| *s == "green").count(), 3, "{seen:?}: weight 0 gets nothing");
}

#[tokio::test]
async fn a_member_group_found_down_is_skipped() {
    let gw = spawn_gateway().await;
    let members = [(closed_port().await, 1, false), (spawn_backend("up").await, 1, false)];
    let groups: [(&str, i64, &[usize]); 2] = [("down", 1, &[0]), ("up", 1, &[1])];
    let id = grouped_channel(&gw, 1, &members, &groups, true).await;
    let host = grouped_api(&gw, "/checked-groups", &id, &[("down", "/d"), ("up", "/u")]).await;
    let mut up_in_a_row = 0;
    for _ in 0..100 {
        let reply = gw.get(&host, "/checked-groups", &[]).await;
        if reply.status == 200 {
            assert_eq!(reply.header("x-backend"), Some("up"));
            up_in_a_row += 1;
            if up_in_a_row == 6 {
                break;
            }
        } else {
            reply.assert_error(502, "APIG.0201");
            up_in_a_row = 0;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    assert_eq!(up_in_a_row, 6, "once its member is found down, the group gets no requests");
}
