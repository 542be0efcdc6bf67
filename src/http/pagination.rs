//! Lists over HTTP: `Page<T>`, built from the rows a repo fetched for a
//! `Paging` (`db::keyset`: the checked `limit`, `sort` and `cursor`).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::db::keyset::{Cursor, Paging, Sort, SortField, SortKey};

/// A page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<F: SortField> Paging<F> {
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
