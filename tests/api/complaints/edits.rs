//! Complaints: merge-patch edits (a severity change recomputes `due_at` from
//! `created_at` while unresolved and not yet due; no edits once closed).

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

use super::*;

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
