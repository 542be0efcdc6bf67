//! Batch writes (contracts/integration.md), through
//! `POST /api/v1/interactions/batch/create`: limits, per-item statuses in
//! input order, atomic all-or-nothing, replays, `Prefer: return=minimal`,
//! partner scope per item.

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const BATCH: &str = "/api/v1/interactions/batch/create";

fn contact(stakeholder: &Value) -> Value {
    json!({"stakeholder_id": stakeholder, "channel": "phone", "direction": "outbound", "type": "contact"})
}

/// How many interactions exist (every page).
async fn count(app: &TestApp) -> usize {
    let mut n = 0;
    let mut cursor = String::new();
    loop {
        let url = format!("/api/v1/interactions?limit=200&cursor={}", enc(&cursor));
        let page = fetch(app, &url, Role::Admin).await;
        n += page["data"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return n,
        }
    }
}

api_test!(a_thousand_items_are_taken_and_answered_in_order_more_or_none_are_422, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let inputs: Vec<Value> =
        (0..1000).map(|i| json!({"stakeholder_id": s, "channel": "web", "direction": "inbound", "type": "note", "subject": format!("n{i}")})).collect();
    let (status, _, body) = parts(app.post(BATCH, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{}", &body.to_string()[..300.min(body.to_string().len())]);
    assert_eq!(
        body["summary"],
        json!({"total": 1000, "succeeded": 1000, "failed": 0, "created": 1000, "updated": 0, "unchanged": 0})
    );
    let results = body["results"].as_array().unwrap();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            (r["index"].as_u64(), r["status"].as_u64(), r["operation"].as_str()),
            (Some(i as u64), Some(201), Some("created"))
        );
        assert_eq!(r["data"]["subject"], format!("n{i}"));
        assert_eq!(r["data"]["id"], r["id"]);
        assert_eq!(r["error"], Value::Null);
    }
    assert_eq!(count(&app).await, 1000);
    let too_many: Vec<Value> = (0..1001).map(|_| contact(&s)).collect();
    for inputs in [json!(too_many), json!([])] {
        let res = app.post(BATCH, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap();
        assert_422(res, "inputs", Some("length")).await;
    }
    assert_eq!(count(&app).await, 1000, "nothing written by a refused batch");
});

api_test!(the_envelope_is_checked_before_any_item, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let res = app.post(BATCH, Role::Agent, &json!([contact(&s)])).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.post(BATCH, Role::Agent, &json!({"inputs": [contact(&s)], "colour": 1})).send().await.unwrap();
    assert_422(res, "colour", Some("unknown_field")).await;
    let res = app.post(BATCH, Role::Agent, &json!({"inputs": {"a": 1}})).send().await.unwrap();
    assert_422(res, "inputs", Some("type")).await;
    let res = app.post(BATCH, Role::Agent, &json!({"items": []})).send().await.unwrap();
    assert_422_any(res).await;
    let res = app
        .req(reqwest::Method::POST, BATCH, Role::Agent)
        .header("content-type", "application/json")
        .body("{\"inputs\": [")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app.post(BATCH, Role::Analyst, &json!({"inputs": [contact(&s)]})).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_eq!(count(&app).await, 0);
});

api_test!(a_mixed_batch_answers_each_item_as_the_single_call_and_keeps_the_good_ones, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let erased = app.create_stakeholder(json!({})).await["id"].clone();
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", erased.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "other"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    let inputs = json!([
        contact(&s),
        {"stakeholder_id": s, "channel": "pigeon", "direction": "outbound", "type": "contact"},
        contact(&ghost),
        contact(&erased),
        "not an object",
        contact(&s),
    ]);
    let (status, _, body) = parts(app.post(BATCH, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap()).await;
    assert_eq!(status, 207, "{body}");
    let statuses: Vec<u64> =
        body["results"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 422, 404, 409, 422, 201]);
    assert_eq!(body["summary"]["succeeded"], 2);
    assert_eq!(body["summary"]["failed"], 4);
    let r = &body["results"];
    assert_eq!(r[1]["error"]["errors"][0]["field"], "channel", "fields relative to the item");
    assert_eq!(r[3]["error"]["type"], "https://crm.example/problems/erased");
    assert!(r[2]["error"]["request_id"].is_string());
    assert_eq!(count(&app).await, 2, "the others are committed");
    // Each committed item is the same as through the single call.
    let one = fetch(&app, &format!("/api/v1/interactions/{}", r[0]["id"].as_str().unwrap()), Role::Agent).await;
    assert_eq!(one, r[0]["data"]);
    // All failing is still 207.
    let (status, _, _) =
        parts(app.post(BATCH, Role::Agent, &json!({"inputs": [contact(&ghost)]})).send().await.unwrap()).await;
    assert_eq!(status, 207);
});

api_test!(an_atomic_batch_writes_all_or_nothing_and_lists_every_failure, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    let inputs = json!([contact(&s), {"stakeholder_id": s, "channel": "pigeon", "direction": "outbound", "type": "contact"}, contact(&ghost)]);
    let res = app.post(BATCH, Role::Agent, &json!({"inputs": inputs, "atomic": true})).send().await.unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["type"], "https://crm.example/problems/batch-failed");
    let listed: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        listed,
        [("inputs[1].channel".to_owned(), "enum".to_owned()), ("inputs[2]".to_owned(), "not_found".to_owned())]
    );
    assert_eq!(count(&app).await, 0, "nothing written");
    let log = fetch(&app, "/api/v1/audit-events?resource_type=interaction", Role::Admin).await;
    assert_eq!(log["data"], json!([]), "no events either");
    let (status, _, body) = parts(
        app.post(BATCH, Role::Agent, &json!({"inputs": [contact(&s), contact(&s)], "atomic": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), body["summary"]["created"].as_u64()), (200, Some(2)));
});

api_test!(a_keyed_batch_replays_and_minimal_answers_carry_no_data, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let body = json!({"inputs": [contact(&s), contact(&s)]});
    let send = || app.post(BATCH, Role::Agent, &body).header("Idempotency-Key", "batch-1").send();
    let (status, _, first) = parts(send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    let res = send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let (status, _, again) = parts(res).await;
    assert_eq!((status.as_u16(), &again), (200, &first));
    let other = json!({"inputs": [contact(&s)]});
    let res = app.post(BATCH, Role::Agent, &other).header("Idempotency-Key", "batch-1").send().await.unwrap();
    assert_problem(res, 422).await;
    assert_eq!(count(&app).await, 2);
    let res = app.post(BATCH, Role::Agent, &body).header("Prefer", "return=minimal").send().await.unwrap();
    assert_eq!(res.headers()["preference-applied"], "return=minimal");
    let (_, _, minimal) = parts(res).await;
    let r = &minimal["results"][0];
    assert!(r["id"].is_string() && r["version"] == 1 && r.get("data").is_none_or(Value::is_null), "{r}");
});

api_test!(a_partner_batch_can_only_file_under_its_own_stakeholders, |app| {
    let mine = app.create_stakeholder(json!({"partner_id": PARTNER_A})).await["id"].clone();
    let theirs = app.create_stakeholder(json!({"partner_id": PARTNER_B})).await["id"].clone();
    let (status, _, body) = parts(
        app.post(BATCH, Role::Partner, &json!({"inputs": [contact(&mine), contact(&theirs)]})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 207);
    let statuses: Vec<u64> =
        body["results"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 404]);
    assert!(!body.to_string().contains(theirs.as_str().unwrap()) || body["results"][1]["data"].is_null());
});
