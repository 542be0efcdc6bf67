//! Stakeholder lists (keyset pagination under inserts, sorts, filters, limit,
//! partner isolation) and `Idempotency-Key` on create.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const LIST: &str = "/api/v1/stakeholders";

/// The list URL with `query` (already encoded, see `enc`) as its query string.
fn list(query: &str) -> String {
    if query.is_empty() { LIST.to_owned() } else { format!("{LIST}?{query}") }
}

async fn create_named(app: &TestApp, name: &str) -> String {
    id_of(&app.create_stakeholder(json!({"display_name": name})).await)
}

/// Every stakeholder, archived ones included.
async fn count_all(app: &TestApp) -> usize {
    all_ids(app, &list("include_archived=true"), &[]).await.len()
}

/// Asserts no id occurs twice.
fn assert_unique(ids: &[String]) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "an id appears twice: {ids:?}");
}

// ---------------------------------------------------------------------------
// 1. Keyset pagination under concurrent inserts
// ---------------------------------------------------------------------------

api_test!(descending_walk_sees_every_original_row_once_despite_inserts, |app| {
    let mut originals = Vec::new();
    for i in 0..25 {
        originals.push(create_named(&app, &format!("Original {i:02}")).await);
    }
    let mut inserted = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=7&cursor={}", enc(c)),
            None => "limit=7".to_owned(),
        };
        let (ids, next, body) = page(&app, &list(&query), Role::Admin, &[]).await;
        pages += 1;
        assert!(pages <= 10, "the walk does not end: {body}");
        assert!(ids.len() <= 7, "{body}");
        seen.extend(ids);
        // Rows created now are newer than the cursor: a -created_at walk never reaches them.
        for j in 0..2 {
            inserted.push(create_named(&app, &format!("Inserted {pages}-{j}")).await);
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_unique(&seen);
    let expected: Vec<String> = originals.iter().rev().cloned().collect();
    assert_eq!(seen, expected, "exactly the 25 originals, newest first");
    assert_eq!(pages, 4, "25 rows at 7 a page is 4 pages");
    // The inserts did happen: a fresh walk sees them first.
    let (first, _, _) = page(&app, &list("limit=2"), Role::Admin, &[]).await;
    assert_eq!(first, inserted.iter().rev().take(2).cloned().collect::<Vec<_>>());
});

api_test!(ascending_walk_sees_every_original_row_once_despite_inserts, |app| {
    let mut originals = Vec::new();
    for i in 0..25 {
        originals.push(create_named(&app, &format!("Original {i:02}")).await);
    }
    let mut inserted = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("sort=created_at&limit=7&cursor={}", enc(c)),
            None => "sort=created_at&limit=7".to_owned(),
        };
        let (ids, next, body) = page(&app, &list(&query), Role::Admin, &[]).await;
        pages += 1;
        assert!(pages <= 30, "the walk does not end: {body}");
        assert!(ids.len() <= 7, "{body}");
        seen.extend(ids);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        for j in 0..2 {
            inserted.push(create_named(&app, &format!("Inserted {pages}-{j}")).await);
        }
    }
    assert_unique(&seen);
    assert!(seen.len() >= 25, "{seen:?}");
    assert_eq!(seen[..25], originals[..], "the originals first, oldest first");
    // Whatever follows is rows inserted during the walk, in creation order.
    let tail = &seen[25..];
    let positions: Vec<usize> = tail
        .iter()
        .map(|id| {
            inserted.iter().position(|x| x == id).unwrap_or_else(|| panic!("{id} is neither original nor inserted"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "inserted rows out of order: {positions:?}");
});

api_test!(cursor_is_bound_to_its_sort_and_must_be_intact, |app| {
    for i in 0..3 {
        create_named(&app, &format!("Row {i}")).await;
    }
    let (_, next, _) = page(&app, &list("limit=1"), Role::Admin, &[]).await;
    let cursor = next.expect("a next_cursor");
    let res = app
        .get(&format!("{LIST}?limit=1&sort=display_name&cursor={}", enc(&cursor)), Role::Admin)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app.get(&format!("{LIST}?limit=1&cursor=not-a-cursor"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

// ---------------------------------------------------------------------------
// 2. Sorts
// ---------------------------------------------------------------------------

api_test!(display_name_sorts_alphabetically_with_ties_by_id, |app| {
    let delta = create_named(&app, "Delta").await;
    let same1 = create_named(&app, "Same").await;
    let bravo = create_named(&app, "Bravo").await;
    let alpha = create_named(&app, "Alpha").await;
    let same2 = create_named(&app, "Same").await;
    let echo = create_named(&app, "Echo").await;
    assert!(same1 < same2, "ids are time-ordered");

    let asc = all_ids(&app, &list("sort=display_name"), &[]).await;
    assert_eq!(asc, vec![alpha.clone(), bravo.clone(), delta.clone(), echo.clone(), same1.clone(), same2.clone()]);
    let desc = all_ids(&app, &list("sort=-display_name"), &[]).await;
    let mut reversed = asc.clone();
    reversed.reverse();
    assert_eq!(desc, reversed, "descending is exactly ascending reversed");

    // The names come back in that order too.
    let (_, _, body) = page(&app, &list("limit=200&sort=display_name"), Role::Admin, &[]).await;
    let names: Vec<&str> =
        body["data"].as_array().unwrap().iter().map(|s| s["display_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alpha", "Bravo", "Delta", "Echo", "Same", "Same"]);
});

api_test!(updated_at_sort_reflects_a_patch, |app| {
    let first = app.create_stakeholder(json!({"display_name": "First"})).await;
    let second = create_named(&app, "Second").await;
    let third = create_named(&app, "Third").await;
    let first_id = id_of(&first);

    let before = all_ids(&app, &list("sort=-updated_at"), &[]).await;
    assert_eq!(before, vec![third.clone(), second.clone(), first_id.clone()]);

    let res = app.patch(&format!("{LIST}/{first_id}"), Role::Admin, &json!({"segment": "gold"})).send().await.unwrap();
    let (status, _, patched) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_ne!(patched["updated_at"], first["updated_at"], "{patched}");
    assert_eq!(patched["created_at"], first["created_at"]);

    let desc = all_ids(&app, &list("sort=-updated_at"), &[]).await;
    assert_eq!(desc, vec![first_id.clone(), third.clone(), second.clone()]);
    let asc = all_ids(&app, &list("sort=updated_at"), &[]).await;
    assert_eq!(asc, vec![second.clone(), third.clone(), first_id.clone()]);
    // created_at order is unchanged by the patch.
    let created = all_ids(&app, &list("sort=-created_at"), &[]).await;
    assert_eq!(created, vec![third, second, first_id]);
});

api_test!(display_name_cursor_walk_returns_every_row_once, |app| {
    // Three equal names so that a page boundary falls inside the tie.
    let s1 = create_named(&app, "Same").await;
    let b = create_named(&app, "B").await;
    let s2 = create_named(&app, "Same").await;
    let a = create_named(&app, "A").await;
    let s3 = create_named(&app, "Same").await;

    for (sort, expected) in [
        ("display_name", vec![a.clone(), b.clone(), s1.clone(), s2.clone(), s3.clone()]),
        ("-display_name", vec![s3.clone(), s2.clone(), s1.clone(), b.clone(), a.clone()]),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                Some(c) => format!("sort={sort}&limit=2&cursor={}", enc(c)),
                None => format!("sort={sort}&limit=2"),
            };
            let (ids, next, body) = page(&app, &list(&query), Role::Admin, &[]).await;
            pages += 1;
            assert!(pages <= 5, "the walk does not end: {body}");
            assert!(ids.len() <= 2, "{body}");
            seen.extend(ids);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_unique(&seen);
        assert_eq!(seen, expected, "sort={sort}");
        assert_eq!(pages, 3, "sort={sort}: 5 rows at 2 a page");
    }
});

// ---------------------------------------------------------------------------
// 3. Filters
// ---------------------------------------------------------------------------

api_test!(filters_by_kind_entity_type_and_lifecycle_stage, |app| {
    let cust = id_of(&app.create_stakeholder(json!({"kind": "customer", "lifecycle_stage": "lead"})).await);
    let inv = id_of(&app.create_stakeholder(json!({"kind": "investor", "lifecycle_stage": "customer"})).await);
    let org = id_of(
        &app.create_stakeholder(json!({"kind": "supplier", "entity_type": "organization",
                                       "display_name": "Acme Ltd"}))
            .await,
    );

    assert_eq!(all_ids(&app, &list("kind=customer"), &[]).await, vec![cust.clone()]);
    assert_eq!(all_ids(&app, &list("kind=investor"), &[]).await, vec![inv.clone()]);
    assert_eq!(all_ids(&app, &list("kind=supplier"), &[]).await, vec![org.clone()]);
    assert!(all_ids(&app, &list("kind=employee"), &[]).await.is_empty());

    assert_eq!(all_ids(&app, &list("entity_type=organization"), &[]).await, vec![org.clone()]);
    assert_eq!(sorted(all_ids(&app, &list("entity_type=person"), &[]).await), sorted(vec![cust.clone(), inv.clone()]));

    assert_eq!(all_ids(&app, &list("lifecycle_stage=lead"), &[]).await, vec![cust.clone()]);
    assert_eq!(all_ids(&app, &list("lifecycle_stage=customer"), &[]).await, vec![inv.clone()]);
    // The default stage is prospect.
    assert_eq!(all_ids(&app, &list("lifecycle_stage=prospect"), &[]).await, vec![org.clone()]);
    assert!(all_ids(&app, &list("lifecycle_stage=churned"), &[]).await.is_empty());

    // An unknown enum value in a filter is a bad query string.
    for bad in ["kind=alien", "entity_type=robot", "lifecycle_stage=zombie"] {
        let res = app.get(&format!("{LIST}?{bad}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

api_test!(filters_by_segment_owner_partner_and_organization, |app| {
    let acme = id_of(
        &app.create_stakeholder(json!({"kind": "supplier", "entity_type": "organization",
                                       "display_name": "Acme Ltd"}))
            .await,
    );
    let globex = id_of(
        &app.create_stakeholder(json!({"kind": "supplier", "entity_type": "organization",
                                       "display_name": "Globex"}))
            .await,
    );
    let r1 = id_of(
        &app.create_stakeholder(json!({"segment": "gold", "owner_id": "owner-1",
                                       "partner_id": PARTNER_A, "organization_id": acme}))
            .await,
    );
    let r2 = id_of(
        &app.create_stakeholder(json!({"segment": "silver", "owner_id": "owner-2",
                                       "partner_id": PARTNER_B, "organization_id": globex}))
            .await,
    );
    let r3 = id_of(
        &app.create_stakeholder(json!({"segment": "gold", "owner_id": "owner-2",
                                       "organization_id": acme}))
            .await,
    );

    assert_eq!(sorted(all_ids(&app, &list("segment=gold"), &[]).await), sorted(vec![r1.clone(), r3.clone()]));
    assert_eq!(all_ids(&app, &list("segment=silver"), &[]).await, vec![r2.clone()]);
    assert!(all_ids(&app, &list("segment=bronze"), &[]).await.is_empty());
    // Exact match, not a prefix or case-folded match.
    assert!(all_ids(&app, &list("segment=gol"), &[]).await.is_empty());

    assert_eq!(all_ids(&app, &list("owner_id=owner-1"), &[]).await, vec![r1.clone()]);
    assert_eq!(sorted(all_ids(&app, &list("owner_id=owner-2"), &[]).await), sorted(vec![r2.clone(), r3.clone()]));
    assert!(all_ids(&app, &list("owner_id=nobody"), &[]).await.is_empty());

    assert_eq!(all_ids(&app, &list(&format!("partner_id={PARTNER_A}")), &[]).await, vec![r1.clone()]);
    assert_eq!(all_ids(&app, &list(&format!("partner_id={PARTNER_B}")), &[]).await, vec![r2.clone()]);

    assert_eq!(
        sorted(all_ids(&app, &list(&format!("organization_id={acme}")), &[]).await),
        sorted(vec![r1.clone(), r3.clone()])
    );
    assert_eq!(all_ids(&app, &list(&format!("organization_id={globex}")), &[]).await, vec![r2.clone()]);
    assert!(all_ids(&app, &list(&format!("organization_id={r1}")), &[]).await.is_empty());

    // Filters combine with AND.
    assert_eq!(all_ids(&app, &list("segment=gold&owner_id=owner-2"), &[]).await, vec![r3.clone()]);
    assert_eq!(
        all_ids(&app, &list(&format!("segment=gold&organization_id={acme}&partner_id={PARTNER_A}")), &[]).await,
        vec![r1]
    );
    assert!(all_ids(&app, &list(&format!("segment=silver&organization_id={acme}")), &[]).await.is_empty());

    // A malformed UUID filter is a bad query string.
    let res = app.get(&format!("{LIST}?partner_id=not-a-uuid"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(filters_by_tag, |app| {
    let r1 = id_of(&app.create_stakeholder(json!({"tags": ["vip", "b2c"]})).await);
    let r2 = id_of(&app.create_stakeholder(json!({"tags": ["vip"]})).await);
    let r3 = id_of(&app.create_stakeholder(json!({"tags": ["b2b"]})).await);

    assert_eq!(sorted(all_ids(&app, &list("tag=vip"), &[]).await), sorted(vec![r1.clone(), r2.clone()]));
    assert_eq!(all_ids(&app, &list("tag=b2c"), &[]).await, vec![r1.clone()]);
    assert_eq!(all_ids(&app, &list("tag=b2b"), &[]).await, vec![r3.clone()]);
    assert!(all_ids(&app, &list("tag=none"), &[]).await.is_empty());
    assert!(all_ids(&app, &list("tag=vi"), &[]).await.is_empty(), "tags match exactly");

    // Changing the tags changes what the filter finds.
    let res = app.patch(&format!("{LIST}/{r3}"), Role::Admin, &json!({"tags": ["vip"]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.patch(&format!("{LIST}/{r1}"), Role::Admin, &json!({"tags": ["b2c"]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(sorted(all_ids(&app, &list("tag=vip"), &[]).await), sorted(vec![r2.clone(), r3.clone()]));
    assert!(all_ids(&app, &list("tag=b2b"), &[]).await.is_empty());
    // Combined with another filter: AND.
    assert_eq!(all_ids(&app, &list("tag=vip&kind=customer"), &[]).await.len(), 2);
    assert!(all_ids(&app, &list("tag=vip&kind=investor"), &[]).await.is_empty());
});

api_test!(q_searches_name_email_and_phone_case_insensitively, |app| {
    let siti = id_of(
        &app.create_stakeholder(json!({"display_name": "Siti Rahayu",
                                       "email": "s.rahayu@Example.com",
                                       "phone": "+62 812-3456-7890"}))
            .await,
    );
    let emile = id_of(
        &app.create_stakeholder(json!({"display_name": "Émile Zola", "email": "ez@zola.fr",
                                       "phone": "+33 1 99 00 11 22"}))
            .await,
    );
    let budi = id_of(&app.create_stakeholder(json!({"display_name": "Budi Santoso"})).await);

    for (q, expected) in [
        ("SITI", vec![siti.clone()]),
        ("siti", vec![siti.clone()]),
        ("rahayu", vec![siti.clone()]),
        // Part of the e-mail, in any case.
        ("rahayu@exam", vec![siti.clone()]),
        ("S.RAHAYU@EXAMPLE", vec![siti.clone()]),
        // Digits of the (normalised) phone.
        ("3456789", vec![siti.clone()]),
        ("+628123", vec![siti.clone()]),
        ("99001122", vec![emile.clone()]),
        // Unicode case folding.
        ("ÉMILE", vec![emile.clone()]),
        ("émile", vec![emile.clone()]),
        ("zola", vec![emile.clone()]),
        ("santoso", vec![budi.clone()]),
        ("nobody", vec![]),
        // LIKE wildcards match themselves, not anything.
        ("%", vec![]),
        ("_", vec![]),
    ] {
        assert_eq!(sorted(all_ids(&app, &list(&format!("q={}", enc(q))), &[]).await), sorted(expected), "q={q}");
    }
    // "a" is in every name: q matches substrings.
    assert_eq!(all_ids(&app, &list("q=a"), &[]).await.len(), 3);
    // q combines with other filters (AND).
    assert!(all_ids(&app, &list("q=siti&kind=investor"), &[]).await.is_empty());
    assert_eq!(all_ids(&app, &list("q=siti&kind=customer"), &[]).await, vec![siti]);
});

api_test!(filters_by_updated_since, |app| {
    let a = app.create_stakeholder(json!({"display_name": "A"})).await;
    let b = app.create_stakeholder(json!({"display_name": "B"})).await;
    let c = app.create_stakeholder(json!({"display_name": "C"})).await;
    let (a, b, c) = (id_of(&a), b, id_of(&c));

    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(all_ids(&app, &list(&format!("updated_since={}", enc(&future))), &[]).await.is_empty());
    assert_eq!(
        all_ids(&app, &list(&format!("updated_since={}", enc("2000-01-01T00:00:00Z"))), &[]).await,
        vec![c.clone(), id_of(&b), a.clone()]
    );
    // Inclusive: "at or after" the instant.
    let since = b["updated_at"].as_str().unwrap();
    assert_eq!(all_ids(&app, &list(&format!("updated_since={}", enc(since))), &[]).await, vec![c.clone(), id_of(&b)]);
    // A patch moves a row past the instant.
    let res = app.patch(&format!("{LIST}/{a}"), Role::Admin, &json!({"segment": "gold"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        sorted(all_ids(&app, &list(&format!("updated_since={}", enc(since))), &[]).await),
        sorted(vec![a, id_of(&b), c])
    );
    // Not a timestamp: bad query string.
    let res = app.get(&format!("{LIST}?updated_since=yesterday"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
});

api_test!(archived_rows_are_listed_only_with_include_archived, |app| {
    let keep = create_named(&app, "Kept").await;
    let gone = create_named(&app, "Archived").await;
    let res = app.delete(&format!("{LIST}/{gone}"), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(all_ids(&app, &list(""), &[]).await, vec![keep.clone()]);
    assert_eq!(all_ids(&app, &list("include_archived=false"), &[]).await, vec![keep.clone()]);
    assert_eq!(all_ids(&app, &list("include_archived=true"), &[]).await, vec![gone.clone(), keep.clone()]);
    // With other filters, still AND.
    assert_eq!(all_ids(&app, &list("include_archived=true&q=archived"), &[]).await, vec![gone.clone()]);
    assert!(all_ids(&app, &list("q=archived"), &[]).await.is_empty());

    // Restoring brings it back.
    let res = app.post(&format!("{LIST}/{gone}/restore"), Role::Admin, &json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(all_ids(&app, &list(""), &[]).await, vec![gone, keep]);
});

api_test!(kind_and_segment_filters_combine_with_and, |app| {
    let cust_gold = id_of(&app.create_stakeholder(json!({"kind": "customer", "segment": "gold"})).await);
    let cust_silver = id_of(&app.create_stakeholder(json!({"kind": "customer", "segment": "silver"})).await);
    let sup_gold = id_of(&app.create_stakeholder(json!({"kind": "supplier", "segment": "gold"})).await);

    assert_eq!(all_ids(&app, &list("kind=customer&segment=gold"), &[]).await, vec![cust_gold.clone()]);
    assert_eq!(all_ids(&app, &list("segment=gold&kind=supplier"), &[]).await, vec![sup_gold.clone()]);
    assert_eq!(all_ids(&app, &list("kind=customer&segment=silver"), &[]).await, vec![cust_silver.clone()]);
    assert!(all_ids(&app, &list("kind=supplier&segment=silver"), &[]).await.is_empty());
    assert_eq!(sorted(all_ids(&app, &list("kind=customer"), &[]).await), sorted(vec![cust_gold.clone(), cust_silver]));
    assert_eq!(sorted(all_ids(&app, &list("segment=gold"), &[]).await), sorted(vec![cust_gold, sup_gold]));
});

// ---------------------------------------------------------------------------
// 4. limit
// ---------------------------------------------------------------------------

api_test!(default_limit_is_50_and_200_is_allowed, |app| {
    let mut all = Vec::new();
    for i in 0..60 {
        all.push(create_named(&app, &format!("Row {i:02}")).await);
    }
    all.reverse();

    let (first, next, body) = page(&app, &list(""), Role::Admin, &[]).await;
    assert_eq!(first.len(), 50, "{body}");
    assert_eq!(first, all[..50]);
    let next = next.expect("a next_cursor after 50 of 60 rows");
    let (rest, last, body) = page(&app, &list(&format!("cursor={}", enc(&next))), Role::Admin, &[]).await;
    assert_eq!(rest, all[50..]);
    assert_eq!(body["next_cursor"], Value::Null);
    assert!(last.is_none());

    let (every, next, body) = page(&app, &list("limit=200"), Role::Admin, &[]).await;
    assert_eq!(every, all, "{body}");
    assert!(next.is_none());

    // Exactly `limit` rows left: no phantom next page.
    let (_, after_50, _) = page(&app, &list("limit=50"), Role::Admin, &[]).await;
    let after_50 = after_50.expect("a next_cursor");
    let (ten, next, _) = page(&app, &list(&format!("limit=10&cursor={}", enc(&after_50))), Role::Admin, &[]).await;
    assert_eq!(ten, all[50..]);
    assert!(next.is_none(), "no next_cursor when the page ends the list");

    for bad in ["limit=0", "limit=201", "limit=-1", "limit=ten"] {
        let res = app.get(&format!("{LIST}?{bad}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
});

// ---------------------------------------------------------------------------
// 5. Idempotency-Key
// ---------------------------------------------------------------------------

fn idem_body() -> Value {
    json!({"kind": "customer", "entity_type": "person", "display_name": "Idem Potent",
           "email": "idem@example.com", "tags": ["a"]})
}

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.post(LIST, Role::Admin, body).header("Idempotency-Key", key).send().await.unwrap()
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    h.get(name).map(|v| v.to_str().unwrap().to_owned())
}

api_test!(idempotent_replay_returns_the_first_response, |app| {
    let body = idem_body();
    let (s1, h1, b1) = parts(post_with_key(&app, "key-1", &body).await).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    assert_eq!(header(&h1, "idempotent-replayed"), None);

    let (s2, h2, b2) = parts(post_with_key(&app, "key-1", &body).await).await;
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    assert_eq!(header(&h2, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(b2, b1, "the replay is the first body");
    assert_eq!(b2["id"], b1["id"]);
    let id = b1["id"].as_str().unwrap();
    assert_eq!(header(&h2, "location"), Some(format!("/api/v1/stakeholders/{id}")));
    assert_eq!(header(&h2, "location"), header(&h1, "location"));
    assert_eq!(header(&h2, "etag").as_deref(), Some("\"1\""));
    assert_eq!(header(&h2, "etag"), header(&h1, "etag"));
    assert!(header(&h2, "content-type").unwrap_or_default().starts_with("application/json"));
    assert_eq!(count_all(&app).await, 1, "only one stakeholder exists");

    // The same JSON with its keys in another order is the same request.
    let reordered = r#"{"tags": ["a"], "email": "idem@example.com", "display_name": "Idem Potent",
                        "entity_type": "person", "kind": "customer"}"#;
    let res = app
        .req(reqwest::Method::POST, LIST, Role::Admin)
        .header("Idempotency-Key", "key-1")
        .header("Content-Type", "application/json")
        .body(reordered)
        .send()
        .await
        .unwrap();
    let (s3, h3, b3) = parts(res).await;
    assert_eq!(s3, StatusCode::CREATED, "{b3}");
    assert_eq!(header(&h3, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(b3, b1);
    assert_eq!(count_all(&app).await, 1);
});

api_test!(idempotency_key_with_a_different_body_is_422, |app| {
    let (s1, _, b1) = parts(post_with_key(&app, "key-2", &idem_body()).await).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    let mut other = idem_body();
    other["display_name"] = json!("Someone Else");
    other["email"] = json!("else@example.com");
    let res = post_with_key(&app, "key-2", &other).await;
    let problem = assert_problem(res, 422).await;
    assert!(problem["errors"].as_array().is_some_and(|e| !e.is_empty()), "{problem}");
    assert_eq!(count_all(&app).await, 1, "no second stakeholder");
    // The original request still replays.
    let (s, h, b) = parts(post_with_key(&app, "key-2", &idem_body()).await).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(header(&h, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(b["id"], b1["id"]);
});

api_test!(idempotency_keys_are_per_caller, |app| {
    let mut body = idem_body();
    body.as_object_mut().unwrap().remove("email");
    let (s1, _, b1) = parts(post_with_key(&app, "shared-key", &body).await).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");

    let res = app
        .client
        .post(app.url(LIST))
        .bearer_auth(sign(claims(Role::Admin, "someone-else")))
        .header("Idempotency-Key", "shared-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s2, h2, b2) = parts(res).await;
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    assert_eq!(header(&h2, "idempotent-replayed"), None);
    assert_ne!(b2["id"], b1["id"], "another caller gets its own stakeholder");
    assert_eq!(count_all(&app).await, 2);
});

api_test!(concurrent_requests_with_one_key_create_one_stakeholder, |app| {
    let body = idem_body();
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let req = app.post(LIST, Role::Admin, &body).header("Idempotency-Key", "race-key");
            tokio::spawn(async move { parts(req.send().await.unwrap()).await })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let first_id = results[0].2["id"].clone();
    for (status, _, b) in &results {
        assert_eq!(*status, StatusCode::CREATED, "{b}");
        assert_eq!(b["id"], first_id, "{b}");
    }
    let originals = results.iter().filter(|(_, h, _)| header(h, "idempotent-replayed").is_none()).count();
    assert_eq!(originals, 1, "exactly one request did the work");
    assert_eq!(count_all(&app).await, 1);
});

api_test!(idempotency_key_length_is_checked, |app| {
    let mut body = idem_body();
    body.as_object_mut().unwrap().remove("email");
    let res = post_with_key(&app, &"k".repeat(256), &body).await;
    assert_problem(res, 400).await;
    assert_eq!(count_all(&app).await, 0);
    let res = post_with_key(&app, &"k".repeat(255), &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post_with_key(&app, "", &body).await;
    assert_problem(res, 400).await;
    assert_eq!(count_all(&app).await, 1);
});

api_test!(without_a_key_every_post_creates, |app| {
    let mut body = idem_body();
    body.as_object_mut().unwrap().remove("email");
    let (s1, h1, b1) = parts(app.post(LIST, Role::Admin, &body).send().await.unwrap()).await;
    let (s2, h2, b2) = parts(app.post(LIST, Role::Admin, &body).send().await.unwrap()).await;
    assert_eq!(s1, StatusCode::CREATED, "{b1}");
    assert_eq!(s2, StatusCode::CREATED, "{b2}");
    assert_ne!(b1["id"], b2["id"]);
    assert_eq!(header(&h1, "idempotent-replayed"), None);
    assert_eq!(header(&h2, "idempotent-replayed"), None);
    assert_eq!(count_all(&app).await, 2);
});

api_test!(failed_request_with_a_key_then_corrected_with_a_new_key, |app| {
    let bad = json!({"kind": "customer", "entity_type": "person", "display_name": "",
                     "email": "not-an-email"});
    let res = post_with_key(&app, "attempt-1", &bad).await;
    assert_problem(res, 422).await;
    assert_eq!(count_all(&app).await, 0);

    let good = json!({"kind": "customer", "entity_type": "person", "display_name": "Fixed",
                      "email": "fixed@example.com"});
    let (s, h, b) = parts(post_with_key(&app, "attempt-2", &good).await).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(header(&h, "idempotent-replayed"), None);
    assert_eq!(b["display_name"], "Fixed");
    assert_eq!(count_all(&app).await, 1);
    // And the new key replays.
    let (s, h, b2) = parts(post_with_key(&app, "attempt-2", &good).await).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(header(&h, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(b2["id"], b["id"]);
});

// ---------------------------------------------------------------------------
// 6. Partner isolation in lists
// ---------------------------------------------------------------------------

/// Walks a whole list with `limit=1` as `bearer`.
async fn walk_one_by_one(app: &TestApp, bearer: &str, extra: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let query = match &cursor {
            Some(c) => format!("limit=1{extra}&cursor={}", enc(c)),
            None => format!("limit=1{extra}"),
        };
        let (ids, next, body) = page_with_token(app, &list(&query), bearer, &[]).await;
        assert!(ids.len() <= 1, "{body}");
        seen.extend(ids);
        match next {
            Some(c) => cursor = Some(c),
            None => return seen,
        }
    }
    panic!("walk does not end: {seen:?}");
}

api_test!(partner_lists_walk_only_their_own_rows, |app| {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for i in 0..3 {
        a.push(id_of(&app.create_stakeholder(json!({"display_name": format!("A{i}"), "partner_id": PARTNER_A})).await));
        b.push(id_of(&app.create_stakeholder(json!({"display_name": format!("B{i}"), "partner_id": PARTNER_B})).await));
        create_named(&app, &format!("Unshared {i}")).await;
    }
    let token_a = crate::helpers::partner_token(PARTNER_A);
    let token_b = crate::helpers::partner_token(PARTNER_B);

    let mut a_desc = a.clone();
    a_desc.reverse();
    let mut b_desc = b.clone();
    b_desc.reverse();
    assert_eq!(walk_one_by_one(&app, &token_a, "").await, a_desc);
    assert_eq!(walk_one_by_one(&app, &token_b, "").await, b_desc);
    assert_eq!(walk_one_by_one(&app, &token_a, "&sort=display_name").await, a);
    assert_eq!(walk_one_by_one(&app, &token_a, "&sort=created_at").await, a);

    // Asking for the other partner's rows by filter finds nothing.
    let (rows, next, _) = page_with_token(&app, &list(&format!("partner_id={PARTNER_B}")), &token_a, &[]).await;
    assert!(rows.is_empty());
    assert!(next.is_none());
    // A cursor taken from partner B's list still yields only partner A's rows.
    let (_, cursor_b, _) = page_with_token(&app, &list("limit=1&sort=created_at"), &token_b, &[]).await;
    let (rows, _, _) = page_with_token(
        &app,
        &list(&format!("limit=200&sort=created_at&cursor={}", enc(&cursor_b.unwrap()))),
        &token_a,
        &[],
    )
    .await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|id| a.contains(id)), "{rows:?}");
    // Searches do not reach across either.
    let (rows, _, _) = page_with_token(&app, &list("q=B"), &token_a, &[]).await;
    assert!(rows.iter().all(|id| a.contains(id)), "{rows:?}");
    let (rows, _, _) = page_with_token(&app, &list("q=Unshared"), &token_a, &[]).await;
    assert!(rows.is_empty(), "{rows:?}");

    // The admin sees all nine.
    assert_eq!(count_all(&app).await, 9);
});

api_test!(masked_roles_search_names_only, |app| {
    app.create_stakeholder(
        json!({"display_name": "Siti Rahayu", "email": "siti.r@example.com", "phone": "+628111222333"}),
    )
    .await;
    let count = |role: Role, q: &'static str| {
        let req = app.get(&format!("/api/v1/stakeholders?q={}", q.replace('+', "%2B")), role);
        async move {
            let (status, _, body) = parts(req.send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["data"].as_array().unwrap().len()
        }
    };
    // An analyst sees e-mail and phone masked, so search must not confirm them.
    assert_eq!(count(Role::Analyst, "siti.r@example.com").await, 0);
    assert_eq!(count(Role::Analyst, "628111222333").await, 0);
    assert_eq!(count(Role::Analyst, "rahayu").await, 1);
    // Roles that read contact details search them too.
    assert_eq!(count(Role::Agent, "siti.r@example.com").await, 1);
    assert_eq!(count(Role::Admin, "628111222333").await, 1);
});
