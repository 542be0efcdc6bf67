DROP INDEX idempotency_keys_resource_idx;
ALTER TABLE idempotency_keys DROP COLUMN resource_id;
ALTER TABLE idempotency_keys DROP COLUMN resource_type;
ALTER TABLE idempotency_keys DROP COLUMN etag;
