"""Start and stop a real `portico serve` on a free loopback port (used by conftest.py and by the
tests that need a server of their own, e.g. restart persistence)."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

import sdkhelpers as h

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("PORTICO_BIN") or REPO / "target" / "debug" / "portico")
STARTUP_TIMEOUT = 30.0


def database_for(data_dir):
    """`--database` arguments for a server on `data_dir`: with PORTICO_TEST_POSTGRES (an admin
    URL, set by scripts/test.sh for the PostgreSQL pass), a database of the data directory's own,
    created on first use and reused by a restarted server; otherwise none (SQLite in data_dir)."""
    admin = os.environ.get("PORTICO_TEST_POSTGRES")
    if not admin:
        return []
    note = Path(str(data_dir) + ".postgres-url")
    if not note.exists():
        name = "portico_sdk_" + os.urandom(8).hex()
        subprocess.run(["psql", admin, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
        note.write_text(admin.rsplit("/", 1)[0] + "/" + name)
    return ["--database", note.read_text()]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, log_dir, env=None):
        """`env`: environment variables to set for the server, besides the inherited ones."""
        self.data_dir = data_dir
        self.env = {**os.environ, **(env or {})}
        self.port = _free_port()
        self.gateway_port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = log_dir / "portico.stdout"
        self.stderr_path = log_dir / "portico.stderr"
        self.proc = None

    def output(self, tail=8000):
        """The server's stdout and stderr (the last `tail` characters of each; None: all)."""
        parts = []
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                text = p.read_text(errors="replace")
                parts.append(f"--- {p.name} ---\n{text if tail is None else text[-tail:]}")
        return "\n".join(parts)

    def start(self):
        cmd = [str(BIN), "serve", "--listen", f"127.0.0.1:{self.port}",
               "--gateway-listen", f"127.0.0.1:{self.gateway_port}", "--data-dir", str(self.data_dir),
               *database_for(self.data_dir)]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with h.http_session() as s:
            while True:
                if self.proc.poll() is not None:
                    pytest.fail(f"portico exited with {self.proc.returncode} before /health answered "
                                f"({' '.join(cmd)})\n{self.output()}", pytrace=False)
                try:
                    if s.get(self.base_url + "/health", timeout=2).status_code == 200:
                        return
                except Exception:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"GET /health did not answer 200 within {STARTUP_TIMEOUT:.0f}s\n{self.output()}",
                                pytrace=False)
                time.sleep(0.1)  # readiness polling only; no test relies on timing

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
