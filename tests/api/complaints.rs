//! Complaints: create (validation, SLA due dates, configurable targets, parent
//! stakeholder), the lifecycle actions (every transition and every refusal
//! over HTTP, action bodies, If-Match), merge-patch edits (severity recomputes
//! `due_at` from `created_at` while unresolved and not yet due), `sla_breached` on reads, lists and filters,
//! roles and partner isolation, lists (support queue, filters, keyset
//! pagination, the stakeholder's complaints), links from interactions and
//! `Idempotency-Key`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

const LIST: &str = "/api/v1/complaints";
const ACTIONS: [&str; 6] = ["acknowledge", "start", "resolve", "close", "reopen", "assign"];
const STATUSES: [&str; 5] = ["open", "acknowledged", "in_progress", "resolved", "closed"];

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn action_path(id: &Value, action: &str) -> String {
    format!("{}/{action}", path(id))
}

fn stakeholder_complaints(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/complaints", stakeholder.as_str().expect("id is a string"))
}

/// `due_at - created_at` of a complaint, exactly.
fn sla_of(c: &Value) -> Duration {
    parse_ts(&c["due_at"]) - parse_ts(&c["created_at"])
}

/// A valid complaint for `stakeholder` with `extra` merged in (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": stakeholder, "subject": "Parcel arrived damaged",
                          "description": "The box was crushed and two items are broken.",
                          "category": "delivery", "severity": "high"});
    let b = body.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra must be an object") {
        if v.is_null() {
            b.remove(k);
        } else {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// POSTs `body` as `role`, expects 201; returns the complaint.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates a complaint as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

fn resolution() -> Value {
    json!({"resolution": "Refunded the broken items"})
}

/// The body an action needs to succeed: `resolve` and `assign` take one, the others none.
fn body_for(action: &str) -> Option<Value> {
    match action {
        "resolve" => Some(resolution()),
        "assign" => Some(json!({"assignee_id": "agent-7"})),
        _ => None,
    }
}

/// POSTs an action with an empty body (no content type) as `role`.
async fn act_empty(app: &TestApp, c: &Value, action: &str, role: Role) -> Response {
    app.req(Method::POST, &action_path(&c["id"], action), role).send().await.unwrap()
}

/// POSTs an action with a JSON body as `role`.
async fn act_json(app: &TestApp, c: &Value, action: &str, role: Role, body: &Value) -> Response {
    app.post(&action_path(&c["id"], action), role, body).send().await.unwrap()
}

/// POSTs an action with the body it needs (see `body_for`) as `role`.
async fn act(app: &TestApp, c: &Value, action: &str, role: Role) -> Response {
    match body_for(action) {
        Some(body) => act_json(app, c, action, role, &body).await,
        None => act_empty(app, c, action, role).await,
    }
}

/// Expects 200 with an ETag matching the body's version; returns the body.
async fn ok_with_etag(res: Response, what: &str) -> Value {
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", body["version"]), "{what}: {body}");
    body
}

/// Runs an action as `role` (with the body it needs), expects 200; returns the complaint.
async fn act_ok(app: &TestApp, c: &Value, action: &str, role: Role) -> Value {
    ok_with_etag(act(app, c, action, role).await, &format!("{action} as {role}")).await
}

/// Runs an action as admin (with a valid body), expects a 409 whose detail names `current`.
async fn act_409(app: &TestApp, c: &Value, action: &str, current: &str) {
    let res = act(app, c, action, Role::Admin).await;
    let p = assert_problem(res, 409).await;
    assert_eq!(p["detail"], format!("cannot {action} a complaint whose status is {current}"), "{action}: {p}");
}

/// A fresh complaint (admin, severity `severity`) moved to `status` through the actions.
async fn in_status(app: &TestApp, sid: &Value, status: &str) -> Value {
    let mut c = create(app, sid, json!({"subject": format!("Complaint {status}")})).await;
    let steps: &[&str] = match status {
        "open" => &[],
        "acknowledged" => &["acknowledge"],
        "in_progress" => &["start"],
        "resolved" => &["start", "resolve"],
        "closed" => &["start", "resolve", "close"],
        other => panic!("unknown status {other}"),
    };
    for step in steps {
        c = act_ok(app, &c, step, Role::Admin).await;
    }
    assert_eq!(c["status"], status, "{c}");
    c
}

/// The ids of the first page of `url` with `query` as admin, as a set.
async fn id_set_of(app: &TestApp, url: &str, query: &[(&str, &str)]) -> HashSet<String> {
    ids(app, url, query).await.into_iter().collect()
}

/// How many complaints the admin sees in total.
async fn count_all(app: &TestApp) -> usize {
    ids(app, LIST, &[("limit", "200")]).await.len()
}

/// `{id: sla_breached}` over the rows of a list page.
fn breached_by_id(body: &Value) -> HashMap<String, bool> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {body}"))
        .iter()
        .map(|r| (id_of(r), r["sla_breached"].as_bool().unwrap_or_else(|| panic!("sla_breached not a bool: {r}"))))
        .collect()
}

// --- create -----------------------------------------------------------------

api_test!(create_returns_201_open_with_location_etag_due_at_and_opened_by, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let body = input(&sid, json!({"subject": "  Parcel arrived damaged  ", "channel": "email"}));
    let res = app.post(LIST, Role::Agent, &body).send().await.unwrap();
    let (status, headers, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["id"].as_str().unwrap();
    Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(headers["location"].to_str().unwrap(), format!("/api/v1/complaints/{id}"));
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(got["version"], 1);
    assert_eq!(got["status"], "open");
    assert_eq!(got["opened_by"], "agent-user");
    assert_eq!(got["stakeholder_id"], sid);
    assert_eq!(got["subject"], "Parcel arrived damaged");
    assert_eq!(got["description"], "The box was crushed and two items are broken.");
    assert_eq!(got["category"], "delivery");
    assert_eq!(got["severity"], "high");
    assert_eq!(got["channel"], "email");
    assert_eq!(got["sla_breached"], false);
    assert_eq!(sla_of(&got), Duration::hours(24), "{got}");
    for k in ["assignee_id", "resolution", "satisfaction", "acknowledged_at", "resolved_at", "closed_at"] {
        assert_eq!(got[k], Value::Null, "{k}: {got}");
    }
    assert!(got["created_at"].as_str().unwrap().ends_with('Z'), "{got}");
    assert!(got["due_at"].as_str().unwrap().ends_with('Z'), "{got}");
    assert_eq!(got["created_at"], got["updated_at"]);

    let res = app.get(&path(&got["id"]), Role::Analyst).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(read, got);

    // channel is optional.
    let minimal = create(&app, &sid, json!({})).await;
    assert_eq!(minimal["channel"], Value::Null);
    assert_eq!(minimal["opened_by"], "admin-user");
    assert_eq!(minimal["status"], "open");
    // Every interaction channel is accepted.
    for channel in ["phone", "meeting", "chat", "social", "mobile_app", "web", "letter", "in_store", "other"] {
        assert_eq!(create(&app, &sid, json!({"channel": channel})).await["channel"], channel);
    }
    // Every category too.
    for category in ["product", "service", "billing", "delivery", "staff", "privacy", "other"] {
        assert_eq!(create(&app, &sid, json!({"category": category})).await["category"], category);
    }
});

api_test!(due_at_is_created_at_plus_the_default_sla_of_the_severity, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for (severity, sla) in [
        ("critical", Duration::hours(4)),
        ("high", Duration::hours(24)),
        ("medium", Duration::hours(72)),
        ("low", Duration::hours(168)),
    ] {
        let c = create(&app, &sid, json!({"severity": severity})).await;
        assert_eq!(c["severity"], severity);
        assert_eq!(sla_of(&c), sla, "{severity}: {c}");
        assert_eq!(c["sla_breached"], false, "{c}");
        // The same on a read.
        let read = fetch(&app, &path(&c["id"]), Role::Agent).await;
        assert_eq!(read["due_at"], c["due_at"]);
        assert_eq!(sla_of(&read), sla);
    }
});

api_test!(sla_targets_are_configurable, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_SLA_CRITICAL", "1m"), ("CRM_SLA_HIGH", "2d")]).await;
    let sid = stakeholder(&app, json!({})).await;
    let critical = create(&app, &sid, json!({"severity": "critical"})).await;
    assert_eq!(sla_of(&critical), Duration::minutes(1), "{critical}");
    let high = create(&app, &sid, json!({"severity": "high"})).await;
    assert_eq!(sla_of(&high), Duration::days(2), "{high}");
    // The others keep their defaults.
    let medium = create(&app, &sid, json!({"severity": "medium"})).await;
    assert_eq!(sla_of(&medium), Duration::hours(72), "{medium}");
    let low = create(&app, &sid, json!({"severity": "low"})).await;
    assert_eq!(sla_of(&low), Duration::hours(168), "{low}");

    // A severity change uses the configured target too.
    let res = app.patch(&path(&low["id"]), Role::Agent, &json!({"severity": "critical"})).send().await.unwrap();
    let patched = ok_with_etag(res, "patch severity").await;
    assert_eq!(sla_of(&patched), Duration::minutes(1), "{patched}");
    assert_eq!(patched["created_at"], low["created_at"]);

    // Seconds and hours are understood as well.
    let app = TestApp::spawn_with(app.backend, &[("CRM_SLA_LOW", "90s"), ("CRM_SLA_MEDIUM", "5h")]).await;
    let sid = stakeholder(&app, json!({})).await;
    assert_eq!(sla_of(&create(&app, &sid, json!({"severity": "low"})).await), Duration::seconds(90));
    assert_eq!(sla_of(&create(&app, &sid, json!({"severity": "medium"})).await), Duration::hours(5));
    assert_eq!(sla_of(&create(&app, &sid, json!({"severity": "critical"})).await), Duration::hours(4));
});

api_test!(create_rejects_status_due_at_and_read_only_fields, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for status in STATUSES {
        let p = create_422(&app, LIST, input(&sid, json!({"status": status})), "status", Some("unknown_field")).await;
        assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    }
    for (k, v) in [
        ("due_at", json!("2030-01-01T00:00:00Z")),
        ("sla_breached", json!(false)),
        ("id", json!(Uuid::now_v7())),
        ("version", json!(1)),
        ("opened_by", json!("someone")),
        ("resolution", json!("done")),
        ("satisfaction", json!(5)),
        ("acknowledged_at", json!("2026-01-01T00:00:00Z")),
        ("resolved_at", json!("2026-01-01T00:00:00Z")),
        ("closed_at", json!("2026-01-01T00:00:00Z")),
        ("created_at", json!("2026-01-01T00:00:00Z")),
        ("updated_at", json!("2026-01-01T00:00:00Z")),
        ("subjetc", json!("typo")),
    ] {
        let p = create_422(&app, LIST, input(&sid, json!({ k: v })), k, Some("unknown_field")).await;
        assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{k}: {p}");
    }
    assert_eq!(count_all(&app).await, 0, "no complaint may have been created");
});

api_test!(create_validates_every_field_at_once, |app| {
    let sid = stakeholder(&app, json!({})).await;

    // Required fields, all reported together.
    let p = create_422(&app, LIST, json!({}), "stakeholder_id", Some("required")).await;
    for field in ["subject", "description", "category", "severity"] {
        assert_code(&p, field, "required");
    }
    for field in ["subject", "description", "category", "severity", "stakeholder_id"] {
        // Absent (a null in `extra` removes the key) and explicitly null.
        create_422(&app, LIST, input(&sid, json!({ field: null })), field, Some("required")).await;
        let mut explicit = input(&sid, json!({}));
        explicit.as_object_mut().unwrap().insert(field.to_owned(), Value::Null);
        create_422(&app, LIST, explicit, field, Some("required")).await;
    }

    // Every rule broken in one body: every field is reported.
    let p = create_422(
        &app,
        LIST,
        json!({"stakeholder_id": "nope", "subject": "   ", "description": "d".repeat(10_001),
               "category": "food", "severity": "urgent", "channel": "pigeon", "status": "open"}),
        "stakeholder_id",
        Some("type"),
    )
    .await;
    assert_code(&p, "subject", "blank");
    assert!(!codes_for(&p, "description").is_empty(), "{p}");
    assert_code(&p, "category", "enum");
    assert_code(&p, "severity", "enum");
    assert_code(&p, "channel", "enum");
    assert_code(&p, "status", "unknown_field");

    // One by one.
    create_422(&app, LIST, input(&sid, json!({"subject": ""})), "subject", None).await;
    create_422(&app, LIST, input(&sid, json!({"subject": " \t "})), "subject", Some("blank")).await;
    create_422(&app, LIST, input(&sid, json!({"subject": "s".repeat(201)})), "subject", None).await;
    create_422(&app, LIST, input(&sid, json!({"subject": 42})), "subject", Some("type")).await;
    create_422(&app, LIST, input(&sid, json!({"description": ""})), "description", None).await;
    create_422(&app, LIST, input(&sid, json!({"description": "  \n "})), "description", Some("blank")).await;
    create_422(&app, LIST, input(&sid, json!({"description": "d".repeat(10_001)})), "description", None).await;
    create_422(&app, LIST, input(&sid, json!({"category": "food"})), "category", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"category": "Billing"})), "category", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"severity": "urgent"})), "severity", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"severity": 3})), "severity", None).await;
    create_422(&app, LIST, input(&sid, json!({"channel": "pigeon"})), "channel", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"stakeholder_id": "not-a-uuid"})), "stakeholder_id", Some("type")).await;
    assert_eq!(count_all(&app).await, 0, "no complaint may have been created");

    // The limits themselves are fine.
    let ok = create(&app, &sid, json!({"subject": "s".repeat(200), "description": "d".repeat(10_000)})).await;
    assert_eq!(ok["subject"].as_str().unwrap().len(), 200);
    assert_eq!(ok["description"].as_str().unwrap().len(), 10_000);
    let short = create(&app, &sid, json!({"subject": "s", "description": "d"})).await;
    assert_eq!(short["subject"], "s");
    assert_eq!(count_all(&app).await, 2);

    // Not a JSON object, not JSON, not application/json.
    let res = app.post(LIST, Role::Admin, &json!([input(&sid, json!({}))])).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app
        .req(Method::POST, LIST, Role::Admin)
        .header("Content-Type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app
        .req(Method::POST, LIST, Role::Admin)
        .header("Content-Type", "text/plain")
        .body(input(&sid, json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    assert_eq!(count_all(&app).await, 2);
});

api_test!(create_requires_a_visible_unarchived_stakeholder, |app| {
    let res = app.post(LIST, Role::Admin, &input(&json!(Uuid::now_v7()), json!({}))).send().await.unwrap();
    assert_problem(res, 404).await;

    let sid = stakeholder(&app, json!({})).await;
    let res = app.delete(&format!("/api/v1/stakeholders/{}", sid.as_str().unwrap()), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post(LIST, Role::Agent, &input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(count_all(&app).await, 0);

    let restore = format!("/api/v1/stakeholders/{}/restore", sid.as_str().unwrap());
    let res = app.req(Method::POST, &restore, Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    create_as(&app, Role::Agent, &input(&sid, json!({}))).await;
    assert_eq!(count_all(&app).await, 1);
});

// --- lifecycle ----------------------------------------------------------------

api_test!(acknowledge_start_resolve_close_stamps_each_step, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = create(&app, &sid, json!({})).await;
    let created = parse_ts(&c["created_at"]);

    let ack = act_ok(&app, &c, "acknowledge", Role::Agent).await;
    assert_eq!(ack["status"], "acknowledged");
    assert_eq!(ack["version"], 2);
    assert!(parse_ts(&ack["acknowledged_at"]) >= created, "{ack}");
    assert_eq!(ack["resolved_at"], Value::Null);
    assert_eq!(ack["due_at"], c["due_at"]);
    assert_eq!(ack["subject"], c["subject"]);
    assert_eq!(ack["opened_by"], "admin-user");

    let started = act_ok(&app, &c, "start", Role::Agent).await;
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["version"], 3);
    // Already acknowledged: the stamp stays.
    assert_eq!(started["acknowledged_at"], ack["acknowledged_at"]);

    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "Replaced both items"})).await;
    let resolved = ok_with_etag(res, "resolve").await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["version"], 4);
    assert_eq!(resolved["resolution"], "Replaced both items");
    assert!(parse_ts(&resolved["resolved_at"]) >= parse_ts(&ack["acknowledged_at"]), "{resolved}");
    assert_eq!(resolved["closed_at"], Value::Null);
    assert_eq!(resolved["sla_breached"], false);

    let res = act_json(&app, &c, "close", Role::Agent, &json!({"satisfaction": 4})).await;
    let closed = ok_with_etag(res, "close").await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["version"], 5);
    assert_eq!(closed["satisfaction"], 4);
    assert_eq!(closed["resolution"], "Replaced both items");
    assert_eq!(closed["resolved_at"], resolved["resolved_at"]);
    assert!(parse_ts(&closed["closed_at"]) >= parse_ts(&resolved["resolved_at"]), "{closed}");
    assert_eq!(closed["sla_breached"], false);

    let res = app.get(&path(&c["id"]), Role::Analyst).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"5\"");
    assert_eq!(read, closed);
});

api_test!(start_from_open_and_resolve_from_acknowledged, |app| {
    let sid = stakeholder(&app, json!({})).await;

    // open -> in_progress stamps acknowledged_at.
    let c = create(&app, &sid, json!({})).await;
    let started = act_ok(&app, &c, "start", Role::Agent).await;
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["version"], 2);
    assert!(parse_ts(&started["acknowledged_at"]) >= parse_ts(&c["created_at"]), "{started}");
    let resolved = act_ok(&app, &c, "resolve", Role::Agent).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["acknowledged_at"], started["acknowledged_at"]);

    // acknowledged -> resolved, then closed with an empty body (no content type): no satisfaction.
    let d = create(&app, &sid, json!({})).await;
    act_ok(&app, &d, "acknowledge", Role::Agent).await;
    let resolved = act_ok(&app, &d, "resolve", Role::Agent).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution"], resolution()["resolution"]);
    let closed = ok_with_etag(act_empty(&app, &d, "close", Role::Agent).await, "close").await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["satisfaction"], Value::Null);
    assert!(closed["closed_at"].is_string(), "{closed}");

    // close with an empty JSON object works too.
    let e = in_status(&app, &sid, "resolved").await;
    let closed = ok_with_etag(act_json(&app, &e, "close", Role::Agent, &json!({})).await, "close {}").await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["satisfaction"], Value::Null);

    for (x, status) in [(&c, "resolved"), (&d, "closed"), (&e, "closed")] {
        assert_eq!(fetch(&app, &path(&x["id"]), Role::Agent).await["status"], status);
    }
});

api_test!(reopen_from_resolved_or_closed_clears_the_resolution, |app| {
    let sid = stakeholder(&app, json!({})).await;

    let resolved = in_status(&app, &sid, "resolved").await;
    let reopened = act_ok(&app, &resolved, "reopen", Role::Agent).await;
    assert_eq!(reopened["status"], "in_progress");
    assert_eq!(reopened["version"], resolved["version"].as_i64().unwrap() + 1);
    for k in ["resolved_at", "closed_at", "resolution", "satisfaction"] {
        assert_eq!(reopened[k], Value::Null, "{k}: {reopened}");
    }
    assert_eq!(reopened["acknowledged_at"], resolved["acknowledged_at"]);
    assert_eq!(reopened["due_at"], resolved["due_at"]);

    let c = create(&app, &sid, json!({})).await;
    act_ok(&app, &c, "start", Role::Agent).await;
    act_ok(&app, &c, "resolve", Role::Agent).await;
    let closed =
        ok_with_etag(act_json(&app, &c, "close", Role::Agent, &json!({"satisfaction": 2})).await, "close").await;
    assert_eq!(closed["satisfaction"], 2);
    let reopened = act_ok(&app, &c, "reopen", Role::Manager).await;
    assert_eq!(reopened["status"], "in_progress");
    for k in ["resolved_at", "closed_at", "resolution", "satisfaction"] {
        assert_eq!(reopened[k], Value::Null, "{k}: {reopened}");
    }
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Analyst).await, reopened);

    // And the cycle runs again.
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "Second fix"})).await;
    let again = ok_with_etag(res, "resolve again").await;
    assert_eq!(again["status"], "resolved");
    assert_eq!(again["resolution"], "Second fix");
    let closed =
        ok_with_etag(act_json(&app, &c, "close", Role::Agent, &json!({"satisfaction": 5})).await, "close").await;
    assert_eq!(closed["satisfaction"], 5);
    assert_eq!(closed["version"], 7);
});

api_test!(every_refused_transition_is_409_naming_the_current_status, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let refused: [(&str, &[&str]); 5] = [
        ("open", &["resolve", "close", "reopen"]),
        ("acknowledged", &["acknowledge", "close", "reopen"]),
        ("in_progress", &["acknowledge", "start", "close", "reopen"]),
        ("resolved", &["acknowledge", "start", "resolve"]),
        ("closed", &["acknowledge", "start", "resolve", "close", "assign"]),
    ];
    for (status, actions) in refused {
        let c = in_status(&app, &sid, status).await;
        let before = fetch(&app, &path(&c["id"]), Role::Admin).await;
        for action in actions {
            act_409(&app, &c, action, status).await;
        }
        // Nothing changed.
        assert_eq!(fetch(&app, &path(&c["id"]), Role::Admin).await, before, "{status}");
    }
    let p =
        assert_problem(act_empty(&app, &in_status(&app, &sid, "open").await, "close", Role::Agent).await, 409).await;
    assert_eq!(p["detail"], "cannot close a complaint whose status is open");
});

api_test!(resolve_requires_a_resolution_body, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = in_status(&app, &sid, "in_progress").await;

    // Empty body, empty object, null, blank, empty and too long.
    let p = assert_422(act_empty(&app, &c, "resolve", Role::Agent).await, "resolution", Some("required")).await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    assert_422(act_json(&app, &c, "resolve", Role::Agent, &json!({})).await, "resolution", Some("required")).await;
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": null})).await;
    assert_422(res, "resolution", Some("required")).await;
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "   "})).await;
    assert_422(res, "resolution", Some("blank")).await;
    assert_422(act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": ""})).await, "resolution", None).await;
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "r".repeat(10_001)})).await;
    assert_422(res, "resolution", None).await;
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": 7})).await;
    assert_422(res, "resolution", Some("type")).await;
    // Unknown fields.
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "Fixed", "note": "x"})).await;
    let p = assert_422(res, "note", Some("unknown_field")).await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "Fixed", "status": "closed"})).await;
    assert_422(res, "status", Some("unknown_field")).await;

    // Not JSON: 415. Malformed JSON: 400. Not an object: 400.
    let url = action_path(&c["id"], "resolve");
    let res = app
        .req(Method::POST, &url, Role::Agent)
        .header("Content-Type", "text/plain")
        .body("Fixed it")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app.req(Method::POST, &url, Role::Agent).body("{\"resolution\": \"Fixed\"}").send().await.unwrap();
    assert_problem(res, 415).await;
    let res = app
        .req(Method::POST, &url, Role::Agent)
        .header("Content-Type", "application/json")
        .body("{\"resolution\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!(["Fixed"])).await;
    assert_problem(res, 400).await;

    // Nothing changed.
    let read = fetch(&app, &path(&c["id"]), Role::Agent).await;
    assert_eq!(read["status"], "in_progress");
    assert_eq!(read["version"], c["version"]);
    assert_eq!(read["resolution"], Value::Null);

    // The limit itself is fine.
    let res = act_json(&app, &c, "resolve", Role::Agent, &json!({"resolution": "r".repeat(10_000)})).await;
    let resolved = ok_with_etag(res, "resolve").await;
    assert_eq!(resolved["resolution"].as_str().unwrap().len(), 10_000);
});

api_test!(close_takes_an_optional_satisfaction_of_1_to_5, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = in_status(&app, &sid, "resolved").await;

    for bad in [json!(0), json!(6), json!(-1), json!(100)] {
        let res = act_json(&app, &c, "close", Role::Agent, &json!({ "satisfaction": bad })).await;
        let p = assert_422(res, "satisfaction", None).await;
        assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    }
    for bad in [json!("five"), json!(2.5), json!(true)] {
        let res = act_json(&app, &c, "close", Role::Agent, &json!({ "satisfaction": bad })).await;
        assert_422(res, "satisfaction", Some("type")).await;
    }
    let res = act_json(&app, &c, "close", Role::Agent, &json!({"satisfaction": 3, "comment": "meh"})).await;
    assert_422(res, "comment", Some("unknown_field")).await;
    let url = action_path(&c["id"], "close");
    let res =
        app.req(Method::POST, &url, Role::Agent).header("Content-Type", "text/plain").body("5").send().await.unwrap();
    assert_problem(res, 415).await;
    let res = app
        .req(Method::POST, &url, Role::Agent)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let read = fetch(&app, &path(&c["id"]), Role::Agent).await;
    assert_eq!(read["status"], "resolved");
    assert_eq!(read["version"], c["version"]);

    // Both ends of the range.
    let one =
        ok_with_etag(act_json(&app, &c, "close", Role::Agent, &json!({"satisfaction": 1})).await, "close 1").await;
    assert_eq!(one["satisfaction"], 1);
    assert_eq!(one["status"], "closed");
    let d = in_status(&app, &sid, "resolved").await;
    let five =
        ok_with_etag(act_json(&app, &d, "close", Role::Agent, &json!({"satisfaction": 5})).await, "close 5").await;
    assert_eq!(five["satisfaction"], 5);
    // An explicit null is no satisfaction.
    let e = in_status(&app, &sid, "resolved").await;
    let none =
        ok_with_etag(act_json(&app, &e, "close", Role::Agent, &json!({"satisfaction": null})).await, "close null")
            .await;
    assert_eq!(none["satisfaction"], Value::Null);
    assert_eq!(none["status"], "closed");
});

api_test!(assign_is_for_managers_and_admins_in_any_status_but_closed, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = create(&app, &sid, json!({})).await;
    let body = json!({"assignee_id": "agent-7"});

    for role in [Role::Agent, Role::Analyst, Role::Partner] {
        assert_problem(act_json(&app, &c, "assign", role, &body).await, 403).await;
    }
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Admin).await["assignee_id"], Value::Null);

    let assigned = ok_with_etag(act_json(&app, &c, "assign", Role::Manager, &body).await, "assign").await;
    assert_eq!(assigned["assignee_id"], "agent-7");
    assert_eq!(assigned["status"], "open");
    assert_eq!(assigned["version"], 2);
    let reassigned =
        ok_with_etag(act_json(&app, &c, "assign", Role::Admin, &json!({"assignee_id": "agent-9"})).await, "reassign")
            .await;
    assert_eq!(reassigned["assignee_id"], "agent-9");
    assert_eq!(reassigned["version"], 3);
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Agent).await, reassigned);

    // Body rules.
    let p = assert_422(act_empty(&app, &c, "assign", Role::Manager).await, "assignee_id", Some("required")).await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    assert_422(act_json(&app, &c, "assign", Role::Manager, &json!({})).await, "assignee_id", Some("required")).await;
    assert_422(act_json(&app, &c, "assign", Role::Manager, &json!({"assignee_id": ""})).await, "assignee_id", None)
        .await;
    assert_422(
        act_json(&app, &c, "assign", Role::Manager, &json!({"assignee_id": 7})).await,
        "assignee_id",
        Some("type"),
    )
    .await;
    let res = act_json(&app, &c, "assign", Role::Manager, &json!({"assignee_id": "a", "status": "closed"})).await;
    assert_422(res, "status", Some("unknown_field")).await;
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Agent).await["assignee_id"], "agent-9");

    // Every status but closed keeps its status.
    for status in ["acknowledged", "in_progress", "resolved"] {
        let x = in_status(&app, &sid, status).await;
        let got = ok_with_etag(act_json(&app, &x, "assign", Role::Manager, &body).await, status).await;
        assert_eq!(got["status"], status);
        assert_eq!(got["assignee_id"], "agent-7");
    }
    let closed = in_status(&app, &sid, "closed").await;
    let p = assert_problem(act_json(&app, &closed, "assign", Role::Manager, &body).await, 409).await;
    assert_eq!(p["detail"], "cannot assign a complaint whose status is closed");
    assert_eq!(fetch(&app, &path(&closed["id"]), Role::Agent).await["assignee_id"], Value::Null);
    // The assignment survives the lifecycle.
    let resolved = act_ok(&app, &c, "start", Role::Agent).await;
    assert_eq!(resolved["assignee_id"], "agent-9");
});

api_test!(actions_honour_if_match, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = create(&app, &sid, json!({})).await;
    let post = |action: &str, etag: &str| {
        let mut r = app.req(Method::POST, &action_path(&c["id"], action), Role::Manager).header("If-Match", etag);
        if let Some(body) = body_for(action) {
            r = r.json(&body);
        }
        r.send()
    };

    assert_problem(post("acknowledge", "\"7\"").await.unwrap(), 412).await;
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Agent).await["status"], "open");
    let got = ok_with_etag(post("acknowledge", "\"1\"").await.unwrap(), "acknowledge").await;
    assert_eq!(got["version"], 2);

    // Each action refuses a stale ETag and takes the current one.
    for (action, current, status) in [
        ("start", 2, "in_progress"),
        ("assign", 3, "in_progress"),
        ("resolve", 4, "resolved"),
        ("reopen", 5, "in_progress"),
        ("resolve", 6, "resolved"),
        ("close", 7, "closed"),
    ] {
        let stale = format!("\"{}\"", current - 1);
        assert_problem(post(action, &stale).await.unwrap(), 412).await;
        let read = fetch(&app, &path(&c["id"]), Role::Agent).await;
        assert_eq!(read["version"], current, "{action}: {read}");
        let fresh = format!("\"{current}\"");
        let got = ok_with_etag(post(action, &fresh).await.unwrap(), action).await;
        assert_eq!(got["status"], status);
        assert_eq!(got["version"], current + 1);
    }

    // GET honours If-None-Match.
    let res = app.get(&path(&c["id"]), Role::Agent).header("If-None-Match", "\"8\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app.get(&path(&c["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

api_test!(actions_on_unknown_or_malformed_ids, |app| {
    let ghost = json!({"id": Uuid::now_v7().to_string()});
    for action in ACTIONS {
        assert_problem(act(&app, &ghost, action, Role::Admin).await, 404).await;
        let url = format!("{LIST}/not-a-uuid/{action}");
        let mut r = app.req(Method::POST, &url, Role::Admin);
        if let Some(body) = body_for(action) {
            r = r.json(&body);
        }
        assert_problem(r.send().await.unwrap(), 400).await;
    }
    assert_problem(app.get(&path(&ghost["id"]), Role::Admin).send().await.unwrap(), 404).await;
    assert_problem(app.get(&format!("{LIST}/nope"), Role::Admin).send().await.unwrap(), 400).await;
    let res = app.patch(&path(&ghost["id"]), Role::Admin, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 404).await;
    // An action that does not exist: a 404 problem, not a 405.
    let res = app.req(Method::POST, &format!("{LIST}/{}/escalate", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
});

// --- PATCH ----------------------------------------------------------------------

api_test!(patch_edits_fields_and_a_severity_change_recomputes_due_at_from_created_at, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = create(&app, &sid, json!({"severity": "medium", "channel": "phone"})).await;
    assert_eq!(sla_of(&c), Duration::hours(72));

    let res = app
        .req(Method::PATCH, &path(&c["id"]), Role::Agent)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"subject": "Both items broken", "category": "product", "severity": "critical"}).to_string())
        .send()
        .await
        .unwrap();
    let got = ok_with_etag(res, "patch").await;
    assert_eq!(got["version"], 2);
    assert_eq!(got["subject"], "Both items broken");
    assert_eq!(got["category"], "product");
    assert_eq!(got["severity"], "critical");
    assert_eq!(got["description"], c["description"]);
    assert_eq!(got["channel"], "phone");
    assert_eq!(got["status"], "open");
    assert_eq!(got["opened_by"], "admin-user");
    assert_eq!(got["created_at"], c["created_at"]);
    assert!(parse_ts(&got["updated_at"]) > parse_ts(&got["created_at"]), "{got}");
    // From created_at, not from now.
    assert_eq!(sla_of(&got), Duration::hours(4), "{got}");
    assert_eq!(fetch(&app, &path(&c["id"]), Role::Analyst).await, got);

    // application/json works too; description changes; due_at stays when severity does not change.
    let res = app.patch(&path(&c["id"]), Role::Agent, &json!({"description": "Updated account"})).send().await.unwrap();
    let got = ok_with_etag(res, "patch description").await;
    assert_eq!(got["description"], "Updated account");
    assert_eq!(got["version"], 3);
    assert_eq!(sla_of(&got), Duration::hours(4));
    let res = app.patch(&path(&c["id"]), Role::Manager, &json!({"severity": "low"})).send().await.unwrap();
    let got = ok_with_etag(res, "patch severity low").await;
    assert_eq!(sla_of(&got), Duration::hours(168), "{got}");

    // Validation applies to the patched document.
    let url = path(&c["id"]);
    let patch_422 = |body: Value, field: &'static str, code: Option<&'static str>| {
        let app = &app;
        let url = url.clone();
        async move { assert_422(app.patch(&url, Role::Agent, &body).send().await.unwrap(), field, code).await }
    };
    patch_422(json!({"subject": null}), "subject", Some("required")).await;
    patch_422(json!({"description": null}), "description", Some("required")).await;
    patch_422(json!({"severity": null}), "severity", Some("required")).await;
    patch_422(json!({"category": null}), "category", Some("required")).await;
    patch_422(json!({"subject": "  "}), "subject", Some("blank")).await;
    patch_422(json!({"subject": "s".repeat(201)}), "subject", None).await;
    patch_422(json!({"description": "d".repeat(10_001)}), "description", None).await;
    patch_422(json!({"severity": "urgent"}), "severity", Some("enum")).await;
    patch_422(json!({"category": "food"}), "category", Some("enum")).await;
    for k in ["status", "due_at", "sla_breached", "resolution", "satisfaction", "opened_by", "version", "id"] {
        patch_422(json!({ k: "x" }), k, Some("unknown_field")).await;
    }
    let p = patch_422(json!({"subject": "", "severity": "urgent", "status": "closed"}), "subject", None).await;
    assert_code(&p, "severity", "enum");
    assert_code(&p, "status", "unknown_field");

    // stakeholder_id and channel are immutable.
    let other = stakeholder(&app, json!({})).await;
    patch_422(json!({"stakeholder_id": other}), "stakeholder_id", Some("immutable")).await;
    patch_422(json!({"channel": "email"}), "channel", Some("immutable")).await;
    patch_422(json!({"channel": null}), "channel", Some("immutable")).await;
    let p = patch_422(json!({"stakeholder_id": other, "channel": "chat"}), "stakeholder_id", Some("immutable")).await;
    assert_code(&p, "channel", "immutable");
    // Restating the same values is fine.
    let res = app.patch(&url, Role::Agent, &json!({"stakeholder_id": sid, "channel": "phone"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let read = fetch(&app, &url, Role::Agent).await;
    assert_eq!(read["stakeholder_id"], sid);
    assert_eq!(read["channel"], "phone");
    assert_eq!(read["subject"], "Both items broken");
    assert_eq!(read["severity"], "low");

    // If-Match.
    let version = read["version"].as_i64().unwrap();
    let res = app.patch(&url, Role::Agent, &json!({"subject": "X"})).header("If-Match", format!("\"{}\"", version - 1));
    assert_problem(res.send().await.unwrap(), 412).await;
    let res = app.patch(&url, Role::Agent, &json!({"subject": "X"})).header("If-Match", format!("\"{version}\""));
    let got = ok_with_etag(res.send().await.unwrap(), "patch with If-Match").await;
    assert_eq!(got["subject"], "X");
    assert_eq!(got["version"], version + 1);
});

api_test!(patch_works_until_closed_and_again_after_reopen, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for status in ["acknowledged", "in_progress", "resolved"] {
        let c = in_status(&app, &sid, status).await;
        let res = app.patch(&path(&c["id"]), Role::Agent, &json!({"severity": "critical"})).send().await.unwrap();
        let got = ok_with_etag(res, status).await;
        assert_eq!(got["status"], status);
        assert_eq!(got["severity"], "critical");
        // Unresolved and not yet due: recomputed. Resolved: due_at is frozen.
        let expected = if status == "resolved" { Duration::hours(24) } else { Duration::hours(4) };
        assert_eq!(sla_of(&got), expected, "{status}: {got}");
    }

    let closed = in_status(&app, &sid, "closed").await;
    let res = app.patch(&path(&closed["id"]), Role::Agent, &json!({"subject": "Too late"})).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("closed"), "{p}");
    assert_eq!(fetch(&app, &path(&closed["id"]), Role::Agent).await, closed);

    act_ok(&app, &closed, "reopen", Role::Agent).await;
    let res = app.patch(&path(&closed["id"]), Role::Agent, &json!({"subject": "Not too late"})).send().await.unwrap();
    let got = ok_with_etag(res, "patch after reopen").await;
    assert_eq!(got["subject"], "Not too late");
    assert_eq!(got["status"], "in_progress");
});

// --- SLA breach -------------------------------------------------------------------

api_test!(sla_breached_on_reads_lists_and_filters, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_SLA_LOW", "2s")]).await;
    let sid = stakeholder(&app, json!({})).await;
    let low = json!({"severity": "low"});

    // Resolved before its due date.
    let early = create(&app, &sid, low.clone()).await;
    assert_eq!(sla_of(&early), Duration::seconds(2), "{early}");
    act_ok(&app, &early, "start", Role::Agent).await;
    let early_resolved = act_ok(&app, &early, "resolve", Role::Agent).await;
    assert!(
        parse_ts(&early_resolved["resolved_at"]) < parse_ts(&early_resolved["due_at"]),
        "premise: resolved within the 2 s SLA: {early_resolved}"
    );
    assert_eq!(early_resolved["sla_breached"], false);
    // To be resolved late; left open; left acknowledged.
    let late = create(&app, &sid, low.clone()).await;
    act_ok(&app, &late, "start", Role::Agent).await;
    let overdue = create(&app, &sid, low.clone()).await;
    assert_eq!(overdue["sla_breached"], false, "{overdue}");
    let overdue_ack = create(&app, &sid, low.clone()).await;
    act_ok(&app, &overdue_ack, "acknowledge", Role::Agent).await;
    // Long SLAs: in time whatever happens.
    let in_time = create(&app, &sid, json!({"severity": "medium"})).await;
    act_ok(&app, &in_time, "start", Role::Agent).await;
    act_ok(&app, &in_time, "resolve", Role::Agent).await;
    let fresh = create(&app, &sid, json!({"severity": "high"})).await;

    // Wait until every low complaint is past due.
    let last_due = parse_ts(&overdue_ack["due_at"]);
    let wait = (last_due - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(600);
    tokio::time::sleep(wait).await;

    let late_resolved = act_ok(&app, &late, "resolve", Role::Agent).await;
    assert_eq!(late_resolved["status"], "resolved");
    assert!(parse_ts(&late_resolved["resolved_at"]) > parse_ts(&late_resolved["due_at"]), "{late_resolved}");
    assert_eq!(late_resolved["sla_breached"], true, "resolved after due_at: {late_resolved}");
    // Closing does not forgive it.
    let late_closed = act_ok(&app, &late, "close", Role::Agent).await;
    assert_eq!(late_closed["sla_breached"], true, "{late_closed}");

    let expected =
        [(&early, false), (&late, true), (&overdue, true), (&overdue_ack, true), (&in_time, false), (&fresh, false)];
    for (c, breached) in expected {
        let read = fetch(&app, &path(&c["id"]), Role::Analyst).await;
        assert_eq!(read["sla_breached"], breached, "GET: {read}");
    }
    let want: HashMap<String, bool> = expected.iter().map(|(c, b)| (id_of(c), *b)).collect();
    let (_, _, body) = page(&app, LIST, Role::Agent, &[]).await;
    assert_eq!(breached_by_id(&body), want, "list");
    let (_, _, body) = page(&app, &stakeholder_complaints(&sid), Role::Agent, &[]).await;
    assert_eq!(breached_by_id(&body), want, "stakeholder's list");

    let breached = set_of(&[&late, &overdue, &overdue_ack]);
    let met = set_of(&[&early, &in_time, &fresh]);
    assert_eq!(id_set_of(&app, LIST, &[("sla_breached", "true")]).await, breached);
    assert_eq!(id_set_of(&app, LIST, &[("sla_breached", "false")]).await, met);
    assert_eq!(id_set_of(&app, &stakeholder_complaints(&sid), &[("sla_breached", "true")]).await, breached);
    assert_eq!(id_set_of(&app, &stakeholder_complaints(&sid), &[("sla_breached", "false")]).await, met);
    // Rows returned by the filter read the same way.
    let (_, _, body) = page(&app, LIST, Role::Agent, &[("sla_breached", "true")]).await;
    assert!(breached_by_id(&body).values().all(|b| *b), "{body}");
    let (_, _, body) = page(&app, LIST, Role::Agent, &[("sla_breached", "false")]).await;
    assert!(breached_by_id(&body).values().all(|b| !*b), "{body}");
    // Combined with other filters.
    assert_eq!(
        id_set_of(&app, LIST, &[("sla_breached", "false"), ("status", "resolved")]).await,
        set_of(&[&early, &in_time])
    );
    assert_eq!(id_set_of(&app, LIST, &[("sla_breached", "true"), ("status", "open")]).await, set_of(&[&overdue]));
    assert_eq!(
        id_set_of(&app, LIST, &[("sla_breached", "true"), ("severity", "low")]).await,
        set_of(&[&late, &overdue, &overdue_ack])
    );

    // Reopened past its due date, the early one reads breached again.
    let reopened = act_ok(&app, &early, "reopen", Role::Agent).await;
    assert_eq!(reopened["status"], "in_progress");
    assert_eq!(reopened["sla_breached"], true, "{reopened}");
    assert_eq!(fetch(&app, &path(&early["id"]), Role::Agent).await["sla_breached"], true);
    assert!(id_set_of(&app, LIST, &[("sla_breached", "true")]).await.contains(&id_of(&early)));
    assert!(!id_set_of(&app, LIST, &[("sla_breached", "false")]).await.contains(&id_of(&early)));
    // A reopened late one stays breached; resolving it again now is still late.
    let again = act_ok(&app, &late, "reopen", Role::Agent).await;
    assert_eq!(again["sla_breached"], true);
    assert_eq!(act_ok(&app, &late, "resolve", Role::Agent).await["sla_breached"], true);

    // A bad value is 400.
    for v in ["maybe", "yes", ""] {
        let res = app.get(LIST, Role::Agent).query(&[("sla_breached", v)]).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

// --- roles ----------------------------------------------------------------------

api_test!(agent_creates_and_runs_every_action_but_assign, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let c = create_as(&app, Role::Agent, &input(&sid, json!({}))).await;
    assert_eq!(c["opened_by"], "agent-user");
    let res = app.patch(&path(&c["id"]), Role::Agent, &json!({"severity": "low"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    act_ok(&app, &c, "acknowledge", Role::Agent).await;
    act_ok(&app, &c, "start", Role::Agent).await;
    act_ok(&app, &c, "resolve", Role::Agent).await;
    act_ok(&app, &c, "close", Role::Agent).await;
    act_ok(&app, &c, "reopen", Role::Agent).await;
    assert_problem(act(&app, &c, "assign", Role::Agent).await, 403).await;
    let read = fetch(&app, &path(&c["id"]), Role::Agent).await;
    assert_eq!(read["status"], "in_progress");
    assert_eq!(read["assignee_id"], Value::Null);
    assert_eq!(read["version"], 7);
});

api_test!(analyst_reads_but_cannot_write, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let open = create(&app, &sid, json!({})).await;
    let resolved = in_status(&app, &sid, "resolved").await;

    assert_eq!(fetch(&app, &path(&open["id"]), Role::Analyst).await, open);
    assert_eq!(page(&app, LIST, Role::Analyst, &[]).await.0.len(), 2);
    assert_eq!(page(&app, &stakeholder_complaints(&sid), Role::Analyst, &[]).await.0.len(), 2);

    let res = app.post(LIST, Role::Analyst, &input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 403).await;
    let res = app.patch(&path(&open["id"]), Role::Analyst, &json!({"subject": "No"})).send().await.unwrap();
    assert_problem(res, 403).await;
    for action in ACTIONS {
        for c in [&open, &resolved] {
            assert_problem(act(&app, c, action, Role::Analyst).await, 403).await;
        }
    }
    // Forbidden whatever the body: the role check comes first.
    for action in ["resolve", "close", "assign"] {
        assert_problem(act_empty(&app, &open, action, Role::Analyst).await, 403).await;
        assert_problem(act_json(&app, &open, action, Role::Analyst, &json!({"bogus": 1})).await, 403).await;
    }
    assert_eq!(fetch(&app, &path(&open["id"]), Role::Admin).await, open);
    assert_eq!(fetch(&app, &path(&resolved["id"]), Role::Admin).await, resolved);
    assert_eq!(count_all(&app).await, 2);
});

api_test!(partner_opens_and_reads_complaints_of_its_own_stakeholders_only, |app| {
    let mine = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let theirs = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let nobody = stakeholder(&app, json!({})).await;

    // Create: own stakeholders only (others are invisible: 404).
    let own = create_as(&app, Role::Partner, &input(&mine, json!({"channel": "web"}))).await;
    assert_eq!(own["opened_by"], format!("partner-{PARTNER_A}"));
    assert_eq!(own["status"], "open");
    for s in [&theirs, &nobody] {
        let res = app.post(LIST, Role::Partner, &input(s, json!({}))).send().await.unwrap();
        assert_problem(res, 404).await;
    }
    let their_complaint = create(&app, &theirs, json!({})).await;
    let unshared = create(&app, &nobody, json!({})).await;
    let admin_on_mine = create(&app, &mine, json!({})).await;

    // Reads.
    assert_eq!(fetch(&app, &path(&own["id"]), Role::Partner).await, own);
    assert_eq!(fetch(&app, &path(&admin_on_mine["id"]), Role::Partner).await["id"], admin_on_mine["id"]);
    for c in [&their_complaint, &unshared] {
        assert_problem(app.get(&path(&c["id"]), Role::Partner).send().await.unwrap(), 404).await;
    }
    assert_eq!(page(&app, LIST, Role::Partner, &[]).await.0, vec![id_of(&admin_on_mine), id_of(&own)]);
    let res = app.client.get(app.url(LIST)).bearer_auth(partner_token(PARTNER_B)).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids_b: Vec<String> = body["data"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids_b, vec![id_of(&their_complaint)]);
    let their_sid = theirs.as_str().unwrap();
    assert!(page(&app, LIST, Role::Partner, &[("stakeholder_id", their_sid)]).await.0.is_empty());
    assert_eq!(
        page(&app, &stakeholder_complaints(&mine), Role::Partner, &[]).await.0,
        vec![id_of(&admin_on_mine), id_of(&own)]
    );
    for s in [&theirs, &nobody] {
        assert_problem(app.get(&stakeholder_complaints(s), Role::Partner).send().await.unwrap(), 404).await;
    }

    // No PATCH, no actions (even on its own).
    let res = app.patch(&path(&own["id"]), Role::Partner, &json!({"subject": "Mine"})).send().await.unwrap();
    assert_problem(res, 403).await;
    for action in ACTIONS {
        assert_problem(act(&app, &own, action, Role::Partner).await, 403).await;
    }
    assert_eq!(fetch(&app, &path(&own["id"]), Role::Admin).await, own);
    assert_eq!(count_all(&app).await, 4);
});

// --- lists ------------------------------------------------------------------------

api_test!(lists_sort_newest_first_by_default_and_due_at_gives_the_support_queue, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let low = create(&app, &sid, json!({"severity": "low"})).await;
    let critical = create(&app, &sid, json!({"severity": "critical"})).await;
    let medium = create(&app, &sid, json!({"severity": "medium"})).await;
    let high = create(&app, &sid, json!({"severity": "high"})).await;
    let (low, critical, medium, high) = (id_of(&low), id_of(&critical), id_of(&medium), id_of(&high));

    let (got, next, _) = page(&app, LIST, Role::Agent, &[]).await;
    assert_eq!(got, vec![high.clone(), medium.clone(), critical.clone(), low.clone()]);
    assert_eq!(next, None);
    let by_created = vec![low.clone(), critical.clone(), medium.clone(), high.clone()];
    assert_eq!(ids(&app, LIST, &[("sort", "created_at")]).await, by_created);
    let queue = vec![critical.clone(), high.clone(), medium.clone(), low.clone()];
    assert_eq!(ids(&app, LIST, &[("sort", "due_at")]).await, queue);
    let reversed: Vec<String> = queue.iter().rev().cloned().collect();
    assert_eq!(ids(&app, LIST, &[("sort", "-due_at")]).await, reversed);
    assert_eq!(ids(&app, &stakeholder_complaints(&sid), &[("sort", "due_at")]).await, queue);

    // Touch low: it becomes the most recently updated.
    let res = app.req(Method::POST, &format!("{LIST}/{low}/acknowledge"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await[0], low);
    assert_eq!(*ids(&app, LIST, &[("sort", "updated_at")]).await.last().unwrap(), low);
    // A severity change moves it in the queue.
    let res = app.patch(&format!("{LIST}/{low}"), Role::Agent, &json!({"severity": "critical"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        ids(&app, LIST, &[("sort", "due_at")]).await,
        vec![low.clone(), critical.clone(), high.clone(), medium.clone()]
    );

    // Bad query strings are 400.
    let long = "a".repeat(501);
    for q in [
        [("sort", "severity")],
        [("sort", "title")],
        [("status", "pending")],
        [("severity", "urgent")],
        [("category", "food")],
        [("sla_breached", "maybe")],
        [("limit", "0")],
        [("limit", "201")],
        [("cursor", "garbage")],
        [("opened_after", "yesterday")],
        [("opened_before", "2026-13-01")],
        [("stakeholder_id", "nope")],
        [("assignee_id", long.as_str())],
        [("assignee_id", "a\0b")],
        [("colour", "red")],
    ] {
        let res = app.get(LIST, Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
        let res = app.get(&stakeholder_complaints(&sid), Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_stakeholder_status_severity_category_assignee_and_opened_window, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({"category": "product", "severity": "low"})).await;
    let b = create(&app, &s1, json!({"category": "billing", "severity": "high"})).await;
    act_ok(&app, &b, "acknowledge", Role::Agent).await;
    act_ok(&app, &b, "assign", Role::Manager).await; // agent-7
    let c = create(&app, &s2, json!({"category": "service", "severity": "critical"})).await;
    act_ok(&app, &c, "start", Role::Agent).await;
    let res = act_json(&app, &c, "assign", Role::Manager, &json!({"assignee_id": "agent-9"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let d = create(&app, &s2, json!({"category": "billing", "severity": "medium"})).await;
    act_ok(&app, &d, "start", Role::Agent).await;
    act_ok(&app, &d, "resolve", Role::Agent).await;
    act_ok(&app, &d, "assign", Role::Admin).await; // agent-7
    let e = create(&app, &s1, json!({"category": "delivery", "severity": "low"})).await;
    act_ok(&app, &e, "start", Role::Agent).await;
    act_ok(&app, &e, "resolve", Role::Agent).await;
    act_ok(&app, &e, "close", Role::Agent).await;

    let s1_id = s1.as_str().unwrap();
    let s2_id = s2.as_str().unwrap();
    assert_eq!(id_set_of(&app, LIST, &[("stakeholder_id", s1_id)]).await, set_of(&[&a, &b, &e]));
    assert_eq!(id_set_of(&app, LIST, &[("stakeholder_id", s2_id)]).await, set_of(&[&c, &d]));
    assert!(ids(&app, LIST, &[("stakeholder_id", &Uuid::now_v7().to_string())]).await.is_empty());

    for (status, want) in [("open", &a), ("acknowledged", &b), ("in_progress", &c), ("resolved", &d), ("closed", &e)] {
        assert_eq!(ids(&app, LIST, &[("status", status)]).await, vec![id_of(want)], "status={status}");
    }
    assert_eq!(id_set_of(&app, LIST, &[("severity", "low")]).await, set_of(&[&a, &e]));
    assert_eq!(ids(&app, LIST, &[("severity", "critical")]).await, vec![id_of(&c)]);
    assert_eq!(ids(&app, LIST, &[("severity", "medium")]).await, vec![id_of(&d)]);
    assert_eq!(id_set_of(&app, LIST, &[("category", "billing")]).await, set_of(&[&b, &d]));
    assert_eq!(ids(&app, LIST, &[("category", "delivery")]).await, vec![id_of(&e)]);
    assert!(ids(&app, LIST, &[("category", "privacy")]).await.is_empty());
    assert_eq!(id_set_of(&app, LIST, &[("assignee_id", "agent-7")]).await, set_of(&[&b, &d]));
    assert_eq!(ids(&app, LIST, &[("assignee_id", "agent-9")]).await, vec![id_of(&c)]);
    assert!(ids(&app, LIST, &[("assignee_id", "agent-1")]).await.is_empty());

    // opened_after is inclusive, opened_before exclusive.
    let at = |x: &Value| x["created_at"].as_str().unwrap().to_owned();
    assert_eq!(id_set_of(&app, LIST, &[("opened_after", &at(&c))]).await, set_of(&[&c, &d, &e]));
    assert_eq!(id_set_of(&app, LIST, &[("opened_before", &at(&c))]).await, set_of(&[&a, &b]));
    assert_eq!(
        id_set_of(&app, LIST, &[("opened_after", &at(&b)), ("opened_before", &at(&d))]).await,
        set_of(&[&b, &c])
    );
    assert_eq!(id_set_of(&app, LIST, &[("opened_after", &at(&a))]).await.len(), 5);
    assert!(ids(&app, LIST, &[("opened_before", &at(&a))]).await.is_empty());
    let later = (parse_ts(&e["created_at"]) + Duration::seconds(1)).to_rfc3339();
    assert!(ids(&app, LIST, &[("opened_after", &later)]).await.is_empty());

    // Filters combine, and work on the stakeholder's list too.
    assert_eq!(
        ids(&app, LIST, &[("stakeholder_id", s2_id), ("category", "billing"), ("assignee_id", "agent-7")]).await,
        vec![id_of(&d)]
    );
    assert_eq!(id_set_of(&app, LIST, &[("severity", "low"), ("status", "open")]).await, set_of(&[&a]));
    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[("status", "closed")]).await, vec![id_of(&e)]);
    assert_eq!(ids(&app, &stakeholder_complaints(&s2), &[("assignee_id", "agent-7")]).await, vec![id_of(&d)]);
    assert!(ids(&app, &stakeholder_complaints(&s1), &[("severity", "critical")]).await.is_empty());
    assert_eq!(id_set_of(&app, &stakeholder_complaints(&s1), &[("opened_before", &at(&c))]).await, set_of(&[&a, &b]));
});

api_test!(cursor_walks_seven_complaints_three_at_a_time_in_due_order, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let other = stakeholder(&app, json!({})).await;
    let severities = ["low", "critical", "medium", "high", "critical", "low", "high"];
    let mut created = Vec::new();
    for (i, severity) in severities.iter().enumerate() {
        created.push(create(&app, &sid, json!({"severity": severity, "subject": format!("Complaint {i}")})).await);
        // Noise on another stakeholder.
        if i % 3 == 0 {
            create(&app, &other, json!({"severity": "critical"})).await;
        }
    }
    let mut by_due: Vec<(DateTime<Utc>, String)> = created.iter().map(|c| (parse_ts(&c["due_at"]), id_of(c))).collect();
    by_due.sort();
    let queue: Vec<String> = by_due.into_iter().map(|(_, id)| id).collect();
    // Severity decides here (created within a moment of each other).
    let first_two: HashSet<String> = queue[..2].iter().cloned().collect();
    assert_eq!(first_two, set_of(&[&created[1], &created[4]]));
    let reversed: Vec<String> = queue.iter().rev().cloned().collect();
    let newest_first: Vec<String> = created.iter().rev().map(id_of).collect();

    let sid_s = sid.as_str().unwrap().to_owned();
    for (url, sort, want, filter) in [
        (LIST.to_owned(), "due_at", queue.clone(), Some(sid_s.clone())),
        (stakeholder_complaints(&sid), "due_at", queue.clone(), None),
        (stakeholder_complaints(&sid), "-due_at", reversed.clone(), None),
        (stakeholder_complaints(&sid), "-created_at", newest_first.clone(), None),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let mut q: Vec<(&str, &str)> = vec![("limit", "3"), ("sort", sort)];
            if let Some(s) = &filter {
                q.push(("stakeholder_id", s));
            }
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let (ids, next, _) = page(&app, &url, Role::Agent, &q).await;
            sizes.push(ids.len());
            seen.extend(ids);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
            assert!(sizes.len() < 10, "the walk does not end");
        }
        assert_eq!(sizes, vec![3, 3, 1], "{url} {sort}");
        assert_eq!(seen, want, "{url} {sort}");
    }

    // A cursor from one sort is not valid for another.
    let (_, next, _) = page(&app, LIST, Role::Agent, &[("limit", "3"), ("sort", "due_at")]).await;
    let res = app.get(LIST, Role::Agent).query(&[("limit", "3"), ("cursor", &next.unwrap())]).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(stakeholder_complaints_lists_only_that_stakeholder_and_404s_for_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({})).await;
    let b = create(&app, &s2, json!({})).await;
    let c = create(&app, &s1, json!({})).await;

    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[]).await, vec![id_of(&c), id_of(&a)]);
    assert_eq!(ids(&app, &stakeholder_complaints(&s2), &[]).await, vec![id_of(&b)]);
    // The path wins over a stakeholder_id filter.
    let s2_id = s2.as_str().unwrap();
    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[("stakeholder_id", s2_id)]).await, vec![id_of(&c), id_of(&a)]);
    let (_, _, body) = page(&app, &stakeholder_complaints(&s1), Role::Analyst, &[]).await;
    assert_eq!(body["data"][0], fetch(&app, &path(&c["id"]), Role::Admin).await);

    let empty = stakeholder(&app, json!({})).await;
    let (got, next, _) = page(&app, &stakeholder_complaints(&empty), Role::Analyst, &[]).await;
    assert!(got.is_empty() && next.is_none());

    let res = app.get(&stakeholder_complaints(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/complaints", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

// --- links and idempotency --------------------------------------------------------

api_test!(interactions_link_complaints_of_the_same_stakeholder_only, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let mine = create(&app, &s1, json!({})).await;
    let theirs = create(&app, &s2, json!({})).await;
    let interaction = |complaint: Value| {
        json!({"stakeholder_id": s1, "channel": "phone", "direction": "inbound", "type": "support",
               "complaint_id": complaint})
    };

    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(mine["id"].clone())).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["complaint_id"], mine["id"]);

    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(theirs["id"].clone())).send().await.unwrap();
    let p = assert_422(res, "complaint_id", Some("reference")).await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(json!(Uuid::now_v7()))).send().await.unwrap();
    assert_422(res, "complaint_id", Some("reference")).await;

    // Linking works whatever the complaint's status.
    let closed = in_status(&app, &s1, "closed").await;
    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(closed["id"].clone())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
});

api_test!(idempotency_key_replays_create, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let body = input(&sid, json!({"category": "billing"}));
    let post = |role: Role, key: &str, body: &Value| app.post(LIST, role, body).header("Idempotency-Key", key).send();

    let (status, headers, first) = parts(post(Role::Agent, "complaint-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    let location = headers["location"].to_str().unwrap().to_owned();

    let (status, headers, again) = parts(post(Role::Agent, "complaint-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(headers["idempotent-replayed"].to_str().unwrap(), "true");
    assert_eq!(headers["location"].to_str().unwrap(), location);
    assert_eq!(again, first);
    assert_eq!(count_all(&app).await, 1);

    // Same key, different body.
    let other = input(&sid, json!({"category": "staff"}));
    assert_problem(post(Role::Agent, "complaint-key-1", &other).await.unwrap(), 422).await;
    assert_eq!(count_all(&app).await, 1);

    // Another caller with the same key is independent.
    let (status, headers, theirs) = parts(post(Role::Manager, "complaint-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["opened_by"], "manager-user");
    assert_eq!(count_all(&app).await, 2);

    // The replay is the first response even after the complaint moved on.
    act_ok(&app, &first, "acknowledge", Role::Agent).await;
    let (status, _, replay) = parts(post(Role::Agent, "complaint-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay, first);
    assert_eq!(count_all(&app).await, 2);
});

api_test!(no_304_while_sla_breached_can_still_flip, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let c = create(&app, &s["id"], json!({})).await;
    // Open and not yet due: sla_breached may turn true with no new version.
    let res = app.get(&path(&c["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for action in ["start", "resolve"] {
        let mut req = app.req(Method::POST, &action_path(&c["id"], action), Role::Agent);
        if let Some(b) = body_for(action) {
            req = req.json(&b);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::OK, "{action}");
    }
    // Resolved: the flag is fixed, so a matching ETag gives 304.
    let res = app.get(&path(&c["id"]), Role::Agent).header("If-None-Match", "\"3\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
});
