-- Relationships (API.md): typed, directed edges between two stakeholders.
-- family_of and partner_of are symmetric: one row, listed from both ends.
-- "Active" depends on today's date (ended_on null or in the future), so the
-- rule "one active (from, to, type)" is checked by the write, under a lock,
-- not by a unique index.
CREATE TABLE relationships (
    id                uuid PRIMARY KEY,
    from_id           uuid NOT NULL REFERENCES stakeholders (id),
    to_id             uuid NOT NULL REFERENCES stakeholders (id),
    relationship_type text NOT NULL,
    started_on        date,
    ended_on          date,
    strength          integer,
    notes             text,
    created_by        text NOT NULL,
    version           integer NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK (from_id <> to_id)
);

-- Each end's edges in list order, carrying what the network walk reads so
-- that a hop is read from the index alone; the default list; the type filter.
CREATE INDEX relationships_from_idx ON relationships (from_id, created_at, id) INCLUDE (to_id, ended_on);
CREATE INDEX relationships_to_idx ON relationships (to_id, created_at, id) INCLUDE (from_id, ended_on);
CREATE INDEX relationships_created_idx ON relationships (created_at, id);
CREATE INDEX relationships_type_idx ON relationships (relationship_type, created_at, id);
