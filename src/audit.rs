//! The audit trail: one row per change, written in the same transaction as
//! the change. Field names only, never values (sensitive data must not leak
//! into the log). `privacy::routes` reads it (`GET /api/v1/audit-events`).

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::schema::audit_events as ae;
use crate::db::{DbConnection, DbTimestamp, DbUuid, types};

/// Who is acting, and in which request: carried into the unit of work.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub role: &'static str,
    pub partner_id: Option<Uuid>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(caller: &Caller, request_id: Option<String>) -> Self {
        Self { sub: caller.sub.clone(), role: caller.role.as_str(), partner_id: caller.partner_id, request_id }
    }
}

text_enum! {
    /// What kind of event: a change to a record, an access to personal
    /// data, a privacy action, or a configuration change.
    pub enum EventCategory { Change = "change", Access = "access", Privacy = "privacy", Config = "config" }
}

/// Every action the server records (`contracts/privacy.md`): the filter
/// `action=` accepts these, and `<resource>.*` for their resources.
pub const ACTIONS: &[&str] = &[
    "stakeholder.created",
    "stakeholder.updated",
    "stakeholder.archived",
    "stakeholder.restored",
    "stakeholder.consent_changed",
    "stakeholder.erased",
    "stakeholder.exported",
    "stakeholder.sensitive_viewed",
    "interaction.created",
    "interaction.updated",
    "interaction.deleted",
    "offer.created",
    "offer.updated",
    "offer.deleted",
    "offer.sent",
    "offer.accepted",
    "offer.declined",
    "offer.withdrawn",
    "complaint.opened",
    "complaint.updated",
    "complaint.acknowledged",
    "complaint.started",
    "complaint.resolved",
    "complaint.closed",
    "complaint.reopened",
    "complaint.assigned",
    "relationship.created",
    "relationship.updated",
    "relationship.deleted",
    "audit_events.listed",
    "webhook_endpoint.created",
    "webhook_endpoint.updated",
    "webhook_endpoint.deleted",
    "webhook_endpoint.secret_rotated",
    "webhook_endpoint.disabled",
];

/// The category of an action (`contracts/privacy.md`, action vocabulary).
pub fn category(action: &str) -> EventCategory {
    match action {
        "stakeholder.consent_changed" | "stakeholder.erased" | "stakeholder.exported" => EventCategory::Privacy,
        "stakeholder.sensitive_viewed" | "audit_events.listed" => EventCategory::Access,
        a if a.starts_with("webhook_endpoint.") => EventCategory::Config,
        _ => EventCategory::Change,
    }
}

/// One audit event: what happened (`<resource>.<past-tense verb>`), to
/// which record, and for which stakeholder (the record itself, or the
/// stakeholder a child record is filed under).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Uuid,
    pub stakeholder_id: Option<Uuid>,
    pub changed_fields: &'a [&'a str],
    /// Ids, enums, counts and names only: never personal data or free text.
    pub metadata: serde_json::Value,
}

/// Records a change to a record of a stakeholder (`stakeholder_id`: itself
/// or the one it is filed under).
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    resource_type: &str,
    resource_id: Uuid,
    stakeholder_id: Uuid,
    changed_fields: &[&str],
) -> QueryResult<()> {
    let metadata = serde_json::Value::Object(Default::default());
    let stakeholder_id = Some(stakeholder_id);
    record_event(conn, actor, &Event { action, resource_type, resource_id, stakeholder_id, changed_fields, metadata })
}

/// Records any event.
pub fn record_event(conn: &mut DbConnection, actor: &Actor, e: &Event) -> QueryResult<()> {
    record_events(conn, actor, std::slice::from_ref(e))
}

/// Records events by one actor in one statement (a CSV import writes a
/// chunk's creates at once).
pub fn record_events(conn: &mut DbConnection, actor: &Actor, events: &[Event]) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = DbTimestamp(types::now());
    let rows: Vec<_> = events
        .iter()
        .map(|e| {
            (
                ae::id.eq(DbUuid(Uuid::now_v7())),
                ae::occurred_at.eq(now),
                ae::actor_sub.eq(&actor.sub),
                ae::actor_role.eq(actor.role),
                ae::actor_partner_id.eq(actor.partner_id.map(DbUuid)),
                ae::category.eq(category(e.action)),
                ae::action.eq(e.action),
                ae::resource_type.eq(e.resource_type),
                ae::resource_id.eq(DbUuid(e.resource_id)),
                ae::stakeholder_id.eq(e.stakeholder_id.map(DbUuid)),
                ae::changed_fields.eq(serde_json::to_string(e.changed_fields).unwrap_or_else(|_| "[]".into())),
                ae::metadata.eq(e.metadata.to_string()),
                ae::request_id.eq(&actor.request_id),
            )
        })
        .collect();
    // A multi-row insert does not compile through the connection enum.
    match conn {
        DbConnection::Pg(c) if rows.len() >= crate::db::COPY_FROM_ROWS => {
            diesel::copy_from(ae::table).from_insertable(&rows).execute(c)
        }
        DbConnection::Pg(c) => diesel::insert_into(ae::table).values(&rows).execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(ae::table).values(&rows).execute(c),
    }
    .map(drop)
}

/// Records that a response showed sensitive fields (`sensitive`,
/// `income_band`) of each of these stakeholders, `via` a get, list, write or
/// batch: one row per stakeholder, in one statement.
pub fn record_sensitive_views(
    conn: &mut DbConnection,
    actor: &Actor,
    views: &[(Uuid, Vec<&'static str>)],
    via: &str,
) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = ae)]
    struct Row<'a> {
        id: DbUuid,
        occurred_at: DbTimestamp,
        actor_sub: &'a str,
        actor_role: &'a str,
        actor_partner_id: Option<DbUuid>,
        category: EventCategory,
        action: &'a str,
        resource_type: &'a str,
        resource_id: DbUuid,
        stakeholder_id: Option<DbUuid>,
        changed_fields: &'a str,
        metadata: String,
        request_id: Option<&'a str>,
    }
    const ACTION: &str = "stakeholder.sensitive_viewed";
    let now = DbTimestamp(types::now());
    let rows: Vec<Row> = views
        .iter()
        .map(|(id, fields)| Row {
            id: DbUuid(Uuid::now_v7()),
            occurred_at: now,
            actor_sub: &actor.sub,
            actor_role: actor.role,
            actor_partner_id: actor.partner_id.map(DbUuid),
            category: category(ACTION),
            action: ACTION,
            resource_type: "stakeholder",
            resource_id: DbUuid(*id),
            stakeholder_id: Some(DbUuid(*id)),
            changed_fields: "[]",
            metadata: serde_json::json!({ "fields": fields, "via": via }).to_string(),
            request_id: actor.request_id.as_deref(),
        })
        .collect();
    // A multi-row insert does not compile through the connection enum.
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(ae::table).values(&rows).execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(ae::table).values(&rows).execute(c),
    }
    .map(|_| ())
}

/// Audit rows read or deleted per statement by the purge.
const PURGE_BATCH: i64 = 1000;

/// Deletes audit events that occurred before `cutoff`, oldest first, a batch
/// per statement (each its own transaction) along the `occurred_at` index;
/// returns how many went.
pub fn purge_before(conn: &mut DbConnection, cutoff: chrono::DateTime<chrono::Utc>) -> QueryResult<usize> {
    let cutoff = DbTimestamp(cutoff);
    let old = || ae::table.filter(ae::occurred_at.lt(cutoff));
    let mut total = 0;
    loop {
        let last: Option<DbTimestamp> = old()
            .order(ae::occurred_at.asc())
            .select(ae::occurred_at)
            .offset(PURGE_BATCH - 1)
            .first(conn)
            .optional()?;
        match last {
            Some(last) => total += diesel::delete(old().filter(ae::occurred_at.le(last))).execute(conn)?,
            None => return Ok(total + diesel::delete(old()).execute(conn)?),
        }
    }
}

/// Whether a field counts as given on a create (`changed_fields!` with no
/// old row): an `Option` when it is `Some`, anything else always.
pub trait IsSet {
    fn is_set(&self) -> bool {
        true
    }
}

impl<T> IsSet for Option<T> {
    fn is_set(&self) -> bool {
        self.is_some()
    }
}

impl IsSet for String {}
impl IsSet for i32 {}
impl IsSet for i64 {}
impl IsSet for crate::db::DbUuid {}
impl IsSet for crate::db::DbTimestamp {}
impl<T> IsSet for crate::db::Json<T> {}

/// The client-visible names of the fields that differ between two versions
/// of a row's writable columns, for the audit trail (names only, never
/// values). `old` is `None` on a create: then the fields that are set.
/// `column => "name"` renames (several columns may share one name).
#[macro_export]
macro_rules! changed_fields {
    ($old:expr, $new:expr; $($f:ident $(=> $name:literal)?),+ $(,)?) => {{
        let (old, new) = ($old, $new);
        let mut out: Vec<&'static str> = Vec::new();
        $(
            let name = $crate::changed_fields!(@name $f $($name)?);
            let changed = match old {
                Some(o) => o.$f != new.$f,
                None => $crate::audit::IsSet::is_set(&new.$f),
            };
            if changed && !out.contains(&name) {
                out.push(name);
            }
        )+
        out
    }};
    (@name $f:ident $name:literal) => { $name };
    (@name $f:ident) => { stringify!($f) };
}
