//! A PostgreSQL cluster of a test's own, for tests that need a server with chosen settings
//! (TLS, a server that stops and comes back) rather than the shared one `PORTICO_TEST_POSTGRES`
//! names. It runs Debian's binaries (`/usr/lib/postgresql/*/bin`, which `scripts/postgres.sh`
//! installs), as the `postgres` user when the test runs as root (`initdb` refuses root), on a
//! free loopback port, with `trust` authentication; dropping it stops it and removes its files.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A throwaway PostgreSQL cluster: [`PgCluster::start`] creates and starts it,
/// [`PgCluster::stop`] and [`PgCluster::resume`] take it down and bring it back on the same
/// port with the same settings (a database outage).
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    settings: Vec<String>,
    as_postgres: bool,
}

impl PgCluster {
    /// Creates a cluster, writes `files` into its data directory (readable by the server alone,
    /// as it wants a private key: `server.key`, `server.crt`, or a `pg_hba.conf` that replaces
    /// the generated one) and starts it with `settings` (`postgresql.conf` names and values,
    /// paths relative to the data directory).
    pub fn start(settings: &[(&str, &str)], files: &[(&str, &[u8])]) -> io::Result<PgCluster> {
        let bin = newest_bin_dir()?;
        let as_postgres = run(Command::new("id").arg("-u"))?.stdout.trim_ascii() == b"0";
        let dir = std::env::temp_dir().join(format!("portico-pg-{}", portico_model::new_id()));
        std::fs::create_dir(&dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut settings: Vec<String> = settings.iter().map(|(name, value)| format!("-c {name}={value}")).collect();
        settings.extend([
            format!("-p {port}"),
            format!("-k {}", dir.display()),
            "-c listen_addresses=127.0.0.1".into(),
            "-c fsync=off".into(),
        ]);
        let cluster = PgCluster { bin, dir, port, settings, as_postgres };
        cluster.chown(&cluster.dir)?;
        let data = cluster.data_dir();
        cluster.pg(Command::new(cluster.bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]))?;
        for (name, contents) in files {
            let path = data.join(name);
            std::fs::write(&path, contents)?;
            #[cfg(unix)]
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            cluster.chown(&path)?;
        }
        cluster.resume()?;
        Ok(cluster)
    }

    /// A cluster that accepts TLS connections only (`hostssl` in `pg_hba.conf`), with a
    /// certificate that `authority` issued for `localhost` alone (not `127.0.0.1`): connecting
    /// to `localhost` with `sslmode=verify-full` and the authority's root certificate works,
    /// to `127.0.0.1` it fails on the name.
    pub fn start_tls(authority: &TestAuthority) -> io::Result<PgCluster> {
        let (cert, key) = authority.issue(&["localhost"]);
        let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";
        PgCluster::start(
            &[("ssl", "on"), ("ssl_cert_file", "server.crt"), ("ssl_key_file", "server.key")],
            &[("server.crt", cert.as_bytes()), ("server.key", key.as_bytes()), ("pg_hba.conf", hba.as_bytes())],
        )
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`, the administrator's URL (any password
    /// is accepted).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port the cluster listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once, as a crash or a cut network would (`pg_ctl stop -m immediate`):
    /// open connections break, new ones are refused.
    pub fn stop(&self) -> io::Result<()> {
        self.pg(Command::new(self.bin.join("pg_ctl")).arg("-D").arg(self.data_dir()).args([
            "-m",
            "immediate",
            "-w",
            "stop",
        ]))
    }

    /// Starts the server (again), on the same port with the same settings, and returns once it
    /// accepts connections.
    pub fn resume(&self) -> io::Result<()> {
        self.pg(Command::new(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-o", &self.settings.join(" "), "start"]))
    }

    /// What the server has logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs a PostgreSQL binary, as the `postgres` user when we are root.
    fn pg(&self, command: &mut Command) -> io::Result<()> {
        if self.as_postgres {
            let program = command.get_program().to_owned();
            let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
            run(Command::new("runuser").args(["-u", "postgres", "--"]).arg(program).args(args))?;
        } else {
            run(command)?;
        }
        Ok(())
    }

    fn chown(&self, path: &Path) -> io::Result<()> {
        if self.as_postgres {
            run(Command::new("chown").arg("postgres:").arg(path))?;
        }
        Ok(())
    }
}

/// A certificate authority made for one test.
pub struct TestAuthority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestAuthority {
    /// A new authority whose certificate's common name is `name`.
    pub fn new(name: &str) -> TestAuthority {
        let key = KeyPair::generate().expect("a key pair");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("certificate parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).expect("a self-signed certificate").pem();
        TestAuthority { pem, issuer: Issuer::new(params, key) }
    }

    /// The authority's certificate (PEM): what a client trusts.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate naming `names`, and its private key (PEM both).
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().expect("a key pair");
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let params = CertificateParams::new(names).expect("certificate parameters");
        let cert = params.signed_by(&key, &self.issuer).expect("a certificate");
        (cert.pem(), key.serialize_pem())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest of Debian's PostgreSQL versions installed.
fn newest_bin_dir() -> io::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(Result::ok)
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, "no PostgreSQL in /usr/lib/postgresql: run scripts/postgres.sh")
    })
}

/// Runs `command`; a non-zero exit is an error carrying what it printed.
fn run(command: &mut Command) -> io::Result<Output> {
    let output = command.output()?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(io::Error::other(format!(
            "{:?} failed: {}{}",
            command,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}
