-- The receipt of each erasure: erasing twice answers with the first one.
CREATE TABLE erasures (
    stakeholder_id     uuid PRIMARY KEY REFERENCES stakeholders (id) ON DELETE CASCADE,
    erased_at          timestamptz NOT NULL,
    erased_by          text NOT NULL,
    reason             text NOT NULL,
    request_reference  text,
    redacted           text NOT NULL,
    consents_withdrawn text NOT NULL
);
