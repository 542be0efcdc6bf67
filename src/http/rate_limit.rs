//! Rate limits (contracts/integration.md): one policy, `q` units per fixed
//! window of `w` seconds aligned to the epoch, per caller ((role, partner,
//! sub) from a valid token, else the client IP).
//!
//! Each replica decides in memory, with no database round trip per request:
//! it admits while the shared total it last read plus its own unflushed units
//! stay under `q`. At most a second apart it adds its units to
//! `rate_limit_counters` and reads the shared totals back. So one replica
//! never overshoots; several overshoot by at most what the others admitted
//! since their last flush (≤ about a second of their traffic). Hand-written
//! rather than `governor`: the budget is a fixed window summed over replicas
//! through the database, not a local token bucket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::db::schema::rate_limit_counters as rl;
use crate::error::ApiError;

static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// How often a replica adds its units to the shared counters.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default, Clone, Copy)]
struct Part {
    window: u64,
    /// The shared total last read (this replica's flushed units included).
    shared: u64,
    /// Admitted here since the last flush.
    unflushed: u64,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit { remaining: u64, reset: u64 },
    Refuse { reset: u64 },
}

/// Units flushed for one partition and window.
#[derive(Debug, Clone)]
pub struct Pending {
    pub key: String,
    pub window_start: i64,
    pub units: i64,
}

pub struct RateLimiter {
    q: u64,
    w: u64,
    trust_proxy: bool,
    policy: HeaderValue,
    /// By partition: the first 128 bits of the SHA-256 of the caller.
    parts: Mutex<HashMap<u128, Part>>,
}

impl RateLimiter {
    /// `None` when `q` is 0 (limiting off).
    pub fn new(q: u64, window: Duration, trust_proxy: bool) -> Option<Self> {
        let w = window.as_secs().max(1);
        let policy = HeaderValue::from_str(&format!("\"default\";q={q};w={w}")).ok()?;
        (q > 0).then(|| Self { q, w, trust_proxy, policy, parts: Mutex::new(HashMap::new()) })
    }

    pub fn window_of(&self, now: u64) -> u64 {
        now / self.w
    }

    /// Counts one unit for `key` at `now` (Unix seconds) if the budget allows.
    pub fn check(&self, key: u128, now: u64) -> Verdict {
        let window = self.window_of(now);
        let reset = ((window + 1) * self.w).saturating_sub(now).max(1);
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let part = parts.entry(key).or_default();
        if part.window != window {
            *part = Part { window, shared: 0, unflushed: 0 };
        }
        let used = part.shared + part.unflushed;
        if used >= self.q {
            return Verdict::Refuse { reset };
        }
        part.unflushed += 1;
        Verdict::Admit { remaining: self.q - used - 1, reset }
    }

    /// Takes the units to flush (current window only) and forgets partitions
    /// of ended windows, so memory follows the callers of one window. Every
    /// partition of the window is listed (`units` 0 when it has none to add),
    /// so its shared total is read back even while this replica is idle for
    /// it and others are not.
    pub fn take_pending(&self, now: u64) -> Vec<Pending> {
        let window = self.window_of(now);
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.retain(|_, p| p.window >= window);
        let mut out = Vec::new();
        for (key, p) in parts.iter_mut() {
            out.push(Pending {
                key: format!("{key:032x}"),
                window_start: (p.window * self.w) as i64,
                units: p.unflushed as i64,
            });
            // Counted as shared until the database says what the total is.
            p.shared += p.unflushed;
            p.unflushed = 0;
        }
        out
    }

    /// The shared totals read back after a flush.
    pub fn settle(&self, totals: &[(String, i64, i64)]) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, start, total) in totals {
            let Ok(key) = u128::from_str_radix(key, 16) else { continue };
            if let Some(p) = parts.get_mut(&key)
                && (p.window * self.w) as i64 == *start
            {
                p.shared = p.shared.max(*total as u64);
            }
        }
    }

    /// The partition of a request: a hash, so neither a user id nor an
    /// address is held or stored.
    fn partition(&self, req: &ServiceRequest) -> u128 {
        let mut h = Sha256::new();
        match crate::auth::caller_of(req.request()) {
            Ok(c) => {
                h.update(b"caller\x1f");
                h.update(c.role.as_str().as_bytes());
                h.update(b"\x1f");
                h.update(c.partner_id.map(|p| p.into_bytes()).unwrap_or_default());
                h.update(b"\x1f");
                h.update(c.sub.as_bytes());
            }
            Err(_) => {
                h.update(b"ip\x1f");
                // The address without its port (a new connection must not be a new caller).
                let ip = if self.trust_proxy {
                    let info = req.connection_info();
                    let raw = info.realip_remote_addr().unwrap_or_default();
                    raw.parse::<std::net::SocketAddr>().map(|a| a.ip()).or_else(|_| raw.parse()).ok()
                } else {
                    req.peer_addr().map(|a| a.ip())
                };
                match ip {
                    Some(std::net::IpAddr::V4(v4)) => h.update(v4.octets()),
                    Some(std::net::IpAddr::V6(v6)) => h.update(v6.octets()),
                    None => {}
                }
            }
        }
        let digest = h.finalize();
        u128::from_be_bytes(digest[..16].try_into().unwrap_or_default())
    }
}

impl RateLimiter {
    /// The window's length in seconds.
    pub fn window_secs(&self) -> u64 {
        self.w
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A CORS preflight: answered by the CORS layer, never counted.
fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The middleware: `/api/v1/*` only; every counted response carries the
/// policy and what is left; over the budget, 429 with `Retry-After`.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let Some(limiter) = limiter.filter(|_| req.path().starts_with("/api/v1/") && !is_preflight(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = limiter.partition(&req);
    let (mut res, remaining, reset) = match limiter.check(key, now_secs()) {
        Verdict::Admit { remaining, reset } => (next.call(req).await?.map_into_boxed_body(), remaining, reset),
        Verdict::Refuse { reset } => {
            let res = ApiError::RateLimited { retry_after: reset }.error_response();
            (req.into_response(res), 0, reset)
        }
    };
    let headers = res.headers_mut();
    headers.insert(RATELIMIT_POLICY.clone(), limiter.policy.clone());
    if let Ok(v) = HeaderValue::from_str(&format!("\"default\";r={remaining};t={reset}")) {
        headers.insert(RATELIMIT.clone(), v);
    }
    Ok(res)
}

/// Adds `pending` to the shared counters and reads their totals back, in one
/// transaction.
pub fn flush(conn: &mut DbConnection, pending: &[Pending]) -> QueryResult<Vec<(String, i64, i64)>> {
    use diesel::upsert::excluded;
    conn.transaction(|c| {
        for p in pending.iter().filter(|p| p.units > 0) {
            let row = (rl::partition_key.eq(&p.key), rl::window_start.eq(p.window_start), rl::units.eq(p.units));
            let add = rl::units.eq(rl::units + excluded(rl::units));
            match c {
                DbConnection::Pg(pg) => diesel::insert_into(rl::table)
                    .values(row)
                    .on_conflict((rl::partition_key, rl::window_start))
                    .do_update()
                    .set(add)
                    .execute(pg)?,
                DbConnection::Sqlite(sq) => diesel::insert_into(rl::table)
                    .values(row)
                    .on_conflict((rl::partition_key, rl::window_start))
                    .do_update()
                    .set(add)
                    .execute(sq)?,
            };
        }
        let mut totals = Vec::with_capacity(pending.len());
        for part in pending.chunks(500) {
            let keys: Vec<&str> = part.iter().map(|p| p.key.as_str()).collect();
            let starts: Vec<i64> = part.iter().map(|p| p.window_start).collect();
            let rows: Vec<(String, i64, i64)> = rl::table
                .filter(rl::partition_key.eq_any(keys))
                .filter(rl::window_start.eq_any(starts))
                .select((rl::partition_key, rl::window_start, rl::units))
                .load(c)?;
            totals.extend(rows);
        }
        Ok(totals)
    })
}

/// Deletes the counters of windows that ended before `before` (Unix seconds).
pub fn purge(conn: &mut DbConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(rl::table.filter(rl::window_start.lt(before))).execute(conn)
}

impl RateLimiter {
    /// Puts units whose flush failed back, to be flushed again.
    pub fn restore(&self, pending: &[Pending]) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        for p in pending {
            let Ok(key) = u128::from_str_radix(&p.key, 16) else { continue };
            if let Some(part) = parts.get_mut(&key)
                && (part.window * self.w) as i64 == p.window_start
            {
                part.shared = part.shared.saturating_sub(p.units as u64);
                part.unflushed += p.units as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u128 = 0xa;
    const B: u128 = 0xb;

    #[test]
    fn a_fixed_window_admits_q_then_refuses_until_it_ends() {
        let l = RateLimiter::new(3, Duration::from_secs(60), false).unwrap();
        let t = 60 * 1000 + 15; // 45 s before the window ends
        assert_eq!(l.check(A, t), Verdict::Admit { remaining: 2, reset: 45 });
        assert_eq!(l.check(A, t), Verdict::Admit { remaining: 1, reset: 45 });
        assert_eq!(l.check(A, t + 44), Verdict::Admit { remaining: 0, reset: 1 });
        assert_eq!(l.check(A, t + 44), Verdict::Refuse { reset: 1 });
        assert_eq!(l.check(B, t), Verdict::Admit { remaining: 2, reset: 45 }, "another caller");
        assert_eq!(l.check(A, t + 45), Verdict::Admit { remaining: 2, reset: 60 }, "a new window");
        assert!(RateLimiter::new(0, Duration::from_secs(60), false).is_none());
    }

    #[test]
    fn the_shared_total_read_back_counts_against_the_budget() {
        let l = RateLimiter::new(5, Duration::from_secs(60), false).unwrap();
        let t = 600;
        l.check(A, t);
        let pending = l.take_pending(t);
        assert_eq!((pending.len(), pending[0].units, pending[0].window_start), (1, 1, 600));
        assert_eq!(l.take_pending(t)[0].units, 0, "listed, to read its total back, with nothing to add");
        // Another replica admitted 3 meanwhile: the total is 4.
        l.settle(&[(format!("{A:032x}"), 600, 4)]);
        assert_eq!(l.check(A, t), Verdict::Admit { remaining: 0, reset: 60 });
        assert_eq!(l.check(A, t), Verdict::Refuse { reset: 60 });
        // A failed flush puts the units back; ended windows are forgotten.
        let p = l.take_pending(t);
        l.restore(&p);
        assert_eq!(l.take_pending(t)[0].units, 1);
        assert!(l.take_pending(t + 60).is_empty());
        assert!(l.parts.lock().unwrap().is_empty());
    }
}
