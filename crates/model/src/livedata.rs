//! ROMA Connect's integration applications, data sources and custom backends ("livedata APIs"):
//! a custom backend is a named endpoint of an integration application whose scripts (SQL or a
//! stored procedure, base64 on the wire) run against a data source.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::FieldError;
use crate::error::{from_value, parse_body, parse_json};
use crate::group::{optional_str, required_str};
use crate::rules::{is_cjk, is_identifier};

/// An integration application (`ServerAppInfo`): the owner of data sources and custom backends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RomaApp {
    /// App id.
    pub id: String,
    /// Name, unique in the instance.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// The app's key (generated when absent).
    pub key: String,
    /// Marked as a favourite.
    #[serde(default)]
    pub favorite: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

/// Body of `CreateRomaApp` / `UpdateRomaApp` (`CreateAppReq`).
#[derive(Debug, Clone, PartialEq)]
pub struct RomaAppInput {
    /// 2–64 CJK, letters, digits and `_`, starting with a letter or CJK.
    pub name: String,
    /// Up to 200 characters.
    pub remark: Option<String>,
    /// 8–64 letters, digits, `_` and `-`; generated when absent.
    pub key: Option<String>,
    /// 8–64 characters; generated when absent.
    pub secret: Option<String>,
    /// Favourite flag.
    pub favorite: bool,
}

impl RomaAppInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<RomaAppInput, FieldError> {
        let doc = parse_json(body)?;
        let name = required_str(&doc, "name")?;
        let name_ok = (2..=64).contains(&name.chars().count())
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || is_cjk(c))
            && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || c == '_');
        if !name_ok {
            return Err(FieldError::invalid("name"));
        }
        let key = optional_str(&doc, "key", 64)?.filter(|k| !k.is_empty());
        if key.as_deref().is_some_and(|k| !is_identifier(k, "_-", 8, 64)) {
            return Err(FieldError::invalid("key"));
        }
        let secret = roma_app_secret(&doc)?;
        let favorite = match doc.get("favorite") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(FieldError::invalid("favorite")),
        };
        Ok(RomaAppInput { name, remark: optional_str(&doc, "remark", 200)?, key, secret, favorite })
    }
}

/// The `secret` of an integration application's body: 8–64 characters, or absent (generated).
fn roma_app_secret(doc: &Value) -> Result<Option<String>, FieldError> {
    let secret = optional_str(doc, "secret", 64)?.filter(|s| !s.is_empty());
    if secret.as_deref().is_some_and(|s| s.chars().count() < 8) {
        return Err(FieldError::invalid("secret"));
    }
    Ok(secret)
}

/// The body of `ResetRomaAppSecret`: the new secret, generated when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct RomaAppSecretInput {
    /// 8–64 characters; generated when absent.
    pub secret: Option<String>,
}

impl RomaAppSecretInput {
    /// Parses and validates the body.
    pub fn from_json(body: &[u8]) -> Result<RomaAppSecretInput, FieldError> {
        Ok(RomaAppSecretInput { secret: roma_app_secret(&parse_json(body)?)? })
    }
}

/// A SQLite data source names a file of the server's livedata directory, not a path: letters,
/// digits, `_-.`, not starting with a dot. Anything else could reach Portico's own database.
fn is_sqlite_file_name(name: &str) -> bool {
    name.len() <= 255 && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The kinds of data source Portico can run scripts against; every other kind is stored and
/// refused on test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executable {
    /// PostgreSQL (and openGauss/DWS speak its protocol, but are not claimed).
    Postgres,
    /// A SQLite database file (Portico's own kind, `SQLITE`).
    Sqlite,
}

/// A data source (`DatasourceInfo` / `DataSourceRsp`) without its password, which is kept apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Data source id.
    pub datasource_id: String,
    /// Name, unique in the instance.
    pub datasource_name: String,
    /// Upper-case kind: `POSTGRESQL`, `SQLITE`, `MYSQL`, …
    pub datasource_type: String,
    /// The integration application owning it.
    pub app_id: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Connection settings (`Content`) as given, without `password`.
    pub content: serde_json::Map<String, Value>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub update_time: OffsetDateTime,
}

/// Kinds `CreateDatasourceInfo` documents, plus Portico's `SQLITE`.
const DATA_SOURCE_TYPES: &[&str] = &[
    "DWS",
    "MYSQL",
    "KAFKA",
    "API",
    "OBS",
    "SAP",
    "MRSHBASE",
    "MRSHDFS",
    "MRSHIVE",
    "WEBSOCKET",
    "SQLSERVER",
    "ORACLE",
    "POSTGRESQL",
    "REDIS",
    "MONGODB",
    "DIS",
    "HL7",
    "RABBITMQ",
    "SNMP",
    "IBMMQ",
    "CUSTOMIZED",
    "ACTIVEMQ",
    "ARTEMISMQ",
    "FTP",
    "HIVE",
    "HANA",
    "FIKAFKA",
    "MRSKAFKA",
    "FIHDFS",
    "FIHIVE",
    "GAUSS200",
    "GAUSS100",
    "LDAP",
    "DB2",
    "TAURUS",
    "SQLITE",
];

impl DataSource {
    /// Parses `CreateDatasourceInfo`'s body into a data source and its password.
    pub fn from_json(body: &[u8], id: String, now: OffsetDateTime) -> Result<(DataSource, Option<String>), FieldError> {
        let doc = parse_json(body)?;
        let name = required_str(&doc, "datasource_name")?;
        if !is_identifier(&name, "_-", 1, 255) {
            return Err(FieldError::invalid("datasource_name"));
        }
        let kind = required_str(&doc, "datasource_type")?.to_ascii_uppercase();
        if !DATA_SOURCE_TYPES.contains(&kind.as_str()) {
            return Err(FieldError::invalid("datasource_type"));
        }
        let app_id = required_str(&doc, "app_id")?;
        let mut content = match doc.get("content") {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err(FieldError::invalid("content")),
        };
        let password = match content.remove("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p),
            Some(_) => return Err(FieldError::invalid("content.password")),
        };
        let source = DataSource {
            datasource_id: id,
            datasource_name: name,
            datasource_type: kind,
            app_id,
            description: optional_str(&doc, "description", 1024)?,
            content,
            create_time: now,
            update_time: now,
        };
        source.connection()?;
        Ok((source, password))
    }

    /// A string setting of `content`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.content.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// Whether scripts can run against this kind here, and if so that its settings suffice:
    /// `SQLITE` needs `content.url`, the name of a file in the server's livedata directory;
    /// `POSTGRESQL` needs
    /// `content.url` or `host` and `database_name`.
    pub fn connection(&self) -> Result<Option<Executable>, FieldError> {
        match self.datasource_type.as_str() {
            "SQLITE" => match self.setting("url") {
                Some(name) if is_sqlite_file_name(name) => Ok(Some(Executable::Sqlite)),
                Some(_) => Err(FieldError::invalid("content.url")),
                None => Err(FieldError::Missing("content.url".into())),
            },
            "POSTGRESQL" => {
                if self.setting("url").is_some() {
                    return Ok(Some(Executable::Postgres));
                }
                for key in ["host", "database_name"] {
                    if self.setting(key).is_none() {
                        return Err(FieldError::Missing(format!("content.{key}")));
                    }
                }
                Ok(Some(Executable::Postgres))
            }
            _ => Ok(None),
        }
    }
}

/// Status of a custom backend.
pub mod ld_status {
    /// Created, no script yet.
    pub const PENDING: i32 = 1;
    /// Has scripts, not deployed.
    pub const DEVELOPING: i32 = 3;
    /// Deployed.
    pub const DEPLOYED: i32 = 4;
}

/// A request parameter of a custom backend (`LdApiParameter`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdParameter {
    /// Name (a media type such as `application/json` for a `Body` parameter).
    pub name: String,
    /// `Headers`, `Parameters` or `Body`.
    #[serde(rename = "in")]
    pub location: String,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the caller must send it.
    #[serde(default)]
    pub required: bool,
}

/// A script of a custom backend (`LdApiScript`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdScript {
    /// The data source it runs against (required for data backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ds_id: Option<String>,
    /// The data source's name (filled in by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ds_name: Option<String>,
    /// The data source's kind, lower case (`postgresql`, `sqlite`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ds_type: Option<String>,
    /// `SQL` or `SP` (stored procedure).
    #[serde(rename = "type")]
    pub script_type: String,
    /// Name of the object the result is returned under.
    pub object_name: String,
    /// The script, base64-encoded.
    pub content: String,
    /// Whether results are paged.
    #[serde(default)]
    pub enable_result_paging: bool,
    /// Whether the statement is prepared.
    #[serde(default)]
    pub enable_preparestatement: bool,
    /// Creation time.
    #[serde(default = "crate::now", with = "time::serde::rfc3339")]
    pub created_time: OffsetDateTime,
    /// Last modification time.
    #[serde(default = "crate::now", with = "time::serde::rfc3339")]
    pub modified_time: OffsetDateTime,
}

/// A custom backend (`LdApiInfo`), as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdApi {
    /// Id.
    pub id: String,
    /// Name, unique in its integration application.
    pub name: String,
    /// Path, `/…`; (method, path) is unique in its integration application.
    pub path: String,
    /// GET, PUT, POST or DELETE.
    pub method: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version label.
    pub version: String,
    /// Response type, e.g. `application/json`.
    pub content_type: String,
    /// Signature key, when the backend is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_signature_id: Option<String>,
    /// The owning integration application.
    pub roma_app_id: String,
    /// Whether the response is formatted.
    #[serde(default)]
    pub return_format: bool,
    /// Request parameters.
    #[serde(default)]
    pub parameters: Vec<LdParameter>,
    /// `data` or `function`.
    #[serde(rename = "type")]
    pub api_type: String,
    /// 1 pending development, 3 developing, 4 deployed.
    pub status: i32,
    /// Scripts (set with `CreateLiveDataApiScriptV2`).
    #[serde(default)]
    pub scripts: Vec<LdScript>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_time: OffsetDateTime,
    /// Last modification time.
    #[serde(with = "time::serde::rfc3339")]
    pub modified_time: OffsetDateTime,
}

/// Body of `CreateLiveDataApiV2` / `UpdateLiveDataApiV2` (`LdApiCreate`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LdApiInput {
    /// See [`LdApi::name`].
    pub name: String,
    /// See [`LdApi::path`].
    pub path: String,
    /// See [`LdApi::method`].
    pub method: String,
    /// See [`LdApi::description`].
    #[serde(default)]
    pub description: Option<String>,
    /// See [`LdApi::version`].
    pub version: String,
    /// See [`LdApi::content_type`].
    pub content_type: String,
    /// See [`LdApi::api_signature_id`].
    #[serde(default)]
    pub api_signature_id: Option<String>,
    /// See [`LdApi::roma_app_id`].
    pub roma_app_id: String,
    /// See [`LdApi::return_format`].
    #[serde(default)]
    pub return_format: bool,
    /// See [`LdApi::parameters`].
    #[serde(default)]
    pub parameters: Vec<LdParameter>,
}

/// Name: letters, digits, CJK and `-_./():、（）：`, starting with a letter, digit or CJK.
fn is_ld_name(name: &str) -> bool {
    (3..=64).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || is_cjk(c))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || "-_./():、（）：".contains(c))
}

fn is_ld_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 1024
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "-_./{}".contains(c))
}

impl LdApiInput {
    /// Parses and validates `LdApiCreate`.
    pub fn from_json(body: &[u8]) -> Result<LdApiInput, FieldError> {
        let input: LdApiInput =
            parse_body(body, &["name", "path", "method", "version", "content_type", "roma_app_id"])?;
        input.validate()?;
        Ok(input)
    }

    /// Parses a custom backend from an imported document's wire form.
    pub fn from_value(value: &Value) -> Result<LdApiInput, FieldError> {
        let bytes = serde_json::to_vec(value).map_err(|e| FieldError::MalformedJson(e.to_string()))?;
        Self::from_json(&bytes)
    }

    fn validate(&self) -> Result<(), FieldError> {
        if !is_ld_name(&self.name) {
            return Err(FieldError::invalid("name"));
        }
        if !is_ld_path(&self.path) {
            return Err(FieldError::invalid("path"));
        }
        if !["GET", "PUT", "POST", "DELETE"].contains(&self.method.as_str()) {
            return Err(FieldError::invalid("method"));
        }
        if self.description.as_deref().is_some_and(|d| d.contains(['<', '>']) || d.chars().count() > 255) {
            return Err(FieldError::invalid("description"));
        }
        let version_ok = (1..=64).contains(&self.version.len())
            && self.version.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !version_ok {
            return Err(FieldError::invalid("version"));
        }
        if self.content_type.is_empty() || self.content_type.len() > 64 {
            return Err(FieldError::invalid("content_type"));
        }
        for (i, p) in self.parameters.iter().enumerate() {
            let field = |f: &str| FieldError::invalid(format!("parameters[{i}].{f}"));
            if !["Headers", "Parameters", "Body"].contains(&p.location.as_str()) {
                return Err(field("in"));
            }
            let name_ok = if p.location == "Body" {
                !p.name.is_empty() && p.name.len() <= 64
            } else {
                p.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && is_identifier(&p.name, ".-_", 1, 32)
            };
            if !name_ok {
                return Err(field("name"));
            }
            if p.description.as_deref().is_some_and(|d| d.contains(['<', '>'])) {
                return Err(field("description"));
            }
        }
        Ok(())
    }

    /// A new custom backend, pending development.
    pub fn create(self, id: String, now: OffsetDateTime) -> LdApi {
        LdApi {
            id,
            name: self.name,
            path: self.path,
            method: self.method,
            description: self.description,
            version: self.version,
            content_type: self.content_type,
            api_signature_id: self.api_signature_id,
            roma_app_id: self.roma_app_id,
            return_format: self.return_format,
            parameters: self.parameters,
            api_type: "data".into(),
            status: ld_status::PENDING,
            scripts: Vec::new(),
            created_time: now,
            modified_time: now,
        }
    }

    /// `previous` changed to this definition. A deployed backend keeps its path, method and
    /// integration application.
    pub fn apply_to(self, previous: &LdApi, now: OffsetDateTime) -> Result<LdApi, FieldError> {
        if previous.status == ld_status::DEPLOYED {
            for (field, old, new) in [
                ("path", &previous.path, &self.path),
                ("method", &previous.method, &self.method),
                ("roma_app_id", &previous.roma_app_id, &self.roma_app_id),
            ] {
                if old != new {
                    return Err(FieldError::invalid(field));
                }
            }
        }
        let mut next = self.create(previous.id.clone(), previous.created_time);
        next.api_type = previous.api_type.clone();
        next.status = previous.status;
        next.scripts = previous.scripts.clone();
        next.modified_time = now;
        Ok(next)
    }
}

/// Body of `CreateLiveDataApiScriptV2` (`LdApiScriptCreate`).
#[derive(Debug, Clone, PartialEq)]
pub struct LdScriptsInput {
    /// `data` or `function`.
    pub api_type: String,
    /// The scripts, with server times set.
    pub scripts: Vec<LdScript>,
}

impl LdScriptsInput {
    /// Parses and validates the body; `content` must be base64.
    pub fn from_json(body: &[u8], now: OffsetDateTime) -> Result<LdScriptsInput, FieldError> {
        let doc = parse_json(body)?;
        let api_type = required_str(&doc, "api_type")?;
        if !["data", "function"].contains(&api_type.as_str()) {
            return Err(FieldError::invalid("api_type"));
        }
        let raw = match doc.get("scripts") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            None | Some(Value::Null) => return Err(FieldError::Missing("scripts".into())),
            Some(Value::Array(_)) => return Err(FieldError::Missing("scripts".into())),
            Some(_) => return Err(FieldError::invalid("scripts")),
        };
        let mut scripts = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            let within = |e: FieldError| e.within(&format!("scripts[{i}]"));
            for key in ["type", "object_name", "content"] {
                if item.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                    return Err(within(FieldError::Missing(key.into())));
                }
            }
            let mut script: LdScript = from_value(item).map_err(within)?;
            if !["SQL", "SP"].contains(&script.script_type.as_str()) {
                return Err(within(FieldError::invalid("type")));
            }
            if api_type == "data" && script.ds_id.as_deref().is_none_or(str::is_empty) {
                return Err(within(FieldError::Missing("ds_id".into())));
            }
            if decode_base64(&script.content).is_none() {
                return Err(within(FieldError::invalid("content")));
            }
            script.created_time = now;
            script.modified_time = now;
            scripts.push(script);
        }
        Ok(LdScriptsInput { api_type, scripts })
    }
}

/// Standard base64 (padding optional, whitespace ignored), as the scripts' `content` is sent.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact).ok()
}

/// Standard base64 with padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Body of `PublishLiveDataApiV2` (`LdApiDeploy`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LdDeployInput {
    /// Whether to create and publish a frontend API.
    #[serde(default)]
    pub deploy_front_api: bool,
    /// Frontend authentication: NONE, APP, IAM or AUTHORIZER.
    #[serde(default)]
    pub auth_type: Option<String>,
    /// Frontend custom authorizer (AUTHORIZER).
    #[serde(default)]
    pub authorizer_id: Option<String>,
    /// Group of the frontend API.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Environment it is published in.
    #[serde(default)]
    pub env_id: Option<String>,
    /// Frontend protocol: HTTP, HTTPS or BOTH.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Backend timeout in ms.
    #[serde(default)]
    pub backend_timeout: Option<i64>,
    /// Frontend path (default: the backend's).
    #[serde(default)]
    pub path: Option<String>,
    /// Frontend method (default: the backend's).
    #[serde(default)]
    pub method: Option<String>,
    /// CORS.
    #[serde(default)]
    pub cors: bool,
    /// Retries, "-1".."10".
    #[serde(default)]
    pub retry_count: Option<String>,
}

impl LdDeployInput {
    /// Parses the body; the frontend fields are required when `deploy_front_api` is true.
    pub fn from_json(body: &[u8]) -> Result<LdDeployInput, FieldError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return parse_body(b"{}", &[]);
        }
        let input: LdDeployInput = parse_body(body, &[])?;
        if input.deploy_front_api {
            for (key, value) in [
                ("auth_type", &input.auth_type),
                ("group_id", &input.group_id),
                ("env_id", &input.env_id),
                ("protocol", &input.protocol),
            ] {
                if value.as_deref().is_none_or(str::is_empty) {
                    return Err(FieldError::Missing(key.into()));
                }
            }
            if input.auth_type.as_deref() == Some("AUTHORIZER") && input.authorizer_id.is_none() {
                return Err(FieldError::Missing("authorizer_id".into()));
            }
        }
        Ok(input)
    }
}

/// A deployment of a custom backend (`LdApiDeployHistoryInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdDeployment {
    /// Deployment id.
    pub id: String,
    /// The custom backend.
    pub ld_api_id: String,
    /// Group of the frontend API, when one was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Environment of the frontend API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_id: Option<String>,
    /// The frontend API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub deploy_time: OffsetDateTime,
    /// The custom backend as deployed.
    pub api_definition: LdApi,
}

/// A test run of a custom backend (`LdApiTestHistoryInfoV2`, plus `debug_log` on the run itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdTestRun {
    /// Sequence number, assigned by the store.
    pub test_id: i64,
    /// The custom backend.
    pub ld_api_id: String,
    /// "200" when the scripts ran, "400"/"500" when they did not.
    pub test_status_code: String,
    /// The request (the parameters, as JSON).
    pub test_request: String,
    /// The response body.
    pub test_response: String,
    /// Milliseconds taken.
    pub test_used_time: i64,
    /// Who ran it.
    pub test_operator: String,
    /// The backend's method.
    pub test_method: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub test_date: OffsetDateTime,
    /// What happened, step by step.
    #[serde(default)]
    pub debug_log: Vec<String>,
}

/// Body of `DebugLiveDataApiV2` (`LdApiTest`): the parameters' values.
pub fn test_parameters_from_json(body: &[u8]) -> Result<Vec<LdParameter>, FieldError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let doc = parse_json(body)?;
    match doc.get("parameters") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => from_value::<Vec<LdParameter>>(value).map_err(|e| e.within("parameters")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("c2VsZWN0IDE=").unwrap(), b"select 1");
        assert_eq!(decode_base64("c2VsZWN0IDE").unwrap(), b"select 1");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert!(decode_base64("not base64!").is_none());
        assert!(decode_base64("a").is_none());
    }
}
