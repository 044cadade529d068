//! Settings: defaults, then the TOML file (`--config` / `PORTICO_CONFIG`), then environment
//! variables (`PORTICO_…`) and flags. clap merges the last two, so a flag beats its variable.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use clap::Args;
use portico_gateway::ConnectionLimits;
use portico_store::PgTimeouts;
use serde::Deserialize;

/// Flags (and their environment variables) every command takes.
#[derive(Args, Debug, Clone)]
pub struct SettingsArgs {
    /// Address of the management API.
    #[arg(long, env = "PORTICO_LISTEN")]
    listen: Option<String>,
    /// Address of the data plane (the gateway serving published APIs).
    #[arg(long, env = "PORTICO_GATEWAY_LISTEN")]
    gateway_listen: Option<String>,
    /// Directory holding the database and credentials.toml.
    #[arg(long, env = "PORTICO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The database: `postgres://…` for PostgreSQL (many nodes); without it, the SQLite file
    /// `portico.db` in the data directory.
    #[arg(long, env = "PORTICO_DATABASE", hide_env_values = true)]
    database: Option<DatabaseUrl>,
    /// PostgreSQL: how long a request waits for a database connection before it fails with
    /// 503, in ms.
    #[arg(long, env = "PORTICO_DATABASE_ACQUIRE_TIMEOUT_MS")]
    database_acquire_timeout_ms: Option<u64>,
    /// PostgreSQL: the longest a statement may run (the server's `statement_timeout`), in ms.
    #[arg(long, env = "PORTICO_DATABASE_STATEMENT_TIMEOUT_MS")]
    database_statement_timeout_ms: Option<u64>,
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, env = "PORTICO_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "PORTICO_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// How often this node renews its lease in the database, in ms.
    #[arg(long, env = "PORTICO_HEARTBEAT_INTERVAL_MS")]
    heartbeat_interval_ms: Option<u64>,
    /// How long a node may go without a heartbeat before the others take it for dead, in ms.
    #[arg(long, env = "PORTICO_NODE_LEASE_MS")]
    node_lease_ms: Option<u64>,
    /// Management listener: how long a client may take to send a request head, in ms.
    #[arg(long, env = "PORTICO_HEADER_READ_TIMEOUT_MS")]
    header_read_timeout_ms: Option<u64>,
    /// Management listener: how long a connection may stay idle, in ms.
    #[arg(long, env = "PORTICO_IDLE_TIMEOUT_MS")]
    idle_timeout_ms: Option<u64>,
    /// Management listener: connections open at once.
    #[arg(long, env = "PORTICO_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Gateway listener: how long a client may take to send a request head, in ms.
    #[arg(long, env = "PORTICO_GATEWAY_HEADER_READ_TIMEOUT_MS")]
    gateway_header_read_timeout_ms: Option<u64>,
    /// Gateway listener: how long a connection may stay idle, in ms.
    #[arg(long, env = "PORTICO_GATEWAY_IDLE_TIMEOUT_MS")]
    gateway_idle_timeout_ms: Option<u64>,
    /// Gateway listener: connections open at once.
    #[arg(long, env = "PORTICO_GATEWAY_MAX_CONNECTIONS")]
    gateway_max_connections: Option<usize>,
    /// Management listener: PEM certificate chain; with --tls-key, it speaks https only.
    #[arg(long, env = "PORTICO_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Management listener: PEM private key of --tls-cert.
    #[arg(long, env = "PORTICO_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Load balancers and proxies (addresses, CIDR blocks; comma-separated) whose
    /// X-Forwarded-For, X-Real-IP and PROXY headers name the client.
    #[arg(long, env = "PORTICO_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
    /// Management listener: every connection starts with a PROXY protocol header (v1 or v2).
    #[arg(long, env = "PORTICO_PROXY_PROTOCOL", num_args = 0..=1, default_missing_value = "true")]
    proxy_protocol: Option<bool>,
    /// Gateway listener: every connection starts with a PROXY protocol header (v1 or v2).
    #[arg(long, env = "PORTICO_GATEWAY_PROXY_PROTOCOL", num_args = 0..=1, default_missing_value = "true")]
    gateway_proxy_protocol: Option<bool>,
}

/// The settings a client of a running server reads: where the server listens and where its
/// `credentials.toml` is. The server's other flags would do nothing there, so they are not offered.
#[derive(Args, Debug, Clone)]
pub struct ClientSettingsArgs {
    /// Address of the management API.
    #[arg(long, env = "PORTICO_LISTEN")]
    listen: Option<String>,
    /// Directory holding credentials.toml.
    #[arg(long, env = "PORTICO_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, env = "PORTICO_CONFIG")]
    config: Option<PathBuf>,
}

impl From<ClientSettingsArgs> for SettingsArgs {
    fn from(client: ClientSettingsArgs) -> SettingsArgs {
        SettingsArgs {
            listen: client.listen,
            data_dir: client.data_dir,
            config: client.config,
            gateway_listen: None,
            database: None,
            database_acquire_timeout_ms: None,
            database_statement_timeout_ms: None,
            log_format: None,
            heartbeat_interval_ms: None,
            node_lease_ms: None,
            header_read_timeout_ms: None,
            idle_timeout_ms: None,
            max_connections: None,
            gateway_header_read_timeout_ms: None,
            gateway_idle_timeout_ms: None,
            gateway_max_connections: None,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: None,
            proxy_protocol: None,
            gateway_proxy_protocol: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The configuration file's keys; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<DatabaseUrl>,
    database_acquire_timeout_ms: Option<u64>,
    database_statement_timeout_ms: Option<u64>,
    token_ttl_hours: Option<u32>,
    group_domain_suffix: Option<String>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    header_read_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Option<Vec<String>>,
    proxy_protocol: Option<bool>,
    #[serde(default)]
    gateway: GatewayFileSettings,
    #[serde(default)]
    cluster: ClusterFileSettings,
}

/// A database URL. It prints (`Display`, `Debug`) without its password, so that settings and
/// errors can show it; [`DatabaseUrl::expose`] gives the whole URL to connect with.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL as given, password included.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for DatabaseUrl {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(DatabaseUrl(s.to_owned()))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_passwords(&self.0))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&mask_passwords(&self.0), f)
    }
}

/// `text` with every password that a URL (`scheme://user:password@host`) or a connection
/// parameter (`password=…`, as in `?password=` or libpq's `key=value` strings) holds replaced by
/// `***`. Errors are passed through it before they are printed, since a library's message may
/// quote a URL or a configuration line. When unsure where a password ends it masks more: a
/// password may hold `/`, `?` or `#` unencoded, so the user part runs to the last `@` before a
/// space or a quote.
pub fn mask_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let token_end = tail.find(|c: char| c.is_whitespace() || "\"'`".contains(c)).unwrap_or(tail.len());
        let (token, after) = tail.split_at(token_end);
        match token.rfind('@').and_then(|at| token[..at].find(':').map(|colon| (colon, at))) {
            Some((colon, at)) => {
                out.push_str(&token[..=colon]);
                out.push_str("***");
                out.push_str(&token[at..]);
            }
            None => out.push_str(token),
        }
        rest = after;
    }
    out.push_str(rest);
    mask_password_parameters(&out)
}

fn mask_password_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(KEY) {
        let value_start = from + found + KEY.len();
        let value_end = text[value_start..]
            .find(|c: char| c.is_whitespace() || "&\"'`".contains(c))
            .map_or(text.len(), |end| value_start + end);
        out.push_str(&text[copied..value_start]);
        if value_end > value_start {
            out.push_str("***");
        }
        copied = value_end;
        from = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// The `[cluster]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFileSettings {
    heartbeat_interval_ms: Option<u64>,
    node_lease_ms: Option<u64>,
}

/// The resolved node-lease settings (`Store::heartbeat`).
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub heartbeat_interval: std::time::Duration,
    /// Longer than two heartbeat intervals, so one late heartbeat does not kill a node.
    pub node_lease: std::time::Duration,
}

/// The `[gateway]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayFileSettings {
    listen: Option<String>,
    max_body_bytes: Option<usize>,
    max_buffered_bytes: Option<usize>,
    reload_interval_ms: Option<u64>,
    decoded_versions: Option<usize>,
    workers: Option<usize>,
    header_read_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    backend_ca_file: Option<PathBuf>,
    proxy_protocol: Option<bool>,
    #[serde(default)]
    functions: HashMap<String, String>,
}

/// The resolved data-plane settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub listen: String,
    pub max_body_bytes: usize,
    /// The memory request bodies held whole may take together.
    pub max_buffered_bytes: usize,
    /// The shortest time between the starts of two route-table rebuilds.
    pub reload_interval: std::time::Duration,
    /// Published versions kept decoded in memory (`portico_gateway::versions::VersionCache`).
    pub decoded_versions: usize,
    /// Gateway threads, each with its own single-threaded runtime.
    pub workers: usize,
    /// Certificate chain and private key (PEM): the gateway listener speaks TLS when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub backend_ca_file: Option<PathBuf>,
    pub functions: HashMap<String, String>,
    /// Time and connection limits of the gateway listener.
    pub connections: ConnectionLimits,
    /// Whether every connection to the gateway listener starts with a PROXY protocol header.
    pub proxy_protocol: bool,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    /// A `postgres://` URL, or `None` for the SQLite file in `data_dir`.
    pub database: Option<DatabaseUrl>,
    /// How long the store waits on PostgreSQL.
    pub database_timeouts: PgTimeouts,
    pub token_ttl: time::Duration,
    pub group_domain_suffix: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub gateway: GatewaySettings,
    pub cluster: ClusterSettings,
    /// Time and connection limits of the management listener.
    pub connections: ConnectionLimits,
    /// Certificate chain and private key (PEM): the management listener speaks TLS when set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The proxies whose word on the client's address is taken, as given (each one checked).
    pub trusted_proxies: Vec<String>,
    /// Whether every connection to the management listener starts with a PROXY protocol header.
    pub proxy_protocol: bool,
}

impl Settings {
    pub fn load(args: SettingsArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("invalid configuration in {}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let heartbeat_ms = args.heartbeat_interval_ms.or(file.cluster.heartbeat_interval_ms).unwrap_or(2000).max(10);
        let lease_ms = args.node_lease_ms.or(file.cluster.node_lease_ms).unwrap_or(10_000);
        if lease_ms <= 2 * heartbeat_ms {
            anyhow::bail!("node_lease_ms ({lease_ms}) must be more than twice heartbeat_interval_ms ({heartbeat_ms})");
        }
        let connections = connection_limits(
            args.header_read_timeout_ms.or(file.header_read_timeout_ms),
            args.idle_timeout_ms.or(file.idle_timeout_ms),
            args.max_connections.or(file.max_connections),
        );
        let gateway_connections = connection_limits(
            args.gateway_header_read_timeout_ms.or(file.gateway.header_read_timeout_ms),
            args.gateway_idle_timeout_ms.or(file.gateway.idle_timeout_ms),
            args.gateway_max_connections.or(file.gateway.max_connections),
        );
        let defaults = portico_gateway::GatewayConfig::default();
        let trusted_proxies = args.trusted_proxies.or(file.trusted_proxies).unwrap_or_default();
        portico_gateway::TrustedProxies::parse(&trusted_proxies)?;
        let database_defaults = PgTimeouts::default();
        let millis = |ms: Option<u64>, default| ms.map_or(default, |ms| std::time::Duration::from_millis(ms.max(1)));
        let database_timeouts = PgTimeouts {
            acquire: millis(
                args.database_acquire_timeout_ms.or(file.database_acquire_timeout_ms),
                database_defaults.acquire,
            ),
            statement: millis(
                args.database_statement_timeout_ms.or(file.database_statement_timeout_ms),
                database_defaults.statement,
            ),
        };
        Ok(Settings {
            database_timeouts,
            connections,
            tls: match (args.tls_cert.or(file.tls_cert), args.tls_key.or(file.tls_key)) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                _ => anyhow::bail!("tls_cert and tls_key go together"),
            },
            trusted_proxies,
            proxy_protocol: args.proxy_protocol.or(file.proxy_protocol).unwrap_or(false),
            cluster: ClusterSettings {
                heartbeat_interval: std::time::Duration::from_millis(heartbeat_ms),
                node_lease: std::time::Duration::from_millis(lease_ms),
            },
            listen: args.listen.or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("./portico-data")),
            database: args.database.or(file.database),
            token_ttl: time::Duration::hours(file.token_ttl_hours.unwrap_or(24).into()),
            group_domain_suffix: file.group_domain_suffix.unwrap_or_else(|| "apig.localhost".into()),
            log_format: args.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            log_filter: std::env::var("RUST_LOG").ok().or(file.log).unwrap_or_else(|| "info".into()),
            gateway: GatewaySettings {
                tls: match (file.gateway.tls_cert, file.gateway.tls_key) {
                    (Some(cert), Some(key)) => Some((cert, key)),
                    (None, None) => None,
                    _ => anyhow::bail!("gateway.tls_cert and gateway.tls_key go together"),
                },
                backend_ca_file: file.gateway.backend_ca_file,
                workers: file.gateway.workers.filter(|w| *w > 0).unwrap_or_else(|| {
                    std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1)
                }),
                listen: args.gateway_listen.or(file.gateway.listen).unwrap_or_else(|| "127.0.0.1:8081".into()),
                max_body_bytes: file.gateway.max_body_bytes.unwrap_or(defaults.max_body_bytes),
                max_buffered_bytes: file.gateway.max_buffered_bytes.unwrap_or(defaults.max_buffered_bytes),
                reload_interval: std::time::Duration::from_millis(
                    file.gateway.reload_interval_ms.unwrap_or(200).max(10),
                ),
                decoded_versions: file
                    .gateway
                    .decoded_versions
                    .unwrap_or(portico_gateway::versions::DEFAULT_CAPACITY)
                    .max(1),
                functions: file.gateway.functions,
                connections: gateway_connections,
                proxy_protocol: args.gateway_proxy_protocol.or(file.gateway.proxy_protocol).unwrap_or(false),
            },
        })
    }
}

impl Settings {
    /// The settings in the configuration file's layout, for `portico config check`. Nothing
    /// secret is in it: the database URL prints without its password, and the functions'
    /// URLs are masked the same way.
    pub fn effective(&self) -> toml::Table {
        use toml::Value;
        let millis = |d: std::time::Duration| Value::Integer(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let count = |n: usize| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let path = |p: &std::path::Path| Value::String(p.display().to_string());
        let mut gateway = toml::Table::new();
        gateway.insert("listen".into(), self.gateway.listen.clone().into());
        gateway.insert("max_body_bytes".into(), count(self.gateway.max_body_bytes));
        gateway.insert("max_buffered_bytes".into(), count(self.gateway.max_buffered_bytes));
        gateway.insert("reload_interval_ms".into(), millis(self.gateway.reload_interval));
        gateway.insert("decoded_versions".into(), count(self.gateway.decoded_versions));
        gateway.insert("workers".into(), count(self.gateway.workers));
        gateway.insert("header_read_timeout_ms".into(), millis(self.gateway.connections.header_read_timeout));
        gateway.insert("idle_timeout_ms".into(), millis(self.gateway.connections.idle_timeout));
        gateway.insert("max_connections".into(), count(self.gateway.connections.max_connections));
        if let Some((cert, key)) = &self.gateway.tls {
            gateway.insert("tls_cert".into(), path(cert));
            gateway.insert("tls_key".into(), path(key));
        }
        if let Some(ca) = &self.gateway.backend_ca_file {
            gateway.insert("backend_ca_file".into(), path(ca));
        }
        gateway.insert("proxy_protocol".into(), self.gateway.proxy_protocol.into());
        let functions: toml::Table =
            self.gateway.functions.iter().map(|(name, url)| (name.clone(), mask_passwords(url).into())).collect();
        gateway.insert("functions".into(), Value::Table(functions));
        let mut cluster = toml::Table::new();
        cluster.insert("heartbeat_interval_ms".into(), millis(self.cluster.heartbeat_interval));
        cluster.insert("node_lease_ms".into(), millis(self.cluster.node_lease));

        let mut table = toml::Table::new();
        table.insert("listen".into(), self.listen.clone().into());
        table.insert("data_dir".into(), path(&self.data_dir));
        if let Some(url) = &self.database {
            table.insert("database".into(), url.to_string().into());
        }
        table.insert("database_acquire_timeout_ms".into(), millis(self.database_timeouts.acquire));
        table.insert("database_statement_timeout_ms".into(), millis(self.database_timeouts.statement));
        table.insert("token_ttl_hours".into(), Value::Integer(self.token_ttl.whole_hours()));
        table.insert("group_domain_suffix".into(), self.group_domain_suffix.clone().into());
        let log_format = match self.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        table.insert("log_format".into(), log_format.into());
        table.insert("log".into(), self.log_filter.clone().into());
        table.insert("header_read_timeout_ms".into(), millis(self.connections.header_read_timeout));
        table.insert("idle_timeout_ms".into(), millis(self.connections.idle_timeout));
        table.insert("max_connections".into(), count(self.connections.max_connections));
        if let Some((cert, key)) = &self.tls {
            table.insert("tls_cert".into(), path(cert));
            table.insert("tls_key".into(), path(key));
        }
        table.insert("trusted_proxies".into(), self.trusted_proxies.clone().into());
        table.insert("proxy_protocol".into(), self.proxy_protocol.into());
        table.insert("gateway".into(), Value::Table(gateway));
        table.insert("cluster".into(), Value::Table(cluster));
        table
    }
}

/// A listener's limits: the given ones, the defaults for the others (none may be zero).
fn connection_limits(header_read_ms: Option<u64>, idle_ms: Option<u64>, max: Option<usize>) -> ConnectionLimits {
    let defaults = ConnectionLimits::default();
    let millis = |ms: Option<u64>, default| ms.map_or(default, |ms| std::time::Duration::from_millis(ms.max(1)));
    ConnectionLimits {
        header_read_timeout: millis(header_read_ms, defaults.header_read_timeout),
        idle_timeout: millis(idle_ms, defaults.idle_timeout),
        max_connections: max.map_or(defaults.max_connections, |n| n.max(1)),
    }
}

pub fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the repository is what users copy: every key in it must still be one
    /// this version reads (the file tables refuse unknown keys).
    #[test]
    fn the_example_configuration_is_read_with_its_values() {
        let file: FileSettings = toml::from_str(include_str!("../../../portico.example.toml")).expect("example parses");
        assert_eq!(file.listen.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(file.gateway.reload_interval_ms, Some(200));
        assert_eq!(file.gateway.decoded_versions, Some(portico_gateway::versions::DEFAULT_CAPACITY));
        assert_eq!(file.cluster.node_lease_ms, Some(10_000));
        let defaults = ConnectionLimits::default();
        assert_eq!(file.header_read_timeout_ms, Some(defaults.header_read_timeout.as_millis() as u64));
        assert_eq!(file.gateway.idle_timeout_ms, Some(defaults.idle_timeout.as_millis() as u64));
        assert_eq!(file.gateway.max_connections, Some(defaults.max_connections));
        let gateway = portico_gateway::GatewayConfig::default();
        assert_eq!(file.gateway.max_body_bytes, Some(gateway.max_body_bytes));
        assert_eq!(file.gateway.max_buffered_bytes, Some(gateway.max_buffered_bytes));
    }

    #[test]
    fn passwords_are_masked_wherever_a_url_or_parameter_holds_one() {
        for (text, masked) in [
            ("postgres://portico:s3cret@db:5432/portico", "postgres://portico:***@db:5432/portico"),
            ("mysql://root:p@ss/w#rd@db/x and more", "mysql://root:***@db/x and more"),
            (
                "postgres://db/portico?user=p&password=s3cret&sslmode=require",
                "postgres://db/portico?user=p&password=***&sslmode=require",
            ),
            ("host=db PASSWORD=s3cret user=p", "host=db PASSWORD=*** user=p"),
            ("database = \"postgres://u:s3cret@db/x\" oops", "database = \"postgres://u:***@db/x\" oops"),
            ("postgres://user@db/x, postgres://db/x", "postgres://user@db/x, postgres://db/x"),
            ("no url: here", "no url: here"),
        ] {
            assert_eq!(mask_passwords(text), masked);
        }
        let url: DatabaseUrl = "postgres://u:s3cret@db/x".parse().unwrap();
        assert_eq!(url.expose(), "postgres://u:s3cret@db/x");
        let printed = format!("{url} {url:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = toml::from_str::<FileSettings>("[gateway]\nreload_intervall_ms = 5\n").unwrap_err();
        assert!(error.to_string().contains("reload_intervall_ms"), "{error}");
    }
}
