//! Rate limits (contracts/integration.md): one policy, `q` units per fixed
//! window of `w` seconds aligned to the epoch, per caller ((role, partner,
//! sub) from a valid token, else the client IP).
//!
//! Each replica decides in memory, with no database round trip per request:
//! it admits while its own units plus the other replicas' (as last read) stay
//! under `q`. At most a second apart it writes its own count per partition to
//! `rate_limit_counters` (its own row, an absolute number: a flush that timed
//! out but committed, then retried, never counts twice) and reads the other
//! replicas' rows back. So one replica never overshoots; several overshoot by
//! at most what the others admitted since their last flush (about a second of
//! their traffic). Hand-written rather than `governor`: the budget is a fixed
//! window summed over replicas through the database, not a local bucket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
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
    /// Admitted by this replica in the window.
    own: u64,
    /// Admitted by the other replicas, as last read.
    others: u64,
}

/// The caller's partition, kept in the request for later charges (a batch).
#[derive(Debug, Clone, Copy)]
pub struct Partition(pub u128);

/// Charges `units` more to the caller of `req` (when limiting is on).
pub fn charge(req: &actix_web::HttpRequest, units: u64) {
    use actix_web::HttpMessage;
    let Some(limiter) = req.app_data::<web::Data<RateLimiter>>() else { return };
    let Some(Partition(key)) = req.extensions().get::<Partition>().copied() else { return };
    if units > 0 {
        limiter.charge(key, units, now_secs());
    }
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit { remaining: u64, reset: u64 },
    Refuse { reset: u64 },
}

/// This replica's count for one partition and window, to write.
#[derive(Debug, Clone)]
pub struct Pending {
    pub key: String,
    pub window_start: i64,
    /// This replica's units in the window (absolute).
    pub units: i64,
}

pub struct RateLimiter {
    q: u64,
    w: u64,
    trust_proxy: bool,
    policy: HeaderValue,
    /// This replica's name in `rate_limit_counters`.
    replica: String,
    /// By partition: the first 128 bits of the SHA-256 of the caller.
    parts: Mutex<HashMap<u128, Part>>,
}

impl RateLimiter {
    /// `None` when `q` is 0 (limiting off).
    pub fn new(q: u64, window: Duration, trust_proxy: bool) -> Option<Self> {
        let w = window.as_secs().max(1);
        let policy = HeaderValue::from_str(&format!("\"default\";q={q};w={w}")).ok()?;
        let replica = uuid::Uuid::now_v7().to_string();
        (q > 0).then(|| Self { q, w, trust_proxy, policy, replica, parts: Mutex::new(HashMap::new()) })
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
            *part = Part { window, own: 0, others: 0 };
        }
        let used = part.own + part.others;
        if used >= self.q {
            return Verdict::Refuse { reset };
        }
        part.own += 1;
        Verdict::Admit { remaining: self.q - used - 1, reset }
    }

    /// Counts `units` more for `key` in the current window, admitted or not
    /// (a batch costs more than one unit, known once its body is read).
    pub fn charge(&self, key: u128, units: u64, now: u64) {
        let window = self.window_of(now);
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let part = parts.entry(key).or_default();
        if part.window != window {
            *part = Part { window, own: 0, others: 0 };
        }
        part.own += units;
    }

    /// Every partition of the current window with this replica's count
    /// (`units` 0 when it admitted none: listed so that the others' counts
    /// are read back), forgetting partitions of ended windows, so memory
    /// follows the callers of one window.
    pub fn take_pending(&self, now: u64) -> Vec<Pending> {
        let window = self.window_of(now);
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.retain(|_, p| p.window >= window);
        parts
            .iter()
            .map(|(key, p)| Pending {
                key: format!("{key:032x}"),
                window_start: (p.window * self.w) as i64,
                units: p.own as i64,
            })
            .collect()
    }

    /// The other replicas' counts read back after a flush.
    pub fn settle(&self, others: &[(String, i64, i64)]) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, start, units) in others {
            let Ok(key) = u128::from_str_radix(key, 16) else { continue };
            if let Some(p) = parts.get_mut(&key)
                && (p.window * self.w) as i64 == *start
            {
                p.others = p.others.max(*units as u64);
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
                // Behind a trusted proxy, the address it appended (the last
                // X-Forwarded-For entry): the ones before it are the client's word.
                let forwarded = || {
                    let last = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).last()?;
                    let raw = last.rsplit(',').next()?.trim();
                    raw.parse::<std::net::SocketAddr>().map(|a| a.ip()).or_else(|_| raw.parse()).ok()
                };
                let ip = if self.trust_proxy { forwarded() } else { None }.or_else(|| req.peer_addr().map(|a| a.ip()));
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

    /// This replica's name in the shared counters.
    pub fn replica(&self) -> &str {
        &self.replica
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
    // The router matches the decoded path: so does the scope (`/%61pi/v1/…` is `/api/v1/…`).
    let in_scope = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy().starts_with("/api/v1/");
    let Some(limiter) = limiter.filter(|_| in_scope && !is_preflight(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = limiter.partition(&req);
    req.extensions_mut().insert(Partition(key));
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

/// Writes this replica's counts (`pending`) and reads the other replicas'
/// back, summed per partition, in one transaction.
pub fn flush(conn: &mut DbConnection, replica: &str, pending: &[Pending]) -> QueryResult<Vec<(String, i64, i64)>> {
    use diesel::upsert::excluded;
    conn.transaction(|c| {
        for part in pending.chunks(500) {
            let rows: Vec<_> = part
                .iter()
                .filter(|p| p.units > 0)
                .map(|p| {
                    (
                        rl::partition_key.eq(p.key.as_str()),
                        rl::window_start.eq(p.window_start),
                        rl::replica.eq(replica),
                        rl::units.eq(p.units),
                    )
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let conflict = (rl::partition_key, rl::window_start, rl::replica);
            // A multi-row insert does not compile through the connection enum.
            match c {
                DbConnection::Pg(pg) => diesel::insert_into(rl::table)
                    .values(&rows)
                    .on_conflict(conflict)
                    .do_update()
                    .set(rl::units.eq(excluded(rl::units)))
                    .execute(pg)?,
                DbConnection::Sqlite(sq) => {
                    let mut n = 0;
                    for row in &rows {
                        n += diesel::insert_into(rl::table)
                            .values(*row)
                            .on_conflict(conflict)
                            .do_update()
                            .set(rl::units.eq(excluded(rl::units)))
                            .execute(sq)?;
                    }
                    n
                }
            };
        }
        let mut others: HashMap<(String, i64), i64> = HashMap::new();
        for part in pending.chunks(500) {
            let keys: Vec<&str> = part.iter().map(|p| p.key.as_str()).collect();
            let starts: Vec<i64> = part.iter().map(|p| p.window_start).collect();
            let rows: Vec<(String, i64, i64)> = rl::table
                .filter(rl::partition_key.eq_any(keys))
                .filter(rl::window_start.eq_any(starts))
                .filter(rl::replica.ne(replica))
                .select((rl::partition_key, rl::window_start, rl::units))
                .load(c)?;
            for (key, start, units) in rows {
                *others.entry((key, start)).or_default() += units;
            }
        }
        Ok(others.into_iter().map(|((k, s), u)| (k, s, u)).collect())
    })
}

/// Deletes the counters of windows that ended before `before` (Unix seconds).
pub fn purge(conn: &mut DbConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(rl::table.filter(rl::window_start.lt(before))).execute(conn)
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
    fn the_other_replicas_counts_read_back_count_against_the_budget() {
        let l = RateLimiter::new(5, Duration::from_secs(60), false).unwrap();
        let t = 600;
        l.check(A, t);
        let pending = l.take_pending(t);
        assert_eq!((pending.len(), pending[0].units, pending[0].window_start), (1, 1, 600));
        assert_eq!(l.take_pending(t)[0].units, 1, "an absolute count: a retried flush writes the same number");
        // Other replicas admitted 3 meanwhile.
        l.settle(&[(format!("{A:032x}"), 600, 3)]);
        assert_eq!(l.check(A, t), Verdict::Admit { remaining: 0, reset: 60 });
        assert_eq!(l.check(A, t), Verdict::Refuse { reset: 60 });
        // A batch's extra units count too; ended windows are forgotten.
        l.charge(B, 4, t);
        assert_eq!(l.check(B, t), Verdict::Admit { remaining: 0, reset: 60 });
        assert!(l.take_pending(t + 60).is_empty());
        assert!(l.parts.lock().unwrap().is_empty());
    }
}
