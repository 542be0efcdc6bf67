//! Wire types for interactions: the contact and purchase history.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::Channel;
use crate::error::FieldError;
use crate::http::extract::{CheckedInput, check_no_control, check_time};
use crate::money::Money;

text_enum! {
    pub enum Direction { Inbound = "inbound", Outbound = "outbound" }
}
text_enum! {
    pub enum InteractionType {
        Contact = "contact", Purchase = "purchase", Support = "support", Feedback = "feedback", Visit = "visit", Note = "note",
    }
}

/// How far ahead of now `occurred_at` may be (clock skew between devices).
pub const MAX_FUTURE: Duration = Duration::minutes(5);

/// An interaction as written by clients: the body of `POST`, and the
/// document a `PATCH` merge patch is applied to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "stakeholder_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e", "channel": "in_store", "direction": "inbound",
    "type": "purchase", "occurred_at": "2026-11-23T10:00:00Z", "subject": "Weekly groceries",
    "amount": {"amount_minor": 125000, "currency": "IDR"}, "satisfaction": 5
}))]
pub struct InteractionInput {
    /// The stakeholder; must exist and be visible to the caller. Cannot change later.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub stakeholder_id: Option<Uuid>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub channel: Option<Channel>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub direction: Option<Direction>,
    #[validate(required)]
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    pub interaction_type: Option<InteractionType>,
    /// Defaults to now; at most 5 minutes in the future.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub occurred_at: Option<DateTime<Utc>>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub outcome: Option<String>,
    /// Required for `purchase` (`amount_minor` ≥ 0), forbidden for other types.
    #[validate(nested)]
    pub amount: Option<Money>,
    /// CSAT, 1..5.
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub satisfaction: Option<i32>,
    /// An offer of the same stakeholder.
    pub offer_id: Option<Uuid>,
    /// A complaint of the same stakeholder.
    pub complaint_id: Option<Uuid>,
}

impl CheckedInput for InteractionInput {
    const WIRE_NAMES: &'static [(&'static str, &'static str)] = &[("interaction_type", "type")];

    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        match (self.interaction_type, &self.amount) {
            (Some(InteractionType::Purchase), None) => {
                out.push(FieldError::new("amount", "required", "is required for a purchase"))
            }
            (Some(t), Some(_)) if t != InteractionType::Purchase => {
                out.push(FieldError::new("amount", "forbidden", "only a purchase has an amount"))
            }
            (_, Some(m)) if m.amount_minor < 0 => {
                out.push(FieldError::new("amount.amount_minor", "range", "must not be negative"))
            }
            _ => {}
        }
        check_no_control("subject", self.subject.as_deref(), out);
        check_time("occurred_at", self.occurred_at, out);
        if self.occurred_at.is_some_and(|t| t > Utc::now() + MAX_FUTURE) {
            out.push(FieldError::new("occurred_at", "range", "must not be more than 5 minutes in the future"));
        }
    }
}

/// An interaction as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Interaction {
    pub id: Uuid,
    pub stakeholder_id: Uuid,
    pub channel: Channel,
    pub direction: Direction,
    #[serde(rename = "type")]
    pub interaction_type: InteractionType,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub notes: Option<String>,
    pub outcome: Option<String>,
    pub amount: Option<Money>,
    pub satisfaction: Option<i32>,
    pub offer_id: Option<Uuid>,
    pub complaint_id: Option<Uuid>,
    /// The `sub` of the user who recorded it.
    pub recorded_by: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Query parameters of `GET /api/v1/interactions` (and the stakeholder timeline).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InteractionQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `occurred_at`, `created_at` or `updated_at`; `-` prefix for descending. Default `-occurred_at`.
    #[param(pattern = "^-?(occurred_at|created_at|updated_at)$")]
    pub sort: Option<String>,
    /// Ignored on the stakeholder timeline (the path names the stakeholder).
    pub stakeholder_id: Option<Uuid>,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub interaction_type: Option<InteractionType>,
    /// Occurred at or after this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub occurred_after: Option<DateTime<Utc>>,
    /// Occurred strictly before this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub occurred_before: Option<DateTime<Utc>>,
    /// Only records changed at or after this instant (resynchronising after the change feed's horizon).
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub updated_since: Option<DateTime<Utc>>,
}
