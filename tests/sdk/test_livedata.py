"""ROMA Connect custom backends (livedata APIs, seed 002) through the official `huaweicloudsdkroma`:
integration applications, data sources, custom backends with scripts run for real against a SQLite
file, deployment with a frontend API, test and deployment histories, and the custom backend
export/import round trip. Negative cases check the SDK's exception (status, APIG code)."""

import base64
import json
import sqlite3
import time

import pytest
import yaml
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkroma.v2 import (
    CheckLivedataApisV2Request,
    CheckRomaAppDetailsRequest,
    Content,
    CreateAppReq,
    CreateDatasourceInfoRequest,
    CreateLiveDataApiScriptV2Request,
    CreateLiveDataApiV2Request,
    CreateRomaAppRequest,
    DatasourceInfo,
    DebugLiveDataApiV2Request,
    DeleteDatasourceInfoByIdRequest,
    DeleteLiveDataApiV2Request,
    DeleteRomaAppRequest,
    ExportLiveDataApiDefinitionsV2Request,
    ImportLiveDataApiDefinitionsV2Request,
    ImportLiveDataApiDefinitionsV2RequestBody,
    LdApiCheckInfo,
    LdApiCreate,
    LdApiDeploy,
    LdApiParameter,
    LdApiScriptBase,
    LdApiScriptCreate,
    LdApiTest,
    ListDatasourcesRequest,
    ListLiveDataApiDeploymentHistoryV2Request,
    ListLiveDataApiTestHistoryV2Request,
    ListLiveDataApiV2Request,
    ListLiveDataDataSourcesV2Request,
    ListRomaAppRequest,
    LiveDataExportReq,
    PublishLiveDataApiV2Request,
    RomaClient,
    ShowDataourceDetailRequest,
    ShowDetailsOfApiV2Request,
    ShowLiveDataApiV2Request,
    UnpublishLiveDataApiV2Request,
    UpdateLiveDataApiV2Request,
)

import conftest
import sdkhelpers as h


@pytest.fixture(scope="session")
def roma(base_url, creds):
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (RomaClient.new_builder().with_http_config(cfg)
            .with_http_handler(HttpHandler().add_response_handler(conftest._record_request_id))
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


@pytest.fixture
def integration_app(roma, instance_id):
    return roma.create_roma_app(CreateRomaAppRequest(
        instance_id=instance_id, body=CreateAppReq(name=h.unique("app"), remark="custom backends")))


@pytest.fixture
def items_db(data_dir):
    """A SQLite file in the server's livedata directory; data sources name it by file name."""
    name = h.unique("items") + ".db"
    path = data_dir / "livedata" / name
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, price REAL)")
        db.executemany("INSERT INTO items (name, kind, price) VALUES (?, ?, ?)",
                       [("hammer", "tool", 9.5), ("saw", "tool", 12.0), ("apple", "food", None)])
    db.close()
    return name


def sqlite_source(roma, instance_id, app_id, path, name=None):
    return roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=instance_id, body=DatasourceInfo(
        datasource_name=name or h.unique("ds"), datasource_type="SQLITE", app_id=app_id,
        content=Content(url=path), description="items")))


def backend(app_id, name=None, path="/items", method="GET"):
    return LdApiCreate(
        name=name or h.unique("ld"), path=path, method=method, description="items by kind", version="1.0",
        content_type="application/json", roma_app_id=app_id, return_format=False,
        parameters=[LdApiParameter(name="kind", _in="Parameters", required=True, description="item kind"),
                    LdApiParameter(name="X-Limit", _in="Headers", default="10", required=False)])


def b64(text):
    return base64.b64encode(text.encode()).decode()


def script(ds_id, sql):
    return LdApiScriptCreate(api_type="data", scripts=[LdApiScriptBase(
        ds_id=ds_id, type="SQL", object_name="items", content=b64(sql), enable_preparestatement=True)])


def download(resp):
    chunks = []
    resp.consume_download_stream(lambda raw: chunks.append(raw.content))
    return b"".join(chunks)


def test_integration_apps_create_show_list_delete(roma, instance_id):
    name = h.unique("app")
    created = roma.create_roma_app(CreateRomaAppRequest(instance_id=instance_id, body=CreateAppReq(
        name=name, remark="r", key="orders-key-0001", secret="orders-secret-0001")))
    assert h.is_hex32(created.id) and created.name == name and created.key == "orders-key-0001"
    assert created.owner is True and created.created_user.user_name
    shown = roma.check_roma_app_details(CheckRomaAppDetailsRequest(app_id=created.id, instance_id=instance_id))
    assert (shown.name, shown.remark) == (name, "r")
    listed = roma.list_roma_app(ListRomaAppRequest(instance_id=instance_id, name=name))
    assert [a.id for a in listed.apps] == [created.id] and listed.total == 1

    h.expect_error(lambda: roma.create_roma_app(CreateRomaAppRequest(
        instance_id=instance_id, body=CreateAppReq(name=name))), 409, "APIG.3340")
    err = h.expect_error(lambda: roma.create_roma_app(CreateRomaAppRequest(
        instance_id=instance_id, body=CreateAppReq(name="1 bad"))), 400, "APIG.2011")
    assert "parameterName:name" in err.error_msg
    roma.delete_roma_app(DeleteRomaAppRequest(app_id=created.id, instance_id=instance_id))
    h.expect_error(lambda: roma.check_roma_app_details(
        CheckRomaAppDetailsRequest(app_id=created.id, instance_id=instance_id)), 404, "APIG.3030")


def test_data_sources_create_show_list_delete(roma, instance_id, integration_app, items_db):
    app_id = integration_app.id
    pg = roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=instance_id, body=DatasourceInfo(
        datasource_name=h.unique("pg"), datasource_type="POSTGRESQL", app_id=app_id,
        content=Content(host="db.internal", port="5432", database_name="wh", user_name="reader", password="pw"))))
    assert pg.app_name == integration_app.name and pg.content.host == "db.internal"
    assert pg.content.password is None, "the password is never shown"
    lite = sqlite_source(roma, instance_id, app_id, items_db)
    shown = roma.show_dataource_detail(ShowDataourceDetailRequest(instance_id=instance_id, datasource_id=lite.datasource_id))
    assert (shown.datasource_type, shown.content.url) == ("SQLITE", items_db)
    listed = roma.list_datasources(ListDatasourcesRequest(instance_id=instance_id, app_id=app_id))
    assert {d.datasource_id for d in listed.entities} == {pg.datasource_id, lite.datasource_id}
    apic = roma.list_live_data_data_sources_v2(ListLiveDataDataSourcesV2Request(instance_id=instance_id, app_id=app_id))
    assert {(d.id, d.type) for d in apic.data_sources} == {(pg.datasource_id, "postgresql"), (lite.datasource_id, "sqlite")}

    err = h.expect_error(lambda: roma.create_datasource_info(CreateDatasourceInfoRequest(
        instance_id=instance_id, body=DatasourceInfo(datasource_name=h.unique("x"), datasource_type="NOSUCH",
                                                     app_id=app_id))), 400, "APIG.2011")
    assert "datasource_type" in err.error_msg
    h.expect_error(lambda: roma.delete_roma_app(DeleteRomaAppRequest(app_id=app_id, instance_id=instance_id)),
                   409, "APIG.3323")
    roma.delete_datasource_info_by_id(DeleteDatasourceInfoByIdRequest(instance_id=instance_id, datasource_id=pg.datasource_id))
    h.expect_error(lambda: roma.show_dataource_detail(ShowDataourceDetailRequest(
        instance_id=instance_id, datasource_id=pg.datasource_id)), 404, "APIG.3031")


def test_custom_backend_lifecycle_runs_scripts_and_deploys_a_frontend_api(
        roma, apig, instance_id, integration_app, items_db, new_group, new_env):
    app_id = integration_app.id
    source = sqlite_source(roma, instance_id, app_id, items_db)
    body = backend(app_id)
    created = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=instance_id, body=body))
    assert (created.status, created.type, created.roma_app_name) == (1, "data", integration_app.name)
    h.assert_fields_match(h.wire(body), h.body_of(created))
    ld_id = created.id

    listed = roma.list_live_data_api_v2(ListLiveDataApiV2Request(instance_id=instance_id, app_id=app_id, status="1"))
    assert [a.id for a in listed.apis] == [ld_id]
    body.description = "changed"
    updated = roma.update_live_data_api_v2(UpdateLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id, body=body))
    assert updated.description == "changed"
    roma.check_livedata_apis_v2(CheckLivedataApisV2Request(instance_id=instance_id, body=LdApiCheckInfo(
        type="name", ld_api_name=h.unique("free"), roma_app_id=app_id)))
    h.expect_error(lambda: roma.check_livedata_apis_v2(CheckLivedataApisV2Request(instance_id=instance_id, body=LdApiCheckInfo(
        type="path", ld_api_method="GET", ld_api_path="/items", roma_app_id=app_id))), 409, "APIG.3343")

    h.expect_error(lambda: roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
        instance_id=instance_id, ld_api_id=ld_id, body=LdApiScriptCreate(api_type="data", scripts=[LdApiScriptBase(
            ds_id=source.datasource_id, type="SQL", object_name="o", content="%%% not base64")]))), 400, "APIG.2011")
    scripted = roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
        instance_id=instance_id, ld_api_id=ld_id,
        body=script(source.datasource_id, "SELECT name, price FROM items WHERE kind = ${kind} ORDER BY name")))
    assert scripted.status == 3 and scripted.scripts[0].ds_type == "sqlite"

    run = roma.debug_live_data_api_v2(DebugLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id, body=LdApiTest(
        parameters=[LdApiParameter(name="kind", _in="Parameters", default="tool")])))
    assert run.test_status_code == "200", run
    assert json.loads(run.test_response) == {"items": [{"name": "hammer", "price": 9.5}, {"name": "saw", "price": 12.0}]}
    history = roma.list_live_data_api_test_history_v2(ListLiveDataApiTestHistoryV2Request(instance_id=instance_id, ld_api_id=ld_id))
    assert [t.test_id for t in history.histories] == [run.test_id]

    group, env = new_group(), new_env()
    deployment = roma.publish_live_data_api_v2(PublishLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id, body=LdApiDeploy(
        ld_api_id=ld_id, deploy_front_api=True, auth_type="NONE", group_id=group.id, env_id=env.id, protocol="HTTPS",
        roma_app_id=app_id, retry_count="1")))
    assert deployment.api_definition.status == 4 and deployment.group_id == group.id
    front = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=deployment.api_id))
    assert (front.req_uri, front.run_env_id) == ("/items", env.id)
    deployments = roma.list_live_data_api_deployment_history_v2(
        ListLiveDataApiDeploymentHistoryV2Request(instance_id=instance_id, ld_api_id=ld_id))
    assert [d.api_id for d in deployments.histories] == [deployment.api_id]
    h.expect_error(lambda: roma.delete_live_data_api_v2(DeleteLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id)),
                   409, "APIG.3344")

    roma.unpublish_live_data_api_v2(UnpublishLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id))
    assert roma.show_live_data_api_v2(ShowLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id)).status == 3
    h.expect_error(lambda: roma.unpublish_live_data_api_v2(UnpublishLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id)),
                   409, "APIG.3345")
    roma.delete_live_data_api_v2(DeleteLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id))
    h.expect_error(lambda: roma.show_live_data_api_v2(ShowLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld_id)),
                   404, "APIG.3032")


def test_a_data_source_portico_cannot_run_is_refused_on_test(roma, instance_id, integration_app):
    mysql = roma.create_datasource_info(CreateDatasourceInfoRequest(instance_id=instance_id, body=DatasourceInfo(
        datasource_name=h.unique("my"), datasource_type="MYSQL", app_id=integration_app.id,
        content=Content(host="mysql.internal", port="3306", database_name="legacy", user_name="u", password="p"))))
    ld = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=instance_id, body=backend(integration_app.id)))
    roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
        instance_id=instance_id, ld_api_id=ld.id, body=script(mysql.datasource_id, "SELECT 1")))
    err = h.expect_error(lambda: roma.debug_live_data_api_v2(DebugLiveDataApiV2Request(
        instance_id=instance_id, ld_api_id=ld.id, body=LdApiTest(parameters=[LdApiParameter(
            name="kind", _in="Parameters", default="x")]))), 400, "APIG.2030")
    assert "MYSQL" in err.error_msg


def test_export_then_import_round_trips_the_custom_backends(roma, instance_id, integration_app, items_db, tmp_path):
    app_id = integration_app.id
    source = sqlite_source(roma, instance_id, app_id, items_db)
    first = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=instance_id, body=backend(app_id, path="/a")))
    roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
        instance_id=instance_id, ld_api_id=first.id, body=script(source.datasource_id, "SELECT * FROM items")))
    roma.create_live_data_api_v2(CreateLiveDataApiV2Request(instance_id=instance_id, body=backend(app_id, path="/b", method="POST")))

    def listing():
        found = roma.list_live_data_api_v2(ListLiveDataApiV2Request(instance_id=instance_id, app_id=app_id))
        out = []
        for api in json.loads(found.raw_content)["apis"]:
            for key in ("id", "created_time", "modified_time"):
                api.pop(key)
            for s in api["scripts"]:
                s.pop("created_time"), s.pop("modified_time")
            out.append(api)
        return sorted(out, key=lambda a: a["path"])

    before = listing()
    resp = roma.export_live_data_api_definitions_v2(ExportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=LiveDataExportReq(app_id=app_id, format="yaml")))
    data = download(resp)
    doc = yaml.safe_load(data)
    assert doc["swagger"] == "2.0" and sorted(doc["paths"]) == ["/a", "/b"]
    assert doc["paths"]["/a"]["get"]["x-livedata-scripts"][0]["ds_id"] == source.datasource_id
    only_developing = roma.export_live_data_api_definitions_v2(ExportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=LiveDataExportReq(app_id=app_id, format="json", status=3)))
    assert list(json.loads(download(only_developing))["paths"]) == ["/a"]
    h.expect_error(lambda: roma.export_live_data_api_definitions_v2(ExportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=LiveDataExportReq(app_id=app_id, format="xml"))), 400, "APIG.2011")

    for api in roma.list_live_data_api_v2(ListLiveDataApiV2Request(instance_id=instance_id, app_id=app_id)).apis:
        roma.delete_live_data_api_v2(DeleteLiveDataApiV2Request(instance_id=instance_id, ld_api_id=api.id))
    path = tmp_path / "livedata.yaml"
    path.write_bytes(data)
    result = roma.import_live_data_api_definitions_v2(ImportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=ImportLiveDataApiDefinitionsV2RequestBody(
            extend_mode="merge", api_mode="merge", file_name=FormFile(str(path)))))
    body = h.body_of(result)
    assert [s["action"] for s in body["success"]] == ["create", "create"] and body["failure"] == [], body
    assert listing() == before

    again = roma.import_live_data_api_definitions_v2(ImportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=ImportLiveDataApiDefinitionsV2RequestBody(
            api_mode="override", file_name=FormFile(str(path)))))
    assert [s["action"] for s in h.body_of(again)["success"]] == ["update", "update"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.0\n")
    h.expect_error(lambda: roma.import_live_data_api_definitions_v2(ImportLiveDataApiDefinitionsV2Request(
        instance_id=instance_id, body=ImportLiveDataApiDefinitionsV2RequestBody(file_name=FormFile(str(bad))))),
        400, "APIG.2011")


def test_a_deployed_custom_backend_answers_through_the_gateway(server, roma, instance_id, integration_app, items_db,
                                                               new_group):
    """The frontend API a deployment publishes is served by the real gateway of the real binary,
    which forwards to the custom backend runtime: query parameters become the script's values."""
    app_id = integration_app.id
    source = sqlite_source(roma, instance_id, app_id, items_db)
    ld = roma.create_live_data_api_v2(CreateLiveDataApiV2Request(
        instance_id=instance_id, body=backend(app_id, path="/gw/items")))
    roma.create_live_data_api_script_v2(CreateLiveDataApiScriptV2Request(
        instance_id=instance_id, ld_api_id=ld.id,
        body=script(source.datasource_id, "SELECT name FROM items WHERE kind = ${kind} ORDER BY name")))
    group = new_group()
    roma.publish_live_data_api_v2(PublishLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld.id, body=LdApiDeploy(
        ld_api_id=ld.id, deploy_front_api=True, auth_type="NONE", group_id=group.id, env_id=h.RELEASE_ENV_ID,
        protocol="HTTP")))

    session = h.http_session()
    url = f"http://127.0.0.1:{server.gateway_port}/gw/items"
    headers = {"Host": group.sl_domain}
    deadline = time.monotonic() + 30  # the gateway picks up publications on its next poll
    while True:
        reply = session.get(url, params={"kind": "tool"}, headers=headers, timeout=10)
        if reply.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"items": [{"name": "hammer"}, {"name": "saw"}]}
    missing = session.get(url, headers=headers, timeout=10)
    assert missing.status_code == 400 and missing.json()["error_code"] == "APIG.2001", missing.text

    roma.unpublish_live_data_api_v2(UnpublishLiveDataApiV2Request(instance_id=instance_id, ld_api_id=ld.id))
    deadline = time.monotonic() + 30
    while True:
        gone = session.get(url, params={"kind": "tool"}, headers=headers, timeout=10)
        # Until the gateway reloads, the runtime itself refuses the undeployed backend (409).
        assert gone.status_code in (404, 409), gone.text
        if gone.status_code == 404 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert gone.status_code == 404, gone.text
