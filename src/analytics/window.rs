//! The common rules of every analytics answer (`contracts/analytics.md`):
//! the window, `group_by`, UTC time buckets, group keys and their order, and
//! the accumulator that fills totals and groups from the same rows.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::error::ApiError;
use crate::http::extract::query_time;

/// At most this many time buckets in a window.
pub const MAX_BUCKETS: usize = 1000;
/// At most this many groups in an answer.
pub const MAX_GROUPS: usize = 10_000;

/// The half-open window `[from, to)` and the request's time.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
}

impl Window {
    /// `to` defaults to `as_of` truncated to the second, `from` to `to` − 30 days.
    pub fn parse(from: Option<&str>, to: Option<&str>, as_of: DateTime<Utc>) -> Result<Self, ApiError> {
        let to = match to {
            Some(raw) => instant("to", raw)?,
            None => Utc.timestamp_opt(as_of.timestamp(), 0).single().unwrap_or(as_of),
        };
        let from = match from {
            Some(raw) => instant("from", raw)?,
            None => to - Duration::days(30),
        };
        if from >= to {
            return Err(ApiError::BadRequest("from must be before to".into()));
        }
        Ok(Self { from, to, as_of })
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// An RFC 3339 timestamp, or a date meaning its `00:00:00Z`.
fn instant(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map(|t| crate::db::types::truncate(t.with_timezone(&Utc)))
        .ok()
        .or_else(|| {
            let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().filter(|_| raw.len() == 10)?;
            Some(d.and_time(NaiveTime::MIN).and_utc())
        });
    match parsed {
        // Clamped to the storable years like every other time filter.
        Some(t) => query_time(name, Some(t)).map(|clamped| clamped.unwrap_or(t)),
        None => Err(ApiError::BadRequest(format!(
            "query parameter {name} must be an RFC 3339 timestamp or a date (YYYY-MM-DD)"
        ))),
    }
}

text_enum! {
    /// A `group_by` dimension. Which ones an endpoint offers is its own list.
    pub enum Dim {
        Kind = "kind", EntityType = "entity_type", Segment = "segment", LifecycleStage = "lifecycle_stage",
        Channel = "channel", Direction = "direction", Type = "type", ProductCategory = "product_category",
        Category = "category", Severity = "severity", AssigneeId = "assignee_id",
        Day = "day", Week = "week", Month = "month",
    }
}

impl Dim {
    pub fn is_time(self) -> bool {
        matches!(self, Dim::Day | Dim::Week | Dim::Month)
    }
}

/// The checked `group_by`: up to two dimensions in the order given, at most
/// one of them a time dimension.
#[derive(Debug, Clone, Default)]
pub struct GroupBy {
    pub dims: Vec<Dim>,
}

impl GroupBy {
    pub fn parse(raw: Option<&str>, offered: &[Dim]) -> Result<Self, ApiError> {
        let Some(raw) = raw else { return Ok(Self::default()) };
        let names: Vec<String> = offered.iter().map(|d| d.as_str().to_owned()).collect();
        let bad =
            |why: &str| ApiError::BadRequest(format!("group_by {why}; this endpoint offers: {}", names.join(", ")));
        let mut dims = Vec::new();
        for item in raw.split(',') {
            // Exact names, as the document's pattern says: no white space around them.
            let dim = Dim::parse(item)
                .filter(|d| offered.contains(d))
                .ok_or_else(|| bad("names a dimension it does not offer"))?;
            if dims.contains(&dim) {
                return Err(bad("repeats a dimension"));
            }
            dims.push(dim);
        }
        if dims.len() > 2 {
            return Err(bad("takes at most two dimensions"));
        }
        if dims.iter().filter(|d| d.is_time()).count() > 1 {
            return Err(bad("takes at most one time dimension (day, week, month)"));
        }
        Ok(Self { dims })
    }

    pub fn time(&self) -> Option<Dim> {
        self.dims.iter().copied().find(|d| d.is_time())
    }

    pub fn names(&self) -> Vec<String> {
        self.dims.iter().map(|d| d.as_str().to_owned()).collect()
    }

    /// The group key of a row: its value for each dimension, in `group_by`
    /// order (`at` gives the time label); `None` without `group_by`.
    pub fn key(&self, at: DateTime<Utc>, value: impl Fn(Dim) -> Option<String>) -> Option<Key> {
        if self.dims.is_empty() {
            return None;
        }
        let parts = self.dims.iter().map(|&d| if d.is_time() { Some(label(d, at)) } else { value(d) }).collect();
        Some(Key(parts))
    }
}

/// A regular expression matching exactly the valid `group_by` values over
/// `offered`: one dimension, or two different ones not both of time.
pub fn group_by_pattern(offered: &[Dim]) -> String {
    let mut alternatives: Vec<String> = offered.iter().map(|d| d.as_str().to_owned()).collect();
    for a in offered {
        for b in offered.iter().filter(|b| *b != a && !(a.is_time() && b.is_time())) {
            alternatives.push(format!("{},{}", a.as_str(), b.as_str()));
        }
    }
    format!("^({})$", alternatives.join("|"))
}

/// The label of the bucket holding `t`: `YYYY-MM-DD` (day), the ISO week's
/// Monday (week), `YYYY-MM` (month). All UTC.
pub fn label(dim: Dim, t: DateTime<Utc>) -> String {
    let start = bucket_start(dim, t);
    match dim {
        Dim::Month => start.format("%Y-%m").to_string(),
        _ => start.format("%Y-%m-%d").to_string(),
    }
}

fn bucket_start(dim: Dim, t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive();
    let d = match dim {
        Dim::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        Dim::Month => d.with_day(1).unwrap_or(d),
        _ => d,
    };
    d.and_time(NaiveTime::MIN).and_utc()
}

fn bucket_end(dim: Dim, start: DateTime<Utc>) -> DateTime<Utc> {
    match dim {
        Dim::Week => start + Duration::days(7),
        Dim::Month => {
            let d = start.date_naive();
            let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
            NaiveDate::from_ymd_opt(y, m, 1)
                .map_or(start + Duration::days(31), |n| n.and_time(NaiveTime::MIN).and_utc())
        }
        _ => start + Duration::days(1),
    }
}

/// One time bucket, clipped to the window: `[from, to)` under its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Every bucket of the window, in order (dense); 400 over [`MAX_BUCKETS`].
pub fn buckets(dim: Dim, w: &Window) -> Result<Vec<Bucket>, ApiError> {
    let mut out = Vec::new();
    let mut start = bucket_start(dim, w.from);
    while start < w.to {
        if out.len() == MAX_BUCKETS {
            return Err(ApiError::BadRequest(format!(
                "the window holds more than {MAX_BUCKETS} {} buckets; shorten it or group by a longer period",
                dim.as_str()
            )));
        }
        let end = bucket_end(dim, start);
        out.push(Bucket { label: label(dim, start), from: start.max(w.from), to: end.min(w.to) });
        start = end;
    }
    Ok(out)
}

/// A group key: one value per `group_by` dimension. Ordered by the values
/// in dimension order as wire strings in byte order, `null` last (time
/// labels are ISO dates, so byte order is time order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(pub Vec<Option<String>>);

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            let o = match (a, b) {
                (Some(a), Some(b)) => a.as_bytes().cmp(b.as_bytes()),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Key {
    /// The wire form: `{"<dimension>": value | null, …}`.
    pub fn to_json(&self, by: &GroupBy) -> serde_json::Map<String, serde_json::Value> {
        by.dims.iter().zip(&self.0).map(|(d, v)| (d.as_str().to_owned(), v.clone().into())).collect()
    }
}

/// Totals and sparse groups, filled from the same rows: every row counts in
/// the totals and in its group, so a group exists only when it has a row.
#[derive(Debug, Default)]
pub struct Groups<M> {
    pub totals: M,
    pub groups: BTreeMap<Key, M>,
}

impl<M: Default> Groups<M> {
    pub fn add(&mut self, key: Option<Key>, f: impl Fn(&mut M)) {
        f(&mut self.totals);
        if let Some(g) = self.group(key) {
            f(g);
        }
    }

    /// Adds to the group only (measures whose totals are computed apart).
    pub fn add_group(&mut self, key: Option<Key>, f: impl FnOnce(&mut M)) {
        if let Some(g) = self.group(key) {
            f(g);
        }
    }

    /// The group of `key`; none past [`MAX_GROUPS`] + 1 groups: the answer is
    /// a 400 by then ([`Self::check`]), so memory stops growing there.
    fn group(&mut self, key: Option<Key>) -> Option<&mut M> {
        let k = key?;
        if self.groups.len() > MAX_GROUPS && !self.groups.contains_key(&k) {
            return None;
        }
        Some(self.groups.entry(k).or_default())
    }
}

impl<M> Groups<M> {
    /// 400 `too-many-groups` over [`MAX_GROUPS`].
    pub fn check(&self) -> Result<(), ApiError> {
        if self.groups.len() > MAX_GROUPS {
            return Err(ApiError::TooManyGroups(format!(
                "the answer has more than {MAX_GROUPS} groups; filter or group by fewer dimensions"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn groups_stop_growing_one_past_the_limit() {
        let mut g = Groups::<u64>::default();
        for i in 0..MAX_GROUPS + 50 {
            g.add(Some(Key(vec![Some(i.to_string())])), |m| *m += 1);
        }
        assert_eq!(g.totals, (MAX_GROUPS + 50) as u64, "the totals still see every row");
        assert_eq!(g.groups.len(), MAX_GROUPS + 1);
        assert!(g.check().is_err());
        let mut small = Groups::<u64>::default();
        small.add_group(Some(Key(vec![None])), |m| *m += 1);
        assert!(small.check().is_ok());
    }

    #[test]
    fn weeks_are_labelled_by_their_monday() {
        assert_eq!(label(Dim::Week, at("2026-11-29T23:59:59Z")), "2026-11-23"); // a Sunday
        assert_eq!(label(Dim::Week, at("2026-11-30T00:00:00Z")), "2026-11-30"); // the Monday after
        assert_eq!(label(Dim::Week, at("2027-01-01T12:00:00Z")), "2026-12-28"); // ISO week across the year
        assert_eq!(label(Dim::Month, at("2026-12-31T23:59:59.999999Z")), "2026-12");
        assert_eq!(label(Dim::Day, at("2026-02-28T00:00:00Z")), "2026-02-28");
    }

    #[test]
    fn buckets_are_dense_and_clipped() {
        let w = Window { from: at("2026-11-25T12:00:00Z"), to: at("2026-12-02T00:00:00Z"), as_of: Utc::now() };
        let b = buckets(Dim::Week, &w).unwrap();
        assert_eq!(b.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["2026-11-23", "2026-11-30"]);
        assert_eq!((b[0].from, b[0].to), (w.from, at("2026-11-30T00:00:00Z")));
        assert_eq!((b[1].from, b[1].to), (at("2026-11-30T00:00:00Z"), w.to));
        let m = buckets(Dim::Month, &Window { from: at("2026-01-31T00:00:00Z"), ..w }).unwrap();
        assert_eq!(m.len(), 12);
        let long = Window { from: at("2020-01-01T00:00:00Z"), to: at("2023-01-01T00:00:00Z"), as_of: w.as_of };
        assert!(buckets(Dim::Day, &long).is_err());
        assert_eq!(buckets(Dim::Month, &long).unwrap().len(), 36);
    }

    #[test]
    fn keys_order_bytewise_with_null_last() {
        let k = |v: &[Option<&str>]| Key(v.iter().map(|s| s.map(str::to_owned)).collect());
        let mut keys =
            vec![k(&[None, Some("a")]), k(&[Some("b"), None]), k(&[Some("B"), Some("z")]), k(&[Some("b"), Some("a")])];
        keys.sort();
        assert_eq!(
            keys,
            vec![k(&[Some("B"), Some("z")]), k(&[Some("b"), Some("a")]), k(&[Some("b"), None]), k(&[None, Some("a")])]
        );
    }

    #[test]
    fn windows_parse_dates_and_reject_empty_ones() {
        let now = at("2026-11-23T10:00:00.5Z");
        let w = Window::parse(None, None, now).unwrap();
        assert_eq!((w.from, w.to), (at("2026-10-24T10:00:00Z"), at("2026-11-23T10:00:00Z")));
        let w = Window::parse(Some("2026-10-01"), Some("2026-11-01T00:00:00+07:00"), now).unwrap();
        assert_eq!((w.from, w.to), (at("2026-10-01T00:00:00Z"), at("2026-10-31T17:00:00Z")));
        assert!(Window::parse(Some("2026-11-01"), Some("2026-11-01"), now).is_err());
        assert!(Window::parse(Some("2026-1-01"), None, now).is_err());
        assert!(Window::parse(Some("yesterday"), None, now).is_err());
    }

    #[test]
    fn group_by_rules() {
        let offered = [Dim::Category, Dim::Severity, Dim::Day, Dim::Week, Dim::Month];
        assert_eq!(GroupBy::parse(Some("week,category"), &offered).unwrap().dims, [Dim::Week, Dim::Category]);
        let pattern = group_by_pattern(&offered);
        for bad in ["", "category,category", "day,week", "category,severity,day", "kind", "Category"] {
            assert!(GroupBy::parse(Some(bad), &offered).is_err(), "{bad}");
            assert!(!pattern.contains(&format!("|{bad}|")), "{bad} is not in the document's pattern");
        }
        for good in ["category", "week,category", "category,severity", "month"] {
            assert!(GroupBy::parse(Some(good), &offered).is_ok(), "{good}");
            assert!(pattern.contains(&format!("|{good}|")) || pattern.contains(&format!("({good}|")), "{good}");
        }
    }
}
