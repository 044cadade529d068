//! What the OpenAPI import and the asynchronous tasks ask of a store.

use portico_model::{ApiDefinition, ApiGroup, Domain, PolicySet};
use time::OffsetDateTime;

use crate::{Conflict, ExtendMode};

/// Where imported APIs go.
#[derive(Debug, Clone)]
pub enum ImportTarget {
    /// A group created by the import, named after the document.
    NewGroup(ApiGroup),
    /// An existing group; the document's own extension fields are merged into it.
    Existing {
        /// The group.
        group_id: String,
        /// Document-level `x-` fields.
        extensions: serde_json::Map<String, serde_json::Value>,
    },
}

/// A whole import, applied in one transaction.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// Where the APIs go.
    pub target: ImportTarget,
    /// Validated definitions, in document order, with `group_id` set to the target group.
    pub apis: Vec<ApiDefinition>,
    /// Throttling policies (with their specials), ACLs and gateway responses the document
    /// defines, created or reused by name before the APIs. A gateway response whose name the
    /// group has is kept or overwritten (by [`ExtendMode`]) under its id; a new one is created
    /// with the id it carries, which the imported APIs' `response_id` may already name. An `APP`
    /// special must name an app of the instance: otherwise the import fails with a
    /// `BadReference` whose field is `<policy name>.special[i].instance`.
    pub policies: PolicySet,
    /// Custom domains the document binds to the group, after the policies. A domain the group
    /// has already is kept or overwritten (by [`ExtendMode`]) with its certificate; one bound to
    /// another group fails the import (`Conflict::DomainTaken`), and so does a certificate that
    /// the project does not have or that may not serve the domain as it is set
    /// (`BadReference` whose field is the domain's [`ImportedDomain::field`] and the key).
    pub domains: Vec<ImportedDomain>,
    /// `extend_mode`: what happens to an existing policy or domain of the same name.
    pub extend_mode: ExtendMode,
    /// `api_mode=override`: an API that conflicts with an existing one replaces it; otherwise
    /// the existing one is kept and the imported one ignored.
    pub overwrite: bool,
    /// Work out and report everything, then roll back.
    pub dry_run: bool,
    /// Time of the import.
    pub now: OffsetDateTime,
}

/// A custom domain an import binds to its group.
#[derive(Debug, Clone)]
pub struct ImportedDomain {
    /// The domain, checked as `AssociateDomainV2` checks it, with its settings; the group and
    /// the certificate id are set by the import.
    pub domain: Domain,
    /// The name of the certificate of the project it is served with.
    pub certificate: Option<String>,
    /// Where the document defines it, for the errors that name it.
    pub field: String,
}

/// What became of one imported API.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportAction {
    /// A new API with this id.
    Created(String),
    /// The existing API with this id was overwritten.
    Updated(String),
    /// An existing API (this id) was kept, the imported one dropped.
    Ignored(String),
    /// The API could not be imported: it conflicts with another.
    Failed(Conflict),
    /// The API refers to an object that does not exist (as `StoreError::BadReference`).
    BadReference {
        /// The field holding the reference, e.g. `authorizer_id`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The outcome of an import: the group, and one action per requested API, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// The group the APIs went to.
    pub group_id: String,
    /// Per API, in the order of [`ImportRequest::apis`].
    pub actions: Vec<ImportAction>,
}

/// `export_api` or `import_api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskType {
    /// An asynchronous export.
    Export,
    /// An asynchronous import.
    Import,
}

impl TaskType {
    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::Export => "export_api",
            TaskType::Import => "import_api",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "export_api" => Some(TaskType::Export),
            "import_api" => Some(TaskType::Import),
            _ => None,
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Accepted, not started.
    Waiting,
    /// Running.
    Processing,
    /// Done; the result holds the outcome.
    Succeed,
    /// Failed; the result holds the error.
    Failed,
}

impl TaskStatus {
    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Waiting => "waiting",
            TaskStatus::Processing => "processing",
            TaskStatus::Succeed => "succeed",
            TaskStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "waiting" => Some(TaskStatus::Waiting),
            "processing" => Some(TaskStatus::Processing),
            "succeed" => Some(TaskStatus::Succeed),
            "failed" => Some(TaskStatus::Failed),
            _ => None,
        }
    }
}

/// An asynchronous export or import.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncTask {
    /// Task id.
    pub id: String,
    /// What it does.
    pub task_type: TaskType,
    /// Where it is.
    pub status: TaskStatus,
    /// The result (a JSON text) once finished.
    pub result: Option<String>,
    /// When it was accepted.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl AsyncTask {
    pub(crate) fn decode(
        id: String,
        task_type: &str,
        status: &str,
        result: Option<String>,
        times: (OffsetDateTime, OffsetDateTime),
    ) -> Option<AsyncTask> {
        Some(AsyncTask {
            id,
            task_type: TaskType::parse(task_type)?,
            status: TaskStatus::parse(status)?,
            result,
            created_at: times.0,
            updated_at: times.1,
        })
    }
}
