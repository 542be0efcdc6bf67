//! Cache headers. The body of an authenticated response depends on who asks
//! (contact details masked for analysts, sensitive fields for managers), so
//! no shared cache may store it or hand it to someone else.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// For every API response, and any response to a request that carried
/// `Authorization`:
/// `Cache-Control: private, no-cache` (unless the handler chose stricter) and
/// `Vary: Authorization`.
pub fn private_defaults(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    headers.append(header::VARY, HeaderValue::from_static("Authorization"));
}

/// `Cache-Control: no-store` when the body carries special-category data
/// (`sensitive`, `income_band`): not even the caller's own cache keeps it.
pub fn no_store_if(carries_sensitive: bool, mut res: HttpResponse) -> HttpResponse {
    if carries_sensitive {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
