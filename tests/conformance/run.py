"""Schemathesis against a live `portico serve` on a fresh data directory, through the server's
own /openapi.json: no response may be a server error, and every response must match the
document (status code, content type, body schema). Every operation is fuzzed, the ROMA copies
of the APIG operations included. Bounded: a few examples per operation, and the whole run under
a deadline.

    VENV=$(bash scripts/conformance-venv.sh)
    "$VENV/bin/python" tests/conformance/run.py [--max-examples N] [schemathesis options…]

PORTICO_BIN names the binary (default target/debug/portico). With PORTICO_TEST_POSTGRES (an
admin URL; scripts/test.sh sets it in its PostgreSQL pass) the server runs on a fresh PostgreSQL
database instead of SQLite."""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(os.environ.get("PORTICO_BIN") or REPO / "target" / "debug" / "portico")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
LISTENING = re.compile(rb"^listening management=(\S+) gateway=\S+$", re.M)


def database_args():
    """`--database` for a fresh PostgreSQL database when PORTICO_TEST_POSTGRES is set."""
    admin = os.environ.get("PORTICO_TEST_POSTGRES")
    if not admin:
        return []
    name = "portico_conformance_" + os.urandom(8).hex()
    subprocess.run(["psql", admin, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    return ["--database", admin.rsplit("/", 1)[0] + "/" + name]


def wait_until_serving(log_path, proc, deadline=30.0):
    """The base URL the server reports after binding port 0, once /health answers there."""
    end = time.monotonic() + deadline
    base = None
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"portico exited with {proc.returncode} before /health answered")
        if base is None:
            found = LISTENING.search(log_path.read_bytes())
            base = found and "http://" + found[1].decode()
        else:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return base
            except OSError:
                pass
        time.sleep(0.1)  # readiness polling only
    sys.exit(f"the server did not report its address and answer GET /health within {deadline:.0f}s")


def token(base, creds):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": creds["admin_user"], "password": creds["admin_password"], "domain": {"name": creds["domain"]}}}},
        "scope": {"project": {"id": creds["project_id"]}}}}
    request = urllib.request.Request(base + "/v3/auth/tokens", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.headers["X-Subject-Token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=360.0, help="seconds for the whole schemathesis run")
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="portico-conformance-") as tmp:
        data = Path(tmp) / "data"
        log_path = Path(tmp) / "portico.log"
        log = open(log_path, "wb")
        server = subprocess.Popen([str(BIN), "serve", "--listen", "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0",
                                   "--data-dir", str(data), *database_args()],
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            base = wait_until_serving(log_path, server)
            creds = tomllib.loads((data / "credentials.toml").read_text())
            env = dict(os.environ, PORTICO_TOKEN=token(base, creds), PORTICO_PROJECT_ID=creds["project_id"],
                       PORTICO_INSTANCE_ID=creds["instance_id"])
            command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file",
                       str(HERE / "schemathesis.toml"), "run", base + "/openapi.json", "--checks", CHECKS,
                       "--max-examples", str(args.max_examples), "--workers", "2", "--seed", "1",
                       "--phases", "examples,coverage,fuzzing", *extra]
            print("+", " ".join(command), flush=True)
            try:
                result = subprocess.run(command, env=env, cwd=tmp, timeout=args.deadline)  # its cache stays out of the tree
            except subprocess.TimeoutExpired:
                sys.exit(f"schemathesis did not finish within {args.deadline:.0f}s")
            if result.returncode != 0:
                log.flush()
                tail = (Path(tmp) / "portico.log").read_text(errors="replace")[-6000:]
                print(f"--- portico log (tail) ---\n{tail}", file=sys.stderr)
            return result.returncode
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
