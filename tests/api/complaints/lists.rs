//! Complaints: lists (the support queue, filters, keyset pagination, the
//! stakeholder's complaints).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

api_test!(lists_sort_newest_first_by_default_and_due_at_gives_the_support_queue, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let low = create(&app, &sid, json!({"severity": "low"})).await;
    let critical = create(&app, &sid, json!({"severity": "critical"})).await;
    let medium = create(&app, &sid, json!({"severity": "medium"})).await;
    let high = create(&app, &sid, json!({"severity": "high"})).await;
    let (low, critical, medium, high) = (id_of(&low), id_of(&critical), id_of(&medium), id_of(&high));

    let (got, next, _) = page(&app, LIST, Role::Agent, &[]).await;
    assert_eq!(got, vec![high.clone(), medium.clone(), critical.clone(), low.clone()]);
    assert_eq!(next, None);
    let by_created = vec![low.clone(), critical.clone(), medium.clone(), high.clone()];
    assert_eq!(ids(&app, LIST, &[("sort", "created_at")]).await, by_created);
    let queue = vec![critical.clone(), high.clone(), medium.clone(), low.clone()];
    assert_eq!(ids(&app, LIST, &[("sort", "due_at")]).await, queue);
    let reversed: Vec<String> = queue.iter().rev().cloned().collect();
    assert_eq!(ids(&app, LIST, &[("sort", "-due_at")]).await, reversed);
    assert_eq!(ids(&app, &stakeholder_complaints(&sid), &[("sort", "due_at")]).await, queue);

    // Touch low: it becomes the most recently updated.
    let res = app.req(Method::POST, &format!("{LIST}/{low}/acknowledge"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&app, LIST, &[("sort", "-updated_at")]).await[0], low);
    assert_eq!(*ids(&app, LIST, &[("sort", "updated_at")]).await.last().unwrap(), low);
    // A severity change moves it in the queue.
    let res = app.patch(&format!("{LIST}/{low}"), Role::Agent, &json!({"severity": "critical"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        ids(&app, LIST, &[("sort", "due_at")]).await,
        vec![low.clone(), critical.clone(), high.clone(), medium.clone()]
    );

    // Bad query strings are 400.
    let long = "a".repeat(501);
    for q in [
        [("sort", "severity")],
        [("sort", "title")],
        [("status", "pending")],
        [("severity", "urgent")],
        [("category", "food")],
        [("sla_breached", "maybe")],
        [("limit", "0")],
        [("limit", "201")],
        [("cursor", "garbage")],
        [("opened_after", "yesterday")],
        [("opened_before", "2026-13-01")],
        [("stakeholder_id", "nope")],
        [("assignee_id", long.as_str())],
        [("assignee_id", "a\0b")],
        [("colour", "red")],
    ] {
        let res = app.get(LIST, Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
        let res = app.get(&stakeholder_complaints(&sid), Role::Agent).query(&q).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(lists_filter_by_stakeholder_status_severity_category_assignee_and_opened_window, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({"category": "product", "severity": "low"})).await;
    let b = create(&app, &s1, json!({"category": "billing", "severity": "high"})).await;
    act_ok(&app, &b, "acknowledge", Role::Agent).await;
    act_ok(&app, &b, "assign", Role::Manager).await; // agent-7
    let c = create(&app, &s2, json!({"category": "service", "severity": "critical"})).await;
    act_ok(&app, &c, "start", Role::Agent).await;
    let res = act_json(&app, &c, "assign", Role::Manager, &json!({"assignee_id": "agent-9"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let d = create(&app, &s2, json!({"category": "billing", "severity": "medium"})).await;
    act_ok(&app, &d, "start", Role::Agent).await;
    act_ok(&app, &d, "resolve", Role::Agent).await;
    act_ok(&app, &d, "assign", Role::Admin).await; // agent-7
    let e = create(&app, &s1, json!({"category": "delivery", "severity": "low"})).await;
    act_ok(&app, &e, "start", Role::Agent).await;
    act_ok(&app, &e, "resolve", Role::Agent).await;
    act_ok(&app, &e, "close", Role::Agent).await;

    let s1_id = s1.as_str().unwrap();
    let s2_id = s2.as_str().unwrap();
    assert_eq!(id_set_of(&app, LIST, &[("stakeholder_id", s1_id)]).await, set_of(&[&a, &b, &e]));
    assert_eq!(id_set_of(&app, LIST, &[("stakeholder_id", s2_id)]).await, set_of(&[&c, &d]));
    assert!(ids(&app, LIST, &[("stakeholder_id", &Uuid::now_v7().to_string())]).await.is_empty());

    for (status, want) in [("open", &a), ("acknowledged", &b), ("in_progress", &c), ("resolved", &d), ("closed", &e)] {
        assert_eq!(ids(&app, LIST, &[("status", status)]).await, vec![id_of(want)], "status={status}");
    }
    assert_eq!(id_set_of(&app, LIST, &[("severity", "low")]).await, set_of(&[&a, &e]));
    assert_eq!(ids(&app, LIST, &[("severity", "critical")]).await, vec![id_of(&c)]);
    assert_eq!(ids(&app, LIST, &[("severity", "medium")]).await, vec![id_of(&d)]);
    assert_eq!(id_set_of(&app, LIST, &[("category", "billing")]).await, set_of(&[&b, &d]));
    assert_eq!(ids(&app, LIST, &[("category", "delivery")]).await, vec![id_of(&e)]);
    assert!(ids(&app, LIST, &[("category", "privacy")]).await.is_empty());
    assert_eq!(id_set_of(&app, LIST, &[("assignee_id", "agent-7")]).await, set_of(&[&b, &d]));
    assert_eq!(ids(&app, LIST, &[("assignee_id", "agent-9")]).await, vec![id_of(&c)]);
    assert!(ids(&app, LIST, &[("assignee_id", "agent-1")]).await.is_empty());

    // opened_after is inclusive, opened_before exclusive.
    let at = |x: &Value| x["created_at"].as_str().unwrap().to_owned();
    assert_eq!(id_set_of(&app, LIST, &[("opened_after", &at(&c))]).await, set_of(&[&c, &d, &e]));
    assert_eq!(id_set_of(&app, LIST, &[("opened_before", &at(&c))]).await, set_of(&[&a, &b]));
    assert_eq!(
        id_set_of(&app, LIST, &[("opened_after", &at(&b)), ("opened_before", &at(&d))]).await,
        set_of(&[&b, &c])
    );
    assert_eq!(id_set_of(&app, LIST, &[("opened_after", &at(&a))]).await.len(), 5);
    assert!(ids(&app, LIST, &[("opened_before", &at(&a))]).await.is_empty());
    let later = (parse_ts(&e["created_at"]) + Duration::seconds(1)).to_rfc3339();
    assert!(ids(&app, LIST, &[("opened_after", &later)]).await.is_empty());

    // Filters combine, and work on the stakeholder's list too.
    assert_eq!(
        ids(&app, LIST, &[("stakeholder_id", s2_id), ("category", "billing"), ("assignee_id", "agent-7")]).await,
        vec![id_of(&d)]
    );
    assert_eq!(id_set_of(&app, LIST, &[("severity", "low"), ("status", "open")]).await, set_of(&[&a]));
    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[("status", "closed")]).await, vec![id_of(&e)]);
    assert_eq!(ids(&app, &stakeholder_complaints(&s2), &[("assignee_id", "agent-7")]).await, vec![id_of(&d)]);
    assert!(ids(&app, &stakeholder_complaints(&s1), &[("severity", "critical")]).await.is_empty());
    assert_eq!(id_set_of(&app, &stakeholder_complaints(&s1), &[("opened_before", &at(&c))]).await, set_of(&[&a, &b]));
});

api_test!(cursor_walks_seven_complaints_three_at_a_time_in_due_order, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let other = stakeholder(&app, json!({})).await;
    let severities = ["low", "critical", "medium", "high", "critical", "low", "high"];
    let mut created = Vec::new();
    for (i, severity) in severities.iter().enumerate() {
        created.push(create(&app, &sid, json!({"severity": severity, "subject": format!("Complaint {i}")})).await);
        // Noise on another stakeholder.
        if i % 3 == 0 {
            create(&app, &other, json!({"severity": "critical"})).await;
        }
    }
    let mut by_due: Vec<(DateTime<Utc>, String)> = created.iter().map(|c| (parse_ts(&c["due_at"]), id_of(c))).collect();
    by_due.sort();
    let queue: Vec<String> = by_due.into_iter().map(|(_, id)| id).collect();
    // Severity decides here (created within a moment of each other).
    let first_two: HashSet<String> = queue[..2].iter().cloned().collect();
    assert_eq!(first_two, set_of(&[&created[1], &created[4]]));
    let reversed: Vec<String> = queue.iter().rev().cloned().collect();
    let newest_first: Vec<String> = created.iter().rev().map(id_of).collect();

    let sid_s = sid.as_str().unwrap().to_owned();
    for (url, sort, want, filter) in [
        (LIST.to_owned(), "due_at", queue.clone(), Some(sid_s.clone())),
        (stakeholder_complaints(&sid), "due_at", queue.clone(), None),
        (stakeholder_complaints(&sid), "-due_at", reversed.clone(), None),
        (stakeholder_complaints(&sid), "-created_at", newest_first.clone(), None),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut sizes = Vec::new();
        loop {
            let mut q: Vec<(&str, &str)> = vec![("limit", "3"), ("sort", sort)];
            if let Some(s) = &filter {
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
        assert_eq!(sizes, vec![3, 3, 1], "{url} {sort}");
        assert_eq!(seen, want, "{url} {sort}");
    }

    // A cursor from one sort is not valid for another.
    let (_, next, _) = page(&app, LIST, Role::Agent, &[("limit", "3"), ("sort", "due_at")]).await;
    let res = app.get(LIST, Role::Agent).query(&[("limit", "3"), ("cursor", &next.unwrap())]).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(stakeholder_complaints_lists_only_that_stakeholder_and_404s_for_unknown, |app| {
    let s1 = stakeholder(&app, json!({})).await;
    let s2 = stakeholder(&app, json!({})).await;
    let a = create(&app, &s1, json!({})).await;
    let b = create(&app, &s2, json!({})).await;
    let c = create(&app, &s1, json!({})).await;

    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[]).await, vec![id_of(&c), id_of(&a)]);
    assert_eq!(ids(&app, &stakeholder_complaints(&s2), &[]).await, vec![id_of(&b)]);
    // The path wins over a stakeholder_id filter.
    let s2_id = s2.as_str().unwrap();
    assert_eq!(ids(&app, &stakeholder_complaints(&s1), &[("stakeholder_id", s2_id)]).await, vec![id_of(&c), id_of(&a)]);
    let (_, _, body) = page(&app, &stakeholder_complaints(&s1), Role::Analyst, &[]).await;
    assert_eq!(body["data"][0], fetch(&app, &path(&c["id"]), Role::Admin).await);

    let empty = stakeholder(&app, json!({})).await;
    let (got, next, _) = page(&app, &stakeholder_complaints(&empty), Role::Analyst, &[]).await;
    assert!(got.is_empty() && next.is_none());

    let res = app.get(&stakeholder_complaints(&json!(Uuid::now_v7())), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get("/api/v1/stakeholders/not-a-uuid/complaints", Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});
