//! API definitions: conflicts, inserts and replacements, and the lookups of groups,
//! environments and variables that the core [`Store`](crate::Store) methods share.

use portico_model::{Api, EnvVariable, Environment};
use sqlx::{QueryBuilder, Row};

use super::{Engine, SqlStore, Tx, to_doc};
use crate::{Conflict, Kind, Result, StoreError};

pub(super) fn api_route(api: &Api) -> (&str, &str, &str) {
    let d = &api.definition;
    (d.req_method.as_str(), d.req_uri.as_str(), d.match_mode.as_str())
}

pub(super) fn api_tags(api: &Api) -> Result<String> {
    to_doc(&api.definition.tags)
}

/// Rows per multi-row `INSERT`: one statement instead of 500 round trips to SQLite's thread,
/// and 12 × 500 bound values stay far below SQLite's limit.
pub(super) const INSERT_BATCH: usize = 500;

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
    pub(super) async fn route_conflict(
        conn: &mut DB::Connection,
        group_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str, &str)>,
        except_id: Option<&str>,
    ) -> Result<Option<Conflict>> {
        let except = except_id.unwrap_or("");
        if let Some(name) = name {
            let taken = sqlx::query("SELECT 1 FROM apis WHERE group_id = $1 AND name = $2 AND id <> $3")
                .bind(group_id)
                .bind(name)
                .bind(except)
                .fetch_optional(&mut *conn)
                .await?;
            if taken.is_some() {
                return Ok(Some(Conflict::ApiName(name.to_string())));
            }
        }
        if let Some((method, uri, mode)) = route {
            let taken = sqlx::query(
                "SELECT 1 FROM apis WHERE group_id = $1 AND req_method = $2 AND req_uri = $3 AND match_mode = $4 AND id <> $5",
            )
            .bind(group_id)
            .bind(method)
            .bind(uri)
            .bind(mode)
            .bind(except)
            .fetch_optional(&mut *conn)
            .await?;
            if taken.is_some() {
                return Ok(Some(Conflict::ApiRoute(format!("{method} {uri} ({mode})"))));
            }
        }
        Ok(None)
    }

    pub(super) async fn env_in(tx: &mut Tx<DB>, instance_id: &str, env_id: &str) -> Result<Environment> {
        Self::doc_in(&mut **tx, "envs", Kind::Environment, instance_id, env_id).await
    }

    pub(super) async fn api_in(tx: &mut Tx<DB>, instance_id: &str, api_id: &str) -> Result<Api> {
        Self::doc_in(&mut **tx, "apis", Kind::Api, instance_id, api_id).await
    }

    pub(super) async fn group_exists(tx: &mut Tx<DB>, instance_id: &str, group_id: &str) -> Result<()> {
        sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(group_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found(Kind::Group, group_id))
    }

    pub(super) async fn check_api_conflicts(tx: &mut Tx<DB>, api: &Api, except: Option<&str>) -> Result<()> {
        let d = &api.definition;
        match Self::route_conflict(tx, &d.group_id, Some(&d.name), Some(api_route(api)), except).await? {
            Some(conflict) => Err(conflict.into()),
            None => Ok(()),
        }
    }

    /// Inserts the rows of new APIs.
    pub(super) async fn insert_apis(tx: &mut Tx<DB>, instance_id: &str, apis: &[Api]) -> Result<()> {
        for batch in apis.chunks(INSERT_BATCH) {
            let rows: Vec<(&Api, String, String)> =
                batch.iter().map(|api| Ok((api, api_tags(api)?, to_doc(api)?))).collect::<Result<_>>()?;
            let mut insert = QueryBuilder::<DB>::new(
                "INSERT INTO apis (id, instance_id, group_id, name, req_protocol, req_method, req_uri, match_mode, \
                 auth_type, api_type, tags, doc) ",
            );
            insert.push_values(rows, |mut row, (api, tags, doc)| {
                let d = &api.definition;
                row.push_bind(api.id.clone())
                    .push_bind(instance_id.to_owned())
                    .push_bind(d.group_id.clone())
                    .push_bind(d.name.clone())
                    .push_bind(d.req_protocol.as_str())
                    .push_bind(d.req_method.as_str())
                    .push_bind(d.req_uri.clone())
                    .push_bind(d.match_mode.as_str())
                    .push_bind(d.auth_type.as_str())
                    .push_bind(d.api_type)
                    .push_bind(tags)
                    .push_bind(doc);
            });
            insert.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Rewrites the row of an existing API (its columns and its document).
    pub(super) async fn replace_api(tx: &mut Tx<DB>, instance_id: &str, api: &Api) -> Result<()> {
        let d = &api.definition;
        sqlx::query(
            "UPDATE apis SET group_id = $1, name = $2, req_protocol = $3, req_method = $4, req_uri = $5, match_mode = $6, \
             auth_type = $7, api_type = $8, tags = $9, doc = $10 WHERE instance_id = $11 AND id = $12",
        )
        .bind(&d.group_id)
        .bind(&d.name)
        .bind(d.req_protocol.as_str())
        .bind(d.req_method.as_str())
        .bind(&d.req_uri)
        .bind(d.match_mode.as_str())
        .bind(d.auth_type.as_str())
        .bind(d.api_type)
        .bind(api_tags(api)?)
        .bind(to_doc(api)?)
        .bind(instance_id)
        .bind(&api.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) fn decode_variable(row: &DB::Row) -> Result<EnvVariable> {
        Ok(EnvVariable {
            id: row.try_get("id")?,
            env_id: row.try_get("env_id")?,
            group_id: row.try_get("group_id")?,
            variable_name: row.try_get("name")?,
            variable_value: row.try_get("value")?,
        })
    }
}
