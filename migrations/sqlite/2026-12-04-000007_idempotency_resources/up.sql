-- The stored ETag travels with the record (no parsing "version" out of the
-- body), and each key names what it created, so erasure can find the
-- stored bodies of a person's records.
ALTER TABLE idempotency_keys ADD COLUMN etag TEXT;
ALTER TABLE idempotency_keys ADD COLUMN resource_type TEXT;
ALTER TABLE idempotency_keys ADD COLUMN resource_id TEXT;
UPDATE idempotency_keys
   SET etag = '"' || json_extract(response_body, '$.version') || '"'
 WHERE json_valid(response_body) AND json_extract(response_body, '$.version') IS NOT NULL;
CREATE INDEX idempotency_keys_resource_idx ON idempotency_keys (resource_type, resource_id);
