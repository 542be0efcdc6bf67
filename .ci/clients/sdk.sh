#!/usr/bin/env bash
# Generate a Python SDK from openapi/openapi.json with the pinned
# openapi-python-client, install it into the CI venv, and run the scenario
# through it against a fresh release server (.ci/clients/server.py).
# Usage: .ci/clients/sdk.sh [venv]   (default .ci/.venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-.ci/.venv}"
export PATH="$PWD/$venv/bin:$PATH"   # ruff (the generator's post hook) lives in the venv

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
openapi-python-client generate --path openapi/openapi.json --output-path "$out/sdk" \
  --config .ci/clients/sdk-config.yaml --fail-on-warning
# Dependencies (httpx, attrs) are pinned in requirements.txt; poetry-core,
# the generated package's build backend, too: no unpinned download here.
pip install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall "$out/sdk"
python .ci/clients/server.py -- python .ci/clients/sdk_scenario.py
