//! Runs the scripts of ROMA Connect custom backends against their data sources: what makes a
//! custom backend a working data API. PostgreSQL and SQLite are executed for real; every other
//! kind answers [`ExecError::NotExecutable`].
//!
//! A script is one SQL statement (or, on PostgreSQL, a stored procedure call). The backend's
//! parameters appear in it as `${name}` and are bound as statement parameters, never pasted
//! into the SQL text; on PostgreSQL each is sent as text and cast to the type the server infers
//! for it. The rows come back as JSON objects, one per row, under the script's
//! `object_name`:
//!
//! ```no_run
//! # async fn demo(source: &portico_model::DataSource, script: &portico_model::LdScript) {
//! let params = vec![("id".to_string(), "7".to_string())];
//! let places = portico_livedata::Places { sqlite_dir: Some("portico-data/livedata".into()) };
//! let result = portico_livedata::run(source, None, script, &params, &places).await;
//! # }
//! ```
#![warn(missing_docs)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use portico_model::{DataSource, Executable, LdScript, decode_base64, encode_base64};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgRow, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Column, ConnectOptions, Connection, Either, Executor, Row, SqlSafeStr, TypeInfo, ValueRef};

/// Where data sources may be found on this server.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// The directory SQLite data sources name files of; without it SQLite data sources are
    /// not executable.
    pub sqlite_dir: Option<PathBuf>,
}

/// How long one script may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a script did not run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Portico does not run scripts against this kind of data source.
    #[error("data sources of type {0} are stored but not executable here; only POSTGRESQL and SQLITE are")]
    NotExecutable(String),
    /// The script is not usable: not base64, not UTF-8, a stored procedure on SQLite, a
    /// `${name}` that no parameter gives.
    #[error("script: {0}")]
    Script(String),
    /// The data source's settings do not make a connection.
    #[error("data source settings: {0}")]
    Settings(String),
    /// The database refused the connection or the statement.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The script took longer than 30 s.
    #[error("the script did not finish within {} s", TIMEOUT.as_secs())]
    Timeout,
}

/// The SQL text with the `i`-th `${name}` (from 1) replaced by `placeholder(i)`, and the names
/// in order of appearance.
fn bind_parameters(sql: &str, placeholder: impl Fn(usize) -> String) -> Result<(String, Vec<String>), ExecError> {
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| ExecError::Script("unterminated ${ in the script".into()))?;
        names.push(after[..end].trim().to_string());
        out.push_str(&placeholder(names.len()));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, names))
}

fn values_for<'a>(names: &[String], params: &'a [(String, String)]) -> Result<Vec<&'a str>, ExecError> {
    names
        .iter()
        .map(|name| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| ExecError::Script(format!("no value for parameter ${{{name}}}")))
        })
        .collect()
}

/// Runs `script` against `source` with the parameters' values, giving the rows as a JSON
/// array of objects.
pub async fn run(
    source: &DataSource,
    password: Option<&str>,
    script: &LdScript,
    params: &[(String, String)],
    places: &Places,
) -> Result<Value, ExecError> {
    let kind = source
        .connection()
        .map_err(|e| ExecError::Settings(e.to_string()))?
        .ok_or_else(|| ExecError::NotExecutable(source.datasource_type.clone()))?;
    let bytes = decode_base64(&script.content).ok_or_else(|| ExecError::Script("content is not base64".into()))?;
    let sql = String::from_utf8(bytes).map_err(|_| ExecError::Script("content is not UTF-8 text".into()))?;
    let work = async {
        match kind {
            Executable::Sqlite => {
                if script.script_type == "SP" {
                    return Err(ExecError::Script("SQLite has no stored procedures; use type SQL".into()));
                }
                run_sqlite(source, &sql, params, places).await
            }
            Executable::Postgres => run_postgres(source, password, &sql, params).await,
        }
    };
    tokio::time::timeout(TIMEOUT, work).await.map_err(|_| ExecError::Timeout)?
}

async fn run_sqlite(
    source: &DataSource,
    sql: &str,
    params: &[(String, String)],
    places: &Places,
) -> Result<Value, ExecError> {
    let directory = places.sqlite_dir.as_deref().ok_or_else(|| ExecError::NotExecutable("SQLITE".into()))?;
    // `connection()` admitted the name: a plain file name, so the file is in the directory.
    let file = directory.join(source.setting("url").unwrap_or_default());
    let mut conn = SqliteConnectOptions::new().filename(file).create_if_missing(false).connect().await?;
    forbid_attach(&mut conn).await?;
    let (text, names) = bind_parameters(sql, |_| "?".into())?;
    let values = values_for(&names, params)?;
    let mut query = sqlx::query(AssertSqlSafe(text));
    for v in values {
        query = query.bind(v.to_owned());
    }
    let rows = query.fetch_all(&mut conn).await?;
    conn.close().await?;
    Ok(Value::Array(rows.iter().map(sqlite_row).collect()))
}

/// A script must not `ATTACH` another file (Portico's own database, say): the connection gets a
/// limit of zero attached databases, so `ATTACH` fails with "too many attached databases".
async fn forbid_attach(conn: &mut sqlx::SqliteConnection) -> Result<(), ExecError> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is this open connection, locked for the call; `sqlite3_limit` only sets
    // a per-connection limit and may be called at any time on a valid handle.
    unsafe {
        libsqlite3_sys::sqlite3_limit(handle.as_raw_handle().as_ptr(), libsqlite3_sys::SQLITE_LIMIT_ATTACHED, 0);
    }
    Ok(())
}

fn sqlite_row(row: &SqliteRow) -> Value {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let null = row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true);
        let value = if null {
            Value::Null
        } else if let Ok(n) = row.try_get::<i64, _>(i) {
            Value::from(n)
        } else if let Ok(f) = row.try_get::<f64, _>(i) {
            Value::from(f)
        } else if let Ok(s) = row.try_get::<String, _>(i) {
            Value::String(s)
        } else if let Ok(b) = row.try_get::<Vec<u8>, _>(i) {
            Value::String(encode_base64(&b))
        } else {
            Value::Null
        };
        object.insert(column.name().to_string(), value);
    }
    Value::Object(object)
}

async fn run_postgres(
    source: &DataSource,
    password: Option<&str>,
    sql: &str,
    params: &[(String, String)],
) -> Result<Value, ExecError> {
    let mut options = match source.setting("url") {
        Some(url) => url_options(url)?,
        None => {
            let mut options = PgConnectOptions::new_without_pgpass()
                .host(source.setting("host").unwrap_or("localhost"))
                .database(source.setting("database_name").unwrap_or_default());
            if let Some(port) = source.setting("port") {
                options = options.port(port.parse().map_err(|_| ExecError::Settings("content.port".into()))?);
            }
            if let Some(user) = source.setting("user_name") {
                options = options.username(user);
            }
            options
        }
    };
    if let Some(password) = password {
        options = options.password(password);
    }
    let mut conn = options.connect().await?;
    // Values arrive as text. PostgreSQL is asked which type each parameter has (as `psql`
    // would infer it), and each is sent as text and cast there: `CAST($1::text AS int4)`.
    let (probe, names) = bind_parameters(sql, |i| format!("${i}"))?;
    let values = values_for(&names, params)?;
    let described = (&mut conn).describe(AssertSqlSafe(probe).into_sql_str()).await?;
    let types: Vec<String> = match described.parameters() {
        Some(Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
        _ => Vec::new(),
    };
    let cast = |i: usize| match types.get(i - 1) {
        Some(name) if !name.eq_ignore_ascii_case("text") => format!("CAST(${i}::text AS {name})"),
        _ => format!("${i}::text"),
    };
    let (text, _) = bind_parameters(sql, cast)?;
    let mut query = sqlx::query(AssertSqlSafe(text));
    for v in values {
        query = query.bind(v.to_owned());
    }
    let rows = query.fetch_all(&mut conn).await?;
    conn.close().await?;
    Ok(Value::Array(rows.iter().map(postgres_row).collect()))
}

/// A data source's `postgres://` URL, read as libpq reads it where sqlx reads it otherwise
/// (with a root certificate given, `sslmode=require` verifies the chain as `verify-ca` does; the
/// store reads its own URL the same way). Certificates and keys (`sslrootcert`, `sslcert`,
/// `sslkey`) are given inline, as PEM text: a file name would have the server read a file that
/// whoever configures a data source chose.
fn url_options(url: &str) -> Result<PgConnectOptions, ExecError> {
    let mut options = PgConnectOptions::from_str(url)?;
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let mut has_root_cert = false;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let pem = || match value.trim_start().starts_with("-----BEGIN") {
            true => Ok(value.as_bytes().to_vec()),
            false => Err(ExecError::Settings(format!("url: {key} must hold PEM text, not a file name"))),
        };
        // sqlx's spellings of libpq's names; sqlx takes them for file names, so the PEM text is
        // set again as such.
        options = match &*key {
            "sslrootcert" | "ssl-root-cert" | "ssl-ca" => {
                has_root_cert = true;
                options.ssl_root_cert_from_pem(pem()?)
            }
            "sslcert" | "ssl-cert" => options.ssl_client_cert_from_pem(pem()?),
            "sslkey" | "ssl-key" => options.ssl_client_key_from_pem(pem()?),
            _ => options,
        };
    }
    Ok(match options.get_ssl_mode() {
        PgSslMode::Require if has_root_cert => options.ssl_mode(PgSslMode::VerifyCa),
        _ => options,
    })
}

fn postgres_row(row: &PgRow) -> Value {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let null = row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true);
        let value = if null {
            Value::Null
        } else {
            match column.type_info().name() {
                "BOOL" => row.try_get::<bool, _>(i).map(Value::from).unwrap_or(Value::Null),
                "INT2" => row.try_get::<i16, _>(i).map(Value::from).unwrap_or(Value::Null),
                "INT4" => row.try_get::<i32, _>(i).map(Value::from).unwrap_or(Value::Null),
                "INT8" => row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "FLOAT4" => row.try_get::<f32, _>(i).map(Value::from).unwrap_or(Value::Null),
                "FLOAT8" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "BYTEA" => {
                    row.try_get::<Vec<u8>, _>(i).map(|b| Value::String(encode_base64(&b))).unwrap_or(Value::Null)
                }
                // Text-like types decode as strings; others (numeric, dates, json) need a
                // `::text` cast in the script.
                _ => row.try_get::<String, _>(i).map(Value::String).unwrap_or(Value::Null),
            }
        };
        object.insert(column.name().to_string(), value);
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_bound_parameters() {
        let numbered = |i: usize| format!("${i}");
        let (sql, names) = bind_parameters("select * from t where a = ${a} and b = ${ b }", numbered).unwrap();
        assert_eq!(sql, "select * from t where a = $1 and b = $2");
        assert_eq!(names, ["a", "b"]);
        let (sql, _) = bind_parameters("select ${a}", |_| "?".into()).unwrap();
        assert_eq!(sql, "select ?");
        assert!(bind_parameters("select ${a", |_| "?".into()).is_err());
    }
}
