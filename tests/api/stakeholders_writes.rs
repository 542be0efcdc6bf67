//! Stakeholder writes: validation, uniqueness, references, merge patch,
//! ETags and concurrency, archive/restore, sensitive data, consent history.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const COLLECTION: &str = "/api/v1/stakeholders";

fn path(id: &Value) -> String {
    format!("{COLLECTION}/{}", id.as_str().expect("id is a string"))
}

/// `minimal_stakeholder()` with `extra` merged in.
fn body_with(extra: Value) -> Value {
    let mut body = minimal_stakeholder();
    let b = body.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra is an object") {
        b.insert(k.clone(), v.clone());
    }
    body
}

/// The distinct fields of a 422, sorted (one field may carry several codes).
fn fields(problem: &Value) -> Vec<String> {
    let mut f = error_fields(problem);
    f.sort();
    f.dedup();
    f
}

/// Ids in a list response (all pages are small here).
async fn list_ids(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("{COLLECTION}{query}"), Role::Admin).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data array").iter().map(|s| s["id"].clone()).collect()
}

async fn consent_history(app: &TestApp, id: &Value, role: Role) -> Vec<Value> {
    let res = app.get(&format!("{}/consent-history", path(id)), role).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("next_cursor").is_some(), "{body}");
    body["data"].as_array().expect("data array").clone()
}

// ---------------------------------------------------------------- validation

api_test!(create_reports_missing_required_fields, |app| {
    let p = create_422_any(&app, COLLECTION, json!({})).await;
    for f in ["kind", "entity_type", "display_name"] {
        assert_code(&p, f, "required");
    }
    assert_eq!(p["type"], "https://crm.example/problems/validation");
    assert_eq!(p["instance"], COLLECTION);

    // Only the missing one is reported when the others are there.
    let p = create_422_any(&app, COLLECTION, json!({"kind": "customer", "entity_type": "person"})).await;
    assert_eq!(fields(&p), vec!["display_name"]);
    assert_code(&p, "display_name", "required");
});

api_test!(create_rejects_unknown_enum_values, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        body_with(json!({"kind": "nope", "entity_type": "robot", "lifecycle_stage": "sleeping"})),
    )
    .await;
    assert_code(&p, "kind", "enum");
    assert_code(&p, "entity_type", "enum");
    assert_code(&p, "lifecycle_stage", "enum");
});

api_test!(create_rejects_wrong_types, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        body_with(json!({"display_name": 42, "household_size": "three", "tags": "vip",
                         "consents": {"marketing_email": "yes"}, "organization_id": "not-a-uuid"})),
    )
    .await;
    for f in ["display_name", "household_size", "tags", "consents", "organization_id"] {
        assert_code(&p, f, "type");
    }
    // A wrongly typed display_name is a type error, not also "required".
    assert_eq!(codes_for(&p, "display_name"), vec!["type"], "{p}");
});

api_test!(create_rejects_unknown_and_read_only_fields, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        body_with(json!({"colour": "blue", "id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e",
                         "version": 7, "created_at": "2026-01-01T00:00:00Z"})),
    )
    .await;
    for f in ["colour", "id", "version", "created_at"] {
        assert_code(&p, f, "unknown_field");
    }
    assert_eq!(p["errors"].as_array().unwrap().len(), 4, "{p}");
});

api_test!(create_rejects_bad_contact_details, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        body_with(json!({"email": "not-an-email", "phone": "call me maybe",
                         "address": {"city": "Bandung", "country": "XX"}})),
    )
    .await;
    assert_code(&p, "email", "email");
    assert!(!codes_for(&p, "phone").is_empty(), "{p}");
    assert!(!codes_for(&p, "address.country").is_empty(), "{p}");

    let p = create_422_any(&app, COLLECTION, body_with(json!({"address": {"country": "Indonesia"}}))).await;
    assert_eq!(fields(&p), vec!["address.country"], "{p}");

    // Too short to be a number, or letters inside.
    for phone in ["123", "+62 812 abc 7890", "+1234567890123456"] {
        let p = create_422_any(&app, COLLECTION, body_with(json!({ "phone": phone }))).await;
        assert_eq!(fields(&p), vec!["phone"], "{phone}: {p}");
    }
});

api_test!(create_checks_ranges_lists_and_blank_names, |app| {
    for size in [0, 51] {
        let p = create_422_any(&app, COLLECTION, body_with(json!({ "household_size": size }))).await;
        assert_eq!(fields(&p), vec!["household_size"], "{size}: {p}");
        assert_code(&p, "household_size", "range");
    }
    let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let p = create_422_any(&app, COLLECTION, body_with(json!({ "tags": many }))).await;
    assert_eq!(fields(&p), vec!["tags"], "{p}");

    let p = create_422_any(&app, COLLECTION, body_with(json!({ "tags": ["ok", "x".repeat(51)] }))).await;
    assert_eq!(fields(&p), vec!["tags"], "{p}");

    let p = create_422_any(&app, COLLECTION, body_with(json!({ "display_name": "   " }))).await;
    assert_eq!(fields(&p), vec!["display_name"], "{p}");

    let p = create_422_any(&app, COLLECTION, body_with(json!({ "display_name": "" }))).await;
    assert_eq!(fields(&p), vec!["display_name"], "{p}");

    let future = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let p = create_422_any(&app, COLLECTION, body_with(json!({ "birth_date": future }))).await;
    assert_eq!(fields(&p), vec!["birth_date"], "{p}");

    // The boundaries themselves are fine.
    let ok = app
        .create_stakeholder(json!({"household_size": 50, "tags": ["y".repeat(50)],
                                   "birth_date": chrono::Utc::now().date_naive().to_string()}))
        .await;
    assert_eq!(ok["household_size"], 50);
    let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
    let ok = app.create_stakeholder(json!({ "tags": fifty })).await;
    assert_eq!(ok["tags"].as_array().unwrap().len(), 50);
});

api_test!(create_rejects_person_only_fields_on_an_organization, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        json!({"kind": "supplier", "entity_type": "organization", "display_name": "PT Maju",
               "birth_date": "1990-01-01", "occupation": "farmer", "education_level": "phd",
               "household_size": 3}),
    )
    .await;
    for f in ["birth_date", "occupation", "education_level", "household_size"] {
        assert_code(&p, f, "person_only");
    }
    assert_eq!(p["errors"].as_array().unwrap().len(), 4, "{p}");

    // The same fields on a person are fine.
    let person = app
        .create_stakeholder(json!({"birth_date": "1990-01-01", "occupation": "farmer",
                                   "education_level": "phd", "household_size": 3}))
        .await;
    assert_eq!(person["birth_date"], "1990-01-01");
});

api_test!(create_lists_every_problem_at_once_and_creates_nothing, |app| {
    let p = create_422_any(
        &app,
        COLLECTION,
        json!({"kind": "nope", "entity_type": "person", "display_name": "Five Problems",
               "email": "bad", "phone": "x", "household_size": 0, "colour": "red"}),
    )
    .await;
    assert_eq!(fields(&p), vec!["colour", "email", "household_size", "kind", "phone"], "{p}");
    assert_eq!(p["detail"], "5 fields are invalid", "{p}");
    assert_code(&p, "kind", "enum");
    assert_code(&p, "colour", "unknown_field");
    assert_code(&p, "email", "email");
    assert_code(&p, "household_size", "range");

    // None of the failed requests in this test created anything.
    assert!(list_ids(&app, "?include_archived=true").await.is_empty());
});

// ---------------------------------------------------------------- uniqueness

api_test!(duplicate_email_is_409_case_insensitively_even_when_archived, |app| {
    let first = app.create_stakeholder(json!({"email": "dup@example.com"})).await;
    let res = app
        .post(COLLECTION, Role::Admin, &body_with(json!({"email": "DUP@Example.COM", "display_name": "Other"})))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("email"), "{p}");

    let res = app.delete(&path(&first["id"]), Role::Manager).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post(COLLECTION, Role::Agent, &body_with(json!({"email": "dup@example.com"}))).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(list_ids(&app, "?include_archived=true").await.len(), 1);

    // PATCHing another stakeholder onto the address is a conflict too.
    let other = app.create_stakeholder(json!({"email": "other@example.com"})).await;
    let res = app.patch(&path(&other["id"]), Role::Admin, &json!({"email": "Dup@example.com"})).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(fetch(&app, &path(&other["id"]), Role::Admin).await["email"], "other@example.com");
});

// ---------------------------------------------------------------- organization_id

api_test!(organization_id_must_name_an_organization, |app| {
    let org = app
        .create_stakeholder(json!({"kind": "supplier", "entity_type": "organization",
                                   "display_name": "PT Sumber"}))
        .await;
    let employee = app.create_stakeholder(json!({ "organization_id": org["id"] })).await;
    assert_eq!(employee["organization_id"], org["id"]);

    let p = create_422_any(&app, COLLECTION, body_with(json!({ "organization_id": employee["id"] }))).await;
    assert_eq!(fields(&p), vec!["organization_id"], "{p}");

    let p = create_422_any(&app, COLLECTION, body_with(json!({ "organization_id": uuid::Uuid::now_v7().to_string() })))
        .await;
    assert_eq!(fields(&p), vec!["organization_id"], "{p}");

    // Same rule on PATCH; nothing changes.
    let res = app
        .patch(&path(&employee["id"]), Role::Admin, &json!({ "organization_id": uuid::Uuid::now_v7().to_string() }))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422).await;
    assert_eq!(fields(&p), vec!["organization_id"], "{p}");
    let now = fetch(&app, &path(&employee["id"]), Role::Admin).await;
    assert_eq!(now["organization_id"], org["id"]);
    assert_eq!(now["version"], 1);

    assert_eq!(list_ids(&app, "").await.len(), 2);
});

// ---------------------------------------------------------------- merge patch

api_test!(patch_is_a_merge_patch, |app| {
    let s = app
        .create_stakeholder(json!({"segment": "gold", "phone": "+62 811 1111",
            "email": "m@example.com", "tags": ["a", "b"],
            "address": {"line1": "Jl. Merdeka 1", "line2": "Blok C", "city": "Bandung",
                        "postal_code": "40111", "country": "ID"}}))
        .await;
    let id = &s["id"];

    // Absent fields stay; the changed one changes; version and updated_at move.
    let res = app.patch(&path(id), Role::Agent, &json!({"lifecycle_stage": "lead"})).send().await.unwrap();
    let (status, headers, p1) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{p1}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(p1["version"], 2);
    assert_eq!(p1["lifecycle_stage"], "lead");
    assert_ne!(p1["updated_at"], s["updated_at"]);
    assert_eq!(p1["created_at"], s["created_at"]);
    for f in ["segment", "phone", "email", "tags", "address", "display_name"] {
        assert_eq!(p1[f], s[f], "{f} changed");
    }

    // Nested address patch keeps the siblings.
    let p2 = patch_ok(&app, &path(id), Role::Admin, json!({"address": {"city": "Jakarta"}})).await;
    assert_eq!(
        p2["address"],
        json!({"line1": "Jl. Merdeka 1", "line2": "Blok C", "city": "Jakarta",
               "region": null, "postal_code": "40111", "country": "ID"})
    );
    // null inside the object removes only that member.
    let p3 = patch_ok(&app, &path(id), Role::Admin, json!({"address": {"line2": null}})).await;
    assert_eq!(p3["address"]["line2"], Value::Null);
    assert_eq!(p3["address"]["line1"], "Jl. Merdeka 1");
    assert_eq!(p3["address"]["city"], "Jakarta");
    assert_eq!(p3["version"], 4);

    // Arrays are replaced as a whole.
    let p4 = patch_ok(&app, &path(id), Role::Admin, json!({"tags": ["c"]})).await;
    assert_eq!(p4["tags"], json!(["c"]));
    assert_eq!(list_ids(&app, "?tag=a").await.len(), 0);
    assert_eq!(list_ids(&app, "?tag=c").await, vec![id.clone()]);

    // null clears optional fields.
    let p5 = patch_ok(&app, &path(id), Role::Admin, json!({"segment": null, "phone": null, "address": null})).await;
    for f in ["segment", "phone", "address"] {
        assert_eq!(p5[f], Value::Null, "{f} not cleared: {p5}");
    }
    assert_eq!(p5["email"], "m@example.com");
    assert_eq!(p5["version"], 6);

    // application/merge-patch+json is accepted too.
    let res = app
        .req(reqwest::Method::PATCH, &path(id), Role::Admin)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"segment": "silver"}"#)
        .send()
        .await
        .unwrap();
    let (status, _, p6) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{p6}");
    assert_eq!(p6["segment"], "silver");

    let got = fetch(&app, &path(id), Role::Admin).await;
    assert_eq!(got, p6);
});

api_test!(patch_null_on_required_field_is_422_and_changes_nothing, |app| {
    let s = app.create_stakeholder(json!({"segment": "gold"})).await;
    let id = &s["id"];
    let res = app.patch(&path(id), Role::Admin, &json!({"display_name": null, "segment": "x"})).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    assert_eq!(fields(&p), vec!["display_name"], "{p}");
    assert_code(&p, "display_name", "required");

    let res = app.patch(&path(id), Role::Admin, &json!({"colour": "blue", "segment": "x"})).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    assert_eq!(fields(&p), vec!["colour"], "{p}");
    assert_code(&p, "colour", "unknown_field");

    let res = app.patch(&path(id), Role::Admin, &json!({"version": 9, "segment": "x"})).send().await.unwrap();
    let p = assert_problem(res, 422).await;
    assert_code(&p, "version", "unknown_field");

    let got = fetch(&app, &path(id), Role::Admin).await;
    assert_eq!(got, s);
});

api_test!(patch_without_change_keeps_the_version, |app| {
    let s = app
        .create_stakeholder(json!({"segment": "gold", "tags": ["a"],
                                   "consents": {"marketing_email": true}}))
        .await;
    let id = &s["id"];
    let res = app
        .patch(
            &path(id),
            Role::Admin,
            &json!({"segment": "gold", "tags": ["a"], "consents": {"marketing_email": true}}),
        )
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(body["version"], 1);
    assert_eq!(body["updated_at"], s["updated_at"]);
    let empty = patch_ok(&app, &path(id), Role::Admin, json!({})).await;
    assert_eq!(empty, s);
});

api_test!(patch_merges_consents_per_key, |app| {
    let s = app.create_stakeholder(json!({"consents": {"marketing_email": true, "marketing_sms": true}})).await;
    let id = &s["id"];
    let p = patch_ok(&app, &path(id), Role::Agent, json!({"consents": {"profiling": true}})).await;
    assert_eq!(
        p["consents"],
        json!({"marketing_email": true, "marketing_sms": true, "marketing_phone": false,
               "profiling": true, "sensitive_data": false})
    );
    let p = patch_ok(&app, &path(id), Role::Agent, json!({"consents": {"marketing_sms": false}})).await;
    assert_eq!(p["consents"]["marketing_email"], true);
    assert_eq!(p["consents"]["marketing_sms"], false);
    assert_eq!(p["consents"]["profiling"], true);
    assert_eq!(p["version"], 3);
});

// ---------------------------------------------------------------- ETags

api_test!(etags_drive_conditional_requests, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = &s["id"];
    let url = path(id);

    let res = app.get(&url, Role::Admin).send().await.unwrap();
    assert_eq!(etag_of(&res).as_deref(), Some("\"1\""));

    let res = app.get(&url, Role::Admin).header("if-none-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag_of(&res).as_deref(), Some("\"1\""));
    assert!(res.bytes().await.unwrap().is_empty());

    let res = app.get(&url, Role::Admin).header("if-none-match", "\"2\"").send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], *id);

    let res =
        app.patch(&url, Role::Admin, &json!({"segment": "one"})).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag_of(&res).as_deref(), Some("\"2\""));

    let res =
        app.patch(&url, Role::Admin, &json!({"segment": "two"})).header("if-match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    let now = fetch(&app, &path(id), Role::Admin).await;
    assert_eq!(now["segment"], "one");
    assert_eq!(now["version"], 2);

    let res = app.patch(&url, Role::Admin, &json!({"segment": "three"})).header("if-match", "*").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag_of(&res).as_deref(), Some("\"3\""));

    let res = app.delete(&url, Role::Manager).header("if-match", "\"2\"").send().await.unwrap();
    assert_problem(res, 412).await;
    let now = fetch(&app, &path(id), Role::Admin).await;
    assert_eq!(now["archived_at"], Value::Null);
    assert_eq!(now["version"], 3);

    let res = app.delete(&url, Role::Manager).header("if-match", "\"3\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag_of(&res).as_deref(), Some("\"4\""));
});

// ---------------------------------------------------------------- concurrency

api_test!(concurrent_conditional_patches_have_one_winner, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let url = path(&s["id"]);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let rb = app.patch(&url, Role::Agent, &json!({ "segment": format!("seg-{i}") })).header("if-match", "\"1\"");
        tasks.push(tokio::spawn(async move {
            let res = rb.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (i, status, body)
        }));
    }
    let mut winners = Vec::new();
    let mut stale = 0;
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => winners.push((i, body)),
            StatusCode::PRECONDITION_FAILED => stale += 1,
            other => panic!("request {i}: unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one PATCH wins");
    assert_eq!(stale, 9);
    let (i, body) = &winners[0];
    assert_eq!(body["version"], 2);
    let now = fetch(&app, &path(&s["id"]), Role::Admin).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["segment"], format!("seg-{i}"));
});

api_test!(concurrent_unconditional_patches_never_fail_badly, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let url = path(&s["id"]);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let rb = app.patch(&url, Role::Agent, &json!({ "segment": format!("seg-{i}") }));
        tasks.push(tokio::spawn(async move {
            let res = rb.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (i, status, body)
        }));
    }
    let mut versions = Vec::new();
    let mut last = (0, Value::Null);
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => {
                let v = body["version"].as_i64().unwrap();
                if v > last.0 {
                    last = (v, body["segment"].clone());
                }
                versions.push(v);
            }
            StatusCode::CONFLICT => {
                assert_eq!(body["status"], 409, "{body}");
            }
            other => panic!("request {i}: unexpected {other}: {body}"),
        }
    }
    assert!(!versions.is_empty(), "at least one PATCH succeeds");
    versions.sort();
    let expected: Vec<i64> = (2..2 + versions.len() as i64).collect();
    assert_eq!(versions, expected, "each success is its own version");
    let now = fetch(&app, &path(&s["id"]), Role::Admin).await;
    assert_eq!(now["version"], 1 + versions.len() as i64);
    assert_eq!(now["segment"], last.1, "the last writer's segment stays");
});

// ---------------------------------------------------------------- archive / restore

api_test!(archive_and_restore, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let keep = app.create_stakeholder(json!({"display_name": "Stays"})).await;
    let id = &s["id"];

    // Agents may not archive.
    let res = app.delete(&path(id), Role::Agent).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_eq!(fetch(&app, &path(id), Role::Admin).await["archived_at"], Value::Null);

    let res = app.delete(&path(id), Role::Manager).send().await.unwrap();
    let (status, headers, archived) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{archived}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert!(archived["archived_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(archived["version"], 2);

    assert_eq!(list_ids(&app, "").await, vec![keep["id"].clone()]);
    let all = list_ids(&app, "?include_archived=true").await;
    assert!(all.contains(id) && all.contains(&keep["id"]), "{all:?}");
    assert_eq!(fetch(&app, &path(id), Role::Agent).await["archived_at"], archived["archived_at"]);

    // Archiving again changes nothing.
    let res = app.delete(&path(id), Role::Admin).send().await.unwrap();
    let (status, _, again) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["version"], 2);
    assert_eq!(again["archived_at"], archived["archived_at"]);

    let res = app.req(reqwest::Method::POST, &format!("{}/restore", path(id)), Role::Manager).send().await.unwrap();
    let (status, _, restored) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["archived_at"], Value::Null);
    assert_eq!(restored["version"], 3);
    assert_eq!(list_ids(&app, "").await.len(), 2);

    let res = app.req(reqwest::Method::POST, &format!("{}/restore", path(id)), Role::Manager).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("not archived"), "{p}");
    assert_eq!(fetch(&app, &path(id), Role::Admin).await["version"], 3);
});

// ---------------------------------------------------------------- sensitive data

api_test!(only_admin_and_manager_may_set_sensitive_fields, |app| {
    for extra in [
        json!({"sensitive": {"health_notes": "asthma"}, "consents": {"sensitive_data": true}}),
        json!({"income_band": "high"}),
        json!({"income_band": null}),
    ] {
        let res = app.post(COLLECTION, Role::Agent, &body_with(extra.clone())).send().await.unwrap();
        assert_problem(res, 403).await;
    }
    assert!(list_ids(&app, "?include_archived=true").await.is_empty());

    // An agent may not PATCH them either.
    let s = app.create_stakeholder(json!({})).await;
    let res = app.patch(&path(&s["id"]), Role::Agent, &json!({"income_band": "low"})).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_eq!(fetch(&app, &path(&s["id"]), Role::Admin).await["version"], 1);

    // A manager may.
    let res =
        app.post(COLLECTION, Role::Manager, &body_with(json!({"income_band": "upper_middle"}))).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["income_band"], "upper_middle");
    assert_eq!(fetch(&app, &path(&body["id"]), Role::Agent).await["income_band"], Value::Null);

    // An agent's PATCH leaves the fields it cannot see alone.
    let p = patch_ok(&app, &path(&body["id"]), Role::Agent, json!({"segment": "gold"})).await;
    assert_eq!(p["income_band"], Value::Null);
    assert_eq!(fetch(&app, &path(&body["id"]), Role::Manager).await["income_band"], "upper_middle");
});

api_test!(sensitive_needs_consent_and_goes_with_it, |app| {
    let p = create_422_any(&app, COLLECTION, body_with(json!({"sensitive": {"health_notes": "asthma"}}))).await;
    assert_eq!(fields(&p), vec!["sensitive"], "{p}");
    assert_code(&p, "sensitive", "consent_required");
    let p = create_422_any(
        &app,
        COLLECTION,
        body_with(json!({"sensitive": {"beliefs": "x"}, "consents": {"sensitive_data": false}})),
    )
    .await;
    assert_code(&p, "sensitive", "consent_required");
    assert!(list_ids(&app, "?include_archived=true").await.is_empty());

    let s = app
        .create_stakeholder(json!({"sensitive": {"health_notes": "asthma"},
                                   "consents": {"sensitive_data": true}}))
        .await;
    let id = &s["id"];
    assert_eq!(s["sensitive"]["health_notes"], "asthma");
    assert_eq!(fetch(&app, &path(id), Role::Admin).await["sensitive"]["health_notes"], "asthma");
    assert_eq!(fetch(&app, &path(id), Role::Manager).await["sensitive"]["health_notes"], "asthma");
    assert_eq!(fetch(&app, &path(id), Role::Agent).await["sensitive"], Value::Null);

    // Withdrawing the consent erases the data ...
    let p = patch_ok(&app, &path(id), Role::Admin, json!({"consents": {"sensitive_data": false}})).await;
    assert_eq!(p["sensitive"], Value::Null);
    assert_eq!(p["consents"]["sensitive_data"], false);
    // ... for good: granting it again does not bring it back.
    let p = patch_ok(&app, &path(id), Role::Admin, json!({"consents": {"sensitive_data": true}})).await;
    assert_eq!(p["consents"]["sensitive_data"], true);
    assert_eq!(p["sensitive"], Value::Null);
    assert_eq!(fetch(&app, &path(id), Role::Admin).await["sensitive"], Value::Null);
});

// ---------------------------------------------------------------- consent history

api_test!(consent_changes_are_recorded, |app| {
    let s = app
        .create_stakeholder(json!({"partner_id": crate::helpers::PARTNER_A,
                                   "consents": {"marketing_email": true}}))
        .await;
    let id = &s["id"];
    let h = consent_history(&app, id, Role::Admin).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0]["consent"], "marketing_email");
    assert_eq!(h[0]["old_value"], Value::Null);
    assert_eq!(h[0]["new_value"], true);
    assert_eq!(h[0]["changed_by"], "admin-user");
    assert!(h[0]["id"].is_string() && h[0]["changed_at"].is_string());

    patch_ok(&app, &path(id), Role::Agent, json!({"consents": {"marketing_email": false, "profiling": true}})).await;
    let h = consent_history(&app, id, Role::Admin).await;
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[0]["changed_by"], "admin-user", "oldest first");
    let find = |name: &str| {
        h[1..].iter().find(|r| r["consent"] == name).unwrap_or_else(|| panic!("no {name} record in {h:?}")).clone()
    };
    let email = find("marketing_email");
    assert_eq!(email["old_value"], true);
    assert_eq!(email["new_value"], false);
    assert_eq!(email["changed_by"], "agent-user");
    let profiling = find("profiling");
    assert_eq!(profiling["old_value"], false);
    assert_eq!(profiling["new_value"], true);
    assert_eq!(profiling["changed_by"], "agent-user");

    // Restating the current consents, or changing something else, records nothing.
    patch_ok(
        &app,
        &path(id),
        Role::Agent,
        json!({"consents": {"marketing_email": false, "profiling": true}, "segment": "x"}),
    )
    .await;
    assert_eq!(consent_history(&app, id, Role::Admin).await.len(), 3);

    // The owning partner may read it; another partner cannot tell it exists.
    assert_eq!(consent_history(&app, id, Role::Partner).await.len(), 3);
    let res = app
        .client
        .get(app.url(&format!("{}/consent-history", path(id))))
        .bearer_auth(crate::helpers::partner_token(crate::helpers::PARTNER_B))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;

    // A stakeholder created without consents has an empty history.
    let plain = app.create_stakeholder(json!({})).await;
    assert!(consent_history(&app, &plain["id"], Role::Admin).await.is_empty());
});
