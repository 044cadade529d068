//! The DataArts DataService half of the store: catalogs and APIs of a workspace, their
//! publication to gateway instances, and Excel import jobs.
//!
//! Every method takes the [`Workspace`] (project and workspace id) and every query filters on
//! it, so data of one workspace is never reachable from another. Publishing writes the gateway
//! API and its publication through the same row writers as the APIG routes, in one transaction
//! with the DataService record: one system, not two.

use async_trait::async_trait;
use portico_model::{
    ApiDefinition, AuthorizationStatus, DsApi, DsApiDefinition, DsApiType, DsCatalog, DsPublication, Page, Paged,
    PublishStatus,
};
use time::OffsetDateTime;

use crate::Result;

/// The workspace a DataService request acts in (the `workspace` header within the project of
/// the path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// The project.
    pub project_id: String,
    /// The workspace id.
    pub workspace: String,
}

/// Filters of ListApis and of the export zip (`ApiParam`). Text filters match substrings.
#[derive(Debug, Clone, Default)]
pub struct DsApiFilter {
    /// Name contains.
    pub name: Option<String>,
    /// Description contains.
    pub description: Option<String>,
    /// Creator contains.
    pub create_user: Option<String>,
    /// Table name contains.
    pub table_name: Option<String>,
    /// APIs carrying every one of these tags.
    pub tags: Vec<String>,
    /// Kind.
    pub api_type: Option<DsApiType>,
    /// Publish status.
    pub publish_status: Option<PublishStatus>,
    /// Authorization status.
    pub authorization_status: Option<AuthorizationStatus>,
    /// Created at or after, epoch milliseconds.
    pub start_time: Option<i64>,
    /// Created at or before, epoch milliseconds.
    pub end_time: Option<i64>,
    /// Directly in this catalog.
    pub catalog_id: Option<String>,
}

/// One API of an Excel import: its definition, with `catalog_id` to be resolved from the path
/// of catalog names it was exported under (created when missing).
#[derive(Debug, Clone)]
pub struct DsImportItem {
    /// Catalog names from the root down; empty for the root.
    pub catalog_path: Vec<String>,
    /// The definition (its `catalog_id` is replaced).
    pub definition: DsApiDefinition,
}

/// An Excel import job and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct DsJob {
    /// Id.
    pub id: String,
    /// `SUCCESS` or `FAILED`.
    pub status: String,
    /// The report, JSON text.
    pub result: String,
    /// When it ran.
    pub created_at: OffsetDateTime,
}

/// DataService catalogs and APIs. Engines: [`crate::SqliteStore`].
#[async_trait]
pub trait DataServiceStore: Send + Sync {
    /// Creates a catalog. NotFound: its parent. Conflict: a sibling has the name.
    async fn ds_create_catalog(&self, ws: &Workspace, catalog: &DsCatalog) -> Result<()>;
    /// Renames a catalog / changes its description. Conflict: a sibling has the name.
    async fn ds_update_catalog(&self, ws: &Workspace, catalog: &DsCatalog) -> Result<()>;
    /// Every catalog of the workspace, in creation order (a workspace has few; paths are
    /// worked out from them).
    async fn ds_catalogs(&self, ws: &Workspace) -> Result<Vec<DsCatalog>>;
    /// The child catalogs of `pid`.
    async fn ds_child_catalogs(&self, ws: &Workspace, pid: &str, page: Page) -> Result<Paged<DsCatalog>>;
    /// How many catalogs and APIs are directly in a catalog.
    async fn ds_catalog_counts(&self, ws: &Workspace, id: &str) -> Result<(u64, u64)>;
    /// Deletes catalogs in one transaction. NotFound: one of them. Conflict: one still holds
    /// catalogs or APIs.
    async fn ds_delete_catalogs(&self, ws: &Workspace, ids: &[String]) -> Result<()>;

    /// Creates an API. NotFound: its catalog. Conflict: the name is taken in the workspace.
    async fn ds_create_api(&self, ws: &Workspace, api: &DsApi) -> Result<()>;
    /// Replaces an API's definition (and its authorization status), same checks as create.
    async fn ds_update_api(&self, ws: &Workspace, api: &DsApi) -> Result<()>;
    /// An API with its publications.
    async fn ds_api(&self, ws: &Workspace, id: &str) -> Result<DsApi>;
    /// APIs matching `filter`, in creation order, with their publications.
    async fn ds_list_apis(&self, ws: &Workspace, filter: &DsApiFilter, page: Page) -> Result<Paged<DsApi>>;
    /// APIs by id, in the order given. NotFound: one of them.
    async fn ds_apis_by_id(&self, ws: &Workspace, ids: &[String]) -> Result<Vec<DsApi>>;
    /// Deletes APIs in one transaction. NotFound: one of them. Conflict: one is published.
    async fn ds_delete_apis(&self, ws: &Workspace, ids: &[String]) -> Result<()>;

    /// Publishes an API to a gateway instance in one transaction: `gateway` (its group set)
    /// becomes a new APIG API in the instance, or replaces the one an earlier publish made,
    /// with the same checks as `Store::create_api`, and is published in RELEASE.
    async fn ds_publish(
        &self,
        ws: &Workspace,
        api_id: &str,
        instance_id: &str,
        gateway: ApiDefinition,
        now: OffsetDateTime,
    ) -> Result<DsPublication>;
    /// Takes an API off a gateway instance: its gateway API goes offline in RELEASE (and
    /// stays, as a draft). NotFound: it is not published there.
    async fn ds_unpublish(&self, ws: &Workspace, api_id: &str, instance_id: &str) -> Result<()>;
    /// Records that apps were authorized to call the API.
    async fn ds_authorize(&self, ws: &Workspace, api_id: &str) -> Result<()>;

    /// Imports APIs in one transaction, creating the catalogs on their paths; returns the new
    /// ids. Conflict: a name is taken (nothing is imported).
    async fn ds_import(
        &self,
        ws: &Workspace,
        items: &[DsImportItem],
        create_user: &str,
        now_ms: i64,
    ) -> Result<Vec<String>>;
    /// Records a finished import job.
    async fn ds_create_job(&self, ws: &Workspace, job: &DsJob) -> Result<()>;
    /// A job of the workspace.
    async fn ds_job(&self, ws: &Workspace, id: &str) -> Result<DsJob>;
}
