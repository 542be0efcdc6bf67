-- Foundation: stakeholders, their tag index and consent history, the audit
-- trail and the idempotency store. Same schema as the SQLite migration; see
-- src/db/types.rs for how the portable types map.

CREATE TABLE stakeholders (
    id                   uuid PRIMARY KEY,
    kind                 text NOT NULL,
    entity_type          text NOT NULL,
    display_name         text NOT NULL,
    email                text,
    phone                text,
    organization_id      uuid REFERENCES stakeholders (id),
    lifecycle_stage      text NOT NULL,
    segment              text,
    owner_id             text,
    partner_id           uuid,
    birth_date           date,
    occupation           text,
    education_level      text,
    household_size       integer,
    income_band          text,
    preferred_categories text NOT NULL DEFAULT '[]',
    interests            text NOT NULL DEFAULT '[]',
    tags                 text NOT NULL DEFAULT '[]',
    preferences          text NOT NULL DEFAULT '{}',
    sensitive            text,
    consents             text NOT NULL DEFAULT '{}',
    address              text,
    search_text          text NOT NULL,
    name_search          text NOT NULL, -- lower-cased display_name: what q searches for roles that see contact details masked
    version              integer NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    archived_at          timestamptz,
    erased_at            timestamptz
);

-- E-mail is unique among stakeholders that are not erased (stored lower-case).
CREATE UNIQUE INDEX stakeholders_email_key ON stakeholders (email) WHERE erased_at IS NULL AND email IS NOT NULL;
-- Keyset pagination on every sort, and one index per filter (each ends in the
-- default sort so a filtered first page is an index range scan).
CREATE INDEX stakeholders_created_idx ON stakeholders (created_at, id);
CREATE INDEX stakeholders_updated_idx ON stakeholders (updated_at, id);
CREATE INDEX stakeholders_name_idx ON stakeholders (display_name, id);
CREATE INDEX stakeholders_kind_idx ON stakeholders (kind, created_at, id);
CREATE INDEX stakeholders_entity_type_idx ON stakeholders (entity_type, created_at, id);
CREATE INDEX stakeholders_stage_idx ON stakeholders (lifecycle_stage, created_at, id);
CREATE INDEX stakeholders_segment_idx ON stakeholders (segment, created_at, id);
CREATE INDEX stakeholders_owner_idx ON stakeholders (owner_id, created_at, id);
CREATE INDEX stakeholders_partner_idx ON stakeholders (partner_id, created_at, id);
CREATE INDEX stakeholders_org_idx ON stakeholders (organization_id, created_at, id);

-- The tag filter: one row per (stakeholder, tag), kept in step with `tags`.
CREATE TABLE stakeholder_tags (
    stakeholder_id uuid NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    tag            text NOT NULL,
    PRIMARY KEY (stakeholder_id, tag)
);
CREATE INDEX stakeholder_tags_tag_idx ON stakeholder_tags (tag, stakeholder_id);

-- Every consent change: who, when, old -> new.
CREATE TABLE consent_changes (
    id             uuid PRIMARY KEY,
    stakeholder_id uuid NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    consent        text NOT NULL,
    old_value      boolean,
    new_value      boolean NOT NULL,
    changed_by     text NOT NULL,
    changed_at     timestamptz NOT NULL,
    request_id     text
);
CREATE INDEX consent_changes_stakeholder_idx ON consent_changes (stakeholder_id, changed_at, id);

-- The audit trail, written in the same transaction as every change. Field
-- names only, never values.
CREATE TABLE audit_events (
    id             uuid PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    actor_sub      text NOT NULL,
    actor_role     text NOT NULL,
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    uuid NOT NULL,
    changed_fields text NOT NULL DEFAULT '[]',
    request_id     text
);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, occurred_at);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);

-- Idempotency-Key store, shared by every replica.
CREATE TABLE idempotency_keys (
    owner         text NOT NULL, -- role:partner_id:sub of the caller
    idem_key      text NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer NOT NULL,
    location      text,
    response_body text NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
