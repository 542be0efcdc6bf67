//! `/api/v1/relationships`, a stakeholder's edges
//! `/api/v1/stakeholders/{id}/relationships` and its network
//! `/api/v1/stakeholders/{id}/network`. No SQL here.

use std::collections::HashMap;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use uuid::Uuid;

use super::dto::*;
use super::model::RelationshipData;
use super::network;
use super::repo::{self, DEFAULT_SORT, Filter, SortBy};
use crate::auth::{Action, Resource, RowScope};
use crate::db::{self, DbConnection, DbUuid, types};
use crate::error::ApiError;
use crate::http::context::Ctx;
use crate::http::etag;
use crate::http::extract::{JsonBody, into_object, parse_body};
use crate::http::idempotency::StoredResponse;
use crate::http::merge_patch::patched;
use crate::http::pagination::{Page, Paging};
use crate::stakeholders::repo as stakeholders;
use crate::state::AppState;

const TAG: &str = "relationships";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_relationship)
        .service(list_relationships)
        .service(get_relationship)
        .service(update_relationship)
        .service(delete_relationship)
        .service(list_stakeholder_relationships)
        .service(stakeholder_network);
}

fn location(id: Uuid) -> String {
    format!("/api/v1/relationships/{id}")
}

/// Today in UTC: what `active` is decided against.
fn today() -> NaiveDate {
    types::now().date_naive()
}

/// An end of a new edge: visible to the caller (404 naming the field),
/// neither erased (409 `erased`) nor archived (409).
fn new_end(c: &mut DbConnection, id: DbUuid, field: &str, scope: RowScope) -> Result<(), ApiError> {
    match stakeholders::parent_for_new_record(c, id.0, scope) {
        Err(ApiError::NotFound(_)) => Err(ApiError::NotFound(format!("no stakeholder with the {field} given"))),
        other => other.map(|_| ()),
    }
}

/// Create a relationship
///
/// `created_by` is the caller. Both ends must be visible to the caller (404),
/// not erased (409 `erased`) and not archived (409); a self-edge is 422; the
/// same ends and type active twice is 409 (either way round for the symmetric
/// `family_of` and `partner_of`, which are stored once and listed from both
/// ends). Partners may not create edges. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = TAG,
    request_body(content = RelationshipInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = Relationship,
         headers(("Location" = String, description = "URL of the new relationship"), ("ETag" = String, description = "The version"))),
    ),
    security(("bearer" = []))
)]
#[post("/relationships")]
async fn create_relationship(ctx: Ctx, state: web::Data<AppState>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Create)?;
    let body = body.into_inner();
    let key = ctx.idempotency_key(&body)?;
    state.refuse_erased_key(&key).await?;
    let input: RelationshipInput = parse_body(into_object(body)?)?;
    let data = RelationshipData::from_input(&input);
    let (scope, actor) = (ctx.scope, ctx.actor.clone());
    let stored = state
        .create(key, move |c| {
            new_end(c, data.from_id, "from_id", scope)?;
            new_end(c, data.to_id, "to_id", scope)?;
            let today = today();
            repo::refuse_active_duplicate(c, &data, None, today)?;
            let row = repo::create(c, &actor, &data, types::now())?;
            let stored =
                StoredResponse::created(repo::RESOURCE, row.id.0, location(row.id.0), row.version, &row.to_dto(today))?;
            Ok(stored.naming(&[row.data.from_id.0, row.data.to_id.0]))
        })
        .await?;
    Ok(stored.into_response())
}

/// List relationships
///
/// Newest first by default (`-created_at`); keyset-paginated. `from_id` and
/// `to_id` match the ends as stored; `stakeholder_id` matches either end. A
/// partner sees an edge only when it sees both ends.
#[utoipa::path(
    tag = TAG,
    params(RelationshipQuery),
    responses((status = 200, description = "A page of relationships", body = Page<Relationship>)),
    security(("bearer" = []))
)]
#[get("/relationships")]
async fn list_relationships(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<RelationshipQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Read)?;
    let q = query.into_inner();
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let today = today();
    let filter = Filter {
        from_id: q.from_id,
        to_id: q.to_id,
        stakeholder_id: q.stakeholder_id,
        relationship_type: q.relationship_type,
        active: q.active,
        today: Some(today),
    };
    let (p, scope) = (paging.clone(), ctx.scope);
    let rows = state.db(move |conn| db::read_tx(conn, |c| repo::list(c, &filter, scope, &p))).await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |r| r.to_dto(today))))
}

/// List a stakeholder's relationships
///
/// Both directions, newest first: each edge with its `direction` seen from
/// this stakeholder (`outgoing` for a symmetric type) and the `other` end
/// (`id`, `display_name`, `kind`, as the caller sees that stakeholder).
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), StakeholderRelationshipQuery),
    responses((status = 200, description = "A page of the stakeholder's relationships", body = Page<StakeholderRelationship>)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/relationships")]
async fn list_stakeholder_relationships(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<StakeholderRelationshipQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Read)?;
    let (id, q) = (id.into_inner(), query.into_inner());
    let paging = Paging::<SortBy>::parse(q.limit, q.sort.as_deref(), q.cursor.as_deref(), DEFAULT_SORT)?;
    let today = today();
    let filter = Filter {
        stakeholder_id: Some(id),
        relationship_type: q.relationship_type,
        active: q.active,
        today: Some(today),
        ..Filter::default()
    };
    let (p, scope) = (paging.clone(), ctx.scope);
    let (rows, others) = state
        .db(move |conn| {
            stakeholders::read_under(conn, scope, Some(id), |c| {
                let rows = repo::list(c, &filter, scope, &p)?;
                let ends: Vec<DbUuid> = rows.iter().map(|r| r.data.other_end(DbUuid(id))).collect();
                let others: HashMap<Uuid, StakeholderRef> =
                    repo::refs_of(c, &ends)?.into_iter().map(|r| (r.id, r)).collect();
                Ok((rows, others))
            })
        })
        .await?;
    let page = paging.page(rows, |r| {
        let outgoing = r.data.from_id.0 == id || r.data.relationship_type.symmetric();
        let other_id = r.data.other_end(DbUuid(id)).0;
        StakeholderRelationship {
            direction: if outgoing { RelationshipDirection::Outgoing } else { RelationshipDirection::Incoming },
            other: others.get(&other_id).cloned().unwrap_or_else(|| StakeholderRef {
                id: other_id,
                display_name: String::new(),
                kind: crate::stakeholders::dto::Kind::Customer,
            }),
            relationship: r.to_dto(today),
        }
    });
    Ok(HttpResponse::Ok().json(page))
}

/// A stakeholder's network
///
/// The stakeholders reachable within `depth` (1..3, default 1) active edges,
/// walked in both directions whatever the type, breadth-first: each once, at
/// its shortest distance, with the relationship ids of a shortest path from
/// the root. The root is not listed. At most 1,000 nodes, nearest first, then
/// `truncated: true`. Edges and stakeholders the caller cannot see are not walked.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Stakeholder id"), NetworkQuery),
    responses((status = 200, description = "The network around the stakeholder", body = Network)),
    security(("bearer" = []))
)]
#[get("/stakeholders/{id}/network")]
async fn stakeholder_network(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<NetworkQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Read)?;
    let depth = query.into_inner().depth.unwrap_or(1);
    if !(1..=3).contains(&depth) {
        return Err(ApiError::BadRequest("depth must be 1, 2 or 3".into()));
    }
    let (id, scope, today) = (id.into_inner(), ctx.scope, today());
    let network = state
        .db(move |conn| stakeholders::read_under(conn, scope, Some(id), |c| network::walk(c, scope, id, depth, today)))
        .await?;
    Ok(HttpResponse::Ok().json(network))
}

/// Get a relationship
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Relationship id")),
    responses(
        (status = 200, description = "The relationship", body = Relationship, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
    ),
    security(("bearer" = []))
)]
#[get("/relationships/{id}")]
async fn get_relationship(ctx: Ctx, state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Read)?;
    let (id, scope) = (id.into_inner(), ctx.scope);
    let row = state.db(move |c| repo::get(c, scope, id)).await?;
    Ok(ctx.get_response(row.version, || row.to_dto(today())))
}

/// Update a relationship (JSON merge patch)
///
/// RFC 7396; honours `If-Match`. The ends and `type` cannot change (record a
/// new relationship). An edge with an erased end takes no more changes (409
/// `erased`). Making an ended edge active again is 409 when an active one
/// with the same ends and type exists.
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Relationship id")),
    request_body(content = RelationshipInput, description = "A JSON merge patch of the writable fields",
                 content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated relationship", body = Relationship, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[patch("/relationships/{id}")]
async fn update_relationship(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Update)?;
    let patch = into_object(body.into_inner())?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    let row = state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            stakeholders::require_not_erased(c, current.data.from_id.0)?;
            stakeholders::require_not_erased(c, current.data.to_id.0)?;
            let input: RelationshipInput = patched(current.to_input(), &patch)?;
            let data = RelationshipData::from_input(&input);
            let mut immutable = Vec::new();
            for (field, changed) in [
                ("from_id", data.from_id != current.data.from_id),
                ("to_id", data.to_id != current.data.to_id),
                ("type", data.relationship_type != current.data.relationship_type),
            ] {
                if changed {
                    let message = "cannot be changed; record a new relationship";
                    immutable.push(crate::error::FieldError::new(field, "immutable", message));
                }
            }
            if !immutable.is_empty() {
                return Err(ApiError::Validation(immutable));
            }
            repo::refuse_active_duplicate(c, &data, Some(current.id), today())?;
            repo::update(c, &actor, &current, &data)
        })
        .await?;
    Ok(etag::ok(row.version, &row.to_dto(today())))
}

/// Delete a relationship
///
/// Permanent; the audit trail keeps who deleted it and when. Allowed on an
/// edge with an erased end (removing it holds no personal data back).
#[utoipa::path(
    tag = TAG,
    params(("id" = Uuid, Path, description = "Relationship id")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
#[delete("/relationships/{id}")]
async fn delete_relationship(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Relationships, Action::Delete)?;
    let (id, scope, actor) = (id.into_inner(), ctx.scope, ctx.actor.clone());
    state
        .write_versioned(ctx.pre.clone(), move |c, pre| {
            let current = repo::get(c, scope, id)?;
            pre.check(current.version)?;
            Ok(repo::delete(c, &actor, &current)?.then_some(()))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
