//! `GET /api/v1/analytics/interactions`.

use serde_json::{Value, json};

use super::{group, keys, measure};
use crate::api_test;
use crate::helpers::*;

async fn interaction(app: &TestApp, sid: &Value, body: Value) {
    let mut b = json!({"stakeholder_id": sid, "channel": "web", "direction": "inbound", "type": "contact"});
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let res = app.post("/api/v1/interactions", Role::Agent, &b).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

fn money(amount: i64, currency: &str) -> Value {
    json!({"amount_minor": amount, "currency": currency})
}

api_test!(interaction_measures_recomputed_exactly_with_week_boundaries, |app| {
    let s1 = app.create_stakeholder(json!({"kind": "customer", "segment": "gold"})).await["id"].clone();
    let s2 = app.create_stakeholder(json!({"kind": "supplier"})).await["id"].clone();
    let s3 = app.create_stakeholder(json!({"kind": "customer", "segment": "silver"})).await["id"].clone();
    // Sunday 23:59:59Z, exactly at `from`: counts, in the week of Monday 23 Nov.
    interaction(&app, &s1, json!({"type": "purchase", "occurred_at": "2026-11-29T23:59:59Z", "amount": money(1000, "IDR"), "satisfaction": 5})).await;
    // Monday 00:00:00Z: the next week.
    interaction(&app, &s1, json!({"type": "purchase", "occurred_at": "2026-11-30T00:00:00Z", "amount": money(250, "USD"), "satisfaction": 4})).await;
    interaction(&app, &s2, json!({"type": "purchase", "channel": "email", "occurred_at": "2026-11-30T12:00:00Z", "amount": money(70, "EUR")})).await;
    interaction(
        &app,
        &s3,
        json!({"channel": "phone", "direction": "outbound", "occurred_at": "2026-12-01T00:00:00Z", "satisfaction": 2}),
    )
    .await;
    // Before the window, and exactly at `to`: neither counts.
    interaction(
        &app,
        &s3,
        json!({"type": "purchase", "occurred_at": "2026-11-29T23:59:58.999999Z", "amount": money(500, "IDR")}),
    )
    .await;
    interaction(&app, &s1, json!({"occurred_at": "2026-12-02T00:00:00Z", "satisfaction": 1})).await;

    let window = "from=2026-11-29T23:59:59Z&to=2026-12-02";
    let body = measure(&app, "interactions", window).await;
    let revenue = json!([
        {"currency": "EUR", "amount_minor": 70, "count": 1},
        {"currency": "IDR", "amount_minor": 1000, "count": 1},
        {"currency": "USD", "amount_minor": 250, "count": 1}
    ]);
    assert_eq!(
        body["totals"],
        json!({
            "interactions": 4, "stakeholders": 3,
            "satisfaction": {"count": 3, "sum": 11, "average": 3.6667},
            "purchases": 3, "revenue": revenue
        })
    );

    let body = measure(&app, "interactions", &format!("{window}&group_by=week")).await;
    assert_eq!(body["buckets"], json!(["2026-11-23", "2026-11-30"]));
    assert_eq!(keys(&body), [json!({"week": "2026-11-23"}), json!({"week": "2026-11-30"})]);
    let first = group(&body, json!({"week": "2026-11-23"}));
    assert_eq!((first["interactions"].as_i64(), first["stakeholders"].as_i64()), (Some(1), Some(1)));
    let second = group(&body, json!({"week": "2026-11-30"}));
    assert_eq!((second["interactions"].as_i64(), second["stakeholders"].as_i64()), (Some(3), Some(3)));
    assert_eq!(
        second["revenue"],
        json!([{"currency": "EUR", "amount_minor": 70, "count": 1}, {"currency": "USD", "amount_minor": 250, "count": 1}])
    );
    // Distinct stakeholders over the window, not the sum of the groups (1 + 3).
    assert_eq!(body["totals"]["stakeholders"], 3);

    let body = measure(&app, "interactions", &format!("{window}&group_by=channel,week")).await;
    assert_eq!(
        keys(&body),
        [
            json!({"channel": "email", "week": "2026-11-30"}),
            json!({"channel": "phone", "week": "2026-11-30"}),
            json!({"channel": "web", "week": "2026-11-23"}),
            json!({"channel": "web", "week": "2026-11-30"}),
        ]
    );
    let phone = group(&body, json!({"channel": "phone", "week": "2026-11-30"}));
    assert_eq!(phone["satisfaction"], json!({"count": 1, "sum": 2, "average": 2.0}));
    assert_eq!(phone["revenue"], json!([]));

    // Filters: the stakeholder's current kind and segment.
    let body = measure(&app, "interactions", &format!("{window}&kind=customer")).await;
    assert_eq!((body["totals"]["interactions"].as_i64(), body["totals"]["stakeholders"].as_i64()), (Some(3), Some(2)));
    let body = measure(&app, "interactions", &format!("{window}&segment=gold&group_by=type")).await;
    assert_eq!(body["totals"]["interactions"], 2);
    assert_eq!(keys(&body), [json!({"type": "purchase"})]);
    patch_ok(
        &app,
        &format!("/api/v1/stakeholders/{}", s1.as_str().unwrap()),
        Role::Admin,
        json!({"segment": "silver"}),
    )
    .await;
    let body = measure(&app, "interactions", &format!("{window}&segment=gold")).await;
    assert_eq!(body["totals"]["interactions"], 0);
});
