//! `GET /api/v1/analytics/lifecycle`: from the stage history the API writes
//! on create and PATCH (read back through the export).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{group, keys, measure, ratio, sql, ts};
use crate::api_test;
use crate::helpers::*;

async fn stage(app: &TestApp, id: &str, to: &str) {
    patch_ok(app, &format!("/api/v1/stakeholders/{id}"), Role::Manager, json!({"lifecycle_stage": to})).await;
}

/// The `changed_at` of each entry of the stakeholder's lifecycle history.
async fn history(app: &TestApp, id: &str) -> Vec<(Value, String, DateTime<Utc>)> {
    let export = fetch(app, &format!("/api/v1/stakeholders/{id}/export"), Role::Admin).await;
    export["lifecycle_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from_stage"].clone(), h["to_stage"].as_str().unwrap().to_owned(), parse_ts(&h["changed_at"])))
        .collect()
}

fn q(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let f = |t: DateTime<Utc>| enc(&t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    format!("from={}&to={}", f(from), f(to))
}

fn transitions(list: &[(Option<&str>, &str, i64)]) -> Value {
    list.iter().map(|(f, t, n)| json!({"from_stage": f, "to_stage": t, "count": n})).collect()
}

api_test!(lifecycle_measures_from_the_stage_history, |app| {
    // A: prospect → lead → customer → churned → customer (reactivated).
    let a = app.create_stakeholder(json!({"kind": "customer"})).await["id"].as_str().unwrap().to_owned();
    for to in ["lead", "customer", "churned", "customer"] {
        stage(&app, &a, to).await;
    }
    // B: created as a customer; C: a lead that skips to advocate.
    let b = app.create_stakeholder(json!({"kind": "supplier", "lifecycle_stage": "customer"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = app.create_stakeholder(json!({"kind": "customer", "lifecycle_stage": "lead"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    stage(&app, &c, "advocate").await;

    let ha = history(&app, &a).await;
    assert_eq!(
        ha.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(),
        ["prospect", "lead", "customer", "churned", "customer"]
    );
    assert_eq!((ha[0].0.clone(), ha[1].0.clone()), (Value::Null, json!("prospect")));
    let (t_a0, t_a3) = (ha[0].2, ha[3].2);
    let end = Utc::now() + Duration::hours(1);

    let body = measure(&app, "lifecycle", &q(t_a0, end)).await;
    let t = &body["totals"];
    assert_eq!(
        (t["acquired"].as_i64(), t["new_customers"].as_i64(), t["reactivated"].as_i64()),
        (Some(3), Some(3), Some(1))
    );
    assert_eq!(
        t["transitions"],
        transitions(&[
            (None, "customer", 1),
            (None, "lead", 1),
            (None, "prospect", 1),
            (Some("churned"), "customer", 1),
            (Some("customer"), "churned", 1),
            (Some("lead"), "advocate", 1),
            (Some("lead"), "customer", 1),
            (Some("prospect"), "lead", 1),
        ])
    );
    assert_eq!(
        t["funnel"],
        json!([
            {"stage": "prospect", "reached": 3, "conversion_from_previous": null},
            {"stage": "lead", "reached": 3, "conversion_from_previous": ratio(3, 3, Some(1.0))},
            {"stage": "customer", "reached": 3, "conversion_from_previous": ratio(3, 3, Some(1.0))},
            {"stage": "repeat_customer", "reached": 1, "conversion_from_previous": ratio(1, 3, Some(0.3333))},
            {"stage": "advocate", "reached": 1, "conversion_from_previous": ratio(1, 1, Some(1.0))},
        ])
    );
    assert_eq!(
        t["churn"],
        json!({"customers_at_start": 0, "churned": 0, "retained": 0,
                                  "churn_rate": ratio(0, 0, None), "retention_rate": ratio(0, 0, None)})
    );

    // From A's churn (exactly at `from`: counted): A was a customer at the start,
    // churned, and is one again at the end.
    let body = measure(&app, "lifecycle", &q(t_a3, end)).await;
    let t = &body["totals"];
    assert_eq!(
        (t["acquired"].as_i64(), t["new_customers"].as_i64(), t["reactivated"].as_i64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(
        t["churn"],
        json!({"customers_at_start": 1, "churned": 1, "retained": 1,
                                  "churn_rate": ratio(1, 1, Some(1.0)), "retention_rate": ratio(1, 1, Some(1.0))})
    );
    // Up to A's churn (exactly at `to`: not counted).
    let body = measure(&app, "lifecycle", &q(t_a0, t_a3)).await;
    assert_eq!(
        body["totals"]["transitions"],
        transitions(&[(None, "prospect", 1), (Some("lead"), "customer", 1), (Some("prospect"), "lead", 1)])
    );
    assert_eq!(body["totals"]["reactivated"], 0);

    // Groups by the stakeholder's current kind; the cohort's funnel per group.
    let body = measure(&app, "lifecycle", &format!("{}&group_by=kind", q(t_a0, end))).await;
    assert_eq!(keys(&body), [json!({"kind": "customer"}), json!({"kind": "supplier"})]);
    let customers = group(&body, json!({"kind": "customer"}));
    assert_eq!((customers["acquired"].as_i64(), customers["new_customers"].as_i64()), (Some(2), Some(2)));
    assert_eq!(customers["funnel"][3]["reached"], 1);
    let suppliers = group(&body, json!({"kind": "supplier"}));
    assert_eq!(suppliers["transitions"], transitions(&[(None, "customer", 1)]));
    // With a time dimension: every day of the window listed, groups add up to the totals.
    let body = measure(&app, "lifecycle", &format!("{}&group_by=day", q(t_a0, end))).await;
    let acquired: i64 = body["groups"].as_array().unwrap().iter().map(|g| g["acquired"].as_i64().unwrap()).sum();
    assert_eq!(acquired, 3);
    assert_eq!(body["buckets"][0], t_a0.format("%Y-%m-%d").to_string());
    // The kind filter narrows to current suppliers.
    let body = measure(&app, "lifecycle", &format!("{}&kind=supplier", q(t_a0, end))).await;
    assert_eq!((body["totals"]["acquired"].as_i64(), body["totals"]["new_customers"].as_i64()), (Some(1), Some(1)));
    let _ = (b, c);
});

api_test!(the_migration_backfills_one_creation_row_per_stakeholder, |app| {
    let s = app.create_stakeholder(json!({"lifecycle_stage": "lead"})).await;
    let id = s["id"].as_str().unwrap().to_owned();
    stage(&app, &id, "customer").await;
    let pool = crm_api::db::connect(&app.database_url, crm_api::db::PoolOptions::command(1)).unwrap();
    let mut conn = pool.get().unwrap();
    crm_api::db::revert_through(&mut conn, "2026-12-04-000010").unwrap();
    crm_api::db::migrate(&mut conn).unwrap();
    let h = history(&app, &id).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0.clone(), h[0].1.as_str()), (Value::Null, "customer"));
    assert_eq!(h[0].2, parse_ts(&s["created_at"]));
});

api_test!(time_groups_equal_the_window_of_each_bucket, |app| {
    // Stage paths spread over a week (dates pinned in the database): each
    // day's group must be exactly the ungrouped answer for that day.
    let paths: [&[&str]; 4] = [
        &["lead", "customer", "churned", "customer"],
        &["customer", "repeat_customer"],
        &["lead"],
        &["customer", "churned"],
    ];
    let t0 = instant("2026-06-01T00:00:00Z");
    let mut updates = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        let id = app.create_stakeholder(json!({})).await["id"].as_str().unwrap().to_owned();
        for to in *path {
            stage(&app, &id, to).await;
        }
        let start = t0 + Duration::days(n as i64) - Duration::days(2) + Duration::hours(8);
        updates.push(format!("UPDATE stakeholders SET created_at = {} WHERE id = '{id}'", ts(start)));
        for (k, h) in history(&app, &id).await.iter().enumerate() {
            let at = start + Duration::hours(30 * k as i64);
            updates.push(format!(
                "UPDATE stakeholder_stage_changes SET changed_at = {} WHERE stakeholder_id = '{id}' AND to_stage = '{}' \
                 AND changed_at = {}",
                ts(at),
                h.1,
                ts(h.2)
            ));
        }
    }
    sql(&app, &updates);
    let (from, to) = (t0, t0 + Duration::days(6));
    let grouped = measure(&app, "lifecycle", &format!("{}&group_by=day", q(from, to))).await;
    let buckets: Vec<String> =
        grouped["buckets"].as_array().unwrap().iter().map(|b| b.as_str().unwrap().to_owned()).collect();
    assert_eq!(buckets.len(), 6);
    let mut seen = 0;
    for (k, label) in buckets.iter().enumerate() {
        let day =
            measure(&app, "lifecycle", &q(from + Duration::days(k as i64), from + Duration::days(k as i64 + 1))).await;
        let empty = day["totals"]["acquired"] == 0
            && day["totals"]["transitions"] == json!([])
            && day["totals"]["churn"]["customers_at_start"] == 0;
        match grouped["groups"].as_array().unwrap().iter().find(|g| g["key"]["day"] == label.as_str()) {
            Some(g) => {
                seen += 1;
                let mut g = g.clone();
                g.as_object_mut().unwrap().remove("key");
                assert_eq!(g, day["totals"], "day {label}");
            }
            None => assert!(empty, "day {label} has rows but no group: {}", day["totals"]),
        }
    }
    assert!(seen >= 4, "the paths span most days: {grouped}");
});
