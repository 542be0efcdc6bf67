//! Offers: the lifecycle actions (every transition and every refusal over
//! HTTP, If-Match, action bodies), validity windows and expiry on read.

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

use super::*;

api_test!(send_then_accept_stamps_sent_at_and_responded_at, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({})).await;

    let sent = act_ok(&app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["version"], 2);
    assert!(parse_ts(&sent["sent_at"]) >= parse_ts(&offer["created_at"]), "{sent}");
    assert_eq!(sent["responded_at"], Value::Null);
    assert_eq!(sent["title"], offer["title"]);
    assert_eq!(sent["created_by"], "admin-user");

    let accepted = act_ok(&app, &offer, "accept", Role::Agent).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["version"], 3);
    assert_eq!(accepted["sent_at"], sent["sent_at"]);
    assert!(parse_ts(&accepted["responded_at"]) >= parse_ts(&sent["sent_at"]), "{accepted}");

    let res = app.get(&path(&offer["id"]), Role::Admin).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"3\"");
    assert_eq!(read, accepted);
});

api_test!(send_then_decline_and_both_withdrawals, |app| {
    let sid = stakeholder(&app, json!({})).await;

    let declined = create(&app, &sid, json!({})).await;
    act_ok(&app, &declined, "send", Role::Manager).await;
    let got = act_ok(&app, &declined, "decline", Role::Manager).await;
    assert_eq!(got["status"], "declined");
    assert_eq!(got["version"], 3);
    assert!(got["sent_at"].is_string() && got["responded_at"].is_string(), "{got}");

    let draft = create(&app, &sid, json!({})).await;
    let got = act_ok(&app, &draft, "withdraw", Role::Agent).await;
    assert_eq!(got["status"], "withdrawn");
    assert_eq!(got["version"], 2);
    assert_eq!(got["sent_at"], Value::Null);
    assert_eq!(got["responded_at"], Value::Null);

    let sent = create(&app, &sid, json!({})).await;
    let s = act_ok(&app, &sent, "send", Role::Agent).await;
    let got = act_ok(&app, &sent, "withdraw", Role::Agent).await;
    assert_eq!(got["status"], "withdrawn");
    assert_eq!(got["version"], 3);
    assert_eq!(got["sent_at"], s["sent_at"]);
    assert_eq!(got["responded_at"], Value::Null);

    for (o, status) in [(&declined, "declined"), (&draft, "withdrawn"), (&sent, "withdrawn")] {
        assert_eq!(fetch(&app, &path(&o["id"]), Role::Agent).await["status"], status);
    }
});

api_test!(every_refused_transition_is_409_naming_the_current_status, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let draft = create(&app, &sid, json!({})).await;
    let sent = create(&app, &sid, json!({})).await;
    act_ok(&app, &sent, "send", Role::Admin).await;
    let accepted = create(&app, &sid, json!({})).await;
    act_ok(&app, &accepted, "send", Role::Admin).await;
    act_ok(&app, &accepted, "accept", Role::Admin).await;
    let declined = create(&app, &sid, json!({})).await;
    act_ok(&app, &declined, "send", Role::Admin).await;
    act_ok(&app, &declined, "decline", Role::Admin).await;
    let withdrawn = create(&app, &sid, json!({})).await;
    act_ok(&app, &withdrawn, "withdraw", Role::Admin).await;

    let refused: [(&Value, &str, &[&str]); 5] = [
        (&draft, "draft", &["accept", "decline"]),
        (&sent, "sent", &["send"]),
        (&accepted, "accepted", &ACTIONS),
        (&declined, "declined", &ACTIONS),
        (&withdrawn, "withdrawn", &ACTIONS),
    ];
    for (offer, status, actions) in refused {
        let before = fetch(&app, &path(&offer["id"]), Role::Admin).await;
        assert_eq!(before["status"], status);
        for action in actions {
            act_409(&app, offer, action, status).await;
        }
        // Nothing changed.
        assert_eq!(fetch(&app, &path(&offer["id"]), Role::Admin).await, before, "{status}");
    }
});

api_test!(actions_on_unknown_or_malformed_ids, |app| {
    for action in ACTIONS {
        let res =
            app.req(Method::POST, &format!("{LIST}/{}/{action}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
        assert_problem(res, 404).await;
        let res = app.req(Method::POST, &format!("{LIST}/not-a-uuid/{action}"), Role::Admin).send().await.unwrap();
        assert_problem(res, 400).await;
    }
    let res = app.get(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get(&format!("{LIST}/nope"), Role::Admin).send().await.unwrap();
    assert_problem(res, 400).await;
    let res =
        app.patch(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin, &json!({"title": "x"})).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.delete(&format!("{LIST}/{}", Uuid::now_v7()), Role::Admin).send().await.unwrap();
    assert_problem(res, 404).await;
});

api_test!(actions_honour_if_match, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let offer = create(&app, &sid, json!({})).await;
    let url = action_path(&offer["id"], "send");

    let res = app.req(Method::POST, &url, Role::Agent).header("If-Match", "\"7\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "draft");

    let res = app.req(Method::POST, &url, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(body["status"], "sent");

    // The old ETag is now stale for the next action.
    let accept = action_path(&offer["id"], "accept");
    let res = app.req(Method::POST, &accept, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    assert_problem(res, 412).await;
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "sent");
    let res = app.req(Method::POST, &accept, Role::Agent).header("If-Match", "\"2\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["etag"].to_str().unwrap(), "\"3\"");
    assert_eq!(body["status"], "accepted");

    // Withdraw too.
    let other = create(&app, &sid, json!({})).await;
    let withdraw = action_path(&other["id"], "withdraw");
    let res = app.req(Method::POST, &withdraw, Role::Agent).header("If-Match", "\"2\"").send().await.unwrap();
    assert_problem(res, 412).await;
    let res = app.req(Method::POST, &withdraw, Role::Agent).header("If-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // GET honours If-None-Match.
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"3\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
});

api_test!(accept_and_decline_before_valid_from_are_409, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let from = Utc::now().trunc_subsecs(0) + Duration::days(3);
    let offer =
        create(&app, &sid, json!({"valid_from": rfc3339(from), "valid_until": rfc3339(from + Duration::days(7))}))
            .await;
    // Sending ahead of the window is fine.
    let sent = act_ok(&app, &offer, "send", Role::Agent).await;
    assert_eq!(sent["status"], "sent");
    for action in ["accept", "decline"] {
        let res = act(&app, &offer, action, Role::Agent).await;
        let p = assert_problem(res, 409).await;
        assert!(p["detail"].as_str().unwrap().contains("valid_from"), "{p}");
    }
    let read = fetch(&app, &path(&offer["id"]), Role::Agent).await;
    assert_eq!(read["status"], "sent");
    assert_eq!(read["version"], 2);
    assert_eq!(read["responded_at"], Value::Null);
    // It can still be withdrawn.
    assert_eq!(act_ok(&app, &offer, "withdraw", Role::Agent).await["status"], "withdrawn");

    // An open window (valid_from in the past) accepts.
    let open = create(&app, &sid, json!({"valid_from": rfc3339(Utc::now() - Duration::days(1))})).await;
    act_ok(&app, &open, "send", Role::Agent).await;
    assert_eq!(act_ok(&app, &open, "accept", Role::Agent).await["status"], "accepted");
});

api_test!(send_after_valid_until_is_409, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let now = Utc::now().trunc_subsecs(0);
    let offer = create(
        &app,
        &sid,
        json!({"valid_from": rfc3339(now - Duration::days(10)), "valid_until": rfc3339(now - Duration::days(1))}),
    )
    .await;
    // A draft past its window is still a draft.
    assert_eq!(offer["status"], "draft");
    let res = act(&app, &offer, "send", Role::Agent).await;
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("valid_until"), "{p}");
    let read = fetch(&app, &path(&offer["id"]), Role::Agent).await;
    assert_eq!(read["status"], "draft");
    assert_eq!(read["sent_at"], Value::Null);
    assert_eq!(read["version"], 1);
    // Its dates can be fixed while it is a draft, and then it can be sent.
    let res = app
        .patch(&path(&offer["id"]), Role::Agent, &json!({"valid_until": rfc3339(now + Duration::days(5))}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(act_ok(&app, &offer, "send", Role::Agent).await["status"], "sent");
});

api_test!(sent_offer_past_valid_until_reads_as_expired, |app| {
    let sid = stakeholder(&app, json!({})).await;
    let live =
        create(&app, &sid, json!({"title": "Live", "valid_until": rfc3339(Utc::now() + Duration::days(5))})).await;
    act_ok(&app, &live, "send", Role::Agent).await;
    let open = create(&app, &sid, json!({"title": "Open ended"})).await;
    act_ok(&app, &open, "send", Role::Agent).await;
    let expired = expired_offer(&app, &sid).await;

    // On GET.
    let res = app.get(&path(&expired["id"]), Role::Agent).send().await.unwrap();
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["status"], "expired", "{read}");
    // Reading does not change it.
    assert_eq!(read["version"], expired["version"]);
    assert_eq!(headers["etag"].to_str().unwrap(), format!("\"{}\"", expired["version"]));

    // In lists, and in the status filter.
    let (_, _, body) = page(&app, LIST, Role::Agent, &[]).await;
    let row = body["data"].as_array().unwrap().iter().find(|r| r["id"] == expired["id"]).expect("listed");
    assert_eq!(row["status"], "expired");
    let (_, _, body) = page(&app, &stakeholder_offers(&sid), Role::Agent, &[]).await;
    let row = body["data"].as_array().unwrap().iter().find(|r| r["id"] == expired["id"]).expect("listed");
    assert_eq!(row["status"], "expired");
    assert_eq!(ids(&app, LIST, &[("status", "expired")]).await, vec![id_of(&expired)]);
    assert_eq!(id_set(&ids(&app, LIST, &[("status", "sent")]).await), set_of(&[&live, &open]));
    assert_eq!(ids(&app, &stakeholder_offers(&sid), &[("status", "expired")]).await, vec![id_of(&expired)]);

    // Every action is refused, naming "expired".
    for action in ACTIONS {
        act_409(&app, &expired, action, "expired").await;
    }
    // Neither editable nor deletable.
    let res = app.patch(&path(&expired["id"]), Role::Admin, &json!({"title": "Again"})).send().await.unwrap();
    let p = assert_problem(res, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    let res = app.delete(&path(&expired["id"]), Role::Admin).send().await.unwrap();
    assert_problem(res, 409).await;
    assert_eq!(fetch(&app, &path(&expired["id"]), Role::Admin).await["status"], "expired");
});

api_test!(no_304_while_a_sent_offer_can_still_expire, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let offer = create(&app, &s["id"], json!({"valid_until": rfc3339(Utc::now() + Duration::days(1))})).await;
    let res = app.req(Method::POST, &action_path(&offer["id"], "send"), Role::Agent).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Its status is computed from the clock, so "2" cannot vouch for it: always a full answer.
    let res = app.get(&path(&offer["id"]), Role::Agent).header("If-None-Match", "\"2\"").send().await.unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"].to_str().unwrap(), "\"2\"");
    assert_eq!(body["status"], "sent");
    // A draft cannot change by itself: 304 as usual.
    let draft = create(&app, &s["id"], json!({})).await;
    let res = app.get(&path(&draft["id"]), Role::Agent).header("If-None-Match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
});

api_test!(actions_without_input_refuse_a_body, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let offer = create(&app, &s["id"], json!({})).await;
    let send = action_path(&offer["id"], "send");
    let res = app
        .req(Method::POST, &send, Role::Agent)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app
        .req(Method::POST, &send, Role::Agent)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = app.post(&send, Role::Agent, &json!({"note": "x"})).send().await.unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(problem["errors"][0]["field"], "note");
    assert_eq!(fetch(&app, &path(&offer["id"]), Role::Agent).await["status"], "draft", "nothing changed");
    let res = app.post(&send, Role::Agent, &json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "an empty object is no input");
});
