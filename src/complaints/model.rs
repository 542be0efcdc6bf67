//! Database rows for complaints. Never serialised to clients.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{Category, Complaint, ComplaintInput, ComplaintStatus, Severity};
use super::lifecycle::sla_breached;
use crate::db::schema::complaints;
use crate::db::{DbTimestamp, DbUuid};
use crate::domain::Channel;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = complaints)]
pub struct ComplaintRow {
    pub id: DbUuid,
    pub stakeholder_id: DbUuid,
    pub subject: String,
    pub description: String,
    pub category: String,
    pub severity: String,
    pub channel: Option<String>,
    pub assignee_id: Option<String>,
    pub status: String,
    pub due_at: DbTimestamp,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    pub opened_by: String,
    pub acknowledged_at: Option<DbTimestamp>,
    pub resolved_at: Option<DbTimestamp>,
    pub closed_at: Option<DbTimestamp>,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
}

/// The client-writable columns (plus `due_at`, derived from severity).
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = complaints, treat_none_as_null = true)]
pub struct ComplaintData {
    pub stakeholder_id: DbUuid,
    pub subject: String,
    pub description: String,
    pub category: String,
    pub severity: String,
    pub channel: Option<String>,
    pub due_at: DbTimestamp,
}

impl ComplaintData {
    /// From a validated input; `due_at` comes from the caller (SLA arithmetic).
    pub fn from_input(i: &ComplaintInput, due_at: DateTime<Utc>) -> Self {
        Self {
            stakeholder_id: DbUuid(i.stakeholder_id.unwrap_or_default()),
            subject: i.subject.clone().unwrap_or_default().trim().to_owned(),
            description: i.description.clone().unwrap_or_default(),
            category: i.category.unwrap_or(Category::Other).as_str().to_owned(),
            severity: i.severity.unwrap_or(Severity::Medium).as_str().to_owned(),
            channel: i.channel.map(|c| c.as_str().to_owned()),
            due_at: DbTimestamp::from(due_at),
        }
    }
}

impl From<&ComplaintRow> for ComplaintData {
    fn from(r: &ComplaintRow) -> Self {
        Self {
            stakeholder_id: r.stakeholder_id,
            subject: r.subject.clone(),
            description: r.description.clone(),
            category: r.category.clone(),
            severity: r.severity.clone(),
            channel: r.channel.clone(),
            due_at: r.due_at,
        }
    }
}

impl ComplaintRow {
    /// Stored values were written from the enums; the fallbacks are unreachable.
    pub fn status(&self) -> ComplaintStatus {
        ComplaintStatus::parse(&self.status).unwrap_or(ComplaintStatus::Open)
    }

    pub fn to_input(&self) -> ComplaintInput {
        ComplaintInput {
            stakeholder_id: Some(self.stakeholder_id.0),
            subject: Some(self.subject.clone()),
            description: Some(self.description.clone()),
            category: Category::parse(&self.category),
            severity: Severity::parse(&self.severity),
            channel: self.channel.as_deref().and_then(Channel::parse),
        }
    }

    pub fn to_dto(&self, now: DateTime<Utc>) -> Complaint {
        Complaint {
            id: self.id.0,
            stakeholder_id: self.stakeholder_id.0,
            subject: self.subject.clone(),
            description: self.description.clone(),
            category: Category::parse(&self.category).unwrap_or(Category::Other),
            severity: Severity::parse(&self.severity).unwrap_or(Severity::Medium),
            channel: self.channel.as_deref().and_then(Channel::parse),
            assignee_id: self.assignee_id.clone(),
            status: self.status(),
            due_at: self.due_at.0,
            sla_breached: sla_breached(self.due_at.0, self.resolved_at.map(|t| t.0), now),
            resolution: self.resolution.clone(),
            satisfaction: self.satisfaction,
            opened_by: self.opened_by.clone(),
            acknowledged_at: self.acknowledged_at.map(|t| t.0),
            resolved_at: self.resolved_at.map(|t| t.0),
            closed_at: self.closed_at.map(|t| t.0),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}
