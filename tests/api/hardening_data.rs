//! Data hardening (issue 9, items 5, 10, 13 and 14 in part):
//! - links from interactions to offers and complaints are foreign keys: a
//!   draft deleted while interactions are being linked to it ends with the
//!   delete refused (409) or the link refused (422 on `offer_id`), never both;
//! - leap seconds (`…:60Z`) read back as the next second on both backends,
//!   and the year range is checked after that normalisation;
//! - a severity change recomputes `due_at` only while the complaint is
//!   unresolved and not yet due: a breach cannot be edited away;
//! - names need a visible character and no control characters; an
//!   `organization_id` chain cannot loop.
//!
//! The search-plan fix of item 4 is proved by `bench/search_plan.sh` (see
//! BENCHMARKS.md): which plan a server connection uses cannot be observed
//! from outside it.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_test;
use crate::helpers::*;

const INTERACTIONS: &str = "/api/v1/interactions";
const OFFERS: &str = "/api/v1/offers";
const COMPLAINTS: &str = "/api/v1/complaints";
const STAKEHOLDERS: &str = "/api/v1/stakeholders";

fn at(base: &str, id: &Value) -> String {
    format!("{base}/{}", id.as_str().expect("id is a string"))
}

/// The `code` of `field` in a 422.
fn code_of(problem: &Value, field: &str) -> Option<String> {
    problem["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["code"].as_str().map(str::to_owned))
}

async fn created(res: reqwest::Response, what: &str) -> Value {
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{what}: {body}");
    body
}

async fn ok(res: reqwest::Response, what: &str) -> Value {
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    body
}

async fn get(app: &TestApp, path: &str) -> Value {
    ok(app.get(path, Role::Admin).send().await.unwrap(), path).await
}

async fn stakeholder(app: &TestApp) -> Value {
    app.create_stakeholder(json!({})).await["id"].clone()
}

async fn organization(app: &TestApp, name: &str) -> Value {
    app.create_stakeholder(json!({"kind": "partner", "entity_type": "organization", "display_name": name})).await["id"]
        .clone()
}

async fn offer(app: &TestApp, sid: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": sid, "title": "Gold membership",
                          "price": {"amount_minor": 1_500_000, "currency": "IDR"}});
    merge(&mut body, extra);
    created(app.post(OFFERS, Role::Admin, &body).send().await.unwrap(), "create offer").await
}

async fn complaint(app: &TestApp, sid: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": sid, "subject": "Parcel arrived damaged",
                          "description": "The box was crushed.", "category": "delivery", "severity": "high"});
    merge(&mut body, extra);
    created(app.post(COMPLAINTS, Role::Admin, &body).send().await.unwrap(), "create complaint").await
}

fn interaction_body(sid: &Value, extra: Value) -> Value {
    let mut body = json!({"stakeholder_id": sid, "channel": "phone", "direction": "outbound", "type": "contact"});
    merge(&mut body, extra);
    body
}

fn merge(body: &mut Value, extra: Value) {
    let b = body.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra must be an object") {
        b.insert(k.clone(), v.clone());
    }
}

async fn act(app: &TestApp, id: &Value, action: &str, body: Option<Value>) -> Value {
    let url = format!("{}/{action}", at(COMPLAINTS, id));
    let req = app.req(Method::POST, &url, Role::Admin);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    ok(req.send().await.unwrap(), action).await
}

// ------------------------------------------------------------------ item 5: links are foreign keys

/// A second connection to the app's database, outside the app.
enum Raw {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl Raw {
    fn open(app: &TestApp) -> Self {
        match app.backend {
            Backend::Postgres => Raw::Pg(PgConnection::establish(&app.database_url).expect("raw pg")),
            Backend::Sqlite => {
                let path = app.database_url.strip_prefix("sqlite://").expect("sqlite url");
                let mut c = SqliteConnection::establish(path).expect("raw sqlite");
                diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut c).unwrap();
                diesel::sql_query("PRAGMA foreign_keys = ON").execute(&mut c).unwrap();
                Raw::Sqlite(c)
            }
        }
    }

    fn exec(&mut self, sql: &str) -> diesel::QueryResult<usize> {
        match self {
            Raw::Pg(c) => diesel::sql_query(sql).execute(c),
            Raw::Sqlite(c) => diesel::sql_query(sql).execute(c),
        }
    }

    fn begin(&mut self) {
        let sql = match self {
            Raw::Pg(_) => "BEGIN",
            Raw::Sqlite(_) => "BEGIN IMMEDIATE",
        };
        self.exec(sql).unwrap();
    }
}

/// On PostgreSQL: waits until some backend of the app is blocked on a lock
/// (the request under test has reached its write and waits for our
/// transaction). On SQLite the app waits on the write lock anyway.
async fn until_blocked(app: &TestApp) {
    if app.backend != Backend::Postgres {
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        return;
    }
    let db = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let url = app.database_url.clone();
    for _ in 0..100 {
        let (url, db) = (url.clone(), db.clone());
        let blocked = tokio::task::spawn_blocking(move || {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut c = PgConnection::establish(&url).unwrap();
            let q = format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{db}' AND wait_event_type = 'Lock'"
            );
            diesel::sql_query(q).get_result::<N>(&mut c).unwrap().n
        })
        .await
        .unwrap();
        if blocked > 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("the request never waited for the concurrent transaction");
}

fn quoted(v: &Value) -> String {
    format!("'{}'", v.as_str().unwrap())
}

api_test!(linking_to_an_offer_deleted_concurrently_is_422_on_offer_id, |app| {
    let sid = stakeholder(&app).await;
    let draft = offer(&app, &sid, json!({})).await;
    // Another transaction deletes the draft and has not committed yet: the
    // app still sees the offer, so only the database can refuse the link.
    let mut raw = Raw::open(&app);
    raw.begin();
    assert_eq!(raw.exec(&format!("DELETE FROM offers WHERE id = {}", quoted(&draft["id"]))).unwrap(), 1);
    let body = interaction_body(&sid, json!({"offer_id": draft["id"]}));
    let link = tokio::spawn({
        let (client, url, token) = (app.client.clone(), app.url(INTERACTIONS), crate::helpers::token(Role::Agent));
        async move { client.post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    });
    until_blocked(&app).await;
    raw.exec("COMMIT").unwrap();
    let p = assert_problem(link.await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["offer_id"], "{p}");
    assert_eq!(code_of(&p, "offer_id").as_deref(), Some("reference"), "{p}");
    let list = get(&app, INTERACTIONS).await;
    assert_eq!(list["data"], json!([]), "no interaction points at the deleted offer");
});

api_test!(linking_a_patch_to_an_offer_deleted_concurrently_is_422_on_offer_id, |app| {
    let sid = stakeholder(&app).await;
    let draft = offer(&app, &sid, json!({})).await;
    let i = created(app.post(INTERACTIONS, Role::Agent, &interaction_body(&sid, json!({}))).send().await.unwrap(), "i")
        .await;
    let mut raw = Raw::open(&app);
    raw.begin();
    raw.exec(&format!("DELETE FROM offers WHERE id = {}", quoted(&draft["id"]))).unwrap();
    let patch = tokio::spawn({
        let (client, url, token) =
            (app.client.clone(), app.url(&at(INTERACTIONS, &i["id"])), crate::helpers::token(Role::Agent));
        let body = json!({"offer_id": draft["id"]});
        async move { client.patch(url).bearer_auth(token).json(&body).send().await.unwrap() }
    });
    until_blocked(&app).await;
    raw.exec("COMMIT").unwrap();
    let p = assert_problem(patch.await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["offer_id"], "{p}");
    assert_eq!(get(&app, &at(INTERACTIONS, &i["id"])).await["offer_id"], Value::Null);
});

api_test!(deleting_an_offer_linked_concurrently_is_409, |app| {
    let sid = stakeholder(&app).await;
    let draft = offer(&app, &sid, json!({})).await;
    // Another transaction links an interaction to the draft, not yet committed.
    let mut raw = Raw::open(&app);
    raw.begin();
    let now = "2026-01-01T00:00:00.000000Z";
    let insert = format!(
        "INSERT INTO interactions (id, stakeholder_id, channel, direction, interaction_type, occurred_at, offer_id, \
         recorded_by, version, created_at, updated_at) VALUES ('{}', {}, 'phone', 'outbound', 'contact', '{now}', {}, \
         'raw', 1, '{now}', '{now}')",
        Uuid::now_v7(),
        quoted(&sid),
        quoted(&draft["id"])
    );
    raw.exec(&insert).unwrap();
    let delete = tokio::spawn({
        let (client, url, token) =
            (app.client.clone(), app.url(&at(OFFERS, &draft["id"])), crate::helpers::token(Role::Admin));
        async move { client.delete(url).bearer_auth(token).send().await.unwrap() }
    });
    until_blocked(&app).await;
    raw.exec("COMMIT").unwrap();
    let p = assert_problem(delete.await.unwrap(), 409).await;
    assert!(p["detail"].as_str().unwrap().contains("interaction"), "{p}");
    assert_eq!(get(&app, &at(OFFERS, &draft["id"])).await["status"], "draft");
});

api_test!(the_database_refuses_dangling_links, |app| {
    // Whatever the app checks, the schema itself holds the links.
    let sid = stakeholder(&app).await;
    let mut raw = Raw::open(&app);
    for column in ["offer_id", "complaint_id"] {
        let now = "2026-01-01T00:00:00.000000Z";
        let insert = format!(
            "INSERT INTO interactions (id, stakeholder_id, channel, direction, interaction_type, occurred_at, \
             {column}, recorded_by, version, created_at, updated_at) VALUES ('{}', {}, 'phone', 'outbound', \
             'contact', '{now}', '{}', 'raw', 1, '{now}', '{now}')",
            Uuid::now_v7(),
            quoted(&sid),
            Uuid::now_v7()
        );
        let err = raw.exec(&insert).expect_err(column);
        assert!(
            matches!(
                err,
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ForeignKeyViolation, _)
            ),
            "{column}: {err:?}"
        );
    }
    // The SQLite table rebuild kept every index.
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let sql = match app.backend {
        Backend::Postgres => "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'interactions' ORDER BY 1",
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'interactions' \
             AND name NOT LIKE 'sqlite_autoindex%' ORDER BY 1"
        }
    };
    let names: Vec<String> = match &mut raw {
        Raw::Pg(c) => diesel::sql_query(sql).load::<Name>(c),
        Raw::Sqlite(c) => diesel::sql_query(sql).load::<Name>(c),
    }
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .filter(|n| n != "interactions_pkey")
    .collect();
    let expected = [
        "analytics",
        "channel",
        "complaint",
        "created",
        "direction",
        "occurred",
        "offer",
        "stakeholder",
        "type",
        "updated",
    ];
    assert_eq!(names, expected.map(|n| format!("interactions_{n}_idx")).to_vec());
});

api_test!(delete_vs_concurrent_links_never_both_succeed, |app| {
    for round in 0..4 {
        let sid = stakeholder(&app).await;
        let draft = offer(&app, &sid, json!({})).await;
        let complaint = complaint(&app, &sid, json!({})).await;
        let mut links = Vec::new();
        for n in 0..20 {
            let body = interaction_body(&sid, json!({"offer_id": draft["id"], "complaint_id": complaint["id"]}));
            let (client, url, token) = (app.client.clone(), app.url(INTERACTIONS), crate::helpers::token(Role::Agent));
            links.push(tokio::spawn(async move {
                if n % 2 == 1 {
                    tokio::time::sleep(StdDuration::from_millis(2)).await;
                }
                let res = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let (status, _, body) = parts(res).await;
                (status, body)
            }));
            if n == 10 {
                tokio::task::yield_now().await;
            }
        }
        let delete = app.delete(&at(OFFERS, &draft["id"]), Role::Admin).send().await.unwrap();
        let (delete_status, _, delete_body) = parts(delete).await;
        let mut linked = 0;
        for l in links {
            let (status, body) = l.await.unwrap();
            match status.as_u16() {
                201 => linked += 1,
                422 => {
                    assert_eq!(error_fields(&body), vec!["offer_id"], "round {round}: {body}");
                }
                other => panic!("round {round}: link answered {other}: {body}"),
            }
        }
        match delete_status.as_u16() {
            204 | 200 => {
                assert_eq!(linked, 0, "round {round}: the offer was deleted yet {linked} interactions link to it");
                assert_problem(app.get(&at(OFFERS, &draft["id"]), Role::Admin).send().await.unwrap(), 404).await;
            }
            409 => assert_eq!(get(&app, &at(OFFERS, &draft["id"])).await["status"], "draft"),
            other => panic!("round {round}: delete answered {other}: {delete_body}"),
        }
        // Every stored link points at an existing offer.
        let list = get(&app, &format!("{STAKEHOLDERS}/{}/interactions?limit=200", sid.as_str().unwrap())).await;
        let stored = list["data"].as_array().unwrap();
        assert_eq!(stored.len(), linked, "round {round}");
        if !stored.is_empty() {
            get(&app, &at(OFFERS, &draft["id"])).await;
        }
    }
});

// ------------------------------------------------------------------ item 10: leap seconds

api_test!(a_leap_second_in_a_body_reads_back_as_the_next_second, |app| {
    let sid = stakeholder(&app).await;
    let i = created(
        app.post(INTERACTIONS, Role::Agent, &interaction_body(&sid, json!({"occurred_at": "2016-12-31T23:59:60Z"})))
            .send()
            .await
            .unwrap(),
        "interaction",
    )
    .await;
    assert_eq!(parse_ts(&i["occurred_at"]), instant("2017-01-01T00:00:00Z"), "{i}");
    assert_eq!(i["occurred_at"], get(&app, &at(INTERACTIONS, &i["id"])).await["occurred_at"]);

    let o =
        offer(&app, &sid, json!({"valid_from": "2030-06-30T23:59:60.250Z", "valid_until": "2030-07-01T00:00:00.500Z"}))
            .await;
    assert_eq!(parse_ts(&o["valid_from"]), instant("2030-07-01T00:00:00.250Z"), "{o}");
    let read = get(&app, &at(OFFERS, &o["id"])).await;
    assert_eq!(read["valid_from"], o["valid_from"]);
    // The cross-field rule compares normalised instants: these two are equal.
    let res = app
        .post(
            OFFERS,
            Role::Admin,
            &json!({"stakeholder_id": sid, "title": "T", "price": {"amount_minor": 1, "currency": "IDR"},
                    "valid_from": "2030-07-01T00:00:00.500Z", "valid_until": "2030-06-30T23:59:60.500Z"}),
        )
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422).await;
    assert_eq!(error_fields(&p), vec!["valid_until"], "equal once normalised: {p}");

    // PATCH with the same leap second changes nothing.
    let res = app.patch(&at(INTERACTIONS, &i["id"]), Role::Agent, &json!({"occurred_at": "2016-12-31T23:59:60Z"}));
    let patched = ok(res.send().await.unwrap(), "patch").await;
    assert_eq!(patched["version"], 1, "{patched}");
});

api_test!(a_leap_second_in_a_query_means_the_next_second, |app| {
    let sid = stakeholder(&app).await;
    let mut ids = Vec::new();
    for t in ["2016-12-31T23:59:59.999999Z", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000001Z"] {
        let body = interaction_body(&sid, json!({"occurred_at": t}));
        ids.push(created(app.post(INTERACTIONS, Role::Agent, &body).send().await.unwrap(), t).await["id"].clone());
    }
    let found = |q: &'static str| {
        let app = &app;
        async move {
            let res = app.get(&format!("{INTERACTIONS}?{q}&sort=occurred_at"), Role::Admin).send().await.unwrap();
            let body = ok(res, q).await;
            body["data"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>()
        }
    };
    // Half-open windows: [after, before).
    assert_eq!(found("occurred_before=2016-12-31T23:59:60Z").await, vec![ids[0].clone()]);
    assert_eq!(found("occurred_before=2017-01-01T00:00:00Z").await, vec![ids[0].clone()]);
    assert_eq!(found("occurred_after=2016-12-31T23:59:60Z").await, vec![ids[1].clone(), ids[2].clone()]);
    assert_eq!(found("occurred_after=2017-01-01T00:00:00Z").await, vec![ids[1].clone(), ids[2].clone()]);
});

api_test!(the_year_range_is_checked_after_normalising_a_leap_second, |app| {
    let sid = stakeholder(&app).await;
    let body = json!({"stakeholder_id": sid, "title": "T", "price": {"amount_minor": 1, "currency": "IDR"},
                      "valid_until": "9999-12-31T23:59:60.999999Z"});
    let p = assert_problem(app.post(OFFERS, Role::Admin, &body).send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["valid_until"], "{p}");
    assert_eq!(code_of(&p, "valid_until").as_deref(), Some("range"), "{p}");
    // The last storable instant is fine.
    let o = offer(&app, &sid, json!({"valid_until": "9999-12-31T23:59:59.999999Z"})).await;
    assert_eq!(parse_ts(&o["valid_until"]), instant("9999-12-31T23:59:59.999999Z"));
    let res = app.patch(&at(OFFERS, &o["id"]), Role::Admin, &json!({"valid_until": "9999-12-31T23:59:60Z"}));
    let p = assert_problem(res.send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["valid_until"], "{p}");

    for (path, name) in [
        (OFFERS, "valid_at"),
        (INTERACTIONS, "occurred_after"),
        (COMPLAINTS, "opened_before"),
        (STAKEHOLDERS, "updated_since"),
    ] {
        // As a filter bound it is the last storable instant (nothing lies beyond).
        for t in ["9999-12-31T23:59:60.999999Z", "9999-12-31T23:59:60Z", "9999-12-31T20:00:00-05:00"] {
            let res = app.get(path, Role::Admin).query(&[(name, t)]).send().await.unwrap();
            assert_eq!(res.status(), 200, "{name}={t}");
        }
        let res = app.get(path, Role::Admin).query(&[(name, "0001-01-01T00:38:01+22:29")]).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name} a day before year 1");
    }
});

// ------------------------------------------------------------------ item 13: SLA breaches are frozen

api_test!(a_late_resolved_complaint_keeps_its_breach_when_severity_is_lowered, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_SLA_CRITICAL", "1s")]).await;
    let sid = stakeholder(&app).await;
    let c = complaint(&app, &sid, json!({"severity": "critical"})).await;
    act(&app, &c["id"], "start", None).await;
    let wait = (parse_ts(&c["due_at"]) - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(200);
    tokio::time::sleep(wait).await;
    let resolved = act(&app, &c["id"], "resolve", Some(json!({"resolution": "Refunded"}))).await;
    assert_eq!(resolved["sla_breached"], true, "{resolved}");

    let res = app.patch(&at(COMPLAINTS, &c["id"]), Role::Agent, &json!({"severity": "low"})).send().await.unwrap();
    let got = ok(res, "patch severity").await;
    assert_eq!(got["severity"], "low");
    assert_eq!(got["version"], resolved["version"].as_i64().unwrap() + 1, "the change itself is recorded");
    assert_eq!(got["due_at"], c["due_at"], "due_at is frozen");
    assert_eq!(got["sla_breached"], true, "{got}");
    let read = get(&app, &at(COMPLAINTS, &c["id"])).await;
    assert_eq!(read["due_at"], c["due_at"]);
    assert_eq!(read["sla_breached"], true);
    let breached = get(&app, &format!("{COMPLAINTS}?sla_breached=true")).await;
    assert_eq!(breached["data"][0]["id"], c["id"]);

    // Closed is not editable at all; reopened it is unresolved but past due: still frozen.
    act(&app, &c["id"], "close", None).await;
    act(&app, &c["id"], "reopen", None).await;
    let res = app.patch(&at(COMPLAINTS, &c["id"]), Role::Agent, &json!({"severity": "medium"})).send().await.unwrap();
    let got = ok(res, "patch after reopen").await;
    assert_eq!(got["due_at"], c["due_at"]);
    assert_eq!(got["sla_breached"], true);
});

api_test!(an_overdue_open_complaint_keeps_its_due_at, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_SLA_CRITICAL", "1s")]).await;
    let sid = stakeholder(&app).await;
    let c = complaint(&app, &sid, json!({"severity": "critical"})).await;
    let wait = (parse_ts(&c["due_at"]) - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(200);
    tokio::time::sleep(wait).await;
    let res = app.patch(&at(COMPLAINTS, &c["id"]), Role::Agent, &json!({"severity": "low"})).send().await.unwrap();
    let got = ok(res, "patch").await;
    assert_eq!(got["due_at"], c["due_at"]);
    assert_eq!(got["sla_breached"], true);
});

api_test!(an_unresolved_complaint_not_yet_due_gets_a_new_due_at, |app| {
    let sid = stakeholder(&app).await;
    for status_steps in [&[][..], &["acknowledge"][..], &["start"][..]] {
        let c = complaint(&app, &sid, json!({"severity": "high"})).await;
        for step in status_steps {
            act(&app, &c["id"], step, None).await;
        }
        let res = app.patch(&at(COMPLAINTS, &c["id"]), Role::Agent, &json!({"severity": "low"})).send().await.unwrap();
        let got = ok(res, "patch").await;
        assert_eq!(parse_ts(&got["due_at"]) - parse_ts(&got["created_at"]), Duration::days(7), "{got}");
        assert_eq!(got["sla_breached"], false);
    }
    // Resolved in time: frozen as well (resolved is not "unresolved").
    let c = complaint(&app, &sid, json!({"severity": "high"})).await;
    act(&app, &c["id"], "start", None).await;
    act(&app, &c["id"], "resolve", Some(json!({"resolution": "Fixed"}))).await;
    let res = app.patch(&at(COMPLAINTS, &c["id"]), Role::Agent, &json!({"severity": "critical"})).send().await.unwrap();
    let got = ok(res, "patch resolved").await;
    assert_eq!(got["severity"], "critical");
    assert_eq!(got["due_at"], c["due_at"]);
});

// ------------------------------------------------------------------ item 14: names and organisation cycles

const BLANK: [&str; 6] = [" ", "\u{3000}\u{00a0}", "\u{200b}", "\u{feff}\u{2060}", "\u{3164}", "\u{115f}\u{200d}"];
const CONTROL: [&str; 5] = ["Siti\nRahayu", "Tab\there", "Bell\u{7}", "C1\u{85}", "\u{1b}[31mred"];

api_test!(names_need_a_visible_character_and_no_control_characters, |app| {
    let sid = stakeholder(&app).await;
    let o = offer(&app, &sid, json!({})).await;
    let c = complaint(&app, &sid, json!({})).await;
    let i = created(app.post(INTERACTIONS, Role::Agent, &interaction_body(&sid, json!({}))).send().await.unwrap(), "i")
        .await;
    // (collection, field, the rest of a valid body, an existing record, whether the name is required)
    let targets = [
        (STAKEHOLDERS, "display_name", json!({"kind": "customer", "entity_type": "person"}), sid.clone(), true),
        (
            OFFERS,
            "title",
            json!({"stakeholder_id": sid, "price": {"amount_minor": 1, "currency": "IDR"}}),
            o["id"].clone(),
            true,
        ),
        (
            COMPLAINTS,
            "subject",
            json!({"stakeholder_id": sid, "description": "d", "category": "other", "severity": "low"}),
            c["id"].clone(),
            true,
        ),
        // An interaction's subject is optional (may be empty) but is still free of control characters.
        (INTERACTIONS, "subject", interaction_body(&sid, json!({})), i["id"].clone(), false),
    ];
    for (base, field, body, id, required) in &targets {
        let rules: &[(&[&str], &str)] = if *required {
            &[(&BLANK, "blank"), (&CONTROL, "control_characters")]
        } else {
            &[(&CONTROL, "control_characters")]
        };
        for (values, code) in rules {
            for v in values.iter() {
                let mut create = body.clone();
                create[*field] = json!(v);
                let p = assert_problem(app.post(base, Role::Admin, &create).send().await.unwrap(), 422).await;
                assert_eq!(code_of(&p, field).as_deref(), Some(*code), "POST {base} {field}={v:?}: {p}");
                let res = app.patch(&at(base, id), Role::Admin, &json!({ *field: v })).send().await.unwrap();
                let p = assert_problem(res, 422).await;
                assert_eq!(code_of(&p, field).as_deref(), Some(*code), "PATCH {base} {field}={v:?}: {p}");
            }
        }
        // Printable names from any script are fine, including inner spaces and emoji.
        for v in ["Siti Rahayu", "Zoë Ødegård", "山田 太郎", "😀", "Ā\u{0301}"] {
            let res = app.patch(&at(base, id), Role::Admin, &json!({ *field: v })).send().await.unwrap();
            assert_eq!(ok(res, v).await[*field], *v);
        }
    }
    // Every invalid field at once.
    let body = json!({"kind": "customer", "entity_type": "person", "display_name": "a\u{0}b\n",
                      "email": "not-an-email", "household_size": 0});
    let p = assert_problem(app.post(STAKEHOLDERS, Role::Admin, &body).send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["display_name"], "NUL is reported alone, as before: {p}");
    let body = json!({"kind": "customer", "entity_type": "person", "display_name": "a\nb",
                      "email": "not-an-email", "household_size": 0});
    let p = assert_problem(app.post(STAKEHOLDERS, Role::Admin, &body).send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["display_name", "email", "household_size"], "{p}");
});

api_test!(organization_cycles_are_422, |app| {
    let a = organization(&app, "A").await;
    let b = organization(&app, "B").await;
    let c = organization(&app, "C").await;
    let patch_org = |id: Value, org: Value| {
        let app = &app;
        async move { app.patch(&at(STAKEHOLDERS, &id), Role::Admin, &json!({"organization_id": org})).send().await.unwrap() }
    };
    // Self.
    let p = assert_problem(patch_org(a.clone(), a.clone()).await, 422).await;
    assert_eq!(code_of(&p, "organization_id").as_deref(), Some("cycle"), "{p}");
    // Two.
    ok(patch_org(a.clone(), b.clone()).await, "A -> B").await;
    let p = assert_problem(patch_org(b.clone(), a.clone()).await, 422).await;
    assert_eq!(code_of(&p, "organization_id").as_deref(), Some("cycle"), "{p}");
    // Three: A -> B -> C, then C -> A.
    ok(patch_org(b.clone(), c.clone()).await, "B -> C").await;
    let p = assert_problem(patch_org(c.clone(), a.clone()).await, 422).await;
    assert_eq!(code_of(&p, "organization_id").as_deref(), Some("cycle"), "{p}");
    assert_eq!(get(&app, &at(STAKEHOLDERS, &c)).await["organization_id"], Value::Null);
    // A chain that does not loop is fine; so is re-pointing the head.
    let d = organization(&app, "D").await;
    ok(patch_org(c.clone(), d.clone()).await, "C -> D").await;
    ok(patch_org(a.clone(), d.clone()).await, "A -> D").await;
    ok(patch_org(b.clone(), a.clone()).await, "B -> A (A no longer reaches B)").await;
    // Every invalid field at once, with the cycle among them.
    let res = app
        .patch(
            &at(STAKEHOLDERS, &d),
            Role::Admin,
            &json!({"organization_id": b, "display_name": " ", "segment": "x".repeat(51)}),
        )
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422).await;
    assert_eq!(error_fields(&p), vec!["display_name", "organization_id", "segment"], "{p}");
    assert_eq!(code_of(&p, "organization_id").as_deref(), Some("cycle"), "{p}");
    // On create, a bad reference is reported together with the other fields too.
    let body = json!({"kind": "customer", "entity_type": "person", "display_name": "\t",
                      "organization_id": Uuid::now_v7()});
    let p = assert_problem(app.post(STAKEHOLDERS, Role::Admin, &body).send().await.unwrap(), 422).await;
    assert_eq!(error_fields(&p), vec!["display_name", "organization_id"], "{p}");
});
