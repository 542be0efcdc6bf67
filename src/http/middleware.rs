//! The request-context middleware: request id, the request's log span,
//! completing problem documents, and metrics. One place, outermost.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Instant;

use actix_web::dev::Payload;
use futures_util::Stream;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, Encoding, Header, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use super::error::{Problem, problem_response};
use super::metrics::Metrics;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Marks a `HEAD` request, which the handlers see as its `GET` (no body is
/// sent, so nothing is shown: reads of sensitive data are not recorded).
#[derive(Debug, Clone, Copy)]
pub struct HeadRequest;

/// The id of the current request (the caller's `X-Request-Id`, or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&X_REQUEST_ID)?.to_str().ok()?;
    // Accept only something safe to echo and to log, and that cannot carry
    // an e-mail address or a name with spaces: 1..128 of [A-Za-z0-9._:-].
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    ok.then(|| v.to_owned())
}

/// Outermost: answers 406 as a problem document when `Accept-Encoding` rules
/// out every coding the server has, identity included (`identity;q=0`,
/// `*;q=0`); otherwise the compression middleware would answer in plain text.
pub async fn acceptable_encoding(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let offered = [Encoding::brotli(), Encoding::gzip(), Encoding::deflate(), Encoding::identity()];
    let refused = req.headers().contains_key(header::ACCEPT_ENCODING)
        && AcceptEncoding::parse(&req).is_ok_and(|ae| ae.negotiate(offered.iter()).is_none());
    if !refused {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let mut p = Problem::for_status(
        StatusCode::NOT_ACCEPTABLE,
        Some("Accept-Encoding rules out every coding this server offers (br, gzip, deflate, identity)".into()),
    );
    p.instance = Some(req.path().to_owned());
    p.request_id = Some(id.clone());
    let mut res = problem_response(p);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    Ok(req.into_response(res))
}

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    // HEAD is GET without the body (RFC 9110 §9.3.2), on every GET route.
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(HeadRequest);
    }
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = if head { Method::HEAD } else { req.method().clone() };
    // API bodies depend on who asks (and every API response is documented
    // with these headers); anything sent with credentials too.
    let private = req.path().starts_with("/api/") || req.headers().contains_key(header::AUTHORIZATION);
    let held = req.headers().contains_key(header::TRANSFER_ENCODING).then(|| hold_payload(&mut req));
    let path = req.path().to_owned();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    // Never the raw path or query (ids, `q=` holds names): the route
    // pattern goes on the closing line, once it is known.
    let span = tracing::info_span!("request", request_id = %id, method = %method);

    let res = next.call(req).instrument(span.clone()).await;
    // Handler and extractor errors arrive here as responses already; an `Err`
    // would come from a service outside our control and is passed on.
    let res = res?.map_into_boxed_body();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status();
    let mut res = complete_problem(res, &path, &id).await;
    // HEAD keeps the GET body here: the HTTP/1 codec saw HEAD on the wire,
    // sends no body and a Content-Length equal to the GET's (RFC 9110 §9.3.2).
    if let Some(payload) = held {
        // Kept alive until the response body is written: actix then sees the
        // request body unfinished and closes the connection, instead of
        // draining a chunked body whose end may never come.
        res = res.map_body(|_, body| BoxBody::new(HoldingBody { body, _payload: payload }));
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    if private {
        super::cache::private_defaults(res.headers_mut());
    }
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe(method_label(&method), &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), route = %route, micros = elapsed.as_micros() as u64, "handled");
    });
    Ok(res)
}

/// A response body that keeps the request payload alive until it is sent.
struct HoldingBody {
    body: BoxBody,
    _payload: Rc<RefCell<Payload>>,
}

impl MessageBody for HoldingBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// Replaces the request payload with a stream that reads from a shared one
/// and returns that shared one. (actix drains an unread chunked body after
/// the response once the handler dropped it, with no time limit: a client
/// that stops sending would pin the connection for ever.)
fn hold_payload(req: &mut ServiceRequest) -> Rc<RefCell<Payload>> {
    let shared = Rc::new(RefCell::new(req.take_payload()));
    let feed = shared.clone();
    let stream = futures_util::stream::poll_fn(move |cx| Pin::new(&mut *feed.borrow_mut()).poll_next(cx));
    req.set_payload(Payload::Stream { payload: Box::pin(stream) });
    shared
}

/// Metric labels come from fixed sets, so a caller cannot grow `/metrics`
/// (and memory) by inventing methods; the route is the matched pattern or
/// `unmatched`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Adds `instance` and `request_id` to a problem body; turns any other
/// error response (from a middleware crate) into a problem as well.
async fn complete_problem(res: ServiceResponse<BoxBody>, path: &str, id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let problem = res.response().extensions().get::<Problem>().cloned();
    let mut problem = match problem {
        Some(p) => p,
        None if status.is_client_error() || status.is_server_error() => {
            let (req, response) = res.into_parts();
            // A short plain-text reason is safe to pass on; anything else is not read.
            let text = actix_web::body::to_bytes_limited(response.into_body(), 256)
                .await
                .ok()
                .and_then(Result::ok)
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .filter(|t| !t.is_empty() && t.len() <= 200 && !status.is_server_error());
            let mut p = Problem::for_status(status, text);
            p.instance = Some(path.to_owned());
            p.request_id = Some(id.to_owned());
            return ServiceResponse::new(req, problem_response(p));
        }
        None => return res,
    };
    problem.instance = Some(path.to_owned());
    problem.request_id = Some(id.to_owned());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    res.map_body(|_, _| BoxBody::new(body))
}
