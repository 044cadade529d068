use std::fmt;

/// The kinds of stored objects, for "does not exist" errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A project.
    Project,
    /// A user.
    User,
    /// An AK/SK pair.
    Credential,
    /// A gateway instance.
    Instance,
    /// An API group.
    Group,
    /// An environment.
    Environment,
    /// An environment variable.
    Variable,
    /// An API.
    Api,
    /// A published version.
    Version,
    /// A publication of an API in an environment.
    Publication,
    /// An asynchronous export or import.
    Task,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Project => "Project",
            Kind::User => "User",
            Kind::Credential => "Credential",
            Kind::Instance => "Instance",
            Kind::Group => "API group",
            Kind::Environment => "Environment",
            Kind::Variable => "Environment variable",
            Kind::Api => "API",
            Kind::Version => "API version",
            Kind::Publication => "Publication",
            Kind::Task => "Async task",
        })
    }
}

/// Why a write was refused because of what is already stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// A project of that name exists.
    #[error("Project name {0} already exists")]
    ProjectName(String),
    /// A user of that name exists.
    #[error("User name {0} already exists")]
    UserName(String),
    /// A group of that name exists in the instance.
    #[error("API group name {0} already exists")]
    GroupName(String),
    /// An environment of that name exists in the instance.
    #[error("Environment name {0} already exists")]
    EnvName(String),
    /// A variable of that name exists for the group and environment.
    #[error("Environment variable {0} already exists")]
    VariableName(String),
    /// An API of that name exists in the group.
    #[error("API name {0} already exists in the group")]
    ApiName(String),
    /// An API with the same method, path and match mode exists in the group.
    #[error("An API with the same method, path and match mode already exists in the group: {0}")]
    ApiRoute(String),
    /// The group still has APIs.
    #[error("API group {0} still has APIs; delete them first")]
    GroupHasApis(String),
    /// The instance still has groups.
    #[error("Instance {0} still has API groups; delete them first")]
    InstanceHasGroups(String),
    /// APIs are published in the environment.
    #[error("APIs are published in environment {0}; take them offline first")]
    EnvHasPublishedApis(String),
    /// The built-in RELEASE environment cannot be changed or deleted.
    #[error("The built-in RELEASE environment cannot be modified or deleted")]
    BuiltInEnv,
    /// The version belongs to another API.
    #[error("Version {0} does not belong to this API")]
    ForeignVersion(String),
}

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist (in this instance or project).
    #[error("{kind} {id} does not exist")]
    NotFound {
        /// What was looked for.
        kind: Kind,
        /// Its id (or name).
        id: String,
    },
    /// What is stored forbids the write.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The database failed; the operation did nothing.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored document could not be read back.
    #[error("corrupt stored document: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl StoreError {
    pub(crate) fn not_found(kind: Kind, id: &str) -> Self {
        StoreError::NotFound { kind, id: id.to_string() }
    }
}
