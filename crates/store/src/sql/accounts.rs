//! Projects, users, credentials and instances: the rows the core [`Store`](crate::Store) methods insert.

use portico_model::{Credential, Environment, Instance, Project, RELEASE_ENV_ID, RELEASE_ENV_NAME, User};
use sqlx::Row;

use super::{Engine, SqlStore, Tx, parse_ts, to_doc, ts, unique_or};
use crate::{Conflict, Kind, Result, StoreError};

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
    pub(super) async fn user_projects(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT project_id FROM user_projects WHERE user_id = $1 ORDER BY project_id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    pub(super) async fn decode_user(&self, row: &DB::Row) -> Result<User> {
        let id: String = row.try_get("id")?;
        Ok(User {
            projects: self.user_projects(&id).await?,
            id,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            readonly: row.try_get("readonly")?,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        })
    }

    pub(super) async fn insert_project(tx: &mut Tx<DB>, project: &Project) -> Result<()> {
        sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&project.id)
            .bind(&project.name)
            .bind(ts(project.created_at))
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, Conflict::ProjectName(project.name.clone())))?;
        Ok(())
    }

    pub(super) async fn insert_user(tx: &mut Tx<DB>, user: &User) -> Result<()> {
        sqlx::query("INSERT INTO users (id, name, password_hash, readonly, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.readonly)
            .bind(ts(user.created_at))
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_or(e, Conflict::UserName(user.name.clone())))?;
        for project in &user.projects {
            let exists =
                sqlx::query("SELECT 1 FROM projects WHERE id = $1").bind(project).fetch_optional(&mut **tx).await?;
            if exists.is_none() {
                return Err(StoreError::not_found(Kind::Project, project));
            }
            sqlx::query("INSERT INTO user_projects (user_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&user.id)
                .bind(project)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn insert_credential(tx: &mut Tx<DB>, credential: &Credential) -> Result<()> {
        sqlx::query("INSERT INTO credentials (access_key, secret_key, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&credential.access_key)
            .bind(&credential.secret_key)
            .bind(&credential.user_id)
            .bind(ts(credential.created_at))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub(super) async fn insert_instance(tx: &mut Tx<DB>, instance: &Instance) -> Result<()> {
        sqlx::query("INSERT INTO instances (id, project_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&instance.id)
            .bind(&instance.project_id)
            .bind(&instance.instance_name)
            .bind(to_doc(instance)?)
            .execute(&mut **tx)
            .await?;
        let release = Environment {
            id: RELEASE_ENV_ID.into(),
            name: RELEASE_ENV_NAME.into(),
            remark: Some("Production environment, built in".into()),
            create_time: instance.create_time,
        };
        sqlx::query("INSERT INTO envs (instance_id, id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&instance.id)
            .bind(&release.id)
            .bind(&release.name)
            .bind(to_doc(&release)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
