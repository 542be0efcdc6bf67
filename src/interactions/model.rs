//! Database rows for interactions. Never serialised to clients.

use diesel::prelude::*;

use super::dto::{Direction, Interaction, InteractionInput, InteractionType};
use crate::db::schema::interactions;
use crate::db::{DbTimestamp, DbUuid};
use crate::domain::Channel;
use crate::money::Money;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interactions)]
pub struct InteractionRow {
    pub id: DbUuid,
    pub stakeholder_id: DbUuid,
    pub channel: String,
    pub direction: String,
    pub interaction_type: String,
    pub occurred_at: DbTimestamp,
    pub subject: Option<String>,
    pub notes: Option<String>,
    pub outcome: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub satisfaction: Option<i32>,
    pub offer_id: Option<DbUuid>,
    pub complaint_id: Option<DbUuid>,
    pub recorded_by: String,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
}

/// The client-writable columns: inserted on create, set in full on update.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = interactions, treat_none_as_null = true)]
pub struct InteractionData {
    pub stakeholder_id: DbUuid,
    pub channel: String,
    pub direction: String,
    pub interaction_type: String,
    pub occurred_at: DbTimestamp,
    pub subject: Option<String>,
    pub notes: Option<String>,
    pub outcome: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub satisfaction: Option<i32>,
    pub offer_id: Option<DbUuid>,
    pub complaint_id: Option<DbUuid>,
}

impl InteractionData {
    /// From a validated input; `occurred_at` defaults to `now`.
    pub fn from_input(i: &InteractionInput, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            stakeholder_id: DbUuid(i.stakeholder_id.unwrap_or_default()),
            channel: i.channel.unwrap_or(Channel::Other).as_str().to_owned(),
            direction: i.direction.unwrap_or(Direction::Inbound).as_str().to_owned(),
            interaction_type: i.interaction_type.unwrap_or(InteractionType::Note).as_str().to_owned(),
            occurred_at: DbTimestamp::from(i.occurred_at.unwrap_or(now)),
            subject: i.subject.clone(),
            notes: i.notes.clone(),
            outcome: i.outcome.clone(),
            amount_minor: i.amount.as_ref().map(|m| m.amount_minor),
            currency: i.amount.as_ref().map(|m| m.currency.clone()),
            satisfaction: i.satisfaction,
            offer_id: i.offer_id.map(DbUuid),
            complaint_id: i.complaint_id.map(DbUuid),
        }
    }
}

impl From<&InteractionRow> for InteractionData {
    fn from(r: &InteractionRow) -> Self {
        Self {
            stakeholder_id: r.stakeholder_id,
            channel: r.channel.clone(),
            direction: r.direction.clone(),
            interaction_type: r.interaction_type.clone(),
            occurred_at: r.occurred_at,
            subject: r.subject.clone(),
            notes: r.notes.clone(),
            outcome: r.outcome.clone(),
            amount_minor: r.amount_minor,
            currency: r.currency.clone(),
            satisfaction: r.satisfaction,
            offer_id: r.offer_id,
            complaint_id: r.complaint_id,
        }
    }
}

impl InteractionRow {
    fn amount(&self) -> Option<Money> {
        match (self.amount_minor, &self.currency) {
            (Some(amount_minor), Some(currency)) => Some(Money { amount_minor, currency: currency.clone() }),
            _ => None,
        }
    }

    /// The writable document: what a merge patch applies to.
    pub fn to_input(&self) -> InteractionInput {
        InteractionInput {
            stakeholder_id: Some(self.stakeholder_id.0),
            channel: Channel::parse(&self.channel),
            direction: Direction::parse(&self.direction),
            interaction_type: InteractionType::parse(&self.interaction_type),
            occurred_at: Some(self.occurred_at.0),
            subject: self.subject.clone(),
            notes: self.notes.clone(),
            outcome: self.outcome.clone(),
            amount: self.amount(),
            satisfaction: self.satisfaction,
            offer_id: self.offer_id.map(|u| u.0),
            complaint_id: self.complaint_id.map(|u| u.0),
        }
    }

    pub fn to_dto(&self) -> Interaction {
        Interaction {
            id: self.id.0,
            stakeholder_id: self.stakeholder_id.0,
            // Stored values were written from these enums; the fallbacks are unreachable.
            channel: Channel::parse(&self.channel).unwrap_or(Channel::Other),
            direction: Direction::parse(&self.direction).unwrap_or(Direction::Inbound),
            interaction_type: InteractionType::parse(&self.interaction_type).unwrap_or(InteractionType::Note),
            occurred_at: self.occurred_at.0,
            subject: self.subject.clone(),
            notes: self.notes.clone(),
            outcome: self.outcome.clone(),
            amount: self.amount(),
            satisfaction: self.satisfaction,
            offer_id: self.offer_id.map(|u| u.0),
            complaint_id: self.complaint_id.map(|u| u.0),
            recorded_by: self.recorded_by.clone(),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}
