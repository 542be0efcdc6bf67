#!/usr/bin/env bash
# Search plan stability on PostgreSQL (issue 9, item 4):
#   bench/search_plan.sh [SIZE] [TERM]
#
# PostgreSQL may switch a named prepared statement to a generic plan after
# five executions; for `q` search that plan cannot see the pattern. This
# script seeds SIZE stakeholders (default 100k) into a fresh database and
#  1. in one psql session, runs the search 20 times as diesel used to send it
#     (a named prepared statement, `LIKE $1 ESCAPE $2`) and as the server
#     sends it now (`LIKE $1 ESCAPE '\'`, not cached: parsed and planned per
#     search, which psql mimics with PREPARE / EXECUTE / DEALLOCATE), and
#     prints EXPLAIN ANALYZE of executions 1 and 20 of each;
#  2. starts the server with ONE pooled connection and one worker, sends 20
#     `GET /api/v1/stakeholders?q=TERM&limit=50` in a row (all on that one
#     database connection) and prints the latency of the 1st and the 20th.
# TERM defaults to `zz`. Env: PG_URL (postgres://postgres@127.0.0.1:5432),
# PG_DB (crm_bench_plan), PORT (18182), BIN (target/release/crm-api),
# SKIP_BUILD=1.
set -euo pipefail

SIZE=${1:-100000}
TERM_Q=${2:-zz}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_plan}
PORT=${PORT:-18182}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/crm-api}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
export CRM_DATABASE_URL="$PG_URL/$PG_DB"
echo "== seeding $SIZE stakeholders"
"$BIN" seed --stakeholders "$SIZE" 2>/dev/null | tail -1

# The select list is cut to id (the plan does not depend on it).
FROM='FROM "stakeholders" WHERE (("stakeholders"."archived_at" IS NULL) AND "stakeholders"."search_text" LIKE'
ORDER='ORDER BY "stakeholders"."created_at" DESC, "stakeholders"."id" DESC'
{
  echo "\\set pattern '%$TERM_Q%'"
  echo "PREPARE before(text, text, int8) AS SELECT \"stakeholders\".\"id\" $FROM \$1 ESCAPE \$2) $ORDER LIMIT \$3;"
  for n in $(seq 1 20); do
    if [ "$n" = 1 ] || [ "$n" = 20 ]; then
      echo "\\echo '-- before (named, ESCAPE \$2): execution $n'"
      echo "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE before(:'pattern', '\\', 51);"
    else
      echo "EXECUTE before(:'pattern', '\\', 51) \\g /dev/null"
    fi
  done
  for n in $(seq 1 20); do
    echo "PREPARE after(text, int8) AS SELECT \"stakeholders\".\"id\" $FROM \$1 ESCAPE '\\') $ORDER LIMIT \$2;"
    if [ "$n" = 1 ] || [ "$n" = 20 ]; then
      echo "\\echo '-- now (unnamed, ESCAPE literal): execution $n'"
      echo "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE after(:'pattern', 51);"
    else
      echo "EXECUTE after(:'pattern', 51) \\g /dev/null"
    fi
    echo "DEALLOCATE after;"
  done
} > "$WORK/plan.sql"
echo "== psql: 20 executions on one session, q=$TERM_Q"
psql "$CRM_DATABASE_URL" -q -f "$WORK/plan.sql" | grep -E '^-- |Scan|Execution Time' | sed -E 's/ +\(actual.*//; s/^ +/   /'

echo "== server: 20 searches on one pooled connection, q=$TERM_Q"
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" CRM_DB_POOL_SIZE=1 CRM_WORKERS=1 RUST_LOG=warn
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" token --role admin --sub bench --ttl 1h)
for n in $(seq 1 20); do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$PORT/api/v1/stakeholders?q=$TERM_Q&limit=50")
  if [ "$n" = 1 ] || [ "$n" = 20 ]; then
    echo "search $n: HTTP ${t% *}, $(awk -v s="${t#* }" 'BEGIN {printf "%.1f ms", s * 1000}')"
  fi
done
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown), $SIZE rows"
