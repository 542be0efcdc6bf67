//! Database rows of the audit log. Never serialised to clients.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::dto::{AuditActor, AuditEvent};
use crate::audit::EventCategory;
use crate::auth::Role;
use crate::db::schema::audit_events;
use crate::db::{DbTimestamp, DbUuid, Json};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: DbUuid,
    pub occurred_at: DbTimestamp,
    pub actor_sub: String,
    pub actor_role: Role,
    pub actor_partner_id: Option<DbUuid>,
    pub category: EventCategory,
    pub action: String,
    pub resource_type: String,
    pub resource_id: DbUuid,
    pub stakeholder_id: Option<DbUuid>,
    pub changed_fields: Json<Vec<String>>,
    pub request_id: Option<String>,
    pub metadata: Json<Map<String, Value>>,
}

impl AuditEventRow {
    pub fn to_dto(&self) -> AuditEvent {
        AuditEvent {
            id: self.id.0,
            occurred_at: self.occurred_at.0,
            category: self.category,
            action: self.action.clone(),
            actor: AuditActor {
                sub: self.actor_sub.clone(),
                role: self.actor_role,
                partner_id: self.actor_partner_id.map(|u| u.0),
            },
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.0,
            stakeholder_id: self.stakeholder_id.map(|u| u.0),
            changed_fields: self.changed_fields.0.clone(),
            request_id: self.request_id.clone(),
            metadata: self.metadata.0.clone(),
        }
    }
}
