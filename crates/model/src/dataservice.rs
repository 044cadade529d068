//! DataArts Studio DataService: the API catalog of a workspace (`/v1/{project_id}/service/…`).
//!
//! A DataService API ([`DsApiDefinition`], the SDK's `Api` body) describes how data is fetched
//! (from a table by configuration, by SQL script, MyBatis or Groovy, or from a registered HTTP
//! backend) and how it is called. Publishing one to a gateway instance turns it into an APIG
//! [`ApiDefinition`] ([`DsApiDefinition::gateway_definition`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{ApiDefinition, FieldError, rules};

/// The `Dlm-Type` header: which DataService edition a request speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlmType {
    /// The shared edition (the default).
    Shared,
    /// The exclusive edition.
    Exclusive,
}

impl DlmType {
    /// Parses the header; no header means [`DlmType::Shared`].
    pub fn parse(header: Option<&str>) -> Result<DlmType, FieldError> {
        match header {
            None | Some("SHARED") => Ok(DlmType::Shared),
            Some("EXCLUSIVE") => Ok(DlmType::Exclusive),
            Some(_) => Err(FieldError::invalid("Dlm-Type")),
        }
    }
}

/// The id of the root catalog, which every workspace has without creating it.
pub const ROOT_CATALOG_ID: &str = "0";

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $(#[doc = concat!("`", $wire, "` on the wire.")] #[serde(rename = $wire)] $variant),+ }
        impl $name {
            /// The wire spelling.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $wire),+ } }
            /// Parses the wire spelling.
            pub fn parse(s: &str) -> Option<Self> { match s { $($wire => Some($name::$variant),)+ _ => None } }
        }
    };
}

wire_enum!(
    /// How an API obtains its data (`api_type`, `api_specific_type_str`).
    DsApiType {
        Configuration = "API_SPECIFIC_TYPE_CONFIGURATION",
        Script = "API_SPECIFIC_TYPE_SCRIPT",
        MyBatis = "API_SPECIFIC_TYPE_MYBATIS",
        Groovy = "API_SPECIFIC_TYPE_GROOVY",
        Registered = "API_SPECIFIC_TYPE_REGISTER",
    }
);

wire_enum!(
    /// Whether an API is live on some gateway instance (`publish_status_type`).
    PublishStatus { Published = "PUBLISHED", NotPublished = "NOT_PUBLISHED" }
);

wire_enum!(
    /// Whether callers need an authorization (`authorization_status_type`): APP-authenticated
    /// APIs need one per app, the others none.
    AuthorizationStatus {
        NotRequired = "NO_AUTHORIZATION_REQUIRED",
        Unauthorized = "UNAUTHORIZED",
        Authorized = "AUTHORIZED",
    }
);

/// A request parameter (`RequestPara`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsRequestPara {
    /// Name.
    pub name: String,
    /// `REQUEST_PARAMETER_POSITION_PATH` | `_QUERY` | `_HEADER` | `_BODY`.
    pub position: String,
    /// `REQUEST_TYPE_STRING` | `REQUEST_TYPE_NUMBER` | …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub para_type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub necessary: Option<bool>,
    /// Example value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_value: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Whether null is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_null: Option<bool>,
}

/// Where a configuration or script API reads its data (`DatasourceConfig`). Parameter lists
/// are kept as the client sent them (`backend_paras`, `response_paras`, `order_paras`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DsDatasourceConfig {
    /// Data source kind (`DLI`, `DWS`, `MYSQL`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// Connection name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_name: Option<String>,
    /// Connection id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Table (what the `table_name` filters match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatable: Option<String>,
    /// Table id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    /// DLI queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Access type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_type: Option<String>,
    /// Access mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<String>,
    /// Pagination mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<String>,
    /// The SQL of script and MyBatis APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// `{name, mapping, condition}`: request parameters bound to columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_paras: Vec<Value>,
    /// `{name, field, type, description, example_value}`: the response's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_paras: Vec<Value>,
    /// `{name, field, optional, sort, order, description}`: sorting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_paras: Vec<Value>,
    /// SQL counting the rows of a script API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size_sql: Option<String>,
}

/// The HTTP backend of a registered API (`BackendConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DsBackendConfig {
    /// `REQUEST_TYPE_GET` | `REQUEST_TYPE_POST` | …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
    /// `PROTOCOL_TYPE_HTTP` | `PROTOCOL_TYPE_HTTPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `host[:port]` of the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Timeout in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Backend path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `{name, position, backend_para_name}`: request parameters passed on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_paras: Vec<Value>,
    /// `{name, type, position, description, value}`: constants sent to the backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constant_paras: Vec<Value>,
}

/// The body of CreateApi / UpdateApi (the SDK's `Api`), validated, and the stored form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsApiDefinition {
    /// The catalog holding the API ([`ROOT_CATALOG_ID`] for the root).
    pub catalog_id: String,
    /// Name, unique in the workspace.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Access log on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_flag: Option<bool>,
    /// How data is obtained.
    pub api_type: DsApiType,
    /// `APP` | `IAM` | `NONE`.
    pub auth_type: String,
    /// Retention period in hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_period: Option<i64>,
    /// Reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// Request path; may hold `{params}`.
    pub path: String,
    /// `PROTOCOL_TYPE_HTTP` | `PROTOCOL_TYPE_HTTPS`.
    pub protocol: String,
    /// `REQUEST_TYPE_GET` | `REQUEST_TYPE_POST` | `REQUEST_TYPE_PUT` | `REQUEST_TYPE_DELETE`.
    pub request_type: String,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `WORKSPACE` | `PROJECT` | `DOMAIN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// `PUBLIC` | `PRIVATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_type: Option<String>,
    /// Data masking on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_mask_switch: Option<bool>,
    /// `{column_name, algorithm_name, algorithm_type, en_name, algorithm_parameters, failure_policy}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_mask_paras: Vec<Value>,
    /// Request body of a registered API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Data sources of a Groovy API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasource_config_list: Vec<DsDatasourceConfig>,
    /// The Groovy script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groovy_content: Option<String>,
    /// Request parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_paras: Vec<DsRequestPara>,
    /// Data source of configuration, script and MyBatis APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_config: Option<DsDatasourceConfig>,
    /// Backend of registered APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_config: Option<DsBackendConfig>,
}

const PROTOCOLS: &[&str] = &["PROTOCOL_TYPE_HTTP", "PROTOCOL_TYPE_HTTPS"];
const METHODS: &[&str] = &["REQUEST_TYPE_GET", "REQUEST_TYPE_POST", "REQUEST_TYPE_PUT", "REQUEST_TYPE_DELETE"];
const AUTH_TYPES: &[&str] = &["APP", "IAM", "NONE"];
const VISIBILITIES: &[&str] = &["WORKSPACE", "PROJECT", "DOMAIN"];
const PUBLISH_TYPES: &[&str] = &["PUBLIC", "PRIVATE"];
const POSITIONS: &[&str] = &[
    "REQUEST_PARAMETER_POSITION_PATH",
    "REQUEST_PARAMETER_POSITION_QUERY",
    "REQUEST_PARAMETER_POSITION_HEADER",
    "REQUEST_PARAMETER_POSITION_BODY",
];
/// What Portico cannot default. The API reference marks every field optional, but an API without
/// a name, a path or a method cannot be served, and APIG documents no default for them; the
/// catalog has one (the root), see [`DsApiDefinition::from_json_in`].
const REQUIRED: &[&str] = &["name", "api_type", "auth_type", "path", "protocol", "request_type"];

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), FieldError> {
    if allowed.contains(&value) { Ok(()) } else { Err(FieldError::invalid(field)) }
}

fn present(field: &str, value: Option<&String>) -> Result<(), FieldError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(()),
        _ => Err(FieldError::Missing(field.into())),
    }
}

impl DsApiDefinition {
    /// Parses and validates a CreateApi body; without `catalog_id` the API goes to the root
    /// catalog, as in DataArts.
    pub fn from_json(body: &[u8]) -> Result<DsApiDefinition, FieldError> {
        Self::from_json_in(body, ROOT_CATALOG_ID)
    }

    /// Parses and validates a CreateApi / UpdateApi body whose API goes to `default_catalog`
    /// unless the body names a catalog (absent, `null` and `""` name none): UpdateApi passes the
    /// API's own, so an update that leaves the catalog out does not move the API.
    pub fn from_json_in(body: &[u8], default_catalog: &str) -> Result<DsApiDefinition, FieldError> {
        let mut value = crate::error::parse_json(body)?;
        if let Some(object) = value.as_object_mut()
            && object.get("catalog_id").is_none_or(|c| c.is_null() || c == "")
        {
            object.insert("catalog_id".into(), default_catalog.into());
        }
        Self::from_value(value)
    }

    /// Validates a value already in wire form (an imported workbook row).
    pub fn from_value(value: Value) -> Result<DsApiDefinition, FieldError> {
        crate::parse_body(&serde_json::to_vec(&value).map_err(|e| FieldError::MalformedJson(e.to_string()))?, REQUIRED)
            .and_then(|d: DsApiDefinition| d.validate().map(|()| d))
    }

    fn validate(&self) -> Result<(), FieldError> {
        if !rules::is_display_name(&self.name) || self.name.chars().count() > 64 {
            return Err(FieldError::invalid("name"));
        }
        if self.description.as_ref().is_some_and(|d| d.chars().count() > 255) {
            return Err(FieldError::invalid("description"));
        }
        if !self.path.starts_with('/') || self.path.len() > 1024 || self.path.contains(char::is_whitespace) {
            return Err(FieldError::invalid("path"));
        }
        one_of("protocol", &self.protocol, PROTOCOLS)?;
        one_of("request_type", &self.request_type, METHODS)?;
        one_of("auth_type", &self.auth_type, AUTH_TYPES)?;
        if let Some(v) = &self.visibility {
            one_of("visibility", v, VISIBILITIES)?;
        }
        if let Some(p) = &self.publish_type {
            one_of("publish_type", p, PUBLISH_TYPES)?;
        }
        if self.retention_period.is_some_and(|h| h < 0) {
            return Err(FieldError::invalid("retention_period"));
        }
        if self.tags.iter().any(|t| t.is_empty() || t.chars().count() > 64 || t.contains(',')) {
            return Err(FieldError::invalid("tags"));
        }
        for (i, para) in self.request_paras.iter().enumerate() {
            if para.name.is_empty() {
                return Err(FieldError::Missing(format!("request_paras[{i}].name")));
            }
            one_of(&format!("request_paras[{i}].position"), &para.position, POSITIONS)?;
        }
        let datasource = self.datasource_config.as_ref();
        match self.api_type {
            DsApiType::Configuration => {
                let config = datasource.ok_or_else(|| FieldError::Missing("datasource_config".into()))?;
                present("datasource_config.type", config.source_type.as_ref())?;
                present("datasource_config.datatable", config.datatable.as_ref())?;
            }
            DsApiType::Script | DsApiType::MyBatis => {
                let config = datasource.ok_or_else(|| FieldError::Missing("datasource_config".into()))?;
                present("datasource_config.type", config.source_type.as_ref())?;
                present("datasource_config.sql", config.sql.as_ref())?;
            }
            DsApiType::Groovy => present("groovy_content", self.groovy_content.as_ref())?,
            DsApiType::Registered => {
                let backend =
                    self.backend_config.as_ref().ok_or_else(|| FieldError::Missing("backend_config".into()))?;
                present("backend_config.host", backend.host.as_ref())?;
                present("backend_config.path", backend.path.as_ref())?;
                if let Some(p) = &backend.protocol {
                    one_of("backend_config.protocol", p, PROTOCOLS)?;
                }
                if let Some(m) = &backend.request_type {
                    one_of("backend_config.type", m, METHODS)?;
                }
                if backend.timeout.is_some_and(|t| !(1..=600_000).contains(&t)) {
                    return Err(FieldError::invalid("backend_config.timeout"));
                }
            }
        }
        Ok(())
    }

    /// The table the API reads (what `table_name` filters match).
    pub fn table_name(&self) -> Option<&str> {
        self.datasource_config.as_ref().and_then(|c| c.datatable.as_deref())
    }

    /// What callers need before they may call it once published.
    pub fn initial_authorization(&self) -> AuthorizationStatus {
        if self.auth_type == "APP" { AuthorizationStatus::Unauthorized } else { AuthorizationStatus::NotRequired }
    }

    /// The APIG API that serves this one in `group_id` of a gateway instance: same path,
    /// method, protocol, authentication and request parameters. A registered API proxies to its
    /// HTTP backend; a data API (configuration, script, MyBatis, Groovy) answers with a mock of
    /// its response, built from its response parameters' example values, because Portico does
    /// not run queries against DataArts data sources.
    pub fn gateway_definition(&self, group_id: &str) -> Result<ApiDefinition, FieldError> {
        let method = self.request_type.trim_start_matches("REQUEST_TYPE_");
        let protocol = self.protocol.trim_start_matches("PROTOCOL_TYPE_");
        let req_params: Vec<Value> = self
            .request_paras
            .iter()
            .map(|p| {
                let location = p.position.trim_start_matches("REQUEST_PARAMETER_POSITION_");
                let number = p.para_type.as_deref().is_some_and(|t| t.ends_with("NUMBER"));
                let mut param = json!({
                    "name": p.name,
                    "type": if number { "NUMBER" } else { "STRING" },
                    "location": if location == "BODY" { "QUERY" } else { location },
                    "required": if p.necessary == Some(true) || location == "PATH" { 1 } else { 2 },
                });
                if let Some(d) = &p.default_value {
                    param["default_value"] = json!(d);
                }
                if let Some(d) = &p.description {
                    param["remark"] = json!(d);
                }
                param
            })
            .collect();
        let mut definition = json!({
            "name": self.name,
            "type": if self.publish_type.as_deref() == Some("PRIVATE") { 2 } else { 1 },
            "req_protocol": protocol,
            "req_method": method,
            "req_uri": self.path,
            "auth_type": self.auth_type,
            "group_id": group_id,
            "req_params": req_params,
            "tags": self.tags,
        });
        if let Some(d) = &self.description {
            definition["remark"] = json!(d);
        }
        match (&self.api_type, &self.backend_config) {
            (DsApiType::Registered, Some(backend)) => {
                definition["backend_type"] = json!("HTTP");
                definition["backend_api"] = json!({
                    "url_domain": backend.host,
                    "req_protocol": backend.protocol.as_deref().unwrap_or("PROTOCOL_TYPE_HTTP").trim_start_matches("PROTOCOL_TYPE_"),
                    "req_method": backend.request_type.as_deref().unwrap_or(&self.request_type).trim_start_matches("REQUEST_TYPE_"),
                    "req_uri": backend.path,
                    "timeout": backend.timeout.unwrap_or(5000),
                });
            }
            _ => {
                let sample: serde_json::Map<String, Value> = self
                    .datasource_config
                    .iter()
                    .flat_map(|c| &c.response_paras)
                    .filter_map(|p| {
                        let name = p.get("name")?.as_str()?;
                        Some((name.to_owned(), p.get("example_value").cloned().unwrap_or(Value::Null)))
                    })
                    .collect();
                let body = json!({ "total": 1, "rows": [sample] });
                definition["backend_type"] = json!("MOCK");
                definition["mock_info"] = json!({ "result_content": body.to_string() });
            }
        }
        ApiDefinition::from_value(definition)
    }
}

/// A catalog of a workspace's APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsCatalog {
    /// Id.
    pub id: String,
    /// Parent catalog ([`ROOT_CATALOG_ID`] at the top).
    pub pid: String,
    /// Name, unique among its siblings.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Creator.
    pub create_user: String,
    /// Creation time, epoch milliseconds.
    pub create_time: i64,
    /// Last change, epoch milliseconds.
    pub update_time: i64,
    /// Last changed by.
    pub update_user: String,
}

impl DsCatalog {
    /// Checks a catalog's name and description.
    pub fn validate(name: &str, description: Option<&str>) -> Result<(), FieldError> {
        if name.is_empty() {
            return Err(FieldError::Missing("name".into()));
        }
        if !rules::is_display_name(name) || name.chars().count() > 64 || name.contains('/') {
            return Err(FieldError::invalid("name"));
        }
        if description.is_some_and(|d| d.chars().count() > 255) {
            return Err(FieldError::invalid("description"));
        }
        Ok(())
    }
}

/// Where a DataService API is live: one gateway instance and the APIG API serving it there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsPublication {
    /// Publish record id.
    pub id: String,
    /// The gateway instance.
    pub instance_id: String,
    /// The instance's name.
    pub instance_name: String,
    /// The group the gateway API lives in.
    pub group_id: String,
    /// The gateway API.
    pub gateway_api_id: String,
}

/// A DataService API with what the server keeps beside its definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DsApi {
    /// Id.
    pub id: String,
    /// The definition.
    #[serde(flatten)]
    pub definition: DsApiDefinition,
    /// Creator (the caller's user name).
    pub create_user: String,
    /// Creation time, epoch milliseconds.
    pub create_time: i64,
    /// Last change, epoch milliseconds.
    pub update_time: i64,
    /// Published somewhere or not.
    pub publish_status: PublishStatus,
    /// Authorization state.
    pub authorization_status: AuthorizationStatus,
    /// Where it is live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<DsPublication>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(api_type: &str) -> Value {
        json!({
            "catalog_id": "0", "name": "orders_by_day", "api_type": api_type, "auth_type": "NONE",
            "path": "/orders/{day}", "protocol": "PROTOCOL_TYPE_HTTP", "request_type": "REQUEST_TYPE_GET",
            "request_paras": [{ "name": "day", "position": "REQUEST_PARAMETER_POSITION_PATH", "type": "REQUEST_TYPE_STRING" }],
            "datasource_config": { "type": "DWS", "datatable": "orders", "sql": "select 1",
                "response_paras": [{ "name": "n", "field": "n", "type": "NUMBER", "example_value": "3" }] },
            "backend_config": { "host": "127.0.0.1:9", "path": "/b" },
            "groovy_content": "return 1"
        })
    }

    #[test]
    fn every_kind_validates_and_maps_to_a_gateway_api() {
        for kind in ["CONFIGURATION", "SCRIPT", "MYBATIS", "GROOVY", "REGISTER"] {
            let d = DsApiDefinition::from_value(body(&format!("API_SPECIFIC_TYPE_{kind}"))).expect(kind);
            let gateway = d.gateway_definition("g").expect(kind);
            assert_eq!(gateway.req_uri, "/orders/{day}");
            assert_eq!(gateway.backend_type.as_str(), if kind == "REGISTER" { "HTTP" } else { "MOCK" });
        }
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut b = body("API_SPECIFIC_TYPE_SCRIPT");
        b["datasource_config"]["sql"] = json!("");
        assert_eq!(DsApiDefinition::from_value(b).unwrap_err(), FieldError::Missing("datasource_config.sql".into()));
        let mut b = body("API_SPECIFIC_TYPE_SCRIPT");
        b["protocol"] = json!("FTP");
        assert_eq!(DsApiDefinition::from_value(b).unwrap_err(), FieldError::invalid("protocol"));
        let mut b = body("API_SPECIFIC_TYPE_SCRIPT");
        b.as_object_mut().unwrap().remove("path");
        assert_eq!(DsApiDefinition::from_value(b).unwrap_err(), FieldError::Missing("path".into()));
        assert_eq!(DlmType::parse(Some("OTHER")).unwrap_err(), FieldError::invalid("Dlm-Type"));
    }

    #[test]
    fn without_a_catalog_an_api_goes_to_the_default_one() {
        let mut b = body("API_SPECIFIC_TYPE_SCRIPT");
        b.as_object_mut().unwrap().remove("catalog_id");
        let bytes = serde_json::to_vec(&b).unwrap();
        assert_eq!(DsApiDefinition::from_json(&bytes).unwrap().catalog_id, ROOT_CATALOG_ID);
        assert_eq!(DsApiDefinition::from_json_in(&bytes, "c1").unwrap().catalog_id, "c1");
        b["catalog_id"] = json!(null);
        assert_eq!(DsApiDefinition::from_json_in(&serde_json::to_vec(&b).unwrap(), "c1").unwrap().catalog_id, "c1");
        b["catalog_id"] = json!("c2");
        assert_eq!(DsApiDefinition::from_json_in(&serde_json::to_vec(&b).unwrap(), "c1").unwrap().catalog_id, "c2");
    }
}
