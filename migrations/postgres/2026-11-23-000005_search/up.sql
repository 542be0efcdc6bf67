-- `q` search: a trigram index serves `search_text LIKE '%…%'` (3+ characters).
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension; where it
-- cannot be installed, search still works by scanning.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); q search will scan', SQLERRM;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS stakeholders_search_trgm_idx ON stakeholders USING gin (search_text gin_trgm_ops);
    END IF;
END
$$;
