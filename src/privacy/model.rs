//! Database rows of the audit log. Never serialised to clients.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::dto::{AuditActor, AuditEvent, ErasureReason, ErasureReceipt, Redacted, StageChange};
use crate::audit::EventCategory;
use crate::auth::Role;
use crate::db::schema::{audit_events, erasures};
use crate::db::{DbTimestamp, DbUuid, Json};
use crate::stakeholders::consent::Purpose;
use crate::stakeholders::dto::Stakeholder;
use crate::stakeholders::model::StageChangeRow;

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

/// The receipt of an erasure, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = erasures)]
pub struct ErasureRow {
    pub stakeholder_id: DbUuid,
    pub erased_at: DbTimestamp,
    pub erased_by: String,
    pub reason: ErasureReason,
    pub request_reference: Option<String>,
    pub redacted: Json<Redacted>,
    pub consents_withdrawn: Json<Vec<Purpose>>,
}

impl ErasureRow {
    pub fn to_receipt(&self, stakeholder: Stakeholder) -> ErasureReceipt {
        ErasureReceipt {
            stakeholder_id: self.stakeholder_id.0,
            erased_at: self.erased_at.0,
            erased_by: self.erased_by.clone(),
            reason: self.reason,
            request_reference: self.request_reference.clone(),
            redacted: self.redacted.0,
            consents_withdrawn: self.consents_withdrawn.0.clone(),
            stakeholder,
        }
    }
}

impl From<StageChangeRow> for StageChange {
    fn from(r: StageChangeRow) -> Self {
        Self { from_stage: r.from_stage, to_stage: r.to_stage, changed_at: r.changed_at.0 }
    }
}
