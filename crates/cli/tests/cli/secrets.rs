//! Passwords of database URLs never reach the terminal (issue 21, item 6).

use crate::{portico, text};

const SECRET: &str = "s3cret-Pa55";

#[test]
fn an_unsupported_database_url_is_named_without_its_password() {
    let data_dir = tempfile::tempdir().unwrap();
    for url in
        [format!("mysql://portico:{SECRET}@db.example/portico"), format!("mysql://db.example/p?password={SECRET}")]
    {
        let output = portico()
            .args(["project", "create", "shop", "--database", &url])
            .arg("--data-dir")
            .arg(data_dir.path())
            .output()
            .unwrap();
        let printed = text(&output);
        assert!(!output.status.success(), "{printed}");
        assert!(printed.contains("unsupported database \"mysql://"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
        assert!(!printed.contains(SECRET), "{printed}");
    }
}

#[test]
fn a_database_url_in_the_environment_or_a_broken_configuration_line_is_not_printed() {
    let url = format!("postgres://portico:{SECRET}@127.0.0.1:1/portico");
    let help = portico().args(["serve", "--help"]).env("PORTICO_DATABASE", &url).output().unwrap();
    assert!(help.status.success());
    assert!(text(&help).contains("PORTICO_DATABASE"), "{}", text(&help));
    assert!(!text(&help).contains(SECRET), "{}", text(&help));

    let data_dir = tempfile::tempdir().unwrap();
    let config = data_dir.path().join("portico.toml");
    std::fs::write(&config, format!("database = \"{url}\nlisten = \"127.0.0.1:0\"\n")).unwrap();
    let broken = portico().arg("serve").arg("--config").arg(&config).output().unwrap();
    assert!(!broken.status.success());
    assert!(text(&broken).contains("invalid configuration"), "{}", text(&broken));
    assert!(!text(&broken).contains(SECRET), "{}", text(&broken));
}
