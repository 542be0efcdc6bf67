//! Interactions: create (money, `occurred_at`, enums, lengths, links, the
//! parent stakeholder), `Idempotency-Key` and hostile strings.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
