//! PII hygiene outside the tables (contracts/privacy.md): problem details
//! never echo a submitted value, and `X-Request-Id` is taken only in a narrow
//! charset (else replaced, not echoed).

use reqwest::Method;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

/// Stands for a name or an e-mail address a client put where it should not.
const MARK: &str = "SitiRahayu";

api_test!(problem_details_never_echo_submitted_values, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let gets = [
        format!("/api/v1/stakeholders?kind={MARK}"),
        format!("/api/v1/stakeholders?limit={MARK}"),
        format!("/api/v1/stakeholders?limit=1{MARK}"),
        format!("/api/v1/stakeholders?sort={MARK}"),
        format!("/api/v1/stakeholders?organization_id={MARK}"),
        format!("/api/v1/stakeholders?include_archived={MARK}"),
        format!("/api/v1/stakeholders?updated_since={MARK}"),
        format!("/api/v1/stakeholders?cursor={MARK}"),
        format!("/api/v1/stakeholders/{MARK}"),
        format!("/api/v1/stakeholders/{id}/consent-history?consent={MARK}"),
        format!("/api/v1/interactions?channel={MARK}"),
        format!("/api/v1/complaints?sla_breached={MARK}"),
        format!("/api/v1/audit-events?category={MARK}"),
        format!("/api/v1/audit-events?action={MARK}"),
        format!("/api/v1/audit-events?actor_role={MARK}"),
        format!("/api/v1/{MARK}"),
        format!("/api/v1/stakeholders/{id}/{MARK}"),
    ];
    for path in gets {
        let res = app.get(&path, Role::Admin).send().await.unwrap();
        let (status, _, body) = parts(res).await;
        assert!(status.is_client_error(), "{path}: {status}");
        let detail = body.to_string().replace(&format!("/api/v1/{MARK}"), "").replace(&format!("/{MARK}"), "");
        // `instance` is the request path itself; nothing else may carry the value.
        assert!(!detail.contains(MARK), "{path}: {body}");
    }
    let bodies = [
        json!({"kind": MARK, "display_name": "x", "entity_type": "person"}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "household_size": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "birth_date": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "organization_id": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "tags": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "email": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "phone": MARK}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "address": {"country": MARK}}),
        json!({"kind": "customer", "entity_type": "person", "display_name": "x", "consents": {"profiling": MARK}}),
    ];
    for body in bodies {
        let res = app.post("/api/v1/stakeholders", Role::Admin, &body).send().await.unwrap();
        let (status, _, problem) = parts(res).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert!(!problem.to_string().contains(MARK), "{body}: {problem}");
    }
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{id}/consents"),
            Role::Admin,
            &json!({"changes": [{"consent": MARK, "granted": true}]}),
        )
        .send()
        .await
        .unwrap();
    let (status, _, problem) = parts(res).await;
    assert_eq!(status, 422);
    assert!(!problem.to_string().contains(MARK), "{problem}");
    let res = app
        .req(Method::POST, "/api/v1/stakeholders", Role::Admin)
        .header("content-type", "application/json")
        .body(format!("{{\"display_name\": \"{MARK}\""))
        .send()
        .await
        .unwrap();
    let (status, _, problem) = parts(res).await;
    assert_eq!(status, 400);
    assert!(!problem.to_string().contains(MARK), "{problem}");
});

api_test!(request_ids_outside_the_narrow_charset_are_replaced, |app| {
    for bad in ["siti@example.com", "Siti Rahayu", "a/b", "x=1", "ünïcode"] {
        let res = app.get("/api/v1/stakeholders", Role::Admin).header("X-Request-Id", bad).send().await.unwrap();
        let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(echoed, bad);
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "a generated id, not the sent one: {echoed}");
    }
    for good in ["req-1", "a.b_c:d-E9", &"x".repeat(128)] {
        let res = app.get("/api/v1/stakeholders", Role::Admin).header("X-Request-Id", good).send().await.unwrap();
        assert_eq!(res.headers()["x-request-id"], good);
    }
});
