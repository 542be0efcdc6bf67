//! Consent with legal basis (contracts/privacy.md): `POST …/consents`, its
//! rules per purpose, renewals, the history's new fields and filters, and
//! the audit events of consent changes.

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

fn consents_url(id: &str) -> String {
    format!("/api/v1/stakeholders/{id}/consents")
}

fn history_url(id: &str) -> String {
    format!("/api/v1/stakeholders/{id}/consent-history")
}

async fn record(app: &TestApp, role: Role, id: &str, changes: Value) -> reqwest::Response {
    app.post(&consents_url(id), role, &json!({ "changes": changes })).send().await.unwrap()
}

/// The actions of a stakeholder's audit events, oldest first (reads of its
/// sensitive fields left out: `sensitive_reads.rs` covers them).
async fn audit_actions(app: &TestApp, id: &str) -> Vec<(String, Value)> {
    let (_, _, body) =
        page(app, "/api/v1/audit-events", Role::Admin, &[("stakeholder_id", id), ("sort", "occurred_at")]).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] != "stakeholder.sensitive_viewed")
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["changed_fields"].clone()))
        .collect()
}

api_test!(a_grant_is_recorded_with_its_basis_source_and_evidence, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let res = record(
        &app,
        Role::Agent,
        &id,
        json!([{"consent": "marketing_email", "granted": true, "legal_basis": "legitimate_interests",
                "source": "web_form", "captured_at": "2026-01-02T03:04:05Z", "evidence_ref": "form-42/a#1"}]),
    )
    .await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["etag"], "\"2\"");
    assert_eq!(body["consents"]["marketing_email"], true);
    assert_eq!(body["consents"]["profiling"], false);
    let r = &body["recorded"][0];
    assert_eq!(r["consent"], "marketing_email");
    assert_eq!((r["old_value"].clone(), r["new_value"].clone()), (json!(false), json!(true)));
    assert_eq!(r["legal_basis"], "legitimate_interests");
    assert_eq!(r["source"], "web_form");
    assert_eq!(r["captured_at"], "2026-01-02T03:04:05Z");
    assert_eq!(r["evidence_ref"], "form-42/a#1");
    assert_eq!(r["changed_by"], "agent-user");

    let (_, _, history) = page(&app, &history_url(&id), Role::Analyst, &[]).await;
    assert_eq!(history["data"].as_array().unwrap().len(), 1);
    assert_eq!(&history["data"][0], r);
    let stakeholder = fetch(&app, &format!("/api/v1/stakeholders/{id}"), Role::Admin).await;
    assert_eq!(
        (stakeholder["version"].clone(), stakeholder["consents"]["marketing_email"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(
        audit_actions(&app, &id).await,
        [
            (
                "stakeholder.created".to_owned(),
                json!([
                    "kind",
                    "entity_type",
                    "display_name",
                    "lifecycle_stage",
                    "preferred_categories",
                    "interests",
                    "tags",
                    "preferences",
                    "consents"
                ])
            ),
            ("stakeholder.consent_changed".to_owned(), json!(["consents.marketing_email"])),
        ]
    );
});

api_test!(defaults_are_the_purpose_basis_api_and_now, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let before = chrono::Utc::now();
    let res = record(
        &app,
        Role::Manager,
        &id,
        json!([
            {"consent": "sensitive_data", "granted": true}, {"consent": "profiling", "granted": true}
        ]),
    )
    .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    let recorded = body["recorded"].as_array().unwrap();
    assert_eq!(recorded[0]["legal_basis"], "explicit_consent");
    assert_eq!(recorded[1]["legal_basis"], "consent");
    for r in recorded {
        assert_eq!(r["source"], "api");
        assert_eq!(r["evidence_ref"], Value::Null);
        let captured = parse_ts(&r["captured_at"]);
        assert!(captured >= before - chrono::Duration::seconds(1) && captured <= chrono::Utc::now(), "{r}");
        assert_eq!(r["captured_at"], r["changed_at"]);
    }
});

api_test!(the_same_value_again_is_a_renewal_without_a_new_version, |app| {
    let s = app.create_stakeholder(json!({"consents": {"marketing_sms": true}})).await;
    let id = id_of(&s);
    let res =
        record(&app, Role::Agent, &id, json!([{"consent": "marketing_sms", "granted": true, "source": "phone"}])).await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["etag"], "\"1\"", "a renewal changes nothing");
    let r = &body["recorded"][0];
    assert_eq!((r["old_value"].clone(), r["new_value"].clone()), (json!(true), json!(true)));
    let (_, _, history) = page(&app, &history_url(&id), Role::Admin, &[]).await;
    let rows = history["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "the create's grant and the renewal: {history}");
    assert_eq!(rows[1]["source"], "phone");
    let actions: Vec<String> = audit_actions(&app, &id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["stakeholder.created"], "no event for a renewal");
});

api_test!(withdrawing_sensitive_data_erases_sensitive, |app| {
    let s = app
        .create_stakeholder(json!({"consents": {"sensitive_data": true}, "sensitive": {"health_notes": "asthma"}}))
        .await;
    let id = id_of(&s);
    assert_eq!(s["sensitive"]["health_notes"], "asthma");
    let res = record(&app, Role::Agent, &id, json!([{"consent": "sensitive_data", "granted": false}])).await;
    assert_eq!(res.status(), 200);
    let after = fetch(&app, &format!("/api/v1/stakeholders/{id}"), Role::Admin).await;
    assert_eq!(after["sensitive"], Value::Null);
    assert_eq!(after["consents"]["sensitive_data"], false);
    let events = audit_actions(&app, &id).await;
    assert_eq!(events[1], ("stakeholder.consent_changed".to_owned(), json!(["consents.sensitive_data", "sensitive"])));
    // Granting it again does not bring the data back.
    let res = record(&app, Role::Manager, &id, json!([{"consent": "sensitive_data", "granted": true}])).await;
    assert_eq!(res.status(), 200);
    let again = fetch(&app, &format!("/api/v1/stakeholders/{id}"), Role::Admin).await;
    assert_eq!(again["sensitive"], Value::Null);
});

api_test!(bad_changes_are_422_with_every_field_named, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!([{"consent": "sensitive_data", "granted": true, "legal_basis": "consent"}]),
            "changes[0].legal_basis",
            "not_allowed",
        ),
        (
            json!([{"consent": "marketing_email", "granted": true, "legal_basis": "contract"}]),
            "changes[0].legal_basis",
            "not_allowed",
        ),
        (
            json!([{"consent": "profiling", "granted": true}, {"consent": "profiling", "granted": false}]),
            "changes[1].consent",
            "duplicate",
        ),
        (json!([{"consent": "profiling", "granted": true, "source": "import"}]), "changes[0].source", "server_only"),
        (json!([{"consent": "profiling", "granted": true, "source": "erasure"}]), "changes[0].source", "server_only"),
        (
            json!([{"consent": "profiling", "granted": true, "captured_at": "2999-01-01T00:00:00Z"}]),
            "changes[0].captured_at",
            "range",
        ),
        (
            json!([{"consent": "profiling", "granted": true, "captured_at": "1899-12-31T23:59:59Z"}]),
            "changes[0].captured_at",
            "range",
        ),
        (
            json!([{"consent": "profiling", "granted": true, "evidence_ref": "mail me@x.org"}]),
            "changes[0].evidence_ref",
            "invalid_character",
        ),
        (json!([{"consent": "profiling", "granted": true, "evidence_ref": ""}]), "changes[0].evidence_ref", "length"),
        (json!([{"consent": "profiling"}]), "changes[0].granted", "required"),
        (json!([]), "changes", "length"),
    ];
    for (changes, field, code) in cases {
        let res = record(&app, Role::Agent, &id, changes.clone()).await;
        let problem = assert_422(res, field, Some(code)).await;
        assert!(!problem.to_string().contains("me@x.org"), "no value echoed: {problem}");
    }
    let six: Vec<Value> =
        ["marketing_email", "marketing_sms", "marketing_phone", "profiling", "sensitive_data", "profiling"]
            .iter()
            .map(|c| json!({"consent": c, "granted": false}))
            .collect();
    assert_422(record(&app, Role::Agent, &id, json!(six)).await, "changes", Some("length")).await;
    let res = app.post(&consents_url(&id), Role::Agent, &json!({})).send().await.unwrap();
    assert_422(res, "changes", Some("required")).await;
    let res = app.post(&consents_url(&id), Role::Agent, &json!({"changes": [], "note": 1})).send().await.unwrap();
    assert_422(res, "note", Some("unknown_field")).await;
    // Nothing was recorded by any of them.
    let (_, _, history) = page(&app, &history_url(&id), Role::Admin, &[]).await;
    assert_eq!(history["data"], json!([]));
    let s = fetch(&app, &format!("/api/v1/stakeholders/{id}"), Role::Admin).await;
    assert_eq!(s["version"], 1);
});

api_test!(roles_precondition_and_visibility, |app| {
    let s = app.create_stakeholder(json!({"partner_id": PARTNER_A.to_string()})).await;
    let id = id_of(&s);
    let grant = json!([{"consent": "marketing_email", "granted": true}]);
    for role in [Role::Analyst, Role::Partner] {
        assert_problem(record(&app, role, &id, grant.clone()).await, 403).await;
        assert_problem(record(&app, role, &uuid::Uuid::now_v7().to_string(), json!("not even a list")).await, 403)
            .await;
    }
    assert_problem(record(&app, Role::Agent, &uuid::Uuid::now_v7().to_string(), grant.clone()).await, 404).await;
    let res = app
        .req(reqwest::Method::POST, &consents_url(&id), Role::Agent)
        .header("content-type", "text/plain")
        .body(json!({ "changes": grant }).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    assert_problem(
        app.client.post(app.url(&consents_url(&id))).json(&json!({ "changes": grant })).send().await.unwrap(),
        401,
    )
    .await;
    let res = app
        .post(&consents_url(&id), Role::Admin, &json!({ "changes": grant }))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, 412).await;
    let res = app
        .post(&consents_url(&id), Role::Admin, &json!({ "changes": grant }))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
});

api_test!(an_idempotency_key_replays_the_recording, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let send =
        |body: Value| app.post(&consents_url(&id), Role::Agent, &body).header("Idempotency-Key", "consent-1").send();
    let body = json!({"changes": [{"consent": "marketing_phone", "granted": true}]});
    let (status, _, first) = parts(send(body.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    let res = send(body).await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.headers()["etag"], "\"2\"");
    let (status, _, replay) = parts(res).await;
    assert_eq!((status.as_u16(), &replay), (200, &first));
    let (_, _, history) = page(&app, &history_url(&id), Role::Admin, &[]).await;
    assert_eq!(history["data"].as_array().unwrap().len(), 1, "recorded once");
    let other = json!({"changes": [{"consent": "marketing_phone", "granted": false}]});
    assert_422(send(other).await.unwrap(), "Idempotency-Key", Some("idempotency_mismatch")).await;
});

api_test!(a_patch_of_consents_records_api_defaults_and_its_own_event, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = id_of(&s);
    let res = app
        .patch(
            &format!("/api/v1/stakeholders/{id}"),
            Role::Agent,
            &json!({"consents": {"marketing_sms": true, "sensitive_data": true}, "segment": "gold"}),
        )
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2, "one version for the whole PATCH");
    let (_, _, history) = page(&app, &history_url(&id), Role::Admin, &[]).await;
    let rows = history["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let bases: Vec<&str> = rows.iter().map(|r| r["legal_basis"].as_str().unwrap()).collect();
    assert_eq!(bases, ["consent", "explicit_consent"]);
    assert!(rows.iter().all(|r| r["source"] == "api" && r["captured_at"] == r["changed_at"]));
    let events = audit_actions(&app, &id).await;
    assert_eq!(
        events[1],
        ("stakeholder.consent_changed".to_owned(), json!(["consents.marketing_sms", "consents.sensitive_data"]))
    );
    assert_eq!(events[2], ("stakeholder.updated".to_owned(), json!(["segment"])));
    assert_eq!(events.len(), 3);
});

api_test!(the_history_filters_by_consent_and_time, |app| {
    let s = app.create_stakeholder(json!({"consents": {"marketing_email": true}})).await;
    let id = id_of(&s);
    record(&app, Role::Agent, &id, json!([{"consent": "profiling", "granted": true}])).await;
    record(&app, Role::Agent, &id, json!([{"consent": "marketing_email", "granted": false}])).await;
    let consents = |body: &Value| -> Vec<String> {
        body["data"].as_array().unwrap().iter().map(|r| r["consent"].as_str().unwrap().to_owned()).collect()
    };
    let (_, _, all) = page(&app, &history_url(&id), Role::Admin, &[]).await;
    assert_eq!(consents(&all), ["marketing_email", "profiling", "marketing_email"]);
    let (_, _, email) = page(&app, &history_url(&id), Role::Admin, &[("consent", "marketing_email")]).await;
    assert_eq!(consents(&email), ["marketing_email", "marketing_email"]);
    let second = all["data"][1]["changed_at"].as_str().unwrap().to_owned();
    let (_, _, after) = page(&app, &history_url(&id), Role::Admin, &[("changed_after", &second)]).await;
    assert_eq!(consents(&after), ["profiling", "marketing_email"]);
    let (_, _, before) = page(&app, &history_url(&id), Role::Admin, &[("changed_before", &second)]).await;
    assert_eq!(consents(&before), ["marketing_email"]);
    for bad in ["consent=newsletter", "changed_after=soon", "colour=red"] {
        let res = app.get(&format!("{}?{bad}", history_url(&id)), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});
