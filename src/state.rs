//! `AppState`: what every handler receives. The pool behind a FIFO gate,
//! the settings, and the ways into the database from a request: `db` (any
//! unit of work), `create` (an idempotent create) and `write_versioned`
//! (read, check, update one row).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actix_web::web;
use tokio::sync::Semaphore;

use crate::config::Settings;
use crate::db::{self, DbConnection, DbPool, PoolOptions};
use crate::error::ApiError;
use crate::http::batch;
use crate::http::etag::{self, Precondition};
use crate::http::idempotency::{self, IdempotencyKey, StoredResponse};

/// Shared state every handler reads.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    /// One permit per pooled connection: requests queue here, in FIFO
    /// order and for at most `acquire_timeout`, instead of piling up
    /// unboundedly on the blocking threads.
    gate: Arc<Semaphore>,
    /// `CRM_ANALYTICS_CONCURRENCY` permits, taken before the pool's.
    analytics: Arc<Semaphore>,
    /// A separate connection for readiness, so it never queues behind the pool.
    health: DbPool,
    /// When expired idempotency keys were last swept (Unix seconds).
    last_sweep: AtomicI64,
}

impl AppState {
    pub fn new(pool: DbPool, settings: Settings) -> anyhow::Result<Self> {
        let health = db::connect(
            &settings.database_url,
            PoolOptions {
                max_size: 1,
                acquire_timeout: HEALTH_TIMEOUT,
                statement_timeout: Some(HEALTH_TIMEOUT),
                check: false,
            },
        )?;
        let gate = Arc::new(Semaphore::new(settings.pool_size as usize));
        let analytics = Arc::new(Semaphore::new(settings.analytics_concurrency));
        Ok(Self { pool, settings, gate, analytics, health, last_sweep: AtomicI64::new(0) })
    }

    /// One of the pool's permits, waited for in FIFO order for at most
    /// `CRM_DB_ACQUIRE_TIMEOUT`, then 503.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.wait_for(&self.gate, "timed out waiting for a database connection").await
    }

    async fn wait_for(&self, gate: &Arc<Semaphore>, busy: &str) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        match actix_web::rt::time::timeout(self.settings.acquire_timeout, gate.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Unavailable(busy.into())),
        }
    }

    /// [`Self::db`] for an analytics computation: at most
    /// `CRM_ANALYTICS_CONCURRENCY` at once (each holds a window's rows in
    /// memory), waited for like a connection, then 503 with `Retry-After`.
    pub async fn analytics<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = self.wait_for(&self.analytics, "timed out waiting for an analytics slot").await?;
        // The slot goes with the computation, not the request: one the
        // client stopped waiting for (503 after twice the statement timeout)
        // still holds it until it ends, so at most that many run at once.
        self.db(move |c| {
            let _slot = permit;
            f(c)
        })
        .await
    }

    /// Runs blocking diesel work on the blocking pool, never on the executor.
    /// Waits at most `CRM_DB_ACQUIRE_TIMEOUT` for a connection, then 503.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = self.permit().await?;
        let pool = self.pool.clone();
        let work = web::block(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            f(&mut conn)
        });
        // The server-side statement timeout cannot help when the network to
        // the database stalls: bound the wait here too. The blocking work
        // (and its permit) ends when the connection does; the client gets a
        // 503 now (a create is safe to retry with its Idempotency-Key).
        match actix_web::rt::time::timeout(self.settings.statement_timeout * 2, work).await {
            Ok(done) => done?,
            Err(_) => {
                Err(ApiError::Unavailable("the database did not answer within twice the statement timeout".into()))
            }
        }
    }

    /// Runs a versioned write (a read-check-update of one row) as one unit of
    /// work, each attempt in its own transaction. `attempt` returns `None`
    /// when its `WHERE version = …` update lost a race: with `If-Match` that
    /// is a 412; without, the write is retried on fresh data, then a 409.
    pub async fn write_versioned<T, F>(&self, pre: Precondition, mut attempt: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection, &Precondition) -> Result<Option<T>, ApiError> + Send + 'static,
    {
        self.db(move |conn| etag::write_versioned(conn, &pre, |c| attempt(c, &pre))).await
    }

    /// Runs `write` on a connection of its own, apart from the request, and
    /// streams what it sends as a response body: for documents too large to
    /// hold in memory (the stakeholder export). The chunks go through a small
    /// buffer; a client that stops reading for `STREAM_STALL` ends the work
    /// (and frees the connection), as does one that goes away.
    pub async fn stream<F>(
        &self,
        write: F,
    ) -> Result<impl futures_util::Stream<Item = Result<web::Bytes, ApiError>> + use<F>, ApiError>
    where
        F: FnOnce(&mut DbConnection, &mut dyn FnMut(web::Bytes) -> Result<(), ApiError>) -> Result<(), ApiError>
            + Send
            + 'static,
    {
        let permit = self.permit().await?;
        let pool = self.pool.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, ApiError>>(8);
        let work = web::block(move || {
            let _permit = permit;
            let mut send = |chunk: web::Bytes| send_within(&tx, Ok(chunk));
            let done = pool.get().map_err(ApiError::from).and_then(|mut conn| write(&mut conn, &mut send));
            if let Err(e) = done {
                // The status line is gone already: the client sees the body cut short.
                tracing::warn!(error = %e, "a streamed response failed part-way");
                let _ = send_within(&tx, Err(e));
            }
        });
        actix_web::rt::spawn(work);
        Ok(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
    }

    /// Runs a create at most once per `Idempotency-Key` (see `http::idempotency`):
    /// the create and its stored response in one transaction. A keyed create
    /// also starts a sweep of expired keys, at most once a minute per
    /// process, after it and apart from it (its time and errors never reach
    /// the request).
    pub async fn create<F>(&self, key: Option<IdempotencyKey>, create: F) -> Result<StoredResponse, ApiError>
    where
        F: FnMut(&mut DbConnection) -> Result<StoredResponse, ApiError> + Send + 'static,
    {
        let sweep = key.is_some() && self.sweep_due();
        let stored = self.db(move |conn| idempotency::run(conn, key.as_ref(), create)).await?;
        if sweep {
            self.sweep_in_background();
        }
        Ok(stored)
    }

    /// A batch of writes (`…/batch/create|update|upsert`): the envelope,
    /// the whole-batch `Idempotency-Key`, one transaction with a savepoint
    /// per item, and the answer. `work` is the single call's write for one
    /// item; `dup_key` its identity within the batch.
    pub async fn batch<F>(
        &self,
        ctx: &crate::http::context::Ctx,
        body: serde_json::Value,
        dup_key: fn(&serde_json::Map<String, serde_json::Value>) -> Option<String>,
        mut work: F,
    ) -> Result<actix_web::HttpResponse, ApiError>
    where
        F: FnMut(&mut DbConnection, serde_json::Map<String, serde_json::Value>) -> Result<batch::Done, ApiError>
            + Send
            + 'static,
    {
        self.batch_all(ctx, body, move |c, inputs| batch::run_items(c, inputs, dup_key, &mut work)).await
    }

    /// `batch` for a route that writes all its items at once (`all` answers
    /// each item as the single call would).
    pub async fn batch_all<F>(
        &self,
        ctx: &crate::http::context::Ctx,
        body: serde_json::Value,
        mut all: F,
    ) -> Result<actix_web::HttpResponse, ApiError>
    where
        F: FnMut(&mut DbConnection, &[serde_json::Value]) -> Result<Vec<Result<batch::Done, ApiError>>, ApiError>
            + Send
            + 'static,
    {
        let key = ctx.idempotency_key(&body)?;
        self.refuse_erased_key(&key).await?;
        let batch = batch::parse(body, ctx.request(), self.settings.batch_max_items)?;
        // A batch costs ceil(n / 100) units of the rate limit; the request paid one.
        crate::http::rate_limit::charge(ctx.request(), (batch.inputs.len() as u64).div_ceil(100).saturating_sub(1));
        let minimal = batch.minimal;
        let request_id = ctx.actor.request_id.clone();
        let stored = self.create(key, move |c| batch::run(c, &batch, request_id.as_deref(), &mut all)).await?;
        Ok(batch::respond(stored, minimal))
    }

    /// 410 `erased` when the request replays an `Idempotency-Key` whose
    /// record was erased, before its body is read: a tombstone answers any
    /// body, even one that would be refused.
    pub async fn refuse_erased_key(&self, key: &Option<IdempotencyKey>) -> Result<(), ApiError> {
        let Some(key) = key.clone() else { return Ok(()) };
        match self.db(move |c| idempotency::is_tombstone(c, &key)).await? {
            true => Err(ApiError::ErasedReplay),
            false => Ok(()),
        }
    }

    /// Sweeps expired idempotency keys on a pooled connection, if one is free
    /// now (requests come first; the next sweep catches up).
    fn sweep_in_background(&self) {
        let Ok(permit) = self.gate.clone().try_acquire_owned() else { return };
        let pool = self.pool.clone();
        actix_web::rt::spawn(async move {
            let swept = web::block(move || {
                let _permit = permit;
                let mut conn = pool.get()?;
                idempotency::sweep_expired(&mut conn)
            })
            .await;
            match swept {
                Ok(Ok(n)) if n > 0 => tracing::info!(keys = n, "swept expired idempotency keys"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "sweeping expired idempotency keys failed"),
                Err(e) => tracing::warn!(error = %e, "sweeping expired idempotency keys failed"),
            }
        });
    }

    /// Claims this minute's sweep of expired idempotency keys, if not yet taken.
    fn sweep_due(&self) -> bool {
        let now = chrono::Utc::now().timestamp();
        let last = self.last_sweep.load(Ordering::Relaxed);
        now - last >= SWEEP_INTERVAL_SECS
            && self.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Deletes audit events older than `CRM_AUDIT_RETENTION_DAYS`; returns how many.
    pub async fn purge_audit_log(&self) -> Result<usize, ApiError> {
        let days = i64::from(self.settings.audit_retention_days);
        let cutoff = db::types::now() - chrono::Duration::days(days);
        // Its own unit of work, not bounded like a request's: a large backlog takes its time.
        let pool = self.pool.clone();
        web::block(move || -> Result<usize, ApiError> {
            let mut conn = pool.get()?;
            Ok(crate::audit::purge_before(&mut conn, cutoff)?)
        })
        .await?
    }

    /// After an erasure on SQLite: a best-effort `wal_checkpoint(TRUNCATE)`,
    /// so the old values leave the write-ahead log too (`secure_delete` keeps
    /// them out of free pages). PostgreSQL drops old row versions at vacuum.
    pub async fn compact_after_erasure(&self) {
        let done = self
            .db(|conn| {
                if let DbConnection::Sqlite(c) = conn {
                    diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA wal_checkpoint(TRUNCATE)")?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "checkpoint after an erasure failed; the next checkpoint does it");
        }
    }

    /// Whether the database answers, on the health connection, within a bound.
    pub async fn ping(&self) -> bool {
        let pool = self.health.clone();
        let check = web::block(move || pool.get().is_ok_and(|mut c| db::ping(&mut c)));
        matches!(actix_web::rt::time::timeout(HEALTH_TIMEOUT * 2, check).await, Ok(Ok(true)))
    }
}

/// How long a streamed response waits for its client to take the next chunk.
const STREAM_STALL: Duration = Duration::from_secs(30);

/// Hands a chunk to the response body from a blocking thread, waiting at most
/// `STREAM_STALL` for room; an error when the client went away or stalled.
fn send_within(
    tx: &tokio::sync::mpsc::Sender<Result<web::Bytes, ApiError>>,
    item: Result<web::Bytes, ApiError>,
) -> Result<(), ApiError> {
    use tokio::sync::mpsc::error::TrySendError;
    let deadline = std::time::Instant::now() + STREAM_STALL;
    let mut item = item;
    loop {
        match tx.try_send(item) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(_)) => return Err(ApiError::BadRequest("the client went away".into())),
            Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                item = back;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(TrySendError::Full(_)) => return Err(ApiError::RequestTimeout("the client stopped reading".into())),
        }
    }
}

/// The shortest time between two sweeps of expired idempotency keys.
const SWEEP_INTERVAL_SECS: i64 = 60;

/// How long readiness waits for the database.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);
