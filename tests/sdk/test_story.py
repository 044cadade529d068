"""The full story, end to end through the official SDK (seed 004):

group -> env -> API with an HTTP backend, request parameters in PATH/QUERY/HEADER (number range,
string length, enumeration, defaults), backend parameters of all three origins, a backend policy
with conditions and its own backend parameters -> publish -> ShowDetailsOfApiV2 returns field for
field what was created -> change the draft -> the runtime definition still shows the published
version -> publish to RELEASE too (`|`-joined run_env_*) -> offline both.
"""

from huaweicloudsdkapig.v2 import (
    ApiBatchPublish,
    ApiConditionBase,
    ApiCreate,
    ApiPolicyHttpCreate,
    AuthOpt,
    BackendApiCreate,
    BackendParamBase,
    BatchPublishOrOfflineApiV2Request,
    CreateApiV2Request,
    ListApiRuntimeDefinitionV2Request,
    ListApisV2Request,
    ReqParamBase,
    ShowDetailsOfApiV2Request,
    UpdateApiV2Request,
)

import sdkhelpers as h


def story_api(group_id, backend_uri="/v1/items/{itemId}", remark="story API, first draft"):
    return ApiCreate(
        name=h.unique("story_api"),
        type=1,
        version="v1.0",
        req_protocol="HTTPS",
        req_method="GET",
        req_uri="/story/items/{id}",
        auth_type="APP",
        auth_opt=AuthOpt(app_code_auth_type="HEADER"),
        cors=True,
        match_mode="NORMAL",
        backend_type="HTTP",
        remark=remark,
        group_id=group_id,
        body_remark="no body",
        result_normal_sample='{"id": "vip-1", "items": []}',
        result_failure_sample='{"error": "not found"}',
        tags=["story", "e2e"],
        content_type="application/json",
        req_params=[
            ReqParamBase(name="id", type="STRING", location="PATH", required=1, valid_enable=1,
                         min_size=1, max_size=32, sample_value="vip-1", remark="item id"),
            ReqParamBase(name="page", type="NUMBER", location="QUERY", default_value="1", required=2,
                         valid_enable=1, min_num=1, max_num=100, sample_value="3", remark="page number"),
            ReqParamBase(name="sort", type="STRING", location="QUERY", default_value="asc", required=2,
                         valid_enable=1, enumerations="asc,desc", pass_through=1),
            ReqParamBase(name="X-Tenant", type="STRING", location="HEADER", required=1, valid_enable=2,
                         max_size=64, pass_through=2, remark="tenant header"),
        ],
        backend_params=[
            BackendParamBase(origin="REQUEST", name="itemId", location="PATH", value="id", remark="from path"),
            BackendParamBase(origin="REQUEST", name="p", location="QUERY", value="page"),
            BackendParamBase(origin="REQUEST", name="X-Tenant-Id", location="HEADER", value="X-Tenant"),
            BackendParamBase(origin="CONSTANT", name="X-Const", location="HEADER", value="c1",
                             remark="constant header"),
            BackendParamBase(origin="CONSTANT", name="mode", location="QUERY", value="full"),
            BackendParamBase(origin="SYSTEM", name="X-Src-Ip", location="HEADER", value="$context.sourceIp",
                             remark="caller ip"),
            BackendParamBase(origin="SYSTEM", name="stage", location="QUERY", value="$context.stage"),
        ],
        backend_api=BackendApiCreate(
            url_domain="backend.example.com:8080", req_protocol="HTTP", req_method="GET", req_uri=backend_uri,
            timeout=5000, retry_count="2", enable_client_ssl=False, remark="primary backend", vpc_channel_status=2),
        policy_https=[ApiPolicyHttpCreate(
            name="vip_policy", effect_mode="ANY",
            url_domain="vip.example.com:8443", req_protocol="HTTPS", req_method="POST", req_uri="/vip/{vipId}",
            timeout=3000, retry_count="1", vpc_channel_status=2,
            conditions=[
                ApiConditionBase(condition_origin="param", req_param_name="sort", condition_type="exact",
                                 condition_value="desc"),
                ApiConditionBase(condition_origin="param", req_param_name="X-Tenant", condition_type="enum",
                                 condition_value="gold,platinum"),
                ApiConditionBase(condition_origin="param", req_param_name="id", condition_type="pattern",
                                 condition_value="^vip-[0-9]+$"),
                ApiConditionBase(condition_origin="source", condition_value="10.0.0.0/8,192.168.1.10"),
                ApiConditionBase(condition_origin="system", sys_param_name="req_method", condition_type="exact",
                                 condition_value="GET"),
            ],
            backend_params=[
                BackendParamBase(origin="REQUEST", name="vipId", location="PATH", value="id"),
                BackendParamBase(origin="CONSTANT", name="X-Tier", location="HEADER", value="vip",
                                 remark="tier marker"),
                BackendParamBase(origin="SYSTEM", name="X-Req-Id", location="HEADER", value="$context.requestId"),
            ])],
    )


def check_server_fields(raw, group):
    """Ids on every sub-object, server times, group info and the REQUEST/param cross references."""
    assert h.is_hex32(raw["id"]), raw["id"]
    assert h.is_rfc3339_z(raw["register_time"]) and h.is_rfc3339_z(raw["update_time"])
    assert raw["group_name"] == group.name
    assert raw["api_group_info"]["id"] == group.id and raw["api_group_info"]["name"] == group.name
    assert h.is_hex32(raw["backend_api"]["id"])
    req_ids = {}
    for p in raw["req_params"]:
        assert h.is_hex32(p["id"]), p
        req_ids[p["name"]] = (p["id"], p["location"])
    assert len({i for i, _ in req_ids.values()}) == len(raw["req_params"]), "req_param ids must be distinct"

    def check_backend_params(params):
        for bp in params:
            assert h.is_hex32(bp["id"]), bp
            if bp["origin"] == "REQUEST":
                assert bp.get("req_param_id") == req_ids[bp["value"]][0], bp

    check_backend_params(raw["backend_params"])
    for pol in raw["policy_https"]:
        assert h.is_hex32(pol["id"]), pol
        check_backend_params(pol["backend_params"])
        for c in pol["conditions"]:
            assert h.is_hex32(c["id"]), c
            if c["condition_origin"] == "param":
                assert (c.get("req_param_id"), c.get("req_param_location")) == req_ids[c["req_param_name"]], c


def test_story(apig, instance_id, new_group, new_env, publish):
    group = new_group()
    env = new_env(remark="story env")

    # -- create: the response is already the full model
    body = story_api(group.id)
    created = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    h.assert_fields_match(body, created)
    check_server_fields(h.body_of(created), group)
    api_id = created.id

    def details():
        return apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api_id))

    def runtime(env_id):
        return apig.list_api_runtime_definition_v2(ListApiRuntimeDefinitionV2Request(
            instance_id=instance_id, api_id=api_id, env_id=env_id))

    # -- publish to the env
    rec = publish(api_id, env.id, remark="story publish")
    assert h.is_hex32(rec.publish_id) and h.is_hex32(rec.version_id)

    shown = details()
    h.assert_fields_match(body, shown)
    raw = h.body_of(shown)
    check_server_fields(raw, group)
    h.assert_times(raw)
    assert raw["id"] == api_id
    assert (raw["run_env_id"], raw["run_env_name"], raw["publish_id"]) == (env.id, env.name, rec.publish_id)
    assert h.is_rfc3339_z(raw["publish_time"])
    # the SDK model agrees with the wire body (it is what an SDK user reads)
    assert shown.backend_api.retry_count == "2" and isinstance(h.body_of(shown)["backend_api"]["retry_count"], str)
    assert [p.name for p in shown.req_params] == ["id", "page", "sort", "X-Tenant"]
    assert [p.name for p in shown.backend_params] == [p.name for p in body.backend_params]
    assert [c.condition_origin for c in shown.policy_https[0].conditions] == ["param", "param", "param", "source",
                                                                             "system"]

    h.assert_runtime_matches(body, runtime(env.id))

    # -- change the draft
    draft = story_api(group.id, backend_uri="/v2/items/{itemId}", remark="story API, second draft")
    draft.name = body.name
    updated = apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api_id, body=draft))
    h.assert_fields_match(draft, updated)
    shown = details()
    h.assert_fields_match(draft, shown)
    assert shown.remark == "story API, second draft" and shown.backend_api.req_uri == "/v2/items/{itemId}"
    assert shown.run_env_id == env.id, "updating the draft does not unpublish"

    # the runtime still serves the published version
    rt = runtime(env.id)
    h.assert_runtime_matches(body, rt)
    assert rt.remark == "story API, first draft" and rt.id == api_id

    # -- publish the draft to RELEASE as well
    rel = publish(api_id, h.RELEASE_ENV_ID, remark="to release")
    raw = h.body_of(details())
    env_ids, env_names = raw["run_env_id"].split("|"), raw["run_env_name"].split("|")
    pub_ids, pub_times = raw["publish_id"].split("|"), raw["publish_time"].split("|")
    assert sorted(env_ids) == sorted([env.id, h.RELEASE_ENV_ID]), raw["run_env_id"]
    assert dict(zip(env_ids, env_names)) == {env.id: env.name, h.RELEASE_ENV_ID: h.RELEASE_ENV_NAME}, raw
    assert dict(zip(env_ids, pub_ids)) == {env.id: rec.publish_id, h.RELEASE_ENV_ID: rel.publish_id}, raw
    assert len(pub_times) == 2 and all(h.is_rfc3339_z(t) for t in pub_times), raw["publish_time"]
    h.assert_runtime_matches(draft, runtime(h.RELEASE_ENV_ID), "$runtime[RELEASE]")
    h.assert_runtime_matches(body, runtime(env.id), "$runtime[env]")

    listed = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, id=api_id,
                                                 return_data_mode="include_group_backend"))
    h.assert_times(listed)
    h.assert_times(details())
    assert sorted(listed.apis[0].run_env_id.split("|")) == sorted([env.id, h.RELEASE_ENV_ID])

    # -- offline both (one by one and in a batch)
    publish(api_id, env.id, action="offline")
    raw = h.body_of(details())
    assert (raw["run_env_id"], raw["run_env_name"]) == (h.RELEASE_ENV_ID, h.RELEASE_ENV_NAME), raw
    assert raw["publish_id"] == rel.publish_id
    h.expect_error(lambda: runtime(env.id), 404)

    r = apig.batch_publish_or_offline_api_v2(BatchPublishOrOfflineApiV2Request(
        instance_id=instance_id, action="offline", body=ApiBatchPublish(env_id=h.RELEASE_ENV_ID, apis=[api_id])))
    assert [s.api_id for s in r.success] == [api_id] and not r.failure
    raw = h.body_of(details())
    for key in ("run_env_id", "run_env_name", "publish_id", "publish_time"):
        assert not raw.get(key), f"{key} should be empty after offline, got {raw.get(key)!r}"
    h.expect_error(lambda: runtime(h.RELEASE_ENV_ID), 404)
    # the draft is still there, unchanged
    h.assert_fields_match(draft, details())
