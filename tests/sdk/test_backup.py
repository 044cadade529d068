"""`portico backup` and `portico restore` across engines (docs/operations.md): a full data set made
through the official SDKs (groups, environments and variables, APIs with drafts and published
versions, throttles, ACLs and signature keys bound to publications, custom authorizers, VPC
channels, gateway responses, apps with AppCodes and authorizations, ROMA applications, data
sources and custom backends, a DataService catalog and APIs, accounts and AK/SK pairs) is backed
up while a client keeps writing, restored into the other engine, and a server on the restored
database answers the same: every listing, every API's details, every export, the gateway."""

import difflib
import json
import os
import shutil
import subprocess
import threading
import tomllib
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huaweicloudsdkapig.v2 import (
    AclApiBindingCreate,
    ApiActionInfo,
    ApiAuthCreate,
    ApiBackendVpcReq,
    AppCodeCreate,
    AppCreate,
    AssociateRequestThrottlingPolicyV2Request,
    AuthOpt,
    AssociateSignatureKeyV2Request,
    BaseSignature,
    CreateAclStrategyV2Request,
    CreateAnAppV2Request,
    CreateApiAclBindingV2Request,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    CreateAppCodeV2Request,
    CreateAuthorizingAppsV2Request,
    CreateCustomAuthorizerV2Request,
    CreateEnvironmentV2Request,
    CreateEnvironmentVariableV2Request,
    CreateGatewayResponseV2Request,
    CreateOrDeletePublishRecordForApiV2Request,
    CreateRequestThrottlingPolicyV2Request,
    CreateSignatureKeyV2Request,
    CreateSpecialThrottlingConfigurationV2Request,
    CreateVpcChannelV2Request,
    DeleteApiV2Request,
    EnvVariableCreate,
    ResponseInfo,
    ResponsesCreate,
    SignApiBinding,
    ThrottleApiBindingCreate,
    ThrottleSpecialCreate,
    UpdateApiV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkdataartsstudio.v1 import (
    ApiCatalogCreateParaDTO,
    CreateApiRequest,
    CreateServiceCatalogRequest,
    DataArtsStudioClient,
    GatewayDTO,
    ListApisRequest,
    PublishApiToInstanceRequest,
    ShowApiRequest,
)
from huaweicloudsdkroma.v2 import (
    Content,
    CreateAppReq,
    CreateDatasourceInfoRequest,
    CreateLiveDataApiV2Request,
    CreateRomaAppRequest,
    DatasourceInfo,
    LdApiCreate,
    RomaClient,
)

import sdkhelpers as h
from conftest import build_client
from portico_server import BIN, Server
from test_acls import acl_body
from test_authorizers import authorizer_body
from test_dataservice import registered_api, script_api
from test_gateway_apps import call, until
from test_throttles import throttle_body
from test_vpc_channels import channel_body

POSTGRES = os.environ.get("PORTICO_TEST_POSTGRES")
WORKSPACE = "wsbackup"


class Echo(BaseHTTPRequestHandler):
    """A backend that answers with the path it was asked for."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def new_database():
    """`--database` arguments naming a new PostgreSQL database."""
    name = "portico_backup_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", POSTGRES, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    return ["--database", POSTGRES.rsplit("/", 1)[0] + "/" + name]


def database_args(engine):
    return new_database() if engine == "postgres" else []


def portico(*args):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def clients(srv, c):
    cfg = HttpConfig.get_default_config()
    creds = BasicCredentials(c["access_key"], c["secret_key"], c["project_id"])
    apig = build_client(srv.base_url, c["access_key"], c["secret_key"], c["project_id"])
    roma = (RomaClient.new_builder().with_http_config(cfg).with_credentials(creds)
            .with_endpoints([srv.base_url]).build())
    dlm = (DataArtsStudioClient.new_builder().with_http_config(cfg).with_credentials(creds)
           .with_endpoints([srv.base_url]).build())
    return apig, roma, dlm


def populate(srv, c, backend_port):
    """The full data set; returns what the comparison walks: ids by kind, and the gateway calls."""
    apig, roma, dlm = clients(srv, c)
    iid = c["instance_id"]
    group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=iid, body=h.group_body()))
    env = apig.create_environment_v2(CreateEnvironmentV2Request(instance_id=iid, body=h.env_body()))
    apig.create_environment_variable_v2(CreateEnvironmentVariableV2Request(instance_id=iid, body=EnvVariableCreate(
        group_id=group.id, env_id=h.RELEASE_ENV_ID, variable_name="Tail", variable_value="from-release")))
    channel = apig.create_vpc_channel_v2(CreateVpcChannelV2Request(instance_id=iid, body=channel_body()))
    authorizer = apig.create_custom_authorizer_v2(CreateCustomAuthorizerV2Request(
        instance_id=iid, body=authorizer_body()))
    apig.create_gateway_response_v2(CreateGatewayResponseV2Request(
        instance_id=iid, group_id=group.id, body=ResponsesCreate(name=h.unique("resp"), responses={
            "THROTTLED": ResponseInfo(status=503, body='{"msg":"slow"}')})))

    backend = h.backend_body(url_domain=f"127.0.0.1:{backend_port}", req_protocol="HTTP", req_uri="/echo/#Tail#")
    served = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
        group.id, req_protocol="HTTP", backend_api=backend)))
    by_app = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
        group.id, req_protocol="HTTP", auth_type="APP", auth_opt=AuthOpt(app_code_auth_type="HEADER"),
        backend_api=backend)))
    on_channel = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
        group.id, backend_api=h.backend_body(url_domain=None, vpc_channel_status=1,
                                             vpc_channel_info=ApiBackendVpcReq(vpc_channel_id=channel.id)))))
    guarded = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
        group.id, auth_type="AUTHORIZER", authorizer_id=authorizer.id)))
    records = {}
    for api in (served, by_app, on_channel, guarded):
        for env_id in (h.RELEASE_ENV_ID, env.id):
            records[api.id, env_id] = apig.create_or_delete_publish_record_for_api_v2(
                CreateOrDeletePublishRecordForApiV2Request(instance_id=iid, body=ApiActionInfo(
                    action="online", env_id=env_id, api_id=api.id))).publish_id
    # A draft that differs from what is live, and a second published version.
    changed = h.http_api_body(group.id, name=served.name, req_protocol="HTTP", req_uri=served.req_uri,
                              backend_api=backend, remark="a draft, not live in RELEASE")
    apig.update_api_v2(UpdateApiV2Request(instance_id=iid, api_id=served.id, body=changed))
    apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
        instance_id=iid, body=ApiActionInfo(action="online", env_id=env.id, api_id=served.id, remark="v2")))

    app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=iid, body=AppCreate(name=h.unique("app"))))
    code = ("Backup" + uuid.uuid4().hex * 3)[:64]
    apig.create_app_code_v2(CreateAppCodeV2Request(instance_id=iid, app_id=app.id, body=AppCodeCreate(app_code=code)))
    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(instance_id=iid, body=ApiAuthCreate(
        env_id=h.RELEASE_ENV_ID, app_ids=[app.id], api_ids=[by_app.id])))
    throttle = apig.create_request_throttling_policy_v2(CreateRequestThrottlingPolicyV2Request(
        instance_id=iid, body=throttle_body()))
    apig.create_special_throttling_configuration_v2(CreateSpecialThrottlingConfigurationV2Request(
        instance_id=iid, throttle_id=throttle.id, body=ThrottleSpecialCreate(
            call_limits=80, object_id=app.id, object_type="APP")))
    apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=iid, body=ThrottleApiBindingCreate(strategy_id=throttle.id,
                                                       publish_ids=[records[served.id, h.RELEASE_ENV_ID]])))
    acl = apig.create_acl_strategy_v2(CreateAclStrategyV2Request(instance_id=iid, body=acl_body(
        acl_type="DENY", acl_value="10.9.9.9")))
    apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(instance_id=iid, body=AclApiBindingCreate(
        acl_id=acl.id, publish_ids=[records[served.id, h.RELEASE_ENV_ID]])))
    sign = apig.create_signature_key_v2(CreateSignatureKeyV2Request(instance_id=iid, body=BaseSignature(
        name=h.unique("sig"))))
    apig.associate_signature_key_v2(AssociateSignatureKeyV2Request(instance_id=iid, body=SignApiBinding(
        sign_id=sign.id, publish_ids=[records[on_channel.id, h.RELEASE_ENV_ID]])))

    roma_app = roma.create_roma_app(CreateRomaAppRequest(instance_id=iid, body=CreateAppReq(name=h.unique("app"))))
    source = roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=iid, body=DatasourceInfo(
        datasource_name=h.unique("pg"), datasource_type="POSTGRESQL", app_id=roma_app.id,
        content=Content(host="db.internal", port="5432", database_name="wh", user_name="reader",
                        password="Ds-Password-1"))))
    ld = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=iid, body=LdApiCreate(
        name=h.unique("ld"), path="/" + h.unique("ld"), method="GET", version="1.0",
        content_type="application/json", roma_app_id=roma_app.id, return_format=False)))

    catalog = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=WORKSPACE, body=ApiCatalogCreateParaDTO(pid="0", name="sales")))
    ds_script = dlm.create_api(CreateApiRequest(workspace=WORKSPACE, dlm_type="SHARED", body=script_api(
        h.unique("orders"), catalog_id=catalog.catalog_id))).id
    ds_registered = dlm.create_api(CreateApiRequest(workspace=WORKSPACE, dlm_type="SHARED", body=registered_api(
        h.unique("reg"), host=f"127.0.0.1:{backend_port}"))).id
    dlm.publish_api_to_instance(PublishApiToInstanceRequest(
        workspace=WORKSPACE, api_id=ds_registered, instance_id=iid, body=GatewayDTO(group_id_in_apig=group.id)))
    return {
        "groups": [group.id], "apps": [app.id], "throttles": [throttle.id], "roma_apps": [roma_app.id],
        "datasources": [source.datasource_id], "ld_apis": [ld.id], "ds_apis": [ds_script, ds_registered],
        "gateway": [(h.body_of(group)["sl_domain"], served.req_uri, {}),
                    (h.body_of(group)["sl_domain"], by_app.req_uri, {"X-Apig-AppCode": code})],
    }


def state(srv, c, ids):
    """Everything the management API shows of the data set, as JSON, and the gateway's answers."""
    pid, iid = c["project_id"], c["instance_id"]
    apig_prefix = f"/v2/{pid}/apigw/instances/{iid}"

    def get(path, query=(), headers=None):
        resp = h.signed_request(srv.base_url, c["access_key"], c["secret_key"], pid, "GET", path,
                                query=list(query) + [("limit", "500")], headers=headers)
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    shown = {}
    for what in ("api-groups", "envs", "apis", "apps", "throttles", "acls", "signs", "authorizers", "vpc-channels",
                 "env-variables", "app-auths/binded-apis"):
        shown[what] = get(f"{apig_prefix}/{what}")
    for api in shown["apis"]["apis"]:
        shown["api " + api["id"]] = get(f"{apig_prefix}/apis/{api['id']}")
        for env in shown["envs"]["envs"]:
            shown[f"versions {api['id']} {env['id']}"] = get(f"{apig_prefix}/apis/publish/{api['id']}",
                                                             [("env_id", env["id"])])
    for gid in ids["groups"]:
        shown["responses " + gid] = get(f"{apig_prefix}/api-groups/{gid}/gateway-responses")
        for define, env_id in (("all", h.RELEASE_ENV_ID), ("dev", None)):
            # A fixed version: by default it is the time of the export.
            body = {"group_id": gid, "define": define, "type": "json", "version": "backup-test"}
            if env_id:
                body["env_id"] = env_id
            resp = h.signed_request(srv.base_url, c["access_key"], c["secret_key"], pid, "POST",
                                    f"{apig_prefix}/openapi/export", body=json.dumps(body))
            assert resp.status_code == 200, resp.text[:300]
            shown[f"export {gid} {define}"] = resp.content.decode()
    for app_id in ids["apps"]:
        shown["app " + app_id] = get(f"{apig_prefix}/apps/{app_id}")
        shown["app codes " + app_id] = get(f"{apig_prefix}/apps/{app_id}/app-codes")
    for tid in ids["throttles"]:
        shown["specials " + tid] = get(f"{apig_prefix}/throttles/{tid}/throttle-specials")
    for bindings, key, listing in (("throttle-bindings", "throttle_id", "throttles"),
                                   ("acl-bindings", "acl_id", "acls"), ("sign-bindings", "sign_id", "signs")):
        for policy in shown[listing][listing]:
            shown[f"{bindings} {policy['id']}"] = get(f"{apig_prefix}/{bindings}/binded-apis", [(key, policy["id"])])
    shown["roma apps"] = get(f"/v2/{pid}/instances/{iid}/apps")
    shown["datasources"] = get(f"/v2/{pid}/fdi/instances/{iid}/datasources")
    shown["ld apis"] = get(f"/v2/{pid}/apic/instances/{iid}/livedata-apis")
    for ld in ids["ld_apis"]:
        shown["ld " + ld] = get(f"/v2/{pid}/apic/instances/{iid}/livedata-apis/{ld}")
    _, _, dlm = clients(srv, c)
    shown["ds apis"] = h.body_of(dlm.list_apis(ListApisRequest(workspace=WORKSPACE, limit=100)))
    for api_id in ids["ds_apis"]:
        shown["ds " + api_id] = h.body_of(dlm.show_api(ShowApiRequest(workspace=WORKSPACE, api_id=api_id)))
    gateway = f"http://127.0.0.1:{srv.gateway_port}"
    for host, path, headers in ids["gateway"]:
        answer = until(lambda: call(gateway, host, path, headers), lambda r: r.status_code == 200)
        shown[f"gateway {path}"] = (answer.status_code, answer.json())
    return shown


def pretty(value):
    """Lines to compare: a document as it is, anything else as indented JSON."""
    return (value if isinstance(value, str) else json.dumps(value, indent=1)).splitlines()


def apis_of(srv, c, group_id):
    """The APIs of a group, in creation order."""
    pid, iid = c["project_id"], c["instance_id"]
    resp = h.signed_request(srv.base_url, c["access_key"], c["secret_key"], pid, "GET",
                            f"/v2/{pid}/apigw/instances/{iid}/apis", query=[("group_id", group_id), ("limit", "500")])
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()["apis"]


def writer(srv, c, group_id, stop, written):
    """Creates APIs one after the other until `stop` is set, noting each name once created."""
    apig, _, _ = clients(srv, c)
    n = 0
    while not stop.is_set():
        name = f"concurrent_{n:05d}"
        apig.create_api_v2(CreateApiV2Request(instance_id=c["instance_id"], body=h.http_api_body(
            group_id, name=name, req_uri=f"/concurrent/{n}")))
        written.append(name)
        n += 1


ROUTES = [("sqlite", "sqlite"), ("sqlite", "postgres"), ("postgres", "sqlite")]


@pytest.mark.parametrize("source,target", ROUTES, ids=[f"{s}-to-{t}" for s, t in ROUTES])
def test_backup_under_writes_restores_the_same_data_on_either_engine(tmp_path, source, target):
    if "postgres" in (source, target) and not POSTGRES:
        pytest.skip("needs PostgreSQL: PORTICO_TEST_POSTGRES (source scripts/postgres.sh)")
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    for d in ("a", "b", "run-a", "run-b"):
        (tmp_path / d).mkdir()
    source_db, target_db = database_args(source), database_args(target)
    first = Server(tmp_path / "a", tmp_path / "run-a", database=source_db)
    second = Server(tmp_path / "b", tmp_path / "run-b", database=target_db)
    try:
        first.start()
        with open(tmp_path / "a" / "credentials.toml", "rb") as f:
            c = tomllib.load(f)
        ids = populate(first, c, backend.server_address[1])
        apig, _, _ = clients(first, c)
        busy = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=c["instance_id"], body=h.group_body()))
        stop, written = threading.Event(), []
        thread = threading.Thread(target=writer, args=(first, c, busy.id, stop, written), daemon=True)
        thread.start()
        until(lambda: len(written), lambda n: n >= 3)
        backup_file = tmp_path / "portico.backup"
        done = portico("backup", "-o", backup_file, "--data-dir", tmp_path / "a", *source_db)
        during = len(written)
        stop.set()
        thread.join(timeout=60)
        assert done.returncode == 0, done.stderr
        assert during > 3, "no write ran during the backup: this test would prove nothing"

        shutil.copy(tmp_path / "a" / "secrets.key", tmp_path / "b" / "secrets.key")
        restored = portico("restore", backup_file, "--data-dir", tmp_path / "b", *target_db)
        assert restored.returncode == 0, restored.stderr
        second.start()
        assert not (tmp_path / "b" / "credentials.toml").exists(), "the restored data directory was bootstrapped anew"

        # The concurrent writes: the restored group holds the APIs written before the snapshot, in
        # order, and nothing half-written. The source then drops those written after it, so that
        # both hold the same.
        kept = [a["name"] for a in apis_of(second, c, busy.id)]
        assert kept == [f"concurrent_{n:05d}" for n in range(len(kept))], kept
        assert 3 <= len(kept) <= len(written), (len(kept), len(written))
        for api in apis_of(first, c, busy.id)[len(kept):]:
            apig.delete_api_v2(DeleteApiV2Request(instance_id=c["instance_id"], api_id=api["id"]))

        ids["groups"].append(busy.id)
        before, after = state(first, c, ids), state(second, c, ids)
        assert all(answer == (200, {"path": "/echo/from-release"})
                   for key, answer in after.items() if key.startswith("gateway")), after
        assert before.keys() == after.keys()
        different = [key for key in before if before[key] != after[key]]
        assert not different, "\n".join(difflib.unified_diff(
            pretty(before[different[0]]), pretty(after[different[0]]),
            different[0], "restored", lineterm=""))
    finally:
        first.stop()
        second.stop()
        backend.shutdown()
