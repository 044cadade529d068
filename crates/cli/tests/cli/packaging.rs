//! The ways Portico ships, checked where no Docker and no systemd run: every path, port,
//! environment variable and setting that the systemd unit, the Debian package's metadata, the
//! `Dockerfile` and `compose.yaml` name must exist in the repository and be read by `portico` as
//! they mean it (`portico config check` with their settings). `scripts/package-check.sh` then
//! installs and runs the package for real.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Server, portico, text};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `portico config check` with these arguments and environment: the effective settings.
fn effective_settings(args: &[&str], env: &BTreeMap<String, String>) -> toml::Table {
    let output = portico().args(["config", "check"]).args(args).envs(env).current_dir(repo()).output().unwrap();
    assert!(output.status.success(), "config check {args:?} {env:?}: {}", text(&output));
    toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

/// The environment variables `portico serve` reads, as its `--help` lists them.
fn serve_env_vars() -> BTreeSet<String> {
    let output = portico().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    help.split("[env: ").skip(1).map(|rest| rest.split(['=', ']']).next().unwrap_or_default().to_owned()).collect()
}

fn port(address: &str) -> &str {
    address.rsplit_once(':').map(|(_, port)| port).unwrap_or_else(|| panic!("{address} has no port"))
}

fn setting<'a>(settings: &'a toml::Table, path: &[&str]) -> &'a str {
    let (last, tables) = path.split_last().unwrap();
    let table = tables.iter().fold(settings, |table, key| table[*key].as_table().unwrap());
    table[*last].as_str().unwrap_or_else(|| panic!("{path:?} in {settings}"))
}

/// `key=value` lines of a systemd unit (the last one wins, as for the keys used here).
fn unit_values(unit: &str) -> BTreeMap<&str, &str> {
    unit.lines().filter(|line| !line.starts_with(['#', '['])).filter_map(|line| line.split_once('=')).collect()
}

#[test]
fn the_systemd_unit_runs_what_the_debian_package_installs() {
    let manifest: toml::Table = toml::from_str(&read("crates/cli/Cargo.toml")).unwrap();
    let deb = manifest["package"]["metadata"]["deb"].as_table().expect("[package.metadata.deb]");
    let crate_dir = Path::new("crates/cli");
    // Destination in the package -> source in the repository.
    let mut assets = BTreeMap::new();
    for asset in deb["assets"].as_array().unwrap() {
        let [source, dest, _mode] = asset.as_array().unwrap().as_slice() else { panic!("asset {asset}") };
        let (source, dest) = (source.as_str().unwrap(), dest.as_str().unwrap());
        let dest = match dest.strip_suffix('/') {
            Some(dir) => format!("/{dir}/{}", Path::new(source).file_name().unwrap().to_string_lossy()),
            None => format!("/{dest}"),
        };
        if source != "target/release/portico" {
            assert!(repo().join(crate_dir).join(source).is_file(), "asset {source} is not in the repository");
        }
        assets.insert(dest, crate_dir.join(source));
    }
    assert_eq!(manifest["bin"][0]["name"].as_str(), Some("portico"), "the binary the package takes");
    let scripts = crate_dir.join(deb["maintainer-scripts"].as_str().unwrap());
    let unit_name = deb["systemd-units"]["unit-name"].as_str().unwrap();
    let unit_text = read(&scripts.join(format!("{unit_name}.service")).to_string_lossy());
    let unit = unit_values(&unit_text);
    let postinst = read(&scripts.join("postinst").to_string_lossy());
    let postrm = read(&scripts.join("postrm").to_string_lossy());
    let license = deb["license-file"][0].as_str().unwrap();
    assert!(
        read(&crate_dir.join(license).to_string_lossy())
            .contains("Apache License\n                           Version 2.0")
    );
    assert_eq!(manifest["package"]["license"]["workspace"].as_bool(), Some(true));
    assert!(read("Cargo.toml").contains("license = \"Apache-2.0\""), "the declared licence is the LICENSE file's");

    // ExecStart: the packaged binary, serving with the packaged configuration file.
    let exec_start: Vec<&str> = unit["ExecStart"].split(' ').collect();
    let [binary, "serve", "--config", config] = exec_start.as_slice() else { panic!("ExecStart {exec_start:?}") };
    assert_eq!(assets[*binary], crate_dir.join("target/release/portico"), "{binary} is the built portico");
    let config_source = assets.get(*config).unwrap_or_else(|| panic!("{config} is not installed by the package"));
    assert!(config.starts_with("/etc/"), "{config} is a conffile: cargo-deb marks everything in /etc");
    let settings = effective_settings(&["--config", &config_source.to_string_lossy()], &BTreeMap::new());

    // The data directory: systemd's StateDirectory, the working directory, the configuration's
    // data_dir and the one postinst creates (for inits without StateDirectory) and postrm purges.
    let data_dir = format!("/var/lib/{}", unit["StateDirectory"]);
    assert_eq!(unit["WorkingDirectory"], data_dir);
    assert_eq!(setting(&settings, &["data_dir"]), data_dir);
    assert!(
        postinst
            .contains(&format!("install -d -o {0} -g {0} -m {1} {data_dir}", unit["User"], unit["StateDirectoryMode"]))
    );
    assert!(postrm.contains(&format!("rm -rf {data_dir}")));
    // The user: the unit's, created by postinst, owner of the configuration's group.
    assert_eq!(unit["User"], unit["Group"]);
    assert!(
        postinst.contains(&format!("--shell /usr/sbin/nologin --comment \"Portico API gateway\" {}", unit["User"]))
    );
    assert!(postinst.contains(&format!("dpkg-statoverride --update --add root {} 0640 {config}", unit["User"])));
    assert!(postrm.contains(&format!("dpkg-statoverride --remove {config}")));
    for script in [&postinst, &postrm] {
        assert!(script.contains("#DEBHELPER#"), "cargo-deb's systemd snippets go in");
    }
    // The listeners stay on loopback until the operator opens them.
    for path in [&["listen"][..], &["gateway", "listen"]] {
        assert!(setting(&settings, path).starts_with("127.0.0.1:"), "{path:?}");
    }
    for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=", "PrivateTmp=yes"] {
        assert!(unit_text.lines().any(|line| line == hardening), "{hardening}");
    }

    // What ships is stripped, with LTO; CI packages the binary its suite built (scripts/test.sh).
    let workspace: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    assert_eq!(workspace["profile"]["release"]["strip"].as_bool(), Some(true));
    assert!(workspace["profile"]["release"].get("lto").is_some(), "release builds use LTO");
    assert!(read("scripts/test.sh").contains("scripts/package-check.sh --profile dev --no-build"));
}

/// A Dockerfile's instructions (keyword, arguments), continuation lines joined. Hand-written: the
/// crates that parse Dockerfiles are unmaintained, and this file needs only the line syntax.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut pending = String::new();
    for line in text.lines().map(str::trim).filter(|line| !line.starts_with('#')) {
        match line.strip_suffix('\\') {
            Some(part) => pending.push_str(part),
            None => {
                pending.push_str(line);
                if let Some((keyword, args)) = pending.trim().split_once(char::is_whitespace) {
                    instructions
                        .push((keyword.to_ascii_uppercase(), args.split_whitespace().collect::<Vec<_>>().join(" ")));
                }
                pending.clear();
            }
        }
    }
    instructions
}

/// Sends `GET path` to `address` and returns the status line.
fn status_line(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_dockerfile_names_paths_ports_and_settings_that_exist() {
    let instructions = dockerfile_instructions(&read("Dockerfile"));
    let all = |keyword: &str| -> Vec<&str> {
        instructions.iter().filter(|(k, _)| k == keyword).map(|(_, args)| args.as_str()).collect()
    };
    let one = |keyword: &str| -> &str {
        let found = all(keyword);
        found.last().copied().unwrap_or_else(|| panic!("no {keyword}"))
    };

    // Two stages on one Debian release; the builder has the workspace's Rust.
    let [builder, runtime] = all("FROM")[..] else { panic!("two stages") };
    let workspace: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let rust_version = workspace["workspace"]["package"]["rust-version"].as_str().unwrap();
    let builder_release = builder
        .strip_prefix(&format!("rust:{rust_version}-slim-"))
        .and_then(|rest| rest.strip_suffix(" AS builder"))
        .unwrap_or_else(|| panic!("{builder}: rust:{rust_version}-slim-<release> AS builder"));
    assert_eq!(runtime, format!("debian:{builder_release}-slim"));

    // Every file copied from the context is in the repository and let through .dockerignore.
    let dockerignore = read(".dockerignore");
    let allowed: Vec<&str> = dockerignore.lines().filter_map(|line| line.strip_prefix('!')).collect();
    let mut binary = None;
    for copy in all("COPY") {
        let words: Vec<&str> = copy.split(' ').collect();
        let (dest, sources) = words.split_last().unwrap();
        if let Some(stage) = sources[0].strip_prefix("--from=") {
            assert_eq!(stage, "builder");
            let workdir = all("WORKDIR")[0];
            assert_eq!(sources[1], format!("{workdir}/target/release/portico"), "the release build's binary");
            binary = Some(*dest);
            continue;
        }
        for source in sources {
            assert!(repo().join(source).exists(), "COPY {source}: not in the repository");
            let name = source.trim_end_matches('/');
            assert!(
                allowed.iter().any(|a| a.trim_end_matches('/') == name),
                "COPY {source}: excluded by .dockerignore"
            );
        }
    }
    let binary = binary.expect("the binary is copied from the builder");
    assert!(all("RUN")[0].contains("cargo build --release --locked -p portico"), "{:?}", all("RUN"));
    assert_eq!(one("ENTRYPOINT"), format!("[\"{binary}\"]"));
    assert_eq!(one("CMD"), "[\"serve\"]");

    // The environment is made of variables portico reads, and means what it says.
    let known = serve_env_vars();
    let env: BTreeMap<String, String> = all("ENV")
        .iter()
        .flat_map(|line| line.split(' '))
        .map(|pair| pair.split_once('=').expect("ENV NAME=value"))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    for name in env.keys() {
        assert!(known.contains(name), "{name} is not read by portico serve ({known:?})");
    }
    let settings = effective_settings(&[], &env);
    let management = setting(&settings, &["listen"]);
    let gateway = setting(&settings, &["gateway", "listen"]);
    let data_dir = setting(&settings, &["data_dir"]);
    assert_eq!(management, env["PORTICO_LISTEN"]);
    assert_eq!(gateway, env["PORTICO_GATEWAY_LISTEN"]);
    assert!(management.starts_with("0.0.0.0:") && gateway.starts_with("0.0.0.0:"), "reachable from outside");
    assert_eq!(setting(&settings, &["log_format"]), env["PORTICO_LOG_FORMAT"]);
    assert_eq!(one("EXPOSE"), format!("{} {}", port(management), port(gateway)));
    assert_eq!(one("VOLUME"), data_dir);
    assert_eq!(one("WORKDIR"), data_dir);

    // A non-root user, created with the data directory it owns.
    let user = one("USER");
    assert_ne!(user, "root");
    let setup = all("RUN")[1];
    assert!(setup.contains(&format!("--home-dir {data_dir} --shell /usr/sbin/nologin {user}")), "{setup}");
    assert!(setup.contains(&format!("install -d -o {user} -g {user} -m 0700 {data_dir}")), "{setup}");

    // The health check asks the management listener a path portico answers.
    let healthcheck = one("HEALTHCHECK");
    let url = healthcheck.split(' ').find(|word| word.starts_with("http://")).expect("a URL");
    let (authority, path) = url["http://".len()..].split_once('/').unwrap();
    assert_eq!(authority, format!("127.0.0.1:{}", port(management)));
    assert!(setup.contains(" curl"), "curl is installed for the health check");
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let address = server.base_url.trim_start_matches("http://");
    assert_eq!(status_line(address, &format!("/{path}")), "HTTP/1.1 200 OK");
}

#[test]
fn compose_runs_two_nodes_on_the_postgres_it_defines() {
    let compose: serde_json::Value = yaml_serde::from_str(&read("compose.yaml")).unwrap();
    let services = compose["services"].as_object().unwrap();
    let volumes = compose["volumes"].as_object().unwrap();
    let known = serve_env_vars();
    let string_map = |value: &serde_json::Value| -> BTreeMap<String, String> {
        let map = value.as_object().unwrap_or_else(|| panic!("a map: {value}"));
        map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
    };

    let postgres = &services["postgres"];
    let pg_env = string_map(&postgres["environment"]);
    let expected_url = format!(
        "postgres://{user}:{password}@postgres:5432/{db}",
        user = pg_env["POSTGRES_USER"],
        password = pg_env["POSTGRES_PASSWORD"],
        db = pg_env["POSTGRES_DB"],
    );
    let nodes: Vec<(&String, &serde_json::Value)> =
        services.iter().filter(|(_, service)| service["build"].as_str() == Some(".")).collect();
    assert_eq!(nodes.len(), 2, "two Portico nodes");
    assert!(repo().join("Dockerfile").is_file());

    let mut host_ports = BTreeSet::new();
    let mut data_volumes = BTreeSet::new();
    for (name, node) in &nodes {
        let env = string_map(&node["environment"]);
        for variable in env.keys() {
            assert!(known.contains(variable), "{name}: {variable} is not read by portico serve");
        }
        assert_eq!(env["PORTICO_DATABASE"], expected_url, "{name}: the compose file's PostgreSQL");
        let settings = effective_settings(&[], &env);
        assert_eq!(
            setting(&settings, &["database"]),
            expected_url.replace(&format!(":{}@", pg_env["POSTGRES_PASSWORD"]), ":***@"),
            "{name}: read as the database, password masked"
        );
        let management = setting(&settings, &["listen"]);
        let gateway = setting(&settings, &["gateway", "listen"]);
        let data_dir = setting(&settings, &["data_dir"]);
        let mut container_ports = Vec::new();
        for mapping in node["ports"].as_array().unwrap() {
            let (host, container) = mapping.as_str().unwrap().split_once(':').unwrap();
            assert!(host_ports.insert(host.to_owned()), "{name}: host port {host} taken twice");
            container_ports.push(container.to_owned());
        }
        assert_eq!(container_ports, [port(management), port(gateway)], "{name}: both listeners published");
        let [volume] = node["volumes"].as_array().unwrap().as_slice() else { panic!("{name}: one volume") };
        let (volume, target) = volume.as_str().unwrap().split_once(':').unwrap();
        assert_eq!(target, data_dir, "{name}: the volume holds the data directory");
        assert!(volumes.contains_key(volume), "{name}: volume {volume} is declared");
        data_volumes.insert(volume.to_owned());
        for dependency in node["depends_on"].as_object().unwrap().keys() {
            assert!(services.contains_key(dependency), "{name}: depends on {dependency}");
        }
    }
    assert_eq!(data_volumes.len(), 1, "the nodes share one data directory, hence one secrets.key");
    // The second node waits for the first, which alone bootstraps.
    let waits_for_a_node = |(_, node): &&(&String, &serde_json::Value)| {
        node["depends_on"].as_object().unwrap().keys().any(|d| nodes.iter().any(|(n, _)| *n == d))
    };
    assert_eq!(nodes.iter().filter(waits_for_a_node).count(), 1);
    let [pg_volume] = postgres["volumes"].as_array().unwrap().as_slice() else { panic!("postgres: one volume") };
    assert!(volumes.contains_key(pg_volume.as_str().unwrap().split_once(':').unwrap().0));
}
