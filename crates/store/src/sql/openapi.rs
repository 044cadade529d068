//! Import (with the policies a document brings), export reads and asynchronous tasks.

use std::collections::{HashMap, HashSet};

use portico_model::{Acl, Api, ApiDefinition, ApiGroup, GatewayResponse, PolicySet, Throttle, new_id};
use sqlx::{QueryBuilder, Row};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{Engine, SqlStore, Tx, parse_ts, to_doc, ts, unique_or};
use crate::openapi::{AsyncTask, ImportAction, ImportOutcome, ImportRequest, ImportTarget, TaskStatus};
use crate::{Conflict, ExtendMode, Kind, Result, StoreError};

/// APIs read ahead of the export's writer: the memory an export holds besides its output
/// buffer.
const EXPORT_WINDOW: usize = 256;
/// APIs handed to the writer at a time: one channel operation per batch, not per API.
const EXPORT_BATCH: usize = 64;

/// An export's APIs in the order `portico_openapi::write` wants them: by path key (the path with
/// `{name+}` read as `{name}`), byte order, then creation. Only the ids are sorted; the large
/// documents are read afterwards by id (sorting rows that carry them spilled SQLite's sorter to
/// disk and made a 10,000-API read take 0.3 s).
/// Each row: the id of the document to read (a version, or the API for drafts), the API's id.
const EXPORT_PUBLISHED_IDS: &str = "SELECT p.version_id, a.id FROM publications p JOIN apis a ON a.id = p.api_id \
     WHERE p.instance_id = $1 AND p.env_id = $2 AND a.group_id = $3 ORDER BY replace(a.req_uri, '+}', '}'), a.seq";
const EXPORT_DRAFT_IDS: &str = "SELECT a.id, a.id FROM apis a WHERE a.instance_id = $1 AND a.group_id = $2 \
     ORDER BY replace(a.req_uri, '+}', '}'), a.seq";

/// What identifies an API in its group: its name, and its route.
type Route = (String, String, String);

fn route_of(d: &ApiDefinition) -> Route {
    (d.req_method.as_str().to_owned(), d.req_uri.clone(), d.match_mode.as_str().to_owned())
}

fn describe(route: &Route) -> String {
    format!("{} {} ({})", route.0, route.1, route.2)
}

/// The APIs a group holds while an import runs: keys of existing and already imported APIs.
#[derive(Default)]
struct GroupIndex {
    by_name: HashMap<String, String>,
    by_route: HashMap<Route, String>,
}

impl GroupIndex {
    fn insert(&mut self, id: &str, d: &ApiDefinition) {
        self.by_name.insert(d.name.clone(), id.to_owned());
        self.by_route.insert(route_of(d), id.to_owned());
    }

    fn remove(&mut self, d: &ApiDefinition) {
        self.by_name.remove(&d.name);
        self.by_route.remove(&route_of(d));
    }
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
    pub(super) async fn import_apis_impl(&self, instance_id: &str, request: ImportRequest) -> Result<ImportOutcome> {
        let mut tx = self.write().await?;
        let group_id = Self::prepare_target(&mut tx, instance_id, &request.target).await?;
        Self::import_policies_in(&mut tx, instance_id, &group_id, &request.policies, request.extend_mode, request.now)
            .await?;
        Self::import_domains_in(&mut tx, instance_id, &group_id, &request.domains, request.extend_mode).await?;
        let mut index = Self::group_index(&mut tx, &group_id).await?;
        // APIs written by this import: a later API of the same file that conflicts with one of
        // them fails, whatever the mode (the first of two conflicting APIs wins).
        let mut imported: std::collections::HashSet<String> = Default::default();
        let mut actions = Vec::with_capacity(request.apis.len());
        // New APIs are written together at the end; the index already knows them, so later
        // APIs of the file see them as they would see rows.
        let mut created = Vec::new();
        for mut definition in request.apis {
            definition.group_id.clone_from(&group_id);
            let by_name = index.by_name.get(&definition.name).cloned();
            let by_route = index.by_route.get(&route_of(&definition)).cloned();
            let existing = match (by_name, by_route) {
                (None, None) => None,
                (Some(a), Some(b)) if a != b => {
                    actions.push(ImportAction::Failed(Conflict::ApiName(definition.name.clone())));
                    continue;
                }
                (Some(id), _) | (_, Some(id)) => Some(id),
            };
            let action = match existing {
                Some(id) if imported.contains(&id) => {
                    let conflict = if index.by_name.contains_key(&definition.name) {
                        Conflict::ApiName(definition.name.clone())
                    } else {
                        Conflict::ApiRoute(describe(&route_of(&definition)))
                    };
                    ImportAction::Failed(conflict)
                }
                Some(id) if !request.overwrite => ImportAction::Ignored(id),
                Some(id) => {
                    let previous = Self::api_in(&mut tx, instance_id, &id).await?;
                    definition.prepare(Some(&previous.definition), request.now);
                    let api = Api { update_time: request.now, definition, ..previous.clone() };
                    if let Some(refused) = Self::refused_references(&mut tx, instance_id, &api).await? {
                        actions.push(refused);
                        continue;
                    }
                    Self::replace_api(&mut tx, instance_id, &api).await?;
                    Self::record_references(&mut tx, instance_id, &api).await?;
                    index.remove(&previous.definition);
                    index.insert(&id, &api.definition);
                    imported.insert(id.clone());
                    ImportAction::Updated(id)
                }
                None => {
                    definition.prepare(None, request.now);
                    let api = Api {
                        id: portico_model::new_id(),
                        status: 1,
                        register_time: request.now,
                        update_time: request.now,
                        definition,
                    };
                    if let Some(refused) = Self::refused_references(&mut tx, instance_id, &api).await? {
                        actions.push(refused);
                        continue;
                    }
                    index.insert(&api.id, &api.definition);
                    imported.insert(api.id.clone());
                    let id = api.id.clone();
                    created.push(api);
                    ImportAction::Created(id)
                }
            };
            actions.push(action);
        }
        Self::insert_apis(&mut tx, instance_id, &created).await?;
        // Only APIs that refer to something have references to record (checked above).
        for api in created.iter().filter(|api| !portico_model::api_references(&api.definition).is_empty()) {
            Self::record_references(&mut tx, instance_id, api).await?;
        }
        if request.dry_run {
            tx.rollback().await?;
        } else {
            self.commit(tx).await?;
        }
        Ok(ImportOutcome { group_id, actions })
    }

    pub(super) fn export_apis_impl(
        &self,
        instance_id: &str,
        group_id: &str,
        env_id: Option<&str>,
        only: Option<&[String]>,
    ) -> mpsc::Receiver<Result<Vec<Api>>> {
        let (sender, receiver) = mpsc::channel(EXPORT_WINDOW / EXPORT_BATCH);
        let pool = self.pool.clone();
        let (instance_id, group_id, env_id) = (instance_id.to_owned(), group_id.to_owned(), env_id.map(str::to_owned));
        let only: Option<HashSet<String>> = only.map(|ids| ids.iter().cloned().collect());
        tokio::spawn(async move {
            let read = async {
                // One read transaction: the ids and the documents come from the same snapshot.
                let mut tx = DB::begin_snapshot(&pool).await?;
                let rows: Vec<(String, String)> = match &env_id {
                    Some(env_id) => {
                        sqlx::query_as(EXPORT_PUBLISHED_IDS).bind(&instance_id).bind(env_id).bind(&group_id)
                    }
                    None => sqlx::query_as(EXPORT_DRAFT_IDS).bind(&instance_id).bind(&group_id),
                }
                .fetch_all(&mut *tx)
                .await?;
                let ids: Vec<String> = rows
                    .into_iter()
                    .filter(|(_, api_id)| only.as_ref().is_none_or(|only| only.contains(api_id)))
                    .map(|(document_id, _)| document_id)
                    .collect();
                for chunk in ids.chunks(EXPORT_BATCH) {
                    let rows = Self::documents(&mut tx, env_id.is_none(), chunk).await?;
                    // Decoded here, in turn with reading: decoding on other threads made the
                    // export slower and its memory larger on two cores (BENCHMARKS.md).
                    let batch = Self::decode_in_order(&rows, chunk)?;
                    // A closed channel means the export was abandoned (the client went away).
                    if sender.send(Ok(batch)).await.is_err() {
                        break;
                    }
                }
                Ok::<_, StoreError>(())
            };
            if let Err(e) = read.await {
                let _ = sender.send(Err(e)).await;
            }
        });
        receiver
    }

    pub(super) async fn export_api_ids_impl(
        &self,
        instance_id: &str,
        group_id: &str,
        env_id: Option<&str>,
    ) -> Result<Vec<String>> {
        let rows = match env_id {
            Some(env_id) => {
                sqlx::query(
                    "SELECT a.id FROM publications p JOIN apis a ON a.id = p.api_id \
                     WHERE p.instance_id = $1 AND p.env_id = $2 AND a.group_id = $3",
                )
                .bind(instance_id)
                .bind(env_id)
                .bind(group_id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT id FROM apis WHERE instance_id = $1 AND group_id = $2")
                    .bind(instance_id)
                    .bind(group_id)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    pub(super) async fn create_task_impl(&self, instance_id: &str, task: &AsyncTask) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        sqlx::query(
            "INSERT INTO async_tasks (id, instance_id, task_type, status, result, created_at, updated_at, node_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&task.id)
        .bind(instance_id)
        .bind(task.task_type.as_str())
        .bind(task.status.as_str())
        .bind(&task.result)
        .bind(ts(task.created_at))
        .bind(ts(task.updated_at))
        .bind(self.node_id.as_ref())
        .execute(&mut *tx)
        .await?;
        self.commit_definitions(tx).await
    }

    pub(super) async fn update_task_impl(
        &self,
        instance_id: &str,
        id: &str,
        status: TaskStatus,
        result: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        // A task that has ended stays as it ended: when another node took this node for dead and
        // failed the task, the client was told so, and a late result must not contradict it.
        let updated = sqlx::query(
            "UPDATE async_tasks SET status = $1, result = $2, updated_at = $3 \
             WHERE instance_id = $4 AND id = $5 AND status IN ('waiting', 'processing')",
        )
        .bind(status.as_str())
        .bind(result)
        .bind(ts(now))
        .bind(instance_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&updated) == 0 {
            let ended = sqlx::query("SELECT status FROM async_tasks WHERE instance_id = $1 AND id = $2")
                .bind(instance_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if ended.is_none() {
                return Err(StoreError::not_found(Kind::Task, id));
            }
            tracing::warn!(task = id, status = status.as_str(), "a task that had already ended keeps its end");
            return Ok(());
        }
        self.commit_definitions(tx).await
    }

    pub(super) async fn task_impl(&self, instance_id: &str, id: &str) -> Result<AsyncTask> {
        let row = sqlx::query(
            "SELECT id, task_type, status, result, created_at, updated_at FROM async_tasks \
             WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Task, id))?;
        let times = (parse_ts(row.try_get("created_at")?)?, parse_ts(row.try_get("updated_at")?)?);
        let (task_type, status): (String, String) = (row.try_get("task_type")?, row.try_get("status")?);
        AsyncTask::decode(row.try_get("id")?, &task_type, &status, row.try_get("result")?, times).ok_or_else(|| {
            StoreError::Corrupt(serde::de::Error::custom(format!("async task {id}: {task_type}/{status}")))
        })
    }

    /// Reads the documents of `ids` (`snapshot` of versions, or `doc` of APIs for drafts); the rows
    /// are decoded by [`decode_in_order`].
    async fn documents(tx: &mut Tx<DB>, drafts: bool, ids: &[String]) -> Result<Vec<DB::Row>> {
        let mut query = QueryBuilder::<DB>::new(if drafts {
            "SELECT id, doc FROM apis WHERE id IN ("
        } else {
            "SELECT id, snapshot AS doc FROM api_versions WHERE id IN ("
        });
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id.clone());
        }
        query.push(")");
        Ok(query.build().fetch_all(&mut **tx).await?)
    }

    /// The APIs of `rows`, in the order of `ids`.
    fn decode_in_order(rows: &[DB::Row], ids: &[String]) -> Result<Vec<Api>> {
        let mut by_id: HashMap<&str, Api> = HashMap::with_capacity(rows.len());
        for row in rows {
            let doc: &str = row.try_get("doc")?;
            by_id.insert(row.try_get("id")?, serde_json::from_str(doc)?);
        }
        // An id without a row would be a change between the two reads, which the read transaction
        // rules out; skipping it keeps the export consistent either way.
        Ok(ids.iter().filter_map(|id| by_id.remove(id.as_str())).collect())
    }

    /// The failure of an imported API whose references do not resolve, as a create would refuse
    /// it; other errors end the import.
    async fn refused_references(tx: &mut Tx<DB>, instance_id: &str, api: &Api) -> Result<Option<ImportAction>> {
        match Self::check_references(tx, instance_id, api).await {
            Ok(_) => Ok(None),
            Err(StoreError::BadReference { field, message }) => Ok(Some(ImportAction::BadReference { field, message })),
            Err(e) => Err(e),
        }
    }

    async fn prepare_target(tx: &mut Tx<DB>, instance_id: &str, target: &ImportTarget) -> Result<String> {
        match target {
            ImportTarget::NewGroup(group) => {
                sqlx::query("INSERT INTO api_groups (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
                    .bind(&group.id)
                    .bind(instance_id)
                    .bind(&group.name)
                    .bind(to_doc(group)?)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| unique_or(e, Conflict::GroupName(group.name.clone())))?;
                Ok(group.id.clone())
            }
            ImportTarget::Existing { group_id, extensions } => {
                Self::group_exists(tx, instance_id, group_id).await?;
                if !extensions.is_empty() {
                    let row = sqlx::query("SELECT doc FROM api_groups WHERE instance_id = $1 AND id = $2")
                        .bind(instance_id)
                        .bind(group_id)
                        .fetch_one(&mut **tx)
                        .await?;
                    let mut group: ApiGroup = Self::from_doc(&row, "doc")?;
                    group.openapi_extensions.extend(extensions.iter().map(|(k, v)| (k.clone(), v.clone())));
                    sqlx::query("UPDATE api_groups SET doc = $1 WHERE instance_id = $2 AND id = $3")
                        .bind(to_doc(&group)?)
                        .bind(instance_id)
                        .bind(group_id)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(group_id.clone())
            }
        }
    }

    async fn group_index(tx: &mut Tx<DB>, group_id: &str) -> Result<GroupIndex> {
        let rows = sqlx::query("SELECT id, name, req_method, req_uri, match_mode FROM apis WHERE group_id = $1")
            .bind(group_id)
            .fetch_all(&mut **tx)
            .await?;
        let mut index = GroupIndex::default();
        for row in rows {
            let id: String = row.try_get(0)?;
            index.by_name.insert(row.try_get(1)?, id.clone());
            index.by_route.insert((row.try_get(2)?, row.try_get(3)?, row.try_get(4)?), id);
        }
        Ok(index)
    }
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
    /// Creates or reuses, by name, the throttling policies, ACLs and gateway responses of an API
    /// import inside its transaction: with [`ExtendMode::Merge`] an existing object of that name
    /// is kept, with [`ExtendMode::Override`] it is overwritten (keeping its id; a policy's
    /// specials are replaced). A special for an `APP` must name an app of the instance
    /// (`BadReference` otherwise).
    pub(super) async fn import_policies_in(
        tx: &mut Tx<DB>,
        instance_id: &str,
        group_id: &str,
        import: &PolicySet,
        mode: ExtendMode,
        now: OffsetDateTime,
    ) -> Result<()> {
        for (throttle, specials) in &import.throttles {
            let existing = sqlx::query("SELECT doc FROM throttles WHERE instance_id = $1 AND name = $2")
                .bind(instance_id)
                .bind(&throttle.name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| Self::from_doc::<Throttle>(&row, "doc"))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(old), ExtendMode::Override) => {
                    let new = Throttle { id: old.id.clone(), create_time: old.create_time, ..throttle.clone() };
                    sqlx::query("UPDATE throttles SET doc = $1 WHERE id = $2")
                        .bind(to_doc(&new)?)
                        .bind(&old.id)
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query("DELETE FROM throttle_specials WHERE throttle_id = $1")
                        .bind(&old.id)
                        .execute(&mut **tx)
                        .await?;
                    Self::insert_specials(tx, instance_id, &old.id, &throttle.name, specials, now).await?;
                }
                (None, _) => {
                    let new = Throttle { id: new_id(), create_time: now, ..throttle.clone() };
                    sqlx::query("INSERT INTO throttles (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
                        .bind(&new.id)
                        .bind(instance_id)
                        .bind(&new.name)
                        .bind(to_doc(&new)?)
                        .execute(&mut **tx)
                        .await?;
                    Self::insert_specials(tx, instance_id, &new.id, &throttle.name, specials, now).await?;
                }
            }
        }
        for acl in &import.acls {
            let existing = sqlx::query("SELECT id FROM acls WHERE instance_id = $1 AND name = $2")
                .bind(instance_id)
                .bind(&acl.acl_name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| row.try_get::<String, _>(0))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(id), ExtendMode::Override) => {
                    let new = Acl { id: id.clone(), update_time: now, ..acl.clone() };
                    sqlx::query("UPDATE acls SET entity_type = $1, acl_type = $2, doc = $3 WHERE id = $4")
                        .bind(&new.entity_type)
                        .bind(&new.acl_type)
                        .bind(to_doc(&new)?)
                        .bind(&id)
                        .execute(&mut **tx)
                        .await?;
                }
                (None, _) => {
                    let new = Acl { id: new_id(), update_time: now, ..acl.clone() };
                    sqlx::query(
                        "INSERT INTO acls (id, instance_id, name, entity_type, acl_type, doc) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&new.id)
                    .bind(instance_id)
                    .bind(&new.acl_name)
                    .bind(&new.entity_type)
                    .bind(&new.acl_type)
                    .bind(to_doc(&new)?)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        for response in &import.gateway_responses {
            let existing = sqlx::query("SELECT doc FROM gateway_responses WHERE group_id = $1 AND name = $2")
                .bind(group_id)
                .bind(&response.name)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| Self::from_doc::<GatewayResponse>(&row, "doc"))
                .transpose()?;
            match (existing, mode) {
                (Some(_), ExtendMode::Merge) => {}
                (Some(old), ExtendMode::Override) => {
                    let new = GatewayResponse { responses: response.responses.clone(), update_time: now, ..old };
                    sqlx::query("UPDATE gateway_responses SET doc = $1 WHERE id = $2")
                        .bind(to_doc(&new)?)
                        .bind(&new.id)
                        .execute(&mut **tx)
                        .await?;
                }
                (None, _) => {
                    let new = GatewayResponse {
                        group_id: group_id.to_string(),
                        create_time: now,
                        update_time: now,
                        ..response.clone()
                    };
                    sqlx::query(
                        "INSERT INTO gateway_responses (id, instance_id, group_id, name, doc) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&new.id)
                    .bind(instance_id)
                    .bind(group_id)
                    .bind(&new.name)
                    .bind(to_doc(&new)?)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }
}
