//! `portico`: serve the management API, and manage projects, users and credentials in a data
//! directory. Every command opens the same database `serve` uses, so they work with a server
//! running or not.

mod config;
mod remote;
mod tls_relay;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand};
use portico_api::{AppState, DEFAULT_DOMAIN, FirstStart};
use portico_auth::{generate, password};
use portico_gateway::{Authenticator, ClientAddressing, Gateway, GatewayConfig, Origin, TrustedProxies};
use portico_model::{Credential, Project, User, is_project_name, is_user_name, now};
use portico_store::{BackupReader, PgStore, SECRETS_KEY_FILE, SqliteStore, Store, key_fingerprint};
use serde::Serialize;

use config::{Settings, SettingsArgs};

/// mimalloc instead of the system allocator: the gateway allocates and frees small buffers on
/// every request, and glibc's malloc cost about a tenth of its CPU time (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "portico",
    version,
    about = "A self-hosted API gateway that speaks Huawei Cloud APIG's management API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the management API and the gateway (bootstraps the data directory on first start).
    #[command(after_help = "Example:\n  portico serve --config /etc/portico/portico.toml")]
    Serve(SettingsArgs),
    /// Manage projects.
    #[command(after_help = "Example:\n  portico project list --data-dir /var/lib/portico")]
    Project {
        #[command(subcommand)]
        action: ProjectAction,
    },
    /// Manage users.
    #[command(after_help = "Example:\n  portico user list --data-dir /var/lib/portico")]
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage AK/SK credentials.
    #[command(after_help = "Example:\n  portico credential list --data-dir /var/lib/portico")]
    Credential {
        #[command(subcommand)]
        action: CredentialAction,
    },
    /// Check the configuration.
    #[command(after_help = "Example:\n  portico config check --config /etc/portico/portico.toml")]
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  portico completions bash > /etc/bash_completion.d/portico")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Write a consistent snapshot of the database to a file, while servers keep running.
    #[command(
        after_help = "Example:\n  portico backup -o portico-2026-12-07.backup --config /etc/portico/portico.toml"
    )]
    Backup {
        /// The file to write (created 0600; replaced only once the backup is complete).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Load a backup into an empty data directory or database, of either engine.
    #[command(
        after_help = "The target needs the secrets.key of the backed-up node in its data directory.\n\nExample:\n  portico restore portico-2026-12-07.backup --database postgres://portico@db/portico --data-dir /var/lib/portico"
    )]
    Restore {
        /// The backup file written by `portico backup`.
        #[arg(value_name = "FILE")]
        input: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Export a group's API definitions from a running server as a Swagger/OpenAPI file.
    #[command(after_help = "Example:\n  portico export --group shop --format yaml --oas 3.0 -o shop.yaml")]
    Export(remote::ExportArgs),
    /// Import a Swagger/OpenAPI file into a running server and print what became of each API.
    #[command(after_help = "Example:\n  portico import shop.yaml --group shop --api-mode override --dry-run")]
    Import(remote::ImportArgs),
}

/// The shells `portico completions` writes a script for.
#[derive(Clone, Copy, clap::ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Subcommand)]
enum ProjectAction {
    /// Create a project and print its id.
    #[command(after_help = "Example:\n  portico project create shop --data-dir /var/lib/portico")]
    Create {
        /// Project name (letters, digits, `-`, `_`).
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the projects: id, name and creation time.
    #[command(after_help = "Example:\n  portico project list --data-dir /var/lib/portico")]
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Read the file, environment and flags as `serve` would and print the effective
    /// configuration, secrets masked.
    #[command(after_help = "Example:\n  PORTICO_DATABASE=postgres://portico:secret@db/portico portico config check")]
    Check(SettingsArgs),
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user with a generated password and print it.
    #[command(after_help = "Example:\n  portico user add alice --project shop --readonly --data-dir /var/lib/portico")]
    Add {
        /// User name.
        name: String,
        /// A project (id or name) the user may act on; repeatable.
        #[arg(long = "project")]
        projects: Vec<String>,
        /// The user may only read.
        #[arg(long)]
        readonly: bool,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the users: name, projects, whether read-only, creation time.
    #[command(after_help = "Example:\n  portico user list --data-dir /var/lib/portico")]
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Delete a user and its AK/SK pairs (refused for the last user who is not read-only).
    #[command(after_help = "Example:\n  portico user delete alice --data-dir /var/lib/portico")]
    Delete {
        /// User name.
        name: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Set a user's password: a generated one, printed, or the first line of standard input.
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$NEW_PASSWORD\" | portico user passwd alice --stdin --data-dir /var/lib/portico"
    )]
    Passwd {
        /// User name.
        name: String,
        /// Read the new password from the first line of standard input instead of generating one.
        #[arg(long)]
        stdin: bool,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

#[derive(Subcommand)]
enum CredentialAction {
    /// Create an AK/SK pair for a user and print it.
    #[command(after_help = "Example:\n  portico credential create alice --data-dir /var/lib/portico")]
    Create {
        /// User name.
        user: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the AK/SK pairs: access key, user and creation time (never the secret key).
    #[command(after_help = "Example:\n  portico credential list --data-dir /var/lib/portico")]
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Revoke an AK/SK pair: every node refuses it from the next request on.
    #[command(after_help = "Example:\n  portico credential revoke 4F1C0A9E2B7D4E8A9C3B --data-dir /var/lib/portico")]
    Revoke {
        /// The access key.
        access_key: String,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // A blocking task (an export's writer, a dropped route table) must not hold the exit past
    // the stop's deadline.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", config::mask_passwords(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(Settings::load(args)?).await,
        Command::Backup { output, settings } => backup(&Settings::load(settings)?, &output).await,
        Command::Restore { input, settings } => restore(&Settings::load(settings)?, &input).await,
        Command::Export(args) => remote::export(args).await,
        Command::Import(args) => remote::import(args).await,
        Command::Project { action: ProjectAction::Create { name, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            if !is_project_name(&name) {
                bail!("invalid project name {name:?}: use 1–64 letters, digits, '-' and '_'");
            }
            let project = Project { id: generate::hex_id(), name, created_at: now() };
            store.create_project(&project).await?;
            print_toml(&ProjectCreated { project_id: project.id, project_name: project.name })
        }
        Command::User { action: UserAction::Add { name, projects, readonly, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            add_user(store.as_ref(), name, &projects, readonly).await
        }
        Command::Credential { action: CredentialAction::Create { user, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let user = store.user_by_name(&user).await?;
            let credential = Credential {
                access_key: generate::access_key(),
                secret_key: generate::secret_key(),
                user_id: user.id,
                created_at: now(),
            };
            store.create_credential(&credential).await?;
            print_toml(&CredentialCreated {
                user_name: user.name,
                access_key: credential.access_key,
                secret_key: credential.secret_key,
            })
        }
        Command::Project { action: ProjectAction::List { settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let projects = store.list_projects().await?;
            let rows = projects.into_iter().map(|p| vec![p.id, p.name, rfc3339(p.created_at)]).collect();
            print_table(&["ID", "NAME", "CREATED"], rows);
            Ok(())
        }
        Command::User { action: UserAction::List { settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let users = store.list_users().await?;
            let rows = users
                .into_iter()
                .map(|u| {
                    let access = if u.readonly { "read-only" } else { "read-write" };
                    vec![u.name, access.to_owned(), u.projects.join(","), rfc3339(u.created_at)]
                })
                .collect();
            print_table(&["NAME", "ACCESS", "PROJECTS", "CREATED"], rows);
            Ok(())
        }
        Command::User { action: UserAction::Delete { name, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let revoked = store.delete_user(&name).await?;
            println!("deleted user {name}");
            for access_key in revoked {
                println!("revoked credential {access_key}");
            }
            Ok(())
        }
        Command::User { action: UserAction::Passwd { name, stdin, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let given = if stdin { Some(read_password_line()?) } else { None };
            let secret = given.clone().unwrap_or_else(generate::password);
            store.set_user_password(&name, &password::hash(&secret)).await?;
            match given {
                Some(_) => println!("password of {name} changed"),
                None => print_toml(&PasswordChanged { user_name: name, password: secret })?,
            }
            Ok(())
        }
        Command::Credential { action: CredentialAction::List { settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            let credentials = store.list_credentials().await?;
            let rows =
                credentials.into_iter().map(|c| vec![c.access_key, c.user_name, rfc3339(c.created_at)]).collect();
            print_table(&["ACCESS_KEY", "USER", "CREATED"], rows);
            Ok(())
        }
        Command::Credential { action: CredentialAction::Revoke { access_key, settings } } => {
            let store = open_store(&Settings::load(settings)?).await?;
            store.delete_credential(&access_key).await?;
            println!("revoked credential {access_key}");
            Ok(())
        }
        Command::Config { action: ConfigAction::Check(args) } => {
            let settings = Settings::load(args)?;
            print!("{}", toml::to_string(&settings.effective())?);
            Ok(())
        }
        Command::Completions { shell } => {
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(shell, &mut Cli::command(), "portico", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Writes the backup beside `output` and renames it into place once complete, so a failed
/// backup never leaves a file that looks like one.
async fn backup(settings: &Settings, output: &Path) -> anyhow::Result<()> {
    // Opening a store creates what is missing: a mistyped data directory would give an empty
    // backup naming a new key.
    let key_file = settings.data_dir.join(SECRETS_KEY_FILE);
    if key_fingerprint(&key_file)?.is_none() {
        bail!("there is no {}: give the data directory of the node to back up", key_file.display());
    }
    let database = settings.data_dir.join(SQLITE_FILE);
    if settings.database.is_none() && !database.exists() {
        bail!("there is no {}: give the data directory of the node to back up", database.display());
    }
    let store = open_store(settings).await?;
    let mut partial = output.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(&partial).await.with_context(|| format!("cannot write {}", partial.display()))?;
    let mut out = tokio::io::BufWriter::new(file);
    let written = store.backup(&mut out, now()).await;
    let summary = match written {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e).context("the backup failed");
        }
    };
    out.into_inner().sync_all().await?;
    std::fs::rename(&partial, output).with_context(|| format!("cannot write {}", output.display()))?;
    println!("backed up {} rows of {} tables to {}", summary.rows, summary.tables, output.display());
    Ok(())
}

/// Checks the backup's header and the target's secrets key before opening (and so creating)
/// the target database, then restores in one transaction.
async fn restore(settings: &Settings, input: &Path) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(input).await.with_context(|| format!("cannot read {}", input.display()))?;
    let backup = BackupReader::open(tokio::io::BufReader::new(file))
        .await
        .with_context(|| format!("cannot restore {}", input.display()))?;
    let header = backup.header().clone();
    let key_file = settings.data_dir.join(SECRETS_KEY_FILE);
    match key_fingerprint(&key_file)? {
        Some(fingerprint) if fingerprint == header.secrets_key_sha256 => {}
        Some(fingerprint) => bail!(
            "{} is not the key the backup needs: its fingerprint is {fingerprint}, the backup's {}; put the \
             backed-up node's secrets.key there (into a new data directory)",
            key_file.display(),
            header.secrets_key_sha256
        ),
        None => bail!(
            "there is no {}: copy the backed-up node's secrets.key there first (its fingerprint is {})",
            key_file.display(),
            header.secrets_key_sha256
        ),
    }
    let store = open_store(settings).await?;
    let summary = store.restore(backup).await.with_context(|| format!("cannot restore {}", input.display()))?;
    println!(
        "restored {} rows of {} tables from {} (taken {} on {}, schema migration {})",
        summary.rows,
        summary.tables,
        input.display(),
        header.created_at,
        header.engine,
        header.migration
    );
    Ok(())
}

/// Passwords longer than this are refused rather than hashed: they are typed or pasted, and
/// the bound keeps a runaway pipe from filling memory.
const MAX_PASSWORD_BYTES: u64 = 1024;

/// The first line of standard input, without its line ending.
fn read_password_line() -> anyhow::Result<String> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    std::io::stdin().lock().take(MAX_PASSWORD_BYTES + 1).read_line(&mut line).context("cannot read standard input")?;
    if line.len() as u64 > MAX_PASSWORD_BYTES {
        bail!("the password is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password.to_owned())
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Rows under a header, in columns as wide as their longest cell.
fn print_table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[derive(Serialize)]
struct ProjectCreated {
    project_id: String,
    project_name: String,
}

#[derive(Serialize)]
struct UserCreated {
    user_name: String,
    password: String,
    domain: String,
    projects: Vec<String>,
    readonly: bool,
}

#[derive(Serialize)]
struct PasswordChanged {
    user_name: String,
    password: String,
}

#[derive(Serialize)]
struct CredentialCreated {
    user_name: String,
    access_key: String,
    secret_key: String,
}

/// What the first start prints and writes to `credentials.toml`; the key names are a contract.
#[derive(Serialize)]
struct Credentials {
    project_id: String,
    instance_id: String,
    domain: String,
    admin_user: String,
    admin_password: String,
    access_key: String,
    secret_key: String,
}

fn print_toml<T: Serialize>(value: &T) -> anyhow::Result<()> {
    print!("{}", toml::to_string(value)?);
    Ok(())
}

async fn add_user(store: &dyn Store, name: String, projects: &[String], readonly: bool) -> anyhow::Result<()> {
    if !is_user_name(&name) {
        bail!("invalid user name {name:?}: start with a letter; use letters, digits, '-', '_' and '.'");
    }
    let mut ids = Vec::new();
    for p in projects {
        ids.push(store.project(p).await.with_context(|| format!("project {p}"))?.id);
    }
    let secret = generate::password();
    let user = User {
        id: generate::hex_id(),
        name,
        password_hash: password::hash(&secret),
        readonly,
        projects: ids,
        created_at: now(),
    };
    store.create_user(&user).await?;
    let domain = store.setting_or_insert("domain", DEFAULT_DOMAIN).await?;
    print_toml(&UserCreated { user_name: user.name, password: secret, domain, projects: user.projects, readonly })
}

/// The SQLite database in the data directory.
const SQLITE_FILE: &str = "portico.db";

async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&settings.data_dir)
        .with_context(|| format!("cannot create data directory {}", settings.data_dir.display()))?;
    match &settings.database {
        Some(url) if url.expose().starts_with("postgres://") || url.expose().starts_with("postgresql://") => {
            let key_file = settings.data_dir.join(SECRETS_KEY_FILE);
            let store = PgStore::connect_url(url.expose(), &key_file, settings.database_timeouts)
                .await
                .with_context(|| format!("cannot open the PostgreSQL database {url}"))?;
            tracing::info!(database = %url, "storage on PostgreSQL");
            Ok(Arc::new(store))
        }
        Some(other) => bail!("unsupported database \"{other}\": give a postgres:// URL, or none for SQLite"),
        None => {
            let path = settings.data_dir.join(SQLITE_FILE);
            let store = SqliteStore::open(&path).await.with_context(|| format!("cannot open {}", path.display()))?;
            tracing::info!(database = %path.display(), "storage on SQLite");
            Ok(Arc::new(store))
        }
    }
}

/// First start of a data directory: one project, instance, admin user and AK/SK pair, written
/// to `credentials.toml` (0600) and printed once. The file is written before the database
/// commit and only renamed into place after it, so a crash never leaves credentials that do
/// not work, and a second start never overwrites them.
/// The directory of the data directory whose SQLite files custom backends may use as data
/// sources (`docs/livedata.md`).
const LIVEDATA_DIR: &str = "livedata";

async fn bootstrap(store: &dyn Store, data_dir: &Path) -> anyhow::Result<()> {
    let FirstStart { bootstrap, admin_password } = FirstStart::generate();
    let credentials = Credentials {
        project_id: bootstrap.project.id.clone(),
        instance_id: bootstrap.instance.id.clone(),
        domain: bootstrap.domain.clone(),
        admin_user: bootstrap.admin.name.clone(),
        admin_password,
        access_key: bootstrap.credential.access_key.clone(),
        secret_key: bootstrap.credential.secret_key.clone(),
    };
    let text = toml::to_string(&credentials)?;
    let pending = data_dir.join("credentials.toml.new");
    write_private(&pending, &text)?;
    if store.bootstrap(&bootstrap).await? {
        std::fs::rename(&pending, data_dir.join("credentials.toml"))?;
        println!(
            "# Portico bootstrapped {}; these credentials are shown once (also in credentials.toml):",
            data_dir.display()
        );
        print!("{text}");
    } else {
        std::fs::remove_file(&pending)?;
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    config::init_logging(&settings);
    let store = open_store(&settings).await?;
    bootstrap(store.as_ref(), &settings.data_dir).await?;
    // Before serving: this node's lease starts, and tasks of nodes gone (on SQLite, of an earlier
    // run) are marked failed.
    let beat = heartbeat(store.as_ref(), &settings.cluster).await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    // The gateway runs in this process: deployed custom backends are reached on the management
    // listener, over loopback when it listens on every address.
    let mut runtime = listener.local_addr()?;
    if runtime.ip().is_unspecified() {
        runtime.set_ip(if runtime.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    let livedata_dir = settings.data_dir.join(LIVEDATA_DIR);
    std::fs::create_dir_all(&livedata_dir).with_context(|| format!("cannot create {}", livedata_dir.display()))?;
    let state = AppState::load(store.clone(), settings.token_ttl, settings.group_domain_suffix.clone())
        .await?
        .with_livedata_runtime(runtime.to_string())
        .with_livedata_sqlite_dir(livedata_dir);
    let gateway_listener = tokio::net::TcpListener::bind(&settings.gateway.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.gateway.listen))?;

    let metrics = portico_gateway::metrics::install();
    let seen = store.generation();
    let table = portico_gateway::load_routes(store.as_ref()).await?;
    let backend_roots = match &settings.gateway.backend_ca_file {
        Some(path) => portico_gateway::tls::read_certificates(path)?,
        None => Vec::new(),
    };
    let tls = match &settings.gateway.tls {
        Some((cert, key)) => Some(portico_gateway::tls::server_config(cert, key)?),
        None => None,
    };
    let management_tls = match &settings.tls {
        Some((cert, key)) => Some(portico_gateway::tls::server_config(cert, key)?),
        None => None,
    };
    if management_tls.is_some() {
        // A deployed custom backend's frontend API calls this listener's runtime in plain HTTP
        // (docs/configuration.md, `tls_cert`): it cannot reach it while the listener is https.
        tracing::warn!(
            "the management listener speaks TLS: ROMA custom backends deployed on this node cannot reach their runtime"
        );
    }
    let trusted = Arc::new(TrustedProxies::parse(&settings.trusted_proxies)?);
    let management_addressing = ClientAddressing { trusted: trusted.clone(), proxy_protocol: settings.proxy_protocol };
    let gateway_addressing = ClientAddressing { trusted, proxy_protocol: settings.gateway.proxy_protocol };
    let gateway_config = GatewayConfig {
        functions: settings.gateway.functions.clone(),
        max_body_bytes: settings.gateway.max_body_bytes,
        max_buffered_bytes: settings.gateway.max_buffered_bytes,
        backend_roots,
        account: state.config.domain_name.clone(),
        decoded_versions: settings.gateway.decoded_versions,
        ..GatewayConfig::default()
    };
    let authenticator = Authenticator::new(state.token_key.clone());
    let gateway = Arc::new(Gateway::new(table, store.clone(), authenticator, gateway_config)?);
    gateway.set_cluster_nodes(beat.live_nodes);
    let heartbeats = tokio::spawn(keep_lease(store.clone(), gateway.clone(), settings.cluster.clone()));
    let watcher =
        tokio::spawn(portico_gateway::watch(store.clone(), gateway.clone(), seen, settings.gateway.reload_interval));

    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let stop_deadline = {
        let stopped = until_stopped(stopped.clone());
        async move {
            stopped.await;
            tokio::time::sleep(STOP_DEADLINE).await;
        }
    };

    let state = match metrics {
        Some(handle) => state.with_metrics(Arc::new(move || portico_gateway::metrics::render(&handle))),
        None => state,
    };
    let app = portico_api::app(state).merge(portico_console::router());
    tracing::info!(address = %listener.local_addr()?, tls = management_tls.is_some(), "management API listening");
    tracing::info!(
        address = %gateway_listener.local_addr()?,
        tls = tls.is_some(),
        workers = settings.gateway.workers,
        "gateway listening"
    );
    // Port 0 binds a free port: this line tells whoever started the server which one it got.
    println!("listening management={} gateway={}", listener.local_addr()?, gateway_listener.local_addr()?);
    // Served by the gateway's connection handling, for the same time and connection limits.
    let make = move |_local| {
        let app = hyper_util::service::TowerToHyperService::new(app.clone());
        hyper::service::service_fn(move |mut request: axum::extract::Request<hyper::body::Incoming>| {
            // The client's address keys the rate limit of failed logins and signature checks.
            let client = Origin::of(request.extensions()).client;
            request.extensions_mut().insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(client));
            hyper::service::Service::call(&app, request)
        })
    };
    let management = portico_gateway::serve_with(
        listener,
        make,
        management_tls,
        settings.connections,
        management_addressing,
        until_stopped(stopped.clone()),
    );
    let data_plane = portico_gateway::serve_on_threads(
        gateway_listener,
        &gateway,
        tls,
        settings.gateway.connections,
        gateway_addressing,
        settings.gateway.workers,
        until_stopped(stopped),
    );
    let serving = async {
        let (management, data_plane) = tokio::join!(management, data_plane);
        watcher.abort();
        heartbeats.abort();
        match store.leave(now(), TASK_CUT_OFF).await {
            Ok(0) => {}
            Ok(cut_off) => tracing::warn!(cut_off, "async tasks still running at the stop are marked failed"),
            Err(error) => tracing::warn!(%error, "could not end this node's lease; the others will when it expires"),
        }
        management?;
        data_plane
    };
    tokio::select! {
        served = serving => served?,
        () = stop_deadline => tracing::warn!(
            deadline = ?STOP_DEADLINE,
            "requests or the database still held the stop; stopping without them"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long a stop may take once asked (SIGTERM, Ctrl-C): requests in flight get that long to
/// finish and the lease to be given back, whatever the database does, so an orchestrator's
/// usual grace period (10 s or more) ends with the node stopped rather than killed.
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

/// The result of a task whose node stopped before it finished.
const TASK_CUT_OFF: &str = r#"{"error_code":"APIG.9999","error_msg":"The server stopped while the task ran"}"#;

async fn heartbeat(store: &dyn Store, cluster: &config::ClusterSettings) -> anyhow::Result<portico_store::Heartbeat> {
    let lease = time::Duration::try_from(cluster.node_lease)?;
    let beat = store.heartbeat(now(), lease, TASK_CUT_OFF).await?;
    if beat.failed_tasks > 0 {
        tracing::warn!(failed = beat.failed_tasks, "async tasks of stopped nodes are marked failed");
    }
    Ok(beat)
}

/// Renews this node's lease every heartbeat, and tells the gateway how many nodes share the
/// throttling limits. A failed heartbeat is retried at the next one; the lease outlasts two.
async fn keep_lease(store: Arc<dyn Store>, gateway: Arc<Gateway>, cluster: config::ClusterSettings) {
    let mut ticks = tokio::time::interval(cluster.heartbeat_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match heartbeat(store.as_ref(), &cluster).await {
            Ok(beat) => gateway.set_cluster_nodes(beat.live_nodes),
            Err(error) => tracing::warn!(error = %error, "heartbeat failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
