//! `/api/v1/analytics/{portfolio,interactions,lifecycle,offers,complaints}`:
//! read-only measures for admin, manager and analyst. Each handler checks
//! the role, parses the common parameters, reads its rows in one snapshot
//! and computes (`compute`). No SQL here.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, web};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::compute::{self, LifecycleFacts};
use super::dto::*;
use super::repo::{self, Population};
use super::window::{Bucket, Dim, GroupBy, Groups, Window, buckets};
use crate::auth::{Action, Resource};
use crate::db::{self, types};
use crate::error::ApiError;
use crate::http::context::Ctx;
use crate::http::extract::{QueryAfterRole, check_query_text};
use crate::state::AppState;

const TAG: &str = "analytics";

const PORTFOLIO: &[Dim] = &[Dim::Kind, Dim::EntityType, Dim::Segment, Dim::LifecycleStage];
const INTERACTIONS: &[Dim] = &[Dim::Channel, Dim::Direction, Dim::Type, Dim::Day, Dim::Week, Dim::Month];
const LIFECYCLE: &[Dim] = &[Dim::Kind, Dim::Segment, Dim::EntityType, Dim::Day, Dim::Week, Dim::Month];
const OFFERS: &[Dim] = &[Dim::ProductCategory, Dim::Day, Dim::Week, Dim::Month];
const COMPLAINTS: &[Dim] =
    &[Dim::Category, Dim::Severity, Dim::Channel, Dim::AssigneeId, Dim::Day, Dim::Week, Dim::Month];

/// The `group_by` dimensions each endpoint offers (the OpenAPI document
/// states them as a pattern).
pub const OFFERED: &[(&str, &[Dim])] = &[
    ("/api/v1/analytics/portfolio", PORTFOLIO),
    ("/api/v1/analytics/interactions", INTERACTIONS),
    ("/api/v1/analytics/lifecycle", LIFECYCLE),
    ("/api/v1/analytics/offers", OFFERS),
    ("/api/v1/analytics/complaints", COMPLAINTS),
];

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(portfolio).service(interactions).service(lifecycle).service(offers).service(complaints);
}

/// The checked common parameters of a request.
struct Request {
    window: Window,
    by: GroupBy,
    buckets: Option<Vec<Bucket>>,
    population: Population,
}

impl Request {
    /// The role first (contract: agents and partners 403, whatever the
    /// query), then the query's own errors.
    fn parse(ctx: &Ctx, q: Result<AnalyticsQuery, ApiError>, offered: &[Dim]) -> Result<Self, ApiError> {
        ctx.require(Resource::Analytics, Action::Read)?;
        let q = q?;
        for (name, value) in [("from", &q.from), ("to", &q.to), ("group_by", &q.group_by), ("segment", &q.segment)] {
            check_query_text(name, value, 500)?;
        }
        let window = Window::parse(q.from.as_deref(), q.to.as_deref(), types::now())?;
        let by = GroupBy::parse(q.group_by.as_deref(), offered)?;
        let buckets = by.time().map(|d| buckets(d, &window)).transpose()?;
        Ok(Self { window, by, buckets, population: Population { kind: q.kind, segment: q.segment } })
    }

    /// The response around the measures (the fields every endpoint shares).
    fn answer<M, G, O>(
        &self,
        metric: &str,
        g: Groups<M>,
        group: impl Fn(Map<String, Value>, O) -> G,
        done: impl Fn(M) -> O,
    ) -> Result<Answer<O, G>, ApiError> {
        g.check()?;
        let (totals, groups) = compute::groups(g, &self.by, group, done);
        Ok(Answer {
            metric: metric.to_owned(),
            w: self.window,
            group_by: self.by.names(),
            buckets: self.buckets.as_ref().map(|b| b.iter().map(|b| b.label.clone()).collect()),
            totals,
            groups,
        })
    }
}

/// The attributes (and archived flag) of the given stakeholders.
fn attrs_by_id(c: &mut db::DbConnection, ids: HashSet<Uuid>) -> Result<HashMap<Uuid, (repo::Attrs, bool)>, ApiError> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    Ok(repo::attrs_of(c, &ids)?.into_iter().map(|(id, a, archived)| (id.0, (a, archived))).collect())
}

/// The shared fields, before they go into the endpoint's response type.
struct Answer<O, G> {
    metric: String,
    w: Window,
    group_by: Vec<String>,
    buckets: Option<Vec<String>>,
    totals: O,
    groups: Vec<G>,
}

/// Builds `$response` from an [`Answer`].
macro_rules! respond {
    ($response:ident, $a:expr) => {{
        let a = $a;
        HttpResponse::Ok().json($response {
            metric: a.metric,
            from: a.w.from,
            to: a.w.to,
            as_of: a.w.as_of,
            timezone: "UTC".into(),
            group_by: a.group_by,
            buckets: a.buckets,
            totals: a.totals,
            groups: a.groups,
        })
    }};
}

/// Portfolio: stakeholders and revenue by segment
///
/// Population: stakeholders with `archived_at` null (`include_archived=true`
/// adds the archived), counted as of now, archived and erased included
/// where they belong. Revenue: their `purchase` interactions with
/// `occurred_at` in `[from, to)`, under the stakeholder's current
/// attributes. `group_by`: `kind`, `entity_type`, `segment`,
/// `lifecycle_stage` (no time dimension). Roles: admin, manager, analyst.
#[utoipa::path(
    tag = TAG,
    params(PortfolioQuery),
    responses((status = 200, description = "The portfolio", body = AnalyticsPortfolioResponse)),
    security(("bearer" = []))
)]
#[get("/analytics/portfolio")]
async fn portfolio(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<PortfolioQuery>,
) -> Result<HttpResponse, ApiError> {
    ctx.require(Resource::Analytics, Action::Read)?;
    let (q, include_archived) = query.get()?.split();
    let r = Request::parse(&ctx, Ok(q), PORTFOLIO)?;
    let (w, p) = (r.window, r.population.clone());
    let by = r.by.clone();
    let g = state
        .analytics(move |conn| {
            db::read_tx(conn, |c| {
                let counts = repo::portfolio_counts(c, &p, include_archived)?;
                let purchases = repo::purchases(c, &w, &p)?;
                let ids: HashSet<Uuid> = purchases.iter().map(|p| p.stakeholder_id.0).collect();
                let attrs = attrs_by_id(c, ids)?;
                // The measures on this blocking thread, not on the event loop.
                Ok(compute::portfolio(&by, &counts, &purchases, &attrs, include_archived))
            })
        })
        .await?;
    let a = r.answer("portfolio", g, |key, measures| PortfolioGroup { key, measures }, compute::portfolio_done)?;
    Ok(respond!(AnalyticsPortfolioResponse, a))
}

/// Interactions: volume, reach, satisfaction and revenue
///
/// Population: interactions with `occurred_at` in `[from, to)`.
/// `interactions` counts them; `stakeholders` counts distinct stakeholders
/// (in the totals too: not the sum of the groups); `satisfaction` averages
/// the rated ones; `purchases` and `revenue` (per currency) cover type
/// `purchase`. `group_by`: `channel`, `direction`, `type`, `day`, `week`,
/// `month`. Roles: admin, manager, analyst.
#[utoipa::path(
    tag = TAG,
    params(AnalyticsQuery),
    responses((status = 200, description = "The interaction measures", body = AnalyticsInteractionsResponse)),
    security(("bearer" = []))
)]
#[get("/analytics/interactions")]
async fn interactions(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let r = Request::parse(&ctx, query.get(), INTERACTIONS)?;
    let (w, p) = (r.window, r.population.clone());
    let by = r.by.clone();
    let g = state
        .analytics(move |conn| {
            db::read_tx(conn, |c| {
                let mut g = Groups::default();
                repo::each_interaction(c, &w, &p, |row| compute::add_interaction(&mut g, &by, row))?;
                Ok(g)
            })
        })
        .await?;
    let a =
        r.answer("interactions", g, |key, measures| InteractionsGroup { key, measures }, compute::interactions_done)?;
    Ok(respond!(AnalyticsInteractionsResponse, a))
}

/// Lifecycle: acquisition, transitions, funnel and churn
///
/// From the stage history (one row at creation, one per change of
/// `lifecycle_stage`). Ranks: prospect 0, lead 1, customer 2,
/// repeat_customer 3, advocate 4; `churned` has none. Over `[a, b)` (the
/// window, or the bucket): `acquired` = created in it; `new_customers` =
/// first change into customer/repeat_customer/advocate in it;
/// `reactivated` = distinct stakeholders with a change churned → customer
/// stage in it; `transitions` = changes in it; `funnel` = the acquired
/// cohort's members with a change to each ranked stage or higher before
/// `b`; `churn` = of those in a customer stage at `a` (their latest change
/// before `a`), how many changed to `churned` in it and how many are in a
/// customer stage at `b`. `group_by`: `kind`, `segment`, `entity_type`,
/// `day`, `week`, `month`. History before the stage history existed is one
/// creation row per stakeholder. Roles: admin, manager, analyst.
#[utoipa::path(
    tag = TAG,
    params(AnalyticsQuery),
    responses((status = 200, description = "The lifecycle measures", body = AnalyticsLifecycleResponse)),
    security(("bearer" = []))
)]
#[get("/analytics/lifecycle")]
async fn lifecycle(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let r = Request::parse(&ctx, query.get(), LIFECYCLE)?;
    let (w, p) = (r.window, r.population.clone());
    let by_attribute = r.by.dims.iter().any(|d| !d.is_time());
    let (by, buckets) = (r.by.clone(), r.buckets.clone());
    let g = state
        .analytics(move |conn| {
            db::read_tx(conn, |c| {
                let changes = repo::stage_changes(c, &w, &p)?;
                let acquired: Vec<(Uuid, _)> =
                    repo::acquired(c, &w, &p)?.into_iter().map(|(id, t)| (id.0, t.0)).collect();
                let customers_before: HashSet<Uuid> =
                    repo::customers_before(c, &w, &p)?.into_iter().map(|id| id.0).collect();
                let customers_at_start: HashSet<Uuid> =
                    repo::customers_at(c, w.from, &p)?.into_iter().map(|id| id.0).collect();
                // Attributes only when a group needs them (filters are applied in SQL).
                let attrs = if by_attribute {
                    let mut ids: HashSet<Uuid> = changes.iter().map(|c| c.stakeholder_id.0).collect();
                    ids.extend(acquired.iter().map(|(id, _)| *id));
                    ids.extend(customers_at_start.iter().copied());
                    attrs_by_id(c, ids)?.into_iter().map(|(id, (a, _))| (id, a)).collect()
                } else {
                    HashMap::new()
                };
                let facts = LifecycleFacts { changes, acquired, customers_before, customers_at_start, attrs };
                Ok(compute::lifecycle(&by, &w, buckets.as_deref(), &facts))
            })
        })
        .await?;
    let a = r.answer("lifecycle", g, |key, measures| LifecycleGroup { key, measures }, compute::lifecycle_done)?;
    Ok(respond!(AnalyticsLifecycleResponse, a))
}

/// Offers: conversion, response time and accepted value
///
/// Population: offers with `sent_at` in `[from, to)`, counted by their
/// status as of now (`expired` = `sent` past `valid_until`; `open` = `sent`
/// and still valid; the six add up to `sent`). `conversion_rate` =
/// ratio(accepted, sent); `decided_acceptance_rate` = ratio(accepted,
/// accepted + declined); `response_seconds` = nearest-rank p50/p90 of
/// `responded_at − sent_at` over accepted and declined; `accepted_value`
/// per currency: list = Σ price, net = Σ price × (100 − discount) div 100
/// per offer. `group_by`: `product_category`, `day`, `week`, `month` (of
/// `sent_at`). Roles: admin, manager, analyst.
#[utoipa::path(
    tag = TAG,
    params(AnalyticsQuery),
    responses((status = 200, description = "The offer measures", body = AnalyticsOffersResponse)),
    security(("bearer" = []))
)]
#[get("/analytics/offers")]
async fn offers(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let r = Request::parse(&ctx, query.get(), OFFERS)?;
    let (w, p) = (r.window, r.population.clone());
    let by = r.by.clone();
    let g = state
        .analytics(move |conn| {
            db::read_tx(conn, |c| {
                let mut g = Groups::default();
                repo::each_offer(c, &w, &p, |row| compute::add_offer(&mut g, &by, row, w.as_of))?;
                Ok(g)
            })
        })
        .await?;
    let a = r.answer("offers", g, |key, measures| OffersGroup { key, measures }, compute::offers_done)?;
    Ok(respond!(AnalyticsOffersResponse, a))
}

/// Complaints: volume, SLA, resolution and satisfaction
///
/// Each measure has its own population, bucketed by its own timestamp in
/// `[from, to)`: `opened` by `created_at`; `sla` by `resolved_at` (its
/// current value: a reopen clears it), within SLA when `resolved_at <=
/// due_at` (the same rule as `sla_breached`); `open_breached` (as of now)
/// = created in the window, unresolved, `due_at` before now;
/// `resolution_seconds` = `resolved_at − created_at` by `resolved_at`;
/// `acknowledge_seconds` = `acknowledged_at − created_at` by
/// `acknowledged_at`; `satisfaction` over the complaints closed in the
/// window with a rating (positive = 4 or 5). Durations are whole seconds;
/// percentiles are nearest rank. `group_by`: `category`, `severity`,
/// `channel`, `assignee_id`, `day`, `week`, `month`. Roles: admin, manager,
/// analyst.
#[utoipa::path(
    tag = TAG,
    params(AnalyticsQuery),
    responses((status = 200, description = "The complaint measures", body = AnalyticsComplaintsResponse)),
    security(("bearer" = []))
)]
#[get("/analytics/complaints")]
async fn complaints(
    ctx: Ctx,
    state: web::Data<AppState>,
    query: QueryAfterRole<AnalyticsQuery>,
) -> Result<HttpResponse, ApiError> {
    let r = Request::parse(&ctx, query.get(), COMPLAINTS)?;
    let (w, p) = (r.window, r.population.clone());
    let by = r.by.clone();
    let g = state
        .analytics(move |conn| {
            db::read_tx(conn, |c| {
                let mut g = Groups::default();
                repo::each_complaint(c, &w, &p, |row| compute::add_complaint(&mut g, &by, &w, row))?;
                Ok(g)
            })
        })
        .await?;
    let a = r.answer("complaints", g, |key, measures| ComplaintsGroup { key, measures }, compute::complaints_done)?;
    Ok(respond!(AnalyticsComplaintsResponse, a))
}
