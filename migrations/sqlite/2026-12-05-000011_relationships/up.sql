-- Relationships (API.md): typed, directed edges between two stakeholders.
-- family_of and partner_of are symmetric: one row, listed from both ends.
-- "Active" depends on today's date (ended_on null or in the future), so the
-- rule "one active (from, to, type)" is checked by the write, under a lock,
-- not by a unique index.
CREATE TABLE relationships (
    id                TEXT PRIMARY KEY,
    from_id           TEXT NOT NULL REFERENCES stakeholders (id),
    to_id             TEXT NOT NULL REFERENCES stakeholders (id),
    relationship_type TEXT NOT NULL,
    started_on        date,
    ended_on          date,
    strength          INTEGER,
    notes             TEXT,
    created_by        TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CHECK (from_id <> to_id)
);

-- Each end's edges in list order, carrying what the network walk reads so
-- that a hop is read from the index alone; the default list; the type filter.
CREATE INDEX relationships_from_idx ON relationships (from_id, created_at, id, to_id, ended_on);
CREATE INDEX relationships_to_idx ON relationships (to_id, created_at, id, from_id, ended_on);
CREATE INDEX relationships_created_idx ON relationships (created_at, id);
CREATE INDEX relationships_type_idx ON relationships (relationship_type, created_at, id);
