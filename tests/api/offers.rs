//! Offers: create (validation, parent stakeholder), the lifecycle actions
//! (every transition and every refusal over HTTP, If-Match, validity
//! windows, expiry on read), draft-only PATCH and DELETE, roles and partner
//! isolation, lists (sorts, filters, keyset pagination, the stakeholder's
//! offers), links from interactions and `Idempotency-Key`.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

const LIST: &str = "/api/v1/offers";
const ACTIONS: [&str; 4] = ["send", "accept", "decline", "withdraw"];

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn action_path(id: &Value, action: &str) -> String {
    format!("{}/{action}", path(id))
}

fn stakeholder_offers(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/offers", stakeholder.as_str().expect("id is a string"))
}

/// A valid offer for `stakeholder` with `extra` merged in (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": stakeholder, "title": "Gold membership",
                          "price": {"amount_minor": 1_500_000, "currency": "IDR"}});
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

/// POSTs `body` as `role`, expects 201; returns the offer.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates an offer as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

/// POSTs an action with an empty body (no content type) as `role`.
async fn act(app: &TestApp, offer: &Value, action: &str, role: Role) -> Response {
    app.req(Method::POST, &action_path(&offer["id"], action), role).send().await.unwrap()
}

/// Runs an action as `role`, expects 200 and a matching ETag; returns the offer.
async fn act_ok(app: &TestApp, offer: &Value, action: &str, role: Role) -> Value {
    let res = act(app, offer, action, role).await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{action} as {role}: {body}");
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", body["version"]), "{body}");
    body
}

/// Runs an action, expects a 409 whose detail names `current`.
async fn act_409(app: &TestApp, offer: &Value, action: &str, current: &str) {
    let res = act(app, offer, action, Role::Admin).await;
    let p = assert_problem(res, 409).await;
    assert_eq!(p["detail"], format!("cannot {action} an offer whose status is {current}"), "{action}: {p}");
}

/// How many offers the admin sees in total.
async fn count_all(app: &TestApp) -> usize {
    ids(app, LIST, &[("limit", "200")]).await.len()
}

/// Creates a draft whose `valid_until` is 2..3 s ahead, sends it, and waits until
/// that moment has passed: the offer then reads as `expired`.
async fn expired_offer(app: &TestApp, sid: &Value) -> Value {
    let until = Utc::now().trunc_subsecs(0) + Duration::seconds(3);
    let offer = create(app, sid, json!({"title": "Short-lived", "valid_until": rfc3339(until)})).await;
    let sent = act_ok(app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    let wait = (until - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(500);
    tokio::time::sleep(wait).await;
    sent
}

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

// --- lifecycle ----------------------------------------------------------------

api_test!(send_then_accept_stamps_sent_at_and_responded_at, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({})).await;

    let sent = act_ok(&app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["version"], 2);
    assert!(parse_ts(&sent["sent_at"]) >= parse_ts(&offer["created_at"]), "{sent}");
    assert_eq!(sent["responded_at"], Value::Null);
    assert_eq!(sent["title"], offer["title"]);
    assert_eq!(sent["created_by"], "admin-user");

    let accepted = act_ok(&app, &offer, "accept", Role::Agent).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["version"], 3);
    assert_eq!(accepted["sent_at"], sent["sent_at"]);
    assert!(parse_ts(&accepted["responded_at"]) >= parse_ts(&sent["sent_at"]), "{accepted}");

    let res = app.get(&path(&offer["id"]), Role::Admin).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"3\"");
    assert_eq!(read, accepted);
});

api_test!(send_then_decline_and_both_withdrawals, |app| {
    let sid = stakeholder(&app, json!({})).await;

    let declined = create(&app, &sid, json!({})).await;
    act_ok(&app, &declined, "send", Role::Manager).await;
    let got = act_ok(&app, &declined, "decline", Role::Manager).await;
    assert_eq!(got["status"], "declined");
    assert_eq!(got["version"], 3);
    assert!(got["sent_at"].is_string() && got["responded_at"].is_string(), "{got}");

    let draft = create(&app, &sid, json!({})).await;
    let got = act_ok(&app, &draft, "withdraw", Role::Agent).await;
    assert_eq!(got["status"], "withdrawn");
    assert_eq!(got["version"], 2);
    assert_eq!(got["sent_at"], Value::Null);
    assert_eq!(got["responded_at"], Value::Null);

    let sent = create(&app, &sid, json!({})).await;
    let s = act_ok(&app, &sent, "send", Role::Agent).await;
    let got = act_ok(&app, &sent, "withdraw", Role::Agent).await;
    assert_eq!(got["status"], "withdrawn");
    assert_eq!(got["version"], 3);
    assert_eq!(got["sent_at"], s["sent_at"]);
    assert_eq!(got["responded_at"], Value::Null);

    for (o, status) in [(&declined, "declined"), (&draft, "withdrawn"), (&sent, "withdrawn")] {
        assert_eq!(fetch(&app, &path(&o["id"]), Role::Agent).await["status"], status);
    }
});

api_test!(every_refused_transition_is_409_naming_the_current_status, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let draft = create(&app, &sid, json!({})).await;
    let sent = create(&app, &sid, json!({})).await;
    act_ok(&app, &sent, "send", Role::Admin).await;
    let accepted = create(&app, &sid, json!({})).await;
    act_ok(&app, &accepted, "send", Role::Admin).await;
    act_ok(&app, &accepted, "accept", Role::Admin).await;
    let declined = create(&app, &sid, json!({})).await;
    act_ok(&app, &declined, "send", Role::Admin).await;
    act_ok(&app, &declined, "decline", Role::Admin).await;
    let withdrawn = create(&app, &sid, json!({})).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Admin).await;

    let refused: [(&Value, &str, &[&str]); 5] = [
        (&draft, "draft", &["accept", "decline"]),
        (&sent, "sent", &["send"]),
        (&accepted, "accepted", &ACTIONS),
        (&declined, "declined", &ACTIONS),
        (&withdrawn, "withdrawn", &ACTIONS),
    ];
    for (offer, status, actions) in refused {
        let before = fetch(&app, &path(&offer["id"]), Role::Admin).await;
        assert_eq!(before["status"], status);
        for action in actions {
            act_409(&app, offer, action, status).await;
        }
        // Nothing changed.
        assert_eq!(fetch(&app, &path(&offer["id"]), Role::Admin).await, before, "{status}");
    }
});

api_test!(actions_on_unknown_or_malformed_ids, |app| {
    for action in ACTIONS {
        let res =
            app.req(Method::POST, &format!("{LIST}/{}/{action}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
        assert_problem(res, 404).await;
        let res = app.req(Method::POST, &format!("{LIST}/not-a-uuid/{action}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
    let res = app.get(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get(&format!("{LIST}/nope"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res =
        app.patch(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin, &json!({"title": "x"})).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.delete(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
});

api_test!(actions_honour_if_match, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({})).await;
    let url = action_path(&offer["id"], "send");

    let res = app.req(Method::POST, &url, Role::Agent).header("If-Match", "\"7\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "draft");

    let res = app.req(Method::POST, &url, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(body["status"], "sent");

    // The old ETag is now stale for the next action.
    let accept = action_path(&offer["id"], "accept");
    let res = app.req(Method::POST, &accept, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "sent");
    let res = app.req(Method::POST, &accept, Role::Agent).header("If-Match", "\"2\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"3\"");
    assert_eq!(body["status"], "accepted");

    // Withdraw too.
    let other = create(&app, &sid, json!({})).await;
    let withdraw = action_path(&other["id"], "withdraw");
    let res = app.req(Method::POST, &withdraw, Role::Agent).header("If-Match", "\"2\"").send().await.unwrap();
    assert_problem(res, 412).await;
    let res = app.req(Method::POST, &withdraw, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // GET honours If-None-Match.
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"3\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

api_test!(accept_and_decline_before_valid_from_are_409, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let from = Utc::now().trunc_subsecs(0) + Duration::days(3);
    let offer =
        create(&app, &sid, json!({"valid_from": rfc3339(from), "valid_until": rfc3339(from + Duration::days(7))}))
            .await;
    // Sending ahead of the window is fine.
    let sent = act_ok(&app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent");
    for action in ["accept", "decline"] {
        let res = act(&app, &offer, action, Role::Agent).await;
        let p = assert_problem(res, 409).await;
        assert!(p["detail"].as_str().unwrap().contains("valid_from"), "{p}");
    }
    let read = fetch(&app, &path(&offer["id"]), Role::Agent).await;
    assert_eq!(read["status"], "sent");
    assert_eq!(read["version"], 2);
    assert_eq!(read["responded_at"], Value::Null);
    // It can still be withdrawn.
    assert_eq!(act_ok(&app, &offer, "withdraw", Role::Agent).await["status"], "withdrawn");

    // An open window (valid_from in the past) accepts.
    let open = create(&app, &sid, json!({"valid_from": rfc3339(Utc::now() - Duration::days(1))})).await;
    act_ok(&app, &open, "send", Role::Agent).await;
    assert_eq!(act_ok(&app, &open, "accept", Role::Agent).await["status"], "accepted");
});

api_test!(send_after_valid_until_is_409, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let now = Utc::now().trunc_subsecs(0);
    let offer = create(
        &app,
        &sid,
        json!({"valid_from": rfc3339(now - Duration::days(10)), "valid_until": rfc3339(now - Duration::days(1))}),
    )
    .await;
    // A draft past its window is still a draft.
    assert_eq!(offer["status"], "draft");
    let res = act(&app, &offer, "send", Role::Agent).await;
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("valid_until"), "{p}");
    let read = fetch(&app, &path(&offer["id"]), Role::Agent).await;
    assert_eq!(read["status"], "draft");
    assert_eq!(read["sent_at"], Value::Null);
    assert_eq!(read["version"], 1);
    // Its dates can be fixed while it is a draft, and then it can be sent.
    let res = app
        .patch(&path(&offer["id"]), Role::Agent, &json!({"valid_until": rfc3339(now + Duration::days(5))}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(act_ok(&app, &offer, "send", Role::Agent).await["status"], "sent");
});

api_test!(sent_offer_past_valid_until_reads_as_expired, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let live =
        create(&app, &sid, json!({"title": "Live", "valid_until": rfc3339(Utc::now() + Duration::days(5))})).await;
    act_ok(&app, &live, "send", Role::Agent).await;
    let open = create(&app, &sid, json!({"title": "Open ended"})).await;
    act_ok(&app, &open, "send", Role::Agent).await;
    let expired = expired_offer(&app, &sid).await;

    // On GET.
    let res = app.get(&path(&expired["id"]), Role::Agent).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["status"], "expired", "{read}");
    // Reading does not change it.
    assert_eq!(read["version"], expired["version"]);
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", expired["version"]));

    // In lists, and in the status filter.
    let (_, _, body) = page(&app, LIST, Role::Agent, &[]).await;
    let row = body["data"].as_array().unwrap().iter().find(|r| r["id"] == expired["id"]).expect("listed");
    assert_eq!(row["status"], "expired");
    let (_, _, body) = page(&app, &stakeholder_offers(&sid), Role::Agent, &[]).await;
    let row = body["data"].as_array().unwrap().iter().find(|r| r["id"] == expired["id"]).expect("listed");
    assert_eq!(row["status"], "expired");
    assert_eq!(ids(&app, LIST, &[("status", "expired")]).await, vec![id_of(&expired)]);
    assert_eq!(id_set(&ids(&app, LIST, &[("status", "sent")]).await), set_of(&[&live, &open]));
    assert_eq!(ids(&app, &stakeholder_offers(&sid), &[("status", "expired")]).await, vec![id_of(&expired)]);

    // Every action is refused, naming "expired".
    for action in ACTIONS {
        act_409(&app, &expired, action, "expired").await;
    }
    // Neither editable nor deletable.
    let res = app.patch(&path(&expired["id"]), Role::Admin, &json!({"title": "Again"})).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    let res = app.delete(&path(&expired["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(fetch(&app, &path(&expired["id"]), Role::Admin).await["status"], "expired");
});

// --- PATCH and DELETE ---------------------------------------------------------

api_test!(patch_edits_drafts_only, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({"description": "Old", "product_category": "membership"})).await;

    // merge patch: absent unchanged, null clears, nested price merges.
    let res = app
        .req(Method::PATCH, &path(&offer["id"]), Role::Agent)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"title": "New title", "description": null, "price": {"amount_minor": 990_000}}).to_string())
        .send()
        .await
        .unwrap();
    let (status, headers, got) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(got["version"], 2);
    assert_eq!(got["title"], "New title");
    assert_eq!(got["description"], Value::Null);
    assert_eq!(got["product_category"], "membership");
    assert_eq!(got["price"], json!({"amount_minor": 990_000, "currency": "IDR"}));
    assert_eq!(got["status"], "draft");
    assert_eq!(got["created_by"], "admin-user");
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Analyst).await, got);

    // Validation applies to the patched document.
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"discount_percent": 101})).send().await.unwrap();
    assert_422(res, "discount_percent", None).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"title": null})).send().await.unwrap();
    assert_422(res, "title", Some("required")).await;
    let t = Utc::now().trunc_subsecs(0) + Duration::days(1);
    let res = app
        .patch(
            &path(&offer["id"]),
            Role::Agent,
            &json!({"valid_from": rfc3339(t), "valid_until": rfc3339(t - Duration::days(1))}),
        )
        .send()
        .await
        .unwrap();
    assert_422(res, "valid_until", None).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"status": "sent"})).send().await.unwrap();
    assert_422(res, "status", Some("unknown_field")).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"created_by": "me"})).send().await.unwrap();
    assert_422(res, "created_by", Some("unknown_field")).await;

    // stakeholder_id is immutable.
    let other = stakeholder(&app, json!({})).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"stakeholder_id": other})).send().await.unwrap();
    assert_422(res, "stakeholder_id", Some("immutable")).await;
    // Restating the same one is fine.
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"stakeholder_id": sid})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // If-Match.
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"title": "X"})).header("If-Match", "\"1\"");
    assert_problem(res.send().await.unwrap(), 412).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"title": "X"})).header("If-Match", "\"2\"");
    let (status, _, got) = parts(res.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["title"], "X");
    assert_eq!(got["version"], 3);

    // Once sent, no more edits.
    act_ok(&app, &offer, "send", Role::Agent).await;
    let res = app.patch(&path(&offer["id"]), Role::Agent, &json!({"title": "Too late"})).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("sent"), "{p}");
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["title"], "X");

    // Nor after any other status.
    let withdrawn = create(&app, &sid, json!({})).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Agent).await;
    let res = app.patch(&path(&withdrawn["id"]), Role::Agent, &json!({"title": "Again"})).send().await.unwrap();
    assert_problem(res, 409).await;
});

api_test!(delete_removes_drafts_only_for_managers_and_admins, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let a = create(&app, &sid, json!({})).await;
    let b = create(&app, &sid, json!({})).await;

    for role in [Role::Agent, Role::Analyst, Role::Partner] {
        let res = app.delete(&path(&a["id"]), role).send().await.unwrap();
        assert_problem(res, 403).await;
    }
    assert_eq!(fetch(&app, &path(&a["id"]), Role::Admin).await["status"], "draft");

    let res = app.delete(&path(&a["id"]), Role::Manager).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.text().await.unwrap().is_empty());
    let res = app.get(&path(&a["id"]), Role::Manager).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.delete(&path(&a["id"]), Role::Manager).send().await.unwrap();
    assert_problem(res, 404).await;

    // If-Match on DELETE.
    let res = app.delete(&path(&b["id"]), Role::Admin).header("If-Match", "\"5\"").send().await.unwrap();
    assert_problem(res, 412).await;
    let res = app.delete(&path(&b["id"]), Role::Admin).header("If-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(ids(&app, LIST, &[]).await.is_empty());

    // Only drafts.
    let sent = create(&app, &sid, json!({})).await;
    act_ok(&app, &sent, "send", Role::Agent).await;
    let res = app.delete(&path(&sent["id"]), Role::Manager).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("sent"), "{p}");
    let withdrawn = create(&app, &sid, json!({})).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Agent).await;
    let res = app.delete(&path(&withdrawn["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(id_set(&ids(&app, LIST, &[]).await), set_of(&[&sent, &withdrawn]));
});

api_test!(delete_refuses_a_draft_linked_from_an_interaction, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({})).await;
    let res = app
        .post(
            "/api/v1/interactions",
            Role::Agent,
            &json!({"stakeholder_id": sid, "channel": "email", "direction": "outbound", "type": "contact",
                    "offer_id": offer["id"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.delete(&path(&offer["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Admin).await["status"], "draft");
});

// --- roles ----------------------------------------------------------------------

api_test!(analyst_reads_but_cannot_write, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let draft = create(&app, &sid, json!({})).await;
    let sent = create(&app, &sid, json!({})).await;
    act_ok(&app, &sent, "send", Role::Admin).await;

    assert_eq!(fetch(&app, &path(&draft["id"]), Role::Analyst).await, draft);
    assert_eq!(ids(&app, LIST, &[]).await.len(), 2);
    assert_eq!(page(&app, LIST, Role::Analyst, &[]).await.0.len(), 2);
    assert_eq!(page(&app, &stakeholder_offers(&sid), Role::Analyst, &[]).await.0.len(), 2);

    let res = app.post(LIST, Role::Analyst, &input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 403).await;
    let res = app.patch(&path(&draft["id"]), Role::Analyst, &json!({"title": "No"})).send().await.unwrap();
    assert_problem(res, 403).await;
    for action in ["send", "withdraw"] {
        assert_problem(act(&app, &draft, action, Role::Analyst).await, 403).await;
    }
    for action in ["accept", "decline", "withdraw"] {
        assert_problem(act(&app, &sent, action, Role::Analyst).await, 403).await;
    }
    assert_eq!(fetch(&app, &path(&draft["id"]), Role::Admin).await, draft);
    assert_eq!(fetch(&app, &path(&sent["id"]), Role::Admin).await["status"], "sent");
    assert_eq!(count_all(&app).await, 2);
});

api_test!(partner_sees_and_answers_only_offers_of_its_stakeholders, |app| {
    let mine = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let theirs = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let nobody = stakeholder(&app, json!({})).await;
    let my_offer = create(&app, &mine, json!({})).await;
    let their_offer = create(&app, &theirs, json!({})).await;
    let unshared = create(&app, &nobody, json!({})).await;
    for o in [&my_offer, &their_offer, &unshared] {
        act_ok(&app, o, "send", Role::Admin).await;
    }

    // Reads.
    let got = fetch(&app, &path(&my_offer["id"]), Role::Partner).await;
    assert_eq!(got["id"], my_offer["id"]);
    for o in [&their_offer, &unshared] {
        let res = app.get(&path(&o["id"]), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }
    assert_eq!(page(&app, LIST, Role::Partner, &[]).await.0, vec![id_of(&my_offer)]);
    let res = app.client.get(app.url(LIST)).bearer_auth(partner_token(PARTNER_B)).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids_b: Vec<String> = body["data"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids_b, vec![id_of(&their_offer)]);
    // Filtering by someone else's stakeholder finds nothing.
    let their_sid = theirs.as_str().unwrap();
    assert!(page(&app, LIST, Role::Partner, &[("stakeholder_id", their_sid)]).await.0.is_empty());
    assert_eq!(page(&app, &stakeholder_offers(&mine), Role::Partner, &[]).await.0, vec![id_of(&my_offer)]);
    for s in [&theirs, &nobody] {
        let res = app.get(&stakeholder_offers(s), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // Writes: no create, patch, send, withdraw.
    let res = app.post(LIST, Role::Partner, &input(&mine, json!({}))).send().await.unwrap();
    assert_problem(res, 403).await;
    let draft = create(&app, &mine, json!({})).await;
    let res = app.patch(&path(&draft["id"]), Role::Partner, &json!({"title": "Mine"})).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_problem(act(&app, &draft, "send", Role::Partner).await, 403).await;
    assert_problem(act(&app, &my_offer, "withdraw", Role::Partner).await, 403).await;

    // Responses: its own only.
    for o in [&their_offer, &unshared] {
        assert_problem(act(&app, o, "accept", Role::Partner).await, 404).await;
        assert_problem(act(&app, o, "decline", Role::Partner).await, 404).await;
    }
    let accepted = act_ok(&app, &my_offer, "accept", Role::Partner).await;
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["responded_at"].is_string());
    let second = create(&app, &mine, json!({})).await;
    act_ok(&app, &second, "send", Role::Agent).await;
    assert_eq!(act_ok(&app, &second, "decline", Role::Partner).await["status"], "declined");
    // Refusals still name the status.
    let res = act(&app, &second, "accept", Role::Partner).await;
    let p = assert_problem(res, 409).await;
    assert_eq!(p["detail"], "cannot accept an offer whose status is declined");

    for o in [&their_offer, &unshared] {
        assert_eq!(fetch(&app, &path(&o["id"]), Role::Admin).await["status"], "sent");
    }
});

api_test!(agent_creates_patches_and_runs_every_action, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let o = create_as(&app, Role::Agent, &input(&sid, json!({}))).await;
    let res = app.patch(&path(&o["id"]), Role::Agent, &json!({"discount_percent": 5})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    act_ok(&app, &o, "send", Role::Agent).await;
    act_ok(&app, &o, "accept", Role::Agent).await;
    let d = create_as(&app, Role::Agent, &input(&sid, json!({}))).await;
    act_ok(&app, &d, "send", Role::Agent).await;
    act_ok(&app, &d, "decline", Role::Agent).await;
    let w = create_as(&app, Role::Agent, &input(&sid, json!({}))).await;
    act_ok(&app, &w, "withdraw", Role::Agent).await;
});

// --- lists ------------------------------------------------------------------------

api_test!(lists_sort_newest_first_by_default_and_by_created_or_updated_at, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let a = create(&app, &sid, json!({"title": "A"})).await;
    let b = create(&app, &sid, json!({"title": "B"})).await;
    let c = create(&app, &sid, json!({"title": "C"})).await;
    let (a, b, c) = (id_of(&a), id_of(&b), id_of(&c));

    let (got, next, _) = page(&app, LIST, Role::Agent, &[]).await;
    assert_eq!(got, vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(next, None);
    assert_eq!(ids(&app, LIST, &[("sort", "-created_at")]).await, vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(ids(&app, LIST, &[("sort", "created_at")]).await, vec![a.clone(), b.clone(), c.clone()]);

    // Touch A: it becomes the most recently updated.
    let res = app.patch(&format!("{LIST}/{a}"), Role::Agent, &json!({"title": "A2"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await, vec![a.clone(), c.clone(), b.clone()]);
    assert_eq!(ids(&app, LIST, &[("sort", "updated_at")]).await, vec![b.clone(), c.clone(), a.clone()]);
    // An action counts as an update too.
    let res = app.req(Method::POST, &format!("{LIST}/{b}/send"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await, vec![b.clone(), a.clone(), c.clone()]);
    // Created order is unaffected.
    assert_eq!(ids(&app, LIST, &[]).await, vec![c, b, a]);

    // Bad query strings are 400.
    for q in [
        [("sort", "title")],
        [("sort", "display_name")],
        [("status", "pending")],
        [("limit", "0")],
        [("limit", "201")],
        [("cursor", "garbage")],
        [("valid_at", "yesterday")],
        [("stakeholder_id", "nope")],
        [("colour", "red")],
    ] {
        let res = app.get(LIST, Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_stakeholder_status_category_and_creator, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let draft = create_as(&app, Role::Agent, &input(&s1, json!({"product_category": "membership"}))).await;
    let sent = create_as(&app, Role::Manager, &input(&s1, json!({"product_category": "travel"}))).await;
    act_ok(&app, &sent, "send", Role::Agent).await;
    let accepted = create_as(&app, Role::Agent, &input(&s2, json!({"product_category": "membership"}))).await;
    act_ok(&app, &accepted, "send", Role::Agent).await;
    act_ok(&app, &accepted, "accept", Role::Agent).await;
    let declined = create_as(&app, Role::Manager, &input(&s2, json!({}))).await;
    act_ok(&app, &declined, "send", Role::Agent).await;
    act_ok(&app, &declined, "decline", Role::Agent).await;
    let withdrawn = create_as(&app, Role::Agent, &input(&s2, json!({"product_category": "travel"}))).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Agent).await;

    let set = |q: &'static [(&'static str, &'static str)]| {
        let app = &app;
        async move { id_set(&ids(app, LIST, q).await) }
    };
    let s1_id = s1.as_str().unwrap();
    let s2_id = s2.as_str().unwrap();
    assert_eq!(id_set(&ids(&app, LIST, &[("stakeholder_id", s1_id)]).await), set_of(&[&draft, &sent]));
    assert_eq!(
        id_set(&ids(&app, LIST, &[("stakeholder_id", s2_id)]).await),
        set_of(&[&accepted, &declined, &withdrawn])
    );
    assert!(ids(&app, LIST, &[("stakeholder_id", &Uuid::now_v7().to_string())]).await.is_empty());

    for (status, want) in [
        ("draft", &draft),
        ("sent", &sent),
        ("accepted", &accepted),
        ("declined", &declined),
        ("withdrawn", &withdrawn),
    ] {
        assert_eq!(ids(&app, LIST, &[("status", status)]).await, vec![id_of(want)], "status={status}");
    }
    assert!(set(&[("status", "expired")]).await.is_empty());

    assert_eq!(set(&[("product_category", "membership")]).await, set_of(&[&draft, &accepted]));
    assert_eq!(set(&[("product_category", "travel")]).await, set_of(&[&sent, &withdrawn]));
    assert!(set(&[("product_category", "insurance")]).await.is_empty());

    assert_eq!(set(&[("created_by", "agent-user")]).await, set_of(&[&draft, &accepted, &withdrawn]));
    assert_eq!(set(&[("created_by", "manager-user")]).await, set_of(&[&sent, &declined]));
    assert!(set(&[("created_by", "admin-user")]).await.is_empty());

    // Filters combine.
    assert_eq!(
        id_set(&ids(&app, LIST, &[("stakeholder_id", s2_id), ("product_category", "travel")]).await),
        set_of(&[&withdrawn])
    );
    assert_eq!(
        id_set(&ids(&app, LIST, &[("created_by", "agent-user"), ("status", "accepted")]).await),
        set_of(&[&accepted])
    );
    // And work on the stakeholder's list too.
    assert_eq!(
        id_set(&ids(&app, &stakeholder_offers(&s2), &[("created_by", "manager-user")]).await),
        set_of(&[&declined])
    );
    assert_eq!(id_set(&ids(&app, &stakeholder_offers(&s1), &[("status", "sent")]).await), set_of(&[&sent]));
});

api_test!(valid_at_filters_by_the_validity_window_with_open_ends, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let now = Utc::now().trunc_subsecs(0);
    let d = Duration::days;
    let undated = create(&app, &sid, json!({"title": "Undated"})).await;
    let past = create(
        &app,
        &sid,
        json!({"title": "Past", "valid_from": rfc3339(now - d(10)), "valid_until": rfc3339(now - d(5))}),
    )
    .await;
    let current = create(
        &app,
        &sid,
        json!({"title": "Now", "valid_from": rfc3339(now - d(1)), "valid_until": rfc3339(now + d(1))}),
    )
    .await;
    let future = create(
        &app,
        &sid,
        json!({"title": "Future", "valid_from": rfc3339(now + d(5)), "valid_until": rfc3339(now + d(10))}),
    )
    .await;
    let until_only = create(&app, &sid, json!({"title": "Until only", "valid_until": rfc3339(now + d(2))})).await;
    let from_only = create(&app, &sid, json!({"title": "From only", "valid_from": rfc3339(now + d(3))})).await;

    let at = |t: DateTime<Utc>| {
        let app = &app;
        async move { id_set(&ids(app, LIST, &[("valid_at", &rfc3339(t))]).await) }
    };
    assert_eq!(at(now).await, set_of(&[&undated, &current, &until_only]));
    assert_eq!(at(now - d(7)).await, set_of(&[&undated, &past, &until_only]));
    assert_eq!(at(now + d(7)).await, set_of(&[&undated, &future, &from_only]));
    assert_eq!(at(now + d(20)).await, set_of(&[&undated, &from_only]));
    // valid_from is inclusive, valid_until exclusive.
    assert!(at(now - d(1)).await.contains(&id_of(&current)));
    assert!(!at(now + d(1)).await.contains(&id_of(&current)));
    assert!(at(now + d(3)).await.contains(&id_of(&from_only)));
    assert!(!at(now + d(2)).await.contains(&id_of(&until_only)));
    assert!(!at(now - d(5)).await.contains(&id_of(&past)));
    assert!(at(now - d(10)).await.contains(&id_of(&past)));
    // Also on the stakeholder's list.
    let got = id_set(&ids(&app, &stakeholder_offers(&sid), &[("valid_at", &rfc3339(now))]).await);
    assert_eq!(got, set_of(&[&undated, &current, &until_only]));
});

api_test!(cursor_walks_seven_offers_three_at_a_time, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let other = stakeholder(&app, json!({})).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(id_of(&create(&app, &sid, json!({"title": format!("Offer {i}")})).await));
        // Noise on another stakeholder for the nested list.
        if i % 3 == 0 {
            create(&app, &other, json!({})).await;
        }
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    for (url, sort, want, extra) in [
        (stakeholder_offers(&sid), None, newest_first.clone(), None),
        (stakeholder_offers(&sid), Some("created_at"), created.clone(), None),
        (LIST.to_owned(), None, newest_first.clone(), Some(sid.as_str().unwrap().to_owned())),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let mut q: Vec<(&str, &str)> = vec![("limit", "3")];
            if let Some(s) = sort {
                q.push(("sort", s));
            }
            if let Some(s) = &extra {
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
        assert_eq!(sizes, vec![3, 3, 1], "{url} {sort:?}");
        assert_eq!(seen, want, "{url} {sort:?}");
    }

    // A cursor from one sort is not valid for another.
    let (_, next, _) = page(&app, LIST, Role::Agent, &[("limit", "3")]).await;
    let res = app
        .get(LIST, Role::Agent)
        .query(&[("limit", "3"), ("sort", "created_at"), ("cursor", &next.unwrap())])
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
});

api_test!(stakeholder_offers_lists_only_that_stakeholder_and_404s_for_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({})).await;
    let b = create(&app, &s2, json!({})).await;
    let c = create(&app, &s1, json!({})).await;

    assert_eq!(ids(&app, &stakeholder_offers(&s1), &[]).await, vec![id_of(&c), id_of(&a)]);
    assert_eq!(ids(&app, &stakeholder_offers(&s2), &[]).await, vec![id_of(&b)]);
    // The path wins over a stakeholder_id filter.
    let s2_id = s2.as_str().unwrap();
    assert_eq!(ids(&app, &stakeholder_offers(&s1), &[("stakeholder_id", s2_id)]).await, vec![id_of(&c), id_of(&a)]);

    let empty = stakeholder(&app, json!({})).await;
    let (got, next, _) = page(&app, &stakeholder_offers(&empty), Role::Analyst, &[]).await;
    assert!(got.is_empty() && next.is_none());

    let res = app.get(&stakeholder_offers(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/offers", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&stakeholder_offers(&s1), Role::Admin).query(&[("sort", "title")]).send().await.unwrap();
    assert_problem(res, 400).await;
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

api_test!(no_304_while_a_sent_offer_can_still_expire, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let offer = create(&app, &s["id"], json!({"valid_until": rfc3339(Utc::now() + Duration::days(1))})).await;
    let res = app.req(Method::POST, &action_path(&offer["id"], "send"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Its status is computed from the clock, so "2" cannot vouch for it: always a full answer.
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"2\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(body["status"], "sent");
    // A draft cannot change by itself: 304 as usual.
    let draft = create(&app, &s["id"], json!({})).await;
    let res = app.get(&path(&draft["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
});

api_test!(actions_without_input_refuse_a_body, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let offer = create(&app, &s["id"], json!({})).await;
    let send = action_path(&offer["id"], "send");
    let res = app
        .req(Method::POST, &send, Role::Agent)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app
        .req(Method::POST, &send, Role::Agent)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app.post(&send, Role::Agent, &json!({"note": "x"})).send().await.unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["field"], "note");
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "draft", "nothing changed");
    let res = app.post(&send, Role::Agent, &json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "an empty object is no input");
});
