DROP INDEX interactions_updated_idx;
