//! Audit log queries. The log is written by `crate::audit` in the same
//! transaction as each change; these only read it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::AuditEventRow;
use crate::audit::EventCategory;
use crate::auth::Role;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::audit_events as ae;
use crate::db::{DbConnection, DbTimestamp, DbUuid, MultiBackend};
use crate::error::{ApiError, OrNotFound};

pub const RESOURCE: &str = "audit event";

type Boxed<'a> =
    ae::BoxedQuery<'a, MultiBackend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<AuditEventRow, MultiBackend>>>;

crate::sort_fields! {
    /// The audit log is read by time.
    pub enum SortBy for AuditEventRow, Boxed, id = ae::id; {
        OccurredAt = "occurred_at": DbTimestamp => ae::occurred_at, |r| &r.occurred_at,
    }
}

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::OccurredAt, descending: true };

/// Which actions: exact names, and resources whose every action matches (`stakeholder.*`).
#[derive(Debug, Default, Clone)]
pub struct Actions {
    pub exact: Vec<String>,
    pub prefixes: Vec<String>,
}

/// The list filters, already checked.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actions: Option<Actions>,
    pub category: Option<EventCategory>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub stakeholder_id: Option<Uuid>,
    pub actor_sub: Option<String>,
    pub actor_role: Option<Role>,
    pub request_id: Option<String>,
    pub occurred_after: Option<DateTime<Utc>>,
    pub occurred_before: Option<DateTime<Utc>>,
}

/// How much an export of stakeholder `id` holds (recorded before it is sent).
pub fn export_counts(conn: &mut DbConnection, id: Uuid) -> QueryResult<super::export::Counts> {
    use crate::db::schema::{complaints as c, consent_changes as cc, interactions as i, offers as o};
    let sid = DbUuid(id);
    let n = |v: i64| usize::try_from(v).unwrap_or(0);
    Ok(super::export::Counts {
        interactions: n(i::table.filter(i::stakeholder_id.eq(sid)).count().get_result(conn)?),
        offers: n(o::table.filter(o::stakeholder_id.eq(sid)).count().get_result(conn)?),
        complaints: n(c::table.filter(c::stakeholder_id.eq(sid)).count().get_result(conn)?),
        consent_changes: n(cc::table.filter(cc::stakeholder_id.eq(sid)).count().get_result(conn)?),
        access_log: n(ae::table.filter(ae::stakeholder_id.eq(sid)).count().get_result(conn)?),
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<AuditEventRow, ApiError> {
    ae::table
        .filter(ae::id.eq(DbUuid(id)))
        .select(AuditEventRow::as_select())
        .first(conn)
        .optional()?
        .or_not_found(RESOURCE)
}

/// `LIKE 'prefix.%'` with the prefix's own `%`, `_` and `\` matching themselves.
fn prefix_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 3);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str(".%");
    p
}

pub fn list(conn: &mut DbConnection, f: &Filter, paging: &Paging<SortBy>) -> Result<Vec<AuditEventRow>, ApiError> {
    let mut q = ae::table.select(AuditEventRow::as_select()).into_boxed::<MultiBackend>();
    if let Some(actions) = &f.actions {
        type Condition = Box<dyn BoxableExpression<ae::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;
        let mut any: Condition = Box::new(ae::action.eq_any(actions.exact.clone()));
        for prefix in &actions.prefixes {
            any = Box::new(any.or(ae::action.like(prefix_pattern(prefix)).escape('\\')));
        }
        q = q.filter(any);
    }
    if let Some(v) = f.category {
        q = q.filter(ae::category.eq(v));
    }
    if let Some(v) = &f.resource_type {
        q = q.filter(ae::resource_type.eq(v.clone()));
    }
    if let Some(v) = f.resource_id {
        q = q.filter(ae::resource_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.stakeholder_id {
        q = q.filter(ae::stakeholder_id.eq(DbUuid(v)));
    }
    if let Some(v) = &f.actor_sub {
        q = q.filter(ae::actor_sub.eq(v.clone()));
    }
    if let Some(v) = f.actor_role {
        q = q.filter(ae::actor_role.eq(v));
    }
    if let Some(v) = &f.request_id {
        q = q.filter(ae::request_id.eq(v.clone()));
    }
    if let Some(t) = f.occurred_after {
        q = q.filter(ae::occurred_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.occurred_before {
        q = q.filter(ae::occurred_at.lt(DbTimestamp(t)));
    }
    Ok(SortBy::page(paging, q)?.load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_patterns_escape_wildcards() {
        assert_eq!(prefix_pattern("stakeholder"), "stakeholder.%");
        assert_eq!(prefix_pattern("audit_events"), "audit\\_events.%");
    }
}
