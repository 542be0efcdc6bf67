//! Relationship queries, run inside the caller's transaction; writes record
//! their audit event in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{RelationshipType, StakeholderRef};
use super::model::{RelationshipData, RelationshipRow};
use crate::audit::{self, Actor, Event};
use crate::auth::RowScope;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::relationships as r;
use crate::db::{DbConnection, DbTimestamp, DbUuid, MultiBackend, types};
use crate::error::{ApiError, OrNotFound};
use crate::stakeholders::repo::partner_stakeholder_ids;

pub const RESOURCE: &str = "relationship";

crate::sort_fields! {
    pub enum SortBy for RelationshipRow, Boxed, id = r::id; {
        CreatedAt = "created_at": DbTimestamp => r::created_at, |row| &row.created_at,
        UpdatedAt = "updated_at": DbTimestamp => r::updated_at, |row| &row.updated_at,
    }
}

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::CreatedAt, descending: true };

type Boxed<'a> =
    r::BoxedQuery<'a, MultiBackend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<RelationshipRow, MultiBackend>>>;

/// Edges the caller may see: a partner only those whose both ends are its own.
fn scoped<'a>(scope: RowScope) -> Boxed<'a> {
    let mut q = r::table.select(RelationshipRow::as_select()).into_boxed::<MultiBackend>();
    if let Some(p) = scope.partner_id {
        q = q.filter(r::from_id.eq_any(partner_stakeholder_ids(p))).filter(r::to_id.eq_any(partner_stakeholder_ids(p)));
    }
    q
}

pub fn find(conn: &mut DbConnection, id: Uuid, scope: RowScope) -> QueryResult<Option<RelationshipRow>> {
    scoped(scope).filter(r::id.eq(DbUuid(id))).first(conn).optional()
}

/// The row, or 404 when it does not exist or the caller may not see it.
pub fn get(conn: &mut DbConnection, scope: RowScope, id: Uuid) -> Result<RelationshipRow, ApiError> {
    find(conn, id, scope)?.or_not_found(RESOURCE)
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub from_id: Option<Uuid>,
    pub to_id: Option<Uuid>,
    /// Either end.
    pub stakeholder_id: Option<Uuid>,
    pub relationship_type: Option<RelationshipType>,
    /// Active on `today` (`true`) or ended by it (`false`).
    pub active: Option<bool>,
    pub today: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    scope: RowScope,
    paging: &Paging<SortBy>,
) -> Result<Vec<RelationshipRow>, ApiError> {
    let mut q = scoped(scope);
    if let Some(v) = f.from_id {
        q = q.filter(r::from_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.to_id {
        q = q.filter(r::to_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.stakeholder_id {
        q = q.filter(r::from_id.eq(DbUuid(v)).or(r::to_id.eq(DbUuid(v))));
    }
    if let Some(v) = f.relationship_type {
        q = q.filter(r::relationship_type.eq(v));
    }
    let today = f.today.unwrap_or_else(|| types::now().date_naive());
    match f.active {
        Some(true) => q = q.filter(r::ended_on.is_null().or(r::ended_on.gt(today))),
        Some(false) => q = q.filter(r::ended_on.le(today)),
        None => {}
    }
    Ok(SortBy::page(paging, q)?.load(conn)?)
}

fn changed_fields(old: Option<&RelationshipData>, new: &RelationshipData) -> Vec<&'static str> {
    crate::changed_fields!(old, new;
        from_id, to_id, relationship_type => "type", started_on, ended_on, strength, notes,
    )
}

/// 409 when another active relationship has the same ends and type (either
/// way round for a symmetric type). Serialised per pair: a transaction-scoped
/// advisory lock on PostgreSQL; SQLite has one writer already.
pub fn refuse_active_duplicate(
    conn: &mut DbConnection,
    data: &RelationshipData,
    except: Option<DbUuid>,
    today: NaiveDate,
) -> Result<(), ApiError> {
    if !super::model::active_on(data.ended_on, today) {
        return Ok(());
    }
    let (a, b) = (data.from_id, data.to_id);
    if let DbConnection::Pg(pg) = conn {
        let key = pair_lock_key(a.min(b), a.max(b), data.relationship_type);
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<diesel::sql_types::BigInt, _>(key).execute(pg)?;
    }
    let same_way = r::from_id.eq(a).and(r::to_id.eq(b));
    let mut q = r::table
        .filter(r::relationship_type.eq(data.relationship_type))
        .filter(r::ended_on.is_null().or(r::ended_on.gt(today)))
        .select(r::id)
        .into_boxed::<MultiBackend>();
    q = if data.relationship_type.symmetric() {
        q.filter(same_way.or(r::from_id.eq(b).and(r::to_id.eq(a))))
    } else {
        q.filter(same_way)
    };
    if let Some(id) = except {
        q = q.filter(r::id.ne(id));
    }
    match q.first::<DbUuid>(conn).optional()? {
        Some(other) => Err(ApiError::Conflict(format!(
            "an active {} relationship between these stakeholders exists already ({})",
            data.relationship_type, other.0
        ))),
        None => Ok(()),
    }
}

/// A stable 64-bit key for the pair and type (FNV-1a): every replica locks
/// the same key for the same edge.
fn pair_lock_key(lo: DbUuid, hi: DbUuid, t: RelationshipType) -> i64 {
    crate::db::lock_key(lo.0.as_bytes().iter().chain(hi.0.as_bytes()).chain(t.as_str().as_bytes()).copied())
}

fn event<'a>(action: &'a str, row_id: Uuid, data: &RelationshipData, fields: &'a [&'a str]) -> Event<'a> {
    Event {
        action,
        resource_type: RESOURCE,
        resource_id: row_id,
        stakeholder_id: Some(data.from_id.0),
        changed_fields: fields,
        metadata: serde_json::json!({"from_id": data.from_id.0, "to_id": data.to_id.0}),
    }
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    data: &RelationshipData,
    now: DateTime<Utc>,
) -> Result<RelationshipRow, ApiError> {
    let id = Uuid::now_v7();
    diesel::insert_into(r::table)
        .values((
            r::id.eq(DbUuid(id)),
            data,
            r::created_by.eq(&actor.sub),
            r::version.eq(1),
            r::created_at.eq(DbTimestamp(now)),
            r::updated_at.eq(DbTimestamp(now)),
        ))
        .execute(conn)?;
    let set = changed_fields(None, data);
    audit::record_event(conn, actor, &event("relationship.created", id, data, &set))?;
    find(conn, id, RowScope::ALL)?.ok_or_else(|| ApiError::internal("created relationship vanished"))
}

/// Writes `data` if the row is still at `current.version`; `None` on a lost race.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &RelationshipRow,
    data: &RelationshipData,
) -> Result<Option<RelationshipRow>, ApiError> {
    let fields = changed_fields(Some(&current.data), data);
    if fields.is_empty() {
        return Ok(Some(current.clone()));
    }
    let n = diesel::update(r::table.filter(r::id.eq(current.id)).filter(r::version.eq(current.version)))
        .set((data, r::version.eq(current.version + 1), r::updated_at.eq(DbTimestamp(types::now()))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    audit::record_event(conn, actor, &event("relationship.updated", current.id.0, data, &fields))?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// Hard delete (the audit trail keeps that it happened); `false` on a lost race.
pub fn delete(conn: &mut DbConnection, actor: &Actor, current: &RelationshipRow) -> Result<bool, ApiError> {
    let n =
        diesel::delete(r::table.filter(r::id.eq(current.id)).filter(r::version.eq(current.version))).execute(conn)?;
    if n == 1 {
        audit::record_event(conn, actor, &event("relationship.deleted", current.id.0, &current.data, &[]))?;
    }
    Ok(n == 1)
}

/// Every relationship at either end of `id`, `(created_at, id)` ascending (the export).
pub fn all_of(conn: &mut DbConnection, id: Uuid) -> QueryResult<Vec<RelationshipRow>> {
    let id = DbUuid(id);
    r::table
        .filter(r::from_id.eq(id).or(r::to_id.eq(id)))
        .order((r::created_at.asc(), r::id.asc()))
        .select(RelationshipRow::as_select())
        .load(conn)
}

/// The ids of every relationship at either end of `id`.
pub fn ids_of(conn: &mut DbConnection, id: DbUuid) -> QueryResult<Vec<DbUuid>> {
    r::table.filter(r::from_id.eq(id).or(r::to_id.eq(id))).select(r::id).load(conn)
}

/// Erasure: the edges of `id` stay (ids and types are not personal data),
/// their notes go. Each changed edge gets a new version, so no cached copy
/// of the notes validates again. Returns how many edges had notes.
pub fn clear_notes_of(conn: &mut DbConnection, id: DbUuid, now: DateTime<Utc>) -> QueryResult<i64> {
    let n = diesel::update(r::table.filter(r::from_id.eq(id).or(r::to_id.eq(id))).filter(r::notes.is_not_null()))
        .set((r::notes.eq(None::<String>), r::version.eq(r::version + 1), r::updated_at.eq(DbTimestamp(now))))
        .execute(conn)?;
    Ok(n as i64)
}

/// One hop of the network walk: the active edges at either end of the
/// `frontier`, that the caller may see, `(id, from_id, to_id)` in id order,
/// at most `limit` of them (which ones, when there are more, is arbitrary:
/// the walk then ends `truncated`). Two indexed reads (one per end) merged here: as
/// one `OR`, SQLite scanned the whole table once the frontier passed a few
/// hundred ids.
pub fn edges_touching(
    conn: &mut DbConnection,
    frontier: &[DbUuid],
    scope: RowScope,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<(DbUuid, DbUuid, DbUuid)>> {
    let mut edges: Vec<(DbUuid, DbUuid, DbUuid)> = Vec::new();
    for from_end in [true, false] {
        for part in frontier.chunks(5_000) {
            let mut q = r::table
                .filter(r::ended_on.is_null().or(r::ended_on.gt(today)))
                .select((r::id, r::from_id, r::to_id))
                .into_boxed::<MultiBackend>();
            q = if from_end {
                q.filter(r::from_id.eq_any(part.to_vec()))
            } else {
                q.filter(r::to_id.eq_any(part.to_vec()))
            };
            if let Some(p) = scope.partner_id {
                q = q
                    .filter(r::from_id.eq_any(partner_stakeholder_ids(p)))
                    .filter(r::to_id.eq_any(partner_stakeholder_ids(p)));
            }
            // No ORDER BY: with one, a planner may walk the primary key for
            // the order instead of the end's index (sorted below instead).
            edges.extend(q.limit(limit).load::<(DbUuid, DbUuid, DbUuid)>(conn)?);
        }
    }
    // An edge between two frontier nodes came from both reads.
    edges.sort_unstable_by_key(|e| e.0);
    edges.dedup_by_key(|e| e.0);
    edges.truncate(limit as usize);
    Ok(edges)
}

/// The other ends as the caller sees them: `id`, `display_name` and `kind`,
/// which no role's field policy redacts (an erased stakeholder's name is
/// already "Erased stakeholder"). Contact details are never included.
pub fn refs_of(conn: &mut DbConnection, ids: &[DbUuid]) -> QueryResult<Vec<StakeholderRef>> {
    use crate::db::schema::stakeholders as s;
    use crate::stakeholders::dto::Kind;
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(5_000) {
        let rows: Vec<(DbUuid, String, Kind)> =
            s::table.filter(s::id.eq_any(part.to_vec())).select((s::id, s::display_name, s::kind)).load(conn)?;
        out.extend(rows.into_iter().map(|(id, display_name, kind)| StakeholderRef { id: id.0, display_name, kind }));
    }
    Ok(out)
}
