"""Start and stop a real `portico serve` on loopback ports it binds itself (port 0; it prints the
ones it got: docs/configuration.md), used by conftest.py and by the tests that need a server of
their own, e.g. restart persistence."""

import os
import re
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


LISTENING = re.compile(r"^listening management=127\.0\.0\.1:(\d+) gateway=127\.0\.0\.1:(\d+)$", re.M)


class Server:
    def __init__(self, data_dir, log_dir, env=None, ca=None, database=None):
        """`env`: environment variables to set for the server, besides the inherited ones.
        `ca`: the CA file that signed the management listener's certificate, when `env` gives it
        one (PORTICO_TLS_CERT, PORTICO_TLS_KEY): the server is then reached over https.
        `database`: the `--database` arguments, when not those of `database_for(data_dir)`."""
        self.data_dir = data_dir
        self.database = database_for(data_dir) if database is None else database
        self.env = {**os.environ, **(env or {})}
        self.ca = ca
        self.port = self.gateway_port = self.base_url = None  # known once started
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
        # Each start binds new ports: the server reports them after binding port 0.
        self.port = self.gateway_port = self.base_url = None
        cmd = [str(BIN), "serve", "--listen", "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0",
               "--data-dir", str(self.data_dir), *self.database]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with h.http_session() as s:
            while True:
                if self.proc.poll() is not None:
                    pytest.fail(f"portico exited with {self.proc.returncode} before /health answered "
                                f"({' '.join(cmd)})\n{self.output()}", pytrace=False)
                if self.base_url is None:
                    found = LISTENING.search(self.stdout_path.read_text(errors="replace"))
                    if found:
                        self.port, self.gateway_port = int(found[1]), int(found[2])
                        scheme = "https" if self.ca else "http"
                        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
                else:
                    try:
                        if s.get(self.base_url + "/health", timeout=2, verify=self.ca or True).status_code == 200:
                            return
                    except Exception:
                        pass
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the server did not report its ports and answer GET /health with 200 within "
                                f"{STARTUP_TIMEOUT:.0f}s\n{self.output()}", pytrace=False)
                time.sleep(0.1)  # readiness polling only; no test relies on timing

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
