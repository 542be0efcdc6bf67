DROP INDEX IF EXISTS stakeholders_search_trgm_idx;
