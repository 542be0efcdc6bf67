#!/usr/bin/env python3
"""A scenario through the Python SDK generated from openapi/openapi.json.

Only the generated client talks to the server (two requests the SDK cannot
express, 405 and 415, go through the SDK's own httpx client and are parsed
with the generated `Problem` model). Every response must parse into the
model the document promises: `.parsed` is checked to be an instance of it.
Every value of every enum is sent once through the generated enums, and read
back as the same enum member.

Run under .ci/clients/server.py (CRM_CI_URL, CRM_CI_TOKEN_*, CRM_CI_PARTNER_ID).
"""

import datetime as dt
import itertools
import os
import sys
import traceback
import uuid
from uuid import UUID

import httpx

from crm_api_client import AuthenticatedClient
from crm_api_client.api.complaints import (
    acknowledge_complaint,
    assign_complaint,
    close_complaint,
    create_complaint,
    get_complaint,
    list_complaints,
    list_stakeholder_complaints,
    reopen_complaint,
    resolve_complaint,
    start_complaint,
    update_complaint,
)
from crm_api_client.api.interactions import (
    batch_create_interactions,
    create_interaction,
    get_interaction,
    list_interactions,
    list_stakeholder_interactions,
    update_interaction,
)
from crm_api_client.api.offers import (
    accept_offer,
    create_offer,
    decline_offer,
    get_offer,
    list_offers,
    list_stakeholder_offers,
    send_offer,
    update_offer,
    withdraw_offer,
)
from crm_api_client.api.relationships import (
    create_relationship,
    delete_relationship,
    get_relationship,
    list_relationships,
    list_stakeholder_relationships,
    stakeholder_network,
    update_relationship,
)
from crm_api_client.api.service import health_live, health_ready
from crm_api_client.api.stakeholders import (
    archive_stakeholder,
    create_stakeholder,
    get_stakeholder,
    list_consent_history,
    list_stakeholders,
    restore_stakeholder,
    update_stakeholder,
)
from crm_api_client.models import (
    Address,
    BatchInputInteractionInput,
    BatchResultInteraction,
    AssignInput,
    Category,
    Channel,
    CloseInput,
    Complaint,
    ComplaintInput,
    ComplaintPatch,
    ComplaintStatus,
    ConsentsInput,
    Direction,
    EntityType,
    FieldError,
    Health,
    IncomeBand,
    Interaction,
    InteractionInput,
    InteractionPatch,
    InteractionType,
    Kind,
    LifecycleStage,
    Money,
    Network,
    Offer,
    OfferInput,
    OfferPatch,
    OfferStatus,
    PageComplaint,
    PageConsentChange,
    PageInteraction,
    PageOffer,
    PageRelationship,
    PageStakeholder,
    PageStakeholderRelationship,
    Problem,
    Relationship,
    RelationshipDirection,
    RelationshipInput,
    RelationshipPatch,
    RelationshipType,
    ResolveInput,
    Sensitive,
    Severity,
    Stakeholder,
    StakeholderInput,
    StakeholderPatch,
)
from crm_api_client.types import Response

BASE = os.environ["CRM_CI_URL"]
PARTNER_ID = UUID(os.environ["CRM_CI_PARTNER_ID"])
last: dict = {}


def remember(response: httpx.Response) -> None:
    response.read()
    last["response"] = response


def client(role: str | None, token: str | None = None) -> AuthenticatedClient:
    tok = token or os.environ[f"CRM_CI_TOKEN_{(role or 'admin').upper()}"]
    return AuthenticatedClient(
        base_url=BASE,
        token=tok,
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(30.0),
        httpx_args={"event_hooks": {"response": [remember]}},
    )


admin, manager, agent, analyst, partner = (client(r) for r in ("admin", "manager", "agent", "analyst", "partner"))
failures: list[str] = []
ctx: dict = {}


class Fail(AssertionError):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Fail(what)


def raw() -> str:
    r = last.get("response")
    if r is None:
        return "<no response>"
    return f"{r.request.method} {r.request.url.path}?{r.request.url.query.decode()} -> {r.status_code} {r.headers.get('content-type')} {r.text[:300]}"


def call(fn, status: int, model, /, **kw):
    """fn.sync_detailed(**kw); assert the status and that .parsed is a `model`."""
    last.pop("response", None)
    try:
        resp: Response = fn.sync_detailed(**kw)
    except Fail:
        raise
    except Exception as e:  # parsing into the generated models failed
        raise Fail(f"{fn.__name__.split('.')[-1]}: the SDK could not handle the response ({type(e).__name__}: {e}); raw: {raw()}")
    expect(int(resp.status_code) == status, f"{fn.__name__.split('.')[-1]}: expected {status}, got {int(resp.status_code)}: {raw()}")
    if model is None:
        expect(resp.parsed is None, f"expected no body, parsed {resp.parsed!r}")
    else:
        expect(isinstance(resp.parsed, model), f"{fn.__name__.split('.')[-1]}: parsed is {type(resp.parsed).__name__}, want {model.__name__}: {raw()}")
    if model is Problem:
        check_problem(resp.parsed, status, resp.headers)
    return resp


def check_problem(p: Problem, status: int, headers) -> None:
    expect(p.status == status, f"problem.status {p.status} != {status}")
    for name in ("type_", "title", "detail"):
        expect(isinstance(getattr(p, name), str) and getattr(p, name), f"problem.{name} empty: {p}")
    expect(isinstance(p.request_id, str) and p.request_id == headers.get("x-request-id"), f"problem.request_id {p.request_id!r} != X-Request-Id {headers.get('x-request-id')!r}")


def step(fn):
    try:
        fn()
        print(f"ok   {fn.__name__}")
    except Fail as e:
        failures.append(f"{fn.__name__}: {e}")
        print(f"FAIL {fn.__name__}: {e}")
    except Exception as e:  # noqa: BLE001
        failures.append(f"{fn.__name__}: {type(e).__name__}: {e}")
        print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")
        traceback.print_exc(limit=4)
    return fn


def etag(resp: Response) -> str:
    e = resp.headers.get("etag")
    expect(bool(e), f"no ETag: {raw()}")
    return e


def cycle_all(*enums):
    """Rows that together use every member of every enum at least once."""
    n = max(len(e) for e in enums)
    lists = [list(e) for e in enums]
    return [tuple(lst[i % len(lst)] for lst in lists) for i in range(n)]


# ----------------------------------------------------------------- scenario

@step
def service():
    call(health_live, 200, Health, client=admin)
    call(health_ready, 200, Health, client=admin)


@step
def stakeholders_every_enum():
    created = []
    for i, (kind, etype, stage, band) in enumerate(cycle_all(Kind, EntityType, LifecycleStage, IncomeBand)):
        person = etype == EntityType.PERSON
        body = StakeholderInput(
            kind=kind,
            entity_type=etype,
            display_name=f"SDK {kind.name.title()} {i}",
            email=f"sdk{i}-{uuid.uuid4().hex[:8]}@example.com",
            phone="+62812345678" + str(i),
            lifecycle_stage=stage,
            income_band=band,
            segment="sdk",
            owner_id="ci-agent",
            partner_id=PARTNER_ID,
            tags=["sdk", f"row{i}"],
            interests=["cycling"],
            preferred_categories=["books"],
            consents=ConsentsInput(marketing_email=True, sensitive_data=True),
            sensitive=Sensitive(health_notes="none") if person else None,
            address=Address(line1="Jl. Braga 1", city="Bandung", country="ID"),
            birth_date=dt.date(1990, 1, 2) if person else None,
            occupation="engineer" if person else None,
            household_size=3 if person else None,
        )
        resp = call(create_stakeholder, 201, Stakeholder, client=admin, body=body, idempotency_key=f"sdk-{uuid.uuid4()}")
        st: Stakeholder = resp.parsed
        expect(
            (st.kind, st.entity_type, st.lifecycle_stage, st.income_band) == (kind, etype, stage, band),
            f"enums did not round-trip: sent {(kind, etype, stage, band)}, got {(st.kind, st.entity_type, st.lifecycle_stage, st.income_band)}",
        )
        expect(st.version == 1 and st.partner_id == PARTNER_ID, f"created: {st}")
        created.append(st)
    ctx["stakeholders"] = created
    ctx["person"] = next(s for s in created if s.entity_type == EntityType.PERSON)


@step
def idempotent_replay():
    body = StakeholderInput(kind=Kind.SUPPLIER, entity_type=EntityType.ORGANIZATION, display_name="SDK Replay Ltd")
    key = f"sdk-{uuid.uuid4()}"
    first = call(create_stakeholder, 201, Stakeholder, client=admin, body=body, idempotency_key=key)
    again = call(create_stakeholder, 201, Stakeholder, client=admin, body=body, idempotency_key=key)
    expect(again.headers.get("idempotent-replayed") == "true", "no Idempotent-Replayed on the retry")
    expect(again.parsed.id == first.parsed.id, "the retry created a second stakeholder")


@step
def read_patch_archive_restore():
    st: Stakeholder = ctx["person"]
    resp = call(get_stakeholder, 200, Stakeholder, client=admin, id=st.id)
    call(get_stakeholder, 304, None, client=admin, id=st.id, if_none_match=etag(resp))
    patch = StakeholderPatch(lifecycle_stage=LifecycleStage.ADVOCATE, income_band=IncomeBand.UPPER_MIDDLE, phone=None,
                             consents=ConsentsInput(marketing_sms=True))
    resp = call(update_stakeholder, 200, Stakeholder, client=admin, id=st.id, body=patch, if_match=etag(resp))
    st = resp.parsed
    expect(st.lifecycle_stage == LifecycleStage.ADVOCATE and st.income_band == IncomeBand.UPPER_MIDDLE and st.phone is None,
           f"patch: {st.lifecycle_stage} {st.income_band} {st.phone}")
    st = call(archive_stakeholder, 200, Stakeholder, client=manager, id=st.id, if_match=etag(resp)).parsed
    expect(st.archived_at is not None, "archive left archived_at empty")
    st = call(restore_stakeholder, 200, Stakeholder, client=manager, id=st.id).parsed
    expect(st.archived_at is None, "restore left archived_at set")
    page = call(list_consent_history, 200, PageConsentChange, client=admin, id=st.id).parsed
    expect({c.consent for c in page.data} >= {"marketing_email", "marketing_sms", "sensitive_data"}, f"consent history: {[c.consent for c in page.data]}")
    ctx["person"] = st


@step
def list_with_enum_filters():
    created = ctx["stakeholders"]
    for kind in Kind:
        page = call(list_stakeholders, 200, PageStakeholder, client=admin, kind=kind, segment="sdk", limit=200).parsed
        want = {s.id for s in created if s.kind == kind}
        expect(all(s.kind == kind for s in page.data), f"kind={kind}: got kinds {[s.kind for s in page.data]}")
        expect(want <= {s.id for s in page.data}, f"kind={kind} lost rows")
    for stage in LifecycleStage:
        page = call(list_stakeholders, 200, PageStakeholder, client=admin, lifecycle_stage=stage, limit=200).parsed
        expect(all(s.lifecycle_stage == stage for s in page.data), f"lifecycle_stage={stage}")
    for et in EntityType:
        page = call(list_stakeholders, 200, PageStakeholder, client=analyst, entity_type=et, limit=200).parsed
        expect(all(s.entity_type == et for s in page.data), f"entity_type={et}")
    # keyset paging through the SDK
    seen, cursor = [], None
    for _ in range(10):
        kw = {"cursor": cursor} if cursor else {"segment": "sdk"}
        page = call(list_stakeholders, 200, PageStakeholder, client=admin, limit=2, **kw).parsed
        seen += [s.id for s in page.data]
        cursor = page.next_cursor
        if not cursor:
            break
    expect(len(seen) == len(set(seen)) and {s.id for s in created} <= set(seen), f"paging saw {len(seen)} rows")
    # a partner sees only its own stakeholders
    page = call(list_stakeholders, 200, PageStakeholder, client=partner, limit=200).parsed
    expect(page.data and all(s.partner_id == PARTNER_ID for s in page.data), "partner list is not scoped to its partner_id")


@step
def interactions_every_enum():
    st = ctx["person"]
    made = []
    for channel, direction, itype in cycle_all(Channel, Direction, InteractionType):
        purchase = itype == InteractionType.PURCHASE
        body = InteractionInput(
            stakeholder_id=st.id, channel=channel, direction=direction, type_=itype,
            subject=f"{itype.name.lower()} via {channel.name.lower()}",
            amount=Money(amount_minor=125000, currency="IDR") if purchase else None,
            satisfaction=4,
            occurred_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5),
        )
        it = call(create_interaction, 201, Interaction, client=agent, body=body).parsed
        expect((it.channel, it.direction, it.type_) == (channel, direction, itype), f"enums did not round-trip: {(it.channel, it.direction, it.type_)}")
        made.append(it)
    it = made[0]
    resp = call(get_interaction, 200, Interaction, client=admin, id=it.id)
    call(update_interaction, 200, Interaction, client=agent, id=it.id, body=InteractionPatch(outcome="done"), if_match=etag(resp))
    # partners may record interactions for their stakeholders
    call(create_interaction, 201, Interaction, client=partner,
         body=InteractionInput(stakeholder_id=st.id, channel=Channel.WEB, direction=Direction.INBOUND, type_=InteractionType.FEEDBACK))
    for ch in Channel:
        page = call(list_interactions, 200, PageInteraction, client=admin, channel=ch, stakeholder_id=st.id).parsed
        expect(page.data and all(x.channel == ch for x in page.data), f"channel={ch}")
    for itype in InteractionType:
        page = call(list_stakeholder_interactions, 200, PageInteraction, client=admin, id=st.id, type_=itype).parsed
        expect(page.data and all(x.type_ == itype for x in page.data), f"type={itype}")
    page = call(list_interactions, 200, PageInteraction, client=analyst, direction=Direction.OUTBOUND).parsed
    expect(all(x.direction == Direction.OUTBOUND for x in page.data), "direction filter")


@step
def offers_send_accept_decline_withdraw():
    st = ctx["person"]

    def new_offer(title):
        body = OfferInput(stakeholder_id=st.id, title=title, price=Money(amount_minor=1500000, currency="IDR"),
                          discount_percent=10, product_category="upgrade",
                          valid_until=dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc))
        return call(create_offer, 201, Offer, client=agent, body=body)

    resp = new_offer("Gold upgrade")
    offer = resp.parsed
    expect(offer.status == OfferStatus.DRAFT, f"status {offer.status}")
    resp = call(update_offer, 200, Offer, client=agent, id=offer.id, body=OfferPatch(description="Now with lounge access"), if_match=etag(resp))
    offer = call(send_offer, 200, Offer, client=agent, id=offer.id, if_match=etag(resp)).parsed
    expect(offer.status == OfferStatus.SENT, f"status {offer.status}")
    offer = call(accept_offer, 200, Offer, client=partner, id=offer.id).parsed
    expect(offer.status == OfferStatus.ACCEPTED and offer.responded_at is not None, f"status {offer.status}")
    ctx["accepted_offer"] = offer

    declined = new_offer("Silver plan").parsed
    call(send_offer, 200, Offer, client=agent, id=declined.id)
    declined = call(decline_offer, 200, Offer, client=partner, id=declined.id).parsed
    expect(declined.status == OfferStatus.DECLINED, f"status {declined.status}")

    withdrawn = new_offer("Bronze plan").parsed
    withdrawn = call(withdraw_offer, 200, Offer, client=agent, id=withdrawn.id).parsed
    expect(withdrawn.status == OfferStatus.WITHDRAWN, f"status {withdrawn.status}")

    for status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.WITHDRAWN, OfferStatus.DRAFT, OfferStatus.SENT, OfferStatus.EXPIRED):
        page = call(list_offers, 200, PageOffer, client=admin, status=status, stakeholder_id=st.id).parsed
        expect(all(o.status == status for o in page.data), f"status={status}")
    page = call(list_stakeholder_offers, 200, PageOffer, client=partner, id=st.id).parsed
    expect(len(page.data) == 3, f"partner sees {len(page.data)} offers of its stakeholder")
    call(get_offer, 200, Offer, client=analyst, id=offer.id)


@step
def complaints_every_enum_and_actions():
    st = ctx["person"]
    made = []
    for category, severity, channel in cycle_all(Category, Severity, Channel):
        body = ComplaintInput(stakeholder_id=st.id, subject=f"{category.name.lower()} problem", description="details",
                              category=category, severity=severity, channel=channel)
        c = call(create_complaint, 201, Complaint, client=agent, body=body).parsed
        expect((c.category, c.severity, c.channel, c.status) == (category, severity, channel, ComplaintStatus.OPEN),
               f"enums did not round-trip: {(c.category, c.severity, c.channel, c.status)}")
        made.append(c)
    call(create_complaint, 201, Complaint, client=partner,
         body=ComplaintInput(stakeholder_id=st.id, subject="From the partner", description="d", category=Category.SERVICE, severity=Severity.LOW))
    c = made[0]
    resp = call(update_complaint, 200, Complaint, client=agent, id=c.id, body=ComplaintPatch(description="more details"))
    c = call(acknowledge_complaint, 200, Complaint, client=agent, id=c.id, if_match=etag(resp)).parsed
    expect(c.status == ComplaintStatus.ACKNOWLEDGED, f"status {c.status}")
    c = call(assign_complaint, 200, Complaint, client=manager, id=c.id, body=AssignInput(assignee_id="ci-agent")).parsed
    expect(c.assignee_id == "ci-agent", f"assignee {c.assignee_id}")
    c = call(start_complaint, 200, Complaint, client=agent, id=c.id).parsed
    expect(c.status == ComplaintStatus.IN_PROGRESS, f"status {c.status}")
    c = call(resolve_complaint, 200, Complaint, client=agent, id=c.id, body=ResolveInput(resolution="Refunded")).parsed
    expect(c.status == ComplaintStatus.RESOLVED and c.resolution == "Refunded", f"status {c.status}")
    c = call(close_complaint, 200, Complaint, client=agent, id=c.id, body=CloseInput(satisfaction=5)).parsed
    expect(c.status == ComplaintStatus.CLOSED and c.satisfaction == 5, f"status {c.status}")
    c = call(reopen_complaint, 200, Complaint, client=agent, id=c.id).parsed
    expect(c.status == ComplaintStatus.IN_PROGRESS, f"status {c.status}")
    c2 = call(start_complaint, 200, Complaint, client=agent, id=made[1].id).parsed
    c2 = call(resolve_complaint, 200, Complaint, client=agent, id=c2.id, body=ResolveInput(resolution="Fixed")).parsed
    # close without satisfaction: the document allows a JSON null body. (Leaving
    # body unset makes this generator version send UNSET: its bug, not the API's.)
    c2 = call(close_complaint, 200, Complaint, client=agent, id=c2.id).parsed
    expect(c2.status == ComplaintStatus.CLOSED, f"status {c2.status}")
    call(get_complaint, 200, Complaint, client=analyst, id=c.id)
    ctx["complaint"] = c
    for status in ComplaintStatus:
        page = call(list_complaints, 200, PageComplaint, client=admin, status=status, stakeholder_id=st.id).parsed
        expect(all(x.status == status for x in page.data), f"status={status}")
    for sev in Severity:
        page = call(list_complaints, 200, PageComplaint, client=admin, severity=sev, sort="due_at", sla_breached=False).parsed
        expect(page.data and all(x.severity == sev for x in page.data), f"severity={sev}")
    for cat in Category:
        page = call(list_stakeholder_complaints, 200, PageComplaint, client=partner, id=st.id, category=cat).parsed
        expect(page.data and all(x.category == cat for x in page.data), f"category={cat}")


@step
def relationships_every_type_network_and_partner_scope():
    people = ctx["stakeholders"]
    hub, made = people[0], []
    for i, rtype in enumerate(RelationshipType):
        other = people[1 + i % (len(people) - 1)]
        body = RelationshipInput(from_id=hub.id, to_id=other.id, type_=rtype, started_on=dt.date(2024, 1, 1), strength=3)
        r = call(create_relationship, 201, Relationship, client=agent, body=body, idempotency_key=f"sdk-{uuid.uuid4()}").parsed
        expect((r.type_, r.active, r.from_id, r.to_id) == (rtype, True, hub.id, other.id), f"edge did not round-trip: {r}")
        made.append(r)
    resp = call(get_relationship, 200, Relationship, client=analyst, id=made[0].id)
    r = call(update_relationship, 200, Relationship, client=agent, id=made[0].id,
             body=RelationshipPatch(ended_on=dt.date(2024, 6, 30), notes="ended"), if_match=etag(resp)).parsed
    expect(r.active is False and r.version == 2, f"patched: {r}")
    for rtype in RelationshipType:
        page = call(list_relationships, 200, PageRelationship, client=admin, stakeholder_id=hub.id, type_=rtype).parsed
        expect(len(page.data) == 1 and page.data[0].type_ == rtype, f"type={rtype}: {page.data}")
    seen = set()
    for who in (hub, people[1]):
        page = call(list_stakeholder_relationships, 200, PageStakeholderRelationship, client=partner, id=who.id).parsed
        expect(page.data, f"no edges of {who.id}")
        seen |= {x.direction for x in page.data}
        expect(all(x.other.id != who.id for x in page.data), "other is the other end")
    expect(seen == set(RelationshipDirection), f"directions seen: {seen}")
    net = call(stakeholder_network, 200, Network, client=analyst, id=hub.id, depth=2).parsed
    expect(net.root == hub.id and not net.truncated and net.nodes, f"network: {net}")
    expect(all(n.distance in (1, 2) and len(n.path) == n.distance for n in net.nodes), f"nodes: {net.nodes}")
    call(stakeholder_network, 400, Problem, client=analyst, id=hub.id, depth=4)
    dup = RelationshipInput(from_id=hub.id, to_id=made[1].to_id, type_=made[1].type_)
    call(create_relationship, 409, Problem, client=agent, body=dup)
    call(create_relationship, 422, Problem, client=agent, body=RelationshipInput(from_id=hub.id, to_id=hub.id, type_=RelationshipType.OTHER))
    call(create_relationship, 403, Problem, client=partner, body=dup)
    call(delete_relationship, 403, Problem, client=agent, id=made[-1].id)
    call(delete_relationship, 204, None, client=manager, id=made[-1].id)
    call(get_relationship, 404, Problem, client=admin, id=made[-1].id)


@step
def batch_create_typed_results():
    st = ctx["person"]
    good = InteractionInput(stakeholder_id=st.id, channel=Channel.WEB, direction=Direction.INBOUND, type_=InteractionType.NOTE)
    ghost = InteractionInput(stakeholder_id=uuid.uuid4(), channel=Channel.WEB, direction=Direction.INBOUND, type_=InteractionType.NOTE)
    body = BatchInputInteractionInput(inputs=[good, ghost, good])
    res = call(batch_create_interactions, 207, BatchResultInteraction, client=agent, body=body, idempotency_key=f"sdk-{uuid.uuid4()}").parsed
    statuses = [r.status for r in res.results]
    expect(statuses == [201, 404, 201], f"statuses: {statuses}")
    expect(isinstance(res.results[0].data, Interaction) and res.results[0].data.stakeholder_id == st.id, f"data: {res.results[0].data!r}")
    expect(res.results[1].data is None and isinstance(res.results[1].error, Problem) and res.results[1].error.status == 404, f"error: {res.results[1]!r}")
    expect(res.summary.succeeded == 2 and res.summary.failed == 1, f"summary: {res.summary}")
    all_good = call(batch_create_interactions, 200, BatchResultInteraction, client=agent,
                    body=BatchInputInteractionInput(inputs=[good], atomic=True)).parsed
    expect(all_good.summary.created == 1, f"summary: {all_good.summary}")
    call(batch_create_interactions, 422, Problem, client=agent, body=BatchInputInteractionInput(inputs=[good, ghost], atomic=True))


# ----------------------------------------------------------------- one typed problem per error kind

@step
def problem_400():
    call(list_stakeholders, 400, Problem, client=admin, cursor="not-a-cursor")
    call(list_complaints, 400, Problem, client=admin, sort="nonsense")


@step
def problem_401():
    call(list_stakeholders, 401, Problem, client=client(None, token="not.a.jwt"))


@step
def problem_403():
    body = StakeholderInput(kind=Kind.CUSTOMER, entity_type=EntityType.PERSON, display_name="Analysts cannot")
    call(create_stakeholder, 403, Problem, client=analyst, body=body)


@step
def problem_404():
    call(get_stakeholder, 404, Problem, client=admin, id=uuid.uuid4())
    call(get_offer, 404, Problem, client=partner, id=uuid.uuid4())


@step
def problem_405():
    # No SDK operation uses an undeclared method; use the SDK's own httpx client.
    r = admin.get_httpx_client().put(f"/api/v1/stakeholders/{ctx['person'].id}", json={})
    expect(r.status_code == 405, f"PUT: expected 405, got {raw()}")
    try:
        p = Problem.from_dict(r.json())
    except Exception as e:  # noqa: BLE001
        raise Fail(f"405 body does not parse as Problem ({e}): {raw()}")
    check_problem(p, 405, r.headers)


@step
def problem_409():
    call(send_offer, 409, Problem, client=agent, id=ctx["accepted_offer"].id)
    call(acknowledge_complaint, 409, Problem, client=agent, id=ctx["complaint"].id)


@step
def problem_412():
    call(update_stakeholder, 412, Problem, client=admin, id=ctx["person"].id, body=StakeholderPatch(segment="x"), if_match='"1"')


@step
def problem_413():
    body = StakeholderInput(kind=Kind.CUSTOMER, entity_type=EntityType.PERSON, display_name="x" * (1024 * 1024 + 1))
    call(create_stakeholder, 413, Problem, client=admin, body=body)


@step
def problem_415():
    r = admin.get_httpx_client().post("/api/v1/stakeholders", content=b"kind=customer", headers={"Content-Type": "text/plain"})
    expect(r.status_code == 415, f"text/plain POST: expected 415, got {raw()}")
    try:
        p = Problem.from_dict(r.json())
    except Exception as e:  # noqa: BLE001
        raise Fail(f"415 body does not parse as Problem ({e}): {raw()}")
    check_problem(p, 415, r.headers)


@step
def problem_422():
    body = StakeholderInput(kind=Kind.CUSTOMER, entity_type=EntityType.PERSON, display_name="Bad", email="not-an-email", household_size=0)
    p: Problem = call(create_stakeholder, 422, Problem, client=admin, body=body).parsed
    expect(isinstance(p.errors, list) and all(isinstance(e, FieldError) for e in p.errors), f"errors: {p.errors!r}")
    expect({"email", "household_size"} <= {e.field for e in p.errors}, f"errors: {[e.field for e in p.errors]}")


if __name__ == "__main__":
    if failures:
        print(f"\n{len(failures)} SDK step(s) failed:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("\nsdk: every step passed")
