//! Rate limits (contracts/integration.md): the headers on every counted
//! response, 429 with `Retry-After`, callers apart, what is never counted,
//! and two servers over one PostgreSQL database sharing the budget.

use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const HOUR: &str = "3600s";

/// `(remaining, reset)` from a `RateLimit` header.
fn rate_limit(res: &Response) -> (u64, u64) {
    let v = res.headers()["ratelimit"].to_str().unwrap().to_owned();
    let field = |name: &str| -> u64 {
        v.split(';').find_map(|p| p.strip_prefix(&format!("{name}="))).unwrap().parse().unwrap()
    };
    assert!(v.starts_with("\"default\";"), "{v}");
    (field("r"), field("t"))
}

/// Waits for the next window when this one ends within a minute, so a test's
/// requests all fall in one window.
async fn fresh_window(app: &TestApp) {
    let res = app.client.get(app.url("/api/v1/stakeholders")).bearer_auth(token(Role::Manager)).send().await.unwrap();
    let (_, reset) = rate_limit(&res);
    if reset < 60 {
        tokio::time::sleep(Duration::from_secs(reset + 1)).await;
    }
}

api_test!(a_caller_over_its_budget_gets_429_with_retry_after_and_others_go_on, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_RATE_LIMIT", "3"), ("CRM_RATE_LIMIT_WINDOW", HOUR)]).await;
    fresh_window(&app).await;
    for expected in [2, 1, 0] {
        let res = app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["ratelimit-policy"], "\"default\";q=3;w=3600");
        let (r, t) = rate_limit(&res);
        assert_eq!(r, expected);
        assert!((1..=3600).contains(&t), "{t}");
    }
    // Over it: 429, any route, with the seconds to the window's end.
    let res = app.get("/api/v1/interactions", Role::Agent).send().await.unwrap();
    let (r, t) = rate_limit(&res);
    assert_eq!(r, 0);
    assert_eq!(res.headers()["retry-after"].to_str().unwrap(), t.to_string());
    let problem: Value = assert_problem(res, 429).await;
    assert_eq!(problem["type"], "https://crm.example/problems/rate-limited");
    assert_eq!(problem["violated_policies"], serde_json::json!(["default"]));
    // A 429 is not counted: still refused, not worse.
    let res = app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap();
    assert_eq!((res.status().as_u16(), rate_limit(&res).0), (429, 0));
    // Another caller (another role or sub) has its own budget.
    let res = app.get("/api/v1/stakeholders", Role::Analyst).send().await.unwrap();
    assert_eq!((res.status().as_u16(), rate_limit(&res).0), (200, 2));
    // Never counted: health, metrics, the document, the docs.
    for path in ["/health/live", "/health/ready", "/metrics", "/openapi.json"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(!res.headers().contains_key("ratelimit"), "{path}");
    }
    // Without a valid token the client's address is the caller, and errors count.
    let anonymous = reqwest::Client::new();
    for expected in [2, 1, 0] {
        let res = anonymous.get(app.url("/api/v1/stakeholders")).bearer_auth("not-a-token").send().await.unwrap();
        assert_eq!((res.status().as_u16(), rate_limit(&res).0), (401, expected));
    }
    let res = anonymous.get(app.url("/api/v1/stakeholders")).send().await.unwrap();
    assert_problem(res, 429).await;
});

api_test!(a_zero_budget_turns_limiting_off, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_RATE_LIMIT", "0")]).await;
    for _ in 0..5 {
        let res = app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(!res.headers().contains_key("ratelimit") && !res.headers().contains_key("ratelimit-policy"));
    }
});

/// PostgreSQL only: two servers over one database share each caller's budget
/// through `rate_limit_counters` (each flushes at most a second apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_over_one_database_share_the_budget() {
    if postgres_url_or_skip(module_path!(), "two_servers_over_one_database_share_the_budget").is_none() {
        return;
    }
    let limits = [("CRM_RATE_LIMIT", "4"), ("CRM_RATE_LIMIT_WINDOW", HOUR)];
    let one = TestApp::spawn_with(Backend::Postgres, &limits).await;
    let mut same_db = limits.to_vec();
    same_db.push(("CRM_DATABASE_URL", one.database_url.as_str()));
    let two = TestApp::spawn_with(Backend::Postgres, &same_db).await;
    fresh_window(&one).await;
    let flushed = || tokio::time::sleep(Duration::from_millis(2500));
    let get = |app: &TestApp| app.get("/api/v1/stakeholders", Role::Agent).send();
    assert_eq!(rate_limit(&get(&one).await.unwrap()).0, 3);
    assert_eq!(rate_limit(&get(&one).await.unwrap()).0, 2);
    flushed().await;
    // The second server admits at once, and learns the shared total (3) at its flush.
    assert_eq!(get(&two).await.unwrap().status(), 200);
    flushed().await;
    let res = get(&two).await.unwrap();
    assert_eq!((res.status().as_u16(), rate_limit(&res).0), (200, 0), "3 used elsewhere, this is the 4th");
    assert_problem(get(&two).await.unwrap(), 429).await;
    flushed().await;
    assert_problem(get(&one).await.unwrap(), 429).await;
    // Another caller is untouched on both.
    for app in [&one, &two] {
        assert_eq!(app.get("/api/v1/stakeholders", Role::Analyst).send().await.unwrap().status(), 200);
    }
}

api_test!(an_encoded_path_a_batch_and_a_browser_all_meet_the_limit, |app| {
    let app = TestApp::spawn_with(
        app.backend,
        &[("CRM_RATE_LIMIT", "5"), ("CRM_RATE_LIMIT_WINDOW", HOUR), ("CRM_CORS_ORIGINS", "https://app.example")],
    )
    .await;
    fresh_window(&app).await;
    // The router decodes the path; so does the limiter's scope.
    let res = app.get("/%61pi/v1/stakeholders", Role::Agent).send().await.unwrap();
    assert_eq!((res.status().as_u16(), rate_limit(&res).0), (200, 4));
    // A batch of 101 items costs ceil(101 / 100) = 2 units.
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let inputs: Vec<Value> = (0..101)
        .map(|_| json!({"stakeholder_id": s, "channel": "web", "direction": "inbound", "type": "note"}))
        .collect();
    let res =
        app.post("/api/v1/interactions/batch/create", Role::Agent, &json!({"inputs": inputs})).send().await.unwrap();
    assert_eq!((res.status().as_u16(), rate_limit(&res).0), (200, 3));
    let res = app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap();
    assert_eq!(rate_limit(&res).0, 1, "the batch's second unit was charged");
    app.get("/api/v1/stakeholders", Role::Agent).send().await.unwrap();
    // A browser can read the 429: it carries the CORS headers.
    let res =
        app.get("/api/v1/stakeholders", Role::Agent).header("Origin", "https://app.example").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example");
    // A preflight is never counted, even over the budget.
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/stakeholders"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key("ratelimit"));
});
