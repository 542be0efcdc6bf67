//! Authentication (bearer JWTs: HS256, RS256, ES256, iss/aud) and
//! authorisation (roles, the stakeholder permission matrix, partner row
//! scope, field redaction by role).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_api::auth::jwt::{Audience, Claims, JwtAlgorithm, SigningKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

const LIST: &str = "/api/v1/stakeholders";
const OTHER_SECRET: &str = "another-secret-that-is-at-least-32-bytes-long";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// GET /api/v1/stakeholders with the raw `Authorization` value (None: no header).
async fn list_with_authorization(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(LIST));
    if let Some(v) = authorization {
        req = req.header("Authorization", v);
    }
    req.send().await.unwrap()
}

async fn list_with_token(app: &TestApp, token: &str) -> reqwest::Response {
    list_with_authorization(app, Some(&format!("Bearer {token}"))).await
}

/// Asserts a 401 problem carrying `WWW-Authenticate: Bearer`.
async fn assert_unauthorized(res: reqwest::Response, what: &str) {
    let www = res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(www.as_deref(), Some("Bearer"), "{what}: WWW-Authenticate");
    assert_problem(res, 401).await;
}

async fn assert_ok(res: reqwest::Response, what: &str) -> Value {
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    body
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

api_test!(missing_or_malformed_bearer_tokens_are_401, |app| {
    // Control: the same route answers 200 to a good token.
    assert_ok(list_with_token(&app, &token(Role::Admin)).await, "valid token").await;

    assert_unauthorized(list_with_authorization(&app, None).await, "no header").await;
    let basic = format!("Basic {}", URL_SAFE_NO_PAD.encode("admin:password"));
    assert_unauthorized(list_with_authorization(&app, Some(&basic)).await, "Basic").await;
    assert_unauthorized(list_with_authorization(&app, Some("Bearer ")).await, "empty Bearer").await;
    assert_unauthorized(list_with_authorization(&app, Some("Bearer")).await, "bare Bearer").await;
    assert_unauthorized(list_with_token(&app, "garbage").await, "garbage").await;
    assert_unauthorized(list_with_token(&app, "not.a.jwt").await, "three garbage parts").await;
    // A valid token sent with the wrong scheme is still refused.
    let wrong_scheme = format!("Token {}", token(Role::Admin));
    assert_unauthorized(list_with_authorization(&app, Some(&wrong_scheme)).await, "Token scheme").await;
});

api_test!(bad_signature_expired_and_not_yet_valid_tokens_are_401, |app| {
    let other =
        sign_with(&claims(Role::Admin, "admin-user"), JwtAlgorithm::Hs256, &SigningKey::Secret(OTHER_SECRET.into()));
    assert_unauthorized(list_with_token(&app, &other).await, "other secret").await;

    // A valid token with its payload swapped for another role: signature no longer matches.
    let good = token(Role::Analyst);
    let mut segments: Vec<&str> = good.split('.').collect();
    let forged_payload = b64(&serde_json::to_value(claims(Role::Admin, "analyst-user")).unwrap());
    segments[1] = &forged_payload;
    assert_unauthorized(list_with_token(&app, &segments.join(".")).await, "tampered payload").await;

    let mut expired = claims(Role::Admin, "admin-user");
    expired.exp = now() - 600;
    expired.nbf = Some(now() - 3600);
    expired.iat = Some(now() - 3600);
    assert_unauthorized(list_with_token(&app, &sign(expired)).await, "expired").await;

    let mut future = claims(Role::Admin, "admin-user");
    future.nbf = Some(now() + 600);
    assert_unauthorized(list_with_token(&app, &sign(future)).await, "nbf in future").await;

    // Within the 30 s leeway both are still accepted.
    let mut just_expired = claims(Role::Admin, "admin-user");
    just_expired.exp = now() - 5;
    assert_ok(list_with_token(&app, &sign(just_expired)).await, "exp within leeway").await;
});

api_test!(alg_none_token_is_401, |app| {
    let header = json!({"alg": "none", "typ": "JWT"});
    let body = serde_json::to_value(claims(Role::Admin, "admin-user")).unwrap();
    let unsigned = format!("{}.{}.", b64(&header), b64(&body));
    assert_unauthorized(list_with_token(&app, &unsigned).await, "alg none").await;
    // Also with the signature part dropped altogether and with "None" spelling.
    let no_dot = format!("{}.{}", b64(&header), b64(&body));
    assert_unauthorized(list_with_token(&app, &no_dot).await, "alg none, 2 parts").await;
    let header2 = json!({"alg": "None", "typ": "JWT"});
    let unsigned2 = format!("{}.{}.", b64(&header2), b64(&body));
    assert_unauthorized(list_with_token(&app, &unsigned2).await, "alg None").await;
});

api_test!(issuer_and_audience_are_checked_when_configured, |app| {
    let app2 =
        TestApp::spawn_with(app.backend, &[("CRM_JWT_ISSUER", "https://idp.example"), ("CRM_JWT_AUDIENCE", "crm-api")])
            .await;
    let with = |iss: Option<&str>, aud: Option<&str>| {
        let mut c = claims(Role::Admin, "admin-user");
        c.iss = iss.map(str::to_owned);
        c.aud = aud.map(|a| Audience::One(a.to_owned()));
        sign(c)
    };
    let good = with(Some("https://idp.example"), Some("crm-api"));
    assert_ok(list_with_token(&app2, &good).await, "right iss and aud").await;

    let cases = [
        ("wrong iss", with(Some("https://evil.example"), Some("crm-api"))),
        ("missing iss", with(None, Some("crm-api"))),
        ("wrong aud", with(Some("https://idp.example"), Some("other-api"))),
        ("missing aud", with(Some("https://idp.example"), None)),
        ("neither", with(None, None)),
    ];
    let mut accepted = Vec::new();
    for (what, t) in &cases {
        let res = list_with_token(&app2, t).await;
        if res.status() == StatusCode::UNAUTHORIZED {
            assert_unauthorized(res, what).await;
        } else {
            accepted.push(format!("{what}: {}", res.status()));
        }
    }
    assert!(accepted.is_empty(), "not refused with 401: {accepted:?}");
    // The app without iss/aud configured does not care about them.
    assert_ok(list_with_token(&app, &with(Some("https://evil.example"), Some("other-api"))).await, "unconfigured app")
        .await;
});

api_test!(rs256_app_accepts_rs256_and_rejects_algorithm_confusion, |app| {
    let public = fixture("rs256_public.pem");
    let rs = TestApp::spawn_with(
        app.backend,
        &[("CRM_JWT_PUBLIC_KEY_FILE", public.as_str()), ("CRM_JWT_ALGORITHM", "RS256")],
    )
    .await;
    let c = claims(Role::Admin, "admin-user");
    let good = sign_with(&c, JwtAlgorithm::Rs256, &SigningKey::PrivatePem(read_fixture("rs256_private.pem")));
    assert_ok(list_with_token(&rs, &good).await, "RS256 token").await;

    // HS256 "signed" with the public key PEM as the HMAC secret.
    let pem = String::from_utf8(read_fixture("rs256_public.pem")).unwrap();
    let confused = sign_with(&c, JwtAlgorithm::Hs256, &SigningKey::Secret(pem));
    assert_unauthorized(list_with_token(&rs, &confused).await, "alg confusion").await;
    assert_unauthorized(list_with_token(&rs, &sign(c.clone())).await, "HS256 secret").await;
    let es = sign_with(&c, JwtAlgorithm::Es256, &SigningKey::PrivatePem(read_fixture("es256_private.pem")));
    assert_unauthorized(list_with_token(&rs, &es).await, "ES256 on RS256 app").await;

    // The RS256 token means nothing to the default HS256 app.
    assert_unauthorized(list_with_token(&app, &good).await, "RS256 on HS256 app").await;
});

api_test!(es256_app_accepts_es256_and_rejects_algorithm_confusion, |app| {
    let public = fixture("es256_public.pem");
    let es = TestApp::spawn_with(
        app.backend,
        &[("CRM_JWT_PUBLIC_KEY_FILE", public.as_str()), ("CRM_JWT_ALGORITHM", "ES256")],
    )
    .await;
    let c = claims(Role::Manager, "manager-user");
    let good = sign_with(&c, JwtAlgorithm::Es256, &SigningKey::PrivatePem(read_fixture("es256_private.pem")));
    assert_ok(list_with_token(&es, &good).await, "ES256 token").await;

    let pem = String::from_utf8(read_fixture("es256_public.pem")).unwrap();
    let confused = sign_with(&c, JwtAlgorithm::Hs256, &SigningKey::Secret(pem));
    assert_unauthorized(list_with_token(&es, &confused).await, "alg confusion").await;
    assert_unauthorized(list_with_token(&es, &sign(c.clone())).await, "HS256 secret").await;
    let rs = sign_with(&c, JwtAlgorithm::Rs256, &SigningKey::PrivatePem(read_fixture("rs256_private.pem")));
    assert_unauthorized(list_with_token(&es, &rs).await, "RS256 on ES256 app").await;
});

/// Sends `method path` with a raw token (and a JSON body for POST/PATCH).
async fn send_with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

api_test!(missing_or_unknown_role_or_bad_partner_id_is_403, |app| {
    let target = app.create_stakeholder(json!({"partner_id": PARTNER_A.to_string()})).await;
    let id = target["id"].as_str().unwrap();
    let one = format!("{LIST}/{id}");

    let mut no_role = claims(Role::Admin, "someone");
    no_role.role = None;
    let root = claims_with_role_str("root", "root-user");
    let empty_role = claims_with_role_str("", "someone");
    let upper = claims_with_role_str("ADMIN", "someone");
    let partner_without_id = claims(Role::Partner, "partner-x");
    let mut partner_bad_id = claims(Role::Partner, "partner-x");
    partner_bad_id.partner_id = Some("not-a-uuid".into());

    let cases: [(&str, Claims); 6] = [
        ("no role", no_role),
        ("role root", root),
        ("empty role", empty_role),
        ("role ADMIN", upper),
        ("partner without partner_id", partner_without_id),
        ("partner_id not a UUID", partner_bad_id),
    ];
    for (what, c) in cases {
        let t = sign(c);
        let requests: [(Method, &str, Option<Value>); 5] = [
            (Method::GET, LIST, None),
            (Method::POST, LIST, Some(minimal_stakeholder())),
            (Method::GET, &one, None),
            (Method::PATCH, &one, Some(json!({"segment": "gold"}))),
            (Method::DELETE, &one, None),
        ];
        for (method, path, body) in requests {
            let res = send_with_token(&app, method.clone(), path, &t, body.as_ref()).await;
            let problem = assert_problem(res, 403).await;
            assert!(!problem["detail"].as_str().unwrap_or("").is_empty(), "{what} {method} {path}: {problem}");
        }
    }

    // Nothing was written by any of them.
    let res = app.get(&format!("{LIST}?include_archived=true"), Role::Admin).send().await.unwrap();
    let body = assert_ok(res, "admin list").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["data"][0]["version"], 1, "{body}");
    assert_eq!(body["data"][0]["segment"], Value::Null, "{body}");
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    List,
    Get,
    Patch,
    Archive,
    Restore,
    ConsentHistory,
}

const OPS: [Op; 7] = [Op::Create, Op::List, Op::Get, Op::Patch, Op::Archive, Op::Restore, Op::ConsentHistory];

/// API.md's role table for stakeholders.
fn allowed(role: Role, op: Op) -> bool {
    match role {
        Role::Admin | Role::Manager => true,
        Role::Agent => !matches!(op, Op::Archive | Op::Restore),
        Role::Analyst | Role::Partner => matches!(op, Op::List | Op::Get | Op::ConsentHistory),
    }
}

api_test!(stakeholder_role_matrix, |app| {
    for role in Role::ALL {
        for op in OPS {
            let what = format!("{role} {op:?}");
            // A fresh target per case, shared with PARTNER_A so the partner token may see it.
            let target = app
                .create_stakeholder(json!({
                    "partner_id": PARTNER_A.to_string(),
                    "consents": {"marketing_email": true}
                }))
                .await;
            let id = target["id"].as_str().unwrap().to_owned();
            let one = format!("{LIST}/{id}");
            if op == Op::Restore {
                let res = app.delete(&one, Role::Admin).send().await.unwrap();
                assert_ok(res, "archive before restore").await;
            }
            let before = assert_ok(app.get(&one, Role::Admin).send().await.unwrap(), "before").await;

            let req = match op {
                Op::Create => app.post(
                    LIST,
                    role,
                    &json!({"kind": "customer", "entity_type": "person",
                            "display_name": "Matrix Person", "partner_id": PARTNER_A.to_string()}),
                ),
                Op::List => app.get(LIST, role),
                Op::Get => app.get(&one, role),
                Op::Patch => app.patch(&one, role, &json!({"segment": "gold"})),
                Op::Archive => app.delete(&one, role),
                Op::Restore => app.req(Method::POST, &format!("{one}/restore"), role),
                Op::ConsentHistory => app.get(&format!("{one}/consent-history"), role),
            };
            let res = req.send().await.unwrap();

            if !allowed(role, op) {
                let problem = assert_problem(res, 403).await;
                assert_eq!(problem["status"], 403, "{what}");
                // A refused write changed nothing.
                let after = assert_ok(app.get(&one, Role::Admin).send().await.unwrap(), "after").await;
                assert_eq!(after["version"], before["version"], "{what}: {after}");
                assert_eq!(after["archived_at"], before["archived_at"], "{what}");
                assert_eq!(after["segment"], before["segment"], "{what}");
                continue;
            }

            let (status, _, body) = parts(res).await;
            let expected = if op == Op::Create { StatusCode::CREATED } else { StatusCode::OK };
            assert_eq!(status, expected, "{what}: {body}");
            match op {
                Op::Create => {
                    assert_eq!(body["display_name"], "Matrix Person", "{what}");
                    assert!(body["id"].is_string(), "{what}");
                }
                Op::List => {
                    let ids: Vec<&str> =
                        body["data"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
                    assert!(ids.contains(&id.as_str()), "{what}: {body}");
                }
                Op::Get => assert_eq!(body["id"], id.as_str(), "{what}"),
                Op::Patch => {
                    assert_eq!(body["segment"], "gold", "{what}");
                    assert_eq!(body["version"], 2, "{what}");
                }
                Op::Archive => {
                    assert!(body["archived_at"].is_string(), "{what}: {body}");
                    assert_eq!(body["version"], 2, "{what}");
                }
                Op::Restore => {
                    assert_eq!(body["archived_at"], Value::Null, "{what}: {body}");
                    assert_eq!(body["version"], 3, "{what}");
                }
                Op::ConsentHistory => {
                    let data = body["data"].as_array().unwrap();
                    assert_eq!(data.len(), 1, "{what}: {body}");
                    assert_eq!(data[0]["consent"], "marketing_email", "{what}");
                }
            }
        }
    }
});

fn sorted_ids_of(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

api_test!(partners_see_only_their_own_stakeholders, |app| {
    let a = app
        .create_stakeholder(json!({"display_name": "Shared with A", "partner_id": PARTNER_A.to_string(),
                   "consents": {"marketing_sms": true}}))
        .await;
    let b = app
        .create_stakeholder(json!({"display_name": "Shared with B", "partner_id": PARTNER_B.to_string(),
                   "consents": {"marketing_sms": true}}))
        .await;
    let none = app.create_stakeholder(json!({"display_name": "Not shared"})).await;
    let (a_id, b_id, none_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap(), none["id"].as_str().unwrap());
    let token_a = partner_token(PARTNER_A);
    let token_b = partner_token(PARTNER_B);
    let get = |path: String, t: &str| app.client.get(app.url(&path)).bearer_auth(t.to_owned()).send();

    // Control: admin sees all three.
    let all = assert_ok(app.get(LIST, Role::Admin).send().await.unwrap(), "admin").await;
    assert_eq!(sorted_ids_of(&all).len(), 3, "{all}");

    let listed = assert_ok(get(LIST.into(), &token_a).await.unwrap(), "A list").await;
    assert_eq!(sorted_ids_of(&listed), vec![a_id.to_owned()], "{listed}");
    let filtered =
        assert_ok(get(format!("{LIST}?partner_id={PARTNER_B}"), &token_a).await.unwrap(), "A filters B").await;
    assert_eq!(sorted_ids_of(&filtered), Vec::<String>::new(), "{filtered}");
    assert_eq!(filtered["next_cursor"], Value::Null);
    let own = assert_ok(get(format!("{LIST}?partner_id={PARTNER_A}"), &token_a).await.unwrap(), "A filters A").await;
    assert_eq!(sorted_ids_of(&own), vec![a_id.to_owned()], "{own}");
    let searched = assert_ok(get(format!("{LIST}?q=shared"), &token_a).await.unwrap(), "A searches").await;
    assert_eq!(sorted_ids_of(&searched), vec![a_id.to_owned()], "{searched}");

    let got = assert_ok(get(format!("{LIST}/{a_id}"), &token_a).await.unwrap(), "A gets A").await;
    assert_eq!(got["id"], a_id);
    assert_ok(get(format!("{LIST}/{a_id}/consent-history"), &token_a).await.unwrap(), "A history of A").await;
    for path in [
        format!("{LIST}/{b_id}"),
        format!("{LIST}/{none_id}"),
        format!("{LIST}/{b_id}/consent-history"),
        format!("{LIST}/{none_id}/consent-history"),
    ] {
        assert_problem(get(path, &token_a).await.unwrap(), 404).await;
    }

    let listed_b = assert_ok(get(LIST.into(), &token_b).await.unwrap(), "B list").await;
    assert_eq!(sorted_ids_of(&listed_b), vec![b_id.to_owned()], "{listed_b}");
    let got_b = assert_ok(get(format!("{LIST}/{b_id}"), &token_b).await.unwrap(), "B gets B").await;
    assert_eq!(got_b["id"], b_id);
    assert_problem(get(format!("{LIST}/{a_id}"), &token_b).await.unwrap(), 404).await;
    assert_problem(get(format!("{LIST}/{a_id}/consent-history"), &token_b).await.unwrap(), 404).await;

    // A partner whose id matches nothing sees an empty list.
    let stranger = partner_token(uuid::Uuid::from_u128(0xc));
    let empty = assert_ok(get(LIST.into(), &stranger).await.unwrap(), "stranger").await;
    assert_eq!(sorted_ids_of(&empty), Vec::<String>::new(), "{empty}");
});

api_test!(fields_are_redacted_by_role, |app| {
    let created = app
        .create_stakeholder(json!({
            "display_name": "Jane Doe",
            "email": "jane.doe@example.com",
            "phone": "+6281234567890",
            "partner_id": PARTNER_A.to_string(),
            "income_band": "high",
            "sensitive": {"health_notes": "asthma", "beliefs": "private"},
            "consents": {"sensitive_data": true},
            "address": {"line1": "Jl. Merdeka 1", "line2": "Blok B", "city": "Bandung",
                        "region": "Jawa Barat", "postal_code": "40111", "country": "ID"}
        }))
        .await;
    let id = created["id"].as_str().unwrap();
    let full_address = json!({"line1": "Jl. Merdeka 1", "line2": "Blok B", "city": "Bandung",
                              "region": "Jawa Barat", "postal_code": "40111", "country": "ID"});
    let sensitive = json!({"health_notes": "asthma", "beliefs": "private", "other": null});

    for role in Role::ALL {
        let one = assert_ok(app.get(&format!("{LIST}/{id}"), role).send().await.unwrap(), role.as_str()).await;
        let list = assert_ok(app.get(LIST, role).send().await.unwrap(), role.as_str()).await;
        let listed = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{role}: not listed: {list}"))
            .clone();

        for (view, s) in [("get", &one), ("list", &listed)] {
            let what = format!("{role} {view}");
            assert_eq!(s["display_name"], "Jane Doe", "{what}");
            assert_eq!(s["consents"]["sensitive_data"], true, "{what}");
            match role {
                Role::Admin | Role::Manager => {
                    assert_eq!(s["sensitive"], sensitive, "{what}: {s}");
                    assert_eq!(s["income_band"], "high", "{what}: {s}");
                }
                _ => {
                    assert_eq!(s["sensitive"], Value::Null, "{what}: {s}");
                    assert_eq!(s["income_band"], Value::Null, "{what}: {s}");
                }
            }
            if role == Role::Analyst {
                assert_eq!(s["email"], "j***@example.com", "{what}: {s}");
                assert_eq!(s["phone"], "************90", "{what}: {s}");
                let address = &s["address"];
                assert_eq!(address["line1"], Value::Null, "{what}: {s}");
                assert_eq!(address["line2"], Value::Null, "{what}: {s}");
                assert_eq!(address["postal_code"], Value::Null, "{what}: {s}");
                assert_eq!(address["city"], "Bandung", "{what}: {s}");
                assert_eq!(address["region"], "Jawa Barat", "{what}: {s}");
                assert_eq!(address["country"], "ID", "{what}: {s}");
                // The secret values appear nowhere in the document.
                let text = s.to_string();
                for leaked in ["jane.doe", "12345678", "Merdeka", "40111", "asthma", "high"] {
                    assert!(!text.contains(leaked), "{what}: {leaked} leaked in {text}");
                }
            } else {
                assert_eq!(s["email"], "jane.doe@example.com", "{what}: {s}");
                assert_eq!(s["phone"], "+6281234567890", "{what}: {s}");
                assert_eq!(s["address"], full_address, "{what}: {s}");
            }
            if role == Role::Agent || role == Role::Partner {
                let text = s.to_string();
                assert!(!text.contains("asthma"), "{what}: {text}");
                assert!(!text.contains("private"), "{what}: {text}");
            }
        }
    }
});

api_test!(audience_arrays_and_empty_subjects, |app| {
    let app2 = TestApp::spawn_with(app.backend, &[("CRM_JWT_AUDIENCE", "crm-api")]).await;
    let mut c = claims(Role::Admin, "admin-user");
    c.aud = Some(Audience::Many(vec!["other".into(), "crm-api".into()]));
    assert_ok(list_with_token(&app2, &sign(c.clone())).await, "aud array containing ours").await;
    c.aud = Some(Audience::Many(vec!["other".into()]));
    assert_unauthorized(list_with_token(&app2, &sign(c)).await, "aud array without ours").await;
    // Without a configured audience, an array aud is simply accepted.
    let mut c = claims(Role::Admin, "admin-user");
    c.aud = Some(Audience::Many(vec!["a".into(), "b".into()]));
    assert_ok(list_with_token(&app, &sign(c)).await, "aud array, none configured").await;
    // Every action is attributed to sub: an empty one is refused.
    assert_unauthorized(list_with_token(&app, &sign(claims(Role::Admin, ""))).await, "empty sub").await;
    assert_unauthorized(list_with_token(&app, &sign(claims(Role::Admin, "   "))).await, "blank sub").await;
});
