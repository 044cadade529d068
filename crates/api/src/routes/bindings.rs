//! What the binding routes of throttling policies and ACLs share: the bind body, the batch
//! `?action=delete` body, and the queries of the bound / unbound lists.

use portico_model::{FieldError, Page, parse_body};
use portico_store::{PolicyKind, PublishedApiFilter, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::apps::non_empty;
use crate::extract::Scope;
use crate::{ApiError, ApiResult, AppState};

/// Most publish records or ids one call may name.
const MAX_BATCH: usize = 1000;

/// `?action=` of the batch operations; only `delete` exists.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    action: Option<String>,
}

impl ActionQuery {
    /// Refuses anything but `action=delete`.
    pub fn require_delete(&self) -> ApiResult<()> {
        match self.action.as_deref() {
            None | Some("") => Err(ApiError::missing("action")),
            Some("delete") => Ok(()),
            Some(_) => Err(ApiError::invalid("action")),
        }
    }
}

/// A list of ids under `key` (1–1000 of them).
pub fn ids_body(body: &[u8], key: &str) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Ids(#[serde(default)] Vec<String>);
    let value: Value = parse_body(body, &[key])?;
    let ids: Ids = serde_json::from_value(value[key].clone()).map_err(|_| ApiError::invalid(key))?;
    match ids.0.len() {
        0 => Err(ApiError::missing(key)),
        n if n > MAX_BATCH => Err(ApiError::invalid(key)),
        _ => Ok(ids.0),
    }
}

/// `{<policy_field>: id, publish_ids: [...]}`.
pub fn bind_body(body: &[u8], policy_field: &str) -> ApiResult<(String, Vec<String>)> {
    let value: Value = parse_body(body, &[policy_field])?;
    let policy_id = value[policy_field].as_str().ok_or_else(|| ApiError::invalid(policy_field))?.to_string();
    let publish_ids = ids_body(body, "publish_ids")?;
    Ok((policy_id, publish_ids))
}

/// Query of the bound / unbound API lists and the bound policy lists.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BindingQuery {
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub throttle_id: Option<String>,
    pub throttle_name: Option<String>,
    pub acl_id: Option<String>,
    pub acl_name: Option<String>,
    pub sign_id: Option<String>,
    pub sign_name: Option<String>,
    pub env_id: Option<String>,
    pub env_name: Option<String>,
    pub group_id: Option<String>,
    pub api_id: Option<String>,
    pub api_name: Option<String>,
    pub tags: Option<String>,
}

impl BindingQuery {
    pub fn page(&self) -> Result<Page, FieldError> {
        Page::new(self.offset, self.limit)
    }

    pub fn apis(&self) -> PublishedApiFilter {
        PublishedApiFilter {
            env_id: non_empty(self.env_id.clone()),
            group_id: non_empty(self.group_id.clone()),
            api_id: non_empty(self.api_id.clone()),
            api_name: non_empty(self.api_name.clone()),
            tag: non_empty(self.tags.clone()),
        }
    }

    /// The required `field` of the query.
    pub fn required(value: &Option<String>, field: &str) -> ApiResult<String> {
        non_empty(value.clone()).ok_or_else(|| ApiError::missing(field))
    }

    /// The environment named by `env_id`, or by `env_name`.
    pub async fn env(&self, state: &AppState, scope: &Scope) -> ApiResult<Option<String>> {
        match (non_empty(self.env_id.clone()), non_empty(self.env_name.clone())) {
            (Some(id), _) => Ok(Some(id)),
            (None, Some(name)) => {
                let envs =
                    state.store.list_envs(&scope.instance_id, Some(&name), Page { offset: 0, limit: 500 }).await?;
                let env = envs.items.into_iter().find(|e| e.name == name);
                Ok(Some(env.map(|e| e.id).ok_or_else(|| {
                    ApiError::from(StoreError::NotFound { kind: portico_store::Kind::Environment, id: name })
                })?))
            }
            (None, None) => Ok(None),
        }
    }
}

/// `{success_count, failure: [...]}` of a batch unbind: each failure names the binding.
pub async fn batch_unbind(state: &AppState, scope: &Scope, kind: PolicyKind, ids: &[String]) -> ApiResult<Value> {
    let outcome = state.store.unbind_policies(&scope.instance_id, kind, ids).await?;
    let mut failure = Vec::new();
    let mut success_count = 0;
    for (id, result) in outcome {
        match result {
            Ok(()) => success_count += 1,
            Err(e) => {
                let e = ApiError::from(e);
                failure.push(json!({ "bind_id": id, "error_code": e.code, "error_msg": e.message }));
            }
        }
    }
    Ok(json!({ "success_count": success_count, "failure": failure }))
}

/// Removes one binding, 404 if it is not there.
pub async fn unbind_one(state: &AppState, scope: &Scope, kind: PolicyKind, id: &str) -> ApiResult<()> {
    let outcome = state.store.unbind_policies(&scope.instance_id, kind, std::slice::from_ref(&id.to_string())).await?;
    match outcome.into_iter().next() {
        Some((_, result)) => Ok(result?),
        None => Err(ApiError::internal(&"empty unbind outcome")),
    }
}
