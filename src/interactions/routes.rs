//! `/api/v1/interactions` and the stakeholder timeline
//! `/api/v1/stakeholders/{id}/interactions`. No SQL here.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dto::{Interaction, InteractionInput, InteractionQuery};
use super::model::{InteractionData, InteractionRow};
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::audit::Actor;
use crate::auth::{Action, Caller, Resource, RowScope};
use crate::complaints::repo as complaints;
use crate::db::{self, DbConnection, types};
use crate::error::ApiError;
use crate::error::FieldError;
use crate::http::etag::{self, Precondition};
use crate::http::extract::{JsonBody, into_object, parse_body, query_time, request_id};
use crate::http::idempotency::{self, IdempotencyKey, StoredResponse};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, Paging};
use crate::offers::repo as offers;
use crate::stakeholders::repo as stakeholders;

const TAG: &str = "interactions";
const WHAT: &str = "interaction";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_interaction)
        .service(list_interactions)
        .service(get_interaction)
        .service(update_interaction)
        .service(delete_interaction)
        .service(list_stakeholder_interactions);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/interactions/{id}")
}

fn found(row: Option<InteractionRow>) -> Result<InteractionRow, ApiError> {
    row.ok_or_else(|| ApiError::not_found(WHAT))
}

/// Record an interaction
///
/// `recorded_by` is the caller. The stakeholder must be visible to the
/// caller (404) and neither archived nor erased (409). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    request_body(content = InteractionInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "1..255 characters; makes retries safe for 24 hours")),
    responses(
        (status = 201, description = "Created", body = Interaction,
         headers(("Location" = String, description = "URL of the new interaction"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/interactions")]
async fn create_interaction(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Create)?;
    let body = body.into_inner();
    let key = IdempotencyKey::from_request(&req, &body, &caller)?;
    let input: InteractionInput = parse_body(into_object(body)?)?;
    let now = types::now();
    let data = InteractionData::from_input(&input, now);
    let actor = Actor::new(&caller, request_id(&req));
    let scope = caller.scope();
    let stored = state
        .db(move |conn| {
            idempotency::run(conn, key.as_ref(), |c| {
                stakeholders::parent_for_new_record(c, data.stakeholder_id.0, scope)?;
                check_links(c, &data)?;
                let row = repo::create(c, &actor, &data, now)?;
                StoredResponse::created(location(row.id.0), row.version, &row.to_dto())
            })
        })
        .await?;
    Ok(stored.into_response())
}

/// `offer_id` / `complaint_id` must belong to the same stakeholder (422).
fn check_links(c: &mut DbConnection, data: &InteractionData) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(offer) = data.offer_id
        && !offers::belongs_to(c, offer.0, data.stakeholder_id.0)?
    {
        errors.push(FieldError::new("offer_id", "reference", "no offer with that id for this stakeholder"));
    }
    if let Some(complaint) = data.complaint_id
        && !complaints::belongs_to(c, complaint.0, data.stakeholder_id.0)?
    {
        errors.push(FieldError::new("complaint_id", "reference", "no complaint with that id for this stakeholder"));
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// List interactions
///
/// Newest first by default (`-occurred_at`); keyset-paginated.
#[utoipa::path(
    tag = TAG,
    params(InteractionQuery),
    responses((status = 200, description = "A page of interactions", body = Page<Interaction>)),
    security(("bearer" = []))
)]
#[get("/interactions")]
async fn list_interactions(
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    query: web::Query<InteractionQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Read)?;
    list(state, caller.scope(), query.into_inner(), None).await
}

/// List a stakeholder's interactions (its timeline)
///
/// Same filters and format as `GET /api/v1/interactions`, newest first.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), InteractionQuery),
    responses((status = 200, description = "A page of the stakeholder's interactions", body = Page<Interaction>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/interactions")]
async fn list_stakeholder_interactions(
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    id: web::Path<Uuid>,
    query: web::Query<InteractionQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Read)?;
    list(state, caller.scope(), query.into_inner(), Some(id.into_inner())).await
}

async fn list(
    state: web::Data<crate::state::AppState>,
    scope: RowScope,
    mut q: InteractionQuery,
    stakeholder: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    q.occurred_after = query_time("occurred_after", q.occurred_after)?;
    q.occurred_before = query_time("occurred_before", q.occurred_before)?;
    let Paging { limit, sort, label, cursor } =
        Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let filter = Filter {
        stakeholder_id: stakeholder.or(q.stakeholder_id),
        channel: q.channel,
        direction: q.direction,
        interaction_type: q.interaction_type,
        occurred_after: q.occurred_after,
        occurred_before: q.occurred_before,
    };
    let rows = state
        .db(move |conn| {
            db::read_tx(conn, |c| {
                if let Some(sid) = stakeholder {
                    stakeholders::require_visible(c, sid, scope)?;
                }
                repo::list(c, &filter, scope, sort, cursor.as_ref(), limit)
            })
        })
        .await?;
    let page = pagination::page(rows, limit, &label, |r| (repo::sort_key(r, sort.field), r.id.0), |r| r.to_dto());
    Ok(HttpResponse::Ok().json(page))
}

/// Get an interaction
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id"),
           ("If-None-Match" = Option<String>, Header, description = "An ETag; 304 when it is current")),
    responses(
        (status = 200, description = "The interaction", body = Interaction, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}")]
async fn get_interaction(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Read)?;
    let (id, scope) = (id.into_inner(), caller.scope());
    let row = found(state.db(move |c| Ok(repo::find(c, id, scope)?)).await?)?;
    Ok(etag::get_response(&req, row.version, || row.to_dto()))
}

/// Update an interaction (JSON merge patch)
///
/// RFC 7396; honours `If-Match`. `stakeholder_id` cannot change.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id"),
           ("If-Match" = Option<String>, Header, description = "The ETag you last read; 412 if it is stale")),
    request_body(content = InteractionInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated interaction", body = Interaction, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/interactions/{id}")]
async fn update_interaction(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    let pre = Precondition::from_request(&req);
    let actor = Actor::new(&caller, request_id(&req));
    let (id, scope) = (id.into_inner(), caller.scope());
    let row = state
        .db(move |conn| {
            etag::write_versioned(conn, &pre, |c: &mut DbConnection| {
                let current = found(repo::find(c, id, scope)?)?;
                pre.check(current.version)?;
                let data = patched(&current, &patch)?;
                check_links(c, &data)?;
                repo::update(c, &actor, &current, &data)
            })
        })
        .await?;
    Ok(etag::ok(row.version, &row.to_dto()))
}

fn patched(current: &InteractionRow, patch: &Map<String, Value>) -> Result<InteractionData, ApiError> {
    let mut doc = serde_json::to_value(current.to_input()).map_err(ApiError::internal)?;
    merge_patch::apply_checked::<InteractionInput>(&mut doc, patch)?;
    let input: InteractionInput = parse_body(into_object(doc)?)?;
    if input.stakeholder_id != Some(current.stakeholder_id.0) {
        return Err(ApiError::validation("stakeholder_id", "immutable", "cannot be changed; record a new interaction"));
    }
    Ok(InteractionData::from_input(&input, current.occurred_at.0))
}

/// Delete an interaction
///
/// Permanent; the audit trail keeps who deleted it and when.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id"),
           ("If-Match" = Option<String>, Header, description = "The ETag you last read; 412 if it is stale")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
#[delete("/interactions/{id}")]
async fn delete_interaction(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<crate::state::AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Interactions, Action::Delete)?;
    let pre = Precondition::from_request(&req);
    let actor = Actor::new(&caller, request_id(&req));
    let (id, scope) = (id.into_inner(), caller.scope());
    state
        .db(move |conn| {
            etag::write_versioned(conn, &pre, |c: &mut DbConnection| {
                let current = found(repo::find(c, id, scope)?)?;
                pre.check(current.version)?;
                Ok(repo::delete(c, &actor, &current)?.then_some(()))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
