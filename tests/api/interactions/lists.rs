//! Interactions: lists (sorts, filters, keyset pagination under inserts, the
//! default limit, the stakeholder timeline).

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

/// Four interactions created in the order a, b, c, d with occurred_at out of order.
async fn four(app: &TestApp, sid: &Value) -> [String; 4] {
    let a = create(app, sid, json!({"occurred_at": "2025-01-02T10:00:00Z"})).await;
    let b = create(app, sid, json!({"occurred_at": "2025-01-05T10:00:00Z"})).await;
    let c = create(app, sid, json!({"occurred_at": "2025-01-01T10:00:00Z"})).await;
    let d = create(app, sid, json!({"occurred_at": "2025-01-03T10:00:00Z"})).await;
    [id_of(&a), id_of(&b), id_of(&c), id_of(&d)]
}

api_test!(lists_sort_by_occurred_at_newest_first_by_default, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let [a, b, c, d] = four(&app, &sid).await;

    let res = app.get(LIST, Role::Admin).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(body["data"].as_array().unwrap().len(), 4);
    assert_eq!(body["data"][0]["type"], "contact");

    let newest_first = vec![b.clone(), d.clone(), a.clone(), c.clone()];
    assert_eq!(all_ids(&app, LIST, &[]).await, newest_first);
    assert_eq!(all_ids(&app, &format!("{LIST}?sort=-occurred_at"), &[]).await, newest_first);
    assert_eq!(all_ids(&app, &timeline(&sid), &[]).await, newest_first);
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=occurred_at"), &[]).await,
        vec![c.clone(), a.clone(), d.clone(), b.clone()]
    );
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=created_at"), &[]).await,
        vec![a.clone(), b.clone(), c.clone(), d.clone()]
    );
    assert_eq!(
        all_ids(&app, &format!("{LIST}?sort=-created_at"), &[]).await,
        vec![d.clone(), c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(all_ids(&app, &format!("{}?sort=occurred_at", timeline(&sid)), &[]).await, vec![c, a, d, b]);

    for bad in ["notes", "subject", "-", "occurred_at,created_at", "+occurred_at", "OCCURRED_AT"] {
        let res = app.get(&format!("{LIST}?sort={bad}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_every_field, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let x1 = create(
        &app,
        &s1,
        json!({"channel": "email", "direction": "inbound", "type": "support",
                                      "occurred_at": "2025-01-01T10:00:00Z"}),
    )
    .await;
    let x2 = create_as(
        &app,
        Role::Admin,
        &input(
            &s1,
            json!({"channel": "in_store", "direction": "inbound", "type": "purchase",
                   "amount": {"amount_minor": 10, "currency": "IDR"}, "occurred_at": "2025-01-02T10:00:00Z"}),
        ),
    )
    .await;
    let x3 = create(
        &app,
        &s2,
        json!({"channel": "email", "direction": "outbound", "type": "contact",
                                      "occurred_at": "2025-01-03T10:00:00Z"}),
    )
    .await;
    let x4 = create(
        &app,
        &s2,
        json!({"channel": "web", "direction": "outbound", "type": "feedback",
                                      "occurred_at": "2025-01-04T10:00:00Z"}),
    )
    .await;
    let [x1, x2, x3, x4] = [id_of(&x1), id_of(&x2), id_of(&x3), id_of(&x4)];
    let sid = |v: &Value| v.as_str().unwrap().to_owned();

    let q = |query: &str| format!("{LIST}?{query}");
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}", sid(&s1))), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}", sid(&s2))), &[]).await, vec![x4.clone(), x3.clone()]);
    assert!(all_ids(&app, &q(&format!("stakeholder_id={}", Uuid::now_v7())), &[]).await.is_empty());
    assert_eq!(all_ids(&app, &q("channel=email"), &[]).await, vec![x3.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q("channel=in_store"), &[]).await, vec![x2.clone()]);
    assert!(all_ids(&app, &q("channel=letter"), &[]).await.is_empty());
    assert_eq!(all_ids(&app, &q("direction=inbound"), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(all_ids(&app, &q("direction=outbound"), &[]).await, vec![x4.clone(), x3.clone()]);
    assert_eq!(all_ids(&app, &q("type=purchase"), &[]).await, vec![x2.clone()]);
    assert_eq!(all_ids(&app, &q("type=feedback"), &[]).await, vec![x4.clone()]);
    assert!(all_ids(&app, &q("type=visit"), &[]).await.is_empty());

    // occurred_after is inclusive, occurred_before exclusive.
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-02T10:00:00Z"), &[]).await,
        vec![x4.clone(), x3.clone(), x2.clone()]
    );
    assert_eq!(all_ids(&app, &q("occurred_after=2025-01-02T10:00:01Z"), &[]).await, vec![x4.clone(), x3.clone()]);
    assert_eq!(all_ids(&app, &q("occurred_before=2025-01-03T10:00:00Z"), &[]).await, vec![x2.clone(), x1.clone()]);
    assert_eq!(
        all_ids(&app, &q("occurred_before=2025-01-03T10:00:01Z"), &[]).await,
        vec![x3.clone(), x2.clone(), x1.clone()]
    );
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-02T10:00:00Z&occurred_before=2025-01-04T10:00:00Z"), &[]).await,
        vec![x3.clone(), x2.clone()]
    );
    assert!(
        all_ids(&app, &q("occurred_after=2025-01-04T10:00:00Z&occurred_before=2025-01-04T10:00:00Z"), &[])
            .await
            .is_empty()
    );
    // Other offsets mean the same instant (`+` percent-encoded).
    assert_eq!(
        all_ids(&app, &q("occurred_after=2025-01-03T17:00:00%2B07:00"), &[]).await,
        vec![x4.clone(), x3.clone()]
    );

    // Combined.
    assert_eq!(all_ids(&app, &q(&format!("stakeholder_id={}&channel=email", sid(&s2))), &[]).await, vec![x3.clone()]);
    assert_eq!(all_ids(&app, &q("channel=email&direction=inbound&type=support"), &[]).await, vec![x1.clone()]);
    assert!(all_ids(&app, &q("channel=email&type=purchase"), &[]).await.is_empty());

    // The same filters on the timeline.
    assert_eq!(all_ids(&app, &format!("{}?channel=email", timeline(&s2)), &[]).await, vec![x3.clone()]);
    assert_eq!(all_ids(&app, &format!("{}?occurred_before=2025-01-02T10:00:00Z", timeline(&s1)), &[]).await, vec![x1]);
    assert_eq!(all_ids(&app, &format!("{}?type=feedback", timeline(&s1)), &[]).await, Vec::<String>::new());

    // Bad filter values: 400.
    for bad in [
        "channel=fax",
        "channel=Email",
        "direction=sideways",
        "type=sale",
        "stakeholder_id=not-a-uuid",
        "occurred_after=yesterday",
        "occurred_before=2025-13-01T00:00:00Z",
        "colour=blue",
        "limit=0",
        "limit=201",
        "limit=abc",
        "cursor=not-a-cursor",
        "sort=occurred_at%00",
        "type=contact%00",
    ] {
        let res = app.get(&q(bad), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
        let res = app.get(&format!("{}?{bad}", timeline(&s1)), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
    let res = app.get(&q(&format!("cursor={}", "a".repeat(600))), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(timeline_lists_one_stakeholder_and_is_404_when_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let empty = stakeholder(&app, json!({})).await;
    let mine = create(&app, &s1, json!({"occurred_at": "2025-01-01T10:00:00Z"})).await;
    let mine2 = create(&app, &s1, json!({"occurred_at": "2025-01-02T10:00:00Z"})).await;
    create(&app, &s2, json!({})).await;

    for role in [Role::Admin, Role::Manager, Role::Agent, Role::Analyst] {
        assert_eq!(all_ids_as(&app, &timeline(&s1), role, &[]).await, vec![id_of(&mine2), id_of(&mine)]);
    }
    let res = app.get(&timeline(&empty), Role::Admin).send().await.unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": [], "next_cursor": null}));

    let res = app.get(&timeline(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/interactions", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;

    // An archived stakeholder's timeline stays readable.
    let res = app.delete(&format!("/api/v1/stakeholders/{}", s1.as_str().unwrap()), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(all_ids(&app, &timeline(&s1), &[]).await.len(), 2);
});

/// Walks every page of `base` with `limit`, calling `between` after each
/// page; returns all ids in order.
async fn walk(app: &TestApp, base: &str, limit: u32, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut url = format!("{base}{sep}limit={limit}");
    for n in 0.. {
        assert!(n < 50, "too many pages for {base}");
        let (ids, next, _) = page(app, &url, Role::Admin, &[]).await;
        assert!(ids.len() <= limit as usize, "page longer than limit: {ids:?}");
        out.extend(ids);
        between(n).await;
        match next {
            Some(c) => url = format!("{base}{sep}limit={limit}&cursor={}", enc(&c)),
            None => break,
        }
    }
    out
}

fn assert_each_once(walked: &[String], expected: &[String], what: &str) {
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: an id came twice: {walked:?}");
    for id in expected {
        assert_eq!(walked.iter().filter(|w| *w == id).count(), 1, "{what}: {id} not seen exactly once: {walked:?}");
    }
}

/// A fresh stakeholder with 12 interactions: distinct days plus a run of
/// equal `occurred_at` values (ties). Returns (stakeholder id, ids).
async fn twelve(app: &TestApp) -> (Value, Vec<String>) {
    let sid = stakeholder(app, json!({})).await;
    let mut out = Vec::new();
    for day in [9, 3, 11, 1, 7, 5, 5, 5, 5, 2, 10, 5] {
        let got = create(app, &sid, json!({"occurred_at": format!("2025-01-{day:02}T10:00:00Z")})).await;
        out.push(id_of(&got));
    }
    (sid, out)
}

api_test!(cursor_walk_returns_each_row_exactly_once, |app| {
    for sort in ["-occurred_at", "occurred_at", "created_at", "-created_at"] {
        let (sid, rows) = twelve(&app).await;
        let base = format!("{LIST}?sort={sort}&stakeholder_id={}", sid.as_str().unwrap());

        // Without inserts: pages of 5, 5, 2 in the same order as one big page.
        let mut sizes = Vec::new();
        let mut walked = Vec::new();
        let mut url = format!("{base}&limit=5");
        loop {
            let (ids, next, _) = page(&app, &url, Role::Admin, &[]).await;
            sizes.push(ids.len());
            walked.extend(ids);
            match next {
                Some(c) => url = format!("{base}&limit=5&cursor={}", enc(&c)),
                None => break,
            }
        }
        assert_eq!(sizes, vec![5, 5, 2], "{sort}");
        assert_each_once(&walked, &rows, sort);
        assert_eq!(walked, all_ids(&app, &base, &[]).await, "{sort}: pages follow the single-page order");

        // With inserts between pages (older, tied and newer occurred_at values).
        let (sid, rows) = twelve(&app).await;
        let base = format!("{LIST}?sort={sort}&stakeholder_id={}", sid.as_str().unwrap());
        let (app_ref, sid_ref) = (&app, &sid);
        let walked = walk(app_ref, &base, 5, async |n: usize| {
            for occurred in ["2024-06-01T10:00:00Z", "2025-01-05T10:00:00Z"] {
                let extra = json!({"occurred_at": occurred, "subject": format!("inserted after page {n}")});
                create(app_ref, sid_ref, extra).await;
            }
            create(app_ref, sid_ref, json!({"subject": "now"})).await;
        })
        .await;
        assert_each_once(&walked, &rows, sort);

        // The timeline pages the same way.
        let walked = walk(&app, &format!("{}?sort={sort}", timeline(&sid)), 5, async |_| {}).await;
        assert_eq!(walked, all_ids(&app, &format!("{}?sort={sort}", timeline(&sid)), &[]).await, "{sort}");
        assert_each_once(&walked, &rows, sort);
    }

    // A cursor belongs to its sort; a damaged cursor is a 400.
    let (_, next, _) = page(&app, &format!("{LIST}?limit=5&sort=occurred_at"), Role::Admin, &[]).await;
    let cursor = enc(&next.expect("a next page"));
    let res = app.get(&format!("{LIST}?limit=5&sort=created_at&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}?limit=5&sort=occurred_at&cursor={cursor}x"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}?limit=5&sort=occurred_at&cursor={cursor}"), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

api_test!(default_limit_is_50, |app| {
    let sid = stakeholder(&app, json!({})).await;
    for i in 0..51 {
        create(&app, &sid, json!({"subject": format!("n{i}")})).await;
    }
    let (first, next, _) = page(&app, LIST, Role::Admin, &[]).await;
    assert_eq!(first.len(), 50);
    let next = next.expect("a second page");
    let (rest, last, _) = page(&app, &format!("{LIST}?cursor={}", enc(&next)), Role::Admin, &[]).await;
    assert_eq!(rest.len(), 1);
    assert!(last.is_none());
    assert!(!first.contains(&rest[0]));
    let (one, _, _) = page(&app, &format!("{LIST}?limit=1"), Role::Admin, &[]).await;
    assert_eq!(one.len(), 1);
    let (all, none, _) = page(&app, &format!("{LIST}?limit=200"), Role::Admin, &[]).await;
    assert_eq!(all.len(), 51);
    assert!(none.is_none());
});
