//! APIs → document. The document is never built in memory: APIs arrive one path at a time (the
//! caller streams them in path order), these types borrow them and serialise them straight into
//! the writer, as JSON (serde_json) or YAML (`crate::yaml`). Each OpenAPI object is a
//! `Serialize` impl written by hand because which keys appear depends on the definition level
//! and the specification version.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;

use portico_model::{
    Api, ApiDefinition, ApiFunc, ApiMock, AppCodeAuthType, AuthType, BackendApi, BackendParam, BackendProtocol,
    BackendType, Condition, ConditionOrigin, ConditionType, MemberGroupUrlInfo, Method, ParamLocation, ParamType,
    PolicyCommon, ReqParam, ReqProtocol,
};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::{Define, ExtensionObjects, Format, OasVersion, Object, keys};

/// What to export and how.
#[derive(Debug, Clone, Copy)]
pub struct Export<'a> {
    /// Swagger 2.0 or OpenAPI 3.0.
    pub oas: OasVersion,
    /// Definition level.
    pub define: Define,
    /// `info.title`: the group's name.
    pub title: &'a str,
    /// `info.description`: the group's remark.
    pub description: Option<&'a str>,
    /// `info.version`.
    pub version: &'a str,
    /// The group's domain (`host`, `servers`).
    pub host: &'a str,
    /// Extension objects bound to the APIs (written at `all` and `dev`).
    pub objects: &'a ExtensionObjects,
    /// Names of referenced objects by id (VPC channels, gateway responses); an id without a
    /// name is written as it is.
    pub names: &'a HashMap<String, String>,
    /// The group's own extension fields, kept from an import.
    pub group_extensions: &'a Object,
}

/// The writer failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Writing JSON failed (usually: the writer did).
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing YAML failed (the writer did).
    #[error("writing YAML: {0}")]
    Yaml(#[from] std::io::Error),
}

/// Writes the document for `export` with `apis` in `format` to `writer`. The APIs must come in
/// [`path_order`] (a database query can produce it; [`sort_by_path`] sorts a slice): they are
/// written as they come, one path item at a time, and a path seen again later is an error.
pub fn write<W, I, B>(export: &Export<'_>, apis: I, format: Format, writer: W) -> Result<(), WriteError>
where
    W: io::Write,
    I: IntoIterator<Item = B>,
    B: Borrow<Api>,
{
    let document =
        Document { export, apis: RefCell::new(Some(apis.into_iter())), authorizers: RefCell::new(BTreeMap::new()) };
    let mut writer = writer;
    match format {
        Format::Json => {
            let formatter = PrintableJson(serde_json::ser::PrettyFormatter::new());
            document.serialize(&mut serde_json::Serializer::with_formatter(&mut writer, formatter))?
        }
        Format::Yaml => crate::yaml::to_writer(&mut writer, &document)?,
    }
    Ok(writer.flush()?)
}

/// The order [`write`] wants: by path key (the frontend path with `{name+}` read as `{name}`),
/// byte by byte, as SQLite's `ORDER BY` sorts text. Ties keep their order in a stable sort.
pub fn path_order(a: &Api, b: &Api) -> Ordering {
    path_key(&a.definition.req_uri).cmp(&path_key(&b.definition.req_uri))
}

/// Sorts APIs into [`path_order`], keeping the order of APIs on the same path.
pub fn sort_by_path(apis: &mut [&Api]) {
    apis.sort_by(|a, b| path_order(a, b));
}

/// Pretty JSON that escapes the characters serde_json writes raw but YAML does not allow or
/// reads as line breaks (DEL, C1 controls, U+2028/2029, U+FEFF, U+FFFE/FFFF): many tools, and
/// `openapi-spec-validator` among them, read JSON documents with a YAML parser.
pub(crate) struct PrintableJson(pub(crate) serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for PrintableJson {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(|c: char| !crate::yaml::printable(c)) {
            w.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// The path key of an API: OpenAPI has no `{name+}` placeholder, so the key says `{name}` and
/// the operation keeps the real path in `x-portico-req-uri`.
fn path_key(req_uri: &str) -> std::borrow::Cow<'_, str> {
    if req_uri.contains("+}") { req_uri.replace("+}", "}").into() } else { req_uri.into() }
}

struct Document<'e, 'a, I> {
    export: &'e Export<'a>,
    /// Taken when the paths are written.
    apis: RefCell<Option<I>>,
    /// Custom authorizers met while writing the paths, by scheme name, for the security
    /// schemes written after them.
    authorizers: RefCell<BTreeMap<String, String>>,
}

impl<I, B> Serialize for Document<'_, '_, I>
where
    I: Iterator<Item = B>,
    B: Borrow<Api>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.export;
        let mut map = s.serialize_map(None)?;
        match e.oas {
            OasVersion::V2 => map.serialize_entry("swagger", "2.0")?,
            OasVersion::V3 => map.serialize_entry("openapi", "3.0.3")?,
        }
        map.serialize_entry("info", &Info(e))?;
        match e.oas {
            OasVersion::V2 => map.serialize_entry("host", e.host)?,
            OasVersion::V3 => map.serialize_entry("servers", &[Server { scheme: "https", host: e.host }])?,
        }
        map.serialize_entry("paths", &Paths { document: self })?;
        let authorizers = self.authorizers.borrow();
        let schemes = SecuritySchemes { export: e, authorizers: &authorizers };
        match e.oas {
            OasVersion::V2 => map.serialize_entry("securityDefinitions", &schemes)?,
            OasVersion::V3 => map.serialize_entry("components", &Components(schemes))?,
        }
        let root = if e.define.has_objects() { e.objects.root() } else { BTreeMap::new() };
        for (key, value) in &root {
            map.serialize_entry(key, value)?;
        }
        for (key, value) in e.group_extensions {
            if !root.contains_key(key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

struct Info<'e, 'a>(&'e Export<'a>);

impl Serialize for Info<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("title", self.0.title)?;
        if let Some(d) = self.0.description {
            map.serialize_entry("description", d)?;
        }
        map.serialize_entry("version", self.0.version)?;
        map.end()
    }
}

struct Server<'a> {
    scheme: &'static str,
    host: &'a str,
}

impl Serialize for Server<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("url", &format_args!("{}://{}", self.scheme, self.host))?;
        map.end()
    }
}

struct Components<'e, 'a>(SecuritySchemes<'e, 'a>);

impl Serialize for Components<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("securitySchemes", &self.0)?;
        map.end()
    }
}

/// The three schemes APIG always declares, then one per custom authorizer in use.
struct SecuritySchemes<'e, 'a> {
    export: &'e Export<'a>,
    /// Scheme name → authorizer id, sorted by name so that the order of the APIs does not
    /// change the document.
    authorizers: &'e BTreeMap<String, String>,
}

const APP: &str = "apig-auth-app";
const APP_HEADER: &str = "apig-auth-app-header";
const IAM: &str = "apig-auth-iam";
const CUSTOM_PREFIX: &str = "apig-auth-custom-";

fn authorizer_scheme(objects: &ExtensionObjects, id: &str) -> String {
    let name = objects.authorizer_name(id).unwrap_or(id);
    format!("{CUSTOM_PREFIX}{name}")
}

fn security_scheme_of(objects: &ExtensionObjects, def: &ApiDefinition) -> Option<String> {
    match def.auth_type {
        AuthType::None => None,
        AuthType::App if app_code_in_header(def) => Some(APP_HEADER.into()),
        AuthType::App => Some(APP.into()),
        AuthType::Iam => Some(IAM.into()),
        AuthType::Authorizer => Some(authorizer_scheme(objects, def.authorizer_id.as_deref().unwrap_or_default())),
    }
}

fn app_code_in_header(def: &ApiDefinition) -> bool {
    def.auth_opt.as_ref().is_some_and(|o| o.app_code_auth_type == AppCodeAuthType::Header)
}

impl Serialize for SecuritySchemes<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.export;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(APP, &ApiKeyScheme { name: "Authorization", auth_type: "AppSigv1", extra: None })?;
        let header = serde_json::json!({"appcode-auth-type": "header"});
        let header_opt = Some((keys::AUTH_OPT, &header));
        map.serialize_entry(
            APP_HEADER,
            &ApiKeyScheme { name: "Authorization", auth_type: "AppSigv1", extra: header_opt },
        )?;
        map.serialize_entry(IAM, &ApiKeyScheme { name: "unused", auth_type: "IAM", extra: None })?;
        for (scheme, id) in self.authorizers {
            let object = e.objects.authorizers.get(id).filter(|_| e.define.has_objects()).map(|(_, o)| o);
            map.serialize_entry(&scheme, &AuthorizerScheme { id, object })?;
        }
        map.end()
    }
}

struct ApiKeyScheme<'a> {
    name: &'static str,
    auth_type: &'static str,
    extra: Option<(&'static str, &'a Value)>,
}

impl Serialize for ApiKeyScheme<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "apiKey")?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("in", "header")?;
        if let Some((k, v)) = self.extra {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry(keys::AUTH_TYPE, self.auth_type)?;
        map.end()
    }
}

struct AuthorizerScheme<'a> {
    id: &'a str,
    object: Option<&'a Object>,
}

impl Serialize for AuthorizerScheme<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "apiKey")?;
        map.serialize_entry("name", "unused")?;
        map.serialize_entry("in", "header")?;
        map.serialize_entry(keys::AUTH_TYPE, "AUTHORIZER")?;
        if let Some(object) = self.object {
            map.serialize_entry(keys::AUTHORIZER, object)?;
        }
        map.serialize_entry(keys::PORTICO_AUTHORIZER_ID, self.id)?;
        map.end()
    }
}

struct Paths<'d, 'e, 'a, I> {
    document: &'d Document<'e, 'a, I>,
}

impl<I, B> Serialize for Paths<'_, '_, '_, I>
where
    I: Iterator<Item = B>,
    B: Borrow<Api>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let document = self.document;
        let export = document.export;
        let Some(apis) = document.apis.borrow_mut().take() else {
            return Err(ser::Error::custom("a document is written once"));
        };
        let mut apis = apis.peekable();
        let mut written = HashSet::new();
        let mut same_path: Vec<B> = Vec::new();
        let mut map = s.serialize_map(None)?;
        while let Some(first) = apis.next() {
            let key = path_key(&first.borrow().definition.req_uri).into_owned();
            same_path.push(first);
            while let Some(next) = apis.next_if(|n| path_key(&n.borrow().definition.req_uri) == key) {
                same_path.push(next);
            }
            if !written.insert(key.clone()) {
                return Err(ser::Error::custom(format!("the APIs are not in path order: {key} comes twice")));
            }
            let refs: Vec<&Api> = same_path.iter().map(Borrow::borrow).collect();
            let mut authorizers = document.authorizers.borrow_mut();
            for api in &refs {
                let def = &api.definition;
                if let Some(id) = def.authorizer_id.as_deref().filter(|_| def.auth_type == AuthType::Authorizer) {
                    authorizers.entry(authorizer_scheme(export.objects, id)).or_insert_with(|| id.to_owned());
                }
            }
            drop(authorizers);
            map.serialize_entry(&key, &PathItemSer { export, apis: &refs })?;
            drop(refs);
            same_path.clear();
        }
        map.end()
    }
}

struct PathItemSer<'e, 'a> {
    export: &'e Export<'a>,
    apis: &'e [&'a Api],
}

fn method_key(method: Method) -> &'static str {
    match method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Delete => "delete",
        Method::Head => "head",
        Method::Patch => "patch",
        Method::Options => "options",
        Method::Any => keys::ANY_METHOD,
    }
}

impl Serialize for PathItemSer<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let mut used = Vec::new();
        let mut extra = Vec::new();
        for api in self.apis {
            let key = method_key(api.definition.req_method);
            if used.contains(&key) {
                extra.push(*api);
            } else {
                used.push(key);
                map.serialize_entry(key, &Operation { export: self.export, api, method: None })?;
            }
        }
        if !extra.is_empty() {
            let ops: Vec<Operation> = extra
                .iter()
                .map(|api| Operation { export: self.export, api, method: Some(api.definition.req_method) })
                .collect();
            map.serialize_entry(keys::PORTICO_OPERATIONS, &ops)?;
        }
        map.end()
    }
}

struct Operation<'e, 'a> {
    export: &'e Export<'a>,
    api: &'a Api,
    /// Set when the operation is an entry of `x-portico-operations`, which names its method.
    method: Option<Method>,
}

fn schemes(protocol: ReqProtocol) -> &'static [&'static str] {
    match protocol {
        ReqProtocol::Http => &["http"],
        ReqProtocol::Https | ReqProtocol::Grpcs => &["https"],
        ReqProtocol::Both => &["http", "https"],
    }
}

impl Serialize for Operation<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.export;
        let def = &self.api.definition;
        let mut map = s.serialize_map(None)?;
        if let Some(method) = self.method {
            map.serialize_entry("method", method.as_str())?;
        }
        map.serialize_entry("operationId", &def.name)?;
        if let Some(remark) = &def.remark {
            map.serialize_entry("description", remark)?;
        }
        if !def.tags.is_empty() {
            map.serialize_entry("tags", &def.tags)?;
        }
        match e.oas {
            OasVersion::V2 => map.serialize_entry("schemes", schemes(def.req_protocol))?,
            OasVersion::V3 => {
                let servers: Vec<Server> =
                    schemes(def.req_protocol).iter().map(|scheme| Server { scheme, host: e.host }).collect();
                map.serialize_entry("servers", &servers)?;
            }
        }
        if let Some(scheme) = security_scheme_of(e.objects, def) {
            map.serialize_entry("security", &[Security(scheme)])?;
        }
        if !def.req_params.is_empty() {
            let params: Vec<Parameter> = def.req_params.iter().map(|p| Parameter { oas: e.oas, p }).collect();
            map.serialize_entry("parameters", &params)?;
        }
        map.serialize_entry("responses", &Responses { oas: e.oas, def })?;
        map.serialize_entry(keys::REQUEST_TYPE, if def.api_type == 2 { "private" } else { "public" })?;
        map.serialize_entry(keys::MATCH_MODE, def.match_mode.as_str())?;
        map.serialize_entry(keys::CORS, &def.cors)?;
        if let Some(b) = def.is_send_fg_body_base64 {
            map.serialize_entry(keys::FG_BASE64, &b)?;
        }
        if let Some(ct) = &def.content_type {
            map.serialize_entry(keys::CONTENT_TYPE, ct)?;
        }
        if let Some(id) = &def.response_id {
            map.serialize_entry(keys::RESPONSE, name_of(e.names, id))?;
        }
        if e.define.has_backend() {
            if let Some(backend) = Backend::of(e, def) {
                map.serialize_entry(keys::BACKEND, &backend)?;
            }
            let policies = Policies { export: e, def };
            if !policies.is_empty() {
                map.serialize_entry(keys::BACKEND_POLICIES, &policies)?;
            }
        }
        if def.req_uri.contains("+}") {
            map.serialize_entry(keys::PORTICO_REQ_URI, &def.req_uri)?;
        }
        let portico = PorticoApi(def);
        if !portico.is_empty() {
            map.serialize_entry(keys::PORTICO_API, &portico)?;
        }
        let bound = if e.define.has_objects() { e.objects.operation(&self.api.id) } else { Object::new() };
        // An extension named like a key written above would be a duplicate key: that key wins.
        for (key, value) in &def.openapi_extensions {
            if !bound.contains_key(key) && !keys::OPERATION_KEYS.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        for (key, value) in &bound {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn name_of<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map(String::as_str).unwrap_or(id)
}

struct Security(String);

impl Serialize for Security {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(&self.0, &[(); 0])?;
        map.end()
    }
}

/// API fields that no APIG extension carries, under their management-API names.
struct PorticoApi<'a>(&'a ApiDefinition);

impl PorticoApi<'_> {
    fn entries(&self) -> impl Iterator<Item = (&'static str, Value)> + '_ {
        let d = self.0;
        let text = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        [
            ("version", text(&d.version)),
            ("trace_enabled", d.trace_enabled.map(Value::Bool)),
            ("sampling_strategy", text(&d.sampling_strategy)),
            ("sampling_param", text(&d.sampling_param)),
            ("body_remark", text(&d.body_remark)),
            ("roma_app_id", text(&d.roma_app_id)),
            ("domain_name", text(&d.domain_name)),
            ("tag", text(&d.tag)),
            ("authorizer_id", text(&d.authorizer_id)),
            (
                "auth_opt",
                (d.auth_type != AuthType::App && app_code_in_header(d))
                    .then(|| serde_json::json!({"app_code_auth_type": "HEADER"})),
            ),
            ("req_protocol", (d.req_protocol == ReqProtocol::Grpcs).then(|| Value::from("GRPCS"))),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }

    fn is_empty(&self) -> bool {
        self.entries().next().is_none()
    }
}

impl Serialize for PorticoApi<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.entries())
    }
}

struct Parameter<'a> {
    oas: OasVersion,
    p: &'a ReqParam,
}

/// A string that a JSON number spells the same way, as that number.
fn as_number(s: &str) -> Option<serde_json::Number> {
    let n = match s.parse::<i64>() {
        Ok(i) => serde_json::Number::from(i),
        Err(_) => serde_json::Number::from_f64(s.parse::<f64>().ok()?)?,
    };
    (n.to_string() == s).then_some(n)
}

/// Equal as a JSON Schema validator compares: numbers by value (`1` equals `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

impl Parameter<'_> {
    /// The default as OpenAPI wants it (a number for NUMBER), or `None` when only the verbatim
    /// `x-portico-default` can carry it.
    ///
    /// Validators check a schema's `default` against the schema (type, `enum`, bounds,
    /// `pattern`), but APIG checks a default only when validation is on, and never against the
    /// regular expression. So `default` is written only when it passes the schema, and with no
    /// `pattern` (whose dialect Portico cannot evaluate); otherwise `x-portico-default` has it.
    fn default(&self) -> Option<Value> {
        let p = self.p;
        let d = p.default_value.as_deref()?;
        if p.regular.is_some() {
            return None;
        }
        let value = match p.param_type {
            ParamType::String => {
                let len = d.chars().count() as i64;
                let fits = p.min_size.is_none_or(|lo| len >= lo) && p.max_size.is_none_or(|hi| len <= hi);
                fits.then(|| Value::from(d))?
            }
            ParamType::Number => {
                let n = as_number(d)?;
                let f = n.as_f64()?;
                let fits = p.min_num.is_none_or(|lo| f >= lo as f64) && p.max_num.is_none_or(|hi| f <= hi as f64);
                fits.then_some(Value::Number(n))?
            }
        };
        match (&p.enumerations, self.enumeration()) {
            (None, _) => Some(value),
            (Some(_), Some(items)) if items.iter().any(|i| same_value(i, &value)) => Some(value),
            _ => None,
        }
    }

    fn enumeration(&self) -> Option<Vec<Value>> {
        let list = self.p.enumerations.as_deref()?;
        let items: Option<Vec<Value>> = list
            .split(',')
            .map(|item| match self.p.param_type {
                ParamType::String => Some(Value::from(item)),
                ParamType::Number => as_number(item).map(Value::Number),
            })
            .collect();
        let items = items?;
        let unique = items.iter().enumerate().all(|(i, v)| !items[..i].iter().any(|o| same_value(o, v)));
        unique.then_some(items)
    }

    fn schema_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let p = self.p;
        map.serialize_entry(
            "type",
            match p.param_type {
                ParamType::String => "string",
                ParamType::Number => "number",
            },
        )?;
        if let Some(d) = self.default() {
            map.serialize_entry("default", &d)?;
        }
        if let Some(items) = self.enumeration() {
            map.serialize_entry("enum", &items)?;
        }
        for (key, value) in
            [("minimum", p.min_num), ("maximum", p.max_num), ("minLength", p.min_size), ("maxLength", p.max_size)]
        {
            if let Some(v) = value {
                map.serialize_entry(key, &v)?;
            }
        }
        if let Some(r) = &p.regular {
            map.serialize_entry("pattern", r)?;
        }
        Ok(())
    }
}

struct Schema<'a>(&'a Parameter<'a>);

impl Serialize for Schema<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.0.schema_entries(&mut map)?;
        map.end()
    }
}

fn location_key(location: ParamLocation) -> &'static str {
    match location {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
    }
}

impl Serialize for Parameter<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.p;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &p.name)?;
        map.serialize_entry("in", location_key(p.location))?;
        map.serialize_entry("required", &(p.required == 1 || p.location == ParamLocation::Path))?;
        if let Some(remark) = &p.remark {
            map.serialize_entry("description", remark)?;
        }
        match self.oas {
            OasVersion::V2 => self.schema_entries(&mut map)?,
            OasVersion::V3 => map.serialize_entry("schema", &Schema(self))?,
        }
        if let Some(pt) = p.pass_through {
            map.serialize_entry(keys::PASS_THROUGH, if pt == 1 { "always" } else { "never" })?;
        }
        if let Some(sample) = &p.sample_value {
            map.serialize_entry(keys::SAMPLE, sample)?;
        }
        if !p.orchestrations.is_empty() {
            map.serialize_entry(keys::ORCHESTRATIONS, &p.orchestrations)?;
        }
        if p.valid_enable == 1 {
            map.serialize_entry(keys::PORTICO_VALIDATION, &true)?;
        }
        if let Some(schema) = &p.json_schema {
            map.serialize_entry(keys::PORTICO_JSON_SCHEMA, schema)?;
        }
        if let (Some(list), None) = (&p.enumerations, self.enumeration()) {
            map.serialize_entry(keys::PORTICO_ENUMERATIONS, list)?;
        }
        if let (Some(d), None) = (&p.default_value, self.default()) {
            map.serialize_entry(keys::PORTICO_DEFAULT, d)?;
        }
        for (key, value) in p.openapi_extensions.iter().filter(|(k, _)| !keys::PARAMETER_KEYS.contains(&k.as_str())) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

struct Responses<'a> {
    oas: OasVersion,
    def: &'a ApiDefinition,
}

struct DefaultResponse<'a> {
    oas: OasVersion,
    def: &'a ApiDefinition,
}

impl Serialize for DefaultResponse<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("description", "response example")?;
        if self.def.cors {
            let header = match self.oas {
                OasVersion::V2 => serde_json::json!({"type": "string", "default": "*"}),
                OasVersion::V3 => serde_json::json!({"schema": {"type": "string", "default": "*"}}),
            };
            map.serialize_entry("headers", &serde_json::json!({"Access-Control-Allow-Origin": header}))?;
        }
        if self.oas == OasVersion::V3 {
            samples(&mut map, self.def)?;
        }
        map.end()
    }
}

fn samples<M: SerializeMap>(map: &mut M, def: &ApiDefinition) -> Result<(), M::Error> {
    if let Some(sample) = &def.result_normal_sample {
        map.serialize_entry(keys::NORMAL_SAMPLE, sample)?;
    }
    if let Some(sample) = &def.result_failure_sample {
        map.serialize_entry(keys::FAILURE_SAMPLE, sample)?;
    }
    Ok(())
}

/// Swagger puts the samples beside `default` in the responses map; OpenAPI 3 allows only
/// status codes there, so they move inside the default response.
impl Serialize for Responses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("default", &DefaultResponse { oas: self.oas, def: self.def })?;
        if self.oas == OasVersion::V2 {
            samples(&mut map, self.def)?;
        }
        map.end()
    }
}

struct BackendParams<'a> {
    oas: OasVersion,
    params: &'a [BackendParam],
}

impl Serialize for BackendParams<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.params.len()))?;
        for p in self.params {
            seq.serialize_element(&BackendParamSer { oas: self.oas, p })?;
        }
        seq.end()
    }
}

struct BackendParamSer<'a> {
    oas: OasVersion,
    p: &'a BackendParam,
}

impl Serialize for BackendParamSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.p;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &p.name)?;
        map.serialize_entry("value", &p.value)?;
        // APIG's Swagger exports spell locations in lower case, its OpenAPI 3 exports in upper.
        match self.oas {
            OasVersion::V2 => map.serialize_entry("in", location_key(p.location))?,
            OasVersion::V3 => map.serialize_entry("in", p.location.as_str())?,
        }
        map.serialize_entry("origin", p.origin.as_str())?;
        if let Some(remark) = &p.remark {
            map.serialize_entry("description", remark)?;
        }
        map.end()
    }
}

fn scheme_key(protocol: BackendProtocol) -> &'static str {
    match protocol {
        BackendProtocol::Http => "http",
        BackendProtocol::Https => "https",
        BackendProtocol::Grpc => "grpc",
        BackendProtocol::Grpcs => "grpcs",
    }
}

/// `httpEndpoints`, `httpVpcEndpoints` or `httpVpcMemberGroupEndpoints`, of an API or a policy.
struct HttpEndpoint<'a> {
    names: &'a HashMap<String, String>,
    address: Option<&'a str>,
    channel: Option<&'a portico_model::VpcChannelInfo>,
    member_groups: &'a [MemberGroupUrlInfo],
    protocol: BackendProtocol,
    method: Method,
    path: &'a str,
    timeout: Option<i64>,
    retry_count: &'a str,
    enable_client_ssl: Option<bool>,
    enable_sm_channel: Option<bool>,
    remark: Option<&'a str>,
    version: Option<&'a str>,
}

impl HttpEndpoint<'_> {
    fn kind(&self, vpc_channel_status: i32) -> (&'static str, &'static str) {
        match vpc_channel_status {
            1 => ("HTTP-VPC", "httpVpcEndpoints"),
            4 => ("HTTP-VPC-MEMBER-GROUP", "httpVpcMemberGroupEndpoints"),
            _ => ("HTTP", "httpEndpoints"),
        }
    }
}

impl Serialize for HttpEndpoint<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(a) = self.address {
            map.serialize_entry("address", a)?;
        }
        if let Some(c) = self.channel {
            map.serialize_entry("name", name_of(self.names, &c.vpc_channel_id))?;
            if let Some(h) = &c.vpc_channel_proxy_host {
                map.serialize_entry("proxyHost", h)?;
            }
        }
        if !self.member_groups.is_empty() {
            let infos: Vec<Value> = self
                .member_groups
                .iter()
                .map(|m| {
                    let mut o = serde_json::json!({
                        "name": name_of(self.names, &m.member_group_id),
                        "scheme": scheme_key(m.req_protocol),
                        "method": m.req_method.as_str(),
                    });
                    if let Some(uri) = &m.req_uri {
                        o["path"] = Value::from(uri.as_str());
                    }
                    o
                })
                .collect();
            map.serialize_entry("memberGroupUrlInfos", &infos)?;
        }
        map.serialize_entry("scheme", scheme_key(self.protocol))?;
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("path", self.path)?;
        if let Some(t) = self.timeout {
            map.serialize_entry("timeout", &t)?;
        }
        map.serialize_entry("retryCount", self.retry_count)?;
        if let Some(b) = self.enable_client_ssl {
            map.serialize_entry("enableClientSsl", &b)?;
        }
        if let Some(b) = self.enable_sm_channel {
            map.serialize_entry("enableSmChannel", &b)?;
        }
        if let Some(r) = self.remark {
            map.serialize_entry("description", r)?;
        }
        if let Some(v) = self.version {
            map.serialize_entry("version", v)?;
        }
        map.end()
    }
}

struct FunctionEndpoint<'a> {
    urn: &'a str,
    version: Option<&'a str>,
    invocation: &'static str,
    network: &'static str,
    alias_urn: Option<&'a str>,
    timeout: Option<i64>,
    remark: Option<&'a str>,
    req_protocol: Option<&'a str>,
}

impl FunctionEndpoint<'_> {
    fn of_api(f: &ApiFunc) -> FunctionEndpoint<'_> {
        FunctionEndpoint {
            urn: &f.function_urn,
            version: f.version.as_deref(),
            invocation: f.invocation_type.as_str(),
            network: f.network_type.as_str(),
            alias_urn: f.alias_urn.as_deref(),
            timeout: Some(f.timeout),
            remark: f.remark.as_deref(),
            req_protocol: f.req_protocol.as_deref(),
        }
    }
}

impl Serialize for FunctionEndpoint<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("function-urn", self.urn)?;
        if let Some(v) = self.version {
            map.serialize_entry("version", v)?;
        }
        map.serialize_entry("invocation-type", self.invocation)?;
        map.serialize_entry("network-type", self.network)?;
        if let Some(a) = self.alias_urn {
            map.serialize_entry("alias-urn", a)?;
        }
        if let Some(t) = self.timeout {
            map.serialize_entry("timeout", &t)?;
        }
        if let Some(r) = self.remark {
            map.serialize_entry("description", r)?;
        }
        if let Some(p) = self.req_protocol {
            map.serialize_entry("req_protocol", p)?;
        }
        map.end()
    }
}

struct MockEndpoint<'a> {
    content: Option<&'a str>,
    remark: Option<&'a str>,
    version: Option<&'a str>,
}

impl Serialize for MockEndpoint<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(c) = self.content {
            map.serialize_entry("result-content", c)?;
        }
        if let Some(r) = self.remark {
            map.serialize_entry("description", r)?;
        }
        if let Some(v) = self.version {
            map.serialize_entry("version", v)?;
        }
        map.end()
    }
}

enum Endpoint<'a> {
    Http(HttpEndpoint<'a>, i32),
    Function(FunctionEndpoint<'a>),
    Mock(MockEndpoint<'a>),
}

impl Endpoint<'_> {
    /// The backend's `type` and the key its endpoint object goes under.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Endpoint::Http(h, status) => h.kind(*status),
            Endpoint::Function(_) => ("FUNCTION", "functionEndpoints"),
            Endpoint::Mock(_) => ("MOCK", "mockEndpoints"),
        }
    }

    fn serialize_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let key = self.kind().1;
        match self {
            Endpoint::Http(h, _) => map.serialize_entry(key, h),
            Endpoint::Function(f) => map.serialize_entry(key, f),
            Endpoint::Mock(m) => map.serialize_entry(key, m),
        }
    }
}

fn http_endpoint<'a>(names: &'a HashMap<String, String>, b: &'a BackendApi) -> HttpEndpoint<'a> {
    HttpEndpoint {
        names,
        address: b.url_domain.as_deref(),
        channel: b.vpc_channel_info.as_ref(),
        member_groups: &b.member_group_url_infos,
        protocol: b.req_protocol,
        method: b.req_method,
        path: &b.req_uri,
        timeout: Some(b.timeout),
        retry_count: &b.retry_count,
        enable_client_ssl: b.enable_client_ssl,
        enable_sm_channel: b.enable_sm_channel,
        remark: b.remark.as_deref(),
        version: b.version.as_deref(),
    }
}

fn mock_endpoint(m: &ApiMock) -> MockEndpoint<'_> {
    MockEndpoint { content: m.result_content.as_deref(), remark: m.remark.as_deref(), version: m.version.as_deref() }
}

struct Backend<'a> {
    oas: OasVersion,
    params: &'a [BackendParam],
    endpoint: Endpoint<'a>,
    authorizer_id: Option<&'a str>,
}

impl<'a> Backend<'a> {
    fn of(e: &Export<'a>, def: &'a ApiDefinition) -> Option<Backend<'a>> {
        let (endpoint, authorizer_id) = match def.backend_type {
            BackendType::Http | BackendType::Grpc => {
                let b = def.backend_api.as_ref()?;
                (Endpoint::Http(http_endpoint(e.names, b), b.vpc_channel_status), b.authorizer_id.as_deref())
            }
            BackendType::Function => {
                let f = def.func_info.as_ref()?;
                (Endpoint::Function(FunctionEndpoint::of_api(f)), f.authorizer_id.as_deref())
            }
            BackendType::Mock => {
                let m = def.mock_info.as_ref()?;
                (Endpoint::Mock(mock_endpoint(m)), m.authorizer_id.as_deref())
            }
        };
        Some(Backend { oas: e.oas, params: &def.backend_params, endpoint, authorizer_id })
    }
}

impl Serialize for Backend<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", self.endpoint.kind().0)?;
        if !self.params.is_empty() {
            map.serialize_entry("parameters", &BackendParams { oas: self.oas, params: self.params })?;
        }
        self.endpoint.serialize_into(&mut map)?;
        if let Some(id) = self.authorizer_id {
            map.serialize_entry("authorizerId", id)?;
        }
        map.end()
    }
}

struct Policies<'e, 'a> {
    export: &'e Export<'a>,
    def: &'a ApiDefinition,
}

impl Policies<'_, '_> {
    fn is_empty(&self) -> bool {
        self.def.policies().next().is_none()
    }
}

impl Serialize for Policies<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (e, d) = (self.export, self.def);
        let mut seq = s.serialize_seq(None)?;
        for p in &d.policy_https {
            let endpoint = HttpEndpoint {
                names: e.names,
                address: p.url_domain.as_deref(),
                channel: p.vpc_channel_info.as_ref(),
                member_groups: &p.member_group_url_infos,
                protocol: p.req_protocol,
                method: p.req_method,
                path: &p.req_uri,
                timeout: p.timeout,
                retry_count: &p.retry_count,
                enable_client_ssl: None,
                enable_sm_channel: p.enable_sm_channel,
                remark: None,
                version: None,
            };
            let status = p.vpc_channel_status;
            seq.serialize_element(&Policy {
                oas: e.oas,
                common: &p.common,
                endpoint: Endpoint::Http(endpoint, status),
            })?;
        }
        for p in &d.policy_functions {
            let endpoint = FunctionEndpoint {
                urn: &p.function_urn,
                version: p.version.as_deref(),
                invocation: p.invocation_type.as_str(),
                network: p.network_type.as_str(),
                alias_urn: p.alias_urn.as_deref(),
                timeout: p.timeout,
                remark: None,
                req_protocol: p.req_protocol.as_deref(),
            };
            seq.serialize_element(&Policy { oas: e.oas, common: &p.common, endpoint: Endpoint::Function(endpoint) })?;
        }
        for p in &d.policy_mocks {
            let endpoint = MockEndpoint { content: p.result_content.as_deref(), remark: None, version: None };
            seq.serialize_element(&Policy { oas: e.oas, common: &p.common, endpoint: Endpoint::Mock(endpoint) })?;
        }
        seq.end()
    }
}

struct Policy<'a> {
    oas: OasVersion,
    common: &'a PolicyCommon,
    endpoint: Endpoint<'a>,
}

impl Serialize for Policy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.common;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", self.endpoint.kind().0)?;
        map.serialize_entry("name", &c.name)?;
        map.serialize_entry("effectMode", c.effect_mode.as_str())?;
        if !c.backend_params.is_empty() {
            map.serialize_entry("parameters", &BackendParams { oas: self.oas, params: &c.backend_params })?;
        }
        self.endpoint.serialize_into(&mut map)?;
        let conditions: Vec<ConditionSer> = c.conditions.iter().map(ConditionSer).collect();
        map.serialize_entry("conditions", &conditions)?;
        if let Some(id) = &c.authorizer_id {
            map.serialize_entry("authorizerId", id)?;
        }
        map.end()
    }
}

struct ConditionSer<'a>(&'a Condition);

pub(crate) fn condition_type_key(t: ConditionType) -> &'static str {
    match t {
        ConditionType::Exact => "equal",
        ConditionType::Enum => "enum",
        ConditionType::Pattern => "pattern",
    }
}

pub(crate) fn condition_origin_key(o: ConditionOrigin) -> &'static str {
    match o {
        ConditionOrigin::Param => "request",
        other => other.as_str(),
    }
}

/// Condition fields beside `type`, `value` and `origin`, by their document key.
pub(crate) const CONDITION_NAMES: [&str; 6] =
    ["parameter", "system-parameter", "cookie", "authorizer-parameter", "mapped-parameter", "mapped-location"];

impl Serialize for ConditionSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut map = s.serialize_map(None)?;
        if let Some(t) = c.condition_type {
            map.serialize_entry("type", condition_type_key(t))?;
        }
        map.serialize_entry("value", &c.condition_value)?;
        map.serialize_entry("origin", condition_origin_key(c.condition_origin))?;
        let names = [
            &c.req_param_name,
            &c.sys_param_name,
            &c.cookie_param_name,
            &c.frontend_authorizer_param_name,
            &c.mapped_param_name,
            &c.mapped_param_location,
        ];
        for (key, value) in CONDITION_NAMES.iter().zip(names) {
            if let Some(v) = value {
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}
