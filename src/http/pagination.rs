//! Lists: `Page<T>`, `limit` bounds, sort parsing and opaque keyset cursors.
//!
//! A cursor is base64url(JSON) of the sort it was made for and the last row's
//! sort key and id. Using it with a different sort is a 400, as is any cursor
//! that does not decode: clients must treat it as opaque.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
/// Longest text sort key a row can have (`display_name`, 200 characters).
pub const MAX_SORT_KEY_CHARS: usize = 200;
/// Longest cursor the server issues, so it always accepts its own: a key of
/// 200 characters that each take the most room in the cursor's JSON (a
/// control character as `\u00XX`, 6 bytes), plus sort, id and syntax, in
/// base64 (4/3), rounded up.
pub const MAX_CURSOR_LEN: usize = (MAX_SORT_KEY_CHARS * 6 + 128).div_ceil(3) * 4;
pub const MAX_LIMIT: u32 = 200;

/// A page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `limit` checked against 1..=200, defaulting to 50.
pub fn limit(raw: Option<u32>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(i64::from(DEFAULT_LIMIT)),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(i64::from(n)),
        Some(n) => Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}, not {n}"))),
    }
}

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
    pub fn parse(raw: Option<&str>, default: Sort<F>) -> Result<Self, ApiError> {
        let Some(raw) = raw else { return Ok(default) };
        let (descending, name) = match raw.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, raw),
        };
        F::ALL.iter().find(|f| f.name() == name).map(|&field| Sort { field, descending }).ok_or_else(|| {
            let names: Vec<_> = F::ALL.iter().map(|f| f.name()).collect();
            ApiError::BadRequest(format!("sort must be one of {} (prefix - for descending)", names.join(", ")))
        })
    }

    pub fn label(&self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.field.name())
    }
}

/// The paging part of a list request, checked: `limit`, `sort`, and the
/// cursor (which must have been made for that sort).
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
    ) -> Result<Self, ApiError> {
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
    pub fn timestamp(&self) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        chrono::DateTime::parse_from_rfc3339(&self.k).map(|t| t.with_timezone(&chrono::Utc)).map_err(|_| bad_cursor())
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The `cursor` query parameter: absent or empty (`cursor=`) is the first page.
    pub fn from_query(raw: Option<&str>, sort: &str) -> Result<Option<Self>, ApiError> {
        raw.filter(|c| !c.is_empty()).map(|c| Self::decode(c, sort)).transpose()
    }

    /// Decodes `raw` and checks it was made for `sort`.
    pub fn decode(raw: &str, sort: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadRequest("cursor is not valid; use next_cursor from a previous page unchanged".into());
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
            return Err(ApiError::BadRequest(format!(
                "cursor was made for sort {:?}, not {sort:?}; keep sort unchanged while paging",
                c.s
            )));
        }
        Ok(c)
    }
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest("cursor is not valid; use next_cursor from a previous page unchanged".into())
}

/// Builds a page from `limit + 1` fetched rows: the extra row only tells
/// whether there is a next page.
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    sort_label: &str,
    key_of: impl Fn(&R) -> (String, Uuid),
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| {
            let (k, i) = key_of(r);
            Cursor { s: sort_label.to_owned(), k, i }.encode()
        })
    } else {
        None
    };
    Page { data: rows.into_iter().map(map).collect(), next_cursor }
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
        assert!(matches!(Cursor::decode(&c.encode(), "-created_at"), Err(ApiError::BadRequest(_))));
        for bad in ["", "!!!", "eyJ9", &"A".repeat(MAX_CURSOR_LEN + 4), "bm90IGpzb24"] {
            assert!(matches!(Cursor::decode(bad, "name"), Err(ApiError::BadRequest(_))), "{bad}");
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

    #[test]
    fn sort_parses_fields_and_direction() {
        assert_eq!(Sort::parse(None, DEFAULT).unwrap(), DEFAULT);
        assert_eq!(Sort::parse(Some("name"), DEFAULT).unwrap(), Sort { field: F::Name, descending: false });
        assert_eq!(Sort::parse(Some("-name"), DEFAULT).unwrap().label(), "-name");
        assert!(Sort::parse(Some("password"), DEFAULT).is_err());
        assert!(Sort::parse(Some("--name"), DEFAULT).is_err());
    }

    #[test]
    fn page_sets_cursor_only_when_more_rows() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let p = page(ids.clone(), 2, "x", |u| (String::new(), *u), |u| u);
        assert_eq!(p.data.len(), 2);
        assert_eq!(Cursor::decode(p.next_cursor.as_deref().unwrap(), "x").unwrap().i, ids[1]);
        let p = page(ids, 3, "x", |u| (String::new(), *u), |u| u);
        assert!(p.next_cursor.is_none());
    }
}
