//! Complaints: the lifecycle actions (every transition and every refusal over
//! HTTP, action bodies, assignment, If-Match).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
