//! Database rows for relationships. Never serialised to clients.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::dto::{Relationship, RelationshipInput, RelationshipType};
use crate::db::schema::relationships;
use crate::db::{DbTimestamp, DbUuid};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = relationships)]
pub struct RelationshipRow {
    pub id: DbUuid,
    #[diesel(embed)]
    pub data: RelationshipData,
    pub created_by: String,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = relationships, treat_none_as_null = true)]
pub struct RelationshipData {
    pub from_id: DbUuid,
    pub to_id: DbUuid,
    pub relationship_type: RelationshipType,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub strength: Option<i32>,
    pub notes: Option<String>,
}

/// Active on `today`: not ended, or ending after today.
pub fn active_on(ended_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    ended_on.is_none_or(|d| d > today)
}

impl RelationshipData {
    /// From a validated input.
    pub fn from_input(i: &RelationshipInput) -> Self {
        Self {
            from_id: DbUuid(i.from_id.unwrap_or_default()),
            to_id: DbUuid(i.to_id.unwrap_or_default()),
            relationship_type: i.relationship_type.unwrap_or(RelationshipType::Other),
            started_on: i.started_on,
            ended_on: i.ended_on,
            strength: i.strength,
            notes: i.notes.clone(),
        }
    }

    /// The other end, seen from `id` (one of the two ends).
    pub fn other_end(&self, id: DbUuid) -> DbUuid {
        if self.from_id == id { self.to_id } else { self.from_id }
    }
}

impl RelationshipRow {
    pub fn to_input(&self) -> RelationshipInput {
        let d = &self.data;
        RelationshipInput {
            from_id: Some(d.from_id.0),
            to_id: Some(d.to_id.0),
            relationship_type: Some(d.relationship_type),
            started_on: d.started_on,
            ended_on: d.ended_on,
            strength: d.strength,
            notes: d.notes.clone(),
        }
    }

    pub fn to_dto(&self, today: NaiveDate) -> Relationship {
        let d = &self.data;
        Relationship {
            id: self.id.0,
            from_id: d.from_id.0,
            to_id: d.to_id.0,
            relationship_type: d.relationship_type,
            started_on: d.started_on,
            ended_on: d.ended_on,
            strength: d.strength,
            notes: d.notes.clone(),
            active: active_on(d.ended_on, today),
            created_by: self.created_by.clone(),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}
