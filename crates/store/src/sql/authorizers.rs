//! [`AuthorizerStore`]: custom authorizers.

use async_trait::async_trait;
use portico_model::{Authorizer, Page, Paged};
use sqlx::QueryBuilder;

use super::{Engine, SqlStore, to_doc, unique_or};
use crate::policy_types::*;
use crate::{AuthorizerStore, Conflict, Kind, Result, TextMatch};

#[async_trait]
impl<DB> AuthorizerStore for SqlStore<DB>
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
}
