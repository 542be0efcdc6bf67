-- SQLite has no trigram index for LIKE '%…%': q search scans (see docs/decisions.md).
-- This migration exists to keep both dialects at the same version.
SELECT 1;
