DROP TABLE idempotency_key_resources;
ALTER TABLE idempotency_keys DROP COLUMN etag;
