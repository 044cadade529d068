"""DataArts Studio DataService through the official `huaweicloudsdkdataartsstudio` SDK: the API
catalog of a workspace (`workspace` and `Dlm-Type` are signed headers), publishing to the Portico
gateway instance, and the Excel export (seed 003: a .zip of workbooks of at most 200 APIs, opened
here with openpyxl) and import round trip."""

import io
import json
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openpyxl
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkdataartsstudio.v1 import (
    Api,
    ApiActionDTO,
    ApiCatalogCreateParaDTO,
    ApiCatalogDeleteParaDTO,
    ApiCatalogUpdateParaDTO,
    ApiParam,
    ApiParaForAuthorizeToInstance,
    ApiRequestPara,
    ApiResponsePara,
    AuthorizeApiToInstanceRequest,
    BackendConfig,
    CreateApiRequest,
    CreateServiceCatalogRequest,
    DataArtsStudioClient,
    DatasourceConfig,
    DeleteApiRequest,
    DeleteServiceCatalogRequest,
    ExecuteApiToInstanceRequest,
    ExportDataServiceExcelRequest,
    ExportDataServiceExcelTemplateRequest,
    ExportDataServiceZipRequest,
    GatewayDTO,
    ImportDataServiceExcelRequest,
    ImportDataServiceExcelRequestBody,
    ListApiCatalogListRequest,
    ListApisRequest,
    ListCatalogListRequest,
    PublishApiToInstanceRequest,
    RequestPara,
    SearchPublishInfoRequest,
    ShowApiRequest,
    ShowCatalogDetailRequest,
    UpdateApiRequest,
    UpdateCatalogRequest,
)
from huaweicloudsdkapig.v2 import ListApisV2Request, ShowDetailsOfApiV2Request

import sdkhelpers as h


@pytest.fixture(scope="session")
def dlm(base_url, creds):
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (DataArtsStudioClient.new_builder().with_http_config(cfg)
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


@pytest.fixture
def ws():
    """A fresh workspace id: empty, and unseen by every other test."""
    return f"ws{uuid.uuid4().hex[:16]}"


def script_api(name, catalog_id="0"):
    return Api(
        catalog_id=catalog_id, name=name, description=f"orders of a day ({name})", log_flag=True,
        api_type="API_SPECIFIC_TYPE_SCRIPT", auth_type="APP", retention_period=720, manager="reviewer",
        path=f"/{name}/{{day}}", protocol="PROTOCOL_TYPE_HTTPS", request_type="REQUEST_TYPE_GET",
        tags=["orders", "daily"], visibility="WORKSPACE", publish_type="PUBLIC",
        request_paras=[
            RequestPara(name="day", position="REQUEST_PARAMETER_POSITION_PATH", type="REQUEST_TYPE_STRING",
                        description="the day", necessary=True, example_value="2024-01-01", support_null=False),
            RequestPara(name="limit", position="REQUEST_PARAMETER_POSITION_QUERY", type="REQUEST_TYPE_NUMBER",
                        necessary=False, default_value="10"),
        ],
        datasource_config=DatasourceConfig(
            type="DWS", connection_name="dws1", connection_id="c1", database="sales", datatable="orders",
            access_mode="SQL", sql="select id, total from orders where day = ${day}",
            backend_paras=[ApiRequestPara(name="day", mapping="day", condition="CONDITION_TYPE_EQ")],
            response_paras=[ApiResponsePara(name="id", field="id", type="NUMBER", example_value="7")]))


def registered_api(name, host="127.0.0.1:9"):
    return Api(catalog_id="0", name=name, api_type="API_SPECIFIC_TYPE_REGISTER", auth_type="NONE",
               path=f"/{name}", protocol="PROTOCOL_TYPE_HTTP", request_type="REQUEST_TYPE_GET",
               backend_config=BackendConfig(type="REQUEST_TYPE_GET", protocol="PROTOCOL_TYPE_HTTP", host=host,
                                            timeout=3000, path="/echo"))


def create(dlm, ws, body):
    resp = dlm.create_api(CreateApiRequest(workspace=ws, dlm_type="SHARED", body=body))
    assert h.is_hex32(resp.id), resp
    return resp.id


def expect_dlm(call, status, code):
    err = h.expect_error(call, status, code)
    assert err.error_code.startswith("DLM."), err.error_code
    return err


def download(resp):
    chunks = []
    resp.consume_download_stream(lambda raw: chunks.append(raw.content))
    return b"".join(chunks)


def workbooks(zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        return [(name, z.read(name)) for name in z.namelist()]


def rows(workbook, sheet="APIs"):
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


def test_apis_are_created_shown_updated_listed_and_deleted(dlm, ws):
    body = script_api(h.unique("orders"))
    api_id = create(dlm, ws, body)
    shown = dlm.show_api(ShowApiRequest(workspace=ws, dlm_type="SHARED", api_id=api_id))
    assert (shown.id, shown.name, shown.type, shown.status) == (api_id, body.name, "API_SPECIFIC_TYPE_SCRIPT",
                                                               "API_STATUS_CREATED")
    assert shown.datasource_config.sql == body.datasource_config.sql
    assert [p.name for p in shown.request_paras] == ["day", "limit"]
    assert shown.request_paras[0].necessary is True
    assert isinstance(shown.create_time, int) and shown.create_time > 1_700_000_000_000

    body.description = "changed by the SDK"
    dlm.update_api(UpdateApiRequest(workspace=ws, dlm_type="EXCLUSIVE", api_id=api_id, body=body))
    shown = dlm.show_api(ShowApiRequest(workspace=ws, api_id=api_id))
    assert shown.description == "changed by the SDK"

    create(dlm, ws, registered_api(h.unique("reg")))
    groovy = script_api(h.unique("groovy"))
    groovy.api_type, groovy.groovy_content, groovy.tags = "API_SPECIFIC_TYPE_GROOVY", "return 1", ["g"]
    create(dlm, ws, groovy)

    listed = dlm.list_apis(ListApisRequest(workspace=ws, limit=10))
    assert listed.total == 3 and len(listed.records) == 3
    assert {r.authorization_status for r in listed.records} == {"UNAUTHORIZED", "NO_AUTHORIZATION_REQUIRED"}
    by_type = dlm.list_apis(ListApisRequest(workspace=ws, api_type="API_SPECIFIC_TYPE_REGISTER"))
    assert [r.type for r in by_type.records] == ["API_SPECIFIC_TYPE_REGISTER"]
    assert dlm.list_apis(ListApisRequest(workspace=ws, tags=["g"])).total == 1
    assert dlm.list_apis(ListApisRequest(workspace=ws, name=body.name[3:])).total == 1
    assert dlm.list_apis(ListApisRequest(workspace=ws, description="changed")).total == 1
    assert dlm.list_apis(ListApisRequest(workspace=ws, table_name="orde")).total == 2
    assert dlm.list_apis(ListApisRequest(workspace=ws, publish_status="PUBLISHED")).total == 0
    assert dlm.list_apis(ListApisRequest(workspace=ws, start_time="2999-01-01T00:00:00.000Z")).total == 0
    page = dlm.list_apis(ListApisRequest(workspace=ws, offset=2, limit=2))
    assert (page.total, len(page.records)) == (3, 1)
    # Another workspace sees nothing of this one.
    other = f"{ws}x"
    assert dlm.list_apis(ListApisRequest(workspace=other)).total == 0
    expect_dlm(lambda: dlm.show_api(ShowApiRequest(workspace=other, api_id=api_id)), 404, "DLM.4041")

    dlm.delete_api(DeleteApiRequest(workspace=ws, body=[api_id]))
    expect_dlm(lambda: dlm.show_api(ShowApiRequest(workspace=ws, api_id=api_id)), 404, "DLM.4041")
    assert dlm.list_apis(ListApisRequest(workspace=ws)).total == 2


def test_bad_requests_get_dataservice_errors(dlm, ws):
    expect_dlm(lambda: dlm.list_apis(ListApisRequest()), 400, "DLM.4000")
    expect_dlm(lambda: dlm.list_apis(ListApisRequest(workspace=ws, dlm_type="PRIVATE")), 400, "DLM.4002")
    no_path = script_api(h.unique("nopath"))
    no_path.path = None
    expect_dlm(lambda: create(dlm, ws, no_path), 400, "DLM.4001")
    bad_protocol = script_api(h.unique("proto"))
    bad_protocol.protocol = "PROTOCOL_TYPE_FTP"
    err = expect_dlm(lambda: create(dlm, ws, bad_protocol), 400, "DLM.4002")
    assert "protocol" in err.error_msg
    no_sql = script_api(h.unique("nosql"))
    no_sql.datasource_config.sql = None
    expect_dlm(lambda: create(dlm, ws, no_sql), 400, "DLM.4001")
    taken = script_api(h.unique("taken"))
    create(dlm, ws, taken)
    expect_dlm(lambda: create(dlm, ws, taken), 409, "DLM.4091")
    expect_dlm(lambda: create(dlm, ws, script_api(h.unique("lost"), catalog_id="nope")), 404, "DLM.4042")
    expect_dlm(lambda: dlm.delete_api(DeleteApiRequest(workspace=ws, body=["0" * 32])), 404, "DLM.4041")
    expect_dlm(lambda: dlm.export_data_service_zip(ExportDataServiceZipRequest(
        workspace=ws, body=ApiParam(publish_status_type="SOMETIMES"))), 400, "DLM.4002")


def test_catalogs(dlm, ws):
    sales = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid="0", name="sales", description="sales data")))
    assert h.is_hex32(sales.catalog_id) and sales.name == "sales"
    daily = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid=sales.catalog_id, name="daily")))
    expect_dlm(lambda: dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid="0", name="sales"))), 409, "DLM.4092")
    create(dlm, ws, script_api(h.unique("in_daily"), catalog_id=daily.catalog_id))

    detail = dlm.show_catalog_detail(ShowCatalogDetailRequest(workspace=ws, catalog_id=daily.catalog_id))
    assert (detail.path, detail.api_total, detail.catalog_total) == ("/sales/daily", 1, 0)
    children = dlm.list_catalog_list(ListCatalogListRequest(workspace=ws, catalog_id=sales.catalog_id))
    assert children.total == 1 and children.catalogs[0].name == "daily"
    apis = dlm.list_api_catalog_list(ListApiCatalogListRequest(workspace=ws, catalog_id=daily.catalog_id))
    assert apis.total == 1 and apis.apis[0].name.startswith("in_daily")

    renamed = dlm.update_catalog(UpdateCatalogRequest(workspace=ws, catalog_id=daily.catalog_id,
                                                      body=ApiCatalogUpdateParaDTO(name="per_day")))
    assert renamed.name == "per_day"
    expect_dlm(lambda: dlm.delete_service_catalog(DeleteServiceCatalogRequest(
        workspace=ws, body=ApiCatalogDeleteParaDTO(ids=[sales.catalog_id]))), 409, "DLM.4093")
    empty = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid="0", name="empty")))
    dlm.delete_service_catalog(DeleteServiceCatalogRequest(workspace=ws, body=ApiCatalogDeleteParaDTO(
        ids=[empty.catalog_id])))
    expect_dlm(lambda: dlm.show_catalog_detail(ShowCatalogDetailRequest(workspace=ws, catalog_id=empty.catalog_id)),
               404, "DLM.4042")


def test_an_api_without_a_catalog_goes_to_the_root_and_an_update_without_one_keeps_it(dlm, ws):
    """`catalog_id` is optional in the API reference: the root catalog, or the API's own on update."""
    rootless = script_api(h.unique("rootless"))
    rootless.catalog_id = None
    api_id = create(dlm, ws, rootless)
    in_root = dlm.list_api_catalog_list(ListApiCatalogListRequest(workspace=ws, catalog_id="0"))
    assert [a.id for a in in_root.apis] == [api_id]

    sales = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid="0", name="sales")))
    moved = script_api(rootless.name, catalog_id=sales.catalog_id)
    dlm.update_api(UpdateApiRequest(workspace=ws, api_id=api_id, body=moved))
    moved.catalog_id, moved.description = None, "still in sales"
    dlm.update_api(UpdateApiRequest(workspace=ws, api_id=api_id, body=moved))
    in_sales = dlm.list_api_catalog_list(ListApiCatalogListRequest(workspace=ws, catalog_id=sales.catalog_id))
    assert [a.id for a in in_sales.apis] == [api_id]
    assert dlm.show_api(ShowApiRequest(workspace=ws, api_id=api_id)).description == "still in sales"


class EchoHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        payload = json.dumps({"backend_path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_backend():
    """A small HTTP backend on loopback answering `{"backend_path": <path>}`; yields `host:port`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def gateway_get(server, host, path, deadline_s=10):
    """GET through the gateway with `Host: host`, retried until it stops answering 404 (the gateway
    picks up a publish on its next reload) or the deadline passes."""
    with h.http_session() as s:
        end = time.monotonic() + deadline_s
        while True:
            resp = s.get(f"http://127.0.0.1:{server.gateway_port}{path}", headers={"Host": host}, timeout=10)
            if resp.status_code != 404 or time.monotonic() > end:
                return resp
            time.sleep(0.2)


def test_published_apis_are_served_by_the_gateway(dlm, ws, instance_id, new_group, server, echo_backend):
    group = new_group()
    target = GatewayDTO(group_id_in_apig=group.id)
    registered = registered_api(h.unique("served"), host=echo_backend)
    reg_id = create(dlm, ws, registered)
    data = script_api(h.unique("data"))
    data.auth_type = "NONE"
    data_id = create(dlm, ws, data)
    for api_id in (reg_id, data_id):
        dlm.publish_api_to_instance(PublishApiToInstanceRequest(workspace=ws, api_id=api_id, instance_id=instance_id,
                                                                body=target))

    resp = gateway_get(server, group.sl_domain, registered.path)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"backend_path": "/echo"}
    # A data API answers with its response parameters' example values (no query is run).
    resp = gateway_get(server, group.sl_domain, data.path.replace("{day}", "2024-01-01"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"total": 1, "rows": [{"id": "7"}]}


def test_publishing_makes_a_live_gateway_api(dlm, ws, apig, instance_id, new_group):
    group = new_group()
    body = registered_api(h.unique("reg"))
    api_id = create(dlm, ws, body)
    target = GatewayDTO(apig_type="APIG", apig_instance_id=instance_id, group_id_in_apig=group.id)
    dlm.publish_api_to_instance(PublishApiToInstanceRequest(workspace=ws, api_id=api_id, instance_id=instance_id,
                                                            body=target))
    shown = dlm.show_api(ShowApiRequest(workspace=ws, api_id=api_id))
    assert shown.status == "API_STATUS_PUBLISHED"
    assert [m.instance_id for m in shown.publish_messages] == [instance_id]
    info = dlm.search_publish_info(SearchPublishInfoRequest(workspace=ws, api_id=api_id))
    assert info.total == 1

    gateway = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=group.id))
    assert [a.name for a in gateway.apis] == [body.name]
    details = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id,
                                                                    api_id=gateway.apis[0].id))
    assert (details.req_uri, details.backend_api.url_domain) == (body.path, "127.0.0.1:9")
    assert details.run_env_id == h.RELEASE_ENV_ID

    expect_dlm(lambda: dlm.delete_api(DeleteApiRequest(workspace=ws, body=[api_id])), 409, "DLM.4094")
    expect_dlm(lambda: dlm.publish_api_to_instance(PublishApiToInstanceRequest(
        workspace=ws, api_id=api_id, instance_id=instance_id, body=GatewayDTO(group_id_in_apig="0" * 32))),
        404, "DLM.4044")
    expect_dlm(lambda: dlm.authorize_api_to_instance(AuthorizeApiToInstanceRequest(
        workspace=ws, api_id=api_id, instance_id=instance_id,
        body=ApiParaForAuthorizeToInstance(app_ids=["0" * 32]))), 404, "DLM.4044")

    dlm.execute_api_to_instance(ExecuteApiToInstanceRequest(workspace=ws, api_id=api_id, instance_id=instance_id,
                                                            body=ApiActionDTO(action="UNPUBLISH")))
    assert dlm.show_api(ShowApiRequest(workspace=ws, api_id=api_id)).status == "API_STATUS_CREATED"
    dlm.delete_api(DeleteApiRequest(workspace=ws, body=[api_id]))


def test_export_zip_splits_by_200_and_imports_into_an_empty_workspace(dlm, ws, base_url, creds, tmp_path):
    catalog = dlm.create_service_catalog(CreateServiceCatalogRequest(
        workspace=ws, body=ApiCatalogCreateParaDTO(pid="0", name="exported")))
    names = [f"bulk_{i:03d}" for i in range(205)]
    for i, name in enumerate(names):
        create(dlm, ws, script_api(name, catalog_id=catalog.catalog_id if i % 2 else "0"))
    create(dlm, ws, registered_api("the_registered_one"))

    resp = dlm.export_data_service_zip(ExportDataServiceZipRequest(
        workspace=ws, dlm_type="SHARED", body=ApiParam(name="bulk_", api_specific_type_str="API_SPECIFIC_TYPE_SCRIPT",
                                                       tags=["orders"])))
    assert resp.status_code == 200
    files = workbooks(download(resp))
    assert [len(rows(wb)) - 1 for _, wb in files] == [200, 5]
    first = rows(files[0][1])
    header = first[0]
    assert header[:3] == ["name", "catalog_path", "description"]
    assert first[1][0] == "bulk_000" and first[1][1] == "/"
    assert first[2][0] == "bulk_001" and first[2][1] == "/exported"
    assert first[1][header.index("datasource_config.sql")] == "select id, total from orders where day = ${day}"
    assert first[1][header.index("log_flag")] is True
    params = rows(files[0][1], "Request Parameters")
    assert params[1][:3] == ["bulk_000", "day", "REQUEST_PARAMETER_POSITION_PATH"]

    everything = workbooks(download(dlm.export_data_service_zip(ExportDataServiceZipRequest(
        workspace=ws, body=ApiParam()))))
    assert [len(rows(wb)) - 1 for _, wb in everything] == [200, 6]

    target = f"{ws}copy"
    for name, workbook in everything:
        path = tmp_path / name
        path.write_bytes(workbook)
        resp = dlm.import_data_service_excel(ImportDataServiceExcelRequest(
            workspace=target, body=ImportDataServiceExcelRequestBody(file=FormFile(str(path)))))
        assert h.is_hex32(resp.job_id)
        job = h.signed_request(base_url, creds["access_key"], creds["secret_key"], creds["project_id"], "GET",
                               f"/v1/{creds['project_id']}/service/jobs/{resp.job_id}", headers={"workspace": target})
        assert job.status_code == 200, job.text
        assert job.json()["status"] == "SUCCESS", job.json()

    def catalog_of(workspace):
        out = {}
        for offset in (0, 200):
            for r in dlm.list_apis(ListApisRequest(workspace=workspace, offset=offset, limit=200)).records:
                shown = json.loads(dlm.show_api(ShowApiRequest(workspace=workspace, api_id=r.id)).raw_content)
                path = dlm.show_catalog_detail(ShowCatalogDetailRequest(workspace=workspace,
                                                                        catalog_id=shown["catalog_id"])).path
                for volatile in ("id", "catalog_id", "create_time", "update_time"):
                    shown.pop(volatile)
                out[r.name] = (path, shown)
        return out

    before, after = catalog_of(ws), catalog_of(target)
    assert len(before) == 206
    assert before == after


def test_excel_by_ids_template_and_bad_imports(dlm, ws, tmp_path):
    a = create(dlm, ws, script_api(h.unique("first")))
    b = create(dlm, ws, registered_api(h.unique("second")))
    resp = dlm.export_data_service_excel(ExportDataServiceExcelRequest(workspace=ws, body=[b, a]))
    book = download(resp)
    assert [r[0][:5] for r in rows(book)[1:]] == ["secon", "first"]

    template = download(dlm.export_data_service_excel_template(ExportDataServiceExcelTemplateRequest(workspace=ws)))
    assert len(rows(template)) == 1 and "backend_config.host" in rows(template)[0]

    bogus = tmp_path / "bogus.xlsx"
    bogus.write_bytes(b"this is not a workbook")
    expect_dlm(lambda: dlm.import_data_service_excel(ImportDataServiceExcelRequest(
        workspace=ws, body=ImportDataServiceExcelRequestBody(file=FormFile(str(bogus))))), 400, "DLM.4010")
    expect_dlm(lambda: dlm.export_data_service_excel(ExportDataServiceExcelRequest(workspace=ws, body=["0" * 32])),
               404, "DLM.4041")
