//! List endpoints: one page (ids, `next_cursor`, body), the ids of a first
//! page or of a whole single page, and ids as sets and sorted lists.
//!
//! `url` may carry a query string of its own (written by hand, values
//! encoded with `enc`); `query` pairs are appended to it (encoded by reqwest).

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use super::{Role, TestApp, parts, token};

/// One list page: its row ids in order, its `next_cursor` and the whole body.
pub type Page = (Vec<String>, Option<String>, Value);

/// GETs one page of `url` plus `query` as `role`; asserts 200 and a well-formed list body.
pub async fn page(app: &TestApp, url: &str, role: Role, query: &[(&str, &str)]) -> Page {
    page_with_token(app, url, &token(role), query).await
}

/// `page` with a raw bearer token (a partner token for `PARTNER_B`, hand-made claims).
pub async fn page_with_token(app: &TestApp, url: &str, bearer: &str, query: &[(&str, &str)]) -> Page {
    let res = app.client.get(app.url(url)).bearer_auth(bearer).query(query).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "GET {url} {query:?}: {body}");
    let ids = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {body}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let next = match &body["next_cursor"] {
        Value::Null => None,
        Value::String(c) => Some(c.clone()),
        other => panic!("next_cursor must be a string or null, got {other}"),
    };
    (ids, next, body)
}

/// The ids of the first page of `url` plus `query` as admin (the default limit unless `query` sets one).
pub async fn ids(app: &TestApp, url: &str, query: &[(&str, &str)]) -> Vec<String> {
    page(app, url, Role::Admin, query).await.0
}

/// Every id of `url` plus `query` as admin: one page with `limit=200`, asserted to be the only one.
pub async fn all_ids(app: &TestApp, url: &str, query: &[(&str, &str)]) -> Vec<String> {
    all_ids_as(app, url, Role::Admin, query).await
}

/// `all_ids` as `role`.
pub async fn all_ids_as(app: &TestApp, url: &str, role: Role, query: &[(&str, &str)]) -> Vec<String> {
    let mut q = query.to_vec();
    q.push(("limit", "200"));
    let (ids, next, body) = page(app, url, role, &q).await;
    assert!(next.is_none(), "expected a single page for {url} {query:?}: {body}");
    ids
}

/// The `id` of a record.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The ids of `records`, as a set.
pub fn set_of(records: &[&Value]) -> HashSet<String> {
    records.iter().map(|r| id_of(r)).collect()
}

/// `ids` as a set.
pub fn id_set(ids: &[String]) -> HashSet<String> {
    ids.iter().cloned().collect()
}

/// The same ids, sorted: for comparisons that ignore order.
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Percent-encodes a query-string value: every byte outside the RFC 3986
/// unreserved set (cursors, timestamps with `+`, search text).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
