"""API definitions: create / show / update / delete, list with every filter, paging,
return_data_mode, and the definition check."""

from huaweicloudsdkapig.v2 import (
    ApiCheckInfoV2,
    ApiMockCreate,
    ApiFuncCreate,
    CheckApisV2Request,
    CreateApiV2Request,
    DeleteApiV2Request,
    ListApisV2Request,
    ReqParamBase,
    ShowDetailsOfApiV2Request,
    UpdateApiV2Request,
)

import sdkhelpers as h


def show(apig, instance_id, api_id):
    return apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api_id))


def test_create_show_update_delete_api(apig, instance_id, new_group):
    group = new_group()
    body = h.http_api_body(group.id, remark="v1 remark", tags=["alpha", "beta"],
                           result_normal_sample='{"ok": true}', result_failure_sample='{"ok": false}')
    created = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    assert created.status_code in (200, 201)
    h.assert_fields_match(body, created)
    raw = h.body_of(created)
    assert h.is_hex32(raw["id"]) and h.is_hex32(raw["backend_api"]["id"]), raw
    assert h.is_rfc3339_z(raw["register_time"]) and h.is_rfc3339_z(raw["update_time"]), raw
    assert raw["group_name"] == group.name
    assert not raw.get("run_env_id") and not raw.get("publish_id"), "a new API is not published"

    shown = show(apig, instance_id, created.id)
    h.assert_fields_match(body, shown)
    assert h.body_of(shown)["backend_api"]["id"] == raw["backend_api"]["id"]
    assert shown.api_group_info.id == group.id and shown.api_group_info.name == group.name

    new_body = h.http_api_body(group.id, name=body.name + "_v2", remark="v2 remark", req_method="POST",
                               req_uri=body.req_uri + "/v2", tags=["gamma"],
                               backend_api=h.backend_body(req_uri="/v2/items", req_method="POST", timeout=9000,
                                                          retry_count="3"))
    updated = apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=created.id, body=new_body))
    h.assert_fields_match(new_body, updated)
    assert updated.id == created.id
    h.assert_fields_match(new_body, show(apig, instance_id, created.id))
    up_raw = h.body_of(updated)
    assert up_raw["register_time"] == raw["register_time"]
    assert h.ts(up_raw["update_time"]) >= h.ts(raw["update_time"])

    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=created.id))
    h.expect_error(lambda: show(apig, instance_id, created.id), 404, "APIG.3002")
    h.expect_error(lambda: apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=created.id)),
                   404, "APIG.3002")


def test_mock_and_function_backends(apig, instance_id, new_group):
    gid = new_group().id
    mock = h.http_api_body(gid, backend_type="MOCK", backend_api=None,
                           mock_info=ApiMockCreate(result_content='{"mocked": 1}', remark="mock backend"))
    m = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=mock))
    h.assert_fields_match(mock, show(apig, instance_id, m.id))
    assert h.is_hex32(h.body_of(show(apig, instance_id, m.id))["mock_info"]["id"])

    func = h.http_api_body(gid, backend_type="FUNCTION", backend_api=None, func_info=ApiFuncCreate(
        function_urn="urn:fss:region:0123456789abcdef:function:default:hello", invocation_type="sync",
        network_type="V2", timeout=5000, version="latest", remark="fg backend"))
    f = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=func))
    got = show(apig, instance_id, f.id)
    h.assert_fields_match(func, got)
    assert h.is_hex32(h.body_of(got)["func_info"]["id"])


def test_list_apis_filters(apig, instance_id, new_group, new_env, publish):
    g1, g2 = new_group().id, new_group().id
    tag = h.unique("tag").replace("_", "")
    a = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        g1, name=h.unique("flt_alpha"), req_method="GET", req_protocol="HTTPS", auth_type="NONE", type=1,
        tags=[tag])))
    b = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        g1, name=h.unique("flt_beta"), req_method="POST", req_protocol="HTTP", auth_type="APP", type=2)))
    c = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        g2, name=h.unique("flt_gamma"), req_method="PUT", req_protocol="BOTH", auth_type="IAM", type=1)))

    def ids(**q):
        r = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, limit=500, **q))
        assert r.size == len(r.apis) and r.total >= r.size
        return sorted(x.id for x in r.apis)

    assert ids(group_id=g1) == sorted([a.id, b.id])
    assert ids(group_id=g2) == [c.id]
    assert ids(id=b.id) == [b.id]
    assert ids(name=a.name) == [a.id]
    assert ids(name=a.name[:-3], group_id=g1) == [a.id]              # fuzzy by default
    assert ids(name=a.name[:-3], precise_search="name") == []        # exact with precise_search
    assert ids(name=a.name, precise_search="name") == [a.id]
    assert ids(group_id=g1, req_method="POST") == [b.id]
    assert ids(group_id=g1, req_protocol="HTTP") == [b.id]
    assert ids(group_id=g1, auth_type="APP") == [b.id]
    assert ids(group_id=g1, type=2) == [b.id]
    assert ids(req_uri=c.req_uri) == [c.id]
    assert ids(req_uri=c.req_uri, precise_search="req_uri") == [c.id]
    assert ids(tags=tag) == [a.id]
    assert b.id in ids(group_id=g1, tags="#no_tags#") and a.id not in ids(group_id=g1, tags="#no_tags#")

    env = new_env().id
    assert ids(env_id=env) == []
    publish(b.id, env)
    assert ids(env_id=env) == [b.id]
    assert ids(env_id=env, group_id=g2) == []


def test_list_apis_paging(apig, instance_id, new_group, new_api):
    gid = new_group().id
    created = {new_api(gid).id for _ in range(5)}

    def page(offset, limit):
        return apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=gid, offset=offset, limit=limit))

    p = page(0, 2)
    assert (p.total, p.size, len(p.apis)) == (5, 2, 2)
    seen = [x.id for x in p.apis] + [x.id for x in page(2, 2).apis] + [x.id for x in page(4, 2).apis]
    assert sorted(seen) == sorted(created) and len(set(seen)) == 5
    last = page(4, 2)
    assert (last.total, last.size) == (5, 1)
    past = page(10, 2)
    assert (past.total, past.size, past.apis) == (5, 0, [])
    default = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=gid))
    assert (default.total, default.size) == (5, 5)


def test_list_apis_default_limit_is_20(apig, instance_id, new_group, new_api):
    gid = new_group().id
    for _ in range(21):
        new_api(gid)
    r = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=gid))
    assert (r.total, r.size) == (21, 20)


def test_list_apis_return_data_mode(apig, instance_id, new_group):
    group = new_group()
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        group.id, backend_api=h.backend_body(url_domain="mode.example.com:81"))))

    def item(mode):
        r = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, id=api.id, return_data_mode=mode))
        raw = h.body_of(r)
        assert raw["size"] == 1 and raw["total"] == 1, raw
        return raw["apis"][0]

    brief = item(None)
    assert brief["id"] == api.id and brief["name"] == api.name and brief["group_name"] == group.name
    assert not brief.get("api_group_info") and not brief.get("backend_api"), brief
    assert item("brief").keys() == brief.keys()

    with_group = item("include_group")
    assert with_group["api_group_info"]["id"] == group.id and with_group["api_group_info"]["name"] == group.name

    with_backend = item("include_group_backend")
    assert with_backend["backend_api"]["url_domain"] == "mode.example.com:81"
    assert h.is_hex32(with_backend["backend_api"]["id"])


def test_check_api_definition(apig, instance_id, new_group, new_api):
    gid = new_group().id
    api = new_api(gid)

    def check(**kw):
        return apig.check_apis_v2(CheckApisV2Request(instance_id=instance_id, body=ApiCheckInfoV2(**kw)))

    assert 200 <= check(type="name", name=h.unique("free_api"), group_id=gid).status_code < 300
    assert 200 <= check(type="path", req_method="GET", req_uri="/free/" + h.unique("p"), match_mode="NORMAL",
                        group_id=gid).status_code < 300
    h.expect_error_any(lambda: check(type="name", name=api.name, group_id=gid), (400, 409))
    h.expect_error_any(lambda: check(type="path", req_method=api.req_method, req_uri=api.req_uri,
                                     match_mode=api.match_mode, group_id=gid), (400, 409))
    # comparing an API with itself (api_id) is not a conflict
    assert 200 <= check(type="path", req_method=api.req_method, req_uri=api.req_uri, match_mode=api.match_mode,
                        group_id=gid, api_id=api.id).status_code < 300
    # the same path with another method or match mode is free
    assert 200 <= check(type="path", req_method="DELETE", req_uri=api.req_uri, match_mode="NORMAL",
                        group_id=gid).status_code < 300
    assert 200 <= check(type="path", req_method=api.req_method, req_uri=api.req_uri, match_mode="SWA",
                        group_id=gid).status_code < 300


def test_req_params_keep_order_and_ids(apig, instance_id, new_group):
    gid = new_group().id
    params = [ReqParamBase(name=n, type="STRING", location="QUERY", required=2) for n in ("zeta", "alpha", "mid")]
    body = h.http_api_body(gid, req_params=params)
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    raw = h.body_of(show(apig, instance_id, api.id))
    assert [p["name"] for p in raw["req_params"]] == ["zeta", "alpha", "mid"]
    assert all(h.is_hex32(p["id"]) for p in raw["req_params"])
    assert len({p["id"] for p in raw["req_params"]}) == 3


def test_name_boundaries_and_unicode_are_accepted(apig, instance_id, new_group):
    gid = new_group(name="分组_" + h.unique("cjk")).id
    for name in ("a" * 3, "b" * 255, "接口、名称_" + h.unique("x") + "(v1):/.-", "9starts_with_digit_" + h.unique("n")):
        body = h.http_api_body(gid, name=name, remark="r" * 255)
        got = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
        h.assert_fields_match(body, got)
        assert show(apig, instance_id, got.id).name == name
    listed = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, name="接口、名称"))
    assert listed.total == 1


def test_backend_with_environment_variables(apig, instance_id, new_group):
    gid = new_group().id
    body = h.http_api_body(gid, backend_api=h.backend_body(url_domain="#Backend_Host#", req_uri="/#Base_Path#/items",
                                                           retry_count="10", timeout=60000))
    got = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    h.assert_fields_match(body, show(apig, instance_id, got.id))


def test_update_replaces_parameter_lists(apig, instance_id, new_group):
    from huaweicloudsdkapig.v2 import BackendParamBase

    gid = new_group().id
    body = h.http_api_body(gid, req_uri="/upd/{a}", req_params=[
        ReqParamBase(name="a", type="STRING", location="PATH", required=1),
        ReqParamBase(name="b", type="NUMBER", location="QUERY", required=2),
        ReqParamBase(name="c", type="STRING", location="HEADER", required=2)],
        backend_params=[BackendParamBase(origin="REQUEST", name="ba", location="PATH", value="a"),
                        BackendParamBase(origin="CONSTANT", name="k", location="HEADER", value="v")],
        backend_api=h.backend_body(req_uri="/x/{ba}"))
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    smaller = h.http_api_body(gid, name=body.name, req_uri="/upd/{a}", req_params=[
        ReqParamBase(name="a", type="STRING", location="PATH", required=1)],
        backend_params=[BackendParamBase(origin="REQUEST", name="ba", location="PATH", value="a")],
        backend_api=h.backend_body(req_uri="/x/{ba}"))
    apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api.id, body=smaller))
    raw = h.body_of(show(apig, instance_id, api.id))
    assert [p["name"] for p in raw["req_params"]] == ["a"]
    assert [p["name"] for p in raw["backend_params"]] == ["ba"]
    assert raw["backend_params"][0]["req_param_id"] == raw["req_params"][0]["id"]
    # and to none at all
    bare = h.http_api_body(gid, name=body.name, req_uri="/upd/plain")
    apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api.id, body=bare))
    raw = h.body_of(show(apig, instance_id, api.id))
    assert not raw.get("req_params") and not raw.get("backend_params"), raw


def test_unknown_body_fields_are_ignored(base_url, creds, project_id, instance_id):
    name = h.unique("grp_extra")
    r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "POST",
                         f"/v2/{project_id}/apigw/instances/{instance_id}/api-groups",
                         body='{"name": "%s", "remark": "x", "some_future_field": {"a": [1, 2]}}' % name)
    assert r.status_code in (200, 201), r.text
    assert r.json()["name"] == name


def test_list_query_with_special_characters(apig, instance_id):
    # the SDK signs the RFC 3986-encoded query; the server must verify it the same way
    tail = h.unique("q")
    for name in ("a b", "x+y&z=1", "100%/ü?#", "名称"):
        r = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, name=name + tail))
        assert (r.total, r.apis) == (0, [])


def test_deleting_a_published_api_leaves_no_publication(apig, instance_id, new_api, new_env, publish):
    # APIG's DeleteApiV2 deletes an API with its publication records, backend and authorizations:
    # a published API is deleted at once, without being taken offline first.
    from huaweicloudsdkapig.v2 import DeleteEnvironmentV2Request

    api = new_api()
    env = new_env()
    publish(api.id, env.id)
    assert apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, env_id=env.id)).total == 1
    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=api.id))
    h.expect_error(lambda: apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id,
                                                                                  api_id=api.id)),
                   404, "APIG.3002")
    assert apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, env_id=env.id)).total == 0
    # An environment with a publication cannot be deleted: this one has none left.
    apig.delete_environment_v2(DeleteEnvironmentV2Request(instance_id=instance_id, env_id=env.id))


def test_mock_and_function_policies_with_conditions(apig, instance_id, new_group):
    from huaweicloudsdkapig.v2 import (ApiConditionBase, ApiPolicyFunctionCreate, ApiPolicyMockCreate,
                                       BackendParamBase)

    gid = new_group().id
    params = [ReqParamBase(name="tier", type="STRING", location="QUERY", required=2),
              ReqParamBase(name="X-Region", type="STRING", location="HEADER", required=2)]
    mock = h.http_api_body(
        gid, backend_type="MOCK", backend_api=None, req_params=params,
        mock_info=ApiMockCreate(result_content="default mock", remark="mock"),
        policy_mocks=[ApiPolicyMockCreate(
            name="gold_mock", effect_mode="ALL", result_content='{"tier": "gold"}',
            conditions=[
                ApiConditionBase(condition_origin="param", req_param_name="tier", condition_type="exact",
                                 condition_value="gold"),
                ApiConditionBase(condition_origin="cookie", cookie_param_name="sid", condition_type="pattern",
                                 condition_value="^s[0-9]+$"),
                ApiConditionBase(condition_origin="system", sys_param_name="req_path", condition_type="pattern",
                                 condition_value="^/mock/.*"),
            ],
            backend_params=[BackendParamBase(origin="CONSTANT", name="X-Mock", location="HEADER", value="1")])])
    m = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=mock))
    got = show(apig, instance_id, m.id)
    h.assert_fields_match(mock, got)
    raw = h.body_of(got)
    assert h.is_hex32(raw["policy_mocks"][0]["id"])
    assert all(h.is_hex32(c["id"]) for c in raw["policy_mocks"][0]["conditions"])

    func = h.http_api_body(
        gid, backend_type="FUNCTION", backend_api=None, req_params=params,
        func_info=ApiFuncCreate(function_urn="urn:fss:r1:0123456789abcdef:function:default:main",
                                invocation_type="sync", network_type="V2", timeout=5000),
        policy_functions=[ApiPolicyFunctionCreate(
            name="eu_func", effect_mode="ANY", function_urn="urn:fss:r1:0123456789abcdef:function:default:eu",
            invocation_type="async", network_type="V1", timeout=3000, version="latest",
            conditions=[ApiConditionBase(condition_origin="param", req_param_name="X-Region", condition_type="enum",
                                         condition_value="eu-west,eu-north"),
                        ApiConditionBase(condition_origin="source", condition_value="172.16.0.0/12")],
            backend_params=[BackendParamBase(origin="REQUEST", name="region", location="QUERY", value="X-Region")])])
    f = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=func))
    got = show(apig, instance_id, f.id)
    h.assert_fields_match(func, got)
    raw = h.body_of(got)
    cond = raw["policy_functions"][0]["conditions"][0]
    x_region = [p for p in raw["req_params"] if p["name"] == "X-Region"][0]
    assert (cond.get("req_param_id"), cond.get("req_param_location")) == (x_region["id"], "HEADER"), cond
    assert raw["policy_functions"][0]["backend_params"][0]["req_param_id"] == x_region["id"]


def test_optional_fields_and_defaults(apig, instance_id, new_group):
    from huaweicloudsdkapig.v2 import ApiCreate

    gid = new_group().id
    traced = h.http_api_body(gid, trace_enabled=True, sampling_strategy="RATE", sampling_param="50",
                             match_mode="SWA", type=2, cors=False, version="2024.1")
    got = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=traced))
    h.assert_fields_match(traced, show(apig, instance_id, got.id))

    minimal = ApiCreate(name=h.unique("min_api"), type=1, req_protocol="HTTPS", req_method="GET",
                        req_uri="/min/" + h.unique("p"), auth_type="NONE", backend_type="HTTP", group_id=gid,
                        backend_api=h.backend_body())
    raw = h.body_of(apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=minimal)))
    assert raw["match_mode"] == "NORMAL" and raw["cors"] is False, raw
    assert raw["backend_api"]["retry_count"] == "-1"
