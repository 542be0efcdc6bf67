//! Wire types for relationships: typed, directed edges between two stakeholders.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::FieldError;
use crate::http::extract::CheckedInput;
use crate::stakeholders::dto::Kind;

text_enum! {
    /// Read as "from is `type` to" (`referred_by`: from was referred by to).
    /// `family_of` and `partner_of` are symmetric.
    pub enum RelationshipType {
        EmployeeOf = "employee_of", ContactOf = "contact_of", OwnerOf = "owner_of", InvestorIn = "investor_in",
        SupplierTo = "supplier_to", PartnerOf = "partner_of", ReferredBy = "referred_by", FamilyOf = "family_of",
        Other = "other",
    }
}

impl RelationshipType {
    /// Symmetric types hold both ways: one row, listed from both ends as outgoing.
    pub fn symmetric(self) -> bool {
        matches!(self, Self::FamilyOf | Self::PartnerOf)
    }
}

text_enum! {
    /// How an edge points, seen from the stakeholder whose list it is in.
    pub enum RelationshipDirection { Outgoing = "outgoing", Incoming = "incoming" }
}

/// A relationship as written by clients: the body of `POST`, and the
/// document a `PATCH` merge patch is applied to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "from_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e", "to_id": "0192f0c4-8a2b-7c3a-9d7e-3b1f2a4c5d6f",
    "type": "employee_of", "started_on": "2024-03-01", "strength": 4, "notes": "Head of purchasing"
}))]
pub struct RelationshipInput {
    /// The stakeholder the edge starts at; visible to the caller, not erased. Cannot change later.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub from_id: Option<Uuid>,
    /// The stakeholder the edge points to; another one than `from_id`. Cannot change later.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub to_id: Option<Uuid>,
    /// Cannot change later.
    #[validate(required)]
    #[serde(rename = "type")]
    #[schema(required = true, nullable = false)]
    pub relationship_type: Option<RelationshipType>,
    pub started_on: Option<NaiveDate>,
    /// On or after `started_on`. An ended relationship stays, for history.
    pub ended_on: Option<NaiveDate>,
    /// How strong the tie is, 1..5.
    #[validate(range(min = 1, max = 5))]
    #[schema(minimum = 1, maximum = 5)]
    pub strength: Option<i32>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// The earliest and latest dates stored (as elsewhere: years 0001..9999).
fn storable(d: NaiveDate) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&d.year())
}

impl CheckedInput for RelationshipInput {
    const WIRE_NAMES: &'static [(&'static str, &'static str)] = &[("relationship_type", "type")];

    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        if self.from_id.is_some() && self.from_id == self.to_id {
            out.push(FieldError::new("to_id", "self_edge", "must be another stakeholder than from_id"));
        }
        for (field, date) in [("started_on", self.started_on), ("ended_on", self.ended_on)] {
            if date.is_some_and(|d| !storable(d)) {
                out.push(FieldError::new(field, "range", "must be between years 0001 and 9999"));
            }
        }
        if let (Some(start), Some(end)) = (self.started_on, self.ended_on)
            && end < start
        {
            out.push(FieldError::new("ended_on", "range", "must not be before started_on"));
        }
    }
}

/// A relationship as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Relationship {
    pub id: Uuid,
    pub from_id: Uuid,
    pub to_id: Uuid,
    #[serde(rename = "type")]
    pub relationship_type: RelationshipType,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    #[schema(minimum = 1, maximum = 5)]
    pub strength: Option<i32>,
    pub notes: Option<String>,
    /// No `ended_on`, or `ended_on` after today (UTC).
    pub active: bool,
    /// The `sub` of the user who created it.
    pub created_by: String,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The stakeholder at the other end of an edge, as the caller would see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StakeholderRef {
    pub id: Uuid,
    pub display_name: String,
    pub kind: Kind,
}

/// A relationship in a stakeholder's list: seen from that stakeholder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StakeholderRelationship {
    #[serde(flatten)]
    pub relationship: Relationship,
    /// `outgoing` when the stakeholder is `from_id` (and for a symmetric type), else `incoming`.
    pub direction: RelationshipDirection,
    /// The other end.
    pub other: StakeholderRef,
}

/// Query parameters of `GET /api/v1/relationships`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelationshipQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `created_at` or `updated_at`; `-` prefix for descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at)$")]
    pub sort: Option<String>,
    /// Edges stored from this stakeholder.
    pub from_id: Option<Uuid>,
    /// Edges stored to this stakeholder.
    pub to_id: Option<Uuid>,
    /// Edges at either end of this stakeholder.
    pub stakeholder_id: Option<Uuid>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub relationship_type: Option<RelationshipType>,
    /// Only active (`true`) or only ended (`false`) relationships.
    pub active: Option<bool>,
}

/// Query parameters of `GET /api/v1/stakeholders/{id}/relationships`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StakeholderRelationshipQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `created_at` or `updated_at`; `-` prefix for descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at)$")]
    pub sort: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub relationship_type: Option<RelationshipType>,
    /// Only active (`true`) or only ended (`false`) relationships.
    pub active: Option<bool>,
}

/// Query parameters of `GET /api/v1/stakeholders/{id}/network`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NetworkQuery {
    /// How many active edges away from the stakeholder, 1..3 (default 1).
    #[param(minimum = 1, maximum = 3)]
    pub depth: Option<u8>,
}

/// A stakeholder reached in the network.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NetworkNode {
    pub stakeholder: StakeholderRef,
    /// Edges from the root on the shortest path found, 1..depth.
    #[schema(minimum = 1, maximum = 3)]
    pub distance: u8,
    /// The relationship ids from the root to this stakeholder, in order.
    pub path: Vec<Uuid>,
}

/// The stakeholders within `depth` active edges of `root`, nearest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Network {
    pub root: Uuid,
    #[schema(minimum = 1, maximum = 3)]
    pub depth: u8,
    /// At most 1,000, nearest first; the root is not listed.
    pub nodes: Vec<NetworkNode>,
    /// More stakeholders were reachable than listed.
    pub truncated: bool,
}
