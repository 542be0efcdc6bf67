-- Rate limits (integration.md): each replica writes how many units it has
-- admitted in a partition's fixed window (its own row, an absolute count, so
-- a retried flush never counts twice), at most a second apart, and reads the
-- other replicas' rows back. The partition is a hash of (role, partner, sub)
-- or of the client IP: no address or user id is stored.
CREATE TABLE rate_limit_counters (
    partition_key TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    replica       TEXT NOT NULL,
    units         BIGINT NOT NULL,
    PRIMARY KEY (partition_key, window_start, replica)
);
-- Ended windows are purged by age.
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);
