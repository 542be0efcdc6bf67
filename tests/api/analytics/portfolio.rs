//! `GET /api/v1/analytics/portfolio`: the population as of now (archived
//! only on request, erased included) and its purchases in the window.

use serde_json::{Value, json};

use super::{group, keys, measure};
use crate::api_test;
use crate::helpers::*;

async fn purchase(app: &TestApp, sid: &Value, amount: i64, currency: &str, at: &str) {
    let body = json!({"stakeholder_id": sid, "channel": "in_store", "direction": "inbound", "type": "purchase",
                      "occurred_at": at, "amount": {"amount_minor": amount, "currency": currency}});
    let res = app.post("/api/v1/interactions", Role::Agent, &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

api_test!(portfolio_counts_the_population_and_its_revenue_per_currency, |app| {
    let s1 = app.create_stakeholder(json!({"kind": "customer", "segment": "gold"})).await["id"].clone();
    let s2 = app.create_stakeholder(json!({"kind": "customer"})).await["id"].clone();
    let s3 = app.create_stakeholder(json!({"kind": "supplier", "segment": "gold"})).await["id"].clone();
    let s4 = app.create_stakeholder(json!({"kind": "customer", "segment": "gold"})).await["id"].clone();
    purchase(&app, &s1, 100, "IDR", "2026-11-10T00:00:00Z").await;
    purchase(&app, &s1, 5, "USD", "2026-11-11T00:00:00Z").await;
    purchase(&app, &s2, 50, "IDR", "2026-11-12T00:00:00Z").await;
    purchase(&app, &s3, 7, "IDR", "2026-11-12T00:00:00Z").await;
    purchase(&app, &s4, 9, "IDR", "2026-11-13T00:00:00Z").await;
    purchase(&app, &s2, 1000, "IDR", "2026-10-01T00:00:00Z").await; // outside the window
    let s3_path = format!("/api/v1/stakeholders/{}", s3.as_str().unwrap());
    assert_eq!(app.delete(&s3_path, Role::Admin).send().await.unwrap().status(), 200);
    let erase = app.post(
        &format!("/api/v1/stakeholders/{}/erase", s4.as_str().unwrap()),
        Role::Admin,
        &json!({"reason": "data_subject_request"}),
    );
    assert_eq!(erase.send().await.unwrap().status(), 200);

    let window = "from=2026-11-01&to=2026-12-01";
    let body = measure(&app, "portfolio", window).await;
    // s1, s2 and the erased s4 (its facts stay); the archived s3 is out.
    assert_eq!(
        body["totals"],
        json!({
            "stakeholders": 3, "erased": 1, "purchasing_stakeholders": 3,
            "revenue": [{"currency": "IDR", "amount_minor": 159, "count": 3}, {"currency": "USD", "amount_minor": 5, "count": 1}]
        })
    );
    assert_eq!(body["buckets"], Value::Null);

    let body = measure(&app, "portfolio", &format!("{window}&include_archived=true")).await;
    assert_eq!(
        (body["totals"]["stakeholders"].as_i64(), body["totals"]["purchasing_stakeholders"].as_i64()),
        (Some(4), Some(4))
    );

    let body = measure(&app, "portfolio", &format!("{window}&group_by=kind,segment")).await;
    assert_eq!(
        keys(&body),
        [json!({"kind": "customer", "segment": "gold"}), json!({"kind": "customer", "segment": null})]
    );
    assert_eq!(
        group(&body, json!({"kind": "customer", "segment": "gold"})),
        &json!({
            "key": {"kind": "customer", "segment": "gold"},
            "stakeholders": 2, "erased": 1, "purchasing_stakeholders": 2,
            "revenue": [{"currency": "IDR", "amount_minor": 109, "count": 2}, {"currency": "USD", "amount_minor": 5, "count": 1}]
        })
    );
    let body =
        measure(&app, "portfolio", &format!("{window}&group_by=lifecycle_stage&kind=supplier&include_archived=true"))
            .await;
    assert_eq!(keys(&body), [json!({"lifecycle_stage": "prospect"})]);
    assert_eq!(body["totals"]["revenue"], json!([{"currency": "IDR", "amount_minor": 7, "count": 1}]));
});
