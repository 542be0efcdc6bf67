//! Typed settings from `CRM_*` environment variables (a `.env` file is read
//! first if present). Passed down explicitly; there is no global.

use std::time::Duration;

use crate::auth::jwt::{JwtAlgorithm, KeySource};

/// The largest erasure done in one request (interactions + offers + complaints).
pub const DEFAULT_ERASE_MAX_CHILD_ROWS: i64 = 100_000;

/// Two years: long enough for most audits and complaints procedures.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 730;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    pub jwt: JwtSettings,
    pub auto_migrate: bool,
    pub body_limit: usize,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub pool_size: u32,
    /// HTTP worker threads (`CRM_WORKERS`; default: one per core).
    pub workers: Option<usize>,
    pub sla: SlaTargets,
    /// Longest wait for a database connection before a 503 (`CRM_DB_ACQUIRE_TIMEOUT`).
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout` (`CRM_DB_STATEMENT_TIMEOUT`); a query over it is a 503.
    pub statement_timeout: Duration,
    /// Longest time a client may take to send its body (`CRM_BODY_READ_TIMEOUT`); then 408.
    pub body_read_timeout: Duration,
    /// Open connections per worker before new ones wait (`CRM_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// `processing.retention_notice` of a stakeholder export (`CRM_PRIVACY_RETENTION_NOTICE`).
    pub privacy_retention_notice: Option<String>,
    /// Days the audit log is kept (`CRM_AUDIT_RETENTION_DAYS`); `serve` purges older rows.
    pub audit_retention_days: u32,
    /// The most child records an erasure anonymises in one request (`CRM_ERASE_MAX_CHILD_ROWS`).
    pub erase_max_child_rows: i64,
    /// Analytics requests computed at once (`CRM_ANALYTICS_CONCURRENCY`):
    /// each holds a window of rows in memory, so this bounds the memory
    /// analytics can take and keeps the rest of the pool for other requests.
    pub analytics_concurrency: usize,
    /// Units per window and caller (`CRM_RATE_LIMIT`; 0 turns limiting off).
    pub rate_limit: u64,
    /// The fixed window, whole seconds (`CRM_RATE_LIMIT_WINDOW`).
    pub rate_limit_window: Duration,
    /// Take the client IP from `X-Forwarded-For` (`CRM_TRUST_PROXY`).
    pub trust_proxy: bool,
    /// Items per batch request (`CRM_BATCH_MAX_ITEMS`).
    pub batch_max_items: usize,
    /// Body limit of the batch routes (`CRM_BATCH_BODY_LIMIT`).
    pub batch_body_limit: usize,
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `None` until configured; `serve` refuses to start without it unless `--dev`.
    pub key: Option<KeySource>,
    pub algorithm: JwtAlgorithm,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Complaint SLA targets by severity (`CRM_SLA_CRITICAL` etc.).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    pub critical: Duration,
    pub high: Duration,
    pub medium: Duration,
    pub low: Duration,
}

impl Default for SlaTargets {
    fn default() -> Self {
        Self {
            critical: Duration::from_secs(4 * 3600),
            high: Duration::from_secs(24 * 3600),
            medium: Duration::from_secs(72 * 3600),
            low: Duration::from_secs(168 * 3600),
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/crm.sqlite3";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
pub const DEFAULT_ANALYTICS_CONCURRENCY: usize = 2;
pub const DEFAULT_RATE_LIMIT: u64 = 1200;
pub const DEFAULT_BATCH_MAX_ITEMS: usize = 1000;
pub const DEFAULT_BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;
pub const DEFAULT_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_CONNECTIONS: usize = 2048;

impl Settings {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `get`, so tests can supply their own map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let algorithm = match get("CRM_JWT_ALGORITHM") {
            Some(a) => a.parse()?,
            None => JwtAlgorithm::default_for(get("CRM_JWT_PUBLIC_KEY_FILE").is_some()),
        };
        let key = match (get("CRM_JWT_SECRET"), get("CRM_JWT_PUBLIC_KEY_FILE")) {
            (Some(_), Some(_)) => {
                anyhow::bail!("set CRM_JWT_SECRET or CRM_JWT_PUBLIC_KEY_FILE, not both")
            }
            (Some(s), None) => Some(KeySource::Secret(s)),
            (None, Some(f)) => Some(KeySource::PublicKeyFile(f.into())),
            (None, None) => None,
        };
        let sla_default = SlaTargets::default();
        let sla = SlaTargets {
            critical: duration_var(&get, "CRM_SLA_CRITICAL", sla_default.critical)?,
            high: duration_var(&get, "CRM_SLA_HIGH", sla_default.high)?,
            medium: duration_var(&get, "CRM_SLA_MEDIUM", sla_default.medium)?,
            low: duration_var(&get, "CRM_SLA_LOW", sla_default.low)?,
        };
        Ok(Self {
            database_url: get("CRM_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            listen: get("CRM_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into()),
            jwt: JwtSettings { key, algorithm, issuer: get("CRM_JWT_ISSUER"), audience: get("CRM_JWT_AUDIENCE") },
            auto_migrate: match get("CRM_AUTO_MIGRATE") {
                None => true,
                Some(v) => parse_bool("CRM_AUTO_MIGRATE", &v)?,
            },
            body_limit: match get("CRM_BODY_LIMIT") {
                None => DEFAULT_BODY_LIMIT,
                Some(v) => parse_size(&v).ok_or_else(|| anyhow::anyhow!("CRM_BODY_LIMIT: not a size: {v:?}"))?,
            },
            cors_origins: get("CRM_CORS_ORIGINS")
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            log_format: match get("CRM_LOG_FORMAT").as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    anyhow::bail!("CRM_LOG_FORMAT must be json or pretty, not {other:?}")
                }
            },
            pool_size: match get("CRM_DB_POOL_SIZE") {
                None => default_pool_size(get("CRM_DATABASE_URL").as_deref().unwrap_or(DEFAULT_DATABASE_URL)),
                Some(v) => v.parse().map_err(|_| anyhow::anyhow!("CRM_DB_POOL_SIZE: not a number: {v:?}"))?,
            },
            workers: match get("CRM_WORKERS") {
                None => None,
                Some(v) => Some(v.parse().map_err(|_| anyhow::anyhow!("CRM_WORKERS: not a number: {v:?}"))?),
            },
            sla,
            acquire_timeout: duration_var(&get, "CRM_DB_ACQUIRE_TIMEOUT", DEFAULT_ACQUIRE_TIMEOUT)?,
            statement_timeout: duration_var(&get, "CRM_DB_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT)?,
            body_read_timeout: duration_var(&get, "CRM_BODY_READ_TIMEOUT", DEFAULT_BODY_READ_TIMEOUT)?,
            max_connections: match get("CRM_MAX_CONNECTIONS") {
                None => DEFAULT_MAX_CONNECTIONS,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("CRM_MAX_CONNECTIONS: not a positive number: {v:?}"))?,
            },
            privacy_retention_notice: get("CRM_PRIVACY_RETENTION_NOTICE").filter(|v| !v.trim().is_empty()),
            audit_retention_days: match get("CRM_AUDIT_RETENTION_DAYS") {
                None => DEFAULT_AUDIT_RETENTION_DAYS,
                Some(v) => {
                    v.parse().ok().filter(|d| *d > 0).ok_or_else(|| {
                        anyhow::anyhow!("CRM_AUDIT_RETENTION_DAYS: not a positive number of days: {v:?}")
                    })?
                }
            },
            erase_max_child_rows: match get("CRM_ERASE_MAX_CHILD_ROWS") {
                None => DEFAULT_ERASE_MAX_CHILD_ROWS,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| anyhow::anyhow!("CRM_ERASE_MAX_CHILD_ROWS: not a number: {v:?}"))?,
            },
            analytics_concurrency: match get("CRM_ANALYTICS_CONCURRENCY") {
                None => DEFAULT_ANALYTICS_CONCURRENCY,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("CRM_ANALYTICS_CONCURRENCY: not a positive number: {v:?}"))?,
            },
            rate_limit: match get("CRM_RATE_LIMIT") {
                None => DEFAULT_RATE_LIMIT,
                Some(v) => v.parse().map_err(|_| anyhow::anyhow!("CRM_RATE_LIMIT: not a number: {v:?}"))?,
            },
            rate_limit_window: {
                let w = duration_var(&get, "CRM_RATE_LIMIT_WINDOW", DEFAULT_RATE_LIMIT_WINDOW)?;
                if w.subsec_nanos() != 0 || w.as_secs() == 0 {
                    anyhow::bail!("CRM_RATE_LIMIT_WINDOW must be a whole number of seconds (60s, 1m)");
                }
                w
            },
            trust_proxy: match get("CRM_TRUST_PROXY") {
                None => false,
                Some(v) => parse_bool("CRM_TRUST_PROXY", &v)?,
            },
            batch_max_items: match get("CRM_BATCH_MAX_ITEMS") {
                None => DEFAULT_BATCH_MAX_ITEMS,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("CRM_BATCH_MAX_ITEMS: not a positive number: {v:?}"))?,
            },
            batch_body_limit: match get("CRM_BATCH_BODY_LIMIT") {
                None => DEFAULT_BATCH_BODY_LIMIT,
                Some(v) => parse_size(&v).ok_or_else(|| anyhow::anyhow!("CRM_BATCH_BODY_LIMIT: not a size: {v:?}"))?,
            },
        })
    }

    /// The request pool: bounded wait, statement timeout.
    pub fn pool_options(&self) -> crate::db::PoolOptions {
        crate::db::PoolOptions {
            max_size: self.pool_size,
            acquire_timeout: self.acquire_timeout,
            statement_timeout: Some(self.statement_timeout),
            check: true,
        }
    }
}

/// Measured on 2 cores: PostgreSQL peaks near 4 connections per core; SQLite
/// (one writer, in-process) near 2 per core, more only adds contention.
fn default_pool_size(url: &str) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    if url.starts_with("sqlite:") { 2 * cores } else { 4 * cores }
}

fn parse_bool(name: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => anyhow::bail!("{name} must be true or false, not {v:?}"),
    }
}

fn duration_var(get: &impl Fn(&str) -> Option<String>, name: &str, default: Duration) -> anyhow::Result<Duration> {
    match get(name) {
        None => Ok(default),
        Some(v) => parse_duration(&v).ok_or_else(|| anyhow::anyhow!("{name}: not a duration like 4h or 3d: {v:?}")),
    }
}

/// `500ms`, `30s`, `15m`, `4h`, `3d` (a positive whole number and a unit).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok().filter(|n| *n > 0)?;
    if unit == "ms" {
        return Some(Duration::from_millis(n));
    }
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// `1048576`, `512KiB`, `1MiB` (also `kb`/`mb` as binary units).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult).filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert!(s.auto_migrate);
        assert_eq!(s.body_limit, 1024 * 1024);
        assert!(s.jwt.key.is_none());
        assert_eq!(s.sla, SlaTargets::default());
    }

    #[test]
    fn reads_overrides_and_rejects_nonsense() {
        let s =
            settings(&[("CRM_AUTO_MIGRATE", "false"), ("CRM_BODY_LIMIT", "64KiB"), ("CRM_SLA_HIGH", "2d")]).unwrap();
        assert!(!s.auto_migrate);
        assert_eq!(s.body_limit, 64 * 1024);
        assert_eq!(s.sla.high, Duration::from_secs(2 * 86_400));
        assert!(settings(&[("CRM_AUTO_MIGRATE", "maybe")]).is_err());
        assert!(settings(&[("CRM_SLA_LOW", "soon")]).is_err());
        assert_eq!(settings(&[]).unwrap().analytics_concurrency, DEFAULT_ANALYTICS_CONCURRENCY);
        assert_eq!(settings(&[("CRM_ANALYTICS_CONCURRENCY", "3")]).unwrap().analytics_concurrency, 3);
        assert!(settings(&[("CRM_ANALYTICS_CONCURRENCY", "0")]).is_err());
        let s = settings(&[]).unwrap();
        assert_eq!((s.rate_limit, s.rate_limit_window, s.trust_proxy), (1200, Duration::from_secs(60), false));
        assert_eq!(settings(&[("CRM_RATE_LIMIT", "0")]).unwrap().rate_limit, 0);
        assert!(settings(&[("CRM_RATE_LIMIT_WINDOW", "1500ms")]).is_err());
        assert!(settings(&[("CRM_RATE_LIMIT", "-1")]).is_err());
        assert!(settings(&[("CRM_JWT_SECRET", "a"), ("CRM_JWT_PUBLIC_KEY_FILE", "b")]).is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("4h"), Some(Duration::from_secs(14_400)));
        assert_eq!(parse_duration("3d"), Some(Duration::from_secs(259_200)));
        assert_eq!(parse_duration("0h"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("5y"), None);
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
    }
}
