//! The `DataServiceStore` contract on SQLite: workspaces do not see each other, and an import is
//! all or nothing (catalogs it created included).

use portico_model::{DsApiDefinition, Project, new_id, now};
use portico_store::{Conflict, DsApiFilter, DsImportItem, StoreError, Workspace};
use serde_json::json;

fn definition(name: &str) -> DsApiDefinition {
    DsApiDefinition::from_value(json!({
        "catalog_id": "0", "name": name, "api_type": "API_SPECIFIC_TYPE_GROOVY", "auth_type": "NONE",
        "path": format!("/{name}"), "protocol": "PROTOCOL_TYPE_HTTP", "request_type": "REQUEST_TYPE_GET",
        "groovy_content": "return 1"
    }))
    .unwrap()
}

fn item(path: &[&str], name: &str) -> DsImportItem {
    DsImportItem { catalog_path: path.iter().map(|s| s.to_string()).collect(), definition: definition(name) }
}

#[tokio::test]
async fn imports_are_all_or_nothing_and_workspaces_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = portico_store::testing::fresh_store(dir.path()).await.unwrap();
    let project = Project { id: new_id(), name: "ds".into(), created_at: now() };
    store.create_project(&project).await.unwrap();
    let ws = Workspace { project_id: project.id.clone(), workspace: "one".into() };
    let other = Workspace { project_id: project.id.clone(), workspace: "two".into() };

    let ids =
        store.ds_import(&ws, &[item(&["a", "b"], "first_api"), item(&["a"], "second_api")], "u", 1).await.unwrap();
    assert_eq!(ids.len(), 2);
    let catalogs = store.ds_catalogs(&ws).await.unwrap();
    assert_eq!(catalogs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);

    // The second item clashes with an existing name: the new catalog of the first is rolled back.
    let clash = store.ds_import(&ws, &[item(&["c"], "third_api"), item(&[], "first_api")], "u", 2).await;
    assert!(matches!(clash, Err(StoreError::Conflict(Conflict::DsApiName(ref n))) if n == "first_api"), "{clash:?}");
    assert_eq!(store.ds_catalogs(&ws).await.unwrap().len(), 2);
    let page = portico_model::Page::default();
    assert_eq!(store.ds_list_apis(&ws, &DsApiFilter::default(), page).await.unwrap().total, 2);

    // Another workspace: nothing of the first, and the same names are free.
    assert_eq!(store.ds_list_apis(&other, &DsApiFilter::default(), page).await.unwrap().total, 0);
    assert!(store.ds_catalogs(&other).await.unwrap().is_empty());
    assert!(matches!(store.ds_api(&other, &ids[0]).await, Err(StoreError::NotFound { .. })));
    store.ds_import(&other, &[item(&["a", "b"], "first_api")], "u", 3).await.unwrap();
}
