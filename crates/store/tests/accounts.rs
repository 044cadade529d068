//! What the operator's CLI does to projects, users and credentials, on every engine; a second
//! store handle on the same database stands for another node.

use portico_model::{Credential, Project, User, new_id, now};
use portico_store::{Conflict, Kind, Store, StoreError};

fn user(name: &str, readonly: bool, projects: &[&str]) -> User {
    User {
        id: new_id(),
        name: name.into(),
        password_hash: "hash".into(),
        readonly,
        projects: projects.iter().map(|p| p.to_string()).collect(),
        created_at: now(),
    }
}

async fn credential(store: &dyn Store, access_key: &str, user: &User) {
    let credential = Credential {
        access_key: access_key.into(),
        secret_key: "SK".into(),
        user_id: user.id.clone(),
        created_at: now(),
    };
    store.create_credential(&credential).await.unwrap();
}

#[tokio::test]
async fn projects_users_and_credentials_are_listed_by_name_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let store = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    let bootstrap = portico_store::testing::sample_bootstrap("SK");
    store.bootstrap(&bootstrap).await.unwrap();
    let shop = Project { id: new_id(), name: "shop".into(), created_at: now() };
    store.create_project(&shop).await.unwrap();
    let bob = user("bob", true, &[&shop.id]);
    store.create_user(&bob).await.unwrap();
    credential(store.as_ref(), "AK-bob", &bob).await;

    let projects: Vec<String> = store.list_projects().await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(projects, ["default", "shop"]);
    let users = store.list_users().await.unwrap();
    assert_eq!(users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["admin", "bob"]);
    assert_eq!(users[1].projects, [shop.id]);
    assert!(users[1].readonly);
    let credentials = store.list_credentials().await.unwrap();
    let listed: Vec<(&str, &str)> = credentials.iter().map(|c| (c.access_key.as_str(), c.user_name.as_str())).collect();
    assert_eq!(listed, [("AK", "admin"), ("AK-bob", "bob")]);
}

#[tokio::test]
async fn a_revoked_credential_is_gone_for_every_node_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    first.bootstrap(&portico_store::testing::sample_bootstrap("SK")).await.unwrap();
    let second = portico_store::testing::reopen_store(dir.path()).await.unwrap();
    assert!(second.credential("AK").await.is_ok(), "the other node sees the pair before");

    first.delete_credential("AK").await.unwrap();
    for node in [&first, &second] {
        assert!(matches!(node.credential("AK").await, Err(StoreError::NotFound { kind: Kind::Credential, .. })));
    }
    assert!(matches!(first.delete_credential("AK").await, Err(StoreError::NotFound { kind: Kind::Credential, .. })));
    assert!(second.list_credentials().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_user_takes_its_credentials_but_the_last_writer_stays() {
    let dir = tempfile::tempdir().unwrap();
    let store = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    let bootstrap = portico_store::testing::sample_bootstrap("SK");
    store.bootstrap(&bootstrap).await.unwrap();
    let reader = user("reader", true, &[&bootstrap.project.id]);
    store.create_user(&reader).await.unwrap();

    let refused = store.delete_user("admin").await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(Conflict::LastWriter(ref name)) if name == "admin"), "{refused}");
    assert!(store.credential("AK").await.is_ok(), "a refused deletion changes nothing");

    let writer = user("writer", false, &[]);
    store.create_user(&writer).await.unwrap();
    credential(store.as_ref(), "AK-w1", &writer).await;
    credential(store.as_ref(), "AK-w2", &writer).await;
    assert_eq!(store.delete_user("writer").await.unwrap(), ["AK-w1", "AK-w2"]);
    assert!(matches!(store.credential("AK-w1").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.user_by_name("writer").await, Err(StoreError::NotFound { kind: Kind::User, .. })));
    assert!(store.delete_user("reader").await.unwrap().is_empty(), "a read-only user is never the last writer");
    assert!(matches!(store.delete_user("nobody").await, Err(StoreError::NotFound { kind: Kind::User, .. })));
    let names: Vec<String> = store.list_users().await.unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["admin"]);
}

#[tokio::test]
async fn a_new_password_replaces_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    store.bootstrap(&portico_store::testing::sample_bootstrap("SK")).await.unwrap();
    store.set_user_password("admin", "new-hash").await.unwrap();
    assert_eq!(store.user_by_name("admin").await.unwrap().password_hash, "new-hash");
    assert!(matches!(store.set_user_password("nobody", "h").await, Err(StoreError::NotFound { kind: Kind::User, .. })));
}
