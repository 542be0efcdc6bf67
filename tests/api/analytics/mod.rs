//! The analytics endpoints (`contracts/analytics.md`): each measure is
//! recomputed in the test from rows made through the API (timestamps the API
//! cannot take are set in the database, to pin durations and boundaries),
//! and compared exactly. `rules` holds roles, validation and the common
//! shape; one file per endpoint.

mod complaints;
mod interactions;
mod lifecycle;
mod offers;
mod portfolio;
mod rules;

use serde_json::Value;

use crate::helpers::*;

const METRICS: [&str; 5] = ["portfolio", "interactions", "lifecycle", "offers", "complaints"];

/// `GET /api/v1/analytics/{metric}?{query}` as an analyst: the 200 body.
async fn measure(app: &TestApp, metric: &str, query: &str) -> Value {
    let (status, headers, body) =
        parts(app.get(&format!("/api/v1/analytics/{metric}?{query}"), Role::Analyst).send().await.unwrap()).await;
    assert_eq!(status, 200, "{metric}?{query}: {body}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(body["metric"], metric);
    assert_eq!(body["timezone"], "UTC");
    body
}

/// The group whose key is `key` (`{"dim": value, …}`).
fn group(body: &Value, key: Value) -> &Value {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {body}"))
}

/// The keys of the groups, in answer order.
fn keys(body: &Value) -> Vec<Value> {
    body["groups"].as_array().unwrap().iter().map(|g| g["key"].clone()).collect()
}

/// Runs statements on the test's database (timestamps the API sets itself).
fn sql(app: &TestApp, statements: &[String]) {
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    for s in statements {
        diesel::RunQueryDsl::execute(diesel::sql_query(s), &mut *conn).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// A timestamp literal both backends read as that instant.
fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("'{}'", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// `{numerator, denominator, rate}` as the contract pins it.
fn ratio(n: i64, d: i64, rate: Option<f64>) -> Value {
    serde_json::json!({"numerator": n, "denominator": d, "rate": rate})
}
