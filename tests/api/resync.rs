//! Resynchronising from the lists (contracts/integration.md, change feed
//! retention): `updated_since` and `sort=updated_at` on interactions,
//! offers and complaints, as on stakeholders.

use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

async fn created(app: &TestApp, url: &str, body: Value) -> String {
    let (status, _, body) = parts(app.post(url, Role::Admin, &body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{url}: {body}");
    body["id"].as_str().unwrap().to_owned()
}

api_test!(updated_since_and_sort_by_updated_at_list_only_what_changed, |app| {
    let s = app.create_stakeholder(json!({})).await["id"].clone();
    let interaction = json!({"stakeholder_id": s, "channel": "phone", "direction": "outbound", "type": "contact"});
    let offer = json!({"stakeholder_id": s, "title": "Gold", "price": {"amount_minor": 100, "currency": "IDR"}});
    let complaint = json!({"stakeholder_id": s, "subject": "Late", "description": "Two weeks late",
                           "category": "delivery", "severity": "high"});
    let mut lists = Vec::new();
    for (url, body, patch) in [
        ("/api/v1/interactions", interaction, json!({"subject": "changed"})),
        ("/api/v1/offers", offer, json!({"title": "changed"})),
        ("/api/v1/complaints", complaint, json!({"subject": "changed"})),
    ] {
        let (a, b, c) = (
            created(&app, url, body.clone()).await,
            created(&app, url, body.clone()).await,
            created(&app, url, body).await,
        );
        lists.push((url, a, b, c, patch));
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for (url, _, b, c, patch) in &lists {
        // Changed after `since`: c first, then b.
        patch_ok(&app, &format!("{url}/{c}"), Role::Admin, patch.clone()).await;
        patch_ok(&app, &format!("{url}/{b}"), Role::Admin, patch.clone()).await;
    }
    for (url, a, b, c, _) in &lists {
        let page = fetch(&app, &format!("{url}?updated_since={}&sort=updated_at", enc(&since)), Role::Admin).await;
        let got: Vec<&str> = page["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(got, [c.as_str(), b.as_str()], "{url} since {since}: {page}");
        assert!(!got.contains(&a.as_str()));
        let page = fetch(&app, &format!("{url}?sort=-updated_at&limit=1"), Role::Admin).await;
        assert_eq!(page["data"][0]["id"], b.as_str(), "{url}");
        // The stakeholder's own list takes it too.
        let nested = fetch(
            &app,
            &format!(
                "/api/v1/stakeholders/{}{}?updated_since={}",
                s.as_str().unwrap(),
                url.trim_start_matches("/api/v1"),
                enc(&since)
            ),
            Role::Admin,
        )
        .await;
        assert_eq!(nested["data"].as_array().unwrap().len(), 2, "{url}");
        let res = app.get(&format!("{url}?updated_since=yesterday"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});
