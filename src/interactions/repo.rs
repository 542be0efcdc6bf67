//! Interaction queries, run inside the caller's transaction; writes record
//! their audit event in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{Direction, InteractionType};
use super::model::{InteractionData, InteractionRow};
use crate::audit::{self, Actor};
use crate::auth::RowScope;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::interactions as i;
use crate::db::{DbConnection, DbTimestamp, DbUuid, types};
use crate::domain::Channel;
use crate::error::ApiError;
use crate::error::FieldError;

pub const RESOURCE: &str = "interaction";

crate::sort_fields! {
    pub enum SortBy for InteractionRow, Boxed, id = i::id; {
        OccurredAt = "occurred_at": DbTimestamp => i::occurred_at, |r| &r.data.occurred_at,
        CreatedAt = "created_at": DbTimestamp => i::created_at, |r| &r.created_at,
        UpdatedAt = "updated_at": DbTimestamp => i::updated_at, |r| &r.updated_at,
    }
}

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::OccurredAt, descending: true };

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub stakeholder_id: Option<Uuid>,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub interaction_type: Option<InteractionType>,
    pub occurred_after: Option<DateTime<Utc>>,
    pub occurred_before: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
}

crate::stakeholder_child_queries!(i, InteractionRow);

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    scope: RowScope,
    paging: &Paging<SortBy>,
) -> Result<Vec<InteractionRow>, ApiError> {
    let mut q = scoped(scope);
    if let Some(v) = f.stakeholder_id {
        q = q.filter(i::stakeholder_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.channel {
        q = q.filter(i::channel.eq(v));
    }
    if let Some(v) = f.direction {
        q = q.filter(i::direction.eq(v));
    }
    if let Some(v) = f.interaction_type {
        q = q.filter(i::interaction_type.eq(v));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(i::updated_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.occurred_after {
        q = q.filter(i::occurred_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.occurred_before {
        q = q.filter(i::occurred_at.lt(DbTimestamp(t)));
    }
    Ok(SortBy::page(paging, q)?.load(conn)?)
}

fn changed_fields(old: Option<&InteractionData>, new: &InteractionData) -> Vec<&'static str> {
    crate::changed_fields!(old, new;
        stakeholder_id, channel, direction, interaction_type => "type", occurred_at, subject, notes, outcome,
        amount_minor => "amount", currency => "amount", satisfaction, offer_id, complaint_id,
    )
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    data: &InteractionData,
    now: DateTime<Utc>,
) -> Result<InteractionRow, ApiError> {
    let id = Uuid::now_v7();
    diesel::insert_into(i::table)
        .values((
            i::id.eq(DbUuid(id)),
            data,
            i::recorded_by.eq(&actor.sub),
            i::version.eq(1),
            i::created_at.eq(DbTimestamp(now)),
            i::updated_at.eq(DbTimestamp(now)),
        ))
        .execute(conn)
        .map_err(|e| link_error(e, data))?;
    let set = changed_fields(None, data);
    audit::record(conn, actor, "interaction.created", RESOURCE, id, data.stakeholder_id.0, &set)?;
    find(conn, id, RowScope::ALL)?.ok_or_else(|| ApiError::internal("created interaction vanished"))
}

/// A link the database refused: the offer or complaint was deleted after the
/// route checked it (a concurrent `DELETE`). That is the same 422 the check
/// gives, on the field concerned, never the generic 409 of a foreign key.
/// PostgreSQL names the constraint; SQLite does not (and serialises writers,
/// so it cannot get here through the race): then every link set is named.
fn link_error(e: diesel::result::Error, data: &InteractionData) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    let Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) = &e else {
        return e.into();
    };
    let constraint = info.constraint_name().unwrap_or_default();
    let named = |field: &str| constraint.contains(field);
    let mut errors = Vec::new();
    if named("offer_id") || (constraint.is_empty() && data.offer_id.is_some()) {
        errors.push(FieldError::new("offer_id", "reference", "no offer with that id for this stakeholder"));
    }
    if named("complaint_id") || (constraint.is_empty() && data.complaint_id.is_some()) {
        errors.push(FieldError::new("complaint_id", "reference", "no complaint with that id for this stakeholder"));
    }
    if errors.is_empty() { e.into() } else { ApiError::Validation(errors) }
}

/// Writes `data` if the row is still at `current.version`; `None` on a lost race.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &InteractionRow,
    data: &InteractionData,
) -> Result<Option<InteractionRow>, ApiError> {
    let fields = changed_fields(Some(&current.data), data);
    if fields.is_empty() {
        return Ok(Some(current.clone()));
    }
    let n = diesel::update(i::table.filter(i::id.eq(current.id)).filter(i::version.eq(current.version)))
        .set((data, i::version.eq(current.version + 1), i::updated_at.eq(DbTimestamp(types::now()))))
        .execute(conn)
        .map_err(|e| link_error(e, data))?;
    if n == 0 {
        return Ok(None);
    }
    audit::record(conn, actor, "interaction.updated", RESOURCE, current.id.0, current.data.stakeholder_id.0, &fields)?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// Hard delete (the audit trail keeps that it happened); `false` on a lost race.
pub fn delete(conn: &mut DbConnection, actor: &Actor, current: &InteractionRow) -> Result<bool, ApiError> {
    let n =
        diesel::delete(i::table.filter(i::id.eq(current.id)).filter(i::version.eq(current.version))).execute(conn)?;
    if n == 1 {
        audit::record(conn, actor, "interaction.deleted", RESOURCE, current.id.0, current.data.stakeholder_id.0, &[])?;
    }
    Ok(n == 1)
}
