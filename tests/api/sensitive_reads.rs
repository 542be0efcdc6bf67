//! Audited reads of sensitive data (contracts/privacy.md): every response
//! that shows a stakeholder's `sensitive` or `income_band` records
//! `stakeholder.sensitive_viewed` per stakeholder before it is sent; HEAD and
//! 304 record nothing; when the record cannot be written, 503 and no data.

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const SENSITIVE: &str = "diabetes-type-2";

/// The `sensitive_viewed` events so far, oldest first: (stakeholder id, metadata).
async fn views(app: &TestApp) -> Vec<(String, Value)> {
    let (_, _, body) = page(
        app,
        "/api/v1/audit-events",
        Role::Admin,
        &[("action", "stakeholder.sensitive_viewed"), ("sort", "occurred_at"), ("limit", "200")],
    )
    .await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["category"], "access");
            assert_eq!(e["resource_id"], e["stakeholder_id"]);
            (e["stakeholder_id"].as_str().unwrap().to_owned(), e["metadata"].clone())
        })
        .collect()
}

async fn sensitive_stakeholder(app: &TestApp) -> String {
    let s = app
        .create_stakeholder(json!({"consents": {"sensitive_data": true}, "sensitive": {"health_notes": SENSITIVE},
                                  "income_band": "high"}))
        .await;
    id_of(&s)
}

api_test!(a_get_that_shows_sensitive_fields_is_recorded_and_one_that_does_not_is_not, |app| {
    let id = sensitive_stakeholder(&app).await;
    let plain = id_of(&app.create_stakeholder(json!({})).await);
    let creates = views(&app).await;
    assert_eq!(creates.len(), 1, "the create's own answer showed them: {creates:?}");
    assert_eq!(creates[0].1, json!({"fields": ["sensitive", "income_band"], "via": "write"}));

    let url = format!("/api/v1/stakeholders/{id}");
    let res = app.get(&url, Role::Manager).header("X-Request-Id", "read-1").send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sensitive"]["health_notes"], SENSITIVE);
    let seen = views(&app).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1], (id.clone(), json!({"fields": ["sensitive", "income_band"], "via": "get"})));

    // Roles that do not see them, a stakeholder without them, HEAD and 304: nothing.
    for role in [Role::Agent, Role::Analyst] {
        assert_eq!(app.get(&url, role).send().await.unwrap().status(), 200);
    }
    assert_eq!(app.get(&format!("/api/v1/stakeholders/{plain}"), Role::Admin).send().await.unwrap().status(), 200);
    let res = app.req(reqwest::Method::HEAD, &url, Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.get(&url, Role::Admin).header("If-None-Match", etag).send().await.unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(views(&app).await.len(), 2);
});

api_test!(a_list_records_each_stakeholder_it_shows_once, |app| {
    let a = sensitive_stakeholder(&app).await;
    let b = id_of(&app.create_stakeholder(json!({"income_band": "low"})).await);
    app.create_stakeholder(json!({})).await;
    let before = views(&app).await.len();
    let (ids, _, _) = page(&app, "/api/v1/stakeholders", Role::Admin, &[]).await;
    assert_eq!(ids.len(), 3);
    let seen = views(&app).await;
    let listed: Vec<&(String, Value)> = seen[before..].iter().collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&&(a.clone(), json!({"fields": ["sensitive", "income_band"], "via": "list"}))));
    assert!(listed.contains(&&(b.clone(), json!({"fields": ["income_band"], "via": "list"}))));
    // An agent's list shows none of it.
    page(&app, "/api/v1/stakeholders", Role::Agent, &[]).await;
    assert_eq!(views(&app).await.len(), seen.len());
});

api_test!(writes_and_replays_that_show_them_are_recorded, |app| {
    let id = sensitive_stakeholder(&app).await;
    let res = app
        .patch(&format!("/api/v1/stakeholders/{id}"), Role::Admin, &json!({"segment": "gold"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json!({"display_name": "Keyed", "kind": "customer", "entity_type": "person", "income_band": "low"});
    for _ in 0..2 {
        let res = app
            .post("/api/v1/stakeholders", Role::Admin, &body)
            .header("Idempotency-Key", "sens-1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let vias: Vec<Value> = views(&app).await.into_iter().map(|(_, m)| m["via"].clone()).collect();
    assert_eq!(vias, ["write", "write", "write", "write"], "create, PATCH, keyed create, its replay");
});

api_test!(when_the_read_cannot_be_recorded_nothing_is_shown, |app| {
    let id = sensitive_stakeholder(&app).await;
    refuse_audit_action(&app, "stakeholder.sensitive_viewed");
    for (method, url) in [
        (reqwest::Method::GET, format!("/api/v1/stakeholders/{id}")),
        (reqwest::Method::GET, "/api/v1/stakeholders".to_owned()),
    ] {
        let res = app.req(method, &url, Role::Admin).send().await.unwrap();
        let problem = assert_problem(res, 503).await;
        assert!(!problem.to_string().contains(SENSITIVE), "{problem}");
    }
    // A role that sees nothing sensitive is not affected.
    assert_eq!(app.get(&format!("/api/v1/stakeholders/{id}"), Role::Agent).send().await.unwrap().status(), 200);
});
