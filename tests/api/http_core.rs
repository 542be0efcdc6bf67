//! The HTTP core: problem documents for the framework's own failures, query
//! validation, request ids, service endpoints, hostile input, CORS.

use std::collections::BTreeSet;

use reqwest::header::HeaderValue;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const STAKEHOLDERS: &str = "/api/v1/stakeholders";

/// Asserts a problem with `status` whose `instance` is `path` and whose
/// `request_id` equals the `X-Request-Id` response header.
async fn problem_at(res: Response, status: u16, path: &str) -> Value {
    let header_id = res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = assert_problem(res, status).await;
    assert_eq!(body["instance"], path, "{body}");
    let header_id = header_id.expect("X-Request-Id header on a problem response");
    assert!(!header_id.is_empty());
    assert_eq!(body["request_id"], header_id.as_str(), "{body}");
    body
}

fn allow_set(res: &Response) -> BTreeSet<String> {
    res.headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn request_id_of(res: &Response) -> String {
    res.headers().get("x-request-id").expect("X-Request-Id header").to_str().expect("ASCII X-Request-Id").to_owned()
}

// ---------------------------------------------------------------------------
// 1. The framework's own failures are problems too.

api_test!(unknown_route_is_404_problem, |app| {
    for path in ["/api/v1/nope", "/nope", "/api/v2/stakeholders"] {
        let res = app.get(path, Role::Admin).send().await.unwrap();
        problem_at(res, 404, path).await;
    }
    // Without a token as well: an unknown route is not a 401.
    let res = app.client.get(app.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});

api_test!(wrong_method_is_405_with_allow, |app| {
    for method in [Method::PUT, Method::DELETE] {
        let res = app.req(method.clone(), STAKEHOLDERS, Role::Admin).send().await.unwrap();
        assert_eq!(allow_set(&res), set(&["GET", "HEAD", "POST"]), "{method}");
        problem_at(res, 405, STAKEHOLDERS).await;
    }

    let id = app.create_stakeholder(json!({})).await["id"].as_str().unwrap().to_owned();
    let path = format!("{STAKEHOLDERS}/{id}");
    let res = app.req(Method::PUT, &path, Role::Admin).send().await.unwrap();
    assert_eq!(allow_set(&res), set(&["GET", "HEAD", "PATCH", "DELETE"]));
    problem_at(res, 405, &path).await;

    let path = format!("{STAKEHOLDERS}/{id}/restore");
    let res = app.get(&path, Role::Admin).send().await.unwrap();
    assert_eq!(allow_set(&res), set(&["POST"]));
    problem_at(res, 405, &path).await;
});

api_test!(trailing_slash_is_not_a_contradictory_405, |app| {
    // `/api/v1/stakeholders/` is not a route (no trailing-slash normalisation):
    // a 404 problem, never a 405 whose `Allow` names the very method that was used.
    let path = format!("{STAKEHOLDERS}/");
    let res = app.get(&path, Role::Admin).send().await.unwrap();
    let status = res.status();
    let allow = allow_set(&res);
    assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}: {status}, Allow: {allow:?}");
    problem_at(res, 404, &path).await;
});

api_test!(body_over_configured_limit_is_413, |app| {
    let small = TestApp::spawn_with(app.backend, &[("CRM_BODY_LIMIT", "1KiB")]).await;
    let body = json!({"kind": "customer", "entity_type": "person", "display_name": "Big",
                      "preferences": {"blob": "x".repeat(2048)}});
    let res = small.post(STAKEHOLDERS, Role::Admin, &body).send().await.unwrap();
    problem_at(res, 413, STAKEHOLDERS).await;

    // A body under the limit still works on that app.
    let res = small
        .post(STAKEHOLDERS, Role::Admin, &json!({"kind": "customer", "entity_type": "person", "display_name": "Small"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // The default app accepts 2 KiB but not more than 1 MiB.
    let res = app.post(STAKEHOLDERS, Role::Admin, &body).send().await.unwrap();
    assert_ne!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let huge = json!({"kind": "customer", "entity_type": "person", "display_name": "Huge",
                      "preferences": {"blob": "x".repeat(1024 * 1024 + 100)}});
    let res = app.post(STAKEHOLDERS, Role::Admin, &huge).send().await.unwrap();
    problem_at(res, 413, STAKEHOLDERS).await;
});

api_test!(non_json_content_type_is_415, |app| {
    let res = app
        .req(Method::POST, STAKEHOLDERS, Role::Admin)
        .header("content-type", "text/plain")
        .body(r#"{"kind":"customer","entity_type":"person","display_name":"X"}"#)
        .send()
        .await
        .unwrap();
    problem_at(res, 415, STAKEHOLDERS).await;
});

api_test!(malformed_and_non_object_json_is_400, |app| {
    for raw in [
        r#"{"kind": "customer", "#,
        "{kind: customer}",
        "[]",
        r#"[{"kind":"customer"}]"#,
        "42",
        r#""text""#,
        "null",
        "",
    ] {
        let res = app
            .req(Method::POST, STAKEHOLDERS, Role::Admin)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let st = res.status();
        assert_eq!(st, StatusCode::BAD_REQUEST, "body {raw:?}");
        problem_at(res, 400, STAKEHOLDERS).await;
    }

    // PATCH too.
    let id = app.create_stakeholder(json!({})).await["id"].as_str().unwrap().to_owned();
    let path = format!("{STAKEHOLDERS}/{id}");
    for raw in ["{", "[1,2]", "7"] {
        let res = app
            .req(Method::PATCH, &path, Role::Admin)
            .header("content-type", "application/merge-patch+json")
            .body(raw)
            .send()
            .await
            .unwrap();
        problem_at(res, 400, &path).await;
    }
});

api_test!(merge_patch_content_type_is_accepted, |app| {
    let id = app.create_stakeholder(json!({"segment": "gold"})).await["id"].as_str().unwrap().to_owned();
    let path = format!("{STAKEHOLDERS}/{id}");
    let res = app
        .req(Method::PATCH, &path, Role::Admin)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"display_name": "Patched", "segment": null}"#)
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["display_name"], "Patched");
    assert_eq!(body["segment"], Value::Null);
    assert_eq!(body["version"], 2);

    // Not JSON at all is still refused on PATCH.
    let res = app
        .req(Method::PATCH, &path, Role::Admin)
        .header("content-type", "text/plain")
        .body(r#"{"display_name": "Nope"}"#)
        .send()
        .await
        .unwrap();
    problem_at(res, 415, &path).await;
});

// ---------------------------------------------------------------------------
// 2. Query-string and path problems are 400.

api_test!(bad_query_parameters_are_400, |app| {
    app.create_stakeholder(json!({"display_name": "A"})).await;
    for query in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "sort=password",
        "sort=--created_at",
        "sort=",
        "cursor=garbage",
        "kind=nope",
        "entity_type=robot",
        "lifecycle_stage=LEAD",
        "partner_id=not-a-uuid",
        "foo=1",
        "updated_since=yesterday",
        "include_archived=maybe",
    ] {
        let res = app.get(&format!("{STAKEHOLDERS}?{query}"), Role::Admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "?{query}");
        problem_at(res, 400, STAKEHOLDERS).await;
    }
    // The boundaries themselves are fine.
    for query in ["limit=1", "limit=200", "sort=-display_name", "sort=updated_at"] {
        let res = app.get(&format!("{STAKEHOLDERS}?{query}"), Role::Admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "?{query}");
    }
});

api_test!(cursor_from_another_sort_is_400, |app| {
    for name in ["Alpha", "Beta", "Gamma"] {
        app.create_stakeholder(json!({"display_name": name})).await;
    }
    let res = app.get(&format!("{STAKEHOLDERS}?limit=1&sort=display_name"), Role::Admin).send().await.unwrap();
    let (status, _, page) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let cursor = page["next_cursor"].as_str().expect("a next cursor").to_owned();

    // Same sort: fine.
    let res = app
        .get(&format!("{STAKEHOLDERS}?limit=1&sort=display_name&cursor={cursor}"), Role::Admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    for other in ["", "&sort=-display_name", "&sort=created_at"] {
        let res = app.get(&format!("{STAKEHOLDERS}?limit=1&cursor={cursor}{other}"), Role::Admin).send().await.unwrap();
        problem_at(res, 400, STAKEHOLDERS).await;
    }
});

api_test!(bad_uuid_in_path_is_400, |app| {
    let path = format!("{STAKEHOLDERS}/not-a-uuid");
    let res = app.get(&path, Role::Admin).send().await.unwrap();
    problem_at(res, 400, &path).await;
    let res = app.patch(&path, Role::Admin, &json!({"display_name": "X"})).send().await.unwrap();
    problem_at(res, 400, &path).await;
    let res = app.delete(&path, Role::Admin).send().await.unwrap();
    problem_at(res, 400, &path).await;
    let path = format!("{STAKEHOLDERS}/123/consent-history");
    let res = app.get(&path, Role::Admin).send().await.unwrap();
    problem_at(res, 400, &path).await;
});

// ---------------------------------------------------------------------------
// 3. X-Request-Id.

api_test!(request_id_is_echoed_or_generated, |app| {
    // Echoed on success and on error.
    let res = app.get(STAKEHOLDERS, Role::Admin).header("x-request-id", "req-123").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(request_id_of(&res), "req-123");
    let res = app.get("/api/v1/nope", Role::Admin).header("x-request-id", "req-456").send().await.unwrap();
    assert_eq!(request_id_of(&res), "req-456");
    let body = problem_at(res, 404, "/api/v1/nope").await;
    assert_eq!(body["request_id"], "req-456");

    // Generated otherwise: present, non-empty, different per request.
    let mut seen = BTreeSet::new();
    for path in [STAKEHOLDERS, STAKEHOLDERS, "/api/v1/nope", "/health/live"] {
        let res = app.get(path, Role::Admin).send().await.unwrap();
        let id = request_id_of(&res);
        assert!(!id.is_empty(), "{path}");
        assert!(seen.insert(id), "request ids repeat");
    }
    // Also on a 401 (no token).
    let res = app.client.get(app.url(STAKEHOLDERS)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(!request_id_of(&res).is_empty());
});

api_test!(unsafe_request_ids_are_replaced, |app| {
    let long = "a".repeat(200);
    let res = app.get(STAKEHOLDERS, Role::Admin).header("x-request-id", long.as_str()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let id = request_id_of(&res);
    assert!(!id.is_empty());
    assert_ne!(id, long);

    let non_ascii = HeaderValue::from_bytes("caf\u{e9}-\u{1f980}".as_bytes()).unwrap();
    let res = app.get(STAKEHOLDERS, Role::Admin).header("x-request-id", non_ascii.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let value = res.headers().get("x-request-id").expect("X-Request-Id");
    assert_ne!(value, &non_ascii);
    let id = value.to_str().expect("an ASCII id");
    assert!(!id.is_empty());

    // With spaces (not safe to log as one token): replaced too.
    let res = app.get(STAKEHOLDERS, Role::Admin).header("x-request-id", "a b").send().await.unwrap();
    assert_ne!(request_id_of(&res), "a b");
});

// ---------------------------------------------------------------------------
// 4. Service endpoints.

api_test!(health_endpoints_answer, |app| {
    let res = app.client.get(app.url("/health/live")).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));

    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
});

api_test!(metrics_count_requests_by_route, |app| {
    let res = app.get(STAKEHOLDERS, Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get(&format!("{STAKEHOLDERS}?limit=0"), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    let text = res.text().await.unwrap();
    let count_line = |status: &str| {
        text.lines().find(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(r#"route="/api/v1/stakeholders""#)
                && l.contains(r#"method="GET""#)
                && l.contains(&format!(r#"status="{status}""#))
        })
    };
    let ok = count_line("200").unwrap_or_else(|| panic!("no 200 count in:\n{text}"));
    assert!(ok.ends_with(" 1"), "{ok}");
    assert!(count_line("400").is_some(), "no 400 count in:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("http_request_duration_seconds") && l.contains(r#"route="/api/v1/stakeholders""#)),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("db_pool_connections")), "{text}");
    // Path parameters do not explode the label space.
    let res = app.get(&format!("{STAKEHOLDERS}/{}", uuid::Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"route="/api/v1/stakeholders/{id}""#), "{text}");
});

api_test!(openapi_document_is_served, |app| {
    let res = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    let (status, headers, doc) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"].get(STAKEHOLDERS).is_some(), "{}", doc["paths"]);
    assert!(doc["paths"].get("/api/v1/stakeholders/{id}").is_some());
});

api_test!(docs_serve_swagger_ui, |app| {
    let res = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/docs/");

    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = res.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
});

// ---------------------------------------------------------------------------
// 6. Hostile strings in filters.

api_test!(hostile_filter_values_never_5xx, |app| {
    app.create_stakeholder(json!({"segment": "gold", "owner_id": "o-1", "tags": ["vip"]})).await;
    let long = "x".repeat(5000);
    let values: [(&str, u16); 10] = [
        ("'", 200),
        ("\"", 200),
        ("%", 200),
        ("_", 200),
        ("\\", 200),
        ("\0", 400),
        ("\u{1f980}", 200),
        ("' OR 1=1 --", 200),
        (long.as_str(), 400),
        ("\u{202e}", 200),
    ];
    for filter in ["segment", "owner_id", "tag", "q"] {
        for (value, expected) in values {
            let res = app.get(&format!("{STAKEHOLDERS}?{filter}={}", enc(value)), Role::Admin).send().await.unwrap();
            let status = res.status().as_u16();
            let shown: String = value.chars().take(20).collect();
            assert_eq!(status, expected, "{filter}={shown:?}");
            if expected == 200 {
                let (_, _, body) = parts(res).await;
                // None of these match the one stakeholder, least of all "' OR 1=1 --".
                assert_eq!(body["data"], json!([]), "{filter}={shown:?}");
            } else {
                problem_at(res, expected, STAKEHOLDERS).await;
            }
        }
    }
});

api_test!(search_wildcards_match_literally, |app| {
    let pure = app.create_stakeholder(json!({"display_name": "100% Pure"})).await;
    app.create_stakeholder(json!({"display_name": "Plain"})).await;
    let under = app.create_stakeholder(json!({"display_name": "snake_case Ltd"})).await;
    let back = app.create_stakeholder(json!({"display_name": "Back\\slash"})).await;

    let names = |body: &Value| -> BTreeSet<String> {
        body["data"].as_array().unwrap().iter().map(|s| s["display_name"].as_str().unwrap().to_owned()).collect()
    };
    for (q, expected) in [("%", &pure), ("_", &under), ("\\", &back), ("0%", &pure), ("e_c", &under)] {
        let res = app.get(&format!("{STAKEHOLDERS}?q={}", enc(q)), Role::Admin).send().await.unwrap();
        let (status, _, body) = parts(res).await;
        assert_eq!(status, StatusCode::OK, "q={q}: {body}");
        let expected_name = expected["display_name"].as_str().unwrap();
        assert_eq!(names(&body), set(&[expected_name]), "q={q}");
    }
    // Case-insensitive.
    let res = app.get(&format!("{STAKEHOLDERS}?q=PURE"), Role::Admin).send().await.unwrap();
    let (_, _, body) = parts(res).await;
    assert_eq!(names(&body), set(&["100% Pure"]));
});

// ---------------------------------------------------------------------------
// 7. Hostile bodies.

api_test!(nul_in_body_is_422, |app| {
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "a\u{0}b"}),
        )
        .send()
        .await
        .unwrap();
    let body = problem_at(res, 422, STAKEHOLDERS).await;
    let errors = body["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["field"] == "display_name" && e["code"] == "invalid_character"), "{body}");

    // In list items as well; nothing is stored.
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "ok", "tags": ["x\u{0}"]}),
        )
        .send()
        .await
        .unwrap();
    let body = problem_at(res, 422, STAKEHOLDERS).await;
    let fields = error_fields(&body);
    assert!(fields.iter().any(|f| f.starts_with("tags")), "{body}");
    let (_, _, list) = parts(app.get(STAKEHOLDERS, Role::Admin).send().await.unwrap()).await;
    assert_eq!(list["data"], json!([]));

    // `preferences` is free-form JSON, kept as JSON text: NUL survives there, escaped.
    let prefs = json!({"k\u{0}": "v\u{0}", "n": [{"x": "\u{0}"}]});
    let s = app.create_stakeholder(json!({"preferences": prefs})).await;
    let (_, _, back) =
        parts(app.get(&format!("{STAKEHOLDERS}/{}", s["id"].as_str().unwrap()), Role::Admin).send().await.unwrap())
            .await;
    assert_eq!(back["preferences"], prefs);
});

api_test!(overlong_display_name_is_422, |app| {
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "n".repeat(5000)}),
        )
        .send()
        .await
        .unwrap();
    let body = problem_at(res, 422, STAKEHOLDERS).await;
    let errors = body["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["field"] == "display_name" && e["code"] == "length"), "{body}");
    // 200 characters is the maximum, counted in characters not bytes.
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "\u{1f980}".repeat(200)}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
});

api_test!(unicode_round_trips_unchanged, |app| {
    let name = "\u{1f980} Kr\u{e4}bbe \u{202e}txet\u{202c} \u{5317}\u{4eac} \u{0645}\u{0631}\u{062d}\u{0628}\u{0627}";
    let created = app
        .create_stakeholder(json!({"display_name": name, "segment": "\u{1f980}",
                                   "tags": ["\u{202e}rtl", "\u{1f980}"],
                                   "preferences": {"\u{1f980}": "\u{202e}x"}}))
        .await;
    assert_eq!(created["display_name"], name);
    let id = created["id"].as_str().unwrap();
    let res = app.get(&format!("{STAKEHOLDERS}/{id}"), Role::Admin).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["display_name"], name);
    assert_eq!(got["segment"], "\u{1f980}");
    assert_eq!(got["tags"], json!(["\u{202e}rtl", "\u{1f980}"]));
    assert_eq!(got["preferences"], json!({"\u{1f980}": "\u{202e}x"}));

    // And it can be found by those values.
    for query in [
        format!("segment={}", enc("\u{1f980}")),
        format!("tag={}", enc("\u{202e}rtl")),
        format!("q={}", enc("\u{1f980} kr\u{e4}")),
    ] {
        let res = app.get(&format!("{STAKEHOLDERS}?{query}"), Role::Admin).send().await.unwrap();
        let (status, _, body) = parts(res).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"].as_array().unwrap().len(), 1, "{query}: {body}");
    }
});

api_test!(deeply_nested_preferences_never_500, |app| {
    for depth in [100usize, 1000] {
        let mut nested = json!({"leaf": true});
        for _ in 0..depth {
            nested = json!({ "n": nested });
        }
        let res = app
            .post(
                STAKEHOLDERS,
                Role::Admin,
                &json!({"kind": "customer", "entity_type": "person",
                        "display_name": format!("Deep {depth}"), "preferences": nested}),
            )
            .send()
            .await
            .unwrap();
        let (status, _, body) = parts(res).await;
        assert!(matches!(status.as_u16(), 201 | 400 | 422), "depth {depth}: {status} {body}");
        if status == StatusCode::CREATED {
            let id = body["id"].as_str().unwrap();
            let res = app.get(&format!("{STAKEHOLDERS}/{id}"), Role::Admin).send().await.unwrap();
            let (status, _, got) = parts(res).await;
            assert_eq!(status, StatusCode::OK, "depth {depth}: {got}");
            assert_eq!(got["preferences"], body["preferences"]);
            let res = app.get(STAKEHOLDERS, Role::Admin).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
    }
});

api_test!(oversized_preferences_is_422, |app| {
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "Prefs",
                    "preferences": {"blob": "p".repeat(17 * 1024)}}),
        )
        .send()
        .await
        .unwrap();
    let body = problem_at(res, 422, STAKEHOLDERS).await;
    assert!(error_fields(&body).contains(&"preferences".to_owned()), "{body}");

    // Just under the limit is fine.
    let res = app
        .post(
            STAKEHOLDERS,
            Role::Admin,
            &json!({"kind": "customer", "entity_type": "person", "display_name": "Prefs",
                    "preferences": {"blob": "p".repeat(15 * 1024)}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
});

// ---------------------------------------------------------------------------
// 8. CORS.

api_test!(cors_allows_only_configured_origins, |app| {
    let cors = TestApp::spawn_with(app.backend, &[("CRM_CORS_ORIGINS", "https://app.example")]).await;
    let preflight = |origin: &str| {
        cors.client
            .request(Method::OPTIONS, cors.url(STAKEHOLDERS))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header("access-control-request-headers", "authorization, content-type, if-match")
            .send()
    };
    let res = preflight("https://app.example").await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("https://app.example")
    );
    let methods = res.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("PATCH"), "{methods}");

    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none(), "{:?}", res.headers());
    // Refusing it is fine, but like every error it is a problem document with a request id.
    if res.status().is_client_error() {
        let status = res.status().as_u16();
        problem_at(res, status, STAKEHOLDERS).await;
    }
    // A plain request from another origin: served, but without the header a browser needs.
    let res = cors.get(STAKEHOLDERS, Role::Admin).header("origin", "https://evil.example").send().await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none(), "{:?}", res.headers());

    // An actual request from the allowed origin gets the header (and exposed headers).
    let res = cors.get(STAKEHOLDERS, Role::Admin).header("origin", "https://app.example").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example");
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    // The default app allows no cross origin at all.
    let res = app
        .client
        .request(Method::OPTIONS, app.url(STAKEHOLDERS))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PATCH")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
});

api_test!(head_is_get_without_a_body, |app| {
    let s = app.create_stakeholder(serde_json::json!({})).await;
    let path = format!("{STAKEHOLDERS}/{}", s["id"].as_str().unwrap());
    let res = app.req(Method::HEAD, &path, Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert!(res.headers().contains_key("x-request-id"));
    assert!(res.bytes().await.unwrap().is_empty(), "no body on HEAD");
    let res = app.req(Method::HEAD, STAKEHOLDERS, Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A HEAD on a route that has no GET is still a 405.
    let res = app.req(Method::HEAD, &format!("{path}/restore"), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Unauthenticated HEAD: 401, no body.
    let res = app.client.head(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.bytes().await.unwrap().is_empty());
});

api_test!(out_of_range_timestamps_are_client_errors, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let sid = s["id"].as_str().unwrap();
    for when in ["-5000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "+20000-01-01T00:00:00Z"] {
        let res = app
            .post(
                "/api/v1/offers",
                Role::Agent,
                &json!({"stakeholder_id": sid, "title": "t", "price": {"amount_minor": 1, "currency": "IDR"},
                        "valid_from": when}),
            )
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 422).await;
        assert_eq!(error_fields(&p), ["valid_from"], "{when}");
        let res = app
            .post(
                "/api/v1/interactions",
                Role::Agent,
                &json!({"stakeholder_id": sid, "channel": "chat", "direction": "inbound", "type": "note",
                        "occurred_at": when}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{when}");
        for path in [
            "/api/v1/stakeholders?updated_since=",
            "/api/v1/interactions?occurred_before=",
            "/api/v1/offers?valid_at=",
            "/api/v1/complaints?opened_after=",
        ] {
            let url = format!("{path}{}", when.replace('+', "%2B"));
            assert_problem(app.get(&url, Role::Admin).send().await.unwrap(), 400).await;
        }
    }
    let res = app
        .patch(&format!("{STAKEHOLDERS}/{sid}"), Role::Agent, &json!({"birth_date": "-5000-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .patch(&format!("{STAKEHOLDERS}/{sid}"), Role::Agent, &json!({"birth_date": "1899-12-31"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
});

api_test!(a_cursor_with_nul_is_a_bad_cursor, |app| {
    use base64::Engine;
    let raw = json!({"s": "display_name", "k": "a\u{0}b", "i": uuid::Uuid::nil()}).to_string();
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let res = app.get(&format!("{STAKEHOLDERS}?sort=display_name&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});
