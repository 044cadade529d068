//! [`SignatureStore`]: signature keys (secrets sealed).

use async_trait::async_trait;
use portico_model::{Page, Paged, Signature};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};

use super::{Engine, SqlStore, to_doc, unique_or};
use crate::policy_types::*;
use crate::{Conflict, Kind, Result, SignatureStore, StoreError, TextMatch};

pub(super) const SIGN_COLUMNS: &str = "doc, sealed_secret, \
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
    pub(super) fn decode_signature(&self, row: &DB::Row) -> Result<SignatureSummary> {
        let sealed: String = row.try_get("sealed_secret")?;
        let stored: Signature = Self::from_doc(row, "doc")?;
        Ok(SignatureSummary {
            signature: Signature { sign_secret: self.secrets.open(&sealed)?, ..stored },
            bind_num: row.try_get::<i64, _>("bind_num")? as u64,
        })
    }
}

#[async_trait]
impl<DB> SignatureStore for SqlStore<DB>
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
}
