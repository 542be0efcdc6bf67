//! Audit log queries. The log is written by `crate::audit` in the same
//! transaction as each change; these only read it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{ErasureReason, ErasureRequest, Redacted};
use super::model::{AuditEventRow, ErasureRow};
use crate::audit::EventCategory;
use crate::audit::{self, Actor, Event};
use crate::auth::Role;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::audit_events as ae;
use crate::db::{DbConnection, DbTimestamp, DbUuid, Json, MultiBackend, types};
use crate::error::{ApiError, OrNotFound};
use crate::stakeholders::consent::{ConsentSource, Purpose};
use crate::stakeholders::dto::Consents;
use crate::stakeholders::model::{ConsentChangeRow, StakeholderRow};
use crate::stakeholders::repo as stakeholders;

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
/// The access log counts the `stakeholder.exported` event about to be
/// written too: the document lists it.
pub fn export_counts(conn: &mut DbConnection, id: Uuid) -> QueryResult<super::export::Counts> {
    use crate::db::schema::{complaints as c, consent_changes as cc, interactions as i, offers as o};
    let sid = DbUuid(id);
    let n = |v: i64| usize::try_from(v).unwrap_or(0);
    Ok(super::export::Counts {
        interactions: n(i::table.filter(i::stakeholder_id.eq(sid)).count().get_result(conn)?),
        offers: n(o::table.filter(o::stakeholder_id.eq(sid)).count().get_result(conn)?),
        complaints: n(c::table.filter(c::stakeholder_id.eq(sid)).count().get_result(conn)?),
        consent_changes: n(cc::table.filter(cc::stakeholder_id.eq(sid)).count().get_result(conn)?),
        access_log: n(ae::table.filter(ae::stakeholder_id.eq(sid)).count().get_result(conn)?) + 1,
        relationships: crate::relationships::repo::ids_of(conn, sid)?.len(),
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

/// The receipt of stakeholder `id`'s erasure, if it was erased.
pub fn erasure_of(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<ErasureRow>> {
    use crate::db::schema::erasures as er;
    er::table.filter(er::stakeholder_id.eq(DbUuid(id))).select(ErasureRow::as_select()).first(conn).optional()
}

/// What an erasure removes from the stakeholder (the audit event's `changed_fields`).
const ERASED_FIELDS: &[&str] = &[
    "display_name",
    "email",
    "phone",
    "address",
    "birth_date",
    "occupation",
    "education_level",
    "household_size",
    "income_band",
    "sensitive",
    "organization_id",
    "preferred_categories",
    "interests",
    "tags",
    "preferences",
    "consents",
];

/// Anonymises `current` and every record under it (contracts/privacy.md,
/// the erasure table), in the caller's transaction: all or nothing. `None`
/// when a concurrent write changed the stakeholder first.
pub fn erase(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &StakeholderRow,
    request: &ErasureRequest,
    max_child_rows: i64,
) -> Result<Option<(ErasureRow, StakeholderRow)>, ApiError> {
    use crate::db::schema::{
        complaints as c, consent_changes as cc, erasures as er, idempotency_key_resources as ikr,
        idempotency_keys as ik, interactions as i, offers as o, stakeholder_tags as st, stakeholders as s,
    };
    let id = current.id;
    // The row lock first, so the writes under the stakeholder that hold its
    // share lock finish before this reads the clock and counts (its records
    // then all date from before `erased_at`).
    if let DbConnection::Pg(pg) = conn {
        s::table.filter(s::id.eq(id)).select(s::id).for_update().first::<DbUuid>(pg)?;
    }
    let children: i64 = i::table.filter(i::stakeholder_id.eq(id)).count().get_result::<i64>(conn)?
        + o::table.filter(o::stakeholder_id.eq(id)).count().get_result::<i64>(conn)?
        + c::table.filter(c::stakeholder_id.eq(id)).count().get_result::<i64>(conn)?;
    if children > max_child_rows {
        return Err(ApiError::EraseTooLarge(format!(
            "the stakeholder has {children} records; erasures above {max_child_rows} are not done in one request"
        )));
    }
    let now = types::now();
    let withdrawn: Vec<Purpose> = Purpose::ALL.iter().copied().filter(|p| current.data.consents.0.of(*p)).collect();
    let n = diesel::update(s::table.filter(s::id.eq(id)).filter(s::version.eq(current.version)))
        .set((
            s::display_name.eq("Erased stakeholder"),
            s::email.eq(None::<String>),
            s::phone.eq(None::<String>),
            s::address.eq(None::<String>),
            s::birth_date.eq(None::<chrono::NaiveDate>),
            s::occupation.eq(None::<String>),
            s::education_level.eq(None::<String>),
            s::household_size.eq(None::<i32>),
            s::income_band.eq(None::<String>),
            s::sensitive.eq(None::<String>),
            s::organization_id.eq(None::<DbUuid>),
            s::preferred_categories.eq("[]"),
            s::interests.eq("[]"),
            s::tags.eq("[]"),
            s::preferences.eq("{}"),
            s::consents.eq(Json(Consents::default())),
            s::search_text.eq(""),
            s::name_search.eq(""),
            s::version.eq(current.version + 1),
            s::updated_at.eq(DbTimestamp(now)),
            s::erased_at.eq(Some(DbTimestamp(now))),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let tags = diesel::delete(st::table.filter(st::stakeholder_id.eq(id))).execute(conn)? as i64;
    // Each redacted record gets a new version: an ETag of the old body must
    // not earn a 304 (a client would keep the personal data it cached).
    let at = DbTimestamp(now);
    let interactions = diesel::update(i::table.filter(i::stakeholder_id.eq(id)))
        .set((
            i::subject.eq(None::<String>),
            i::notes.eq(None::<String>),
            i::outcome.eq(None::<String>),
            i::version.eq(i::version + 1),
            i::updated_at.eq(at),
        ))
        .execute(conn)? as i64;
    let offers = diesel::update(o::table.filter(o::stakeholder_id.eq(id)))
        .set((
            o::title.eq("[erased]"),
            o::description.eq(None::<String>),
            o::version.eq(o::version + 1),
            o::updated_at.eq(at),
        ))
        .execute(conn)? as i64;
    let complaints = diesel::update(c::table.filter(c::stakeholder_id.eq(id)))
        .set((
            c::subject.eq("[erased]"),
            c::description.eq("[erased]"),
            c::version.eq(c::version + 1),
            c::updated_at.eq(at),
        ))
        .execute(conn)? as i64;
    diesel::update(c::table.filter(c::stakeholder_id.eq(id)).filter(c::resolution.is_not_null()))
        .set(c::resolution.eq(Some("[erased]")))
        .execute(conn)?;
    let relationships = crate::relationships::repo::clear_notes_of(conn, id, now)?;
    let consent_evidence_refs =
        diesel::update(cc::table.filter(cc::stakeholder_id.eq(id)).filter(cc::evidence_ref.is_not_null()))
            .set(cc::evidence_ref.eq(None::<String>))
            .execute(conn)? as i64;
    for &purpose in &withdrawn {
        diesel::insert_into(cc::table)
            .values(ConsentChangeRow {
                id: DbUuid(Uuid::now_v7()),
                stakeholder_id: id,
                consent: purpose,
                old_value: Some(true),
                new_value: false,
                changed_by: actor.sub.clone(),
                changed_at: DbTimestamp(now),
                request_id: actor.request_id.clone(),
                legal_basis: purpose.default_basis(),
                source: ConsentSource::Erasure,
                captured_at: DbTimestamp(now),
                evidence_ref: None,
            })
            .execute(conn)?;
    }
    // Stored idempotent answers that name the person or a record of theirs become tombstones (410 on replay).
    let mut named: Vec<DbUuid> = vec![id];
    named.extend(i::table.filter(i::stakeholder_id.eq(id)).select(i::id).load::<DbUuid>(conn)?);
    named.extend(o::table.filter(o::stakeholder_id.eq(id)).select(o::id).load::<DbUuid>(conn)?);
    named.extend(c::table.filter(c::stakeholder_id.eq(id)).select(c::id).load::<DbUuid>(conn)?);
    // A stored relationship create holds its notes (cleared now).
    named.extend(crate::relationships::repo::ids_of(conn, id)?);
    let mut keys: std::collections::BTreeSet<(String, String)> = std::collections::BTreeSet::new();
    for ids in named.chunks(500) {
        keys.extend(
            ikr::table
                .filter(ikr::resource_id.eq_any(ids.to_vec()))
                .select((ikr::owner, ikr::idem_key))
                .distinct()
                .load::<(String, String)>(conn)?,
        );
    }
    let erased_ids: std::collections::HashSet<Uuid> = named.iter().map(|u| u.0).collect();
    let mut idempotency_records = 0;
    for (owner, key) in keys {
        let stored = ik::table.filter(ik::owner.eq(&owner)).filter(ik::idem_key.eq(&key));
        let (status, body): (i32, String) = stored.select((ik::status_code, ik::response_body)).first(conn)?;
        // A batch answer keeps its other items: the subject's become 410 items.
        let rewritten = if matches!(status, 200 | 207) { erase_batch_items(&body, &erased_ids) } else { None };
        idempotency_records += match rewritten {
            Some(body) => diesel::update(stored)
                .set((ik::status_code.eq(207), ik::response_body.eq(body), ik::etag.eq(None::<String>)))
                .execute(conn)? as i64,
            None => diesel::update(stored)
                .set((
                    ik::status_code.eq(410),
                    ik::response_body.eq(""),
                    ik::location.eq(None::<String>),
                    ik::etag.eq(None::<String>),
                ))
                .execute(conn)? as i64,
        };
    }
    let receipt = ErasureRow {
        stakeholder_id: id,
        erased_at: DbTimestamp(now),
        erased_by: actor.sub.clone(),
        reason: request.reason.unwrap_or(ErasureReason::Other),
        request_reference: request.request_reference.clone(),
        redacted: Json(Redacted {
            interactions,
            offers,
            complaints,
            tags,
            idempotency_records,
            consent_evidence_refs,
            relationships,
        }),
        consents_withdrawn: Json(withdrawn),
    };
    diesel::insert_into(er::table).values(&receipt).execute(conn)?;
    let erased = Event {
        action: "stakeholder.erased",
        resource_type: stakeholders::RESOURCE,
        resource_id: id.0,
        stakeholder_id: Some(id.0),
        changed_fields: ERASED_FIELDS,
        metadata: serde_json::json!({"reason": receipt.reason, "request_reference": receipt.request_reference}),
    };
    audit::record_event(conn, actor, &erased)?;
    let row = stakeholders::find(conn, id.0, crate::auth::RowScope::ALL)?.or_not_found(stakeholders::RESOURCE)?;
    Ok(Some((receipt, row)))
}

/// A stored batch answer with every item naming one of `erased` (by its
/// `id`) rewritten as `{"status": 410, …, "error": <erased problem>}` and the
/// summary recounted (privacy.md, idempotency tombstones); `None` when the
/// body is not a batch answer.
fn erase_batch_items(body: &str, erased: &std::collections::HashSet<Uuid>) -> Option<String> {
    use serde_json::{Value, json};
    let mut doc: Value = serde_json::from_str(body).ok()?;
    doc.get("summary")?;
    let results = doc.get_mut("results")?.as_array_mut()?;
    let problem = serde_json::to_value(
        ApiError::Erased("what this item wrote has been erased; it will not be shown again".into()).problem(),
    )
    .ok()?;
    for item in results.iter_mut() {
        let named = item.get("id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        if named.is_some_and(|id| erased.contains(&id)) {
            let index = item.get("index").cloned().unwrap_or(Value::Null);
            *item = json!({"index": index, "status": 410, "operation": null, "id": null, "version": null,
                           "data": null, "error": problem});
        }
    }
    let count = |f: &dyn Fn(&Value) -> bool| results.iter().filter(|r| f(r)).count();
    let ok = |r: &Value| r["status"].as_u64().is_some_and(|s| s < 300);
    let op = |name: &'static str| move |r: &Value| r["operation"] == name;
    let summary = json!({
        "total": results.len(),
        "succeeded": count(&ok),
        "failed": count(&|r| !ok(r)),
        "created": count(&op("created")),
        "updated": count(&op("updated")),
        "unchanged": count(&op("unchanged")),
    });
    doc["summary"] = summary;
    serde_json::to_string(&doc).ok()
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
