//! Offers: lists (sorts, filters, the validity-window filter, keyset
//! pagination, the stakeholder's offers).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

api_test!(lists_sort_newest_first_by_default_and_by_created_or_updated_at, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let a = create(&app, &sid, json!({"title": "A"})).await;
    let b = create(&app, &sid, json!({"title": "B"})).await;
    let c = create(&app, &sid, json!({"title": "C"})).await;
    let (a, b, c) = (id_of(&a), id_of(&b), id_of(&c));

    let (got, next, _) = page(&app, LIST, Role::Agent, &[]).await;
    assert_eq!(got, vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(next, None);
    assert_eq!(ids(&app, LIST, &[("sort", "-created_at")]).await, vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(ids(&app, LIST, &[("sort", "created_at")]).await, vec![a.clone(), b.clone(), c.clone()]);

    // Touch A: it becomes the most recently updated.
    let res = app.patch(&format!("{LIST}/{a}"), Role::Agent, &json!({"title": "A2"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await, vec![a.clone(), c.clone(), b.clone()]);
    assert_eq!(ids(&app, LIST, &[("sort", "updated_at")]).await, vec![b.clone(), c.clone(), a.clone()]);
    // An action counts as an update too.
    let res = app.req(Method::POST, &format!("{LIST}/{b}/send"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await, vec![b.clone(), a.clone(), c.clone()]);
    // Created order is unaffected.
    assert_eq!(ids(&app, LIST, &[]).await, vec![c, b, a]);

    // Bad query strings are 400.
    for q in [
        [("sort", "title")],
        [("sort", "display_name")],
        [("status", "pending")],
        [("limit", "0")],
        [("limit", "201")],
        [("cursor", "garbage")],
        [("valid_at", "yesterday")],
        [("stakeholder_id", "nope")],
        [("colour", "red")],
    ] {
        let res = app.get(LIST, Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_stakeholder_status_category_and_creator, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let draft = create_as(&app, Role::Agent, &input(&s1, json!({"product_category": "membership"}))).await;
    let sent = create_as(&app, Role::Manager, &input(&s1, json!({"product_category": "travel"}))).await;
    act_ok(&app, &sent, "send", Role::Agent).await;
    let accepted = create_as(&app, Role::Agent, &input(&s2, json!({"product_category": "membership"}))).await;
    act_ok(&app, &accepted, "send", Role::Agent).await;
    act_ok(&app, &accepted, "accept", Role::Agent).await;
    let declined = create_as(&app, Role::Manager, &input(&s2, json!({}))).await;
    act_ok(&app, &declined, "send", Role::Agent).await;
    act_ok(&app, &declined, "decline", Role::Agent).await;
    let withdrawn = create_as(&app, Role::Agent, &input(&s2, json!({"product_category": "travel"}))).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Agent).await;

    let set = |q: &'static [(&'static str, &'static str)]| {
        let app = &app;
        async move { id_set(&ids(app, LIST, q).await) }
    };
    let s1_id = s1.as_str().unwrap();
    let s2_id = s2.as_str().unwrap();
    assert_eq!(id_set(&ids(&app, LIST, &[("stakeholder_id", s1_id)]).await), set_of(&[&draft, &sent]));
    assert_eq!(
        id_set(&ids(&app, LIST, &[("stakeholder_id", s2_id)]).await),
        set_of(&[&accepted, &declined, &withdrawn])
    );
    assert!(ids(&app, LIST, &[("stakeholder_id", &Uuid::now_v7().to_string())]).await.is_empty());

    for (status, want) in [
        ("draft", &draft),
        ("sent", &sent),
        ("accepted", &accepted),
        ("declined", &declined),
        ("withdrawn", &withdrawn),
    ] {
        assert_eq!(ids(&app, LIST, &[("status", status)]).await, vec![id_of(want)], "status={status}");
    }
    assert!(set(&[("status", "expired")]).await.is_empty());

    assert_eq!(set(&[("product_category", "membership")]).await, set_of(&[&draft, &accepted]));
    assert_eq!(set(&[("product_category", "travel")]).await, set_of(&[&sent, &withdrawn]));
    assert!(set(&[("product_category", "insurance")]).await.is_empty());

    assert_eq!(set(&[("created_by", "agent-user")]).await, set_of(&[&draft, &accepted, &withdrawn]));
    assert_eq!(set(&[("created_by", "manager-user")]).await, set_of(&[&sent, &declined]));
    assert!(set(&[("created_by", "admin-user")]).await.is_empty());

    // Filters combine.
    assert_eq!(
        id_set(&ids(&app, LIST, &[("stakeholder_id", s2_id), ("product_category", "travel")]).await),
        set_of(&[&withdrawn])
    );
    assert_eq!(
        id_set(&ids(&app, LIST, &[("created_by", "agent-user"), ("status", "accepted")]).await),
        set_of(&[&accepted])
    );
    // And work on the stakeholder's list too.
    assert_eq!(
        id_set(&ids(&app, &stakeholder_offers(&s2), &[("created_by", "manager-user")]).await),
        set_of(&[&declined])
    );
    assert_eq!(id_set(&ids(&app, &stakeholder_offers(&s1), &[("status", "sent")]).await), set_of(&[&sent]));
});

api_test!(valid_at_filters_by_the_validity_window_with_open_ends, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let now = Utc::now().trunc_subsecs(0);
    let d = Duration::days;
    let undated = create(&app, &sid, json!({"title": "Undated"})).await;
    let past = create(
        &app,
        &sid,
        json!({"title": "Past", "valid_from": rfc3339(now - d(10)), "valid_until": rfc3339(now - d(5))}),
    )
    .await;
    let current = create(
        &app,
        &sid,
        json!({"title": "Now", "valid_from": rfc3339(now - d(1)), "valid_until": rfc3339(now + d(1))}),
    )
    .await;
    let future = create(
        &app,
        &sid,
        json!({"title": "Future", "valid_from": rfc3339(now + d(5)), "valid_until": rfc3339(now + d(10))}),
    )
    .await;
    let until_only = create(&app, &sid, json!({"title": "Until only", "valid_until": rfc3339(now + d(2))})).await;
    let from_only = create(&app, &sid, json!({"title": "From only", "valid_from": rfc3339(now + d(3))})).await;

    let at = |t: DateTime<Utc>| {
        let app = &app;
        async move { id_set(&ids(app, LIST, &[("valid_at", &rfc3339(t))]).await) }
    };
    assert_eq!(at(now).await, set_of(&[&undated, &current, &until_only]));
    assert_eq!(at(now - d(7)).await, set_of(&[&undated, &past, &until_only]));
    assert_eq!(at(now + d(7)).await, set_of(&[&undated, &future, &from_only]));
    assert_eq!(at(now + d(20)).await, set_of(&[&undated, &from_only]));
    // valid_from is inclusive, valid_until exclusive.
    assert!(at(now - d(1)).await.contains(&id_of(&current)));
    assert!(!at(now + d(1)).await.contains(&id_of(&current)));
    assert!(at(now + d(3)).await.contains(&id_of(&from_only)));
    assert!(!at(now + d(2)).await.contains(&id_of(&until_only)));
    assert!(!at(now - d(5)).await.contains(&id_of(&past)));
    assert!(at(now - d(10)).await.contains(&id_of(&past)));
    // Also on the stakeholder's list.
    let got = id_set(&ids(&app, &stakeholder_offers(&sid), &[("valid_at", &rfc3339(now))]).await);
    assert_eq!(got, set_of(&[&undated, &current, &until_only]));
});

api_test!(cursor_walks_seven_offers_three_at_a_time, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let other = stakeholder(&app, json!({})).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(id_of(&create(&app, &sid, json!({"title": format!("Offer {i}")})).await));
        // Noise on another stakeholder for the nested list.
        if i % 3 == 0 {
            create(&app, &other, json!({})).await;
        }
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    for (url, sort, want, extra) in [
        (stakeholder_offers(&sid), None, newest_first.clone(), None),
        (stakeholder_offers(&sid), Some("created_at"), created.clone(), None),
        (LIST.to_owned(), None, newest_first.clone(), Some(sid.as_str().unwrap().to_owned())),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let mut q: Vec<(&str, &str)> = vec![("limit", "3")];
            if let Some(s) = sort {
                q.push(("sort", s));
            }
            if let Some(s) = &extra {
                q.push(("stakeholder_id", s));
            }
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let (ids, next, _) = page(&app, &url, Role::Agent, &q).await;
            sizes.push(ids.len());
            seen.extend(ids);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
            assert!(sizes.len() < 10, "the walk does not end");
        }
        assert_eq!(sizes, vec![3, 3, 1], "{url} {sort:?}");
        assert_eq!(seen, want, "{url} {sort:?}");
    }

    // A cursor from one sort is not valid for another.
    let (_, next, _) = page(&app, LIST, Role::Agent, &[("limit", "3")]).await;
    let res = app
        .get(LIST, Role::Agent)
        .query(&[("limit", "3"), ("sort", "created_at"), ("cursor", &next.unwrap())])
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
});

api_test!(stakeholder_offers_lists_only_that_stakeholder_and_404s_for_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({})).await;
    let b = create(&app, &s2, json!({})).await;
    let c = create(&app, &s1, json!({})).await;

    assert_eq!(ids(&app, &stakeholder_offers(&s1), &[]).await, vec![id_of(&c), id_of(&a)]);
    assert_eq!(ids(&app, &stakeholder_offers(&s2), &[]).await, vec![id_of(&b)]);
    // The path wins over a stakeholder_id filter.
    let s2_id = s2.as_str().unwrap();
    assert_eq!(ids(&app, &stakeholder_offers(&s1), &[("stakeholder_id", s2_id)]).await, vec![id_of(&c), id_of(&a)]);

    let empty = stakeholder(&app, json!({})).await;
    let (got, next, _) = page(&app, &stakeholder_offers(&empty), Role::Analyst, &[]).await;
    assert!(got.is_empty() && next.is_none());

    let res = app.get(&stakeholder_offers(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/offers", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&stakeholder_offers(&s1), Role::Admin).query(&[("sort", "title")]).send().await.unwrap();
    assert_problem(res, 400).await;
});
