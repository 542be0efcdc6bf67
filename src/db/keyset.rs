//! Keyset pagination below HTTP: a resource's sortable fields, a parsed
//! sort, the opaque cursor (the last row seen) and the predicate that starts
//! a page after it. Repos use these; `http::pagination` reads them from the
//! query string.
//!
//! A cursor is base64url(JSON) of the sort it was made for and the last row's
//! sort key and id. Using it with a different sort is a 400, as is any cursor
//! that does not decode: clients must treat it as opaque.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A `sort` or `cursor` the list cannot use (a 400 to the client), with
/// the message it is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPaging(pub String);

impl BadPaging {
    fn cursor() -> Self {
        Self("cursor is not valid; use next_cursor from a previous page unchanged".into())
    }
}

/// Longest text sort key a row can have (`display_name`, 200 characters).
pub const MAX_SORT_KEY_CHARS: usize = 200;
/// Longest cursor the server issues, so it always accepts its own: a key of
/// 200 characters that each take the most room in the cursor's JSON (a
/// control character as `\u00XX`, 6 bytes), plus sort, id and syntax, in
/// base64 (4/3), rounded up.
pub const MAX_CURSOR_LEN: usize = (MAX_SORT_KEY_CHARS * 6 + 128).div_ceil(3) * 4;
/// A parsed `sort` parameter: a field from the resource's allowed list and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

/// A resource's sortable fields.
pub trait SortField: Copy + Eq + Sized + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

impl<F: SortField> Sort<F> {
    /// Parses `field` or `-field`; `None` gives `default`.
    pub fn parse(raw: Option<&str>, default: Sort<F>) -> Result<Self, BadPaging> {
        let Some(raw) = raw else { return Ok(default) };
        let (descending, name) = match raw.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, raw),
        };
        F::ALL.iter().find(|f| f.name() == name).map(|&field| Sort { field, descending }).ok_or_else(|| {
            let names: Vec<_> = F::ALL.iter().map(|f| f.name()).collect();
            BadPaging(format!("sort must be one of {} (prefix - for descending)", names.join(", ")))
        })
    }

    pub fn label(&self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.field.name())
    }
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// `limit` checked against 1..=200, defaulting to 50.
pub fn limit(raw: Option<u32>) -> Result<i64, BadPaging> {
    match raw {
        None => Ok(i64::from(DEFAULT_LIMIT)),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(BadPaging(format!("limit must be between 1 and {MAX_LIMIT}"))),
    }
}

/// The paging of a list request, checked: `limit`, `sort`, and the cursor
/// (which must have been made for that sort). Repos read a page by it.
#[derive(Debug, Clone)]
pub struct Paging<F> {
    pub limit: i64,
    pub sort: Sort<F>,
    /// The sort as a string, e.g. `-created_at` (cursors carry it).
    pub label: String,
    pub cursor: Option<Cursor>,
}

impl<F: SortField> Paging<F> {
    pub fn parse(
        limit: Option<u32>,
        sort: Option<&str>,
        cursor: Option<&str>,
        default: Sort<F>,
    ) -> Result<Self, BadPaging> {
        let limit = self::limit(limit)?;
        let sort = Sort::parse(sort, default)?;
        let label = sort.label();
        let cursor = Cursor::from_query(cursor, &label)?;
        Ok(Self { limit, sort, label, cursor })
    }
}

/// The decoded content of a cursor: the last row seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor belongs to, e.g. `-created_at`.
    pub s: String,
    /// The last row's sort key, as text.
    pub k: String,
    /// The last row's id (the tie-breaker).
    pub i: Uuid,
}

impl Cursor {
    /// The sort key as a timestamp (for time-sorted lists).
    pub fn timestamp(&self) -> Result<chrono::DateTime<chrono::Utc>, BadPaging> {
        chrono::DateTime::parse_from_rfc3339(&self.k)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| BadPaging::cursor())
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The `cursor` query parameter: absent or empty (`cursor=`) is the first page.
    pub fn from_query(raw: Option<&str>, sort: &str) -> Result<Option<Self>, BadPaging> {
        raw.filter(|c| !c.is_empty()).map(|c| Self::decode(c, sort)).transpose()
    }

    /// Decodes `raw` and checks it was made for `sort`.
    pub fn decode(raw: &str, sort: &str) -> Result<Self, BadPaging> {
        let bad = BadPaging::cursor;
        if raw.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        // The key is bound into SQL: PostgreSQL cannot take NUL in text.
        if c.k.contains('\0') {
            return Err(bad());
        }
        if c.s != sort {
            return Err(BadPaging("cursor was made for another sort; keep sort unchanged while paging".into()));
        }
        Ok(c)
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

/// A sort key's column value, read back from a cursor and written into one.
pub trait KeyValue: Sized + Clone {
    fn from_cursor(c: &Cursor) -> Result<Self, BadPaging>;
    fn key_text(&self) -> String;
}

impl KeyValue for crate::db::DbTimestamp {
    fn from_cursor(c: &Cursor) -> Result<Self, BadPaging> {
        c.timestamp().map(crate::db::DbTimestamp)
    }
    fn key_text(&self) -> String {
        crate::db::types::timestamp_text(&self.0)
    }
}

impl KeyValue for String {
    fn from_cursor(c: &Cursor) -> Result<Self, BadPaging> {
        Ok(c.k.clone())
    }
    fn key_text(&self) -> String {
        self.clone()
    }
}

/// A row's position in a sorted list: the sort key as text, and the id.
pub trait SortKey<R>: SortField {
    fn key(self, row: &R) -> (String, Uuid);
}

/// Declares a list's sortable fields once: the enum, its wire names, the
/// cursor key of a row, and the keyset predicate plus `ORDER BY` of a boxed
/// query, all from one line per field:
///
/// ```text
/// sort_fields! {
///     pub enum SortBy for Row, Boxed, id = t::id; {
///         CreatedAt = "created_at": DbTimestamp => t::created_at, |r| &r.created_at,
///     }
/// }
/// ```
#[macro_export]
macro_rules! sort_fields {
    ($(#[doc = $doc:literal])* pub enum $name:ident for $row:ty, $boxed:ident, id = $id:path; {
        $($variant:ident = $text:literal: $ty:ty => $col:expr, $get:expr),+ $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $crate::db::keyset::SortField for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $crate::db::keyset::SortKey<$row> for $name {
            fn key(self, row: &$row) -> (String, uuid::Uuid) {
                use $crate::db::keyset::KeyValue;
                let key = match self {
                    $($name::$variant => {
                        let get: fn(&$row) -> &$ty = $get;
                        get(row).key_text()
                    })+
                };
                (key, row.id.0)
            }
        }

        impl $name {
            /// `q` as one page: ordered by the sort field (then id), started
            /// after the cursor, `limit + 1` rows (the extra one tells
            /// whether another page follows).
            pub fn page<'a>(
                paging: &$crate::db::keyset::Paging<Self>,
                q: $boxed<'a>,
            ) -> Result<$boxed<'a>, $crate::db::keyset::BadPaging> {
                use $crate::db::keyset::KeyValue;
                let (descending, after) = (paging.sort.descending, paging.cursor.as_ref());
                let q = match paging.sort.field {
                    $($name::$variant => {
                        let q = match after {
                            Some(c) => $crate::keyset_after!(
                                q, $col, <$ty>::from_cursor(c)?, $id, $crate::db::DbUuid(c.i), descending
                            ),
                            None => q,
                        };
                        if descending { q.order(($col.desc(), $id.desc())) } else { q.order(($col.asc(), $id.asc())) }
                    })+
                };
                Ok(q.limit(paging.limit + 1))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum F {
        CreatedAt,
        Name,
    }
    impl SortField for F {
        const ALL: &'static [Self] = &[F::CreatedAt, F::Name];
        fn name(self) -> &'static str {
            match self {
                F::CreatedAt => "created_at",
                F::Name => "name",
            }
        }
    }
    const DEFAULT: Sort<F> = Sort { field: F::CreatedAt, descending: true };

    #[test]
    fn cursor_round_trips() {
        let c = Cursor { s: "-created_at".into(), k: "2026-11-23T10:00:00.000000Z".into(), i: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&c.encode(), "-created_at").unwrap(), c);
    }

    #[test]
    fn cursor_rejects_garbage_and_other_sorts() {
        let c = Cursor { s: "name".into(), k: "x".into(), i: Uuid::nil() };
        assert!(matches!(Cursor::decode(&c.encode(), "-created_at"), Err(BadPaging(_))));
        for bad in ["", "!!!", "eyJ9", &"A".repeat(MAX_CURSOR_LEN + 4), "bm90IGpzb24"] {
            assert!(matches!(Cursor::decode(bad, "name"), Err(BadPaging(_))), "{bad}");
        }
    }

    #[test]
    fn the_longest_cursor_the_server_can_issue_is_accepted() {
        for ch in ['\u{1F600}', '\u{1}', '"', '\\'] {
            let key: String = std::iter::repeat_n(ch, MAX_SORT_KEY_CHARS).collect();
            let c = Cursor { s: "-display_name".into(), k: key, i: Uuid::max() };
            let raw = c.encode();
            assert!(raw.len() <= MAX_CURSOR_LEN, "{ch:?}: {} > {MAX_CURSOR_LEN}", raw.len());
            assert_eq!(Cursor::decode(&raw, "-display_name").unwrap(), c);
        }
    }

    #[test]
    fn sort_parses_fields_and_direction() {
        assert_eq!(Sort::parse(None, DEFAULT).unwrap(), DEFAULT);
        assert_eq!(Sort::parse(Some("name"), DEFAULT).unwrap(), Sort { field: F::Name, descending: false });
        assert_eq!(Sort::parse(Some("-name"), DEFAULT).unwrap().label(), "-name");
        assert!(Sort::parse(Some("password"), DEFAULT).is_err());
        assert!(Sort::parse(Some("--name"), DEFAULT).is_err());
    }

    #[test]
    fn an_empty_cursor_is_the_first_page() {
        let p = Paging::<F>::parse(None, None, Some(""), DEFAULT).unwrap();
        assert!(p.cursor.is_none());
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(1)).unwrap(), 1);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }
}
