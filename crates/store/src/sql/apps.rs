//! [`AppStore`]: apps, their AppCodes (sealed, found by their SHA-256) and authorizations.

use async_trait::async_trait;
use portico_model::{App, AppAuth, AppCode, AppSecret, AppWithSecret, Page, Paged, new_id};
use sqlx::{QueryBuilder, Row};
use time::OffsetDateTime;

use super::bindings::{PUBLISHED_JOINS, published_columns};
use super::publish::not_published;
use super::{Engine, SqlStore, Tx, parse_ts, to_doc, ts, unique_or};
use crate::policy_types::*;
use crate::secrets::lookup_hash;
use crate::{AppStore, Conflict, Kind, Result, StoreError, TextMatch};

/// A unique violation on `apps` (a concurrent writer won): the key's or the name's conflict.
pub(super) fn app_unique(e: sqlx::Error, app: &App) -> StoreError {
    let on_key = matches!(&e, sqlx::Error::Database(d) if d.message().contains("app_key"));
    let conflict = if on_key { Conflict::AppKey(app.app_key.clone()) } else { Conflict::AppName(app.name.clone()) };
    unique_or(e, conflict)
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
    pub(super) fn decode_app(&self, row: &DB::Row) -> Result<AppWithSecret> {
        let sealed: String = row.try_get("sealed_secret")?;
        Ok(AppWithSecret { app: Self::from_doc(row, "doc")?, app_secret: AppSecret(self.secrets.open(&sealed)?) })
    }

    pub(super) fn decode_code(&self, row: &DB::Row) -> Result<AppCode> {
        let sealed: String = row.try_get("sealed_code")?;
        Ok(AppCode {
            id: row.try_get("id")?,
            app_id: row.try_get("app_id")?,
            app_code: self.secrets.open(&sealed)?,
            create_time: parse_ts(&row.try_get::<String, _>("create_time")?)?,
        })
    }

    pub(super) async fn app_in(tx: &mut Tx<DB>, instance_id: &str, app_id: &str) -> Result<App> {
        Self::doc_in(&mut **tx, "apps", Kind::App, instance_id, app_id).await
    }

    /// Conflicts of an app's name (in the instance) and key (anywhere) with apps other than `except`.
    pub(super) async fn check_app_conflicts(tx: &mut Tx<DB>, instance_id: &str, app: &App, except: &str) -> Result<()> {
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

    pub(super) async fn authorize_one(
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
}

#[async_trait]
impl<DB> AppStore for SqlStore<DB>
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
}
