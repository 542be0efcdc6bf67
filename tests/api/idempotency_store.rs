//! The Idempotency-Key store as the database holds it: each key keeps the
//! ETag it answered with and names the resource it created (erasure needs
//! both), and expired keys are swept by a later keyed create.

use chrono::{Duration, Utc};
use crm_api::db::schema::{idempotency_key_resources as ikr, idempotency_keys as ik};
use crm_api::db::{DbConnection, DbTimestamp, DbUuid, PoolOptions};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::TestApp;

const LIST: &str = "/api/v1/stakeholders";

fn connect(app: &TestApp) -> diesel::r2d2::PooledConnection<crm_api::db::DbManager> {
    crm_api::db::connect(&app.database_url, PoolOptions::command(1)).unwrap().get().unwrap()
}

/// A stored key, `age` old, with a body that is not the API's.
fn insert_key(conn: &mut DbConnection, key: &str, age: Duration) {
    diesel::insert_into(ik::table)
        .values((
            ik::owner.eq("admin::someone-else"),
            ik::idem_key.eq(key),
            ik::request_hash.eq("0"),
            ik::status_code.eq(201),
            ik::response_body.eq("{}"),
            ik::created_at.eq(DbTimestamp(crm_api::db::types::truncate(Utc::now() - age))),
        ))
        .execute(conn)
        .unwrap();
}

fn stored_keys(conn: &mut DbConnection) -> Vec<String> {
    ik::table.select(ik::idem_key).order(ik::idem_key.asc()).load(conn).unwrap()
}

/// The resources a key is linked to, as (type, id).
fn resources_of(conn: &mut DbConnection, key: &str) -> Vec<(String, String)> {
    ikr::table
        .filter(ikr::idem_key.eq(key))
        .select((ikr::resource_type, ikr::resource_id))
        .load::<(String, DbUuid)>(conn)
        .unwrap()
        .into_iter()
        .map(|(t, id)| (t, id.0.to_string()))
        .collect()
}

fn linked_keys(conn: &mut DbConnection) -> Vec<String> {
    ikr::table.select(ikr::idem_key).order(ikr::idem_key.asc()).load(conn).unwrap()
}

api_test!(a_keyed_create_keeps_its_etag_and_names_what_it_created, |app| {
    let send = || app.post(LIST, Role::Admin, &minimal_stakeholder()).header("Idempotency-Key", "store-1").send();
    let res = send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // The stakeholder moves on to version 2; the replay is still the first answer, ETag and all.
    let res = app.patch(&format!("{LIST}/{id}"), Role::Admin, &json!({"segment": "gold"})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.headers()["etag"], "\"1\"");
    let replayed: Value = res.json().await.unwrap();
    assert_eq!(replayed, created);

    let mut conn = connect(&app);
    let etag: Option<String> = ik::table.filter(ik::idem_key.eq("store-1")).select(ik::etag).first(&mut *conn).unwrap();
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(resources_of(&mut conn, "store-1"), [("stakeholder".to_owned(), id)]);
});

api_test!(each_resource_names_itself_in_the_key_that_created_it, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let sid = s["id"].as_str().unwrap();
    let bodies = [
        (
            "/api/v1/interactions",
            "interaction",
            json!({"stakeholder_id": sid, "channel": "email", "direction": "inbound", "type": "contact"}),
        ),
        (
            "/api/v1/offers",
            "offer",
            json!({"stakeholder_id": sid, "title": "Upgrade", "price": {"amount_minor": 100, "currency": "IDR"}}),
        ),
        (
            "/api/v1/complaints",
            "complaint",
            json!({"stakeholder_id": sid, "subject": "Late", "description": "Two weeks", "category": "delivery", "severity": "low"}),
        ),
    ];
    let mut conn = connect(&app);
    for (path, resource_type, body) in bodies {
        let key = format!("key-{resource_type}");
        let res = app.post(path, Role::Admin, &body).header("Idempotency-Key", &key).send().await.unwrap();
        assert_eq!(res.status(), 201, "{path}");
        let created: Value = res.json().await.unwrap();
        let etag: Option<String> = ik::table.filter(ik::idem_key.eq(&key)).select(ik::etag).first(&mut *conn).unwrap();
        assert_eq!(etag.as_deref(), Some("\"1\""));
        let id = created["id"].as_str().unwrap().to_owned();
        // Itself, and the stakeholder it is about (erasure finds it by either).
        let mut named = resources_of(&mut conn, &key);
        named.sort();
        assert_eq!(named, [(resource_type.to_owned(), id), ("stakeholder".to_owned(), sid.to_owned())]);
    }
});

api_test!(expired_keys_are_swept_by_a_later_keyed_create_and_live_ones_stay, |app| {
    let mut conn = connect(&app);
    insert_key(&mut conn, "expired-a", Duration::hours(25));
    insert_key(&mut conn, "expired-b", Duration::days(30));
    insert_key(&mut conn, "live", Duration::hours(23));
    for key in ["expired-a", "live"] {
        diesel::insert_into(ikr::table)
            .values((
                ikr::owner.eq("admin::someone-else"),
                ikr::idem_key.eq(key),
                ikr::resource_type.eq("stakeholder"),
                ikr::resource_id.eq(DbUuid(uuid::Uuid::now_v7())),
            ))
            .execute(&mut *conn)
            .unwrap();
    }

    // A create without a key sweeps nothing.
    let res = app.post(LIST, Role::Admin, &minimal_stakeholder()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(stored_keys(&mut conn), ["expired-a", "expired-b", "live"]);

    let res =
        app.post(LIST, Role::Admin, &minimal_stakeholder()).header("Idempotency-Key", "new").send().await.unwrap();
    assert_eq!(res.status(), 201);
    // The sweep runs after the create, apart from it: wait for it (bounded).
    for _ in 0..100 {
        if stored_keys(&mut conn).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stored_keys(&mut conn), ["live", "new"]);
    assert_eq!(linked_keys(&mut conn), ["live", "new"], "a swept key's links go with it");
});
