//! The stakeholder export (GDPR Art. 15, 20): everything held on one
//! stakeholder as one JSON document, written in chunks from one read
//! transaction, a page of rows at a time, so memory stays flat however long
//! the history is.

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use super::dto::{AccessLogEntry, Processing, ProcessingPurpose, Recipient, StageChange};
use crate::auth::roles::ContactView;
use crate::auth::{FieldPolicy, RowScope};
use crate::complaints::repo as complaints;
use crate::db::keyset::{Cursor, Paging, Sort, SortKey};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::interactions::repo as interactions;
use crate::offers::repo as offers;
use crate::privacy::repo as audit_log;
use crate::relationships::repo as relationships;
use crate::stakeholders::consent::Purpose;
use crate::stakeholders::dto::ConsentChange;
use crate::stakeholders::repo as stakeholders;

/// Rows read per query.
const PAGE: i64 = 500;
/// Bytes buffered before a chunk is handed to the response.
const CHUNK: usize = 32 * 1024;

/// How many of each: in the audit event (before the first byte) and at the end of the document.
pub type Counts = super::dto::ExportCounts;

/// The document, buffered into chunks.
struct Writer<'a> {
    buf: Vec<u8>,
    send: &'a mut dyn FnMut(actix_web::web::Bytes) -> Result<(), ApiError>,
}

impl Writer<'_> {
    fn raw(&mut self, s: &str) -> Result<(), ApiError> {
        self.buf.extend_from_slice(s.as_bytes());
        self.flush_if_full()
    }

    fn value(&mut self, v: &impl Serialize) -> Result<(), ApiError> {
        serde_json::to_writer(&mut self.buf, v).map_err(ApiError::internal)?;
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<(), ApiError> {
        if self.buf.len() >= CHUNK { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), ApiError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 1024));
        (self.send)(chunk.into())
    }

    /// `"name":[…]` of every row `fetch` pages through, each as `map` makes it.
    fn array<F, R, T: Serialize>(
        &mut self,
        conn: &mut DbConnection,
        name: &str,
        sort: Sort<F>,
        mut fetch: impl FnMut(&mut DbConnection, &Paging<F>) -> Result<Vec<R>, ApiError>,
        map: impl Fn(&R) -> T,
    ) -> Result<usize, ApiError>
    where
        F: SortKey<R>,
    {
        self.raw(&format!(",\"{name}\":["))?;
        let label = sort.label();
        let mut paging = Paging { limit: PAGE, sort, label: label.clone(), cursor: None };
        let mut n = 0;
        loop {
            let mut rows = fetch(conn, &paging)?;
            let more = rows.len() as i64 > PAGE;
            rows.truncate(PAGE as usize);
            for row in &rows {
                if n > 0 {
                    self.raw(",")?;
                }
                self.value(&map(row))?;
                n += 1;
            }
            match rows.last().filter(|_| more) {
                Some(last) => {
                    let (k, i) = sort.field.key(last);
                    paging.cursor = Some(Cursor { s: label.clone(), k, i });
                }
                None => break,
            }
        }
        self.raw("]")?;
        Ok(n)
    }
}

/// Writes the export of stakeholder `id` (visible to the caller: checked
/// before) through `send`, in one read transaction.
pub fn write(
    conn: &mut DbConnection,
    id: Uuid,
    retention_notice: Option<&str>,
    send: &mut dyn FnMut(actix_web::web::Bytes) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    db::read_tx(conn, |c| {
        let row = stakeholders::get(c, RowScope::ALL, id)?;
        let unmasked = FieldPolicy { sensitive: true, contact: ContactView::Full };
        let mut w = Writer { buf: Vec::with_capacity(CHUNK + 1024), send };
        w.raw("{\"format\":\"crm.stakeholder_export\",\"format_version\":1,\"generated_at\":")?;
        w.value(&Utc::now())?;
        w.raw(",\"stakeholder\":")?;
        w.value(&row.to_dto(unmasked))?;
        let mut counts = Counts::default();
        let consent_filter = stakeholders::ConsentFilter::default();
        counts.consent_changes = w.array(
            c,
            "consent_history",
            stakeholders::CONSENT_SORT,
            |c, p| stakeholders::consent_history(c, id, &consent_filter, p),
            |r| ConsentChange::from(r.clone()),
        )?;
        w.raw(",\"lifecycle_history\":")?;
        let history = stakeholders::stage_history(c, id)?;
        let history: Vec<StageChange> = history.into_iter().map(StageChange::from).collect();
        w.value(&history)?;
        let now = crate::db::types::now();
        let filter = interactions::Filter { stakeholder_id: Some(id), ..Default::default() };
        let sort = Sort { field: interactions::SortBy::OccurredAt, descending: false };
        counts.interactions =
            w.array(c, "interactions", sort, |c, p| interactions::list(c, &filter, RowScope::ALL, p), |r| r.to_dto())?;
        let filter = offers::Filter { stakeholder_id: Some(id), ..Default::default() };
        let sort = Sort { field: offers::SortBy::CreatedAt, descending: false };
        counts.offers =
            w.array(c, "offers", sort, |c, p| offers::list(c, &filter, RowScope::ALL, p, now), |r| r.to_dto(now))?;
        let filter = complaints::Filter { stakeholder_id: Some(id), ..Default::default() };
        let sort = Sort { field: complaints::SortBy::CreatedAt, descending: false };
        counts.complaints = w.array(
            c,
            "complaints",
            sort,
            |c, p| complaints::list(c, &filter, RowScope::ALL, p, now),
            |r| r.to_dto(now),
        )?;
        let filter = relationships::Filter { stakeholder_id: Some(id), ..Default::default() };
        let sort = Sort { field: relationships::SortBy::CreatedAt, descending: false };
        let today = now.date_naive();
        counts.relationships = w.array(
            c,
            "relationships",
            sort,
            |c, p| relationships::list(c, &filter, RowScope::ALL, p),
            |r| r.to_dto(today),
        )?;
        let consents = row.data.consents.0;
        let mut purposes = Vec::new();
        for &purpose in Purpose::ALL {
            let legal_basis = stakeholders::latest_basis(c, id, purpose)?.unwrap_or(purpose.default_basis());
            purposes.push(ProcessingPurpose { purpose, legal_basis, active: consents.of(purpose) });
        }
        let recipients =
            row.data.partner_id.iter().map(|p| Recipient { recipient_type: "partner".into(), partner_id: p.0 });
        let processing = Processing {
            purposes,
            recipients: recipients.collect(),
            retention_notice: retention_notice.map(str::to_owned),
        };
        w.raw(",\"processing\":")?;
        w.value(&processing)?;
        let filter = audit_log::Filter { stakeholder_id: Some(id), ..Default::default() };
        let sort = Sort { field: audit_log::SortBy::OccurredAt, descending: false };
        // Who acted is the company's business, not the subject's: no staff `sub`.
        counts.access_log = w.array(
            c,
            "access_log",
            sort,
            |c, p| audit_log::list(c, &filter, p),
            |e| AccessLogEntry {
                occurred_at: e.occurred_at.0,
                action: e.action.clone(),
                category: e.category,
                actor_role: e.actor_role,
            },
        )?;
        w.raw(",\"counts\":")?;
        w.value(&counts)?;
        w.raw("}")?;
        w.flush()
    })
}
