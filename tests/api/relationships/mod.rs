//! Relationships, by behaviour: `create` (ends, self-edges, duplicates,
//! symmetric types, dates, `Idempotency-Key`), `edits` (merge patches, ETags,
//! delete, audit), `lists` (filters, keyset pages, a stakeholder's edges from
//! both ends), `roles` (roles, partner scope at each end, redaction of the
//! other end), `network` (depth, cycles, truncation) and `privacy` (erasure
//! and export). Below: the helpers they share.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod create;
mod edits;
mod lists;
mod network;
mod privacy;
mod roles;

const LIST: &str = "/api/v1/relationships";

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn edges_of(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/relationships", stakeholder.as_str().expect("id is a string"))
}

fn network_of(stakeholder: &Value, depth: u8) -> String {
    format!("/api/v1/stakeholders/{}/network?depth={depth}", stakeholder.as_str().expect("id is a string"))
}

/// A new stakeholder's id (`extra` merged into a minimal person).
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

/// A new organisation's id.
async fn organization(app: &TestApp, name: &str) -> Value {
    stakeholder(app, json!({"entity_type": "organization", "kind": "partner", "display_name": name})).await
}

/// POSTs an edge `from` → `to` of type `t` (plus `extra`) as `role`; expects 201.
async fn link_as(app: &TestApp, role: Role, from: &Value, to: &Value, t: &str, extra: Value) -> Value {
    let mut body = json!({"from_id": from, "to_id": to, "type": t});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, headers, got) = parts(app.post(LIST, role, &body).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    assert_eq!(headers["location"].to_str().unwrap(), path(&got["id"]));
    assert_eq!(headers["etag"].to_str().unwrap(), "\"1\"");
    got
}

async fn link(app: &TestApp, from: &Value, to: &Value, t: &str) -> Value {
    link_as(app, Role::Admin, from, to, t, json!({})).await
}

/// The whole `data` of every page of `url` as `role`.
async fn all_as(app: &TestApp, url: &str, role: Role) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if url.contains('?') { '&' } else { '?' };
        let page_url = match &cursor {
            Some(c) => format!("{url}{sep}limit=2&cursor={}", enc(c)),
            None => format!("{url}{sep}limit=2"),
        };
        let (status, _, body) = parts(app.get(&page_url, role).send().await.unwrap()).await;
        assert_eq!(status, 200, "{page_url}: {body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items.iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect()
}
