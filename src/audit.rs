//! The audit trail: one row per change, written in the same transaction as
//! the change. Field names only, never values (sensitive data must not leak
//! into the log). The privacy issue adds the read endpoint.

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
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(caller: &Caller, request_id: Option<String>) -> Self {
        Self { sub: caller.sub.clone(), role: caller.role.as_str(), request_id }
    }
}

/// Records `action` (e.g. `stakeholder.updated`) on a resource.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    resource_type: &str,
    resource_id: Uuid,
    changed_fields: &[&str],
) -> QueryResult<()> {
    diesel::insert_into(ae::table)
        .values((
            ae::id.eq(DbUuid(Uuid::now_v7())),
            ae::occurred_at.eq(DbTimestamp(types::now())),
            ae::actor_sub.eq(&actor.sub),
            ae::actor_role.eq(actor.role),
            ae::action.eq(action),
            ae::resource_type.eq(resource_type),
            ae::resource_id.eq(DbUuid(resource_id)),
            ae::changed_fields.eq(serde_json::to_string(changed_fields).unwrap_or_else(|_| "[]".into())),
            ae::request_id.eq(&actor.request_id),
        ))
        .execute(conn)
        .map(|_| ())
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
