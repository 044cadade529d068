//! A read cache for the lookups every management request makes (its instance; an API with its
//! group and publications), so that reading API details costs no database round trip.
//!
//! Coherence comes from a generation counter instead of per-key invalidation: every committed
//! write bumps it, and an entry is only used while its generation is the current one. A reader
//! notes the generation *before* it reads the database, so an entry filled from data older than
//! a write can never be served after that write returned. This is only sound while one process
//! writes the data it caches (SQLite); a store shared by several processes (PostgreSQL) uses a
//! disabled cache, which always loads.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;

/// Entries per map: bounds memory to a few thousand API documents.
const CAPACITY: usize = 4096;

pub(crate) struct ReadCache<K, V> {
    generation: Arc<AtomicU64>,
    entries: Option<Cache<K, (u64, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> ReadCache<K, V> {
    /// A cache following `generation`; unless `enabled`, it holds nothing and every read loads.
    pub(crate) fn new(generation: Arc<AtomicU64>, enabled: bool) -> Self {
        ReadCache { generation, entries: enabled.then(|| Cache::new(CAPACITY)) }
    }

    /// The cached value, or `load`'s, cached under the generation seen before loading.
    pub(crate) async fn get_or_load<E>(&self, key: &K, load: impl Future<Output = Result<V, E>>) -> Result<V, E> {
        let Some(entries) = &self.entries else { return load.await };
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((seen, value)) = entries.get(key)
            && seen == generation
        {
            return Ok(value);
        }
        let value = load.await?;
        entries.insert(key.clone(), (generation, value.clone()));
        Ok(value)
    }
}

/// Marks every cached entry stale; called after each committed write.
pub(crate) fn invalidate(generation: &AtomicU64) {
    generation.fetch_add(1, Ordering::AcqRel);
}

/// The counter of commits that may change what is live, which the data plane waits on: a
/// watch channel rather than a bare counter, so a publish wakes the gateway's rebuild at once
/// instead of at its next poll (at 100,000 routes the poll's wait was a fifth of the 1 s budget
/// from a publish to the gateway serving it).
#[derive(Debug)]
pub(crate) struct LiveGeneration(tokio::sync::watch::Sender<u64>);

impl Default for LiveGeneration {
    fn default() -> Self {
        LiveGeneration(tokio::sync::watch::Sender::new(0))
    }
}

impl LiveGeneration {
    pub(crate) fn current(&self) -> u64 {
        *self.0.borrow()
    }

    /// Moves the counter and wakes every waiter.
    pub(crate) fn advance(&self) {
        self.0.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Returns once the counter is no longer `seen` (at once if it has moved already).
    pub(crate) async fn changed_since(&self, seen: u64) {
        // The sender lives as long as `self`, so the wait cannot fail.
        let _ = self.0.subscribe().wait_for(|generation| *generation != seen).await;
    }
}
