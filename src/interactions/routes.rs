//! `/api/v1/interactions` and the stakeholder timeline
//! `/api/v1/stakeholders/{id}/interactions`. No SQL here.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dto::{Interaction, InteractionInput, InteractionQuery};
use super::model::InteractionData;
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::auth::{Action, Resource, RowScope};
use crate::complaints::repo as complaints;
use crate::db::{DbConnection, types};
use crate::error::{ApiError, FieldError};
use crate::http::batch::{self, BatchBody, BatchInput, BatchResult, BatchUpdate, Done, Writer};
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::etag::Precondition;
use crate::http::extract::{JsonBody, into_object, parse_body, query_time};
use crate::http::idempotency::StoredResponse;
use crate::http::merge_patch::patched;
use crate::http::pagination::{Page, Paging};
use crate::offers::repo as offers;
use crate::stakeholders::repo as stakeholders;
use crate::state::AppState;

const TAG: &str = "interactions";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_interaction)
        .service(list_interactions)
        .service(get_interaction)
        .service(update_interaction)
        .service(delete_interaction)
        .service(list_stakeholder_interactions)
        .service(batch_create_interactions)
        .service(batch_update_interactions);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/interactions/{id}")
}

/// Record an interaction
///
/// `recorded_by` is the caller. The stakeholder must be visible to the
/// caller (404) and neither archived nor erased (409). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    request_body(content = InteractionInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Interaction,
         headers(("Location" = String, description = "URL of the new interaction"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/interactions")]
async fn create_interaction(ctx: Ctx, state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Create)?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let input: InteractionInput = parse_body(into_object(body)?)?;
    let now = types::now();
    let data = InteractionData::from_input(&input, now);
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let stored = state
        .create(key, move |c| {
            let row = create_checked(c, scope, &actor, &data, now)?;
            let stored =
                StoredResponse::created(repo::RESOURCE, row.id.0, location(row.id.0), row.version, &row.to_dto())?;
            Ok(stored.naming(&[row.data.stakeholder_id.0]))
        })
        .await?;
    Ok(stored.into_response())
}

/// The write of a create, after the body is parsed: the single call and
/// each batch item go through it.
fn create_checked(
    c: &mut DbConnection,
    scope: RowScope,
    actor: &crate::audit::Actor,
    data: &InteractionData,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<super::model::InteractionRow, ApiError> {
    stakeholders::parent_for_new_record(c, data.stakeholder_id.0, scope)?;
    check_links(c, data)?;
    repo::create(c, actor, data, now)
}

/// Record interactions in a batch
///
/// `{"inputs": [InteractionInput, …], "atomic": false}`: 1..1,000 items
/// (`CRM_BATCH_MAX_ITEMS`), each answered as `POST /interactions` would
/// answer it, in input order; 200 when all succeed, 207 otherwise. `atomic:
/// true`: all or nothing (422 `batch-failed` listing every failing item).
/// Honours `Idempotency-Key` for the whole batch and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<InteractionInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Interaction>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Interaction>),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/batch/create")]
async fn batch_create_interactions(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Create)?;
    let w = Writer::of(&ctx, state.settings.sla);
    state.batch(&ctx, body.into_inner(), |_| None, move |c, item| create_one(c, &w, item)).await
}

/// A batch item's create, as `POST /interactions`: the batch route and
/// `crm-api import` write through it.
pub fn create_one(c: &mut DbConnection, w: &Writer, item: Map<String, Value>) -> Result<Done, ApiError> {
    let input: InteractionInput = parse_body(item)?;
    let now = types::now();
    let row = create_checked(c, w.scope, &w.actor, &InteractionData::from_input(&input, now), now)?;
    Done::created(repo::RESOURCE, row.id.0, row.version, &row.to_dto(), &[row.data.stakeholder_id.0])
}

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
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<InteractionQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), None).await
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
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<InteractionQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), Some(id.into_inner())).await
}

async fn list(
    state: web::Data<AppState>,
    scope: RowScope,
    mut q: InteractionQuery,
    stakeholder: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    q.occurred_after = query_time("occurred_after", q.occurred_after)?;
    q.updated_since = query_time("updated_since", q.updated_since)?;
    q.occurred_before = query_time("occurred_before", q.occurred_before)?;
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let filter = Filter {
        stakeholder_id: stakeholder.or(q.stakeholder_id),
        channel: q.channel,
        direction: q.direction,
        interaction_type: q.interaction_type,
        occurred_after: q.occurred_after,
        updated_since: q.updated_since,
        occurred_before: q.occurred_before,
    };
    let p = paging.clone();
    let rows = state
        .db(move |conn| stakeholders::read_under(conn, scope, stakeholder, |c| repo::list(c, &filter, scope, &p)))
        .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |r| r.to_dto())))
}

/// Get an interaction
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id")),
    responses(
        (status = 200, description = "The interaction", body = Interaction, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}")]
async fn get_interaction(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Read)?;
    let (id, scope) = (id.into_inner(), ctx.scope);
    let row = state.db(move |c| repo::get(c, scope, id)).await?;
    Ok(ctx.get_response(row.version, || row.to_dto()))
}

/// Update an interaction (JSON merge patch)
///
/// RFC 7396; honours `If-Match`. `stakeholder_id` cannot change.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id")),
    request_body(content = InteractionInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated interaction", body = Interaction, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/interactions/{id}")]
async fn update_interaction(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    let row =
        state.write_versioned(ctx.pre.clone(), move |c, pre| update_attempt(c, pre, scope, &actor, id, &patch)).await?;
    Ok(etag::ok(row.version, &row.to_dto()))
}

/// One attempt of a merge-patch update (`None`: lost a version race): the
/// single call and each batch item go through it.
fn update_attempt(
    c: &mut DbConnection,
    pre: &Precondition,
    scope: RowScope,
    actor: &crate::audit::Actor,
    id: Uuid,
    patch: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<super::model::InteractionRow>, ApiError> {
    let current = repo::get(c, scope, id)?;
    pre.check(current.version)?;
    stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
    let input: InteractionInput = patched(current.to_input(), patch)?;
    if input.stakeholder_id != Some(current.data.stakeholder_id.0) {
        let message = "cannot be changed; record a new interaction";
        return Err(ApiError::validation("stakeholder_id", "immutable", message));
    }
    let data = InteractionData::from_input(&input, current.data.occurred_at.0);
    check_links(c, &data)?;
    repo::update(c, actor, &current, &data)
}

/// Update interactions in a batch
///
/// `{"inputs": [{"id", "if_match" (optional), "patch"}, …], "atomic": false}`:
/// each item answered as `PATCH /interactions/{id}` would answer it (200,
/// 404, 409, 412, 422), in input order; the same id twice is 422
/// `duplicate_in_batch` from the second on. 200 when all succeed, 207
/// otherwise; `atomic: true` is all or nothing. Honours `Idempotency-Key`
/// and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<BatchUpdate>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Interaction>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Interaction>),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/batch/update")]
async fn batch_update_interactions(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Update)?;
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    state
        .batch(&ctx, body.into_inner(), batch::update_key, move |c, item| {
            let (id, pre, patch) = batch::update_item(item)?;
            let before = repo::get(c, scope, id)?.version;
            let row = etag::versioned_in_tx(c, &pre, |c, pre| update_attempt(c, pre, scope, &actor, id, &patch))?;
            Done::updated(repo::RESOURCE, row.id.0, before, row.version, &row.to_dto())
        })
        .await
}

/// Delete an interaction
///
/// Permanent; the audit trail keeps who deleted it and when.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Interaction id")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
#[delete("/interactions/{id}")]
async fn delete_interaction(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Interactions, Action::Delete)?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
            Ok(repo::delete(c, &actor, &current)?.then_some(()))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
