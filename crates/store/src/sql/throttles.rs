//! [`ThrottleStore`]: request throttling policies and their special throttles.

use async_trait::async_trait;
use portico_model::{Page, Paged, Throttle, ThrottleSpecial, new_id};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, to_doc, unique_or};
use crate::policy_types::*;
use crate::{Conflict, Kind, Result, StoreError, TextMatch, ThrottleStore};

pub(super) const THROTTLE_COLUMNS: &str = "doc, \
     (SELECT COUNT(*) FROM policy_bindings b WHERE b.kind = 'throttle' AND b.policy_id = throttles.id) AS bind_num, \
     EXISTS (SELECT 1 FROM throttle_specials s WHERE s.throttle_id = throttles.id) AS has_specials";

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
    pub(super) fn decode_throttle(row: &DB::Row) -> Result<ThrottleSummary> {
        Ok(ThrottleSummary {
            throttle: Self::from_doc(row, "doc")?,
            bind_num: row.try_get::<i64, _>("bind_num")? as u64,
            has_specials: row.try_get("has_specials")?,
        })
    }

    pub(super) async fn special_in(
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

    pub(super) async fn throttle_exists(&self, instance_id: &str, id: &str) -> Result<()> {
        Self::policy_name(&mut *self.pool.acquire().await?, instance_id, PolicyKind::Throttle, id).await.map(|_| ())
    }

    /// Inserts the specials of an imported throttling policy; an `APP` special must name an app
    /// of the instance.
    pub(super) async fn insert_specials(
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
}

#[async_trait]
impl<DB> ThrottleStore for SqlStore<DB>
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
}
