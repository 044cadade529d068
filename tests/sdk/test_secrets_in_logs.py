"""No secret reaches the server's logs. A server of its own runs with debug logging (RUST_LOG=debug)
while every kind of secret passes through it: logins (right and wrong passwords) and the tokens they
give, AK/SK-signed and token-authenticated requests, apps with given and generated secrets, secret
resets, AppCodes, signature keys, a data source password, a script run on that data source, and
gateway calls to a published APP-authenticated API (an AppCode, an app signature, a wrong one)
whose publication has a signature key bound, so the gateway signs the backend request with its
secret. Then its stdout and stderr are searched for every one of them, raw, URL-encoded and in
base64.

The first start prints the bootstrap credentials once, on purpose (test_persistence.py); this test
reads only the output of the second start, on the same data directory."""

import base64
import socket
import threading
import tomllib
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from huaweicloudsdkapig.v2 import (
    ApiAuthCreate,
    AppCodeCreate,
    AppCreate,
    AppResetCreate,
    AssociateSignatureKeyV2Request,
    AuthOpt,
    BaseSignature,
    CreateAnAppV2Request,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    CreateAppCodeAutoV2Request,
    CreateAppCodeV2Request,
    CreateAuthorizingAppsV2Request,
    CreateOrDeletePublishRecordForApiV2Request,
    ApiActionInfo,
    CreateSignatureKeyV2Request,
    ResettingAppSecretV2Request,
    SignApiBinding,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkroma.v2 import Content, CreateAppReq, CreateDatasourceInfoRequest, CreateRomaAppRequest
from huaweicloudsdkroma.v2 import (
    CreateLiveDataApiScriptV2Request,
    CreateLiveDataApiV2Request,
    DatasourceInfo,
    DebugLiveDataApiV2Request,
    LdApiCreate,
    LdApiScriptBase,
    LdApiScriptCreate,
    LdApiTest,
    RomaClient,
)

import sdkhelpers as h
from conftest import build_client
from portico_server import Server
from test_gateway_apps import call, error_code, signed_call, until


class Backend(BaseHTTPRequestHandler):
    """Answers 200 and keeps the `Authorization` headers the gateway sent."""

    seen = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        Backend.seen.append(self.headers.get("Authorization", ""))
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        self.wfile.write(b"backend ok")

    def log_message(self, *args):
        pass


def forms(secret):
    """The forms a secret could be logged in: raw, URL-encoded, base64 (standard and URL-safe)."""
    raw = secret.encode()
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
            base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("=")}


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
    served, held = [], []
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
        sign = apig.create_signature_key_v2(CreateSignatureKeyV2Request(instance_id=iid, body=BaseSignature(
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

        # A script run on that data source: the connection is refused by a port held bound and
        # never listened on, so the run takes the error path, where a connection string could leak.
        ld = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=iid, body=LdApiCreate(
            name=h.unique("ld"), path="/" + h.unique("ld"), method="GET", version="1.0",
            content_type="application/json", roma_app_id=roma_app.id, return_format=False)))
        held.append(socket.socket())
        held[-1].bind(("127.0.0.1", 0))
        refused = roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=iid, body=DatasourceInfo(
            datasource_name=h.unique("pg"), datasource_type="POSTGRESQL", app_id=roma_app.id,
            content=Content(host="127.0.0.1", port=str(held[-1].getsockname()[1]), database_name="wh",
                            user_name="reader", password=ds_password))))
        roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
            instance_id=iid, ld_api_id=ld.id, body=LdApiScriptCreate(api_type="data", scripts=[LdApiScriptBase(
                ds_id=refused.datasource_id, type="SQL", object_name="rows",
                content=base64.b64encode(b"SELECT 1").decode(), enable_preparestatement=True)])))
        run = roma.debug_live_data_api_v2(DebugLiveDataApiV2Request(instance_id=iid, ld_api_id=ld.id,
                                                                    body=LdApiTest(parameters=[])))
        assert run.test_status_code != "200", f"the script ran against a port nobody listens on: {run}"

        # A published APP-authenticated API with a signature key bound to its publication: the
        # gateway authenticates the caller and signs the backend request with the key's secret.
        backend = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
        threading.Thread(target=backend.serve_forever, daemon=True).start()
        served.append(backend)
        group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=iid, body=h.group_body()))
        host = h.body_of(group)["sl_domain"]
        api = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
            group.id, req_protocol="HTTP", auth_type="APP", auth_opt=AuthOpt(app_code_auth_type="HEADER"),
            backend_api=h.backend_body(url_domain=f"127.0.0.1:{backend.server_address[1]}", req_uri="/echo"))))
        record = apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
            instance_id=iid, body=ApiActionInfo(action="online", env_id=h.RELEASE_ENV_ID, api_id=api.id)))
        apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(instance_id=iid, body=ApiAuthCreate(
            env_id=h.RELEASE_ENV_ID, app_ids=[app.id], api_ids=[api.id])))
        apig.associate_signature_key_v2(AssociateSignatureKeyV2Request(instance_id=iid, body=SignApiBinding(
            sign_id=sign.id, publish_ids=[record.publish_id])))
        gateway = f"http://127.0.0.1:{srv.gateway_port}"
        # Until the gateway has the binding, the backend gets the caller's own Authorization.
        signed = until(lambda: signed_call(gateway, host, api.req_uri, app.app_key, chosen),
                       lambda r: r.status_code == 200 and sign.sign_key in Backend.seen[-1])
        assert (signed.status_code, signed.text) == (200, "backend ok"), signed.text
        assert Backend.seen[-1].startswith("SDK-HMAC-SHA256") and sign.sign_key in Backend.seen[-1], \
            f"the gateway did not sign the backend request with the bound key: {Backend.seen[-1]!r}"
        by_code = call(gateway, host, api.req_uri, {"X-Apig-AppCode": code})
        assert (by_code.status_code, by_code.text) == (200, "backend ok"), by_code.text
        wrong_app_secret = chosen[:-1] + ("x" if chosen[-1] != "x" else "y")
        refused_call = signed_call(gateway, host, api.req_uri, app.app_key, wrong_app_secret)
        assert (refused_call.status_code, error_code(refused_call)) == (401, "APIG.0304"), refused_call.text
        secrets["a wrong app secret"] = wrong_app_secret
    finally:
        srv.stop()
        for backend in served:
            backend.shutdown()
        for s in held:
            s.close()

    log = srv.output(tail=None)
    assert "DEBUG" in log, "the server did not log at debug level: this test would prove nothing"
    empty = [what for what, secret in secrets.items() if not secret]
    assert not empty, f"secrets the test never got, so it could not look for them: {empty}"
    leaked = [f"{what} ({form!r})" for what, secret in secrets.items() for form in forms(secret) if form in log]
    assert not leaked, f"secrets in the server's logs: {leaked}"
