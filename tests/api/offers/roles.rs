//! Offers: who may do what (analysts read, partners see and answer the offers
//! of their own stakeholders, agents do everything but delete).

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

use super::*;

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
