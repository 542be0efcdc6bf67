//! The rows each measure is computed from, read inside the caller's read
//! transaction. Only the columns the measures need; dimension values come
//! back as their stored text, which is the wire text.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::window::Window;
use crate::complaints::dto::{Category, Severity};
use crate::db::schema::{
    complaints as c, interactions as i, offers as o, stakeholder_stage_changes as ssc, stakeholders as s,
};
use crate::db::{DbConnection, DbTimestamp, DbUuid, MultiBackend};
use crate::domain::Channel;
use crate::interactions::dto::{Direction, InteractionType};
use crate::offers::dto::OfferStatus;
use crate::stakeholders::dto::{Kind, LifecycleStage};

/// The stakeholder filters every endpoint takes (current values).
#[derive(Debug, Clone, Default)]
pub struct Population {
    pub kind: Option<Kind>,
    pub segment: Option<String>,
}

/// Keeps the rows whose stakeholder (`$col`) is in the population: a
/// semi-join on `stakeholders`, only when a filter is set, so an unfiltered
/// window is read from its table's index alone.
macro_rules! population {
    ($q:expr, $col:expr, $p:expr) => {{
        let q = $q;
        match (&$p.kind, &$p.segment) {
            (None, None) => q,
            (Some(k), None) => q.filter($col.eq_any(s::table.filter(s::kind.eq(*k)).select(s::id))),
            (None, Some(seg)) => q.filter($col.eq_any(s::table.filter(s::segment.eq(seg.clone())).select(s::id))),
            (Some(k), Some(seg)) => {
                q.filter($col.eq_any(s::table.filter(s::kind.eq(*k)).filter(s::segment.eq(seg.clone())).select(s::id)))
            }
        }
    }};
}

/// The current attributes of a stakeholder that analytics group by.
#[derive(Debug, Clone, Queryable)]
pub struct Attrs {
    pub kind: String,
    pub entity_type: String,
    pub segment: Option<String>,
    pub lifecycle_stage: String,
}

type AttrCols = (s::kind, s::entity_type, s::segment, s::lifecycle_stage);
const ATTRS: AttrCols = (s::kind, s::entity_type, s::segment, s::lifecycle_stage);

/// Stakeholders per distinct attribute set: `(attrs, count, erased)`.
pub fn portfolio_counts(
    conn: &mut DbConnection,
    p: &Population,
    include_archived: bool,
) -> QueryResult<Vec<(Attrs, i64, i64)>> {
    let grouped = s::table
        .group_by(ATTRS)
        .select((ATTRS, diesel::dsl::count_star(), diesel::dsl::count(s::erased_at)))
        .into_boxed::<MultiBackend>();
    let mut q = grouped;
    if let Some(k) = p.kind {
        q = q.filter(s::kind.eq(k));
    }
    if let Some(seg) = &p.segment {
        q = q.filter(s::segment.eq(seg.clone()));
    }
    if !include_archived {
        q = q.filter(s::archived_at.is_null());
    }
    q.load(conn)
}

/// A purchase in the window (its stakeholder's attributes are read apart,
/// once per stakeholder).
#[derive(Debug, Queryable)]
pub struct Purchase {
    pub stakeholder_id: DbUuid,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

pub fn purchases(conn: &mut DbConnection, w: &Window, p: &Population) -> QueryResult<Vec<Purchase>> {
    population!(i::table.into_boxed::<MultiBackend>(), i::stakeholder_id, p)
        .filter(i::occurred_at.ge(DbTimestamp(w.from)))
        .filter(i::occurred_at.lt(DbTimestamp(w.to)))
        .filter(i::interaction_type.eq("purchase"))
        .select((i::stakeholder_id, i::amount_minor, i::currency))
        .load(conn)
}

#[derive(Debug, Queryable)]
pub struct InteractionFact {
    pub stakeholder_id: DbUuid,
    pub channel: Channel,
    pub direction: Direction,
    pub interaction_type: InteractionType,
    pub occurred_at: DbTimestamp,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub satisfaction: Option<i32>,
}

/// Hands each interaction of the window to `f` as it is read: the window is
/// never held in memory at once.
pub fn each_interaction(
    conn: &mut DbConnection,
    w: &Window,
    p: &Population,
    mut f: impl FnMut(InteractionFact),
) -> QueryResult<()> {
    let rows = population!(i::table.into_boxed::<MultiBackend>(), i::stakeholder_id, p)
        .filter(i::occurred_at.ge(DbTimestamp(w.from)))
        .filter(i::occurred_at.lt(DbTimestamp(w.to)))
        .select((
            i::stakeholder_id,
            i::channel,
            i::direction,
            i::interaction_type,
            i::occurred_at,
            i::amount_minor,
            i::currency,
            i::satisfaction,
        ))
        .load_iter::<InteractionFact, diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

#[derive(Debug, Queryable)]
pub struct OfferFact {
    pub product_category: Option<String>,
    pub status: OfferStatus,
    pub valid_until: Option<DbTimestamp>,
    pub sent_at: DbTimestamp,
    pub responded_at: Option<DbTimestamp>,
    pub price_minor: i64,
    pub currency: String,
    pub discount_percent: i32,
}

/// Hands each offer sent in the window to `f` as it is read.
pub fn each_offer(
    conn: &mut DbConnection,
    w: &Window,
    p: &Population,
    mut f: impl FnMut(OfferFact),
) -> QueryResult<()> {
    let rows = population!(o::table.into_boxed::<MultiBackend>(), o::stakeholder_id, p)
        .filter(o::sent_at.ge(DbTimestamp(w.from)))
        .filter(o::sent_at.lt(DbTimestamp(w.to)))
        .select((
            o::product_category,
            o::status,
            o::valid_until,
            o::sent_at.assume_not_null(),
            o::responded_at,
            o::price_minor,
            o::currency,
            o::discount_percent,
        ))
        .load_iter::<OfferFact, diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

#[derive(Debug, Queryable)]
pub struct ComplaintFact {
    pub category: Category,
    pub severity: Severity,
    pub channel: Option<Channel>,
    pub assignee_id: Option<String>,
    pub created_at: DbTimestamp,
    pub due_at: DbTimestamp,
    pub acknowledged_at: Option<DbTimestamp>,
    pub resolved_at: Option<DbTimestamp>,
    pub closed_at: Option<DbTimestamp>,
    pub satisfaction: Option<i32>,
}

/// Complaints with any of the measured timestamps in the window (each
/// measure then picks its own population), handed to `f` as they are read.
pub fn each_complaint(
    conn: &mut DbConnection,
    w: &Window,
    p: &Population,
    mut f: impl FnMut(ComplaintFact),
) -> QueryResult<()> {
    let (from, to) = (DbTimestamp(w.from), DbTimestamp(w.to));
    let rows = population!(c::table.into_boxed::<MultiBackend>(), c::stakeholder_id, p)
        .filter(
            c::created_at
                .ge(from)
                .and(c::created_at.lt(to))
                .or(c::resolved_at.ge(from).and(c::resolved_at.lt(to)))
                .or(c::acknowledged_at.ge(from).and(c::acknowledged_at.lt(to)))
                .or(c::closed_at.ge(from).and(c::closed_at.lt(to))),
        )
        .select((
            c::category,
            c::severity,
            c::channel,
            c::assignee_id,
            c::created_at,
            c::due_at,
            c::acknowledged_at,
            c::resolved_at,
            c::closed_at,
            c::satisfaction,
        ))
        .load_iter::<ComplaintFact, diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

/// A stage change in the window, with its stakeholder's attributes.
#[derive(Debug, Clone, Queryable)]
pub struct ChangeFact {
    pub stakeholder_id: DbUuid,
    pub from_stage: Option<LifecycleStage>,
    pub to_stage: LifecycleStage,
    pub changed_at: DbTimestamp,
    pub id: DbUuid,
}

/// The stage changes in the window, oldest first (ties: the greater id last).
pub fn stage_changes(conn: &mut DbConnection, w: &Window, p: &Population) -> QueryResult<Vec<ChangeFact>> {
    population!(ssc::table.into_boxed::<MultiBackend>(), ssc::stakeholder_id, p)
        .filter(ssc::changed_at.ge(DbTimestamp(w.from)))
        .filter(ssc::changed_at.lt(DbTimestamp(w.to)))
        .order((ssc::changed_at.asc(), ssc::id.asc()))
        .select((ssc::stakeholder_id, ssc::from_stage, ssc::to_stage, ssc::changed_at, ssc::id))
        .load(conn)
}

pub const CUSTOMER_STAGES: [LifecycleStage; 3] =
    [LifecycleStage::Customer, LifecycleStage::RepeatCustomer, LifecycleStage::Advocate];

/// Stakeholders with a change into a customer stage before the window
/// (so a change into one in the window is not their first).
pub fn customers_before(conn: &mut DbConnection, w: &Window, p: &Population) -> QueryResult<Vec<DbUuid>> {
    population!(ssc::table.into_boxed::<MultiBackend>(), ssc::stakeholder_id, p)
        .filter(ssc::to_stage.eq_any(CUSTOMER_STAGES))
        .filter(ssc::changed_at.lt(DbTimestamp(w.from)))
        .select(ssc::stakeholder_id)
        .distinct()
        .load(conn)
}

/// The stage of each stakeholder at `t` (its latest change before `t`;
/// ties: the greater id), for those whose stage then was a customer stage.
pub fn customers_at(conn: &mut DbConnection, t: DateTime<Utc>, p: &Population) -> QueryResult<Vec<DbUuid>> {
    let later = diesel::alias!(crate::db::schema::stakeholder_stage_changes as later);
    let at = DbTimestamp(t);
    let newer = later
        .filter(later.field(ssc::stakeholder_id).eq(ssc::stakeholder_id))
        .filter(later.field(ssc::changed_at).lt(at))
        .filter(
            later
                .field(ssc::changed_at)
                .gt(ssc::changed_at)
                .or(later.field(ssc::changed_at).eq(ssc::changed_at).and(later.field(ssc::id).gt(ssc::id))),
        );
    population!(ssc::table.into_boxed::<MultiBackend>(), ssc::stakeholder_id, p)
        .filter(ssc::changed_at.lt(at))
        .filter(ssc::to_stage.eq_any(CUSTOMER_STAGES))
        .filter(diesel::dsl::not(diesel::dsl::exists(newer)))
        .select(ssc::stakeholder_id)
        .load(conn)
}

/// Stakeholders created in the window: `(id, created_at)`.
pub fn acquired(conn: &mut DbConnection, w: &Window, p: &Population) -> QueryResult<Vec<(DbUuid, DbTimestamp)>> {
    let mut q = s::table
        .filter(s::created_at.ge(DbTimestamp(w.from)))
        .filter(s::created_at.lt(DbTimestamp(w.to)))
        .select((s::id, s::created_at))
        .into_boxed::<MultiBackend>();
    if let Some(k) = p.kind {
        q = q.filter(s::kind.eq(k));
    }
    if let Some(seg) = &p.segment {
        q = q.filter(s::segment.eq(seg.clone()));
    }
    q.load(conn)
}

/// The attributes of the given stakeholders and whether each is archived,
/// read in slices under SQLite's bound-parameter limit.
pub fn attrs_of(conn: &mut DbConnection, ids: &[Uuid]) -> QueryResult<Vec<(DbUuid, Attrs, bool)>> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(10_000) {
        let part: Vec<DbUuid> = part.iter().copied().map(DbUuid).collect();
        let rows: Vec<(DbUuid, Attrs, Option<DbTimestamp>)> =
            s::table.filter(s::id.eq_any(part)).select((s::id, ATTRS, s::archived_at)).load(conn)?;
        out.extend(rows.into_iter().map(|(id, a, archived)| (id, a, archived.is_some())));
    }
    Ok(out)
}
