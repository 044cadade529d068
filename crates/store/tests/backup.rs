//! Backups on every engine: a store's backup restored into a SQLite store (and, on the
//! PostgreSQL run, from PostgreSQL) gives back the same rows, byte for byte in the file; what a
//! restore refuses it refuses before the first write.

use portico_model::{Project, now};
use portico_store::{BackupError, BackupReader, BackupStore, SqliteStore, Store};

/// A store with a bootstrap (project, admin, AK/SK pair, instance) and one more project.
async fn populated(dir: &std::path::Path) -> std::sync::Arc<dyn Store> {
    let store = portico_store::testing::fresh_store(dir).await.unwrap();
    store.bootstrap(&portico_store::testing::sample_bootstrap("SK")).await.unwrap();
    store
        .create_project(&Project { id: portico_model::new_id(), name: "shop".into(), created_at: now() })
        .await
        .unwrap();
    store
}

async fn backup_of(store: &dyn Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.backup(&mut out, now()).await.unwrap();
    out
}

/// The lines between the header, which names the engine and the time, and the end line, whose
/// checksum covers the header.
fn rows(backup: &[u8]) -> Vec<&str> {
    let lines: Vec<&str> = std::str::from_utf8(backup).unwrap().lines().collect();
    lines[1..lines.len() - 1].to_vec()
}

#[tokio::test]
async fn a_restored_store_backs_up_the_same_rows() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = populated(source_dir.path()).await;
    let backup = backup_of(source.as_ref()).await;

    let target_dir = tempfile::tempdir().unwrap();
    std::fs::copy(source_dir.path().join("secrets.key"), target_dir.path().join("secrets.key")).unwrap();
    let target = SqliteStore::open(&target_dir.path().join("portico.db")).await.unwrap();
    let summary = target.restore(BackupReader::open(&backup[..]).await.unwrap()).await.unwrap();
    assert_eq!(summary.rows, 9, "settings, 2 projects, a user, its project, a credential, an instance, 2 envs");
    assert_eq!(rows(&backup_of(&target).await), rows(&backup));
    // New rows continue after the restored ones.
    target
        .create_project(&Project { id: portico_model::new_id(), name: "more".into(), created_at: now() })
        .await
        .unwrap();
    let names: Vec<String> = target.list_projects().await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["default", "more", "shop"]);
}

#[tokio::test]
async fn a_restore_with_another_key_is_refused_before_writing() {
    let source_dir = tempfile::tempdir().unwrap();
    let backup = backup_of(populated(source_dir.path()).await.as_ref()).await;
    let target_dir = tempfile::tempdir().unwrap();
    let target = portico_store::testing::fresh_store(target_dir.path()).await.unwrap();
    let refused = target.restore(BackupReader::open(&backup[..]).await.unwrap()).await.unwrap_err();
    assert!(matches!(&refused, BackupError::Refused(m) if m.contains("secrets.key")), "{refused}");
    assert!(target.list_projects().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_restore_into_a_store_with_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path()).await;
    let backup = backup_of(store.as_ref()).await;
    let refused = store.restore(BackupReader::open(&backup[..]).await.unwrap()).await.unwrap_err();
    assert!(matches!(&refused, BackupError::Refused(m) if m.contains("not empty")), "{refused}");
    assert_eq!(rows(&backup_of(store.as_ref()).await), rows(&backup), "the refused restore changed the store");
}
