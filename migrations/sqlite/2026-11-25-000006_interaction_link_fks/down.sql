-- Back to interactions without foreign keys on offer_id / complaint_id (same rebuild).
CREATE TABLE interactions_rebuilt (
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

INSERT INTO interactions_rebuilt (id, stakeholder_id, channel, direction, interaction_type, occurred_at, subject, notes, outcome, amount_minor, currency, satisfaction, offer_id, complaint_id, recorded_by, version, created_at, updated_at)
SELECT id, stakeholder_id, channel, direction, interaction_type, occurred_at, subject, notes, outcome, amount_minor, currency, satisfaction, offer_id, complaint_id, recorded_by, version, created_at, updated_at FROM interactions;
DROP TABLE interactions;
ALTER TABLE interactions_rebuilt RENAME TO interactions;

CREATE INDEX interactions_stakeholder_idx ON interactions (stakeholder_id, occurred_at, id);
CREATE INDEX interactions_occurred_idx ON interactions (occurred_at, id);
CREATE INDEX interactions_created_idx ON interactions (created_at, id);
CREATE INDEX interactions_channel_idx ON interactions (channel, occurred_at, id);
CREATE INDEX interactions_direction_idx ON interactions (direction, occurred_at, id);
CREATE INDEX interactions_type_idx ON interactions (interaction_type, occurred_at, id);
CREATE INDEX interactions_offer_idx ON interactions (offer_id) WHERE offer_id IS NOT NULL;
CREATE INDEX interactions_complaint_idx ON interactions (complaint_id) WHERE complaint_id IS NOT NULL;
