-- Offers: personalised proposals with a lifecycle (draft -> sent -> accepted | declined | withdrawn;
-- a sent offer past valid_until reads as expired).
CREATE TABLE offers (
    id               uuid PRIMARY KEY,
    stakeholder_id   uuid NOT NULL REFERENCES stakeholders (id),
    title            text NOT NULL,
    description      text,
    product_category text,
    price_minor      bigint NOT NULL,
    currency         text NOT NULL,
    discount_percent integer NOT NULL,
    valid_from       timestamptz,
    valid_until      timestamptz,
    status           text NOT NULL,
    created_by       text NOT NULL,
    sent_at          timestamptz,
    responded_at     timestamptz,
    version          integer NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX offers_stakeholder_idx ON offers (stakeholder_id, created_at, id);
CREATE INDEX offers_created_idx ON offers (created_at, id);
CREATE INDEX offers_updated_idx ON offers (updated_at, id);
CREATE INDEX offers_status_idx ON offers (status, valid_until);
CREATE INDEX offers_category_idx ON offers (product_category, created_at, id);
CREATE INDEX offers_created_by_idx ON offers (created_by, created_at, id);
