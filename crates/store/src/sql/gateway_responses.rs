//! [`GatewayResponseStore`]: the gateway responses of a group.

use async_trait::async_trait;
use portico_model::{GatewayResponse, Page, Paged};
use sqlx::QueryBuilder;

use super::{Engine, SqlStore, to_doc, unique_or};
use crate::{Conflict, GatewayResponseStore, Kind, ResponseUpdate, Result, StoreError};

#[async_trait]
impl<DB> GatewayResponseStore for SqlStore<DB>
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
}
