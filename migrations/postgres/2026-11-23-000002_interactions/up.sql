-- Interactions: every touchpoint with a stakeholder on every channel.
CREATE TABLE interactions (
    id               uuid PRIMARY KEY,
    stakeholder_id   uuid NOT NULL REFERENCES stakeholders (id),
    channel          text NOT NULL,
    direction        text NOT NULL,
    interaction_type text NOT NULL,
    occurred_at      timestamptz NOT NULL,
    subject          text,
    notes            text,
    outcome          text,
    amount_minor     bigint,
    currency         text,
    satisfaction     integer,
    offer_id         uuid,
    complaint_id     uuid,
    recorded_by      text NOT NULL,
    version          integer NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

-- The timeline (stakeholder, newest first), the default list, and one index
-- per filter ending in the default sort key.
CREATE INDEX interactions_stakeholder_idx ON interactions (stakeholder_id, occurred_at, id);
CREATE INDEX interactions_occurred_idx ON interactions (occurred_at, id);
CREATE INDEX interactions_created_idx ON interactions (created_at, id);
CREATE INDEX interactions_channel_idx ON interactions (channel, occurred_at, id);
CREATE INDEX interactions_direction_idx ON interactions (direction, occurred_at, id);
CREATE INDEX interactions_type_idx ON interactions (interaction_type, occurred_at, id);
CREATE INDEX interactions_offer_idx ON interactions (offer_id) WHERE offer_id IS NOT NULL;
CREATE INDEX interactions_complaint_idx ON interactions (complaint_id) WHERE complaint_id IS NOT NULL;
