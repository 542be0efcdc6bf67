//! Complaints: the SLA (`due_at` from the severity's target, configurable
//! targets) and `sla_breached` on reads, lists and filters.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
