-- Keyset pages of interactions by updated_at (resynchronising after the change feed's horizon).
CREATE INDEX interactions_updated_idx ON interactions (updated_at, id);
