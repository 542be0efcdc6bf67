#!/usr/bin/env bash
# Analytics benchmark: bench/analytics.sh [sqlite|postgres] [STAKEHOLDERS]
#
# Seeds a fresh database with `crm-api seed` in the contract's proportions
# (per stakeholder: 5 interactions, 0.5 offers, 0.5 complaints, and stage
# histories), starts the release server, then calls each analytics endpoint
# over the last 90 days, ungrouped and grouped by one category and one time
# dimension, RUNS times each (after one warm-up), and prints p50/max in ms
# and the server's peak resident memory (VmHWM). Default size: 100000 on
# SQLite, 1000000 on PostgreSQL.
#
# Env: PORT (18183), PG_URL (postgres://postgres@127.0.0.1:5432), PG_DB (crm_bench_analytics),
#      RUNS (9), SKIP_BUILD=1, SKIP_SEED=1 (reuse the database of a previous run).
set -euo pipefail

BACKEND=${1:-sqlite}
PORT=${PORT:-18183}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_analytics}
RUNS=${RUNS:-9}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/crm-api"
DATA=${DATA:-$ROOT/target/bench-analytics}
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT
mkdir -p "$DATA"

case "$BACKEND" in
  sqlite) SIZE=${2:-100000}; export CRM_DATABASE_URL="sqlite://$DATA/bench.sqlite3" ;;
  postgres) SIZE=${2:-1000000}; export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
  *) echo "usage: bench/analytics.sh [sqlite|postgres] [STAKEHOLDERS]" >&2; exit 2 ;;
esac
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json

if [ "${SKIP_SEED:-}" != 1 ]; then
  case "$BACKEND" in
    sqlite) rm -f "$DATA"/bench.sqlite3* ;;
    postgres) psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null ;;
  esac
  "$BIN" seed --stakeholders "$SIZE" --interactions-per 5 --offers-per 0.5 --complaints-per 0.5
  # The steady state autovacuum reaches: a visibility map, so index-only scans.
  [ "$BACKEND" = postgres ] && psql "$PG_URL/$PG_DB" -qc "VACUUM (ANALYZE)"
fi

"$BIN" serve >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" token --role analyst --sub bench --ttl 1h)
TO=$(date -u +%Y-%m-%dT00:00:00Z)
FROM=$(date -u -d "$TO - 90 days" +%Y-%m-%dT00:00:00Z)
BASE="http://127.0.0.1:$PORT/api/v1/analytics"

call() { # <path?query> → prints p50 and max in ms
  local path=$1 times=() code t
  curl -sf -o /dev/null "$BASE/$path" -H "Authorization: Bearer $TOKEN" || { echo "$path failed" >&2; exit 1; }
  for _ in $(seq 1 "$RUNS"); do
    read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$BASE/$path" -H "Authorization: Bearer $TOKEN")
    [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%8.0f %8.0f", a[int((NR+1)/2)]*1000, a[NR]*1000}'
}

W="from=$FROM&to=$TO"
printf '%-8s %9s %-46s %8s %8s\n' backend size call p50_ms max_ms
for q in \
  "portfolio?$W" "portfolio?$W&group_by=segment,lifecycle_stage" \
  "interactions?$W" "interactions?$W&group_by=channel,week" \
  "lifecycle?$W" "lifecycle?$W&group_by=kind,week" \
  "offers?$W" "offers?$W&group_by=product_category,week" \
  "complaints?$W" "complaints?$W&group_by=category,week"; do
  printf '%-8s %9s %-46s %s\n' "$BACKEND" "$SIZE" "${q%%\?*}${q#*$W}" "$(call "$q")"
done
echo "peak RSS (VmHWM): $(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status) kB"
