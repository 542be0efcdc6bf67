//! The database: one connection type over SQLite and PostgreSQL, the pool,
//! migrations and the transaction helper every write goes through.

pub mod schema;
pub mod types;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use types::{DbTimestamp, DbUuid};

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<DbManager>;
pub type PooledConn = r2d2::PooledConnection<DbManager>;

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
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DbUrl::Postgres(u) => {
                PgConnection::establish(u).map(DbConnection::Pg).map_err(r2d2::Error::ConnectionError)
            }
            DbUrl::Sqlite(p) => {
                let mut c = SqliteConnection::establish(p).map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: the other pragmas may already need the lock.
                c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        match conn {
            DbConnection::Pg(c) => r2d2::R2D2Connection::is_broken(c),
            DbConnection::Sqlite(c) => r2d2::R2D2Connection::is_broken(c),
        }
    }
}

/// Builds the pool. For SQLite the file's directory is created and WAL is
/// switched on once, before any pooled connection exists.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    let parsed = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
    if let DbUrl::Sqlite(path) = &parsed {
        let dir = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| path != ":memory:") {
            std::fs::create_dir_all(dir)?;
        }
        let mut c = SqliteConnection::establish(path)?;
        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        // A broken connection shows itself when a query fails; a SELECT 1 on
        // every checkout would cost a round trip per request.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(5))
        .build(DbManager { url: parsed })
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

/// Reverts every migration (used by the up → down → up test).
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<()> {
    let r = match conn {
        DbConnection::Pg(c) => c.revert_all_migrations(PG_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    r.map_err(|e| anyhow::anyhow!("revert failed: {e}"))
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

/// Keyset condition on a boxed query: rows strictly after `(value, id)` in
/// `(col, id_col)` order. The extra `col <=`/`>=` bound lets the index range
/// start at the cursor (PostgreSQL does not derive it from the `OR`).
#[macro_export]
macro_rules! keyset_after {
    ($q:expr, $col:expr, $value:expr, $id_col:expr, $id:expr, $descending:expr) => {{
        let (v, id) = ($value, $id);
        if $descending {
            $q.filter($col.le(v.clone())).filter($col.lt(v.clone()).or($col.eq(v).and($id_col.lt(id))))
        } else {
            $q.filter($col.ge(v.clone())).filter($col.gt(v.clone()).or($col.eq(v).and($id_col.gt(id))))
        }
    }};
}

/// Read-only unit of work: one transaction so every query sees one snapshot.
pub fn read_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Whether the database answers (readiness).
pub fn ping(conn: &mut DbConnection) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
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
