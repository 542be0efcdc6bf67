#!/usr/bin/env bash
# Network benchmark (issue 15): bench/network.sh [postgres|sqlite] [STAKEHOLDERS]
#
# Seeds a fresh database with `crm-api seed` (3 relationships per
# stakeholder: 1M stakeholders / 3M relationships by default on PostgreSQL),
# then wires one root stakeholder to 50 direct neighbours, each with 50
# neighbours of its own (2,500 second-degree), starts the release server and
# calls GET /stakeholders/{root}/network?depth=2 RUNS times (after a warm-up).
# Prints p50/max in ms, the node count, the server's peak RSS, and the plan
# of one hop (EXPLAIN ANALYZE) on PostgreSQL.
#
# Env: PORT (18184), PG_URL (postgres://postgres@127.0.0.1:5432), PG_DB (crm_bench_network),
#      RUNS (25), SKIP_BUILD=1, SKIP_SEED=1 (reuse the database of a previous run).
set -euo pipefail

BACKEND=${1:-postgres}
PORT=${PORT:-18184}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_network}
RUNS=${RUNS:-25}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/crm-api"
DATA=${DATA:-$ROOT/target/bench-network}
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT
mkdir -p "$DATA"

case "$BACKEND" in
  sqlite) SIZE=${2:-100000}; export CRM_DATABASE_URL="sqlite://$DATA/bench.sqlite3"
          SQL() { sqlite3 "$DATA/bench.sqlite3" "$@"; } ;;
  postgres) SIZE=${2:-1000000}; export CRM_DATABASE_URL="$PG_URL/$PG_DB"
            SQL() { psql "$PG_URL/$PG_DB" -qAt -c "$@"; } ;;
  *) echo "usage: bench/network.sh [postgres|sqlite] [STAKEHOLDERS]" >&2; exit 2 ;;
esac
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json

"$BIN" serve >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
if [ "${SKIP_SEED:-}" != 1 ]; then
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  case "$BACKEND" in
    sqlite) rm -f "$DATA"/bench.sqlite3* ;;
    postgres) psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null ;;
  esac
  "$BIN" seed --stakeholders "$SIZE" --relationships-per 3 --ids-file "$DATA/ids.txt"
  [ "$BACKEND" = postgres ] && psql "$PG_URL/$PG_DB" -qc "VACUUM (ANALYZE)"
  "$BIN" serve >"$DATA/server.log" 2>&1 &
  SERVER_PID=$!
fi
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
ADMIN=$("$BIN" token --role admin --sub bench --ttl 1h)
API="http://127.0.0.1:$PORT/api/v1"

# The star: a new root, 50 new neighbours, each with 50 new neighbours, made
# through the API (so the benchmark measures rows as the API writes them).
if [ ! -s "$DATA/root.txt" ] || [ "${SKIP_SEED:-}" != 1 ]; then
  python3 - "$API" "$ADMIN" "$DATA/root.txt" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
api, token, out = sys.argv[1:]
def post(path, body):
    req = urllib.request.Request(api + path, json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["id"]
person = lambda n: post("/stakeholders", {"kind": "customer", "entity_type": "person", "display_name": n})
root = person("network root")
with ThreadPoolExecutor(8) as pool:
    first = list(pool.map(lambda i: person(f"first {i}"), range(50)))
    list(pool.map(lambda f: post("/relationships", {"from_id": root, "to_id": f, "type": "contact_of"}), first))
    pairs = [(f, j) for f in first for j in range(50)]
    second = list(pool.map(lambda p: (p[0], person(f"second {p[1]}")), pairs))
    list(pool.map(lambda p: post("/relationships", {"from_id": p[1], "to_id": p[0], "type": "referred_by"}), second))
open(out, "w").write(root)
PY
fi
ROOT_ID=$(cat "$DATA/root.txt")
URL="$API/stakeholders/$ROOT_ID/network?depth=2"
NODES=$(curl -sf "$URL" -H "Authorization: Bearer $ADMIN" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["nodes"]), d["truncated"])')
times=()
for _ in $(seq 1 "$RUNS"); do
  t=$(curl -s -o /dev/null -w '%{time_total}' "$URL" -H "Authorization: Bearer $ADMIN")
  times+=("$(python3 -c "print(round($t*1000, 1))")")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
p50=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p"); max=$(echo "$sorted" | tail -1)
echo "network?depth=2 ($BACKEND, $SIZE stakeholders): nodes/truncated $NODES, p50 ${p50} ms, max ${max} ms over $RUNS runs"
echo "edges: $(SQL 'SELECT count(*) FROM relationships')"
echo "server peak RSS: $(grep VmHWM /proc/$SERVER_PID/status | awk '{print $2, $3}')"
if [ "$BACKEND" = postgres ]; then
  # The second hop as the server sends it: the 50 first-degree ids bound as an array.
  FIRST="{$(psql "$PG_URL/$PG_DB" -qAt -c "SELECT string_agg(to_id::text, ',') FROM relationships WHERE from_id = '$ROOT_ID'")}"
  echo "plan of the second hop (50 ids):"
  psql "$PG_URL/$PG_DB" -qAt -c "EXPLAIN (ANALYZE, BUFFERS) SELECT id, from_id, to_id FROM relationships
    WHERE (from_id = ANY('$FIRST'::uuid[]) OR to_id = ANY('$FIRST'::uuid[]))
      AND (ended_on IS NULL OR ended_on > CURRENT_DATE) ORDER BY id LIMIT 50000"
fi
