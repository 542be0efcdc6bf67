//! Stakeholder queries. Functions take `&mut DbConnection` and run inside the
//! caller's transaction; each write records its audit event (and consent
//! changes) in that same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::consent::{ConsentSource, LegalBasis, Purpose};
use super::dto::{Consents, EntityType, Kind, LifecycleStage};
use super::model::{ConsentChangeRow, NewStakeholderRow, StageChangeRow, StakeholderData, StakeholderRow};
use crate::audit::{self, Actor};
use crate::auth::RowScope;
use crate::db::keyset::{Paging, Sort};
use crate::db::schema::{
    consent_changes as cc, stakeholder_stage_changes as ssc, stakeholder_tags as st, stakeholders as s,
};
use crate::db::{DbConnection, DbTimestamp, DbUuid, Json, MultiBackend, types};
use crate::error::FieldError;
use crate::error::{ApiError, OrNotFound};

pub const RESOURCE: &str = "stakeholder";

type Boxed<'a> =
    s::BoxedQuery<'a, MultiBackend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<StakeholderRow, MultiBackend>>>;

crate::sort_fields! {
    /// The sortable fields of the stakeholder list.
    pub enum SortBy for StakeholderRow, Boxed, id = s::id; {
        CreatedAt = "created_at": DbTimestamp => s::created_at, |r| &r.created_at,
        UpdatedAt = "updated_at": DbTimestamp => s::updated_at, |r| &r.updated_at,
        DisplayName = "display_name": String => s::display_name, |r| &r.data.display_name,
    }
}

crate::sort_fields! {
    /// The consent history is read oldest first.
    pub enum ConsentSort for ConsentChangeRow, ConsentBoxed, id = cc::id; {
        ChangedAt = "changed_at": DbTimestamp => cc::changed_at, |r| &r.changed_at,
    }
}

type ConsentBoxed<'a> =
    cc::BoxedQuery<'a, MultiBackend, diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ConsentChangeRow, MultiBackend>>>;

pub const CONSENT_SORT: Sort<ConsentSort> = Sort { field: ConsentSort::ChangedAt, descending: false };

pub const DEFAULT_SORT: Sort<SortBy> = Sort { field: SortBy::CreatedAt, descending: true };

/// The list filters, already checked.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub entity_type: Option<EntityType>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub segment: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub tag: Option<String>,
    pub q: Option<String>,
    /// `q` over names only: for callers who see contact details masked, so a
    /// search cannot confirm an e-mail or phone they may not read.
    pub q_names_only: bool,
    pub updated_since: Option<DateTime<Utc>>,
    pub include_archived: bool,
}

// `LIKE … ESCAPE '\'` with the escape character written into the SQL.
//
// diesel's `.escape(c)` binds `c` as a parameter, and the statement is
// cached as a named prepared statement; after five executions PostgreSQL may
// switch it to a generic plan, which cannot see the pattern, so the trigram
// index estimate is lost for the life of the connection (issue 9, item 4;
// `bench/search_plan.sh`). The escape is a SQL literal here, and being an
// `SqlLiteral` it also marks the statement as not cacheable: every search is
// planned with its own pattern (a custom plan), on both backends. The cost
// is one parse per search, which does not show next to the search itself.
diesel::infix_operator!(LikeBackslash, " LIKE ");
diesel::infix_operator!(EscapeBackslash, " ESCAPE ", diesel::sql_types::Text);

type EscapedPattern = EscapeBackslash<
    diesel::dsl::AsExprOf<String, diesel::sql_types::Text>,
    diesel::expression::SqlLiteral<diesel::sql_types::Text>,
>;

/// `$1 ESCAPE '\'` for `q`: the pattern bound, the escape character a SQL
/// literal (spelt the same on PostgreSQL, with standard strings, and SQLite).
fn pattern_escaped_by_backslash(q: &str) -> EscapedPattern {
    use diesel::IntoSql;
    EscapeBackslash::new(like_pattern(q).into_sql::<diesel::sql_types::Text>(), diesel::dsl::sql("'\\'"))
}

/// `%`, `_` and `\` match themselves in `q`.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The ids of a partner's stakeholders: records under them (interactions,
/// offers, complaints) are what that partner may see. One definition of the
/// partner row scope for every child resource.
pub fn partner_stakeholder_ids(
    partner_id: Uuid,
) -> diesel::dsl::Select<diesel::dsl::Filter<s::table, diesel::dsl::Eq<s::partner_id, DbUuid>>, s::id> {
    s::table.filter(s::partner_id.eq(DbUuid(partner_id))).select(s::id)
}

/// The queries of a record filed under a stakeholder (interactions, offers,
/// complaints), so each child's partner scope is this one definition:
/// `Boxed`, `scoped` (what the caller may see), `find`, `get` (404) and
/// `belongs_to` (for links between children).
#[macro_export]
macro_rules! stakeholder_child_queries {
    ($table:ident, $row:ty) => {
        type Boxed<'a> = $table::BoxedQuery<
            'a,
            $crate::db::MultiBackend,
            diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<$row, $crate::db::MultiBackend>>,
        >;

        /// Rows the caller may see: a partner only those of its stakeholders.
        fn scoped<'a>(scope: $crate::auth::RowScope) -> Boxed<'a> {
            let mut q = $table::table.select(<$row>::as_select()).into_boxed::<$crate::db::MultiBackend>();
            if let Some(p) = scope.partner_id {
                q = q.filter($table::stakeholder_id.eq_any($crate::stakeholders::repo::partner_stakeholder_ids(p)));
            }
            q
        }

        pub fn find(
            conn: &mut $crate::db::DbConnection,
            id: uuid::Uuid,
            scope: $crate::auth::RowScope,
        ) -> diesel::QueryResult<Option<$row>> {
            scoped(scope).filter($table::id.eq($crate::db::DbUuid(id))).first(conn).optional()
        }

        /// The row, or 404 when it does not exist or the caller may not see it.
        pub fn get(
            conn: &mut $crate::db::DbConnection,
            scope: $crate::auth::RowScope,
            id: uuid::Uuid,
        ) -> Result<$row, $crate::error::ApiError> {
            $crate::error::OrNotFound::or_not_found(find(conn, id, scope)?, RESOURCE)
        }

        /// Whether `id` is filed under `stakeholder_id` (links between children).
        pub fn belongs_to(
            conn: &mut $crate::db::DbConnection,
            id: uuid::Uuid,
            stakeholder_id: uuid::Uuid,
        ) -> diesel::QueryResult<bool> {
            let n: i64 = $table::table
                .filter($table::id.eq($crate::db::DbUuid(id)))
                .filter($table::stakeholder_id.eq($crate::db::DbUuid(stakeholder_id)))
                .count()
                .get_result(conn)?;
            Ok(n > 0)
        }
    };
}

pub fn find(conn: &mut DbConnection, id: Uuid, scope: RowScope) -> QueryResult<Option<StakeholderRow>> {
    // Two static queries rather than one boxed: diesel caches prepared
    // statements only for queries whose SQL is fixed (the hot path of GET).
    let by_id = s::table.filter(s::id.eq(DbUuid(id))).select(StakeholderRow::as_select());
    match scope.partner_id {
        None => by_id.first(conn).optional(),
        Some(p) => by_id.filter(s::partner_id.eq(DbUuid(p))).first(conn).optional(),
    }
}

/// The non-erased stakeholder with this e-mail (stored lower-case), if the
/// caller may see it: the upsert's key.
pub fn find_by_email(conn: &mut DbConnection, email: &str, scope: RowScope) -> QueryResult<Option<StakeholderRow>> {
    let q = s::table.filter(s::email.eq(email)).filter(s::erased_at.is_null()).select(StakeholderRow::as_select());
    match scope.partner_id {
        None => q.first(conn).optional(),
        Some(p) => q.filter(s::partner_id.eq(DbUuid(p))).first(conn).optional(),
    }
}

/// The stakeholder, or 404 when it does not exist or the caller may not see
/// it (also the parent check of nested lists).
pub fn get(conn: &mut DbConnection, scope: RowScope, id: Uuid) -> Result<StakeholderRow, ApiError> {
    find(conn, id, scope)?.or_not_found(RESOURCE)
}

/// Runs a read of records filed under stakeholders in one snapshot; for a
/// nested list (`/stakeholders/{id}/…`) after checking that the stakeholder
/// is visible (404 otherwise).
pub fn read_under<T>(
    conn: &mut DbConnection,
    scope: RowScope,
    parent: Option<Uuid>,
    read: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    crate::db::read_tx(conn, |c| {
        if let Some(id) = parent {
            get(c, scope, id)?;
        }
        read(c)
    })
}

/// Reads `erased_at`, holding (on PostgreSQL) a share lock on the
/// stakeholder's row until the transaction ends. An erasure updates that row,
/// so it waits for the writes under the stakeholder already past this point,
/// and they wait for it and then read it erased: no write slips in while the
/// erasure runs. (SQLite serialises writes with `BEGIN IMMEDIATE` already.)
fn erased_at_locked(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<Option<DbTimestamp>>> {
    let q = s::table.filter(s::id.eq(DbUuid(id))).select(s::erased_at);
    match conn {
        DbConnection::Pg(c) => q.for_share().first(c).optional(),
        DbConnection::Sqlite(c) => q.first(c).optional(),
    }
}

/// 409 `erased` when stakeholder `id` is erased: its records (and it) take
/// no more writes. Call it before the write, in its transaction (it locks).
pub fn require_not_erased(conn: &mut DbConnection, id: Uuid) -> Result<(), ApiError> {
    match erased_at_locked(conn, id)? {
        Some(Some(_)) => Err(ApiError::Erased("the stakeholder is erased; its records cannot change".into())),
        _ => Ok(()),
    }
}

/// The stakeholder a new record (interaction, offer, complaint) is filed
/// under: visible to the caller (else 404), neither erased nor archived (409).
pub fn parent_for_new_record(conn: &mut DbConnection, id: Uuid, scope: RowScope) -> Result<StakeholderRow, ApiError> {
    erased_at_locked(conn, id)?;
    let row = get(conn, scope, id)?;
    if row.erased_at.is_some() {
        return Err(ApiError::Erased("the stakeholder is erased; nothing new can be recorded for it".into()));
    }
    if row.archived_at.is_some() {
        return Err(ApiError::Conflict("the stakeholder is archived; restore it first".into()));
    }
    Ok(row)
}

/// One page (plus one row, to tell whether another page follows).
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    scope: RowScope,
    paging: &Paging<SortBy>,
) -> Result<Vec<StakeholderRow>, ApiError> {
    let mut q = s::table.select(StakeholderRow::as_select()).into_boxed::<MultiBackend>();
    if let Some(p) = scope.partner_id {
        q = q.filter(s::partner_id.eq(DbUuid(p)));
    }
    if !f.include_archived {
        q = q.filter(s::archived_at.is_null());
    }
    if let Some(v) = f.kind {
        q = q.filter(s::kind.eq(v));
    }
    if let Some(v) = f.entity_type {
        q = q.filter(s::entity_type.eq(v));
    }
    if let Some(v) = f.lifecycle_stage {
        q = q.filter(s::lifecycle_stage.eq(v));
    }
    if let Some(v) = &f.segment {
        q = q.filter(s::segment.eq(v.clone()));
    }
    if let Some(v) = &f.owner_id {
        q = q.filter(s::owner_id.eq(v.clone()));
    }
    if let Some(v) = f.partner_id {
        q = q.filter(s::partner_id.eq(DbUuid(v)));
    }
    if let Some(v) = f.organization_id {
        q = q.filter(s::organization_id.eq(DbUuid(v)));
    }
    if let Some(t) = &f.tag {
        q = q.filter(s::id.eq_any(st::table.filter(st::tag.eq(t.clone())).select(st::stakeholder_id)));
    }
    if let Some(text) = &f.q {
        q = if f.q_names_only {
            q.filter(LikeBackslash::new(s::name_search, pattern_escaped_by_backslash(text)))
        } else {
            q.filter(LikeBackslash::new(s::search_text, pattern_escaped_by_backslash(text)))
        };
    }
    if let Some(t) = f.updated_since {
        q = q.filter(s::updated_at.ge(DbTimestamp(t)));
    }

    Ok(SortBy::page(paging, q)?.load(conn)?)
}

/// `organization_id` must name a visible, non-erased organisation other than
/// the stakeholder itself.
fn check_organization(
    conn: &mut DbConnection,
    data: &StakeholderData,
    self_id: Option<Uuid>,
    scope: RowScope,
) -> Result<(), ApiError> {
    let Some(org) = data.organization_id else {
        return Ok(());
    };
    // Creates too: a new employee must not race its employer becoming a person.
    lock_organization_graph(conn)?;
    let errors = organization_errors(conn, org.0, self_id, scope)?;
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// The longest `organization_id` chain walked looking for a cycle.
const MAX_ORGANIZATION_DEPTH: usize = 1000;

/// What is wrong with `org` as the `organization_id` of `self_id` (`None` for
/// a stakeholder being created): it must name a visible, non-erased
/// organisation, and following `organization_id` from there must never lead
/// back to `self_id` (422 `cycle`). Empty when it is fine.
pub fn organization_errors(
    conn: &mut DbConnection,
    org: Uuid,
    self_id: Option<Uuid>,
    scope: RowScope,
) -> QueryResult<Vec<FieldError>> {
    let bad = |code: &str, m: &str| Ok(vec![FieldError::new("organization_id", code, m)]);
    if Some(org) == self_id {
        return bad("cycle", "a stakeholder cannot be its own organization");
    }
    let parent = match find(conn, org, scope)? {
        Some(o) if o.erased_at.is_none() && o.data.entity_type == EntityType::Organization => o,
        Some(o) if o.erased_at.is_none() => {
            return bad("reference", "must refer to a stakeholder whose entity_type is organization");
        }
        _ => return bad("reference", "no organization stakeholder with that id"),
    };
    let Some(me) = self_id else {
        return Ok(Vec::new()); // a new stakeholder: nothing can point at it yet
    };
    // The chain is walked whatever the caller may see: a loop is a loop.
    let mut seen = std::collections::HashSet::new();
    let mut next = parent.data.organization_id.map(|u| u.0);
    while let Some(cur) = next {
        if cur == me {
            return bad("cycle", "this organization belongs, directly or through others, to this stakeholder");
        }
        if !seen.insert(cur) || seen.len() > MAX_ORGANIZATION_DEPTH {
            break;
        }
        next = s::table
            .filter(s::id.eq(DbUuid(cur)))
            .select(s::organization_id)
            .first::<Option<DbUuid>>(conn)
            .optional()?
            .flatten()
            .map(|u| u.0);
    }
    Ok(Vec::new())
}

/// Serialises `organization_id` changes on PostgreSQL for the rest of the
/// transaction, so two concurrent changes cannot each miss the other's half
/// of a cycle. (SQLite writes are serialised by `BEGIN IMMEDIATE` already.)
fn lock_organization_graph(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        // Any fixed key: "org graph".
        diesel::sql_query("SELECT pg_advisory_xact_lock(7092478116034519655)").execute(c)?;
    }
    Ok(())
}

fn replace_tags(conn: &mut DbConnection, id: Uuid, tags: &[String]) -> QueryResult<()> {
    diesel::delete(st::table.filter(st::stakeholder_id.eq(DbUuid(id)))).execute(conn)?;
    insert_tags(conn, id, tags)
}

/// One statement for all the tags (a batch of 1,000 creates pays per round trip).
fn insert_tags(conn: &mut DbConnection, id: Uuid, tags: &[String]) -> QueryResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = tags.iter().map(|t| (st::stakeholder_id.eq(DbUuid(id)), st::tag.eq(t))).collect();
    // A multi-row insert does not compile through the connection enum.
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(st::table).values(&rows).execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(st::table).values(&rows).execute(c),
    }
    .map(drop)
}

/// Lifecycle history: written in the transaction of every stage change.
pub fn record_stage(conn: &mut DbConnection, change: &StageChangeRow) -> QueryResult<()> {
    diesel::insert_into(ssc::table).values(change).execute(conn).map(drop)
}

/// The stakeholder's stage changes, oldest first (ties: the later write).
pub fn stage_history(conn: &mut DbConnection, id: Uuid) -> QueryResult<Vec<StageChangeRow>> {
    ssc::table
        .filter(ssc::stakeholder_id.eq(DbUuid(id)))
        .order((ssc::changed_at.asc(), ssc::id.asc()))
        .select(StageChangeRow::as_select())
        .load(conn)
}

/// One consent change to record.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub purpose: Purpose,
    pub granted: bool,
    pub legal_basis: LegalBasis,
    pub source: ConsentSource,
    /// `None`: as it is recorded.
    pub captured_at: Option<DateTime<Utc>>,
    pub evidence_ref: Option<String>,
}

impl NewConsent {
    /// A change made through the stakeholder document (create, PATCH): the
    /// purpose's default basis, source `api`, captured as it is recorded.
    fn through_api(purpose: Purpose, granted: bool) -> Self {
        let legal_basis = purpose.default_basis();
        Self { purpose, granted, legal_basis, source: ConsentSource::Api, captured_at: None, evidence_ref: None }
    }
}

fn insert_consent(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Uuid,
    old_value: Option<bool>,
    c: &NewConsent,
    now: DateTime<Utc>,
) -> QueryResult<ConsentChangeRow> {
    let row = consent_row(actor, id, old_value, c, now);
    diesel::insert_into(cc::table).values(&row).execute(conn)?;
    Ok(row)
}

fn consent_row(
    actor: &Actor,
    id: Uuid,
    old_value: Option<bool>,
    c: &NewConsent,
    now: DateTime<Utc>,
) -> ConsentChangeRow {
    ConsentChangeRow {
        id: DbUuid(Uuid::now_v7()),
        stakeholder_id: DbUuid(id),
        consent: c.purpose,
        old_value,
        new_value: c.granted,
        changed_by: actor.sub.clone(),
        changed_at: DbTimestamp(now),
        request_id: actor.request_id.clone(),
        legal_basis: c.legal_basis,
        source: c.source,
        captured_at: DbTimestamp::from(c.captured_at.unwrap_or(now)),
        evidence_ref: c.evidence_ref.clone(),
    }
}

/// The history rows of a change of the whole consent set (PATCH; a create
/// records its given consents in `create_many`); returns the audit field
/// names of the consents that changed.
fn record_consents(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Uuid,
    old: Consents,
    new: Consents,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let mut changed_names = Vec::new();
    for &purpose in Purpose::ALL {
        let (before, after) = (old.of(purpose), new.of(purpose));
        if before != after {
            insert_consent(conn, actor, id, Some(before), &NewConsent::through_api(purpose, after), now)?;
            changed_names.push(format!("consents.{purpose}"));
        }
    }
    Ok(changed_names)
}

/// Records consent changes with their basis and capture (`POST …/consents`)
/// on a stakeholder still at `current.version`. A value equal to the current
/// one is a renewal: a history row, no new version, no audit event. `None`
/// when another write got there first.
pub fn record_consent_changes(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &StakeholderRow,
    changes: &[NewConsent],
) -> Result<Option<(StakeholderRow, Vec<ConsentChangeRow>)>, ApiError> {
    let now = types::now();
    let old = current.data.consents.0;
    let mut new = old;
    for c in changes {
        new.set(c.purpose, c.granted);
    }
    let row = if new == old {
        current.clone()
    } else {
        // Withdrawing `sensitive_data` erases `sensitive` with it.
        let erase_sensitive = !new.sensitive_data && current.data.sensitive.is_some();
        let sensitive = if erase_sensitive { None } else { current.data.sensitive.clone() };
        let n = diesel::update(s::table.filter(s::id.eq(current.id)).filter(s::version.eq(current.version)))
            .set((
                s::consents.eq(Json(new)),
                s::sensitive.eq(sensitive),
                s::version.eq(current.version + 1),
                s::updated_at.eq(DbTimestamp(now)),
            ))
            .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        let mut fields: Vec<String> = changes
            .iter()
            .filter(|c| old.of(c.purpose) != c.granted)
            .map(|c| format!("consents.{}", c.purpose))
            .collect();
        if erase_sensitive {
            fields.push("sensitive".into());
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let id = current.id.0;
        audit::record(conn, actor, "stakeholder.consent_changed", RESOURCE, id, id, &fields)?;
        find(conn, id, RowScope::ALL)?.or_not_found(RESOURCE)?
    };
    let mut recorded = Vec::with_capacity(changes.len());
    for c in changes {
        recorded.push(insert_consent(conn, actor, current.id.0, Some(old.of(c.purpose)), c, now)?);
    }
    Ok(Some((row, recorded)))
}

/// Names of the client-visible fields that differ (all that are set, on a create).
fn changed_fields(old: Option<&StakeholderData>, new: &StakeholderData) -> Vec<&'static str> {
    crate::changed_fields!(old, new;
        kind, entity_type, display_name, email, phone, organization_id, lifecycle_stage, segment, owner_id,
        partner_id, birth_date, occupation, education_level, household_size, income_band, preferred_categories,
        interests, tags, preferences, sensitive, consents, address,
    )
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: RowScope,
    data: &StakeholderData,
) -> Result<StakeholderRow, ApiError> {
    let mut rows = create_many(conn, actor, scope, std::slice::from_ref(data))?;
    rows.pop().ok_or_else(|| ApiError::internal("a create wrote no row"))
}

/// Creates stakeholders with one statement per table (the rows, tags, stage
/// history, consents, audit events): a single create, and a CSV import's
/// chunk. All or none: a taken e-mail fails the whole statement, and the
/// caller retries item by item to learn which.
pub fn create_many(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: RowScope,
    data: &[StakeholderData],
) -> Result<Vec<StakeholderRow>, ApiError> {
    let now = types::now();
    for d in data {
        check_organization(conn, d, None, scope)?;
    }
    let ids: Vec<Uuid> = data.iter().map(|_| Uuid::now_v7()).collect();
    let rows: Vec<NewStakeholderRow> =
        ids.iter().zip(data).map(|(id, d)| NewStakeholderRow::new(DbUuid(*id), DbTimestamp(now), d)).collect();
    let tags: Vec<_> = ids
        .iter()
        .zip(data)
        .flat_map(|(id, d)| d.tags.0.iter().map(|t| (st::stakeholder_id.eq(DbUuid(*id)), st::tag.eq(t))))
        .collect();
    let stages: Vec<StageChangeRow> = ids
        .iter()
        .zip(data)
        .map(|(id, d)| StageChangeRow::new(*id, None, d.lifecycle_stage, DbTimestamp(now), &actor.sub))
        .collect();
    // On create, only consents actually given are worth a record.
    let consents: Vec<ConsentChangeRow> = ids
        .iter()
        .zip(data)
        .flat_map(|(id, d)| {
            Purpose::ALL
                .iter()
                .filter(|p| d.consents.0.of(**p))
                .map(|p| consent_row(actor, *id, None, &NewConsent::through_api(*p, true), now))
        })
        .collect();
    let fields: Vec<Vec<&str>> = data.iter().map(|d| changed_fields(None, d)).collect();
    let events: Vec<audit::Event> = ids
        .iter()
        .zip(&fields)
        .map(|(id, f)| audit::Event {
            action: "stakeholder.created",
            resource_type: RESOURCE,
            resource_id: *id,
            stakeholder_id: Some(*id),
            changed_fields: f,
            metadata: serde_json::Value::Object(Default::default()),
        })
        .collect();
    // One statement per table; none compiles through the connection enum.
    macro_rules! write_all {
        ($c:expr, $write:ident) => {{
            $write!($c, s::table, rows);
            if !tags.is_empty() {
                $write!($c, st::table, &tags);
            }
            $write!($c, ssc::table, &stages);
            if !consents.is_empty() {
                $write!($c, cc::table, &consents);
            }
        }};
    }
    macro_rules! insert {
        ($c:expr, $table:expr, $rows:expr) => {
            diesel::insert_into($table).values($rows).execute($c)?
        };
    }
    macro_rules! copy {
        ($c:expr, $table:expr, $rows:expr) => {
            diesel::copy_from($table).from_insertable($rows).execute($c)?
        };
    }
    if !data.is_empty() {
        match conn {
            DbConnection::Pg(c) if data.len() >= crate::db::COPY_FROM_ROWS => write_all!(c, copy),
            DbConnection::Pg(c) => write_all!(c, insert),
            DbConnection::Sqlite(c) => write_all!(c, insert),
        }
    }
    audit::record_events(conn, actor, &events)?;
    // The rows as written (no read back: a batch of 1,000 pays per round trip).
    Ok(ids
        .into_iter()
        .zip(data)
        .map(|(id, d)| StakeholderRow {
            id: DbUuid(id),
            data: d.clone(),
            version: 1,
            created_at: DbTimestamp(now),
            updated_at: DbTimestamp(now),
            archived_at: None,
            erased_at: None,
        })
        .collect())
}

/// Writes `data` if the row is still at `current.version`; `None` when
/// another write got there first.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: RowScope,
    current: &StakeholderRow,
    data: &StakeholderData,
) -> Result<Option<StakeholderRow>, ApiError> {
    let old = &current.data;
    let fields = changed_fields(Some(old), data);
    if fields.is_empty() {
        return Ok(Some(current.clone()));
    }
    let id = current.id.0;
    if data.organization_id != old.organization_id {
        check_organization(conn, data, Some(id), scope)?;
    }
    if old.entity_type == EntityType::Organization && data.entity_type != old.entity_type {
        // People that name it as their employer would point at a person.
        lock_organization_graph(conn)?;
        let employees: i64 = s::table.filter(s::organization_id.eq(current.id)).count().get_result(conn)?;
        if employees > 0 {
            return Err(ApiError::Conflict(format!(
                "{employees} stakeholder(s) name this organization in organization_id; change theirs first"
            )));
        }
    }
    let now = types::now();
    let n = diesel::update(s::table.filter(s::id.eq(current.id)).filter(s::version.eq(current.version)))
        .set((data, s::version.eq(current.version + 1), s::updated_at.eq(DbTimestamp(now))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    if data.tags != old.tags {
        replace_tags(conn, id, &data.tags.0)?;
    }
    if data.lifecycle_stage != old.lifecycle_stage {
        let change =
            StageChangeRow::new(id, Some(old.lifecycle_stage), data.lifecycle_stage, DbTimestamp(now), &actor.sub);
        record_stage(conn, &change)?;
    }
    if data.consents != old.consents {
        let names = record_consents(conn, actor, id, old.consents.0, data.consents.0, now)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        audit::record(conn, actor, "stakeholder.consent_changed", RESOURCE, id, id, &names)?;
    }
    // The consents have their own event; the rest of the change is `updated`.
    let others: Vec<&str> = fields.into_iter().filter(|f| *f != "consents").collect();
    if !others.is_empty() {
        audit::record(conn, actor, "stakeholder.updated", RESOURCE, id, id, &others)?;
    }
    Ok(find(conn, id, RowScope::ALL)?)
}

/// Archives (`archive`) or restores (`!archive`); `None` when it lost a version race.
pub fn set_archived(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &StakeholderRow,
    archive: bool,
) -> Result<Option<StakeholderRow>, ApiError> {
    let now = types::now();
    let archived_at = archive.then_some(DbTimestamp(now));
    let n = diesel::update(s::table.filter(s::id.eq(current.id)).filter(s::version.eq(current.version)))
        .set((s::archived_at.eq(archived_at), s::version.eq(current.version + 1), s::updated_at.eq(DbTimestamp(now))))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let action = if archive { "stakeholder.archived" } else { "stakeholder.restored" };
    audit::record(conn, actor, action, RESOURCE, current.id.0, current.id.0, &["archived_at"])?;
    Ok(find(conn, current.id.0, RowScope::ALL)?)
}

/// The legal basis of the latest recorded change of a purpose, if any.
pub fn latest_basis(conn: &mut DbConnection, id: Uuid, purpose: Purpose) -> QueryResult<Option<LegalBasis>> {
    cc::table
        .filter(cc::stakeholder_id.eq(DbUuid(id)))
        .filter(cc::consent.eq(purpose))
        .order((cc::changed_at.desc(), cc::id.desc()))
        .select(cc::legal_basis)
        .first(conn)
        .optional()
}

/// Which consent changes: one consent, a time window.
#[derive(Debug, Default, Clone)]
pub struct ConsentFilter {
    pub consent: Option<Purpose>,
    pub changed_after: Option<DateTime<Utc>>,
    pub changed_before: Option<DateTime<Utc>>,
}

/// The consent history, oldest first.
pub fn consent_history(
    conn: &mut DbConnection,
    id: Uuid,
    f: &ConsentFilter,
    paging: &Paging<ConsentSort>,
) -> Result<Vec<ConsentChangeRow>, ApiError> {
    let mut q = cc::table
        .filter(cc::stakeholder_id.eq(DbUuid(id)))
        .select(ConsentChangeRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(p) = f.consent {
        q = q.filter(cc::consent.eq(p));
    }
    if let Some(t) = f.changed_after {
        q = q.filter(cc::changed_at.ge(DbTimestamp(t)));
    }
    if let Some(t) = f.changed_before {
        q = q.filter(cc::changed_at.lt(DbTimestamp(t)));
    }
    Ok(ConsentSort::page(paging, q)?.load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\B"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern("ÉMILE"), "%émile%");
    }
}
