"""Schemathesis hooks for the CI run (loaded through SCHEMATHESIS_HOOKS).

Two kinds of generated value are schema-valid but can never be *valid
requests*, whatever the document says, because their validity is server
state rather than syntax. In positive test cases only (negative cases still
send anything), they are replaced by values a real client would send:

- `cursor`: opaque; only a `next_cursor` the server issued is valid, so a
  random string is rightly 400 ("bad cursor" in API.md). Positive cases omit
  it (it is optional); negative and stateful cases still exercise it.
- `Idempotency-Key`: a key may be used for one request body only (API.md:
  same key, different body is 422), and generated keys repeat ("0", "a").
  Positive cases get a fresh random key (as long as the generated one when that is longer), so the replay path is
  still hit whenever schemathesis repeats a whole request.

- analytics windows: `from` must be before `to` (their defaults included)
  and a time `group_by` may span at most 1 000 buckets: comparisons JSON
  Schema cannot state. A positive case whose window breaks either is sent
  without `from`/`to` (the default 30 days); negative cases still send them.

Nothing else is rewritten: every other rejection of schema-valid data is a
finding (the document must say what the server enforces).
"""

import datetime
import re
import uuid

import schemathesis


def _positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta and meta.generation.mode.is_positive)


def _instant(text):
    """A date (midnight UTC) or an RFC 3339 timestamp; None when Python cannot read it."""
    try:
        if len(text) == 10:
            return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
        t = datetime.datetime.fromisoformat(re.sub("[zZ]$", "+00:00", text))
        return t if t.tzinfo else None
    except (ValueError, OverflowError):
        return None


def _analytics_window(case):
    q = case.query
    if not q or not str(getattr(case, "path", "")).startswith("/api/v1/analytics/"):
        return
    given = {k: q[k] for k in ("from", "to") if k in q}
    if not given:
        return
    parsed = {k: _instant(str(v)) for k, v in given.items()}
    try:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        to = parsed.get("to") if "to" in given else now
        start = parsed.get("from") if "from" in given else (to - datetime.timedelta(days=30) if to else None)
        ok = start is not None and to is not None and start < to
        if ok:
            days = (to - start).days + 2
            per = {"day": 1, "week": 7, "month": 28}
            dims = str(q.get("group_by", "")).split(",")
            ok = all(days // per[d] + 2 <= 1000 for d in dims if d in per)
    except (OverflowError, ValueError):
        ok = False
    if not ok:
        for k in given:
            del q[k]


@schemathesis.hook
def before_call(context, case, kwargs):
    if not _positive(case):
        return
    _analytics_window(case)
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                old = str(case.headers[name])
                fresh = uuid.uuid4().hex  # 32 characters
                if len(old) > len(fresh):  # keep a long generated length (≤ 255)
                    fresh = (fresh * 8)[: len(old)]
                case.headers[name] = fresh


# --------------------------------------------------------------------------
# 422 on schema-valid data. JSON Schema cannot say "this id must exist" or
# "valid_until after valid_from" or "not in the future", so the built-in
# positive_data_acceptance check is told (schemathesis.toml) that 422 can be
# right, and this check narrows that back down: a positive case may be 422
# only when every listed field error is one of these rules. Anything else
# (a length, a pattern, an enum, a required field, a type) is something the
# document must say, and fails here.
STATE_OR_COMPARISON_RULES = {
    # (field, code): why JSON Schema cannot express it
    ("organization_id", "reference"): "must name an existing organisation stakeholder",
    ("offer_id", "reference"): "must name an existing offer of the same stakeholder",
    ("complaint_id", "reference"): "must name an existing complaint of the same stakeholder",
    ("stakeholder_id", "reference"): "must name an existing stakeholder",
    ("valid_until", "range"): "must be after valid_from (a comparison of two fields)",
    ("occurred_at", "range"): "not more than 5 minutes after now",
    ("birth_date", "range"): "not in the future",
    ("organization_id", "cycle"): "must not make the employer chain loop back (stored records)",
    ("captured_at", "range"): "not more than 5 minutes after now",
    ("consent", "duplicate"): "each consent once per request (uniqueness of one property of the items)",
    ("to_id", "self_edge"): "must differ from from_id (a comparison of two fields)",
    ("ended_on", "range"): "on or after started_on (a comparison of two fields); years 0001-9999",
    ("started_on", "range"): "years 0001-9999, as every stored date (format: date allows 0000)",
    # An atomic batch lists each failing item as `inputs[i]` with what the
    # single call would have answered: state, not shape.
    ("inputs[]", "not_found"): "an item names a record that does not exist",
    ("inputs[]", "conflict"): "an item conflicts with stored state (a taken e-mail, a state transition)",
    ("inputs[]", "erased"): "an item names an erased stakeholder",
    ("inputs[]", "precondition_failed"): "an item's if_match is stale",
    ("inputs[]", "forbidden"): "an item does what the role may not",
    ("inputs[]", "duplicate_in_batch"): "two items with one identity (uniqueness across items)",
}
# Rules that tie one field to another stay in descriptions and 422s, not in
# the document (docs/decisions.md: if/then would state them, but SDK
# generators handle it poorly): "person only" (entity_type), "sensitive needs
# consent" (consents), "amount only for a purchase" (type). On PATCH they
# also depend on stored values the patch body need not contain.
CROSS_FIELD_RULES = {
    # ISO registries: the document gives the shape (`^[A-Z]{2}$`, `^[A-Z]{3}$`),
    # the server knows which codes are assigned.
    ("*", "country"),
    ("*", "currency"),
    ("*", "person_only"),
    ("sensitive", "consent_required"),
    ("amount", "forbidden"),
    ("amount", "required"),
    # The legal bases a grant may rest on depend on the purpose and on `granted`.
    ("legal_basis", "not_allowed"),
    # A partial `amount` patch (MoneyPatch) merged onto a stored null amount
    # lacks its other half: what the patch may leave out depends on what is stored.
    ("amount", "type"),
}


@schemathesis.check
def positive_422_only_for_server_state(ctx, response, case):
    """A 422 to schema-valid data must come from a rule JSON Schema cannot express."""
    if response.status_code != 422 or not _positive(case):
        return None
    try:
        errors = response.json().get("errors") or []
    except Exception:  # noqa: BLE001 - not JSON: other checks report it
        return None
    def rule(e):
        # Items of a list (`changes[2].legal_basis`) follow their field's rule.
        field = re.sub(r"^[a-z_]+\[\d+\]\.", "", str(e.get("field")))
        field = re.sub(r"^inputs\[\d+\]$", "inputs[]", field)
        return (field, e.get("code"))

    unexpressible = [
        e
        for e in errors
        if rule(e) in STATE_OR_COMPARISON_RULES or rule(e) in CROSS_FIELD_RULES or ("*", e.get("code")) in CROSS_FIELD_RULES
    ]
    rest = [e for e in errors if e not in unexpressible]
    if rest or not errors:
        listed = "; ".join(f"{e.get('field')}: {e.get('code')} ({e.get('message')})" for e in rest) or "no errors[]"
        raise AssertionError(
            "Schema-valid request rejected with 422 for a rule the OpenAPI document could state but does not: " + listed
        )
    return None
