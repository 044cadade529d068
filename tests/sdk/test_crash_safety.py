"""Crash safety: the real server is SIGKILLed in the middle of a 5,000-API import and in the middle
of a 1,000-API batch publish, while acknowledged writes go on beside them. After a restart on the
same data directory the big write is all or nothing, every write acknowledged before the kill is
there, the SQLite file passes `PRAGMA integrity_check`, and the server works.

The kill is aimed, not timed: a probe outside the server watches the store's write lock (a
`BEGIN IMMEDIATE` that SQLite refuses, or PostgreSQL's advisory write lock granted to a backend
in `pg_locks`) and which transaction holds it (on PostgreSQL the holder's backend and transaction
start; on SQLite the database's `data_version`, which any commit moves, so an unchanged version
under a held lock is one open transaction). The test kills only once the big request is
unanswered and one transaction, begun after the big request was sent, has held the lock on
several probes in a row with no other write acknowledged meanwhile: the big write's own
transaction. Every test asserts that this is what happened, and after the restart that none of
the big write survived.

PORTICO_CRASH_ROUNDS (default 1) repeats each scenario that many times (RELIABILITY.md).
"""

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import tomllib

import pytest
from huaweicloudsdkapig.v2 import (
    ApiBatchPublish,
    BatchPublishOrOfflineApiV2Request,
    CreateApiGroupV2Request,
    CreateEnvironmentV2Request,
    ImportApiDefinitionsV2Request,
    ImportApiDefinitionsV2RequestBody,
    ListApiGroupsV2Request,
    ListApisV2Request,
)
from huaweicloudsdkcore.http.formdata import FormFile

import sdkhelpers as h
from conftest import build_client
from portico_server import Server

ROUNDS = int(os.environ.get("PORTICO_CRASH_ROUNDS", "1"))
IMPORT_SIZE = 5000
PUBLISH_SIZE = 1000
# Consecutive probes that must see the write lock held, with nothing acknowledged in between,
# before the kill: a group creation holds the lock for one short transaction (one commit), the
# big write for its whole length (seconds in a debug build: RELIABILITY.md).
HELD_PROBES = 20
# Bounds on the wait for the big write to take the lock (a count of probes, not a timing claim).
MAX_PROBES = 20000


class WriteLockProbe:
    """Which transaction holds the store's write lock, seen from outside the server."""

    def __init__(self, data_dir):
        self.admin = os.environ.get("PORTICO_TEST_POSTGRES")
        if self.admin:
            url = (data_dir.parent / (data_dir.name + ".postgres-url")).read_text()
            self.database = url.rsplit("/", 1)[1]
            self.psql = subprocess.Popen(["psql", self.admin, "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        else:
            self.conn = sqlite3.connect(data_dir / "portico.db", timeout=0, isolation_level=None)
            self.conn.execute("PRAGMA data_version")

    def holder(self):
        """An identity of the transaction holding the write lock, the same on every probe while
        that one transaction lasts; None when nobody holds it."""
        if self.admin:
            # One row at most: the lock admits one writer. The `x` ends the answer either way.
            self.psql.stdin.write(
                "SELECT a.pid || '@' || a.xact_start FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                f"AND d.datname = '{self.database}' UNION ALL SELECT 'x';\n")
            rows = [self.psql.stdout.readline().strip()]
            while rows[-1] != "x":
                rows.append(self.psql.stdout.readline().strip())
            assert len(rows) <= 2, f"more than one holder of the write lock: {rows}"
            return rows[0] if len(rows) == 2 else None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("ROLLBACK")
            return None
        except sqlite3.OperationalError as e:
            assert "locked" in str(e) or "busy" in str(e), e
            # A commit by any other connection moves data_version: while it stays, the holder is
            # one transaction that has not committed yet.
            return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self):
        if self.admin:
            self.psql.stdin.close()
            self.psql.wait(timeout=10)
        else:
            self.conn.close()


def creds_of(data_dir):
    with open(data_dir / "credentials.toml", "rb") as f:
        return tomllib.load(f)


class AcknowledgedWrites(threading.Thread):
    """Creates groups one by one until stopped; remembers the names the server acknowledged.
    Only the kill may end it: an error before `killed` is set is kept in `failure`."""

    def __init__(self, apig, instance_id):
        super().__init__(daemon=True)
        self.apig, self.instance_id = apig, instance_id
        self.acknowledged = []
        self.stopping = threading.Event()
        self.killed = threading.Event()
        self.failure = None

    def run(self):
        while not self.stopping.is_set():
            name = h.unique("ack")
            try:
                self.apig.create_api_group_v2(CreateApiGroupV2Request(
                    instance_id=self.instance_id, body=h.group_body(name=name)))
            except Exception as e:  # noqa: BLE001 - told apart below
                if not self.killed.is_set():
                    self.failure = e
                return  # with the server killed, this write was never acknowledged
            self.acknowledged.append(name)


class InFlight(threading.Thread):
    """Runs one call; `outcome` is its result or the exception that ended it."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.outcome, self.answered = call, None, False

    def run(self):
        try:
            self.outcome = self.call()
            self.answered = True
        except Exception as e:  # the connection dies with the server
            self.outcome = e


def kill_inside_the_transaction(srv, probe, big_write, writer, before):
    """SIGKILLs the server once `big_write` is unanswered and one transaction, not the one that
    held the lock (if any) when the big write was sent (`before`), has held the write lock on
    HELD_PROBES probes in a row with no write acknowledged meanwhile; returns that count (None:
    the write finished before it could be caught)."""
    held, acks, holder = 0, len(writer.acknowledged), None
    for _ in range(MAX_PROBES):
        if not big_write.is_alive():
            return None
        assert writer.failure is None, f"the acknowledged writes failed: {writer.failure!r}"
        now_acks, now = len(writer.acknowledged), probe.holder()
        if now is not None and now != before and now == holder and now_acks == acks:
            held += 1
        else:
            held, acks, holder = 0, now_acks, now
        if held >= HELD_PROBES and big_write.is_alive():
            writer.killed.set()
            os.kill(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait(timeout=30)
            return held
        time.sleep(0.005)  # probe pacing only; the decision rests on what the probes saw
    pytest.fail("the big write never took the write lock")


def integrity_ok(data_dir):
    if os.environ.get("PORTICO_TEST_POSTGRES"):
        return True  # PostgreSQL recovers from its WAL by itself; there is no file to check
    conn = sqlite3.connect(data_dir / "portico.db")
    try:
        return conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def count_apis(apig, instance_id, group_id, env_id=None):
    return apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=group_id, env_id=env_id,
                                               limit=1)).total


def all_group_names(apig, instance_id):
    names, offset = set(), 0
    while True:
        page = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, offset=offset, limit=500))
        names.update(g.name for g in page.groups)
        offset += len(page.groups)
        if not page.groups or offset >= page.total:
            return names


def swagger(count, prefix):
    paths = {f"/{prefix}/{i:05d}": {"get": {"operationId": f"{prefix}_{i:05d}",
                                           "responses": {"200": {"description": "ok"}}}}
             for i in range(count)}
    return {"swagger": "2.0", "info": {"title": prefix, "version": "1"}, "paths": paths}


def import_into(apig, instance_id, group_id, path):
    body = ImportApiDefinitionsV2RequestBody(file_name=FormFile(str(path)), is_create_group=False,
                                             group_id=group_id, extend_mode="merge")
    return apig.import_api_definitions_v2(ImportApiDefinitionsV2Request(instance_id=instance_id, body=body))


class Crash:
    """A server of its own on a fresh data directory, killed and restarted by the scenario."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.data = tmp_path / "data"
        self.data.mkdir()
        self.runs = 0
        self.srv = None
        self.start()

    def start(self):
        self.runs += 1
        log_dir = self.root / f"run{self.runs}"
        log_dir.mkdir()
        self.srv = Server(self.data, log_dir)
        self.srv.start()
        c = creds_of(self.data)
        self.instance_id = c["instance_id"]
        self.apig = build_client(self.srv.base_url, c["access_key"], c["secret_key"], c["project_id"])

    def kill_during(self, call):
        """Runs `call` beside acknowledged writes and kills the server inside its transaction;
        returns the acknowledged group names, or None if the call finished first."""
        writer = AcknowledgedWrites(self.apig, self.instance_id)
        writer.start()
        while len(writer.acknowledged) < 3:  # some writes are acknowledged before the big one
            assert writer.is_alive(), "the acknowledged writes failed"
            time.sleep(0.01)
        probe = WriteLockProbe(self.data)
        try:
            before = probe.holder()
            big = InFlight(call)
            big.start()
            held = kill_inside_the_transaction(self.srv, probe, big, writer, before)
        finally:
            probe.close()
        writer.stopping.set()
        writer.join(timeout=60)
        big.join(timeout=60)
        assert writer.failure is None, f"the acknowledged writes failed: {writer.failure!r}"
        if held is None:
            self.srv.stop()
            return None
        assert not big.answered, f"the big write was answered although the kill came first: {big.outcome}"
        print(f"SIGKILL landed inside the transaction: the write lock was held on {held} probes in a row, "
              f"the request unanswered, {len(writer.acknowledged)} writes acknowledged before")
        return writer.acknowledged

    def restart_and_check(self, acknowledged):
        assert integrity_ok(self.data), "PRAGMA integrity_check failed after the kill"
        self.start()
        names = all_group_names(self.apig, self.instance_id)
        missing = [n for n in acknowledged if n not in names]
        assert not missing, f"acknowledged writes lost by the crash: {missing}"
        self.apig.create_api_group_v2(CreateApiGroupV2Request(
            instance_id=self.instance_id, body=h.group_body(name=h.unique("after"))))
        assert integrity_ok(self.data)

    def stop(self):
        if self.srv:
            self.srv.stop()
            assert "panicked" not in self.srv.output(tail=None), self.srv.output()


@pytest.fixture
def crash(tmp_path):
    c = Crash(tmp_path)
    yield c
    c.stop()


def caught(crash, prepare, big_write):
    """Runs `big_write(target)` until a kill lands inside its transaction (a fast machine may
    finish the write before the probe sees it), each attempt on a fresh target from `prepare()`
    (a write that finished would make the next attempt on the same target prove nothing);
    returns the target and the acknowledged writes of the caught attempt."""
    for _ in range(3):
        target = prepare()
        acknowledged = crash.kill_during(lambda: big_write(target))
        if acknowledged is not None:
            return target, acknowledged
        crash.start()
    pytest.fail("the big write always finished before the kill could land inside it")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_sigkill_during_a_5000_api_import_is_all_or_nothing(crash, tmp_path, round_):
    doc = tmp_path / "big.json"
    doc.write_text(json.dumps(swagger(IMPORT_SIZE, "crash")))

    def new_group():
        return crash.apig.create_api_group_v2(CreateApiGroupV2Request(
            instance_id=crash.instance_id, body=h.group_body())).id

    group_id, acknowledged = caught(
        crash, new_group, lambda gid: import_into(crash.apig, crash.instance_id, gid, doc))
    crash.restart_and_check(acknowledged)
    imported = count_apis(crash.apig, crash.instance_id, group_id)
    assert imported == 0, f"the import killed inside its transaction left {imported} of {IMPORT_SIZE} APIs"
    print(f"after the restart: {imported} of {IMPORT_SIZE} APIs imported, {len(acknowledged)} acknowledged writes kept")

    # The same import, uninterrupted, now succeeds whole.
    result = import_into(crash.apig, crash.instance_id, group_id, doc)
    assert count_apis(crash.apig, crash.instance_id, group_id) == IMPORT_SIZE, h.body_of(result)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_sigkill_during_a_1000_api_batch_publish_is_all_or_nothing(crash, tmp_path, round_):
    doc = tmp_path / "apis.json"
    doc.write_text(json.dumps(swagger(PUBLISH_SIZE, "pub")))
    group = crash.apig.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=crash.instance_id, body=h.group_body()))
    import_into(crash.apig, crash.instance_id, group.id, doc)
    ids, offset = [], 0
    while len(ids) < PUBLISH_SIZE:
        page = crash.apig.list_apis_v2(ListApisV2Request(
            instance_id=crash.instance_id, group_id=group.id, offset=offset, limit=500))
        ids += [a.id for a in page.apis]
        offset += len(page.apis)
    def new_env():
        return crash.apig.create_environment_v2(CreateEnvironmentV2Request(
            instance_id=crash.instance_id, body=h.env_body())).id

    def publish(env_id):
        return crash.apig.batch_publish_or_offline_api_v2(BatchPublishOrOfflineApiV2Request(
            instance_id=crash.instance_id, action="online", body=ApiBatchPublish(env_id=env_id, apis=ids)))

    env_id, acknowledged = caught(crash, new_env, publish)
    crash.restart_and_check(acknowledged)
    published = count_apis(crash.apig, crash.instance_id, group.id, env_id)
    assert published == 0, f"the publish killed inside its transaction left {published} of {PUBLISH_SIZE} published"
    print(f"after the restart: {published} of {PUBLISH_SIZE} APIs published, {len(acknowledged)} acknowledged writes kept")

    result = publish(env_id)
    assert len(result.success) == PUBLISH_SIZE and not result.failure, h.body_of(result)
    assert count_apis(crash.apig, crash.instance_id, group.id, env_id) == PUBLISH_SIZE
