//! The contract of the policy families (`AppStore`, `BindingStore`, …), against every engine: sealed
//! secrets across restarts, bindings that follow publications, references that block deletes.

use portico_model::{
    Acl, Api, ApiDefinition, ApiGroup, App, AppSecret, Authorizer, Instance, RELEASE_ENV_ID, new_id, now,
};
use portico_store::{Conflict, Kind, PolicyKind, PublishedApiFilter, SECRETS_KEY_FILE, Store, StoreError};
use serde_json::json;

async fn open(dir: &std::path::Path) -> std::sync::Arc<dyn Store> {
    portico_store::testing::reopen_store(dir).await.unwrap()
}

/// A store with an instance and a group; returns `(store, instance id, group id)`.
async fn fixture(dir: &std::path::Path) -> (std::sync::Arc<dyn Store>, String, String) {
    let (store, instance, group_id) = fixture_instance(dir).await;
    (store, instance.id, group_id)
}

/// [`fixture`], with the whole instance.
async fn fixture_instance(dir: &std::path::Path) -> (std::sync::Arc<dyn Store>, Instance, String) {
    let store = portico_store::testing::fresh_store(dir).await.unwrap();
    let instance = Instance {
        id: new_id(),
        project_id: new_id(),
        instance_name: "policies".into(),
        description: None,
        create_time: now(),
    };
    let project = portico_model::Project { id: instance.project_id.clone(), name: "p".into(), created_at: now() };
    store.create_project(&project).await.unwrap();
    store.create_instance(&instance).await.unwrap();
    let group = ApiGroup::new("group".into(), None, "apig.localhost", now());
    store.create_group(&instance.id, &group).await.unwrap();
    (store, instance, group.id)
}

fn api(group_id: &str, extra: serde_json::Value) -> Api {
    let mut body = json!({
        "name": format!("api_{}", &new_id()[..8]), "type": 1, "req_protocol": "HTTPS", "req_method": "GET",
        "req_uri": format!("/{}", &new_id()[..8]), "auth_type": "NONE", "backend_type": "MOCK",
        "group_id": group_id, "mock_info": {"result_content": "hello"}
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let mut definition = ApiDefinition::from_json(body.to_string().as_bytes()).unwrap();
    definition.prepare(None, now());
    Api { id: new_id(), status: 1, register_time: now(), update_time: now(), definition }
}

fn app(name: &str, key: &str) -> App {
    App {
        id: new_id(),
        name: name.into(),
        remark: None,
        creator: "USER".into(),
        app_key: key.into(),
        status: 1,
        app_type: "apig".into(),
        register_time: now(),
        update_time: now(),
        related_domain_id: None,
        related_project_id: None,
    }
}

#[tokio::test]
async fn app_secrets_are_sealed_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (store, i, _) = fixture(dir.path()).await;
    let a = app("app_one", "key_0001");
    store.create_app(&i, &a, &AppSecret("s3cret-value-1".into())).await.unwrap();
    assert!(matches!(
        store.create_app(&i, &app("app_two", "key_0001"), &AppSecret("x".into())).await,
        Err(StoreError::Conflict(Conflict::AppKey(_)))
    ));
    drop(store);

    let reopened = open(dir.path()).await;
    let (instance, found) = reopened.app_by_key("key_0001").await.unwrap();
    assert_eq!((instance.as_str(), found.app_secret.0.as_str()), (i.as_str(), "s3cret-value-1"));

    // Without the key file the secrets cannot be opened.
    std::fs::remove_file(dir.path().join(SECRETS_KEY_FILE)).unwrap();
    drop(reopened);
    let keyless = open(dir.path()).await;
    assert!(matches!(keyless.app(&i, &a.id).await, Err(StoreError::Secrets(_))));
}

#[tokio::test]
async fn bindings_follow_publications() {
    let dir = tempfile::tempdir().unwrap();
    let (store, i, g) = fixture(dir.path()).await;
    let acl = Acl {
        id: new_id(),
        acl_name: "office".into(),
        acl_type: "PERMIT".into(),
        acl_value: "10.0.0.0/8".into(),
        entity_type: "IP".into(),
        update_time: now(),
    };
    store.create_acl(&i, &acl).await.unwrap();
    let a = api(&g, json!({}));
    store.create_api(&i, &a).await.unwrap();
    let published = store.publish(&i, RELEASE_ENV_ID, std::slice::from_ref(&a.id), None, now()).await.unwrap();
    let publish_id = published[0].1.as_ref().unwrap().publish_id.clone();

    store.bind_policy(&i, PolicyKind::Acl, &acl.id, std::slice::from_ref(&publish_id), now()).await.unwrap();
    let err = store.delete_acls(&i, std::slice::from_ref(&acl.id)).await.unwrap();
    assert!(matches!(err[0].1, Err(StoreError::Conflict(Conflict::PolicyBound(..)))));

    // Republishing keeps the publish record and the binding; offline removes both.
    store.publish(&i, RELEASE_ENV_ID, std::slice::from_ref(&a.id), None, now()).await.unwrap();
    let filter = PublishedApiFilter::default();
    let page = portico_model::Page::default();
    assert_eq!(store.list_bound_apis(&i, PolicyKind::Acl, &acl.id, &filter, page).await.unwrap().total, 1);
    store.offline(&i, RELEASE_ENV_ID, std::slice::from_ref(&a.id)).await.unwrap();
    assert_eq!(store.list_bound_apis(&i, PolicyKind::Acl, &acl.id, &filter, page).await.unwrap().total, 0);
    assert!(store.delete_acls(&i, std::slice::from_ref(&acl.id)).await.unwrap()[0].1.is_ok());
    let gone = store.bind_policy(&i, PolicyKind::Acl, &acl.id, &[publish_id], now()).await.unwrap_err();
    assert!(matches!(gone, StoreError::NotFound { kind: Kind::Acl, .. }));
}

#[tokio::test]
async fn references_are_checked_and_block_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, i, g) = fixture(dir.path()).await;
    let authorizer = Authorizer {
        id: new_id(),
        name: "front".into(),
        kind: "FRONTEND".into(),
        authorizer_type: "FUNC".into(),
        authorizer_uri: "urn:fss:x".into(),
        network_type: "V1".into(),
        authorizer_version: None,
        authorizer_alias_uri: None,
        identities: vec![],
        ttl: 0,
        user_data: None,
        need_body: false,
        create_time: now(),
    };
    let guarded = api(&g, json!({"auth_type": "AUTHORIZER", "authorizer_id": authorizer.id}));
    let missing = store.create_api(&i, &guarded).await.unwrap_err();
    assert!(matches!(&missing, StoreError::BadReference { field, .. } if field == "authorizer_id"), "{missing}");
    assert!(matches!(store.api(&i, &guarded.id).await, Err(StoreError::NotFound { .. })), "nothing was written");

    store.create_authorizer(&i, &authorizer).await.unwrap();
    store.create_api(&i, &guarded).await.unwrap();
    assert!(matches!(
        store.delete_authorizer(&i, &authorizer.id).await,
        Err(StoreError::Conflict(Conflict::InUse(..)))
    ));
    store.delete_api(&i, &guarded.id).await.unwrap();
    store.delete_authorizer(&i, &authorizer.id).await.unwrap();
}

#[tokio::test]
async fn live_routes_carry_the_policies_of_live_publications() {
    let dir = tempfile::tempdir().unwrap();
    let (store, i, g) = fixture(dir.path()).await;
    let a = app("app_live", "key_live_01");
    store.create_app(&i, &a, &AppSecret("secret-live-1".into())).await.unwrap();
    let code = portico_model::AppCode {
        id: new_id(),
        app_id: a.id.clone(),
        app_code: format!("{}{}", new_id(), new_id()),
        create_time: now(),
    };
    store.create_app_code(&i, &code).await.unwrap();
    let acl = Acl {
        id: new_id(),
        acl_name: "office".into(),
        acl_type: "DENY".into(),
        acl_value: "10.0.0.0/8".into(),
        entity_type: "IP".into(),
        update_time: now(),
    };
    store.create_acl(&i, &acl).await.unwrap();
    let unbound = Acl { id: new_id(), acl_name: "unused".into(), ..acl.clone() };
    store.create_acl(&i, &unbound).await.unwrap();
    let published = api(&g, json!({}));
    store.create_api(&i, &published).await.unwrap();
    let outcome = store.publish(&i, RELEASE_ENV_ID, std::slice::from_ref(&published.id), None, now()).await.unwrap();
    let publish_id = outcome[0].1.as_ref().unwrap().publish_id.clone();
    store.bind_policy(&i, PolicyKind::Acl, &acl.id, std::slice::from_ref(&publish_id), now()).await.unwrap();
    let ids = [a.id.clone()];
    store.authorize_apps(&i, RELEASE_ENV_ID, &ids, std::slice::from_ref(&published.id), now()).await.unwrap();

    let live = store.live_routes().await.unwrap().policies;
    assert_eq!(live.apps.len(), 1);
    assert_eq!(live.apps[0].instance_id, i);
    assert_eq!(live.apps[0].app.app_secret.0, "secret-live-1", "secrets in clear for the data plane");
    assert_eq!(live.apps[0].app_codes, std::slice::from_ref(&code.app_code));
    assert_eq!(live.app_auths, [(publish_id.clone(), a.id.clone())]);
    assert_eq!(live.bindings.len(), 1);
    assert_eq!((live.bindings[0].kind, live.bindings[0].publish_id.as_str()), (PolicyKind::Acl, publish_id.as_str()));
    assert_eq!(live.acls, std::slice::from_ref(&acl), "only bound ACLs");

    // Offline: the authorization and the binding go with the publication.
    store.offline(&i, RELEASE_ENV_ID, std::slice::from_ref(&published.id)).await.unwrap();
    let live = store.live_routes().await.unwrap().policies;
    assert!(live.app_auths.is_empty() && live.bindings.is_empty() && live.acls.is_empty(), "{live:?}");
    assert_eq!(live.apps.len(), 1, "apps are kept: they may be authorized again");
}

#[tokio::test]
async fn live_routes_list_every_live_publication_oldest_first_with_its_route_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, instance, g) = fixture_instance(dir.path()).await;
    let i = instance.id.clone();
    let first = api(&g, json!({"req_method": "POST", "match_mode": "SWA"}));
    let second = api(&g, json!({"auth_type": "APP"}));
    for api in [&first, &second] {
        store.create_api(&i, api).await.unwrap();
    }
    assert!(store.live_routes().await.unwrap().apis.is_empty(), "nothing is live before a publish");

    let mut publications = Vec::new();
    for api in [&first, &second] {
        let outcome = store.publish(&i, RELEASE_ENV_ID, std::slice::from_ref(&api.id), None, now()).await.unwrap();
        publications.push(outcome[0].1.as_ref().unwrap().clone());
    }
    let live = store.live_routes().await.unwrap().apis;
    assert_eq!(live.len(), 2, "{live:?}");
    for ((live, api), publication) in live.iter().zip([&first, &second]).zip(&publications) {
        assert_eq!(
            (live.instance_id.as_str(), live.project_id.as_str(), live.env_id.as_str(), live.env_name.as_str()),
            (i.as_str(), instance.project_id.as_str(), RELEASE_ENV_ID, "RELEASE")
        );
        assert_eq!(
            (live.publish_id.as_str(), live.version_id.as_str(), live.api_id.as_str()),
            (publication.publish_id.as_str(), publication.version_id.as_str(), api.id.as_str())
        );
        assert_eq!(live.route, portico_store::RouteKey::of(api));
    }

    store.offline(&i, RELEASE_ENV_ID, std::slice::from_ref(&first.id)).await.unwrap();
    let live = store.live_routes().await.unwrap().apis;
    assert_eq!(live.iter().map(|l| l.api_id.as_str()).collect::<Vec<_>>(), [second.id.as_str()]);
}
