//! The one error type: every failure leaves as RFC 9457 `application/problem+json`.
//!
//! `ApiError::error_response` renders the problem and also stores it in the
//! response extensions; the request-context middleware then fills in
//! `instance` and `request_id`, which only it knows.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::error::{ApiError, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://crm.example/problems/";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://crm.example/problems/validation", "title": "Validation failed", "status": 422,
    "detail": "1 field is invalid", "instance": "/api/v1/stakeholders",
    "request_id": "0192f0c4-7d1e-7c3a-9d7e-3b1f2a4c5d6e",
    "errors": [{"field": "email", "code": "email", "message": "not a valid e-mail address"}]
}))]
pub struct Problem {
    /// A URI identifying the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Same as the `X-Request-Id` response header; quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Present on 422: every invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Present on 429: the rate-limit policies exceeded (`["default"]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violated_policies: Option<Vec<String>>,
}

impl ApiError {
    fn parts(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Bad request"),
            Self::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::Erased(_) => ("erased", "Erased"),
            Self::EraseTooLarge(_) => ("erase-too-large", "Erasure too large"),
            Self::TooManyGroups(_) => ("too-many-groups", "Too many groups"),
            Self::ErasedReplay => ("erased", "Gone"),
            Self::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation", "Validation failed"),
            Self::BatchFailed(_) => ("batch-failed", "Batch failed"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::RateLimited { .. } => ("rate-limited", "Too many requests"),
            Self::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.parts();
        let detail = match self {
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::Erased(d)
            | Self::EraseTooLarge(d)
            | Self::TooManyGroups(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::RequestTimeout(d) => d.clone(),
            Self::Unavailable(_) => UNAVAILABLE_DETAIL.into(),
            Self::RateLimited { retry_after } => {
                format!("this caller's request budget for the window is spent; retry in {retry_after} s")
            }
            Self::MethodNotAllowed => "this method is not allowed on this resource".into(),
            Self::ErasedReplay => {
                "what this Idempotency-Key created has been erased; it will not be created again".into()
            }
            Self::BatchFailed(errs) => {
                format!("nothing was written: {} error(s) in the items (atomic batch)", errs.len())
            }
            Self::Validation(errs) if errs.len() == 1 => "1 field is invalid".into(),
            Self::Validation(errs) => format!("{} fields are invalid", errs.len()),
            Self::Internal(_) => "an unexpected error occurred; quote the request_id when reporting it".into(),
        };
        Problem {
            problem_type: format!("{TYPE_BASE}{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            instance: None,
            request_id: None,
            errors: match self {
                Self::Validation(errs) | Self::BatchFailed(errs) => Some(errs.clone()),
                _ => None,
            },
            violated_policies: matches!(self, Self::RateLimited { .. }).then(|| vec!["default".to_owned()]),
        }
    }
}

impl Problem {
    /// A problem for an error response produced outside `ApiError` (e.g. by
    /// a middleware crate), so that every error is problem+json.
    pub fn for_status(status: StatusCode, detail: Option<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let slug = title.to_ascii_lowercase().replace(' ', "-");
        Problem {
            problem_type: format!("{TYPE_BASE}{slug}"),
            detail: detail.unwrap_or_else(|| title.clone()),
            title,
            status: status.as_u16(),
            instance: None,
            request_id: None,
            errors: None,
            violated_policies: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::TooManyGroups(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Erased(_) | Self::EraseTooLarge(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::ErasedReplay => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::BatchFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "service unavailable"),
            _ => {}
        }
        let mut res = problem_response(self.problem());
        if let Self::RateLimited { retry_after } = self {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if matches!(self, Self::ErasedReplay) {
            res.headers_mut().insert(super::idempotency::IDEMPOTENT_REPLAYED.clone(), HeaderValue::from_static("true"));
        }
        res
    }
}

/// Renders a problem; the middleware completes and re-renders it.
pub fn problem_response(problem: Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
    }
    // Every 503 is transient (pool exhausted, database busy or restarting).
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut res = res.body(body);
    res.extensions_mut().insert(problem);
    res
}

/// What a client is told on a 503, whatever the cause: the cause (host
/// names, authentication messages, SQL) goes to the log only.
pub const UNAVAILABLE_DETAIL: &str = "the database is unavailable or busy; retry after the Retry-After delay";

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let p = ApiError::Internal("SELECT secret FROM x".into()).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("SELECT"));
    }

    #[test]
    fn unavailable_hides_its_cause() {
        let p = ApiError::Unavailable("could not connect to db.internal:5432: password authentication failed".into())
            .problem();
        assert_eq!(p.status, 503);
        assert_eq!(p.detail, UNAVAILABLE_DETAIL);
    }

    #[test]
    fn validation_counts_fields() {
        let e = ApiError::Validation(vec![FieldError::new("a", "required", "x"), FieldError::new("b", "length", "y")]);
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.detail, "2 fields are invalid");
        assert_eq!(p.errors.unwrap().len(), 2);
    }
}
