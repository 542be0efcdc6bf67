#!/usr/bin/env bash
# Rate-limit cost (issue 13): bench/rate_limit.sh [sqlite|postgres] [SIZE]
#
# GET-by-id throughput with the limiter off (CRM_RATE_LIMIT=0) and on with a
# budget never reached (CRM_RATE_LIMIT=1000000000), alternated ROUNDS times
# over the same seeded database in one run, each DURATION seconds of wrk.
# Prints req/s and p99 per run and the on/off ratio of the medians.
#
# Env: DURATION (15), ROUNDS (3), CONNECTIONS (64), THREADS (2), PORT (18185),
#      PG_URL, PG_DB (crm_bench_ratelimit), SKIP_BUILD=1.
set -euo pipefail

BACKEND=${1:-sqlite}
SIZE=${2:-100000}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18185}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_ratelimit}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_DIR="$ROOT/bench"
WORK=$(mktemp -d)
BIN="$ROOT/target/release/crm-api"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
case "$BACKEND" in
  sqlite) export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3" ;;
  postgres) psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
            export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
  *) echo "usage: bench/rate_limit.sh [sqlite|postgres] [SIZE]" >&2; exit 2 ;;
esac
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json
export IDS_FILE="$WORK/ids.txt"
"$BIN" seed --stakeholders "$SIZE" --ids-file "$IDS_FILE" >/dev/null 2>&1
export TOKEN=$("$BIN" token --role admin --sub bench --ttl 2h)

one_run() { # <CRM_RATE_LIMIT> → "req/s p99"
  CRM_RATE_LIMIT=$1 "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_DIR/get_by_id.lua" "http://127.0.0.1:$PORT" | grep '^RESULT')
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  read -r _ rps _ p99 bad _ <<<"$out"
  [ "$bad" = 0 ] || { echo "non-2xx answers: $bad" >&2; exit 1; }
  echo "$rps $p99"
}

off=(); on=()
for round in $(seq 1 "$ROUNDS"); do
  read -r r p <<<"$(one_run 0)"; off+=("$r"); echo "round $round off: $r req/s, p99 $p ms"
  read -r r p <<<"$(one_run 1000000000)"; on+=("$r"); echo "round $round on:  $r req/s, p99 $p ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
echo "GET-by-id ($BACKEND, $SIZE): median off $m_off req/s, on $m_on req/s, on/off = $(awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "%.3f", a / b}')"
