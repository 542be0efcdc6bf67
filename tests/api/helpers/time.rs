//! Timestamps: RFC 3339 out (request bodies, query values) and in (responses).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// `t` as RFC 3339 in UTC with whole seconds (`2026-01-01T00:00:00Z`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A timestamp in a response (an RFC 3339 JSON string), as an instant.
pub fn parse_ts(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}")))
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {v}"))
        .with_timezone(&Utc)
}

/// An RFC 3339 literal as an instant: `instant("2030-07-01T00:00:00.250Z")`.
pub fn instant(s: &str) -> DateTime<Utc> {
    parse_ts(&Value::from(s))
}
