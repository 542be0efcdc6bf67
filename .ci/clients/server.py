#!/usr/bin/env python3
"""Run a command against a fresh release server.

    python .ci/clients/server.py [--bin target/release/crm-api] -- CMD ARGS...

Starts `crm-api serve` on an empty SQLite database in a temporary directory,
on a free loopback port, with a random HS256 secret; waits for
`/health/ready`; mints one token per role with `crm-api token`; runs CMD
with these in its environment; stops the server and exits with CMD's status.

Environment given to CMD:
  CRM_CI_URL             http://127.0.0.1:<port>            (no trailing slash)
  CRM_CI_TOKEN_<ROLE>    a bearer token for admin, manager, agent, analyst, partner
  CRM_CI_PARTNER_ID      the partner_id inside the partner token
  CRM_CI_SERVER_LOG      the server's log file
Only the standard library: this runs before anything else is known to work.
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROLES = ("admin", "manager", "agent", "analyst", "partner")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/health/ready", timeout=2) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"/health/ready not 200 after {timeout:.0f}s ({last})")


def mint(binary: str, env: dict, role: str, partner_id: str) -> str:
    args = [binary, "token", "--role", role, "--sub", f"ci-{role}", "--ttl", "2h"]
    if role == "partner":
        args += ["--partner-id", partner_id]
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    token = out.stdout.strip().splitlines()[-1].strip()
    if token.count(".") != 2:
        raise RuntimeError(f"`crm-api token --role {role}` printed no JWT: {out.stdout!r}")
    return token


def _stop(signum, _frame):
    raise SystemExit(128 + signum)  # run the finally blocks: stop the server


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/crm-api")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command given")
    binary = os.path.abspath(a.bin)
    if not os.access(binary, os.X_OK):
        ap.error(f"{binary} is not an executable (cargo build --release)")

    tmp = tempfile.mkdtemp(prefix="crm-ci-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=f"sqlite://{tmp}/crm.sqlite3",
        CRM_LISTEN=f"127.0.0.1:{port}",
        CRM_JWT_SECRET=secrets.token_hex(32),
        CRM_LOG_FORMAT="json",
        # The default budget (1200 a minute per caller) unless a job asks for
        # another (schemathesis sends far more as one caller).
        CRM_RATE_LIMIT=os.environ.get("CRM_CI_RATE_LIMIT", "1200"),
        RUST_LOG=os.environ.get("RUST_LOG", "warn"),
    )
    log_path = os.path.join(tmp, "server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "serve"], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    status = 1
    try:
        wait_ready(url, proc)
        partner_id = str(uuid.uuid4())
        child_env = dict(os.environ)
        child_env.update(CRM_CI_URL=url, CRM_CI_PARTNER_ID=partner_id, CRM_CI_SERVER_LOG=log_path)
        for role in ROLES:
            child_env[f"CRM_CI_TOKEN_{role.upper()}"] = mint(binary, env, role, partner_id)
        print(f"server: {url} (SQLite in {tmp}, log {log_path})", flush=True)
        child = subprocess.Popen(cmd, env=child_env)
        try:
            status = child.wait()
        finally:
            if child.poll() is None:
                child.terminate()
                child.wait()
        if proc.poll() is not None:
            print(f"server: exited with {proc.returncode} during the run", file=sys.stderr)
            status = status or 1
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"server: {e}", file=sys.stderr)
        status = 1
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        if status != 0:
            with open(log_path, "rb") as f:
                tail = f.read()[-4000:].decode("utf-8", "replace")
            print(f"--- last lines of the server log ({log_path}):\n{tail}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
