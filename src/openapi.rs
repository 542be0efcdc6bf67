//! The OpenAPI root: info, security scheme, tags, shared schemas, and the
//! problem responses every operation can give (added here once, by method
//! and path shape, so no handler can forget or mis-declare them).

use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, KnownFormat, Object, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::http::error::{FieldError, PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRM API",
        description = "Stakeholders, interactions, offers and complaints, and the measurement and protection of those relationships. \
Errors are RFC 9457 problem documents; lists are keyset-paginated (`next_cursor`); every resource carries `version` and an `ETag`.",
        license(name = "MIT"),
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "stakeholders", description = "Everyone the company keeps a relationship with"),
        (name = "interactions", description = "The contact and purchase history, on every channel"),
        (name = "offers", description = "Personalised offers and their lifecycle"),
        (name = "complaints", description = "Cases handled to resolution against an SLA"),
        (name = "relationships", description = "The network around each stakeholder: typed edges, both directions, and the walk over them"),
        (name = "privacy", description = "The audit log: who did what to which record, and who read personal data"),
        (name = "analytics", description = "Measures of the portfolio, interactions, lifecycle, offers and complaints; UTC windows, pinned definitions"),
        (name = "service", description = "Health, readiness and metrics"),
    ),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Completes the document once the routes are registered (utoipa runs
/// `modifiers` before utoipa-actix-web adds the paths).
pub fn finish(doc: &mut Doc) {
    ProblemResponses.modify(doc);
    patch_schemas(doc);
    response_schemas(doc);
    batch_item_data(doc);
    common_headers(doc);
    request_headers(doc);
    parameter_rules(doc);
    input_rules(doc);
    // After the input rules: the upsert item copies `StakeholderInput` with them.
    batch_inputs(doc);
    optional_bodies(doc);
    links(doc);
}

/// OpenAPI links from each create's 201 to every operation on the created
/// resource (`…/{id}` and below), so clients and stateful testers know the
/// `id` in the body is what those paths take.
fn links(doc: &mut Doc) {
    use utoipa::openapi::link::LinkBuilder;
    let mut ops: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post, &item.patch, &item.delete].into_iter().flatten() {
            if let Some(id) = &op.operation_id {
                ops.push((path.clone(), id.clone()));
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else { continue };
        let prefix = format!("{path}/{{id}}");
        for (target, operation_id) in &ops {
            if target == &prefix || target.starts_with(&format!("{prefix}/")) {
                let link = LinkBuilder::new().operation_id(operation_id).parameter("id", "$response.body#/id").build();
                created.links.insert(operation_id.clone(), RefOr::T(link));
            }
        }
    }
}

// Patterns for what the body checks in `http::extract` enforce, in the
// ECMA-262 dialect OpenAPI uses. Control characters are `char::is_control`
// (C0, DEL, C1); white space is Rust's `char::is_whitespace`.
const CTRL: &str = r"\u0000-\u001F\u007F-\u009F";
const WS: &str = r"\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Default-ignorable code points in the Basic Multilingual Plane (`is_default_ignorable`).
const IGNORABLE: &str = r"\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8\u2800";

/// A name: no control characters and at least one visible character (`name_problem`).
fn name_pattern() -> String {
    format!("^[^{CTRL}]*[^{CTRL}{WS}{IGNORABLE}][^{CTRL}]*$")
}
/// Free text that must not be blank: something besides white space, no NUL.
fn not_blank_pattern() -> String {
    format!(r"^[^\u0000]*[^\u0000{WS}][^\u0000]*$")
}
/// E.164-ish (`normalize_phone`): optional `+`, 5 to 15 digits, separators ` .()-` anywhere.
const PHONE_PATTERN: &str = r"^[ .()\-]*\+?[ .()\-]*(?:[0-9][ .()\-]*){5,15}$";
/// Every other text field in a body: no NUL (PostgreSQL cannot store it).
const NO_NUL_PATTERN: &str = r"^[^\u0000]*$";

/// Request schemas say what the body checks enforce: names, non-blank text,
/// no NUL anywhere, phone shape, the shape of ISO country and currency codes, list items,
/// non-negative money; fields that cannot change are not in `…Patch`.
fn input_rules(doc: &mut Doc) {
    let Some(components) = doc.components.as_mut() else { return };
    for (schema_name, schema) in components.schemas.iter_mut() {
        let request = schema_name.ends_with("Input")
            || schema_name.ends_with("Patch")
            || ["Address", "Sensitive", "Money"].contains(&schema_name.as_str());
        let RefOr::T(Schema::Object(obj)) = schema else { continue };
        if !request {
            continue;
        }
        if schema_name.ends_with("Patch") {
            // Immutable after creation (422 `immutable` when changed).
            let immutable: &[&str] = match schema_name.as_str() {
                "ComplaintPatch" => &["stakeholder_id", "channel"],
                "OfferPatch" | "InteractionPatch" => &["stakeholder_id"],
                "RelationshipPatch" => &["from_id", "to_id", "type"],
                _ => &[],
            };
            for f in immutable {
                obj.properties.shift_remove(*f);
            }
        }
        if schema_name == "ConsentChangeInput" {
            // `import` and `erasure` are recorded by the server only (422 `server_only`).
            use crate::stakeholders::consent::ConsentSource;
            use utoipa::openapi::schema::{ObjectBuilder, SchemaType};
            let mut values: Vec<serde_json::Value> =
                ConsentSource::ALL.iter().filter(|s| !s.server_only()).map(|s| s.as_str().into()).collect();
            values.push(serde_json::Value::Null);
            let source = ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .enum_values(Some(values))
                .description(Some("How it was captured; default `api` (`import` and `erasure` are the server's own)."));
            obj.properties.insert("source".into(), RefOr::T(Schema::Object(source.build())));
        }
        let resource = schema_name.trim_end_matches("Input").trim_end_matches("Patch");
        for (field, slot) in obj.properties.iter_mut() {
            let RefOr::T(prop) = slot else { continue };
            match prop {
                Schema::Object(p) => match (resource, field.as_str()) {
                    ("Money", "amount_minor") => p.minimum = Some(0f64.into()),
                    // ISO codes: the shape here; which codes are assigned is the
                    // server's registry (422), not an enum every SDK would freeze.
                    ("Money", "currency") => p.pattern = Some("^[A-Z]{3}$".into()),
                    ("Address", "country") => p.pattern = Some("^[A-Z]{2}$".into()),
                    _ if !is_free_text(p) => {}
                    ("Stakeholder", "display_name") | ("Offer", "title") | ("Complaint", "subject") => {
                        p.pattern = Some(name_pattern())
                    }
                    ("Interaction", "subject") => p.pattern = Some(format!("^[^{CTRL}]*$")),
                    ("Complaint", "description") | ("Resolve", "resolution") => p.pattern = Some(not_blank_pattern()),
                    ("Stakeholder", "phone") => p.pattern = Some(PHONE_PATTERN.into()),
                    _ => p.pattern = Some(NO_NUL_PATTERN.into()),
                },
                Schema::Array(a) if matches!(field.as_str(), "tags" | "interests" | "preferred_categories") => {
                    let mut item = Object::with_type(Type::String);
                    item.min_length = Some(1);
                    item.max_length = Some(50);
                    item.pattern = Some(not_blank_pattern());
                    a.items = ArrayItems::RefOrSchema(Box::new(RefOr::T(Schema::Object(item))));
                }
                _ => {}
            }
        }
    }
}

/// An optional request body is the schema itself with `required: false`,
/// not `oneOf [schema, null]` (SDK generators then send a placeholder).
fn optional_bodies(doc: &mut Doc) {
    use utoipa::openapi::Required;
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.patch].into_iter().flatten() {
            let Some(RefOr::T(body)) = op.request_body.as_mut() else { continue };
            let mut optional = false;
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                let Some(RefOr::T(Schema::OneOf(one))) = content.schema.as_ref() else { continue };
                let null =
                    |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into());
                if one.items.len() == 2
                    && let Some(inner) = one.items.iter().find(|s| !null(s))
                    && one.items.iter().any(null)
                {
                    content.schema = Some(inner.clone());
                    optional = true;
                }
            }
            if optional {
                body.required = Some(Required::False);
            }
        }
    }
}

/// A text field with no rule of its own yet: a string (or nullable string)
/// without `format`, `enum` or `pattern`.
fn is_free_text(o: &Object) -> bool {
    use utoipa::openapi::schema::SchemaType;
    let string = match &o.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    string && o.format.is_none() && o.enum_values.is_none() && o.pattern.is_none()
}

/// The request headers the HTTP core reads, declared by rule rather than by
/// each handler: `Idempotency-Key` on creates (201), `If-None-Match` on reads
/// that answer with an ETag, `If-Match` on writes that can answer 412.
fn request_headers(doc: &mut Doc) {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let param = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .description(Some(description))
            .required(Required::False)
            .schema(Some(Object::with_type(Type::String)))
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let responses = &op.responses.responses;
            let has_etag = matches!(responses.get("200"), Some(RefOr::T(r)) if r.headers.contains_key("ETag"));
            let mut headers = Vec::new();
            if method == "get" && has_etag {
                headers.push(param("If-None-Match", "An ETag; 304 when it is current"));
            }
            if method != "get" && statuses(method, path).contains(&"412") {
                headers.push(param("If-Match", "The ETag you last read; 412 if it is stale"));
            }
            let idempotent = op.operation_id.as_deref().is_some_and(|id| IDEMPOTENT.contains(&id))
                || (method == "post" && path.contains("/batch/"));
            if responses.contains_key("201") || idempotent {
                headers.push(param("Idempotency-Key", "1..255 characters; makes retries safe for 24 hours"));
                // A key whose record was erased is a tombstone (privacy.md).
                op.responses.responses.insert("410".into(), RefOr::T(problem_response("410")));
            }
            op.parameters.get_or_insert_with(Vec::new).extend(headers.into_iter().map(RefOr::T));
        }
    }
}

/// Writes other than creates (and batches) that honour `Idempotency-Key`.
const IDEMPOTENT: &[&str] = &["record_consents"];

/// Parameters say what the server enforces: header values are strings
/// (never `null`), `Idempotency-Key` is 1..255 printable ASCII characters
/// (no spaces at either end, which HTTP would strip), and a `cursor` is at
/// most as long as the longest one the server issues.
fn parameter_rules(doc: &mut Doc) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::ObjectBuilder;
    for (path, item) in doc.paths.paths.iter_mut() {
        let offered = crate::analytics::routes::OFFERED.iter().find(|(p, _)| p == path).map(|(_, dims)| *dims);
        for op in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                let RefOr::T(p) = p else { continue };
                let string = ObjectBuilder::new().schema_type(Type::String);
                let schema = match (&p.parameter_in, p.name.as_str()) {
                    // Analytics: the dimensions the endpoint offers, in every valid combination.
                    (ParameterIn::Query, "group_by") if offered.is_some() => {
                        string.pattern(Some(crate::analytics::window::group_by_pattern(offered.unwrap_or_default())))
                    }
                    (ParameterIn::Query, "from" | "to") if offered.is_some() => {
                        let format = |f| {
                            RefOr::T(Schema::Object(
                                ObjectBuilder::new().schema_type(Type::String).format(Some(f)).build(),
                            ))
                        };
                        let one_of = utoipa::openapi::schema::OneOfBuilder::new()
                            .item(format(SchemaFormat::KnownFormat(KnownFormat::Date)))
                            .item(format(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
                        p.schema = Some(RefOr::T(Schema::OneOf(one_of.build())));
                        continue;
                    }
                    (ParameterIn::Header, "Idempotency-Key") => {
                        string.min_length(Some(1)).max_length(Some(255)).pattern(Some("^[!-~]([ -~]{0,253}[!-~])?$"))
                    }
                    (ParameterIn::Header, _) => string,
                    (ParameterIn::Query, "cursor") => string.max_length(Some(crate::db::keyset::MAX_CURSOR_LEN)),
                    // Free-text filters: at most 500 characters, no NUL (`check_query_text`).
                    (ParameterIn::Query, "sort") => continue,
                    (ParameterIn::Query, "action") => string.max_length(Some(500)).pattern(Some(action_list_pattern())),
                    (ParameterIn::Query, _) if matches!(&p.schema, Some(RefOr::T(Schema::Object(o))) if is_free_text(o)) => {
                        string.max_length(Some(500)).pattern(Some(NO_NUL_PATTERN))
                    }
                    _ => continue,
                };
                p.schema = Some(RefOr::T(Schema::Object(schema.build())));
            }
        }
    }
}

/// The audit log's `action=` filter: a comma list of recorded actions or `<resource>.*`.
fn action_list_pattern() -> String {
    let mut alternatives: Vec<String> = crate::audit::ACTIONS.iter().map(|a| a.replace('.', r"\.")).collect();
    let mut resources: Vec<&str> =
        crate::audit::ACTIONS.iter().filter_map(|a| a.split_once('.')).map(|(r, _)| r).collect();
    resources.dedup();
    alternatives.extend(resources.iter().map(|r| format!(r"{r}\.\*")));
    let one = alternatives.join("|");
    format!("^(?:{one})(?:,(?:{one}))*$")
}

/// Headers the middleware puts on responses, documented on every one of them.
fn common_headers(doc: &mut Doc) {
    let header = |description: &str| {
        let mut h = Header::new(Object::with_type(Type::String));
        h.description = Some(description.to_owned());
        RefOr::T(h)
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let rate_limited = path.starts_with("/api/v1/");
        for op in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
            let creates = op.responses.responses.contains_key("201");
            let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                response.headers.insert(
                    "X-Request-Id".into(),
                    header("The request's id (the caller's X-Request-Id, or generated); also in the logs"),
                );
                if path.contains("/batch/") && (status == "200" || status == "207") {
                    response.headers.insert(
                        "Idempotent-Replayed".into(),
                        header(
                            "`true` when this is the stored answer to an earlier batch with the same Idempotency-Key",
                        ),
                    );
                    response.headers.insert(
                        "Preference-Applied".into(),
                        header("`return=minimal` when `Prefer: return=minimal` was honoured (items without `data`)"),
                    );
                }
                if status == "201" && creates {
                    response.headers.insert(
                        "Idempotent-Replayed".into(),
                        header(
                            "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
                        ),
                    );
                }
                if status == "401" {
                    response.headers.insert("WWW-Authenticate".into(), header("`Bearer`"));
                }
                if status == "503" {
                    response.headers.insert("Retry-After".into(), header("Seconds to wait before retrying (`1`)"));
                }
                if status == "429" {
                    response
                        .headers
                        .insert("Retry-After".into(), header("Seconds until the rate-limit window ends (≥ 1)"));
                }
                if rate_limited {
                    response.headers.insert(
                        "RateLimit-Policy".into(),
                        header("`\"default\";q=<units>;w=<seconds>` (when `CRM_RATE_LIMIT` > 0)"),
                    );
                    response.headers.insert(
                        "RateLimit".into(),
                        header(
                            "`\"default\";r=<remaining>;t=<seconds to the window's end>` (when `CRM_RATE_LIMIT` > 0)",
                        ),
                    );
                }
                if authenticated {
                    response.headers.insert(
                        "Cache-Control".into(),
                        header(
                            "`private, no-cache`; `no-store` where the body may hold sensitive fields (stakeholders \
                             for admin and manager)",
                        ),
                    );
                    response.headers.insert(
                        "Vary".into(),
                        header("Includes `Authorization`: the body depends on the caller's role"),
                    );
                }
            }
        }
    }
}

/// Resources as the server sends them: every field is always present
/// (`null` when empty), so all are `required` — SDKs then type an optional
/// field as `T | null`, not as possibly-missing. Pages refer to their item
/// schema instead of inlining a copy of it.
const RESPONSES: &[&str] = &[
    "Stakeholder",
    "Interaction",
    "Offer",
    "Complaint",
    "ConsentChange",
    "AuditEvent",
    "AuditActor",
    "Consents",
    "ConsentRecordResult",
    "StakeholderExport",
    "StageChange",
    "ProcessingPurpose",
    "Recipient",
    "Processing",
    "AccessLogEntry",
    "ExportCounts",
    "ErasureReceipt",
    "Redacted",
    "AnalyticsPortfolioResponse",
    "AnalyticsInteractionsResponse",
    "AnalyticsLifecycleResponse",
    "AnalyticsOffersResponse",
    "AnalyticsComplaintsResponse",
    "PortfolioMeasures",
    "InteractionMeasures",
    "LifecycleMeasures",
    "OfferMeasures",
    "ComplaintMeasures",
    "Ratio",
    "Average",
    "MoneyTotal",
    "DurationPercentiles",
    "Transition",
    "FunnelStep",
    "Churn",
    "AcceptedValue",
    "Sla",
    "ResolutionSeconds",
    "Distribution",
    "ComplaintSatisfaction",
    "Relationship",
    "StakeholderRef",
    "NetworkNode",
    "Network",
];

/// `BatchItemResult_<T>.data` is the resource by reference, or `null` (a
/// failed item, or `Prefer: return=minimal`); utoipa inlines a generic
/// argument and drops the `null`.
fn batch_item_data(doc: &mut Doc) {
    use utoipa::openapi::schema::{OneOfBuilder, SchemaType};
    let Some(components) = doc.components.as_mut() else { return };
    for (name, schema) in components.schemas.iter_mut() {
        let Some(resource) = name.strip_prefix("BatchItemResult_") else { continue };
        let RefOr::T(Schema::Object(obj)) = schema else { continue };
        let data = OneOfBuilder::new()
            .item(RefOr::Ref(Ref::from_schema_name(resource)))
            .item(Object::with_type(SchemaType::Type(Type::Null)))
            .description(Some(
                "The resource as the single call returns it; `null` on failure and under `Prefer: return=minimal`.",
            ));
        obj.properties.insert("data".into(), RefOr::T(Schema::OneOf(data.build())));
    }
}

/// A batch's `inputs` are the single call's bodies by reference (utoipa
/// inlines a generic argument, which would miss the rules `input_rules`
/// adds to the named schema); an upsert item must carry `email`.
fn batch_inputs(doc: &mut Doc) {
    let Some(components) = doc.components.as_mut() else { return };
    // An upsert item: `StakeholderInput` with `email` required and not null
    // (a copy: SDK generators cannot merge a nullable field in an `allOf`).
    if let Some(RefOr::T(Schema::Object(input))) = components.schemas.get("StakeholderInput") {
        let mut item = input.clone();
        let mut email = Object::with_type(Type::String);
        email.format = Some(SchemaFormat::KnownFormat(KnownFormat::Email));
        email.max_length = Some(254);
        email.description = Some("The key of the upsert (any case).".into());
        item.properties.insert("email".into(), RefOr::T(Schema::Object(email)));
        item.required.push("email".into());
        item.description = Some("A stakeholder as `POST /stakeholders` takes it, with `email` (the key).".into());
        components.schemas.insert("StakeholderUpsertItem".into(), RefOr::T(Schema::Object(item)));
    }
    for (name, schema) in components.schemas.iter_mut() {
        let item = match name.strip_prefix("BatchInput_") {
            Some(input) => input.to_owned(),
            None if name == "BatchUpsertInput" => "StakeholderUpsertItem".to_owned(),
            None => continue,
        };
        let RefOr::T(Schema::Object(obj)) = schema else { continue };
        if let Some(RefOr::T(Schema::Array(inputs))) = obj.properties.get_mut("inputs") {
            inputs.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

fn response_schemas(doc: &mut Doc) {
    let Some(components) = doc.components.as_mut() else { return };
    for (name, schema) in components.schemas.iter_mut() {
        let RefOr::T(Schema::Object(obj)) = schema else { continue };
        let item = name.strip_prefix("Page_");
        if RESPONSES.contains(&name.as_str()) || item.is_some() {
            obj.required = obj.properties.keys().cloned().collect();
        }
        if let Some(item) = item
            && let Some(RefOr::T(Schema::Array(data))) = obj.properties.get_mut("data")
        {
            data.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

struct ProblemResponses;

fn describe(status: &str) -> &'static str {
    match status {
        "400" => "Malformed JSON, bad query string or bad cursor",
        "401" => "Missing or invalid bearer token",
        "403" => "The caller's role may not do this",
        "404" => "No such resource, or one the caller may not see",
        "409" => "Conflicts with the current state (duplicate, invalid transition)",
        "412" => "If-Match does not match the current version",
        "410" => {
            "The Idempotency-Key's record was erased: a replay answers 410 `erased` (Idempotent-Replayed), whatever the body"
        }
        "408" => "The body was not received within the read timeout",
        "413" => "Body over the size limit",
        "415" => "Body is not application/json",
        "422" => "Validation failed: every invalid field is listed in errors[]",
        "503" => "The database is unreachable or busy; retry after Retry-After",
        "429" => "The caller's rate limit for the window is spent (`violated_policies`); retry after Retry-After",
        _ => "Unexpected error",
    }
}

/// A problem+json response for `status`, described.
fn problem_response(status: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(describe(status))
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
}

fn statuses(method: &str, path: &str) -> Vec<&'static str> {
    if !path.starts_with("/api/") {
        return if path == "/health/ready" { vec!["503"] } else { vec![] };
    }
    let mut s = vec!["400", "401", "403"];
    let has_id = path.contains('{');
    // Creates name their stakeholder in the body: not visible is a 404 too.
    if has_id || method == "post" {
        s.push("404");
    }
    match method {
        "post" | "patch" => s.extend(["408", "409", "413", "415", "422"]),
        "delete" => s.push("409"),
        _ => {}
    }
    if has_id && method != "get" {
        s.push("412");
    }
    s.extend(["429", "500", "503"]);
    s
}

impl Modify for ProblemResponses {
    fn modify(&self, doc: &mut Doc) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops: [(&str, &mut Option<Operation>); 4] = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                for status in statuses(method, path) {
                    let response = problem_response(status);
                    op.responses.responses.entry(status.to_owned()).or_insert(response.into());
                }
            }
        }
    }
}

/// A `PATCH` body is a merge patch of the create schema: the same fields,
/// none required. `XInput` gets a sibling `XPatch`, and PATCH operations
/// point at it, so SDKs do not demand required fields in a patch.
fn patch_schemas(doc: &mut Doc) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for item in doc.paths.paths.values_mut() {
        let Some(op) = item.patch.as_mut() else {
            continue;
        };
        let Some(RefOr::T(body)) = op.request_body.as_mut() else {
            continue;
        };
        for content in body.content.values_mut() {
            let RefOr::T(content) = content else { continue };
            let Some(RefOr::Ref(r)) = content.schema.as_ref() else {
                continue;
            };
            let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") else {
                continue;
            };
            let patch_name = format!("{}Patch", name.strip_suffix("Input").unwrap_or(name));
            if let Some(RefOr::T(Schema::Object(obj))) = components.schemas.get(name) {
                let mut patch = obj.clone();
                patch.required.clear();
                patch.description = Some(format!(
                    "A JSON merge patch (RFC 7396) of `{name}`: absent fields stay unchanged, `null` clears."
                ));
                // Nested objects merge too: a patch of one may leave out its
                // required fields (`{"price": {"currency": "EUR"}}`).
                for prop in patch.properties.values_mut() {
                    let refs: Vec<&mut Ref> = match prop {
                        RefOr::Ref(r) => vec![r],
                        RefOr::T(Schema::OneOf(one)) => one
                            .items
                            .iter_mut()
                            .filter_map(|i| match i {
                                RefOr::Ref(r) => Some(r),
                                _ => None,
                            })
                            .collect(),
                        _ => vec![],
                    };
                    for r in refs {
                        let Some(inner) = r.ref_location.strip_prefix("#/components/schemas/").map(str::to_owned)
                        else {
                            continue;
                        };
                        let Some(RefOr::T(Schema::Object(o))) = components.schemas.get(&inner) else { continue };
                        if o.required.is_empty() {
                            continue;
                        }
                        let mut partial = o.clone();
                        partial.required.clear();
                        partial.description =
                            Some(format!("`{inner}` inside a merge patch: the fields given replace the stored ones."));
                        let partial_name = format!("{inner}Patch");
                        components.schemas.insert(partial_name.clone(), RefOr::T(Schema::Object(partial)));
                        r.ref_location = format!("#/components/schemas/{partial_name}");
                    }
                }
                components.schemas.insert(patch_name.clone(), RefOr::T(Schema::Object(patch)));
                content.schema = Some(RefOr::Ref(Ref::from_schema_name(patch_name)));
            }
        }
        // The server takes a merge patch under either media type.
        if let Some(merge) = body.content.get("application/merge-patch+json").cloned() {
            body.content.entry("application/json".to_owned()).or_insert(merge);
        }
    }
}
