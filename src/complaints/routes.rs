//! `/api/v1/complaints`, its lifecycle actions, and
//! `/api/v1/stakeholders/{id}/complaints`. No SQL here.

use crate::db::DbConnection;
use actix_web::{HttpResponse, get, patch, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dto::{AssignInput, CloseInput, Complaint, ComplaintInput, ComplaintQuery, ComplaintStatus, ResolveInput};
use super::lifecycle::{self, ComplaintAction, ComplaintVerb};
use super::model::{ComplaintData, ComplaintRow};
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::auth::{Action, Resource, RowScope};
use crate::config::SlaTargets;
use crate::db::types;
use crate::error::{ApiError, FieldError};
use crate::http::batch::{self, BatchBody, BatchInput, BatchResult, BatchUpdate, Done, Writer};
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::etag::Precondition;
use crate::http::extract::{
    BodyBytes, JsonBody, NoInput, check_query_text, into_object, optional_object, parse_body, query_time,
};
use crate::http::idempotency::StoredResponse;
use crate::http::merge_patch::patched;
use crate::http::pagination::{Page, Paging};
use crate::stakeholders::repo as stakeholders;
use crate::state::AppState;

const TAG: &str = "complaints";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_complaint)
        .service(batch_create_complaints)
        .service(batch_update_complaints)
        .service(list_complaints)
        .service(get_complaint)
        .service(update_complaint)
        .service(acknowledge_complaint)
        .service(start_complaint)
        .service(resolve_complaint)
        .service(close_complaint)
        .service(reopen_complaint)
        .service(assign_complaint)
        .service(list_stakeholder_complaints);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/complaints/{id}")
}

/// Open a complaint
///
/// Status `open`, `opened_by` the caller, `due_at` = now + the severity's SLA.
/// Honours `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    request_body(content = ComplaintInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Complaint,
         headers(("Location" = String, description = "URL of the new complaint"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/complaints")]
async fn create_complaint(ctx: Ctx, state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Create)?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let input: ComplaintInput = parse_body(into_object(body)?)?;
    let now = types::now();
    let data = data_of(&input, now, &state.settings.sla)?;
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let stored = state
        .create(key, move |c| {
            let row = create_checked(c, scope, &actor, &data, now)?;
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

/// The stored columns of a new complaint: `due_at` from its severity's SLA.
fn data_of(
    input: &ComplaintInput,
    now: chrono::DateTime<chrono::Utc>,
    sla: &crate::config::SlaTargets,
) -> Result<ComplaintData, ApiError> {
    let severity = input.severity.ok_or_else(|| ApiError::internal("validated severity missing"))?;
    Ok(ComplaintData::from_input(input, lifecycle::due_at(now, severity, sla)))
}

/// The write of a create, after the body is parsed: the single call and
/// each batch item go through it.
fn create_checked(
    c: &mut crate::db::DbConnection,
    scope: RowScope,
    actor: &crate::audit::Actor,
    data: &ComplaintData,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<super::model::ComplaintRow, ApiError> {
    stakeholders::parent_for_new_record(c, data.stakeholder_id.0, scope)?;
    repo::create(c, actor, data, now)
}

/// Open complaints in a batch
///
/// `{"inputs": [ComplaintInput, …], "atomic": false}`: 1..1,000 items, each
/// answered as `POST /complaints` would answer it, in input order; 200 when
/// all succeed, 207 otherwise; `atomic: true` is all or nothing (422
/// `batch-failed`). Honours `Idempotency-Key` and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<ComplaintInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Complaint>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Complaint>),
    ),
    security(("bearer" = []))
)]
#[post("/complaints/batch/create")]
async fn batch_create_complaints(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Create)?;
    let w = Writer::of(&ctx, state.settings.sla);
    state.batch(&ctx, body.into_inner(), |_| None, move |c, item| create_one(c, &w, item)).await
}

/// A batch item's create, as `POST /complaints`: the batch route and
/// `crm-api import` write through it.
pub fn create_one(c: &mut DbConnection, w: &Writer, item: Map<String, Value>) -> Result<Done, ApiError> {
    let input: ComplaintInput = parse_body(item)?;
    let now = types::now();
    let row = create_checked(c, w.scope, &w.actor, &data_of(&input, now, &w.sla)?, now)?;
    Done::created(repo::RESOURCE, row.id.0, row.version, &row.to_dto(now), &[row.data.stakeholder_id.0])
}

/// List complaints
///
/// `sort=due_at` gives the support queue: what breaches first.
#[utoipa::path(
    tag = TAG,
    params(ComplaintQuery),
    responses((status = 200, description = "A page of complaints", body = Page<Complaint>)),
    security(("bearer" = []))
)]
#[get("/complaints")]
async fn list_complaints(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ComplaintQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), None).await
}

/// List a stakeholder's complaints
///
/// Same filters and format as `GET /api/v1/complaints`, newest first.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), ComplaintQuery),
    responses((status = 200, description = "A page of the stakeholder's complaints", body = Page<Complaint>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/complaints")]
async fn list_stakeholder_complaints(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<ComplaintQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Read)?;
    list(state, ctx.scope, query.into_inner(), Some(id.into_inner())).await
}

async fn list(
    state: web::Data<AppState>,
    scope: RowScope,
    mut q: ComplaintQuery,
    stakeholder: Option<Uuid>,
) -> Result<HttpResponse, ApiError> {
    check_query_text("assignee_id", &q.assignee_id, 500)?;
    q.opened_after = query_time("opened_after", q.opened_after)?;
    q.opened_before = query_time("opened_before", q.opened_before)?;
    q.updated_since = query_time("updated_since", q.updated_since)?;
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let filter = Filter {
        stakeholder_id: stakeholder.or(q.stakeholder_id),
        status: q.status,
        severity: q.severity,
        category: q.category,
        assignee_id: q.assignee_id,
        sla_breached: q.sla_breached,
        opened_after: q.opened_after,
        opened_before: q.opened_before,
        updated_since: q.updated_since,
    };
    let (now, p) = (types::now(), paging.clone());
    let rows = state
        .db(move |conn| stakeholders::read_under(conn, scope, stakeholder, |c| repo::list(c, &filter, scope, &p, now)))
        .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |r| r.to_dto(now))))
}

/// Get a complaint
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    responses(
        (status = 200, description = "The complaint", body = Complaint, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/complaints/{id}")]
async fn get_complaint(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Read)?;
    let (id, scope) = (id.into_inner(), ctx.scope);
    let row = state.db(move |c| repo::get(c, scope, id)).await?;
    let now = types::now();
    // `sla_breached` of an unresolved case can flip with no new version: no 304 while it can.
    if row.resolved_at.is_none() && !lifecycle::sla_breached(row.data.due_at.0, None, now) {
        return Ok(etag::ok(row.version, &row.to_dto(now)));
    }
    Ok(ctx.get_response(row.version, || row.to_dto(now)))
}

/// Update a complaint (JSON merge patch)
///
/// `subject`, `description`, `category`, `severity` while not closed (409).
/// A severity change recomputes `due_at` from `created_at` only while the
/// complaint is unresolved and not yet due; otherwise `due_at` stays, so a
/// breach cannot be edited away.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    request_body(content = ComplaintInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/complaints/{id}")]
async fn update_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    let (id, scope, actor, sla) = (id.into_inner(), ctx.scope, ctx.actor.clone(), state.settings.sla);
    let row = state
        .write_versioned(ctx.pre.clone(), move |c, pre| update_attempt(c, pre, scope, &actor, &sla, id, &patch))
        .await?;
    Ok(etag::ok(row.version, &row.to_dto(types::now())))
}

/// One attempt of a merge-patch update (`None`: lost a version race): the
/// single call and each batch item go through it.
fn update_attempt(
    c: &mut crate::db::DbConnection,
    pre: &Precondition,
    scope: RowScope,
    actor: &crate::audit::Actor,
    sla: &SlaTargets,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<Option<ComplaintRow>, ApiError> {
    let current = repo::get(c, scope, id)?;
    pre.check(current.version)?;
    stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
    if current.status == ComplaintStatus::Closed {
        return Err(ApiError::Conflict("a closed complaint cannot be edited; reopen it first".into()));
    }
    let data = patched_data(&current, patch, sla)?;
    repo::update(c, actor, &current, &data)
}

/// Update complaints in a batch
///
/// `{"inputs": [{"id", "if_match" (optional), "patch"}, …], "atomic": false}`:
/// each item answered as `PATCH /complaints/{id}` would answer it (200, 404,
/// 409, 412, 422), in input order; the same id twice is 422
/// `duplicate_in_batch` from the second on. 200 when all succeed, 207
/// otherwise; `atomic: true` is all or nothing. Honours `Idempotency-Key`
/// and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<BatchUpdate>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Complaint>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Complaint>),
    ),
    security(("bearer" = []))
)]
#[post("/complaints/batch/update")]
async fn batch_update_complaints(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, Action::Update)?;
    let (scope, actor, sla) = (ctx.scope, ctx.actor.clone(), state.settings.sla);
    state
        .batch(&ctx, body.into_inner(), batch::update_key, move |c, item| {
            let (id, pre, patch) = batch::update_item(item)?;
            let before = repo::get(c, scope, id)?.version;
            let row = etag::versioned_in_tx(c, &pre, |c, pre| update_attempt(c, pre, scope, &actor, &sla, id, &patch))?;
            Done::updated(repo::RESOURCE, row.id.0, before, row.version, &row.to_dto(types::now()))
        })
        .await
}

fn patched_data(
    current: &ComplaintRow,
    patch: &Map<String, Value>,
    sla: &SlaTargets,
) -> Result<ComplaintData, ApiError> {
    let before = current.to_input();
    let input = patched(before.clone(), patch)?;
    let mut errors = Vec::new();
    if input.stakeholder_id != before.stakeholder_id {
        errors.push(FieldError::new("stakeholder_id", "immutable", "cannot be changed; open a new complaint"));
    }
    if input.channel != before.channel {
        errors.push(FieldError::new("channel", "immutable", "is how the complaint came in and cannot be changed"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let severity = input.severity.ok_or_else(|| ApiError::internal("validated severity missing"))?;
    // A severity change moves due_at only while that cannot hide a breach.
    let due_at = if input.severity != before.severity
        && lifecycle::due_at_movable(current.status, current.data.due_at.0, types::now())
    {
        lifecycle::due_at(current.created_at.0, severity, sla)
    } else {
        current.data.due_at.0
    };
    Ok(ComplaintData::from_input(&input, due_at))
}

/// Runs a lifecycle action; the state machine decides (409 naming the status).
async fn act(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: Uuid,
    action: ComplaintAction,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, action.verb().permission())?;
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let row = state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            stakeholders::require_not_erased(c, current.data.stakeholder_id.0)?;
            let verb = action.verb();
            let next = lifecycle::transition(current.status, verb)
                .map_err(|status| ApiError::Conflict(format!("cannot {verb} a complaint whose status is {status}")))?;
            repo::apply(c, &actor, &current, &action, next, types::now())
        })
        .await?;
    Ok(etag::ok(row.version, &row.to_dto(types::now())))
}

/// Acknowledge a complaint (open → acknowledged)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    responses((status = 200, description = "The acknowledged complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/acknowledge")]
async fn acknowledge_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), ComplaintAction::Acknowledge).await
}

/// Start work on a complaint (open | acknowledged → in_progress)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    responses((status = 200, description = "The complaint, in progress", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/start")]
async fn start_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), ComplaintAction::Start).await
}

/// Resolve a complaint (acknowledged | in_progress → resolved)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    request_body(content = ResolveInput, content_type = "application/json"),
    responses((status = 200, description = "The resolved complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/resolve")]
async fn resolve_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: BodyBytes,
) -> Result<HttpResponse, ApiError> {
    // The role first: a caller who may not act learns nothing from body rules.
    ctx.require(Resource::Complaints, ComplaintVerb::Resolve.permission())?;
    let input: ResolveInput = parse_body(optional_object(ctx.request(), &body.0)?.unwrap_or_default())?;
    let resolution = input.resolution.unwrap_or_default();
    act(ctx, state, id.into_inner(), ComplaintAction::Resolve { resolution }).await
}

/// Close a resolved complaint (resolved → closed)
///
/// The body is optional: `{"satisfaction": 1..5}`.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    request_body(content = Option<CloseInput>, content_type = "application/json"),
    responses((status = 200, description = "The closed complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/close")]
async fn close_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: BodyBytes,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, ComplaintVerb::Close.permission())?;
    let input: CloseInput = parse_body(optional_object(ctx.request(), &body.0)?.unwrap_or_default())?;
    act(ctx, state, id.into_inner(), ComplaintAction::Close { satisfaction: input.satisfaction }).await
}

/// Reopen a complaint (resolved | closed → in_progress)
///
/// Clears `resolved_at`, `closed_at`, `resolution` and `satisfaction`: the SLA
/// runs against now again.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    responses((status = 200, description = "The reopened complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/reopen")]
async fn reopen_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    act(ctx, state, id.into_inner(), ComplaintAction::Reopen).await
}

/// Assign a complaint (manager and admin)
///
/// Any status but `closed`.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Complaint id")),
    request_body(content = AssignInput, content_type = "application/json"),
    responses((status = 200, description = "The assigned complaint", body = Complaint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/complaints/{id}/assign")]
async fn assign_complaint(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: BodyBytes,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Complaints, ComplaintVerb::Assign.permission())?;
    let input: AssignInput = parse_body(optional_object(ctx.request(), &body.0)?.unwrap_or_default())?;
    let assignee_id = input.assignee_id.unwrap_or_default();
    act(ctx, state, id.into_inner(), ComplaintAction::Assign { assignee_id }).await
}
