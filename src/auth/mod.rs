//! Authentication (JWT → `Caller`) and authorisation (`roles`).

pub mod jwt;
pub mod roles;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;

use crate::error::ApiError;
pub use roles::{Action, FieldPolicy, Resource, Role, RowScope};

/// The authenticated caller, from a verified bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub role: Role,
    pub partner_id: Option<Uuid>,
}

impl Caller {
    /// 403 unless the permission table allows it.
    pub fn require(&self, resource: Resource, action: Action) -> Result<(), ApiError> {
        if roles::allowed(self.role, resource, action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("role {} may not do this", self.role.as_str())))
        }
    }

    pub fn can(&self, resource: Resource, action: Action) -> bool {
        roles::allowed(self.role, resource, action)
    }

    pub fn scope(&self) -> RowScope {
        match self.role {
            Role::Partner => RowScope { partner_id: self.partner_id },
            _ => RowScope::ALL,
        }
    }

    pub fn fields(&self) -> FieldPolicy {
        roles::field_policy(self.role)
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let verifier = req
        .app_data::<web::Data<jwt::JwtVerifier>>()
        .ok_or_else(|| ApiError::internal("JWT verifier not configured"))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    let token = value
        .to_str()
        .ok()
        // The scheme is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be: Bearer <token>".into()))?;
    let claims = verifier.verify(token).map_err(ApiError::Unauthorized)?;
    if claims.sub.trim().is_empty() {
        // Every action is attributed to `sub` (audit, idempotency): it must name someone.
        return Err(ApiError::Unauthorized("the token's sub is empty".into()));
    }
    if claims.sub.chars().any(char::is_control) {
        // It is stored (audit, created_by) and logged; PostgreSQL cannot hold NUL.
        return Err(ApiError::Unauthorized("the token's sub contains control characters".into()));
    }
    let role = claims
        .role
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| ApiError::Forbidden("the token carries no known role".into()))?;
    let partner_id = match (&claims.partner_id, role) {
        (Some(p), _) => {
            Some(Uuid::parse_str(p).map_err(|_| ApiError::Forbidden("the token's partner_id is not a UUID".into()))?)
        }
        (None, Role::Partner) => {
            return Err(ApiError::Forbidden("a partner token must carry partner_id".into()));
        }
        (None, _) => None,
    };
    Ok(Caller { sub: claims.sub, role, partner_id })
}

/// The caller of `req`, verified once per request: a verified caller is
/// kept in the request (the rate limiter verifies before the handler does).
pub fn caller_of(req: &HttpRequest) -> Result<Caller, ApiError> {
    use actix_web::HttpMessage;
    if let Some(c) = req.extensions().get::<Caller>() {
        return Ok(c.clone());
    }
    let caller = authenticate(req)?;
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller_of(req))
    }
}
