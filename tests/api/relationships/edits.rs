//! Changing and deleting relationships: merge patches, immutable ends and
//! type, ETags, delete, and the audit trail.

use serde_json::json;

use super::*;
use crate::api_test;

api_test!(a_merge_patch_changes_the_writable_fields_and_honours_if_match, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let edge = link_as(&app, Role::Agent, &a, &b, "supplier_to", json!({"notes": "old", "strength": 2})).await;
    let url = path(&edge["id"]);
    let res = app
        .req(reqwest::Method::PATCH, &url, Role::Agent)
        .header("content-type", "application/merge-patch+json")
        .header("If-Match", "\"1\"")
        .body(json!({"notes": null, "strength": 5, "started_on": "2020-01-01"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    let (status, _, got) = parts(res).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (&got["notes"], &got["strength"], &got["started_on"], &got["version"]),
        (&json!(null), &json!(5), &json!("2020-01-01"), &json!(2))
    );
    assert_eq!(got["created_by"], "agent-user");
    // A stale If-Match is 412 and changes nothing.
    let res = app.patch(&url, Role::Agent, &json!({"strength": 1})).header("If-Match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    // The ends and the type cannot change; every one is named.
    let c = stakeholder(&app, json!({})).await;
    let res =
        app.patch(&url, Role::Agent, &json!({"from_id": c, "to_id": a, "type": "owner_of"})).send().await.unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(sorted(error_fields(&problem)), vec!["from_id", "to_id", "type"]);
    let res = app.patch(&url, Role::Agent, &json!({"ended_on": "2019-12-31"})).send().await.unwrap();
    assert_422(res, "ended_on", Some("range")).await;
    // A patch that changes nothing keeps the version.
    assert_eq!(patch_ok(&app, &url, Role::Agent, json!({"strength": 5})).await["version"], 2);
    assert_eq!(fetch(&app, &url, Role::Admin).await, got);
    // If-None-Match on GET.
    let res = app.get(&url, Role::Analyst).header("If-None-Match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), 304);
});

api_test!(delete_is_permanent_managers_only_and_audited, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let edge = link(&app, &a, &b, "investor_in").await;
    let url = path(&edge["id"]);
    assert_problem(app.delete(&url, Role::Agent).send().await.unwrap(), 403).await;
    assert_problem(app.delete(&url, Role::Manager).header("If-Match", "\"7\"").send().await.unwrap(), 412).await;
    assert_eq!(app.delete(&url, Role::Manager).send().await.unwrap().status(), 204);
    assert_problem(app.get(&url, Role::Admin).send().await.unwrap(), 404).await;
    assert_problem(app.delete(&url, Role::Manager).send().await.unwrap(), 404).await;
    // The audit trail: created, updated, deleted; field names, never values.
    let id = edge["id"].as_str().unwrap();
    let edge2 = link_as(&app, Role::Agent, &a, &b, "contact_of", json!({"notes": "private words"})).await;
    patch_ok(&app, &path(&edge2["id"]), Role::Agent, json!({"notes": "other words"})).await;
    let log = fetch(&app, "/api/v1/audit-events?resource_type=relationship&limit=200", Role::Admin).await;
    let events = log["data"].as_array().unwrap();
    let of = |rid: &str| -> Vec<String> {
        let mut v: Vec<String> = events
            .iter()
            .filter(|e| e["resource_id"] == rid)
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(of(id), vec!["relationship.created", "relationship.deleted"]);
    assert_eq!(of(edge2["id"].as_str().unwrap()), vec!["relationship.created", "relationship.updated"]);
    let text = log.to_string();
    assert!(!text.contains("private words") && !text.contains("other words"), "no values in the audit log");
    let updated = events.iter().find(|e| e["action"] == "relationship.updated").unwrap();
    assert_eq!(updated["changed_fields"], json!(["notes"]));
    assert_eq!(updated["stakeholder_id"], a);
});
