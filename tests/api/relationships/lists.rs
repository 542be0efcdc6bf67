//! Lists: the collection's filters and keyset pages, and a stakeholder's
//! edges from both ends with the other end.

use std::collections::HashSet;

use serde_json::json;

use super::*;
use crate::api_test;

api_test!(the_collection_filters_by_end_type_and_activity_newest_first, |app| {
    let (a, b, c) =
        (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let ab = link(&app, &a, &b, "referred_by").await;
    let bc = link(&app, &b, &c, "contact_of").await;
    let ca = link_as(&app, Role::Admin, &c, &a, "other", json!({"ended_on": "2024-01-01"})).await;
    let all = all_as(&app, LIST, Role::Analyst).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    assert_eq!(ids_of(&all), vec![id(&ca), id(&bc), id(&ab)], "newest first");
    let set = |items: Vec<Value>| -> HashSet<String> { ids_of(&items).into_iter().collect() };
    let q = |s: &str| format!("{LIST}?{s}");
    let sid = |v: &Value| v.as_str().unwrap().to_owned();
    assert_eq!(set(all_as(&app, &q(&format!("from_id={}", sid(&a))), Role::Admin).await), HashSet::from([id(&ab)]));
    assert_eq!(set(all_as(&app, &q(&format!("to_id={}", sid(&a))), Role::Admin).await), HashSet::from([id(&ca)]));
    assert_eq!(
        set(all_as(&app, &q(&format!("stakeholder_id={}", sid(&a))), Role::Admin).await),
        HashSet::from([id(&ab), id(&ca)])
    );
    assert_eq!(set(all_as(&app, &q("type=contact_of"), Role::Admin).await), HashSet::from([id(&bc)]));
    assert_eq!(set(all_as(&app, &q("active=false"), Role::Admin).await), HashSet::from([id(&ca)]));
    assert_eq!(set(all_as(&app, &q("active=true"), Role::Admin).await), HashSet::from([id(&ab), id(&bc)]));
    assert_eq!(ids_of(&all_as(&app, &q("sort=created_at"), Role::Admin).await), vec![id(&ab), id(&bc), id(&ca)]);
    for bad in
        ["type=friend_of", "active=maybe", "from_id=nope", "sort=notes", "limit=0", "cursor=garbage", "colour=red"]
    {
        assert_problem(app.get(&q(bad), Role::Admin).send().await.unwrap(), 400).await;
    }
});

api_test!(a_stakeholders_edges_come_from_both_ends_with_the_other_end, |app| {
    let me = stakeholder(&app, json!({"display_name": "Ayu"})).await;
    let org = organization(&app, "PT Maju").await;
    let friend = stakeholder(&app, json!({"display_name": "Bayu", "kind": "customer"})).await;
    let out = link(&app, &me, &org, "employee_of").await;
    let inc = link(&app, &friend, &me, "referred_by").await;
    let _unrelated = link(&app, &org, &friend, "partner_of").await;
    let items = all_as(&app, &edges_of(&me), Role::Agent).await;
    assert_eq!(ids_of(&items), vec![inc["id"].as_str().unwrap(), out["id"].as_str().unwrap()]);
    assert_eq!(items[0]["direction"], "incoming");
    assert_eq!(items[0]["other"], json!({"id": friend, "display_name": "Bayu", "kind": "customer"}));
    assert_eq!(items[1]["direction"], "outgoing");
    assert_eq!(items[1]["other"], json!({"id": org, "display_name": "PT Maju", "kind": "partner"}));
    // The item is the relationship plus the two fields.
    let mut plain = items[1].clone();
    let o = plain.as_object_mut().unwrap();
    o.remove("direction");
    o.remove("other");
    assert_eq!(plain, out);
    let filtered = all_as(&app, &format!("{}?type=employee_of", edges_of(&me)), Role::Agent).await;
    assert_eq!(ids_of(&filtered), vec![out["id"].as_str().unwrap()]);
    patch_ok(&app, &path(&out["id"]), Role::Agent, json!({"ended_on": "2024-06-30"})).await;
    let active = all_as(&app, &format!("{}?active=true", edges_of(&me)), Role::Agent).await;
    assert_eq!(ids_of(&active), vec![inc["id"].as_str().unwrap()]);
    // An unknown stakeholder is 404, a bad filter 400.
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    assert_problem(app.get(&edges_of(&ghost), Role::Agent).send().await.unwrap(), 404).await;
    assert_problem(app.get(&format!("{}?from_id=x", edges_of(&me)), Role::Agent).send().await.unwrap(), 400).await;
});
