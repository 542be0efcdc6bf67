//! Service endpoints: health, readiness, metrics, the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::state::AppState;

const TAG: &str = "service";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health_live).service(health_ready).service(get_metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: 200 while the process runs
#[utoipa::path(tag = TAG, responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
async fn health_live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: 200 when the database answers, else 503
#[utoipa::path(tag = TAG, responses((status = 200, description = "Ready", body = Health)))]
#[get("/health/ready")]
async fn health_ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.ping().await {
        Ok(HttpResponse::Ok().json(Health { status: "ok" }))
    } else {
        Err(ApiError::Unavailable("the database does not answer".into()))
    }
}

/// Prometheus metrics
#[utoipa::path(tag = TAG, responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
async fn get_metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.render(&state.pool))
}
