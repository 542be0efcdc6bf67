#!/usr/bin/env bash
# Schemathesis (pinned) against a fresh release server on SQLite: every check,
# every phase (examples, coverage, fuzzing, stateful with links inferred from
# the document and from Location headers), 25 examples per operation, as
# admin. Fails on any failure. Usage: .ci/clients/schemathesis.sh [venv]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-.ci/.venv}"
export PATH="$PWD/$venv/bin:$PATH"
report="${SCHEMATHESIS_REPORT_DIR:-target/schemathesis}"
mkdir -p "$report"
# shellcheck disable=SC2016 # expanded by the inner shell, under server.py
python .ci/clients/server.py -- bash -c '
  exec schemathesis --no-color run openapi/openapi.json \
    --url "$CRM_CI_URL" \
    --header "Authorization: Bearer $CRM_CI_TOKEN_ADMIN" \
    --checks all \
    --max-examples 25 \
    --workers 2 \
    --max-time 240 \
    --request-timeout 10 \
    --generation-database none \
    --seed "${SCHEMATHESIS_SEED:-$RANDOM}" \
    --report junit,ndjson --report-dir "'"$report"'"
'
