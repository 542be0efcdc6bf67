//! Creating relationships: the ends, self-edges, active duplicates, the
//! symmetric types, dates and strength, `Idempotency-Key`.

use serde_json::json;

use super::*;
use crate::api_test;

api_test!(a_relationship_is_created_with_every_field_and_read_back, |app| {
    let (person, org) = (stakeholder(&app, json!({})).await, organization(&app, "PT Maju").await);
    let body = json!({"from_id": person, "to_id": org, "type": "employee_of", "started_on": "2024-03-01",
                      "strength": 4, "notes": "Head of purchasing"});
    let (status, headers, got) = parts(app.post(LIST, Role::Agent, &body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{got}");
    for field in ["from_id", "to_id", "type", "started_on", "strength", "notes"] {
        assert_eq!(got[field], body[field], "{field}");
    }
    assert_eq!(got["ended_on"], Value::Null);
    assert_eq!(got["active"], true);
    assert_eq!(got["created_by"], "agent-user");
    assert_eq!(got["version"], 1);
    assert_eq!(headers["location"].to_str().unwrap(), path(&got["id"]));
    assert_eq!(fetch(&app, &path(&got["id"]), Role::Analyst).await, got);
    // The employer field is not touched by an employee_of edge.
    let p = fetch(&app, &format!("/api/v1/stakeholders/{}", person.as_str().unwrap()), Role::Admin).await;
    assert_eq!(p["organization_id"], Value::Null);
});

api_test!(bad_bodies_are_422_listing_every_field_and_write_nothing, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let problem = create_422_any(
        &app,
        LIST,
        json!({"from_id": a, "to_id": a, "type": "friend_of", "strength": 6, "started_on": "2025-02-30",
               "notes": "x".repeat(2001), "id": "mine"}),
    )
    .await;
    let fields = error_fields(&problem);
    for f in ["type", "strength", "started_on", "notes", "id"] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    create_422(&app, LIST, json!({"from_id": a, "to_id": a, "type": "other"}), "to_id", Some("self_edge")).await;
    create_422(
        &app,
        LIST,
        json!({"from_id": a, "to_id": b, "type": "other", "started_on": "2025-05-02", "ended_on": "2025-05-01"}),
        "ended_on",
        Some("range"),
    )
    .await;
    let problem = create_422_any(&app, LIST, json!({})).await;
    assert_eq!(sorted(error_fields(&problem)), vec!["from_id", "to_id", "type"]);
    create_422(&app, LIST, json!({"from_id": a, "to_id": b, "type": "other", "notes": "a\u{0}b"}), "notes", None).await;
    // Same day start and end is fine (ended that day, so not active).
    let got =
        link_as(&app, Role::Admin, &a, &b, "other", json!({"started_on": "2025-05-01", "ended_on": "2025-05-01"}))
            .await;
    assert_eq!(got["active"], false);
    assert_eq!(all_as(&app, LIST, Role::Admin).await.len(), 1);
});

api_test!(unknown_ends_are_404_erased_ends_409_and_archived_ends_409, |app| {
    let a = stakeholder(&app, json!({})).await;
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    for body in
        [json!({"from_id": ghost, "to_id": a, "type": "other"}), json!({"from_id": a, "to_id": ghost, "type": "other"})]
    {
        let problem = assert_problem(app.post(LIST, Role::Admin, &body).send().await.unwrap(), 404).await;
        let field = if body["from_id"] == ghost { "from_id" } else { "to_id" };
        assert!(problem["detail"].as_str().unwrap().contains(field), "{problem}");
    }
    let erased = stakeholder(&app, json!({})).await;
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", erased.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "other"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json!({"from_id": a, "to_id": erased, "type": "other"});
    let problem = assert_problem(app.post(LIST, Role::Admin, &body).send().await.unwrap(), 409).await;
    assert_eq!(problem["type"], "https://crm.example/problems/erased");
    let archived = stakeholder(&app, json!({})).await;
    let res =
        app.delete(&format!("/api/v1/stakeholders/{}", archived.as_str().unwrap()), Role::Admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = json!({"from_id": archived, "to_id": a, "type": "other"});
    assert_problem(app.post(LIST, Role::Admin, &body).send().await.unwrap(), 409).await;
    assert!(all_as(&app, LIST, Role::Admin).await.is_empty());
});

api_test!(an_active_duplicate_is_409_an_ended_one_is_history, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let first = link(&app, &a, &b, "referred_by").await;
    let dup = json!({"from_id": a, "to_id": b, "type": "referred_by", "notes": "again"});
    assert_problem(app.post(LIST, Role::Admin, &dup).send().await.unwrap(), 409).await;
    // A directed type the other way round, or another type, is another edge.
    link(&app, &b, &a, "referred_by").await;
    link(&app, &a, &b, "contact_of").await;
    // An edge ending in the future is still active.
    let future = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let res = app.patch(&path(&first["id"]), Role::Admin, &json!({"ended_on": future})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_problem(app.post(LIST, Role::Admin, &dup).send().await.unwrap(), 409).await;
    // Ended: a new active one may be recorded; the old one stays for history.
    let res = app.patch(&path(&first["id"]), Role::Admin, &json!({"ended_on": "2025-01-31"})).send().await.unwrap();
    let (status, _, ended) = parts(res).await;
    assert_eq!((status.as_u16(), &ended["active"]), (200, &json!(false)));
    let again = link_as(&app, Role::Admin, &a, &b, "referred_by", json!({"notes": "again"})).await;
    // Re-opening the ended one now clashes with the new one.
    let res = app.patch(&path(&first["id"]), Role::Admin, &json!({"ended_on": null})).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(fetch(&app, &path(&first["id"]), Role::Admin).await["ended_on"], "2025-01-31");
    assert_eq!(fetch(&app, &path(&again["id"]), Role::Admin).await["active"], true);
});

api_test!(symmetric_types_are_stored_once_and_clash_either_way_round, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    for t in ["family_of", "partner_of"] {
        let edge = link(&app, &a, &b, t).await;
        let reverse = json!({"from_id": b, "to_id": a, "type": t});
        assert_problem(app.post(LIST, Role::Admin, &reverse).send().await.unwrap(), 409).await;
        // Listed from both ends, outgoing from both.
        for end in [&a, &b] {
            let items = all_as(&app, &format!("{}?type={t}", edges_of(end)), Role::Admin).await;
            assert_eq!(ids_of(&items), vec![edge["id"].as_str().unwrap().to_owned()]);
            assert_eq!(items[0]["direction"], "outgoing", "{t} seen from {end}");
            let other = if end == &a { &b } else { &a };
            assert_eq!(&items[0]["other"]["id"], other);
        }
    }
});

api_test!(twenty_racing_creates_of_one_edge_make_one, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let reqs: Vec<_> = (0..20)
        .map(|i| {
            // Half of them the other way round: the same symmetric edge.
            let (f, t) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            app.post(LIST, Role::Agent, &json!({"from_id": f, "to_id": t, "type": "family_of"})).send()
        })
        .collect();
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(reqs).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(all_as(&app, LIST, Role::Admin).await.len(), 1);
});

api_test!(an_idempotency_key_replays_the_first_answer, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let body = json!({"from_id": a, "to_id": b, "type": "contact_of"});
    let send = || app.post(LIST, Role::Agent, &body).header("Idempotency-Key", "rel-1").send();
    let (s1, _, first) = parts(send().await.unwrap()).await;
    let res = send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let (s2, _, second) = parts(res).await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (201, 201));
    assert_eq!(first, second);
    let other = json!({"from_id": a, "to_id": b, "type": "owner_of"});
    let res = app.post(LIST, Role::Agent, &other).header("Idempotency-Key", "rel-1").send().await.unwrap();
    assert_problem(res, 422).await;
    assert_eq!(all_as(&app, LIST, Role::Admin).await.len(), 1);
});
