//! `/api/v1/stakeholders`: handlers and their OpenAPI descriptions. No SQL here.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dto::{ConsentChange, PageQuery, SENSITIVE_FIELDS, Stakeholder, StakeholderInput, StakeholderQuery};
use super::model::{StakeholderData, StakeholderRow};
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::audit::Actor;
use crate::auth::roles::ContactView;
use crate::auth::{Action, Caller, Resource};
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, Precondition};
use crate::http::extract::{JsonBody, NoInput, check_query_text, into_object, parse_body, query_time, request_id};
use crate::http::idempotency::{IdempotencyKey, StoredResponse};
use crate::http::pagination::{self, Cursor, Page, Paging};
use crate::http::{cache, idempotency, merge_patch};
use crate::state::AppState;

const TAG: &str = "stakeholders";
const WHAT: &str = "stakeholder";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_stakeholder)
        .service(list_stakeholders)
        .service(get_stakeholder)
        .service(update_stakeholder)
        .service(archive_stakeholder)
        .service(restore_stakeholder)
        .service(list_consent_history);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/stakeholders/{id}")
}

/// 403 when the body names a sensitive field the caller's role may not set.
fn forbid_sensitive(caller: &Caller, body: &Map<String, Value>) -> Result<(), ApiError> {
    let touches = SENSITIVE_FIELDS.iter().any(|f| body.contains_key(*f));
    if touches && !caller.can(Resource::Stakeholders, Action::Sensitive) {
        return Err(ApiError::Forbidden(format!(
            "role {} may not set sensitive fields ({})",
            caller.role.as_str(),
            SENSITIVE_FIELDS.join(", ")
        )));
    }
    Ok(())
}

fn found(row: Option<StakeholderRow>) -> Result<StakeholderRow, ApiError> {
    row.ok_or_else(|| ApiError::not_found(WHAT))
}

/// Create a stakeholder
///
/// Honours `Idempotency-Key`: a retry with the same key and body replays the
/// first response with `Idempotent-Replayed: true`.
#[utoipa::path(
    tag = TAG,
    request_body(content = StakeholderInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "1..255 characters; makes retries safe for 24 hours")),
    responses(
        (status = 201, description = "Created", body = Stakeholder,
         headers(("Location" = String, description = "URL of the new stakeholder"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/stakeholders")]
async fn create_stakeholder(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Create)?;
    let body = body.into_inner();
    let key = IdempotencyKey::from_request(&req, &body, &caller)?;
    let body = into_object(body)?;
    forbid_sensitive(&caller, &body)?;
    let (scope, policy) = (caller.scope(), caller.fields());
    let organization = organization_in(&body);
    let input: StakeholderInput = match parse_body(body) {
        Err(e) => {
            // One 422 for everything: the reference check joins the others.
            return Err(match organization {
                Some(org) => state.db(move |c| with_organization_errors(c, e, org, None, scope)).await?,
                None => e,
            });
        }
        Ok(input) => input,
    };
    let data = StakeholderData::from_input(&input);
    let actor = Actor::new(&caller, request_id(&req));
    let stored = state
        .db(move |conn| {
            idempotency::run(conn, key.as_ref(), |c| {
                let row = repo::create(c, &actor, scope, &data)?;
                StoredResponse::created(location(row.id.0), row.version, &row.to_dto(policy))
            })
        })
        .await?;
    Ok(cache::no_store_if(caller.fields().sensitive, stored.into_response()))
}

/// List stakeholders
///
/// Keyset-paginated; filters combine with AND.
#[utoipa::path(
    tag = TAG,
    params(StakeholderQuery),
    responses((status = 200, description = "A page of stakeholders", body = Page<Stakeholder>)),
    security(("bearer" = []))
)]
#[get("/stakeholders")]
async fn list_stakeholders(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<StakeholderQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Read)?;
    let mut q = query.into_inner();
    for (name, value) in [("segment", &q.segment), ("owner_id", &q.owner_id), ("tag", &q.tag), ("q", &q.q)] {
        check_query_text(name, value, 500)?;
    }
    q.updated_since = query_time("updated_since", q.updated_since)?;
    let Paging { limit, sort, label, cursor } =
        Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let filter = Filter {
        kind: q.kind,
        entity_type: q.entity_type,
        lifecycle_stage: q.lifecycle_stage,
        segment: q.segment,
        owner_id: q.owner_id,
        partner_id: q.partner_id,
        organization_id: q.organization_id,
        tag: q.tag,
        q: q.q.filter(|s| !s.is_empty()),
        q_names_only: caller.fields().contact == ContactView::Masked,
        updated_since: q.updated_since,
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (scope, policy) = (caller.scope(), caller.fields());
    let rows = state.db(move |c| repo::list(c, &filter, scope, sort, cursor.as_ref(), limit)).await?;
    let page = pagination::page(rows, limit, &label, |r| (repo::sort_key(r, sort.field), r.id.0), |r| r.to_dto(policy));
    Ok(cache::no_store_if(policy.sensitive, HttpResponse::Ok().json(page)))
}

/// Get a stakeholder
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"),
           ("If-None-Match" = Option<String>, Header, description = "An ETag; 304 when it is current")),
    responses(
        (status = 200, description = "The stakeholder", body = Stakeholder, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}")]
async fn get_stakeholder(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Read)?;
    let (id, scope) = (id.into_inner(), caller.scope());
    let row = found(state.db(move |c| Ok(repo::find(c, id, scope)?)).await?)?;
    let res = etag::get_response(&req, row.version, || row.to_dto(caller.fields()));
    Ok(cache::no_store_if(caller.fields().sensitive, res))
}

/// The stakeholder as the caller may see it; `no-store` when that includes sensitive fields.
fn respond(row: StakeholderRow, caller: &Caller) -> HttpResponse {
    cache::no_store_if(caller.fields().sensitive, etag::ok(row.version, &row.to_dto(caller.fields())))
}

/// Update a stakeholder (JSON merge patch)
///
/// RFC 7396: absent fields stay, `null` clears. Honours `If-Match` (412 when
/// stale). Withdrawing consent `sensitive_data` erases `sensitive`.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"),
           ("If-Match" = Option<String>, Header, description = "The ETag you last read; 412 if it is stale")),
    request_body(content = StakeholderInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/stakeholders/{id}")]
async fn update_stakeholder(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    forbid_sensitive(&caller, &patch)?;
    let pre = Precondition::from_request(&req);
    let actor = Actor::new(&caller, request_id(&req));
    let (id, scope) = (id.into_inner(), caller.scope());
    let row = state
        .db(move |conn| {
            etag::write_versioned(conn, &pre, |c| {
                let current = found(repo::find(c, id, scope)?)?;
                pre.check(current.version)?;
                if current.erased_at.is_some() {
                    return Err(ApiError::Conflict("the stakeholder is erased and cannot be changed".into()));
                }
                let input = match patched_input(&current, &patch) {
                    Ok(input) => input,
                    Err(e) => {
                        match organization_in(&patch).filter(|o| Some(*o) != current.organization_id.map(|u| u.0)) {
                            Some(org) => return Err(with_organization_errors(c, e, org, Some(id), scope)?),
                            None => return Err(e),
                        }
                    }
                };
                repo::update(c, &actor, scope, &current, &StakeholderData::from_input(&input))
            })
        })
        .await?;
    Ok(respond(row, &caller))
}

/// The `organization_id` a body names, when it is a well-formed UUID.
fn organization_in(body: &Map<String, Value>) -> Option<Uuid> {
    body.get("organization_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

/// A 422 from the body rules, joined by what is wrong with `organization_id`
/// (which needs the database), so one response lists every invalid field.
fn with_organization_errors(
    c: &mut db::DbConnection,
    e: ApiError,
    org: Uuid,
    self_id: Option<Uuid>,
    scope: crate::auth::RowScope,
) -> Result<ApiError, ApiError> {
    let ApiError::Validation(mut errors) = e else { return Ok(e) };
    if errors.iter().any(|f| f.field == "organization_id") {
        return Ok(ApiError::Validation(errors));
    }
    errors.extend(repo::organization_errors(c, org, self_id, scope)?);
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    Ok(ApiError::Validation(errors))
}

/// The stored document with the merge patch applied, validated.
fn patched_input(current: &StakeholderRow, patch: &Map<String, Value>) -> Result<StakeholderInput, ApiError> {
    let mut doc = serde_json::to_value(current.to_input()).map_err(ApiError::internal)?;
    merge_patch::apply_checked::<StakeholderInput>(&mut doc, patch)?;
    let consented = doc.pointer("/consents/sensitive_data").and_then(Value::as_bool).unwrap_or(false);
    if !consented && !patch.contains_key("sensitive") {
        // Consent withdrawn: the special-category data goes with it.
        if let Some(m) = doc.as_object_mut() {
            m.remove("sensitive");
        }
    }
    parse_body(into_object(doc)?)
}

/// Archive a stakeholder
///
/// Sets `archived_at`; archived stakeholders leave lists unless
/// `include_archived=true`. Archiving an archived stakeholder changes nothing.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"),
           ("If-Match" = Option<String>, Header, description = "The ETag you last read; 412 if it is stale")),
    responses((status = 200, description = "The archived stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[delete("/stakeholders/{id}")]
async fn archive_stakeholder(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Delete)?;
    set_archived(req, caller, state, id.into_inner(), true).await
}

/// Restore an archived stakeholder
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"),
           ("If-Match" = Option<String>, Header, description = "The ETag you last read; 412 if it is stale")),
    responses((status = 200, description = "The restored stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/stakeholders/{id}/restore")]
async fn restore_stakeholder(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Restore)?;
    set_archived(req, caller, state, id.into_inner(), false).await
}

async fn set_archived(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: Uuid,
    archive: bool,
) -> Result<HttpResponse, ApiError> {
    let pre = Precondition::from_request(&req);
    let actor = Actor::new(&caller, request_id(&req));
    let scope = caller.scope();
    let row = state
        .db(move |conn| {
            // A lost version race retries like PATCH (never a 404 for a record that exists).
            etag::write_versioned(conn, &pre, |c| {
                let current = found(repo::find(c, id, scope)?)?;
                pre.check(current.version)?;
                match (archive, current.archived_at.is_some()) {
                    (true, true) => return Ok(Some(current)),
                    (false, false) => {
                        return Err(ApiError::Conflict("the stakeholder is not archived".into()));
                    }
                    _ => {}
                }
                repo::set_archived(c, &actor, &current, archive)
            })
        })
        .await?;
    Ok(respond(row, &caller))
}

/// List a stakeholder's consent changes
///
/// Every change of a consent, oldest first: which, old → new, who, when.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), PageQuery),
    responses((status = 200, description = "A page of consent changes", body = Page<ConsentChange>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/consent-history")]
async fn list_consent_history(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Stakeholders, Action::Read)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    const SORT: &str = "changed_at";
    let cursor = Cursor::from_query(q.cursor.as_deref(), SORT)?;
    let (id, scope) = (id.into_inner(), caller.scope());
    let rows = state
        .db(move |conn| {
            db::read_tx(conn, |c| {
                found(repo::find(c, id, scope)?)?;
                repo::consent_history(c, id, cursor.as_ref(), limit)
            })
        })
        .await?;
    let page = pagination::page(
        rows,
        limit,
        SORT,
        |r| (crate::db::types::timestamp_text(&r.changed_at.0), r.id.0),
        ConsentChange::from,
    );
    Ok(HttpResponse::Ok().json(page))
}
