-- Offers: personalised proposals with a lifecycle (draft -> sent -> accepted | declined | withdrawn;
-- a sent offer past valid_until reads as expired).
CREATE TABLE offers (
    id               TEXT PRIMARY KEY,
    stakeholder_id   TEXT NOT NULL REFERENCES stakeholders (id),
    title            TEXT NOT NULL,
    description      TEXT,
    product_category TEXT,
    price_minor      BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    discount_percent INTEGER NOT NULL,
    valid_from       TEXT,
    valid_until      TEXT,
    status           TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    sent_at          TEXT,
    responded_at     TEXT,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX offers_stakeholder_idx ON offers (stakeholder_id, created_at, id);
CREATE INDEX offers_created_idx ON offers (created_at, id);
CREATE INDEX offers_updated_idx ON offers (updated_at, id);
CREATE INDEX offers_status_idx ON offers (status, valid_until);
CREATE INDEX offers_category_idx ON offers (product_category, created_at, id);
CREATE INDEX offers_created_by_idx ON offers (created_by, created_at, id);
