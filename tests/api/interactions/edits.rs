//! Interactions: merge-patch updates, ETags and conditional requests, delete.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
