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
    assert_eq!(statuses, [201, 422, 404, 409, 400, 201], "a non-object item is 400, as the single call");
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

api_test!(a_stakeholder_batch_answers_201_422_409_403_per_item_and_writes_their_histories, |app| {
    app.create_stakeholder(json!({"email": "taken@example.com"})).await;
    let person = |name: &str, extra: Value| {
        let mut v = json!({"kind": "customer", "entity_type": "person", "display_name": name});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let inputs = json!([
        person("Ayu", json!({"email": "ayu@example.com", "lifecycle_stage": "lead"})),
        person("Ayu again", json!({"email": " AYU@example.com"})),
        person("Taken", json!({"email": "taken@example.com"})),
        person("Rich", json!({"income_band": "high"})),
        person("", json!({})),
    ]);
    let url = "/api/v1/stakeholders/batch/create";
    let (status, _, body) = parts(app.post(url, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap()).await;
    assert_eq!(status, 207, "{body}");
    let r = body["results"].as_array().unwrap();
    let statuses: Vec<u64> = r.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 422, 409, 403, 422]);
    assert_eq!(r[1]["error"]["errors"][0]["code"], "duplicate_in_batch");
    assert_eq!(r[4]["error"]["errors"][0]["field"], "display_name");
    // As the single call: the stage history is written, the record reads back the same.
    let id = r[0]["id"].as_str().unwrap();
    assert_eq!(fetch(&app, &format!("/api/v1/stakeholders/{id}"), Role::Agent).await, r[0]["data"]);
    let export = fetch(&app, &format!("/api/v1/stakeholders/{id}/export"), Role::Admin).await;
    assert_eq!(export["lifecycle_history"][0]["to_stage"], "lead");
    let log =
        fetch(&app, &format!("/api/v1/audit-events?stakeholder_id={id}&action=stakeholder.created"), Role::Admin).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1);
    // Atomic: every failure listed, nothing written.
    let inputs = json!([
        person("New", json!({"email": "new@example.com"})),
        person("New2", json!({"email": "NEW@example.com"})),
        person("T", json!({"email": "taken@example.com"}))
    ]);
    let res = app.post(url, Role::Agent, &json!({"inputs": inputs, "atomic": true})).send().await.unwrap();
    let problem = assert_problem(res, 422).await;
    let listed: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        listed,
        [("inputs[1]".to_owned(), "duplicate_in_batch".to_owned()), ("inputs[2]".to_owned(), "conflict".to_owned())]
    );
    let page = fetch(&app, "/api/v1/stakeholders?q=new%40example.com", Role::Admin).await;
    assert_eq!(page["data"], json!([]));
});

api_test!(offers_and_complaints_are_batched_the_same_way, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    let offer = |sid: &Value| json!({"stakeholder_id": sid, "title": "Upgrade", "price": {"amount_minor": 100, "currency": "IDR"}});
    let complaint = |sid: &Value| json!({"stakeholder_id": sid, "subject": "Late", "description": "Two weeks", "category": "delivery", "severity": "low"});
    for (url, inputs, single) in [
        ("/api/v1/offers/batch/create", json!([offer(&s), offer(&ghost)]), "/api/v1/offers"),
        ("/api/v1/complaints/batch/create", json!([complaint(&s), complaint(&ghost)]), "/api/v1/complaints"),
    ] {
        let (status, _, body) =
            parts(app.post(url, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap()).await;
        assert_eq!(status, 207, "{url}: {body}");
        let r = &body["results"];
        assert_eq!((r[0]["status"].as_u64(), r[1]["status"].as_u64()), (Some(201), Some(404)), "{url}");
        let one = fetch(&app, &format!("{single}/{}", r[0]["id"].as_str().unwrap()), Role::Agent).await;
        assert_eq!(one["id"], r[0]["data"]["id"]);
        assert_eq!(one["version"], 1);
    }
    // Partners create complaints (not offers), per item as the single call.
    let res =
        app.post("/api/v1/offers/batch/create", Role::Partner, &json!({"inputs": [offer(&s)]})).send().await.unwrap();
    assert_problem(res, 403).await;
});

api_test!(a_batch_update_answers_200_412_404_422_409_per_item_as_patch_would, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let (_, _, made) =
            parts(app.post("/api/v1/interactions", Role::Agent, &contact(&s)).send().await.unwrap()).await;
        ids.push(made["id"].clone());
    }
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    let inputs = json!([
        {"id": ids[0], "if_match": "\"1\"", "patch": {"subject": "changed"}},
        {"id": ids[1], "patch": {}},
        {"id": ids[2], "if_match": "\"7\"", "patch": {"subject": "stale"}},
        {"id": ghost, "patch": {"subject": "x"}},
        {"id": ids[3], "patch": {"channel": "pigeon"}},
        {"id": format!("urn:uuid:{}", ids[0].as_str().unwrap().to_uppercase()), "patch": {"subject": "twice"}},
        {"id": uuid::Uuid::now_v7().to_string()},
    ]);
    let url = "/api/v1/interactions/batch/update";
    let (status, _, body) = parts(app.post(url, Role::Agent, &json!({"inputs": inputs})).send().await.unwrap()).await;
    assert_eq!(status, 207, "{body}");
    let r = body["results"].as_array().unwrap();
    let statuses: Vec<u64> = r.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 412, 404, 422, 422, 422]);
    assert_eq!((r[0]["operation"].as_str(), r[0]["version"].as_u64()), (Some("updated"), Some(2)));
    assert_eq!((r[1]["operation"].as_str(), r[1]["version"].as_u64()), (Some("unchanged"), Some(1)));
    assert_eq!(r[4]["error"]["errors"][0]["field"], "channel");
    assert_eq!(r[5]["error"]["errors"][0]["code"], "duplicate_in_batch");
    assert_eq!(r[6]["error"]["errors"][0]["field"], "patch");
    assert_eq!(
        body["summary"],
        json!({"total": 7, "succeeded": 2, "failed": 5, "created": 0, "updated": 1, "unchanged": 1})
    );
    let one = fetch(&app, &format!("/api/v1/interactions/{}", ids[0].as_str().unwrap()), Role::Agent).await;
    assert_eq!((one["subject"].as_str(), &one), (Some("changed"), &r[0]["data"]));
    assert_eq!(
        fetch(&app, &format!("/api/v1/interactions/{}", ids[2].as_str().unwrap()), Role::Agent).await["version"],
        1
    );
    // Atomic: nothing changes when one item fails.
    let inputs = json!([{"id": ids[1], "patch": {"subject": "a"}}, {"id": ghost, "patch": {}}]);
    let res = app.post(url, Role::Agent, &json!({"inputs": inputs, "atomic": true})).send().await.unwrap();
    assert_problem(res, 422).await;
    assert_eq!(
        fetch(&app, &format!("/api/v1/interactions/{}", ids[1].as_str().unwrap()), Role::Agent).await["subject"],
        Value::Null
    );
    // Offers: only drafts are edited (409 for a sent one); complaints too go through their PATCH.
    let offer = json!({"stakeholder_id": s, "title": "Upgrade", "price": {"amount_minor": 100, "currency": "IDR"}});
    let (_, _, draft) = parts(app.post("/api/v1/offers", Role::Agent, &offer).send().await.unwrap()).await;
    let (_, _, sent) = parts(app.post("/api/v1/offers", Role::Agent, &offer).send().await.unwrap()).await;
    let res = app
        .post(&format!("/api/v1/offers/{}/send", sent["id"].as_str().unwrap()), Role::Agent, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let inputs =
        json!([{"id": draft["id"], "patch": {"title": "Better"}}, {"id": sent["id"], "patch": {"title": "No"}}]);
    let (_, _, body) =
        parts(app.post("/api/v1/offers/batch/update", Role::Agent, &json!({"inputs": inputs})).send().await.unwrap())
            .await;
    let statuses: Vec<u64> =
        body["results"].as_array().unwrap().iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 409]);
    let complaint = json!({"stakeholder_id": s, "subject": "Late", "description": "Two weeks", "category": "delivery", "severity": "low"});
    let (_, _, c) = parts(app.post("/api/v1/complaints", Role::Agent, &complaint).send().await.unwrap()).await;
    let inputs = json!([{"id": c["id"], "patch": {"severity": "high"}}]);
    let (status, _, body) = parts(
        app.post("/api/v1/complaints/batch/update", Role::Agent, &json!({"inputs": inputs})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), body["results"][0]["data"]["severity"].as_str()), (200, Some("high")));
    // Analysts may not update at all.
    let res = app.post(url, Role::Analyst, &json!({"inputs": [{"id": ids[0], "patch": {}}]})).send().await.unwrap();
    assert_problem(res, 403).await;
});

api_test!(upserting_twice_makes_no_duplicates_and_reports_created_unchanged_updated, |app| {
    let url = "/api/v1/stakeholders/batch/upsert";
    let people = json!([
        {"kind": "customer", "entity_type": "person", "display_name": "Siti", "email": "siti@example.com"},
        {"kind": "customer", "entity_type": "person", "display_name": "Budi", "email": "budi@example.com"},
    ]);
    let ops = |body: &Value| -> Vec<(u64, String)> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["status"].as_u64().unwrap(), r["operation"].as_str().unwrap_or("").to_owned()))
            .collect()
    };
    let (status, _, first) =
        parts(app.post(url, Role::Agent, &json!({"inputs": people, "id_property": "email"})).send().await.unwrap())
            .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(ops(&first), [(201, "created".to_owned()), (201, "created".to_owned())]);
    let (_, _, again) = parts(app.post(url, Role::Agent, &json!({"inputs": people})).send().await.unwrap()).await;
    assert_eq!(ops(&again), [(200, "unchanged".to_owned()), (200, "unchanged".to_owned())]);
    assert_eq!(again["results"][0]["id"], first["results"][0]["id"]);
    assert_eq!(again["results"][0]["version"], 1, "no new version");
    let changed = json!([{"display_name": "Siti Rahayu", "email": "SITI@example.com", "kind": "customer", "entity_type": "person"}]);
    let (_, _, third) = parts(app.post(url, Role::Agent, &json!({"inputs": changed})).send().await.unwrap()).await;
    assert_eq!(ops(&third), [(200, "updated".to_owned())]);
    assert_eq!(third["results"][0]["data"]["display_name"], "Siti Rahayu");
    let page = fetch(&app, "/api/v1/stakeholders?limit=200", Role::Admin).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "no duplicates");
    // The key is required; only `email` is a key; analysts may not upsert.
    let res = app
        .post(
            url,
            Role::Agent,
            &json!({"inputs": [{"kind": "customer", "entity_type": "person", "display_name": "X"}]}),
        )
        .send()
        .await
        .unwrap();
    let (_, _, body) = parts(res).await;
    assert_eq!(body["results"][0]["error"]["errors"][0]["field"], "email");
    let res = app.post(url, Role::Agent, &json!({"inputs": people, "id_property": "phone"})).send().await.unwrap();
    assert_422(res, "id_property", Some("enum")).await;
    assert_problem(app.post(url, Role::Analyst, &json!({"inputs": people})).send().await.unwrap(), 403).await;
    // A batch update of stakeholders: sensitive fields are the agent's 403, per item.
    let id = &first["results"][1]["id"];
    let inputs = json!([{"id": id, "patch": {"segment": "gold"}}, {"id": id.as_str().unwrap().to_uppercase(), "patch": {"income_band": "high"}}]);
    let (_, _, body) = parts(
        app.post("/api/v1/stakeholders/batch/update", Role::Agent, &json!({"inputs": inputs})).send().await.unwrap(),
    )
    .await;
    let statuses: Vec<u64> =
        body["results"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 422], "the same id in another case is a duplicate: {body}");
    let inputs = json!([{"id": id, "patch": {"income_band": "high"}}]);
    let (_, _, body) = parts(
        app.post("/api/v1/stakeholders/batch/update", Role::Agent, &json!({"inputs": inputs})).send().await.unwrap(),
    )
    .await;
    assert_eq!(body["results"][0]["status"], 403);
});

api_test!(erasing_a_stakeholder_rewrites_its_items_in_a_stored_batch_answer, |app| {
    let subject = app.create_stakeholder(json!({})).await["id"].clone();
    let other = app.create_stakeholder(json!({})).await["id"].clone();
    let mut secret = contact(&subject);
    secret["notes"] = json!("SECRET note");
    let body = json!({"inputs": [secret, contact(&other)]});
    let send = || app.post(BATCH, Role::Agent, &body).header("Idempotency-Key", "batch-erase").send();
    let (status, _, first) = parts(send().await.unwrap()).await;
    assert_eq!(status, 200);
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", subject.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "objection"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let (status, _, again) = parts(res).await;
    assert_eq!(status, 207, "{again}");
    assert!(!again.to_string().contains("SECRET"), "{again}");
    let r = &again["results"];
    assert_eq!(
        (r[0]["status"].as_u64(), &r[0]["error"]["type"]),
        (Some(410), &json!("https://crm.example/problems/erased"))
    );
    assert_eq!((r[0]["index"].as_u64(), &r[0]["data"]), (Some(0), &Value::Null));
    assert_eq!(r[1], first["results"][1], "the other item stays");
    assert_eq!(again["summary"]["succeeded"], 1);
    assert_eq!(again["summary"]["failed"], 1);
});

api_test!(concurrent_batches_sharing_e_mails_never_deadlock_or_duplicate, |app| {
    // 8 batches of 30 stakeholders drawn from 40 shared e-mails, in different orders.
    let reqs: Vec<_> = (0..8u64)
        .map(|b| {
            let inputs: Vec<Value> = (0..30u64)
                .map(|i| {
                    let n = (i * 7 + b * 11) % 40;
                    json!({"kind": "customer", "entity_type": "person", "display_name": format!("P{n}"),
                           "email": format!("shared{n}@example.com")})
                })
                .collect();
            app.post("/api/v1/stakeholders/batch/upsert", Role::Agent, &json!({"inputs": inputs})).send()
        })
        .collect();
    for r in futures_util::future::join_all(reqs).await {
        let (status, _, body) = parts(r.unwrap()).await;
        assert!(status == 200 || status == 207, "{status}: {body}");
        for item in body["results"].as_array().unwrap() {
            let st = item["status"].as_u64().unwrap();
            assert!(matches!(st, 200 | 201 | 422), "{item}");
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = fetch(&app, &format!("/api/v1/stakeholders?limit=200&cursor={}", enc(&cursor)), Role::Admin).await;
        for s in page["data"].as_array().unwrap() {
            assert!(seen.insert(s["email"].as_str().unwrap().to_owned()), "a duplicate: {s}");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert!(seen.len() <= 40);
});
