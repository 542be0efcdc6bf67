//! Complaints: create (the 201, validation of every field, the parent
//! stakeholder), links from interactions and `Idempotency-Key` on create.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
