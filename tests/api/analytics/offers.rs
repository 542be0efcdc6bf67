//! `GET /api/v1/analytics/offers`: statuses as of now, rates, response
//! percentiles and accepted value per currency (net divided per offer).

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::{group, keys, measure, ratio, sql, ts};
use crate::api_test;
use crate::helpers::*;

/// Creates an offer, sends it unless it stays a draft, and answers it.
async fn offer(
    app: &TestApp,
    sid: &Value,
    price: (i64, &str),
    discount: i64,
    category: Value,
    then: &[&str],
) -> String {
    let body = json!({"stakeholder_id": sid, "title": "Bundle", "price": {"amount_minor": price.0, "currency": price.1},
                      "discount_percent": discount, "product_category": category});
    let (status, _, o) = parts(app.post("/api/v1/offers", Role::Agent, &body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{o}");
    let id = o["id"].as_str().unwrap().to_owned();
    for action in then {
        let res =
            app.req(reqwest::Method::POST, &format!("/api/v1/offers/{id}/{action}"), Role::Agent).send().await.unwrap();
        assert_eq!(res.status(), 200, "{action}: {}", res.text().await.unwrap());
    }
    id
}

api_test!(offer_measures_recomputed_exactly_per_currency, |app| {
    let sid = app.create_stakeholder(json!({})).await["id"].clone();
    let books = json!("books");
    let accepted = [
        offer(&app, &sid, (1000, "IDR"), 10, books.clone(), &["send", "accept"]).await, // net 900
        offer(&app, &sid, (2001, "IDR"), 5, books.clone(), &["send", "accept"]).await,  // net 1900 (1900.95)
        offer(&app, &sid, (999, "USD"), 15, Value::Null, &["send", "accept"]).await,    // net 849 (849.15)
        offer(&app, &sid, (101, "EUR"), 50, Value::Null, &["send", "accept"]).await,    // net 50 (50.5)
    ];
    let declined = offer(&app, &sid, (500, "IDR"), 0, books.clone(), &["send", "decline"]).await;
    offer(&app, &sid, (500, "IDR"), 0, books.clone(), &["send", "withdraw"]).await;
    offer(&app, &sid, (500, "IDR"), 0, Value::Null, &["send"]).await; // open
    let expired = offer(&app, &sid, (500, "IDR"), 0, books.clone(), &["send"]).await;
    offer(&app, &sid, (500, "IDR"), 0, books.clone(), &[]).await; // a draft: never sent, not counted
    // Pinned times: every offer sent at t0; answered after 100..500 s; one sent offer past its validity.
    let t0 = Utc::now() - Duration::days(2);
    let mut updates = vec![format!("UPDATE offers SET sent_at = {} WHERE sent_at IS NOT NULL", ts(t0))];
    for (k, id) in accepted.iter().chain([&declined]).enumerate() {
        let responded = t0 + Duration::seconds(100 * (k as i64 + 1)) + Duration::milliseconds(999);
        updates.push(format!("UPDATE offers SET responded_at = {} WHERE id = '{id}'", ts(responded)));
    }
    updates.push(format!("UPDATE offers SET valid_until = {} WHERE id = '{expired}'", ts(t0 + Duration::days(1))));
    sql(&app, &updates);

    let from = t0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let window = format!("from={}&to={}", enc(&from), enc(&(Utc::now() + Duration::hours(1)).to_rfc3339()));
    let body = measure(&app, "offers", &window).await;
    assert_eq!(
        body["totals"],
        json!({
            "sent": 8, "accepted": 4, "declined": 1, "expired": 1, "withdrawn": 1, "open": 1,
            "conversion_rate": ratio(4, 8, Some(0.5)),
            "decided_acceptance_rate": ratio(4, 5, Some(0.8)),
            "response_seconds": {"count": 5, "p50": 300, "p90": 500},
            "accepted_value": [
                {"currency": "EUR", "list_amount_minor": 101, "net_amount_minor": 50, "count": 1},
                {"currency": "IDR", "list_amount_minor": 3001, "net_amount_minor": 2800, "count": 2},
                {"currency": "USD", "list_amount_minor": 999, "net_amount_minor": 849, "count": 1}
            ]
        })
    );

    let body = measure(&app, "offers", &format!("{window}&group_by=product_category")).await;
    assert_eq!(keys(&body), [json!({"product_category": "books"}), json!({"product_category": null})]);
    let b = group(&body, json!({"product_category": "books"}));
    assert_eq!((b["sent"].as_i64(), b["accepted"].as_i64(), b["declined"].as_i64()), (Some(5), Some(2), Some(1)));
    assert_eq!((b["withdrawn"].as_i64(), b["expired"].as_i64(), b["open"].as_i64()), (Some(1), Some(1), Some(0)));
    assert_eq!(b["response_seconds"], json!({"count": 3, "p50": 200, "p90": 500}));
    let none = group(&body, json!({"product_category": null}));
    assert_eq!(none["accepted_value"].as_array().unwrap().len(), 2, "EUR and USD, never added together");

    // `from` is inclusive: a window starting one microsecond later holds none of them.
    let later = (t0 + Duration::microseconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let body = measure(
        &app,
        "offers",
        &format!("from={}&to={}", enc(&later), enc(&(Utc::now() + Duration::hours(1)).to_rfc3339())),
    )
    .await;
    assert_eq!(body["totals"]["sent"], 0);
    assert_eq!(body["totals"]["response_seconds"], json!({"count": 0, "p50": null, "p90": null}));
    let body = measure(&app, "offers", &format!("{window}&group_by=day")).await;
    assert_eq!(keys(&body), [json!({"day": t0.format("%Y-%m-%d").to_string()})]);
});
