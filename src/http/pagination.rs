//! Lists over HTTP: `Page<T>`, `limit` bounds, and the paging parameters of
//! a list request (`limit`, `sort`, `cursor`) checked together. Sorts and
//! cursors themselves are `db::keyset`.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::db::keyset::{Cursor, Sort, SortField, SortKey};
use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
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

    /// The page of `limit + 1` fetched rows, each mapped to its DTO.
    pub fn page<R, T>(&self, rows: Vec<R>, map: impl FnMut(R) -> T) -> Page<T>
    where
        F: SortKey<R>,
    {
        page(rows, self.limit, &self.label, |r| self.sort.field.key(r), map)
    }
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
    fn page_sets_cursor_only_when_more_rows() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let p = page(ids.clone(), 2, "x", |u| (String::new(), *u), |u| u);
        assert_eq!(p.data.len(), 2);
        assert_eq!(Cursor::decode(p.next_cursor.as_deref().unwrap(), "x").unwrap().i, ids[1]);
        let p = page(ids, 3, "x", |u| (String::new(), *u), |u| u);
        assert!(p.next_cursor.is_none());
    }
}
