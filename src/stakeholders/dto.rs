//! Wire types for stakeholders: what clients send and receive.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::consent::{ConsentSource, LegalBasis, Purpose};
use crate::error::FieldError;
use crate::http::extract::{CheckedInput, name_problem};

text_enum! {
    /// The relationship the company has with the stakeholder.
    pub enum Kind { Customer = "customer", Supplier = "supplier", Investor = "investor", Employee = "employee", Partner = "partner" }
}
text_enum! {
    pub enum EntityType { Person = "person", Organization = "organization" }
}
text_enum! {
    /// Where the stakeholder stands in the customer lifecycle.
    pub enum LifecycleStage {
        Prospect = "prospect", Lead = "lead", Customer = "customer",
        RepeatCustomer = "repeat_customer", Advocate = "advocate", Churned = "churned",
    }
}
text_enum! {
    /// Sensitive: shown only to admin and manager.
    pub enum IncomeBand { Low = "low", LowerMiddle = "lower_middle", UpperMiddle = "upper_middle", High = "high" }
}

/// Special-category data. Only `admin` and `manager` see or set it, and only
/// while the stakeholder's `sensitive_data` consent is given; withdrawing
/// that consent erases it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sensitive {
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub health_notes: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub beliefs: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub other: Option<String>,
}

impl Sensitive {
    pub fn is_empty(&self) -> bool {
        self.health_notes.is_none() && self.beliefs.is_none() && self.other.is_none()
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub line1: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub region: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[validate(custom(function = "valid_country"))]
    #[schema(example = "ID", min_length = 2, max_length = 2)]
    pub country: Option<String>,
}

/// The consents a stakeholder has given. Every change is recorded with who
/// and when (`GET …/{id}/consent-history`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
// Stored as JSON whose column default is `{}`: a missing consent is not given.
#[serde(default)]
pub struct Consents {
    pub marketing_email: bool,
    pub marketing_sms: bool,
    pub marketing_phone: bool,
    pub profiling: bool,
    pub sensitive_data: bool,
}

impl Consents {
    pub const NAMES: [&'static str; 5] =
        ["marketing_email", "marketing_sms", "marketing_phone", "profiling", "sensitive_data"];

    pub fn get(&self, name: &str) -> bool {
        match name {
            "marketing_email" => self.marketing_email,
            "marketing_sms" => self.marketing_sms,
            "marketing_phone" => self.marketing_phone,
            "profiling" => self.profiling,
            "sensitive_data" => self.sensitive_data,
            _ => false,
        }
    }
}

/// Consents in a request: only the ones named change (`null` withdraws).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentsInput {
    pub marketing_email: Option<bool>,
    pub marketing_sms: Option<bool>,
    pub marketing_phone: Option<bool>,
    pub profiling: Option<bool>,
    pub sensitive_data: Option<bool>,
}

impl ConsentsInput {
    pub fn resolve(&self) -> Consents {
        Consents {
            marketing_email: self.marketing_email.unwrap_or(false),
            marketing_sms: self.marketing_sms.unwrap_or(false),
            marketing_phone: self.marketing_phone.unwrap_or(false),
            profiling: self.profiling.unwrap_or(false),
            sensitive_data: self.sensitive_data.unwrap_or(false),
        }
    }
}

impl From<Consents> for ConsentsInput {
    fn from(c: Consents) -> Self {
        Self {
            marketing_email: Some(c.marketing_email),
            marketing_sms: Some(c.marketing_sms),
            marketing_phone: Some(c.marketing_phone),
            profiling: Some(c.profiling),
            sensitive_data: Some(c.sensitive_data),
        }
    }
}

/// A stakeholder as written by clients: the body of `POST`, and the document
/// a `PATCH` merge patch is applied to. Every field is optional to serde so
/// that all invalid fields are reported together; `required` is a rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "customer", "entity_type": "person", "display_name": "Siti Rahayu",
    "email": "siti@example.com", "phone": "+6281234567890", "lifecycle_stage": "lead",
    "segment": "gold", "tags": ["vip"], "consents": {"marketing_email": true},
    "address": {"city": "Bandung", "country": "ID"}
}))]
pub struct StakeholderInput {
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub kind: Option<Kind>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub entity_type: Option<EntityType>,
    #[validate(required, length(min = 1, max = 200), custom(function = "valid_name"))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    /// Unique among stakeholders that are not erased; stored lower-case.
    #[validate(email, length(max = 254))]
    #[schema(format = "email", max_length = 254)]
    pub email: Option<String>,
    /// E.164-ish: optional `+`, 5 to 15 digits; spaces, dots, dashes and
    /// parentheses are accepted and removed.
    #[validate(custom(function = "valid_phone"))]
    #[schema(example = "+6281234567890")]
    pub phone: Option<String>,
    /// An `organization` stakeholder: a person's employer.
    pub organization_id: Option<Uuid>,
    /// Defaults to `prospect`.
    pub lifecycle_stage: Option<LifecycleStage>,
    #[validate(length(max = 50))]
    #[schema(max_length = 50, example = "gold")]
    pub segment: Option<String>,
    /// The account manager (a user's `sub`).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub owner_id: Option<String>,
    /// The partner organisation this record is shared with.
    pub partner_id: Option<Uuid>,
    /// Person only.
    pub birth_date: Option<NaiveDate>,
    /// Person only.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub occupation: Option<String>,
    /// Person only.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub education_level: Option<String>,
    /// Person only.
    #[validate(range(min = 1, max = 50))]
    #[schema(minimum = 1, maximum = 50)]
    pub household_size: Option<i32>,
    /// Sensitive: only `admin` and `manager` may set it.
    pub income_band: Option<IncomeBand>,
    #[validate(custom(function = "valid_string_list"))]
    #[schema(max_items = 50)]
    pub preferred_categories: Option<Vec<String>>,
    #[validate(custom(function = "valid_string_list"))]
    #[schema(max_items = 50)]
    pub interests: Option<Vec<String>>,
    #[validate(custom(function = "valid_string_list"))]
    #[schema(max_items = 50)]
    pub tags: Option<Vec<String>>,
    /// Free-form JSON object, at most 16 KiB serialised.
    #[validate(custom(function = "valid_preferences"))]
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<Map<String, Value>>,
    /// Sensitive: only `admin` and `manager`, and only with consent `sensitive_data`.
    #[validate(nested)]
    pub sensitive: Option<Sensitive>,
    pub consents: Option<ConsentsInput>,
    #[validate(nested)]
    pub address: Option<Address>,
}

/// Fields only `admin` and `manager` may set.
pub const SENSITIVE_FIELDS: [&str; 2] = ["sensitive", "income_band"];
const PERSON_ONLY: [&str; 4] = ["birth_date", "occupation", "education_level", "household_size"];

impl CheckedInput for StakeholderInput {
    const FREE_FORM: &'static [&'static str] = &["preferences"];

    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        if self.entity_type == Some(EntityType::Organization) {
            let set = [
                self.birth_date.is_some(),
                self.occupation.is_some(),
                self.education_level.is_some(),
                self.household_size.is_some(),
            ];
            for (name, is_set) in PERSON_ONLY.iter().zip(set) {
                if is_set {
                    out.push(FieldError::new(*name, "person_only", "only a person has this field"));
                }
            }
        }
        if self.birth_date.is_some_and(|d| d > Utc::now().date_naive()) {
            out.push(FieldError::new("birth_date", "range", "must not be in the future"));
        }
        if self.birth_date.is_some_and(|d| d.year() < 1900) {
            out.push(FieldError::new("birth_date", "range", "must be in 1900 or later"));
        }
        let consented = self.consents.map(|c| c.resolve().sensitive_data).unwrap_or(false);
        if self.sensitive.as_ref().is_some_and(|s| !s.is_empty()) && !consented {
            out.push(FieldError::new(
                "sensitive",
                "consent_required",
                "sensitive data may be stored only with consent sensitive_data",
            ));
        }
    }
}

/// A visible character and no control characters ([`name_problem`]).
fn valid_name(s: &str) -> Result<(), ValidationError> {
    match name_problem(s) {
        Some((code, message)) => Err(ValidationError::new(code).with_message(message.into())),
        None => Ok(()),
    }
}

/// Digits of an E.164-ish number with separators removed, or `None`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let cleaned: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    let ok = (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(cleaned)
}

fn valid_phone(s: &str) -> Result<(), ValidationError> {
    normalize_phone(s).map(|_| ()).ok_or_else(|| {
        ValidationError::new("phone").with_message("must be a phone number: optional +, then 5 to 15 digits".into())
    })
}

fn valid_country(s: &str) -> Result<(), ValidationError> {
    // Upper case only, like currencies: the document lists the codes, and
    // accepting `id` as well would make it say less than the server does.
    isocountry::CountryCode::for_alpha2(s)
        .map(|_| ())
        .map_err(|_| ValidationError::new("country").with_message("must be an ISO 3166-1 alpha-2 code, e.g. ID".into()))
}

fn valid_string_list(items: &[String]) -> Result<(), ValidationError> {
    if items.len() > 50 {
        return Err(ValidationError::new("length").with_message("at most 50 items".into()));
    }
    if items.iter().any(|i| i.trim().is_empty() || i.chars().count() > 50) {
        return Err(ValidationError::new("item_length").with_message("each item must be 1 to 50 characters".into()));
    }
    Ok(())
}

fn valid_preferences(p: &Map<String, Value>) -> Result<(), ValidationError> {
    let size = serde_json::to_vec(p).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > 16 * 1024 {
        return Err(ValidationError::new("size").with_message("must be at most 16 KiB as JSON".into()));
    }
    Ok(())
}

/// A stakeholder as clients see it. Fields the caller's role may not see are
/// `null` (`sensitive`, `income_band`) or masked (contact details for analysts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stakeholder {
    pub id: Uuid,
    pub kind: Kind,
    pub entity_type: EntityType,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<Uuid>,
    pub lifecycle_stage: LifecycleStage,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<Uuid>,
    pub birth_date: Option<NaiveDate>,
    pub occupation: Option<String>,
    pub education_level: Option<String>,
    pub household_size: Option<i32>,
    pub income_band: Option<IncomeBand>,
    pub preferred_categories: Vec<String>,
    pub interests: Vec<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub preferences: Map<String, Value>,
    pub sensitive: Option<Sensitive>,
    pub consents: Consents,
    pub address: Option<Address>,
    /// Starts at 1, +1 on every change; the ETag.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// One recorded consent change: what, old → new, on which legal basis, how
/// it was captured, who recorded it and when. A renewal has `old_value ==
/// new_value`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentChange {
    pub id: Uuid,
    pub consent: Purpose,
    /// `null` when the consent had never been recorded before.
    pub old_value: Option<bool>,
    pub new_value: bool,
    pub legal_basis: LegalBasis,
    pub source: ConsentSource,
    /// When the stakeholder gave or withdrew it (may precede `changed_at`).
    pub captured_at: DateTime<Utc>,
    /// An opaque pointer to the evidence (form submission, recording); `null` after erasure.
    pub evidence_ref: Option<String>,
    /// The `sub` of the user who made the change.
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// One consent to record: granted or withdrawn, with its basis and capture.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChangeInput {
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub consent: Option<Purpose>,
    /// `true` grants, `false` withdraws (for `profiling`, an objection).
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub granted: Option<bool>,
    /// Default: the purpose's (`explicit_consent` for `sensitive_data`, else `consent`).
    /// Granting `sensitive_data` needs `explicit_consent`; the others `consent` or `legitimate_interests`.
    pub legal_basis: Option<LegalBasis>,
    /// Default `api`; `import` and `erasure` are the server's own.
    pub source: Option<ConsentSource>,
    /// Default now; at most 5 minutes ahead, not before 1900.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub captured_at: Option<DateTime<Utc>>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "^[A-Za-z0-9._:/#-]+$", example = "form-42")]
    pub evidence_ref: Option<String>,
}

/// Body of `POST …/stakeholders/{id}/consents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"changes": [{"consent": "marketing_email", "granted": true, "legal_basis": "consent",
    "source": "web_form", "evidence_ref": "form-42"}]}))]
pub struct ConsentRecordInput {
    /// 1..5 changes, each consent at most once.
    #[validate(required, length(min = 1, max = 5), nested)]
    #[schema(required = true, nullable = false, min_items = 1, max_items = 5)]
    pub changes: Option<Vec<ConsentChangeInput>>,
}

impl CheckedInput for ConsentRecordInput {
    fn extra_checks(&self, out: &mut Vec<FieldError>) {
        let now = Utc::now();
        let mut seen = Vec::new();
        for (i, c) in self.changes.iter().flatten().enumerate() {
            let at = |f: &str| format!("changes[{i}].{f}");
            if let Some(p) = c.consent {
                if seen.contains(&p) {
                    out.push(FieldError::new(at("consent"), "duplicate", "each consent at most once per request"));
                }
                seen.push(p);
                if let (Some(true), Some(b)) = (c.granted, c.legal_basis)
                    && !p.bases_when_granting().contains(&b)
                {
                    out.push(FieldError::new(
                        at("legal_basis"),
                        "not_allowed",
                        "this basis cannot ground this consent",
                    ));
                }
            }
            if c.source.is_some_and(ConsentSource::server_only) {
                out.push(FieldError::new(at("source"), "server_only", "import and erasure are recorded by the server"));
            }
            if let Some(t) = c.captured_at
                && (t > now + chrono::Duration::minutes(5) || t.year() < 1900)
            {
                out.push(FieldError::new(at("captured_at"), "range", "must be from 1900 to 5 minutes from now"));
            }
            if c.evidence_ref
                .as_deref()
                .is_some_and(|r| !r.chars().all(|ch| ch.is_ascii_alphanumeric() || "._:/#-".contains(ch)))
            {
                out.push(FieldError::new(at("evidence_ref"), "invalid_character", "letters, digits and ._:/#- only"));
            }
        }
    }
}

/// The answer to `POST …/consents`: the consents now, and the rows recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentRecordResult {
    pub consents: Consents,
    pub recorded: Vec<ConsentChange>,
}

/// Query parameters of `GET /api/v1/stakeholders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StakeholderQuery {
    /// Page size, 1..200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// `created_at`, `updated_at` or `display_name`; `-` prefix for descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at|display_name)$")]
    pub sort: Option<String>,
    pub kind: Option<Kind>,
    pub entity_type: Option<EntityType>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    /// Stakeholders carrying this tag.
    pub tag: Option<String>,
    /// Case-insensitive search over name, e-mail and phone (names only for roles that see contact
    /// details masked).
    pub q: Option<String>,
    /// Only stakeholders changed at or after this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Include archived stakeholders (default false).
    pub include_archived: Option<bool>,
}

/// Query parameters of the consent history.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsentHistoryQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only changes of this consent.
    pub consent: Option<Purpose>,
    /// Changed at or after this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub changed_after: Option<DateTime<Utc>>,
    /// Changed strictly before this instant.
    #[serde(default, deserialize_with = "crate::db::types::deserialize_time")]
    pub changed_before: Option<DateTime<Utc>>,
}

/// The body of `POST /stakeholders/batch/upsert`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchUpsertInput {
    /// 1..1,000 stakeholders, each with `email` (the key).
    #[schema(min_items = 1, max_items = 1000)]
    pub inputs: Vec<StakeholderInput>,
    #[serde(default)]
    pub atomic: bool,
    /// The key: `email` (the only one in this version).
    #[schema(pattern = "^email$")]
    pub id_property: Option<String>,
}
