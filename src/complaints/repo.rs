//! Complaint queries, run inside the caller's transaction; writes record
//! their audit event in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{Category, ComplaintStatus, Severity};
use super::lifecycle::ComplaintAction;
use super::model::{ComplaintData, ComplaintRow};
use crate::audit::{self, Actor};
use crate::auth::RowScope;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::complaints as c;
use crate::db::{DbConnection, DbTimestamp, DbUuid, types};
use crate::error::ApiError;

pub const RESOURCE: &str = "complaint";

crate::sort_fields! {
    pub enum SortBy for ComplaintRow, Boxed, id = c::id; {
        CreatedAt = "created_at": DbTimestamp => c::created_at, |r| &r.created_at,
        UpdatedAt = "updated_at": DbTimestamp => c::updated_at, |r| &r.updated_at,
        DueAt = "due_at": DbTimestamp => c::due_at, |r| &r.data.due_at,
    }
}

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::CreatedAt, descending: true };

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub stakeholder_id: Option<Uuid>,
    pub status: Option<ComplaintStatus>,
    pub severity: Option<Severity>,
    pub category: Option<Category>,
    pub assignee_id: Option<String>,
    pub sla_breached: Option<bool>,
    pub opened_after: Option<DateTime<Utc>>,
    pub opened_before: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
}

crate::stakeholder_child_queries!(c, ComplaintRow);

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    scope: RowScope,
    paging: &Paging<SortBy>,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>, ApiError> {
    let mut q = scoped(scope);
    if let Some(v) = f.stakeholder_id {
        q = q.filter(c::stakeholder_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.status {
        q = q.filter(c::status.eq(v));
    }
    if let Some(v) = f.severity {
        q = q.filter(c::severity.eq(v));
    }
    if let Some(v) = f.category {
        q = q.filter(c::category.eq(v));
    }
    if let Some(v) = &f.assignee_id {
        q = q.filter(c::assignee_id.eq(v.clone()));
    }
    // The same rule as `lifecycle::sla_breached`, in SQL.
    let now_db = DbTimestamp(now);
    q = match f.sla_breached {
        None => q,
        Some(true) => q.filter(
            c::resolved_at
                .is_not_null()
                .and(c::resolved_at.gt(c::due_at.nullable()))
                .or(c::resolved_at.is_null().and(c::due_at.lt(now_db))),
        ),
        Some(false) => q.filter(
            c::resolved_at
                .is_not_null()
                .and(c::resolved_at.le(c::due_at.nullable()))
                .or(c::resolved_at.is_null().and(c::due_at.ge(now_db))),
        ),
    };
    if let Some(t) = f.opened_after {
        q = q.filter(c::created_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(c::updated_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.opened_before {
        q = q.filter(c::created_at.lt(DbTimestamp(t)));
    }
    Ok(SortBy::page(paging, q)?.load(conn)?)
}

fn changed_fields(old: Option<&ComplaintData>, new: &ComplaintData) -> Vec<&'static str> {
    crate::changed_fields!(old, new; stakeholder_id, subject, description, category, severity, channel, due_at)
}

/// Opens a complaint (`open`), stamped `created_at` = `now`.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    data: &ComplaintData,
    now: DateTime<Utc>,
) -> Result<ComplaintRow, ApiError> {
    let id = Uuid::now_v7();
    let now = DbTimestamp(now);
    diesel::insert_into(c::table)
        .values((
            c::id.eq(DbUuid(id)),
            data,
            c::status.eq(ComplaintStatus::Open),
            c::opened_by.eq(&actor.sub),
            c::version.eq(1),
            c::created_at.eq(now),
            c::updated_at.eq(now),
        ))
        .execute(conn)?;
    audit::record(conn, actor, "complaint.opened", RESOURCE, id, data.stakeholder_id.0, &changed_fields(None, data))?;
    find(conn, id, RowScope::ALL)?.ok_or_else(|| ApiError::internal("created complaint vanished"))
}

/// Writes `data` if the row is still at `current.version`; `None` on a lost race.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &ComplaintRow,
    data: &ComplaintData,
) -> Result<Option<ComplaintRow>, ApiError> {
    let fields = changed_fields(Some(&current.data), data);
    if fields.is_empty() {
        return Ok(Some(current.clone()));
    }
    let n = diesel::update(c::table.filter(c::id.eq(current.id)).filter(c::version.eq(current.version)))
        .set((data, c::version.eq(current.version + 1), c::updated_at.eq(DbTimestamp(types::now()))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    audit::record(conn, actor, "complaint.updated", RESOURCE, current.id.0, current.data.stakeholder_id.0, &fields)?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// Columns an action sets: outer `None` leaves a column alone, `Some(None)` clears it.
#[derive(AsChangeset)]
#[diesel(table_name = c)]
struct ActionChanges {
    status: ComplaintStatus,
    version: i32,
    updated_at: DbTimestamp,
    acknowledged_at: Option<Option<DbTimestamp>>,
    resolved_at: Option<Option<DbTimestamp>>,
    closed_at: Option<Option<DbTimestamp>>,
    resolution: Option<Option<String>>,
    satisfaction: Option<Option<i32>>,
    assignee_id: Option<Option<String>>,
}

/// Stores the result of a lifecycle action; `None` on a lost race.
pub fn apply(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &ComplaintRow,
    action: &ComplaintAction,
    next: ComplaintStatus,
    now: DateTime<Utc>,
) -> Result<Option<ComplaintRow>, ApiError> {
    use ComplaintAction as A;
    let now = DbTimestamp(now);
    let mut ch = ActionChanges {
        status: next,
        version: current.version + 1,
        updated_at: now,
        acknowledged_at: None,
        resolved_at: None,
        closed_at: None,
        resolution: None,
        satisfaction: None,
        assignee_id: None,
    };
    let fields: &[&str] = match action {
        A::Acknowledge => {
            ch.acknowledged_at = Some(Some(now));
            &["status", "acknowledged_at"]
        }
        A::Start => {
            // Starting work implies the case was seen.
            ch.acknowledged_at = Some(Some(current.acknowledged_at.unwrap_or(now)));
            &["status", "acknowledged_at"]
        }
        A::Resolve { resolution } => {
            ch.resolved_at = Some(Some(now));
            ch.resolution = Some(Some(resolution.clone()));
            &["status", "resolved_at", "resolution"]
        }
        A::Close { satisfaction } => {
            ch.closed_at = Some(Some(now));
            ch.satisfaction = Some(*satisfaction);
            &["status", "closed_at", "satisfaction"]
        }
        A::Reopen => {
            // The case is unresolved again: its SLA runs against now once more.
            ch.resolved_at = Some(None);
            ch.closed_at = Some(None);
            ch.resolution = Some(None);
            ch.satisfaction = Some(None);
            &["status", "resolved_at", "closed_at", "resolution", "satisfaction"]
        }
        A::Assign { assignee_id } => {
            ch.assignee_id = Some(Some(assignee_id.clone()));
            &["assignee_id"]
        }
    };
    let n = diesel::update(c::table.filter(c::id.eq(current.id)).filter(c::version.eq(current.version)))
        .set(&ch)
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let done = action.verb().past_tense();
    audit::record(
        conn,
        actor,
        &format!("complaint.{done}"),
        RESOURCE,
        current.id.0,
        current.data.stakeholder_id.0,
        fields,
    )?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}
