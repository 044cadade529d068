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
    /// An app.
    App,
    /// An AppCode.
    AppCode,
    /// An authorization of an app to an API.
    AppAuth,
    /// A request throttling policy.
    Throttle,
    /// A special throttle of a policy.
    ThrottleSpecial,
    /// An ACL policy.
    Acl,
    /// A binding of a policy to a publish record.
    Binding,
    /// A custom authorizer.
    Authorizer,
    /// A VPC channel.
    VpcChannel,
    /// A member of a VPC channel.
    VpcMember,
    /// A signature key.
    Signature,
    /// A gateway response of a group.
    GatewayResponse,
    /// A DataService API.
    DsApi,
    /// A DataService catalog.
    DsCatalog,
    /// A DataService API's publication to a gateway instance.
    DsPublication,
    /// A DataService import job.
    DsJob,
    /// A ROMA Connect integration application.
    RomaApp,
    /// A data source.
    DataSource,
    /// A custom backend (livedata API).
    LdApi,
    /// A domain bound to a group.
    Domain,
    /// An SSL certificate.
    Certificate,
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
            Kind::App => "App",
            Kind::AppCode => "AppCode",
            Kind::AppAuth => "App authorization",
            Kind::Throttle => "Request throttling policy",
            Kind::ThrottleSpecial => "Special throttle",
            Kind::Acl => "ACL policy",
            Kind::Binding => "Policy binding",
            Kind::Authorizer => "Custom authorizer",
            Kind::VpcChannel => "VPC channel",
            Kind::VpcMember => "VPC channel member",
            Kind::Signature => "Signature key",
            Kind::GatewayResponse => "Gateway response",
            Kind::DsApi => "DataService API",
            Kind::DsCatalog => "DataService catalog",
            Kind::DsPublication => "DataService publication",
            Kind::DsJob => "DataService job",
            Kind::RomaApp => "Integration application",
            Kind::DataSource => "Data source",
            Kind::LdApi => "Custom backend",
            Kind::Domain => "Domain",
            Kind::Certificate => "SSL certificate",
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
    /// An app of that name exists in the instance.
    #[error("App name {0} already exists")]
    AppName(String),
    /// An app with that key exists.
    #[error("App key {0} already exists")]
    AppKey(String),
    /// That AppCode exists.
    #[error("The AppCode already exists")]
    AppCode,
    /// The app is already authorized for the API in the environment.
    #[error("App {0} is already authorized for API {1} in this environment")]
    AppAuthorized(String, String),
    /// A throttling policy of that name exists in the instance.
    #[error("Request throttling policy name {0} already exists")]
    ThrottleName(String),
    /// The policy already has a special throttle for that object.
    #[error("A special throttle for {0} already exists in this policy")]
    SpecialExists(String),
    /// An ACL policy of that name exists in the instance.
    #[error("ACL policy name {0} already exists")]
    AclName(String),
    /// The publish record already has a policy of that kind.
    #[error("The API {1} is already bound to a {0} in this environment")]
    AlreadyBound(&'static str, String),
    /// The policy is bound to publish records; unbind it first.
    #[error("The {0} {1} is bound to APIs; unbind it first")]
    PolicyBound(&'static str, String),
    /// A custom authorizer of that name exists in the instance.
    #[error("Custom authorizer name {0} already exists")]
    AuthorizerName(String),
    /// APIs refer to the object; change them first.
    #[error("The {0} {1} is used by APIs (e.g. {2}); change them first")]
    InUse(&'static str, String, String),
    /// A VPC channel of that name exists in the instance.
    #[error("VPC channel name {0} already exists")]
    VpcChannelName(String),
    /// A signature key of that name exists in the instance.
    #[error("Signature key name {0} already exists")]
    SignatureName(String),
    /// A gateway response of that name exists in the group.
    #[error("Gateway response name {0} already exists in the group")]
    GatewayResponseName(String),
    /// A DataService API of that name exists in the workspace.
    #[error("DataService API name {0} already exists in the workspace")]
    DsApiName(String),
    /// A DataService catalog of that name exists beside it.
    #[error("Catalog name {0} already exists in the parent catalog")]
    DsCatalogName(String),
    /// The catalog still holds catalogs or APIs.
    #[error("Catalog {0} still holds catalogs or APIs; move or delete them first")]
    DsCatalogNotEmpty(String),
    /// The DataService API is published.
    #[error("DataService API {0} is published; unpublish it first")]
    DsApiPublished(String),
    /// An integration application of that name exists in the instance.
    #[error("Integration application name {0} already exists")]
    RomaAppName(String),
    /// A data source of that name exists in the instance.
    #[error("Data source name {0} already exists")]
    DataSourceName(String),
    /// A custom backend of that name exists in the integration application.
    #[error("Custom backend name {0} already exists in the integration application")]
    LdApiName(String),
    /// A custom backend with that method and path exists in the integration application.
    #[error("A custom backend with the same method and path already exists in the integration application: {0}")]
    LdApiRoute(String),
    /// The custom backend is deployed; undeploy it first.
    #[error("Custom backend {0} is deployed; undeploy it first")]
    LdApiDeployed(String),
    /// The custom backend cannot be deployed or undeployed in its status.
    #[error("Custom backend {0} {1}")]
    LdApiStatus(String, &'static str),
    /// The user is the last who may write; deleting it would leave nobody to manage the gateway.
    #[error("User {0} is the last user who is not read-only; add another first")]
    LastWriter(String),
    /// A custom authorizer's type cannot change.
    #[error("The type of custom authorizer {0} cannot be changed")]
    AuthorizerType(String),
    /// The domain is bound to a group already (of any instance).
    #[error("The domain {0} is already bound to an API group")]
    DomainTaken(String),
    /// A certificate of that name exists in the project.
    #[error("Certificate name {0} already exists")]
    CertificateName(String),
    /// The certificate serves a domain.
    #[error("Certificate {0} is bound to the domain {1}; unbind it first")]
    CertificateBound(String, String),
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
    /// An API refers to an object that does not exist, or is of the wrong kind.
    #[error("{message}, parameterName:{field}")]
    BadReference {
        /// The field holding the reference, e.g. `backend_api.authorizer_id`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A change is invalid given what is stored (e.g. a member naming a member group the
    /// channel does not have).
    #[error(transparent)]
    Field(#[from] portico_model::FieldError),
    /// The secrets key file cannot be used, or a sealed secret does not open.
    #[error("secrets: {0}")]
    Secrets(String),
    /// A stored document could not be read back.
    #[error("corrupt stored document: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl StoreError {
    pub(crate) fn not_found(kind: Kind, id: &str) -> Self {
        StoreError::NotFound { kind, id: id.to_string() }
    }
}

impl StoreError {
    /// Whether the database could not be reached or did not answer in time (it is down,
    /// restarting, refusing connections, or a timeout ran out), rather than refusing what was
    /// asked: the operation may succeed when retried later.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(error) = self else { return false };
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception); 53300 too many connections; 57014 a
            // statement cancelled by `statement_timeout`; 57P01–57P03 the server shutting down,
            // crashed or starting.
            sqlx::Error::Database(e) => e.code().is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "53300" | "57014" | "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}
