//! The binary's commands, migrations (up → down → up, every table reachable
//! through schema.rs), and readiness when the database goes away.

use std::process::Command;

use diesel::prelude::*;
use diesel::{Connection, PgConnection};
use serde_json::Value;

use crate::api_test;
use crate::helpers::*;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crm-api"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CRM_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn serve_without_a_jwt_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin().current_dir(dir.path()).env("CRM_LISTEN", "127.0.0.1:0").arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CRM_JWT_SECRET") && err.contains("--dev"), "{err}");
}

#[test]
fn token_command_signs_a_token_the_server_accepts() {
    let out = bin()
        .env("CRM_JWT_SECRET", SECRET)
        .args(["token", "--role", "partner", "--sub", "bot", "--partner-id", &PARTNER_A.to_string(), "--ttl", "5m"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let verifier = crm_api::auth::jwt::JwtVerifier::new(
        &key_source_for_tests(),
        crm_api::auth::jwt::JwtAlgorithm::Hs256,
        None,
        None,
    )
    .unwrap();
    let claims = verifier.verify(&token).unwrap();
    assert_eq!(claims.sub, "bot");
    assert_eq!(claims.role.as_deref(), Some("partner"));
    assert_eq!(claims.partner_id, Some(PARTNER_A.to_string()));
    assert!(claims.exp - chrono::Utc::now().timestamp() <= 300);

    let bad = bin().env("CRM_JWT_SECRET", SECRET).args(["token", "--role", "root", "--sub", "x"]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn openapi_and_migrate_commands() {
    let out = bin().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub").join("crm.sqlite3");
    let out = bin().env("CRM_DATABASE_URL", format!("sqlite://{}", db.display())).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(db.exists(), "migrate creates the SQLite file and its directory");
}

/// Every table, through schema.rs: a mismatch with the migrations fails here.
fn touch_every_table(conn: &mut crm_api::db::DbConnection) {
    use crm_api::db::schema::*;
    assert_eq!(stakeholders::table.count().get_result::<i64>(conn).unwrap(), 0);
    stakeholders::table.select(crm_api::stakeholders::model::StakeholderRow::as_select()).load(conn).unwrap();
    stakeholder_tags::table
        .select((stakeholder_tags::stakeholder_id, stakeholder_tags::tag))
        .load::<(crm_api::db::DbUuid, String)>(conn)
        .unwrap();
    consent_changes::table.select(crm_api::stakeholders::model::ConsentChangeRow::as_select()).load(conn).unwrap();
    audit_events::table
        .select((
            audit_events::id,
            audit_events::occurred_at,
            audit_events::actor_sub,
            audit_events::actor_role,
            audit_events::action,
            audit_events::resource_type,
            audit_events::resource_id,
            audit_events::changed_fields,
            audit_events::request_id,
        ))
        .load::<(
            crm_api::db::DbUuid,
            crm_api::db::DbTimestamp,
            String,
            String,
            String,
            String,
            crm_api::db::DbUuid,
            String,
            Option<String>,
        )>(conn)
        .unwrap();
    idempotency_keys::table
        .select((
            idempotency_keys::owner,
            idempotency_keys::idem_key,
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::location,
            idempotency_keys::response_body,
            idempotency_keys::created_at,
            idempotency_keys::etag,
        ))
        .load::<(String, String, String, i32, Option<String>, String, crm_api::db::DbTimestamp, Option<String>)>(conn)
        .unwrap();
    relationships::table.select(crm_api::relationships::model::RelationshipRow::as_select()).load(conn).unwrap();
    idempotency_key_resources::table
        .select((
            idempotency_key_resources::owner,
            idempotency_key_resources::idem_key,
            idempotency_key_resources::resource_type,
            idempotency_key_resources::resource_id,
        ))
        .load::<(String, String, String, crm_api::db::DbUuid)>(conn)
        .unwrap();
}

api_test!(migrations_go_up_down_and_up_again, |app| {
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    touch_every_table(&mut conn);
    crm_api::db::revert_all(&mut conn).unwrap();
    assert!(diesel::sql_query("SELECT id FROM stakeholders").execute(&mut *conn).is_err(), "down.sql drops the tables");
    assert!(crm_api::db::migrate(&mut conn).unwrap() >= 1);
    touch_every_table(&mut conn);
});

api_test!(every_write_leaves_an_audit_event_without_values, |app| {
    let s = app.create_stakeholder(serde_json::json!({"email": "audit@example.com"})).await;
    let id = s["id"].as_str().unwrap();
    let res = app
        .patch(&format!("/api/v1/stakeholders/{id}"), Role::Agent, &serde_json::json!({"segment": "gold"}))
        .header("X-Request-Id", "audit-req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.delete(&format!("/api/v1/stakeholders/{id}"), Role::Manager).send().await.unwrap();

    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    use crm_api::db::schema::audit_events as ae;
    let rows: Vec<(String, String, String, String, Option<String>)> = ae::table
        .select((ae::action, ae::actor_sub, ae::actor_role, ae::changed_fields, ae::request_id))
        .order(ae::occurred_at.asc())
        .load(&mut conn)
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(actions, ["stakeholder.created", "stakeholder.updated", "stakeholder.archived"]);
    assert_eq!((rows[1].1.as_str(), rows[1].2.as_str()), ("agent-user", "agent"));
    assert_eq!(rows[1].3, "[\"segment\"]");
    assert_eq!(rows[1].4.as_deref(), Some("audit-req-1"));
    assert!(!rows[0].3.contains("audit@example.com"), "field names only, never values");
});

/// PostgreSQL only: drop the app's database under it; readiness turns 503 (and does not hang).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_503_when_the_database_is_gone() {
    let Some(base) = postgres_url_or_skip(module_path!(), "readiness_is_503_when_the_database_is_gone") else {
        return;
    };
    let app = TestApp::spawn(Backend::Postgres).await;
    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let name = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let mut admin = PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).unwrap();
    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_problem(res, 503).await;
    let res = app.get("/api/v1/stakeholders", Role::Admin).send().await.unwrap();
    let body = assert_problem(res, 503).await;
    assert!(!body.to_string().contains("crm_test_"), "no internals in the problem: {body}");
    // Bring it back (empty), so the pool's background reconnects succeed and stop.
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    let mut ready = false;
    for _ in 0..50 {
        if app.client.get(app.url("/health/ready")).send().await.unwrap().status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "readiness recovers when the database is back");
}

api_test!(seeded_data_reads_back_through_the_api, |app| {
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = crm_api::seed::SeedOptions {
        stakeholders: 40,
        interactions_per: 2.0,
        offers_per: 0.5,
        complaints_per: 1.0,
        relationships_per: 1.5,
        rng_seed: 7,
        ids_file: Some(dir.path().join("ids.txt")),
        chunk: 15,
    };
    let report = crm_api::seed::run(&mut pool.get().unwrap(), &opts, Default::default()).unwrap();
    assert_eq!((report.stakeholders, report.interactions, report.complaints), (40, 80, 40));
    // 0.5 per stakeholder: drawn, so about half (fixed by the rng seed).
    assert!((8..=32).contains(&report.offers), "offers: {}", report.offers);
    assert!(report.stage_changes >= 40, "every stakeholder has its creation row: {}", report.stage_changes);
    // 1.5 per stakeholder, to earlier ones (the first has none).
    assert!((30..=90).contains(&report.relationships), "relationships: {}", report.relationships);
    let ids = std::fs::read_to_string(dir.path().join("ids.txt")).unwrap();
    assert_eq!(ids.lines().count(), 40);

    // Every seeded row is valid API data: lists of each resource, in full, and one of each by id.
    for (path, expected) in [
        ("/api/v1/stakeholders?limit=200", 40),
        ("/api/v1/interactions?limit=200", 80),
        ("/api/v1/offers?limit=200", report.offers as usize),
        ("/api/v1/complaints?limit=200", 40),
        ("/api/v1/relationships?limit=200", report.relationships as usize),
    ] {
        let (status, _, body) = parts(app.get(path, Role::Admin).send().await.unwrap()).await;
        assert_eq!(status, 200, "{path}: {body}");
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), expected, "{path}");
        let first = data[0]["id"].as_str().unwrap();
        let one = path.split('?').next().unwrap();
        let res = app.get(&format!("{one}/{first}"), Role::Admin).send().await.unwrap();
        assert_eq!(res.status(), 200, "{one}/{first}");
    }
    // Each stage history ends at the stakeholder's stage, oldest first.
    let first_id = ids.lines().next().unwrap();
    let (status, _, export) =
        parts(app.get(&format!("/api/v1/stakeholders/{first_id}/export"), Role::Admin).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let history = export["lifecycle_history"].as_array().unwrap();
    assert_eq!(history[0]["from_stage"], serde_json::Value::Null, "{history:?}");
    assert_eq!(history.last().unwrap()["to_stage"], export["stakeholder"]["lifecycle_stage"]);
    assert_eq!(history[0]["changed_at"], export["stakeholder"]["created_at"]);
    let (status, _, s) =
        parts(app.get(&format!("/api/v1/stakeholders/{first_id}"), Role::Analyst).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(s["email"].as_str().unwrap().contains("***@"), "masked for analysts: {s}");

    // Deterministic: the same seed gives the same names.
    let other = TestApp::spawn(app.backend).await;
    let pool2 = crm_api::db::connect(&other.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let opts2 = crm_api::seed::SeedOptions { ids_file: None, ..opts };
    crm_api::seed::run(&mut pool2.get().unwrap(), &opts2, Default::default()).unwrap();
    let names = |b: serde_json::Value| -> Vec<String> {
        b["data"].as_array().unwrap().iter().map(|s| s["display_name"].as_str().unwrap().to_owned()).collect()
    };
    let path = "/api/v1/stakeholders?limit=200&sort=created_at";
    let (_, _, a) = parts(app.get(path, Role::Admin).send().await.unwrap()).await;
    let (_, _, b) = parts(other.get(path, Role::Admin).send().await.unwrap()).await;
    assert_eq!(names(a), names(b));
});

/// The README's first command: `serve --dev` on the embedded default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_dev_runs_on_embedded_sqlite_with_a_printed_admin_token() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .current_dir(dir.path())
        .env("CRM_LISTEN", "127.0.0.1:0")
        .env("CRM_LOG_FORMAT", "json")
        .args(["serve", "--dev"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut token, mut port) = (None, None);
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("eyJ") {
            token = Some(line.trim().to_owned());
        }
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["fields"]["message"] == "serving"
        {
            port = v["fields"]["port"].as_u64();
            break;
        }
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let (token, port) = (token.expect("an admin token is printed"), port.expect("the port is logged"));
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let ready = client.get(format!("{base}/health/ready")).send().await.unwrap();
    let list = client.get(format!("{base}/api/v1/stakeholders")).bearer_auth(&token).send().await.unwrap();
    let (ready, list) = (ready.status(), list.status());
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(ready, 200);
    assert_eq!(list, 200, "the printed token is an admin token");
    assert!(dir.path().join("data/crm.sqlite3").exists(), "the default database is ./data/crm.sqlite3");
}
