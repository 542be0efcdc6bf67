//! `Ctx`: what a handler knows about the request before it reads the body:
//! who is calling (and so which rows and fields they may see), the actor that
//! writes are attributed to, and the caller's preconditions (`If-Match`,
//! `If-None-Match`).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;

use super::etag::{self, Precondition};
use super::extract::request_id;
use super::idempotency::IdempotencyKey;
use super::middleware::HeadRequest;
use crate::audit::Actor;
use crate::auth::{Action, Caller, FieldPolicy, Resource, RowScope};
use crate::error::ApiError;

/// The request context extractor. Authentication failures are 401/403 here,
/// before any path, query or body is looked at.
pub struct Ctx {
    pub caller: Caller,
    /// Who writes are attributed to (audit, `created_by`), with the request id.
    pub actor: Actor,
    /// The rows the caller may see.
    pub scope: RowScope,
    /// The fields the caller may see.
    pub fields: FieldPolicy,
    /// `If-Match`, for writes.
    pub pre: Precondition,
    /// A `HEAD`: answered like its `GET`, without the body.
    pub head: bool,
    req: HttpRequest,
}

impl Ctx {
    /// 403 unless the permission table allows it.
    pub fn require(&self, resource: Resource, action: Action) -> Result<(), ApiError> {
        self.caller.require(resource, action)
    }

    pub fn can(&self, resource: Resource, action: Action) -> bool {
        self.caller.can(resource, action)
    }

    /// The `Idempotency-Key` of a create, bound to this caller and `body`.
    pub fn idempotency_key(&self, body: &Value) -> Result<Option<IdempotencyKey>, ApiError> {
        IdempotencyKey::from_request(&self.req, body, &self.caller)
    }

    /// The answer to a `GET` of one resource: 304 when `If-None-Match` names
    /// `version`, else 200 with the body and its ETag.
    pub fn get_response<T: Serialize>(&self, version: i32, body: impl FnOnce() -> T) -> HttpResponse {
        etag::get_response(&self.req, version, body)
    }

    /// Whether the answer to a `GET` of `version` is a 304 (no body).
    pub fn not_modified(&self, version: i32) -> bool {
        etag::not_modified(&self.req, version).is_some()
    }

    /// The request itself, for the few extractors that read it late (optional bodies).
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(Caller::from_request(req, payload).into_inner().map(|caller| Ctx {
            actor: Actor::new(&caller, request_id(req)),
            scope: caller.scope(),
            fields: caller.fields(),
            pre: Precondition::from_request(req),
            head: req.extensions().get::<HeadRequest>().is_some(),
            caller,
            req: req.clone(),
        }))
    }
}
