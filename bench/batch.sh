#!/usr/bin/env bash
# Batch benchmark (issue 13): bench/batch.sh [sqlite|postgres]
#
# A fresh database and the release server; then RUNS batch creates of 1,000
# stakeholders each (all new e-mails), timed one after another with curl.
# Prints the p50 and max seconds per request and the server's peak RSS.
#
# Env: RUNS (7), PORT (18186), PG_URL, PG_DB (crm_bench_batch), SKIP_BUILD=1.
set -euo pipefail

BACKEND=${1:-sqlite}
RUNS=${RUNS:-7}
PORT=${PORT:-18186}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_batch}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
BIN="$ROOT/target/release/crm-api"
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
case "$BACKEND" in
  sqlite) export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3" ;;
  postgres) psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
            export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
  *) echo "usage: bench/batch.sh [sqlite|postgres]" >&2; exit 2 ;;
esac
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json CRM_RATE_LIMIT=0
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" token --role agent --sub bench --ttl 1h)

times=()
for run in $(seq 0 "$RUNS"); do
  python3 - "$run" >"$WORK/body.json" <<'PY'
import json, sys
run = int(sys.argv[1])
print(json.dumps({"inputs": [
    {"kind": "customer", "entity_type": "person", "display_name": f"Batch {run}-{i}",
     "email": f"batch-{run}-{i}@example.com", "phone": "+628123456789", "lifecycle_stage": "lead",
     "segment": "gold", "tags": ["batch", f"run{run}"], "consents": {"marketing_email": True},
     "address": {"city": "Bandung", "country": "ID"}}
    for i in range(1000)]}))
PY
  read -r code t < <(curl -s -o "$WORK/out.json" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/api/v1/stakeholders/batch/create" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary @"$WORK/body.json")
  [ "$code" = 200 ] || { echo "run $run answered $code: $(head -c 300 "$WORK/out.json")" >&2; exit 1; }
  [ "$run" = 0 ] || times+=("$t")   # run 0 warms up
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
p50=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p"); max=$(echo "$sorted" | tail -1)
echo "batch create of 1,000 stakeholders ($BACKEND): p50 ${p50} s, max ${max} s over $RUNS runs; server peak RSS $(grep VmHWM /proc/$SERVER_PID/status | awk '{print $2, $3}')"
