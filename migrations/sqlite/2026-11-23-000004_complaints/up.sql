-- Complaints: cases raised by a stakeholder, handled to resolution against an SLA.
CREATE TABLE complaints (
    id              TEXT PRIMARY KEY,
    stakeholder_id  TEXT NOT NULL REFERENCES stakeholders (id),
    subject         TEXT NOT NULL,
    description     TEXT NOT NULL,
    category        TEXT NOT NULL,
    severity        TEXT NOT NULL,
    channel         TEXT,
    assignee_id     TEXT,
    status          TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    resolution      TEXT,
    satisfaction    INTEGER,
    opened_by       TEXT NOT NULL,
    acknowledged_at TEXT,
    resolved_at     TEXT,
    closed_at       TEXT,
    version         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE INDEX complaints_stakeholder_idx ON complaints (stakeholder_id, created_at, id);
CREATE INDEX complaints_created_idx ON complaints (created_at, id);
CREATE INDEX complaints_updated_idx ON complaints (updated_at, id);
-- The support queue: what breaches first.
CREATE INDEX complaints_due_idx ON complaints (due_at, id);
CREATE INDEX complaints_status_idx ON complaints (status, due_at, id);
CREATE INDEX complaints_severity_idx ON complaints (severity, created_at, id);
CREATE INDEX complaints_category_idx ON complaints (category, created_at, id);
CREATE INDEX complaints_assignee_idx ON complaints (assignee_id, due_at, id);
