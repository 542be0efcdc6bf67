//! Writes to an erased stakeholder and to its records are 409 with the
//! problem type `erased` (contracts/privacy.md); reads still answer. The
//! stakeholder is marked erased in the database here: the erasure endpoint
//! itself is tested with it.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const ERASED: &str = "https://crm.example/problems/erased";

fn mark_erased(app: &TestApp, id: &str) {
    use crm_api::db::schema::stakeholders as s;
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    let now = crm_api::db::DbTimestamp(crm_api::db::types::now());
    let id = crm_api::db::DbUuid(uuid::Uuid::parse_str(id).unwrap());
    let n = diesel::update(s::table.filter(s::id.eq(id))).set(s::erased_at.eq(Some(now))).execute(&mut *conn).unwrap();
    assert_eq!(n, 1);
}

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let res = app.post(path, Role::Admin, &body).send().await.unwrap();
    let (status, _, created) = parts(res).await;
    assert_eq!(status, 201, "{path}: {created}");
    id_of(&created)
}

api_test!(no_write_reaches_an_erased_stakeholder_or_its_records, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let sid = id_of(&s);
    let interaction = created(
        &app,
        "/api/v1/interactions",
        json!({"stakeholder_id": sid, "channel": "email", "direction": "inbound", "type": "contact"}),
    )
    .await;
    let offer = created(
        &app,
        "/api/v1/offers",
        json!({"stakeholder_id": sid, "title": "Gold", "price": {"amount_minor": 5, "currency": "IDR"}}),
    )
    .await;
    let complaint = created(&app, "/api/v1/complaints",
        json!({"stakeholder_id": sid, "subject": "Late", "description": "Two weeks", "category": "delivery", "severity": "low"})).await;
    mark_erased(&app, &sid);

    let writes: Vec<(Method, String, Value)> = vec![
        (Method::PATCH, format!("/api/v1/stakeholders/{sid}"), json!({"segment": "gold"})),
        (Method::DELETE, format!("/api/v1/stakeholders/{sid}"), Value::Null),
        (Method::POST, format!("/api/v1/stakeholders/{sid}/restore"), Value::Null),
        (
            Method::POST,
            format!("/api/v1/stakeholders/{sid}/consents"),
            json!({"changes": [{"consent": "profiling", "granted": true}]}),
        ),
        (
            Method::POST,
            "/api/v1/interactions".into(),
            json!({"stakeholder_id": sid, "channel": "email", "direction": "inbound", "type": "contact"}),
        ),
        (
            Method::POST,
            "/api/v1/offers".into(),
            json!({"stakeholder_id": sid, "title": "Gold", "price": {"amount_minor": 5, "currency": "IDR"}}),
        ),
        (
            Method::POST,
            "/api/v1/complaints".into(),
            json!({"stakeholder_id": sid, "subject": "Late", "description": "x", "category": "delivery", "severity": "low"}),
        ),
        (Method::PATCH, format!("/api/v1/interactions/{interaction}"), json!({"notes": "more"})),
        (Method::DELETE, format!("/api/v1/interactions/{interaction}"), Value::Null),
        (Method::PATCH, format!("/api/v1/offers/{offer}"), json!({"title": "Platinum"})),
        (Method::POST, format!("/api/v1/offers/{offer}/send"), Value::Null),
        (Method::DELETE, format!("/api/v1/offers/{offer}"), Value::Null),
        (Method::PATCH, format!("/api/v1/complaints/{complaint}"), json!({"subject": "Later"})),
        (Method::POST, format!("/api/v1/complaints/{complaint}/acknowledge"), Value::Null),
        (Method::POST, format!("/api/v1/complaints/{complaint}/assign"), json!({"assignee_id": "agent-7"})),
    ];
    for (method, path, body) in writes {
        let mut req = app.req(method.clone(), &path, Role::Admin);
        if !body.is_null() {
            req = req.json(&body);
        }
        let problem = assert_problem(req.send().await.unwrap(), 409).await;
        assert_eq!(problem["type"], ERASED, "{method} {path}: {problem}");
    }
    // Reads answer, and nothing changed.
    for path in [
        format!("/api/v1/stakeholders/{sid}"),
        format!("/api/v1/interactions/{interaction}"),
        format!("/api/v1/offers/{offer}"),
        format!("/api/v1/complaints/{complaint}"),
    ] {
        let body = fetch(&app, &path, Role::Admin).await;
        assert_eq!(body["version"], 1, "{path}: {body}");
    }
});
