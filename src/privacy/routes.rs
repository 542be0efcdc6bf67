//! `/api/v1/audit-events` (admin): the audit log, read; and
//! `/api/v1/stakeholders/{id}/export`. No SQL here.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde_json::json;
use uuid::Uuid;

use super::dto::{AuditEvent, AuditEventQuery, ErasureReceipt, ErasureRequest, StakeholderExport};
use super::export;
use super::repo::{self, Actions, DEFAULT_SORT, Filter, SortBy};
use crate::audit::{self, ACTIONS, Event};
use crate::auth::{Action, Resource};
use crate::db;
use crate::error::ApiError;
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::extract::{
    BodyBytes, IdAfterRole, QueryAfterRole, check_query_text, optional_object, parse_body, query_time,
};
use crate::http::pagination::{Page, Paging};
use crate::stakeholders::repo as stakeholders;
use crate::state::AppState;

const TAG: &str = "privacy";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events).service(get_audit_event).service(export_stakeholder).service(erase_stakeholder);
}

/// `action=a,b,c.*`: each an action the server records, or `<resource>.*`.
fn parse_actions(raw: &str) -> Result<Actions, ApiError> {
    let mut out = Actions::default();
    for item in raw.split(',').map(str::trim) {
        let known = match item.strip_suffix(".*") {
            Some(resource) => {
                let known = ACTIONS.iter().any(|a| a.split_once('.').is_some_and(|(r, _)| r == resource));
                out.prefixes.push(resource.to_owned());
                known
            }
            None => {
                out.exact.push(item.to_owned());
                ACTIONS.contains(&item)
            }
        };
        if !known {
            return Err(ApiError::BadRequest(
                "action must be a comma-separated list of recorded actions (`offer.sent`) or `<resource>.*`".into(),
            ));
        }
    }
    Ok(out)
}

/// The checked filters, and the names of those used (recorded, never their values).
fn filter_of(q: AuditEventQuery) -> Result<(Filter, Vec<&'static str>), ApiError> {
    for (name, value) in [("action", &q.action), ("resource_type", &q.resource_type)] {
        check_query_text(name, value, 500)?;
    }
    for (name, value) in [("actor_sub", &q.actor_sub), ("request_id", &q.request_id)] {
        check_query_text(name, value, 500)?;
    }
    let filter = Filter {
        actions: q.action.as_deref().map(parse_actions).transpose()?,
        category: q.category,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        stakeholder_id: q.stakeholder_id,
        actor_sub: q.actor_sub,
        actor_role: q.actor_role,
        request_id: q.request_id,
        occurred_after: query_time("occurred_after", q.occurred_after)?,
        occurred_before: query_time("occurred_before", q.occurred_before)?,
    };
    let used = [
        ("action", filter.actions.is_some()),
        ("category", filter.category.is_some()),
        ("resource_type", filter.resource_type.is_some()),
        ("resource_id", filter.resource_id.is_some()),
        ("stakeholder_id", filter.stakeholder_id.is_some()),
        ("actor_sub", filter.actor_sub.is_some()),
        ("actor_role", filter.actor_role.is_some()),
        ("request_id", filter.request_id.is_some()),
        ("occurred_after", filter.occurred_after.is_some()),
        ("occurred_before", filter.occurred_before.is_some()),
    ];
    Ok((filter, used.into_iter().filter(|(_, set)| *set).map(|(name, _)| name).collect()))
}

/// List audit events (admin)
///
/// Newest first by default; keyset-paginated; filters combine with AND.
/// Every call is itself recorded (`audit_events.listed`, with the names of
/// the filters used).
#[utoipa::path(
    tag = TAG,
    params(AuditEventQuery),
    responses((status = 200, description = "A page of audit events", body = Page<AuditEvent>)),
    security(("bearer" = []))
)]
#[get("/audit-events")]
async fn list_audit_events(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<AuditEventQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::AuditEvents, Action::Read)?;
    let q = query.get()?;
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let (filter, used) = filter_of(q)?;
    let (actor, p) = (ctx.actor.clone(), paging.clone());
    let rows = state
        .db(move |conn| {
            db::write_tx(conn, |c| {
                let rows = repo::list(c, &filter, &p)?;
                let listed = Event {
                    action: "audit_events.listed",
                    resource_type: "audit_event",
                    resource_id: Uuid::nil(),
                    stakeholder_id: None,
                    changed_fields: &[],
                    metadata: json!({ "filters": used }),
                };
                audit::record_event(c, &actor, &listed)?;
                Ok(rows)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |r| r.to_dto())))
}

/// Get an audit event (admin)
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Audit event id")),
    responses((status = 200, description = "The audit event", body = AuditEvent)),
    security(("bearer" = []))
)]
#[get("/audit-events/{id}")]
async fn get_audit_event(ctx: Ctx, state: web::Data<AppState>, id: IdAfterRole) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::AuditEvents, Action::Read)?;
    let id = id.get()?;
    let row = state.db(move |c| repo::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(row.to_dto()))
}

/// Export everything held on a stakeholder (admin, manager)
///
/// One JSON document (GDPR Art. 15, 20): the full unmasked record, consent
/// history, lifecycle history, interactions, offers, complaints, the
/// purposes and recipients of processing, the access log (without staff
/// ids) and counts. Streamed from one read transaction. Recorded as
/// `stakeholder.exported` before the first byte (503 if that fails).
#[utoipa::path(
    tag = "stakeholders",
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    responses((status = 200, description = "The export", body = StakeholderExport,
               headers(("Content-Disposition" = String, description = "`attachment; filename=\"stakeholder-{id}.json\"`")))),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/export")]
async fn export_stakeholder(ctx: Ctx, state: web::Data<AppState>, id: IdAfterRole) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Export)?;
    let (id, scope, actor) = (id.get()?, ctx.scope, ctx.actor.clone());
    // Fail closed: the export is on record before anything of it is sent.
    state
        .db(move |conn| {
            db::write_tx(conn, |c| {
                stakeholders::get(c, scope, id)?;
                let counts = repo::export_counts(c, id)?;
                let exported = Event {
                    action: "stakeholder.exported",
                    resource_type: stakeholders::RESOURCE,
                    resource_id: id,
                    stakeholder_id: Some(id),
                    changed_fields: &[],
                    metadata: json!({ "counts": counts }),
                };
                Ok(audit::record_event(c, &actor, &exported)?)
            })
        })
        .await
        .map_err(|e| match e {
            // Fail closed: no record of the export, no export (503); a 404 stays a 404.
            ApiError::Internal(cause) => ApiError::Unavailable(format!("recording the export failed: {cause}")),
            other => other,
        })?;
    let notice = state.settings.privacy_retention_notice.clone();
    let body = state.stream(move |conn, send| export::write(conn, id, notice.as_deref(), send)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"stakeholder-{id}.json\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// Erase a stakeholder (admin)
///
/// Irreversible anonymisation in one transaction: identifying data goes,
/// the facts aggregates need stay (contracts/privacy.md). Records under the
/// stakeholder lose their free text; stored idempotent answers become
/// tombstones (a replay answers 410). Erasing again answers with the first
/// receipt. Honours `If-Match`.
#[utoipa::path(
    tag = "stakeholders",
    params(("id" = Uuid, Path, description = "Stakeholder id")),
    request_body(content = ErasureRequest, content_type = "application/json"),
    responses((status = 200, description = "The receipt", body = ErasureReceipt,
               headers(("ETag" = String, description = "The anonymised stakeholder's version")))),
    security(("bearer" = []))
)]
#[post("/stakeholders/{id}/erase")]
async fn erase_stakeholder(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: IdAfterRole,
    body: BodyBytes,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Stakeholders, Action::Erase)?;
    let id = id.get()?;
    // An empty body counts as `{}`: the reason is still required.
    let request: ErasureRequest = parse_body(optional_object(ctx.request(), &body.0)?.unwrap_or_default())?;
    let (scope, actor, max) = (ctx.scope, ctx.actor.clone(), state.settings.erase_max_child_rows);
    let (receipt, row) = state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = stakeholders::get(c, scope, id)?;
            pre.check(current.version)?;
            if current.erased_at.is_some() {
                let receipt = repo::erasure_of(c, id)?
                    .ok_or_else(|| ApiError::Erased("the stakeholder was erased without a receipt".into()))?;
                return Ok(Some((receipt, current)));
            }
            repo::erase(c, &actor, &current, &request, max)
        })
        .await?;
    state.compact_after_erasure().await;
    Ok(etag::ok(row.version, &receipt.to_receipt(row.to_dto(ctx.fields))))
}
