//! The operator's commands on a data directory: listing, revoking and deleting, `config check`,
//! completions and the help texts.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::{Server, portico, text};

fn credentials(data_dir: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(data_dir.join("credentials.toml")).unwrap()).unwrap()
}

/// stdout of a command on `data_dir` that must succeed.
fn run(data_dir: &Path, args: &[&str]) -> String {
    let output = portico().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// stdout and stderr of a command on `data_dir` that must fail.
fn refused(data_dir: &Path, args: &[&str]) -> String {
    let output = portico().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    assert!(!output.status.success(), "{args:?}: {}", text(&output));
    text(&output)
}

#[test]
fn a_revoked_access_key_is_refused_by_the_running_server_at_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), &[]);
    let created = credentials(data_dir.path());
    let access_key = created["access_key"].as_str().unwrap();
    let secret_key = created["secret_key"].as_str().unwrap();
    // An export signs its requests with the pair in credentials.toml; an unknown group is
    // only reported once the signature was accepted.
    let export = || refused(data_dir.path(), &["export", "--group", "no_such_group", "--server", &server.base_url]);
    let accepted = export();
    assert!(accepted.contains("no group is named"), "{accepted}");

    let listed = run(data_dir.path(), &["credential", "list"]);
    assert!(listed.contains(access_key) && listed.contains("admin"), "{listed}");
    assert!(!listed.contains(secret_key), "list never shows a secret: {listed}");

    let revoked = run(data_dir.path(), &["credential", "revoke", access_key]);
    assert!(revoked.contains(access_key), "{revoked}");
    let unauthenticated = export();
    assert!(unauthenticated.contains("401"), "{unauthenticated}");
    assert!(!run(data_dir.path(), &["credential", "list"]).contains(access_key));

    let again = refused(data_dir.path(), &["credential", "revoke", access_key]);
    assert!(again.contains("does not exist"), "{again}");
}

#[test]
fn users_are_listed_their_passwords_changed_and_deleted_with_their_credentials() {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path();
    run(dir, &["project", "create", "shop"]);
    let projects = run(dir, &["project", "list"]);
    assert!(projects.lines().next().unwrap().starts_with("ID"), "{projects}");
    assert!(projects.contains(" shop "), "{projects}");

    run(dir, &["user", "add", "alice", "--project", "shop"]);
    run(dir, &["credential", "create", "alice"]);
    let users = run(dir, &["user", "list"]);
    assert!(users.contains("alice") && users.contains("read-write"), "{users}");
    assert!(!users.contains("argon2"), "no password hash: {users}");

    let new_password = "N3w-Pa55word-from-a-script";
    let mut child = portico()
        .args(["user", "passwd", "alice", "--stdin"])
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{new_password}\n").as_bytes()).unwrap();
    let changed = child.wait_with_output().unwrap();
    assert!(changed.status.success(), "{}", text(&changed));
    assert!(!text(&changed).contains(new_password), "never echoed: {}", text(&changed));

    let empty = refused(dir, &["user", "passwd", "alice", "--stdin"]);
    assert!(empty.contains("no password"), "{empty}");
    let generated: toml::Table = toml::from_str(&run(dir, &["user", "passwd", "alice"])).unwrap();
    assert!(generated["password"].as_str().unwrap().len() >= 16, "{generated:?}");

    run(dir, &["user", "add", "bob"]);
    let deleted = run(dir, &["user", "delete", "alice"]);
    assert!(deleted.contains("deleted user alice") && deleted.contains("revoked credential"), "{deleted}");
    assert!(!run(dir, &["user", "list"]).contains("alice"));
    assert!(!run(dir, &["credential", "list"]).contains("alice"));
    let unknown = refused(dir, &["user", "delete", "alice"]);
    assert!(unknown.contains("does not exist"), "{unknown}");
}

#[test]
fn the_last_user_who_may_write_cannot_be_deleted() {
    let data_dir = tempfile::tempdir().unwrap();
    drop(Server::start(data_dir.path(), &[]));
    run(data_dir.path(), &["user", "add", "reader", "--readonly"]);
    let last = refused(data_dir.path(), &["user", "delete", "admin"]);
    assert!(last.contains("last user who is not read-only"), "{last}");
    assert!(run(data_dir.path(), &["user", "list"]).contains("admin"));

    run(data_dir.path(), &["user", "add", "deputy"]);
    run(data_dir.path(), &["user", "delete", "admin"]);
    run(data_dir.path(), &["user", "delete", "reader"]);
}

#[test]
fn config_check_prints_the_effective_settings_with_the_password_masked() {
    let data_dir = tempfile::tempdir().unwrap();
    let config = data_dir.path().join("portico.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:7000\"\ntoken_ttl_hours = 2\ndatabase_statement_timeout_ms = 15000\n[gateway]\nworkers = 3\n\
         [gateway.functions]\n\"urn:fss:x\" = \"http://fn:fn-s3cret@127.0.0.1:9/\"\n",
    )
    .unwrap();
    let output = portico()
        .args(["config", "check", "--listen", "127.0.0.1:7001"])
        .arg("--config")
        .arg(&config)
        .env("PORTICO_DATABASE", "postgres://portico:s3cret-Pa55@db:5432/portico")
        .env("PORTICO_GATEWAY_LISTEN", "127.0.0.1:7002")
        .output()
        .unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains("s3cret"), "{printed}");
    let effective: toml::Table = toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(effective["listen"].as_str(), Some("127.0.0.1:7001"), "a flag beats the file");
    assert_eq!(effective["database"].as_str(), Some("postgres://portico:***@db:5432/portico"));
    assert_eq!(effective["token_ttl_hours"].as_integer(), Some(2));
    assert_eq!(effective["gateway"]["listen"].as_str(), Some("127.0.0.1:7002"), "from the environment");
    assert_eq!(effective["gateway"]["workers"].as_integer(), Some(3));
    assert_eq!(effective["gateway"]["functions"]["urn:fss:x"].as_str(), Some("http://fn:***@127.0.0.1:9/"));
    assert_eq!(effective["cluster"]["node_lease_ms"].as_integer(), Some(10_000), "a default");
    assert_eq!(effective["database_acquire_timeout_ms"].as_integer(), Some(5000), "a default");
    assert_eq!(effective["database_statement_timeout_ms"].as_integer(), Some(15_000));

    let bad = portico().args(["config", "check", "--node-lease-ms", "10"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(text(&bad).contains("node_lease_ms"), "{}", text(&bad));
}

#[test]
fn config_check_reads_the_listener_tls_and_the_trusted_proxies() {
    let output = portico()
        .args(["config", "check", "--trusted-proxies", "10.0.0.0/8,192.0.2.7", "--gateway-proxy-protocol"])
        .env("PORTICO_TLS_CERT", "/etc/portico/management.crt")
        .env("PORTICO_TLS_KEY", "/etc/portico/management.key")
        .env("PORTICO_PROXY_PROTOCOL", "false")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let effective: toml::Table = toml::from_str(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(effective["tls_cert"].as_str(), Some("/etc/portico/management.crt"));
    assert_eq!(effective["tls_key"].as_str(), Some("/etc/portico/management.key"));
    let trusted: Vec<&str> =
        effective["trusted_proxies"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(trusted, ["10.0.0.0/8", "192.0.2.7"]);
    assert_eq!(effective["proxy_protocol"].as_bool(), Some(false));
    assert_eq!(effective["gateway"]["proxy_protocol"].as_bool(), Some(true));

    let half = portico().args(["config", "check", "--tls-cert", "/etc/portico/management.crt"]).output().unwrap();
    assert!(!half.status.success());
    assert!(text(&half).contains("tls_cert and tls_key go together"), "{}", text(&half));
    let bad = portico().args(["config", "check", "--trusted-proxies", "10.0.0.0/8,lb.internal"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(text(&bad).contains("\"lb.internal\" is not an IP address or a CIDR block"), "{}", text(&bad));
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef portico"), ("fish", "complete -c portico")] {
        let output = portico().args(["completions", shell]).output().unwrap();
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{shell}: {}", text(&output));
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("revoke"), "{shell} completes the subcommands");
    }
}

#[test]
fn help_lists_the_enumerated_values_ends_with_an_example_and_keeps_server_flags_to_serve() {
    let help = |args: &[&str]| {
        let output = portico().args(args).arg("--help").output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let export = help(&["export"]);
    for value in ["spec", "proxy", "all", "dev", "json", "yaml", "2.0", "3.0"] {
        assert!(export.contains(&format!("{value}:")), "{value} in {export}");
    }
    let import = help(&["import"]);
    assert!(import.contains("merge:") && import.contains("override:"), "{import}");
    for remote in [&export, &import] {
        for server_only in ["--database", "--gateway-listen", "--node-lease-ms", "--max-connections"] {
            assert!(!remote.contains(server_only), "{server_only} in {remote}");
        }
        assert!(remote.contains("--server") && remote.contains("--data-dir"), "{remote}");
    }
    assert!(help(&["serve"]).contains("--database"));
    for command in [
        &["serve"][..],
        &["export"],
        &["import"],
        &["project", "create"],
        &["project", "list"],
        &["user", "add"],
        &["user", "list"],
        &["user", "delete"],
        &["user", "passwd"],
        &["credential", "create"],
        &["credential", "list"],
        &["credential", "revoke"],
        &["config", "check"],
        &["completions"],
    ] {
        let text = help(command);
        let example = text.trim_end().lines().rev().nth(1).unwrap_or_default();
        assert_eq!(example, "Example:", "{command:?}: {text}");
    }
}
