//! The network walk: depth, both directions, shortest distance and path,
//! cycles, ended edges, the 1,000-node truncation.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::api_test;

/// `{stakeholder id: (distance, path)}` of a network answer.
fn reached(net: &Value) -> HashMap<String, (u64, Vec<String>)> {
    net["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let path = n["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
            (n["stakeholder"]["id"].as_str().unwrap().to_owned(), (n["distance"].as_u64().unwrap(), path))
        })
        .collect()
}

api_test!(the_walk_is_breadth_first_both_ways_each_node_once_at_its_shortest_distance, |app| {
    // a → b, c → a (incoming), b ↔ c (a cycle), c → d, d → e, e → f; a → g ended.
    let mut s = HashMap::new();
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        s.insert(name, stakeholder(&app, json!({"display_name": name})).await);
    }
    let ab = link(&app, &s["a"], &s["b"], "referred_by").await;
    let ca = link(&app, &s["c"], &s["a"], "contact_of").await;
    let _bc = link(&app, &s["b"], &s["c"], "family_of").await;
    let cd = link(&app, &s["c"], &s["d"], "supplier_to").await;
    let de = link(&app, &s["d"], &s["e"], "other").await;
    let _ef = link(&app, &s["e"], &s["f"], "other").await;
    link_as(&app, Role::Admin, &s["a"], &s["g"], "other", json!({"ended_on": "2020-01-01"})).await;
    let id = |v: &Value| v.as_str().unwrap().to_owned();
    let e = |v: &Value| v["id"].as_str().unwrap().to_owned();

    let net = fetch(&app, &network_of(&s["a"], 3), Role::Analyst).await;
    assert_eq!((&net["root"], &net["depth"], &net["truncated"]), (&s["a"], &json!(3), &json!(false)));
    let got = reached(&net);
    let expected = HashMap::from([
        (id(&s["b"]), (1, vec![e(&ab)])),
        (id(&s["c"]), (1, vec![e(&ca)])),
        (id(&s["d"]), (2, vec![e(&ca), e(&cd)])),
        (id(&s["e"]), (3, vec![e(&ca), e(&cd), e(&de)])),
    ]);
    assert_eq!(got, expected, "{net}");
    // Nearest first; the root, f (4 hops) and g (ended edge) are not listed.
    let distances: Vec<u64> =
        net["nodes"].as_array().unwrap().iter().map(|n| n["distance"].as_u64().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert_eq!(net["nodes"][0]["stakeholder"]["display_name"].as_str().map(|n| n == "b" || n == "c"), Some(true));

    let one = fetch(&app, &format!("/api/v1/stakeholders/{}/network", id(&s["a"])), Role::Agent).await;
    assert_eq!(one["depth"], 1, "depth defaults to 1");
    assert_eq!(reached(&one).len(), 2);
    assert_eq!(reached(&fetch(&app, &network_of(&s["a"], 2), Role::Agent).await).len(), 3);
    for bad in ["0", "4", "-1", "two", "1.5", "256"] {
        let url = format!("/api/v1/stakeholders/{}/network?depth={bad}", id(&s["a"]));
        assert_problem(app.get(&url, Role::Agent).send().await.unwrap(), 400).await;
    }
    let ghost = json!(uuid::Uuid::now_v7().to_string());
    assert_problem(app.get(&network_of(&ghost, 1), Role::Agent).send().await.unwrap(), 404).await;
    // A stakeholder without edges has an empty network.
    let net = fetch(&app, &network_of(&s["g"], 3), Role::Agent).await;
    assert_eq!((net["nodes"].clone(), net["truncated"].clone()), (json!([]), json!(false)));
});

api_test!(beyond_a_thousand_nodes_the_nearest_thousand_are_listed_and_truncated_is_set, |app| {
    let root = stakeholder(&app, json!({"display_name": "root"})).await;
    let hub = stakeholder(&app, json!({"display_name": "hub"})).await;
    link(&app, &root, &hub, "contact_of").await;
    // 1,000 stakeholders around the hub: 1,001 reachable within two hops.
    let mut leaves = Vec::new();
    for chunk in 0..40 {
        let made: Vec<_> = (0..25)
            .map(|i| app.post("/api/v1/stakeholders", Role::Admin, &json!({"kind": "customer", "entity_type": "person",
                                                                              "display_name": format!("leaf {}", chunk * 25 + i)})).send())
            .collect();
        for r in futures_util::future::join_all(made).await {
            let (status, _, body) = parts(r.unwrap()).await;
            assert_eq!(status, 201, "{body}");
            leaves.push(body["id"].clone());
        }
    }
    for part in leaves.chunks(25) {
        let made: Vec<_> = part
            .iter()
            .map(|leaf| {
                app.post(LIST, Role::Admin, &json!({"from_id": leaf, "to_id": hub, "type": "referred_by"})).send()
            })
            .collect();
        for r in futures_util::future::join_all(made).await {
            assert_eq!(r.unwrap().status(), 201);
        }
    }
    let one = fetch(&app, &network_of(&root, 1), Role::Admin).await;
    assert_eq!((reached(&one).len(), &one["truncated"]), (1, &json!(false)));
    let net = fetch(&app, &network_of(&root, 2), Role::Admin).await;
    let nodes = net["nodes"].as_array().unwrap();
    assert_eq!((nodes.len(), &net["truncated"]), (1000, &json!(true)));
    assert_eq!(nodes[0]["stakeholder"]["id"], hub, "nearest first");
    assert!(nodes[1..].iter().all(|n| n["distance"] == 2 && n["path"].as_array().unwrap().len() == 2));
    // From the hub, exactly 1,001 within one hop: still truncated at 1,000.
    let net = fetch(&app, &network_of(&hub, 1), Role::Admin).await;
    assert_eq!((net["nodes"].as_array().unwrap().len(), &net["truncated"]), (1000, &json!(true)));
});
