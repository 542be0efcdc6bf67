//! Complaints, by behaviour: `create` (validation, the parent stakeholder,
//! links from interactions, `Idempotency-Key`), `sla` (due dates from the
//! severity, configurable targets, `sla_breached` on reads, lists and
//! filters), `lifecycle` (every transition and every refusal over HTTP,
//! action bodies, assignment, If-Match), `edits` (merge patch; a severity
//! change recomputes `due_at` while unresolved and not yet due), `roles`
//! (roles and partner isolation) and `lists` (the support queue, filters,
//! keyset pagination, the stakeholder's complaints). Below: the helpers they
//! share.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

mod create;
mod edits;
mod lifecycle;
mod lists;
mod roles;
mod sla;

const LIST: &str = "/api/v1/complaints";
const ACTIONS: [&str; 6] = ["acknowledge", "start", "resolve", "close", "reopen", "assign"];
const STATUSES: [&str; 5] = ["open", "acknowledged", "in_progress", "resolved", "closed"];

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn action_path(id: &Value, action: &str) -> String {
    format!("{}/{action}", path(id))
}

fn stakeholder_complaints(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/complaints", stakeholder.as_str().expect("id is a string"))
}

/// `due_at - created_at` of a complaint, exactly.
fn sla_of(c: &Value) -> Duration {
    parse_ts(&c["due_at"]) - parse_ts(&c["created_at"])
}

/// A valid complaint for `stakeholder` with `extra` merged in (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": stakeholder, "subject": "Parcel arrived damaged",
                          "description": "The box was crushed and two items are broken.",
                          "category": "delivery", "severity": "high"});
    let b = body.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra must be an object") {
        if v.is_null() {
            b.remove(k);
        } else {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// POSTs `body` as `role`, expects 201; returns the complaint.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates a complaint as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

fn resolution() -> Value {
    json!({"resolution": "Refunded the broken items"})
}

/// The body an action needs to succeed: `resolve` and `assign` take one, the others none.
fn body_for(action: &str) -> Option<Value> {
    match action {
        "resolve" => Some(resolution()),
        "assign" => Some(json!({"assignee_id": "agent-7"})),
        _ => None,
    }
}

/// POSTs an action with an empty body (no content type) as `role`.
async fn act_empty(app: &TestApp, c: &Value, action: &str, role: Role) -> Response {
    app.req(Method::POST, &action_path(&c["id"], action), role).send().await.unwrap()
}

/// POSTs an action with a JSON body as `role`.
async fn act_json(app: &TestApp, c: &Value, action: &str, role: Role, body: &Value) -> Response {
    app.post(&action_path(&c["id"], action), role, body).send().await.unwrap()
}

/// POSTs an action with the body it needs (see `body_for`) as `role`.
async fn act(app: &TestApp, c: &Value, action: &str, role: Role) -> Response {
    match body_for(action) {
        Some(body) => act_json(app, c, action, role, &body).await,
        None => act_empty(app, c, action, role).await,
    }
}

/// Expects 200 with an ETag matching the body's version; returns the body.
async fn ok_with_etag(res: Response, what: &str) -> Value {
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", body["version"]), "{what}: {body}");
    body
}

/// Runs an action as `role` (with the body it needs), expects 200; returns the complaint.
async fn act_ok(app: &TestApp, c: &Value, action: &str, role: Role) -> Value {
    ok_with_etag(act(app, c, action, role).await, &format!("{action} as {role}")).await
}

/// Runs an action as admin (with a valid body), expects a 409 whose detail names `current`.
async fn act_409(app: &TestApp, c: &Value, action: &str, current: &str) {
    let res = act(app, c, action, Role::Admin).await;
    let p = assert_problem(res, 409).await;
    assert_eq!(p["detail"], format!("cannot {action} a complaint whose status is {current}"), "{action}: {p}");
}

/// A fresh complaint (admin, severity `severity`) moved to `status` through the actions.
async fn in_status(app: &TestApp, sid: &Value, status: &str) -> Value {
    let mut c = create(app, sid, json!({"subject": format!("Complaint {status}")})).await;
    let steps: &[&str] = match status {
        "open" => &[],
        "acknowledged" => &["acknowledge"],
        "in_progress" => &["start"],
        "resolved" => &["start", "resolve"],
        "closed" => &["start", "resolve", "close"],
        other => panic!("unknown status {other}"),
    };
    for step in steps {
        c = act_ok(app, &c, step, Role::Admin).await;
    }
    assert_eq!(c["status"], status, "{c}");
    c
}

/// The ids of the first page of `url` with `query` as admin, as a set.
async fn id_set_of(app: &TestApp, url: &str, query: &[(&str, &str)]) -> HashSet<String> {
    ids(app, url, query).await.into_iter().collect()
}

/// How many complaints the admin sees in total.
async fn count_all(app: &TestApp) -> usize {
    ids(app, LIST, &[("limit", "200")]).await.len()
}

/// `{id: sla_breached}` over the rows of a list page.
fn breached_by_id(body: &Value) -> HashMap<String, bool> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array: {body}"))
        .iter()
        .map(|r| (id_of(r), r["sla_breached"].as_bool().unwrap_or_else(|| panic!("sla_breached not a bool: {r}"))))
        .collect()
}
