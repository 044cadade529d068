//! The crate graph in ARCHITECTURE.md ("depends on" table) is the graph Cargo builds: a new
//! arrow between Portico's crates has to be written down there first, or this test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().and_then(Path::parent).expect("crates/cli is two levels down")
}

/// Each workspace crate with the Portico crates it depends on at run time (dev- and
/// build-dependencies are the tests' and the build's business, not the architecture's).
fn cargo_graph() -> Graph {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|package| {
            let depends_on = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .filter_map(|dep| dep["name"].as_str())
                .filter(|name| names.contains(name))
                .map(str::to_owned)
                .collect();
            (package["name"].as_str().expect("name").to_owned(), depends_on)
        })
        .collect()
}

/// The rows of ARCHITECTURE.md's table: "| `crate` | `dep`, `dep` |" or "| `crate` | — |".
fn documented_graph() -> Graph {
    let text = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let header = text.find("| crate | depends on |").expect("ARCHITECTURE.md has the crate table");
    text[header..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 2, "a row of two cells: {row}");
            let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
            let depends_on =
                if cells[1] == "—" { BTreeSet::new() } else { cells[1].split(',').map(unquote).collect() };
            (unquote(cells[0]), depends_on)
        })
        .collect()
}

#[test]
fn architecture_md_names_every_arrow_between_the_crates() {
    assert_eq!(
        documented_graph(),
        cargo_graph(),
        "ARCHITECTURE.md's crate table (left) against cargo metadata (right)"
    );
}
