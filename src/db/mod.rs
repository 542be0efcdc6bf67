//! The database: one connection type over SQLite and PostgreSQL, the pool,
//! migrations and the transaction helper every write goes through.

pub mod keyset;
pub mod schema;
pub mod types;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use types::{DbTimestamp, DbUuid, Json};

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<DbManager>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Which database a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Postgres(String),
    /// A file path, or `:memory:`.
    Sqlite(String),
}

impl DbUrl {
    /// `postgres://…` / `postgresql://…` or `sqlite://path` / `sqlite:path`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("sqlite URL has no path".into());
            }
            Ok(Self::Sqlite(path.to_owned()))
        } else {
            Err(format!("unsupported database URL scheme in {:?}: use postgres://… or sqlite://path", redact_url(url)))
        }
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// r2d2 manager that picks the backend by URL scheme. (diesel's derived
/// `establish` tries each backend in turn and hides the real error.)
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DbUrl,
    statement_timeout: Option<Duration>,
}

/// How a pool is built.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection before giving up (503).
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout` for every statement on these connections.
    pub statement_timeout: Option<Duration>,
    /// Fail at build time when the database does not answer (not for side pools).
    pub check: bool,
}

impl PoolOptions {
    /// For one-off commands (migrate, seed): no statement timeout.
    pub fn command(max_size: u32) -> Self {
        Self { max_size, acquire_timeout: Duration::from_secs(5), statement_timeout: None, check: true }
    }
}

thread_local! {
    /// Set when a query on this thread found its connection dead; the pool
    /// asks `has_broken` when that connection comes back, on the same thread
    /// (diesel's PostgreSQL connection does not notice a dead socket itself).
    static CONNECTION_LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the connection in use on this thread as broken: the pool drops it
/// instead of handing it out again.
pub fn mark_connection_broken() {
    CONNECTION_LOST.with(|c| c.set(true));
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DbUrl::Postgres(u) => {
                let mut c = PgConnection::establish(u).map_err(r2d2::Error::ConnectionError)?;
                if let Some(t) = self.statement_timeout {
                    c.batch_execute(&format!("SET statement_timeout = {}", t.as_millis().max(1)))
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Pg(c))
            }
            DbUrl::Sqlite(p) => {
                let mut c = SqliteConnection::establish(p).map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: the other pragmas may already need the lock.
                // secure_delete: erased values must not survive in free pages.
                // mmap_size: reads of large ranges (analytics, exports) map the
                // file instead of copying each page through a read() call.
                c.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA secure_delete = ON; PRAGMA mmap_size = 268435456;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        if CONNECTION_LOST.with(|c| c.replace(false)) {
            return true;
        }
        match conn {
            DbConnection::Pg(c) => r2d2::R2D2Connection::is_broken(c),
            DbConnection::Sqlite(c) => r2d2::R2D2Connection::is_broken(c),
        }
    }
}

/// Builds the pool. For SQLite the file's directory is created and WAL is
/// switched on once, before any pooled connection exists.
pub fn connect(url: &str, opts: PoolOptions) -> anyhow::Result<DbPool> {
    let parsed = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    if let DbUrl::Sqlite(path) = &parsed {
        let dir = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| path != ":memory:") {
            std::fs::create_dir_all(dir)?;
        }
        let mut c = SqliteConnection::establish(path)?;
        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")?;
    }
    let builder = r2d2::Pool::builder()
        .max_size(opts.max_size)
        // A broken connection shows itself when a query fails; a SELECT 1 on
        // every checkout would cost a round trip per request.
        .test_on_check_out(false)
        .connection_timeout(opts.acquire_timeout);
    let manager = DbManager { url: parsed, statement_timeout: opts.statement_timeout };
    if !opts.check {
        return Ok(builder.min_idle(Some(0)).build_unchecked(manager));
    }
    let pool = builder
        .build(manager)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database {}: {e}", redact_url(url)))?;
    Ok(pool)
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let ran = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    ran.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Reverts migrations, newest first, down to and including the one whose
/// version starts with `version` (tests of a migration's data changes).
pub fn revert_through(conn: &mut DbConnection, version: &str) -> anyhow::Result<()> {
    // diesel names a migration by the digits of its folder's date and number.
    let version: String = version.chars().filter(char::is_ascii_digit).collect();
    let version = version.as_str();
    loop {
        let reverted = match conn {
            DbConnection::Pg(c) => c.revert_last_migration(PG_MIGRATIONS).map(|v| v.to_string()),
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|v| v.to_string()),
        }
        .map(|v| v.chars().filter(char::is_ascii_digit).collect::<String>())
        .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
        if reverted.starts_with(version) || reverted.as_str() < version {
            return Ok(());
        }
    }
}

/// Reverts every migration (used by the up → down → up test).
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<()> {
    let r = match conn {
        DbConnection::Pg(c) => c.revert_all_migrations(PG_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    r.map_err(|e| anyhow::anyhow!("revert failed: {e}"))
}

/// From this many rows on, a multi-row write goes through binary `COPY` on
/// PostgreSQL: no SQL to parse and plan per row, but one more round trip,
/// so only for many rows (an import, a batch).
pub const COPY_FROM_ROWS: usize = 16;

/// A stable 64-bit advisory-lock key for some bytes (FNV-1a): every replica
/// takes the same key for the same thing.
pub fn lock_key(bytes: impl IntoIterator<Item = u8>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Runs `f` in a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of failing when a reader
/// upgrades; on PostgreSQL a plain `BEGIN`.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(v) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Read-only unit of work: one transaction so every query sees one snapshot
/// (REPEATABLE READ on PostgreSQL, whose default would take a new snapshot
/// per statement; an SQLite read transaction keeps its first snapshot).
pub fn read_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|c| {
        if let DbConnection::Pg(pg) = c {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

/// Whether the database answers (readiness).
pub fn ping(conn: &mut DbConnection) -> bool {
    let ok = conn.batch_execute("SELECT 1").is_ok();
    if !ok {
        // Reconnect next time rather than keep a dead connection.
        mark_connection_broken();
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(DbUrl::parse("sqlite://data/x.db"), Ok(DbUrl::Sqlite("data/x.db".into())));
        assert_eq!(DbUrl::parse("sqlite::memory:"), Ok(DbUrl::Sqlite(":memory:".into())));
        assert!(matches!(DbUrl::parse("postgres://u@h/db"), Ok(DbUrl::Postgres(_))));
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
