//! Interactions: who may do what, and partner isolation.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

use super::*;

api_test!(roles_decide_who_may_do_what, |app| {
    let sid = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;

    // Admin, manager, agent create, read and patch.
    let mut made = Vec::new();
    for role in [Role::Admin, Role::Manager, Role::Agent] {
        let got = create_as(&app, role, &input(&sid, json!({"subject": role.as_str()}))).await;
        for reader in Role::ALL {
            assert_eq!(fetch(&app, &path(&got["id"]), reader).await["subject"], role.as_str());
        }
        let patched = patch_ok(&app, &path(&got["id"]), role, json!({"outcome": format!("by {role}")})).await;
        assert_eq!(patched["version"], 2);
        assert_eq!(patched["recorded_by"], format!("{role}-user"), "recorded_by does not change on PATCH");
        made.push(patched);
    }

    // Analyst: read only.
    let res = app.post(LIST, Role::Analyst, &input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 403).await;
    let id = &made[0]["id"];
    let res = app.patch(&path(id), Role::Analyst, &json!({"subject": "x"})).send().await.unwrap();
    assert_problem(res, 403).await;
    let res = app.delete(&path(id), Role::Analyst).send().await.unwrap();
    assert_problem(res, 403).await;
    assert_eq!(all_ids_as(&app, LIST, Role::Analyst, &[]).await.len(), 3);

    // Agent: no DELETE.
    let res = app.delete(&path(id), Role::Agent).send().await.unwrap();
    assert_problem(res, 403).await;

    // Partner: read and create for its stakeholders, nothing else.
    let own = create_as(&app, Role::Partner, &input(&sid, json!({}))).await;
    for target in [&own["id"], id] {
        let res = app.patch(&path(target), Role::Partner, &json!({"subject": "x"})).send().await.unwrap();
        assert_problem(res, 403).await;
        let res = app.delete(&path(target), Role::Partner).send().await.unwrap();
        assert_problem(res, 403).await;
    }

    // Nothing changed by the refused requests.
    for m in &made {
        assert_eq!(fetch(&app, &path(&m["id"]), Role::Admin).await, *m);
    }
    assert_eq!(fetch(&app, &path(&own["id"]), Role::Admin).await, own);
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 4);

    // Manager and admin delete.
    for (role, m) in [(Role::Manager, &made[0]), (Role::Admin, &made[1])] {
        let res = app.delete(&path(&m["id"]), role).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "DELETE as {role}");
    }
    assert_eq!(all_ids(&app, LIST, &[]).await.len(), 2);

    // No token: 401.
    let res = app.client.get(app.url(LIST)).send().await.unwrap();
    assert_problem(res, 401).await;
    let res = app.client.post(app.url(LIST)).json(&input(&sid, json!({}))).send().await.unwrap();
    assert_problem(res, 401).await;
});

api_test!(partners_see_only_interactions_of_their_stakeholders, |app| {
    let a = stakeholder(&app, json!({"partner_id": PARTNER_A})).await;
    let b = stakeholder(&app, json!({"partner_id": PARTNER_B})).await;
    let none = stakeholder(&app, json!({})).await;
    let ia = create(&app, &a, json!({})).await;
    let ib = create(&app, &b, json!({})).await;
    let inone = create(&app, &none, json!({})).await;

    assert_eq!(all_ids_as(&app, LIST, Role::Partner, &[]).await, vec![id_of(&ia)]);
    assert_eq!(
        sorted(all_ids_as(&app, LIST, Role::Admin, &[]).await),
        sorted(vec![id_of(&ia), id_of(&ib), id_of(&inone)])
    );
    let (b_ids, _, _) = page_with_token(&app, LIST, &partner_token(PARTNER_B), &[]).await;
    assert_eq!(b_ids, vec![id_of(&ib)]);

    // Filtering on another's stakeholder shows nothing.
    assert!(
        all_ids_as(&app, &format!("{LIST}?stakeholder_id={}", b.as_str().unwrap()), Role::Partner, &[])
            .await
            .is_empty()
    );

    // GET of another's: 404, same as a missing one.
    assert_eq!(fetch(&app, &path(&ia["id"]), Role::Partner).await, ia);
    for other in [&ib, &inone] {
        let res = app.get(&path(&other["id"]), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // Timelines: own visible, others 404.
    assert_eq!(all_ids_as(&app, &timeline(&a), Role::Partner, &[]).await, vec![id_of(&ia)]);
    for other in [&b, &none] {
        let res = app.get(&timeline(other), Role::Partner).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // A partner token without partner_id sees nothing at all (it is refused).
    let mut c = crate::helpers::claims(Role::Partner, "partner-without-id");
    c.partner_id = None;
    let res = app.client.get(app.url(LIST)).bearer_auth(crate::helpers::sign(c)).send().await.unwrap();
    assert_problem(res, 403).await;
});
