//! How a store becomes a running API: the first start's generated identities, and the state
//! every later start loads. `portico serve` and the integration tests both go through here.

use std::sync::Arc;

use portico_auth::token::TokenKey;
use portico_auth::{generate, password};
use portico_model::{Credential, Instance, Project, User, now};
use portico_store::{Bootstrap, Store, StoreError};

use crate::lockout::{self, FailureLimiter};
use crate::{ApiConfig, AppState};

/// The account (IAM domain) name of a fresh data directory.
pub const DEFAULT_DOMAIN: &str = "portico";

/// What a fresh data directory starts with: a project `default`, an instance in it, an admin
/// user with a generated password and an AK/SK pair. The password is kept in clear here only
/// to be shown once.
pub struct FirstStart {
    /// Ready for [`Store::bootstrap`].
    pub bootstrap: Bootstrap,
    /// The admin's password (the store keeps only its hash).
    pub admin_password: String,
}

impl FirstStart {
    /// Generates new ids, password and keys.
    pub fn generate() -> FirstStart {
        let created_at = now();
        let project = Project { id: generate::hex_id(), name: "default".into(), created_at };
        let admin_password = generate::password();
        let admin = User {
            id: generate::hex_id(),
            name: "admin".into(),
            password_hash: password::hash(&admin_password),
            readonly: false,
            projects: vec![project.id.clone()],
            created_at,
        };
        let credential = Credential {
            access_key: generate::access_key(),
            secret_key: generate::secret_key(),
            user_id: admin.id.clone(),
            created_at,
        };
        let instance = Instance {
            id: generate::hex_id(),
            project_id: project.id.clone(),
            instance_name: "portico-default".into(),
            description: Some("Created at first start".into()),
            create_time: created_at,
        };
        let bootstrap = Bootstrap { project, admin, credential, instance, domain: DEFAULT_DOMAIN.into() };
        FirstStart { bootstrap, admin_password }
    }
}

/// Why a store cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored token key is not 64 hex digits.
    #[error("the stored token key is corrupt")]
    CorruptTokenKey,
}

impl AppState {
    /// The state for serving `store`: its token key (created on first use, shared by every
    /// server of the store) and its account name, with the given token lifetime and group
    /// domain suffix.
    pub async fn load(
        store: Arc<dyn Store>,
        token_ttl: time::Duration,
        group_domain_suffix: String,
    ) -> Result<AppState, StartupError> {
        let token_key = store.setting_or_insert("token_key", &TokenKey::generate().to_hex()).await?;
        let domain_name = store.setting_or_insert("domain", DEFAULT_DOMAIN).await?;
        Ok(AppState {
            store,
            token_key: Arc::new(TokenKey::from_hex(&token_key).map_err(|_| StartupError::CorruptTokenKey)?),
            config: Arc::new(ApiConfig {
                token_ttl,
                group_domain_suffix,
                domain_name,
                livedata_runtime: None,
                livedata_places: Default::default(),
            }),
            failures: Arc::new(FailureLimiter::new(lockout::default_quota())),
            metrics: None,
        })
    }

    /// The same state, with the frontend APIs of custom backend deployments forwarding to this
    /// server at `address` (`host:port`, as the gateway reaches it).
    pub fn with_livedata_runtime(self, address: String) -> AppState {
        let config = ApiConfig { livedata_runtime: Some(address), ..(*self.config).clone() };
        AppState { config: Arc::new(config), ..self }
    }

    /// The same state, allowing `quota` failed logins or signature checks per principal and
    /// source IP (default: [`lockout::default_quota`]).
    pub fn with_auth_failure_quota(self, quota: governor::Quota) -> AppState {
        AppState { failures: Arc::new(FailureLimiter::new(quota)), ..self }
    }

    /// The same state, with SQLite data sources naming files of `directory`.
    pub fn with_livedata_sqlite_dir(self, directory: std::path::PathBuf) -> AppState {
        let places = portico_livedata::Places { sqlite_dir: Some(directory) };
        AppState { config: Arc::new(ApiConfig { livedata_places: places, ..(*self.config).clone() }), ..self }
    }

    /// The same state, answering `GET /metrics` with what `render` gives.
    pub fn with_metrics(self, render: crate::MetricsRenderer) -> AppState {
        AppState { metrics: Some(render), ..self }
    }
}
