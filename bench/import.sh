#!/usr/bin/env bash
# Import benchmark (issue 13): bench/import.sh [postgres|sqlite] [ROWS]
#
# Writes a ROWS-row stakeholders CSV (bench/gen_stakeholders_csv.py: every
# third row with tags, an address and a consent; every tenth with a quoted
# newline), migrates a fresh database, then times `crm-api import
# stakeholders` on it under /usr/bin/time. Prints rows/s and the importer's
# peak RSS.
#
# Env: PG_URL, PG_DB (crm_bench_import), BATCH (500), SKIP_BUILD=1, KEEP_CSV=path (reuse or keep the file).
set -euo pipefail

BACKEND=${1:-postgres}
ROWS=${2:-1000000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${PG_DB:-crm_bench_import}
BATCH=${BATCH:-500}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
BIN="$ROOT/target/release/crm-api"
trap 'rm -rf "$WORK"' EXIT

[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
CSV=${KEEP_CSV:-$WORK/stakeholders.csv}
[ -s "$CSV" ] || python3 "$ROOT/bench/gen_stakeholders_csv.py" "$ROWS" >"$CSV"
case "$BACKEND" in
  sqlite) export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3" ;;
  postgres) psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
            export CRM_DATABASE_URL="$PG_URL/$PG_DB" ;;
  *) echo "usage: bench/import.sh [postgres|sqlite] [ROWS]" >&2; exit 2 ;;
esac
"$BIN" migrate >/dev/null
/usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import stakeholders "$CSV" --batch-size "$BATCH" \
  --errors "$WORK/errors.csv" >"$WORK/summary.json" 2>"$WORK/progress.log"
read -r secs kb <"$WORK/time"
cat "$WORK/summary.json"
python3 - "$secs" "$kb" "$WORK/summary.json" <<'PY'
import json, sys
secs, kb, summary = float(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))
print(f"{summary['rows']} rows ({summary['created']} created, {summary['failed']} failed) in {secs:.1f} s: "
      f"{summary['rows'] / secs:,.0f} rows/s; importer peak RSS {kb / 1024:.0f} MiB")
PY
[ "$BACKEND" = postgres ] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
exit 0
