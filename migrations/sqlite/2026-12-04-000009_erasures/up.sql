-- The receipt of each erasure: erasing twice answers with the first one.
CREATE TABLE erasures (
    stakeholder_id     TEXT PRIMARY KEY REFERENCES stakeholders (id) ON DELETE CASCADE,
    erased_at          TEXT NOT NULL,
    erased_by          TEXT NOT NULL,
    reason             TEXT NOT NULL,
    request_reference  TEXT,
    redacted           TEXT NOT NULL,
    consents_withdrawn TEXT NOT NULL
);
