//! Wire types of the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::EventCategory;
use crate::auth::Role;
use crate::complaints::dto::Complaint;
use crate::error::FieldError;
use crate::http::extract::CheckedInput;
use crate::interactions::dto::Interaction;
use crate::offers::dto::Offer;
use crate::relationships::dto::Relationship;
use crate::stakeholders::consent::{LegalBasis, Purpose};
use crate::stakeholders::dto::{ConsentChange, LifecycleStage, Stakeholder};

/// Who acted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    /// The token's `sub`.
    pub sub: String,
    pub role: Role,
    /// Set for partner tokens.
    pub partner_id: Option<Uuid>,
}

/// One entry of the audit log: who did what to which record, when. Field
/// names only, never values.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e", "occurred_at": "2026-11-23T10:00:00.123456Z",
    "category": "change", "action": "offer.accepted",
    "actor": {"sub": "partner-app-3", "role": "partner", "partner_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e"},
    "resource_type": "offer", "resource_id": "0193a0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6f",
    "stakeholder_id": "0193a0c4-7d1e-7c3a-9d7e-3b1f2a4c5d70",
    "changed_fields": ["status", "responded_at"], "request_id": "7d1e3b1f", "metadata": {}
}))]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub category: EventCategory,
    /// `<resource>.<past-tense verb>`, e.g. `stakeholder.updated`, `offer.accepted`.
    pub action: String,
    pub actor: AuditActor,
    pub resource_type: String,
    /// The record acted on (the nil UUID for `audit_events.listed`, which concerns no one record).
    pub resource_id: Uuid,
    /// The stakeholder the record is, or is filed under.
    pub stakeholder_id: Option<Uuid>,
    /// The names of the fields that changed.
    pub changed_fields: Vec<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    /// Ids, enums, counts and names only: never personal data.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// Query parameters of `GET /api/v1/audit-events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditEventQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `-occurred_at` (default, newest first) or `occurred_at`.
    #[param(pattern = "^-?occurred_at$")]
    pub sort: Option<String>,
    /// Comma-separated actions; a trailing `.*` matches every action of a resource (`stakeholder.*`).
    pub action: Option<String>,
    pub category: Option<EventCategory>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// Events on this stakeholder and on the records filed under it.
    pub stakeholder_id: Option<Uuid>,
    pub actor_sub: Option<String>,
    pub actor_role: Option<Role>,
    pub request_id: Option<String>,
    /// At or after this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub occurred_after: Option<DateTime<Utc>>,
    /// Strictly before this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub occurred_before: Option<DateTime<Utc>>,
}

/// One stage change in a stakeholder's lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StageChange {
    pub from_stage: Option<LifecycleStage>,
    pub to_stage: LifecycleStage,
    pub changed_at: DateTime<Utc>,
}

/// One purpose of processing: its current value and the legal basis of its
/// latest change (else the purpose's default).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProcessingPurpose {
    pub purpose: Purpose,
    pub legal_basis: LegalBasis,
    pub active: bool,
}

/// Who else receives the stakeholder's data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    /// `partner`
    #[serde(rename = "type")]
    #[schema(example = "partner")]
    pub recipient_type: String,
    pub partner_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Processing {
    pub purposes: Vec<ProcessingPurpose>,
    pub recipients: Vec<Recipient>,
    /// `CRM_PRIVACY_RETENTION_NOTICE`, if the operator set one.
    pub retention_notice: Option<String>,
}

/// An access-log entry of an export: what was done, when, by which role (never who).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessLogEntry {
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub category: EventCategory,
    pub actor_role: Role,
}

/// How many records of each kind an export holds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub struct ExportCounts {
    pub interactions: usize,
    pub offers: usize,
    pub complaints: usize,
    pub consent_changes: usize,
    pub access_log: usize,
    pub relationships: usize,
}

/// Everything held on one stakeholder (`GET …/stakeholders/{id}/export`),
/// written in this order. Other stakeholders appear by id only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StakeholderExport {
    /// `crm.stakeholder_export`
    #[schema(example = "crm.stakeholder_export")]
    pub format: String,
    /// `1`
    pub format_version: i32,
    pub generated_at: DateTime<Utc>,
    /// The full record, unmasked (`sensitive` and `income_band` as stored).
    pub stakeholder: Stakeholder,
    /// Oldest first.
    pub consent_history: Vec<ConsentChange>,
    /// Oldest first.
    pub lifecycle_history: Vec<StageChange>,
    /// By `occurred_at`, oldest first.
    pub interactions: Vec<Interaction>,
    /// By `created_at`, oldest first.
    pub offers: Vec<Offer>,
    /// By `created_at`, oldest first.
    pub complaints: Vec<Complaint>,
    /// The relationships at either end (the other stakeholder by id only), by `created_at`, oldest first.
    pub relationships: Vec<Relationship>,
    pub processing: Processing,
    /// The audit events of the stakeholder and its records, oldest first.
    pub access_log: Vec<AccessLogEntry>,
    pub counts: ExportCounts,
}

text_enum! {
    /// Why a stakeholder is erased.
    pub enum ErasureReason {
        DataSubjectRequest = "data_subject_request", RetentionExpired = "retention_expired", Objection = "objection",
        Other = "other",
    }
}

/// Body of `POST …/stakeholders/{id}/erase`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "data_subject_request", "request_reference": "DSR-2026-0042"}))]
pub struct ErasureRequest {
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub reason: Option<ErasureReason>,
    /// A ticket id; letters, digits and `._:/#-` only (no e-mail addresses).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, pattern = "^[A-Za-z0-9._:/#-]+$", example = "DSR-2026-0042")]
    pub request_reference: Option<String>,
}

impl CheckedInput for ErasureRequest {
    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        let allowed = |ch: char| ch.is_ascii_alphanumeric() || "._:/#-".contains(ch);
        if self.request_reference.as_deref().is_some_and(|r| !r.chars().all(allowed)) {
            out.push(FieldError::new("request_reference", "invalid_character", "letters, digits and ._:/#- only"));
        }
    }
}

/// How many records an erasure anonymised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Redacted {
    pub interactions: i64,
    pub offers: i64,
    pub complaints: i64,
    pub tags: i64,
    pub idempotency_records: i64,
    pub consent_evidence_refs: i64,
    /// Relationships at either end whose `notes` were cleared (the edges stay).
    /// Absent from receipts of erasures made before relationships existed: 0.
    #[serde(default)]
    pub relationships: i64,
}

/// The receipt of an erasure: the same on every later call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErasureReceipt {
    pub stakeholder_id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// The `sub` of the admin who erased it.
    pub erased_by: String,
    pub reason: ErasureReason,
    pub request_reference: Option<String>,
    pub redacted: Redacted,
    /// The consents that were given, withdrawn by the erasure.
    pub consents_withdrawn: Vec<Purpose>,
    /// The anonymised shell.
    pub stakeholder: Stakeholder,
}
