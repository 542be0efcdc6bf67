//! Wire types for offers: personalised value propositions with a lifecycle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::FieldError;
use crate::http::extract::{CheckedInput, check_name, check_time};
use crate::money::Money;

text_enum! {
    /// Read-only: changed only by the actions. A `sent` offer past `valid_until` reads as `expired`.
    pub enum OfferStatus {
        Draft = "draft", Sent = "sent", Accepted = "accepted", Declined = "declined",
        Expired = "expired", Withdrawn = "withdrawn",
    }
}

/// An offer as written by clients: the body of `POST` (always created as
/// `draft`), and the document a `PATCH` (draft only) applies to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "stakeholder_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e", "title": "Gold membership, first year",
    "product_category": "membership", "price": {"amount_minor": 1500000, "currency": "IDR"},
    "discount_percent": 20, "valid_from": "2026-12-01T00:00:00Z", "valid_until": "2026-12-31T23:59:59Z"
}))]
pub struct OfferInput {
    /// The stakeholder; must exist and be visible to the caller. Cannot change later.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub stakeholder_id: Option<Uuid>,
    #[validate(required, length(min = 1, max = 200))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[validate(length(max = 50))]
    #[schema(max_length = 50)]
    pub product_category: Option<String>,
    /// `amount_minor` ≥ 0.
    #[validate(required, nested)]
    #[schema(required = true, nullable = false)]
    pub price: Option<Money>,
    /// 0..100, default 0.
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    pub discount_percent: Option<i32>,
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub valid_from: Option<DateTime<Utc>>,
    /// Must be after `valid_from`.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub valid_until: Option<DateTime<Utc>>,
}

impl CheckedInput for OfferInput {
    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        if self.price.as_ref().is_some_and(|p| p.amount_minor < 0) {
            out.push(FieldError::new("price.amount_minor", "range", "must not be negative"));
        }
        check_time("valid_from", self.valid_from, out);
        check_time("valid_until", self.valid_until, out);
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until <= from
        {
            out.push(FieldError::new("valid_until", "range", "must be after valid_from"));
        }
        check_name("title", self.title.as_deref(), out);
    }
}

/// An offer as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Offer {
    pub id: Uuid,
    pub stakeholder_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub product_category: Option<String>,
    pub price: Money,
    pub discount_percent: i32,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub status: OfferStatus,
    /// The `sub` of the user who created it.
    pub created_by: String,
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was accepted or declined.
    pub responded_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Query parameters of `GET /api/v1/offers` (and the stakeholder's offers).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `created_at` or `updated_at`; `-` prefix for descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at)$")]
    pub sort: Option<String>,
    /// Ignored on the stakeholder's list (the path names the stakeholder).
    pub stakeholder_id: Option<Uuid>,
    /// As read: `expired` includes sent offers past `valid_until`; `sent` excludes them.
    pub status: Option<OfferStatus>,
    pub product_category: Option<String>,
    /// Offers valid at this instant (`valid_from` ≤ t < `valid_until`, open ends allowed).
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub valid_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    /// Only records changed at or after this instant (resynchronising after the change feed's horizon).
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub updated_since: Option<DateTime<Utc>>,
}
