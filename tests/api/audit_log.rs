//! `GET /api/v1/audit-events` (contracts/privacy.md): admin only, every
//! filter, keyset paging, the past-tense vocabulary, and the log of reads of
//! the log itself (filter names, never values).

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const LOG: &str = "/api/v1/audit-events";

/// The actions of one page, in order.
fn actions(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// A stakeholder with an offer sent and a complaint acknowledged; returns (stakeholder, offer, complaint) ids.
async fn history(app: &TestApp) -> (String, String, String) {
    let s = app.create_stakeholder(json!({"email": "audit-log@example.com"})).await;
    let sid = id_of(&s);
    let res = app
        .post(
            "/api/v1/offers",
            Role::Agent,
            &json!({"stakeholder_id": sid, "title": "Upgrade",
            "price": {"amount_minor": 100, "currency": "IDR"}}),
        )
        .send()
        .await
        .unwrap();
    let offer = id_of(&res.json::<Value>().await.unwrap());
    let res = app.post(&format!("/api/v1/offers/{offer}/send"), Role::Agent, &json!({})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .post(
            "/api/v1/complaints",
            Role::Manager,
            &json!({"stakeholder_id": sid, "subject": "Late",
            "description": "Two weeks", "category": "delivery", "severity": "low"}),
        )
        .header("X-Request-Id", "req-complaint-1")
        .send()
        .await
        .unwrap();
    let complaint = id_of(&res.json::<Value>().await.unwrap());
    let res = app
        .post(&format!("/api/v1/complaints/{complaint}/acknowledge"), Role::Manager, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    (sid, offer, complaint)
}

api_test!(only_admins_read_the_audit_log_role_first, |app| {
    let (sid, _, _) = history(&app).await;
    let missing = uuid::Uuid::now_v7();
    for role in [Role::Manager, Role::Agent, Role::Analyst, Role::Partner] {
        assert_problem(app.get(LOG, role).send().await.unwrap(), 403).await;
        assert_problem(app.get(&format!("{LOG}/{missing}"), role).send().await.unwrap(), 403).await;
        let res = app.get(&format!("{LOG}?stakeholder_id={sid}&action=nonsense"), role).send().await.unwrap();
        assert_problem(res, 403).await;
        // Malformed ids and unknown parameters too: the role is checked first,
        // so a caller learns nothing of the admin-only filters.
        let p = assert_problem(app.get(&format!("{LOG}?bogus=1"), role).send().await.unwrap(), 403).await;
        assert!(!p["detail"].as_str().unwrap().contains("actor_sub"), "{p}");
        assert_problem(app.get(&format!("{LOG}/not-a-uuid"), role).send().await.unwrap(), 403).await;
        let export = app.get("/api/v1/stakeholders/not-a-uuid/export", role).send().await.unwrap();
        assert_eq!(export.status(), if role == Role::Manager { 400 } else { 403 }, "{role:?}");
        let erase = app.req(reqwest::Method::POST, "/api/v1/stakeholders/not-a-uuid/erase", role).send().await.unwrap();
        assert_problem(erase, 403).await;
    }
    for path in [format!("{LOG}?bogus=1"), format!("{LOG}/not-a-uuid"), "/api/v1/stakeholders/not-a-uuid/export".into()]
    {
        assert_problem(app.get(&path, Role::Admin).send().await.unwrap(), 400).await;
    }
    let res = app.client.get(app.url(LOG)).send().await.unwrap();
    assert_problem(res, 401).await;
});

api_test!(events_carry_the_past_tense_vocabulary_newest_first, |app| {
    let (sid, offer, complaint) = history(&app).await;
    let (_, _, body) = page(&app, LOG, Role::Admin, &[]).await;
    assert_eq!(
        actions(&body),
        ["complaint.acknowledged", "complaint.opened", "offer.sent", "offer.created", "stakeholder.created"]
    );
    let e = &body["data"][0];
    assert_eq!(e["category"], "change");
    assert_eq!(e["resource_type"], "complaint");
    assert_eq!(e["resource_id"], complaint.as_str());
    assert_eq!(e["stakeholder_id"], sid.as_str());
    assert_eq!(e["actor"], json!({"sub": "manager-user", "role": "manager", "partner_id": null}));
    assert_eq!(e["changed_fields"], json!(["status", "acknowledged_at"]));
    assert_eq!(e["metadata"], json!({}));
    let sent = &body["data"][2];
    assert_eq!((sent["resource_id"].as_str(), sent["actor"]["role"].as_str()), (Some(offer.as_str()), Some("agent")));
    let created = &body["data"][4];
    assert!(!created.to_string().contains("audit-log@example.com"), "names, never values: {created}");

    // One event by id: the same document.
    let id = e["id"].as_str().unwrap();
    let res = app.get(&format!("{LOG}/{id}"), Role::Admin).send().await.unwrap();
    let (status, _, one) = parts(res).await;
    assert_eq!(status, 200);
    assert_eq!(&one, e);
    assert_problem(app.get(&format!("{LOG}/{}", uuid::Uuid::now_v7()), Role::Admin).send().await.unwrap(), 404).await;
    assert_problem(app.get(&format!("{LOG}/not-a-uuid"), Role::Admin).send().await.unwrap(), 400).await;
});

api_test!(every_filter_narrows_the_log, |app| {
    let (sid, offer, complaint) = history(&app).await;
    let other = app.create_stakeholder(json!({})).await;
    let other = id_of(&other);
    let list = |query: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            actions(&page(app, LOG, Role::Admin, &q).await.2)
        }
    };
    assert_eq!(list(vec![("action", "offer.sent".into())]).await, ["offer.sent"]);
    assert_eq!(list(vec![("action", "offer.*".into())]).await, ["offer.sent", "offer.created"]);
    assert_eq!(
        list(vec![("action", "offer.sent,complaint.*".into())]).await,
        ["complaint.acknowledged", "complaint.opened", "offer.sent"]
    );
    // The stakeholder's own events and those of its records; not the other stakeholder's.
    assert_eq!(list(vec![("stakeholder_id", sid.clone())]).await.len(), 5);
    assert_eq!(list(vec![("stakeholder_id", other.clone())]).await, ["stakeholder.created"]);
    assert_eq!(list(vec![("resource_id", offer.clone())]).await, ["offer.sent", "offer.created"]);
    assert_eq!(list(vec![("resource_type", "complaint".into())]).await, ["complaint.acknowledged", "complaint.opened"]);
    assert_eq!(list(vec![("actor_role", "agent".into())]).await, ["offer.sent", "offer.created"]);
    assert_eq!(list(vec![("actor_sub", "manager-user".into())]).await.len(), 2);
    assert_eq!(list(vec![("request_id", "req-complaint-1".into())]).await, ["complaint.opened"]);
    assert_eq!(list(vec![("category", "change".into()), ("resource_id", complaint.clone())]).await.len(), 2);
    assert!(list(vec![("category", "privacy".into())]).await.is_empty());

    // Time bounds: from is inclusive, to exclusive.
    let (_, _, all) = page(&app, LOG, Role::Admin, &[("resource_id", &offer)]).await;
    let sent_at = all["data"][0]["occurred_at"].as_str().unwrap().to_owned();
    assert_eq!(list(vec![("resource_id", offer.clone()), ("occurred_after", sent_at.clone())]).await, ["offer.sent"]);
    assert_eq!(list(vec![("resource_id", offer.clone()), ("occurred_before", sent_at)]).await, ["offer.created"]);
});

api_test!(the_log_pages_by_time_both_ways, |app| {
    history(&app).await;
    let (first, next, _) = page(&app, LOG, Role::Admin, &[("limit", "2"), ("action", "offer.*,complaint.*")]).await;
    assert_eq!(first.len(), 2);
    let cursor = next.expect("a second page");
    let (second, next, _) =
        page(&app, LOG, Role::Admin, &[("limit", "2"), ("action", "offer.*,complaint.*"), ("cursor", &cursor)]).await;
    assert_eq!(second.len(), 2);
    assert!(next.is_none());
    let (ascending, _, body) =
        page(&app, LOG, Role::Admin, &[("sort", "occurred_at"), ("action", "offer.*,complaint.*")]).await;
    let mut newest_first: Vec<String> = first.into_iter().chain(second).collect();
    newest_first.reverse();
    assert_eq!(ascending, newest_first);
    assert_eq!(actions(&body)[0], "offer.created");
    // A cursor is bound to its sort.
    let res = app.get(&format!("{LOG}?sort=occurred_at&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(bad_queries_are_400, |app| {
    for query in [
        "action=offer.send",
        "action=nosuch.*",
        "action=offer.sent,",
        "category=gossip",
        "actor_role=root",
        "resource_id=x",
        "occurred_after=yesterday",
        "sort=-action",
        "cursor=garbage",
        "limit=0",
        "colour=blue",
    ] {
        let res = app.get(&format!("{LOG}?{query}"), Role::Admin).send().await.unwrap();
        let body = assert_problem(res, 400).await;
        assert!(!body["detail"].as_str().unwrap().contains("blue"), "{query}: {body}");
    }
});

api_test!(reading_the_log_is_logged_with_filter_names_only, |app| {
    history(&app).await;
    page(&app, LOG, Role::Admin, &[("actor_sub", "manager-user"), ("category", "change")]).await;
    let (_, _, body) = page(&app, LOG, Role::Admin, &[("action", "audit_events.listed")]).await;
    assert_eq!(actions(&body), ["audit_events.listed"], "a call's own entry is written after its page is read");
    let e = &body["data"][0];
    assert_eq!(e["category"], "access");
    assert_eq!(e["actor"]["role"], "admin");
    assert_eq!(e["resource_type"], "audit_event");
    assert_eq!(e["stakeholder_id"], Value::Null);
    assert_eq!(e["metadata"], json!({"filters": ["category", "actor_sub"]}));
    assert!(!e.to_string().contains("manager-user"), "filter values are never recorded: {e}");
    let (_, _, body) = page(&app, LOG, Role::Admin, &[("category", "access")]).await;
    assert_eq!(actions(&body), ["audit_events.listed", "audit_events.listed"]);
});

api_test!(the_migration_renames_stored_actions_and_fills_the_new_columns, |app| {
    let (sid, offer, complaint) = history(&app).await;
    // Down (old names, no stakeholder_id) and up again: what a database from before sees.
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    crm_api::db::revert_through(&mut conn, "2026-12-04-000008").unwrap();
    let old: Vec<String> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT action FROM audit_events ORDER BY action").into_boxed(),
        &mut *conn,
    )
    .map(|rows: Vec<ActionRow>| rows.into_iter().map(|r| r.action).collect())
    .unwrap();
    assert!(old.contains(&"offer.send".to_owned()) && old.contains(&"complaint.acknowledge".to_owned()), "{old:?}");
    crm_api::db::migrate(&mut conn).unwrap();

    let (_, _, body) = page(&app, LOG, Role::Admin, &[("stakeholder_id", &sid)]).await;
    assert_eq!(
        actions(&body),
        ["complaint.acknowledged", "complaint.opened", "offer.sent", "offer.created", "stakeholder.created"]
    );
    for e in body["data"].as_array().unwrap() {
        assert_eq!(e["category"], "change");
        assert_eq!(e["metadata"], json!({}));
    }
    let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [complaint.as_str(), complaint.as_str(), offer.as_str(), offer.as_str(), sid.as_str()]);
});

#[derive(diesel::QueryableByName)]
struct ActionRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
}

api_test!(serve_purges_events_past_the_retention_at_start, |app| {
    use crm_api::db::schema::audit_events as ae;
    use diesel::prelude::*;
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    let insert = |conn: &mut crm_api::db::DbConnection, days: i64| {
        let at = crm_api::db::types::truncate(chrono::Utc::now() - chrono::Duration::days(days));
        diesel::insert_into(ae::table)
            .values((
                ae::id.eq(crm_api::db::DbUuid(uuid::Uuid::now_v7())),
                ae::occurred_at.eq(crm_api::db::DbTimestamp(at)),
                ae::actor_sub.eq("old-admin"),
                ae::actor_role.eq("admin"),
                ae::action.eq("stakeholder.updated"),
                ae::resource_type.eq("stakeholder"),
                ae::resource_id.eq(crm_api::db::DbUuid(uuid::Uuid::now_v7())),
                ae::request_id.eq(format!("aged-{days}")),
            ))
            .execute(conn)
            .unwrap();
    };
    // All within the default 730 days: the running app's own purge at start
    // (which may run after these inserts) keeps them.
    for days in [700, 31, 29, 1] {
        insert(&mut conn, days);
    }
    let left = |conn: &mut crm_api::db::DbConnection| -> Vec<String> {
        ae::table
            .filter(ae::actor_sub.eq("old-admin"))
            .order(ae::occurred_at.asc())
            .select(ae::request_id.assume_not_null())
            .load(conn)
            .unwrap()
    };
    assert_eq!(left(&mut conn).len(), 4, "the app already running keeps the default retention (730 days)");
    // Another replica over the same database, keeping 30 days, purges at start.
    let replica = TestApp::spawn_with(
        app.backend,
        &[("CRM_DATABASE_URL", app.database_url.as_str()), ("CRM_AUDIT_RETENTION_DAYS", "30")],
    )
    .await;
    for _ in 0..100 {
        if left(&mut conn).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left(&mut conn), ["aged-29", "aged-1"]);
    drop(replica);
});

api_test!(the_retention_must_be_a_positive_number_of_days, |app| {
    drop(app);
    for bad in ["0", "-3", "soon"] {
        let vars = std::collections::HashMap::from([("CRM_AUDIT_RETENTION_DAYS", bad)]);
        assert!(crm_api::config::Settings::from_lookup(|k| vars.get(k).map(|v| v.to_string())).is_err(), "{bad}");
    }
});
