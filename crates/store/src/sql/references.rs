//! What an API refers to by id (custom authorizers, VPC channels, its group's gateway
//! response), checked and recorded in `api_refs` inside the API's write, and the refusal to
//! delete an object that an API or a live version still refers to.

use portico_model::{Api, RefKind, api_references};
use sqlx::{AssertSqlSafe, Row};

use super::{Engine, SqlStore, Tx};
use crate::{Conflict, Result, StoreError};

pub(super) const AUTHORIZER_KIND: &str = "SELECT kind FROM authorizers WHERE instance_id = $1 AND id = $2";

pub(super) const CHANNEL_EXISTS: &str = "SELECT '' FROM vpc_channels WHERE instance_id = $1 AND id = $2";

pub(super) const RESPONSE_IN_GROUP: &str =
    "SELECT '' FROM gateway_responses WHERE instance_id = $1 AND id = $2 AND group_id = $3";

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
    /// Conflict if an API refers to `id` as a `kind`.
    pub(super) async fn refuse_if_referenced(
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
}
