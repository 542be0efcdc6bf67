-- The stored ETag travels with the record (rows stored before this, or by
-- an older replica during a rolling deploy, keep NULL and are read the old
-- way: `version` from the body; casting bodies to jsonb here would fail on
-- an escaped NUL in `preferences`). Each key names the resources it created
-- (one for a create, one per item for a batch), so erasure can find the
-- stored bodies of a person's records and turn them into tombstones.
ALTER TABLE idempotency_keys ADD COLUMN etag TEXT;
CREATE TABLE idempotency_key_resources (
    owner         TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (owner, idem_key, resource_type, resource_id),
    FOREIGN KEY (owner, idem_key) REFERENCES idempotency_keys (owner, idem_key) ON DELETE CASCADE
);
CREATE INDEX idempotency_key_resources_resource_idx ON idempotency_key_resources (resource_type, resource_id);
