#!/usr/bin/env bash
# Benchmark: bench/run.sh [sqlite|postgres] [SIZE]
#
# Builds release, starts the server on a fresh database, seeds SIZE
# stakeholders (default 100k), mints a token, then drives the server with
# wrk on loopback (each scenario DURATION seconds, CONNECTIONS connections).
# For PostgreSQL it also measures the raw database limit for GET-by-id with
# pgbench (same point select, same connections, same duration). Prints one
# table plus the server's peak RSS (VmHWM).
#
# Env: DURATION (20), CONNECTIONS (64), THREADS (2), PORT (18181),
#      PG_URL (postgres://postgres@127.0.0.1:5432), PG_DB (crm_bench), SKIP_BUILD=1.
set -euo pipefail

BACKEND=${1:-sqlite}
SIZE=${2:-100000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$ROOT/bench"
WORK=$(mktemp -d)
BIN="$ROOT/target/release/crm-api"
SERVER_PID=

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)

case "$BACKEND" in
  sqlite) export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3" ;;
  postgres)
    command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-contrib; }
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
    export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
  *) echo "usage: bench/run.sh [sqlite|postgres] [SIZE]" >&2; exit 2 ;;
esac
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json
export IDS_FILE="$WORK/ids.txt"
# One client hammering as one caller: the rate limit (issue 13) is measured apart (bench/rate_limit.sh).
export CRM_RATE_LIMIT=${CRM_RATE_LIMIT:-0}

echo "== seeding $SIZE stakeholders on $BACKEND"
"$BIN" seed --stakeholders "$SIZE" --ids-file "$IDS_FILE" 2>/dev/null | tee "$WORK/seed.txt"
NIDS=$(wc -l < "$IDS_FILE")

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
export TOKEN=$("$BIN" token --role admin --sub bench --ttl 2h)
BASE="http://127.0.0.1:$PORT"

# A page deep into a cursor walk: follow next_cursor 20 pages of 50.
deep_path() {
  local path="/api/v1/stakeholders?limit=50" cursor
  for _ in $(seq 1 20); do
    cursor=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE$path" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')
    [ -n "$cursor" ] || break
    path="/api/v1/stakeholders?limit=50&cursor=$cursor"
  done
  echo "$path"
}

declare -a ROWS
run_wrk() { # name script [URL_PATH]
  local name=$1 script=$2
  export URL_PATH=${3:-}
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_DIR/$script" "$BASE" | grep '^RESULT')
  ROWS+=("$name ${out#RESULT }")
}

echo "== wrk: ${DURATION}s per scenario, $CONNECTIONS connections, $THREADS threads"
run_wrk "get_by_id" get_by_id.lua
run_wrk "list_kind_segment" path.lua "/api/v1/stakeholders?kind=customer&segment=gold&limit=50"
run_wrk "list_deep_cursor" path.lua "$(deep_path)"
run_wrk "search_q" path.lua "/api/v1/stakeholders?q=rahayu&limit=50"
run_wrk "create" create.lua
RSS=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")

RAW=
if [ "$BACKEND" = postgres ]; then
  echo "== pgbench: the raw point select"
  psql "$CRM_DATABASE_URL" -qc "CREATE TABLE bench_ids (n integer PRIMARY KEY, id uuid NOT NULL)" \
    -c "\\copy bench_ids (id) FROM '$IDS_FILE'" 2>/dev/null || {
      psql "$CRM_DATABASE_URL" -qc "DROP TABLE IF EXISTS bench_ids" -c "CREATE TABLE bench_ids (n serial PRIMARY KEY, id uuid NOT NULL)" -c "\\copy bench_ids (id) FROM '$IDS_FILE'"; }
  psql "$CRM_DATABASE_URL" -qc "VACUUM ANALYZE bench_ids"
  (cd "$WORK" && pgbench -n -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -D nids="$NIDS" \
     -f "$BENCH_DIR/pgbench_point_select.sql" -l --log-prefix=pgb "$CRM_DATABASE_URL" > pgbench.txt 2>&1)
  TPS=$(awk '/^tps/ {print int($3); exit}' "$WORK/pgbench.txt")
  read -r P50 P99 < <(cat "$WORK"/pgb.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
  RAW="$TPS $P50 $P99"
fi

COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo
echo "backend=$BACKEND size=$SIZE commit=$COMMIT cores=$(nproc) mem=$(free -g | awk '/Mem/ {print $2}')GiB duration=${DURATION}s connections=$CONNECTIONS"
sed 's/^/seed: /' "$WORK/seed.txt"
printf '%-20s %10s %9s %9s %8s\n' scenario "req/s" "p50 ms" "p99 ms" "non-2xx"
for row in "${ROWS[@]}"; do
  read -r name rps p50 p99 bad _ <<<"$row"
  printf '%-20s %10s %9s %9s %8s\n' "$name" "$rps" "$p50" "$p99" "$bad"
done
if [ -n "$RAW" ]; then
  read -r tps p50 p99 <<<"$RAW"
  printf '%-20s %10s %9s %9s %8s\n' "pgbench_point_select" "$tps" "$p50" "$p99" "-"
  api=$(printf '%s\n' "${ROWS[0]}" | awk '{print $2}')
  echo "GET-by-id API / raw = $(awk -v a="$api" -v r="$tps" 'BEGIN {printf "%.2f", a / r}')"
fi
echo "server peak RSS (VmHWM): $RSS"
