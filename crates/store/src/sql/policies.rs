//! [`PolicyStore`] on SQLite. Bindings and authorizations reference `publications(publish_id)`
//! with `ON DELETE CASCADE`, so offlining or deleting an API removes them in its transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use portico_model::{
    Acl, Api, App, AppAuth, AppCode, AppSecret, AppWithSecret, Authorizer, DeclaredPolicies, GatewayResponse,
    MemberChange, Page, Paged, PolicySet, RefKind, Signature, Throttle, ThrottleSpecial, VpcChannel, api_references,
    new_id,
};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, not_published, parse_ts, to_doc, ts, unique_or};
use crate::policy_types::*;
use crate::secrets::lookup_hash;
use crate::{ChannelUpdate, Conflict, Kind, PolicyStore, ResponseUpdate, Result, StoreError, TextMatch};

fn published_columns<DB: Engine>() -> String {
    format!(
        "p.publish_id, p.api_id, p.env_id, p.publish_time, a.name AS api_name, a.api_type, a.req_method, a.req_uri, \
         a.auth_type, a.group_id, a.tags, {} AS api_remark, g.name AS group_name, e.name AS env_name",
        DB::json_text("a.doc", "remark")
    )
}
const PUBLISHED_JOINS: &str = "JOIN apis a ON a.id = p.api_id \
     JOIN api_groups g ON g.id = a.group_id \
     JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id";

fn table(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Throttle => "throttles",
        PolicyKind::Acl => "acls",
        PolicyKind::Sign => "signs",
    }
}

fn policy_kind(kind: PolicyKind) -> Kind {
    match kind {
        PolicyKind::Throttle => Kind::Throttle,
        PolicyKind::Acl => Kind::Acl,
        PolicyKind::Sign => Kind::Signature,
    }
}

/// A unique violation on `apps` (a concurrent writer won): the key's or the name's conflict.
fn app_unique(e: sqlx::Error, app: &App) -> StoreError {
    let on_key = matches!(&e, sqlx::Error::Database(d) if d.message().contains("app_key"));
    let conflict = if on_key { Conflict::AppKey(app.app_key.clone()) } else { Conflict::AppName(app.name.clone()) };
    unique_or(e, conflict)
}

const THROTTLE_COLUMNS: &str = "doc, \
     (SELECT COUNT(*) FROM policy_bindings b WHERE b.kind = 'throttle' AND b.policy_id = throttles.id) AS bind_num, \
     EXISTS (SELECT 1 FROM throttle_specials s WHERE s.throttle_id = throttles.id) AS has_specials";

const ACL_COLUMNS: &str = "doc, \
     (SELECT COUNT(*) FROM policy_bindings b WHERE b.kind = 'acl' AND b.policy_id = acls.id) AS bind_num";

const SIGN_COLUMNS: &str = "doc, sealed_secret, \
     (SELECT COUNT(*) FROM policy_bindings b WHERE b.kind = 'sign' AND b.policy_id = signs.id) AS bind_num";

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
    fn decode_signature(&self, row: &DB::Row) -> Result<SignatureSummary> {
        let sealed: String = row.try_get("sealed_secret")?;
        let stored: Signature = Self::from_doc(row, "doc")?;
        Ok(SignatureSummary {
            signature: Signature { sign_secret: self.secrets.open(&sealed)?, ..stored },
            bind_num: row.try_get::<i64, _>("bind_num")? as u64,
        })
    }

    fn decode_app(&self, row: &DB::Row) -> Result<AppWithSecret> {
        let sealed: String = row.try_get("sealed_secret")?;
        Ok(AppWithSecret { app: Self::from_doc(row, "doc")?, app_secret: AppSecret(self.secrets.open(&sealed)?) })
    }

    fn decode_code(&self, row: &DB::Row) -> Result<AppCode> {
        let sealed: String = row.try_get("sealed_code")?;
        Ok(AppCode {
            id: row.try_get("id")?,
            app_id: row.try_get("app_id")?,
            app_code: self.secrets.open(&sealed)?,
            create_time: parse_ts(&row.try_get::<String, _>("create_time")?)?,
        })
    }

    /// The policies of [`LivePolicies`], read in the caller's transaction. Every query reads
    /// a whole table or what the bindings name: no query per publication.
    pub(super) async fn live_policies(&self, tx: &mut Tx<DB>) -> Result<LivePolicies> {
        let mut codes: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for row in sqlx::query("SELECT app_id, sealed_code FROM app_codes ORDER BY seq").fetch_all(&mut **tx).await? {
            let sealed: String = row.try_get("sealed_code")?;
            codes.entry(row.try_get("app_id")?).or_default().push(self.secrets.open(&sealed)?);
        }
        let mut apps = Vec::new();
        for row in
            sqlx::query("SELECT instance_id, doc, sealed_secret FROM apps ORDER BY seq").fetch_all(&mut **tx).await?
        {
            let app = self.decode_app(&row)?;
            let app_codes = codes.remove(&app.app.id).unwrap_or_default();
            apps.push(LiveApp { instance_id: row.try_get("instance_id")?, app, app_codes });
        }
        let app_auths = sqlx::query("SELECT publish_id, app_id FROM app_auths ORDER BY seq")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("publish_id")?, row.try_get("app_id")?)))
            .collect::<Result<Vec<_>>>()?;
        let mut bindings = Vec::new();
        for row in sqlx::query("SELECT kind, publish_id, policy_id FROM policy_bindings ORDER BY seq")
            .fetch_all(&mut **tx)
            .await?
        {
            let kind: String = row.try_get("kind")?;
            // A kind this build does not know was written by a newer one: nothing to enforce here.
            let Some(kind) = PolicyKind::from_stored(&kind) else { continue };
            bindings.push(LiveBinding {
                kind,
                publish_id: row.try_get("publish_id")?,
                policy_id: row.try_get("policy_id")?,
            });
        }
        let bound = |kind: &str| format!("SELECT policy_id FROM policy_bindings WHERE kind = '{kind}'");
        let docs = |sql: String| sqlx::query(AssertSqlSafe(sql));
        let throttles = docs(format!("SELECT doc FROM throttles WHERE id IN ({}) ORDER BY seq", bound("throttle")))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Self::from_doc(row, "doc"))
            .collect::<Result<Vec<_>>>()?;
        let specials = docs(format!(
            "SELECT doc FROM throttle_specials WHERE throttle_id IN ({}) ORDER BY seq",
            bound("throttle")
        ))
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| Self::from_doc(row, "doc"))
        .collect::<Result<Vec<_>>>()?;
        let acls = docs(format!("SELECT doc FROM acls WHERE id IN ({}) ORDER BY seq", bound("acl")))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Self::from_doc(row, "doc"))
            .collect::<Result<Vec<_>>>()?;
        let signatures = docs(format!("SELECT {SIGN_COLUMNS} FROM signs WHERE id IN ({}) ORDER BY seq", bound("sign")))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Ok(self.decode_signature(row)?.signature))
            .collect::<Result<Vec<_>>>()?;
        let gateway_responses = sqlx::query(
            "SELECT doc FROM gateway_responses WHERE group_id IN \
             (SELECT a.group_id FROM publications p JOIN apis a ON a.id = p.api_id) ORDER BY seq",
        )
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| Self::from_doc(row, "doc"))
        .collect::<Result<Vec<_>>>()?;
        let vpc_channels = sqlx::query("SELECT instance_id, doc FROM vpc_channels ORDER BY seq")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("instance_id")?, Self::from_doc(row, "doc")?)))
            .collect::<Result<Vec<_>>>()?;
        let authorizers = sqlx::query("SELECT instance_id, doc FROM authorizers ORDER BY seq")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("instance_id")?, Self::from_doc(row, "doc")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(LivePolicies {
            apps,
            app_auths,
            bindings,
            throttles,
            specials,
            acls,
            signatures,
            gateway_responses,
            vpc_channels,
            authorizers,
        })
    }

    async fn delete_bound_policy(&self, tx: &mut Tx<DB>, instance_id: &str, kind: PolicyKind, id: &str) -> Result<()> {
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

    async fn special_in(
        &self,
        tx: &mut Tx<DB>,
        instance_id: &str,
        throttle_id: &str,
        id: &str,
    ) -> Result<ThrottleSpecial> {
        Self::policy_name(tx, instance_id, PolicyKind::Throttle, throttle_id).await?;
        let row =
            sqlx::query("SELECT doc FROM throttle_specials WHERE instance_id = $1 AND throttle_id = $2 AND id = $3")
                .bind(instance_id)
                .bind(throttle_id)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::ThrottleSpecial, id))?;
        Self::from_doc(&row, "doc")
    }

    async fn throttle_exists(&self, instance_id: &str, id: &str) -> Result<()> {
        Self::policy_name(&mut *self.pool.acquire().await?, instance_id, PolicyKind::Throttle, id).await.map(|_| ())
    }

    async fn authorize_one(
        &self,
        tx: &mut Tx<DB>,
        instance_id: &str,
        env_id: &str,
        app: &App,
        api_id: &str,
        now: OffsetDateTime,
    ) -> Result<AppAuth> {
        let row =
            sqlx::query("SELECT publish_id FROM publications WHERE instance_id = $1 AND api_id = $2 AND env_id = $3")
                .bind(instance_id)
                .bind(api_id)
                .bind(env_id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(row) = row else {
            Self::api_in(tx, instance_id, api_id).await?;
            return Err(not_published(api_id, env_id));
        };
        let publish_id: String = row.try_get(0)?;
        let auth = AppAuth {
            id: new_id(),
            api_id: api_id.to_string(),
            app_id: app.id.clone(),
            env_id: env_id.to_string(),
            auth_time: now,
        };
        // A batch goes on after an authorization that exists, so the conflict must not be a
        // failed statement (PostgreSQL aborts the transaction on one).
        let inserted = sqlx::query(
            "INSERT INTO app_auths (id, instance_id, app_id, publish_id, api_id, env_id, auth_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app_id, publish_id) DO NOTHING",
        )
        .bind(&auth.id)
        .bind(instance_id)
        .bind(&auth.app_id)
        .bind(&publish_id)
        .bind(api_id)
        .bind(env_id)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        if DB::rows_affected(&inserted) == 0 {
            return Err(Conflict::AppAuthorized(app.name.clone(), api_id.to_string()).into());
        }
        Ok(auth)
    }

    fn decode_published(row: &DB::Row) -> Result<PublishedApi> {
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

    fn push_published_filter(q: &mut QueryBuilder<DB>, instance_id: &str, f: &PublishedApiFilter) {
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

    fn decode_binding(row: &DB::Row) -> Result<PolicyBinding> {
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

    fn decode_throttle(row: &DB::Row) -> Result<ThrottleSummary> {
        Ok(ThrottleSummary {
            throttle: Self::from_doc(row, "doc")?,
            bind_num: row.try_get::<i64, _>("bind_num")? as u64,
            has_specials: row.try_get("has_specials")?,
        })
    }

    fn decode_acl(row: &DB::Row) -> Result<AclSummary> {
        Ok(AclSummary { acl: Self::from_doc(row, "doc")?, bind_num: row.try_get::<i64, _>("bind_num")? as u64 })
    }

    /// `ListApisV2`'s `vpc_channel_name`: APIs referring to the channel of that name.
    pub(super) fn push_vpc_channel_filter(q: &mut QueryBuilder<DB>, channel_name: &str) {
        q.push(
            " AND EXISTS (SELECT 1 FROM api_refs r JOIN vpc_channels c ON c.id = r.ref_id \
             WHERE r.api_id = apis.id AND r.kind = 'vpc_channel' AND c.name = ",
        )
        .push_bind(channel_name.to_string())
        .push(")");
    }

    /// The policy's name, or NotFound.
    async fn policy_name(tx: &mut DB::Connection, instance_id: &str, kind: PolicyKind, id: &str) -> Result<String> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT name FROM {} WHERE instance_id = $1 AND id = $2", table(kind))))
                .bind(instance_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(policy_kind(kind), id))?;
        Ok(row.try_get(0)?)
    }

    async fn bind_count(tx: &mut DB::Connection, kind: PolicyKind, id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM policy_bindings WHERE kind = $1 AND policy_id = $2")
            .bind(kind.as_str())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn app_in(tx: &mut Tx<DB>, instance_id: &str, app_id: &str) -> Result<App> {
        Self::doc_in(&mut **tx, "apps", Kind::App, instance_id, app_id).await
    }

    /// Conflicts of an app's name (in the instance) and key (anywhere) with apps other than `except`.
    async fn check_app_conflicts(tx: &mut Tx<DB>, instance_id: &str, app: &App, except: &str) -> Result<()> {
        let name = sqlx::query("SELECT 1 FROM apps WHERE instance_id = $1 AND name = $2 AND id <> $3")
            .bind(instance_id)
            .bind(&app.name)
            .bind(except)
            .fetch_optional(&mut **tx)
            .await?;
        if name.is_some() {
            return Err(Conflict::AppName(app.name.clone()).into());
        }
        let key = sqlx::query("SELECT 1 FROM apps WHERE app_key = $1 AND id <> $2")
            .bind(&app.app_key)
            .bind(except)
            .fetch_optional(&mut **tx)
            .await?;
        if key.is_some() {
            return Err(Conflict::AppKey(app.app_key.clone()).into());
        }
        Ok(())
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

    /// Inserts the specials of an imported throttling policy; an `APP` special must name an app
    /// of the instance.
    async fn insert_specials(
        tx: &mut Tx<DB>,
        instance_id: &str,
        throttle_id: &str,
        throttle_name: &str,
        specials: &[ThrottleSpecial],
        now: OffsetDateTime,
    ) -> Result<()> {
        for (i, s) in specials.iter().enumerate() {
            let object_name = if s.object_type == "APP" {
                match Self::app_in(tx, instance_id, &s.object_id).await {
                    Ok(app) => app.name,
                    Err(StoreError::NotFound { .. }) => {
                        return Err(StoreError::BadReference {
                            field: format!("{throttle_name}.special[{i}].instance"),
                            message: format!("The app {} does not exist", s.object_id),
                        });
                    }
                    Err(e) => return Err(e),
                }
            } else {
                s.object_id.clone()
            };
            let special = ThrottleSpecial {
                id: new_id(),
                throttle_id: throttle_id.to_string(),
                object_name,
                apply_time: now,
                ..s.clone()
            };
            sqlx::query(
                "INSERT INTO throttle_specials (id, instance_id, throttle_id, object_type, object_id, doc) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (throttle_id, object_type, object_id) DO NOTHING",
            )
            .bind(&special.id)
            .bind(instance_id)
            .bind(throttle_id)
            .bind(&special.object_type)
            .bind(&special.object_id)
            .bind(to_doc(&special)?)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Conflict if an API refers to `id` as a `kind`.
    async fn refuse_if_referenced(
        tx: &mut Tx<DB>,
        instance_id: &str,
        kind: &str,
        label: &'static str,
        id: &str,
    ) -> Result<()> {
        let draft = sqlx::query("SELECT api_id FROM api_refs WHERE kind = $1 AND ref_id = $2 LIMIT 1")
            .bind(kind)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        // A live version may still use it after the draft stopped: ids are 32-hex, so the quoted id
        // appears in a snapshot only where the snapshot refers to it.
        let live = match draft {
            Some(row) => Some(row),
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT p.api_id FROM publications p JOIN api_versions v ON v.id = p.version_id \
                     WHERE p.instance_id = $1 AND {}$2) > 0 LIMIT 1",
                    DB::contains("v.snapshot")
                )))
                .bind(instance_id)
                .bind(format!("\"{id}\""))
                .fetch_optional(&mut **tx)
                .await?
            }
        };
        match live {
            Some(row) => Err(Conflict::InUse(label, id.to_string(), row.try_get(0)?).into()),
            None => Ok(()),
        }
    }

    /// Checks that every object `api` refers to exists (and is of the right kind) and records the
    /// references, replacing those of the API's previous definition. Runs in the API's write.
    /// Checks what `api` refers to by id (custom authorizers of the right kind, VPC channels, its
    /// group's gateway response) and returns the rows `api_refs` should hold. BadReference: the
    /// first reference that does not resolve.
    pub(super) async fn check_references(
        tx: &mut Tx<DB>,
        instance_id: &str,
        api: &Api,
    ) -> Result<Vec<(&'static str, String, String)>> {
        let mut rows = Vec::new();
        for reference in api_references(&api.definition) {
            let (kind, wanted, sql, label) = match reference.kind {
                RefKind::FrontendAuthorizer => ("authorizer", "FRONTEND", AUTHORIZER_KIND, "custom authorizer"),
                RefKind::BackendAuthorizer => ("authorizer", "BACKEND", AUTHORIZER_KIND, "custom authorizer"),
                RefKind::VpcChannel => ("vpc_channel", "", CHANNEL_EXISTS, "VPC channel"),
                RefKind::GatewayResponse => {
                    ("gateway_response", "", RESPONSE_IN_GROUP, "gateway response of the API's group")
                }
            };
            let mut query = sqlx::query(sql).bind(instance_id).bind(&reference.id);
            if reference.kind == RefKind::GatewayResponse {
                query = query.bind(&api.definition.group_id);
            }
            let row = query.fetch_optional(&mut **tx).await?;
            let message = match row {
                None => Some(format!("The {label} {} does not exist", reference.id)),
                Some(row) if row.try_get::<String, _>(0)? != wanted => {
                    Some(format!("The custom authorizer {} is not a {wanted} authorizer", reference.id))
                }
                Some(_) => None,
            };
            if let Some(message) = message {
                return Err(StoreError::BadReference { field: reference.field, message });
            }
            rows.push((kind, reference.id, reference.field));
        }
        Ok(rows)
    }

    /// Checks `api`'s references and records them in `api_refs` (replacing what it referred to
    /// before), so that a referenced object cannot be deleted.
    pub(super) async fn record_references(tx: &mut Tx<DB>, instance_id: &str, api: &Api) -> Result<()> {
        let rows = Self::check_references(tx, instance_id, api).await?;
        sqlx::query("DELETE FROM api_refs WHERE api_id = $1").bind(&api.id).execute(&mut **tx).await?;
        for (kind, ref_id, field) in rows {
            sqlx::query("INSERT INTO api_refs (api_id, instance_id, kind, ref_id, field) VALUES ($1, $2, $3, $4, $5)")
                .bind(&api.id)
                .bind(instance_id)
                .bind(kind)
                .bind(&ref_id)
                .bind(&field)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Creates or reuses, by name, the throttling policies, ACLs and gateway responses of an API
    /// import inside its transaction: with [`ExtendMode::Merge`] an existing object of that name
    /// is kept, with [`ExtendMode::Override`] it is overwritten (keeping its id; a policy's
    /// specials are replaced). A special for an `APP` must name an app of the instance
    /// (`BadReference` otherwise).
    pub(super) async fn import_policies_in(
        tx: &mut Tx<DB>,
        instance_id: &str,
        group_id: &str,
        import: &PolicySet,
        mode: ExtendMode,
        now: OffsetDateTime,
    ) -> Result<()> {
        for (throttle, specials) in &import.throttles {
            let existing = sqlx::query("SELECT doc FROM throttles WHERE instance_id = $1 AND name = $2")
                .bind(instance_id)
                .bind(&throttle.name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| Self::from_doc::<Throttle>(&row, "doc"))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(old), ExtendMode::Override) => {
                    let new = Throttle { id: old.id.clone(), create_time: old.create_time, ..throttle.clone() };
                    sqlx::query("UPDATE throttles SET doc = $1 WHERE id = $2")
                        .bind(to_doc(&new)?)
                        .bind(&old.id)
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query("DELETE FROM throttle_specials WHERE throttle_id = $1")
                        .bind(&old.id)
                        .execute(&mut **tx)
                        .await?;
                    Self::insert_specials(tx, instance_id, &old.id, &throttle.name, specials, now).await?;
                }
                (None, _) => {
                    let new = Throttle { id: new_id(), create_time: now, ..throttle.clone() };
                    sqlx::query("INSERT INTO throttles (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
                        .bind(&new.id)
                        .bind(instance_id)
                        .bind(&new.name)
                        .bind(to_doc(&new)?)
                        .execute(&mut **tx)
                        .await?;
                    Self::insert_specials(tx, instance_id, &new.id, &throttle.name, specials, now).await?;
                }
            }
        }
        for acl in &import.acls {
            let existing = sqlx::query("SELECT id FROM acls WHERE instance_id = $1 AND name = $2")
                .bind(instance_id)
                .bind(&acl.acl_name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| row.try_get::<String, _>(0))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(id), ExtendMode::Override) => {
                    let new = Acl { id: id.clone(), update_time: now, ..acl.clone() };
                    sqlx::query("UPDATE acls SET entity_type = $1, acl_type = $2, doc = $3 WHERE id = $4")
                        .bind(&new.entity_type)
                        .bind(&new.acl_type)
                        .bind(to_doc(&new)?)
                        .bind(&id)
                        .execute(&mut **tx)
                        .await?;
                }
                (None, _) => {
                    let new = Acl { id: new_id(), update_time: now, ..acl.clone() };
                    sqlx::query(
                        "INSERT INTO acls (id, instance_id, name, entity_type, acl_type, doc) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&new.id)
                    .bind(instance_id)
                    .bind(&new.acl_name)
                    .bind(&new.entity_type)
                    .bind(&new.acl_type)
                    .bind(to_doc(&new)?)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        for response in &import.gateway_responses {
            let existing = sqlx::query("SELECT doc FROM gateway_responses WHERE group_id = $1 AND name = $2")
                .bind(group_id)
                .bind(&response.name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| Self::from_doc::<GatewayResponse>(&row, "doc"))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(old), ExtendMode::Override) => {
                    let new = GatewayResponse { responses: response.responses.clone(), update_time: now, ..old };
                    sqlx::query("UPDATE gateway_responses SET doc = $1 WHERE id = $2")
                        .bind(to_doc(&new)?)
                        .bind(&new.id)
                        .execute(&mut **tx)
                        .await?;
                }
                (None, _) => {
                    let new = GatewayResponse {
                        group_id: group_id.to_string(),
                        create_time: now,
                        update_time: now,
                        ..response.clone()
                    };
                    sqlx::query(
                        "INSERT INTO gateway_responses (id, instance_id, group_id, name, doc) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&new.id)
                    .bind(instance_id)
                    .bind(group_id)
                    .bind(&new.name)
                    .bind(to_doc(&new)?)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl<DB> PolicyStore for SqlStore<DB>
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
    async fn create_app(&self, instance_id: &str, app: &App, secret: &AppSecret) -> Result<()> {
        let mut tx = self.write().await?;
        Self::check_app_conflicts(&mut tx, instance_id, app, "").await?;
        sqlx::query(
            "INSERT INTO apps (id, instance_id, name, app_key, sealed_secret, doc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&app.id)
        .bind(instance_id)
        .bind(&app.name)
        .bind(&app.app_key)
        .bind(self.secrets.seal(&secret.0)?)
        .bind(to_doc(app)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| app_unique(e, app))?;
        self.commit(tx).await
    }

    async fn update_app(&self, instance_id: &str, app: &App, secret: Option<&AppSecret>) -> Result<AppWithSecret> {
        let mut tx = self.write().await?;
        Self::app_in(&mut tx, instance_id, &app.id).await?;
        Self::check_app_conflicts(&mut tx, instance_id, app, &app.id).await?;
        let sealed = secret.map(|s| self.secrets.seal(&s.0)).transpose()?;
        sqlx::query(
            "UPDATE apps SET name = $1, app_key = $2, doc = $3, sealed_secret = COALESCE($4, sealed_secret) \
             WHERE instance_id = $5 AND id = $6",
        )
        .bind(&app.name)
        .bind(&app.app_key)
        .bind(to_doc(app)?)
        .bind(sealed)
        .bind(instance_id)
        .bind(&app.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| app_unique(e, app))?;
        self.commit(tx).await?;
        self.app(instance_id, &app.id).await
    }

    async fn app(&self, instance_id: &str, id: &str) -> Result<AppWithSecret> {
        let row = sqlx::query("SELECT doc, sealed_secret FROM apps WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::App, id))?;
        self.decode_app(&row)
    }

    async fn list_apps(&self, instance_id: &str, filter: &AppFilter, page: Page) -> Result<Paged<AppSummary>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            for (column, value) in [("id", &filter.id), ("app_key", &filter.app_key)] {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(creator) = &filter.creator {
                q.push(format!(" AND {} = ", DB::json_text("doc", "creator"))).push_bind(creator.clone());
            }
            for (path, value) in
                [("related_domain_id", &filter.related_domain_id), ("related_project_id", &filter.related_project_id)]
            {
                if let Some(v) = value {
                    q.push(format!(" AND {} = ", DB::json_text("doc", path))).push_bind(v.clone());
                }
            }
            if let Some(status) = filter.status {
                q.push(format!(" AND {} = ", DB::json_text("doc", "status"))).push_bind(status.to_string());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
        };
        let select = "doc, sealed_secret, (SELECT COUNT(*) FROM app_auths x WHERE x.app_id = apps.id) AS bind_num";
        self.paged(select, "apps", "seq", filters, page, |r| {
            Ok(AppSummary { app: self.decode_app(r)?, bind_num: r.try_get::<i64, _>("bind_num")? as u64 })
        })
        .await
    }

    async fn delete_app(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::app_in(&mut tx, instance_id, id).await?;
        sqlx::query("DELETE FROM throttle_specials WHERE instance_id = $1 AND object_type = 'APP' AND object_id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM apps WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    async fn app_by_key(&self, app_key: &str) -> Result<(String, AppWithSecret)> {
        let row = sqlx::query("SELECT instance_id, doc, sealed_secret FROM apps WHERE app_key = $1")
            .bind(app_key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::App, app_key))?;
        Ok((row.try_get("instance_id")?, self.decode_app(&row)?))
    }

    async fn app_by_code(&self, app_code: &str) -> Result<(String, App)> {
        let row = sqlx::query(
            "SELECT a.instance_id, a.doc FROM app_codes c JOIN apps a ON a.id = c.app_id WHERE c.code_hash = $1",
        )
        .bind(lookup_hash(app_code))
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::AppCode, "(given code)"))?;
        Ok((row.try_get("instance_id")?, Self::from_doc(&row, "doc")?))
    }

    async fn app_authorized(&self, instance_id: &str, app_id: &str, api_id: &str, env_id: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM app_auths WHERE instance_id = $1 AND app_id = $2 AND api_id = $3 AND env_id = $4",
        )
        .bind(instance_id)
        .bind(app_id)
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn create_app_code(&self, instance_id: &str, code: &AppCode) -> Result<()> {
        let mut tx = self.write().await?;
        Self::app_in(&mut tx, instance_id, &code.app_id).await?;
        sqlx::query(
            "INSERT INTO app_codes (id, instance_id, app_id, code_hash, sealed_code, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&code.id)
        .bind(instance_id)
        .bind(&code.app_id)
        .bind(lookup_hash(&code.app_code))
        .bind(self.secrets.seal(&code.app_code)?)
        .bind(ts(code.create_time))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::AppCode))?;
        self.commit(tx).await
    }

    async fn list_app_codes(&self, instance_id: &str, app_id: &str, page: Page) -> Result<Paged<AppCode>> {
        self.app(instance_id, app_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND app_id = ").push_bind(app_id.to_string());
        };
        self.paged("*", "app_codes", "seq", filters, page, |r| self.decode_code(r)).await
    }

    async fn app_code(&self, instance_id: &str, app_id: &str, id: &str) -> Result<AppCode> {
        self.app(instance_id, app_id).await?;
        let row = sqlx::query("SELECT * FROM app_codes WHERE instance_id = $1 AND app_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(app_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::AppCode, id))?;
        self.decode_code(&row)
    }

    async fn delete_app_code(&self, instance_id: &str, app_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::app_in(&mut tx, instance_id, app_id).await?;
        let deleted = sqlx::query("DELETE FROM app_codes WHERE instance_id = $1 AND app_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(app_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::AppCode, id));
        }
        self.commit(tx).await
    }

    async fn authorize_apps(
        &self,
        instance_id: &str,
        env_id: &str,
        app_ids: &[String],
        api_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<AuthOutcome> {
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(app_ids.len() * api_ids.len());
        for app_id in app_ids {
            let app = match Self::app_in(&mut tx, instance_id, app_id).await {
                Ok(app) => app,
                Err(StoreError::NotFound { .. }) => {
                    outcome.extend(
                        api_ids
                            .iter()
                            .map(|api| (app_id.clone(), api.clone(), Err(StoreError::not_found(Kind::App, app_id)))),
                    );
                    continue;
                }
                Err(e) => return Err(e),
            };
            for api_id in api_ids {
                let result = self.authorize_one(&mut tx, instance_id, env_id, &app, api_id, now).await;
                match result {
                    Err(e @ (StoreError::Database(_) | StoreError::Corrupt(_) | StoreError::Secrets(_))) => {
                        return Err(e);
                    }
                    other => outcome.push((app_id.clone(), api_id.clone(), other)),
                }
            }
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn delete_app_auth(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM app_auths WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::AppAuth, id));
        }
        self.commit(tx).await
    }

    async fn list_app_auths(
        &self,
        instance_id: &str,
        filter: &AppAuthFilter,
        page: Page,
    ) -> Result<Paged<AppAuthEntry>> {
        let select = format!(
            "{}, x.id AS auth_id, x.app_id AS auth_app_id, x.auth_time, ap.doc AS app_doc",
            published_columns::<DB>()
        );
        let from = format!(
            "app_auths x JOIN apps ap ON ap.id = x.app_id JOIN publications p ON p.publish_id = x.publish_id {PUBLISHED_JOINS}"
        );
        let filters = |q: &mut QueryBuilder<DB>| {
            Self::push_published_filter(q, instance_id, &filter.apis);
            if let Some(app_id) = &filter.app_id {
                q.push(" AND x.app_id = ").push_bind(app_id.clone());
            }
            if let Some(name) = &filter.app_name {
                Self::push_text_filter(q, "ap.name", &TextMatch::Contains(name.clone()));
            }
            if let Some(name) = &filter.group_name {
                Self::push_text_filter(q, "g.name", &TextMatch::Contains(name.clone()));
            }
        };
        self.paged(&select, &from, "x.seq", filters, page, |r| {
            let api = Self::decode_published(r)?;
            Ok(AppAuthEntry {
                auth: AppAuth {
                    id: r.try_get("auth_id")?,
                    api_id: api.api_id.clone(),
                    app_id: r.try_get("auth_app_id")?,
                    env_id: api.env_id.clone(),
                    auth_time: parse_ts(&r.try_get::<String, _>("auth_time")?)?,
                },
                app: Self::from_doc(r, "app_doc")?,
                api,
            })
        })
        .await
    }

    async fn list_apis_unbound_to_app(
        &self,
        instance_id: &str,
        app_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<PublishedApi>> {
        self.app(instance_id, app_id).await?;
        let from = format!("publications p {PUBLISHED_JOINS}");
        let filters = |q: &mut QueryBuilder<DB>| {
            Self::push_published_filter(q, instance_id, filter);
            q.push(" AND NOT EXISTS (SELECT 1 FROM app_auths x WHERE x.publish_id = p.publish_id AND x.app_id = ")
                .push_bind(app_id.to_string())
                .push(")");
        };
        self.paged(&published_columns::<DB>(), &from, "p.seq", filters, page, Self::decode_published).await
    }

    async fn create_throttle(&self, instance_id: &str, throttle: &Throttle) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO throttles (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&throttle.id)
            .bind(instance_id)
            .bind(&throttle.name)
            .bind(to_doc(throttle)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::ThrottleName(throttle.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_throttle(&self, instance_id: &str, throttle: &Throttle) -> Result<ThrottleSummary> {
        let mut tx = self.write().await?;
        let doc = (throttle.id.as_str(), throttle.name.as_str(), to_doc(throttle)?);
        let conflict = Conflict::ThrottleName(throttle.name.clone());
        Self::update_named_doc(&mut tx, "throttles", Kind::Throttle, instance_id, doc, conflict).await?;
        self.commit(tx).await?;
        self.throttle(instance_id, &throttle.id).await
    }

    async fn throttle(&self, instance_id: &str, id: &str) -> Result<ThrottleSummary> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {THROTTLE_COLUMNS} FROM throttles WHERE instance_id = $1 AND id = $2"
        )))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Throttle, id))?;
        Self::decode_throttle(&row)
    }

    async fn list_throttles(
        &self,
        instance_id: &str,
        id: Option<&str>,
        name: Option<&TextMatch>,
        page: Page,
    ) -> Result<Paged<ThrottleSummary>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = id {
                q.push(" AND id = ").push_bind(id.to_string());
            }
            if let Some(name) = name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged(THROTTLE_COLUMNS, "throttles", "seq", filters, page, Self::decode_throttle).await
    }

    async fn delete_throttle(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        self.delete_bound_policy(&mut tx, instance_id, PolicyKind::Throttle, id).await?;
        self.commit(tx).await
    }

    async fn create_special(&self, instance_id: &str, special: &ThrottleSpecial) -> Result<ThrottleSpecial> {
        let mut tx = self.write().await?;
        Self::policy_name(&mut tx, instance_id, PolicyKind::Throttle, &special.throttle_id).await?;
        let object_name = match special.object_type.as_str() {
            "APP" => Self::app_in(&mut tx, instance_id, &special.object_id).await?.name,
            _ => special.object_id.clone(),
        };
        let special = ThrottleSpecial { object_name, ..special.clone() };
        sqlx::query(
            "INSERT INTO throttle_specials (id, instance_id, throttle_id, object_type, object_id, doc) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&special.id)
        .bind(instance_id)
        .bind(&special.throttle_id)
        .bind(&special.object_type)
        .bind(&special.object_id)
        .bind(to_doc(&special)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::SpecialExists(special.object_id.clone())))?;
        self.commit(tx).await?;
        Ok(special)
    }

    async fn update_special(
        &self,
        instance_id: &str,
        throttle_id: &str,
        id: &str,
        call_limits: i64,
    ) -> Result<ThrottleSpecial> {
        let mut tx = self.write().await?;
        let special = ThrottleSpecial { call_limits, ..self.special_in(&mut tx, instance_id, throttle_id, id).await? };
        sqlx::query("UPDATE throttle_specials SET doc = $1 WHERE instance_id = $2 AND id = $3")
            .bind(to_doc(&special)?)
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(special)
    }

    async fn list_specials(
        &self,
        instance_id: &str,
        throttle_id: &str,
        filter: &SpecialFilter,
        page: Page,
    ) -> Result<Paged<ThrottleSpecial>> {
        self.throttle_exists(instance_id, throttle_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND throttle_id = ").push_bind(throttle_id.to_string());
            if let Some(t) = &filter.object_type {
                q.push(" AND object_type = ").push_bind(t.clone());
            }
            if let Some(name) = &filter.app_name {
                q.push(" AND object_type = 'APP'");
                Self::push_text_filter(q, &DB::json_text("doc", "object_name"), &TextMatch::Contains(name.clone()));
            }
            if let Some(user) = &filter.user {
                q.push(" AND object_type = 'USER'");
                Self::push_text_filter(q, "object_id", &TextMatch::Contains(user.clone()));
            }
        };
        self.paged("doc", "throttle_specials", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_special(&self, instance_id: &str, throttle_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::policy_name(&mut tx, instance_id, PolicyKind::Throttle, throttle_id).await?;
        let deleted =
            sqlx::query("DELETE FROM throttle_specials WHERE instance_id = $1 AND throttle_id = $2 AND id = $3")
                .bind(instance_id)
                .bind(throttle_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::ThrottleSpecial, id));
        }
        self.commit(tx).await
    }

    async fn create_acl(&self, instance_id: &str, acl: &Acl) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO acls (id, instance_id, name, entity_type, acl_type, doc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&acl.id)
        .bind(instance_id)
        .bind(&acl.acl_name)
        .bind(&acl.entity_type)
        .bind(&acl.acl_type)
        .bind(to_doc(acl)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::AclName(acl.acl_name.clone())))?;
        self.commit(tx).await
    }

    async fn update_acl(&self, instance_id: &str, acl: &Acl) -> Result<AclSummary> {
        let mut tx = self.write().await?;
        let updated = sqlx::query(
            "UPDATE acls SET name = $1, entity_type = $2, acl_type = $3, doc = $4 WHERE instance_id = $5 AND id = $6",
        )
        .bind(&acl.acl_name)
        .bind(&acl.entity_type)
        .bind(&acl.acl_type)
        .bind(to_doc(acl)?)
        .bind(instance_id)
        .bind(&acl.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::AclName(acl.acl_name.clone())))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::Acl, &acl.id));
        }
        self.commit(tx).await?;
        self.acl(instance_id, &acl.id).await
    }

    async fn acl(&self, instance_id: &str, id: &str) -> Result<AclSummary> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {ACL_COLUMNS} FROM acls WHERE instance_id = $1 AND id = $2")))
                .bind(instance_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Acl, id))?;
        Self::decode_acl(&row)
    }

    async fn list_acls(&self, instance_id: &str, filter: &AclFilter, page: Page) -> Result<Paged<AclSummary>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            for (column, value) in
                [("id", &filter.id), ("acl_type", &filter.acl_type), ("entity_type", &filter.entity_type)]
            {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged(ACL_COLUMNS, "acls", "seq", filters, page, Self::decode_acl).await
    }

    async fn delete_acls(&self, instance_id: &str, ids: &[String]) -> Result<Vec<(String, Result<()>)>> {
        let mut tx = self.write().await?;
        let mut outcome = Vec::with_capacity(ids.len());
        for id in ids {
            match self.delete_bound_policy(&mut tx, instance_id, PolicyKind::Acl, id).await {
                Err(e @ (StoreError::Database(_) | StoreError::Corrupt(_) | StoreError::Secrets(_))) => return Err(e),
                result => outcome.push((id.clone(), result)),
            }
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

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

    async fn create_authorizer(&self, instance_id: &str, authorizer: &Authorizer) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO authorizers (id, instance_id, name, kind, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(&authorizer.id)
            .bind(instance_id)
            .bind(&authorizer.name)
            .bind(&authorizer.kind)
            .bind(to_doc(authorizer)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::AuthorizerName(authorizer.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_authorizer(&self, instance_id: &str, authorizer: &Authorizer) -> Result<()> {
        let mut tx = self.write().await?;
        let existing: Authorizer =
            Self::doc_in(&mut *tx, "authorizers", Kind::Authorizer, instance_id, &authorizer.id).await?;
        if existing.kind != authorizer.kind {
            return Err(Conflict::AuthorizerType(authorizer.id.clone()).into());
        }
        let doc = (authorizer.id.as_str(), authorizer.name.as_str(), to_doc(authorizer)?);
        let conflict = Conflict::AuthorizerName(authorizer.name.clone());
        Self::update_named_doc(&mut tx, "authorizers", Kind::Authorizer, instance_id, doc, conflict).await?;
        self.commit(tx).await
    }

    async fn authorizer(&self, instance_id: &str, id: &str) -> Result<Authorizer> {
        Self::doc_in(&self.pool, "authorizers", Kind::Authorizer, instance_id, id).await
    }

    async fn list_authorizers(
        &self,
        instance_id: &str,
        filter: &AuthorizerFilter,
        page: Page,
    ) -> Result<Paged<Authorizer>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            for (column, value) in [("id", &filter.id), ("kind", &filter.kind)] {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", &TextMatch::Contains(name.clone()));
            }
        };
        self.paged("doc", "authorizers", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_authorizer(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let _: Authorizer = Self::doc_in(&mut *tx, "authorizers", Kind::Authorizer, instance_id, id).await?;
        Self::refuse_if_referenced(&mut tx, instance_id, "authorizer", "custom authorizer", id).await?;
        sqlx::query("DELETE FROM authorizers WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    async fn create_vpc_channel(&self, instance_id: &str, channel: &VpcChannel) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO vpc_channels (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&channel.id)
            .bind(instance_id)
            .bind(&channel.name)
            .bind(to_doc(channel)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::VpcChannelName(channel.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_vpc_channel(&self, instance_id: &str, id: &str, build: &ChannelUpdate<'_>) -> Result<VpcChannel> {
        let mut tx = self.write().await?;
        let previous: VpcChannel = Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, id).await?;
        let channel = build(&previous)?;
        let doc = (channel.id.as_str(), channel.name.as_str(), to_doc(&channel)?);
        let conflict = Conflict::VpcChannelName(channel.name.clone());
        Self::update_named_doc(&mut tx, "vpc_channels", Kind::VpcChannel, instance_id, doc, conflict).await?;
        self.commit(tx).await?;
        Ok(channel)
    }

    async fn change_vpc_members(
        &self,
        instance_id: &str,
        channel_id: &str,
        change: MemberChange,
        now: OffsetDateTime,
    ) -> Result<VpcChannel> {
        let mut tx = self.write().await?;
        let mut channel: VpcChannel =
            Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, channel_id).await?;
        let removed = match &change {
            MemberChange::Remove(id) => Some(id.clone()),
            _ => None,
        };
        if !channel.change_members(change, now)? {
            return Err(StoreError::not_found(Kind::VpcMember, &removed.unwrap_or_default()));
        }
        sqlx::query("UPDATE vpc_channels SET doc = $1 WHERE instance_id = $2 AND id = $3")
            .bind(to_doc(&channel)?)
            .bind(instance_id)
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(channel)
    }

    async fn vpc_channel(&self, instance_id: &str, id: &str) -> Result<VpcChannel> {
        Self::doc_in(&self.pool, "vpc_channels", Kind::VpcChannel, instance_id, id).await
    }

    async fn list_vpc_channels(
        &self,
        instance_id: &str,
        filter: &VpcChannelFilter,
        page: Page,
    ) -> Result<Paged<VpcChannel>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = &filter.id {
                q.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
            let members =
                [("host", filter.member_host.clone()), ("port", filter.member_port.map(|port| port.to_string()))];
            for (key, value) in members {
                if let Some(v) = value {
                    q.push(format!(" AND {}", DB::json_array_has("vpc_channels.doc", Some("members"), Some(key))))
                        .push_bind(v)
                        .push(")");
                }
            }
            for (key, value) in
                [("member_group_name", &filter.member_group_name), ("member_group_id", &filter.member_group_id)]
            {
                if let Some(v) = value {
                    q.push(format!(
                        " AND {}",
                        DB::json_array_has("vpc_channels.doc", Some("member_groups"), Some(key))
                    ))
                    .push_bind(v.clone())
                    .push(")");
                }
            }
        };
        self.paged("doc", "vpc_channels", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_vpc_channel(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let _: VpcChannel = Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, id).await?;
        Self::refuse_if_referenced(&mut tx, instance_id, "vpc_channel", "VPC channel", id).await?;
        sqlx::query("DELETE FROM vpc_channels WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    async fn create_signature(&self, instance_id: &str, signature: &Signature) -> Result<()> {
        let mut tx = self.write().await?;
        let stored = Signature { sign_secret: String::new(), ..signature.clone() };
        sqlx::query("INSERT INTO signs (id, instance_id, name, sealed_secret, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(&signature.id)
            .bind(instance_id)
            .bind(&signature.name)
            .bind(self.secrets.seal(&signature.sign_secret)?)
            .bind(to_doc(&stored)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::SignatureName(signature.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_signature(&self, instance_id: &str, signature: &Signature) -> Result<SignatureSummary> {
        let mut tx = self.write().await?;
        let stored = Signature { sign_secret: String::new(), ..signature.clone() };
        let updated =
            sqlx::query("UPDATE signs SET name = $1, sealed_secret = $2, doc = $3 WHERE instance_id = $4 AND id = $5")
                .bind(&signature.name)
                .bind(self.secrets.seal(&signature.sign_secret)?)
                .bind(to_doc(&stored)?)
                .bind(instance_id)
                .bind(&signature.id)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique_or(e, Conflict::SignatureName(signature.name.clone())))?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::Signature, &signature.id));
        }
        self.commit(tx).await?;
        self.signature(instance_id, &signature.id).await
    }

    async fn signature(&self, instance_id: &str, id: &str) -> Result<SignatureSummary> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {SIGN_COLUMNS} FROM signs WHERE instance_id = $1 AND id = $2")))
                .bind(instance_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Signature, id))?;
        self.decode_signature(&row)
    }

    async fn list_signatures(
        &self,
        instance_id: &str,
        id: Option<&str>,
        name: Option<&TextMatch>,
        page: Page,
    ) -> Result<Paged<SignatureSummary>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = id {
                q.push(" AND id = ").push_bind(id.to_string());
            }
            if let Some(name) = name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged(SIGN_COLUMNS, "signs", "seq", filters, page, |r| self.decode_signature(r)).await
    }

    async fn delete_signature(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        self.delete_bound_policy(&mut tx, instance_id, PolicyKind::Sign, id).await?;
        self.commit(tx).await
    }

    async fn create_gateway_response(&self, instance_id: &str, response: &GatewayResponse) -> Result<()> {
        let mut tx = self.write().await?;
        Self::group_exists(&mut tx, instance_id, &response.group_id).await?;
        sqlx::query("INSERT INTO gateway_responses (id, instance_id, group_id, name, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(&response.id)
            .bind(instance_id)
            .bind(&response.group_id)
            .bind(&response.name)
            .bind(to_doc(response)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::GatewayResponseName(response.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_gateway_response(
        &self,
        instance_id: &str,
        group_id: &str,
        id: &str,
        change: &ResponseUpdate<'_>,
    ) -> Result<GatewayResponse> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT doc FROM gateway_responses WHERE instance_id = $1 AND group_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(group_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::GatewayResponse, id))?;
        let mut response: GatewayResponse = Self::from_doc(&row, "doc")?;
        change(&mut response);
        sqlx::query("UPDATE gateway_responses SET name = $1, doc = $2 WHERE id = $3")
            .bind(&response.name)
            .bind(to_doc(&response)?)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::GatewayResponseName(response.name.clone())))?;
        self.commit(tx).await?;
        Ok(response)
    }

    async fn gateway_response(&self, instance_id: &str, group_id: &str, id: &str) -> Result<GatewayResponse> {
        let row = sqlx::query("SELECT doc FROM gateway_responses WHERE instance_id = $1 AND group_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(group_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::GatewayResponse, id))?;
        Self::from_doc(&row, "doc")
    }

    async fn list_gateway_responses(
        &self,
        instance_id: &str,
        group_id: &str,
        page: Page,
    ) -> Result<Paged<GatewayResponse>> {
        let _: portico_model::ApiGroup =
            Self::doc_in(&self.pool, "api_groups", Kind::Group, instance_id, group_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND group_id = ").push_bind(group_id.to_string());
        };
        self.paged("doc", "gateway_responses", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_gateway_response(&self, instance_id: &str, group_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let found = sqlx::query("SELECT 1 FROM gateway_responses WHERE instance_id = $1 AND group_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(group_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::not_found(Kind::GatewayResponse, id));
        }
        Self::refuse_if_referenced(&mut tx, instance_id, "gateway_response", "gateway response", id).await?;
        sqlx::query("DELETE FROM gateway_responses WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await
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

const AUTHORIZER_KIND: &str = "SELECT kind FROM authorizers WHERE instance_id = $1 AND id = $2";
const CHANNEL_EXISTS: &str = "SELECT '' FROM vpc_channels WHERE instance_id = $1 AND id = $2";
const RESPONSE_IN_GROUP: &str = "SELECT '' FROM gateway_responses WHERE instance_id = $1 AND id = $2 AND group_id = $3";
