//! Request extraction whose failures are problems too, and body parsing that
//! reports every invalid field at once.
//!
//! Bodies are read by [`BodyBytes`] (encoding, size limit, read timeout) and
//! parsed strictly by [`JsonBody`] (content type, syntax, duplicate keys),
//! then turned into the typed DTO by [`parse_body`]: DTO input fields are all `Option` at the
//! serde level, so a type error in one field can be found by deserialising
//! that field alone, and `required` is checked by `validator` alongside the
//! other rules.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// `application/json`, `application/merge-patch+json` and any other `+json` type.
fn is_json(mime: mime::Mime) -> bool {
    mime.type_() == mime::APPLICATION && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

/// serde_json's syntax messages say where, not what we hold: safe to return.
fn json_syntax_message(e: &serde_json::Error) -> String {
    if e.is_eof() && e.line() == 1 && e.column() == 0 {
        return "the body is empty".into();
    }
    e.to_string()
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into())
}

fn query_error(err: QueryPayloadError) -> ApiError {
    match err {
        QueryPayloadError::Deserialize(e) => {
            ApiError::BadRequest(format!("invalid query string: {}", without_values(&e.to_string())))
        }
        _ => ApiError::BadRequest("invalid query string".into()),
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(err).into())
}

fn path_error(err: PathError) -> ApiError {
    match err {
        PathError::Deserialize(e) => {
            ApiError::BadRequest(format!("invalid path parameter: {}", without_values(&e.to_string())))
        }
        _ => ApiError::BadRequest("invalid path".into()),
    }
}

/// The `{id}` path segment, its parse error kept until the handler has
/// checked the role (privacy.md: role first, so 403 on every id).
pub struct IdAfterRole(Result<uuid::Uuid, ApiError>);

impl IdAfterRole {
    pub fn get(self) -> Result<uuid::Uuid, ApiError> {
        self.0
    }
}

impl FromRequest for IdAfterRole {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.match_info().get("id").and_then(|raw| uuid::Uuid::parse_str(raw).ok());
        let id = id.ok_or_else(|| ApiError::BadRequest("invalid path parameter: the id is not a UUID".into()));
        std::future::ready(Ok(Self(id)))
    }
}

/// The query string as `T`, its error kept until the handler has checked
/// the role (as [`IdAfterRole`]).
pub struct QueryAfterRole<T>(Result<T, ApiError>);

impl<T> QueryAfterRole<T> {
    pub fn get(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest for QueryAfterRole<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let q = web::Query::<T>::from_query(req.query_string()).map(web::Query::into_inner).map_err(query_error);
        std::future::ready(Ok(Self(q)))
    }
}

/// A parser's message without the submitted value it may quote (`unknown
/// variant `x``, `invalid type: string "x"`, `found `x``): problem details
/// never echo what the client sent, which may be personal data (an unknown
/// parameter's name too: `?jane@example.com=1`). What was expected stays.
pub fn without_values(msg: &str) -> String {
    let (head, tail) = match msg.find(", expected") {
        Some(i) => msg.split_at(i),
        None => (msg, ""),
    };
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in head.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '`' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    let head = out.replace("found  at", "found a character that is not allowed at").replace("  ", " ");
    let head = head.trim_end_matches([' ', ':']);
    // In what follows `expected`, only the parser's own words: drop what follows `found`.
    let tail = tail.split(", found").next().unwrap_or(tail);
    format!("{head}{tail}")
}

/// An optional JSON object body (action endpoints): empty means `None`;
/// otherwise the same rules as a `web::Json` body (415, 400).
pub fn optional_object(req: &HttpRequest, body: &[u8]) -> Result<Option<Map<String, Value>>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !has_json_content_type(req) {
        return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
    }
    let value = parse_json(body)?;
    if value.is_null() {
        return Ok(None);
    }
    into_object(value).map(Some)
}

/// The body of an action that takes no input: empty, `{}` or `null`;
/// anything else is refused like any other body (415, 400, 422).
pub fn no_input(req: &HttpRequest, body: &[u8]) -> Result<(), ApiError> {
    match optional_object(req, body)? {
        Some(map) if !map.is_empty() => Err(ApiError::Validation(
            map.keys().map(|k| FieldError::new(k.clone(), "unknown_field", "this action takes no input")).collect(),
        )),
        _ => Ok(()),
    }
}

/// Extractor for actions that take no input: checks the body with [`no_input`].
/// (A named type, so the OpenAPI document declares no request body for it.)
pub struct NoInput;

impl FromRequest for NoInput {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = BodyBytes::from_request(&req, payload);
        Box::pin(async move {
            no_input(&req, &body.await?.0)?;
            Ok(NoInput)
        })
    }
}

/// How long a client may take to send its body (app data; `CRM_BODY_READ_TIMEOUT`).
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

/// The request body as bytes: decoded (`Content-Encoding` gzip, deflate, br
/// or identity; anything else is a 415), within the size limit (413) and
/// within the read timeout (408), so a slow client cannot hold a
/// connection and its buffers open.
pub struct BodyBytes(pub web::Bytes);

/// The request encodings actix decodes with the features this crate builds.
const DECODED_ENCODINGS: [&str; 4] = ["identity", "gzip", "deflate", "br"];

pub fn check_content_encoding(req: &HttpRequest) -> Result<(), ApiError> {
    let mut values = req.headers().get_all(header::CONTENT_ENCODING);
    let ok = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => {
            v.to_str().ok().map(str::trim).is_some_and(|e| DECODED_ENCODINGS.iter().any(|d| d.eq_ignore_ascii_case(e)))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "Content-Encoding must be one of gzip, deflate, br or identity (a single value)".into(),
        ))
    }
}

impl FromRequest for BodyBytes {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let encoding = check_content_encoding(req);
        let timeout = req.app_data::<BodyReadTimeout>().map_or(crate::config::DEFAULT_BODY_READ_TIMEOUT, |t| t.0);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            encoding?;
            match actix_web::rt::time::timeout(timeout, bytes).await {
                Err(_) => Err(ApiError::RequestTimeout(format!(
                    "the body was not received within {} ms",
                    timeout.as_millis()
                ))),
                Ok(Err(e)) if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
                    Err(ApiError::PayloadTooLarge("the body is larger than the limit".into()))
                }
                Ok(Err(e)) => {
                    // The payload error's text carries decoder internals: keep it in the log.
                    tracing::debug!(error = %e, "unreadable body");
                    Err(ApiError::BadRequest("could not read the body (bad encoding or transfer)".into()))
                }
                Ok(Ok(b)) => Ok(BodyBytes(b)),
            }
        })
    }
}

/// A JSON body (any `application/json` or `+json` type, 415 otherwise),
/// parsed strictly: malformed JSON and duplicate object keys are 400.
pub struct JsonBody(pub Value);

impl JsonBody {
    pub fn into_inner(self) -> Value {
        self.0
    }
}

pub fn has_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(is_json)
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = has_json_content_type(req);
        let body = BodyBytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
            }
            parse_json(&body.await?.0).map(JsonBody)
        })
    }
}

/// Parses JSON text, refusing duplicate keys at any depth: which of two
/// values would win is parser-specific, so a proxy and this server could
/// read the same body differently.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice::<UniqueKeys>(bytes)
        .map(|u| u.0)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {}", json_syntax_message(&e))))
}

/// A JSON value whose objects have no repeated key.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(UniqueKeys)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has one number type: `5.0` is the integer 5 to JSON Schema
        // (and to the document), so it is one here too.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            return Ok(Value::from(v as i64));
        }
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// The body must be a JSON object.
pub fn into_object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::BadRequest("the body must be a JSON object".into())),
    }
}

/// An input DTO: serde shape, `validator` rules, plus rules that span fields.
pub trait CheckedInput: DeserializeOwned + Validate {
    /// Rust field names that travel under another JSON name (`#[serde(rename)]`):
    /// `validator` reports the Rust name, clients must see the wire name.
    const WIRE_NAMES: &'static [(&'static str, &'static str)] = &[];

    /// Free-form JSON fields, stored as JSON text (which escapes NUL): any
    /// JSON is taken there, NUL included.
    const FREE_FORM: &'static [&'static str] = &[];

    /// Cross-field rules, reported with the per-field ones.
    fn extra_checks(&self, _out: &mut Vec<FieldError>) {}
}

/// `validator`'s errors under the names clients sent.
fn validation_errors<T: CheckedInput>(e: &ValidationErrors) -> Vec<FieldError> {
    let mut errors = flatten_validation(e);
    for err in &mut errors {
        if let Some((_, wire)) = T::WIRE_NAMES.iter().find(|(rust, _)| *rust == err.field) {
            err.field = (*wire).to_owned();
        }
    }
    errors
}

/// Turns a JSON object into a validated DTO, listing every invalid field.
pub fn parse_body<T: CheckedInput>(body: Map<String, Value>) -> Result<T, ApiError> {
    let mut errors = Vec::new();
    for (k, v) in body.iter().filter(|(k, _)| !T::FREE_FORM.contains(&k.as_str())) {
        find_nul(k, v, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let value = match serde_json::from_value::<T>(Value::Object(body.clone())) {
        Ok(v) => v,
        Err(_) => {
            // Find each culprit: every input field is optional, so one field
            // alone deserialises unless it is itself wrong.
            let mut rest = Map::new();
            for (k, v) in body {
                let single = Map::from_iter([(k.clone(), v.clone())]);
                match serde_json::from_value::<T>(Value::Object(single)) {
                    Err(e) => errors.push(serde_field_error(&k, &e)),
                    Ok(_) => {
                        rest.insert(k, v);
                    }
                }
            }
            // The well-typed fields still get their rules checked, so one
            // response lists everything (minus `required` for the culprits).
            if let Ok(partial) = serde_json::from_value::<T>(Value::Object(rest)) {
                let mut more = Vec::new();
                if let Err(e) = partial.validate() {
                    more = validation_errors::<T>(&e);
                }
                partial.extra_checks(&mut more);
                let culprits: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                errors.extend(more.into_iter().filter(|e| !culprits.contains(&e.field)));
            }
            if errors.is_empty() {
                errors.push(FieldError::new("", "invalid", "the body does not match the schema"));
            }
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(ApiError::Validation(errors));
        }
    };
    if let Err(e) = value.validate() {
        errors = validation_errors::<T>(&e);
    }
    value.extra_checks(&mut errors);
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(ApiError::Validation(errors));
    }
    Ok(value)
}

/// PostgreSQL cannot store NUL in text; reject it as input rather than fail.
fn find_nul(path: &str, v: &Value, out: &mut Vec<FieldError>) {
    match v {
        Value::String(s) if s.contains('\0') => {
            out.push(FieldError::new(path, "invalid_character", "must not contain the NUL character"))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(&format!("{path}[{i}]"), item, out);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                if k.contains('\0') {
                    out.push(FieldError::new(path, "invalid_character", "keys must not contain the NUL character"));
                }
                find_nul(&format!("{path}.{k}"), item, out);
            }
        }
        _ => {}
    }
}

fn serde_field_error(field: &str, e: &serde_json::Error) -> FieldError {
    let msg = e.to_string();
    // Strip serde's " at line X column Y" suffix: meaningless for a value.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    let code = if msg.starts_with("unknown field") {
        "unknown_field"
    } else if msg.starts_with("unknown variant") {
        "enum"
    } else {
        "type"
    };
    let message = if code == "unknown_field" {
        "is not a field of this resource (or is read-only)".to_owned()
    } else {
        without_values(&msg)
    };
    FieldError::new(field, code, message)
}

/// validator's nested error tree as a flat list of dotted paths, sorted.
pub fn flatten_validation(e: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    walk(String::new(), e, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn walk(prefix: String, e: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in e.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(errs) => {
                for err in errs {
                    let message =
                        err.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| default_message(&err.code));
                    out.push(FieldError::new(path.clone(), err.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => walk(path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    walk(format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn default_message(code: &str) -> String {
    match code {
        "required" => "is required".into(),
        "email" => "not a valid e-mail address".into(),
        "length" => "has the wrong length".into(),
        "range" => "is out of range".into(),
        other => format!("is invalid ({other})"),
    }
}

/// Instants both databases store and read back alike: years 1..=9999 (the
/// SQLite text form is fixed-width for those; PostgreSQL rejects some others).
/// Leap seconds are normalised first (`9999-12-31T23:59:60Z` is year 10000).
pub fn storable_time(t: &chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&crate::db::types::normalize_leap_second(*t).year())
}

/// A body timestamp outside [`storable_time`] as a field error.
pub fn check_time(field: &str, value: Option<chrono::DateTime<chrono::Utc>>, out: &mut Vec<FieldError>) {
    if value.is_some_and(|t| !storable_time(&t)) {
        out.push(FieldError::new(field, "range", "must be between years 0001 and 9999"));
    }
}

/// A query timestamp as a filter bound. An RFC 3339 time with a four-digit
/// year can land up to a day outside years 0001..=9999 once its offset (or a
/// leap second) is applied; as a bound it means the same as the nearest
/// storable instant (nothing is stored beyond), so it is clamped there.
/// Anything farther out is a 400.
pub fn query_time(
    name: &str,
    value: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    use chrono::{TimeDelta, TimeZone, Utc};
    let Some(t) = value else { return Ok(None) };
    if storable_time(&t) {
        return Ok(Some(t));
    }
    let first = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
    let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().map(|l| l + TimeDelta::microseconds(999_999));
    match (first, last) {
        (Some(first), _) if t < first && first - t <= TimeDelta::days(1) => Ok(Some(first)),
        (_, Some(last)) if t > last && t - last <= TimeDelta::days(1) => Ok(Some(last)),
        _ => Err(ApiError::BadRequest(format!("query parameter {name} must be between years 0001 and 9999"))),
    }
}

/// Rejects NUL and over-long query values (PostgreSQL cannot hold NUL).
pub fn check_query_text(name: &str, value: &Option<String>, max: usize) -> Result<(), ApiError> {
    if let Some(v) = value {
        if v.contains('\0') {
            return Err(ApiError::BadRequest(format!("query parameter {name} contains a NUL character")));
        }
        if v.chars().count() > max {
            return Err(ApiError::BadRequest(format!("query parameter {name} is longer than {max} characters")));
        }
    }
    Ok(())
}

/// The request id set by the request-context middleware.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<super::middleware::RequestId>().map(|r| r.0.clone())
}

/// Why a name (`display_name`, `title`, `subject`) is refused, as
/// `(code, message)`: nothing a reader would see (`blank`), or a control
/// character (line breaks, tabs, terminal escapes) among visible ones.
pub fn name_problem(s: &str) -> Option<(&'static str, &'static str)> {
    if !s.chars().any(is_visible) {
        return Some(("blank", "must contain a visible character"));
    }
    if s.chars().any(char::is_control) {
        return Some(("control_characters", "must not contain control characters (line breaks, tabs, escapes)"));
    }
    None
}

/// Checks an optional name into `out` under `field`.
pub fn check_name(field: &str, value: Option<&str>, out: &mut Vec<FieldError>) {
    if let Some((code, message)) = value.and_then(name_problem) {
        out.push(FieldError::new(field, code, message));
    }
}

/// Checks only for control characters (optional text where empty is fine).
pub fn check_no_control(field: &str, value: Option<&str>, out: &mut Vec<FieldError>) {
    if value.is_some_and(|s| s.chars().any(char::is_control)) {
        out.push(FieldError::new(field, "control_characters", "must not contain control characters"));
    }
}

/// A character that shows: not white space, not a control character, not a
/// Unicode default-ignorable code point (zero-width spaces and joiners,
/// bidi marks, variation selectors, fillers) and not the blank braille cell.
fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !is_default_ignorable(c) && c != '\u{2800}'
}

/// Unicode `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, 15.1).
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_messages_lose_the_submitted_value() {
        let cases = [
            ("unknown variant `SECRET`, expected one of `a`, `b`", "unknown variant, expected one of `a`, `b`"),
            ("invalid type: string \"SECRET\", expected u32", "invalid type: string, expected u32"),
            ("invalid value: integer `-5`, expected u32", "invalid value: integer, expected u32"),
            (
                "UUID parsing failed: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `S` at 1",
                "UUID parsing failed: invalid character: expected an optional prefix of followed by [0-9a-fA-F-], found a character that is not allowed at 1",
            ),
            ("unknown field `colour`, expected one of `a`", "unknown field, expected one of `a`"),
            ("invalid digit found in string", "invalid digit found in string"),
        ];
        for (raw, clean) in cases {
            assert_eq!(without_values(raw), clean, "{raw}");
            assert!(!without_values(raw).contains("SECRET"));
        }
    }

    #[test]
    fn names_need_something_visible_and_no_controls() {
        for ok in ["a", " Siti Rahayu ", "😀", "山田", "Zoë", "\u{200B}x"] {
            assert_eq!(name_problem(ok), None, "{ok:?}");
        }
        for blank in ["", " ", " \t ", "\u{85}", "\u{3000}", "\u{200B}\u{200D}", "\u{FEFF}", "\u{3164}", "\u{2800}"] {
            assert_eq!(name_problem(blank).map(|p| p.0), Some("blank"), "{blank:?}");
        }
        for control in ["a\nb", "\ta", "x\u{7F}", "\u{85}x", "\u{1B}[0m"] {
            assert_eq!(name_problem(control).map(|p| p.0), Some("control_characters"), "{control:?}");
        }
    }
}
