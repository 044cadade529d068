"""Export and import of API definitions through the official SDKs: `huaweicloudsdkapig`
(`/apigw/…`, both OpenAPI versions) and `huaweicloudsdkroma` (`/apic/…`). Every exported file is
checked by openapi-spec-validator and parsed; its content is checked at each definition level."""

import json
import subprocess
import time

import pytest
import yaml
from huaweicloudsdkapig.v2 import (
    ApiFuncCreate,
    ApiMockCreate,
    ApiPolicyHttpCreate,
    ApiConditionBase,
    BackendParamBase,
    CreateApiV2Request,
    ExportApiDefinitionsAsyncRequest,
    ExportApiDefinitionsV2Request,
    ExportOpenApiReq,
    ImportApiDefinitionsAsyncRequest,
    ImportApiDefinitionsAsyncRequestBody,
    ShowAsyncTaskResultRequest,
    ImportApiDefinitionsV2Request,
    ImportApiDefinitionsV2RequestBody,
    ReqParamBase,
    ShowDetailsOfApiV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkroma.v2 import (
    ExportApiDefinitionsV2Request as RomaExportRequest,
    ExportOpenApiReq as RomaExportReq,
    ImportApiDefinitionsV2Request as RomaImportRequest,
    ImportApiDefinitionsV2RequestBody as RomaImportBody,
    RomaClient,
    ShowDetailsOfApiV2Request as RomaShowRequest,
)
from openapi_spec_validator import validate

import sdkhelpers as h
from portico_server import BIN


@pytest.fixture(scope="session")
def roma(base_url, creds):
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (RomaClient.new_builder().with_http_config(cfg)
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


@pytest.fixture
def rich_group(apig, instance_id, new_group, publish):
    """A group whose APIs use every backend type, parameter location and auth type; the HTTP one
    has a backend policy. All but `draft_api` are published in RELEASE."""
    group = new_group()
    gid = group.id
    params = [ReqParamBase(name="id", type="STRING", location="PATH", required=1, max_size=32, remark="item id"),
              ReqParamBase(name="limit", type="NUMBER", location="QUERY", required=2, default_value="10",
                           min_num=1, max_num=100, valid_enable=1),
              ReqParamBase(name="X-Tenant", type="STRING", location="HEADER", required=1, enumerations="a,b")]
    backend_params = [BackendParamBase(origin="REQUEST", name="bid", location="PATH", value="id"),
                      BackendParamBase(origin="CONSTANT", name="X-Const", location="HEADER", value="c1"),
                      BackendParamBase(origin="SYSTEM", name="X-Src", location="HEADER", value="$context.sourceIp")]
    policy = ApiPolicyHttpCreate(
        name="vip_tenant", effect_mode="ANY", url_domain="vip.example.com:8443", req_protocol="HTTPS",
        req_method="GET", req_uri="/v1/vip/{bid}", timeout=3000,
        backend_params=[BackendParamBase(origin="REQUEST", name="bid", location="PATH", value="id")],
        conditions=[ApiConditionBase(req_param_name="X-Tenant", condition_type="exact", condition_origin="param",
                                     condition_value="b"),
                    ApiConditionBase(condition_type="pattern", condition_origin="source",
                                     condition_value="10.0.0.0/8")])
    apis = {}
    apis["http_api"] = h.http_api_body(
        gid, name=h.unique("http"), req_uri="/items/{id}", auth_type="APP", req_params=params,
        backend_params=backend_params, backend_api=h.backend_body(req_uri="/v1/items/{bid}"),
        policy_https=[policy], result_normal_sample='{"ok": true}', cors=True, tags=["orders"])
    apis["mock_api"] = h.http_api_body(
        gid, name=h.unique("mock"), req_method="POST", auth_type="IAM", backend_type="MOCK", backend_api=None,
        mock_info=ApiMockCreate(result_content='{"orders": []}'), type=2)
    apis["function_api"] = h.http_api_body(
        gid, name=h.unique("func"), req_method="ANY", match_mode="SWA", backend_type="FUNCTION", backend_api=None,
        req_protocol="BOTH",
        func_info=ApiFuncCreate(function_urn="urn:fss:region:project:function:default:orders", version="latest",
                                invocation_type="sync", network_type="V2", timeout=5000))
    apis["draft_api"] = h.http_api_body(gid, name=h.unique("draft"))
    created = {}
    for key, body in apis.items():
        created[key] = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
        if key != "draft_api":
            publish(created[key].id, h.RELEASE_ENV_ID)
    return group, created


def download(resp):
    chunks = []
    resp.consume_download_stream(lambda raw: chunks.append(raw.content))
    return b"".join(chunks)


def parse(data):
    return json.loads(data) if data.lstrip().startswith(b"{") else yaml.safe_load(data)


def operations(doc):
    return {op["operationId"]: op for item in doc["paths"].values() for key, op in item.items()
            if key in ("get", "post", "put", "delete", "patch", "head", "options", "x-apigateway-any-method")}


def export(apig, instance_id, group_id, define, fmt="json", oas="2.0", env_id=h.RELEASE_ENV_ID):
    req = ExportApiDefinitionsV2Request(instance_id=instance_id, oas_version=oas, body=ExportOpenApiReq(
        env_id=None if define == "dev" else env_id, group_id=group_id, define=define, type=fmt))
    resp = apig.export_api_definitions_v2(req)
    assert resp.status_code == 200
    data = download(resp)
    doc = parse(data)
    validate(doc)  # raises with the reason when the document is not valid Swagger 2.0 / OpenAPI 3.0
    return doc


@pytest.mark.parametrize("oas", ["2.0", "3.0"])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_every_level_exports_a_valid_document_with_the_right_content(apig, instance_id, rich_group, oas, fmt):
    group, apis = rich_group
    names = {key: api.name for key, api in apis.items()}
    published = {names[k] for k in ("http_api", "mock_api", "function_api")}

    spec = export(apig, instance_id, group.id, "spec", fmt, oas)
    assert spec["info"]["title"] == group.name
    assert ("swagger" if oas == "2.0" else "openapi") in spec
    ops = operations(spec)
    assert set(ops) == published, "spec exports what is published in the environment"
    assert all("x-apigateway-backend" not in op for op in ops.values())
    http = ops[names["http_api"]]
    assert http["security"] == [{"apig-auth-app": []}]
    assert http["x-apigateway-cors"] is True
    assert {p["name"]: p["in"] for p in http["parameters"]} == {"id": "path", "limit": "query", "X-Tenant": "header"}
    assert ops[names["mock_api"]]["x-apigateway-request-type"] == "private"
    assert ops[names["mock_api"]]["security"] == [{"apig-auth-iam": []}]
    assert ops[names["function_api"]]["x-apigateway-match-mode"] == "SWA"

    proxy = operations(export(apig, instance_id, group.id, "proxy", fmt, oas))
    backend = proxy[names["http_api"]]["x-apigateway-backend"]
    assert backend["type"] == "HTTP"
    assert backend["httpEndpoints"]["address"] == "backend.example.com:8080"
    assert {p["origin"] for p in backend["parameters"]} == {"REQUEST", "CONSTANT", "SYSTEM"}
    policy = proxy[names["http_api"]]["x-apigateway-backend-policies"][0]
    assert policy["name"] == "vip_tenant"
    assert [c["type"] for c in policy["conditions"]] == ["equal", "pattern"]
    assert proxy[names["mock_api"]]["x-apigateway-backend"]["mockEndpoints"]["result-content"] == '{"orders": []}'
    assert proxy[names["function_api"]]["x-apigateway-backend"]["type"] == "FUNCTION"

    full = operations(export(apig, instance_id, group.id, "all", fmt, oas))
    assert set(full) == published
    dev = operations(export(apig, instance_id, group.id, "dev", fmt, oas))
    assert set(dev) == set(names.values()), "dev exports every draft, published or not"


def import_file(apig, instance_id, tmp_path, doc, **form):
    path = tmp_path / "definitions.yaml"
    path.write_text(yaml.safe_dump(doc))
    body = ImportApiDefinitionsV2RequestBody(file_name=FormFile(str(path)), **form)
    return apig.import_api_definitions_v2(ImportApiDefinitionsV2Request(instance_id=instance_id, body=body))


def without_volatile(doc):
    doc = json.loads(json.dumps(doc))
    for key in ("info", "host", "servers"):
        doc.pop(key, None)
    for item in doc["paths"].values():
        for op in item.values():
            op.pop("servers", None)
    return doc


@pytest.mark.parametrize("oas", ["2.0", "3.0"])
def test_dev_export_imports_into_a_new_group_and_exports_the_same(apig, instance_id, rich_group, tmp_path, oas):
    group, _ = rich_group
    first = export(apig, instance_id, group.id, "dev", "yaml", oas)
    first["info"]["title"] = h.unique("copy")
    result = import_file(apig, instance_id, tmp_path, first, is_create_group=True)
    body = h.body_of(result)
    assert body["failure"] == [] and body["ignore"] == [], body
    assert sorted(s["action"] for s in body["success"]) == ["create"] * 4
    assert result.group_id != group.id
    again = export(apig, instance_id, result.group_id, "dev", "yaml", oas)
    assert without_volatile(again) == without_volatile(first)

    imported = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(
        instance_id=instance_id, api_id=body["success"][0]["id"]))
    assert imported.group_id == result.group_id
    assert not imported.publish_id, "imported APIs are not published"


def test_import_into_an_existing_group_merges_or_overrides(apig, instance_id, rich_group, tmp_path):
    group, apis = rich_group
    doc = export(apig, instance_id, group.id, "dev", "json", "3.0")
    for op in operations(doc).values():
        op["description"] = "changed"
    merged = h.body_of(import_file(apig, instance_id, tmp_path, doc, is_create_group=False, group_id=group.id))
    assert len(merged["ignore"]) == 4 and merged["success"] == [], merged
    overridden = h.body_of(import_file(apig, instance_id, tmp_path, doc, is_create_group=False, group_id=group.id,
                                       api_mode="override"))
    assert sorted(s["id"] for s in overridden["success"]) == sorted(a.id for a in apis.values())
    assert all(s["action"] == "update" for s in overridden["success"])
    details = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id,
                                                                    api_id=apis["http_api"].id))
    assert details.remark == "changed"


def test_export_errors_are_the_seed_errors(apig, instance_id, rich_group):
    group, _ = rich_group
    req = ExportApiDefinitionsV2Request(instance_id=instance_id, body=ExportOpenApiReq(group_id=group.id, define="all"))
    err = h.expect_error(lambda: apig.export_api_definitions_v2(req), 400, "APIG.2001")
    assert "parameterName:env_id" in err.error_msg
    unknown = "c77f5e81d9cb4424bf704ef2b0ac7600"
    req = ExportApiDefinitionsV2Request(instance_id=instance_id, body=ExportOpenApiReq(
        group_id=unknown, env_id=h.RELEASE_ENV_ID))
    err = h.expect_error(lambda: apig.export_api_definitions_v2(req), 404, "APIG.3001")
    assert err.error_msg == f"API group {unknown} does not exist"
    req = ExportApiDefinitionsV2Request(instance_id=instance_id, body=ExportOpenApiReq(
        group_id=group.id, env_id=h.RELEASE_ENV_ID, define="everything"))
    err = h.expect_error(lambda: apig.export_api_definitions_v2(req), 400, "APIG.2011")
    assert "parameterName:define" in err.error_msg


def test_roma_exports_without_env_and_imports_for_an_integration_app(roma, instance_id, rich_group, tmp_path):
    group, apis = rich_group
    resp = roma.export_api_definitions_v2(RomaExportRequest(
        instance_id=instance_id, body=RomaExportReq(group_id=group.id, define="all", type="yaml")))
    doc = parse(download(resp))
    validate(doc)
    assert set(operations(doc)) == {apis[k].name for k in ("http_api", "mock_api", "function_api")}, \
        "without env_id ROMA exports RELEASE"

    doc["info"]["title"] = h.unique("roma")
    path = tmp_path / "roma.yaml"
    path.write_text(yaml.safe_dump(doc))
    app_id = "5d6ac1c7c8104a9e8b3a0b6c2b1f0e11"
    result = roma.import_api_definitions_v2(RomaImportRequest(instance_id=instance_id, body=RomaImportBody(
        is_create_group=True, app_id=app_id, file_name=FormFile(str(path)))))
    body = h.body_of(result)
    assert len(body["success"]) == 3, body
    first = roma.show_details_of_api_v2(RomaShowRequest(instance_id=instance_id, api_id=body["success"][0]["id"]))
    assert first.roma_app_id == app_id


def test_cli_exports_and_imports_against_the_running_server(server, base_url, rich_group, tmp_path):
    group, apis = rich_group

    def cli(*args):
        cmd = [str(BIN), *map(str, args), "--server", base_url, "--data-dir", str(server.data_dir)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    out = tmp_path / "group.yaml"
    cli("export", "--group", group.name, "--define", "dev", "--format", "yaml", "--oas", "3.0", "-o", out)
    doc = yaml.safe_load(out.read_text())
    validate(doc)
    assert set(operations(doc)) == {a.name for a in apis.values()}

    report = cli("import", out, "--group", group.id, "--api-mode", "override", "--dry-run")
    assert report.startswith("dry run: nothing was changed\n"), report
    assert sum(line.startswith("update ") for line in report.splitlines()) == 4, report
    assert report.rstrip().endswith("0 created, 4 updated, 0 ignored, 0 failed"), report

    doc["info"]["title"] = h.unique("cli")
    out.write_text(yaml.safe_dump(doc))
    report = cli("import", out)
    assert report.rstrip().endswith("4 created, 0 updated, 0 ignored, 0 failed"), report


def wait_for_task(apig, instance_id, task_id):
    for _ in range(200):
        task = apig.show_async_task_result(ShowAsyncTaskResultRequest(instance_id=instance_id, task_id=task_id))
        if task.task_status not in ("waiting", "processing"):
            return task
        time.sleep(0.05)
    pytest.fail(f"task {task_id} did not finish")


def test_async_export_then_async_import(apig, instance_id, rich_group, tmp_path):
    group, apis = rich_group
    accepted = apig.export_api_definitions_async(ExportApiDefinitionsAsyncRequest(
        instance_id=instance_id, oas_version="3.0", body=ExportOpenApiReq(group_id=group.id, define="dev", type="yaml")))
    task = wait_for_task(apig, instance_id, accepted.task_id)
    assert (task.task_type, task.task_status) == ("export_api", "succeed"), task
    result = json.loads(task.task_result)
    assert result["FileType"] == ".yaml" and result["FileName"].startswith(group.name)
    doc = yaml.safe_load(result["Comment"])
    validate(doc)
    assert set(operations(doc)) == {a.name for a in apis.values()}

    doc["info"]["title"] = h.unique("async")
    path = tmp_path / "async.yaml"
    path.write_text(yaml.safe_dump(doc))
    accepted = apig.import_api_definitions_async(ImportApiDefinitionsAsyncRequest(
        instance_id=instance_id, body=ImportApiDefinitionsAsyncRequestBody(file_name=FormFile(str(path)))))
    task = wait_for_task(apig, instance_id, accepted.task_id)
    assert (task.task_type, task.task_status) == ("import_api", "succeed"), task
    assert len(json.loads(task.task_result)["success"]) == 4

    err = h.expect_error(lambda: apig.show_async_task_result(ShowAsyncTaskResultRequest(
        instance_id=instance_id, task_id="c77f5e81d9cb4424bf704ef2b0ac7600")), 404, "APIG.3022")
    assert "c77f5e81d9cb4424bf704ef2b0ac7600" in err.error_msg
