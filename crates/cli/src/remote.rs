//! `portico export` and `portico import`: clients of a running server's management API, signed
//! with the AK/SK in `credentials.toml` exactly as the Huawei Cloud SDK signs, so they work
//! against any Portico (or APIG) the credentials fit.

use std::path::PathBuf;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method};
use indicatif::{ProgressBar, ProgressStyle};
use portico_auth::signature;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use clap::ValueEnum;

use crate::config::{ClientSettingsArgs, Settings};

/// Where the server is and who signs.
#[derive(clap::Args)]
pub struct ServerArgs {
    /// Management API base URL, http:// or https:// [default: <listen address of the settings>,
    /// https when they give a TLS certificate].
    #[arg(long, env = "PORTICO_SERVER")]
    server: Option<String>,
    /// PEM file of the certificate authority that signed an https server's certificate, when
    /// it is not one of the public ones.
    #[arg(long, env = "PORTICO_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Credentials file with project_id, instance_id, access_key and secret_key
    /// [default: <data dir>/credentials.toml].
    #[arg(long, env = "PORTICO_CREDENTIALS")]
    credentials: Option<PathBuf>,
    #[command(flatten)]
    settings: ClientSettingsArgs,
}

/// How much of each API an export holds.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Define {
    /// The frontend definition only.
    Spec,
    /// The frontend and the backend.
    Proxy,
    /// Everything, with the APIG extensions.
    All,
    /// The current drafts rather than the published versions.
    Dev,
}

/// The exported file's format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// The OpenAPI version of an export.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OasVersion {
    /// Swagger 2.0.
    #[value(name = "2.0")]
    Swagger2,
    /// OpenAPI 3.0.
    #[value(name = "3.0")]
    OpenApi3,
}

/// What an import does with an API that already exists.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiMode {
    /// Keep the existing API.
    Merge,
    /// Replace it.
    Override,
}

/// The name a value has on the command line, which is also the one the management API takes.
fn wire_name(value: impl ValueEnum) -> String {
    value.to_possible_value().expect("no value is skipped").get_name().to_owned()
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The group: its id or its name.
    #[arg(long)]
    group: String,
    /// The environment whose published versions are exported: its name or id [default: RELEASE].
    #[arg(long)]
    env: Option<String>,
    /// Definition level.
    #[arg(long, value_enum, default_value_t = Define::Spec)]
    define: Define,
    /// File format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// OpenAPI version.
    #[arg(long, value_enum, default_value_t = OasVersion::Swagger2)]
    oas: OasVersion,
    /// Write to this file [default: the name the server suggests, in the current directory].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A Swagger 2.0 or OpenAPI 3.x document, JSON or YAML.
    file: PathBuf,
    /// Import into this existing group (id or name) instead of a new one named after the title.
    #[arg(long, conflicts_with = "new_group")]
    group: Option<String>,
    /// Create a new group named after the document's `info.title` (the default).
    #[arg(long)]
    new_group: bool,
    /// What to do with an API that already exists.
    #[arg(long, value_enum, default_value_t = ApiMode::Merge)]
    api_mode: ApiMode,
    /// Report what would happen and change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Deserialize)]
struct Credentials {
    project_id: String,
    instance_id: String,
    access_key: String,
    secret_key: String,
}

struct Client {
    http: reqwest::Client,
    /// The server's base URL, as given.
    base: String,
    /// Where requests go: `base`, or for https the loopback relay to it (`tls_relay`).
    endpoint: String,
    host: String,
    credentials: Credentials,
}

impl Client {
    async fn new(args: ServerArgs) -> anyhow::Result<Client> {
        let settings = Settings::load(args.settings.into())?;
        let path = args.credentials.unwrap_or_else(|| settings.data_dir.join("credentials.toml"));
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let credentials: Credentials = toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
        let scheme = if settings.tls.is_some() { "https" } else { "http" };
        let base =
            args.server.unwrap_or_else(|| format!("{scheme}://{}", settings.listen)).trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base).with_context(|| format!("invalid server URL {base}"))?;
        let host_name = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let endpoint = match url.scheme() {
            "http" => base.clone(),
            "https" => {
                let port = url.port_or_known_default().unwrap_or(443);
                let relay = crate::tls_relay::start(host_name, port, args.ca_cert.as_deref()).await?;
                format!("http://{relay}{}", url.path().trim_end_matches('/'))
            }
            other => bail!("unsupported scheme {other}:// in the server URL {base}: use http or https"),
        };
        Ok(Client { http: reqwest::Client::builder().no_proxy().build()?, base, endpoint, host, credentials })
    }

    fn instance_path(&self, rel: &str) -> String {
        format!("/v2/{}/apigw/instances/{}{rel}", self.credentials.project_id, self.credentials.instance_id)
    }

    /// The SDK's headers and signature; `body` None signs `UNSIGNED-PAYLOAD` (multipart).
    fn signed(&self, method: &Method, path_and_query: &str, content_type: &str, body: Option<&[u8]>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = |s: &str| HeaderValue::from_str(s).expect("header values here are ASCII");
        headers.insert(CONTENT_TYPE, value(content_type));
        headers.insert(HOST, value(&self.host));
        headers.insert("x-project-id", value(&self.credentials.project_id));
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
            .expect("a UTC time formats");
        headers.insert("x-sdk-date", value(&date));
        if body.is_none() {
            headers.insert("x-sdk-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        }
        let (raw_path, raw_query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let parts = signature::RequestParts {
            method: method.as_str(),
            raw_path,
            raw_query,
            headers: &headers,
            // An unsigned body is streamed, so its bytes are not at hand; the signer only needs
            // to know there is one, to take the declared `UNSIGNED-PAYLOAD` as its hash.
            body: body.unwrap_or(b"streamed"),
        };
        let authorization = signature::sign(&parts, &self.credentials.access_key, &self.credentials.secret_key);
        headers.insert(http::header::AUTHORIZATION, value(&authorization));
        headers
    }

    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let headers = self.signed(&method, path_and_query, "application/json;charset=utf-8", Some(&bytes));
        let response = self
            .http
            .request(method, format!("{}{path_and_query}", self.endpoint))
            .headers(headers)
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        check(response).await
    }

    async fn json(&self, method: Method, path_and_query: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        Ok(self.send(method, path_and_query, body).await?.json().await?)
    }

    /// The id of the group named or identified by `group`.
    async fn group_id(&self, group: &str) -> anyhow::Result<String> {
        let query = format!("?name={}&precise_search=name&limit=500", encode(group));
        let found = self.json(Method::GET, &self.instance_path(&format!("/api-groups{query}")), None).await?;
        let groups = found["groups"].as_array().cloned().unwrap_or_default();
        if let Some(g) = groups.iter().find(|g| g["name"] == group) {
            return Ok(g["id"].as_str().unwrap_or_default().to_owned());
        }
        match self.json(Method::GET, &self.instance_path(&format!("/api-groups/{}", encode(group))), None).await {
            Ok(g) => Ok(g["id"].as_str().unwrap_or_default().to_owned()),
            Err(_) => bail!("no group is named or has the id {group:?}"),
        }
    }

    /// The id of the environment named or identified by `env`.
    async fn env_id(&self, env: &str) -> anyhow::Result<String> {
        let found =
            self.json(Method::GET, &self.instance_path(&format!("/envs?name={}&limit=500", encode(env))), None).await?;
        let envs = found["envs"].as_array().cloned().unwrap_or_default();
        envs.iter()
            .find(|e| e["name"] == env || e["id"] == env)
            .and_then(|e| e["id"].as_str().map(str::to_owned))
            .with_context(|| format!("no environment is named or has the id {env:?}"))
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Turns an APIG error body into an error message.
async fn check(response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match (body["error_code"].as_str(), body["error_msg"].as_str()) {
        (Some(code), Some(msg)) => bail!("{status}: {code}: {msg}"),
        _ => bail!("{status}: {body}"),
    }
}

fn progress(length: Option<u64>, verb: &str) -> ProgressBar {
    let bar = match length {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})")
                .expect("a valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})").expect("a valid template"),
        ),
    };
    bar.set_message(verb.to_owned());
    bar
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let client = Client::new(args.server).await?;
    let group_id = client.group_id(&args.group).await?;
    let format = wire_name(args.format);
    let mut body = json!({"group_id": group_id, "define": wire_name(args.define), "type": format});
    if args.define != Define::Dev {
        body["env_id"] = match &args.env {
            Some(env) => client.env_id(env).await?.into(),
            None => "DEFAULT_ENVIRONMENT_RELEASE_ID".into(),
        };
    }
    let path = client.instance_path(&format!("/openapi/export?oas_version={}", encode(&wire_name(args.oas))));
    let response = client.send(Method::POST, &path, Some(&body)).await?;
    let suggested = response
        .headers()
        .get(http::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=\"").nth(1))
        .map(|v| v.trim_end_matches('"').replace(['/', '\\'], "_"))
        .unwrap_or_else(|| format!("export.{format}"));
    let output = args.output.unwrap_or_else(|| PathBuf::from(suggested));
    let mut file =
        tokio::fs::File::create(&output).await.with_context(|| format!("cannot create {}", output.display()))?;
    let bar = progress(response.content_length(), "exporting");
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("the download broke off")?;
        file.write_all(&chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    file.flush().await?;
    bar.finish_and_clear();
    eprintln!("exported {} bytes to {}", bar.position(), output.display());
    Ok(())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let client = Client::new(args.server).await?;
    let mut form = reqwest::multipart::Form::new();
    match &args.group {
        Some(group) => {
            form = form.text("is_create_group", "false").text("group_id", client.group_id(group).await?);
        }
        None => form = form.text("is_create_group", "true"),
    }
    form = form.text("api_mode", wire_name(args.api_mode));
    let file =
        tokio::fs::File::open(&args.file).await.with_context(|| format!("cannot open {}", args.file.display()))?;
    let length = file.metadata().await?.len();
    let bar = progress(Some(length), "uploading");
    let counted = bar.clone();
    let stream = file_chunks(file).map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counted.inc(bytes.len() as u64);
        }
        chunk
    });
    let file_name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), length).file_name(file_name);
    form = form.part("file_name", part);
    let path = client.instance_path(if args.dry_run { "/openapi/import?dry_run=true" } else { "/openapi/import" });
    let content_type = format!("multipart/form-data; boundary={}", form.boundary());
    let mut headers = client.signed(&Method::POST, &path, &content_type, None);
    // Signed as sent, but `multipart` sets it again: once on the wire.
    headers.remove(CONTENT_TYPE);
    let response = client
        .http
        .post(format!("{}{path}", client.endpoint))
        .headers(headers)
        .multipart(form)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", client.base))?;
    bar.set_message("importing");
    let result: Value = check(response).await?.json().await?;
    bar.finish_and_clear();
    print!("{}", report(&result, args.dry_run));
    // Scripts and CI pipelines read the exit status, not the report.
    let failed = result["failure"].as_array().map_or(0, Vec::len);
    if failed > 0 {
        let apis = if failed == 1 { "API" } else { "APIs" };
        if args.dry_run {
            bail!("{failed} {apis} would fail to import (dry run)");
        }
        bail!("{failed} {apis} failed to import");
    }
    Ok(())
}

/// Reads a file as a stream of chunks for the upload body.
fn file_chunks(file: tokio::fs::File) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}

/// One line per API, then a summary: what a person reads after an import.
fn report(result: &Value, dry_run: bool) -> String {
    let mut out = String::new();
    let list = |key: &str| result[key].as_array().cloned().unwrap_or_default();
    let route = |v: &Value| format!("{:<7} {}", v["method"].as_str().unwrap_or(""), v["path"].as_str().unwrap_or(""));
    if dry_run {
        out.push_str("dry run: nothing was changed\n");
    }
    for s in list("success") {
        out.push_str(&format!(
            "{:<8} {}  {}\n",
            s["action"].as_str().unwrap_or(""),
            route(&s),
            s["id"].as_str().unwrap_or("")
        ));
    }
    for s in list("ignore") {
        out.push_str(&format!("{:<8} {}  kept {}\n", "ignore", route(&s), s["id"].as_str().unwrap_or("")));
    }
    for s in list("failure") {
        out.push_str(&format!(
            "{:<8} {}  {} {}\n",
            "fail",
            route(&s),
            s["error_code"].as_str().unwrap_or(""),
            s["error_msg"].as_str().unwrap_or("")
        ));
    }
    let created = list("success").iter().filter(|s| s["action"] == "create").count();
    let updated = list("success").len() - created;
    out.push_str(&format!(
        "group {}: {created} created, {updated} updated, {} ignored, {} failed\n",
        result["group_id"].as_str().unwrap_or(""),
        list("ignore").len(),
        list("failure").len()
    ));
    out
}
