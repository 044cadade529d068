//! The published versions the gateway has decoded, read from the store when a request first
//! reaches one.
//!
//! The route table holds no snapshots (see [`crate::routes`]): decoding every live version at
//! start took seconds and most of the memory at 100,000 APIs, while traffic reaches far fewer.
//! Versions never change, so a decoded one stays right for good; the cache is bounded (least
//! recently and frequently used go first) and shared by every worker and every table.

use std::sync::Arc;

use portico_store::{Store, StoreError};

use crate::GatewayError;
use crate::entry::{PreparedVersion, RouteEntry};

/// Decoded versions kept by default: about the memory of the 10,000-route table itself.
pub const DEFAULT_CAPACITY: usize = 16_384;

/// Decoded published versions, by version id.
pub struct VersionCache {
    store: Arc<dyn Store>,
    decoded: quick_cache::sync::Cache<String, Arc<PreparedVersion>>,
}

impl VersionCache {
    /// A cache of at most `capacity` versions read from `store`.
    pub fn new(store: Arc<dyn Store>, capacity: usize) -> VersionCache {
        VersionCache { store, decoded: quick_cache::sync::Cache::new(capacity.max(1)) }
    }

    /// The live version of `entry`, decoded (read from the store unless cached; concurrent
    /// first requests read it once).
    pub async fn get(&self, entry: &RouteEntry) -> Result<Arc<PreparedVersion>, GatewayError> {
        self.decoded
            .get_or_insert_async(entry.version_id.as_str(), async {
                match self.store.version(&entry.instance_id, &entry.version_id).await {
                    Ok(version) => {
                        let (prepared, problems) = PreparedVersion::new(version.snapshot);
                        for problem in problems {
                            tracing::warn!(problem, "backend policy skipped");
                        }
                        Ok(Arc::new(prepared))
                    }
                    // Taken offline (and its API deleted) since the table was built: the next
                    // table will not route it either.
                    Err(StoreError::NotFound { .. }) => {
                        Err(GatewayError::NoRoute(format!("API {} (no longer live)", entry.api_id)))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, version = entry.version_id, "cannot read a published version");
                        Err(GatewayError::Internal)
                    }
                }
            })
            .await
    }
}
