//! [`AclStore`]: access control policies.

use async_trait::async_trait;
use portico_model::{Acl, Page, Paged};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};

use super::{Engine, SqlStore, to_doc, unique_or};
use crate::policy_types::*;
use crate::{AclStore, Conflict, Kind, Result, StoreError};

pub(super) const ACL_COLUMNS: &str = "doc, \
     (SELECT COUNT(*) FROM policy_bindings b WHERE b.kind = 'acl' AND b.policy_id = acls.id) AS bind_num";

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
    pub(super) fn decode_acl(row: &DB::Row) -> Result<AclSummary> {
        Ok(AclSummary { acl: Self::from_doc(row, "doc")?, bind_num: row.try_get::<i64, _>("bind_num")? as u64 })
    }
}

#[async_trait]
impl<DB> AclStore for SqlStore<DB>
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
}
