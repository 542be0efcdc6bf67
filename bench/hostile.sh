#!/usr/bin/env bash
# Hostile load: bench/hostile.sh [SIZE]   (SQLite, default 50k stakeholders)
#
# 1. Expensive searches: CONNECTIONS callers send `sort=display_name&q=zz`
#    (a scan) for DURATION seconds while /health/ready is probed every 0.25 s.
#    Reports the searches' latency and how many were shed with 503, and the
#    slowest readiness answer. Before the acquire timeout there was no 503
#    and p50 reached 9.8 s; readiness 11.5 s.
# 2. Slow bodies: SLOW connections each declare a 1,000-byte body and send 9
#    bytes. Reports the server's RSS before, while they are open, and how many
#    were answered 408 within the read timeout.
#
# Env: DURATION (15), CONNECTIONS (64), SLOW (2000), PORT (18182), SKIP_BUILD=1.
set -euo pipefail

SIZE=${1:-50000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
SLOW=${SLOW:-2000}
PORT=${PORT:-18182}
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
ulimit -n 65536 2>/dev/null || true

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ "${SKIP_BUILD:-}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)

export CRM_DATABASE_URL="sqlite://$WORK/bench.sqlite3"
# One client hammering as one caller: the rate limit (issue 13) is measured apart (bench/rate_limit.sh).
export CRM_RATE_LIMIT=${CRM_RATE_LIMIT:-0}
export CRM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export CRM_LISTEN="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-error} CRM_LOG_FORMAT=json
echo "== seeding $SIZE stakeholders"
"$BIN" seed --stakeholders "$SIZE" --interactions-per 0 --offers-per 0 --complaints-per 0 >/dev/null 2>&1
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
export TOKEN=$("$BIN" token --role admin --sub bench --ttl 2h)
BASE="http://127.0.0.1:$PORT"

echo "== 1. $CONNECTIONS callers searching for ${DURATION}s, readiness probed meanwhile"
(
  end=$((SECONDS + DURATION))
  while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null -m 20 -w '%{http_code} %{time_total}\n' "$BASE/health/ready"
    sleep 0.25
  done
) >"$WORK/ready.txt" &
PROBE=$!
export URL_PATH="/api/v1/stakeholders?sort=display_name&q=zz&limit=50"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 20s --latency -s "$BENCH_DIR/path.lua" "$BASE" >"$WORK/wrk.txt"
wait "$PROBE"
grep -E 'Latency|50%|99%|Requests/sec|Non-2xx' "$WORK/wrk.txt" | sed 's/^/  /'
echo "  readiness probes: $(wc -l <"$WORK/ready.txt"), not 200: $(awk '$1 != 200' "$WORK/ready.txt" | wc -l), slowest: $(sort -k2 -n "$WORK/ready.txt" | tail -1 | awk '{print $2 " s"}')"

echo "== 2. $SLOW slow-body connections (1000 bytes declared, 9 sent)"
python3 - "$PORT" "$SLOW" "$SERVER_PID" "$TOKEN" <<'PY'
import socket, sys, time
port, n, pid, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return line.split()[1] + " kB"
print("  RSS before:", rss())
head = (f"POST /api/v1/stakeholders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kind\":").encode()
socks, started = [], time.time()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head)
    s.settimeout(30)
    socks.append(s)
print(f"  {len(socks)} open after {time.time() - started:.1f} s; RSS while open:", rss())
answered = 0
for s in socks:
    try:
        if s.recv(64).startswith(b"HTTP/1.1 408"):
            answered += 1
    except OSError:
        pass
    s.close()
print(f"  answered 408: {answered}/{n}, all done after {time.time() - started:.1f} s; RSS after:", rss())
PY
echo "server peak RSS (VmHWM): $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")  commit $(cd "$ROOT" && git rev-parse --short HEAD)"
