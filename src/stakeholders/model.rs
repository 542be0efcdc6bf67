//! Database rows for stakeholders. Never serialised to clients: they go
//! through `dto::Stakeholder` (where redaction happens).

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::{consent_changes, stakeholders};
use crate::db::{DbTimestamp, DbUuid};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stakeholders)]
pub struct StakeholderRow {
    pub id: DbUuid,
    pub kind: String,
    pub entity_type: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<DbUuid>,
    pub lifecycle_stage: String,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<DbUuid>,
    pub birth_date: Option<NaiveDate>,
    pub occupation: Option<String>,
    pub education_level: Option<String>,
    pub household_size: Option<i32>,
    pub income_band: Option<String>,
    pub preferred_categories: String,
    pub interests: String,
    pub tags: String,
    pub preferences: String,
    pub sensitive: Option<String>,
    pub consents: String,
    pub address: Option<String>,
    pub search_text: String,
    pub name_search: String,
    pub version: i32,
    pub created_at: DbTimestamp,
    pub updated_at: DbTimestamp,
    pub archived_at: Option<DbTimestamp>,
    pub erased_at: Option<DbTimestamp>,
}

/// The client-writable columns (plus the derived `search_text`): inserted on
/// create, set in full on update.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = stakeholders, treat_none_as_null = true)]
pub struct StakeholderData {
    pub kind: String,
    pub entity_type: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<DbUuid>,
    pub lifecycle_stage: String,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<DbUuid>,
    pub birth_date: Option<NaiveDate>,
    pub occupation: Option<String>,
    pub education_level: Option<String>,
    pub household_size: Option<i32>,
    pub income_band: Option<String>,
    pub preferred_categories: String,
    pub interests: String,
    pub tags: String,
    pub preferences: String,
    pub sensitive: Option<String>,
    pub consents: String,
    pub address: Option<String>,
    pub search_text: String,
    pub name_search: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_changes)]
pub struct ConsentChangeRow {
    pub id: DbUuid,
    pub stakeholder_id: DbUuid,
    pub consent: String,
    pub old_value: Option<bool>,
    pub new_value: bool,
    pub changed_by: String,
    pub changed_at: DbTimestamp,
    pub request_id: Option<String>,
}

use serde_json::{Map, Value};

use super::dto::{
    Address, ConsentChange, Consents, ConsentsInput, EntityType, IncomeBand, Kind, LifecycleStage, Sensitive,
    Stakeholder, StakeholderInput, normalize_phone,
};
use crate::auth::roles::{ContactView, FieldPolicy, mask_email, mask_phone};

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
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
        let address =
            i.address.as_ref().map(|a| Address { country: a.country.as_ref().map(|c| c.to_uppercase()), ..a.clone() });
        Self {
            kind: i.kind.unwrap_or(Kind::Customer).as_str().to_owned(),
            entity_type: i.entity_type.unwrap_or(EntityType::Person).as_str().to_owned(),
            search_text: search_text(&display_name, email.as_deref(), phone.as_deref()),
            name_search: display_name.to_lowercase(),
            display_name,
            email,
            phone,
            organization_id: i.organization_id.map(DbUuid),
            lifecycle_stage: i.lifecycle_stage.unwrap_or(LifecycleStage::Prospect).as_str().to_owned(),
            segment: i.segment.clone(),
            owner_id: i.owner_id.clone(),
            partner_id: i.partner_id.map(DbUuid),
            birth_date: i.birth_date,
            occupation: i.occupation.clone(),
            education_level: i.education_level.clone(),
            household_size: i.household_size,
            income_band: i.income_band.map(|b| b.as_str().to_owned()),
            preferred_categories: json(&i.preferred_categories.clone().unwrap_or_default()),
            interests: json(&i.interests.clone().unwrap_or_default()),
            tags: json(&dedup(i.tags.clone().unwrap_or_default())),
            preferences: json(&i.preferences.clone().unwrap_or_default()),
            sensitive: i.sensitive.as_ref().filter(|s| !s.is_empty()).map(json),
            consents: json(&i.consents.map(|c| c.resolve()).unwrap_or_default()),
            address: address.as_ref().map(json),
        }
    }

    pub fn tag_list(&self) -> Vec<String> {
        parse_json(&self.tags)
    }

    pub fn consents(&self) -> Consents {
        parse_json(&self.consents)
    }
}

/// Tags are a set: duplicates are dropped, order kept.
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

impl StakeholderRow {
    pub fn consents(&self) -> Consents {
        parse_json(&self.consents)
    }

    /// The writable document, unredacted: what a merge patch applies to.
    pub fn to_input(&self) -> StakeholderInput {
        StakeholderInput {
            kind: Kind::parse(&self.kind),
            entity_type: EntityType::parse(&self.entity_type),
            display_name: Some(self.display_name.clone()),
            email: self.email.clone(),
            phone: self.phone.clone(),
            organization_id: self.organization_id.map(|u| u.0),
            lifecycle_stage: LifecycleStage::parse(&self.lifecycle_stage),
            segment: self.segment.clone(),
            owner_id: self.owner_id.clone(),
            partner_id: self.partner_id.map(|u| u.0),
            birth_date: self.birth_date,
            occupation: self.occupation.clone(),
            education_level: self.education_level.clone(),
            household_size: self.household_size,
            income_band: self.income_band.as_deref().and_then(IncomeBand::parse),
            preferred_categories: Some(parse_json(&self.preferred_categories)),
            interests: Some(parse_json(&self.interests)),
            tags: Some(parse_json(&self.tags)),
            preferences: Some(parse_json(&self.preferences)),
            sensitive: self.sensitive.as_deref().map(parse_json),
            consents: Some(ConsentsInput::from(self.consents())),
            address: self.address.as_deref().map(parse_json),
        }
    }

    /// The client view, redacted for the caller's role.
    pub fn to_dto(&self, policy: FieldPolicy) -> Stakeholder {
        let consents = self.consents();
        let masked = policy.contact == ContactView::Masked;
        let address: Option<Address> = self.address.as_deref().map(parse_json);
        Stakeholder {
            id: self.id.0,
            // Stored values were written from these enums; the fallbacks are unreachable.
            kind: Kind::parse(&self.kind).unwrap_or(Kind::Customer),
            entity_type: EntityType::parse(&self.entity_type).unwrap_or(EntityType::Person),
            display_name: self.display_name.clone(),
            email: self.email.as_deref().map(|e| if masked { mask_email(e) } else { e.to_owned() }),
            phone: self.phone.as_deref().map(|p| if masked { mask_phone(p) } else { p.to_owned() }),
            organization_id: self.organization_id.map(|u| u.0),
            lifecycle_stage: LifecycleStage::parse(&self.lifecycle_stage).unwrap_or(LifecycleStage::Prospect),
            segment: self.segment.clone(),
            owner_id: self.owner_id.clone(),
            partner_id: self.partner_id.map(|u| u.0),
            birth_date: self.birth_date,
            occupation: self.occupation.clone(),
            education_level: self.education_level.clone(),
            household_size: self.household_size,
            income_band: if policy.sensitive { self.income_band.as_deref().and_then(IncomeBand::parse) } else { None },
            preferred_categories: parse_json(&self.preferred_categories),
            interests: parse_json(&self.interests),
            tags: parse_json(&self.tags),
            preferences: parse_json::<Map<String, Value>>(&self.preferences),
            sensitive: if policy.sensitive && consents.sensitive_data {
                self.sensitive.as_deref().map(parse_json::<Sensitive>)
            } else {
                None
            },
            consents,
            address: address.map(
                |a| {
                    if masked { Address { line1: None, line2: None, postal_code: None, ..a } } else { a }
                },
            ),
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
            changed_by: r.changed_by,
            changed_at: r.changed_at.0,
        }
    }
}
