//! Wire types of the analytics: the query parameters and one response per
//! endpoint (`AnalyticsPortfolioResponse`, …), each measure documented with
//! its pinned definition (`contracts/analytics.md`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::measures::{Average, DurationPercentiles, MoneyTotal, Ratio};
use crate::stakeholders::dto::{Kind, LifecycleStage};

/// Query parameters of every analytics endpoint but the portfolio.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Window start, inclusive: an RFC 3339 timestamp or a date (= `00:00:00Z`). Default: `to` − 30 days.
    pub from: Option<String>,
    /// Window end, exclusive: an RFC 3339 timestamp or a date. Default: the request's time, to the second.
    pub to: Option<String>,
    /// Comma list of at most two dimensions, at most one of them `day`, `week` or `month`; the
    /// endpoint's description lists the ones it offers.
    pub group_by: Option<String>,
    /// Only stakeholders of this kind (their current value).
    pub kind: Option<Kind>,
    /// Only stakeholders in this segment (their current value).
    pub segment: Option<String>,
}

/// Query parameters of `GET /api/v1/analytics/portfolio`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Window of the revenue, start inclusive: an RFC 3339 timestamp or a date. Default: `to` − 30 days.
    pub from: Option<String>,
    /// Window of the revenue, end exclusive. Default: the request's time, to the second.
    pub to: Option<String>,
    /// Comma list of at most two of `kind`, `entity_type`, `segment`, `lifecycle_stage`.
    pub group_by: Option<String>,
    pub kind: Option<Kind>,
    pub segment: Option<String>,
    /// Count archived stakeholders too (default `false`).
    pub include_archived: Option<bool>,
}

impl PortfolioQuery {
    pub fn split(self) -> (AnalyticsQuery, bool) {
        let q = AnalyticsQuery {
            from: self.from,
            to: self.to,
            group_by: self.group_by,
            kind: self.kind,
            segment: self.segment,
        };
        (q, self.include_archived.unwrap_or(false))
    }
}

/// One response type per endpoint, over its measures.
macro_rules! analytics_response {
    ($(#[doc = $doc:literal])* $name:ident, $group:ident, $measures:ty, $example:literal) => {
        /// One group: its key and its measures.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $group {
            /// One entry per `group_by` dimension; `null` where the row has no value.
            #[schema(value_type = std::collections::HashMap<String, Option<String>>)]
            pub key: Map<String, Value>,
            #[serde(flatten)]
            pub measures: $measures,
        }

        $(#[doc = $doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            #[schema(example = $example)]
            pub metric: String,
            pub from: DateTime<Utc>,
            pub to: DateTime<Utc>,
            /// The request's time: what the "(as of now)" measures depend on.
            pub as_of: DateTime<Utc>,
            /// Always `UTC`: every bucket and date boundary is UTC.
            #[schema(example = "UTC")]
            pub timezone: String,
            pub group_by: Vec<String>,
            /// With a time dimension, every label of the window (dense); else `null`.
            pub buckets: Option<Vec<String>>,
            /// Over the whole population, never summed from the groups.
            pub totals: $measures,
            /// Only keys with rows; ascending by key values in `group_by` order (byte order, `null` last).
            pub groups: Vec<$group>,
        }
    };
}

analytics_response! {
    /// The portfolio: stakeholders by their current attributes, and their purchases in the window.
    AnalyticsPortfolioResponse, PortfolioGroup, PortfolioMeasures, "portfolio"
}
analytics_response! {
    /// Interactions that occurred in the window.
    AnalyticsInteractionsResponse, InteractionsGroup, InteractionMeasures, "interactions"
}
analytics_response! {
    /// Acquisition, lifecycle transitions, the funnel and churn, from the stage history.
    AnalyticsLifecycleResponse, LifecycleGroup, LifecycleMeasures, "lifecycle"
}
analytics_response! {
    /// Offers sent in the window, by their current status.
    AnalyticsOffersResponse, OffersGroup, OfferMeasures, "offers"
}
analytics_response! {
    /// Complaint handling: each measure over its own timestamp in the window.
    AnalyticsComplaintsResponse, ComplaintsGroup, ComplaintMeasures, "complaints"
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct PortfolioMeasures {
    /// Stakeholders in the population (archived only with `include_archived=true`), as of now.
    pub stakeholders: i64,
    /// Of which erased.
    pub erased: i64,
    /// Distinct stakeholders with a `purchase` interaction in the window.
    pub purchasing_stakeholders: i64,
    /// Per currency: Σ `amount_minor` and count of those purchases.
    pub revenue: Vec<MoneyTotal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionMeasures {
    /// Interactions with `occurred_at` in the window.
    pub interactions: i64,
    /// Distinct stakeholders among them.
    pub stakeholders: i64,
    /// Average `satisfaction` over the interactions that have one.
    pub satisfaction: Average,
    /// Interactions of type `purchase`.
    pub purchases: i64,
    /// Per currency: Σ `amount_minor` and count of the purchases.
    pub revenue: Vec<MoneyTotal>,
}

/// Changes between two stages, counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Transition {
    /// `null`: the creation row.
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub count: i64,
}

/// One ranked stage of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelStep {
    pub stage: LifecycleStage,
    /// Stakeholders acquired in the interval with a change (creation included) to this stage or a
    /// higher-ranked one before its end.
    pub reached: i64,
    /// ratio(reached, reached of the previous stage); `null` for `prospect`.
    pub conversion_from_previous: Option<Ratio>,
}

/// Customers at the start of the interval and what became of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Churn {
    /// Stakeholders whose stage at the start was `customer`, `repeat_customer` or `advocate`.
    pub customers_at_start: i64,
    /// Of those, with a change to `churned` in the interval.
    pub churned: i64,
    /// Of those, still in one of those stages at the end.
    pub retained: i64,
    /// ratio(churned, customers_at_start).
    pub churn_rate: Ratio,
    /// ratio(retained, customers_at_start); churn and retention need not add up to 1.
    pub retention_rate: Ratio,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleMeasures {
    /// Stakeholders created in the interval.
    pub acquired: i64,
    /// Stakeholders whose first change into `customer`, `repeat_customer` or `advocate` is in the interval.
    pub new_customers: i64,
    /// Distinct stakeholders with a change `churned` → a customer stage in the interval.
    pub reactivated: i64,
    /// Stage changes in the interval (creation rows included), sorted by (`from_stage`, `to_stage`),
    /// `null` first.
    pub transitions: Vec<Transition>,
    /// The cohort acquired in the interval through the ranked stages, in rank order.
    pub funnel: Vec<FunnelStep>,
    pub churn: Churn,
}

/// Sums over accepted offers of one currency.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AcceptedValue {
    pub currency: String,
    /// Σ `price.amount_minor`.
    pub list_amount_minor: i64,
    /// Σ `price.amount_minor × (100 − discount_percent) div 100`, divided per offer.
    pub net_amount_minor: i64,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferMeasures {
    /// Offers with `sent_at` in the window.
    pub sent: i64,
    /// By current status (as of now); the six add up to `sent`.
    pub accepted: i64,
    pub declined: i64,
    /// `sent` offers past `valid_until`.
    pub expired: i64,
    pub withdrawn: i64,
    /// Still `sent` and valid.
    pub open: i64,
    /// ratio(accepted, sent), as of now.
    pub conversion_rate: Ratio,
    /// ratio(accepted, accepted + declined).
    pub decided_acceptance_rate: Ratio,
    /// `responded_at − sent_at` in seconds over accepted and declined offers.
    pub response_seconds: DurationPercentiles,
    /// Per currency, over accepted offers.
    pub accepted_value: Vec<AcceptedValue>,
}

/// SLA compliance of the complaints resolved in the interval.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sla {
    /// Complaints with `resolved_at` (current value) in the interval.
    pub resolved: i64,
    /// Of those, `resolved_at <= due_at` (resolved exactly at `due_at` is within).
    pub within_sla: i64,
    /// `resolved − within_sla`.
    pub breached: i64,
    /// ratio(within_sla, resolved).
    pub compliance_rate: Ratio,
}

/// `resolved_at − created_at` in seconds over the complaints resolved in the interval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionSeconds {
    pub count: i64,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
    pub sum: i64,
    pub average: Option<f64>,
}

/// How many ratings of each score.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Distribution {
    #[serde(rename = "1")]
    pub one: i64,
    #[serde(rename = "2")]
    pub two: i64,
    #[serde(rename = "3")]
    pub three: i64,
    #[serde(rename = "4")]
    pub four: i64,
    #[serde(rename = "5")]
    pub five: i64,
}

/// Ratings of the complaints closed in the interval with a `satisfaction`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintSatisfaction {
    pub count: i64,
    pub sum: i64,
    pub average: Option<f64>,
    /// Ratings of 4 or 5.
    pub positive: i64,
    /// ratio(positive, count).
    pub positive_rate: Ratio,
    pub distribution: Distribution,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintMeasures {
    /// Complaints with `created_at` in the interval.
    pub opened: i64,
    pub sla: Sla,
    /// Of the complaints created in the interval, unresolved with `due_at` before the request's time (as of now).
    pub open_breached: i64,
    pub resolution_seconds: ResolutionSeconds,
    /// `acknowledged_at − created_at` in seconds over the complaints acknowledged in the interval.
    pub acknowledge_seconds: DurationPercentiles,
    pub satisfaction: ComplaintSatisfaction,
}
