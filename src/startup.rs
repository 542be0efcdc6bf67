//! Builds the actix app (middleware, routes, state) and binds it. Tests and
//! the binary start the same thing.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtVerifier;
use crate::config::Settings;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::batch::BatchLimits;
use crate::http::extract::{BodyReadTimeout, path_config, query_config};
use crate::http::metrics::Metrics;
use crate::http::middleware::{acceptable_encoding, request_context};
use crate::http::rate_limit::{self, RateLimiter};
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Registers every API route; the OpenAPI document comes from the same registration.
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.configure(crate::ops::configure).service(
        scope::scope("/api/v1")
            .configure(crate::stakeholders::routes::configure)
            .configure(crate::interactions::routes::configure)
            .configure(crate::offers::routes::configure)
            .configure(crate::complaints::routes::configure)
            .configure(crate::relationships::routes::configure)
            .configure(crate::privacy::routes::configure)
            .configure(crate::analytics::routes::configure),
    )
}

/// The OpenAPI document, without starting anything.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = register(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts().1;
    crate::openapi::finish(&mut doc);
    doc
}

/// Path templates and their methods, for telling 405 from 404.
#[derive(Debug, Clone)]
pub struct RouteTable(Vec<(Vec<String>, Vec<&'static str>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_matches('/').split('/').map(str::to_owned).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PUT", item.put.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods allowed on `path`, if any route has that shape.
    fn methods(&self, path: &str) -> Option<Vec<&'static str>> {
        // Only the leading slash goes: `/stakeholders/` is not `/stakeholders`.
        let parts: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let mut found: Vec<&'static str> = Vec::new();
        for (segments, methods) in &self.0 {
            let fits = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if fits {
                found.extend(methods);
            }
        }
        (!found.is_empty()).then_some(found)
    }
}

async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    match routes.methods(req.path()) {
        Some(methods) => {
            let mut res = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
            if let Ok(v) = header::HeaderValue::from_str(&methods.join(", ")) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            Ok(res)
        }
        None => Err(ApiError::NotFound("no route for this method and path".into())),
    }
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

fn cors(origins: &[String]) -> Cors {
    let mut c = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::CONTENT_ENCODING,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600);
    for o in origins {
        c = if o == "*" { c.allow_any_origin() } else { c.allowed_origin(o) };
    }
    c
}

/// Keeps the audit log within its retention: at start, then every hour.
fn purge_audit_log_hourly(state: web::Data<AppState>) {
    tokio::spawn(async move {
        loop {
            match state.purge_audit_log().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "purged audit events past their retention"),
                Err(e) => tracing::warn!(error = %e, "purging the audit log failed; retrying in an hour"),
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

/// Flushes the limiter's units every [`rate_limit::FLUSH_EVERY`] and purges ended
/// windows; a failed flush is simply done again (the counts are absolute).
fn flush_rate_limits_every_second(limiter: web::Data<RateLimiter>, state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut ticks: u64 = 0;
        loop {
            tokio::time::sleep(rate_limit::FLUSH_EVERY).await;
            ticks += 1;
            let now = rate_limit::now_secs();
            let pending = limiter.take_pending(now);
            let purge_before = ((limiter.window_of(now).saturating_sub(1)) * limiter.window_secs()) as i64;
            let purge_now = ticks.is_multiple_of(60);
            if pending.is_empty() && !purge_now {
                continue;
            }
            let replica = limiter.replica().to_owned();
            let result = state
                .db(move |c| {
                    let totals = rate_limit::flush(c, &replica, &pending)?;
                    if purge_now {
                        rate_limit::purge(c, purge_before)?;
                    }
                    Ok(totals)
                })
                .await;
            match result {
                Ok(totals) => limiter.settle(&totals),
                // Absolute counts: the next flush writes them again.
                Err(e) => tracing::warn!(error = %e, "flushing rate-limit counters failed; retrying"),
            }
        }
    });
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.listen` (port 0 picks a free port) and builds the server.
    pub fn build(settings: Settings, pool: DbPool, verifier: JwtVerifier) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let body_limit = settings.body_limit;
        let origins = settings.cors_origins.clone();
        let workers = settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // Diesel work runs on each worker's blocking threads. The gate lets at
        // most `pool_size` run at once over all workers; one worker may hold
        // all of them, plus one thread for readiness, so nothing waits for a
        // thread once it holds a permit.
        let blocking_threads = settings.pool_size as usize + 1;
        let max_connections = settings.max_connections;
        let body_read_timeout = settings.body_read_timeout;
        let batch_limits = BatchLimits { max_items: settings.batch_max_items, body_limit: settings.batch_body_limit };
        let limiter =
            RateLimiter::new(settings.rate_limit, settings.rate_limit_window, settings.trust_proxy).map(web::Data::new);
        let state = web::Data::new(AppState::new(pool, settings)?);
        purge_audit_log_hourly(state.clone());
        if let Some(l) = &limiter {
            flush_rate_limits_every_second(l.clone(), state.clone());
        }
        let verifier = web::Data::new(verifier);
        let metrics = web::Data::new(Metrics::new());
        let server = HttpServer::new(move || {
            let (app, mut api) = register(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
            crate::openapi::finish(&mut api);
            let routes = web::Data::new(RouteTable::from_openapi(&api));
            // No limiter registered (CRM_RATE_LIMIT=0): the middleware passes everything.
            let app = match &limiter {
                Some(l) => app.app_data(l.clone()),
                None => app,
            };
            app.app_data(state.clone())
                .app_data(verifier.clone())
                .app_data(metrics.clone())
                .app_data(routes)
                .app_data(BodyReadTimeout(body_read_timeout))
                .app_data(batch_limits)
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(query_config())
                .app_data(path_config())
                .service(web::resource("/docs").route(web::get().to(docs_redirect)))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
                .default_service(web::to(fallback))
                // CORS outside the limiter: preflights are never counted, and
                // a 429 carries the CORS headers a browser needs to read it.
                .wrap(from_fn(rate_limit::rate_limit))
                .wrap(cors(&origins))
                .wrap(from_fn(request_context))
                // It compresses the body every inner layer has finished,
                // problem documents included.
                .wrap(Compress::default())
                .wrap(from_fn(acceptable_encoding))
        })
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads)
        // Slow or idle clients must not hold connections (and their memory)
        // for ever: headers within 5 s, bodies within the read timeout (the
        // body extractors enforce it), idle keep-alive closed after 5 s, and
        // at most `max_connections` open per worker (more wait in the backlog).
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(Duration::from_secs(5))
        .max_connections(max_connections)
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// To stop the server from elsewhere (tests stop theirs when done).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
