//! The ROMA Connect half of the store: integration applications, data sources and custom
//! backends (livedata APIs) with their deployments and test runs. A supertrait of
//! [`crate::Store`], like each policy family ([`crate::AppStore`], …).
//!
//! Deploying a custom backend with a frontend API creates and publishes that API with the same
//! row writers and checks as `create_api` and `publish`, in the deployment's transaction: one
//! system, not a second copy of APIs.

use async_trait::async_trait;
use portico_model::{Api, DataSource, FieldError, LdApi, LdDeployment, LdScript, LdTestRun, Page, Paged, RomaApp};
use time::OffsetDateTime;

use crate::{Result, TextMatch};

/// How [`LivedataStore::update_ld_api`] makes the new definition from the stored one.
pub type LdApiUpdate<'a> = dyn Fn(&LdApi) -> std::result::Result<LdApi, FieldError> + Send + Sync + 'a;

/// Filters of `ListDatasources` and `ListLiveDataDataSourcesV2`.
#[derive(Debug, Clone, Default)]
pub struct DataSourceFilter {
    /// Owning integration application.
    pub app_id: Option<String>,
    /// Name.
    pub name: Option<TextMatch>,
    /// Kind (upper case).
    pub datasource_type: Option<String>,
}

/// Filters of `ListLiveDataApiV2`.
#[derive(Debug, Clone, Default)]
pub struct LdApiFilter {
    /// Owning integration application.
    pub app_id: Option<String>,
    /// Its name.
    pub app_name: Option<TextMatch>,
    /// Backend name.
    pub name: Option<TextMatch>,
    /// Backend path.
    pub path: Option<TextMatch>,
    /// Status (1, 3, 4).
    pub status: Option<i32>,
    /// Only these ids (export).
    pub ids: Option<Vec<String>>,
}

/// The frontend API a deployment creates and publishes.
#[derive(Debug, Clone)]
pub struct FrontendApi {
    /// The API (its group is checked, conflicts too).
    pub api: Api,
    /// Where it is published.
    pub env_id: String,
}

/// How an import treats a custom backend whose (method, path) exists in its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdImportMode {
    /// Keep the stored one.
    Merge,
    /// Replace its definition (keeping id, status and scripts unless the document has some).
    Override,
}

/// What happened to one imported custom backend.
#[derive(Debug)]
pub enum LdImportAction {
    /// Created with this id.
    Created(String),
    /// Replaced the stored one with this id.
    Updated(String),
    /// Left the stored one with this id alone.
    Kept(String),
}

/// Integration applications, data sources and custom backends. Engines: [`crate::SqliteStore`].
#[async_trait]
pub trait LivedataStore: Send + Sync {
    /// Creates an integration application; its secret is stored sealed. Conflict: the name.
    async fn create_roma_app(&self, instance_id: &str, app: &RomaApp, secret: &str) -> Result<()>;
    /// An integration application.
    async fn roma_app(&self, instance_id: &str, id: &str) -> Result<RomaApp>;
    /// Integration applications of the instance, oldest first.
    async fn list_roma_apps(&self, instance_id: &str, name: Option<&TextMatch>, page: Page) -> Result<Paged<RomaApp>>;
    /// Replaces an integration application's name, remark and favourite flag. NotFound: the
    /// application. Conflict: the name.
    async fn update_roma_app(&self, instance_id: &str, app: &RomaApp) -> Result<()>;
    /// An integration application's secret, in clear.
    async fn roma_app_secret(&self, instance_id: &str, id: &str) -> Result<String>;
    /// Replaces an integration application's secret.
    async fn set_roma_app_secret(&self, instance_id: &str, id: &str, secret: &str) -> Result<()>;
    /// Deletes an integration application. Conflict: it owns data sources or custom backends.
    async fn delete_roma_app(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Creates a data source; the password is stored sealed. NotFound: its application.
    /// Conflict: the name.
    async fn create_data_source(&self, instance_id: &str, source: &DataSource, password: Option<&str>) -> Result<()>;
    /// A data source with its password in clear.
    async fn data_source(&self, instance_id: &str, id: &str) -> Result<(DataSource, Option<String>)>;
    /// Data sources of the instance, oldest first.
    async fn list_data_sources(
        &self,
        instance_id: &str,
        filter: &DataSourceFilter,
        page: Page,
    ) -> Result<Paged<DataSource>>;
    /// Deletes a data source. Conflict: scripts use it.
    async fn delete_data_source(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Creates a custom backend. NotFound: its application. Conflict: its name or (method,
    /// path) is taken in the application.
    async fn create_ld_api(&self, instance_id: &str, api: &LdApi) -> Result<()>;
    /// Replaces a custom backend's definition with `change(stored)`, with the checks of create.
    async fn update_ld_api(&self, instance_id: &str, id: &str, change: &LdApiUpdate<'_>) -> Result<LdApi>;
    /// A custom backend.
    async fn ld_api(&self, instance_id: &str, id: &str) -> Result<LdApi>;
    /// Custom backends of the instance, oldest first.
    async fn list_ld_apis(&self, instance_id: &str, filter: &LdApiFilter, page: Page) -> Result<Paged<LdApi>>;
    /// Custom backends matching `filter`, by path then method: what an export writes.
    async fn export_ld_apis(&self, instance_id: &str, filter: &LdApiFilter) -> Result<Vec<LdApi>>;
    /// Deletes a custom backend with its histories. Conflict: it is deployed.
    async fn delete_ld_api(&self, instance_id: &str, id: &str) -> Result<()>;
    /// Whether a custom backend of that name, or at that (method, path), exists in the
    /// application: the conflict it would cause.
    async fn ld_api_conflict(
        &self,
        instance_id: &str,
        app_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str)>,
    ) -> Result<Option<crate::Conflict>>;
    /// Sets a custom backend's scripts (each data source checked, its name and kind filled in),
    /// moving a pending backend to developing.
    async fn set_ld_scripts(
        &self,
        instance_id: &str,
        id: &str,
        api_type: &str,
        scripts: Vec<LdScript>,
        now: OffsetDateTime,
    ) -> Result<LdApi>;
    /// Deploys a custom backend (it must have scripts), creating and publishing `frontend` in
    /// the same transaction, and records the deployment.
    async fn deploy_ld_api(
        &self,
        instance_id: &str,
        id: &str,
        frontend: Option<FrontendApi>,
        now: OffsetDateTime,
    ) -> Result<LdDeployment>;
    /// Takes a deployed custom backend back to developing; the frontend API its last
    /// deployment published goes offline in that environment (the API itself stays).
    async fn undeploy_ld_api(&self, instance_id: &str, id: &str, now: OffsetDateTime) -> Result<()>;
    /// Deployments of a custom backend, newest first.
    async fn ld_deployments(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdDeployment>>;
    /// Records a test run, assigning its `test_id`.
    async fn record_ld_test(&self, instance_id: &str, run: &LdTestRun) -> Result<LdTestRun>;
    /// Test runs of a custom backend, newest first.
    async fn ld_tests(&self, instance_id: &str, id: &str, page: Page) -> Result<Paged<LdTestRun>>;
    /// Imports custom backends in one transaction: each is created, or, when its (method,
    /// path) exists in its application, kept or replaced by `mode`. A backend that fails
    /// (unknown application, name taken) is reported; the others are applied.
    async fn import_ld_apis(
        &self,
        instance_id: &str,
        apis: Vec<LdApi>,
        mode: LdImportMode,
    ) -> Result<Vec<std::result::Result<LdImportAction, crate::StoreError>>>;
}
