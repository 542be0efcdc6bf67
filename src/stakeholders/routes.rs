//! `/api/v1/stakeholders`: handlers and their OpenAPI descriptions. No SQL here.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::consent::ConsentSource;
use super::dto::{
    BatchUpsertInput, ConsentChange, ConsentHistoryQuery, ConsentRecordInput, ConsentRecordResult, SENSITIVE_FIELDS,
    Stakeholder, StakeholderInput, StakeholderQuery,
};
use super::model::{StakeholderData, StakeholderRow};
use super::repo::{self, CONSENT_SORT, ConsentFilter, DEFAULT_SORT, Filter, NewConsent, SortBy};
use crate::audit;
use crate::auth::roles::ContactView;
use crate::auth::{Action, Resource, RowScope};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::http::batch::{self, BatchBody, BatchInput, BatchResult, BatchUpdate, Done, Writer};
use crate::http::cache;
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::etag::Precondition;
use crate::http::extract::{IdAfterRole, JsonBody, NoInput, check_query_text, into_object, parse_body, query_time};
use crate::http::idempotency::StoredResponse;
use crate::http::merge_patch::patched_with;
use crate::http::pagination::{Page, Paging};
use crate::state::AppState;

const TAG: &str = "stakeholders";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_stakeholder)
        .service(batch_create_stakeholders)
        .service(batch_update_stakeholders)
        .service(batch_upsert_stakeholders)
        .service(list_stakeholders)
        .service(get_stakeholder)
        .service(update_stakeholder)
        .service(archive_stakeholder)
        .service(restore_stakeholder)
        .service(list_consent_history)
        .service(record_consents);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/stakeholders/{id}")
}

/// 403 when the body names a sensitive field the caller's role may not set.
fn forbid_sensitive(ctx: &Ctx, body: &Map<String, Value>) -> Result<(), ApiError> {
    refuse_sensitive(ctx.caller.role, body)
}

fn refuse_sensitive(role: crate::auth::Role, body: &Map<String, Value>) -> Result<(), ApiError> {
    let touches = SENSITIVE_FIELDS.iter().any(|f| body.contains_key(*f));
    if touches && !crate::auth::roles::allowed(role, Resource::Stakeholders, Action::Sensitive) {
        return Err(ApiError::Forbidden(format!(
            "role {} may not set sensitive fields ({})",
            role.as_str(),
            SENSITIVE_FIELDS.join(", ")
        )));
    }
    Ok(())
}

/// Create stakeholders in a batch
///
/// `{"inputs": [StakeholderInput, …], "atomic": false}`: 1..1,000 items,
/// each answered as `POST /stakeholders` would answer it (403 for sensitive
/// fields a role may not set, 409 for a taken e-mail), in input order; an
/// e-mail given twice in one batch (any case) is 422 `duplicate_in_batch`
/// from the second on. 200 when all succeed, 207 otherwise; `atomic: true`
/// is all or nothing (422 `batch-failed`). Honours `Idempotency-Key` and
/// `Prefer: return=minimal`; sensitive fields shown are audited (`via: batch`).
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<StakeholderInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Stakeholder>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Stakeholder>),
    ),
    security(("bearer" = []))
)]
#[post("/stakeholders/batch/create")]
async fn batch_create_stakeholders(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Create)?;
    let w = Writer::of(&ctx, state.settings.sla);
    let res = state.batch_all(&ctx, body.into_inner(), move |c, inputs| create_all(c, &w, inputs)).await?;
    Ok(cache::no_store_if(ctx.fields.sensitive, res))
}

/// Create a stakeholder
///
/// Honours `Idempotency-Key`: a retry with the same key and body replays the
/// first response with `Idempotent-Replayed: true`.
#[utoipa::path(
    tag = TAG,
    request_body(content = StakeholderInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Stakeholder,
         headers(("Location" = String, description = "URL of the new stakeholder"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/stakeholders")]
async fn create_stakeholder(ctx: Ctx, state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Create)?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let body = into_object(body)?;
    forbid_sensitive(&ctx, &body)?;
    let (scope, policy, actor) = (ctx.scope, ctx.fields, ctx.actor.clone());
    let organization = organization_in(&body);
    let input: StakeholderInput = match parse_body(body) {
        Ok(input) => input,
        // One 422 for everything: the reference check joins the others.
        Err(e) => return Err(with_organization_errors(&state, e, organization, scope).await),
    };
    let data = StakeholderData::from_input(&input);
    let stored = state
        .create(key, move |c| {
            let row = repo::create(c, &actor, scope, &data)?;
            StoredResponse::created(repo::RESOURCE, row.id.0, location(row.id.0), row.version, &row.to_dto(policy))
        })
        .await?;
    // A replay shows what the first answer showed: recorded again.
    if let Ok(shown) = serde_json::from_str::<Stakeholder>(&stored.body) {
        record_views(&state, &ctx, "write", shown_fields(&shown).into_iter().collect()).await?;
    }
    Ok(cache::no_store_if(policy.sensitive, stored.into_response()))
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
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<StakeholderQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Read)?;
    let mut q = query.into_inner();
    for (name, value) in [("segment", &q.segment), ("owner_id", &q.owner_id), ("tag", &q.tag), ("q", &q.q)] {
        check_query_text(name, value, 500)?;
    }
    q.updated_since = query_time("updated_since", q.updated_since)?;
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
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
        q_names_only: ctx.fields.contact == ContactView::Masked,
        updated_since: q.updated_since,
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (scope, p) = (ctx.scope, paging.clone());
    let rows = state.db(move |c| repo::list(c, &filter, scope, &p)).await?;
    let page = paging.page(rows, |r| r.to_dto(ctx.fields));
    record_views(&state, &ctx, "list", page.data.iter().filter_map(shown_fields).collect()).await?;
    Ok(cache::no_store_if(ctx.fields.sensitive, HttpResponse::Ok().json(page)))
}

/// Get a stakeholder
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    responses(
        (status = 200, description = "The stakeholder", body = Stakeholder, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}")]
async fn get_stakeholder(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Read)?;
    let (id, scope) = (id.into_inner(), ctx.scope);
    let row = state.db(move |c| repo::get(c, scope, id)).await?;
    let dto = row.to_dto(ctx.fields);
    if !ctx.not_modified(row.version) {
        record_views(&state, &ctx, "get", shown_fields(&dto).into_iter().collect()).await?;
    }
    let res = ctx.get_response(row.version, || dto);
    Ok(cache::no_store_if(ctx.fields.sensitive, res))
}

/// The stakeholder as the caller may see it, after a write; `no-store` when
/// that includes sensitive fields (whose showing is recorded).
async fn respond(state: &AppState, row: StakeholderRow, ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let dto = row.to_dto(ctx.fields);
    record_views(state, ctx, "write", shown_fields(&dto).into_iter().collect()).await?;
    Ok(cache::no_store_if(ctx.fields.sensitive, etag::ok(row.version, &dto)))
}

/// The sensitive fields a stakeholder view shows, if any.
fn shown_fields(s: &Stakeholder) -> Option<(Uuid, Vec<&'static str>)> {
    let fields: Vec<&'static str> = [("sensitive", s.sensitive.is_some()), ("income_band", s.income_band.is_some())]
        .into_iter()
        .filter_map(|(name, shown)| shown.then_some(name))
        .collect();
    (!fields.is_empty()).then_some((s.id, fields))
}

/// Records, before the body is sent, each stakeholder whose sensitive
/// fields it shows (`stakeholder.sensitive_viewed`). Fail closed: when that
/// cannot be recorded, nothing is shown (503). A `HEAD` shows nothing.
async fn record_views(
    state: &AppState,
    ctx: &Ctx,
    via: &'static str,
    views: Vec<(Uuid, Vec<&'static str>)>,
) -> Result<(), ApiError> {
    if views.is_empty() || ctx.head {
        return Ok(());
    }
    let actor = ctx.actor.clone();
    state.db(move |c| Ok(audit::record_sensitive_views(c, &actor, &views, via)?)).await.map_err(|e| match e {
        ApiError::Unavailable(_) => e,
        other => ApiError::Unavailable(format!("recording a read of sensitive data failed: {other}")),
    })
}

/// Update a stakeholder (JSON merge patch)
///
/// RFC 7396: absent fields stay, `null` clears. Honours `If-Match` (412 when
/// stale). Withdrawing consent `sensitive_data` erases `sensitive`.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    request_body(content = StakeholderInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/stakeholders/{id}")]
async fn update_stakeholder(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    forbid_sensitive(&ctx, &patch)?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    let row =
        state.write_versioned(ctx.pre.clone(), move |c, pre| update_attempt(c, pre, scope, &actor, id, &patch)).await?;
    respond(&state, row, &ctx).await
}

/// One attempt of a merge-patch update (`None`: lost a version race): the
/// single call and each batch or upsert item go through it.
fn update_attempt(
    c: &mut DbConnection,
    pre: &Precondition,
    scope: RowScope,
    actor: &audit::Actor,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<Option<StakeholderRow>, ApiError> {
    let current = repo::get(c, scope, id)?;
    pre.check(current.version)?;
    if current.erased_at.is_some() {
        return Err(ApiError::Erased("the stakeholder is erased and cannot be changed".into()));
    }
    let input = patched(&current, patch).map_err(|e| {
        let org = organization_in(patch).filter(|o| Some(*o) != current.data.organization_id.map(|u| u.0));
        match org {
            Some(org) => organization_errors_joined(c, e, org, Some(id), scope),
            None => e,
        }
    })?;
    repo::update(c, actor, scope, &current, &StakeholderData::from_input(&input))
}

/// A batch item's answer: the record as its role sees it, its sensitive
/// fields (if shown) audited `via: batch` in the item's transaction.
fn item_view(
    c: &mut DbConnection,
    actor: &audit::Actor,
    policy: crate::auth::FieldPolicy,
    row: &StakeholderRow,
) -> Result<Stakeholder, ApiError> {
    let dto = row.to_dto(policy);
    if let Some(view) = shown_fields(&dto) {
        audit::record_sensitive_views(c, actor, &[view], "batch")?;
    }
    Ok(dto)
}

/// An item's data as `item_view` gives it, when the writer shows it (an
/// import does not: nothing to build, nothing shown to audit).
fn writer_view(c: &mut DbConnection, w: &Writer, row: &StakeholderRow) -> Result<Option<Stakeholder>, ApiError> {
    if w.shows_data { item_view(c, &w.actor, w.fields, row).map(Some) } else { Ok(None) }
}

/// A batch item's create, as `POST /stakeholders`: the batch routes and
/// `crm-api import` write through it.
pub fn create_one(c: &mut DbConnection, w: &Writer, item: Map<String, Value>) -> Result<Done, ApiError> {
    let organization = organization_in(&item);
    let data = match item_data(w, item) {
        Ok(data) => data,
        Err(e) => {
            return Err(match organization {
                Some(o) => organization_errors_joined(c, e, o, None, w.scope),
                None => e,
            });
        }
    };
    let row = repo::create(c, &w.actor, w.scope, &data)?;
    created(c, w, &row)
}

/// Creates a batch's items, answering each as `create_one` would, but
/// writing the valid ones together: the items that pass the checks made
/// without the database go through `repo::create_many` (one statement per
/// table) in one savepoint. Only if that fails (a taken e-mail, a bad
/// `organization_id`) does each go through `create_one` in its own
/// savepoint, to learn which failed and why; so does any item that failed
/// the first checks, to get the single call's exact error. The batch route
/// and `crm-api import` create through it.
pub fn create_all(c: &mut DbConnection, w: &Writer, inputs: &[Value]) -> Result<Vec<Result<Done, ApiError>>, ApiError> {
    batch::lock_identities(c, inputs, &email_key)?;
    let mut outcomes: Vec<Option<Result<Done, ApiError>>> = (0..inputs.len()).map(|_| None).collect();
    let mut seen = std::collections::HashSet::new();
    let (mut fast, mut fast_data, mut slow) = (Vec::new(), Vec::new(), Vec::new());
    for (i, input) in inputs.iter().enumerate() {
        let Value::Object(item) = input else {
            outcomes[i] = Some(Err(batch::not_an_object()));
            continue;
        };
        if let Some(k) = email_key(item)
            && !seen.insert(k)
        {
            outcomes[i] = Some(Err(batch::duplicate_in_batch()));
            continue;
        }
        match item_data(w, item.clone()) {
            Ok(d) => {
                fast.push(i);
                fast_data.push(d);
            }
            Err(_) => slow.push(i),
        }
    }
    let written = diesel::Connection::transaction(c, |c| {
        let rows = repo::create_many(c, &w.actor, w.scope, &fast_data)?;
        rows.iter().map(|row| created(c, w, row)).collect::<Result<Vec<_>, ApiError>>()
    });
    match written {
        Ok(done) => {
            for (i, d) in fast.into_iter().zip(done) {
                outcomes[i] = Some(Ok(d));
            }
        }
        Err(e @ ApiError::Unavailable(_)) => return Err(e),
        Err(_) => {
            slow.extend(fast);
            slow.sort_unstable();
        }
    }
    for i in slow {
        let Value::Object(item) = &inputs[i] else { continue };
        let item = item.clone();
        outcomes[i] = Some(diesel::Connection::transaction(c, |c| create_one(c, w, item)));
    }
    Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err(ApiError::internal("an item was not written")))).collect())
}

/// A created item's answer.
fn created(c: &mut DbConnection, w: &Writer, row: &StakeholderRow) -> Result<Done, ApiError> {
    Done::created(repo::RESOURCE, row.id.0, row.version, &writer_view(c, w, row)?, &[])
}

/// A create item's data, checked without the database (the reference check
/// of `organization_id` is the write's).
pub fn item_data(w: &Writer, item: Map<String, Value>) -> Result<StakeholderData, ApiError> {
    refuse_sensitive(w.role, &item)?;
    let input: StakeholderInput = parse_body(item)?;
    Ok(StakeholderData::from_input(&input))
}

/// An upsert item, as `…/batch/upsert`: a merge patch of the non-erased
/// stakeholder with its e-mail, or a create.
pub fn upsert_one(c: &mut DbConnection, w: &Writer, item: Map<String, Value>) -> Result<Done, ApiError> {
    let Some(email) = email_key(&item).filter(|e| !e.is_empty()) else {
        return Err(ApiError::validation("email", "required", "is required to upsert by e-mail"));
    };
    match repo::find_by_email(c, &email, w.scope)? {
        Some(current) => {
            refuse_sensitive(w.role, &item)?;
            let (id, before) = (current.id.0, current.version);
            let row = etag::versioned_in_tx(c, &Precondition::Any, |c, pre| {
                update_attempt(c, pre, w.scope, &w.actor, id, &item)
            })?;
            let dto = writer_view(c, w, &row)?;
            Done::updated(repo::RESOURCE, id, before, row.version, &dto)
        }
        None => create_one(c, w, item),
    }
}

/// A batch item's identity: its e-mail, any case.
pub fn email_key(item: &Map<String, Value>) -> Option<String> {
    item.get("email").and_then(Value::as_str).map(|e| e.trim().to_lowercase())
}

/// Update stakeholders in a batch
///
/// `{"inputs": [{"id", "if_match" (optional), "patch"}, …], "atomic": false}`:
/// each item answered as `PATCH /stakeholders/{id}` would answer it (200,
/// 403, 404, 409, 412, 422), in input order; the same id twice is 422
/// `duplicate_in_batch` from the second on. 200 when all succeed, 207
/// otherwise; `atomic: true` is all or nothing. Honours `Idempotency-Key`
/// and `Prefer: return=minimal`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchInput<BatchUpdate>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Stakeholder>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Stakeholder>),
    ),
    security(("bearer" = []))
)]
#[post("/stakeholders/batch/update")]
async fn batch_update_stakeholders(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Update)?;
    let (scope, policy, actor, role) = (ctx.scope, ctx.fields, ctx.actor.clone(), ctx.caller.role);
    let res = state
        .batch(&ctx, body.into_inner(), batch::update_key, move |c, item| {
            let (id, pre, patch) = batch::update_item(item)?;
            refuse_sensitive(role, &patch)?;
            let before = repo::get(c, scope, id)?.version;
            let row = etag::versioned_in_tx(c, &pre, |c, pre| update_attempt(c, pre, scope, &actor, id, &patch))?;
            let dto = item_view(c, &actor, policy, &row)?;
            Done::updated(repo::RESOURCE, row.id.0, before, row.version, &dto)
        })
        .await?;
    Ok(cache::no_store_if(policy.sensitive, res))
}

/// Upsert stakeholders by e-mail in a batch
///
/// `{"inputs": [StakeholderInput with email, …], "atomic": false,
/// "id_property": "email"}`: a non-erased stakeholder with that e-mail (any
/// case) gets the item as a merge patch (absent fields unchanged):
/// `operation: "updated"`, or `"unchanged"` when nothing differs (no new
/// version, no event); otherwise it is created (`"created"`, 201). Needs
/// create and update rights. Otherwise as `…/batch/create`.
#[utoipa::path(
    tag = TAG,
    request_body(content = BatchUpsertInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item succeeded", body = BatchResult<Stakeholder>),
        (status = 207, description = "Some items failed (see each result)", body = BatchResult<Stakeholder>),
    ),
    security(("bearer" = []))
)]
#[post("/stakeholders/batch/upsert")]
async fn batch_upsert_stakeholders(
    ctx: Ctx,
    state: web::Data<AppState>,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Create)?;
    ctx.require(Resource::Stakeholders, Action::Update)?;
    let mut body = body.into_inner();
    // `id_property` names the key (only `email` in this version); the rest is a batch.
    if let Some(o) = body.as_object_mut() {
        match o.remove("id_property") {
            None | Some(Value::Null) => {}
            Some(Value::String(p)) if p == "email" => {}
            Some(_) => return Err(ApiError::validation("id_property", "enum", "must be \"email\"")),
        }
    }
    let w = Writer::of(&ctx, state.settings.sla);
    let res = state.batch(&ctx, body, email_key, move |c, item| upsert_one(c, &w, item)).await?;
    Ok(cache::no_store_if(ctx.fields.sensitive, res))
}

/// The `organization_id` a body names, when it is a well-formed UUID.
fn organization_in(body: &Map<String, Value>) -> Option<Uuid> {
    body.get("organization_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

/// [`organization_errors_joined`] for a create, in its own unit of work.
async fn with_organization_errors(state: &AppState, e: ApiError, org: Option<Uuid>, scope: RowScope) -> ApiError {
    let Some(org) = org else { return e };
    match state.db(move |c| Ok(organization_errors_joined(c, e, org, None, scope))).await {
        Ok(e) | Err(e) => e,
    }
}

/// A 422 from the body rules, joined by what is wrong with `organization_id`
/// (which needs the database), so one response lists every invalid field.
fn organization_errors_joined(
    c: &mut DbConnection,
    e: ApiError,
    org: Uuid,
    self_id: Option<Uuid>,
    scope: RowScope,
) -> ApiError {
    let ApiError::Validation(mut errors) = e else { return e };
    if errors.iter().any(|f| f.field == "organization_id") {
        return ApiError::Validation(errors);
    }
    match repo::organization_errors(c, org, self_id, scope) {
        Ok(more) => errors.extend(more),
        Err(db_error) => return db_error.into(),
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    ApiError::Validation(errors)
}

/// The stored document with the merge patch applied, validated.
fn patched(current: &StakeholderRow, patch: &Map<String, Value>) -> Result<StakeholderInput, ApiError> {
    patched_with(current.to_input(), patch, |doc| {
        let consented = doc.get("consents").and_then(|c| c.get("sensitive_data")).and_then(Value::as_bool);
        if !consented.unwrap_or(false) && !patch.contains_key("sensitive") {
            // Consent withdrawn: the special-category data goes with it.
            doc.remove("sensitive");
        }
    })
}

/// Archive a stakeholder
///
/// Sets `archived_at`; archived stakeholders leave lists unless
/// `include_archived=true`. Archiving an archived stakeholder changes nothing.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    responses((status = 200, description = "The archived stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[delete("/stakeholders/{id}")]
async fn archive_stakeholder(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Delete)?;
    set_archived(ctx, state, id.into_inner(), true).await
}

/// Restore an archived stakeholder
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    responses((status = 200, description = "The restored stakeholder", body = Stakeholder, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/stakeholders/{id}/restore")]
async fn restore_stakeholder(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoInput,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Restore)?;
    set_archived(ctx, state, id.into_inner(), false).await
}

async fn set_archived(ctx: Ctx, state: web::Data<AppState>, id: Uuid, archive: bool) -> Result<HttpResponse, ApiError> {
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    // A lost version race retries like PATCH (never a 404 for a record that exists).
    let row = state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            if current.erased_at.is_some() {
                return Err(ApiError::Erased("the stakeholder is erased and cannot be changed".into()));
            }
            match (archive, current.archived_at.is_some()) {
                (true, true) => Ok(Some(current)),
                (false, false) => Err(ApiError::Conflict("the stakeholder is not archived".into())),
                _ => repo::set_archived(c, &actor, &current, archive),
            }
        })
        .await?;
    respond(&state, row, &ctx).await
}

/// List a stakeholder's consent changes
///
/// Every change and renewal of a consent, oldest first: which, old → new, on
/// which legal basis, how it was captured, who recorded it, when.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), ConsentHistoryQuery),
    responses((status = 200, description = "A page of consent changes", body = Page<ConsentChange>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/consent-history")]
async fn list_consent_history(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<ConsentHistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Read)?;
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, None, q.cursor.as_deref(), CONSENT_SORT)?;
    let filter = ConsentFilter {
        consent: q.consent,
        changed_after: query_time("changed_after", q.changed_after)?,
        changed_before: query_time("changed_before", q.changed_before)?,
    };
    let (id, scope, p) = (id.into_inner(), ctx.scope, paging.clone());
    let rows = state
        .db(move |conn| {
            db::read_tx(conn, |c| {
                repo::get(c, scope, id)?;
                repo::consent_history(c, id, &filter, &p)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, ConsentChange::from)))
}

/// Record consent changes
///
/// Grants and withdrawals with their legal basis, source, capture time and
/// evidence reference. A value equal to the current one is recorded as a
/// renewal (no new version). Withdrawing `sensitive_data` erases
/// `sensitive`. Honours `If-Match` and `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    operation_id = "record_consents",
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    request_body(content = ConsentRecordInput, content_type = "application/json"),
    responses((status = 200, description = "The consents now, and what was recorded", body = ConsentRecordResult,
               headers(("ETag" = String, description = "The stakeholder's version")))),
    security(("bearer" = []))
)]
#[post("/stakeholders/{id}/consents")]
async fn record_consents(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: IdAfterRole,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Consent)?;
    let id = id.get()?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let input: ConsentRecordInput = parse_body(into_object(body)?)?;
    let changes: Vec<NewConsent> = input
        .changes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            let purpose = c.consent?;
            Some(NewConsent {
                purpose,
                granted: c.granted?,
                legal_basis: c.legal_basis.unwrap_or(purpose.default_basis()),
                source: c.source.unwrap_or(ConsentSource::Api),
                captured_at: c.captured_at,
                evidence_ref: c.evidence_ref,
            })
        })
        .collect();
    let (scope, actor, pre) = (ctx.scope, ctx.actor.clone(), ctx.pre.clone());
    let stored = state
        .create(key, move |c| {
            let (row, recorded) = etag::versioned_in_tx(c, &pre, |c, pre| {
                // A renewal writes no new version: the lock keeps an erasure out.
                repo::require_not_erased(c, id)?;
                let current = repo::get(c, scope, id)?;
                pre.check(current.version)?;
                if current.erased_at.is_some() {
                    return Err(ApiError::Erased("the stakeholder is erased; its consents cannot change".into()));
                }
                repo::record_consent_changes(c, &actor, &current, &changes)
            })?;
            let recorded = recorded.into_iter().map(ConsentChange::from).collect();
            let result = ConsentRecordResult { consents: row.data.consents.0, recorded };
            StoredResponse::ok(repo::RESOURCE, row.id.0, row.version, &result)
        })
        .await?;
    Ok(stored.into_response())
}
