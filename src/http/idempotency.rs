//! `Idempotency-Key` for creating `POST`s, stored in the database so every
//! replica sees it.
//!
//! The key is scoped to the caller (`sub`). The first response (status,
//! `Location`, `ETag`, body) is stored in the same transaction as the create,
//! with the resource it created; a retry with the same key and body replays
//! it with `Idempotent-Replayed: true`; the same key with another body is a
//! 422. Keys live 24 hours; expired ones are swept in batches, at most once a
//! minute per process (`sweep_expired`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::schema::{idempotency_key_resources as ikr, idempotency_keys as ik};
use crate::db::{self, DbConnection, DbTimestamp, DbUuid};
use crate::error::{ApiError, FieldError};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
pub const KEY_TTL_HOURS: i64 = 24;

/// A key plus the fingerprint of the request it came with, and whose it is.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
    /// The caller as far as visibility goes (role, partner, sub): a replay
    /// must never show one caller what another created, even under one `sub`.
    pub owner: String,
}

impl IdempotencyKey {
    /// Reads the header; `None` when absent, 400 when malformed.
    pub fn from_request(req: &HttpRequest, body: &Value, caller: &Caller) -> Result<Option<Self>, ApiError> {
        let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else {
            return Ok(None);
        };
        let key = raw
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
            .ok_or_else(|| {
                ApiError::BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters".into())
            })?;
        let mut h = Sha256::new();
        h.update(req.method().as_str());
        h.update(b" ");
        h.update(req.path());
        h.update(b"\n");
        h.update(canonical(body).to_string());
        let partner = caller.partner_id.map(|p| p.to_string()).unwrap_or_default();
        let owner = format!("{}:{partner}:{}", caller.role.as_str(), caller.sub);
        Ok(Some(Self { key: key.to_owned(), request_hash: hex(&h.finalize()), owner }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The same JSON with object keys sorted, so key order does not change the hash.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// A response as stored and replayed.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
    pub replayed: bool,
    /// What the request created (`resource_type`, id): erasure finds its stored body by them.
    pub resources: Vec<(&'static str, Uuid)>,
}

impl StoredResponse {
    /// `201 Created` of a `resource_type` with `Location`, `ETag` and the resource.
    pub fn created(
        resource_type: &'static str,
        id: Uuid,
        location: String,
        version: i32,
        body: &impl serde::Serialize,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            status: 201,
            location: Some(location),
            etag: Some(super::etag::etag(version).to_string()),
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
            replayed: false,
            resources: vec![(resource_type, id)],
        })
    }

    /// Also names the stakeholders the stored body is about (a child's
    /// parent, an edge's two ends): erasing one of them turns this stored
    /// answer into a tombstone even after the record itself was deleted.
    pub fn naming(mut self, stakeholders: &[Uuid]) -> Self {
        self.resources.extend(stakeholders.iter().map(|id| ("stakeholder", *id)));
        self
    }

    /// `200 OK` with `ETag` and the body: a write that is not a create but
    /// honours `Idempotency-Key` (consents), on `resource_type` `id`.
    pub fn ok(
        resource_type: &'static str,
        id: Uuid,
        version: i32,
        body: &impl serde::Serialize,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            status: 200,
            location: None,
            etag: Some(super::etag::etag(version).to_string()),
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
            replayed: false,
            resources: vec![(resource_type, id)],
        })
    }

    pub fn into_response(self) -> HttpResponse {
        if self.status == 410 {
            return actix_web::ResponseError::error_response(&ApiError::ErasedReplay);
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(loc) = &self.location {
            res.insert_header((header::LOCATION, loc.as_str()));
        }
        if let Some(etag) = &self.etag {
            res.insert_header((header::ETAG, etag.as_str()));
        }
        if self.replayed {
            res.insert_header((IDEMPOTENT_REPLAYED.clone(), HeaderValue::from_static("true")));
        }
        res.body(self.body)
    }
}

/// Runs `create` at most once per (caller, key). Without a key it just runs
/// `create` in a write transaction.
pub fn run<F>(conn: &mut DbConnection, key: Option<&IdempotencyKey>, mut create: F) -> Result<StoredResponse, ApiError>
where
    F: FnMut(&mut DbConnection) -> Result<StoredResponse, ApiError>,
{
    let Some(key) = key else {
        return db::write_tx(conn, |c| create(c));
    };
    let attempt = db::write_tx(conn, |c| {
        if let Some(stored) = find(c, key)? {
            return Ok(stored);
        }
        let res = create(c)?;
        save(c, key, &res)?;
        Ok(res)
    });
    match attempt {
        // A concurrent request with the same key committed first: replay it.
        Err(ApiError::Conflict(_)) => match db::write_tx(conn, |c| find(c, key))? {
            Some(stored) => Ok(stored),
            None => attempt,
        },
        other => other,
    }
}

/// Whether `key` is a tombstone (what it created was erased): then any
/// request with it, even one that would not parse, answers 410 `erased`.
pub fn is_tombstone(conn: &mut DbConnection, key: &IdempotencyKey) -> Result<bool, ApiError> {
    let n: i64 = ik::table
        .filter(ik::owner.eq(key.owner.as_str()))
        .filter(ik::idem_key.eq(&key.key))
        .filter(ik::status_code.eq(410))
        .filter(ik::created_at.ge(DbTimestamp(expiry())))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

type Row = (String, i32, Option<String>, Option<String>, String, DbTimestamp);

fn find(conn: &mut DbConnection, key: &IdempotencyKey) -> Result<Option<StoredResponse>, ApiError> {
    let owner = key.owner.as_str();
    let row: Option<Row> = ik::table
        .filter(ik::owner.eq(owner))
        .filter(ik::idem_key.eq(&key.key))
        .select((ik::request_hash, ik::status_code, ik::location, ik::etag, ik::response_body, ik::created_at))
        .first(conn)
        .optional()?;
    let Some((hash, status, location, etag, body, created_at)) = row else {
        return Ok(None);
    };
    if created_at.0 < expiry() {
        diesel::delete(ik::table.filter(ik::owner.eq(owner)).filter(ik::idem_key.eq(&key.key))).execute(conn)?;
        return Ok(None);
    }
    if status == 410 {
        // A tombstone: what the key created was erased. Any body replays it.
        return Ok(Some(StoredResponse {
            status: 410,
            location,
            etag: None,
            body,
            replayed: true,
            resources: Vec::new(),
        }));
    }
    if hash != key.request_hash {
        return Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            "idempotency_mismatch",
            "this key was already used with a different request; use a new key for a new request",
        )]));
    }
    // Rows stored before the `etag` column (or by an older replica) carry
    // the version in the body only.
    let etag = etag.or_else(|| {
        let version = serde_json::from_str::<Value>(&body).ok()?.get("version")?.as_i64()?;
        Some(format!("\"{version}\""))
    });
    Ok(Some(StoredResponse { status: status as u16, location, etag, body, replayed: true, resources: Vec::new() }))
}

fn save(conn: &mut DbConnection, key: &IdempotencyKey, res: &StoredResponse) -> Result<(), ApiError> {
    diesel::insert_into(ik::table)
        .values((
            ik::owner.eq(key.owner.as_str()),
            ik::idem_key.eq(&key.key),
            ik::request_hash.eq(&key.request_hash),
            ik::status_code.eq(i32::from(res.status)),
            ik::location.eq(&res.location),
            ik::etag.eq(&res.etag),
            ik::response_body.eq(&res.body),
            ik::created_at.eq(DbTimestamp(db::types::now())),
        ))
        .execute(conn)?;
    // A batch names one stakeholder once however many of its items it holds.
    let mut resources = res.resources.clone();
    resources.sort_unstable();
    resources.dedup();
    for (resource_type, id) in &resources {
        diesel::insert_into(ikr::table)
            .values((
                ikr::owner.eq(key.owner.as_str()),
                ikr::idem_key.eq(&key.key),
                ikr::resource_type.eq(*resource_type),
                ikr::resource_id.eq(DbUuid(*id)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Keys created before this have expired.
fn expiry() -> chrono::DateTime<chrono::Utc> {
    db::types::now() - Duration::hours(KEY_TTL_HOURS)
}

/// How many expired keys one statement deletes (about; ties on the
/// timestamp go in the same batch): short statements, so the sweep never
/// holds locks (or SQLite's writer) for long.
const SWEEP_BATCH: i64 = 500;
/// Batches per sweep: a large backlog drains over several sweeps.
const SWEEP_MAX_BATCHES: usize = 20;

/// Deletes expired keys (and their resource links), oldest first, a batch
/// per statement (each its own transaction), along the `created_at` index;
/// returns how many went.
pub fn sweep_expired(conn: &mut DbConnection) -> Result<usize, ApiError> {
    let cutoff = DbTimestamp(expiry());
    let expired = || ik::table.filter(ik::created_at.lt(cutoff));
    let mut total = 0;
    for _ in 0..SWEEP_MAX_BATCHES {
        // The batch ends at the created_at of its last key.
        let last: Option<DbTimestamp> = expired()
            .order(ik::created_at.asc())
            .select(ik::created_at)
            .offset(SWEEP_BATCH - 1)
            .first(conn)
            .optional()?;
        match last {
            Some(last) => total += diesel::delete(expired().filter(ik::created_at.le(last))).execute(conn)?,
            None => return Ok(total + diesel::delete(expired()).execute(conn)?),
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_ignores_key_order() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": 2, "c": [1, {"f": 1, "e": 2}]}})).to_string(),
            canonical(&json!({"a": {"c": [1, {"e": 2, "f": 1}], "d": 2}, "b": 1})).to_string()
        );
    }
}
