//! Roles, validation and the common shape of every analytics answer.

use serde_json::{Value, json};

use super::{METRICS, measure};
use crate::api_test;
use crate::helpers::*;

api_test!(admin_manager_and_analyst_read_agents_and_partners_get_403, |app| {
    for metric in METRICS {
        let path = format!("/api/v1/analytics/{metric}");
        for role in [Role::Admin, Role::Manager, Role::Analyst] {
            assert_eq!(app.get(&path, role).send().await.unwrap().status(), 200, "{metric} {role:?}");
        }
        for role in [Role::Agent, Role::Partner] {
            assert_problem(app.get(&path, role).send().await.unwrap(), 403).await;
        }
        let anonymous = reqwest::Client::new().get(app.url(&path)).send().await.unwrap();
        assert_problem(anonymous, 401).await;
        // The role before the query: a bad or unknown parameter tells these roles nothing.
        for query in ["colour=red", "kind=robot", "include_archived=maybe", "group_by=nope"] {
            for role in [Role::Agent, Role::Partner] {
                let res = app.get(&format!("{path}?{query}"), role).send().await.unwrap();
                assert_problem(res, 403).await;
            }
        }
        // An unknown parameter's name is not echoed (it may be personal data).
        let res = app.get(&format!("{path}?siti%40example.com=1"), Role::Analyst).send().await.unwrap();
        let problem = assert_problem(res, 400).await;
        assert!(!problem.to_string().contains("siti"), "{problem}");
    }
});

api_test!(the_window_defaults_to_thirty_days_up_to_now_in_utc, |app| {
    let before = chrono::Utc::now();
    let body = measure(&app, "offers", "").await;
    let (from, to, as_of) = (parse_ts(&body["from"]), parse_ts(&body["to"]), parse_ts(&body["as_of"]));
    assert_eq!(to - from, chrono::Duration::days(30));
    assert_eq!(to.timestamp_subsec_micros(), 0, "to is as_of truncated to the second");
    assert!(to <= as_of && as_of - to < chrono::Duration::seconds(1) && as_of >= before - chrono::Duration::seconds(1));
    assert_eq!(body["group_by"], json!([]));
    assert_eq!(body["buckets"], Value::Null);
    assert_eq!(body["groups"], json!([]));
    assert_eq!(body["totals"]["sent"], 0);
    assert_eq!(body["totals"]["conversion_rate"], json!({"numerator": 0, "denominator": 0, "rate": null}));
    // A date means its midnight UTC; an offset is converted.
    let body = measure(&app, "complaints", "from=2026-10-01&to=2026-11-01T07:00:00%2B07:00").await;
    assert_eq!(
        (body["from"].as_str().unwrap(), body["to"].as_str().unwrap()),
        ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
    );
});

api_test!(bad_parameters_are_400_problems, |app| {
    let bad: &[(&str, &str)] = &[
        ("interactions", "from=2026-11-01&to=2026-11-01"),
        ("interactions", "from=2026-11-02&to=2026-11-01"),
        ("interactions", "from=yesterday"),
        ("interactions", "to=2026-13-01"),
        ("interactions", "from=0000-01-01T00:00:00Z"),
        ("interactions", "limit=10"),
        ("interactions", "kind=robot"),
        ("interactions", "group_by=category"),
        ("interactions", "group_by=channel,channel"),
        ("interactions", "group_by=day,week"),
        ("interactions", "group_by=channel,direction,type"),
        ("interactions", "group_by="),
        ("interactions", "from=2020-01-01&to=2023-01-01&group_by=day"),
        ("portfolio", "group_by=month"),
        ("portfolio", "include_archived=maybe"),
        ("offers", "include_archived=true"),
        ("lifecycle", "group_by=channel"),
        ("complaints", "group_by=product_category"),
        ("complaints", "group_by=%20day"),
        ("complaints", "group_by=category,day%0A"),
    ];
    for (metric, query) in bad {
        let res = app.get(&format!("/api/v1/analytics/{metric}?{query}"), Role::Analyst).send().await.unwrap();
        let problem = assert_problem(res, 400).await;
        assert_eq!(problem["type"], "https://crm.example/problems/bad-request", "{metric}?{query}");
    }
    // 1 000 day buckets is the limit; 1 001 is over it.
    measure(&app, "interactions", "from=2024-01-01&to=2026-09-27&group_by=day").await;
    let over = app.get("/api/v1/analytics/interactions?from=2024-01-01&to=2026-09-28&group_by=day", Role::Analyst);
    assert_problem(over.send().await.unwrap(), 400).await;
});

api_test!(time_buckets_are_dense_and_labelled_in_utc, |app| {
    let body = measure(&app, "complaints", "from=2026-11-29T12:00:00Z&to=2026-12-02&group_by=week").await;
    assert_eq!(body["buckets"], json!(["2026-11-23", "2026-11-30"]));
    assert_eq!(body["groups"], json!([]), "sparse: no rows, no groups");
    let body = measure(&app, "offers", "from=2026-01-31&to=2026-03-01T00:00:01Z&group_by=month").await;
    assert_eq!(body["buckets"], json!(["2026-01", "2026-02", "2026-03"]));
    let body =
        measure(&app, "interactions", "from=2026-11-30T23:00:00Z&to=2026-12-02T01:00:00Z&group_by=channel,day").await;
    assert_eq!(body["buckets"], json!(["2026-11-30", "2026-12-01", "2026-12-02"]));
    assert_eq!(body["group_by"], json!(["channel", "day"]));
});

/// PostgreSQL only (a test can hold a read there with a table lock): at most
/// `CRM_ANALYTICS_CONCURRENCY` computations at once; another waits for
/// `CRM_DB_ACQUIRE_TIMEOUT`, then gets 503 with `Retry-After`, while the
/// rest of the API keeps its connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_beyond_the_concurrency_limit_are_503_and_other_requests_still_served() {
    let name = "analytics_beyond_the_concurrency_limit_are_503_and_other_requests_still_served";
    let Some(_) = postgres_url_or_skip(module_path!(), name) else {
        return;
    };
    let app = TestApp::spawn_with(
        Backend::Postgres,
        &[("CRM_ANALYTICS_CONCURRENCY", "1"), ("CRM_DB_ACQUIRE_TIMEOUT", "300ms")],
    )
    .await;
    use diesel::{Connection, RunQueryDsl};
    let mut lock = diesel::PgConnection::establish(&app.database_url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut lock).unwrap();
    diesel::sql_query("LOCK TABLE offers IN ACCESS EXCLUSIVE MODE").execute(&mut lock).unwrap();
    let held = tokio::spawn({
        let req = app.get("/api/v1/analytics/offers", Role::Analyst);
        async move { req.send().await.unwrap().status() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let res = app.get("/api/v1/analytics/complaints", Role::Manager).send().await.unwrap();
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()), Some("1".into()));
    assert_problem(res, 503).await;
    assert_eq!(app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap().status(), 200);
    diesel::sql_query("COMMIT").execute(&mut lock).unwrap();
    assert_eq!(held.await.unwrap(), 200);
    assert_eq!(app.get("/api/v1/analytics/complaints", Role::Manager).send().await.unwrap().status(), 200);
}
