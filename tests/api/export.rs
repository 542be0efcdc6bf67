//! `GET /api/v1/stakeholders/{id}/export` (contracts/privacy.md): admin and
//! manager only, everything held in one document in the pinned order,
//! recorded before the first byte (fail closed), paged through large
//! histories.

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

fn export_url(id: &str) -> String {
    format!("/api/v1/stakeholders/{id}/export")
}

async fn export(app: &TestApp, role: Role, id: &str) -> (reqwest::header::HeaderMap, Value) {
    let res = app.get(&export_url(id), role).send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    (headers, body)
}

async fn interaction(app: &TestApp, sid: &str, occurred_at: &str, notes: &str) -> String {
    let body = json!({"stakeholder_id": sid, "channel": "phone", "direction": "inbound", "type": "contact",
                      "occurred_at": occurred_at, "notes": notes});
    let res = app.post("/api/v1/interactions", Role::Agent, &body).send().await.unwrap();
    let (status, _, created) = parts(res).await;
    assert_eq!(status, 201, "{created}");
    id_of(&created)
}

api_test!(only_admins_and_managers_export_role_first, |app| {
    let s = app.create_stakeholder(json!({"partner_id": PARTNER_A.to_string()})).await;
    let id = id_of(&s);
    for role in [Role::Agent, Role::Analyst, Role::Partner] {
        assert_problem(app.get(&export_url(&id), role).send().await.unwrap(), 403).await;
        assert_problem(app.get(&export_url(&uuid::Uuid::now_v7().to_string()), role).send().await.unwrap(), 403).await;
    }
    assert_problem(app.get(&export_url(&uuid::Uuid::now_v7().to_string()), Role::Admin).send().await.unwrap(), 404)
        .await;
    assert_problem(app.get(&export_url("nope"), Role::Admin).send().await.unwrap(), 400).await;
    assert_problem(app.client.get(app.url(&export_url(&id))).send().await.unwrap(), 401).await;
    for role in [Role::Admin, Role::Manager] {
        export(&app, role, &id).await;
    }
});

api_test!(the_export_holds_everything_in_the_pinned_order, |app| {
    let s = app
        .create_stakeholder(
            json!({"email": "siti@example.com", "phone": "+6281234567890", "partner_id": PARTNER_A.to_string(),
            "tags": ["vip"], "address": {"line1": "Jl. Merdeka 1", "city": "Bandung", "country": "ID"},
            "consents": {"sensitive_data": true, "marketing_sms": true}, "sensitive": {"health_notes": "asthma"},
            "income_band": "high"}),
        )
        .await;
    let sid = id_of(&s);
    let later = interaction(&app, &sid, "2026-03-01T10:00:00Z", "second").await;
    let earlier = interaction(&app, &sid, "2026-01-01T10:00:00Z", "first").await;
    let res = app
        .post(
            "/api/v1/offers",
            Role::Agent,
            &json!({"stakeholder_id": sid, "title": "Gold", "price": {"amount_minor": 5, "currency": "IDR"}}),
        )
        .send()
        .await
        .unwrap();
    let offer = id_of(&res.json::<Value>().await.unwrap());
    let res = app
        .post(
            "/api/v1/complaints",
            Role::Agent,
            &json!({"stakeholder_id": sid, "subject": "Late", "description": "Two weeks",
            "category": "delivery", "severity": "low"}),
        )
        .send()
        .await
        .unwrap();
    let complaint = id_of(&res.json::<Value>().await.unwrap());
    let res = app
        .post(&format!("/api/v1/stakeholders/{sid}/consents"), Role::Agent,
              &json!({"changes": [{"consent": "marketing_email", "granted": true, "legal_basis": "legitimate_interests"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let other = app.create_stakeholder(json!({})).await;
    interaction(&app, &id_of(&other), "2026-02-01T10:00:00Z", "someone else").await;

    let res = app.get(&export_url(&sid), Role::Manager).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"stakeholder-{sid}.json\"").as_str());
    assert_eq!(headers["cache-control"], "no-store");
    // The sections in the pinned order (each key's first appearance is its own).
    let order = [
        "format",
        "format_version",
        "generated_at",
        "stakeholder",
        "consent_history",
        "lifecycle_history",
        "interactions",
        "offers",
        "complaints",
        "relationships",
        "processing",
        "access_log",
        "counts",
    ];
    let at: Vec<usize> =
        order.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    assert_eq!(doc.as_object().unwrap().len(), order.len());
    assert_eq!((doc["format"].clone(), doc["format_version"].clone()), (json!("crm.stakeholder_export"), json!(1)));
    let st = &doc["stakeholder"];
    assert_eq!(st["email"], "siti@example.com");
    assert_eq!(st["address"]["line1"], "Jl. Merdeka 1");
    assert_eq!(st["sensitive"]["health_notes"], "asthma");
    assert_eq!(st["income_band"], "high");
    // Created at the default stage: one creation row, dated with the stakeholder.
    assert_eq!(
        doc["lifecycle_history"],
        json!([{"from_stage": null, "to_stage": st["lifecycle_stage"], "changed_at": st["created_at"]}])
    );
    let ids = |k: &str| -> Vec<String> { doc[k].as_array().unwrap().iter().map(id_of).collect() };
    assert_eq!(ids("interactions"), [earlier, later], "by occurred_at, oldest first; nobody else's");
    assert_eq!(ids("offers"), [offer]);
    assert_eq!(ids("complaints"), [complaint]);
    let history: Vec<&str> =
        doc["consent_history"].as_array().unwrap().iter().map(|c| c["consent"].as_str().unwrap()).collect();
    assert_eq!(history, ["marketing_sms", "sensitive_data", "marketing_email"]);
    let purposes = doc["processing"]["purposes"].as_array().unwrap();
    assert_eq!(purposes.len(), 5);
    let email = purposes.iter().find(|p| p["purpose"] == "marketing_email").unwrap();
    assert_eq!(email, &json!({"purpose": "marketing_email", "legal_basis": "legitimate_interests", "active": true}));
    let profiling = purposes.iter().find(|p| p["purpose"] == "profiling").unwrap();
    assert_eq!(profiling, &json!({"purpose": "profiling", "legal_basis": "consent", "active": false}));
    assert_eq!(doc["processing"]["recipients"], json!([{"type": "partner", "partner_id": PARTNER_A.to_string()}]));
    assert_eq!(doc["processing"]["retention_notice"], Value::Null);
    let log = doc["access_log"].as_array().unwrap();
    for e in log {
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["action", "actor_role", "category", "occurred_at"], "{e}");
    }
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.first(), Some(&"stakeholder.created"));
    assert_eq!(actions.last(), Some(&"stakeholder.exported"), "the export itself is on record before it is written");
    assert!(actions.contains(&"stakeholder.consent_changed") && actions.contains(&"offer.created"));
    let text = doc["access_log"].to_string();
    assert!(!text.contains("-user"), "no staff sub in the access log: {text}");
    assert_eq!(
        doc["counts"],
        json!({"interactions": 2, "offers": 1, "complaints": 1, "consent_changes": 3, "access_log": log.len(),
               "relationships": 0})
    );

    // On record, with counts, and not as a read of sensitive data.
    let (_, _, events) = page(&app, "/api/v1/audit-events", Role::Admin, &[("stakeholder_id", &sid)]).await;
    let exported = &events["data"][0];
    assert_eq!(exported["action"], "stakeholder.exported");
    assert_eq!(exported["category"], "privacy");
    assert_eq!(exported["actor"]["role"], "manager");
    assert_eq!(exported["metadata"]["counts"]["interactions"], 2);
    assert_eq!(
        exported["metadata"]["counts"], doc["counts"],
        "the record says what the document holds, itself included"
    );
    let viewed =
        events["data"].as_array().unwrap().iter().filter(|e| e["action"] == "stakeholder.sensitive_viewed").count();
    assert_eq!(viewed, 1, "only the create's answer: {events}");
});

api_test!(the_retention_notice_is_the_operators_text, |app| {
    let backend = app.backend;
    drop(app);
    let app =
        TestApp::spawn_with(backend, &[("CRM_PRIVACY_RETENTION_NOTICE", "Kept 5 years after the last purchase.")])
            .await;
    let s = app.create_stakeholder(json!({})).await;
    let (_, doc) = export(&app, Role::Admin, &id_of(&s)).await;
    assert_eq!(doc["processing"]["retention_notice"], "Kept 5 years after the last purchase.");
    assert_eq!(doc["processing"]["recipients"], json!([]));
});

api_test!(a_long_history_is_paged_through_in_order, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let sid = id_of(&s);
    let total = 1_203;
    let start = instant("2025-01-01T00:00:00Z");
    // Newest first, so that the export's order is not the order of creation.
    for i in (0..total).rev() {
        interaction(&app, &sid, &rfc3339(start + chrono::Duration::seconds(i as i64)), "n").await;
    }
    let (_, doc) = export(&app, Role::Admin, &sid).await;
    let list = doc["interactions"].as_array().unwrap();
    assert_eq!(list.len(), total);
    assert_eq!(doc["counts"]["interactions"], total);
    let times: Vec<&str> = list.iter().map(|i| i["occurred_at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    let unique: std::collections::HashSet<String> = list.iter().map(id_of).collect();
    assert_eq!(unique.len(), total, "every interaction once across the pages");
});

api_test!(no_export_leaves_without_its_record, |app| {
    let s = app.create_stakeholder(json!({"email": "kept-back@example.com"})).await;
    let id = id_of(&s);
    refuse_audit_action(&app, "stakeholder.exported");
    let res = app.get(&export_url(&id), Role::Admin).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(!text.contains("kept-back@example.com"), "{text}");
});
