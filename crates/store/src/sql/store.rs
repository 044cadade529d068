//! The core [`Store`] methods: accounts, instances, groups, environments, variables, API
//! definitions, publishing and versions, the export/import and task entry points, nodes and
//! the data plane's reads.

use std::sync::Arc;

use async_trait::async_trait;
use portico_model::{
    Api, ApiGroup, Credential, EnvVariable, Environment, Instance, Page, Paged, Project, RELEASE_ENV_ID, User,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use time::OffsetDateTime;

use super::publish::{PUBLICATION_FROM, VERSION_COLUMNS, VERSION_FROM, not_published, publication_columns};
use super::{Engine, SqlStore, parse_ts, to_doc, unique_or};
use crate::{
    ApiContext, ApiFilter, ApiVersion, AsyncTask, BatchOutcome, Bootstrap, Conflict, CredentialSummary, GroupFilter,
    Heartbeat, ImportOutcome, ImportRequest, Kind, LiveSet, Outline, Publication, Result, RouteKey, Store, StoreError,
    TaskStatus, TextMatch, VariableFilter,
};

#[async_trait]
impl<DB> Store for SqlStore<DB>
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
    async fn setting_or_insert(&self, key: &str, proposed: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(proposed)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_project(&mut tx, project).await?;
        self.commit(tx).await
    }

    async fn project(&self, id_or_name: &str) -> Result<Project> {
        let row =
            sqlx::query("SELECT id, name, created_at FROM projects WHERE id = $1 OR name = $2 ORDER BY id = $3 DESC")
                .bind(id_or_name)
                .bind(id_or_name)
                .bind(id_or_name)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Project, id_or_name))?;
        Ok(Project {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_user(&mut tx, user).await?;
        self.commit(tx).await
    }

    async fn user_by_name(&self, name: &str) -> Result<User> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::User, name))?;
        self.decode_user(&row).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_credential(&mut tx, credential).await?;
        self.commit(tx).await
    }

    async fn credential(&self, access_key: &str) -> Result<(Credential, User)> {
        let row = sqlx::query(
            "SELECT c.access_key, c.secret_key, c.created_at AS c_created, u.* \
             FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.access_key = $1",
        )
        .bind(access_key)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Credential, access_key))?;
        let user = self.decode_user(&row).await?;
        let credential = Credential {
            access_key: row.try_get("access_key")?,
            secret_key: row.try_get("secret_key")?,
            user_id: user.id.clone(),
            created_at: parse_ts(&row.try_get::<String, _>("c_created")?)?,
        };
        Ok((credential, user))
    }

    async fn list_projects(&self) -> Result<Vec<Project>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM projects ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(Project {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
                })
            })
            .collect()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY name").fetch_all(&self.pool).await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(self.decode_user(row).await?);
        }
        Ok(users)
    }

    async fn set_user_password(&self, name: &str, password_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(password_hash)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::not_found(Kind::User, name));
        }
        self.commit(tx).await
    }

    async fn delete_user(&self, name: &str) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT id, readonly FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::User, name))?;
        let id: String = row.try_get("id")?;
        let readonly: bool = row.try_get("readonly")?;
        if !readonly {
            // In the write transaction, so two deletions cannot each leave the other writer last.
            let others = sqlx::query("SELECT 1 FROM users WHERE readonly = $1 AND id <> $2 LIMIT 1")
                .bind(false)
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
            if others.is_none() {
                return Err(Conflict::LastWriter(name.to_string()).into());
            }
        }
        let keys = sqlx::query("SELECT access_key FROM credentials WHERE user_id = $1 ORDER BY access_key")
            .bind(&id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<Vec<String>, _>>()?;
        // Memberships and credentials go with the user (ON DELETE CASCADE).
        sqlx::query("DELETE FROM users WHERE id = $1").bind(&id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(keys)
    }

    async fn list_credentials(&self) -> Result<Vec<CredentialSummary>> {
        let rows = sqlx::query(
            "SELECT c.access_key, c.created_at, u.name FROM credentials c JOIN users u ON u.id = c.user_id \
             ORDER BY u.name, c.created_at, c.access_key",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CredentialSummary {
                    access_key: row.try_get("access_key")?,
                    user_name: row.try_get("name")?,
                    created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
                })
            })
            .collect()
    }

    async fn delete_credential(&self, access_key: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("DELETE FROM credentials WHERE access_key = $1").bind(access_key).execute(&mut *tx).await?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::not_found(Kind::Credential, access_key));
        }
        self.commit(tx).await
    }

    async fn create_instance(&self, instance: &Instance) -> Result<()> {
        let mut tx = self.write().await?;
        Self::insert_instance(&mut tx, instance).await?;
        self.commit(tx).await
    }

    async fn bootstrap(&self, b: &Bootstrap) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("SELECT 1 FROM settings WHERE key = 'bootstrapped'").fetch_optional(&mut *tx).await?;
        if done.is_some() {
            return Ok(false);
        }
        Self::insert_project(&mut tx, &b.project).await?;
        Self::insert_user(&mut tx, &b.admin).await?;
        Self::insert_credential(&mut tx, &b.credential).await?;
        Self::insert_instance(&mut tx, &b.instance).await?;
        for (key, value) in [("bootstrapped", "true"), ("domain", b.domain.as_str())] {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    async fn instance(&self, project_id: &str, id: &str) -> Result<Instance> {
        let key = (project_id.to_string(), id.to_string());
        self.instances
            .get_or_load(&key, async {
                let row = sqlx::query("SELECT doc FROM instances WHERE project_id = $1 AND id = $2")
                    .bind(project_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
                Self::from_doc(&row, "doc")
            })
            .await
    }

    async fn api_context(&self, instance_id: &str, api_id: &str) -> Result<Arc<ApiContext>> {
        let key = (instance_id.to_string(), api_id.to_string());
        self.api_contexts
            .get_or_load(&key, async {
                let api: Api = Self::doc_in(&self.pool, "apis", Kind::Api, instance_id, api_id).await?;
                let group =
                    Self::doc_in(&self.pool, "api_groups", Kind::Group, instance_id, &api.definition.group_id).await?;
                let publications = self.publications(instance_id, std::slice::from_ref(&api.id)).await?;
                Ok(Arc::new(ApiContext { api, group, publications }))
            })
            .await
    }

    async fn list_instances(
        &self,
        project_id: &str,
        id: Option<&str>,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<Instance>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE project_id = ").push_bind(project_id.to_string());
            if let Some(id) = id {
                q.push(" AND id = ").push_bind(id.to_string());
            }
            if let Some(name) = name {
                Self::push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "instances", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_instance(&self, project_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        // Existence in *this* project first, so another project learns nothing about the instance.
        sqlx::query("SELECT 1 FROM instances WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Instance, id))?;
        let groups: i64 = sqlx::query("SELECT COUNT(*) FROM api_groups WHERE instance_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if groups > 0 {
            return Err(Conflict::InstanceHasGroups(id.into()).into());
        }
        let deleted = sqlx::query("DELETE FROM instances WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::Instance, id));
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO api_groups (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&group.id)
            .bind(instance_id)
            .bind(&group.name)
            .bind(to_doc(group)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::GroupName(group.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_group(&self, instance_id: &str, group: &ApiGroup) -> Result<()> {
        let target = (group.id.as_str(), group.name.as_str(), to_doc(group)?);
        let mut tx = self.write().await?;
        Self::update_named_doc(
            &mut tx,
            "api_groups",
            Kind::Group,
            instance_id,
            target,
            Conflict::GroupName(group.name.clone()),
        )
        .await?;
        self.commit(tx).await
    }

    async fn group(&self, instance_id: &str, id: &str) -> Result<ApiGroup> {
        Self::doc_in(&self.pool, "api_groups", Kind::Group, instance_id, id).await
    }

    async fn list_groups(&self, instance_id: &str, filter: &GroupFilter, page: Page) -> Result<Paged<ApiGroup>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = &filter.id {
                q.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("doc", "api_groups", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn group_name_taken(&self, instance_id: &str, name: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM api_groups WHERE instance_id = $1 AND name = $2")
            .bind(instance_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn delete_group(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::group_exists(&mut tx, instance_id, id).await?;
        let apis: i64 = sqlx::query("SELECT COUNT(*) FROM apis WHERE group_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if apis > 0 {
            return Err(Conflict::GroupHasApis(id.into()).into());
        }
        sqlx::query("DELETE FROM env_variables WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM api_groups WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_env(&self, instance_id: &str, env: &Environment) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(instance_id)
            .bind(&env.id)
            .bind(&env.name)
            .bind(to_doc(env)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::EnvName(env.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_env(&self, instance_id: &str, env: &Environment) -> Result<()> {
        if env.id == RELEASE_ENV_ID {
            return Err(Conflict::BuiltInEnv.into());
        }
        let target = (env.id.as_str(), env.name.as_str(), to_doc(env)?);
        let mut tx = self.write().await?;
        Self::update_named_doc(
            &mut tx,
            "envs",
            Kind::Environment,
            instance_id,
            target,
            Conflict::EnvName(env.name.clone()),
        )
        .await?;
        self.commit(tx).await
    }

    async fn env(&self, instance_id: &str, id: &str) -> Result<Environment> {
        Self::doc_in(&self.pool, "envs", Kind::Environment, instance_id, id).await
    }

    async fn list_envs(&self, instance_id: &str, name: Option<&str>, page: Page) -> Result<Paged<Environment>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(name) = name {
                Self::push_text_filter(q, "name", &TextMatch::Contains(name.to_string()));
            }
        };
        self.paged("doc", "envs", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_env(&self, instance_id: &str, id: &str) -> Result<()> {
        if id == RELEASE_ENV_ID {
            return Err(Conflict::BuiltInEnv.into());
        }
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, id).await?;
        let published: i64 = sqlx::query("SELECT COUNT(*) FROM publications WHERE instance_id = $1 AND env_id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if published > 0 {
            return Err(Conflict::EnvHasPublishedApis(id.into()).into());
        }
        for table in ["env_variables", "api_versions", "envs"] {
            let column = if table == "envs" { "id" } else { "env_id" };
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE instance_id = $1 AND {column} = $2")))
                .bind(instance_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn create_variable(&self, instance_id: &str, variable: &EnvVariable) -> Result<()> {
        let mut tx = self.write().await?;
        Self::group_exists(&mut tx, instance_id, &variable.group_id).await?;
        Self::env_in(&mut tx, instance_id, &variable.env_id).await?;
        sqlx::query(
            "INSERT INTO env_variables (id, instance_id, group_id, env_id, name, value) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&variable.id)
        .bind(instance_id)
        .bind(&variable.group_id)
        .bind(&variable.env_id)
        .bind(&variable.variable_name)
        .bind(&variable.variable_value)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or(e, Conflict::VariableName(variable.variable_name.clone())))?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn update_variable(&self, instance_id: &str, id: &str, value: &str) -> Result<EnvVariable> {
        let mut tx = self.write().await?;
        let updated = sqlx::query("UPDATE env_variables SET value = $1 WHERE instance_id = $2 AND id = $3")
            .bind(value)
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&updated) == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await?;
        self.variable(instance_id, id).await
    }

    async fn variable(&self, instance_id: &str, id: &str) -> Result<EnvVariable> {
        let row = sqlx::query("SELECT * FROM env_variables WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Variable, id))?;
        Self::decode_variable(&row)
    }

    async fn list_variables(
        &self,
        instance_id: &str,
        filter: &VariableFilter,
        page: Page,
    ) -> Result<Paged<EnvVariable>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(group) = &filter.group_id {
                q.push(" AND group_id = ").push_bind(group.clone());
            }
            if let Some(env) = &filter.env_id {
                q.push(" AND env_id = ").push_bind(env.clone());
            }
            if let Some(name) = &filter.variable_name {
                Self::push_text_filter(q, "name", name);
            }
        };
        self.paged("*", "env_variables", "seq", filters, page, Self::decode_variable).await
    }

    async fn delete_variable(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let deleted = sqlx::query("DELETE FROM env_variables WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&deleted) == 0 {
            return Err(StoreError::not_found(Kind::Variable, id));
        }
        self.commit(tx).await
    }

    async fn create_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        Self::group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        Self::check_api_conflicts(&mut tx, api, None).await?;
        Self::insert_apis(&mut tx, instance_id, std::slice::from_ref(api)).await?;
        Self::record_references(&mut tx, instance_id, api).await?;
        self.commit_definitions(tx).await?;
        Ok(())
    }

    async fn update_api(&self, instance_id: &str, api: &Api) -> Result<()> {
        let mut tx = self.write_definitions().await?;
        Self::api_in(&mut tx, instance_id, &api.id).await?;
        Self::group_exists(&mut tx, instance_id, &api.definition.group_id).await?;
        Self::check_api_conflicts(&mut tx, api, Some(&api.id)).await?;
        Self::replace_api(&mut tx, instance_id, api).await?;
        Self::record_references(&mut tx, instance_id, api).await?;
        self.commit_definitions(tx).await?;
        Ok(())
    }

    async fn api(&self, instance_id: &str, id: &str) -> Result<Api> {
        Self::doc_in(&self.pool, "apis", Kind::Api, instance_id, id).await
    }

    async fn list_apis(&self, instance_id: &str, filter: &ApiFilter, page: Page) -> Result<Paged<Api>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            let exact = [
                ("id", &filter.id),
                ("group_id", &filter.group_id),
                ("req_protocol", &filter.req_protocol),
                ("req_method", &filter.req_method),
                ("auth_type", &filter.auth_type),
            ];
            for (column, value) in exact {
                if let Some(v) = value {
                    q.push(format!(" AND {column} = ")).push_bind(v.clone());
                }
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
            if let Some(uri) = &filter.req_uri {
                Self::push_text_filter(q, "req_uri", uri);
            }
            if let Some(t) = filter.api_type {
                q.push(" AND api_type = ").push_bind(t);
            }
            if let Some(env) = &filter.env_id {
                q.push(" AND EXISTS (SELECT 1 FROM publications p WHERE p.api_id = apis.id AND p.env_id = ")
                    .push_bind(env.clone())
                    .push(")");
            }
            if let Some(channel) = &filter.vpc_channel_name {
                Self::push_vpc_channel_filter(q, channel);
            }
            match &filter.tag {
                Some(Some(tag)) => {
                    q.push(format!(" AND {}", DB::json_array_has("apis.tags", None, None)))
                        .push_bind(tag.clone())
                        .push(")");
                }
                Some(None) => {
                    q.push(" AND tags = '[]'");
                }
                None => {}
            }
        };
        self.paged("doc", "apis", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn outline(&self, instance_id: &str) -> Result<Outline> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM apis WHERE instance_id = $1), \
                    (SELECT COUNT(*) FROM publications WHERE instance_id = $1 AND env_id = $2), \
                    (SELECT COUNT(*) FROM api_groups WHERE instance_id = $1), \
                    (SELECT COUNT(*) FROM apps WHERE instance_id = $1), \
                    (SELECT COUNT(DISTINCT app_id) FROM app_auths WHERE instance_id = $1)",
        )
        .bind(instance_id)
        .bind(RELEASE_ENV_ID)
        .fetch_one(&self.pool)
        .await?;
        let count = |i: usize| -> Result<u64> { Ok(row.try_get::<i64, _>(i)? as u64) };
        Ok(Outline {
            apis: count(0)?,
            apis_on_release: count(1)?,
            groups: count(2)?,
            apps: count(3)?,
            apps_authorized: count(4)?,
        })
    }

    async fn api_tags(&self, instance_id: &str, page: Page) -> Result<Paged<String>> {
        let from = format!("FROM apis, {} WHERE apis.instance_id = $1", DB::json_array_texts("apis.tags"));
        let total: i64 = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(DISTINCT t.value) {from}")))
            .bind(instance_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT DISTINCT t.value AS tag {from} ORDER BY tag LIMIT $2 OFFSET $3"
        )))
        .bind(instance_id)
        .bind(page.limit as i64)
        .bind(page.offset as i64)
        .fetch_all(&self.pool)
        .await?;
        let tags = rows.iter().map(|r| r.try_get("tag")).collect::<sqlx::Result<Vec<String>>>()?;
        Ok(Paged { items: tags, total: total as u64 })
    }

    async fn api_conflict(
        &self,
        instance_id: &str,
        group_id: &str,
        name: Option<&str>,
        route: Option<(&str, &str, &str)>,
        except_id: Option<&str>,
    ) -> Result<Option<Conflict>> {
        let mut tx = self.pool.begin().await?;
        Self::group_exists(&mut tx, instance_id, group_id).await?;
        Self::route_conflict(&mut tx, group_id, name, route, except_id).await
    }

    async fn delete_api(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        Self::api_in(&mut tx, instance_id, id).await?;
        for table in ["publications", "api_versions"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE api_id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM apis WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn publish(
        &self,
        instance_id: &str,
        env_id: &str,
        api_ids: &[String],
        remark: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<BatchOutcome> {
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            let api = match Self::api_in(&mut tx, instance_id, api_id).await {
                Ok(api) => api,
                Err(e @ StoreError::NotFound { .. }) => {
                    outcome.push((api_id.clone(), Err(e)));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let publication = Self::publish_in(&mut tx, instance_id, env_id, &api, remark, now).await?;
            outcome.push((api_id.clone(), Ok(publication)));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn offline(&self, instance_id: &str, env_id: &str, api_ids: &[String]) -> Result<BatchOutcome> {
        let mut tx = self.write().await?;
        Self::env_in(&mut tx, instance_id, env_id).await?;
        let mut outcome = Vec::with_capacity(api_ids.len());
        for api_id in api_ids {
            if let Err(e) = Self::api_in(&mut tx, instance_id, api_id).await {
                outcome.push((api_id.clone(), Err(e)));
                continue;
            }
            let Some(publication) = Self::publication_in(&mut tx, api_id, env_id).await? else {
                outcome.push((api_id.clone(), Err(not_published(api_id, env_id))));
                continue;
            };
            sqlx::query("DELETE FROM publications WHERE api_id = $1 AND env_id = $2")
                .bind(api_id)
                .bind(env_id)
                .execute(&mut *tx)
                .await?;
            outcome.push((api_id.clone(), Ok(publication)));
        }
        self.commit(tx).await?;
        Ok(outcome)
    }

    async fn group_api_ids(&self, instance_id: &str, group_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM apis WHERE instance_id = $1 AND group_id = $2 ORDER BY seq")
            .bind(instance_id)
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn publications(&self, instance_id: &str, api_ids: &[String]) -> Result<Vec<Publication>> {
        if api_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<DB>::new(format!(
            "SELECT {} FROM {PUBLICATION_FROM} WHERE p.instance_id = ",
            publication_columns::<DB>()
        ));
        q.push_bind(instance_id.to_string()).push(" AND p.api_id IN (");
        let mut ids = q.separated(", ");
        for id in api_ids {
            ids.push_bind(id.clone());
        }
        q.push(") ORDER BY p.seq");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(Self::decode_publication).collect()
    }

    async fn list_versions(
        &self,
        instance_id: &str,
        api_id: &str,
        env_id: Option<&str>,
        page: Page,
    ) -> Result<Paged<ApiVersion>> {
        self.api(instance_id, api_id).await?;
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE v.instance_id = ").push_bind(instance_id.to_string());
            q.push(" AND v.api_id = ").push_bind(api_id.to_string());
            if let Some(env) = env_id {
                q.push(" AND v.env_id = ").push_bind(env.to_string());
            }
        };
        self.paged(VERSION_COLUMNS, VERSION_FROM, "v.seq DESC", filters, page, Self::decode_version).await
    }

    async fn version(&self, instance_id: &str, version_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = $1 AND v.id = $2"
        )))
        .bind(instance_id)
        .bind(version_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        Self::decode_version(&row)
    }

    async fn offline_version(&self, instance_id: &str, version_id: &str) -> Result<Publication> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT api_id, env_id FROM api_versions WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(version_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        let (api_id, env_id): (String, String) = (row.try_get("api_id")?, row.try_get("env_id")?);
        let publication = Self::publication_in(&mut tx, &api_id, &env_id)
            .await?
            .filter(|live| live.version_id == version_id)
            .ok_or_else(|| StoreError::not_found(Kind::Publication, &format!("of version {version_id} in effect")))?;
        sqlx::query("DELETE FROM publications WHERE api_id = $1 AND env_id = $2")
            .bind(&api_id)
            .bind(&env_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(publication)
    }

    async fn switch_version(
        &self,
        instance_id: &str,
        api_id: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Result<Publication> {
        let mut tx = self.write().await?;
        Self::api_in(&mut tx, instance_id, api_id).await?;
        let row =
            sqlx::query("SELECT api_id, env_id, remark, snapshot FROM api_versions WHERE instance_id = $1 AND id = $2")
                .bind(instance_id)
                .bind(version_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(Kind::Version, version_id))?;
        let owner: String = row.try_get("api_id")?;
        if owner != api_id {
            return Err(Conflict::ForeignVersion(version_id.into()).into());
        }
        let env_id: String = row.try_get("env_id")?;
        let remark: Option<String> = row.try_get("remark")?;
        let route = RouteKey::of(&Self::from_doc(&row, "snapshot")?);
        let (publication, _) =
            Self::make_live(&mut tx, instance_id, api_id, &env_id, version_id, &route, remark.as_deref(), now).await?;
        self.commit(tx).await?;
        Ok(publication)
    }

    async fn runtime(&self, instance_id: &str, api_id: &str, env_id: &str) -> Result<ApiVersion> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} WHERE v.instance_id = $1 AND v.api_id = $2 AND v.env_id = $3 \
             AND p.version_id IS NOT NULL"
        )))
        .bind(instance_id)
        .bind(api_id)
        .bind(env_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_published(api_id, env_id))?;
        Self::decode_version(&row)
    }

    async fn export_apis(
        &self,
        instance_id: &str,
        group_id: &str,
        env_id: Option<&str>,
        only: Option<&[String]>,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<Api>>>> {
        Ok(self.export_apis_impl(instance_id, group_id, env_id, only))
    }

    async fn export_api_ids(&self, instance_id: &str, group_id: &str, env_id: Option<&str>) -> Result<Vec<String>> {
        self.export_api_ids_impl(instance_id, group_id, env_id).await
    }

    async fn import_apis(&self, instance_id: &str, request: ImportRequest) -> Result<ImportOutcome> {
        self.import_apis_impl(instance_id, request).await
    }

    async fn create_task(&self, instance_id: &str, task: &AsyncTask) -> Result<()> {
        self.create_task_impl(instance_id, task).await
    }

    async fn update_task(
        &self,
        instance_id: &str,
        id: &str,
        status: TaskStatus,
        result: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.update_task_impl(instance_id, id, status, result, now).await
    }

    async fn task(&self, instance_id: &str, id: &str) -> Result<AsyncTask> {
        self.task_impl(instance_id, id).await
    }

    fn node_id(&self) -> &str {
        &self.node_id
    }

    async fn heartbeat(&self, now: OffsetDateTime, lease: time::Duration, reason: &str) -> Result<Heartbeat> {
        self.heartbeat_impl(now, lease, reason).await
    }

    async fn leave(&self, now: OffsetDateTime, reason: &str) -> Result<u64> {
        self.leave_impl(now, reason).await
    }

    // ---- Data plane ------------------------------------------------------------------------

    async fn live_routes(&self) -> Result<LiveSet> {
        // One read transaction: the reads see the same snapshot of the database.
        let mut tx = DB::begin_snapshot(&self.pool).await?;
        let apis = self.live_apis(&mut tx).await?;
        // `EXISTS`, not `IN (SELECT …)`: SQLite would build a 100,000-row index of group ids.
        let live_group = |group_id: &str| {
            format!(
                "EXISTS (SELECT 1 FROM apis a JOIN publications p ON p.api_id = a.id WHERE a.group_id = {group_id})"
            )
        };
        let groups = sqlx::query(AssertSqlSafe(format!(
            "SELECT doc FROM api_groups g WHERE {} ORDER BY seq",
            live_group("g.id")
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Self::from_doc(row, "doc"))
        .collect::<Result<Vec<_>>>()?;
        let variables = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, env_id, group_id, name, value FROM env_variables v WHERE {} ORDER BY seq",
            live_group("v.group_id")
        )))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(Self::decode_variable)
        .collect::<Result<Vec<_>>>()?;
        let policies = self.live_policies(&mut tx).await?;
        let domains = self.live_domains(&mut tx).await?;
        tx.commit().await?;
        Ok(LiveSet { apis, groups, variables, policies, domains })
    }

    fn generation(&self) -> u64 {
        self.live_generation.current()
    }

    async fn live_changed(&self, seen: u64) {
        self.live_generation.changed_since(seen).await
    }

    async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
