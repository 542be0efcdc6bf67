//! Complaints: who may do what (agents act but do not assign, analysts read,
//! partners open and read the complaints of their own stakeholders).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

use super::*;

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
