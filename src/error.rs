//! The error type repos and routes share. It knows nothing of HTTP: the
//! status and RFC 9457 rendering live in `http::error`; database errors are
//! classified here, where they are produced.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field in a 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a dotted path (`address.country`, `tags[2]`).
    #[schema(example = "email")]
    pub field: String,
    /// A stable machine-readable code (`required`, `email`, `length`, `unknown_field`, …).
    #[schema(example = "email")]
    pub code: String,
    /// A human-readable explanation.
    #[schema(example = "not a valid e-mail address")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A write to an erased stakeholder or its records (409 `erased`).
    #[error("erased: {0}")]
    Erased(String),
    /// An erasure over `CRM_ERASE_MAX_CHILD_ROWS` records (409 `erase-too-large`).
    #[error("erase too large: {0}")]
    EraseTooLarge(String),
    /// A replay of an `Idempotency-Key` whose record was erased: 410
    /// `erased`, marked as a replay, whatever the body.
    #[error("erased replay")]
    ErasedReplay,
    /// An analytics answer over the group limit (400 `too-many-groups`).
    #[error("too many groups: {0}")]
    TooManyGroups(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// An atomic batch with failing items (422 `batch-failed`): every
    /// failing item, `inputs[i].field` or `inputs[i]` with a code.
    #[error("batch failed")]
    BatchFailed(Vec<FieldError>),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Over the caller's rate limit (429 `rate-limited`); retry after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    /// The client did not send its body in time.
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    /// Detail goes to the log only; the client sees a generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("no {what} with that id"))
    }

    pub fn validation(field: &str, code: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

/// `Option` → 404, for one-row lookups: `repo::find(…)?.or_not_found(RESOURCE)`.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> Result<T, ApiError>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &str) -> Result<T, ApiError> {
        self.ok_or_else(|| ApiError::not_found(what))
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        if is_connection_lost(&e) {
            crate::db::mark_connection_broken();
            return Self::Unavailable(format!("the database connection was lost: {e}"));
        }
        match e {
            E::NotFound => Self::NotFound("not found".into()),
            E::DatabaseError(K::UniqueViolation, info) => {
                Self::Conflict(unique_violation_detail(info.constraint_name(), info.message()))
            }
            E::DatabaseError(K::ForeignKeyViolation, _) => {
                Self::Conflict("the record refers to, or is referred to by, another record".into())
            }
            E::DatabaseError(_, info) if is_busy(info.message()) => {
                Self::Unavailable(format!("the database is busy: {}", info.message()))
            }
            E::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                Self::Unavailable("the query took longer than the statement timeout".into())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Errors that mean the connection itself is gone (server restart,
/// `pg_terminate_backend`, network). libpq reports some of them only as
/// text, and a dead connection can also fail diesel's type lookup.
fn is_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    const LOST: [&str; 6] = [
        "no connection to the server",
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "could not receive data from server",
        "Failed to find a type oid",
    ];
    match e {
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => true,
        E::BrokenTransactionManager => true,
        other => {
            let text = other.to_string();
            LOST.iter().any(|l| text.contains(l))
        }
    }
}

fn is_busy(msg: &str) -> bool {
    msg.contains("database is locked") || msg.contains("database is busy")
}

/// Names the field behind a unique violation (constraint names follow
/// `<table>_<field>_key` on PostgreSQL; SQLite reports `table.column`).
fn unique_violation_detail(constraint: Option<&str>, message: &str) -> String {
    let field = constraint
        .and_then(|c| c.strip_suffix("_key"))
        .and_then(|c| c.split_once('_').map(|(_, f)| f.to_owned()))
        .or_else(|| message.rsplit_once('.').map(|(_, col)| col.trim().to_owned()));
    match field {
        Some(f) => format!("another record already has this {f}"),
        None => "a record with these values already exists".into(),
    }
}

impl From<crate::db::keyset::BadPaging> for ApiError {
    fn from(e: crate::db::keyset::BadPaging) -> Self {
        Self::BadRequest(e.0)
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violation_names_the_field() {
        assert_eq!(
            unique_violation_detail(Some("stakeholders_email_key"), ""),
            "another record already has this email"
        );
        assert_eq!(
            unique_violation_detail(None, "UNIQUE constraint failed: stakeholders.email"),
            "another record already has this email"
        );
    }
}
