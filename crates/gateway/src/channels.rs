//! VPC channels (load-balance channels): an API whose backend has `vpc_channel_status` 1 is
//! served by the members of its channel. A [`Channel`] (members, strategy, health check) is
//! compiled into the route table; what changes while requests run (health, open requests per
//! member, the round-robin position) lives in [`ChannelStates`], held by the gateway across
//! table reloads and shared by its worker threads, and kept current by the health-check loop beside the server (`watch`).
//!
//! Strategies (`balance_strategy`): 1 weighted round robin, 2 weighted least connections
//! (requests in flight per unit of weight), 3 source-IP hash, 4 URI hash (both weighted).
//! Candidates are the healthy primary members; backup members (`is_backup`) are used only when
//! no primary is healthy. A member counts as healthy until its health check (when the channel has
//! one, `status` 1) fails `threshold_abnormal` times in a row, and again after
//! `threshold_normal` successes in a row. Members without a `host` (ECS members known by id
//! only) cannot be addressed and are left out, as are members with `status` 2 (unavailable).
//! When a member fails to answer, each retry that `retry_count` allows goes to another member.
//!
//! A backend by member groups (`vpc_channel_status` 4) names some of a channel's member groups,
//! each with its own protocol, method and path (`member_group_url_infos`): a request goes to one
//! of those groups that has a usable member, chosen by weighted round robin on
//! `member_group_weight` (a group of weight 0 gets no requests), then to a member of that group
//! by the channel's strategy; retries stay in the group.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use portico_model::VpcChannel;

/// One addressable member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `host:port`.
    pub address: String,
    /// Weight (at least 1).
    pub weight: u64,
    /// Used only when no primary member is healthy.
    pub backup: bool,
    /// Its member group's id.
    pub group_id: Option<String>,
}

/// A member group of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelGroup {
    /// `member_group_id`.
    pub id: String,
    /// `member_group_name` (`$context.member_group_name`).
    pub name: String,
    /// `member_group_weight` (absent: 1).
    pub weight: u64,
}

/// How a channel checks its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `TCP`, `HTTP` or `HTTPS`.
    pub protocol: String,
    /// Path of HTTP(S) checks.
    pub path: String,
    /// `GET` or `HEAD`.
    pub method: String,
    /// Port checked instead of the member's.
    pub port: Option<u16>,
    /// Successes in a row that make a member healthy.
    pub healthy_after: u32,
    /// Failures in a row that make a member unhealthy.
    pub unhealthy_after: u32,
    /// Time between checks.
    pub interval: Duration,
    /// Time a check may take.
    pub timeout: Duration,
    /// Healthy HTTP statuses, as inclusive ranges.
    pub codes: Vec<(u16, u16)>,
}

/// A channel as the route table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Channel id.
    pub id: String,
    /// `balance_strategy`.
    pub strategy: i32,
    /// Its addressable members.
    pub members: Vec<Member>,
    /// Its member groups.
    pub groups: Vec<ChannelGroup>,
    /// Its active health check, if on.
    pub health: Option<HealthCheck>,
}

fn parse_codes(codes: Option<&str>) -> Vec<(u16, u16)> {
    let parsed: Vec<(u16, u16)> = codes
        .unwrap_or("200")
        .split(',')
        .filter_map(|c| {
            let c = c.trim();
            match c.split_once('-') {
                Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
                None => c.parse().ok().map(|v| (v, v)),
            }
        })
        .collect();
    if parsed.is_empty() { vec![(200, 200)] } else { parsed }
}

impl Channel {
    /// Compiles a stored channel.
    pub fn new(channel: &VpcChannel) -> Channel {
        let members = channel
            .members
            .iter()
            .filter(|m| m.status != 2)
            .filter_map(|m| {
                let host = m.host.as_deref().filter(|h| !h.is_empty())?;
                let port = m.port.unwrap_or(channel.port);
                let address = if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                Some(Member {
                    address,
                    weight: u64::try_from(m.weight).unwrap_or(1).max(1),
                    backup: m.is_backup,
                    group_id: m.member_group_id.clone(),
                })
            })
            .collect();
        let health = channel.vpc_health_config.as_ref().filter(|h| h.status == 1).map(|h| HealthCheck {
            protocol: h.protocol.clone(),
            path: h.path.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into()),
            method: h.method.clone().unwrap_or_else(|| "GET".into()),
            port: h.port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0),
            healthy_after: u32::try_from(h.threshold_normal).unwrap_or(1).max(1),
            unhealthy_after: u32::try_from(h.threshold_abnormal).unwrap_or(1).max(1),
            interval: Duration::from_secs(u64::try_from(h.time_interval).unwrap_or(1).max(1)),
            timeout: Duration::from_secs(u64::try_from(h.timeout).unwrap_or(1).max(1)),
            codes: parse_codes(h.http_code.as_deref()),
        });
        let groups = channel
            .member_groups
            .iter()
            .map(|g| ChannelGroup {
                id: g.member_group_id.clone(),
                name: g.member_group_name.clone(),
                weight: g.member_group_weight.map_or(1, |w| u64::try_from(w).unwrap_or(0)),
            })
            .collect();
        Channel { id: channel.id.clone(), strategy: channel.balance_strategy, members, groups, health }
    }
}

/// What changes about one member while requests run.
#[derive(Debug)]
pub struct MemberState {
    healthy: AtomicBool,
    streak: AtomicU32,
    active: AtomicUsize,
}

impl Default for MemberState {
    fn default() -> Self {
        MemberState { healthy: AtomicBool::new(true), streak: AtomicU32::new(0), active: AtomicUsize::new(0) }
    }
}

impl MemberState {
    /// Whether the member takes requests.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records a health check result; `streak` counts results that disagree with the current
    /// state, and the state flips when it reaches the channel's threshold.
    fn record(&self, ok: bool, check: &HealthCheck) {
        if ok == self.healthy() {
            self.streak.store(0, Ordering::Relaxed);
            return;
        }
        let needed = if ok { check.healthy_after } else { check.unhealthy_after };
        if self.streak.fetch_add(1, Ordering::Relaxed) + 1 >= needed {
            self.healthy.store(ok, Ordering::Relaxed);
            self.streak.store(0, Ordering::Relaxed);
        }
    }
}

/// A request in flight to a member (weighted least connections counts these).
pub struct InFlight(Arc<MemberState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The state of one channel, aligned with its members.
#[derive(Debug, Default)]
pub struct ChannelState {
    next: AtomicUsize,
    next_group: AtomicUsize,
    members: Vec<(String, Arc<MemberState>)>,
}

/// The state of every channel of the table in force.
#[derive(Debug, Default)]
pub struct ChannelStates {
    channels: RwLock<HashMap<String, Arc<ChannelState>>>,
}

/// The member at the weighted position `hash` among `candidates` (index, weight).
fn slot(hash: u64, candidates: &[(usize, u64)]) -> Option<usize> {
    let total: u64 = candidates.iter().map(|(_, w)| w).sum();
    let mut point = hash % total.max(1);
    for &(i, weight) in candidates {
        if point < weight {
            return Some(i);
        }
        point -= weight;
    }
    None
}

fn hash_of(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// What a pick may depend on.
#[derive(Debug, Clone, Copy)]
pub struct PickFacts<'a> {
    /// The client address (source hash).
    pub source_ip: IpAddr,
    /// The request path (URI hash).
    pub path: &'a str,
}

impl ChannelStates {
    /// Aligns the states with `channels` (after a table swap): members keep their state by
    /// address, new ones start healthy, channels that are gone are dropped.
    pub fn sync<'c>(&self, channels: impl Iterator<Item = &'c Channel>) {
        let mut map = self.channels.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut fresh = HashMap::new();
        for channel in channels {
            let old = map.get(&channel.id);
            let members = channel
                .members
                .iter()
                .map(|m| {
                    let kept =
                        old.and_then(|o| o.members.iter().find(|(a, _)| *a == m.address)).map(|(_, s)| s.clone());
                    (m.address.clone(), kept.unwrap_or_default())
                })
                .collect();
            let position = |at: fn(&ChannelState) -> &AtomicUsize| {
                AtomicUsize::new(old.map(|o| at(o).load(Ordering::Relaxed)).unwrap_or(0))
            };
            let (next, next_group) = (position(|s| &s.next), position(|s| &s.next_group));
            fresh.insert(channel.id.clone(), Arc::new(ChannelState { next, next_group, members }));
        }
        *map = fresh;
    }

    fn state(&self, channel_id: &str) -> Option<Arc<ChannelState>> {
        self.channels.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(channel_id).cloned()
    }

    /// Each channel's id with its members counted: (id, healthy, unhealthy).
    pub fn member_health(&self) -> Vec<(String, usize, usize)> {
        let map = self.channels.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.iter()
            .map(|(id, state)| {
                let healthy = state.members.iter().filter(|(_, m)| m.healthy()).count();
                (id.clone(), healthy, state.members.len() - healthy)
            })
            .collect()
    }

    /// Whether the member at `index` of `channel` is healthy (unknown channels: healthy).
    pub fn healthy(&self, channel: &Channel, index: usize) -> bool {
        self.state(&channel.id).and_then(|s| s.members.get(index).map(|(_, m)| m.healthy())).unwrap_or(true)
    }

    /// Chooses one of the member groups at `wanted` (indexes into `channel.groups`) that has a
    /// healthy member, by weighted round robin.
    pub fn pick_group(&self, channel: &Channel, wanted: &[usize]) -> Option<usize> {
        let state = self.state(&channel.id)?;
        let candidates: Vec<(usize, u64)> = wanted
            .iter()
            .filter_map(|&g| Some((g, channel.groups.get(g)?)))
            .filter(|(_, group)| group.weight > 0)
            .filter(|(_, group)| {
                channel
                    .members
                    .iter()
                    .zip(&state.members)
                    .any(|(m, (_, s))| m.group_id.as_deref() == Some(group.id.as_str()) && s.healthy())
            })
            .map(|(g, group)| (g, group.weight))
            .collect();
        slot(state.next_group.fetch_add(1, Ordering::Relaxed) as u64, &candidates)
    }

    /// Chooses a member of `channel` (of its member group `group`, when given) by its strategy,
    /// leaving out the members in `tried`; the returned guard counts the request as in flight
    /// until dropped.
    pub fn pick(
        &self,
        channel: &Channel,
        group: Option<&str>,
        facts: PickFacts<'_>,
        tried: &[usize],
    ) -> Option<(usize, InFlight)> {
        let state = self.state(&channel.id)?;
        let usable = |backup: bool| -> Vec<(usize, u64)> {
            channel
                .members
                .iter()
                .enumerate()
                .filter(|(_, m)| group.is_none_or(|g| m.group_id.as_deref() == Some(g)))
                .filter(|(i, m)| m.backup == backup && !tried.contains(i))
                .filter(|(i, _)| state.members.get(*i).is_some_and(|(_, s)| s.healthy()))
                .map(|(i, m)| (i, m.weight))
                .collect()
        };
        let mut candidates = usable(false);
        if candidates.is_empty() {
            candidates = usable(true);
        }
        let chosen = match channel.strategy {
            2 => candidates
                .iter()
                .min_by(|(a, wa), (b, wb)| {
                    let load = |i: usize| state.members[i].1.active.load(Ordering::Relaxed) as u128;
                    (load(*a) * u128::from(*wb)).cmp(&(load(*b) * u128::from(*wa)))
                })
                .map(|(i, _)| *i),
            3 => slot(hash_of(facts.source_ip), &candidates),
            4 => slot(hash_of(facts.path), &candidates),
            _ => slot(state.next.fetch_add(1, Ordering::Relaxed) as u64, &candidates),
        }?;
        let member = state.members[chosen].1.clone();
        member.active.fetch_add(1, Ordering::Relaxed);
        Some((chosen, InFlight(member)))
    }

    /// Records the result of a health check of `channel`'s member `index`.
    pub(crate) fn record(&self, channel: &Channel, index: usize, ok: bool) {
        if let (Some(state), Some(check)) = (self.state(&channel.id), &channel.health)
            && let Some((_, member)) = state.members.get(index)
        {
            member.record(ok, check);
        }
    }
}

/// The address a health check reaches for `member`.
pub fn probe_address(member: &Member, check: &HealthCheck) -> String {
    match check.port {
        Some(port) => match member.address.rsplit_once(':') {
            Some((host, _)) => format!("{host}:{port}"),
            None => member.address.clone(),
        },
        None => member.address.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(strategy: i32, members: &[(&str, u64, bool)]) -> Channel {
        Channel {
            id: "c".into(),
            strategy,
            members: members
                .iter()
                .map(|(a, w, b)| Member { address: a.to_string(), weight: *w, backup: *b, group_id: None })
                .collect(),
            groups: vec![],
            health: Some(HealthCheck {
                protocol: "TCP".into(),
                path: "/".into(),
                method: "GET".into(),
                port: None,
                healthy_after: 2,
                unhealthy_after: 1,
                interval: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                codes: vec![(200, 200)],
            }),
        }
    }

    fn facts<'p>(ip: &str, path: &'p str) -> PickFacts<'p> {
        PickFacts { source_ip: ip.parse().unwrap(), path }
    }

    fn picks(states: &ChannelStates, c: &Channel, n: usize) -> Vec<usize> {
        (0..n).map(|_| states.pick(c, None, facts("10.0.0.1", "/"), &[]).unwrap().0).collect()
    }

    #[test]
    fn weighted_round_robin_and_backups() {
        let c = channel(1, &[("a:1", 2, false), ("b:1", 1, false), ("z:1", 1, true)]);
        let states = ChannelStates::default();
        states.sync([&c].into_iter());
        let got = picks(&states, &c, 6);
        assert_eq!(got.iter().filter(|i| **i == 0).count(), 4, "{got:?}");
        assert_eq!(got.iter().filter(|i| **i == 1).count(), 2, "{got:?}");
        states.record(&c, 0, false);
        assert!(picks(&states, &c, 4).iter().all(|i| *i == 1), "a is down");
        states.record(&c, 1, false);
        assert!(picks(&states, &c, 3).iter().all(|i| *i == 2), "only the backup is left");
        states.record(&c, 0, true);
        assert!(!states.healthy(&c, 0), "two successes are needed");
        states.record(&c, 0, true);
        assert!(picks(&states, &c, 3).iter().all(|i| *i == 0), "a is back; the backup rests");
        assert_eq!(states.pick(&c, None, facts("10.0.0.1", "/"), &[0]).map(|p| p.0), Some(2), "a tried: backup");
    }

    #[test]
    fn least_connections_and_hashes() {
        let c = channel(2, &[("a:1", 1, false), ("b:1", 1, false)]);
        let states = ChannelStates::default();
        states.sync([&c].into_iter());
        let (first, held) = states.pick(&c, None, facts("10.0.0.1", "/"), &[]).unwrap();
        let (second, _) = states.pick(&c, None, facts("10.0.0.1", "/"), &[]).unwrap();
        assert_ne!(first, second, "the busy member is avoided");
        drop(held);

        let source = channel(3, &[("a:1", 1, false), ("b:1", 1, false), ("c:1", 1, false)]);
        states.sync([&source].into_iter());
        let by_ip = |ip: &str| states.pick(&source, None, facts(ip, "/"), &[]).unwrap().0;
        assert_eq!(by_ip("10.0.0.7"), by_ip("10.0.0.7"), "one client, one member");
        let spread: std::collections::HashSet<usize> = (0..50).map(|i| by_ip(&format!("10.0.1.{i}"))).collect();
        assert!(spread.len() > 1, "clients spread over members");

        let uri = channel(4, &[("a:1", 1, false), ("b:1", 1, false), ("c:1", 1, false)]);
        states.sync([&uri].into_iter());
        let by_path = |p: &'static str| states.pick(&uri, None, facts("10.0.0.1", p), &[]).unwrap().0;
        assert_eq!(by_path("/x"), by_path("/x"));
        let paths = ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j"];
        let spread: std::collections::HashSet<usize> = paths.iter().map(|p| by_path(p)).collect();
        assert!(spread.len() > 1);
    }

    #[test]
    fn member_groups_by_weight_then_members_of_the_group() {
        let mut c = channel(1, &[("a:1", 1, false), ("b:1", 1, false), ("c:1", 1, false), ("d:1", 1, false)]);
        for (member, group) in c.members.iter_mut().zip(["g1", "g2", "g2", "g0"]) {
            member.group_id = Some(group.into());
        }
        let group = |id: &str, weight| ChannelGroup { id: id.into(), name: format!("name_{id}"), weight };
        c.groups = vec![group("g1", 1), group("g2", 3), group("g0", 0)];
        let states = ChannelStates::default();
        states.sync([&c].into_iter());
        let groups: Vec<usize> = (0..8).map(|_| states.pick_group(&c, &[0, 1, 2]).unwrap()).collect();
        assert_eq!(groups.iter().filter(|g| **g == 0).count(), 2, "{groups:?}");
        assert_eq!(groups.iter().filter(|g| **g == 1).count(), 6, "{groups:?}: weight 0 gets nothing");
        assert_eq!(states.pick_group(&c, &[0]), Some(0), "only the groups the backend names");
        let in_g2: Vec<usize> =
            (0..4).map(|_| states.pick(&c, Some("g2"), facts("10.0.0.1", "/"), &[]).unwrap().0).collect();
        assert!(in_g2.iter().all(|i| [1, 2].contains(i)), "{in_g2:?}");
        assert_eq!(
            states.pick(&c, Some("g2"), facts("10.0.0.1", "/"), &[1, 2]).map(|p| p.0),
            None,
            "retries stay in the group"
        );
        states.record(&c, 1, false);
        states.record(&c, 2, false);
        assert!(
            (0..4).all(|_| states.pick_group(&c, &[0, 1, 2]) == Some(0)),
            "a group without a healthy member is skipped"
        );
        assert_eq!(states.pick_group(&c, &[1, 2]), None);
    }

    #[test]
    fn sync_keeps_state_by_address() {
        let c = channel(1, &[("a:1", 1, false), ("b:1", 1, false)]);
        let states = ChannelStates::default();
        states.sync([&c].into_iter());
        states.record(&c, 1, false);
        let reordered = channel(1, &[("b:1", 1, false), ("n:1", 1, false)]);
        states.sync([&reordered].into_iter());
        assert!(!states.healthy(&reordered, 0), "b stays down");
        assert!(states.healthy(&reordered, 1), "a new member starts healthy");
    }

    #[test]
    fn stored_channels_compile() {
        assert_eq!(parse_codes(Some("200,202-204")), vec![(200, 200), (202, 204)]);
        assert_eq!(parse_codes(None), vec![(200, 200)]);
        let m = Member { address: "10.0.0.1:80".into(), weight: 1, backup: false, group_id: None };
        let mut check = channel(1, &[]).health.unwrap();
        assert_eq!(probe_address(&m, &check), "10.0.0.1:80");
        check.port = Some(9000);
        assert_eq!(probe_address(&m, &check), "10.0.0.1:9000");
    }
}
