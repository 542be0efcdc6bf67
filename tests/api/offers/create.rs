//! Offers: create (the 201, validation of every field, the parent stakeholder),
//! links from interactions and `Idempotency-Key` on create.

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

// --- create -----------------------------------------------------------------

api_test!(create_returns_201_draft_with_location_etag_and_created_by, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let from = Utc::now().trunc_subsecs(0) + Duration::days(1);
    let until = from + Duration::days(30);
    let body = input(
        &sid,
        json!({"title": "  Gold membership, first year  ", "description": "Twelve months of gold",
               "product_category": "membership", "discount_percent": 20,
               "valid_from": rfc3339(from), "valid_until": rfc3339(until)}),
    );
    let res = app.post(LIST, Role::Agent, &body).send().await.unwrap();
    let (status, headers, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["id"].as_str().unwrap();
    Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(headers["location"].to_str().unwrap(), format!("/api/v1/offers/{id}"));
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(got["version"], 1);
    assert_eq!(got["status"], "draft");
    assert_eq!(got["created_by"], "agent-user");
    assert_eq!(got["stakeholder_id"], sid);
    assert_eq!(got["title"], "Gold membership, first year");
    assert_eq!(got["description"], "Twelve months of gold");
    assert_eq!(got["product_category"], "membership");
    assert_eq!(got["price"], json!({"amount_minor": 1_500_000, "currency": "IDR"}));
    assert_eq!(got["discount_percent"], 20);
    assert_eq!(parse_ts(&got["valid_from"]), from);
    assert_eq!(parse_ts(&got["valid_until"]), until);
    assert_eq!(got["sent_at"], Value::Null);
    assert_eq!(got["responded_at"], Value::Null);
    assert!(got["created_at"].as_str().unwrap().ends_with('Z'), "{got}");
    assert_eq!(got["created_at"], got["updated_at"]);

    let res = app.get(&path(&got["id"]), Role::Analyst).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(read, got);

    // Defaults: discount 0, no dates, no description or category.
    let minimal = create(&app, &sid, json!({})).await;
    assert_eq!(minimal["discount_percent"], 0);
    assert_eq!(minimal["status"], "draft");
    assert_eq!(minimal["created_by"], "admin-user");
    for k in ["description", "product_category", "valid_from", "valid_until"] {
        assert_eq!(minimal[k], Value::Null, "{k}: {minimal}");
    }
});

api_test!(create_rejects_status_and_read_only_fields, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for status in ["draft", "sent", "accepted"] {
        let p = create_422(&app, LIST, input(&sid, json!({"status": status})), "status", Some("unknown_field")).await;
        assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    }
    for (k, v) in [
        ("id", json!(Uuid::now_v7())),
        ("version", json!(3)),
        ("created_by", json!("someone")),
        ("sent_at", json!("2026-01-01T00:00:00Z")),
        ("responded_at", json!("2026-01-01T00:00:00Z")),
        ("created_at", json!("2026-01-01T00:00:00Z")),
        ("titel", json!("typo")),
    ] {
        create_422(&app, LIST, input(&sid, json!({ k: v })), k, Some("unknown_field")).await;
    }
    assert_eq!(count_all(&app).await, 0, "no offer may have been created");
});

api_test!(create_validates_every_field_at_once, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let t = Utc::now().trunc_subsecs(0) + Duration::days(2);
    // Every rule broken in one body: every field is reported.
    let p = create_422(
        &app,
        LIST,
        input(
            &sid,
            json!({"title": "   ", "description": "d".repeat(10_001), "product_category": "c".repeat(51),
                   "price": {"amount_minor": -1, "currency": "IDR"}, "discount_percent": 101,
                   "valid_from": rfc3339(t), "valid_until": rfc3339(t)}),
        ),
        "title",
        None,
    )
    .await;
    for field in ["title", "description", "product_category", "price.amount_minor", "discount_percent", "valid_until"] {
        assert!(!codes_for(&p, field).is_empty(), "{field} missing in {p}");
    }

    // Required fields.
    let p = create_422(&app, LIST, json!({}), "stakeholder_id", Some("required")).await;
    assert_code(&p, "title", "required");
    assert_code(&p, "price", "required");

    // One by one.
    create_422(&app, LIST, input(&sid, json!({"title": ""})), "title", None).await;
    create_422(&app, LIST, input(&sid, json!({"title": "t".repeat(201)})), "title", None).await;
    create_422(&app, LIST, input(&sid, json!({"title": " \t "})), "title", Some("blank")).await;
    create_422(&app, LIST, input(&sid, json!({"discount_percent": -1})), "discount_percent", None).await;
    create_422(&app, LIST, input(&sid, json!({"discount_percent": 101})), "discount_percent", None).await;
    create_422(&app, LIST, input(&sid, json!({"discount_percent": 12.5})), "discount_percent", Some("type")).await;
    create_422(
        &app,
        LIST,
        input(&sid, json!({"price": {"amount_minor": -100, "currency": "IDR"}})),
        "price.amount_minor",
        None,
    )
    .await;
    create_422(
        &app,
        LIST,
        input(&sid, json!({"price": {"amount_minor": 100, "currency": "idr"}})),
        "price.currency",
        None,
    )
    .await;
    create_422(
        &app,
        LIST,
        input(&sid, json!({"price": {"amount_minor": 100, "currency": "XYZ"}})),
        "price.currency",
        None,
    )
    .await;
    create_422(&app, LIST, input(&sid, json!({"price": {"amount_minor": 1.5, "currency": "IDR"}})), "price", None)
        .await;
    create_422(&app, LIST, input(&sid, json!({"price": 1000})), "price", Some("type")).await;
    create_422(&app, LIST, input(&sid, json!({"stakeholder_id": "not-a-uuid"})), "stakeholder_id", Some("type")).await;
    create_422(&app, LIST, input(&sid, json!({"valid_from": "tomorrow"})), "valid_from", Some("type")).await;
    create_422(
        &app,
        LIST,
        input(&sid, json!({"valid_from": rfc3339(t), "valid_until": rfc3339(t - Duration::hours(1))})),
        "valid_until",
        None,
    )
    .await;
    create_422(
        &app,
        LIST,
        input(&sid, json!({"valid_from": rfc3339(t), "valid_until": rfc3339(t)})),
        "valid_until",
        None,
    )
    .await;
    assert_eq!(count_all(&app).await, 0, "no offer may have been created");

    // The limits themselves are fine.
    let ok = create(
        &app,
        &sid,
        json!({"title": "t".repeat(200), "description": "d".repeat(10_000), "product_category": "c".repeat(50),
               "price": {"amount_minor": 0, "currency": "EUR"}, "discount_percent": 100,
               "valid_from": rfc3339(t), "valid_until": rfc3339(t + Duration::seconds(1))}),
    )
    .await;
    assert_eq!(ok["discount_percent"], 100);
    assert_eq!(ok["price"], json!({"amount_minor": 0, "currency": "EUR"}));
    let zero = create(&app, &sid, json!({"discount_percent": 0})).await;
    assert_eq!(zero["discount_percent"], 0);
    // Open ends are allowed on either side.
    create(&app, &sid, json!({"valid_from": rfc3339(t)})).await;
    create(&app, &sid, json!({"valid_until": rfc3339(t)})).await;
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
});

// --- links and idempotency --------------------------------------------------------

api_test!(interactions_link_offers_of_the_same_stakeholder_only, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let mine = create(&app, &s1, json!({})).await;
    let theirs = create(&app, &s2, json!({})).await;
    let interaction = |offer: Value| {
        json!({"stakeholder_id": s1, "channel": "email", "direction": "outbound", "type": "contact",
               "offer_id": offer})
    };

    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(mine["id"].clone())).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["offer_id"], mine["id"]);

    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(theirs["id"].clone())).send().await.unwrap();
    let p = assert_422(res, "offer_id", Some("reference")).await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1, "{p}");
    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(json!(Uuid::now_v7()))).send().await.unwrap();
    assert_422(res, "offer_id", Some("reference")).await;

    // Linking works whatever the offer's status.
    act_ok(&app, &mine, "send", Role::Agent).await;
    act_ok(&app, &mine, "accept", Role::Agent).await;
    let res = app.post("/api/v1/interactions", Role::Agent, &interaction(mine["id"].clone())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
});

api_test!(idempotency_key_replays_create, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let body = input(&sid, json!({"product_category": "membership"}));
    let post = |role: Role, key: &str, body: &Value| app.post(LIST, role, body).header("Idempotency-Key", key).send();

    let (status, headers, first) = parts(post(Role::Agent, "offer-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    let location = headers["location"].to_str().unwrap().to_owned();

    let (status, headers, again) = parts(post(Role::Agent, "offer-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(headers["idempotent-replayed"].to_str().unwrap(), "true");
    assert_eq!(headers["location"].to_str().unwrap(), location);
    assert_eq!(again, first);
    assert_eq!(count_all(&app).await, 1);

    // Same key, different body.
    let other = input(&sid, json!({"product_category": "travel"}));
    let res = post(Role::Agent, "offer-key-1", &other).await.unwrap();
    assert_problem(res, 422).await;
    assert_eq!(count_all(&app).await, 1);

    // Another caller with the same key is independent.
    let (status, headers, theirs) = parts(post(Role::Manager, "offer-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["created_by"], "manager-user");
    assert_eq!(count_all(&app).await, 2);

    // The replay is the first response even after the offer moved on.
    act_ok(&app, &first, "send", Role::Agent).await;
    let (status, _, replay) = parts(post(Role::Agent, "offer-key-1", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay, first);
    assert_eq!(count_all(&app).await, 2);
});
