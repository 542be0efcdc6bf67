//! Interactions, by behaviour: `create` (money, `occurred_at`, links, the
//! parent stakeholder, `Idempotency-Key`, hostile strings), `roles` (roles
//! and partner isolation), `edits` (merge-patch updates, ETags, delete) and
//! `lists` (sorts, filters, keyset pagination, the stakeholder timeline).
//! Below: the helpers they share.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

mod create;
mod edits;
mod lists;
mod roles;

const LIST: &str = "/api/v1/interactions";

fn path(id: &Value) -> String {
    format!("{LIST}/{}", id.as_str().expect("id is a string"))
}

fn timeline(stakeholder: &Value) -> String {
    format!("/api/v1/stakeholders/{}/interactions", stakeholder.as_str().expect("id is a string"))
}

/// A valid `contact` interaction for `stakeholder`, with `extra` merged in
/// (a `null` in `extra` removes the key).
fn input(stakeholder: &Value, extra: Value) -> Value {
    let mut body =
        json!({"stakeholder_id": stakeholder, "channel": "phone", "direction": "outbound", "type": "contact"});
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

/// A valid `purchase` interaction for `stakeholder`.
fn purchase(stakeholder: &Value, amount_minor: i64) -> Value {
    input(
        stakeholder,
        json!({"channel": "in_store", "direction": "inbound", "type": "purchase",
               "amount": {"amount_minor": amount_minor, "currency": "IDR"}}),
    )
}

/// POSTs `body` as `role`, expects 201; returns the body.
async fn create_as(app: &TestApp, role: Role, body: &Value) -> Value {
    let res = app.post(LIST, role, body).send().await.unwrap();
    let (status, _, got) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "POST {body} as {role}: {got}");
    got
}

/// Creates a contact interaction as admin for `stakeholder` with `extra`.
async fn create(app: &TestApp, stakeholder: &Value, extra: Value) -> Value {
    create_as(app, Role::Admin, &input(stakeholder, extra)).await
}

/// A fresh stakeholder's id.
async fn stakeholder(app: &TestApp, extra: Value) -> Value {
    app.create_stakeholder(extra).await["id"].clone()
}
