//! Stakeholders: create, read, list, patch, archive/restore.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_test;

api_test!(create_returns_201_with_location_etag_and_body, |app| {
    let res = app
        .post(
            "/api/v1/stakeholders",
            Role::Agent,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "Siti Rahayu",
                    "email": "Siti@Example.com", "phone": "+62 812-3456-7890", "tags": ["vip", "vip", "b2c"],
                    "consents": {"marketing_email": true}, "address": {"city": "Bandung", "country": "ID"}}),
        )
        .send()
        .await
        .unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(headers["location"].to_str().unwrap(), format!("/api/v1/stakeholders/{id}"));
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(body["version"], 1);
    assert_eq!(body["email"], "siti@example.com");
    assert_eq!(body["phone"], "+6281234567890");
    assert_eq!(body["lifecycle_stage"], "prospect");
    assert_eq!(body["tags"], json!(["vip", "b2c"]));
    assert_eq!(body["address"]["country"], "ID");
    assert_eq!(body["consents"]["marketing_email"], true);
    assert_eq!(body["consents"]["profiling"], false);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["archived_at"], Value::Null);

    let got = app.get(&format!("/api/v1/stakeholders/{id}"), Role::Analyst).send().await.unwrap();
    let (status, headers, got) = parts(got).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    assert_eq!(got["display_name"], "Siti Rahayu");
    assert_eq!(got["created_at"], body["created_at"]);
});
