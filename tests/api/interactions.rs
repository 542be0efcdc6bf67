//! Interactions: create (money, occurred_at, links, parent stakeholder),
//! roles and partner isolation, merge-patch updates, ETags, delete, lists
//! (sorts, filters, keyset pagination, the stakeholder timeline),
//! `Idempotency-Key` and hostile strings.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

const LIST: &str = "/api/v1/interactions";

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn timeline(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/interactions", stakeholder.as_str().expect("id is a string"))
}

/// A valid `contact` interaction for `stakeholder`, with `extra` merged in
/// (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body =
        json!({"stakeholder_id": stakeholder, "channel": "phone", "direction": "outbound", "type": "contact"});
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

/// A valid `purchase` interaction for `stakeholder`.
fn purchase(stakeholder: &Value, amount_minor: i64) -> Value {
    input(
        stakeholder,
        json!({"channel": "in_store", "direction": "inbound", "type": "purchase",
               "amount": {"amount_minor": amount_minor, "currency": "IDR"}}),
    )
}

/// POSTs `body` as `role`, expects 201; returns the body.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates a contact interaction as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

// ---------------------------------------------------------------- create

api_test!(create_returns_201_with_location_etag_and_body, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let body = json!({"stakeholder_id": sid, "channel": "mobile_app", "direction": "inbound", "type": "purchase",
                      "occurred_at": "2025-03-01T10:15:30Z", "subject": "Weekly groceries", "notes": "paid by card",
                      "outcome": "completed", "amount": {"amount_minor": 125000, "currency": "IDR"},
                      "satisfaction": 5, "offer_id": null, "complaint_id": null});
    let res = app.post(LIST, Role::Agent, &body).send().await.unwrap();
    let (status, headers, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["id"].as_str().expect("id");
    Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(headers["location"].to_str().unwrap(), format!("/api/v1/interactions/{id}"));
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(got["stakeholder_id"], sid);
    assert_eq!(got["channel"], "mobile_app");
    assert_eq!(got["direction"], "inbound");
    assert_eq!(got["type"], "purchase");
    assert!(got.get("interaction_type").is_none(), "the wire name is `type`: {got}");
    assert_eq!(parse_ts(&got["occurred_at"]), parse_ts(&json!("2025-03-01T10:15:30Z")));
    assert!(got["occurred_at"].as_str().unwrap().ends_with('Z'), "{got}");
    assert_eq!(got["subject"], "Weekly groceries");
    assert_eq!(got["notes"], "paid by card");
    assert_eq!(got["outcome"], "completed");
    assert_eq!(got["amount"], json!({"amount_minor": 125000, "currency": "IDR"}));
    assert_eq!(got["satisfaction"], 5);
    assert_eq!(got["offer_id"], Value::Null);
    assert_eq!(got["complaint_id"], Value::Null);
    assert_eq!(got["recorded_by"], "agent-user");
    assert_eq!(got["version"], 1);
    assert!(got["created_at"].as_str().unwrap().ends_with('Z'), "{got}");
    assert_eq!(got["created_at"], got["updated_at"]);

    let res = app.get(&format!("{LIST}/{id}"), Role::Analyst).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(read, got);

    // recorded_by is always the caller, whoever it is.
    let by_manager = create_as(&app, Role::Manager, &input(&sid, json!({}))).await;
    assert_eq!(by_manager["recorded_by"], "manager-user");
    assert_eq!(by_manager["amount"], Value::Null);
    assert_eq!(by_manager["satisfaction"], Value::Null);
    assert_eq!(by_manager["subject"], Value::Null);
});

api_test!(every_enum_value_round_trips, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for channel in ["email", "phone", "meeting", "chat", "social", "mobile_app", "web", "letter", "in_store", "other"] {
        let got = create(&app, &sid, json!({"channel": channel})).await;
        assert_eq!(got["channel"], channel);
    }
    for direction in ["inbound", "outbound"] {
        let got = create(&app, &sid, json!({"direction": direction})).await;
        assert_eq!(got["direction"], direction);
    }
    for t in ["contact", "support", "feedback", "visit", "note"] {
        let got = create(&app, &sid, json!({"type": t})).await;
        assert_eq!(got["type"], t);
        assert_eq!(got["amount"], Value::Null);
    }
    let got = create_as(&app, Role::Admin, &purchase(&sid, 1)).await;
    assert_eq!(got["type"], "purchase");

    // Unknown enum values are 422 "enum", case-sensitive.
    let p = create_422(&app, LIST, input(&sid, json!({"channel": "fax"})), "channel", Some("enum")).await;
    assert_eq!(error_fields(&p), vec!["channel"], "{p}");
    create_422(&app, LIST, input(&sid, json!({"direction": "sideways"})), "direction", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"type": "Purchase"})), "type", Some("enum")).await;
    create_422(&app, LIST, input(&sid, json!({"channel": "Email"})), "channel", Some("enum")).await;
});

api_test!(occurred_at_defaults_to_now_and_may_not_be_far_in_the_future, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let before = Utc::now();
    let got = create(&app, &sid, json!({})).await;
    let after = Utc::now();
    let at = parse_ts(&got["occurred_at"]);
    assert!(
        at >= before - Duration::seconds(5) && at <= after + Duration::seconds(5),
        "occurred_at {at} should default to now ({before}..{after})"
    );

    // 4 minutes ahead (clock skew) is fine.
    let soon = rfc3339(Utc::now() + Duration::minutes(4));
    let got = create(&app, &sid, json!({"occurred_at": soon})).await;
    assert_eq!(parse_ts(&got["occurred_at"]), parse_ts(&json!(soon)));

    // More than 5 minutes ahead is not.
    for ahead in [Duration::minutes(6), Duration::days(400)] {
        let later = rfc3339(Utc::now() + ahead);
        let p = create_422(&app, LIST, input(&sid, json!({"occurred_at": later})), "occurred_at", Some("range")).await;
        assert_eq!(error_fields(&p), vec!["occurred_at"], "{p}");
    }

    // The past is fine, also long ago.
    let got = create(&app, &sid, json!({"occurred_at": "1999-12-31T23:59:59Z"})).await;
    assert_eq!(parse_ts(&got["occurred_at"]), parse_ts(&json!("1999-12-31T23:59:59Z")));

    // Other offsets are accepted and rendered in UTC.
    let got = create(&app, &sid, json!({"occurred_at": "2025-03-01T17:00:00+07:00"})).await;
    assert_eq!(parse_ts(&got["occurred_at"]), parse_ts(&json!("2025-03-01T10:00:00Z")));
    assert!(got["occurred_at"].as_str().unwrap().ends_with('Z'), "{got}");

    // Not a timestamp: a type error on the field.
    create_422(&app, LIST, input(&sid, json!({"occurred_at": "yesterday"})), "occurred_at", Some("type")).await;
    create_422(&app, LIST, input(&sid, json!({"occurred_at": 1_700_000_000})), "occurred_at", Some("type")).await;

    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await.len(), 4, "no rejected interaction was stored");
});

api_test!(amount_is_required_for_purchases_and_forbidden_otherwise, |app| {
    let sid = stakeholder(&app, json!({})).await;

    let no_amount = input(&sid, json!({"type": "purchase"}));
    let p = create_422(&app, LIST, no_amount, "amount", Some("required")).await;
    assert_eq!(error_fields(&p), vec!["amount"], "{p}");
    create_422(&app, LIST, input(&sid, json!({"type": "purchase", "amount": null})), "amount", Some("required")).await;

    for t in ["contact", "support", "feedback", "visit", "note"] {
        let body = input(&sid, json!({"type": t, "amount": {"amount_minor": 100, "currency": "IDR"}}));
        let p = create_422(&app, LIST, body, "amount", Some("forbidden")).await;
        assert_eq!(error_fields(&p), vec!["amount"], "{t}: {p}");
    }

    // Zero is a valid amount; other ISO 4217 codes too.
    let got = create_as(&app, Role::Admin, &purchase(&sid, 0)).await;
    assert_eq!(got["amount"], json!({"amount_minor": 0, "currency": "IDR"}));
    let mut eur = purchase(&sid, 1999);
    eur["amount"]["currency"] = json!("EUR");
    let got = create_as(&app, Role::Admin, &eur).await;
    assert_eq!(got["amount"], json!({"amount_minor": 1999, "currency": "EUR"}));
    // Large amounts survive (IDR amounts are big).
    let got = create_as(&app, Role::Admin, &purchase(&sid, 9_000_000_000_000)).await;
    assert_eq!(got["amount"]["amount_minor"], 9_000_000_000_000_i64);

    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await.len(), 3, "no rejected interaction was stored");
});

api_test!(amount_shape_and_currency_are_validated, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let with_amount = |amount: Value| {
        let mut b = purchase(&sid, 1);
        b["amount"] = amount;
        b
    };

    // Currency: an ISO 4217 code in upper case.
    for bad in ["idr", "XYZ", "Idr", "", "RUPIAH"] {
        let p = create_422(
            &app,
            LIST,
            with_amount(json!({"amount_minor": 100, "currency": bad})),
            "amount.currency",
            Some("currency"),
        )
        .await;
        assert_eq!(error_fields(&p), vec!["amount.currency"], "{bad}: {p}");
    }

    // Negative amounts are rejected.
    let res =
        app.post(LIST, Role::Admin, &with_amount(json!({"amount_minor": -1, "currency": "IDR"}))).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    let fields = error_fields(&p);
    assert!(!fields.is_empty() && fields.iter().all(|f| f.starts_with("amount")), "{p}");

    // Never a float, never a string: a type error on `amount`.
    for amount in [
        json!({"amount_minor": 1.5, "currency": "IDR"}),
        json!({"amount_minor": "1000", "currency": "IDR"}),
        json!({"amount_minor": 1000}),
        json!({"amount_minor": u64::MAX, "currency": "IDR"}),
        json!({"amount_minor": null, "currency": "IDR"}),
        json!(1000),
        json!("1000 IDR"),
    ] {
        let p = create_422(&app, LIST, with_amount(amount.clone()), "amount", Some("type")).await;
        assert_eq!(error_fields(&p), vec!["amount"], "{amount}: {p}");
    }

    // An unknown key inside the money object.
    let res = app
        .post(LIST, Role::Admin, &with_amount(json!({"amount_minor": 1, "currency": "IDR", "fx": 1})))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422).await;
    let fields = error_fields(&p);
    assert!(!fields.is_empty() && fields.iter().all(|f| f.starts_with("amount")), "{p}");

    assert!(all_ids(&app, &timeline(&sid), &[]).await.is_empty(), "no rejected interaction was stored");
});

api_test!(satisfaction_and_text_lengths_are_bounded, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for s in [0, 6, -1, 100] {
        let p = create_422(&app, LIST, input(&sid, json!({"satisfaction": s})), "satisfaction", Some("range")).await;
        assert_eq!(error_fields(&p), vec!["satisfaction"], "{s}: {p}");
    }
    create_422(&app, LIST, input(&sid, json!({"satisfaction": 4.5})), "satisfaction", Some("type")).await;
    for s in 1..=5 {
        let got = create(&app, &sid, json!({"satisfaction": s})).await;
        assert_eq!(got["satisfaction"], s);
    }

    // Limits count characters, not bytes.
    let limits = [("subject", 200), ("notes", 10_000), ("outcome", 200)];
    for (field, max) in limits {
        let ok = "é".repeat(max);
        let got = create(&app, &sid, json!({ field: ok })).await;
        assert_eq!(got[field], ok.as_str(), "{field} of {max} characters is fine");
        let p = create_422(&app, LIST, input(&sid, json!({ field: "a".repeat(max + 1) })), field, Some("length")).await;
        assert_eq!(error_fields(&p), vec![field], "{p}");
    }
    create_422(&app, LIST, input(&sid, json!({"subject": 42})), "subject", Some("type")).await;

    // Empty strings are allowed (no minimum).
    let got = create(&app, &sid, json!({"subject": "", "outcome": ""})).await;
    assert_eq!(got["subject"], "");

    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await.len(), 5 + 3 + 1);
});

api_test!(a_422_lists_every_invalid_field_at_once, |app| {
    let sid = stakeholder(&app, json!({})).await;

    // Nothing at all: every required field.
    let res = app.post(LIST, Role::Admin, &json!({})).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    for f in ["stakeholder_id", "channel", "direction", "type"] {
        assert_code(&p, f, "required");
    }

    // Type errors, enum errors, unknown fields and rule violations together.
    let body = json!({"stakeholder_id": sid, "channel": "pigeon", "direction": 3, "type": "purchase",
                      "satisfaction": 9, "subject": "s".repeat(201), "colour": "blue",
                      "occurred_at": rfc3339(Utc::now() + Duration::hours(2))});
    let res = app.post(LIST, Role::Admin, &body).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    assert_code(&p, "channel", "enum");
    assert_code(&p, "direction", "type");
    assert_code(&p, "colour", "unknown_field");
    assert_code(&p, "satisfaction", "range");
    assert_code(&p, "subject", "length");
    assert_code(&p, "amount", "required");
    assert_code(&p, "occurred_at", "range");

    // Read-only fields are unknown fields in a body.
    let body = input(
        &sid,
        json!({"id": Uuid::now_v7(), "recorded_by": "someone-else", "version": 7,
               "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
               "interaction_type": "contact"}),
    );
    let res = app.post(LIST, Role::Admin, &body).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    for f in ["id", "recorded_by", "version", "created_at", "updated_at", "interaction_type"] {
        assert_code(&p, f, "unknown_field");
    }

    // A stakeholder_id that is not a UUID is a type error, not a 404.
    create_422(&app, LIST, input(&sid, json!({"stakeholder_id": "abc"})), "stakeholder_id", Some("type")).await;
    create_422(&app, LIST, input(&sid, json!({"stakeholder_id": null})), "stakeholder_id", Some("required")).await;

    assert!(all_ids(&app, LIST, &[]).await.is_empty(), "no rejected interaction was stored");
});

api_test!(offer_and_complaint_links_must_reference_existing_records, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let p =
        create_422(&app, LIST, input(&sid, json!({"offer_id": Uuid::now_v7()})), "offer_id", Some("reference")).await;
    assert_eq!(error_fields(&p), vec!["offer_id"], "{p}");
    let p =
        create_422(&app, LIST, input(&sid, json!({"complaint_id": Uuid::now_v7()})), "complaint_id", Some("reference"))
            .await;
    assert_eq!(error_fields(&p), vec!["complaint_id"], "{p}");
    let res = app
        .post(LIST, Role::Admin, &input(&sid, json!({"offer_id": Uuid::now_v7(), "complaint_id": Uuid::now_v7()})))
        .send()
        .await
        .unwrap();
    let p = assert_422(res, "offer_id", Some("reference")).await;
    assert_code(&p, "complaint_id", "reference");
    // The stakeholder's own id is not an offer either.
    create_422(&app, LIST, input(&sid, json!({"offer_id": sid})), "offer_id", Some("reference")).await;
    create_422(&app, LIST, input(&sid, json!({"offer_id": "not-a-uuid"})), "offer_id", Some("type")).await;

    let got = create(&app, &sid, json!({"offer_id": null, "complaint_id": null})).await;
    assert_eq!(got["offer_id"], Value::Null);
    assert_eq!(got["complaint_id"], Value::Null);

    // PATCH cannot set a link either.
    let res = app.patch(&path(&got["id"]), Role::Admin, &json!({"offer_id": Uuid::now_v7()})).send().await.unwrap();
    assert_422(res, "offer_id", Some("reference")).await;
    let res = app.patch(&path(&got["id"]), Role::Admin, &json!({"complaint_id": Uuid::now_v7()})).send().await.unwrap();
    assert_422(res, "complaint_id", Some("reference")).await;

    assert_eq!(all_ids(&app, LIST, &[]).await, vec![id_of(&got)]);
});

api_test!(the_stakeholder_must_exist_and_be_visible, |app| {
    let shared_a = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let shared_b = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let unshared = stakeholder(&app, json!({})).await;

    // Unknown stakeholder: 404, for every role that may create.
    let ghost = json!(Uuid::now_v7());
    for role in [Role::Admin, Role::Manager, Role::Agent, Role::Partner] {
        let res = app.post(LIST, role, &input(&ghost, json!({}))).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // A partner only records for stakeholders shared with it.
    for other in [&shared_b, &unshared] {
        let res = app.post(LIST, Role::Partner, &input(other, json!({}))).send().await.unwrap();
        assert_problem(res, 404).await;
    }
    let got = create_as(&app, Role::Partner, &input(&shared_a, json!({"channel": "chat"}))).await;
    assert_eq!(got["stakeholder_id"], shared_a);
    assert_eq!(got["recorded_by"], format!("partner-{PARTNER_A}"));

    // Partner B is the mirror image.
    let res = app
        .client
        .post(app.url(LIST))
        .bearer_auth(partner_token(PARTNER_B))
        .json(&input(&shared_a, json!({})))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
    let res = app
        .client
        .post(app.url(LIST))
        .bearer_auth(partner_token(PARTNER_B))
        .json(&input(&shared_b, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Everyone else may record for any stakeholder.
    for role in [Role::Admin, Role::Manager, Role::Agent] {
        for s in [&shared_a, &shared_b, &unshared] {
            create_as(&app, role, &input(s, json!({}))).await;
        }
    }
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 2 + 9);
});

api_test!(archived_stakeholder_is_409_until_restored, |app| {
    let sid = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let before = create(&app, &sid, json!({})).await;

    let res =
        app.delete(&format!("/api/v1/stakeholders/{}", sid.as_str().unwrap()), Role::Manager).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    for role in [Role::Admin, Role::Agent, Role::Partner] {
        let res = app.post(LIST, role, &input(&sid, json!({}))).send().await.unwrap();
        assert_problem(res, 409).await;
    }
    let res = app.post(LIST, Role::Admin, &purchase(&sid, 100)).send().await.unwrap();
    assert_problem(res, 409).await;

    // Existing interactions stay readable.
    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await, vec![id_of(&before)]);
    assert_eq!(fetch(&app, &path(&before["id"]), Role::Admin).await, before);

    let res = app
        .req(Method::POST, &format!("/api/v1/stakeholders/{}/restore", sid.as_str().unwrap()), Role::Manager)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after = create_as(&app, Role::Partner, &input(&sid, json!({}))).await;
    assert_eq!(sorted(all_ids(&app, &timeline(&sid), &[]).await), sorted(vec![id_of(&before), id_of(&after)]));
});

// ---------------------------------------------------------------- roles

api_test!(roles_decide_who_may_do_what, |app| {
    let sid = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;

    // Admin, manager, agent create, read and patch.
    let mut made = Vec::new();
    for role in [Role::Admin, Role::Manager, Role::Agent] {
        let got = create_as(&app, role, &input(&sid, json!({"subject": role.as_str()}))).await;
        for reader in Role::ALL {
            assert_eq!(fetch(&app, &path(&got["id"]), reader).await["subject"], role.as_str());
        }
        let patched = patch_ok(&app, &path(&got["id"]), role, json!({"outcome": format!("by {role}")})).await;
        assert_eq!(patched["version"], 2);
        assert_eq!(patched["recorded_by"], format!("{role}-user"), "recorded_by does not change on PATCH");
        made.push(patched);
    }

    // Analyst: read only.
    let res = app.post(LIST, Role::Analyst, &input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 403).await;
    let id = &made[0]["id"];
    let res = app.patch(&path(id), Role::Analyst, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 403).await;
    let res = app.delete(&path(id), Role::Analyst).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_eq!(all_ids_as(&app, LIST, Role::Analyst, &[]).await.len(), 3);

    // Agent: no DELETE.
    let res = app.delete(&path(id), Role::Agent).send().await.unwrap();
    assert_problem(res, 403).await;

    // Partner: read and create for its stakeholders, nothing else.
    let own = create_as(&app, Role::Partner, &input(&sid, json!({}))).await;
    for target in [&own["id"], id] {
        let res = app.patch(&path(target), Role::Partner, &json!({"subject": "x"})).send().await.unwrap();
        assert_problem(res, 403).await;
        let res = app.delete(&path(target), Role::Partner).send().await.unwrap();
        assert_problem(res, 403).await;
    }

    // Nothing changed by the refused requests.
    for m in &made {
        assert_eq!(fetch(&app, &path(&m["id"]), Role::Admin).await, *m);
    }
    assert_eq!(fetch(&app, &path(&own["id"]), Role::Admin).await, own);
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 4);

    // Manager and admin delete.
    for (role, m) in [(Role::Manager, &made[0]), (Role::Admin, &made[1])] {
        let res = app.delete(&path(&m["id"]), role).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "DELETE as {role}");
    }
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 2);

    // No token: 401.
    let res = app.client.get(app.url(LIST)).send().await.unwrap();
    assert_problem(res, 401).await;
    let res = app.client.post(app.url(LIST)).json(&input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 401).await;
});

api_test!(partners_see_only_interactions_of_their_stakeholders, |app| {
    let a = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let b = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let none = stakeholder(&app, json!({})).await;
    let ia = create(&app, &a, json!({})).await;
    let ib = create(&app, &b, json!({})).await;
    let inone = create(&app, &none, json!({})).await;

    assert_eq!(all_ids_as(&app, LIST, Role::Partner, &[]).await, vec![id_of(&ia)]);
    assert_eq!(
        sorted(all_ids_as(&app, LIST, Role::Admin, &[]).await),
        sorted(vec![id_of(&ia), id_of(&ib), id_of(&inone)])
    );
    let (b_ids, _, _) = page_with_token(&app, LIST, &partner_token(PARTNER_B), &[]).await;
    assert_eq!(b_ids, vec![id_of(&ib)]);

    // Filtering on another's stakeholder shows nothing.
    assert!(
        all_ids_as(&app, &format!("{LIST}?stakeholder_id={}", b.as_str().unwrap()), Role::Partner, &[])
            .await
            .is_empty()
    );

    // GET of another's: 404, same as a missing one.
    assert_eq!(fetch(&app, &path(&ia["id"]), Role::Partner).await, ia);
    for other in [&ib, &inone] {
        let res = app.get(&path(&other["id"]), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // Timelines: own visible, others 404.
    assert_eq!(all_ids_as(&app, &timeline(&a), Role::Partner, &[]).await, vec![id_of(&ia)]);
    for other in [&b, &none] {
        let res = app.get(&timeline(other), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // A partner token without partner_id sees nothing at all (it is refused).
    let mut c = crate::helpers::claims(Role::Partner, "partner-without-id");
    c.partner_id = None;
    let res = app.client.get(app.url(LIST)).bearer_auth(crate::helpers::sign(c)).send().await.unwrap();
    assert_problem(res, 403).await;
});

// ---------------------------------------------------------------- PATCH

api_test!(patch_is_a_json_merge_patch, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let got = create(
        &app,
        &sid,
        json!({"subject": "Call", "notes": "left a message", "satisfaction": 3,
                                        "occurred_at": "2025-02-01T09:00:00Z"}),
    )
    .await;
    let id = &got["id"];

    let res = app.patch(&path(id), Role::Agent, &json!({"subject": "Call back", "notes": null})).send().await.unwrap();
    let (status, headers, p1) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{p1}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(p1["version"], 2);
    assert_eq!(p1["subject"], "Call back");
    assert_eq!(p1["notes"], Value::Null);
    assert_eq!(p1["satisfaction"], 3, "absent means unchanged");
    assert_eq!(p1["channel"], got["channel"]);
    assert_eq!(p1["occurred_at"], got["occurred_at"]);
    assert_eq!(p1["created_at"], got["created_at"]);
    assert_eq!(p1["recorded_by"], "admin-user");
    assert!(parse_ts(&p1["updated_at"]) >= parse_ts(&got["updated_at"]));

    // application/merge-patch+json.
    let res = app
        .req(Method::PATCH, &path(id), Role::Agent)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"channel": "email", "direction": "inbound", "satisfaction": null, "occurred_at": "2025-02-02T09:00:00Z"}"#)
        .send()
        .await
        .unwrap();
    let (status, _, p2) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{p2}");
    assert_eq!(p2["version"], 3);
    assert_eq!(p2["channel"], "email");
    assert_eq!(p2["direction"], "inbound");
    assert_eq!(p2["satisfaction"], Value::Null);
    assert_eq!(parse_ts(&p2["occurred_at"]), parse_ts(&json!("2025-02-02T09:00:00Z")));
    assert_eq!(p2["subject"], "Call back");
    assert_eq!(fetch(&app, &path(id), Role::Admin).await, p2);

    // An empty patch or one with the same values keeps the version.
    let same = patch_ok(&app, &path(id), Role::Admin, json!({})).await;
    assert_eq!(same, p2);
    let same = patch_ok(&app, &path(id), Role::Admin, json!({"subject": "Call back", "stakeholder_id": sid})).await;
    assert_eq!(same["version"], 3);

    // Validation applies to the patched document.
    let res = app.patch(&path(id), Role::Admin, &json!({"satisfaction": 6, "colour": "red"})).send().await.unwrap();
    let p = assert_422(res, "satisfaction", Some("range")).await;
    assert_code(&p, "colour", "unknown_field");
    let res = app.patch(&path(id), Role::Admin, &json!({"version": 9})).send().await.unwrap();
    assert_422(res, "version", Some("unknown_field")).await;
    let res = app.patch(&path(id), Role::Admin, &json!({"channel": null})).send().await.unwrap();
    assert_422(res, "channel", Some("required")).await;
    let res = app.patch(&path(id), Role::Admin, &json!({"type": null})).send().await.unwrap();
    let p = assert_422(res, "type", Some("required")).await;
    assert_eq!(error_fields(&p), vec!["type"], "the wire name, not the Rust one: {p}");
    let res = app.patch(&path(id), Role::Admin, &json!({"type": "Unknown"})).send().await.unwrap();
    assert_422(res, "type", Some("enum")).await;
    let res = app.patch(&path(id), Role::Admin, &json!({"subject": "x".repeat(201)})).send().await.unwrap();
    assert_422(res, "subject", Some("length")).await;
    let later = rfc3339(Utc::now() + Duration::minutes(30));
    let res = app.patch(&path(id), Role::Admin, &json!({"occurred_at": later})).send().await.unwrap();
    assert_422(res, "occurred_at", Some("range")).await;
    let res = app.patch(&path(id), Role::Admin, &json!({"subject": "a\u{0}b"})).send().await.unwrap();
    assert_problem(res, 422).await;

    // A body that is not an object is refused.
    let res = app.patch(&path(id), Role::Admin, &json!(["subject"])).send().await.unwrap();
    assert_problem(res, 400).await;

    assert_eq!(fetch(&app, &path(id), Role::Admin).await, p2, "rejected patches change nothing");

    // Unknown id: 404; bad id: 400.
    let res =
        app.patch(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.patch(&format!("{LIST}/not-a-uuid"), Role::Admin, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(patch_cannot_move_an_interaction_to_another_stakeholder, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let other = stakeholder(&app, json!({})).await;
    let got = create(&app, &sid, json!({})).await;
    let res = app.patch(&path(&got["id"]), Role::Admin, &json!({"stakeholder_id": other})).send().await.unwrap();
    let p = assert_422(res, "stakeholder_id", Some("immutable")).await;
    assert_eq!(error_fields(&p), vec!["stakeholder_id"], "{p}");
    let res =
        app.patch(&path(&got["id"]), Role::Admin, &json!({"stakeholder_id": Uuid::now_v7()})).send().await.unwrap();
    assert_422(res, "stakeholder_id", Some("immutable")).await;
    assert_eq!(fetch(&app, &path(&got["id"]), Role::Admin).await, got);
    assert!(all_ids(&app, &timeline(&other), &[]).await.is_empty());
});

api_test!(patch_keeps_the_amount_rule, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let buy = create_as(&app, Role::Admin, &purchase(&sid, 50_000)).await;
    let id = &buy["id"];

    // purchase → contact without clearing the amount.
    let res = app.patch(&path(id), Role::Agent, &json!({"type": "contact"})).send().await.unwrap();
    let p = assert_422(res, "amount", Some("forbidden")).await;
    assert_eq!(error_fields(&p), vec!["amount"], "{p}");
    // Clearing the amount of a purchase.
    let res = app.patch(&path(id), Role::Agent, &json!({"amount": null})).send().await.unwrap();
    assert_422(res, "amount", Some("required")).await;
    // Bad currency in a patch.
    let res = app.patch(&path(id), Role::Agent, &json!({"amount": {"currency": "idr"}})).send().await.unwrap();
    assert_422(res, "amount.currency", Some("currency")).await;
    assert_eq!(fetch(&app, &path(id), Role::Admin).await, buy);

    // Nested merge: only the currency changes.
    let p = patch_ok(&app, &path(id), Role::Agent, json!({"amount": {"currency": "USD"}})).await;
    assert_eq!(p["amount"], json!({"amount_minor": 50_000, "currency": "USD"}));
    let p =
        patch_ok(&app, &path(id), Role::Agent, json!({"amount": {"amount_minor": 75_000, "currency": "IDR"}})).await;
    assert_eq!(p["amount"], json!({"amount_minor": 75_000, "currency": "IDR"}));
    assert_eq!(p["version"], 3);

    // Both together: fine.
    let p = patch_ok(&app, &path(id), Role::Agent, json!({"type": "contact", "amount": null})).await;
    assert_eq!(p["type"], "contact");
    assert_eq!(p["amount"], Value::Null);
    assert_eq!(p["version"], 4);

    // contact → purchase needs an amount.
    let res = app.patch(&path(id), Role::Agent, &json!({"type": "purchase"})).send().await.unwrap();
    assert_422(res, "amount", Some("required")).await;
    let res = app
        .patch(&path(id), Role::Agent, &json!({"amount": {"amount_minor": 1, "currency": "IDR"}}))
        .send()
        .await
        .unwrap();
    assert_422(res, "amount", Some("forbidden")).await;
    let p = patch_ok(
        &app,
        &path(id),
        Role::Agent,
        json!({"type": "purchase", "amount": {"amount_minor": 1, "currency": "IDR"}}),
    )
    .await;
    assert_eq!(p["type"], "purchase");
    assert_eq!(p["amount"], json!({"amount_minor": 1, "currency": "IDR"}));
    assert_eq!(fetch(&app, &path(id), Role::Analyst).await, p);
});

// ---------------------------------------------------------------- ETags, delete

api_test!(etags_drive_conditional_requests, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let got = create(&app, &sid, json!({"subject": "v1"})).await;
    let url = path(&got["id"]);

    let res = app.get(&url, Role::Admin).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag_of(&res).as_deref(), Some("\"1\""));
    assert!(res.bytes().await.unwrap().is_empty());

    let res = app.get(&url, Role::Admin).header("if-none-match", "\"7\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag_of(&res).as_deref(), Some("\"1\""));

    // If-Match current: applied.
    let res = app.patch(&url, Role::Admin, &json!({"subject": "v2"})).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag_of(&res).as_deref(), Some("\"2\""));

    // If-Match stale: 412, nothing changed.
    let res = app.patch(&url, Role::Admin, &json!({"subject": "v3"})).header("if-match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &url, Role::Admin).await["subject"], "v2");

    // The old ETag no longer gives 304.
    let res = app.get(&url, Role::Admin).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get(&url, Role::Admin).header("if-none-match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // DELETE with a stale If-Match: 412, still there.
    let res = app.delete(&url, Role::Manager).header("if-match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &url, Role::Admin).await["version"], 2);

    // With the current one: gone.
    let res = app.delete(&url, Role::Manager).header("if-match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&url, Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
});

api_test!(delete_removes_the_interaction, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let keep = create(&app, &sid, json!({})).await;
    let gone = create(&app, &sid, json!({})).await;

    let res = app.delete(&path(&gone["id"]), Role::Manager).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null, "204 has no body");

    let res = app.get(&path(&gone["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.patch(&path(&gone["id"]), Role::Admin, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.delete(&path(&gone["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    assert_eq!(all_ids(&app, LIST, &[]).await, vec![id_of(&keep)]);
    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await, vec![id_of(&keep)]);

    let res = app.delete(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.delete(&format!("{LIST}/nope"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}/nope"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

// ---------------------------------------------------------------- lists

/// Four interactions created in the order a, b, c, d with occurred_at out of order.
async fn four(app: &TestApp, sid: &Value) -> [String; 4] {
    let a = create(app, sid, json!({"occurred_at": "2025-01-02T10:00:00Z"})).await;
    let b = create(app, sid, json!({"occurred_at": "2025-01-05T10:00:00Z"})).await;
    let c = create(app, sid, json!({"occurred_at": "2025-01-01T10:00:00Z"})).await;
    let d = create(app, sid, json!({"occurred_at": "2025-01-03T10:00:00Z"})).await;
    [id_of(&a), id_of(&b), id_of(&c), id_of(&d)]
}

api_test!(lists_sort_by_occurred_at_newest_first_by_default, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let [a, b, c, d] = four(&app, &sid).await;

    let res = app.get(LIST, Role::Admin).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(body["data"].as_array().unwrap().len(), 4);
    assert_eq!(body["data"][0]["type"], "contact");

    let newest_first = vec![b.clone(), d.clone(), a.clone(), c.clone()];
    assert_eq!(all_ids(&app, LIST, &[]).await, newest_first);
    assert_eq!(all_ids(&app, &format!("{LIST}?sort=-occurred_at"), &[]).await, newest_first);
    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await, newest_first);
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=occurred_at"), &[]).await,
        vec![c.clone(), a.clone(), d.clone(), b.clone()]
    );
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=created_at"), &[]).await,
        vec![a.clone(), b.clone(), c.clone(), d.clone()]
    );
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=-created_at"), &[]).await,
        vec![d.clone(), c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(all_ids(&app, &format!("{}?sort=occurred_at", timeline(&sid)), &[]).await, vec![c, a, d, b]);

    for bad in ["updated_at", "subject", "-", "occurred_at,created_at", "+occurred_at", "OCCURRED_AT"] {
        let res = app.get(&format!("{LIST}?sort={bad}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_every_field, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let x1 = create(
        &app,
        &s1,
        json!({"channel": "email", "direction": "inbound", "type": "support",
                                      "occurred_at": "2025-01-01T10:00:00Z"}),
    )
    .await;
    let x2 = create_as(
        &app,
        Role::Admin,
        &input(
            &s1,
            json!({"channel": "in_store", "direction": "inbound", "type": "purchase",
                   "amount": {"amount_minor": 10, "currency": "IDR"}, "occurred_at": "2025-01-02T10:00:00Z"}),
        ),
    )
    .await;
    let x3 = create(
        &app,
        &s2,
        json!({"channel": "email", "direction": "outbound", "type": "contact",
                                      "occurred_at": "2025-01-03T10:00:00Z"}),
    )
    .await;
    let x4 = create(
        &app,
        &s2,
        json!({"channel": "web", "direction": "outbound", "type": "feedback",
                                      "occurred_at": "2025-01-04T10:00:00Z"}),
    )
    .await;
    let [x1, x2, x3, x4] = [id_of(&x1), id_of(&x2), id_of(&x3), id_of(&x4)];
    let sid = |v: &Value| v.as_str().unwrap().to_owned();

    let q = |query: &str| format!("{LIST}?{query}");
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}", sid(&s1))), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}", sid(&s2))), &[]).await, vec![x4.clone(), x3.clone()]);
    assert!(all_ids(&app, &q(&format!("stakeholder_id={}", Uuid::now_v7())), &[]).await.is_empty());
    assert_eq!(all_ids(&app, &q("channel=email"), &[]).await, vec![x3.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q("channel=in_store"), &[]).await, vec![x2.clone()]);
    assert!(all_ids(&app, &q("channel=letter"), &[]).await.is_empty());
    assert_eq!(all_ids(&app, &q("direction=inbound"), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q("direction=outbound"), &[]).await, vec![x4.clone(), x3.clone()]);
    assert_eq!(all_ids(&app, &q("type=purchase"), &[]).await, vec![x2.clone()]);
    assert_eq!(all_ids(&app, &q("type=feedback"), &[]).await, vec![x4.clone()]);
    assert!(all_ids(&app, &q("type=visit"), &[]).await.is_empty());

    // occurred_after is inclusive, occurred_before exclusive.
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-02T10:00:00Z"), &[]).await,
        vec![x4.clone(), x3.clone(), x2.clone()]
    );
    assert_eq!(all_ids(&app, &q("occurred_after=2025-01-02T10:00:01Z"), &[]).await, vec![x4.clone(), x3.clone()]);
    assert_eq!(all_ids(&app, &q("occurred_before=2025-01-03T10:00:00Z"), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(
        all_ids(&app, &q("occurred_before=2025-01-03T10:00:01Z"), &[]).await,
        vec![x3.clone(), x2.clone(), x1.clone()]
    );
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-02T10:00:00Z&occurred_before=2025-01-04T10:00:00Z"), &[]).await,
        vec![x3.clone(), x2.clone()]
    );
    assert!(
        all_ids(&app, &q("occurred_after=2025-01-04T10:00:00Z&occurred_before=2025-01-04T10:00:00Z"), &[])
            .await
            .is_empty()
    );
    // Other offsets mean the same instant (`+` percent-encoded).
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-03T17:00:00%2B07:00"), &[]).await,
        vec![x4.clone(), x3.clone()]
    );

    // Combined.
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}&channel=email", sid(&s2))), &[]).await, vec![x3.clone()]);
    assert_eq!(all_ids(&app, &q("channel=email&direction=inbound&type=support"), &[]).await, vec![x1.clone()]);
    assert!(all_ids(&app, &q("channel=email&type=purchase"), &[]).await.is_empty());

    // The same filters on the timeline.
    assert_eq!(all_ids(&app, &format!("{}?channel=email", timeline(&s2)), &[]).await, vec![x3.clone()]);
    assert_eq!(all_ids(&app, &format!("{}?occurred_before=2025-01-02T10:00:00Z", timeline(&s1)), &[]).await, vec![x1]);
    assert_eq!(all_ids(&app, &format!("{}?type=feedback", timeline(&s1)), &[]).await, Vec::<String>::new());

    // Bad filter values: 400.
    for bad in [
        "channel=fax",
        "channel=Email",
        "direction=sideways",
        "type=sale",
        "stakeholder_id=not-a-uuid",
        "occurred_after=yesterday",
        "occurred_before=2025-13-01T00:00:00Z",
        "colour=blue",
        "limit=0",
        "limit=201",
        "limit=abc",
        "cursor=not-a-cursor",
        "sort=occurred_at%00",
        "type=contact%00",
    ] {
        let res = app.get(&q(bad), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
        let res = app.get(&format!("{}?{bad}", timeline(&s1)), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
    let res = app.get(&q(&format!("cursor={}", "a".repeat(600))), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(timeline_lists_one_stakeholder_and_is_404_when_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let empty = stakeholder(&app, json!({})).await;
    let mine = create(&app, &s1, json!({"occurred_at": "2025-01-01T10:00:00Z"})).await;
    let mine2 = create(&app, &s1, json!({"occurred_at": "2025-01-02T10:00:00Z"})).await;
    create(&app, &s2, json!({})).await;

    for role in [Role::Admin, Role::Manager, Role::Agent, Role::Analyst] {
        assert_eq!(all_ids_as(&app, &timeline(&s1), role, &[]).await, vec![id_of(&mine2), id_of(&mine)]);
    }
    let res = app.get(&timeline(&empty), Role::Admin).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": [], "next_cursor": null}));

    let res = app.get(&timeline(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/interactions", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;

    // An archived stakeholder's timeline stays readable.
    let res = app.delete(&format!("/api/v1/stakeholders/{}", s1.as_str().unwrap()), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(all_ids(&app, &timeline(&s1), &[]).await.len(), 2);
});

/// Walks every page of `base` with `limit`, calling `between` after each
/// page; returns all ids in order.
async fn walk(app: &TestApp, base: &str, limit: u32, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut url = format!("{base}{sep}limit={limit}");
    for n in 0.. {
        assert!(n < 50, "too many pages for {base}");
        let (ids, next, _) = page(app, &url, Role::Admin, &[]).await;
        assert!(ids.len() <= limit as usize, "page longer than limit: {ids:?}");
        out.extend(ids);
        between(n).await;
        match next {
            Some(c) => url = format!("{base}{sep}limit={limit}&cursor={}", enc(&c)),
            None => break,
        }
    }
    out
}

fn assert_each_once(walked: &[String], expected: &[String], what: &str) {
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: an id came twice: {walked:?}");
    for id in expected {
        assert_eq!(walked.iter().filter(|w| *w == id).count(), 1, "{what}: {id} not seen exactly once: {walked:?}");
    }
}

/// A fresh stakeholder with 12 interactions: distinct days plus a run of
/// equal `occurred_at` values (ties). Returns (stakeholder id, ids).
async fn twelve(app: &TestApp) -> (Value, Vec<String>) {
    let sid = stakeholder(app, json!({})).await;
    let mut out = Vec::new();
    for day in [9, 3, 11, 1, 7, 5, 5, 5, 5, 2, 10, 5] {
        let got = create(app, &sid, json!({"occurred_at": format!("2025-01-{day:02}T10:00:00Z")})).await;
        out.push(id_of(&got));
    }
    (sid, out)
}

api_test!(cursor_walk_returns_each_row_exactly_once, |app| {
    for sort in ["-occurred_at", "occurred_at", "created_at", "-created_at"] {
        let (sid, rows) = twelve(&app).await;
        let base = format!("{LIST}?sort={sort}&stakeholder_id={}", sid.as_str().unwrap());

        // Without inserts: pages of 5, 5, 2 in the same order as one big page.
        let mut sizes = Vec::new();
        let mut walked = Vec::new();
        let mut url = format!("{base}&limit=5");
        loop {
            let (ids, next, _) = page(&app, &url, Role::Admin, &[]).await;
            sizes.push(ids.len());
            walked.extend(ids);
            match next {
                Some(c) => url = format!("{base}&limit=5&cursor={}", enc(&c)),
                None => break,
            }
        }
        assert_eq!(sizes, vec![5, 5, 2], "{sort}");
        assert_each_once(&walked, &rows, sort);
        assert_eq!(walked, all_ids(&app, &base, &[]).await, "{sort}: pages follow the single-page order");

        // With inserts between pages (older, tied and newer occurred_at values).
        let (sid, rows) = twelve(&app).await;
        let base = format!("{LIST}?sort={sort}&stakeholder_id={}", sid.as_str().unwrap());
        let (app_ref, sid_ref) = (&app, &sid);
        let walked = walk(app_ref, &base, 5, async |n: usize| {
            for occurred in ["2024-06-01T10:00:00Z", "2025-01-05T10:00:00Z"] {
                let extra = json!({"occurred_at": occurred, "subject": format!("inserted after page {n}")});
                create(app_ref, sid_ref, extra).await;
            }
            create(app_ref, sid_ref, json!({"subject": "now"})).await;
        })
        .await;
        assert_each_once(&walked, &rows, sort);

        // The timeline pages the same way.
        let walked = walk(&app, &format!("{}?sort={sort}", timeline(&sid)), 5, async |_| {}).await;
        assert_eq!(walked, all_ids(&app, &format!("{}?sort={sort}", timeline(&sid)), &[]).await, "{sort}");
        assert_each_once(&walked, &rows, sort);
    }

    // A cursor belongs to its sort; a damaged cursor is a 400.
    let (_, next, _) = page(&app, &format!("{LIST}?limit=5&sort=occurred_at"), Role::Admin, &[]).await;
    let cursor = enc(&next.expect("a next page"));
    let res = app.get(&format!("{LIST}?limit=5&sort=created_at&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}?limit=5&sort=occurred_at&cursor={cursor}x"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}?limit=5&sort=occurred_at&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

api_test!(default_limit_is_50, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for i in 0..51 {
        create(&app, &sid, json!({"subject": format!("n{i}")})).await;
    }
    let (first, next, _) = page(&app, LIST, Role::Admin, &[]).await;
    assert_eq!(first.len(), 50);
    let next = next.expect("a second page");
    let (rest, last, _) = page(&app, &format!("{LIST}?cursor={}", enc(&next)), Role::Admin, &[]).await;
    assert_eq!(rest.len(), 1);
    assert!(last.is_none());
    assert!(!first.contains(&rest[0]));
    let (one, _, _) = page(&app, &format!("{LIST}?limit=1"), Role::Admin, &[]).await;
    assert_eq!(one.len(), 1);
    let (all, none, _) = page(&app, &format!("{LIST}?limit=200"), Role::Admin, &[]).await;
    assert_eq!(all.len(), 51);
    assert!(none.is_none());
});

// ---------------------------------------------------------------- idempotency

api_test!(idempotency_key_replays_the_first_response, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let body = purchase(&sid, 4200);
    let send = |role: Role, body: Value, key: &'static str| {
        let req = app.post(LIST, role, &body).header("Idempotency-Key", key);
        async move { req.send().await.unwrap() }
    };

    let res = send(Role::Agent, body.clone(), "pos-7-receipt-1").await;
    let (status, headers, first) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(headers.get("idempotent-replayed").is_none(), "a first response is not a replay");

    let res = send(Role::Agent, body.clone(), "pos-7-receipt-1").await;
    let (status, headers, again) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(again, first);
    assert_eq!(headers["location"].to_str().unwrap(), format!("/api/v1/interactions/{}", id_of(&first)));
    assert_eq!(all_ids(&app, LIST, &[]).await, vec![id_of(&first)], "one row only");

    // Same key, different body: 422, nothing created.
    let res = send(Role::Agent, purchase(&sid, 4300), "pos-7-receipt-1").await;
    assert_problem(res, 422).await;
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 1);

    // Same key, another caller: independent.
    let res = send(Role::Manager, body.clone(), "pos-7-receipt-1").await;
    let (status, headers, other) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(other["id"], first["id"]);
    assert_eq!(other["recorded_by"], "manager-user");

    // Another key: a new row.
    let res = send(Role::Agent, body.clone(), "pos-7-receipt-2").await;
    let (status, _, third) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(third["id"], first["id"]);

    // Without a key: a new row each time.
    create_as(&app, Role::Agent, &body).await;
    create_as(&app, Role::Agent, &body).await;
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 5);
});

// ---------------------------------------------------------------- hostile strings

api_test!(hostile_strings_round_trip_and_nul_is_rejected, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let subject = r#"Robert'); DROP TABLE interactions;-- "quoted" 100% _x_ \ 😀"#;
    let notes = "line 1\nline 2\t\"tab\" 'single' %% %s {} ${x} <script>alert(1)</script> \u{202e}rtl 🇮🇩 👩‍👩‍👧";
    let outcome = "ok % _ \\ \u{00a0}";
    let got = create(&app, &sid, json!({"subject": subject, "notes": notes, "outcome": outcome})).await;
    assert_eq!(got["subject"], subject);
    assert_eq!(got["notes"], notes);
    assert_eq!(got["outcome"], outcome);
    let read = fetch(&app, &path(&got["id"]), Role::Analyst).await;
    assert_eq!(read, got);
    let res = app.get(&format!("{LIST}?limit=200"), Role::Admin).send().await.unwrap();
    let (_, _, list) = parts(res).await;
    assert_eq!(list["data"][0], got);
    let patched = patch_ok(&app, &path(&got["id"]), Role::Admin, json!({"outcome": subject})).await;
    assert_eq!(patched["outcome"], subject);

    // NUL cannot be stored: 422 on the field, nothing created.
    for field in ["subject", "notes", "outcome"] {
        let res = app.post(LIST, Role::Admin, &input(&sid, json!({ field: "a\u{0}b" }))).send().await.unwrap();
        let p = assert_problem(res, 422).await;
        assert_eq!(error_fields(&p), vec![field], "{p}");
    }
    let mut bad = purchase(&sid, 1);
    bad["amount"]["currency"] = json!("ID\u{0}");
    let res = app.post(LIST, Role::Admin, &bad).send().await.unwrap();
    assert_problem(res, 422).await;
    assert_eq!(all_ids(&app, LIST, &[]).await, vec![id_of(&got)]);
});

api_test!(idempotent_replay_never_crosses_partners, |app| {
    // Two partner integrations that happen to share a `sub`.
    let token_for = |partner: Uuid| {
        let mut c = claims(Role::Partner, "shared-bot");
        c.partner_id = Some(partner.to_string());
        sign(c)
    };
    let s = app.create_stakeholder(json!({"partner_id": PARTNER_A})).await;
    let body = json!({"stakeholder_id": s["id"], "channel": "chat", "direction": "inbound", "type": "contact",
                      "notes": "private to partner A"});
    let first = app
        .client
        .post(app.url("/api/v1/interactions"))
        .bearer_auth(token_for(PARTNER_A))
        .header("Idempotency-Key", "order-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let second = app
        .client
        .post(app.url("/api/v1/interactions"))
        .bearer_auth(token_for(PARTNER_B))
        .header("Idempotency-Key", "order-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(second.headers().get("idempotent-replayed").is_none(), "no replay across partners");
    let problem = assert_problem(second, 404).await;
    assert!(!problem.to_string().contains("private to partner A"));
});
