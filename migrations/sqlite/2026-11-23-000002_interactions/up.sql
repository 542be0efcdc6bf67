-- Interactions: every touchpoint with a stakeholder on every channel.
CREATE TABLE interactions (
    id               TEXT PRIMARY KEY,
    stakeholder_id   TEXT NOT NULL REFERENCES stakeholders (id),
    channel          TEXT NOT NULL,
    direction        TEXT NOT NULL,
    interaction_type TEXT NOT NULL,
    occurred_at      TEXT NOT NULL,
    subject          TEXT,
    notes            TEXT,
    outcome          TEXT,
    amount_minor     BIGINT,
    currency         TEXT,
    satisfaction     INTEGER,
    offer_id         TEXT,
    complaint_id     TEXT,
    recorded_by      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- The timeline (stakeholder, newest first), the default list, and one index
-- per filter ending in the default sort key.
CREATE INDEX interactions_stakeholder_idx ON interactions (stakeholder_id, occurred_at, id);
CREATE INDEX interactions_occurred_idx ON interactions (occurred_at, id);
CREATE INDEX interactions_created_idx ON interactions (created_at, id);
CREATE INDEX interactions_channel_idx ON interactions (channel, occurred_at, id);
CREATE INDEX interactions_direction_idx ON interactions (direction, occurred_at, id);
CREATE INDEX interactions_type_idx ON interactions (interaction_type, occurred_at, id);
CREATE INDEX interactions_offer_idx ON interactions (offer_id) WHERE offer_id IS NOT NULL;
CREATE INDEX interactions_complaint_idx ON interactions (complaint_id) WHERE complaint_id IS NOT NULL;
