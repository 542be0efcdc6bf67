//! `crm-api seed`: realistic, deterministic data at scale, for benchmarks
//! and demos. Rows are generated in chunks and written in one transaction
//! per chunk: PostgreSQL through binary `COPY`, SQLite through multi-row
//! `INSERT`s (the two bulk paths diesel cannot express through the
//! multi-backend connection). Seeded rows get no audit events or consent
//! history: they stand for data imported from elsewhere.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::complaints::dto::{Category, ComplaintStatus, Severity};
use crate::complaints::lifecycle;
use crate::config::SlaTargets;
use crate::db::schema::{
    complaints, interactions, offers, relationships, stakeholder_stage_changes, stakeholder_tags, stakeholders,
};
use crate::db::{DbConnection, DbTimestamp, DbUuid, types};
use crate::domain::Channel;
use crate::interactions::dto::{Direction, InteractionType};
use crate::offers::dto::OfferStatus;
use crate::relationships::dto::RelationshipType;
use crate::stakeholders::dto::{Consents, EntityType, IncomeBand, Kind, LifecycleStage};
use crate::stakeholders::model::search_text;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub stakeholders: u64,
    /// Averages per stakeholder; the fraction is drawn (0.5: every other one on average).
    pub interactions_per: f64,
    pub offers_per: f64,
    pub complaints_per: f64,
    /// Edges from each stakeholder to earlier ones, on average.
    pub relationships_per: f64,
    pub rng_seed: u64,
    /// Write a sample of stakeholder ids (one per line) here, for load generators.
    pub ids_file: Option<PathBuf>,
    /// Stakeholders per transaction.
    pub chunk: u64,
}

#[derive(Debug, Default, Clone)]
pub struct SeedReport {
    pub stakeholders: u64,
    pub tags: u64,
    pub stage_changes: u64,
    pub interactions: u64,
    pub offers: u64,
    pub complaints: u64,
    pub relationships: u64,
    pub seconds: f64,
}

impl SeedReport {
    pub fn rows(&self) -> u64 {
        self.stakeholders
            + self.tags
            + self.stage_changes
            + self.interactions
            + self.offers
            + self.complaints
            + self.relationships
    }
}

#[derive(Insertable)]
#[diesel(table_name = stakeholders, treat_none_as_default_value = false)]
struct NewStakeholder {
    id: DbUuid,
    kind: &'static str,
    entity_type: &'static str,
    display_name: String,
    email: Option<String>,
    phone: Option<String>,
    organization_id: Option<DbUuid>,
    lifecycle_stage: &'static str,
    segment: Option<&'static str>,
    owner_id: Option<String>,
    partner_id: Option<DbUuid>,
    birth_date: Option<NaiveDate>,
    occupation: Option<&'static str>,
    education_level: Option<&'static str>,
    household_size: Option<i32>,
    income_band: Option<&'static str>,
    preferred_categories: String,
    interests: String,
    tags: String,
    preferences: String,
    sensitive: Option<String>,
    consents: String,
    address: Option<String>,
    search_text: String,
    name_search: String,
    version: i32,
    created_at: DbTimestamp,
    updated_at: DbTimestamp,
    archived_at: Option<DbTimestamp>,
    erased_at: Option<DbTimestamp>,
}

#[derive(Insertable)]
#[diesel(table_name = stakeholder_tags, treat_none_as_default_value = false)]
struct NewTag {
    stakeholder_id: DbUuid,
    tag: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = stakeholder_stage_changes, treat_none_as_default_value = false)]
struct NewStageChange {
    id: DbUuid,
    stakeholder_id: DbUuid,
    from_stage: Option<&'static str>,
    to_stage: &'static str,
    changed_at: DbTimestamp,
    changed_by: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = relationships, treat_none_as_default_value = false)]
struct NewRelationship {
    id: DbUuid,
    from_id: DbUuid,
    to_id: DbUuid,
    relationship_type: RelationshipType,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    strength: Option<i32>,
    notes: Option<&'static str>,
    created_by: &'static str,
    version: i32,
    created_at: DbTimestamp,
    updated_at: DbTimestamp,
}

#[derive(Insertable)]
#[diesel(table_name = interactions, treat_none_as_default_value = false)]
struct NewInteraction {
    id: DbUuid,
    stakeholder_id: DbUuid,
    channel: &'static str,
    direction: &'static str,
    interaction_type: &'static str,
    occurred_at: DbTimestamp,
    subject: Option<String>,
    notes: Option<String>,
    outcome: Option<String>,
    amount_minor: Option<i64>,
    currency: Option<&'static str>,
    satisfaction: Option<i32>,
    offer_id: Option<DbUuid>,
    complaint_id: Option<DbUuid>,
    recorded_by: String,
    version: i32,
    created_at: DbTimestamp,
    updated_at: DbTimestamp,
}

#[derive(Insertable)]
#[diesel(table_name = offers, treat_none_as_default_value = false)]
struct NewOffer {
    id: DbUuid,
    stakeholder_id: DbUuid,
    title: String,
    description: Option<String>,
    product_category: Option<&'static str>,
    price_minor: i64,
    currency: &'static str,
    discount_percent: i32,
    valid_from: Option<DbTimestamp>,
    valid_until: Option<DbTimestamp>,
    status: &'static str,
    created_by: String,
    sent_at: Option<DbTimestamp>,
    responded_at: Option<DbTimestamp>,
    version: i32,
    created_at: DbTimestamp,
    updated_at: DbTimestamp,
}

#[derive(Insertable)]
#[diesel(table_name = complaints, treat_none_as_default_value = false)]
struct NewComplaint {
    id: DbUuid,
    stakeholder_id: DbUuid,
    subject: String,
    description: String,
    category: &'static str,
    severity: &'static str,
    channel: Option<&'static str>,
    assignee_id: Option<String>,
    status: &'static str,
    due_at: DbTimestamp,
    resolution: Option<String>,
    satisfaction: Option<i32>,
    opened_by: String,
    acknowledged_at: Option<DbTimestamp>,
    resolved_at: Option<DbTimestamp>,
    closed_at: Option<DbTimestamp>,
    version: i32,
    created_at: DbTimestamp,
    updated_at: DbTimestamp,
}

const FIRST: &[&str] = &[
    "Siti", "Budi", "Agus", "Dewi", "Rina", "Andi", "Putri", "Eko", "Wati", "Joko", "Maria", "John", "Aisha", "Wei",
    "Chen", "Ananya", "Rahul", "Fatima", "Omar", "Lucas", "Sofia", "Mateo", "Yuki", "Hana", "Émile", "Zoë", "Liam",
    "Noah", "Emma", "Olivia", "Nur", "Rizky", "Ayu", "Bayu", "Citra", "Dimas", "Fajar", "Gita", "Hendra", "Indah",
];
const LAST: &[&str] = &[
    "Rahayu",
    "Santoso",
    "Wijaya",
    "Kusuma",
    "Pratama",
    "Saputra",
    "Hidayat",
    "Nugroho",
    "Lestari",
    "Setiawan",
    "Smith",
    "García",
    "Müller",
    "Tanaka",
    "Kim",
    "Nguyen",
    "Singh",
    "Haddad",
    "Silva",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Hartono",
    "Gunawan",
    "Halim",
    "Susanto",
    "Wibowo",
    "Siregar",
    "Nasution",
    "Simanjuntak",
];
const ORG_A: &[&str] =
    &["Nusantara", "Garuda", "Merapi", "Samudra", "Borneo", "Java", "Sumatra", "Bali", "Lombok", "Celebes"];
const ORG_B: &[&str] =
    &["Trading", "Logistics", "Foods", "Textiles", "Capital", "Digital", "Retail", "Farms", "Energy", "Holdings"];
const CITIES: &[(&str, &str)] = &[
    ("Jakarta", "ID"),
    ("Bandung", "ID"),
    ("Surabaya", "ID"),
    ("Medan", "ID"),
    ("Denpasar", "ID"),
    ("Yogyakarta", "ID"),
    ("Singapore", "SG"),
    ("Kuala Lumpur", "MY"),
    ("Bangkok", "TH"),
    ("Manila", "PH"),
];
const RELATIONSHIP_NOTES: &[&str] =
    &["Met at a trade fair", "Introduced by the account manager", "Long-standing tie", "Key contact for renewals"];
const SEGMENTS: &[&str] = &["bronze", "silver", "gold", "platinum"];
const TAGS: &[&str] =
    &["vip", "newsletter", "b2b", "b2c", "wholesale", "loyalty", "event", "referral", "churn-risk", "new"];
const CATEGORIES: &[&str] = &["groceries", "electronics", "fashion", "home", "beauty", "sports", "books", "travel"];
const OCCUPATIONS: &[&str] =
    &["teacher", "engineer", "nurse", "farmer", "trader", "student", "driver", "designer", "doctor"];
const EDUCATION: &[&str] = &["primary", "secondary", "diploma", "bachelor", "master", "doctorate"];
const OWNERS: &[&str] = &["am-ayu", "am-bayu", "am-citra", "am-dimas", "am-eko", "am-fajar"];
const AGENTS: &[&str] = &["agent-1", "agent-2", "agent-3", "agent-4", "agent-5"];
/// A few partner organisations that records are shared with.
const PARTNERS: [Uuid; 3] = [
    Uuid::from_u128(0x0192_f0c4_7d1e_7c3a_9d7e_3b1f_2a4c_5d01),
    Uuid::from_u128(0x0192_f0c4_7d1e_7c3a_9d7e_3b1f_2a4c_5d02),
    Uuid::from_u128(0x0192_f0c4_7d1e_7c3a_9d7e_3b1f_2a4c_5d03),
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Picks by integer weights.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total);
    for (item, w) in items {
        if n < *w {
            return *item;
        }
        n -= w;
    }
    items[items.len() - 1].0
}

/// A UUIDv7 for `at`, with random bits from the seeded generator (deterministic).
fn uuid_at(rng: &mut StdRng, at: DateTime<Utc>) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &bytes).into_uuid()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Everything one chunk writes.
#[derive(Default)]
struct Chunk {
    stakeholders: Vec<NewStakeholder>,
    tags: Vec<NewTag>,
    stage_changes: Vec<NewStageChange>,
    interactions: Vec<NewInteraction>,
    offers: Vec<NewOffer>,
    complaints: Vec<NewComplaint>,
    relationships: Vec<NewRelationship>,
}

struct Generator {
    rng: StdRng,
    opts: SeedOptions,
    sla: SlaTargets,
    start: DateTime<Utc>,
    span: Duration,
    now: DateTime<Utc>,
    /// Recent organisations, so people can work for one.
    organizations: Vec<DbUuid>,
    /// Recent stakeholders, the other ends of new relationships.
    recent: Vec<(DbUuid, Kind, EntityType)>,
}

impl Generator {
    fn stakeholder(&mut self, i: u64, chunk: &mut Chunk) {
        let rng = &mut self.rng;
        // Spread over two years, in order, so ids (v7) and created_at agree.
        let offset = self.span.num_milliseconds() as f64 * (i as f64 / self.opts.stakeholders.max(1) as f64);
        let created = types::truncate(self.start + Duration::milliseconds(offset as i64));
        let id = uuid_at(rng, created);
        let kind = weighted(
            rng,
            &[(Kind::Customer, 70), (Kind::Supplier, 8), (Kind::Partner, 6), (Kind::Investor, 3), (Kind::Employee, 13)],
        );
        let org_share = match kind {
            Kind::Supplier | Kind::Partner => 80,
            Kind::Investor => 40,
            Kind::Customer => 12,
            Kind::Employee => 0,
        };
        let entity = if rng.random_range(0..100) < org_share { EntityType::Organization } else { EntityType::Person };
        let person = entity == EntityType::Person;
        let (name, email) = if person {
            let (f, l) = (pick(rng, FIRST), pick(rng, LAST));
            (format!("{f} {l}"), format!("{}.{}.{i}@example.com", f.to_lowercase(), l.to_lowercase()))
        } else {
            let (a, b) = (pick(rng, ORG_A), pick(rng, ORG_B));
            (
                format!("PT {a} {b} {}", i % 997),
                format!("contact.{i}@{}-{}.example", a.to_lowercase(), b.to_lowercase()),
            )
        };
        let phone = rng.random_bool(0.8).then(|| format!("+628{:010}", rng.random_range(0..10_000_000_000u64)));
        let stage = weighted(
            rng,
            &[
                (LifecycleStage::Prospect, 25),
                (LifecycleStage::Lead, 20),
                (LifecycleStage::Customer, 30),
                (LifecycleStage::RepeatCustomer, 15),
                (LifecycleStage::Advocate, 5),
                (LifecycleStage::Churned, 5),
            ],
        );
        let mut tags: Vec<&'static str> = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let t = pick(rng, TAGS);
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let consents = Consents {
            marketing_email: rng.random_bool(0.6),
            marketing_sms: rng.random_bool(0.3),
            marketing_phone: rng.random_bool(0.2),
            profiling: rng.random_bool(0.4),
            sensitive_data: false,
        };
        let (city, country) = pick(rng, CITIES);
        let organization_id =
            (person && !self.organizations.is_empty() && rng.random_bool(0.3)).then(|| pick(rng, &self.organizations));
        let categories: Vec<&str> = (0..rng.random_range(0..3)).map(|_| pick(rng, CATEGORIES)).collect();
        let row = NewStakeholder {
            id: DbUuid(id),
            kind: kind.as_str(),
            entity_type: entity.as_str(),
            search_text: search_text(&name, Some(&email), phone.as_deref()),
            name_search: name.to_lowercase(),
            display_name: name,
            email: Some(email),
            phone,
            organization_id,
            lifecycle_stage: stage.as_str(),
            segment: rng
                .random_bool(0.85)
                .then(|| weighted(rng, &[(SEGMENTS[0], 50), (SEGMENTS[1], 30), (SEGMENTS[2], 15), (SEGMENTS[3], 5)])),
            owner_id: rng.random_bool(0.7).then(|| pick(rng, OWNERS).to_owned()),
            partner_id: rng.random_bool(0.1).then(|| DbUuid(pick(rng, &PARTNERS))),
            birth_date: person
                .then(|| {
                    NaiveDate::from_ymd_opt(
                        rng.random_range(1950..2006),
                        rng.random_range(1..13),
                        rng.random_range(1..29),
                    )
                })
                .flatten(),
            occupation: (person && rng.random_bool(0.6)).then(|| pick(rng, OCCUPATIONS)),
            education_level: (person && rng.random_bool(0.5)).then(|| pick(rng, EDUCATION)),
            household_size: (person && rng.random_bool(0.5)).then(|| rng.random_range(1..8)),
            income_band: rng.random_bool(0.4).then(|| {
                pick(rng, &[IncomeBand::Low, IncomeBand::LowerMiddle, IncomeBand::UpperMiddle, IncomeBand::High])
                    .as_str()
            }),
            preferred_categories: json(&categories),
            interests: "[]".into(),
            tags: json(&tags),
            preferences: "{}".into(),
            sensitive: None,
            consents: json(&consents),
            address: Some(format!(
                r#"{{"line1":null,"line2":null,"city":"{city}","region":null,"postal_code":null,"country":"{country}"}}"#
            )),
            version: 1,
            created_at: DbTimestamp(created),
            updated_at: DbTimestamp(created),
            archived_at: None,
            erased_at: None,
        };
        for t in tags {
            chunk.tags.push(NewTag { stakeholder_id: DbUuid(id), tag: t });
        }
        if entity == EntityType::Organization {
            if self.organizations.len() >= 64 {
                self.organizations.remove(0);
            }
            self.organizations.push(DbUuid(id));
        }
        chunk.stakeholders.push(row);
        self.relationships(DbUuid(id), kind, entity, organization_id, created, chunk);
        self.stage_history(id, created, stage, chunk);
        self.children(id, created, chunk);
    }

    /// A path through the funnel that ends at `stage`: created as a prospect
    /// (sometimes straight as a lead), one change per later step, at
    /// increasing instants; `churned` passes through `customer` first.
    fn stage_history(&mut self, id: Uuid, created: DateTime<Utc>, stage: LifecycleStage, chunk: &mut Chunk) {
        use LifecycleStage::*;
        let path: &[LifecycleStage] = match stage {
            Prospect => &[Prospect],
            Lead => &[Prospect, Lead],
            Customer => &[Prospect, Lead, Customer],
            RepeatCustomer => &[Prospect, Lead, Customer, RepeatCustomer],
            Advocate => &[Prospect, Lead, Customer, RepeatCustomer, Advocate],
            Churned => &[Prospect, Lead, Customer, Churned],
        };
        let path = if path.len() > 1 && self.rng.random_bool(0.3) { &path[1..] } else { path };
        let (mut from, mut at) = (None, created);
        for (k, &to) in path.iter().enumerate() {
            if k > 0 {
                at = self.after(at);
            }
            chunk.stage_changes.push(NewStageChange {
                id: DbUuid(uuid_at(&mut self.rng, at)),
                stakeholder_id: DbUuid(id),
                from_stage: from.map(LifecycleStage::as_str),
                to_stage: to.as_str(),
                changed_at: DbTimestamp(at),
                changed_by: "seed",
            });
            from = Some(to);
        }
    }

    /// Edges from a new stakeholder to earlier ones: a person's employer
    /// (the `organization_id` it was given, as an `employee_of` edge), then
    /// `relationships_per` more to recent stakeholders, typed by the two kinds
    /// (referrals between customers, suppliers to partners, family between
    /// people, …). One edge per other end, so no active duplicate.
    fn relationships(
        &mut self,
        id: DbUuid,
        kind: Kind,
        entity: EntityType,
        employer: Option<DbUuid>,
        created: DateTime<Utc>,
        chunk: &mut Chunk,
    ) {
        let n = self.count(self.opts.relationships_per);
        let mut ends: Vec<(DbUuid, RelationshipType)> = Vec::new();
        if let Some(org) = employer.filter(|_| n > 0) {
            ends.push((org, RelationshipType::EmployeeOf));
        }
        for _ in 0..n.saturating_sub(ends.len() as u32) {
            let Some(&(other, other_kind, other_entity)) =
                self.recent.get(self.rng.random_range(0..self.recent.len().max(1)))
            else {
                break;
            };
            if ends.iter().any(|(o, _)| *o == other) {
                continue;
            }
            use RelationshipType::*;
            let people = entity == EntityType::Person && other_entity == EntityType::Person;
            let t = match (kind, other_kind) {
                _ if people && self.rng.random_bool(0.15) => FamilyOf,
                (Kind::Customer, Kind::Customer) => ReferredBy,
                (Kind::Supplier, Kind::Partner | Kind::Customer) => SupplierTo,
                (Kind::Investor, _) if other_entity == EntityType::Organization => InvestorIn,
                (_, _) if entity == EntityType::Person && other_entity == EntityType::Organization => ContactOf,
                (Kind::Partner, _) | (_, Kind::Partner) => PartnerOf,
                _ => Other,
            };
            ends.push((other, t));
        }
        for (other, t) in ends {
            let rng = &mut self.rng;
            let started = created.date_naive() - Duration::days(rng.random_range(0..2000));
            let ended = rng.random_bool(0.1).then(|| started + Duration::days(rng.random_range(30..1500)));
            chunk.relationships.push(NewRelationship {
                id: DbUuid(uuid_at(rng, created)),
                from_id: id,
                to_id: other,
                relationship_type: t,
                started_on: rng.random_bool(0.7).then_some(started),
                ended_on: ended.filter(|e| *e < self.now.date_naive()),
                strength: rng.random_bool(0.6).then(|| rng.random_range(1..6)),
                notes: rng.random_bool(0.2).then(|| pick(rng, RELATIONSHIP_NOTES)),
                created_by: "seed",
                version: 1,
                created_at: DbTimestamp(created),
                updated_at: DbTimestamp(created),
            });
        }
        if self.recent.len() >= 1024 {
            self.recent.swap_remove(self.rng.random_range(0..self.recent.len()));
        }
        self.recent.push((id, kind, entity));
    }

    /// How many children of one kind: the whole part of `per`, plus one with
    /// the probability of its fraction.
    fn count(&mut self, per: f64) -> u32 {
        let whole = per.floor();
        whole as u32 + u32::from(self.rng.random_bool((per - whole).clamp(0.0, 1.0)))
    }

    /// A random instant between `from` and now.
    fn after(&mut self, from: DateTime<Utc>) -> DateTime<Utc> {
        let span = (self.now - from).num_seconds().max(1);
        types::truncate(from + Duration::seconds(self.rng.random_range(0..span)))
    }

    fn children(&mut self, sid: Uuid, created: DateTime<Utc>, chunk: &mut Chunk) {
        let sid = DbUuid(sid);
        for _ in 0..self.count(self.opts.interactions_per) {
            let at = self.after(created);
            let rng = &mut self.rng;
            let ty = weighted(
                rng,
                &[
                    (InteractionType::Purchase, 40),
                    (InteractionType::Contact, 25),
                    (InteractionType::Support, 12),
                    (InteractionType::Feedback, 8),
                    (InteractionType::Visit, 10),
                    (InteractionType::Note, 5),
                ],
            );
            let purchase = ty == InteractionType::Purchase;
            chunk.interactions.push(NewInteraction {
                id: DbUuid(uuid_at(rng, at)),
                stakeholder_id: sid,
                channel: pick(rng, Channel::ALL).as_str(),
                direction: pick(rng, Direction::ALL).as_str(),
                interaction_type: ty.as_str(),
                occurred_at: DbTimestamp(at),
                subject: Some(format!("{} #{}", ty.as_str(), rng.random_range(1000..9999))),
                notes: None,
                outcome: None,
                amount_minor: purchase.then(|| rng.random_range(10..5_000) * 1_000),
                currency: purchase.then_some("IDR"),
                satisfaction: rng.random_bool(0.3).then(|| rng.random_range(1..6)),
                offer_id: None,
                complaint_id: None,
                recorded_by: pick(rng, AGENTS).to_owned(),
                version: 1,
                created_at: DbTimestamp(at),
                updated_at: DbTimestamp(at),
            });
        }
        for _ in 0..self.count(self.opts.offers_per) {
            let at = self.after(created);
            let rng = &mut self.rng;
            let status = weighted(
                rng,
                &[
                    (OfferStatus::Draft, 10),
                    (OfferStatus::Sent, 30),
                    (OfferStatus::Accepted, 25),
                    (OfferStatus::Declined, 20),
                    (OfferStatus::Withdrawn, 5),
                    (OfferStatus::Expired, 10),
                ],
            );
            let until = at + Duration::days(rng.random_range(7..60));
            let sent = (status != OfferStatus::Draft).then(|| DbTimestamp(at + Duration::hours(1)));
            let responded = matches!(status, OfferStatus::Accepted | OfferStatus::Declined)
                .then(|| DbTimestamp(at + Duration::days(rng.random_range(1..7))));
            let category = pick(rng, CATEGORIES);
            chunk.offers.push(NewOffer {
                id: DbUuid(uuid_at(rng, at)),
                stakeholder_id: sid,
                title: format!("{} bundle {}", category, rng.random_range(1..100)),
                description: None,
                product_category: Some(category),
                price_minor: rng.random_range(50..20_000) * 1_000,
                currency: "IDR",
                discount_percent: pick(rng, &[0, 5, 10, 15, 20, 25]),
                valid_from: Some(DbTimestamp(at)),
                valid_until: Some(DbTimestamp(until)),
                status: status.as_str(),
                created_by: pick(rng, AGENTS).to_owned(),
                sent_at: sent,
                responded_at: responded,
                version: 1,
                created_at: DbTimestamp(at),
                updated_at: DbTimestamp(at),
            });
        }
        for _ in 0..self.count(self.opts.complaints_per) {
            let at = self.after(created);
            let rng = &mut self.rng;
            let severity = weighted(
                rng,
                &[(Severity::Low, 40), (Severity::Medium, 35), (Severity::High, 20), (Severity::Critical, 5)],
            );
            let status = weighted(
                rng,
                &[
                    (ComplaintStatus::Open, 10),
                    (ComplaintStatus::Acknowledged, 10),
                    (ComplaintStatus::InProgress, 15),
                    (ComplaintStatus::Resolved, 25),
                    (ComplaintStatus::Closed, 40),
                ],
            );
            let due = lifecycle::due_at(at, severity, &self.sla);
            let handled = lifecycle::sla(severity, &self.sla).num_seconds().max(60);
            let resolved = matches!(status, ComplaintStatus::Resolved | ComplaintStatus::Closed)
                .then(|| DbTimestamp(types::truncate(at + Duration::seconds(rng.random_range(60..handled * 2)))));
            let closed = (status == ComplaintStatus::Closed)
                .then(|| resolved.map(|r| DbTimestamp(r.0 + Duration::days(1))))
                .flatten();
            chunk.complaints.push(NewComplaint {
                id: DbUuid(uuid_at(rng, at)),
                stakeholder_id: sid,
                subject: format!("{} issue", pick(rng, Category::ALL).as_str()),
                description: "Seeded complaint.".into(),
                category: pick(rng, Category::ALL).as_str(),
                severity: severity.as_str(),
                channel: Some(pick(rng, Channel::ALL).as_str()),
                assignee_id: (status != ComplaintStatus::Open).then(|| pick(rng, AGENTS).to_owned()),
                status: status.as_str(),
                due_at: DbTimestamp(due),
                resolution: resolved.map(|_| "Resolved with the customer.".to_owned()),
                satisfaction: closed.and_then(|_| rng.random_bool(0.7).then(|| rng.random_range(1..6))),
                opened_by: pick(rng, AGENTS).to_owned(),
                acknowledged_at: (status != ComplaintStatus::Open).then(|| DbTimestamp(at + Duration::minutes(30))),
                resolved_at: resolved,
                closed_at: closed,
                version: 1,
                created_at: DbTimestamp(at),
                updated_at: DbTimestamp(at),
            });
        }
    }
}

/// Writes one chunk in one transaction.
fn write(conn: &mut DbConnection, chunk: &Chunk) -> anyhow::Result<()> {
    match conn {
        DbConnection::Pg(c) => c.transaction::<_, diesel::result::Error, _>(|c| {
            // A bulk load may lose its last chunk in a crash, never corrupt: no fsync wait per chunk.
            c.batch_execute("SET LOCAL synchronous_commit = off")?;
            diesel::copy_from(stakeholders::table).from_insertable(&chunk.stakeholders).execute(c)?;
            diesel::copy_from(stakeholder_tags::table).from_insertable(&chunk.tags).execute(c)?;
            diesel::copy_from(stakeholder_stage_changes::table).from_insertable(&chunk.stage_changes).execute(c)?;
            diesel::copy_from(interactions::table).from_insertable(&chunk.interactions).execute(c)?;
            diesel::copy_from(offers::table).from_insertable(&chunk.offers).execute(c)?;
            diesel::copy_from(complaints::table).from_insertable(&chunk.complaints).execute(c)?;
            diesel::copy_from(relationships::table).from_insertable(&chunk.relationships).execute(c)?;
            Ok(())
        })?,
        DbConnection::Sqlite(c) => c.immediate_transaction::<_, diesel::result::Error, _>(|c| {
            // Under SQLite's bound-parameter limit (32766) per statement.
            for part in chunk.stakeholders.chunks(1000) {
                diesel::insert_into(stakeholders::table).values(part).execute(c)?;
            }
            for part in chunk.tags.chunks(10_000) {
                diesel::insert_into(stakeholder_tags::table).values(part).execute(c)?;
            }
            for part in chunk.stage_changes.chunks(5000) {
                diesel::insert_into(stakeholder_stage_changes::table).values(part).execute(c)?;
            }
            for part in chunk.interactions.chunks(1500) {
                diesel::insert_into(interactions::table).values(part).execute(c)?;
            }
            for part in chunk.offers.chunks(1500) {
                diesel::insert_into(offers::table).values(part).execute(c)?;
            }
            for part in chunk.complaints.chunks(1500) {
                diesel::insert_into(complaints::table).values(part).execute(c)?;
            }
            for part in chunk.relationships.chunks(2500) {
                diesel::insert_into(relationships::table).values(part).execute(c)?;
            }
            Ok(())
        })?,
    }
    Ok(())
}

#[derive(QueryableByName)]
struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    indexname: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    indexdef: String,
}

/// On PostgreSQL, a large load into empty tables runs faster with secondary
/// indexes built once at the end (as pg_restore does); primary keys stay.
fn drop_secondary_indexes(conn: &mut DbConnection, opts: &SeedOptions) -> anyhow::Result<Vec<String>> {
    let DbConnection::Pg(c) = conn else { return Ok(Vec::new()) };
    let empty: i64 = stakeholders::table.count().get_result(c)?;
    if empty != 0 || opts.stakeholders < 50_000 {
        return Ok(Vec::new());
    }
    let defs: Vec<IndexDef> = diesel::sql_query(
        "SELECT indexname::text AS indexname, indexdef::text AS indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' \
         AND tablename IN ('stakeholders', 'stakeholder_tags', 'stakeholder_stage_changes', 'interactions', 'offers', 'complaints', 'relationships')",
    )
    .load(c)?;
    for d in &defs {
        c.batch_execute(&format!("DROP INDEX {}", d.indexname))?;
    }
    Ok(defs.into_iter().map(|d| d.indexdef).collect())
}

/// Seeds the database; `progress` is called after each chunk with the stakeholders written so far.
pub fn run(conn: &mut DbConnection, opts: &SeedOptions, sla: SlaTargets) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let dropped = drop_secondary_indexes(conn, opts)?;
    let now = types::now();
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(opts.rng_seed),
        opts: opts.clone(),
        sla,
        start: now - Duration::days(730),
        span: Duration::days(730) - Duration::hours(1),
        now,
        organizations: Vec::new(),
        recent: Vec::new(),
    };
    let progress = Progress::new(opts.stakeholders);
    let mut ids_out = match &opts.ids_file {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    // About 100k sampled ids at most: plenty for random reads.
    let every = (opts.stakeholders / 100_000).max(1);
    let mut report = SeedReport::default();
    let mut i = 0;
    while i < opts.stakeholders {
        let n = opts.chunk.min(opts.stakeholders - i);
        let mut chunk = Chunk::default();
        for k in i..i + n {
            generator.stakeholder(k, &mut chunk);
        }
        write(conn, &chunk)?;
        if let Some(out) = ids_out.as_mut() {
            for (k, s) in chunk.stakeholders.iter().enumerate() {
                if (i + k as u64).is_multiple_of(every) {
                    writeln!(out, "{}", s.id.0)?;
                }
            }
        }
        report.stakeholders += chunk.stakeholders.len() as u64;
        report.tags += chunk.tags.len() as u64;
        report.stage_changes += chunk.stage_changes.len() as u64;
        report.interactions += chunk.interactions.len() as u64;
        report.offers += chunk.offers.len() as u64;
        report.complaints += chunk.complaints.len() as u64;
        report.relationships += chunk.relationships.len() as u64;
        i += n;
        progress.update(i, started);
    }
    if let Some(mut out) = ids_out {
        out.flush()?;
    }
    progress.finish();
    if !dropped.is_empty() {
        eprintln!("loaded in {:.1} s; building {} indexes", started.elapsed().as_secs_f64(), dropped.len());
        // Sorting in memory instead of on disk: the builds are most of the time left.
        conn.batch_execute("SET maintenance_work_mem = '512MB'")?;
        for def in &dropped {
            conn.batch_execute(def)?;
        }
    }
    // Fresh statistics, or the planner guesses from an empty table (seen: 80 ms
    // bitmap scans instead of 0.1 ms index scans right after a seed).
    conn.batch_execute("ANALYZE")?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// A progress bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stakeholders  {per_sec}  eta {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self { bar, total }
    }

    fn update(&self, done: u64, started: Instant) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
                eprintln!("seeded {done}/{} stakeholders ({rate:.0}/s)", self.total);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
