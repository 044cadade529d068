//! Publications and versions: publishing copies a definition into an immutable version and
//! points the (API, environment) publication at it.

use portico_model::{Api, new_id};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use super::{Engine, SqlStore, Tx, parse_ts, to_doc, ts};
use crate::{ApiVersion, Kind, Publication, Result, RouteKey, StoreError};

pub(super) fn publication_columns<DB: Engine>() -> String {
    format!(
        "p.publish_id, p.api_id, p.env_id, p.version_id, p.remark, p.publish_time, e.name AS env_name, {} AS api_name",
        DB::json_text("v.snapshot", "name")
    )
}

pub(super) const PUBLICATION_FROM: &str = "publications p \
     JOIN envs e ON e.instance_id = p.instance_id AND e.id = p.env_id \
     JOIN api_versions v ON v.id = p.version_id";

pub(super) const VERSION_COLUMNS: &str = "v.id, CAST(v.number AS TEXT) AS version_no, v.api_id, v.env_id, v.remark, v.publish_time, v.snapshot, \
     COALESCE(e.name, '') AS env_name, (p.version_id IS NOT NULL) AS is_current";

pub(super) const VERSION_FROM: &str = "api_versions v \
     LEFT JOIN envs e ON e.instance_id = v.instance_id AND e.id = v.env_id \
     LEFT JOIN publications p ON p.api_id = v.api_id AND p.env_id = v.env_id AND p.version_id = v.id";

pub(super) fn not_published(api_id: &str, env_id: &str) -> StoreError {
    StoreError::not_found(Kind::Publication, &format!("of API {api_id} in environment {env_id}"))
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
    pub(super) fn decode_publication(row: &DB::Row) -> Result<Publication> {
        Ok(Publication {
            publish_id: row.try_get("publish_id")?,
            api_id: row.try_get("api_id")?,
            api_name: row.try_get("api_name")?,
            env_id: row.try_get("env_id")?,
            env_name: row.try_get("env_name")?,
            version_id: row.try_get("version_id")?,
            remark: row.try_get("remark")?,
            publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
        })
    }

    pub(super) fn decode_version(row: &DB::Row) -> Result<ApiVersion> {
        Ok(ApiVersion {
            version_id: row.try_get("id")?,
            version_no: row.try_get("version_no")?,
            api_id: row.try_get("api_id")?,
            env_id: row.try_get("env_id")?,
            env_name: row.try_get("env_name")?,
            remark: row.try_get("remark")?,
            publish_time: parse_ts(&row.try_get::<String, _>("publish_time")?)?,
            is_current: row.try_get("is_current")?,
            snapshot: Self::from_doc(row, "snapshot")?,
        })
    }

    pub(super) async fn publication_in(tx: &mut Tx<DB>, api_id: &str, env_id: &str) -> Result<Option<Publication>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM {PUBLICATION_FROM} WHERE p.api_id = $1 AND p.env_id = $2",
            publication_columns::<DB>()
        )))
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(Self::decode_publication).transpose()
    }

    /// Publishes the current definition of `api` in `env_id`: a new version, and the publication
    /// (kept, or created and bound to the policies the definition declares) pointing at it.
    pub(crate) async fn publish_in(
        tx: &mut Tx<DB>,
        instance_id: &str,
        env_id: &str,
        api: &Api,
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Publication> {
        let version_id = new_id();
        sqlx::query(
            "INSERT INTO api_versions (id, instance_id, api_id, env_id, number, remark, publish_time, snapshot) \
             VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(number), 0) + 1 FROM api_versions WHERE api_id = $5), $6, $7, $8)",
        )
        .bind(&version_id)
        .bind(instance_id)
        .bind(&api.id)
        .bind(env_id)
        .bind(&api.id)
        .bind(remark)
        .bind(ts(now))
        .bind(to_doc(api)?)
        .execute(&mut **tx)
        .await?;
        let (publication, created) =
            Self::make_live(tx, instance_id, &api.id, env_id, &version_id, &RouteKey::of(api), remark, now).await?;
        if created {
            Self::bind_declared_policies(tx, instance_id, api, &publication.publish_id, env_id, now).await?;
        }
        Ok(publication)
    }

    /// Points the (api, env) publication at `version_id` (routed by `route`), creating the
    /// publication if needed (then `true`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn make_live(
        tx: &mut Tx<DB>,
        instance_id: &str,
        api_id: &str,
        env_id: &str,
        version_id: &str,
        route: &RouteKey,
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(Publication, bool)> {
        let fresh_publish_id = new_id();
        sqlx::query(
            "INSERT INTO publications (publish_id, instance_id, api_id, env_id, version_id, route, remark, publish_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (api_id, env_id) DO UPDATE SET version_id = excluded.version_id, route = excluded.route, \
             remark = excluded.remark, publish_time = excluded.publish_time",
        )
        .bind(&fresh_publish_id)
        .bind(instance_id)
        .bind(api_id)
        .bind(env_id)
        .bind(version_id)
        .bind(serde_json::to_string(route)?)
        .bind(remark)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
        let publication = Self::publication_in(tx, api_id, env_id)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Publication, api_id))?;
        let created = publication.publish_id == fresh_publish_id;
        Ok((publication, created))
    }
}
