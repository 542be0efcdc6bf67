//! Offer queries, run inside the caller's transaction; writes record their
//! audit event in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::OfferStatus;
use super::lifecycle::OfferAction;
use super::model::{OfferData, OfferRow};
use crate::audit::{self, Actor};
use crate::auth::RowScope;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::offers as o;
use crate::db::{DbConnection, DbTimestamp, DbUuid, types};
use crate::error::ApiError;

pub const RESOURCE: &str = "offer";

crate::sort_fields! {
    pub enum SortBy for OfferRow, Boxed, id = o::id; {
        CreatedAt = "created_at": DbTimestamp => o::created_at, |r| &r.created_at,
        UpdatedAt = "updated_at": DbTimestamp => o::updated_at, |r| &r.updated_at,
    }
}

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::CreatedAt, descending: true };

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub stakeholder_id: Option<Uuid>,
    pub status: Option<OfferStatus>,
    pub product_category: Option<String>,
    pub valid_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

crate::stakeholder_child_queries!(o, OfferRow);

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    scope: RowScope,
    paging: &Paging<SortBy>,
    now: DateTime<Utc>,
) -> Result<Vec<OfferRow>, ApiError> {
    let mut q = scoped(scope);
    if let Some(v) = f.stakeholder_id {
        q = q.filter(o::stakeholder_id.eq(DbUuid(v)));
    }
    let now_db = DbTimestamp(now);
    // Status as read: a sent offer past valid_until is expired.
    q = match f.status {
        None => q,
        Some(OfferStatus::Expired) => q.filter(
            o::status.eq(OfferStatus::Expired).or(o::status.eq(OfferStatus::Sent).and(o::valid_until.le(now_db))),
        ),
        Some(OfferStatus::Sent) => {
            q.filter(o::status.eq(OfferStatus::Sent)).filter(o::valid_until.is_null().or(o::valid_until.gt(now_db)))
        }
        Some(other) => q.filter(o::status.eq(other)),
    };
    if let Some(v) = &f.product_category {
        q = q.filter(o::product_category.eq(v.clone()));
    }
    if let Some(t) = f.valid_at {
        let t = DbTimestamp(t);
        q = q
            .filter(o::valid_from.is_null().or(o::valid_from.le(t)))
            .filter(o::valid_until.is_null().or(o::valid_until.gt(t)));
    }
    if let Some(v) = &f.created_by {
        q = q.filter(o::created_by.eq(v.clone()));
    }
    if let Some(t) = f.updated_since {
        q = q.filter(o::updated_at.ge(DbTimestamp(t)));
    }
    Ok(SortBy::page(paging, q)?.load(conn)?)
}

fn changed_fields(old: Option<&OfferData>, new: &OfferData) -> Vec<&'static str> {
    crate::changed_fields!(old, new;
        stakeholder_id, title, description, product_category, price_minor => "price", currency => "price",
        discount_percent, valid_from, valid_until,
    )
}

/// Creates a `draft`.
pub fn create(conn: &mut DbConnection, actor: &Actor, data: &OfferData) -> Result<OfferRow, ApiError> {
    let id = Uuid::now_v7();
    let now = DbTimestamp(types::now());
    diesel::insert_into(o::table)
        .values((
            o::id.eq(DbUuid(id)),
            data,
            o::status.eq(OfferStatus::Draft),
            o::created_by.eq(&actor.sub),
            o::version.eq(1),
            o::created_at.eq(now),
            o::updated_at.eq(now),
        ))
        .execute(conn)?;
    audit::record(conn, actor, "offer.created", RESOURCE, id, data.stakeholder_id.0, &changed_fields(None, data))?;
    find(conn, id, RowScope::ALL)?.ok_or_else(|| ApiError::internal("created offer vanished"))
}

/// Writes `data` if the row is still at `current.version`; `None` on a lost race.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &OfferRow,
    data: &OfferData,
) -> Result<Option<OfferRow>, ApiError> {
    let fields = changed_fields(Some(&current.data), data);
    if fields.is_empty() {
        return Ok(Some(current.clone()));
    }
    let n = diesel::update(o::table.filter(o::id.eq(current.id)).filter(o::version.eq(current.version)))
        .set((data, o::version.eq(current.version + 1), o::updated_at.eq(DbTimestamp(types::now()))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    audit::record(conn, actor, "offer.updated", RESOURCE, current.id.0, current.data.stakeholder_id.0, &fields)?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// Stores the result of a lifecycle action; `None` on a lost race.
pub fn apply(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &OfferRow,
    action: OfferAction,
    next: OfferStatus,
    now: DateTime<Utc>,
) -> Result<Option<OfferRow>, ApiError> {
    let now = DbTimestamp(now);
    let target = o::table.filter(o::id.eq(current.id)).filter(o::version.eq(current.version));
    let base = (o::status.eq(next), o::version.eq(current.version + 1), o::updated_at.eq(now));
    let n = match action {
        OfferAction::Send => diesel::update(target).set((base, o::sent_at.eq(Some(now)))).execute(conn)?,
        OfferAction::Accept | OfferAction::Decline => {
            diesel::update(target).set((base, o::responded_at.eq(Some(now)))).execute(conn)?
        }
        OfferAction::Withdraw => diesel::update(target).set(base).execute(conn)?,
    };
    if n == 0 {
        return Ok(None);
    }
    let stamped: &[&str] = match action {
        OfferAction::Send => &["status", "sent_at"],
        OfferAction::Accept | OfferAction::Decline => &["status", "responded_at"],
        OfferAction::Withdraw => &["status"],
    };
    let done = format!("offer.{}", action.past_tense());
    audit::record(conn, actor, &done, RESOURCE, current.id.0, current.data.stakeholder_id.0, stamped)?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// Hard delete of a draft; `false` on a lost race. An offer that an
/// interaction links to stays (409): the history must not dangle. The count
/// gives the message; the foreign key decides when a link is being written
/// concurrently.
pub fn delete(conn: &mut DbConnection, actor: &Actor, current: &OfferRow) -> Result<bool, ApiError> {
    use crate::db::schema::interactions as i;
    use diesel::result::{DatabaseErrorKind, Error};
    let links: i64 = i::table.filter(i::offer_id.eq(Some(current.id))).count().get_result(conn)?;
    if links > 0 {
        return Err(ApiError::Conflict(format!("{links} interaction(s) refer to this offer; it cannot be deleted")));
    }
    let n = diesel::delete(o::table.filter(o::id.eq(current.id)).filter(o::version.eq(current.version)))
        .execute(conn)
        .map_err(|e| match e {
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::Conflict("an interaction refers to this offer; it cannot be deleted".into())
            }
            other => other.into(),
        })?;
    if n == 1 {
        audit::record(conn, actor, "offer.deleted", RESOURCE, current.id.0, current.data.stakeholder_id.0, &[])?;
    }
    Ok(n == 1)
}
