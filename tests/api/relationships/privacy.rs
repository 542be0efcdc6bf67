//! Relationships and personal data: erasure keeps the edges and clears their
//! notes; the export lists them.

use serde_json::json;

use super::*;
use crate::api_test;

api_test!(erasure_keeps_the_edges_clears_their_notes_and_refuses_edits, |app| {
    let (subject, friend, third) =
        (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let out = link_as(&app, Role::Agent, &subject, &friend, "family_of", json!({"notes": "her sister"})).await;
    let keyed = json!({"from_id": third, "to_id": subject, "type": "referred_by", "notes": "met at church"});
    let res = app.post(LIST, Role::Agent, &keyed).header("Idempotency-Key", "edge-k").send().await.unwrap();
    let (_, _, inc) = parts(res).await;
    let untouched = link_as(&app, Role::Agent, &friend, &third, "other", json!({"notes": "kept"})).await;
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", subject.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "data_subject_request"}),
        )
        .send()
        .await
        .unwrap();
    let (status, _, receipt) = parts(res).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["redacted"]["relationships"], 2);
    for (edge, version) in [(&out, 2), (&inc, 2)] {
        let now = fetch(&app, &path(&edge["id"]), Role::Admin).await;
        assert_eq!(
            (&now["notes"], &now["type"], &now["from_id"], &now["to_id"]),
            (&json!(null), &edge["type"], &edge["from_id"], &edge["to_id"])
        );
        assert_eq!(now["version"], version, "a new version: no cached copy of the notes validates");
    }
    assert_eq!(fetch(&app, &path(&untouched["id"]), Role::Admin).await, untouched);
    // Its edges take no more changes; a new edge to it is 409 erased; delete is allowed.
    let res = app.patch(&path(&out["id"]), Role::Agent, &json!({"notes": "again"})).send().await.unwrap();
    assert_eq!(assert_problem(res, 409).await["type"], "https://crm.example/problems/erased");
    // The stored answer of the keyed create held the notes: a replay is 410.
    let res = app.post(LIST, Role::Agent, &keyed).header("Idempotency-Key", "edge-k").send().await.unwrap();
    assert_eq!(assert_problem(res, 410).await["type"], "https://crm.example/problems/erased");
    assert_eq!(app.delete(&path(&out["id"]), Role::Manager).send().await.unwrap().status(), 204);
    // No note text anywhere the subject can be read.
    let edges = all_as(&app, &edges_of(&subject), Role::Admin).await;
    assert_eq!(edges.len(), 1);
    assert!(!serde_json::to_string(&edges).unwrap().contains("church"));
});

api_test!(a_keyed_create_deleted_before_the_erasure_replays_as_410_not_its_body, |app| {
    let (subject, other) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let edge = json!({"from_id": other, "to_id": subject, "type": "contact_of", "notes": "SECRET edge"});
    let res = app.post(LIST, Role::Agent, &edge).header("Idempotency-Key", "gone-edge").send().await.unwrap();
    let (_, _, made) = parts(res).await;
    let contact = json!({"stakeholder_id": subject, "channel": "phone", "direction": "inbound", "type": "contact",
                         "notes": "SECRET interaction"});
    let res = app
        .post("/api/v1/interactions", Role::Agent, &contact)
        .header("Idempotency-Key", "gone-int")
        .send()
        .await
        .unwrap();
    let (_, _, interaction) = parts(res).await;
    // Both deleted before the erasure: only the stored answers still hold the text.
    assert_eq!(app.delete(&path(&made["id"]), Role::Manager).send().await.unwrap().status(), 204);
    let url = format!("/api/v1/interactions/{}", interaction["id"].as_str().unwrap());
    assert_eq!(app.delete(&url, Role::Manager).send().await.unwrap().status(), 204);
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", subject.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "objection"}),
        )
        .send()
        .await
        .unwrap();
    let (_, _, receipt) = parts(res).await;
    assert_eq!(receipt["redacted"]["idempotency_records"], 2, "{receipt}");
    for (url, body, key) in [(LIST, &edge, "gone-edge"), ("/api/v1/interactions", &contact, "gone-int")] {
        let res = app.post(url, Role::Agent, body).header("Idempotency-Key", key).send().await.unwrap();
        let text = res.text().await.unwrap();
        assert!(text.contains("/problems/erased") && !text.contains("SECRET"), "{url}: {text}");
    }
});

api_test!(the_export_lists_the_relationships_at_either_end, |app| {
    let (subject, org, friend) =
        (stakeholder(&app, json!({})).await, organization(&app, "PT Maju").await, stakeholder(&app, json!({})).await);
    let a = link(&app, &subject, &org, "employee_of").await;
    let b = link(&app, &friend, &subject, "referred_by").await;
    let _other = link(&app, &friend, &org, "contact_of").await;
    let export =
        fetch(&app, &format!("/api/v1/stakeholders/{}/export", subject.as_str().unwrap()), Role::Manager).await;
    assert_eq!(export["relationships"], json!([a, b]), "oldest first, either end");
    assert_eq!(export["counts"]["relationships"], 2);
    // Other stakeholders by id only.
    assert!(!export.to_string().contains("PT Maju"));
});
