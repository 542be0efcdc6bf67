//! Database rows for stakeholders. Never serialised to clients: they go
//! through `dto::Stakeholder` (where redaction happens).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::consent::{ConsentSource, LegalBasis, Purpose};
use super::dto::{
    Address, ConsentChange, Consents, ConsentsInput, EntityType, IncomeBand, Kind, LifecycleStage, Sensitive,
    Stakeholder, StakeholderInput, normalize_phone,
};
use crate::auth::roles::{ContactView, FieldPolicy, mask_email, mask_phone};
use crate::db::schema::{consent_changes, stakeholder_stage_changes, stakeholders};
use crate::db::{DbTimestamp, DbUuid, Json};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stakeholders)]
pub struct StakeholderRow {
    pub id: DbUuid,
    #[diesel(embed)]
    pub data: StakeholderData,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
    pub archived_at: Option<DbTimestamp>,
    pub erased_at: Option<DbTimestamp>,
}

/// A new row, flat (binary `COPY` takes no embedded struct): what
/// `create_many` writes.
#[derive(Debug, Insertable)]
#[diesel(table_name = stakeholders, treat_none_as_default_value = false)]
pub struct NewStakeholderRow<'a> {
    pub id: DbUuid,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
    pub kind: Kind,
    pub entity_type: EntityType,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub organization_id: Option<DbUuid>,
    pub lifecycle_stage: LifecycleStage,
    pub segment: Option<&'a str>,
    pub owner_id: Option<&'a str>,
    pub partner_id: Option<DbUuid>,
    pub birth_date: Option<NaiveDate>,
    pub occupation: Option<&'a str>,
    pub education_level: Option<&'a str>,
    pub household_size: Option<i32>,
    pub income_band: Option<IncomeBand>,
    pub preferred_categories: &'a Json<Vec<String>>,
    pub interests: &'a Json<Vec<String>>,
    pub tags: &'a Json<Vec<String>>,
    pub preferences: &'a Json<Map<String, Value>>,
    pub sensitive: Option<&'a Json<Sensitive>>,
    pub consents: &'a Json<Consents>,
    pub address: Option<&'a Json<Address>>,
    pub search_text: &'a str,
    pub name_search: &'a str,
}

impl<'a> NewStakeholderRow<'a> {
    pub fn new(id: DbUuid, at: DbTimestamp, d: &'a StakeholderData) -> Self {
        Self {
            id,
            version: 1,
            created_at: at,
            updated_at: at,
            kind: d.kind,
            entity_type: d.entity_type,
            display_name: &d.display_name,
            email: d.email.as_deref(),
            phone: d.phone.as_deref(),
            organization_id: d.organization_id,
            lifecycle_stage: d.lifecycle_stage,
            segment: d.segment.as_deref(),
            owner_id: d.owner_id.as_deref(),
            partner_id: d.partner_id,
            birth_date: d.birth_date,
            occupation: d.occupation.as_deref(),
            education_level: d.education_level.as_deref(),
            household_size: d.household_size,
            income_band: d.income_band,
            preferred_categories: &d.preferred_categories,
            interests: &d.interests,
            tags: &d.tags,
            preferences: &d.preferences,
            sensitive: d.sensitive.as_ref(),
            consents: &d.consents,
            address: d.address.as_ref(),
            search_text: &d.search_text,
            name_search: &d.name_search,
        }
    }
}

/// The client-writable columns (plus the derived search columns): inserted
/// on create, set in full on update.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = stakeholders, treat_none_as_null = true)]
pub struct StakeholderData {
    pub kind: Kind,
    pub entity_type: EntityType,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<DbUuid>,
    pub lifecycle_stage: LifecycleStage,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<DbUuid>,
    pub birth_date: Option<NaiveDate>,
    pub occupation: Option<String>,
    pub education_level: Option<String>,
    pub household_size: Option<i32>,
    pub income_band: Option<IncomeBand>,
    pub preferred_categories: Json<Vec<String>>,
    pub interests: Json<Vec<String>>,
    pub tags: Json<Vec<String>>,
    pub preferences: Json<Map<String, Value>>,
    pub sensitive: Option<Json<Sensitive>>,
    pub consents: Json<Consents>,
    pub address: Option<Json<Address>>,
    pub search_text: String,
    pub name_search: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_changes, treat_none_as_default_value = false)]
pub struct ConsentChangeRow {
    pub id: DbUuid,
    pub stakeholder_id: DbUuid,
    pub consent: Purpose,
    pub old_value: Option<bool>,
    pub new_value: bool,
    pub changed_by: String,
    pub changed_at: DbTimestamp,
    pub request_id: Option<String>,
    pub legal_basis: LegalBasis,
    pub source: ConsentSource,
    pub captured_at: DbTimestamp,
    pub evidence_ref: Option<String>,
}

/// One change of `lifecycle_stage` (`from_stage` null at creation).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stakeholder_stage_changes, treat_none_as_default_value = false)]
pub struct StageChangeRow {
    pub id: DbUuid,
    pub stakeholder_id: DbUuid,
    pub from_stage: Option<LifecycleStage>,
    pub to_stage: LifecycleStage,
    pub changed_at: DbTimestamp,
    pub changed_by: String,
}

impl StageChangeRow {
    pub fn new(
        stakeholder: uuid::Uuid,
        from: Option<LifecycleStage>,
        to: LifecycleStage,
        at: DbTimestamp,
        by: &str,
    ) -> Self {
        // v7 ids order by time, so "ties: the greater id" is the later write.
        let id = DbUuid(uuid::Uuid::now_v7());
        Self {
            id,
            stakeholder_id: DbUuid(stakeholder),
            from_stage: from,
            to_stage: to,
            changed_at: at,
            changed_by: by.to_owned(),
        }
    }
}

/// Unicode-aware lower case of name, e-mail and phone: what `q` searches.
pub fn search_text(name: &str, email: Option<&str>, phone: Option<&str>) -> String {
    let mut s = name.to_lowercase();
    for part in [email, phone].into_iter().flatten() {
        s.push('\n');
        s.push_str(&part.to_lowercase());
    }
    s
}

impl StakeholderData {
    /// From a validated input (required fields are present by then).
    pub fn from_input(i: &StakeholderInput) -> Self {
        let display_name = i.display_name.clone().unwrap_or_default().trim().to_owned();
        let email = i.email.as_ref().map(|e| e.trim().to_lowercase());
        let phone = i.phone.as_deref().and_then(normalize_phone);
        Self {
            kind: i.kind.unwrap_or(Kind::Customer),
            entity_type: i.entity_type.unwrap_or(EntityType::Person),
            search_text: search_text(&display_name, email.as_deref(), phone.as_deref()),
            name_search: display_name.to_lowercase(),
            display_name,
            email,
            phone,
            organization_id: i.organization_id.map(DbUuid),
            lifecycle_stage: i.lifecycle_stage.unwrap_or(LifecycleStage::Prospect),
            segment: i.segment.clone(),
            owner_id: i.owner_id.clone(),
            partner_id: i.partner_id.map(DbUuid),
            birth_date: i.birth_date,
            occupation: i.occupation.clone(),
            education_level: i.education_level.clone(),
            household_size: i.household_size,
            income_band: i.income_band,
            preferred_categories: Json(i.preferred_categories.clone().unwrap_or_default()),
            interests: Json(i.interests.clone().unwrap_or_default()),
            tags: Json(dedup(i.tags.clone().unwrap_or_default())),
            preferences: Json(i.preferences.clone().unwrap_or_default()),
            sensitive: i.sensitive.clone().filter(|s| !s.is_empty()).map(Json),
            consents: Json(i.consents.map(|c| c.resolve()).unwrap_or_default()),
            address: i
                .address
                .as_ref()
                .map(|a| Json(Address { country: a.country.as_ref().map(|c| c.to_uppercase()), ..a.clone() })),
        }
    }
}

/// Tags are a set: duplicates are dropped, order kept.
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

impl StakeholderRow {
    /// The writable document, unredacted: what a merge patch applies to.
    pub fn to_input(&self) -> StakeholderInput {
        let d = &self.data;
        StakeholderInput {
            kind: Some(d.kind),
            entity_type: Some(d.entity_type),
            display_name: Some(d.display_name.clone()),
            email: d.email.clone(),
            phone: d.phone.clone(),
            organization_id: d.organization_id.map(|u| u.0),
            lifecycle_stage: Some(d.lifecycle_stage),
            segment: d.segment.clone(),
            owner_id: d.owner_id.clone(),
            partner_id: d.partner_id.map(|u| u.0),
            birth_date: d.birth_date,
            occupation: d.occupation.clone(),
            education_level: d.education_level.clone(),
            household_size: d.household_size,
            income_band: d.income_band,
            preferred_categories: Some(d.preferred_categories.0.clone()),
            interests: Some(d.interests.0.clone()),
            tags: Some(d.tags.0.clone()),
            preferences: Some(d.preferences.0.clone()),
            sensitive: d.sensitive.as_ref().map(|s| s.0.clone()),
            consents: Some(ConsentsInput::from(d.consents.0)),
            address: d.address.as_ref().map(|a| a.0.clone()),
        }
    }

    /// The client view, redacted for the caller's role.
    pub fn to_dto(&self, policy: FieldPolicy) -> Stakeholder {
        let d = &self.data;
        let masked = policy.contact == ContactView::Masked;
        let consents = d.consents.0;
        Stakeholder {
            id: self.id.0,
            kind: d.kind,
            entity_type: d.entity_type,
            display_name: d.display_name.clone(),
            email: d.email.as_deref().map(|e| if masked { mask_email(e) } else { e.to_owned() }),
            phone: d.phone.as_deref().map(|p| if masked { mask_phone(p) } else { p.to_owned() }),
            organization_id: d.organization_id.map(|u| u.0),
            lifecycle_stage: d.lifecycle_stage,
            segment: d.segment.clone(),
            owner_id: d.owner_id.clone(),
            partner_id: d.partner_id.map(|u| u.0),
            birth_date: d.birth_date,
            occupation: d.occupation.clone(),
            education_level: d.education_level.clone(),
            household_size: d.household_size,
            income_band: d.income_band.filter(|_| policy.sensitive),
            preferred_categories: d.preferred_categories.0.clone(),
            interests: d.interests.0.clone(),
            tags: d.tags.0.clone(),
            preferences: d.preferences.0.clone(),
            sensitive: d
                .sensitive
                .as_ref()
                .filter(|_| policy.sensitive && consents.sensitive_data)
                .map(|s| s.0.clone()),
            consents,
            address: d.address.as_ref().map(|a| {
                let a = a.0.clone();
                if masked { Address { line1: None, line2: None, postal_code: None, ..a } } else { a }
            }),
            version: self.version,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            archived_at: self.archived_at.map(|t| t.0),
            erased_at: self.erased_at.map(|t| t.0),
        }
    }
}

impl From<ConsentChangeRow> for ConsentChange {
    fn from(r: ConsentChangeRow) -> Self {
        Self {
            id: r.id.0,
            consent: r.consent,
            old_value: r.old_value,
            new_value: r.new_value,
            legal_basis: r.legal_basis,
            source: r.source,
            captured_at: r.captured_at.0,
            evidence_ref: r.evidence_ref,
            changed_by: r.changed_by,
            changed_at: r.changed_at.0,
        }
    }
}
