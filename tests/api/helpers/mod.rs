//! The test harness: `TestApp::spawn` starts the real server on port 0 with
//! its own fresh database (an SQLite temp file, or a new PostgreSQL database
//! dropped afterwards), and typed helpers speak HTTP to it.
//!
//! `api_test!` writes each test twice: `…::sqlite` always runs; `…::postgres`
//! runs when `CRM_TEST_DATABASE_URL` is set (and fails if that server is down).
//!
//! Environment:
//! - `CRM_TEST_DATABASE_URL`: a PostgreSQL server URL (its database is only
//!   used to create and drop one fresh database per test). Unset, every
//!   PostgreSQL test is skipped: it passes without running, and says so with a
//!   numbered `skipped: <test> (CRM_TEST_DATABASE_URL unset) [#n]` line
//!   written straight to the process's stderr (the harness captures
//!   `eprintln!`, not a direct write), so `cargo test` shows it.
//! - `CRM_TEST_REQUIRE_POSTGRES=1`: a skip is a failure instead (the test
//!   panics, naming the missing variable). CI sets it next to
//!   `CRM_TEST_DATABASE_URL` (`.ci/run`), so a lost or misspelt URL cannot
//!   turn half the suite into silent passes. `0`, `false`, `no`, `off` or
//!   empty mean unset.

//!
//! The helpers, all re-exported here (a test module sees them all):
//! - `auth`: `Role`, tokens and claims, partner ids;
//! - `responses`: reading responses, problems, 422 `errors[]`, `fetch`;
//! - `lists`: list pages, ids, cursors in query strings;
//! - `time`: RFC 3339 timestamps in and out.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use crm_api::auth::jwt::JwtVerifier;
use crm_api::config::Settings;
use crm_api::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

mod auth;
mod lists;
mod responses;
mod time;

pub use auth::*;
pub use lists::*;
pub use responses::*;
pub use time::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes a test for both backends: `api_test!(name, |app| { ... })`.
#[macro_export]
macro_rules! api_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::helpers::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                #[allow(unused_mut)]
                let mut $app = TestApp::spawn(Backend::Sqlite).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url_or_skip(module_path!(), "postgres").is_none() {
                    return;
                }
                #[allow(unused_mut)]
                let mut $app = TestApp::spawn(Backend::Postgres).await;
                $body
            }
        }
    };
}

/// PostgreSQL tests skipped so far in this process (numbers the skip lines).
static POSTGRES_SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// `CRM_TEST_REQUIRE_POSTGRES` is set to something other than `0`/`false`/`no`/`off`/empty.
fn postgres_required() -> bool {
    std::env::var("CRM_TEST_REQUIRE_POSTGRES")
        .is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no" | "off"))
}

/// For a PostgreSQL-only test `<module>::<test>` (`module` is its
/// `module_path!()`): `CRM_TEST_DATABASE_URL`, or `None` when that is unset
/// and the test is to be skipped. A skip is written to stderr (numbered), or
/// is a panic under `CRM_TEST_REQUIRE_POSTGRES` (see the module docs).
pub fn postgres_url_or_skip(module: &str, test: &str) -> Option<String> {
    if let Ok(url) = std::env::var("CRM_TEST_DATABASE_URL") {
        return Some(url);
    }
    // `api::offers::x` → `offers::x`, the name the test harness prints.
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    let name = format!("{module}::{test}");
    if postgres_required() {
        panic!(
            "{name}: CRM_TEST_REQUIRE_POSTGRES is set but CRM_TEST_DATABASE_URL is not, so this PostgreSQL test \
             cannot run; set CRM_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) \
             or unset CRM_TEST_REQUIRE_POSTGRES"
        );
    }
    let n = POSTGRES_SKIPPED.fetch_add(1, Ordering::SeqCst) + 1;
    let _ = writeln!(std::io::stderr().lock(), "skipped: {name} (CRM_TEST_DATABASE_URL unset) [#{n}]");
    None
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub database_url: String,
    pg_drop: Option<(String, String)>,
    server: actix_web::dev::ServerHandle,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Spawns with extra `CRM_*` settings (e.g. a smaller body limit).
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let (database_url, pg_drop, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("crm.sqlite3").display());
                (url, None, Some(dir))
            }
            Backend::Postgres => {
                let base = std::env::var("CRM_TEST_DATABASE_URL").expect("CRM_TEST_DATABASE_URL");
                let name = format!("crm_test_{}", Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&base).expect("CRM_TEST_DATABASE_URL must be reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
                // No TLS to a local test server: fewer moving parts at process exit.
                let url = with_database(&base, &name);
                let url = if url.contains("sslmode=") {
                    url
                } else if url.contains('?') {
                    format!("{url}&sslmode=disable")
                } else {
                    format!("{url}?sslmode=disable")
                };
                (url, Some((base, name)), None)
            }
        };
        let mut vars: HashMap<String, String> = HashMap::from([
            ("CRM_DATABASE_URL".into(), database_url.clone()),
            ("CRM_LISTEN".into(), "127.0.0.1:0".into()),
            ("CRM_JWT_SECRET".into(), SECRET.into()),
            ("CRM_DB_POOL_SIZE".into(), "4".into()),
            ("CRM_WORKERS".into(), "2".into()),
            // On, so every test goes through the limiter, but out of reach;
            // the rate-limit tests set their own.
            ("CRM_RATE_LIMIT".into(), "1000000".into()),
        ]);
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        if vars.contains_key("CRM_JWT_PUBLIC_KEY_FILE") {
            vars.remove("CRM_JWT_SECRET");
        }
        let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
        let key = settings.jwt.key.clone().expect("key");
        let verifier = JwtVerifier::new(
            &key,
            settings.jwt.algorithm,
            settings.jwt.issuer.as_deref(),
            settings.jwt.audience.as_deref(),
        )
        .expect("verifier");
        let pool = crm_api::db::connect(&settings.database_url, settings.pool_options()).expect("pool");
        crm_api::db::migrate(&mut pool.get().expect("conn")).expect("migrate");
        let app = Application::build(settings, pool, verifier).expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let server = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        TestApp { address, client, backend, database_url, pg_drop, server, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with a bearer token for `role` (sub = `<role>-user`).
    pub fn req(&self, method: Method, path: &str, role: Role) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token(role))
    }

    pub fn get(&self, path: &str, role: Role) -> RequestBuilder {
        self.req(Method::GET, path, role)
    }

    pub fn post(&self, path: &str, role: Role, body: &Value) -> RequestBuilder {
        self.req(Method::POST, path, role).json(body)
    }

    pub fn patch(&self, path: &str, role: Role, body: &Value) -> RequestBuilder {
        self.req(Method::PATCH, path, role).json(body)
    }

    pub fn delete(&self, path: &str, role: Role) -> RequestBuilder {
        self.req(Method::DELETE, path, role)
    }

    /// Creates a stakeholder as admin from `minimal_stakeholder()` merged with `extra`; returns the body.
    pub async fn create_stakeholder(&self, extra: Value) -> Value {
        let mut body = minimal_stakeholder();
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let res = self.post("/api/v1/stakeholders", Role::Admin, &body).send().await.unwrap();
        let status = res.status();
        let json: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "create_stakeholder failed: {json}");
        json
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Ask the server to stop (the command is sent now; its workers and
        // their connection pool go away with it) before its database does.
        drop(self.server.stop(false));
        let Some((base, name)) = self.pg_drop.take() else { return };
        if let Ok(mut admin) = PgConnection::establish(&base) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// `base` with its database name replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

pub fn minimal_stakeholder() -> Value {
    json!({"kind": "customer", "entity_type": "person", "display_name": "Test Person"})
}

/// Makes the database refuse audit events with `action` (a trigger), so a
/// test can see what the server does when it cannot record one.
pub fn refuse_audit_action(app: &TestApp, action: &str) {
    use diesel::RunQueryDsl;
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    let name = format!("refuse_{}", action.replace('.', "_"));
    let statements = match app.backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER {name} BEFORE INSERT ON audit_events \
             WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN IF NEW.action = '{action}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"
            ),
            format!("CREATE TRIGGER {name} BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION {name}()"),
        ],
    };
    for sql in statements {
        diesel::sql_query(sql).execute(&mut *conn).unwrap();
    }
}
