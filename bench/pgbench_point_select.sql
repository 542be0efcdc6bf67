-- The raw database limit for GET-by-id: the same point select, prepared.
-- bench_ids maps 1..N to the seeded ids (one extra int-key lookup per query).
\set n random(1, :nids)
SELECT s.* FROM bench_ids b JOIN stakeholders s ON s.id = b.id WHERE b.n = :n;
