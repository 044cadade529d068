"""No secret reaches the server's logs. A server of its own runs with debug logging (RUST_LOG=debug)
while every kind of secret passes through it: logins (right and wrong passwords) and the tokens they
give, AK/SK-signed and token-authenticated requests, apps with given and generated secrets, secret
resets, AppCodes, signature keys, a data source password, and gateway calls carrying an AppCode and
an app signature. Then its stdout and stderr are searched for every one of them.

The first start prints the bootstrap credentials once, on purpose (test_persistence.py); this test
reads only the output of the second start, on the same data directory."""

import tomllib

from huaweicloudsdkapig.v2 import (
    AppCodeCreate,
    AppCreate,
    AppResetCreate,
    BaseSignature,
    CreateAnAppV2Request,
    CreateAppCodeAutoV2Request,
    CreateAppCodeV2Request,
    CreateSignatureKeyV2Request,
    ResettingAppSecretV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkroma.v2 import Content, CreateAppReq, CreateDatasourceInfoRequest, CreateRomaAppRequest
from huaweicloudsdkroma.v2 import DatasourceInfo, RomaClient

import sdkhelpers as h
from conftest import build_client
from portico_server import Server


def login(srv, user, password, project_id):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": "portico"}}}},
        "scope": {"project": {"id": project_id}}}}
    with h.http_session() as s:
        return s.post(srv.base_url + "/v3/auth/tokens", json=body, timeout=30)


def test_no_secret_appears_in_debug_logs(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    for run in ("run1", "run2"):
        (tmp_path / run).mkdir()
    first = Server(data, tmp_path / "run1")
    first.start()
    first.stop()
    with open(data / "credentials.toml", "rb") as f:
        c = tomllib.load(f)

    monkeypatch.setenv("RUST_LOG", "debug")
    srv = Server(data, tmp_path / "run2")
    srv.start()
    secrets = {"admin secret key": c["secret_key"], "admin password": c["admin_password"]}
    try:
        iid, pid = c["instance_id"], c["project_id"]
        apig = build_client(srv.base_url, c["access_key"], c["secret_key"], pid)

        wrong = "Wrong-Password-" + h.unique("p")
        assert login(srv, c["admin_user"], wrong, pid).status_code == 401
        secrets["a wrong password"] = wrong
        ok = login(srv, c["admin_user"], c["admin_password"], pid)
        assert ok.status_code == 201, ok.text
        token = ok.headers["X-Subject-Token"]
        secrets["a token"] = token
        with h.http_session() as s:
            listed = s.get(f"{srv.base_url}/v2/{pid}/apigw/instances/{iid}/api-groups",
                           headers={"X-Auth-Token": token}, timeout=30)
            assert listed.status_code == 200, listed.text
            forged = s.get(f"{srv.base_url}/v2/{pid}/apigw/instances/{iid}/api-groups",
                           headers={"X-Auth-Token": token[:-4] + "AAAA"}, timeout=30)
            assert forged.status_code == 401
        secrets["a tampered token"] = token[:-4] + "AAAA"
        wrong_sk = "W" * 40
        assert h.signed_request(srv.base_url, c["access_key"], wrong_sk, pid, "GET",
                                f"/v2/{pid}/apigw/instances/{iid}/api-groups").status_code == 401
        secrets["a wrong secret key"] = wrong_sk

        given = "Given_Secret#" + h.unique("s")[-8:]
        app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=iid, body=AppCreate(
            name=h.unique("app"), app_key="logkey_" + h.unique("k"), app_secret=given)))
        generated = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=iid, body=AppCreate(name=h.unique("app"))))
        reset = apig.resetting_app_secret_v2(ResettingAppSecretV2Request(
            instance_id=iid, app_id=generated.id, body=AppResetCreate()))
        chosen = "Chosen_Reset#" + h.unique("r")[-8:]
        apig.resetting_app_secret_v2(ResettingAppSecretV2Request(
            instance_id=iid, app_id=app.id, body=AppResetCreate(app_secret=chosen)))
        secrets.update({"a given app secret": given, "a generated app secret": generated.app_secret,
                        "a reset app secret": reset.app_secret, "a chosen reset secret": chosen})

        code = ("+LogCode" + h.unique("c").replace("_", "") + "A" * 64)[:70]
        apig.create_app_code_v2(CreateAppCodeV2Request(instance_id=iid, app_id=app.id,
                                                       body=AppCodeCreate(app_code=code)))
        auto = apig.create_app_code_auto_v2(CreateAppCodeAutoV2Request(instance_id=iid, app_id=app.id))
        secrets.update({"a given AppCode": code, "a generated AppCode": auto.app_code})

        sign_secret = "Sign_Secret_" + h.unique("x")[-8:]
        apig.create_signature_key_v2(CreateSignatureKeyV2Request(instance_id=iid, body=BaseSignature(
            name=h.unique("sig"), sign_type="hmac", sign_key="logsignkey_" + h.unique("k")[-8:],
            sign_secret=sign_secret)))
        generated_sign = apig.create_signature_key_v2(CreateSignatureKeyV2Request(
            instance_id=iid, body=BaseSignature(name=h.unique("sig"))))
        secrets.update({"a signature key secret": sign_secret, "a generated signature secret":
                        generated_sign.sign_secret})

        roma = (RomaClient.new_builder().with_http_config(HttpConfig.get_default_config())
                .with_credentials(BasicCredentials(c["access_key"], c["secret_key"], pid))
                .with_endpoints([srv.base_url]).build())
        roma_app = roma.create_roma_app(CreateRomaAppRequest(instance_id=iid, body=CreateAppReq(name=h.unique("app"))))
        ds_password = "Ds-Password-" + h.unique("d")[-8:]
        roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=iid, body=DatasourceInfo(
            datasource_name=h.unique("pg"), datasource_type="POSTGRESQL", app_id=roma_app.id,
            content=Content(host="db.internal", port="5432", database_name="wh", user_name="reader",
                            password=ds_password))))
        secrets["a data source password"] = ds_password

        gateway = f"http://127.0.0.1:{srv.gateway_port}"
        with h.http_session() as s:
            s.get(gateway + "/anything", headers={"X-Apig-AppCode": code, "Host": "nosuch.example"}, timeout=30)
        h.signed_request(gateway, app.app_key, chosen, pid, "GET", "/anything")
    finally:
        srv.stop()

    log = srv.output(tail=None)
    assert "DEBUG" in log, "the server did not log at debug level: this test would prove nothing"
    leaked = [what for what, secret in secrets.items() if secret and secret in log]
    assert not leaked, f"secrets in the server's logs: {leaked}"
