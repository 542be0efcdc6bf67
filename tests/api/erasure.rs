//! `POST /api/v1/stakeholders/{id}/erase` (contracts/privacy.md): the
//! anonymisation table, the receipt (the same on every call), tombstones for
//! stored idempotent answers, the size limit, roles and bad input, all or
//! nothing, and no original value left anywhere in the database.

use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

fn erase_url(id: &str) -> String {
    format!("/api/v1/stakeholders/{id}/erase")
}

const REQUEST: &str = r#"{"reason": "data_subject_request", "request_reference": "DSR-2026-0042"}"#;

/// Everything a marked stakeholder holds; every string here must be gone after erasure.
const MARKS: [&str; 11] = [
    "Siti Markwati",
    "siti.mark@example.com",
    "6281299990000",
    "Jl. Tandai 17",
    "tag-mark",
    "pref-mark",
    "sensitive-mark",
    "interaction-notes-mark",
    "offer-description-mark",
    "complaint-text-mark",
    "resolution-mark",
];

async fn ok_json(res: reqwest::Response, status: u16) -> Value {
    let (st, _, body) = parts(res).await;
    assert_eq!(st.as_u16(), status, "{body}");
    body
}

/// A stakeholder holding every kind of personal data, with records under it;
/// returns (stakeholder, interaction, offer, complaint) ids.
async fn marked(app: &TestApp) -> (String, String, String, String) {
    let org = id_of(&app.create_stakeholder(json!({"entity_type": "organization", "display_name": "Org"})).await);
    let s = app
        .create_stakeholder(json!({"display_name": MARKS[0], "email": MARKS[1], "phone": format!("+{}", MARKS[2]),
            "address": {"line1": MARKS[3], "city": "Bandung", "country": "ID"}, "tags": [MARKS[4]],
            "preferences": {MARKS[5]: true}, "consents": {"sensitive_data": true, "marketing_email": true},
            "sensitive": {"health_notes": MARKS[6]}, "income_band": "high", "organization_id": org,
            "birth_date": "1990-01-02", "occupation": "Teacher", "segment": "gold"}))
        .await;
    let sid = id_of(&s);
    let i = ok_json(
        app.post(
            "/api/v1/interactions",
            Role::Agent,
            &json!({"stakeholder_id": sid, "channel": "in_store",
            "direction": "inbound", "type": "purchase", "notes": MARKS[7], "subject": "Visit",
            "amount": {"amount_minor": 125000, "currency": "IDR"}}),
        )
        .header("Idempotency-Key", "purchase-1")
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let o = ok_json(
        app.post(
            "/api/v1/offers",
            Role::Agent,
            &json!({"stakeholder_id": sid, "title": "Gold plan",
            "description": MARKS[8], "price": {"amount_minor": 5, "currency": "IDR"}}),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let c = ok_json(
        app.post(
            "/api/v1/complaints",
            Role::Agent,
            &json!({"stakeholder_id": sid, "subject": MARKS[9],
            "description": MARKS[9], "category": "delivery", "severity": "low"}),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let cid = id_of(&c);
    for action in ["acknowledge", "start"] {
        ok_json(
            app.post(&format!("/api/v1/complaints/{cid}/{action}"), Role::Agent, &json!({})).send().await.unwrap(),
            200,
        )
        .await;
    }
    ok_json(
        app.post(&format!("/api/v1/complaints/{cid}/resolve"), Role::Agent, &json!({"resolution": MARKS[10]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    ok_json(
        app.post(
            &format!("/api/v1/stakeholders/{sid}/consents"),
            Role::Agent,
            &json!({"changes": [{"consent": "profiling", "granted": true, "evidence_ref": "form-77"}]}),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    (sid, id_of(&i), id_of(&o), cid)
}

fn erase(app: &TestApp, role: Role, id: &str) -> reqwest::RequestBuilder {
    app.req(reqwest::Method::POST, &erase_url(id), role).header("content-type", "application/json").body(REQUEST)
}

api_test!(erasure_anonymises_per_the_contract_and_keeps_the_facts, |app| {
    let (sid, iid, oid, cid) = marked(&app).await;
    let before = fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await;
    let res = erase(&app, Role::Admin, &sid).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let receipt = ok_json(res, 200).await;
    assert_eq!(receipt["stakeholder_id"], sid.as_str());
    assert_eq!(receipt["erased_by"], "admin-user");
    assert_eq!(receipt["reason"], "data_subject_request");
    assert_eq!(receipt["request_reference"], "DSR-2026-0042");
    assert_eq!(
        receipt["redacted"],
        json!({"interactions": 1, "offers": 1, "complaints": 1, "tags": 1, "idempotency_records": 1,
               "consent_evidence_refs": 1, "relationships": 0})
    );
    let mut withdrawn: Vec<&str> =
        receipt["consents_withdrawn"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    withdrawn.sort();
    assert_eq!(withdrawn, ["marketing_email", "profiling", "sensitive_data"]);
    let shell = &receipt["stakeholder"];
    assert_eq!(etag, format!("\"{}\"", shell["version"]));
    assert_eq!(shell["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(shell["display_name"], "Erased stakeholder");
    for field in
        ["email", "phone", "address", "birth_date", "occupation", "income_band", "sensitive", "organization_id"]
    {
        assert_eq!(shell[field], Value::Null, "{field}");
    }
    for (field, empty) in
        [("tags", json!([])), ("interests", json!([])), ("preferred_categories", json!([])), ("preferences", json!({}))]
    {
        assert_eq!(shell[field], empty, "{field}");
    }
    assert!(shell["consents"].as_object().unwrap().values().all(|v| v == false));
    assert!(shell["erased_at"].is_string());
    // Kept: what aggregates need.
    for field in ["id", "kind", "entity_type", "lifecycle_stage", "segment", "created_at"] {
        assert_eq!(shell[field], before[field], "{field}");
    }
    assert_eq!(fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await, *shell);

    let i = fetch(&app, &format!("/api/v1/interactions/{iid}"), Role::Admin).await;
    assert_eq!(
        (i["notes"].clone(), i["subject"].clone(), i["outcome"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(i["amount"], json!({"amount_minor": 125000, "currency": "IDR"}));
    assert_eq!(i["channel"], "in_store");
    let o = fetch(&app, &format!("/api/v1/offers/{oid}"), Role::Admin).await;
    assert_eq!((o["title"].clone(), o["description"].clone()), (json!("[erased]"), Value::Null));
    assert_eq!(o["price"], json!({"amount_minor": 5, "currency": "IDR"}));
    let c = fetch(&app, &format!("/api/v1/complaints/{cid}"), Role::Admin).await;
    assert_eq!(
        (c["subject"].clone(), c["description"].clone(), c["resolution"].clone()),
        (json!("[erased]"), json!("[erased]"), json!("[erased]"))
    );
    assert_eq!(c["status"], "resolved");

    let (_, _, history) =
        page(&app, &format!("/api/v1/stakeholders/{sid}/consent-history"), Role::Admin, &[("limit", "200")]).await;
    let rows = history["data"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["evidence_ref"].is_null()));
    let erasure_rows: Vec<&Value> = rows.iter().filter(|r| r["source"] == "erasure").collect();
    assert_eq!(erasure_rows.len(), 3);
    assert!(erasure_rows.iter().all(|r| r["old_value"] == true && r["new_value"] == false));

    let (_, _, events) = page(&app, "/api/v1/audit-events", Role::Admin, &[("action", "stakeholder.erased")]).await;
    let e = &events["data"][0];
    assert_eq!(e["category"], "privacy");
    assert_eq!(e["metadata"], json!({"reason": "data_subject_request", "request_reference": "DSR-2026-0042"}));
    assert!(e["changed_fields"].as_array().unwrap().contains(&json!("email")));

    // The stored answer of the keyed create is a tombstone: 410 for any body, never a new record.
    let res = app
        .post(
            "/api/v1/interactions",
            Role::Agent,
            &json!({"stakeholder_id": sid, "channel": "web",
            "direction": "inbound", "type": "contact"}),
        )
        .header("Idempotency-Key", "purchase-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let problem = assert_problem(res, 410).await;
    assert_eq!(problem["type"], "https://crm.example/problems/erased");
    // Even a body that would be refused (422, or 400 for a non-object): the key answers first.
    for body in [json!({}), json!([1]), json!({"stakeholder_id": sid, "surprise": true})] {
        let res = app
            .post("/api/v1/interactions", Role::Agent, &body)
            .header("Idempotency-Key", "purchase-1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["idempotent-replayed"], "true", "{body}");
        let problem = assert_problem(res, 410).await;
        assert_eq!(problem["type"], "https://crm.example/problems/erased", "{body}");
    }
    // Another caller's key of the same name is not theirs to be told about.
    let res = app
        .post("/api/v1/interactions", Role::Manager, &json!({}))
        .header("Idempotency-Key", "purchase-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let (ids, _, _) = page(&app, "/api/v1/interactions", Role::Admin, &[]).await;
    assert_eq!(ids, [iid]);
});

api_test!(erasing_twice_answers_with_the_first_receipt, |app| {
    let (sid, _, _, _) = marked(&app).await;
    let first = ok_json(erase(&app, Role::Admin, &sid).send().await.unwrap(), 200).await;
    let res = app.post(&erase_url(&sid), Role::Admin, &json!({"reason": "other"})).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let second = ok_json(res, 200).await;
    assert_eq!(second, first, "the original receipt: erased_at, reason, counts");
    assert_eq!(etag, format!("\"{}\"", first["stakeholder"]["version"]));
    let (_, _, events) = page(&app, "/api/v1/audit-events", Role::Admin, &[("action", "stakeholder.erased")]).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let res = erase(&app, Role::Admin, &sid).header("If-Match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
});

api_test!(only_admins_erase_and_bad_requests_change_nothing, |app| {
    let s = app.create_stakeholder(json!({"email": "keep@example.com", "partner_id": PARTNER_A.to_string()})).await;
    let sid = id_of(&s);
    for role in [Role::Manager, Role::Agent, Role::Analyst, Role::Partner] {
        assert_problem(erase(&app, role, &sid).send().await.unwrap(), 403).await;
        assert_problem(erase(&app, role, &uuid::Uuid::now_v7().to_string()).send().await.unwrap(), 403).await;
    }
    assert_problem(erase(&app, Role::Admin, &uuid::Uuid::now_v7().to_string()).send().await.unwrap(), 404).await;
    assert_problem(erase(&app, Role::Admin, "not-a-uuid").send().await.unwrap(), 400).await;
    assert_problem(
        app.client.post(app.url(&erase_url(&sid))).json(&json!({"reason": "other"})).send().await.unwrap(),
        401,
    )
    .await;
    let empty = app.req(reqwest::Method::POST, &erase_url(&sid), Role::Admin).send().await.unwrap();
    assert_422(empty, "reason", Some("required")).await;
    for (body, field, code) in [
        (json!({"reason": "curiosity"}), "reason", "enum"),
        (json!({"reason": "other", "request_reference": "mail a@b.org"}), "request_reference", "invalid_character"),
        (json!({"reason": "other", "request_reference": "x".repeat(101)}), "request_reference", "length"),
        (json!({"reason": "other", "why": "because"}), "why", "unknown_field"),
    ] {
        assert_422(app.post(&erase_url(&sid), Role::Admin, &body).send().await.unwrap(), field, Some(code)).await;
    }
    let res = app
        .req(reqwest::Method::POST, &erase_url(&sid), Role::Admin)
        .header("content-type", "text/plain")
        .body(REQUEST)
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let after = fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await;
    assert_eq!((after["version"].clone(), after["email"].clone()), (json!(1), json!("keep@example.com")));
});

api_test!(an_erasure_over_the_limit_is_409_and_changes_nothing, |app| {
    let backend = app.backend;
    drop(app);
    let app = TestApp::spawn_with(backend, &[("CRM_ERASE_MAX_CHILD_ROWS", "1")]).await;
    let s = app.create_stakeholder(json!({"email": "big@example.com"})).await;
    let sid = id_of(&s);
    for _ in 0..2 {
        let body = json!({"stakeholder_id": sid, "channel": "web", "direction": "inbound", "type": "contact"});
        ok_json(app.post("/api/v1/interactions", Role::Admin, &body).send().await.unwrap(), 201).await;
    }
    let problem = assert_problem(erase(&app, Role::Admin, &sid).send().await.unwrap(), 409).await;
    assert_eq!(problem["type"], "https://crm.example/problems/erase-too-large");
    let after = fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await;
    assert_eq!((after["version"].clone(), after["email"].clone()), (json!(1), json!("big@example.com")));
});

api_test!(an_erasure_that_fails_part_way_changes_nothing, |app| {
    let (sid, iid, _, _) = marked(&app).await;
    let before = fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await;
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    let block: &[&str] = match app.backend {
        Backend::Sqlite => &["CREATE TRIGGER fail_complaints BEFORE UPDATE ON complaints \
             WHEN NEW.subject = '[erased]' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION fail_complaints() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.subject = '[erased]' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER fail_complaints BEFORE UPDATE ON complaints FOR EACH ROW EXECUTE FUNCTION fail_complaints()",
        ],
    };
    for sql in block {
        diesel::sql_query(*sql).execute(&mut *conn).unwrap();
    }
    let res = erase(&app, Role::Admin, &sid).send().await.unwrap();
    assert!(res.status().is_server_error(), "{}", res.status());
    let after = fetch(&app, &format!("/api/v1/stakeholders/{sid}"), Role::Admin).await;
    assert_eq!(after, before, "the stakeholder is untouched");
    let i = fetch(&app, &format!("/api/v1/interactions/{iid}"), Role::Admin).await;
    assert_eq!(i["notes"], MARKS[7], "the records under it too");
    let (_, _, events) = page(&app, "/api/v1/audit-events", Role::Admin, &[("action", "stakeholder.erased")]).await;
    assert_eq!(events["data"], json!([]));
});

api_test!(no_original_value_survives_anywhere_in_the_database, |app| {
    let (sid, _, _, _) = marked(&app).await;
    ok_json(erase(&app, Role::Admin, &sid).send().await.unwrap(), 200).await;
    let dump: Vec<u8> = match app.backend {
        Backend::Sqlite => {
            let path = app.database_url.trim_start_matches("sqlite://").to_owned();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Backend::Postgres => {
            let url = app.database_url.split('?').next().unwrap().to_owned();
            let out = std::process::Command::new("pg_dump").args(["--data-only", "--no-owner", &url]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
    };
    assert!(dump.len() > 1000, "the dump holds the database");
    let text = String::from_utf8_lossy(&dump).to_lowercase();
    for mark in MARKS {
        assert!(!text.contains(&mark.to_lowercase()), "{mark:?} survived the erasure");
    }
    assert!(text.contains("erased stakeholder"), "the dump is readable: the shell is in it");
});

api_test!(writes_racing_an_erasure_leave_no_original_value, |app| {
    // Each round: an erasure and, at the same moment, an edit of a record under
    // the stakeholder, a new record, and a consent renewal with evidence. Each
    // write lands wholly before the erasure (and is anonymised by it) or after
    // it (409 erased): no original text survives either way.
    for round in 0..6 {
        let sid = app.create_stakeholder(json!({"consents": {"marketing_phone": true}})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = json!({"stakeholder_id": sid, "channel": "web", "direction": "inbound", "type": "contact",
                          "subject": format!("race-mark-{round}"), "notes": "race-notes-mark"});
        let iid =
            id_of(&ok_json(app.post("/api/v1/interactions", Role::Agent, &body).send().await.unwrap(), 201).await);
        let edit = app
            .req(reqwest::Method::PATCH, &format!("/api/v1/interactions/{iid}"), Role::Agent)
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"satisfaction": 4}"#);
        let create = app.post("/api/v1/interactions", Role::Agent, &body);
        let consent = app.post(
            &format!("/api/v1/stakeholders/{sid}/consents"),
            Role::Agent,
            &json!({"changes": [{"consent": "marketing_phone", "granted": true, "evidence_ref": "race-evidence-mark"}]}),
        );
        let (erased, edited, created, consented) =
            tokio::join!(erase(&app, Role::Admin, &sid).send(), edit.send(), create.send(), consent.send());
        assert_eq!(erased.unwrap().status(), 200);
        for res in [edited, created, consented] {
            let status = res.unwrap().status().as_u16();
            assert!([200, 201, 409].contains(&status), "round {round}: {status}");
        }
        let (_, _, list) =
            page(&app, &format!("/api/v1/stakeholders/{sid}/interactions"), Role::Admin, &[("limit", "200")]).await;
        assert!(!list.to_string().contains("mark"), "round {round}: {list}");
        let (_, _, history) =
            page(&app, &format!("/api/v1/stakeholders/{sid}/consent-history"), Role::Admin, &[("limit", "200")]).await;
        let rows = history["data"].as_array().unwrap();
        assert!(rows.iter().all(|r| r["evidence_ref"].is_null()), "round {round}: {history}");
        assert_eq!(rows.last().unwrap()["source"], "erasure", "nothing recorded after the erasure: {history}");
    }
});

api_test!(an_etag_from_before_the_erasure_gets_the_redacted_record_not_a_304, |app| {
    let (sid, iid, oid, cid) = marked(&app).await;
    let mut old = Vec::new();
    for url in
        [format!("/api/v1/interactions/{iid}"), format!("/api/v1/offers/{oid}"), format!("/api/v1/complaints/{cid}")]
    {
        let res = app.get(&url, Role::Admin).send().await.unwrap();
        old.push((url, etag_of(&res).expect("an ETag")));
    }
    ok_json(erase(&app, Role::Admin, &sid).send().await.unwrap(), 200).await;
    for (url, etag) in old {
        let res = app.get(&url, Role::Admin).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}: a cached un-redacted body must not be confirmed");
        assert_ne!(etag_of(&res).unwrap(), etag, "{url}");
    }
});
