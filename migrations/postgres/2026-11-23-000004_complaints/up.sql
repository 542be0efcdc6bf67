-- Complaints: cases raised by a stakeholder, handled to resolution against an SLA.
CREATE TABLE complaints (
    id              uuid PRIMARY KEY,
    stakeholder_id  uuid NOT NULL REFERENCES stakeholders (id),
    subject         text NOT NULL,
    description     text NOT NULL,
    category        text NOT NULL,
    severity        text NOT NULL,
    channel         text,
    assignee_id     text,
    status          text NOT NULL,
    due_at          timestamptz NOT NULL,
    resolution      text,
    satisfaction    integer,
    opened_by       text NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    closed_at       timestamptz,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
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
