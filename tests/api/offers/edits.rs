//! Offers: PATCH (merge patch, drafts only, If-Match) and DELETE (drafts only,
//! managers and admins, not while an interaction links to it).

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

use super::*;

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
