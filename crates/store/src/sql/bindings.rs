//! [`BindingStore`]: throttling policies, ACLs and signature keys bound to publish records.
//! Bindings reference `publications(publish_id)` with `ON DELETE CASCADE`, so offlining or
//! deleting an API removes them in its transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use portico_model::{Api, DeclaredPolicies, Page, Paged, PolicySet, ThrottleSpecial, new_id};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, parse_ts, ts, unique_or};
use crate::policy_types::*;
use crate::{BindingStore, Conflict, Kind, Result, StoreError, TextMatch};

pub(super) fn published_columns<DB: Engine>() -> String {
    format!(
        "p.publish_id, p.api_id, p.env_id, p.publish_time, a.name AS api_name, a.api_type, a.req_method, a.req_uri, \
         a.auth_type, a.group_id, a.tags, {} AS api_remark, g.name AS group_name, e.name AS env_name",
        DB::json_text("a.doc", "remark")
    )
}

pub(super) const PUBLISHED_JOINS: &str = "JOIN apis a ON a.id = p.api_id \
     JOIN api_groups g ON g.id = a.group_id \
     JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id";

pub(super) fn table(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Throttle => "throttles",
        PolicyKind::Acl => "acls",
        PolicyKind::Sign => "signs",
    }
}

pub(super) fn policy_kind(kind: PolicyKind) -> Kind {
    match kind {
        PolicyKind::Throttle => Kind::Throttle,
        PolicyKind::Acl => Kind::Acl,
        PolicyKind::Sign => Kind::Signature,
    }
}

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    pub(super) async fn delete_bound_policy(
        &self,
        tx: &mut Tx<DB>,
        instance_id: &str,
        kind: PolicyKind,
        id: &str,
    ) -> Result<()> {
        Self::policy_name(tx, instance_id, kind, id).await?;
        if Self::bind_count(tx, kind, id).await? > 0 {
            return Err(Conflict::PolicyBound(kind.label(), id.to_string()).into());
        }
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE instance_id = $1 AND id = $2", table(kind))))
            .bind(instance_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub(super) fn decode_published(row: &DB::Row) -> Result<PublishedApi> {
        Ok(PublishedApi {
            publish_id: row.try_get("publish_id")?,
            api_id: row.try_get("api_id")?,
            api_name: row.try_get("api_name")?,
            api_type: row.try_get("api_type")?,
            api_remark: row.try_get("api_remark")?,
            req_method: row.try_get("req_method")?,
            req_uri: row.try_get("req_uri")?,
            auth_type: row.try_get("auth_type")?,
            group_id: row.try_get("group_id")?,
            group_name: row.try_get("group_name")?,
            env_id: row.try_get("env_id")?,
            env_name: row.try_get("env_name")?,
            publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
            tags: Self::from_doc(row, "tags")?,
        })
    }

    pub(super) fn push_published_filter(q: &mut QueryBuilder<DB>, instance_id: &str, f: &PublishedApiFilter) {
        q.push(" WHERE p.instance_id = ").push_bind(instance_id.to_string());
        for (column, value) in [("p.env_id", &f.env_id), ("a.group_id", &f.group_id), ("p.api_id", &f.api_id)] {
            if let Some(v) = value {
                q.push(format!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        if let Some(name) = &f.api_name {
            Self::push_text_filter(q, "a.name", &TextMatch::Contains(name.clone()));
        }
        if let Some(tag) = &f.tag {
            q.push(format!(" AND {}", DB::json_array_has("a.tags", None, None))).push_bind(tag.clone()).push(")");
        }
    }

    pub(super) fn decode_binding(row: &DB::Row) -> Result<PolicyBinding> {
        Ok(PolicyBinding {
            id: row.try_get("binding_id")?,
            policy_id: row.try_get("policy_id")?,
            policy_name: row.try_get("policy_name")?,
            publish_id: row.try_get("publish_id")?,
            api_id: row.try_get("api_id")?,
            env_id: row.try_get("env_id")?,
            create_time: parse_ts(&row.try_get::<String, _>("bind_time")?)?,
        })
    }

    /// The policy's name, or NotFound.
    pub(super) async fn policy_name(
        tx: &mut DB::Connection,
        instance_id: &str,
        kind: PolicyKind,
        id: &str,
    ) -> Result<String> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT name FROM {} WHERE instance_id = $1 AND id = $2", table(kind))))
                .bind(instance_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(policy_kind(kind), id))?;
        Ok(row.try_get(0)?)
    }

    pub(super) async fn bind_count(tx: &mut DB::Connection, kind: PolicyKind, id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM policy_bindings WHERE kind = $1 AND policy_id = $2")
            .bind(kind.as_str())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Binds a publish record that has just been created to the throttling policy and the ACL
    /// that its API's definition declares by name ([`DeclaredPolicies`], kept from an imported
    /// document): what a document declares takes effect when the API is
    /// published to an environment. Only a new record is bound, so a binding removed by hand stays
    /// removed while the API stays published; a name no policy of the instance has any more is
    /// skipped (the publish itself must not fail over a policy deleted since the import).
    pub(super) async fn bind_declared_policies(
        tx: &mut Tx<DB>,
        instance_id: &str,
        api: &Api,
        publish_id: &str,
        env_id: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let declared = DeclaredPolicies::of(&api.definition);
        for (kind, name) in [(PolicyKind::Throttle, declared.throttle), (PolicyKind::Acl, declared.acl)] {
            let Some(name) = name else { continue };
            let found = sqlx::query(AssertSqlSafe(format!(
                "SELECT id FROM {} WHERE instance_id = $1 AND name = $2",
                table(kind)
            )))
            .bind(instance_id)
            .bind(&name)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(row) = found else {
                let kind = kind.label();
                tracing::warn!(api_id = %api.id, %name, "the API declares a {kind} the instance does not have: not bound");
                continue;
            };
            let policy_id: String = row.try_get("id")?;
            sqlx::query(
                "INSERT INTO policy_bindings (id, instance_id, kind, policy_id, publish_id, api_id, env_id, create_time) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (kind, publish_id) DO NOTHING",
            )
            .bind(new_id())
            .bind(instance_id)
            .bind(kind.as_str())
            .bind(policy_id)
            .bind(publish_id)
            .bind(&api.id)
            .bind(env_id)
            .bind(ts(now))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<DB> BindingStore for SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn bind_policy(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        publish_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<PolicyBinding>> {
        let mut tx = self.write().await?;
        let name = Self::policy_name(&mut tx, instance_id, kind, policy_id).await?;
        let mut bindings = Vec::with_capacity(publish_ids.len());
        for publish_id in publish_ids {
            let row = sqlx::query("SELECT api_id, env_id FROM publications WHERE instance_id = $1 AND publish_id = $2")
                .bind(instance_id)
                .bind(publish_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Publication, publish_id))?;
            let binding = PolicyBinding {
                id: new_id(),
                policy_id: policy_id.to_string(),
                policy_name: name.clone(),
                publish_id: publish_id.clone(),
                api_id: row.try_get("api_id")?,
                env_id: row.try_get("env_id")?,
                create_time: now,
            };
            sqlx::query(
                "INSERT INTO policy_bindings (id, instance_id, kind, policy_id, publish_id, api_id, env_id, create_time) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&binding.id)
            .bind(instance_id)
            .bind(kind.as_str())
            .bind(policy_id)
            .bind(publish_id)
            .bind(&binding.api_id)
            .bind(&binding.env_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::AlreadyBound(kind.label(), binding.api_id.clone())))?;
            bindings.push(binding);
        }
        self.commit(tx).await?;
        Ok(bindings)
    }

    async fn unbind_policies(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        binding_ids: &[String],
    ) -> Result<Vec<(String, Result<()>)>> {
        let mut tx = self.write().await?;
        let mut outcome = Vec::with_capacity(binding_ids.len());
        for id in binding_ids {
            let deleted = sqlx::query("DELETE FROM policy_bindings WHERE instance_id = $1 AND kind = $2 AND id = $3")
                .bind(instance_id)
                .bind(kind.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let result =
                if DB::rows_affected(&deleted) == 0 { Err(StoreError::not_found(Kind::Binding, id)) } else { Ok(()) };
            outcome.push((id.clone(), result));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn list_bound_apis(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<BoundApi>> {
        Self::policy_name(&mut *self.pool.acquire().await?, instance_id, kind, policy_id).await?;
        let select = format!(
            "{}, b.id AS binding_id, b.policy_id, b.create_time AS bind_time, pol.name AS policy_name",
            published_columns::<DB>()
        );
        let from = format!(
            "policy_bindings b JOIN {} pol ON pol.id = b.policy_id JOIN publications p ON p.publish_id = b.publish_id \
             {PUBLISHED_JOINS}",
            table(kind)
        );
        let filters = |q: &mut QueryBuilder<DB>| {
            Self::push_published_filter(q, instance_id, filter);
            q.push(" AND b.kind = ").push_bind(kind.as_str());
            q.push(" AND b.policy_id = ").push_bind(policy_id.to_string());
        };
        self.paged(&select, &from, "b.seq", filters, page, |r| {
            Ok(BoundApi { api: Self::decode_published(r)?, binding: Self::decode_binding(r)? })
        })
        .await
    }

    async fn list_unbound_apis(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<PublishedApi>> {
        Self::policy_name(&mut *self.pool.acquire().await?, instance_id, kind, policy_id).await?;
        let from = format!("publications p {PUBLISHED_JOINS}");
        let filters = |q: &mut QueryBuilder<DB>| {
            Self::push_published_filter(q, instance_id, filter);
            q.push(" AND NOT EXISTS (SELECT 1 FROM policy_bindings b WHERE b.publish_id = p.publish_id AND b.kind = ")
                .push_bind(kind.as_str())
                .push(")");
        };
        self.paged(&published_columns::<DB>(), &from, "p.seq", filters, page, Self::decode_published).await
    }

    async fn list_bound_policies(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        api_id: &str,
        filter: &BoundPolicyFilter,
        page: Page,
    ) -> Result<Paged<BoundPolicy>> {
        let secret = if kind == PolicyKind::Sign { "pol.sealed_secret" } else { "NULL" };
        let select = format!(
            "b.id AS binding_id, b.policy_id, b.publish_id, b.api_id, b.env_id, b.create_time AS bind_time, \
             pol.name AS policy_name, pol.doc, e.name AS env_name, {secret} AS sealed_secret"
        );
        let from = format!(
            "policy_bindings b JOIN {} pol ON pol.id = b.policy_id \
             JOIN envs e ON e.instance_id = b.instance_id AND e.id = b.env_id",
            table(kind)
        );
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE b.instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND b.kind = ").push_bind(kind.as_str());
            q.push(" AND b.api_id = ").push_bind(api_id.to_string());
            if let Some(env) = &filter.env_id {
                q.push(" AND b.env_id = ").push_bind(env.clone());
            }
            if let Some(id) = &filter.policy_id {
                q.push(" AND b.policy_id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.policy_name {
                Self::push_text_filter(q, "pol.name", &TextMatch::Contains(name.clone()));
            }
        };
        self.paged(&select, &from, "b.seq", filters, page, |r| {
            let mut policy: Map<String, Value> = Self::from_doc(r, "doc")?;
            if let Some(sealed) = r.try_get::<Option<String>, _>("sealed_secret")? {
                policy.insert("sign_secret".into(), Value::String(self.secrets.open(&sealed)?));
            }
            Ok(BoundPolicy { binding: Self::decode_binding(r)?, env_name: r.try_get("env_name")?, policy })
        })
        .await
    }

    async fn bound_policies(
        &self,
        instance_id: &str,
        env_id: &str,
        api_ids: &[String],
    ) -> Result<(PolicySet, HashMap<String, DeclaredPolicies>)> {
        let (mut policies, mut bound) = (PolicySet::default(), HashMap::<String, DeclaredPolicies>::new());
        if api_ids.is_empty() {
            return Ok((policies, bound));
        }
        let mut conn = DB::begin_snapshot(&self.pool).await?;
        for kind in [PolicyKind::Throttle, PolicyKind::Acl] {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT b.api_id, pol.id, pol.name, pol.doc FROM policy_bindings b JOIN {} pol ON pol.id = b.policy_id \
                 WHERE b.instance_id = ",
                table(kind)
            ));
            q.push_bind(instance_id.to_string()).push(" AND b.kind = ").push_bind(kind.as_str());
            q.push(" AND b.env_id = ").push_bind(env_id.to_string()).push(" AND b.api_id IN (");
            let mut ids = q.separated(", ");
            for id in api_ids {
                ids.push_bind(id.clone());
            }
            q.push(") ORDER BY b.seq");
            let rows = q.build().fetch_all(&mut *conn).await?;
            let mut seen = HashSet::new();
            for row in &rows {
                let api_id: String = row.try_get("api_id")?;
                let name: String = row.try_get("name")?;
                let declared = bound.entry(api_id).or_default();
                match kind {
                    PolicyKind::Throttle => declared.throttle = Some(name.clone()),
                    _ => declared.acl = Some(name.clone()),
                }
                if !seen.insert(name) {
                    continue;
                }
                match kind {
                    PolicyKind::Throttle => {
                        let policy_id: String = row.try_get("id")?;
                        let specials =
                            sqlx::query("SELECT doc FROM throttle_specials WHERE throttle_id = $1 ORDER BY seq")
                                .bind(&policy_id)
                                .fetch_all(&mut *conn)
                                .await?
                                .iter()
                                .map(|r| Self::from_doc(r, "doc"))
                                .collect::<Result<Vec<ThrottleSpecial>>>()?;
                        policies.throttles.push((Self::from_doc(row, "doc")?, specials));
                    }
                    _ => policies.acls.push(Self::from_doc(row, "doc")?),
                }
            }
        }
        Ok((policies, bound))
    }
}
