"""A server of its own: first-start bootstrap, credentials.toml, and a restart on the same data dir
that keeps everything (and bootstraps nothing new)."""

import os
import stat
import tomllib

from huaweicloudsdkapig.v2 import (
    ApigClient,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    CreateEnvironmentV2Request,
    CreateOrDeletePublishRecordForApiV2Request,
    ApiActionInfo,
    ListApiRuntimeDefinitionV2Request,
    ListEnvironmentsV2Request,
    ShowDetailsOfApiV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig

import sdkhelpers as h
from portico_server import Server


def client_for(srv, c):
    return (ApigClient.new_builder().with_http_config(HttpConfig.get_default_config())
            .with_credentials(BasicCredentials(c["access_key"], c["secret_key"], c["project_id"]))
            .with_endpoints([srv.base_url]).build())


def test_restart_keeps_everything(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "run1").mkdir()
    (tmp_path / "run2").mkdir()

    first = Server(data, tmp_path / "run1")
    first.start()
    try:
        path = data / "credentials.toml"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)
        with open(path, "rb") as f:
            creds = tomllib.load(f)
        assert h.is_hex32(creds["project_id"]) and h.is_hex32(creds["instance_id"])
        iid = creds["instance_id"]
        apig = client_for(first, creds)
        group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=iid, body=h.group_body()))
        env = apig.create_environment_v2(CreateEnvironmentV2Request(instance_id=iid, body=h.env_body()))
        body = h.http_api_body(group.id, remark="survives a restart")
        api = apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=body))
        rec = apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
            instance_id=iid, body=ApiActionInfo(action="online", env_id=env.id, api_id=api.id)))
        before = h.body_of(apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=iid, api_id=api.id)))
    finally:
        first.stop()
    first_output = first.output(tail=None)
    assert creds["secret_key"] in first_output and creds["admin_password"] in first_output, \
        "the first start prints the bootstrap credentials once"

    second = Server(data, tmp_path / "run2")
    second.start()
    try:
        with open(data / "credentials.toml", "rb") as f:
            assert tomllib.load(f) == creds, "a restart must not bootstrap new credentials"
        apig = client_for(second, creds)
        after = h.body_of(apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=iid, api_id=api.id)))
        assert after == before
        assert after["run_env_id"] == env.id and after["publish_id"] == rec.publish_id
        h.assert_runtime_matches(body, apig.list_api_runtime_definition_v2(ListApiRuntimeDefinitionV2Request(
            instance_id=iid, api_id=api.id, env_id=env.id)))
        envs = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=iid))
        assert sorted(e.id for e in envs.envs) == sorted([env.id, h.RELEASE_ENV_ID])
    finally:
        second.stop()
    second_output = second.output(tail=None)
    assert creds["secret_key"] not in second_output and creds["admin_password"] not in second_output, \
        "secrets must not be printed or logged after the first start"
