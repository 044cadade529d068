//! Failed authentications are rate-limited per principal (a user name at the IAM token
//! endpoint, an access key for signatures) and source IP. A key gets a burst of failures, then
//! one more per replenishment interval of the quota ([`default_quota`]: 10, then one every 6
//! seconds); a failure past the quota is answered 429 with the seconds to wait. Only failures
//! count, so a client that authenticates correctly is never slowed down.
//!
//! Signatures are always checked, and a valid one is always accepted, even while its key is
//! over quota: the access key travels in clear in every request, so if failures shut the key
//! out, anyone who saw one request could lock its owner out. Only wrong signatures get the 429.
//! They are not the defence of the secret key (40 random characters cannot be guessed at any
//! rate); the 429 tells a client that keeps failing to back off.
//!
//! Password logins are locked out, as IAM does: while a user name is over its quota from an
//! address, every login from there is refused with 429 before the password is checked, the right
//! password too, so a guesser learns nothing from the answers. The lockout ends by itself when
//! the quota lets one more failure through, and other addresses are not affected.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Failed authentications one principal may have from one address: a burst of 10, then one
/// more every 6 seconds.
pub fn default_quota() -> Quota {
    Quota::per_minute(std::num::NonZeroU32::new(10).expect("non-zero"))
}

/// What a failure is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A user name at `POST /v3/auth/tokens`.
    User(String),
    /// The access key of an `SDK-HMAC-SHA256` signature.
    AccessKey(String),
}

type Key = (Principal, IpAddr);

/// The failure counters and the keys locked out for now.
pub struct FailureLimiter {
    failures: DefaultKeyedRateLimiter<Key>,
    clock: DefaultClock,
    locked: Mutex<HashMap<Key, Instant>>,
}

/// The key is locked out; retry after this long.
#[derive(Debug, Clone, Copy)]
pub struct LockedOut(pub Duration);

impl LockedOut {
    /// Whole seconds to wait, at least one (the `Retry-After` value).
    pub fn retry_after_secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

impl FailureLimiter {
    /// A limiter allowing `quota` failures per key.
    pub fn new(quota: Quota) -> Self {
        FailureLimiter {
            failures: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            locked: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses an attempt of a locked-out key. Only logins ask: a signature is checked whatever
    /// its key's failures (see the module's comment).
    pub fn check(&self, principal: Principal, ip: IpAddr) -> Result<(), LockedOut> {
        let locked = self.locked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match locked.get(&(principal, ip)) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Err(LockedOut(left)),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; `Err` when it is past the quota, and the key is locked out
    /// (for [`FailureLimiter::check`]) until the quota lets one more through.
    pub fn fail(&self, principal: Principal, ip: IpAddr) -> Result<(), LockedOut> {
        let key = (principal, ip);
        let Err(not_until) = self.failures.check_key(&key) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(self.clock.now());
        let now = Instant::now();
        let mut locked = self.locked.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Lockouts are few (one per key over quota) and short; forget the ended ones here.
        locked.retain(|_, until| *until > now);
        locked.insert(key, now + wait);
        drop(locked);
        self.failures.retain_recent();
        Err(LockedOut(wait))
    }
}

/// The peer address of the connection (`serve` records it); unspecified when the router runs
/// without one, which then counts all its callers together.
pub fn client_ip(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
