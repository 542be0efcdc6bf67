//! `crm-api import` (contracts/integration.md), run as the real binary
//! against each backend's database, its writes read back through the API:
//! RFC 4180 files (BOM, CRLF, quoted delimiters and newlines), pipe lists,
//! the error file, the JSON summary, exit codes, `--atomic`, `--dry-run`,
//! `--start-row`, upsert, stdin, and the audit trail.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

/// What a run printed and returned.
struct Ran {
    code: i32,
    summary: Value,
    stderr: String,
    errors: Vec<Vec<String>>,
}

/// Runs `crm-api import <args>` on the app's database with `csv` as the
/// file (or stdin when `args` names `-`).
async fn import(app: &TestApp, csv: &[u8], args: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.csv");
    std::fs::write(&file, csv).unwrap();
    let errors = dir.path().join("errors.csv");
    let stdin = args.contains(&"-");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-api"));
    cmd.arg("import")
        .args(args)
        .args(if stdin { vec![] } else { vec![file.to_str().unwrap()] })
        .arg("--errors")
        .arg(&errors)
        .env_clear()
        .env("CRM_DATABASE_URL", &app.database_url)
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let csv = csv.to_vec();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("the crm-api binary runs");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(&csv).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let summary = stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    let errors = match std::fs::read(&errors) {
        Ok(bytes) => csv::Reader::from_reader(&bytes[..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect(),
        Err(_) => Vec::new(),
    };
    Ran { code: out.status.code().unwrap_or(-1), summary, stderr: String::from_utf8_lossy(&out.stderr).into(), errors }
}

/// Every stakeholder, by e-mail.
async fn by_email(app: &TestApp) -> HashMap<String, Value> {
    let mut all = HashMap::new();
    let mut cursor = String::new();
    loop {
        let page = fetch(app, &format!("/api/v1/stakeholders?limit=200&cursor={}", enc(&cursor)), Role::Admin).await;
        for s in page["data"].as_array().unwrap() {
            all.insert(s["email"].as_str().unwrap_or_default().to_owned(), s.clone());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return all,
        }
    }
}

const HEADER: &str =
    "kind,entity_type,display_name,email,tags,address.city,household_size,consents.marketing_email,occupation";

api_test!(an_rfc_4180_file_is_imported_as_written, |app| {
    // A BOM, CRLF, a quoted comma, a quoted newline, a doubled quote, pipe lists with an escaped pipe.
    let csv = format!(
        "\u{feff}{HEADER}\r\n\
         customer,person,\"Doe, Jane\",jane@example.com,vip|b2b\\|retail,Jakarta,3,TRUE,\r\n\
         customer,person,\"Say \"\"hi\"\"\",hi@example.com,,,,,\"engineer\r\nand writer\"\r\n\
         supplier,organization,Acme,acme@example.com,,,,,\r\n"
    );
    let ran = import(&app, csv.as_bytes(), &["stakeholders"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.summary,
        json!({"resource": "stakeholders", "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "failed": 0,
               "atomic": false, "dry_run": false, "last_committed_row": 4})
    );
    assert_eq!(ran.errors.len(), 0, "{:?}", ran.errors);
    assert!(ran.stderr.contains("committed through row 4"), "{}", ran.stderr);
    let all = by_email(&app).await;
    assert_eq!(all.len(), 3);
    let jane = &all["jane@example.com"];
    assert_eq!(jane["display_name"], "Doe, Jane");
    let mut tags: Vec<&str> = jane["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    tags.sort();
    assert_eq!(tags, ["b2b|retail", "vip"]);
    assert_eq!(jane["address"]["city"], "Jakarta");
    assert_eq!(jane["household_size"], 3);
    assert_eq!(jane["consents"]["marketing_email"], true);
    assert_eq!(all["hi@example.com"]["display_name"], "Say \"hi\"");
    assert_eq!(all["hi@example.com"]["occupation"], "engineer\r\nand writer");
    assert_eq!(all["acme@example.com"]["entity_type"], "organization");
    // Written as the actor, with one import request id for the run.
    let events = fetch(&app, "/api/v1/audit-events?actor_sub=cli%3Aimport&limit=100", Role::Admin).await;
    let events = events["data"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["action"] == "stakeholder.created").count(), 3);
    let rid = events[0]["request_id"].as_str().unwrap();
    assert!(rid.starts_with("import-"), "{rid}");
    assert!(events.iter().all(|e| e["request_id"] == rid && e["actor"]["role"] == "admin"));
    // The consent given has its history row.
    let id = jane["id"].as_str().unwrap();
    let history = fetch(&app, &format!("/api/v1/stakeholders/{id}/consent-history"), Role::Admin).await;
    assert_eq!(history["data"].as_array().unwrap().len(), 1, "{history}");
});

api_test!(bad_rows_are_listed_in_the_error_file_and_the_others_committed, |app| {
    app.create_stakeholder(json!({"email": "taken@example.com"})).await;
    let csv = format!(
        "{HEADER}\n\
         customer,person,Ok One,one@example.com,,,,,\n\
         customer,robot,Bad Kind,two@example.com,,,,,\n\
         customer,person,Taken,TAKEN@example.com,,,,,\n\
         customer,person,Twice,one@example.com,,,,,\n\
         customer,person,Size,three@example.com,,,many,,\n\
         customer,person,Ok Two,four@example.com,,,,,\n"
    );
    // Batches of 2: the failures land in different transactions.
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "--batch-size", "2"]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.summary["rows"], 6);
    assert_eq!(ran.summary["created"], 2);
    assert_eq!(ran.summary["failed"], 4);
    assert_eq!(ran.summary["last_committed_row"], 7);
    let rows: Vec<(&str, &str, &str)> =
        ran.errors.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        rows,
        [("3", "entity_type", "enum"), ("4", "", "conflict"), ("5", "", "conflict"), ("6", "household_size", "type")],
        "{:?}",
        ran.errors
    );
    let all = by_email(&app).await;
    assert!(all.contains_key("one@example.com") && all.contains_key("four@example.com"));
    assert_eq!(all.len(), 3);
});

api_test!(duplicates_in_one_batch_are_row_errors, |app| {
    let csv = format!("{HEADER}\ncustomer,person,A,dup@example.com,,,,,\ncustomer,person,B,DUP@example.com,,,,,\n");
    let ran = import(&app, csv.as_bytes(), &["stakeholders"]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(
        ran.errors,
        [vec!["3".to_string(), String::new(), "duplicate_in_batch".into(), ran.errors[0][3].clone()]]
    );
    assert_eq!(by_email(&app).await["dup@example.com"]["display_name"], "A");
});

api_test!(atomic_writes_nothing_when_a_row_fails_and_everything_otherwise, |app| {
    let bad = format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,robot,B,b@example.com,,,,,\n");
    let ran = import(&app, bad.as_bytes(), &["stakeholders", "--atomic", "--batch-size", "1"]).await;
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert_eq!(ran.summary["failed"], 1);
    assert_eq!(ran.summary["created"], 0);
    assert_eq!(ran.summary["last_committed_row"], Value::Null);
    assert_eq!(ran.errors.len(), 1);
    assert!(by_email(&app).await.is_empty());
    let good = format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,person,B,b@example.com,,,,,\n");
    let ran = import(&app, good.as_bytes(), &["stakeholders", "--atomic", "--batch-size", "1"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.summary["created"], 2);
    assert_eq!(ran.summary["last_committed_row"], 3);
    assert_eq!(by_email(&app).await.len(), 2);
});

api_test!(dry_run_checks_against_the_database_and_writes_nothing, |app| {
    app.create_stakeholder(json!({"email": "taken@example.com"})).await;
    let csv = format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,person,T,taken@example.com,,,,,\n");
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "--dry-run"]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.summary["dry_run"], true);
    assert_eq!(ran.summary["created"], 1);
    assert_eq!(ran.summary["failed"], 1);
    assert_eq!(ran.summary["last_committed_row"], Value::Null);
    assert_eq!(ran.errors[0][..3], ["3", "", "conflict"]);
    assert_eq!(by_email(&app).await.len(), 1);
    let ok = format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\n");
    let ran = import(&app, ok.as_bytes(), &["stakeholders", "--dry-run"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(by_email(&app).await.len(), 1);
});

api_test!(a_bad_header_or_malformed_file_is_exit_2_and_writes_nothing, |app| {
    for (csv, says) in [
        (format!("{HEADER},nickname\n"), "nickname"),
        ("kind,entity_type,display_name,id\n".to_string(), "read-only"),
        ("kind,entity_type,display_name,kind\n".to_string(), "twice"),
        (format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,person\n"), "row 3"),
        (format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,person,\u{1},b@example.com,,,,,\n"), ""),
    ] {
        let ran = import(&app, csv.as_bytes(), &["stakeholders"]).await;
        if says.is_empty() {
            // A control character is the row's validation error, not the file's.
            assert_eq!(ran.code, 1, "{}", ran.stderr);
            continue;
        }
        assert_eq!(ran.code, 2, "{csv:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{says}: {}", ran.stderr);
    }
    // Invalid UTF-8 after a good row: nothing at all is written.
    let mut bytes = format!("{HEADER}\ncustomer,person,A,z@example.com,,,,,\n").into_bytes();
    bytes.extend_from_slice(b"customer,person,\xff,y@example.com,,,,,\n");
    let ran = import(&app, &bytes, &["stakeholders", "--batch-size", "1"]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("UTF-8"), "{}", ran.stderr);
    let all = by_email(&app).await;
    assert!(!all.contains_key("z@example.com"));
    // Usage: upsert is for stakeholders only.
    let ran = import(&app, b"stakeholder_id\n", &["offers", "--mode", "upsert"]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
});

api_test!(start_row_resumes_after_the_last_committed_row, |app| {
    let rows: String = (0..5).map(|i| format!("customer,person,P{i},p{i}@example.com,,,,,\n")).collect();
    let csv = format!("{HEADER}\n{rows}");
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "--start-row", "4"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.summary["rows"], 3);
    assert_eq!(ran.summary["last_committed_row"], 6);
    let all = by_email(&app).await;
    let mut names: Vec<&str> = all.values().map(|s| s["display_name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["P2", "P3", "P4"]);
});

api_test!(upsert_twice_creates_once_then_updates_or_leaves_unchanged, |app| {
    let csv = "kind,entity_type,display_name,email,segment\ncustomer,person,A,a@example.com,gold\ncustomer,person,B,b@example.com,\n";
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "--mode", "upsert"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!((ran.summary["created"].clone(), ran.summary["updated"].clone()), (json!(2), json!(0)));
    // Again, from stdin, with one change and an e-mail in another case; empty cells leave fields alone.
    let csv = "kind,entity_type,display_name,email,segment\ncustomer,person,A,A@EXAMPLE.COM,\ncustomer,person,B2,b@example.com,\n";
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "-", "--mode", "upsert"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        (ran.summary["created"].clone(), ran.summary["updated"].clone(), ran.summary["unchanged"].clone()),
        (json!(0), json!(1), json!(1))
    );
    let all = by_email(&app).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all["a@example.com"]["segment"], "gold");
    assert_eq!(all["a@example.com"]["version"], 1);
    assert_eq!(all["b@example.com"]["display_name"], "B2");
});

api_test!(interactions_import_with_money_columns_and_a_pipe_delimiter, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = s["id"].as_str().unwrap();
    let csv = format!(
        "stakeholder_id|channel|direction|type|amount.amount_minor|amount.currency|notes\n\
         {id}|in_store|inbound|purchase|125000|IDR|\"two | items\"\n\
         {id}|phone|outbound|contact|||\n\
         00000000-0000-7000-8000-000000000000|phone|outbound|contact|||\n"
    );
    let ran = import(&app, csv.as_bytes(), &["interactions", "--delimiter", "|"]).await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.summary["created"], 2);
    assert_eq!(ran.errors[0][..3], ["4", "", "not_found"]);
    let list = fetch(&app, &format!("/api/v1/stakeholders/{id}/interactions"), Role::Admin).await;
    let purchase = list["data"].as_array().unwrap().iter().find(|i| i["type"] == "purchase").unwrap().clone();
    assert_eq!(purchase["amount"], json!({"amount_minor": 125000, "currency": "IDR"}));
    assert_eq!(purchase["notes"], "two | items");
});

#[tokio::test]
async fn an_unreachable_database_is_exit_4() {
    let out = tokio::task::spawn_blocking(|| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.csv");
        std::fs::write(&file, "kind,entity_type,display_name\ncustomer,person,A\n").unwrap();
        Command::new(env!("CARGO_BIN_EXE_crm-api"))
            .args(["import", "stakeholders", file.to_str().unwrap()])
            .env_clear()
            .env("CRM_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
}

api_test!(a_large_chunk_is_written_as_the_api_writes_one_record, |app| {
    // 40 rows: PostgreSQL writes them with COPY, not the single create's INSERT.
    let header = "kind,entity_type,display_name,email,phone,lifecycle_stage,segment,tags,interests,preferences,\
                  address.city,address.country,consents.marketing_email,consents.profiling,household_size,birth_date";
    let rows: String = (0..40)
        .map(|i| {
            format!(
                "customer,person,Ann {i},ann{i}@example.com,+62 812 555 {i:04},lead,gold,vip|b2b,golf,\
                 \"{{\"\"lang\"\":\"\"id\"\"}}\",Bandung,ID,true,true,2,1990-01-0{}\n",
                1 + i % 9
            )
        })
        .collect();
    let ran = import(&app, format!("{header}\n{rows}").as_bytes(), &["stakeholders"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.summary["created"], 40);
    let api = app
        .create_stakeholder(json!({
            "kind": "customer", "entity_type": "person", "display_name": "Ann 0", "email": "api@example.com",
            "phone": "+62 812 555 0000", "lifecycle_stage": "lead", "segment": "gold", "tags": ["vip", "b2b"],
            "interests": ["golf"], "preferences": {"lang": "id"}, "address": {"city": "Bandung", "country": "ID"},
            "consents": {"marketing_email": true, "profiling": true}, "household_size": 2, "birth_date": "1990-01-01"
        }))
        .await;
    let all = by_email(&app).await;
    let imported = &all["ann0@example.com"];
    let strip = |v: &Value| {
        let mut v = v.clone();
        for k in ["id", "email", "created_at", "updated_at"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(strip(imported), strip(&api));
    // The side tables: consent history, stage history (the export), audit, search.
    let id = imported["id"].as_str().unwrap();
    let history = fetch(&app, &format!("/api/v1/stakeholders/{id}/consent-history"), Role::Admin).await;
    assert_eq!(history["data"].as_array().unwrap().len(), 2, "{history}");
    let events = fetch(&app, "/api/v1/audit-events?actor_sub=cli%3Aimport&limit=100", Role::Admin).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 40);
    let found = fetch(&app, "/api/v1/stakeholders?q=Ann%2017", Role::Admin).await;
    assert!(found["data"].as_array().unwrap().iter().any(|s| s["email"] == "ann17@example.com"), "{found}");
    let tagged = fetch(&app, "/api/v1/stakeholders?tag=b2b&limit=100", Role::Admin).await;
    assert_eq!(tagged["data"].as_array().unwrap().len(), 41);
});

api_test!(an_unclosed_quote_or_an_unusable_error_file_is_exit_2_before_any_row, |app| {
    // The lenient parser would take every later row into the unclosed field.
    let csv = format!(
        "{HEADER}\ncustomer,person,A,a@example.com,,,,,\ncustomer,person,B,b@example.com,,,,,\"open\n\
         customer,person,C,c@example.com,,,,,\n"
    );
    let ran = import(&app, csv.as_bytes(), &["stakeholders", "--batch-size", "1"]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("never closed"), "{}", ran.stderr);
    assert!(by_email(&app).await.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    let good = format!("{HEADER}\ncustomer,person,A,a@example.com,,,,,\n");
    std::fs::write(&input, &good).unwrap();
    for errors in [input.to_str().unwrap(), "/dev/full"] {
        let out = Command::new(env!("CARGO_BIN_EXE_crm-api"))
            .args(["import", "stakeholders", input.to_str().unwrap(), "--errors", errors])
            .env_clear()
            .env("CRM_DATABASE_URL", &app.database_url)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{errors}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(std::fs::read_to_string(&input).unwrap(), good, "the input is untouched");
    assert!(by_email(&app).await.is_empty());
});
