#!/usr/bin/env bash
# Export benchmark: bench/export.sh [sqlite|postgres] [N ...]
#
# For each N (default: 1000 10000 50000): a fresh database, one stakeholder
# with N interactions (inserted in SQL: the point is the export, not the
# writes), then GET …/export five times. Prints the document size, the
# median time, and the server's resident memory after start and its peak
# (VmHWM) after the exports: the export is streamed, so the peak should not
# grow with N.
#
# Env: PORT (18182), PG_URL (postgres://postgres@127.0.0.1:5432), PG_DB (crm_bench_export), SKIP_BUILD=1.
set -euo pipefail

BACKEND=${1:-sqlite}
shift || true
SIZES=${*:-1000 10000 50000}
PORT=${PORT:-18182}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_export}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
BIN="$ROOT/target/release/crm-api"
SERVER_PID=

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
# One client hammering as one caller: the rate limit (issue 13) is measured apart (bench/rate_limit.sh).
export CRM_RATE_LIMIT=${CRM_RATE_LIMIT:-0}
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn} CRM_LOG_FORMAT=json
BASE="http://127.0.0.1:$PORT/api/v1"

insert_interactions() { # <stakeholder id> <n>
  case "$BACKEND" in
    sqlite)
      python3 - "$WORK/bench.sqlite3" "$1" "$2" <<'PY'
import sqlite3, sys, uuid, datetime
db, sid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
ts = lambda i: (t0 + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
c.executemany(
    "INSERT INTO interactions (id, stakeholder_id, channel, direction, interaction_type, occurred_at, subject, notes,"
    " recorded_by, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,1,?,?)",
    ((str(uuid.uuid4()), sid, "phone", "inbound", "contact", ts(i), "Call", "Asked about the gold upgrade " * 4,
      "bench", ts(i), ts(i)) for i in range(n)))
c.commit()
PY
      ;;
    postgres)
      psql "$PG_URL/$PG_DB" -qc "INSERT INTO interactions (id, stakeholder_id, channel, direction, interaction_type,
        occurred_at, subject, notes, recorded_by, version, created_at, updated_at)
        SELECT gen_random_uuid(), '$1', 'phone', 'inbound', 'contact', t, 'Call', repeat('Asked about the gold upgrade ', 4),
               'bench', 1, t, t
        FROM generate_series(1, $2) i, LATERAL (SELECT timestamptz '2025-01-01' + i * interval '1 second' AS t) x" ;;
  esac
}

printf '%-8s %9s %12s %10s %12s %12s\n' backend N bytes median_ms rss_start_kB peak_rss_kB
for N in $SIZES; do
  rm -f "$WORK"/bench.sqlite3*
  case "$BACKEND" in
    sqlite) export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3" ;;
    postgres)
      psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
      export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
    *) echo "usage: bench/export.sh [sqlite|postgres] [N ...]" >&2; exit 2 ;;
  esac
  "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
  TOKEN=$("$BIN" token --role admin --sub bench --ttl 1h)
  SID=$(curl -sf -X POST "$BASE/stakeholders" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"kind":"customer","entity_type":"person","display_name":"Export Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  insert_interactions "$SID" "$N"
  RSS0=$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status)
  times=()
  for _ in 1 2 3 4 5; do
    out=$(curl -s -o "$WORK/export.json" -w '%{http_code} %{time_total} %{size_download}' "$BASE/stakeholders/$SID/export" -H "Authorization: Bearer $TOKEN")
    set -- $out
    [ "$1" = 200 ] || { echo "export answered $1" >&2; exit 1; }
    times+=("$2"); BYTES=$3
  done
  python3 -c "import json; d=json.load(open('$WORK/export.json')); assert d['counts']['interactions'] == $N, d['counts']"
  MEDIAN=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.0f", $1*1000}')
  PEAK=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
  printf '%-8s %9s %12s %10s %12s %12s\n' "$BACKEND" "$N" "$BYTES" "$MEDIAN" "$RSS0" "$PEAK"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
done
