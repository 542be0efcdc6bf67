-- Lifecycle history (analytics.md): one row at creation and one per change
-- of lifecycle_stage, written in the transaction of the change. Kept by
-- erasure (ids, stages and times only).
CREATE TABLE stakeholder_stage_changes (
    id             uuid PRIMARY KEY,
    stakeholder_id uuid NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    from_stage     text,
    to_stage       text NOT NULL,
    changed_at     timestamptz NOT NULL,
    changed_by     text NOT NULL
);
-- The contract's (changed_at) and (stakeholder_id, changed_at), carrying the
-- columns the lifecycle reads so that its scans touch the index only.
CREATE INDEX stakeholder_stage_changes_changed_idx ON stakeholder_stage_changes (changed_at)
    INCLUDE (stakeholder_id, from_stage, to_stage, id);
CREATE INDEX stakeholder_stage_changes_stakeholder_idx ON stakeholder_stage_changes (stakeholder_id, changed_at)
    INCLUDE (id, to_stage);

-- History before this migration is approximate: one creation row per
-- stakeholder, at its current stage, dated when it was created.
INSERT INTO stakeholder_stage_changes (id, stakeholder_id, from_stage, to_stage, changed_at, changed_by)
SELECT gen_random_uuid(), id, NULL, lifecycle_stage, created_at, 'migration' FROM stakeholders;

-- The windows the analytics read by. Interactions are the largest
-- population: their window is read from this index alone.
CREATE INDEX interactions_analytics_idx ON interactions (occurred_at)
    INCLUDE (stakeholder_id, interaction_type, channel, direction, satisfaction, currency, amount_minor);
CREATE INDEX offers_sent_idx ON offers (sent_at);
CREATE INDEX complaints_resolved_idx ON complaints (resolved_at);
CREATE INDEX complaints_acknowledged_idx ON complaints (acknowledged_at);
CREATE INDEX complaints_closed_idx ON complaints (closed_at);
-- The portfolio counts stakeholders by these, as of now.
CREATE INDEX stakeholders_portfolio_idx ON stakeholders (kind, entity_type, segment, lifecycle_stage)
    INCLUDE (archived_at, erased_at);
