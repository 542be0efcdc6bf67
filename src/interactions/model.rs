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
    #[diesel(embed)]
    pub data: InteractionData,
    pub recorded_by: String,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = interactions, treat_none_as_null = true)]
pub struct InteractionData {
    pub stakeholder_id: DbUuid,
    pub channel: Channel,
    pub direction: Direction,
    pub interaction_type: InteractionType,
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
            channel: i.channel.unwrap_or(Channel::Other),
            direction: i.direction.unwrap_or(Direction::Inbound),
            interaction_type: i.interaction_type.unwrap_or(InteractionType::Note),
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

impl InteractionData {
    fn amount(&self) -> Option<Money> {
        match (self.amount_minor, &self.currency) {
            (Some(amount_minor), Some(currency)) => Some(Money { amount_minor, currency: currency.clone() }),
            _ => None,
        }
    }
}

impl InteractionRow {
    pub fn to_input(&self) -> InteractionInput {
        let d = &self.data;
        InteractionInput {
            stakeholder_id: Some(d.stakeholder_id.0),
            channel: Some(d.channel),
            direction: Some(d.direction),
            interaction_type: Some(d.interaction_type),
            occurred_at: Some(d.occurred_at.0),
            subject: d.subject.clone(),
            notes: d.notes.clone(),
            outcome: d.outcome.clone(),
            amount: d.amount(),
            satisfaction: d.satisfaction,
            offer_id: d.offer_id.map(|u| u.0),
            complaint_id: d.complaint_id.map(|u| u.0),
        }
    }

    pub fn to_dto(&self) -> Interaction {
        let d = &self.data;
        Interaction {
            id: self.id.0,
            stakeholder_id: d.stakeholder_id.0,
            channel: d.channel,
            direction: d.direction,
            interaction_type: d.interaction_type,
            occurred_at: d.occurred_at.0,
            subject: d.subject.clone(),
            notes: d.notes.clone(),
            outcome: d.outcome.clone(),
            amount: d.amount(),
            satisfaction: d.satisfaction,
            offer_id: d.offer_id.map(|u| u.0),
            complaint_id: d.complaint_id.map(|u| u.0),
            recorded_by: self.recorded_by.clone(),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}
