//! `GET /api/v1/analytics/complaints`: durations, SLA and percentiles pinned
//! by setting the complaints' timestamps in the database.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{group, keys, measure, ratio, sql, ts};
use crate::api_test;
use crate::helpers::*;

async fn complaint(app: &TestApp, sid: &Value, category: &str) -> String {
    let body = json!({"stakeholder_id": sid, "subject": "Late", "description": "It came late.",
                      "category": category, "severity": "high"});
    let res = app.post("/api/v1/complaints", Role::Agent, &body).send().await.unwrap();
    let (status, _, c) = parts(res).await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, id: &str, action: &str, body: Option<Value>) {
    let path = format!("/api/v1/complaints/{id}/{action}");
    let req = match &body {
        Some(b) => app.post(&path, Role::Manager, b),
        None => app.req(reqwest::Method::POST, &path, Role::Manager),
    };
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{action}: {}", res.text().await.unwrap());
}

fn at(s: &str) -> DateTime<Utc> {
    instant(s)
}

api_test!(complaint_measures_sla_boundary_and_percentiles, |app| {
    let sid = app.create_stakeholder(json!({})).await["id"].clone();
    let t0 = at("2026-10-05T00:00:00Z");
    let due = t0 + Duration::hours(5);
    let mut updates = Vec::new();
    // Ten complaints handled to the end: k hours to resolve (k = 1..10), due
    // after 5 h (k = 5 resolved exactly at due_at: within), acknowledged after
    // k minutes and half a second (whole seconds: k · 60), rated k % 5 + 1.
    for k in 1..=10i64 {
        let id = complaint(&app, &sid, if k % 2 == 1 { "billing" } else { "delivery" }).await;
        act(&app, &id, "acknowledge", None).await;
        act(&app, &id, "resolve", Some(json!({"resolution": "Refunded"}))).await;
        act(&app, &id, "close", Some(json!({"satisfaction": k % 5 + 1}))).await;
        let ack = t0 + Duration::minutes(k) + Duration::milliseconds(500);
        let resolved = t0 + Duration::hours(k);
        updates.push(format!(
            "UPDATE complaints SET created_at = {}, due_at = {}, acknowledged_at = {}, resolved_at = {}, closed_at = {} \
             WHERE id = '{id}'",
            ts(t0), ts(due), ts(ack), ts(resolved), ts(t0 + Duration::hours(11))
        ));
    }
    // An open one, past its due time: open_breached (as of now).
    let open = complaint(&app, &sid, "billing").await;
    updates.push(format!(
        "UPDATE complaints SET created_at = {}, due_at = {} WHERE id = '{open}'",
        ts(t0 + Duration::seconds(1)),
        ts(t0 + Duration::hours(1))
    ));
    sql(&app, &updates);

    let body = measure(&app, "complaints", "from=2026-10-05&to=2026-10-06").await;
    assert_eq!(
        body["totals"],
        json!({
            "opened": 11,
            "sla": {"resolved": 10, "within_sla": 5, "breached": 5, "compliance_rate": ratio(5, 10, Some(0.5))},
            "open_breached": 1,
            "resolution_seconds": {"count": 10, "p50": 5 * 3600, "p90": 9 * 3600, "sum": 55 * 3600, "average": 19800.0},
            "acknowledge_seconds": {"count": 10, "p50": 300, "p90": 540},
            "satisfaction": {"count": 10, "sum": 30, "average": 3.0, "positive": 4, "positive_rate": ratio(4, 10, Some(0.4)),
                             "distribution": {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2}}
        })
    );
    // The API's own SLA rule agrees: sla_breached=false rows resolved in the window.
    let (_, _, met) =
        page(&app, "/api/v1/complaints", Role::Manager, &[("sla_breached", "false"), ("limit", "200")]).await;
    let met = met["data"].as_array().unwrap().iter().filter(|c| !c["resolved_at"].is_null()).count();
    assert_eq!(met, 5);

    // Four values (resolved 1..4 h): p50 = x₂, p90 = x₄; nothing created in this window.
    let body = measure(&app, "complaints", "from=2026-10-05T01:00:00Z&to=2026-10-05T04:00:00.000001Z").await;
    assert_eq!(
        body["totals"]["resolution_seconds"],
        json!({"count": 4, "p50": 7200, "p90": 14400, "sum": 36000, "average": 9000.0})
    );
    assert_eq!(
        (body["totals"]["opened"].as_i64(), body["totals"]["acknowledge_seconds"]["count"].as_i64()),
        (Some(0), Some(0))
    );
    // One value: resolved exactly at due_at is within the SLA.
    let body = measure(&app, "complaints", "from=2026-10-05T05:00:00Z&to=2026-10-05T05:00:00.000001Z").await;
    assert_eq!(
        body["totals"]["sla"],
        json!({"resolved": 1, "within_sla": 1, "breached": 0, "compliance_rate": ratio(1, 1, Some(1.0))})
    );
    assert_eq!(
        body["totals"]["resolution_seconds"],
        json!({"count": 1, "p50": 18000, "p90": 18000, "sum": 18000, "average": 18000.0})
    );
    // No values: percentiles and averages are null.
    let body = measure(&app, "complaints", "from=2026-10-04&to=2026-10-05").await;
    assert_eq!(
        body["totals"]["resolution_seconds"],
        json!({"count": 0, "p50": null, "p90": null, "sum": 0, "average": null})
    );
    assert_eq!(body["totals"]["satisfaction"]["positive_rate"], ratio(0, 0, None));

    // Groups: each measure under its own timestamp's bucket.
    let body = measure(&app, "complaints", "from=2026-10-05&to=2026-10-06&group_by=category,day").await;
    assert_eq!(
        keys(&body),
        [json!({"category": "billing", "day": "2026-10-05"}), json!({"category": "delivery", "day": "2026-10-05"})]
    );
    let billing = group(&body, json!({"category": "billing", "day": "2026-10-05"}));
    // Odd k (1, 3, 5 within; 7, 9 not), plus the open one.
    assert_eq!(billing["opened"], 6);
    assert_eq!(
        billing["sla"],
        json!({"resolved": 5, "within_sla": 3, "breached": 2, "compliance_rate": ratio(3, 5, Some(0.6))})
    );
    assert_eq!(billing["resolution_seconds"]["p50"], 5 * 3600);
    // Closed at 11:00 the same day; the window's end cuts at 10:00 for the late ones.
    let body = measure(&app, "complaints", "from=2026-10-05&to=2026-10-05T10:00:00Z&group_by=severity").await;
    assert_eq!(keys(&body), [json!({"severity": "high"})]);
    assert_eq!(body["totals"]["satisfaction"]["count"], 0);
    assert_eq!(body["totals"]["sla"]["resolved"], 9);
    let g = group(&body, json!({"severity": "high"}));
    assert_eq!(g["sla"]["resolved"], 9);
});
