//! Wire types for complaints: cases handled to resolution against an SLA.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::Channel;
use crate::error::FieldError;
use crate::http::extract::{CheckedInput, check_name};

text_enum! {
    /// Read-only: changed only by the actions.
    pub enum ComplaintStatus {
        Open = "open", Acknowledged = "acknowledged", InProgress = "in_progress", Resolved = "resolved", Closed = "closed",
    }
}
text_enum! {
    pub enum Category {
        Product = "product", Service = "service", Billing = "billing", Delivery = "delivery", Staff = "staff",
        Privacy = "privacy", Other = "other",
    }
}
text_enum! {
    /// Sets the SLA: critical 4 h, high 24 h, medium 72 h, low 168 h by default (`CRM_SLA_*`).
    pub enum Severity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

/// A complaint as written by clients: the body of `POST` (opened as
/// `open`), and the document a `PATCH` applies to (`subject`, `description`,
/// `category`, `severity` may change while not closed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "stakeholder_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e", "subject": "Parcel arrived damaged",
    "description": "The box was crushed and two items are broken.", "category": "delivery",
    "severity": "high", "channel": "email"
}))]
pub struct ComplaintInput {
    /// The stakeholder; must exist and be visible to the caller. Cannot change later.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub stakeholder_id: Option<Uuid>,
    #[validate(required, length(min = 1, max = 200))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    pub subject: Option<String>,
    #[validate(required, length(min = 1, max = 10000))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 10000)]
    pub description: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub category: Option<Category>,
    /// Changing it recomputes `due_at` from `created_at` while the complaint is
    /// unresolved and not yet due; after that `due_at` is frozen.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub severity: Option<Severity>,
    /// How it came in. Cannot change later.
    pub channel: Option<Channel>,
}

impl CheckedInput for ComplaintInput {
    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        check_name("subject", self.subject.as_deref(), out);
        if self.description.as_deref().is_some_and(|v| v.trim().is_empty()) {
            out.push(FieldError::new("description", "blank", "must not be blank"));
        }
    }
}

/// Body of `POST …/{id}/resolve`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// How the case was resolved.
    #[validate(required, length(min = 1, max = 10000))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 10000)]
    pub resolution: Option<String>,
}

impl CheckedInput for ResolveInput {
    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        if self.resolution.as_deref().is_some_and(|v| v.trim().is_empty()) {
            out.push(FieldError::new("resolution", "blank", "must not be blank"));
        }
    }
}

/// Body of `POST …/{id}/close` (optional: an empty body is fine).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// The stakeholder's satisfaction with the handling, 1..5.
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub satisfaction: Option<i32>,
}

impl CheckedInput for CloseInput {}

/// Body of `POST …/{id}/assign`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// A user's `sub`.
    #[validate(required, length(min = 1, max = 200))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    pub assignee_id: Option<String>,
}

impl CheckedInput for AssignInput {}

/// A complaint as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Complaint {
    pub id: Uuid,
    pub stakeholder_id: Uuid,
    pub subject: String,
    pub description: String,
    pub category: Category,
    pub severity: Severity,
    pub channel: Option<Channel>,
    pub assignee_id: Option<String>,
    pub status: ComplaintStatus,
    /// `created_at` + the severity's SLA target. A severity change moves it only
    /// while the complaint is unresolved and not yet due; then it is frozen.
    pub due_at: DateTime<Utc>,
    /// Resolved after `due_at`, or unresolved and now past it.
    pub sla_breached: bool,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    /// The `sub` of the user who opened it.
    pub opened_by: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Query parameters of `GET /api/v1/complaints` (and the stakeholder's complaints).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplaintQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `created_at`, `updated_at` or `due_at` (the support queue: `sort=due_at`); `-` prefix for
    /// descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at|due_at)$")]
    pub sort: Option<String>,
    /// Ignored on the stakeholder's list (the path names the stakeholder).
    pub stakeholder_id: Option<Uuid>,
    pub status: Option<ComplaintStatus>,
    pub severity: Option<Severity>,
    pub category: Option<Category>,
    pub assignee_id: Option<String>,
    pub sla_breached: Option<bool>,
    /// Opened (created) at or after this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub opened_after: Option<DateTime<Utc>>,
    /// Opened strictly before this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub opened_before: Option<DateTime<Utc>>,
    /// Only records changed at or after this instant (resynchronising after the change feed's horizon).
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub updated_since: Option<DateTime<Utc>>,
}
