//! `portico import`'s exit status follows what became of the APIs.

use crate::{Server, portico, text};

fn document(title: &str, with_a_bad_operation: bool) -> String {
    let bad = if with_a_bad_operation {
        "  /bad:\n    post:\n      parameters:\n        - {name: payload, in: formData, type: string}\n      responses: {default: {description: ok}}\n"
    } else {
        ""
    };
    format!(
        "swagger: \"2.0\"\ninfo: {{title: {title}, version: \"1\"}}\npaths:\n  /good:\n    get:\n      responses: {{default: {{description: ok}}}}\n{bad}"
    )
}

#[test]
fn an_import_with_failed_apis_exits_non_zero_after_the_report_and_so_does_its_dry_run() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path(), &[]);
    let import = |file: &std::path::Path, dry_run: bool| {
        let mut command = portico();
        command.arg("import").arg(file).arg("--data-dir").arg(data_dir.path()).args(["--server", &server.base_url]);
        if dry_run {
            command.arg("--dry-run");
        }
        command.output().unwrap()
    };

    let partly = data_dir.path().join("partly.yaml");
    std::fs::write(&partly, document("partly_bad", true)).unwrap();
    for dry_run in [true, false] {
        let output = import(&partly, dry_run);
        let printed = text(&output);
        assert!(!output.status.success(), "dry run {dry_run}: {printed}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("fail     POST    /bad"), "the report comes first: {printed}");
        assert!(stdout.contains("1 created, 0 updated, 0 ignored, 1 failed"), "{printed}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("1 API"), "{printed}");
    }

    let good = data_dir.path().join("good.yaml");
    std::fs::write(&good, document("all_good", false)).unwrap();
    for dry_run in [true, false] {
        let output = import(&good, dry_run);
        assert!(output.status.success(), "dry run {dry_run}: {}", text(&output));
    }
}
