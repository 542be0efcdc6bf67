-- Links from interactions to offers and complaints become foreign keys (see
-- the PostgreSQL migration of the same name). SQLite cannot add a foreign
-- key to a table: the table is rebuilt (https://sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"), same columns, same indexes. No
-- table refers to interactions, so dropping the old one with foreign keys
-- enforced is safe; the migration runs in one transaction.
--
-- Links that already dangle are cleared first, with a new version.
UPDATE interactions
   SET offer_id = NULL, version = version + 1,
       updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
 WHERE offer_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = interactions.offer_id);
UPDATE interactions
   SET complaint_id = NULL, version = version + 1,
       updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
 WHERE complaint_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.id = interactions.complaint_id);

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
    offer_id         TEXT REFERENCES offers (id),
    complaint_id     TEXT REFERENCES complaints (id),
    recorded_by      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

INSERT INTO interactions_rebuilt (id, stakeholder_id, channel, direction, interaction_type, occurred_at, subject, notes, outcome, amount_minor, currency, satisfaction, offer_id, complaint_id, recorded_by, version, created_at, updated_at)
SELECT id, stakeholder_id, channel, direction, interaction_type, occurred_at, subject, notes, outcome, amount_minor, currency, satisfaction, offer_id, complaint_id, recorded_by, version, created_at, updated_at FROM interactions;
DROP TABLE interactions;
ALTER TABLE interactions_rebuilt RENAME TO interactions;

-- The indexes of migration 2026-11-23-000002_interactions, unchanged.
CREATE INDEX interactions_stakeholder_idx ON interactions (stakeholder_id, occurred_at, id);
CREATE INDEX interactions_occurred_idx ON interactions (occurred_at, id);
CREATE INDEX interactions_created_idx ON interactions (created_at, id);
CREATE INDEX interactions_channel_idx ON interactions (channel, occurred_at, id);
CREATE INDEX interactions_direction_idx ON interactions (direction, occurred_at, id);
CREATE INDEX interactions_type_idx ON interactions (interaction_type, occurred_at, id);
CREATE INDEX interactions_offer_idx ON interactions (offer_id) WHERE offer_id IS NOT NULL;
CREATE INDEX interactions_complaint_idx ON interactions (complaint_id) WHERE complaint_id IS NOT NULL;
