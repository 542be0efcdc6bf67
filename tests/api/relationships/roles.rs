//! Who may do what, partner scope at each end of an edge, and the other end
//! as the caller would see it.

use serde_json::json;

use super::*;
use crate::api_test;

api_test!(roles_are_those_of_interactions_and_partners_only_read, |app| {
    let (a, b) = (stakeholder(&app, json!({})).await, stakeholder(&app, json!({})).await);
    let mut made = Vec::new();
    for (i, role) in [Role::Admin, Role::Manager, Role::Agent].into_iter().enumerate() {
        let t = ["contact_of", "owner_of", "investor_in"][i];
        let edge = link_as(&app, role, &a, &b, t, json!({})).await;
        patch_ok(&app, &path(&edge["id"]), role, json!({"strength": 3})).await;
        made.push(edge);
    }
    let body = json!({"from_id": a, "to_id": b, "type": "other"});
    for role in [Role::Analyst, Role::Partner] {
        assert_problem(app.post(LIST, role, &body).send().await.unwrap(), 403).await;
        let res = app.patch(&path(&made[0]["id"]), role, &json!({"strength": 1})).send().await.unwrap();
        assert_problem(res, 403).await;
        assert_problem(app.delete(&path(&made[0]["id"]), role).send().await.unwrap(), 403).await;
    }
    assert_problem(app.delete(&path(&made[0]["id"]), Role::Agent).send().await.unwrap(), 403).await;
    // Analysts read everything; the refused requests changed nothing.
    assert_eq!(all_as(&app, LIST, Role::Analyst).await.len(), 3);
    for m in &made {
        assert_eq!(fetch(&app, &path(&m["id"]), Role::Analyst).await["strength"], 3);
    }
    let anonymous = reqwest::Client::new().get(app.url(LIST)).send().await.unwrap();
    assert_problem(anonymous, 401).await;
});

api_test!(a_partner_sees_an_edge_only_when_it_sees_both_ends, |app| {
    let mine1 = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let mine2 = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let theirs = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let nobody = stakeholder(&app, json!({})).await;
    let inside = link(&app, &mine1, &mine2, "family_of").await;
    let out_edge = link(&app, &mine1, &theirs, "referred_by").await;
    let in_edge = link(&app, &nobody, &mine2, "contact_of").await;
    let foreign = link(&app, &theirs, &nobody, "other").await;
    let visible = all_as(&app, LIST, Role::Partner).await;
    assert_eq!(ids_of(&visible), vec![inside["id"].as_str().unwrap()]);
    assert_eq!(fetch(&app, &path(&inside["id"]), Role::Partner).await, inside);
    for hidden in [&out_edge, &in_edge, &foreign] {
        assert_problem(app.get(&path(&hidden["id"]), Role::Partner).send().await.unwrap(), 404).await;
    }
    // From either of its ends, only the edge inside its scope.
    for end in [&mine1, &mine2] {
        assert_eq!(ids_of(&all_as(&app, &edges_of(end), Role::Partner).await), vec![inside["id"].as_str().unwrap()]);
        let net = fetch(&app, &network_of(end, 3), Role::Partner).await;
        let reached: Vec<&Value> = net["nodes"].as_array().unwrap().iter().map(|n| &n["stakeholder"]["id"]).collect();
        assert_eq!(reached.len(), 1, "{net}");
    }
    // Another partner's stakeholder: 404 for its edges and its network.
    assert_problem(app.get(&edges_of(&theirs), Role::Partner).send().await.unwrap(), 404).await;
    assert_problem(app.get(&network_of(&theirs, 1), Role::Partner).send().await.unwrap(), 404).await;
    // Partner B sees nothing of partner A's, and cannot create edges.
    let b = reqwest::Client::new();
    let res = b.get(app.url(LIST)).bearer_auth(partner_token(PARTNER_B)).send().await.unwrap();
    let (_, _, page) = parts(res).await;
    assert_eq!(page["data"], json!([]));
    let res = b
        .post(app.url(LIST))
        .bearer_auth(partner_token(PARTNER_B))
        .json(&json!({"from_id": theirs, "to_id": theirs, "type": "other"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
});

api_test!(the_other_end_is_shown_as_the_caller_sees_that_stakeholder, |app| {
    let me = stakeholder(&app, json!({})).await;
    let other = stakeholder(
        &app,
        json!({"display_name": "Citra Dewi", "email": "citra@example.com", "phone": "+6281234567890",
               "income_band": "high"}),
    )
    .await;
    link(&app, &me, &other, "family_of").await;
    for role in [Role::Analyst, Role::Agent, Role::Admin] {
        let items = all_as(&app, &edges_of(&me), role).await;
        let shown = &items[0]["other"];
        // Exactly the three fields, as GET of that stakeholder shows them to the role.
        let full = fetch(&app, &format!("/api/v1/stakeholders/{}", other.as_str().unwrap()), role).await;
        assert_eq!(*shown, json!({"id": full["id"], "display_name": full["display_name"], "kind": full["kind"]}));
        let text = items[0].to_string();
        assert!(!text.contains("citra@") && !text.contains("7890") && !text.contains("high"), "{role}: {text}");
        let net = fetch(&app, &network_of(&me, 1), role).await;
        assert_eq!(net["nodes"][0]["stakeholder"], *shown);
    }
    // An erased other end shows its shell.
    let res = app
        .post(
            &format!("/api/v1/stakeholders/{}/erase", other.as_str().unwrap()),
            Role::Admin,
            &json!({"reason": "objection"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let items = all_as(&app, &edges_of(&me), Role::Analyst).await;
    assert_eq!(items[0]["other"]["display_name"], "Erased stakeholder");
});
