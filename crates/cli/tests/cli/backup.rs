//! `portico backup` and `portico restore` on SQLite data directories: what they refuse, and that
//! a refused restore leaves the target as it was. The round trip of a full data set across both
//! engines, under writes, is `tests/sdk/test_backup.py`.

use std::path::Path;

use crate::{portico, text};

/// stdout of a command that must succeed.
fn run(args: &[&str], data_dir: &Path) -> String {
    let output = portico().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// stdout and stderr of a command that must fail.
fn refused(args: &[&str], data_dir: &Path) -> String {
    let output = portico().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    assert!(!output.status.success(), "{args:?} succeeded: {}", text(&output));
    text(&output)
}

/// A data directory with a project, a user and an AK/SK pair, and its backup at `file`.
fn backed_up(dir: &Path, file: &Path) {
    run(&["project", "create", "shop"], dir);
    run(&["user", "add", "alice", "--project", "shop"], dir);
    run(&["credential", "create", "alice"], dir);
    let done = run(&["backup", "-o", file.to_str().unwrap()], dir);
    assert!(done.contains("backed up 5 rows"), "{done}");
}

/// What the account commands show of a data directory.
fn accounts(dir: &Path) -> String {
    ["project", "user", "credential"].iter().map(|what| run(&[what, "list"], dir)).collect()
}

/// A new data directory holding `key_of`'s secrets key.
fn target_with_key_of(key_of: &Path) -> tempfile::TempDir {
    let target = tempfile::tempdir().unwrap();
    std::fs::copy(key_of.join("secrets.key"), target.path().join("secrets.key")).unwrap();
    target
}

#[test]
fn backup_and_restore_explain_themselves() {
    let backup = text(&portico().args(["backup", "--help"]).output().unwrap());
    assert!(backup.contains("-o, --output <FILE>") && backup.contains("Example:"), "{backup}");
    let restore = text(&portico().args(["restore", "--help"]).output().unwrap());
    assert!(restore.contains("<FILE>") && restore.contains("secrets.key") && restore.contains("Example:"), "{restore}");
    let missing = text(&portico().arg("backup").output().unwrap());
    assert!(missing.contains("--output <FILE>"), "{missing}");
}

#[test]
fn a_backup_of_a_data_directory_that_does_not_exist_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let file = dir.path().join("portico.backup");
    let output = refused(&["backup", "-o", file.to_str().unwrap()], &missing);
    assert!(output.contains("give the data directory of the node to back up"), "{output}");
    assert!(!missing.exists() && !file.exists(), "a refused backup created files");
}

#[test]
fn a_restore_needs_the_backed_up_key_and_an_empty_target() {
    let source = tempfile::tempdir().unwrap();
    let file = source.path().join("portico.backup");
    backed_up(source.path(), &file);
    let file = file.to_str().unwrap();

    let target = tempfile::tempdir().unwrap();
    let no_key = refused(&["restore", file], target.path());
    assert!(no_key.contains("copy the backed-up node's secrets.key"), "{no_key}");
    assert!(!target.path().join("portico.db").exists(), "a refused restore created the database");
    std::fs::write(target.path().join("secrets.key"), "ab".repeat(32)).unwrap();
    let other_key = refused(&["restore", file], target.path());
    assert!(other_key.contains("is not the key the backup needs"), "{other_key}");
    assert!(!target.path().join("portico.db").exists(), "a refused restore created the database");

    let target = target_with_key_of(source.path());
    let restored = run(&["restore", file], target.path());
    assert!(restored.contains("restored 5 rows"), "{restored}");
    assert_eq!(accounts(target.path()), accounts(source.path()));
    let again = refused(&["restore", file], target.path());
    assert!(again.contains("not empty"), "{again}");
    let used = refused(&["restore", file], source.path());
    assert!(used.contains("not empty"), "{used}");
}

#[test]
fn a_damaged_backup_is_refused_and_leaves_the_target_empty() {
    let source = tempfile::tempdir().unwrap();
    let file = source.path().join("portico.backup");
    backed_up(source.path(), &file);
    let good = std::fs::read_to_string(&file).unwrap();
    let end = good.trim_end().rfind('\n').unwrap() + 1;
    let (header, rest) = good.split_once('\n').unwrap();
    let mut older: serde_json::Value = serde_json::from_str(header).unwrap();
    let older_migration = older["migration"].as_i64().unwrap() - 1;
    older["migration"] = older_migration.into();
    let damaged = [
        ("empty", String::new(), "empty"),
        ("not a backup", "{\"swagger\":\"2.0\"}\n".to_owned(), "not a Portico backup"),
        ("cut in a line", good[..good.len() / 2].to_owned(), "truncated"),
        ("without its end line", good[..end].to_owned(), "truncated"),
        ("with a changed value", good.replacen("\"shop\"", "\"shoq\"", 1), "damaged"),
        ("with a row dropped", good.replacen(&format!("{}\n", good.lines().nth(2).unwrap()), "", 1), "damaged"),
        ("with data after the end", format!("{good}[]\n"), "after its end line"),
        ("of another migration", format!("{older}\n{rest}"), &format!("at schema migration {older_migration}")),
    ];
    let target = target_with_key_of(source.path());
    let damaged_file = target.path().join("damaged.backup");
    for (what, contents, reason) in damaged {
        std::fs::write(&damaged_file, contents).unwrap();
        let output = refused(&["restore", damaged_file.to_str().unwrap()], target.path());
        assert!(output.contains(reason), "a backup {what}: {output}");
    }
    // Nothing of the refused files was written: the target is still empty, so it takes the backup.
    run(&["restore", file.to_str().unwrap()], target.path());
    assert_eq!(accounts(target.path()), accounts(source.path()));
}
