//! The service as real and hostile clients meet it: compressed responses,
//! the published enums, made-up methods, saturated pools, lost connections,
//! races, slow bodies, shared caches and stricter input.

use std::io::Read;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api_test;
use crate::helpers::*;

/// A client that does not decode bodies, so the test sees the bytes on the wire.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().unwrap()
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap(),
        // HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2).
        "deflate" => flate2::read::ZlibDecoder::new(bytes).read_to_end(&mut out).unwrap(),
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap(),
        other => panic!("unexpected encoding {other}"),
    };
    out
}

/// Sends `req` accepting only `encoding`; returns status, content type and the decoded JSON.
async fn fetch_encoded(req: reqwest::RequestBuilder, encoding: &str) -> (u16, String, Value) {
    let res = req.header("Accept-Encoding", encoding).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let ce = res.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.bytes().await.unwrap();
    assert_eq!(ce.as_deref(), Some(encoding), "status {status}: the body must be {encoding}-encoded");
    let body: Value = serde_json::from_slice(&decode(encoding, &bytes))
        .unwrap_or_else(|e| panic!("status {status}: {encoding} body does not decode to JSON: {e}"));
    (status, ct, body)
}

api_test!(success_and_error_bodies_decode_for_every_encoding, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let id = s["id"].as_str().unwrap();
    let raw = raw_client();
    for enc in ["gzip", "deflate", "br"] {
        let url = |p: &str| app.url(p);
        let (st, ct, body) =
            fetch_encoded(raw.get(url(&format!("/api/v1/stakeholders/{id}"))).bearer_auth(token(Role::Admin)), enc)
                .await;
        assert_eq!((st, ct.as_str()), (200, "application/json"));
        assert_eq!(body["id"], id);
        let (st, _, body) =
            fetch_encoded(raw.get(url("/api/v1/stakeholders")).bearer_auth(token(Role::Agent)), enc).await;
        assert_eq!(st, 200);
        assert!(body["data"].is_array());

        let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
            (raw.get(url("/api/v1/stakeholders")), 401),
            (raw.post(url("/api/v1/stakeholders")).bearer_auth(token(Role::Analyst)).json(&minimal_stakeholder()), 403),
            (
                raw.get(url(&format!("/api/v1/stakeholders/{}", uuid::Uuid::now_v7()))).bearer_auth(token(Role::Admin)),
                404,
            ),
            (raw.put(url("/api/v1/stakeholders")).bearer_auth(token(Role::Admin)), 405),
            (raw.post(url(&format!("/api/v1/stakeholders/{id}/restore"))).bearer_auth(token(Role::Admin)), 409),
            (
                raw.patch(url(&format!("/api/v1/stakeholders/{id}")))
                    .bearer_auth(token(Role::Admin))
                    .header("If-Match", "\"99\"")
                    .json(&json!({"segment": "x"})),
                412,
            ),
            (
                raw.post(url("/api/v1/stakeholders"))
                    .bearer_auth(token(Role::Admin))
                    .header("Content-Type", "text/plain")
                    .body("x"),
                415,
            ),
            (raw.post(url("/api/v1/stakeholders")).bearer_auth(token(Role::Admin)).json(&json!({"kind": "nope"})), 422),
            (raw.get(url("/api/v1/stakeholders?limit=0")).bearer_auth(token(Role::Admin)), 400),
        ];
        for (req, expected) in cases {
            let (st, ct, body) = fetch_encoded(req, enc).await;
            assert_eq!(st, expected, "{enc}: {body}");
            assert_eq!(ct, "application/problem+json", "{enc} {expected}");
            assert_eq!(body["status"], expected, "{enc}: {body}");
            assert!(body["request_id"].is_string() && body["instance"].is_string(), "{enc}: {body}");
        }
    }
});

// Every enum in the published document is exactly the set of values the
// server takes: each listed value filters (200), an unlisted one is refused.
api_test!(published_enums_are_the_wire_values, |app| {
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let enums: Vec<(&String, Vec<String>)> = schemas
        .iter()
        .filter_map(|(name, s)| {
            s["enum"].as_array().map(|v| (name, v.iter().map(|x| x.as_str().unwrap().to_owned()).collect()))
        })
        .collect();
    assert!(enums.len() >= 11, "{} enums", enums.len());
    let mut covered = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.contains('{') {
            continue;
        }
        let Some(params) = item["get"]["parameters"].as_array() else { continue };
        for p in params {
            let Some(r) = p["schema"]["$ref"].as_str() else { continue };
            let name = r.rsplit('/').next().unwrap();
            let Some((_, values)) = enums.iter().find(|(n, _)| *n == name) else { continue };
            let param = p["name"].as_str().unwrap();
            for v in values {
                let (st, _, body) =
                    parts(app.get(&format!("{path}?{param}={v}"), Role::Admin).send().await.unwrap()).await;
                assert_eq!(st, 200, "{path}?{param}={v}: {body}");
            }
            let rust_name = {
                let mut c = values[0].chars();
                c.next().unwrap().to_uppercase().collect::<String>() + c.as_str()
            };
            let res = app.get(&format!("{path}?{param}={rust_name}"), Role::Admin).send().await.unwrap();
            assert_problem(res, 400).await;
            covered.insert(name.to_owned());
        }
    }
    // The body-only enum: every income band is accepted on create and read back as sent.
    let (_, bands) = enums.iter().find(|(n, _)| n.as_str() == "IncomeBand").unwrap();
    for b in bands {
        let s = app.create_stakeholder(json!({"income_band": b})).await;
        assert_eq!(s["income_band"], json!(b));
    }
    covered.insert("IncomeBand".into());
    // ISO codes: every assigned country is taken, some currencies; lower case and unassigned codes are not.
    let sid = app.create_stakeholder(json!({})).await["id"].as_str().unwrap().to_owned();
    // Their shape is in the document (`^[A-Z]{2}$`, `^[A-Z]{3}$`); which codes are assigned is the server's list.
    let countries: Vec<String> = isocountry::CountryCode::iter().map(|c| c.alpha2().to_owned()).collect();
    assert!(countries.len() > 240);
    for c in countries.iter().chain(["zz".to_owned()].iter()) {
        let res = app
            .patch(&format!("/api/v1/stakeholders/{sid}"), Role::Admin, &json!({"address": {"country": c}}))
            .send()
            .await
            .unwrap();
        let expected = if c == "zz" { 422 } else { 200 };
        assert_eq!(res.status(), expected, "country {c}");
    }
    let currencies: Vec<String> = ["IDR", "EUR", "USD", "JPY", "XAU"].map(str::to_owned).to_vec();
    for c in currencies.iter().chain(["idr".to_owned(), "XYZ".to_owned()].iter()) {
        let body = json!({"stakeholder_id": sid, "channel": "web", "direction": "inbound", "type": "purchase",
                          "amount": {"amount_minor": 1, "currency": c}});
        let res = app.post("/api/v1/interactions", Role::Admin, &body).send().await.unwrap();
        let expected = if c == "idr" || c == "XYZ" { 422 } else { 201 };
        assert_eq!(res.status(), expected, "currency {c}");
    }
    // Consent vocabulary: every purpose filters the history and is recorded;
    // every basis is taken on a withdrawal; every source a client may send is taken.
    let consents = format!("/api/v1/stakeholders/{sid}/consents");
    let (_, purposes) = enums.iter().find(|(n, _)| n.as_str() == "Purpose").unwrap();
    for p in purposes {
        let res = app
            .get(&format!("/api/v1/stakeholders/{sid}/consent-history?consent={p}"), Role::Admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "consent={p}");
        let res = app
            .post(&consents, Role::Admin, &json!({"changes": [{"consent": p, "granted": true}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "grant {p}");
    }
    let (_, bases) = enums.iter().find(|(n, _)| n.as_str() == "LegalBasis").unwrap();
    for b in bases {
        let body = json!({"changes": [{"consent": "profiling", "granted": false, "legal_basis": b}]});
        assert_eq!(app.post(&consents, Role::Admin, &body).send().await.unwrap().status(), 200, "basis {b}");
    }
    let input_sources =
        doc["components"]["schemas"]["ConsentChangeInput"]["properties"]["source"]["enum"].as_array().unwrap();
    let (_, sources) = enums.iter().find(|(n, _)| n.as_str() == "ConsentSource").unwrap();
    for src in sources {
        let body = json!({"changes": [{"consent": "profiling", "granted": false, "source": src}]});
        let expected = if input_sources.contains(&json!(src)) { 200 } else { 422 };
        assert_eq!(app.post(&consents, Role::Admin, &body).send().await.unwrap().status(), expected, "source {src}");
    }
    covered.extend(["Purpose", "LegalBasis", "ConsentSource"].map(String::from));
    // Erasure reasons: each one erases.
    let (_, reasons) = enums.iter().find(|(n, _)| n.as_str() == "ErasureReason").unwrap();
    for r in reasons {
        let id = app.create_stakeholder(json!({})).await["id"].as_str().unwrap().to_owned();
        let res = app
            .post(&format!("/api/v1/stakeholders/{id}/erase"), Role::Admin, &json!({"reason": r}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "reason {r}");
    }
    covered.insert("ErasureReason".into());
    // Actions are paths, not values: their enums name the action segments.
    for (name, values) in &enums {
        if name.ends_with("Action") {
            let prefix = if name.starts_with("Offer") { "/api/v1/offers/{id}/" } else { "/api/v1/complaints/{id}/" };
            for v in values {
                assert!(doc["paths"].get(format!("{prefix}{v}")).is_some(), "{name}: no path {prefix}{v}");
            }
            covered.insert(name.to_string());
        }
    }
    // A relationship's direction is response-only: each value is what a stakeholder's list says.
    let (a, b) =
        (app.create_stakeholder(json!({})).await["id"].clone(), app.create_stakeholder(json!({})).await["id"].clone());
    let res = app.post("/api/v1/relationships", Role::Admin, &json!({"from_id": a, "to_id": b, "type": "other"}));
    assert_eq!(res.send().await.unwrap().status(), 201);
    let (_, directions) = enums.iter().find(|(n, _)| n.as_str() == "RelationshipDirection").unwrap();
    let mut seen = Vec::new();
    for end in [&a, &b] {
        let (_, _, page) = parts(
            app.get(&format!("/api/v1/stakeholders/{}/relationships", end.as_str().unwrap()), Role::Admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        seen.push(page["data"][0]["direction"].as_str().unwrap().to_owned());
    }
    assert_eq!(&seen, directions, "outgoing from `from_id`, incoming at `to_id`");
    covered.insert("RelationshipDirection".into());
    // A batch item's operation: created, then unchanged, then updated, through an upsert.
    let (_, operations) = enums.iter().find(|(n, _)| n.as_str() == "BatchOperation").unwrap();
    let mut seen = Vec::new();
    for name in ["Enum", "Enum", "Enum Changed"] {
        let body = json!({"inputs": [{"kind": "customer", "entity_type": "person", "display_name": name, "email": "enum@example.com"}]});
        let (status, _, res) =
            parts(app.post("/api/v1/stakeholders/batch/upsert", Role::Admin, &body).send().await.unwrap()).await;
        assert_eq!(status, 200, "{res}");
        seen.push(res["results"][0]["operation"].as_str().unwrap().to_owned());
    }
    let mut published = operations.clone();
    published.sort();
    seen.sort();
    assert_eq!(seen, published);
    covered.insert("BatchOperation".into());
    let all: std::collections::BTreeSet<String> = enums.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(covered, all, "every published enum is checked against the server");
});

api_test!(made_up_methods_do_not_grow_metrics, |app| {
    for i in 0..40 {
        let m = Method::from_bytes(format!("FAKE{i}").as_bytes()).unwrap();
        let res = app.client.request(m, app.url("/api/v1/stakeholders")).send().await.unwrap();
        assert!(res.status().is_client_error());
    }
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("FAKE"), "no invented label reaches /metrics");
    assert!(text.contains("method=\"other\""), "{text}");
    let _ = app.client.get(app.url("/no/such/route/12345")).send().await.unwrap();
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("12345") && text.contains("route=\"unmatched\""));
});

// An outside transaction holds the write lock; requests beyond the pool get
// 503 with `Retry-After` after the acquire timeout (PostgreSQL: the
// statement timeout cuts the blocked ones too), while health, readiness and
// metrics still answer. Then everything works again.
api_test!(a_saturated_pool_answers_503_and_health_stays_up, |app| {
    let app = TestApp::spawn_with(
        app.backend,
        &[("CRM_DB_POOL_SIZE", "2"), ("CRM_DB_ACQUIRE_TIMEOUT", "300ms"), ("CRM_DB_STATEMENT_TIMEOUT", "1s")],
    )
    .await;
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked) = std::sync::mpsc::channel::<()>();
    let url = app.database_url.clone();
    let backend = app.backend;
    let holder = std::thread::spawn(move || {
        let pool = crm_api::db::connect(&url, crm_api::db::PoolOptions::command(1)).unwrap();
        let mut c = pool.get().unwrap();
        let lock = match backend {
            Backend::Sqlite => "BEGIN EXCLUSIVE",
            Backend::Postgres => "BEGIN; LOCK TABLE stakeholders IN ACCESS EXCLUSIVE MODE",
        };
        c.batch_execute(lock).unwrap();
        locked_tx.send(()).unwrap();
        let _ = released.recv_timeout(Duration::from_secs(30));
        c.batch_execute(match backend {
            Backend::Sqlite => "COMMIT",
            Backend::Postgres => "ROLLBACK",
        })
        .unwrap();
    });
    locked.recv().unwrap();
    let writes: Vec<_> = (0..6)
        .map(|i| {
            let req = app.post(
                "/api/v1/stakeholders",
                Role::Admin,
                &json!({"kind": "customer", "entity_type": "person", "display_name": format!("W{i}")}),
            );
            tokio::spawn(async move { req.timeout(Duration::from_secs(20)).send().await.unwrap() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in ["/health/live", "/health/ready", "/metrics"] {
        let res = app.client.get(app.url(path)).timeout(Duration::from_secs(5)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path} while the pool is saturated");
    }
    let mut unavailable = 0;
    for w in writes {
        let res = w.await.unwrap();
        if res.status() == 503 {
            assert_eq!(res.headers().get("retry-after").unwrap(), "1");
            let body = assert_problem(res, 503).await;
            assert!(!body["detail"].as_str().unwrap().contains("lock"), "{body}");
            unavailable += 1;
        } else {
            // Only the ones that held a connection can finish, once the lock goes (SQLite's busy wait).
            assert_eq!(res.status(), 201);
        }
    }
    assert!(unavailable >= 4, "at least the requests beyond the pool of 2 are 503, got {unavailable}");
    release.send(()).unwrap();
    holder.join().unwrap();
    let res = app.post("/api/v1/stakeholders", Role::Admin, &minimal_stakeholder()).send().await.unwrap();
    assert_eq!(res.status(), 201);
});

/// PostgreSQL only: backends terminated under the pool. Each dead connection
/// fails one request with 503 (never 500) and leaves the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_connections_are_503_and_leave_the_pool() {
    let Some(base) = postgres_url_or_skip(module_path!(), "lost_connections_are_503_and_leave_the_pool") else {
        return;
    };
    let app = TestApp::spawn(Backend::Postgres).await;
    let s = app.create_stakeholder(json!({})).await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    // Warm every pooled connection.
    let warm: Vec<_> = (0..8).map(|_| app.get(&path, Role::Admin).send()).collect();
    for r in futures_util::future::join_all(warm).await {
        assert_eq!(r.unwrap().status(), 200);
    }
    let name = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&base).unwrap();
    for round in 0..2 {
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )),
            &mut admin,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let res = app.get(&path, Role::Admin).send().await.unwrap();
            let st = res.status().as_u16();
            if st != 200 {
                let body = assert_problem(res, 503).await;
                assert!(!body.to_string().contains("oid"), "{body}");
            }
            statuses.push(st);
        }
        assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "round {round}: {statuses:?}");
        assert!(statuses.iter().filter(|s| **s == 503).count() <= 4, "at most one per pooled connection: {statuses:?}");
        assert!(statuses[statuses.len() - 4..].iter().all(|s| *s == 200), "the pool recovered: {statuses:?}");
    }
}

api_test!(concurrent_archives_never_answer_404, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    let reqs: Vec<_> = (0..20).map(|_| app.delete(&path, Role::Admin).send()).collect();
    for r in futures_util::future::join_all(reqs).await {
        let r = r.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let s = app.create_stakeholder(json!({})).await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    let reqs: Vec<_> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                app.delete(&path, Role::Admin).send()
            } else {
                app.patch(&path, Role::Admin, &json!({"segment": format!("s{i}")})).send()
            }
        })
        .collect();
    for r in futures_util::future::join_all(reqs).await {
        let st = r.unwrap().status().as_u16();
        assert!([200, 409, 412].contains(&st), "archive racing PATCH answered {st}");
    }
});

api_test!(the_longest_server_issued_cursor_is_accepted, |app| {
    for ch in ["\u{1F600}", "\u{1F601}", "\u{1F602}"] {
        app.create_stakeholder(json!({"display_name": ch.repeat(200)})).await;
    }
    let (st, _, page) =
        parts(app.get("/api/v1/stakeholders?sort=display_name&limit=1", Role::Admin).send().await.unwrap()).await;
    assert_eq!(st, 200);
    let mut cursor = page["next_cursor"].as_str().unwrap().to_owned();
    assert!(cursor.len() > 1024, "a long key makes a long cursor ({})", cursor.len());
    let mut seen = 1;
    while !cursor.is_empty() {
        let (st, _, page) = parts(
            app.get(&format!("/api/v1/stakeholders?sort=display_name&limit=1&cursor={cursor}"), Role::Admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, 200, "{page}");
        seen += 1;
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(seen, 3);
    let (st, _, page) = parts(app.get("/api/v1/stakeholders?cursor=", Role::Admin).send().await.unwrap()).await;
    assert_eq!(st, 200, "an empty cursor is the first page");
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
});

// A client that declares a body and sends it slowly gets 408 when the read
// timeout passes, instead of holding the connection open.
api_test!(slow_bodies_time_out_with_408, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_BODY_READ_TIMEOUT", "500ms")]).await;
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let head = format!(
        "POST /api/v1/stakeholders HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"kind\":",
        token(Role::Admin)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if String::from_utf8_lossy(&buf).contains("\"status\":408") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered in time");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
});

api_test!(authenticated_responses_are_private_and_sensitive_ones_not_stored, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    for (role, cache) in [
        (Role::Admin, "no-store"),
        (Role::Manager, "no-store"),
        (Role::Agent, "private, no-cache"),
        (Role::Analyst, "private, no-cache"),
    ] {
        for p in [path.as_str(), "/api/v1/stakeholders"] {
            let res = app.get(p, role).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers().get("cache-control").unwrap(), cache, "{role} {p}");
            let vary: Vec<String> =
                res.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_ascii_lowercase()).collect();
            assert!(vary.iter().any(|v| v.contains("authorization")), "{role} {p}: {vary:?}");
        }
    }
    let res = app.post("/api/v1/stakeholders", Role::Manager, &minimal_stakeholder()).send().await.unwrap();
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let res = app.get("/api/v1/interactions", Role::Admin).send().await.unwrap();
    assert_eq!(res.headers().get("cache-control").unwrap(), "private, no-cache");
    let res = app.client.get(app.url("/api/v1/stakeholders")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers().get("cache-control").unwrap(), "private, no-cache", "documented on every API response");
    let res = app.client.get(app.url("/health/live")).send().await.unwrap();
    assert!(res.headers().get("cache-control").is_none());
});

api_test!(request_bodies_in_unknown_encodings_are_415, |app| {
    let body = serde_json::to_vec(&minimal_stakeholder()).unwrap();
    let res = app
        .req(Method::POST, "/api/v1/stakeholders", Role::Admin)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "zstd")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &body).unwrap();
    let res = app
        .req(Method::POST, "/api/v1/stakeholders", Role::Admin)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "a gzip body is decoded");
});

api_test!(tokens_with_crit_are_401_and_the_scheme_is_case_insensitive, |app| {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.crit = Some(vec!["exp".into()]);
    let t = jsonwebtoken::encode(
        &header,
        &claims(Role::Admin, "crit-user"),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let res = app.client.get(app.url("/api/v1/stakeholders")).bearer_auth(t).send().await.unwrap();
    assert_problem(res, 401).await;
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let res = app
            .client
            .get(app.url("/api/v1/stakeholders"))
            .header("Authorization", format!("{scheme} {}", token(Role::Agent)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
});

api_test!(duplicate_json_keys_are_400, |app| {
    for body in [
        r#"{"kind":"customer","entity_type":"person","display_name":"A","display_name":"B"}"#,
        r#"{"kind":"customer","entity_type":"person","display_name":"A","preferences":{"x":1,"x":2}}"#,
    ] {
        let res = app
            .req(Method::POST, "/api/v1/stakeholders", Role::Admin)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 400).await;
        assert!(p["detail"].as_str().unwrap().contains("duplicate"), "{p}");
    }
    let (st, _, list) = parts(app.get("/api/v1/stakeholders", Role::Admin).send().await.unwrap()).await;
    assert_eq!(st, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing was created");
});

// A merge patch that sets an unknown key to null is refused like any other
// unknown field (the merge would otherwise drop it silently).
api_test!(patches_naming_unknown_fields_with_null_are_422, |app| {
    let s = app.create_stakeholder(json!({"address": {"city": "Bandung"}})).await;
    let sid = s["id"].as_str().unwrap();
    let path = format!("/api/v1/stakeholders/{sid}");
    for (body, field) in [
        (json!({"": null}), ""),
        (json!({"bogus": null}), "bogus"),
        (json!({"address": {"bogus": null}}), "address.bogus"),
        (json!({"segment": "x", "id": null}), "id"),
    ] {
        let res = app.patch(&path, Role::Admin, &body).send().await.unwrap();
        let p = assert_problem(res, 422).await;
        assert!(
            p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == "unknown_field"),
            "{body}: {p}"
        );
    }
    let (st, _, after) = parts(app.get(&path, Role::Admin).send().await.unwrap()).await;
    assert_eq!((st.as_u16(), &after["version"]), (200, &json!(1)), "nothing changed");
    let res = app
        .patch(&path, Role::Admin, &json!({"address": {"city": null}, "preferences": {"x": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "known fields and free-form keys may be null");
    let c = app
        .post(
            "/api/v1/complaints",
            Role::Admin,
            &json!({"stakeholder_id": sid, "subject": "S", "description": "D", "category": "other", "severity": "low"}),
        )
        .send()
        .await
        .unwrap();
    let c: Value = c.json().await.unwrap();
    let res = app
        .patch(&format!("/api/v1/complaints/{}", c["id"].as_str().unwrap()), Role::Admin, &json!({"": null}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 422).await;
});

/// Reads what the server sends on `stream` until it closes it (or `limit` passes).
async fn read_until_closed(stream: &mut tokio::net::TcpStream, limit: Duration) -> (String, bool) {
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&buf).into_owned(), closed)
}

// A chunked body the handler never reads has no end to wait for: the server
// answers and closes the connection instead of holding it open for ever.
api_test!(unread_chunked_bodies_do_not_pin_connections, |app| {
    let port = app.address.rsplit(':').next().unwrap();
    for head in [
        "GET /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n".to_owned(),
        "GET /openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n".to_owned(),
        "POST /api/v1/stakeholders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n".to_owned(),
    ] {
        let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(text.starts_with("HTTP/1.1 "), "{text}");
        assert!(closed, "the server closed the connection: {text}");
    }
});

// HEAD answers with the headers of GET, Content-Length included, and no body.
api_test!(head_has_the_get_content_length, |app| {
    let s = app.create_stakeholder(json!({})).await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    let raw = raw_client();
    let get = raw.get(app.url(&path)).bearer_auth(token(Role::Admin)).send().await.unwrap();
    let len = get.headers().get("content-length").unwrap().clone();
    assert_eq!(get.bytes().await.unwrap().len().to_string(), len.to_str().unwrap());
    let head = raw.head(app.url(&path)).bearer_auth(token(Role::Admin)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers().get("content-length"), Some(&len));
    assert!(head.bytes().await.unwrap().is_empty());
});

api_test!(refusing_every_encoding_is_a_406_problem, |app| {
    for value in ["identity;q=0", "*;q=0", "zstd, identity;q=0"] {
        let res = app.get("/api/v1/stakeholders", Role::Admin).header("Accept-Encoding", value).send().await.unwrap();
        assert!(res.headers().get("x-request-id").is_some(), "{value}");
        assert_problem(res, 406).await;
    }
    let res = app.get("/api/v1/stakeholders", Role::Admin).header("Accept-Encoding", "zstd").send().await.unwrap();
    assert_eq!(res.status(), 200, "identity is still acceptable");
});

api_test!(a_sub_with_control_characters_is_401, |app| {
    let t = sign(claims(Role::Admin, "nul\u{0}sub"));
    let res = app
        .client
        .post(app.url("/api/v1/stakeholders"))
        .bearer_auth(t)
        .json(&minimal_stakeholder())
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
});

api_test!(an_employer_cannot_become_a_person, |app| {
    let org = app.create_stakeholder(json!({"entity_type": "organization", "display_name": "Acme"})).await;
    let oid = org["id"].as_str().unwrap();
    app.create_stakeholder(json!({"organization_id": oid})).await;
    let res = app
        .patch(&format!("/api/v1/stakeholders/{oid}"), Role::Admin, &json!({"entity_type": "person"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409).await;
    let lone = app.create_stakeholder(json!({"entity_type": "organization", "display_name": "Solo"})).await;
    let res = app
        .patch(
            &format!("/api/v1/stakeholders/{}", lone["id"].as_str().unwrap()),
            Role::Admin,
            &json!({"entity_type": "person"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "without employees it may change");
});

// Browsers may read Retry-After and send gzip bodies across origins.
api_test!(cors_exposes_retry_after_and_allows_content_encoding, |app| {
    let app = TestApp::spawn_with(app.backend, &[("CRM_CORS_ORIGINS", "https://app.example")]).await;
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/stakeholders"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type, content-encoding, authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res =
        app.get("/api/v1/stakeholders", Role::Admin).header("Origin", "https://app.example").send().await.unwrap();
    let exposed = res.headers().get("access-control-expose-headers").unwrap().to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("www-authenticate"), "{exposed}");
});

/// Copies `from` to `to`, holding the data while `frozen` is set.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while frozen.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// PostgreSQL only: the network to the database stalls (a proxy in front of
/// it stops forwarding, as a partition or a frozen host would). Requests
/// answer 503 within a bound instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_connection_is_503_not_a_hang() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    if postgres_url_or_skip(module_path!(), "a_stalled_database_connection_is_503_not_a_hang").is_none() {
        return;
    }
    let direct = TestApp::spawn(Backend::Postgres).await;
    let s = direct.create_stakeholder(json!({})).await;
    let (head, tail) = direct.database_url.split_once("://").unwrap();
    let (auth, rest) = tail.rsplit_once('@').unwrap();
    let (upstream, path) = rest.split_once('/').unwrap();
    let frozen = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxied = format!("{head}://{auth}@127.0.0.1:{}/{path}", listener.local_addr().unwrap().port());
    let (upstream, f) = (upstream.to_owned(), frozen.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { continue };
            let ((cr, cw), (sr, sw)) = (client.into_split(), server.into_split());
            tokio::spawn(pipe(cr, sw, f.clone()));
            tokio::spawn(pipe(sr, cw, f.clone()));
        }
    });
    let app = TestApp::spawn_with(
        Backend::Postgres,
        &[("CRM_DATABASE_URL", &proxied), ("CRM_DB_STATEMENT_TIMEOUT", "1s"), ("CRM_DB_ACQUIRE_TIMEOUT", "500ms")],
    )
    .await;
    let path = format!("/api/v1/stakeholders/{}", s["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Role::Admin).send().await.unwrap().status(), 200, "through the proxy");
    frozen.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let reqs: Vec<_> = (0..6).map(|_| app.get(&path, Role::Admin).timeout(Duration::from_secs(20)).send()).collect();
    for r in futures_util::future::join_all(reqs).await {
        let r = r.expect("an answer, not a client timeout");
        assert_problem(r, 503).await;
    }
    assert!(started.elapsed() < Duration::from_secs(10), "answered within the bound: {:?}", started.elapsed());
    let res = app.client.get(app.url("/health/ready")).timeout(Duration::from_secs(10)).send().await.unwrap();
    assert_problem(res, 503).await;
    frozen.store(false, Ordering::SeqCst);
}
