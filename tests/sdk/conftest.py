"""Session fixtures: one real Portico server (the built binary, a fresh data dir) driven by the
official Huawei Cloud Python SDK.

Environment:
  PORTICO_BIN   server binary (default <repo>/target/debug/portico)
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from huaweicloudsdkapig.v2 import (
    ApigClient,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    CreateEnvironmentV2Request,
    CreateOrDeletePublishRecordForApiV2Request,
    ApiActionInfo,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkroma.v2 import RomaClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sdkhelpers as h  # noqa: E402

from portico_server import BIN, database_for, Server  # noqa: E402

# requests honours HTTP(S)_PROXY; the server is on loopback.
for _var in ("NO_PROXY", "no_proxy"):
    _have = [x for x in os.environ.get(_var, "").split(",") if x]
    os.environ[_var] = ",".join(_have + [x for x in ("127.0.0.1", "localhost") if x not in _have])


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not BIN.is_file():
        pytest.fail(f"server binary not found: {BIN} (build it with `cargo build -p portico` "
                    f"or set PORTICO_BIN)", pytrace=False)
    root = tmp_path_factory.mktemp("portico")
    data_dir = root / "data"
    data_dir.mkdir()
    srv = Server(data_dir, root)
    srv.start()
    yield srv
    crashed = srv.proc.poll() is not None
    srv.stop()
    log = srv.output(tail=None)
    if crashed or "panicked" in log:
        pytest.fail(f"the server {'died' if crashed else 'panicked'} during the session\n{srv.output()}",
                    pytrace=False)


@pytest.fixture(scope="session")
def data_dir(server):
    return server.data_dir


@pytest.fixture(scope="session")
def base_url(server):
    return server.base_url


@pytest.fixture(scope="session")
def gateway_url(server):
    return f"http://127.0.0.1:{server.gateway_port}"


@pytest.fixture(scope="session")
def creds(server):
    path = server.data_dir / "credentials.toml"
    assert path.is_file(), f"{path} was not written\n{server.output()}"
    with open(path, "rb") as f:
        c = tomllib.load(f)
    for key in ("project_id", "instance_id", "domain", "admin_user", "admin_password", "access_key", "secret_key"):
        assert isinstance(c.get(key), str) and c[key], f"credentials.toml lacks {key}: {sorted(c)}"
    return c


@pytest.fixture(scope="session")
def project_id(creds):
    return creds["project_id"]


@pytest.fixture(scope="session")
def instance_id(creds):
    return creds["instance_id"]


# Every response must carry X-Request-Id: each SDK client records the responses that lack it and an
# autouse fixture fails the test that got one.
MISSING_REQUEST_ID = []


def _record_request_id(**kwargs):
    r = kwargs["response"]
    if not r.headers.get("X-Request-Id"):
        MISSING_REQUEST_ID.append(f"{r.request.method} {r.request.url} -> {r.status_code}")


@pytest.fixture(autouse=True)
def every_response_has_request_id():
    MISSING_REQUEST_ID.clear()
    yield
    missing, MISSING_REQUEST_ID[:] = list(MISSING_REQUEST_ID), []
    assert not missing, "responses without X-Request-Id:\n  " + "\n  ".join(missing)


def build_client(base_url, ak, sk, project_id):
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (ApigClient.new_builder()
            .with_http_config(cfg)
            .with_http_handler(HttpHandler().add_response_handler(_record_request_id))
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([base_url])
            .build())


@pytest.fixture(scope="session")
def make_client(base_url):
    """make_client(ak, sk, project_id) -> ApigClient pointed at the test server."""
    return lambda ak, sk, project_id: build_client(base_url, ak, sk, project_id)


@pytest.fixture(scope="session")
def apig(base_url, creds):
    return build_client(base_url, creds["access_key"], creds["secret_key"], creds["project_id"])


@pytest.fixture(scope="session")
def roma(base_url, creds):
    """A ROMA Connect client: the same instances on the `/apic/…` prefix, and ROMA's own apps."""
    return (RomaClient.new_builder().with_http_config(HttpConfig.get_default_config())
            .with_http_handler(HttpHandler().add_response_handler(_record_request_id))
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


@pytest.fixture(scope="session")
def run_cli(server):
    """run_cli(*args) runs `portico <args> --data-dir <dir>` and returns its stdout parsed as TOML."""

    def run(*args):
        cmd = [str(BIN), *map(str, args), "--data-dir", str(server.data_dir), *database_for(server.data_dir)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        try:
            return tomllib.loads(p.stdout)
        except tomllib.TOMLDecodeError as e:
            pytest.fail(f"{' '.join(cmd)} did not print TOML ({e}):\n{p.stdout}")

    return run


@pytest.fixture(scope="session")
def new_tenant(run_cli, make_client):
    """new_tenant(readonly=False, project=None) -> dict with project_id/project_name, user, password,
    access_key, secret_key and `client` (an ApigClient for that project). A new project is created
    unless `project` (id or name) is given."""

    def make(readonly=False, project=None, with_project=True):
        out = {}
        if with_project:
            if project is None:
                p = run_cli("project", "create", h.unique("proj"))
                out.update(project_id=p["project_id"], project_name=p["project_name"])
                project = p["project_id"]
            args = ["user", "add", h.unique("user"), "--project", project]
        else:
            args = ["user", "add", h.unique("user")]
        if readonly:
            args.append("--readonly")
        u = run_cli(*args)
        c = run_cli("credential", "create", u["user_name"])
        out.update(user=u["user_name"], password=u["password"], domain=u["domain"], projects=u["projects"],
                   readonly=u["readonly"], access_key=c["access_key"], secret_key=c["secret_key"])
        pid = out.get("project_id") or (u["projects"][0] if u["projects"] else None)
        out["client"] = make_client(c["access_key"], c["secret_key"], pid) if pid else None
        return out

    return make


# ------------------------------------------------------------------------------------------
# Factories: each call creates a uniquely named object on the default instance.


@pytest.fixture
def new_group(apig, instance_id):
    def make(**kw):
        return apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=instance_id, body=h.group_body(**kw)))

    return make


@pytest.fixture
def new_env(apig, instance_id):
    def make(**kw):
        return apig.create_environment_v2(CreateEnvironmentV2Request(instance_id=instance_id, body=h.env_body(**kw)))

    return make


@pytest.fixture
def new_api(apig, instance_id, new_group):
    """new_api(group_id=None, **fields): a valid HTTP-backend API (a new group if none given)."""

    def make(group_id=None, **kw):
        gid = group_id or new_group().id
        return apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(gid, **kw)))

    return make


@pytest.fixture
def publish(apig, instance_id):
    """publish(api_id, env_id, action='online', remark=None) via CreateOrDeletePublishRecordForApiV2."""

    def act(api_id, env_id, action="online", remark=None):
        return apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
            instance_id=instance_id,
            body=ApiActionInfo(action=action, env_id=env_id, api_id=api_id, remark=remark)))

    return act
