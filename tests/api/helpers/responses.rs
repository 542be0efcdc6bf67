//! Reading responses: status, headers and body; RFC 9457 problems and the
//! `errors[]` of a 422; a GET that must succeed.

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{Role, TestApp};

/// Reads a response as (status, headers, JSON body or Null).
pub async fn parts(res: Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}

/// Asserts an RFC 9457 problem with `status`; returns its body.
pub async fn assert_problem(res: Response, status: u16) -> Value {
    let url = res.url().to_string();
    let (st, headers, body) = parts(res).await;
    assert_eq!(st.as_u16(), status, "{url}: expected {status}, got {st}: {body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{url}: problem content type"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].as_str().unwrap_or("").starts_with("https://"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    body
}

/// The `field` values of a 422's `errors[]`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Every `code` reported for `field` in a 422.
pub fn codes_for(problem: &Value, field: &str) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter().filter(|e| e["field"] == field).filter_map(|e| e["code"].as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default()
}

/// Asserts `field` is reported with `code` (other codes may be reported too).
pub fn assert_code(problem: &Value, field: &str, code: &str) {
    let codes = codes_for(problem, field);
    assert!(codes.iter().any(|c| c == code), "expected {field}: {code}; got {codes:?} in {problem}");
}

/// Asserts a 422 problem with a non-empty `errors[]` whose entries all have
/// a string `field`, `code` and `message`; returns the problem.
pub async fn assert_422_any(res: Response) -> Value {
    let problem = assert_problem(res, 422).await;
    let errors = problem["errors"].as_array().unwrap_or_else(|| panic!("no errors[]: {problem}"));
    assert!(!errors.is_empty(), "{problem}");
    for e in errors {
        assert!(e["field"].is_string() && e["code"].is_string() && e["message"].is_string(), "{e} in {problem}");
    }
    problem
}

/// `assert_422_any`, and `field` is among the errors (with `code`, when given); returns the problem.
pub async fn assert_422(res: Response, field: &str, code: Option<&str>) -> Value {
    let problem = assert_422_any(res).await;
    match code {
        Some(code) => assert_code(&problem, field, code),
        None => assert!(!codes_for(&problem, field).is_empty(), "expected an error on {field}: {problem}"),
    }
    problem
}

/// POSTs `body` to `url` as admin; expects `assert_422_any`. Returns the problem.
pub async fn create_422_any(app: &TestApp, url: &str, body: Value) -> Value {
    assert_422_any(app.post(url, Role::Admin, &body).send().await.unwrap()).await
}

/// POSTs `body` to `url` as admin; expects `assert_422(_, field, code)`. Returns the problem.
pub async fn create_422(app: &TestApp, url: &str, body: Value, field: &str, code: Option<&str>) -> Value {
    assert_422(app.post(url, Role::Admin, &body).send().await.unwrap(), field, code).await
}

/// GETs `url` as `role`, expects 200; returns the body.
pub async fn fetch(app: &TestApp, url: &str, role: Role) -> Value {
    let res = app.get(url, role).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "GET {url} as {role}: {body}");
    body
}

/// PATCHes `url` as `role` with `patch` (JSON), expects 200; returns the body.
pub async fn patch_ok(app: &TestApp, url: &str, role: Role, patch: Value) -> Value {
    let res = app.patch(url, role, &patch).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "PATCH {url} {patch} as {role}: {body}");
    body
}

/// The `ETag` header, if any.
pub fn etag_of(res: &Response) -> Option<String> {
    res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned)
}
