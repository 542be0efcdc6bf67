-- Foundation: stakeholders, their tag index and consent history, the audit
-- trail and the idempotency store. Same schema as the SQLite migration; see
-- src/db/types.rs for how the portable types map.

CREATE TABLE stakeholders (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    entity_type          TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    email                TEXT,
    phone                TEXT,
    organization_id      TEXT REFERENCES stakeholders (id),
    lifecycle_stage      TEXT NOT NULL,
    segment              TEXT,
    owner_id             TEXT,
    partner_id           TEXT,
    birth_date           date,
    occupation           TEXT,
    education_level      TEXT,
    household_size       INTEGER,
    income_band          TEXT,
    preferred_categories TEXT NOT NULL DEFAULT '[]',
    interests            TEXT NOT NULL DEFAULT '[]',
    tags                 TEXT NOT NULL DEFAULT '[]',
    preferences          TEXT NOT NULL DEFAULT '{}',
    sensitive            TEXT,
    consents             TEXT NOT NULL DEFAULT '{}',
    address              TEXT,
    search_text          TEXT NOT NULL,
    name_search          TEXT NOT NULL, -- lower-cased display_name: what q searches for roles that see contact details masked
    version              INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    archived_at          TEXT,
    erased_at            TEXT
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
    stakeholder_id TEXT NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    tag            TEXT NOT NULL,
    PRIMARY KEY (stakeholder_id, tag)
);
CREATE INDEX stakeholder_tags_tag_idx ON stakeholder_tags (tag, stakeholder_id);

-- Every consent change: who, when, old -> new.
CREATE TABLE consent_changes (
    id             TEXT PRIMARY KEY,
    stakeholder_id TEXT NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    consent        TEXT NOT NULL,
    old_value      BOOLEAN,
    new_value      BOOLEAN NOT NULL,
    changed_by     TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    request_id     TEXT
);
CREATE INDEX consent_changes_stakeholder_idx ON consent_changes (stakeholder_id, changed_at, id);

-- The audit trail, written in the same transaction as every change. Field
-- names only, never values.
CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    occurred_at    TEXT NOT NULL,
    actor_sub      TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    request_id     TEXT
);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, occurred_at);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);

-- Idempotency-Key store, shared by every replica.
CREATE TABLE idempotency_keys (
    owner         TEXT NOT NULL, -- role:partner_id:sub of the caller
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    location      TEXT,
    response_body TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
