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
    #[diesel(embed)]
    pub data: ComplaintData,
    pub assignee_id: Option<String>,
    pub status: ComplaintStatus,
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
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = complaints, treat_none_as_null = true)]
pub struct ComplaintData {
    pub stakeholder_id: DbUuid,
    pub subject: String,
    pub description: String,
    pub category: Category,
    pub severity: Severity,
    pub channel: Option<Channel>,
    pub due_at: DbTimestamp,
}

impl ComplaintData {
    /// From a validated input; `due_at` comes from the caller (SLA arithmetic).
    pub fn from_input(i: &ComplaintInput, due_at: DateTime<Utc>) -> Self {
        Self {
            stakeholder_id: DbUuid(i.stakeholder_id.unwrap_or_default()),
            subject: i.subject.clone().unwrap_or_default().trim().to_owned(),
            description: i.description.clone().unwrap_or_default(),
            category: i.category.unwrap_or(Category::Other),
            severity: i.severity.unwrap_or(Severity::Medium),
            channel: i.channel,
            due_at: DbTimestamp::from(due_at),
        }
    }
}

impl ComplaintRow {
    pub fn to_input(&self) -> ComplaintInput {
        let d = &self.data;
        ComplaintInput {
            stakeholder_id: Some(d.stakeholder_id.0),
            subject: Some(d.subject.clone()),
            description: Some(d.description.clone()),
            category: Some(d.category),
            severity: Some(d.severity),
            channel: d.channel,
        }
    }

    pub fn to_dto(&self, now: DateTime<Utc>) -> Complaint {
        let d = &self.data;
        Complaint {
            id: self.id.0,
            stakeholder_id: d.stakeholder_id.0,
            subject: d.subject.clone(),
            description: d.description.clone(),
            category: d.category,
            severity: d.severity,
            channel: d.channel,
            assignee_id: self.assignee_id.clone(),
            status: self.status,
            due_at: d.due_at.0,
            sla_breached: sla_breached(d.due_at.0, self.resolved_at.map(|t| t.0), now),
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
