#!/usr/bin/env python3
"""Real-client smoke test: Python `requests` with its default headers.

`requests` sends `Accept-Encoding: gzip, deflate` (and br/zstd when those
decoders are installed) like every browser and most SDKs, so this walks the
README tour the way a client team would, then provokes every error kind of
API.md and reads each body as an RFC 9457 problem.

Run under .ci/clients/server.py, which provides CRM_CI_URL and CRM_CI_TOKEN_*.
Every check runs even after one fails; the exit status is non-zero if any did.
"""

import datetime
import json
import os
import sys
import traceback
import uuid

import requests

BASE = os.environ["CRM_CI_URL"]
API = BASE + "/api/v1"
TOKENS = {r: os.environ[f"CRM_CI_TOKEN_{r.upper()}"] for r in ("admin", "manager", "agent", "analyst", "partner")}
PROBLEM_FIELDS = {"type": str, "title": str, "status": int, "detail": str, "request_id": str}

failures: list[str] = []
ctx: dict = {}
s = requests.Session()  # default headers: Accept-Encoding gzip/deflate, Accept */*


class Fail(AssertionError):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Fail(what)


def show(r: requests.Response) -> str:
    try:
        body = r.text[:400]
    except Exception as e:  # noqa: BLE001
        body = f"<unreadable body: {e}>"
    enc = r.headers.get("Content-Encoding", "-")
    return f"{r.request.method} {r.request.path_url} -> {r.status_code} ({r.headers.get('Content-Type')}, Content-Encoding {enc}): {body}"


def auth(role: str = "admin") -> dict:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def call(method: str, path: str, role: str | None = "admin", **kw) -> requests.Response:
    headers = dict(auth(role)) if role else {}
    headers.update(kw.pop("headers", {}))
    url = path if path.startswith("http") else API + path
    return s.request(method, url, headers=headers, timeout=30, **kw)


def body_json(r: requests.Response):
    """The JSON body; reading it goes through requests' content decoding."""
    try:
        raw = r.content
    except requests.exceptions.ContentDecodingError as e:
        raise Fail(f"body cannot be decoded as announced (Content-Encoding {r.headers.get('Content-Encoding')}): {e}")
    try:
        return json.loads(raw)
    except ValueError as e:
        raise Fail(f"body is not JSON ({e}): {raw[:200]!r} -- {r.request.method} {r.request.path_url} -> {r.status_code}")


def ok(r: requests.Response, status: int):
    expect(r.status_code == status, f"expected {status}, got {show(r)}")
    expect("X-Request-Id" in r.headers, f"no X-Request-Id: {show(r)}")
    if status in (204, 304):
        return None
    ctype = r.headers.get("Content-Type", "")
    expect(ctype.split(";")[0].strip() == "application/json", f"Content-Type {ctype!r}, want application/json: {show(r)}")
    return body_json(r)


def problem(r: requests.Response, status: int, type_slug: str | None = None) -> dict:
    """Assert an RFC 9457 problem with the given status; return it."""
    expect(r.status_code == status, f"expected {status}, got {show(r)}")
    ctype = r.headers.get("Content-Type", "")
    expect(
        ctype.split(";")[0].strip() == "application/problem+json",
        f"Content-Type {ctype!r}, want application/problem+json: {show(r)}",
    )
    p = body_json(r)
    expect(isinstance(p, dict), f"problem is not an object: {p!r}")
    for field, typ in PROBLEM_FIELDS.items():
        expect(isinstance(p.get(field), typ), f"problem field {field!r} missing or not {typ.__name__}: {p}")
    expect(p["status"] == status, f"problem status {p['status']} != HTTP status {status}: {p}")
    expect(p["request_id"] == r.headers.get("X-Request-Id"), f"request_id {p['request_id']!r} != X-Request-Id {r.headers.get('X-Request-Id')!r}")
    expect(p["detail"].strip() != "", f"empty detail: {p}")
    if type_slug:
        expect(p["type"].endswith("/" + type_slug), f"problem type {p['type']!r}, want …/{type_slug}: {p}")
    leak = json.dumps(p).lower()
    for word in ("select ", "sqlite", "diesel", "panicked", "/src/", ".rs:"):
        expect(word not in leak, f"problem leaks internals ({word!r}): {p}")
    return p


def step(fn):
    name = fn.__name__
    try:
        fn()
        print(f"ok   {name}")
    except Fail as e:
        failures.append(f"{name}: {e}")
        print(f"FAIL {name}: {e}")
    except Exception as e:  # noqa: BLE001 - a crash in one step is a failure, not the end
        failures.append(f"{name}: {type(e).__name__}: {e}")
        print(f"FAIL {name}: {type(e).__name__}: {e}")
        traceback.print_exc(limit=3)
    return fn


# ----------------------------------------------------------------- the tour

SITI = {
    "kind": "customer",
    "entity_type": "person",
    "display_name": "Siti Rahayu",
    "email": "siti@example.com",
    "phone": "+6281234567890",
    "segment": "gold",
    "tags": ["vip"],
    "consents": {"marketing_email": True},
    "address": {"city": "Bandung", "country": "ID"},
}


@step
def service_endpoints():
    ok(call("GET", BASE + "/health/live", role=None), 200)
    ok(call("GET", BASE + "/health/ready", role=None), 200)
    doc = ok(call("GET", BASE + "/openapi.json", role=None), 200)
    expect(str(doc.get("openapi", "")).startswith("3.1"), f"/openapi.json is not OpenAPI 3.1: {doc.get('openapi')!r}")
    r = call("GET", BASE + "/metrics", role=None)
    expect(r.status_code == 200 and "http_requests" in r.text, f"/metrics: {show(r)}")
    expect("RateLimit" not in r.headers, f"/metrics is never rate limited: {dict(r.headers)}")
    r = call("GET", "/stakeholders", role="analyst")
    expect(r.headers.get("RateLimit-Policy") == '"default";q=1200;w=60', f"RateLimit-Policy: {dict(r.headers)}")
    expect(str(r.headers.get("RateLimit", "")).startswith('"default";r='), f"RateLimit: {dict(r.headers)}")
    rid = "smoke-" + uuid.uuid4().hex
    r = call("GET", BASE + "/health/live", role=None, headers={"X-Request-Id": rid})
    expect(r.headers.get("X-Request-Id") == rid, f"X-Request-Id not echoed: {r.headers.get('X-Request-Id')!r}")


@step
def create_with_idempotency_key():
    key = "smoke-" + uuid.uuid4().hex
    r = call("POST", "/stakeholders", json=SITI, headers={"Idempotency-Key": key})
    st = ok(r, 201)
    expect(r.headers.get("Location", "").endswith(f"/api/v1/stakeholders/{st['id']}"), f"Location {r.headers.get('Location')!r}")
    expect(r.headers.get("ETag") == '"1"', f"ETag {r.headers.get('ETag')!r}, want \"1\"")
    expect(st["version"] == 1 and st["kind"] == "customer" and st["lifecycle_stage"] == "prospect", f"created: {st}")
    expect(st["consents"]["marketing_email"] is True, f"consents: {st['consents']}")
    ctx["siti"] = st
    again = call("POST", "/stakeholders", json=SITI, headers={"Idempotency-Key": key})
    replay = ok(again, 201)
    expect(again.headers.get("Idempotent-Replayed") == "true", f"no Idempotent-Replayed: true on the retry: {dict(again.headers)}")
    expect(replay == st, f"replay differs from the first response:\n{replay}\n{st}")
    other = dict(SITI, display_name="Someone Else", email="else@example.com")
    problem(call("POST", "/stakeholders", json=other, headers={"Idempotency-Key": key}), 422)


@step
def more_stakeholders():
    org = ok(call("POST", "/stakeholders", json={"kind": "supplier", "entity_type": "organization", "display_name": "Acme Supplies", "segment": "gold"}), 201)
    ctx["org"] = org
    for i in range(3):
        ok(call("POST", "/stakeholders", json={"kind": "customer", "entity_type": "person", "display_name": f"Paging Person {i}", "segment": "paging", "tags": ["paging"]}), 201)


@step
def list_filter_search_page():
    siti = ctx["siti"]
    page = ok(call("GET", "/stakeholders", params={"kind": "customer", "segment": "gold", "q": "siti", "limit": 20}), 200)
    expect([x["id"] for x in page["data"]] == [siti["id"]], f"filter+search found {[x['display_name'] for x in page['data']]}")
    expect(page["next_cursor"] is None, f"single page has next_cursor {page['next_cursor']!r}")
    page = ok(call("GET", "/stakeholders", params={"tag": "vip", "entity_type": "person", "lifecycle_stage": "prospect"}), 200)
    expect(siti["id"] in [x["id"] for x in page["data"]], "tag/entity_type/lifecycle_stage filter lost Siti")
    page = ok(call("GET", "/stakeholders", params={"kind": "supplier"}), 200)
    expect(all(x["kind"] == "supplier" for x in page["data"]) and page["data"], f"kind=supplier: {page['data']}")
    seen, cursor, pages = [], None, 0
    while True:
        # the same query again, plus the cursor (a cursor carries the sort, not the filters)
        params = {"segment": "paging", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = ok(call("GET", "/stakeholders", params=params), 200)
        seen += [x["id"] for x in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor or pages > 5:
            break
    expect(len(seen) == 3 and len(set(seen)) == 3 and pages == 2, f"paging by 2 over 3 rows: {pages} pages, {len(seen)} ids")
    names = [x["display_name"] for x in ok(call("GET", "/stakeholders", params={"segment": "paging", "sort": "display_name"}), 200)["data"]]
    expect(names == sorted(names), f"sort=display_name: {names}")


@step
def conditional_get():
    sid = ctx["siti"]["id"]
    r = call("GET", f"/stakeholders/{sid}")
    ok(r, 200)
    etag = r.headers.get("ETag")
    expect(etag == '"1"', f"ETag {etag!r}")
    ok(call("GET", f"/stakeholders/{sid}", headers={"If-None-Match": etag}), 304)


@step
def merge_patch_with_if_match():
    sid = ctx["siti"]["id"]
    r = call("PATCH", f"/stakeholders/{sid}", data=json.dumps({"lifecycle_stage": "lead", "phone": None}),
             headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"})
    st = ok(r, 200)
    expect(st["version"] == 2 and st["lifecycle_stage"] == "lead" and st.get("phone") is None, f"patched: {st}")
    expect(st["email"] == "siti@example.com" and st["tags"] == ["vip"], f"merge patch touched absent fields: {st}")
    expect(r.headers.get("ETag") == '"2"', f"ETag after PATCH {r.headers.get('ETag')!r}")
    st = ok(call("PATCH", f"/stakeholders/{sid}", json={"consents": {"marketing_sms": True}}, headers={"If-Match": '"2"'}), 200)
    expect(st["version"] == 3 and st["consents"]["marketing_sms"] is True and st["consents"]["marketing_email"] is True, f"consents patch: {st['consents']}")
    ctx["siti"] = st


@step
def archive_and_restore():
    sid = ctx["siti"]["id"]
    st = ok(call("DELETE", f"/stakeholders/{sid}"), 200)
    expect(st.get("archived_at"), f"archive did not set archived_at: {st}")
    ids = [x["id"] for x in ok(call("GET", "/stakeholders", params={"q": "siti"}), 200)["data"]]
    expect(sid not in ids, "archived stakeholder still listed by default")
    ids = [x["id"] for x in ok(call("GET", "/stakeholders", params={"q": "siti", "include_archived": "true"}), 200)["data"]]
    expect(sid in ids, "include_archived=true does not list the archived stakeholder")
    st = ok(call("POST", f"/stakeholders/{sid}/restore"), 200)
    expect(st.get("archived_at") is None, f"restore left archived_at: {st}")
    ctx["siti"] = st


@step
def consent_history():
    sid = ctx["siti"]["id"]
    page = ok(call("GET", f"/stakeholders/{sid}/consent-history"), 200)
    changes = {(c.get("consent"), c.get("new_value")) for c in page["data"]}
    expect(("marketing_email", True) in changes and ("marketing_sms", True) in changes, f"consent history: {page['data']}")


@step
def consent_with_legal_basis():
    sid = ctx["siti"]["id"]
    body = {"changes": [{"consent": "marketing_phone", "granted": True, "source": "web_form", "evidence_ref": "form-42"}]}
    r = call("POST", f"/stakeholders/{sid}/consents", json=body)
    result = ok(r, 200)
    expect(result["consents"]["marketing_phone"] is True, f"consents: {result}")
    expect(result["recorded"][0]["legal_basis"] == "consent", f"recorded: {result['recorded']}")
    bad = {"changes": [{"consent": "sensitive_data", "granted": True, "legal_basis": "consent"}]}
    p = problem(call("POST", f"/stakeholders/{sid}/consents", json=bad), 422, "validation")
    expect(any(e.get("field") == "changes[0].legal_basis" for e in p.get("errors", [])), f"errors: {p}")


@step
def export_and_audit_log():
    sid = ctx["siti"]["id"]
    # requests asks for gzip: the streamed document must decode to one JSON document.
    r = call("GET", f"/stakeholders/{sid}/export")
    doc = ok(r, 200)
    expect(r.headers.get("Cache-Control") == "no-store", f"Cache-Control {r.headers.get('Cache-Control')!r}")
    expect(doc["format"] == "crm.stakeholder_export" and doc["stakeholder"]["id"] == sid, "export document")
    expect(doc["counts"]["consent_changes"] == len(doc["consent_history"]), f"counts: {doc['counts']}")
    problem(call("GET", f"/stakeholders/{sid}/export", role="agent"), 403, "forbidden")
    page = ok(call("GET", "/audit-events", params={"stakeholder_id": sid, "action": "stakeholder.*"}), 200)
    actions = [e["action"] for e in page["data"]]
    expect("stakeholder.exported" in actions and "stakeholder.created" in actions, f"audit actions: {actions}")
    problem(call("GET", "/audit-events", role="manager"), 403, "forbidden")


@step
def erasure_receipt_and_tombstone():
    body = dict(SITI, display_name="Erase Me", email="erase.me@example.com")
    st = ok(call("POST", "/stakeholders", json=body, headers={"Idempotency-Key": "smoke-erase-1"}), 201)
    request = {"reason": "data_subject_request", "request_reference": "DSR-1"}
    receipt = ok(call("POST", f"/stakeholders/{st['id']}/erase", json=request), 200)
    expect(receipt["stakeholder"]["email"] is None, f"receipt: {receipt}")
    expect(receipt["redacted"]["idempotency_records"] == 1, f"receipt: {receipt}")
    again = ok(call("POST", f"/stakeholders/{st['id']}/erase", json={"reason": "other"}), 200)
    expect(again == receipt, "erasing twice answers with the first receipt")
    problem(call("POST", "/stakeholders", json=body, headers={"Idempotency-Key": "smoke-erase-1"}), 410, "erased")
    problem(call("PATCH", f"/stakeholders/{st['id']}", json={"segment": "x"}), 409, "erased")


@step
def interactions():
    sid = ctx["siti"]["id"]
    body = {"stakeholder_id": sid, "channel": "in_store", "direction": "inbound", "type": "purchase",
            "amount": {"amount_minor": 125000, "currency": "IDR"}}
    it = ok(call("POST", "/interactions", json=body), 201)
    expect(it["channel"] == "in_store" and it["amount"] == {"amount_minor": 125000, "currency": "IDR"}, f"interaction: {it}")
    expect(it["recorded_by"] == "ci-admin", f"recorded_by {it.get('recorded_by')!r}")
    ok(call("POST", "/interactions", json={"stakeholder_id": sid, "channel": "email", "direction": "outbound", "type": "contact", "subject": "Hello"}), 201)
    page = ok(call("GET", f"/stakeholders/{sid}/interactions", params={"type": "purchase"}), 200)
    expect([x["id"] for x in page["data"]] == [it["id"]], f"type=purchase timeline: {page['data']}")
    page = ok(call("GET", "/interactions", params={"stakeholder_id": sid, "channel": "email", "direction": "outbound"}), 200)
    expect(len(page["data"]) == 1 and page["data"][0]["type"] == "contact", f"interaction filters: {page['data']}")
    ctx["interaction"] = it


@step
def offers_send_accept():
    sid = ctx["siti"]["id"]
    body = {"stakeholder_id": sid, "title": "Gold upgrade", "price": {"amount_minor": 1500000, "currency": "IDR"},
            "valid_until": "2099-12-31T23:59:59Z"}
    offer = ok(call("POST", "/offers", json=body), 201)
    expect(offer["status"] == "draft" and offer["version"] == 1, f"offer: {offer}")
    offer = ok(call("POST", f"/offers/{offer['id']}/send"), 200)
    expect(offer["status"] == "sent" and offer.get("sent_at"), f"sent: {offer}")
    offer = ok(call("POST", f"/offers/{offer['id']}/accept", headers={"If-Match": f'"{offer["version"]}"'}), 200)
    expect(offer["status"] == "accepted" and offer.get("responded_at"), f"accepted: {offer}")
    page = ok(call("GET", f"/stakeholders/{sid}/offers", params={"status": "accepted"}), 200)
    expect([x["id"] for x in page["data"]] == [offer["id"]], f"offers timeline: {page['data']}")
    ctx["offer"] = offer


@step
def complaints_lifecycle():
    sid = ctx["siti"]["id"]
    body = {"stakeholder_id": sid, "subject": "Late delivery", "description": "Two weeks late",
            "category": "delivery", "severity": "high", "channel": "phone"}
    c = ok(call("POST", "/complaints", json=body), 201)
    expect(c["status"] == "open" and c["sla_breached"] is False and c.get("due_at"), f"complaint: {c}")
    queue = ok(call("GET", "/complaints", params={"sort": "due_at", "sla_breached": "false"}), 200)
    expect(c["id"] in [x["id"] for x in queue["data"]], "complaint not in the SLA queue")
    c = ok(call("POST", f"/complaints/{c['id']}/acknowledge"), 200)
    expect(c["status"] == "acknowledged" and c.get("acknowledged_at"), f"acknowledged: {c}")
    c = ok(call("POST", f"/complaints/{c['id']}/start"), 200)
    expect(c["status"] == "in_progress", f"started: {c}")
    c = ok(call("POST", f"/complaints/{c['id']}/resolve", json={"resolution": "Refunded shipping"}), 200)
    expect(c["status"] == "resolved" and c["resolution"] == "Refunded shipping" and c.get("resolved_at"), f"resolved: {c}")
    c = ok(call("POST", f"/complaints/{c['id']}/close", json={"satisfaction": 4}), 200)
    expect(c["status"] == "closed" and c["satisfaction"] == 4 and c.get("closed_at"), f"closed: {c}")
    page = ok(call("GET", f"/stakeholders/{sid}/complaints", params={"status": "closed", "severity": "high", "category": "delivery"}), 200)
    expect([x["id"] for x in page["data"]] == [c["id"]], f"complaints timeline: {page['data']}")
    ctx["complaint"] = c


@step
def relationships_and_network():
    sid = ctx["siti"]["id"]
    org = ok(call("POST", "/stakeholders", json={"kind": "partner", "entity_type": "organization", "display_name": "PT Smoke"}), 201)
    edge = ok(call("POST", "/relationships", role="agent", json={"from_id": sid, "to_id": org["id"], "type": "employee_of",
                                                                 "started_on": "2024-03-01", "notes": "smoke"}), 201)
    expect(edge["active"] is True and edge["created_by"] == "ci-agent", f"edge: {edge}")
    problem(call("POST", "/relationships", role="agent", json={"from_id": sid, "to_id": org["id"], "type": "employee_of"}), 409)
    problem(call("POST", "/relationships", role="agent", json={"from_id": sid, "to_id": sid, "type": "other"}), 422, "validation")
    page = ok(call("GET", f"/stakeholders/{org['id']}/relationships", role="analyst"), 200)
    expect([(x["id"], x["direction"], x["other"]["id"]) for x in page["data"]] == [(edge["id"], "incoming", sid)], f"edges: {page}")
    net = ok(call("GET", f"/stakeholders/{sid}/network", role="analyst", params={"depth": 2}), 200)
    expect(any(n["stakeholder"]["id"] == org["id"] and n["path"] == [edge["id"]] for n in net["nodes"]), f"network: {net}")
    problem(call("GET", f"/stakeholders/{sid}/network", role="analyst", params={"depth": 9}), 400, "bad-request")


@step
def analytics():
    # The complaint just closed: opened, resolved and rated in today's week. The
    # default window ends at the current second; this one a minute later.
    end = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)).isoformat()
    params = {"group_by": "category,week", "to": end}
    r = ok(call("GET", "/analytics/complaints", role="analyst", params=params), 200)
    t = r["totals"]
    expect(r["timezone"] == "UTC" and len(r["buckets"]) >= 5, f"analytics window: {r['buckets']}")
    expect(t["opened"] >= 1 and t["sla"]["resolved"] >= 1 and t["satisfaction"]["count"] >= 1, f"totals: {t}")
    keys = [g["key"] for g in r["groups"]]
    expect(any(k["category"] == "delivery" for k in keys), f"groups: {keys}")
    problem(call("GET", "/analytics/complaints", role="analyst", params={"group_by": "day,week"}), 400, "bad-request")
    problem(call("GET", "/analytics/offers", role="agent"), 403, "forbidden")


@step
def compressed_success_body():
    # A body large enough that any compressing server compresses it.
    r = call("GET", "/stakeholders", params={"limit": 200})
    page = ok(r, 200)
    expect(isinstance(page["data"], list), "list body unreadable")


# ----------------------------------------------------------------- every error kind

@step
def error_400_bad_query():
    problem(call("GET", "/stakeholders", params={"limit": "abc"}), 400, "bad-request")
    problem(call("GET", "/stakeholders", params={"limit": "0"}), 400, "bad-request")
    problem(call("GET", "/stakeholders", params={"cursor": "not-a-cursor"}), 400, "bad-request")
    problem(call("GET", "/stakeholders", params={"sort": "password"}), 400, "bad-request")


@step
def error_400_malformed_json():
    problem(call("POST", "/stakeholders", data='{"kind": "customer",', headers={"Content-Type": "application/json"}), 400, "bad-request")


@step
def error_401_no_token():
    r = call("GET", "/stakeholders", role=None)
    problem(r, 401, "unauthorized")
    expect(r.headers.get("WWW-Authenticate", "").startswith("Bearer"), f"WWW-Authenticate {r.headers.get('WWW-Authenticate')!r}")
    r = call("GET", "/stakeholders", role=None, headers={"Authorization": "Bearer not.a.jwt"})
    problem(r, 401, "unauthorized")


@step
def error_403_wrong_role():
    problem(call("POST", "/stakeholders", role="analyst", json={"kind": "customer", "entity_type": "person", "display_name": "Nope"}), 403, "forbidden")
    problem(call("DELETE", f"/stakeholders/{ctx['siti']['id']}", role="agent"), 403, "forbidden")


@step
def error_404():
    problem(call("GET", f"/stakeholders/{uuid.uuid4()}"), 404, "not-found")
    problem(call("GET", "/no-such-route"), 404)
    # a partner may not see a stakeholder outside its partner_id: 404, not 403
    problem(call("GET", f"/stakeholders/{ctx['siti']['id']}", role="partner"), 404, "not-found")


@step
def error_405():
    r = call("PUT", f"/stakeholders/{ctx['siti']['id']}", json={})
    problem(r, 405, "method-not-allowed")
    problem(call("DELETE", "/stakeholders"), 405, "method-not-allowed")


@step
def error_409_invalid_transition():
    offer = ctx["offer"]
    p = problem(call("POST", f"/offers/{offer['id']}/send"), 409, "conflict")
    expect("accepted" in p["detail"], f"409 does not name the current status: {p['detail']!r}")
    c = ctx["complaint"]
    problem(call("POST", f"/complaints/{c['id']}/acknowledge"), 409, "conflict")
    # duplicate unique key
    problem(call("POST", "/stakeholders", json=dict(SITI, display_name="Siti Twin")), 409, "conflict")


@step
def error_412_stale_if_match():
    sid = ctx["siti"]["id"]
    problem(call("PATCH", f"/stakeholders/{sid}", json={"segment": "silver"}, headers={"If-Match": '"1"'}), 412, "precondition-failed")
    problem(call("POST", f"/complaints/{ctx['complaint']['id']}/reopen", headers={"If-Match": '"1"'}), 412, "precondition-failed")


@step
def error_413_body_too_large():
    big = json.dumps(dict(SITI, display_name="x" * (1024 * 1024 + 10)))
    problem(call("POST", "/stakeholders", data=big, headers={"Content-Type": "application/json"}), 413, "payload-too-large")


@step
def error_415_wrong_content_type():
    problem(call("POST", "/stakeholders", data=json.dumps(SITI), headers={"Content-Type": "text/plain"}), 415, "unsupported-media-type")
    problem(call("POST", "/stakeholders", data="kind=customer", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported-media-type")


@step
def error_422_validation():
    bad = {"kind": "customer", "entity_type": "person", "display_name": "Bad Email", "email": "not-an-email", "household_size": 0}
    p = problem(call("POST", "/stakeholders", json=bad), 422, "validation")
    fields = {e.get("field") for e in p.get("errors") or []}
    expect({"email", "household_size"} <= fields, f"422 must list every invalid field: {p.get('errors')}")
    for e in p["errors"]:
        expect(all(isinstance(e.get(k), str) for k in ("field", "code", "message")), f"field error shape: {e}")
    p = problem(call("POST", "/stakeholders", json=dict(SITI, kind="Customer", email="x@example.com")), 422, "validation")
    p = problem(call("POST", "/stakeholders", json={"kind": "customer", "entity_type": "person", "display_name": "T", "colour": "red"}), 422, "validation")
    p = problem(call("POST", "/interactions", json={"stakeholder_id": ctx["siti"]["id"], "channel": "email", "direction": "inbound", "type": "purchase"}), 422, "validation")
    expect("amount" in {e.get("field") for e in p.get("errors") or []}, f"purchase without amount: {p.get('errors')}")


@step
def explicit_gzip_and_deflate_errors():
    # requests already asks for gzip, deflate; ask for each one alone as well
    # (not br: requests decodes it only when the brotli package is installed).
    for enc in ("gzip", "deflate", "identity"):
        r = call("GET", f"/stakeholders/{uuid.uuid4()}", headers={"Accept-Encoding": enc})
        problem(r, 404, "not-found")
        r = call("GET", "/stakeholders", role=None, headers={"Accept-Encoding": enc})
        problem(r, 401, "unauthorized")


if __name__ == "__main__":
    if failures:
        print(f"\n{len(failures)} smoke step(s) failed:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("\nsmoke: every step passed")
