//! Scripts on a real PostgreSQL server: `PORTICO_TEST_POSTGRES`
//! (`postgres://user[:password]@host:port/database`; the test creates and drops its own table).
//! The test is ignored in the SQLite pass (cargo lists it as ignored) and runs in the PostgreSQL
//! pass of `scripts/test.sh`, which passes `--include-ignored`. `docs/livedata.md` has the
//! behaviour this pins.

use portico_livedata::{ExecError, Places};
use portico_model::{DataSource, LdScript, encode_base64, now};
use portico_store::testing::{PgCluster, TestAuthority};
use serde_json::{Value, json};
use sqlx::Connection;

const URL_VAR: &str = "PORTICO_TEST_POSTGRES";

fn source(content: Value) -> DataSource {
    let body = json!({
        "datasource_name": "pg", "datasource_type": "POSTGRESQL", "app_id": "a", "content": content,
    });
    DataSource::from_json(body.to_string().as_bytes(), "ds".into(), now()).expect("valid data source").0
}

fn script(sql: &str) -> LdScript {
    LdScript {
        ds_id: Some("ds".into()),
        ds_name: None,
        ds_type: None,
        script_type: "SQL".into(),
        object_name: "rows".into(),
        content: encode_base64(sql.as_bytes()),
        enable_result_paging: false,
        enable_preparestatement: true,
        created_time: now(),
        modified_time: now(),
    }
}

async fn run(
    source: &DataSource,
    password: Option<&str>,
    script: &LdScript,
    params: &[(String, String)],
) -> Result<Value, ExecError> {
    portico_livedata::run(source, password, script, params, &Places::default()).await
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: the PostgreSQL pass of scripts/test.sh runs it (--include-ignored)"]
async fn scripts_run_on_postgresql_with_bound_parameters() {
    let url = std::env::var(URL_VAR).unwrap_or_else(|_| panic!("{URL_VAR} names no PostgreSQL server"));
    let table = format!("ld_items_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect to the test server");
    for sql in [
        format!("DROP TABLE IF EXISTS {table}"),
        format!("CREATE TABLE {table} (id INT PRIMARY KEY, name TEXT, kind TEXT, price FLOAT8, big INT8, ok BOOL)"),
        format!(
            "INSERT INTO {table} VALUES (1, 'hammer', 'tool', 9.5, 10000000000, true), \
             (2, 'saw', 'tool', NULL, 2, false), (3, 'apple', 'food', 1.0, 3, true)"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.expect("set up the table");
    }

    let by_url = source(json!({ "url": url }));
    let select =
        format!("SELECT id, name, price, big, ok FROM {table} WHERE kind = ${{kind}} AND id >= ${{min}} ORDER BY id");
    let rows = run(&by_url, None, &script(&select), &params(&[("kind", "tool"), ("min", "1")])).await.expect("runs");
    assert_eq!(
        rows,
        json!([
            { "id": 1, "name": "hammer", "price": 9.5, "big": 10000000000i64, "ok": true },
            { "id": 2, "name": "saw", "price": null, "big": 2, "ok": false },
        ])
    );
    let sneaky = run(&by_url, None, &script(&select), &params(&[("kind", "x' OR '1'='1"), ("min", "0")])).await;
    assert_eq!(sneaky.expect("runs"), json!([]), "values are bound, not spliced");

    // The same server named by its parts, the way the ROMA console fills `content`.
    let rest = url.trim_start_matches("postgres://").trim_start_matches("postgresql://");
    let (user_part, host_part) = rest.split_once('@').expect("user@host in the URL");
    let (user, password) = user_part.split_once(':').map_or((user_part, None), |(u, p)| (u, Some(p)));
    let (host_port, database) = host_part.split_once('/').expect("a database in the URL");
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    let by_parts = source(json!({ "host": host, "port": port, "database_name": database, "user_name": user }));
    let count = format!("SELECT count(*) AS n FROM {table}");
    assert_eq!(run(&by_parts, password, &script(&count), &[]).await.expect("runs"), json!([{ "n": 3 }]));

    let missing = run(&by_url, None, &script("SELECT * FROM no_such_table_here"), &[]).await;
    assert!(matches!(missing, Err(ExecError::Database(_))), "{missing:?}");
    let unbound = run(&by_url, None, &script(&select), &params(&[("kind", "tool")])).await;
    assert!(matches!(unbound, Err(ExecError::Script(_))), "{unbound:?}");

    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut admin).await.expect("clean up");
}

/// A data source's URL reaches its server over TLS as libpq reads `sslmode`, with the root
/// certificate given inline (PEM, URL-encoded), against a server of the test's own that takes
/// TLS connections only; a certificate named by a file is refused.
#[tokio::test]
#[ignore = "needs PostgreSQL: the PostgreSQL pass of scripts/test.sh runs it (--include-ignored)"]
async fn data_sources_are_reached_over_tls_as_their_url_says() {
    let authority = TestAuthority::new("Data source CA");
    let cluster = PgCluster::start_tls(&authority).expect("a PostgreSQL cluster with TLS starts");
    let inline = |pem: &str| form_urlencoded::byte_serialize(pem.as_bytes()).collect::<String>();
    let (right, other) = (inline(authority.pem()), inline(TestAuthority::new("Another CA").pem()));
    let one = script("SELECT 1 AS one");
    let run_at = |host: &str, query: String| {
        let source =
            source(json!({ "url": format!("postgres://postgres@{host}:{}/postgres?{query}", cluster.port()) }));
        let one = one.clone();
        async move { run(&source, None, &one, &[]).await }
    };
    for (host, query) in
        [("127.0.0.1", "sslmode=require".to_owned()), ("localhost", format!("sslmode=verify-full&sslrootcert={right}"))]
    {
        assert_eq!(run_at(host, query.clone()).await.expect(&query), json!([{ "one": 1 }]));
    }
    for (host, query) in [
        ("127.0.0.1", "sslmode=disable".to_owned()),
        ("localhost", format!("sslmode=verify-full&sslrootcert={other}")),
        ("127.0.0.1", format!("sslmode=verify-full&sslrootcert={right}")),
        ("127.0.0.1", format!("sslmode=require&sslrootcert={other}")),
    ] {
        let refused = run_at(host, query.clone()).await;
        assert!(matches!(refused, Err(ExecError::Database(_))), "{query}: {refused:?}");
    }
    let by_file = run_at("localhost", "sslmode=verify-full&sslrootcert=/etc/hostname".to_owned()).await;
    assert!(matches!(by_file, Err(ExecError::Settings(_))), "{by_file:?}");
}

#[tokio::test]
async fn other_kinds_are_not_executable() {
    let body = json!({ "datasource_name": "m", "datasource_type": "MYSQL", "app_id": "a", "content": { "host": "h" } });
    let mysql = DataSource::from_json(body.to_string().as_bytes(), "ds".into(), now()).unwrap().0;
    let refused = run(&mysql, None, &script("SELECT 1"), &[]).await;
    assert!(matches!(refused, Err(ExecError::NotExecutable(ref kind)) if kind == "MYSQL"), "{refused:?}");
}
