//! `/api/v1/offers`, its lifecycle actions, and `/api/v1/stakeholders/{id}/offers`.
//! No SQL here.

use crate::db::DbConnection;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dto::{Offer, OfferInput, OfferQuery, OfferStatus};
use super::lifecycle::{self, OfferAction};
use super::model::{OfferData, OfferRow};
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::auth::{Action, Resource, RowScope};
use crate::db::types;
use crate::error::ApiError;
use crate::http::batch::{self, BatchBody, BatchInput, BatchResult, BatchUpdate, Done, Writer};
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::etag::Precondition;
use crate::http::extract::{JsonBody, NoInput, check_query_text, into_object, parse_body, query_time};
use crate::http::idempotency::StoredResponse;
use crate::http::merge_patch::patched;
use crate::http::pagination::{Page, Paging};
use crate::stakeholders::repo as stakeholders;
use crate::state::AppState;

const TAG: &str = "offers";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_offer)
        .service(batch_create_offers)
        .service(batch_update_offers)
        .service(list_offers)
        .service(get_offer)
        .service(update_offer)
        .service(delete_offer)
        .service(send_offer)
        .service(accept_offer)
        .service(decline_offer)
        .service(withdraw_offer)
        .service(list_stakeholder_offers);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/offers/{id}")
}

/// 409 unless the offer is still a draft (only drafts are edited or deleted).
fn require_draft(row: &OfferRow, now: DateTime<Utc>, verb: &str) -> Result<(), ApiError> {
    match row.status_at(now) {
        OfferStatus::Draft => Ok(()),
        other => Err(ApiError::Conflict(format!("only a draft offer can be {verb}; this one is {other}"))),
    }
}

/// Create an offer
///
/// Always created as `draft`; `created_by` is the caller. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    request_body(content = OfferInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Offer,
         headers(("Location" = String, description = "URL of the new offer"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/offers")]
async fn create_offer(ctx: Ctx, state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Create)?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let input: OfferInput = parse_body(into_object(body)?)?;
    let data = OfferData::from_input(&input);
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let stored = state
        .create(key, move |c| {
            let row = create_checked(c, scope, &actor, &data)?;
            let stored = StoredResponse::created(
                repo::RESOURCE,
                row.id.0,
                location(row.id.0),
                row.version,
                &row.to_dto(types::now()),
            )?;
            Ok(stored.naming(&[row.data.stakeholder_id.0]))
        })
        .await?;
    Ok(stored.into_response())
}

/// The write of a create, after the body is parsed: the single call and
/// each batch item go through it.
fn create_checked(
    c: &mut crate::db::DbConnection,
    scope: RowScope,
    actor: &crate::audit::Actor,
    data: &OfferData,
) -> Result<OfferRow, ApiError> {
    stakeholders::parent_for_new_record(c, data.stakeholder_id.0, scope)?;
    repo::create(c, actor, data)
}

/// Create offers in a batch
///
/// `{"inputs": [OfferInput, …], "atomic": false}`: 1..1,000 items, each
/// answered as `POST /offers` would answer it, in input order; 200 when all
/// succeed, 207 otherwise; `atomic: true` is all or nothing (422
/// `batch-failed`). Honours `Idempotency-Key` and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<OfferInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Offer>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Offer>),
    ),
    security(("bearer" = []))
)]
#[post("/offers/batch/create")]
async fn batch_create_offers(ctx: Ctx, state: web::Data<AppState>, body: BatchBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Create)?;
    let w = Writer::of(&ctx, state.settings.sla);
    state.batch(&ctx, body.into_inner(), |_| None, move |c, item| create_one(c, &w, item)).await
}

/// A batch item's create, as `POST /offers`: the batch route and
/// `crm-api import` write through it.
pub fn create_one(c: &mut DbConnection, w: &Writer, item: Map<String, Value>) -> Result<Done, ApiError> {
    let input: OfferInput = parse_body(item)?;
    let row = create_checked(c, w.scope, &w.actor, &OfferData::from_input(&input))?;
    Done::created(repo::RESOURCE, row.id.0, row.version, &row.to_dto(types::now()), &[row.data.stakeholder_id.0])
}

/// List offers
#[utoipa::path(
    tag = TAG,
    params(OfferQuery),
    responses((status = 200, description = "A page of offers", body = Page<Offer>)),
    security(("bearer" = []))
)]
#[get("/offers")]
async fn list_offers(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<OfferQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), None).await
}

/// List a stakeholder's offers
///
/// Same filters and format as `GET /api/v1/offers`, newest first.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), OfferQuery),
    responses((status = 200, description = "A page of the stakeholder's offers", body = Page<Offer>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/offers")]
async fn list_stakeholder_offers(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<OfferQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), Some(id.into_inner())).await
}

async fn list(
    state: web::Data<AppState>,
    scope: RowScope,
    mut q: OfferQuery,
    stakeholder: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    check_query_text("product_category", &q.product_category, 500)?;
    check_query_text("created_by", &q.created_by, 500)?;
    q.valid_at = query_time("valid_at", q.valid_at)?;
    q.updated_since = query_time("updated_since", q.updated_since)?;
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let filter = Filter {
        stakeholder_id: stakeholder.or(q.stakeholder_id),
        status: q.status,
        product_category: q.product_category,
        valid_at: q.valid_at,
        created_by: q.created_by,
        updated_since: q.updated_since,
    };
    let (now, p) = (types::now(), paging.clone());
    let rows = state
        .db(move |conn| stakeholders::read_under(conn, scope, stakeholder, |c| repo::list(c, &filter, scope, &p, now)))
        .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |r| r.to_dto(now))))
}

/// Get an offer
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 200, description = "The offer", body = Offer, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/offers/{id}")]
async fn get_offer(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Read)?;
    let (id, scope) = (id.into_inner(), ctx.scope);
    let row = state.db(move |c| repo::get(c, scope, id)).await?;
    let now = types::now();
    // A sent offer can expire with no new version: its ETag cannot vouch for it, so no 304.
    if row.status_at(now) == OfferStatus::Sent && row.data.valid_until.is_some() {
        return Ok(etag::ok(row.version, &row.to_dto(now)));
    }
    Ok(ctx.get_response(row.version, || row.to_dto(now)))
}

/// Update a draft offer (JSON merge patch)
///
/// Only while `draft` (else 409). `stakeholder_id` cannot change; `status` is
/// changed only by the actions.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    request_body(content = OfferInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated offer", body = Offer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/offers/{id}")]
async fn update_offer(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    let row =
        state.write_versioned(ctx.pre.clone(), move |c, pre| update_attempt(c, pre, scope, &actor, id, &patch)).await?;
    Ok(etag::ok(row.version, &row.to_dto(types::now())))
}

/// One attempt of a merge-patch update (`None`: lost a version race): the
/// single call and each batch item go through it.
fn update_attempt(
    c: &mut crate::db::DbConnection,
    pre: &Precondition,
    scope: RowScope,
    actor: &crate::audit::Actor,
    id: Uuid,
    patch: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<OfferRow>, ApiError> {
    let current = repo::get(c, scope, id)?;
    pre.check(current.version)?;
    stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
    require_draft(&current, types::now(), "edited")?;
    let input: OfferInput = patched(current.to_input(), patch)?;
    if input.stakeholder_id != Some(current.data.stakeholder_id.0) {
        return Err(ApiError::validation("stakeholder_id", "immutable", "cannot be changed; create a new offer"));
    }
    repo::update(c, actor, &current, &OfferData::from_input(&input))
}

/// Update draft offers in a batch
///
/// `{"inputs": [{"id", "if_match" (optional), "patch"}, …], "atomic": false}`:
/// each item answered as `PATCH /offers/{id}` would answer it (200, 404, 409
/// for a non-draft, 412, 422), in input order; the same id twice is 422
/// `duplicate_in_batch` from the second on. 200 when all succeed, 207
/// otherwise; `atomic: true` is all or nothing. Honours `Idempotency-Key`
/// and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<BatchUpdate>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Offer>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Offer>),
    ),
    security(("bearer" = []))
)]
#[post("/offers/batch/update")]
async fn batch_update_offers(ctx: Ctx, state: web::Data<AppState>, body: BatchBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Update)?;
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    state
        .batch(&ctx, body.into_inner(), batch::update_key, move |c, item| {
            let (id, pre, patch) = batch::update_item(item)?;
            let before = repo::get(c, scope, id)?.version;
            let row = etag::versioned_in_tx(c, &pre, |c, pre| update_attempt(c, pre, scope, &actor, id, &patch))?;
            Done::updated(repo::RESOURCE, row.id.0, before, row.version, &row.to_dto(types::now()))
        })
        .await
}

/// Delete a draft offer
///
/// Only drafts (else 409), and only when no interaction refers to it.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
#[delete("/offers/{id}")]
async fn delete_offer(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, Action::Delete)?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
            require_draft(&current, types::now(), "deleted")?;
            Ok(repo::delete(c, &actor, &current)?.then_some(()))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs a lifecycle action; the state machine decides (409 naming the status).
async fn act(ctx: Ctx, state: web::Data<AppState>, id: Uuid, action: OfferAction) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Offers, action.permission())?;
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let row = state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
            let now = types::now();
            let (from, until) = (current.data.valid_from.map(|t| t.0), current.data.valid_until.map(|t| t.0));
            let next = lifecycle::transition(current.status_at(now), action, from, until, now)
                .map_err(|r| ApiError::Conflict(r.message(action)))?;
            repo::apply(c, &actor, &current, action, next, now)
        })
        .await?;
    Ok(etag::ok(row.version, &row.to_dto(types::now())))
}

/// Send a draft offer (draft → sent)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses((status = 200, description = "The sent offer (`sent_at` stamped)", body = Offer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/offers/{id}/send")]
async fn send_offer(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), OfferAction::Send).await
}

/// Record that the stakeholder accepted (sent → accepted)
///
/// Only while the offer is valid (`valid_from` ≤ now < `valid_until`).
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses((status = 200, description = "The accepted offer (`responded_at` stamped)", body = Offer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/offers/{id}/accept")]
async fn accept_offer(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), OfferAction::Accept).await
}

/// Record that the stakeholder declined (sent → declined)
///
/// Only while the offer is valid.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses((status = 200, description = "The declined offer (`responded_at` stamped)", body = Offer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/offers/{id}/decline")]
async fn decline_offer(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), OfferAction::Decline).await
}

/// Withdraw an offer (draft | sent → withdrawn)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Offer id")),
    responses((status = 200, description = "The withdrawn offer", body = Offer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/offers/{id}/withdraw")]
async fn withdraw_offer(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), OfferAction::Withdraw).await
}
