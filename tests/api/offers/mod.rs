//! Offers, by behaviour: `create` (validation, the parent stakeholder, links
//! from interactions, `Idempotency-Key`), `lifecycle` (every transition and
//! every refusal over HTTP, If-Match, validity windows, expiry on read),
//! `edits` (draft-only PATCH and DELETE), `roles` (roles and partner
//! isolation) and `lists` (sorts, filters, keyset pagination, the
//! stakeholder's offers). Below: the helpers they share.

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

mod create;
mod edits;
mod lifecycle;
mod lists;
mod roles;

const LIST: &str = "/api/v1/offers";
const ACTIONS: [&str; 4] = ["send", "accept", "decline", "withdraw"];

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn action_path(id: &Value, action: &str) -> String {
    format!("{}/{action}", path(id))
}

fn stakeholder_offers(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/offers", stakeholder.as_str().expect("id is a string"))
}

/// A valid offer for `stakeholder` with `extra` merged in (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": stakeholder, "title": "Gold membership",
                          "price": {"amount_minor": 1_500_000, "currency": "IDR"}});
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

/// POSTs `body` as `role`, expects 201; returns the offer.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates an offer as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}

/// POSTs an action with an empty body (no content type) as `role`.
async fn act(app: &TestApp, offer: &Value, action: &str, role: Role) -> Response {
    app.req(Method::POST, &action_path(&offer["id"], action), role).send().await.unwrap()
}

/// Runs an action as `role`, expects 200 and a matching ETag; returns the offer.
async fn act_ok(app: &TestApp, offer: &Value, action: &str, role: Role) -> Value {
    let res = act(app, offer, action, role).await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{action} as {role}: {body}");
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", body["version"]), "{body}");
    body
}

/// Runs an action, expects a 409 whose detail names `current`.
async fn act_409(app: &TestApp, offer: &Value, action: &str, current: &str) {
    let res = act(app, offer, action, Role::Admin).await;
    let p = assert_problem(res, 409).await;
    assert_eq!(p["detail"], format!("cannot {action} an offer whose status is {current}"), "{action}: {p}");
}

/// How many offers the admin sees in total.
async fn count_all(app: &TestApp) -> usize {
    ids(app, LIST, &[("limit", "200")]).await.len()
}

/// Creates a draft whose `valid_until` is 2..3 s ahead, sends it, and waits until
/// that moment has passed: the offer then reads as `expired`.
async fn expired_offer(app: &TestApp, sid: &Value) -> Value {
    let until = Utc::now().trunc_subsecs(0) + Duration::seconds(3);
    let offer = create(app, sid, json!({"title": "Short-lived", "valid_until": rfc3339(until)})).await;
    let sent = act_ok(app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    let wait = (until - Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(500);
    tokio::time::sleep(wait).await;
    sent
}
