//! Persistence for Portico: the [`Store`] trait, the one seam between a database and the
//! management API and data plane, and its engine, [`SqlStore`], on SQLite ([`SqliteStore`], the
//! embedded default) or PostgreSQL ([`PgStore`], many nodes on one database).
//!
//! The trait is split by family: the core [`Store`] (accounts, groups, environments, APIs,
//! publishing, tasks, the data plane's reads) has one supertrait per family of policies and
//! access objects, and one each for ROMA custom backends and DataService. Their SQL is written
//! once for both databases, one file per family under `sql/`; what differs between the
//! databases is the [`Engine`] trait.
//!
//! Every method that writes runs in one database transaction, so a crash leaves either all of
//! an operation or none of it. Every object lives inside an instance, and every query names the
//! instance, so data of one instance is never reachable through another.
//!
//! ```no_run
//! # async fn demo() -> Result<(), portico_store::StoreError> {
//! use portico_store::{SqliteStore, Store};
//! let store = SqliteStore::open(std::path::Path::new("portico-data/portico.db")).await?;
//! let projects = store.project("admin").await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod backup;
mod cache;
mod dataservice;
mod domains;
mod error;
mod livedata;
mod nodes;
mod openapi;
mod policies;
mod policy_types;
mod secrets;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use portico_model::{
    Api, ApiGroup, AuthType, Credential, EnvVariable, Environment, Instance, MatchMode, Method, Page, Paged, Project,
    User,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use backup::{
    BACKUP_FORMAT, BACKUP_VERSION, BackupError, BackupHeader, BackupReader, BackupStore, BackupSummary, MAX_LINE_BYTES,
    key_fingerprint,
};
pub use dataservice::{DataServiceStore, DsApiFilter, DsImportItem, DsJob, Workspace};
pub use domains::{BoundDomain, CertificateFilter, CertificateRecord, DomainStore, LiveDomain};
pub use error::{Conflict, Kind, StoreError};
pub use livedata::{
    DataSourceFilter, FrontendApi, LdApiFilter, LdApiUpdate, LdImportAction, LdImportMode, LivedataStore,
};
pub use nodes::Heartbeat;
pub use openapi::{
    AsyncTask, ImportAction, ImportOutcome, ImportRequest, ImportTarget, ImportedDomain, TaskStatus, TaskType,
};
pub use policies::{
    AclStore, AppStore, AuthorizerStore, BindingStore, ChannelUpdate, GatewayResponseStore, ResponseUpdate,
    SignatureStore, ThrottleStore, VpcChannelStore,
};
pub use policy_types::*;
pub use secrets::KEY_FILE as SECRETS_KEY_FILE;
pub use sql::{Engine, PgStore, PgTimeouts, SqlStore, SqliteStore};

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How a text filter matches: APIG's `precise_search` names the fields matched exactly; the
/// others match as substrings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// The whole value equals the filter.
    Exact(String),
    /// The value contains the filter.
    Contains(String),
}

/// What an instance holds, counted at one moment for the resource outlines
/// (`ListApiQuantitiesV2`, `ListApiGroupsQuantitiesV2`, `ListAppQuantitiesV2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outline {
    /// APIs.
    pub apis: u64,
    /// APIs published in the RELEASE environment.
    pub apis_on_release: u64,
    /// API groups.
    pub groups: u64,
    /// Apps.
    pub apps: u64,
    /// Apps authorized to call at least one API.
    pub apps_authorized: u64,
}

/// Filters of `ListApiGroupsV2`.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Group id.
    pub id: Option<String>,
    /// Group name.
    pub name: Option<TextMatch>,
}

/// Filters of `ListEnvironmentVariablesV2`.
#[derive(Debug, Clone, Default)]
pub struct VariableFilter {
    /// Group.
    pub group_id: Option<String>,
    /// Environment.
    pub env_id: Option<String>,
    /// Variable name.
    pub variable_name: Option<TextMatch>,
}

/// Filters of `ListApisV2`.
#[derive(Debug, Clone, Default)]
pub struct ApiFilter {
    /// API id.
    pub id: Option<String>,
    /// API name.
    pub name: Option<TextMatch>,
    /// Group.
    pub group_id: Option<String>,
    /// Frontend protocol.
    pub req_protocol: Option<String>,
    /// Frontend method.
    pub req_method: Option<String>,
    /// Frontend path.
    pub req_uri: Option<TextMatch>,
    /// Authentication type.
    pub auth_type: Option<String>,
    /// Only APIs published in this environment.
    pub env_id: Option<String>,
    /// 1 public, 2 private.
    pub api_type: Option<i32>,
    /// APIs carrying this tag; `None` inside means APIs without any tag (`#no_tags#`).
    pub tag: Option<Option<String>>,
    /// APIs whose backend or an HTTP policy uses the VPC channel of this name.
    pub vpc_channel_name: Option<String>,
}

/// A live publication of an API in an environment (a "publish record").
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// Publish record id; stable while the API stays published in the environment.
    pub publish_id: String,
    /// The API.
    pub api_id: String,
    /// The API's name in the published version.
    pub api_name: String,
    /// The environment.
    pub env_id: String,
    /// The environment's name.
    pub env_name: String,
    /// The version that is live.
    pub version_id: String,
    /// Remark given when publishing.
    pub remark: Option<String>,
    /// When the live version was published.
    pub publish_time: OffsetDateTime,
}

/// A published version: an immutable snapshot of an API in an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiVersion {
    /// Version id.
    pub version_id: String,
    /// Version number: 1, 2, 3… in publishing order, per API.
    pub version_no: String,
    /// The API.
    pub api_id: String,
    /// The environment.
    pub env_id: String,
    /// The environment's name.
    pub env_name: String,
    /// Remark given when publishing.
    pub remark: Option<String>,
    /// When it was published.
    pub publish_time: OffsetDateTime,
    /// Whether this version is the live one in its environment.
    pub is_current: bool,
    /// The API as it was published.
    pub snapshot: Api,
}

/// An AK/SK pair as an operator lists it: who owns it and since when, never its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialSummary {
    /// The access key, which names the pair.
    pub access_key: String,
    /// The name of the user the pair acts as.
    pub user_name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// Everything a fresh data directory starts with.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The first project.
    pub project: Project,
    /// The admin user, member of that project.
    pub admin: User,
    /// The admin's AK/SK pair.
    pub credential: Credential,
    /// The default instance, in that project.
    pub instance: Instance,
    /// The account (IAM domain) name.
    pub domain: String,
}

/// An API with what its details show beside it: its group and where it is live.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiContext {
    /// The API (its draft).
    pub api: Api,
    /// Its group.
    pub group: ApiGroup,
    /// Its live publications, oldest first.
    pub publications: Vec<Publication>,
}

/// One live publication as the data plane routes it: where it lives, which version is live, and
/// the few fields of that version a route table is built from. The snapshot itself is read on
/// demand ([`Store::version`]), so a table of 100,000 routes is built without decoding any.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveApi {
    /// The instance.
    pub instance_id: String,
    /// The instance's project (IAM tokens must be scoped to it).
    pub project_id: String,
    /// The environment.
    pub env_id: String,
    /// The environment's name (what `X-Stage` names).
    pub env_name: String,
    /// Publish record id.
    pub publish_id: String,
    /// The published version. Versions are never changed, so its id names the same snapshot
    /// for good: a reader that decoded it once need not read it again.
    pub version_id: String,
    /// The API's id.
    pub api_id: String,
    /// What the published version is routed by.
    pub route: RouteKey,
}

/// The fields of a published version that route requests to it and choose its policies,
/// copied beside the publication when it goes live (versions never change, so the copy
/// cannot go stale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteKey {
    /// The group (its domains are the hosts).
    pub group_id: String,
    /// Frontend method.
    pub req_method: Method,
    /// Frontend path template.
    pub req_uri: String,
    /// Exact or prefix matching.
    pub match_mode: MatchMode,
    /// Frontend authentication.
    pub auth_type: AuthType,
    /// The frontend custom authorizer (`auth_type` AUTHORIZER).
    #[serde(default)]
    pub authorizer_id: Option<String>,
    /// The gateway response the API names.
    #[serde(default)]
    pub response_id: Option<String>,
}

impl RouteKey {
    /// The route key of `api`'s definition.
    pub fn of(api: &Api) -> RouteKey {
        let def = &api.definition;
        RouteKey {
            group_id: def.group_id.clone(),
            req_method: def.req_method,
            req_uri: def.req_uri.clone(),
            match_mode: def.match_mode,
            auth_type: def.auth_type,
            authorizer_id: def.authorizer_id.clone(),
            response_id: def.response_id.clone(),
        }
    }
}

/// Everything the data plane serves, across instances (see [`Store::live_routes`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSet {
    /// Every live publication.
    pub apis: Vec<LiveApi>,
    /// Every group that has a live publication.
    pub groups: Vec<ApiGroup>,
    /// Every environment variable of those groups.
    pub variables: Vec<EnvVariable>,
    /// The policies and access objects those publications use.
    pub policies: LivePolicies,
    /// Every bound domain, with its certificate.
    pub domains: Vec<LiveDomain>,
}

/// The outcome of publishing or taking offline one API of a batch.
pub type BatchOutcome = Vec<(String, Result<Publication>)>;

/// The one storage interface. Engines: [`SqliteStore`] and [`PgStore`]. Each family of policies
/// and access objects has its own supertrait ([`AppStore`], [`ThrottleStore`], [`AclStore`],
/// [`BindingStore`], [`AuthorizerStore`], [`VpcChannelStore`], [`SignatureStore`],
/// [`GatewayResponseStore`]), as do ROMA custom backends ([`LivedataStore`]), DataArts
/// DataService ([`DataServiceStore`]), custom domains with their certificates ([`DomainStore`])
/// and backups ([`BackupStore`]).
#[async_trait]
pub trait Store:
    AppStore
    + BackupStore
    + ThrottleStore
    + AclStore
    + BindingStore
    + AuthorizerStore
    + VpcChannelStore
    + SignatureStore
    + GatewayResponseStore
    + LivedataStore
    + DataServiceStore
    + DomainStore
    + Send
    + Sync
    + 'static
{
    /// A setting, or `proposed` stored under `key` if there was none; whoever wrote first wins.
    async fn setting_or_insert(&self, key: &str, proposed: &str) -> Result<String>;

    /// Creates everything in `bootstrap` in one transaction, unless a bootstrap already
    /// happened; returns whether it did now.
    async fn bootstrap(&self, bootstrap: &Bootstrap) -> Result<bool>;
    /// Creates a project. Conflict: the name is taken.
    async fn create_project(&self, project: &Project) -> Result<()>;
    /// A project by id or by name.
    async fn project(&self, id_or_name: &str) -> Result<Project>;
    /// Creates a user with its project memberships. Conflict: the name is taken.
    async fn create_user(&self, user: &User) -> Result<()>;
    /// A user by name.
    async fn user_by_name(&self, name: &str) -> Result<User>;
    /// Stores an AK/SK pair.
    async fn create_credential(&self, credential: &Credential) -> Result<()>;
    /// The pair with this access key, and its user.
    async fn credential(&self, access_key: &str) -> Result<(Credential, User)>;
    /// Every project, by name.
    async fn list_projects(&self) -> Result<Vec<Project>>;
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Replaces a user's password hash.
    async fn set_user_password(&self, name: &str, password_hash: &str) -> Result<()>;
    /// Deletes a user and its AK/SK pairs, whose access keys it returns. Conflict: it is the
    /// last user who may write, without whom nobody could manage the gateway.
    async fn delete_user(&self, name: &str) -> Result<Vec<String>>;
    /// Every AK/SK pair without its secret, by user then creation.
    async fn list_credentials(&self) -> Result<Vec<CredentialSummary>>;
    /// Deletes an AK/SK pair: the next request signed with it is refused.
    async fn delete_credential(&self, access_key: &str) -> Result<()>;

    /// Creates an instance and its RELEASE environment.
    async fn create_instance(&self, instance: &Instance) -> Result<()>;
    /// The instance, if it belongs to the project.
    async fn instance(&self, project_id: &str, id: &str) -> Result<Instance>;
    /// Instances of a project.
    async fn list_instances(
        &self,
        project_id: &str,
        id: Option<&str>,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<Instance>>;
    /// Deletes an instance. Conflict: it still has API groups.
    async fn delete_instance(&self, project_id: &str, id: &str) -> Result<()>;

    /// Creates a group. Conflict: the name is taken in the instance.
    async fn create_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()>;
    /// Replaces a group's name and remark. Conflict: the new name is taken.
    async fn update_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()>;
    /// A group of the instance.
    async fn group(&self, instance_id: &str, id: &str) -> Result<ApiGroup>;
    /// Groups of the instance.
    async fn list_groups(&self, instance_id: &str, filter: &GroupFilter, page: Page) -> Result<Paged<ApiGroup>>;
    /// Whether a group of that name exists in the instance.
    async fn group_name_taken(&self, instance_id: &str, name: &str) -> Result<bool>;
    /// Deletes a group and its environment variables. Conflict: it still has APIs.
    async fn delete_group(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Creates an environment. Conflict: the name is taken.
    async fn create_env(&self, instance_id: &str, env: &Environment) -> Result<()>;
    /// Replaces an environment's name and remark. Conflict: the name is taken, or it is RELEASE.
    async fn update_env(&self, instance_id: &str, env: &Environment) -> Result<()>;
    /// An environment of the instance.
    async fn env(&self, instance_id: &str, id: &str) -> Result<Environment>;
    /// Environments of the instance, optionally only those whose name contains `name`.
    async fn list_envs(&self, instance_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Environment>>;
    /// Deletes an environment and its variables. Conflict: APIs are published in it, or it is RELEASE.
    async fn delete_env(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Creates a variable. NotFound: its group or environment. Conflict: the name is taken there.
    async fn create_variable(&self, instance_id: &str, variable: &EnvVariable) -> Result<()>;
    /// Changes a variable's value and returns the variable.
    async fn update_variable(&self, instance_id: &str, id: &str, value: &str) -> Result<EnvVariable>;
    /// A variable of the instance.
    async fn variable(&self, instance_id: &str, id: &str) -> Result<EnvVariable>;
    /// Variables of the instance.
    async fn list_variables(
        &self,
        instance_id: &str,
        filter: &VariableFilter,
        page: Page,
    ) -> Result<Paged<EnvVariable>>;
    /// Deletes a variable.
    async fn delete_variable(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Creates an API. NotFound: its group. Conflict: its name or its (method, path, match mode)
    /// is taken in the group.
    async fn create_api(&self, instance_id: &str, api: &Api) -> Result<()>;
    /// Replaces an API's definition, with the same checks as [`Store::create_api`].
    async fn update_api(&self, instance_id: &str, api: &Api) -> Result<()>;
    /// An API of the instance.
    async fn api(&self, instance_id: &str, id: &str) -> Result<Api>;
    /// An API with its group and publications, as `ShowDetailsOfApiV2` shows it.
    async fn api_context(&self, instance_id: &str, api_id: &str) -> Result<std::sync::Arc<ApiContext>>;
    /// APIs of the instance.
    async fn list_apis(&self, instance_id: &str, filter: &ApiFilter, page: Page) -> Result<Paged<Api>>;
    /// How many APIs, groups and apps the instance holds.
    async fn outline(&self, instance_id: &str) -> Result<Outline>;
    /// The distinct tags of the instance's APIs, in byte order.
    async fn api_tags(&self, instance_id: &str, page: Page) -> Result<Paged<String>>;
    /// The first API that would conflict with one named `name` at (`method`, `uri`, `match_mode`)
    /// in `group_id`, other than `except_id`.
    async fn api_conflict(
        &self,
        instance_id: &str,
        group_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str, &str)>,
        except_id: Option<&str>,
    ) -> Result<Option<Conflict>>;
    /// Deletes an API with its publications and versions, and so their bindings and
    /// authorizations.
    async fn delete_api(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Publishes the current definition of each API in `env_id`, all in one transaction: each
    /// API gets a new version, and its publication (kept, or created) points at it. APIs that
    /// cannot be published are reported, the others are published.
    async fn publish(
        &self,
        instance_id: &str,
        env_id: &str,
        api_ids: &[String],
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<BatchOutcome>;
    /// Takes each API offline in `env_id`, in one transaction, removing the policy bindings and
    /// app authorizations of its publish record. NotFound for an API that is not published there.
    async fn offline(&self, instance_id: &str, env_id: &str, api_ids: &[String]) -> Result<BatchOutcome>;
    /// Ids of the APIs of a group, in creation order.
    async fn group_api_ids(&self, instance_id: &str, group_id: &str) -> Result<Vec<String>>;
    /// Live publications of the given APIs, oldest first.
    async fn publications(&self, instance_id: &str, api_ids: &[String]) -> Result<Vec<Publication>>;
    /// Versions of an API, newest first, optionally of one environment.
    async fn list_versions(
        &self,
        instance_id: &str,
        api_id: &str,
        env_id: Option<&str>,
        page: Page,
    ) -> Result<Paged<ApiVersion>>;
    /// One version.
    async fn version(&self, instance_id: &str, version_id: &str) -> Result<ApiVersion>;
    /// Makes an earlier version the live one in its environment.
    async fn switch_version(
        &self,
        instance_id: &str,
        api_id: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Result<Publication>;
    /// Takes the version `version_id` offline in its environment (APIG's DeleteApiByVersionIdV2),
    /// in one transaction: NotFound for an unknown version, and a NotFound publication when that
    /// version is not the one in effect there (another version is, or none).
    async fn offline_version(&self, instance_id: &str, version_id: &str) -> Result<Publication>;
    /// The live version of an API in an environment.
    async fn runtime(&self, instance_id: &str, api_id: &str, env_id: &str) -> Result<ApiVersion>;

    // --- OpenAPI export and import, asynchronous tasks ---

    /// The APIs of a group as an export shows them (with `env_id`, the versions live in that
    /// environment; without, the current drafts), in the order `portico_openapi::write` wants
    /// (by path, then creation); with `only`, just those of these ids. They arrive in batches
    /// through a bounded channel as they are read, so an export holds a window of APIs, not the
    /// group; a read error arrives as the last item.
    async fn export_apis(
        &self,
        instance_id: &str,
        group_id: &str,
        env_id: Option<&str>,
        only: Option<&[String]>,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<Api>>>>;
    /// Ids of the APIs [`Store::export_apis`] would give.
    async fn export_api_ids(&self, instance_id: &str, group_id: &str, env_id: Option<&str>) -> Result<Vec<String>>;
    /// Imports APIs in one transaction (or works out what an import would do, with
    /// `dry_run`). Conflict: a new group's name is taken. NotFound: an existing group.
    async fn import_apis(&self, instance_id: &str, request: ImportRequest) -> Result<ImportOutcome>;
    /// Records a new asynchronous task.
    async fn create_task(&self, instance_id: &str, task: &AsyncTask) -> Result<()>;
    /// Moves a task on, with its result once it has one. A task that has ended (succeeded, or
    /// failed, e.g. by another node that took this one for dead) keeps its end.
    async fn update_task(
        &self,
        instance_id: &str,
        id: &str,
        status: TaskStatus,
        result: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// A task of the instance.
    async fn task(&self, instance_id: &str, id: &str) -> Result<AsyncTask>;

    // --- Nodes serving the database (`nodes.rs`) ---

    /// This handle's node id, new each time a store is opened: the tasks it creates are this
    /// node's, and live only as long as its lease.
    fn node_id(&self) -> &str;
    /// Renews this node's lease at `now` and forgets the nodes whose last heartbeat is older than
    /// `lease` (on SQLite, which one process owns, every other node); then marks failed, with
    /// `reason`, the unfinished tasks of nodes that are gone. Call it before serving, then
    /// periodically, well within `lease`.
    async fn heartbeat(&self, now: OffsetDateTime, lease: time::Duration, reason: &str) -> Result<Heartbeat>;
    /// Leaves (a graceful stop): this node's lease ends now, and its unfinished tasks, which no
    /// one will finish, are marked failed with `reason`. Returns how many.
    async fn leave(&self, now: OffsetDateTime, reason: &str) -> Result<u64>;

    // ---- Data plane ------------------------------------------------------------------------

    /// Everything that is live, across all instances: each publication with its route key,
    /// the groups they belong to, those groups' environment variables, and the policies the
    /// data plane enforces ([`LivePolicies`]), all read in one snapshot of the data. No API
    /// snapshot is read: the data plane reads those it serves with [`Store::version`].
    async fn live_routes(&self) -> Result<LiveSet>;
    /// A counter that changes whenever a write that may change [`Store::live_routes`] commits
    /// (every write but those of API definitions and tasks; on PostgreSQL, every node's every
    /// write): cheap to read. Read it *before* reading the data.
    fn generation(&self) -> u64;
    /// Returns once [`Store::generation`] is no longer `seen`: at once if it has moved already,
    /// else as soon as such a write commits (on PostgreSQL, as soon as its notification arrives).
    async fn live_changed(&self, seen: u64);
    /// Answers when the database does (readiness probes).
    async fn ready(&self) -> Result<()>;
}
