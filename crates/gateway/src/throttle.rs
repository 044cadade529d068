//! Request throttling: a policy bound to a publish record allows `api_call_limits` calls of
//! the API per `time_interval` `time_unit`, and, within that, `user_call_limits` per user (an
//! IAM user, or for an app the tenant owning it: every app of a project shares one count),
//! `app_call_limits` per app and `ip_call_limits` per client address (0: no such limit).
//! Special throttles replace the app or user limit for one app or one user. A basic policy
//! (`type` 1) counts each bound API on its own; a shared one (`type` 2) counts the calls of all
//! its bound APIs together.
//!
//! Why fixed windows and not `governor`'s GCRA: APIG's contract is "N calls per interval",
//! with the whole N available at once in each interval. GCRA spreads the N over the interval
//! (one call per interval/N after a burst), which for an hourly or daily limit would refuse
//! calls APIG accepts. A window opens with the first call of its key and lasts the interval.
//!
//! The counters live in the [`Throttler`], shared by the worker threads and kept across route
//! table reloads (keys name the policy, not the table), so publishing something elsewhere does
//! not reset anyone's count.
//!
//! Several nodes on one database do not share counters (a database round trip per request would
//! cost more than the proxying). Instead each node allows its share of every limit,
//! `ceil(limit / live nodes)` ([`Throttler::set_nodes`], fed by the node heartbeats): together the
//! nodes never admit more than `limit + live nodes - 1` calls per window, and a client whose calls
//! all reach one node gets that node's share. docs/configuration.md states the bound.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portico_model::{Throttle, ThrottleSpecial};

use crate::error::GatewayError;

/// A throttling policy, compiled when the route table is built.
#[derive(Debug)]
pub struct ThrottlePolicy {
    id: String,
    shared: bool,
    period: Duration,
    api: u64,
    user: u64,
    app: u64,
    ip: u64,
    app_specials: HashMap<String, u64>,
    user_specials: HashMap<String, u64>,
}

fn unit_seconds(unit: &str) -> u64 {
    match unit {
        "MINUTE" => 60,
        "HOUR" => 3600,
        "DAY" => 86_400,
        _ => 1,
    }
}

impl ThrottlePolicy {
    /// Compiles `throttle` with its `specials`.
    pub fn new(throttle: &Throttle, specials: &[&ThrottleSpecial]) -> ThrottlePolicy {
        let limit = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut policy = ThrottlePolicy {
            id: throttle.id.clone(),
            shared: throttle.throttle_type == 2,
            period: Duration::from_secs(
                u64::try_from(throttle.time_interval).unwrap_or(1).max(1) * unit_seconds(&throttle.time_unit),
            ),
            api: limit(throttle.api_call_limits),
            user: limit(throttle.user_call_limits),
            app: limit(throttle.app_call_limits),
            ip: limit(throttle.ip_call_limits),
            app_specials: HashMap::new(),
            user_specials: HashMap::new(),
        };
        for special in specials {
            let map = if special.object_type == "APP" { &mut policy.app_specials } else { &mut policy.user_specials };
            map.insert(special.object_id.clone(), limit(special.call_limits));
        }
        policy
    }
}

/// Who is calling, as throttling counts it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The publish record called.
    pub publish_id: &'a str,
    /// The IAM user, or the tenant owning the calling app.
    pub user: Option<&'a str>,
    /// The user's tenant (project), which USER special throttles may name instead of the user.
    pub tenant: Option<&'a str>,
    /// The app, if the caller is one.
    pub app: Option<&'a str>,
    /// The client address.
    pub ip: std::net::IpAddr,
}

#[derive(Debug)]
struct Window {
    ends: Instant,
    count: u64,
}

#[derive(Debug, Default)]
struct Shard {
    windows: HashMap<String, Window>,
    sweep_at: usize,
}

const SHARDS: usize = 16;
const FIRST_SWEEP: usize = 4096;

/// The call counters of every throttled key.
#[derive(Debug)]
pub struct Throttler {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    nodes: AtomicU64,
}

impl Default for Throttler {
    fn default() -> Self {
        Throttler {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard { sweep_at: FIRST_SWEEP, ..Shard::default() })).collect(),
            hasher: RandomState::new(),
            nodes: AtomicU64::new(1),
        }
    }
}

impl Throttler {
    /// How many nodes share the limits from now on (at least 1): each allows `ceil(limit / n)`.
    pub fn set_nodes(&self, n: u64) {
        self.nodes.store(n.max(1), Ordering::Relaxed);
    }

    /// Counts one call of `subject` under `policy`: `Throttled` when a limit is reached. The
    /// limits are checked in APIG's order (API, user, app, IP); a refused call is taken back
    /// from the counts it had already entered, so it costs nobody's quota.
    pub fn check(&self, policy: &ThrottlePolicy, subject: &Subject<'_>, now: Instant) -> Result<(), GatewayError> {
        let scope = if policy.shared { "" } else { subject.publish_id };
        let key = |dimension: &str, who: &str| format!("{}\0{scope}\0{dimension}\0{who}", policy.id);
        let special =
            |map: &HashMap<String, u64>, who: &[Option<&str>]| who.iter().flatten().find_map(|w| map.get(*w).copied());
        let mut limits: Vec<(&str, String, u64)> = vec![("API", key("api", ""), policy.api)];
        if let Some(user) = subject.user {
            let limit = special(&policy.user_specials, &[Some(user), subject.tenant]).unwrap_or(policy.user);
            limits.push(("user", key("user", user), limit));
        }
        if let Some(app) = subject.app {
            let limit = special(&policy.app_specials, &[Some(app)]).unwrap_or(policy.app);
            limits.push(("app", key("app", app), limit));
        }
        limits.push(("IP", key("ip", &subject.ip.to_string()), policy.ip));
        let nodes = self.nodes.load(Ordering::Relaxed);
        let mut counted = Vec::with_capacity(limits.len());
        for (dimension, key, limit) in limits {
            if limit == 0 {
                continue;
            }
            match self.hit(&key, limit.div_ceil(nodes), policy.period, now) {
                Some(window) => counted.push((key, window)),
                None => {
                    for (key, window) in counted {
                        self.take_back(&key, window);
                    }
                    return Err(GatewayError::Throttled(dimension));
                }
            }
        }
        Ok(())
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Shard> {
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a call under `key` unless its window is full; `Some(end of the window)` if counted.
    fn hit(&self, key: &str, limit: u64, period: Duration, now: Instant) -> Option<Instant> {
        let mut shard = self.shard(key);
        if shard.windows.len() >= shard.sweep_at {
            shard.windows.retain(|_, w| w.ends > now);
            shard.sweep_at = (shard.windows.len() * 2).max(FIRST_SWEEP);
        }
        let window = shard.windows.entry(key.to_string()).or_insert(Window { ends: now + period, count: 0 });
        if now >= window.ends {
            *window = Window { ends: now + period, count: 0 };
        }
        if window.count >= limit {
            return None;
        }
        window.count += 1;
        Some(window.ends)
    }

    /// Uncounts a call counted by [`Throttler::hit`] in the window ending at `ends`.
    fn take_back(&self, key: &str, ends: Instant) {
        if let Some(window) = self.shard(key).windows.get_mut(key)
            && window.ends == ends
        {
            window.count = window.count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn throttle(kind: i32, api: i64, user: i64, app: i64, ip: i64) -> Throttle {
        Throttle {
            id: "t".into(),
            name: "t".into(),
            api_call_limits: api,
            user_call_limits: user,
            app_call_limits: app,
            ip_call_limits: ip,
            time_interval: 1,
            time_unit: "MINUTE".into(),
            throttle_type: kind,
            enable_adaptive_control: "FALSE".into(),
            remark: None,
            create_time: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn subject<'a>(publish_id: &'a str, app: Option<&'a str>, ip: &str) -> Subject<'a> {
        Subject { publish_id, user: None, tenant: None, app, ip: ip.parse().unwrap() }
    }

    fn allowed(t: &Throttler, p: &ThrottlePolicy, s: &Subject<'_>, now: Instant, n: usize) -> usize {
        (0..n).filter(|_| t.check(p, s, now).is_ok()).count()
    }

    #[test]
    fn api_limit_per_window_and_per_api_unless_shared() {
        let t = Throttler::default();
        let now = Instant::now();
        let basic = ThrottlePolicy::new(&throttle(1, 3, 0, 0, 0), &[]);
        assert_eq!(allowed(&t, &basic, &subject("a", None, "10.0.0.1"), now, 5), 3);
        assert_eq!(allowed(&t, &basic, &subject("b", None, "10.0.0.1"), now, 5), 3, "another API counts apart");
        let later = now + Duration::from_secs(60);
        assert_eq!(allowed(&t, &basic, &subject("a", None, "10.0.0.1"), later, 5), 3, "a new window");

        let t = Throttler::default();
        let shared = ThrottlePolicy::new(&throttle(2, 3, 0, 0, 0), &[]);
        assert_eq!(allowed(&t, &shared, &subject("a", None, "10.0.0.1"), now, 2), 2);
        assert_eq!(allowed(&t, &shared, &subject("b", None, "10.0.0.1"), now, 5), 1, "shared with a");
    }

    #[test]
    fn each_of_n_nodes_allows_its_share_of_every_limit() {
        let nodes: Vec<Throttler> = (0..3).map(|_| Throttler::default()).collect();
        for node in &nodes {
            node.set_nodes(3);
        }
        let now = Instant::now();
        let p = ThrottlePolicy::new(&throttle(1, 10, 0, 0, 4), &[]);
        let s = subject("a", None, "10.0.0.1");
        let per_node: Vec<usize> = nodes.iter().map(|t| allowed(t, &p, &s, now, 10)).collect();
        assert_eq!(per_node, [2, 2, 2], "ceil(4 / 3) of the IP limit on each node");
        assert_eq!(per_node.iter().sum::<usize>(), 6, "the bound is tight: limit + nodes - 1 in all");
        let other = subject("a", None, "10.0.0.2");
        assert_eq!(allowed(&nodes[0], &p, &other, now, 10), 2, "the API share, ceil(10 / 3) = 4, leaves 2");
        nodes[0].set_nodes(1);
        assert_eq!(allowed(&nodes[0], &p, &subject("a", None, "10.0.0.3"), now, 10), 4, "alone again: the whole limit");
        nodes[0].set_nodes(0);
        assert_eq!(
            allowed(&nodes[0], &p, &subject("a", None, "10.0.0.4"), now, 10),
            2,
            "0 reads as 1: the API share left is 10 - 8"
        );
    }

    #[test]
    fn app_ip_and_special_limits() {
        let t = Throttler::default();
        let now = Instant::now();
        let special = ThrottleSpecial {
            id: "s".into(),
            throttle_id: "t".into(),
            object_type: "APP".into(),
            object_id: "vip".into(),
            object_name: "vip".into(),
            call_limits: 5,
            apply_time: OffsetDateTime::UNIX_EPOCH,
        };
        let p = ThrottlePolicy::new(&throttle(1, 100, 0, 2, 3), &[&special]);
        assert_eq!(allowed(&t, &p, &subject("a", Some("x"), "10.0.0.1"), now, 4), 2);
        assert_eq!(allowed(&t, &p, &subject("a", Some("vip"), "10.0.0.2"), now, 9), 3, "the IP limit");
        assert_eq!(allowed(&t, &p, &subject("a", Some("vip"), "10.0.0.3"), now, 9), 2, "5 for vip in all");
        assert_eq!(allowed(&t, &p, &subject("a", Some("y"), "10.0.0.2"), now, 1), 0, "the IP's limit holds");
        let refused = t.check(&p, &subject("a", Some("x"), "10.0.0.9"), now).unwrap_err();
        assert_eq!(refused, GatewayError::Throttled("app"));
    }

    #[test]
    fn users_and_user_specials_by_user_or_tenant() {
        let t = Throttler::default();
        let now = Instant::now();
        let special = |object_id: &str| ThrottleSpecial {
            id: object_id.into(),
            throttle_id: "t".into(),
            object_type: "USER".into(),
            object_id: object_id.into(),
            object_name: object_id.into(),
            call_limits: 3,
            apply_time: OffsetDateTime::UNIX_EPOCH,
        };
        let (by_user, by_tenant) = (special("u-vip"), special("tenant-vip"));
        let p = ThrottlePolicy::new(&throttle(1, 100, 1, 0, 0), &[&by_user, &by_tenant]);
        let user = |id: &'static str, tenant: &'static str| Subject {
            publish_id: "a",
            user: Some(id),
            tenant: Some(tenant),
            app: None,
            ip: "10.0.0.1".parse().unwrap(),
        };
        assert_eq!(allowed(&t, &p, &user("u1", "tenant"), now, 3), 1);
        assert_eq!(allowed(&t, &p, &user("u2", "tenant"), now, 3), 1, "each user has its own count");
        assert_eq!(allowed(&t, &p, &user("u-vip", "tenant"), now, 5), 3, "a special for the user");
        assert_eq!(allowed(&t, &p, &user("u3", "tenant-vip"), now, 5), 3, "a special for the tenant");
        assert_eq!(t.check(&p, &user("u1", "tenant"), now), Err(GatewayError::Throttled("user")));
    }

    #[test]
    fn stale_windows_are_swept() {
        let t = Throttler::default();
        let now = Instant::now();
        let p = ThrottlePolicy::new(&throttle(1, 100, 0, 0, 0), &[]);
        let n = FIRST_SWEEP * SHARDS;
        for i in 0..n {
            assert!(t.check(&p, &subject(&format!("old{i}"), None, "10.0.0.1"), now).is_ok());
        }
        let later = now + Duration::from_secs(60);
        for i in 0..3 * n {
            assert!(t.check(&p, &subject(&format!("new{i}"), None, "10.0.0.1"), later).is_ok());
        }
        let held: usize = t.shards.iter().map(|s| s.lock().unwrap().windows.len()).sum();
        assert_eq!(held, 3 * n, "every shard dropped its expired windows");
    }
}
