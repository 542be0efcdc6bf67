//! Database rows for offers. Never serialised to clients.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{Offer, OfferInput, OfferStatus};
use super::lifecycle::effective_status;
use crate::db::schema::offers;
use crate::db::{DbTimestamp, DbUuid};
use crate::money::Money;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offers)]
pub struct OfferRow {
    pub id: DbUuid,
    #[diesel(embed)]
    pub data: OfferData,
    pub status: OfferStatus,
    pub created_by: String,
    pub sent_at: Option<DbTimestamp>,
    pub responded_at: Option<DbTimestamp>,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
}

/// The client-writable columns.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = offers, treat_none_as_null = true)]
pub struct OfferData {
    pub stakeholder_id: DbUuid,
    pub title: String,
    pub description: Option<String>,
    pub product_category: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    pub discount_percent: i32,
    pub valid_from: Option<DbTimestamp>,
    pub valid_until: Option<DbTimestamp>,
}

impl OfferData {
    pub fn from_input(i: &OfferInput) -> Self {
        let price = i.price.clone().unwrap_or(Money { amount_minor: 0, currency: String::new() });
        Self {
            stakeholder_id: DbUuid(i.stakeholder_id.unwrap_or_default()),
            title: i.title.clone().unwrap_or_default().trim().to_owned(),
            description: i.description.clone(),
            product_category: i.product_category.clone(),
            price_minor: price.amount_minor,
            currency: price.currency,
            discount_percent: i.discount_percent.unwrap_or(0),
            valid_from: i.valid_from.map(DbTimestamp::from),
            valid_until: i.valid_until.map(DbTimestamp::from),
        }
    }

    pub fn price(&self) -> Money {
        Money { amount_minor: self.price_minor, currency: self.currency.clone() }
    }
}

impl OfferRow {
    /// The status as read at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> OfferStatus {
        effective_status(self.status, self.data.valid_until.map(|t| t.0), now)
    }

    pub fn to_input(&self) -> OfferInput {
        let d = &self.data;
        OfferInput {
            stakeholder_id: Some(d.stakeholder_id.0),
            title: Some(d.title.clone()),
            description: d.description.clone(),
            product_category: d.product_category.clone(),
            price: Some(d.price()),
            discount_percent: Some(d.discount_percent),
            valid_from: d.valid_from.map(|t| t.0),
            valid_until: d.valid_until.map(|t| t.0),
        }
    }

    pub fn to_dto(&self, now: DateTime<Utc>) -> Offer {
        let d = &self.data;
        Offer {
            id: self.id.0,
            stakeholder_id: d.stakeholder_id.0,
            title: d.title.clone(),
            description: d.description.clone(),
            product_category: d.product_category.clone(),
            price: d.price(),
            discount_percent: d.discount_percent,
            valid_from: d.valid_from.map(|t| t.0),
            valid_until: d.valid_until.map(|t| t.0),
            status: self.status_at(now),
            created_by: self.created_by.clone(),
            sent_at: self.sent_at.map(|t| t.0),
            responded_at: self.responded_at.map(|t| t.0),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}
