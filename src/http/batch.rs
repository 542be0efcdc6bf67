//! Batch writes (contracts/integration.md): `{"inputs": [...], "atomic":
//! bool}`, each item through the same code as the single call, in its own
//! savepoint inside one transaction; results in input order. The resources
//! give the per-item work; the envelope, duplicates, atomicity, statuses and
//! the answer are here, once.

use std::collections::HashSet;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use diesel::Connection;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::Problem;
use super::extract::{BodyReadTimeout, parse_json};
use super::idempotency::StoredResponse;
use crate::audit::Actor;
use crate::auth::{FieldPolicy, Role, RowScope};
use crate::config::SlaTargets;
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};

/// The limits of the batch routes, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_items: usize,
    pub body_limit: usize,
}

/// A batch request body as JSON: like `JsonBody`, under the batch body limit
/// (`CRM_BATCH_BODY_LIMIT`) instead of the default one.
pub struct BatchBody(pub Value);

impl FromRequest for BatchBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = super::extract::has_json_content_type(req);
        let encoding = super::extract::check_content_encoding(req);
        let limit = req.app_data::<BatchLimits>().map_or(crate::config::DEFAULT_BATCH_BODY_LIMIT, |l| l.body_limit);
        let timeout = req.app_data::<BodyReadTimeout>().map_or(crate::config::DEFAULT_BODY_READ_TIMEOUT, |t| t.0);
        let stream = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            encoding?;
            if !json {
                return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
            }
            let mut stream = stream.map_err(|_| ApiError::BadRequest("could not read the body".into()))?;
            let read = async {
                let mut body = web::BytesMut::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|_| ApiError::BadRequest("could not read the body".into()))?;
                    if body.len() + chunk.len() > limit {
                        return Err(ApiError::PayloadTooLarge("the batch body is larger than the limit".into()));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = match actix_web::rt::time::timeout(timeout, read).await {
                Err(_) => {
                    return Err(ApiError::RequestTimeout(format!(
                        "the body was not received within {} ms",
                        timeout.as_millis()
                    )));
                }
                Ok(body) => body?,
            };
            parse_json(&body).map(BatchBody)
        })
    }
}

impl BatchBody {
    pub fn into_inner(self) -> Value {
        self.0
    }
}

/// A batch request: the single call's bodies, and whether it is all or nothing.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput<T: ToSchema> {
    /// 1..1,000 items (`CRM_BATCH_MAX_ITEMS`), each the single call's body.
    #[schema(min_items = 1, max_items = 1000)]
    pub inputs: Vec<T>,
    /// All or nothing: any failing item is a 422 `batch-failed` and nothing is written.
    #[serde(default)]
    pub atomic: bool,
}

/// A checked batch: its items and options.
#[derive(Debug, Clone)]
pub struct Batch {
    pub inputs: Vec<Value>,
    pub atomic: bool,
    /// `Prefer: return=minimal`: items without `data`.
    pub minimal: bool,
}

/// Checks the envelope: an object with `inputs` (1..max items) and an
/// optional boolean `atomic`, nothing else.
pub fn parse(body: Value, req: &HttpRequest, max_items: usize) -> Result<Batch, ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    };
    let mut errors = Vec::new();
    for key in body.keys().filter(|k| !matches!(k.as_str(), "inputs" | "atomic")) {
        errors.push(FieldError::new(key, "unknown_field", "is not a field of a batch (inputs, atomic)"));
    }
    let atomic = match body.remove("atomic") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            errors.push(FieldError::new("atomic", "type", "must be true or false"));
            false
        }
    };
    let inputs = match body.remove("inputs") {
        Some(Value::Array(items)) if (1..=max_items).contains(&items.len()) => items,
        Some(Value::Array(_)) => {
            errors.push(FieldError::new("inputs", "length", format!("must hold 1 to {max_items} items")));
            Vec::new()
        }
        None | Some(Value::Null) => {
            errors.push(FieldError::new("inputs", "required", "is required"));
            Vec::new()
        }
        Some(_) => {
            errors.push(FieldError::new("inputs", "type", "must be an array"));
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let minimal = req
        .headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"));
    Ok(Batch { inputs, atomic, minimal })
}

/// A batch update item: which record, the ETag it must still have, and the merge patch.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchUpdate {
    /// The record to change.
    pub id: Uuid,
    /// As the `If-Match` header of the single call (`"3"`): 412 when stale.
    pub if_match: Option<String>,
    /// A JSON merge patch (RFC 7396) of the record, as the single `PATCH` takes.
    #[schema(value_type = Object)]
    pub patch: Map<String, Value>,
}

/// A batch update item: `{"id": uuid, "if_match": "\"3\"" (optional),
/// "patch": {merge patch}}`; anything else in it is a 422.
pub fn update_item(
    mut item: Map<String, Value>,
) -> Result<(Uuid, super::etag::Precondition, Map<String, Value>), ApiError> {
    let mut errors = Vec::new();
    for key in item.keys().filter(|k| !matches!(k.as_str(), "id" | "if_match" | "patch")) {
        errors.push(FieldError::new(key, "unknown_field", "is not a field of an update item (id, if_match, patch)"));
    }
    let id = match item.remove("id") {
        Some(Value::String(s)) => Uuid::parse_str(&s).ok(),
        _ => None,
    };
    if id.is_none() {
        errors.push(FieldError::new("id", "required", "the id (a UUID) of the record to change is required"));
    }
    let if_match = match item.remove("if_match") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(FieldError::new("if_match", "type", "must be an ETag string such as \"3\""));
            None
        }
    };
    let patch = match item.remove("patch") {
        Some(Value::Object(p)) => Some(p),
        _ => {
            errors.push(FieldError::new("patch", "required", "a JSON merge patch (an object) is required"));
            None
        }
    };
    match (id, patch) {
        (Some(id), Some(patch)) if errors.is_empty() => {
            Ok((id, super::etag::Precondition::from_value(if_match.as_deref()), patch))
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// An update item's identity within the batch: its id.
pub fn update_key(item: &Map<String, Value>) -> Option<String> {
    let id = item.get("id").and_then(Value::as_str)?;
    // Every spelling of one UUID (case, braces, `urn:uuid:`) is one id.
    Some(Uuid::parse_str(id).map_or_else(|_| id.to_owned(), |u| u.to_string()))
}

/// What one item did.
#[derive(Debug, Clone)]
pub struct Done {
    pub status: u16,
    pub operation: BatchOperation,
    pub id: Uuid,
    pub version: i32,
    pub data: Value,
    /// What the stored answer names (erasure turns it into a tombstone).
    pub named: Vec<(&'static str, Uuid)>,
}

impl Done {
    /// An updated resource (200): `unchanged` when the patch changed nothing.
    pub fn updated(
        resource: &'static str,
        id: Uuid,
        before: i32,
        version: i32,
        dto: &impl Serialize,
    ) -> Result<Self, ApiError> {
        let operation = if version == before { BatchOperation::Unchanged } else { BatchOperation::Updated };
        let data = serde_json::to_value(dto).map_err(ApiError::internal)?;
        Ok(Self { status: 200, operation, id, version, data, named: vec![(resource, id)] })
    }

    /// A created resource (201), named by itself and its stakeholders.
    pub fn created(
        resource: &'static str,
        id: Uuid,
        version: i32,
        dto: &impl Serialize,
        stakeholders: &[Uuid],
    ) -> Result<Self, ApiError> {
        let mut named = vec![(resource, id)];
        named.extend(stakeholders.iter().map(|s| ("stakeholder", *s)));
        let data = serde_json::to_value(dto).map_err(ApiError::internal)?;
        Ok(Self { status: 201, operation: BatchOperation::Created, id, version, data, named })
    }
}

text_enum! {
    /// What an item did.
    pub enum BatchOperation { Created = "created", Updated = "updated", Unchanged = "unchanged" }
}

/// One item's answer: what the single call would have answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchItemResult<T> {
    /// The item's position in `inputs`.
    pub index: usize,
    /// The status the single call would give (201, 200, 400, 403, 404, 409, 412, 422; 410 in a replay after an erasure).
    pub status: u16,
    pub operation: Option<BatchOperation>,
    pub id: Option<Uuid>,
    pub version: Option<i32>,
    /// The resource as the single call returns it; `null` on failure and under `Prefer: return=minimal`.
    pub data: Option<T>,
    /// The item's problem document when it failed (`errors[].field` relative to the item).
    pub error: Option<Problem>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The answer to a batch: 200 when every item succeeded, 207 otherwise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult<T> {
    pub summary: BatchSummary,
    /// In input order: `results[i]` answers `inputs[i]`.
    pub results: Vec<BatchItemResult<T>>,
}

/// The code an atomic batch lists for a failed item that is not a validation error.
fn item_code(e: &ApiError) -> &'static str {
    match e {
        ApiError::NotFound(_) => "not_found",
        ApiError::Conflict(_) => "conflict",
        ApiError::PreconditionFailed(_) => "precondition_failed",
        ApiError::Erased(_) => "erased",
        ApiError::Forbidden(_) => "forbidden",
        ApiError::BadRequest(_) => "type",
        _ => "invalid",
    }
}

/// Who batch items are written as, and what they may see: the request's
/// caller, or the admin a CSV import runs as. Each resource's item
/// functions take it, so the routes and `crm-api import` share them.
#[derive(Debug, Clone)]
pub struct Writer {
    pub role: Role,
    pub scope: RowScope,
    pub fields: FieldPolicy,
    pub actor: Actor,
    pub sla: SlaTargets,
    /// Items are answered with their data, so sensitive fields shown are
    /// audited; an import answers with counts only.
    pub shows_data: bool,
}

impl Writer {
    /// The request's caller.
    pub fn of(ctx: &super::context::Ctx, sla: SlaTargets) -> Self {
        Self {
            role: ctx.caller.role,
            scope: ctx.scope,
            fields: ctx.fields,
            actor: ctx.actor.clone(),
            sla,
            shows_data: true,
        }
    }

    /// An admin acting as `sub` outside any request (`crm-api import`).
    pub fn admin(sub: &str, request_id: String, sla: SlaTargets) -> Self {
        let role = Role::Admin;
        let actor = Actor { sub: sub.to_owned(), role: role.as_str(), partner_id: None, request_id: Some(request_id) };
        Self {
            role,
            scope: RowScope::ALL,
            fields: crate::auth::roles::field_policy(role),
            actor,
            sla,
            shows_data: false,
        }
    }
}

/// Why an item failed, as field errors relative to the item: a validation
/// error's own, or one row-level error (empty `field`) with the item code
/// (`not_found`, `conflict`, `precondition_failed`, `erased`, `forbidden`).
pub fn item_errors(e: &ApiError) -> Vec<FieldError> {
    match e {
        ApiError::Validation(errs) => errs.clone(),
        e => vec![FieldError::new("", item_code(e), e.problem().detail)],
    }
}

/// Runs every item (`work`) in its own savepoint, in the caller's
/// transaction, and returns each item's outcome in input order. `dup_key`
/// names an item's identity within the batch (an e-mail, an id): a later
/// item with the same key is 422 `duplicate_in_batch` and does not run.
pub fn run_items(
    conn: &mut DbConnection,
    inputs: &[Value],
    dup_key: impl Fn(&Map<String, Value>) -> Option<String>,
    mut work: impl FnMut(&mut DbConnection, Map<String, Value>) -> Result<Done, ApiError>,
) -> Result<Vec<Result<Done, ApiError>>, ApiError> {
    lock_identities(conn, inputs, &dup_key)?;
    let mut seen = HashSet::new();
    let mut outcomes: Vec<Result<Done, ApiError>> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let outcome = match input {
            Value::Object(item) => match dup_key(item) {
                Some(k) if !seen.insert(k.clone()) => Err(duplicate_in_batch()),
                _ => conn.transaction(|c| work(c, item.clone())),
            },
            _ => Err(not_an_object()),
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The item error of an input that is not an object: 400, as the single
/// call answers such a body.
pub fn not_an_object() -> ApiError {
    ApiError::BadRequest("each input must be a JSON object".into())
}

/// The item error of a repeated identity.
pub fn duplicate_in_batch() -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        "",
        "duplicate_in_batch",
        "an earlier item of this batch has the same identity",
    )])
}

/// Runs a batch's items (`items`: usually `run_items`) and builds its
/// answer. Atomic: any failure is a 422 `batch-failed` listing every one,
/// and the caller's transaction rolls back.
pub fn run(
    conn: &mut DbConnection,
    batch: &Batch,
    request_id: Option<&str>,
    items: impl FnOnce(&mut DbConnection, &[Value]) -> Result<Vec<Result<Done, ApiError>>, ApiError>,
) -> Result<StoredResponse, ApiError> {
    let outcomes = items(conn, &batch.inputs)?;
    if batch.atomic && outcomes.iter().any(Result::is_err) {
        let mut errors = Vec::new();
        for (i, o) in outcomes.iter().enumerate() {
            if let Err(e) = o {
                errors.extend(item_errors(e).into_iter().map(|e| {
                    let field =
                        if e.field.is_empty() { format!("inputs[{i}]") } else { format!("inputs[{i}].{}", e.field) };
                    FieldError { field, ..e }
                }));
            }
        }
        return Err(ApiError::BatchFailed(errors));
    }
    let mut summary = BatchSummary { total: outcomes.len(), ..Default::default() };
    let mut named = Vec::new();
    let mut results: Vec<BatchItemResult<Value>> = Vec::with_capacity(outcomes.len());
    for (index, o) in outcomes.into_iter().enumerate() {
        results.push(match o {
            Ok(done) => {
                summary.succeeded += 1;
                match done.operation {
                    BatchOperation::Created => summary.created += 1,
                    BatchOperation::Updated => summary.updated += 1,
                    BatchOperation::Unchanged => summary.unchanged += 1,
                }
                named.extend(done.named);
                BatchItemResult {
                    index,
                    status: done.status,
                    operation: Some(done.operation),
                    id: Some(done.id),
                    version: Some(done.version),
                    data: (!batch.minimal).then_some(done.data),
                    error: None,
                }
            }
            Err(e) => {
                summary.failed += 1;
                if let ApiError::Internal(detail) = &e {
                    tracing::error!(error = %detail, index, "a batch item failed");
                }
                let mut problem = e.problem();
                problem.request_id = request_id.map(str::to_owned);
                BatchItemResult {
                    index,
                    status: problem.status,
                    operation: None,
                    id: None,
                    version: None,
                    data: None,
                    error: Some(problem),
                }
            }
        });
    }
    let status = if summary.failed == 0 { 200 } else { 207 };
    let body = serde_json::to_string(&BatchResult::<Value> { summary, results }).map_err(ApiError::internal)?;
    Ok(StoredResponse { status, location: None, etag: None, body, replayed: false, resources: named })
}

/// PostgreSQL: takes a transaction-scoped advisory lock on every item
/// identity of the batch (e-mails, ids), in one statement, in key order.
/// Two batches sharing identities then run one after the other instead of
/// deadlocking on each other's unique-index entries or rows taken in
/// different orders. (SQLite has one writer.)
pub fn lock_identities(
    conn: &mut DbConnection,
    inputs: &[Value],
    dup_key: &impl Fn(&Map<String, Value>) -> Option<String>,
) -> Result<(), ApiError> {
    lock_keys(conn, inputs.iter().filter_map(Value::as_object).filter_map(dup_key))
}

/// `lock_identities` for keys already known.
pub fn lock_keys(conn: &mut DbConnection, keys: impl Iterator<Item = String>) -> Result<(), ApiError> {
    let DbConnection::Pg(pg) = conn else { return Ok(()) };
    let mut keys: Vec<i64> = keys.map(|k| crate::db::lock_key(k.bytes())).collect();
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    // A volatile function in the select list runs after the ORDER BY.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("SELECT pg_advisory_xact_lock(k) FROM unnest($1) AS t(k) ORDER BY k")
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(keys),
        pg,
    )?;
    Ok(())
}

/// The response, with `Preference-Applied` when `return=minimal` was honoured.
pub fn respond(stored: StoredResponse, batch_minimal: bool) -> HttpResponse {
    let mut res = stored.into_response();
    if batch_minimal {
        res.headers_mut().insert(
            header::HeaderName::from_static("preference-applied"),
            header::HeaderValue::from_static("return=minimal"),
        );
    }
    res
}
