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
