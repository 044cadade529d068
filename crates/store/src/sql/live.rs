//! What the data plane reads ([`crate::Store::live_routes`]): the live publications, a page at a
//! time, and the policies they use, all in one read transaction.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use super::signatures::SIGN_COLUMNS;
use super::{Engine, SqlStore, Tx};
use crate::policy_types::*;
use crate::{LiveApi, Result, RouteKey};

/// Publications read per query by [`SqlStore::live_apis`].
pub(super) const LIVE_PAGE: i64 = 4096;

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
    /// Every live publication, oldest first. The publications come in pages of
    /// [`LIVE_PAGE`] rows, each page one JSON value ([`Engine::json_rows`]): one row at a time
    /// through sqlx costs about 10 µs each, a second at 100,000 routes. Paging keeps each
    /// value small, so every page reuses the memory the previous one freed: one 36 MB value
    /// cost as much again in fresh pages for the kernel to zero. The names that all of an
    /// environment's publications share (its instance's project, its own name) come from a
    /// second, small query.
    pub(super) async fn live_apis(&self, tx: &mut Tx<DB>) -> Result<Vec<LiveApi>> {
        let rows = DB::json_rows(&[
            "p.seq",
            "p.instance_id",
            "p.env_id",
            "p.publish_id",
            "p.version_id",
            "p.api_id",
            &DB::json_value("p.route"),
        ]);
        let page = format!("SELECT {rows} FROM (SELECT * FROM publications WHERE seq > $1 ORDER BY seq LIMIT $2) p");
        let mut names: HashMap<(String, String), (String, String)> = HashMap::new();
        for row in sqlx::query(
            "SELECT l.instance_id, l.env_id, i.project_id, e.name AS env_name \
             FROM (SELECT DISTINCT instance_id, env_id FROM publications) l \
             JOIN instances i ON i.id = l.instance_id JOIN envs e ON e.instance_id = l.instance_id AND e.id = l.env_id",
        )
        .fetch_all(&mut **tx)
        .await?
        {
            let env = (row.try_get("instance_id")?, row.try_get("env_id")?);
            names.insert(env, (row.try_get("project_id")?, row.try_get("env_name")?));
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM publications").fetch_one(&mut **tx).await?;
        let mut live = Vec::with_capacity(usize::try_from(count).unwrap_or_default());
        let mut after = i64::MIN;
        loop {
            let text: String = sqlx::query_scalar(AssertSqlSafe(page.as_str()))
                .bind(after)
                .bind(LIVE_PAGE)
                .fetch_one(&mut **tx)
                .await?;
            type Row = (i64, String, String, String, String, String, RouteKey);
            let mut rows: Vec<Row> = serde_json::from_str(&text)?;
            rows.sort_unstable_by_key(|row| row.0);
            let full = rows.len() as i64 == LIVE_PAGE;
            after = rows.last().map_or(after, |row| row.0);
            live.extend(rows.into_iter().filter_map(
                |(_, instance_id, env_id, publish_id, version_id, api_id, route)| {
                    let env = (instance_id, env_id);
                    let (project_id, env_name) = names.get(&env)?.clone();
                    let (instance_id, env_id) = env;
                    Some(LiveApi { instance_id, project_id, env_id, env_name, publish_id, version_id, api_id, route })
                },
            ));
            if !full {
                return Ok(live);
            }
        }
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
}
