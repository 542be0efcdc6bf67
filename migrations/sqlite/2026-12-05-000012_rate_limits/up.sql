-- Rate limits (integration.md): each replica adds the units it admitted to
-- its partition's fixed window here, at most a second apart, and reads the
-- shared total back. The partition is a hash of (role, partner, sub) or of
-- the client IP: no address or user id is stored.
CREATE TABLE rate_limit_counters (
    partition_key TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    units         BIGINT NOT NULL,
    PRIMARY KEY (partition_key, window_start)
);
-- Ended windows are purged by age.
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);
