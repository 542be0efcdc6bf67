-- The stored ETag travels with the record (no parsing "version" out of the
-- body), and each key names what it created, so erasure can find the
-- stored bodies of a person's records.
ALTER TABLE idempotency_keys ADD COLUMN etag text;
ALTER TABLE idempotency_keys ADD COLUMN resource_type text;
ALTER TABLE idempotency_keys ADD COLUMN resource_id uuid;
UPDATE idempotency_keys
   SET etag = '"' || (response_body::jsonb ->> 'version') || '"'
 WHERE response_body::jsonb ->> 'version' IS NOT NULL;
CREATE INDEX idempotency_keys_resource_idx ON idempotency_keys (resource_type, resource_id);
