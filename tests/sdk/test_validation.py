"""Negative cases: validation (APIG.2011 / APIG.2001), unknown ids (404), conflicts (409), and
deletions the server must refuse."""

import pytest
from huaweicloudsdkapig.v2 import (
    ApiConditionBase,
    ApiGroupBase,
    ApiPolicyHttpCreate,
    ApiGroupCreate,
    BackendParamBase,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    DeleteApiGroupV2Request,
    DeleteApiV2Request,
    DeleteEnvironmentV2Request,
    EnvCreate,
    CreateEnvironmentV2Request,
    ListEnvironmentsV2Request,
    ReqParamBase,
    ShowDetailsOfApiGroupV2Request,
    ShowDetailsOfApiV2Request,
    UpdateApiGroupV2Request,
    UpdateApiV2Request,
)

import sdkhelpers as h

MISSING_ID = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------------------------ 404


def test_unknown_group_is_404_apig_3001(apig, instance_id):
    err = h.expect_error(lambda: apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=MISSING_ID)), 404, "APIG.3001")
    assert MISSING_ID in err.error_msg
    h.expect_error(lambda: apig.update_api_group_v2(UpdateApiGroupV2Request(
        instance_id=instance_id, group_id=MISSING_ID, body=ApiGroupBase(name=h.unique("g")))), 404, "APIG.3001")
    h.expect_error(lambda: apig.delete_api_group_v2(DeleteApiGroupV2Request(
        instance_id=instance_id, group_id=MISSING_ID)), 404, "APIG.3001")
    # an API in a group that does not exist
    h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(
        instance_id=instance_id, body=h.http_api_body(MISSING_ID))), 404, "APIG.3001")


def test_unknown_api_is_404_apig_3002(apig, instance_id, new_group):
    err = h.expect_error(lambda: apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(
        instance_id=instance_id, api_id=MISSING_ID)), 404, "APIG.3002")
    assert MISSING_ID in err.error_msg
    h.expect_error(lambda: apig.update_api_v2(UpdateApiV2Request(
        instance_id=instance_id, api_id=MISSING_ID, body=h.http_api_body(new_group().id))), 404, "APIG.3002")
    h.expect_error(lambda: apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=MISSING_ID)),
                   404, "APIG.3002")


def test_unknown_env(apig, instance_id):
    h.expect_error(lambda: apig.delete_environment_v2(DeleteEnvironmentV2Request(
        instance_id=instance_id, env_id=MISSING_ID)), 404)


# ------------------------------------------------------------------------------------ 400


def _param(name, location, **kw):
    kw.setdefault("type", "STRING")
    kw.setdefault("required", 1 if location == "PATH" else 2)
    return ReqParamBase(name=name, location=location, **kw)


def _policy(**kw):
    fields = dict(name="pol_one", effect_mode="ANY", url_domain="p.example.com", req_protocol="HTTP",
                  req_method="GET", req_uri="/p", timeout=1000,
                  conditions=[ApiConditionBase(condition_origin="param", req_param_name="q", condition_type="exact",
                                               condition_value="1")])
    fields.update(kw)
    return ApiPolicyHttpCreate(**fields)


INVALID_APIS = {
    # case id: (overrides of a valid API, the field the error must name)
    "name_too_short": (dict(name="ab"), "name"),
    "name_bad_first_char": (dict(name="_starts_with_underscore"), "name"),
    "name_too_long": (dict(name="a" * 256), "name"),
    "req_method_FETCH": (dict(req_method="FETCH"), "req_method"),
    "req_protocol_FTP": (dict(req_protocol="FTP"), "req_protocol"),
    "auth_type_BASIC": (dict(auth_type="BASIC"), "auth_type"),
    "match_mode_FUZZY": (dict(match_mode="FUZZY"), "match_mode"),
    "type_3": (dict(type=3), "type"),
    "backend_type_SOAP": (dict(backend_type="SOAP"), "backend_type"),
    "function_without_func_info": (dict(backend_type="FUNCTION", backend_api=None), "func_info"),
    "mock_without_mock_info": (dict(backend_type="MOCK", backend_api=None), "mock_info"),
    "http_without_backend_api": (dict(backend_api=None), "backend_api"),
    "authorizer_without_authorizer_id": (dict(auth_type="AUTHORIZER"), "authorizer_id"),
    "path_param_not_declared": (dict(req_uri="/items/{id}"), None),
    "path_param_declared_as_query": (dict(req_uri="/items/{id}", req_params=[_param("id", "QUERY")]), None),
    "request_backend_param_names_missing_req_param": (dict(
        req_params=[_param("q", "QUERY")],
        backend_params=[BackendParamBase(origin="REQUEST", name="bq", location="QUERY", value="nope")]), None),
    "backend_param_origin_unknown": (dict(
        backend_params=[BackendParamBase(origin="MAGIC", name="x", location="HEADER", value="v")]), None),
    "req_param_location_BODY": (dict(req_params=[_param("b", "BODY")]), None),
    "req_param_type_BOOL": (dict(req_params=[_param("b", "QUERY", type="BOOL")]), None),
    "req_param_name_too_long": (dict(req_params=[_param("p" * 33, "QUERY")]), None),
    "duplicate_req_param": (dict(req_params=[_param("q", "QUERY"), _param("q", "QUERY")]), None),
    "remark_too_long": (dict(remark="r" * 256), "remark"),
    "backend_timeout_zero": (dict(backend_api=h.backend_body(timeout=0)), None),
    "backend_retry_count_11": (dict(backend_api=h.backend_body(retry_count="11")), None),
    "backend_req_method_FETCH": (dict(backend_api=h.backend_body(req_method="FETCH")), None),
    "req_uri_without_slash": (dict(req_uri="items"), "req_uri"),
    "req_uri_too_long": (dict(req_uri="/" + "u" * 512), "req_uri"),
    "version_too_long": (dict(version="v" * 17), "version"),
    "result_normal_sample_too_long": (dict(result_normal_sample="s" * 20481), "result_normal_sample"),
    "body_remark_too_long": (dict(body_remark="b" * 20481), "body_remark"),
    "tag_starts_with_digit": (dict(tags=["1abc"]), "tags"),
    "eleven_tags": (dict(tags=[f"t{i}" for i in range(11)]), "tags"),
    "backend_timeout_over_600000": (dict(backend_api=h.backend_body(timeout=600001)), None),
    "backend_url_domain_too_long": (dict(backend_api=h.backend_body(url_domain="d" * 256)), None),
    "policy_condition_names_missing_req_param": (dict(policy_https=[_policy(
        conditions=[ApiConditionBase(condition_origin="param", req_param_name="ghost", condition_type="exact",
                                     condition_value="1")])]), None),
    "policy_effect_mode_SOME": (dict(req_params=[_param("q", "QUERY")], policy_https=[_policy(effect_mode="SOME")]),
                                None),
    "policy_condition_type_fuzzy": (dict(req_params=[_param("q", "QUERY")], policy_https=[_policy(
        conditions=[ApiConditionBase(condition_origin="param", req_param_name="q", condition_type="fuzzy",
                                     condition_value="1")])]), None),
    "policy_condition_origin_moon": (dict(policy_https=[_policy(
        conditions=[ApiConditionBase(condition_origin="moon", condition_value="1")])]), None),
    "policy_without_conditions": (dict(policy_https=[_policy(conditions=[])]), None),
    "policy_name_starts_with_digit": (dict(req_params=[_param("q", "QUERY")], policy_https=[_policy(name="1policy")]),
                                      None),
    "policy_backend_param_names_missing_req_param": (dict(req_params=[_param("q", "QUERY")], policy_https=[_policy(
        backend_params=[BackendParamBase(origin="REQUEST", name="x", location="QUERY", value="ghost")])]), None),
}


@pytest.mark.parametrize("case", sorted(INVALID_APIS))
def test_invalid_api_is_400_apig_2011(apig, instance_id, new_group, case):
    overrides, field = INVALID_APIS[case]
    gid = new_group().id
    body = h.http_api_body(gid, **overrides)
    err = h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body)),
                         400, "APIG.2011")
    if field:
        assert field in err.error_msg, f"error_msg should name {field}: {err.error_msg!r}"


@pytest.mark.parametrize("field", ["req_uri", "name", "req_method", "group_id", "backend_type", "auth_type"])
def test_missing_required_api_field_is_400_apig_2001(apig, instance_id, new_group, field):
    body = h.http_api_body(new_group().id)
    setattr(body, "_" + field, None)  # the SDK then leaves the key out of the JSON body
    assert field not in h.wire(body)
    err = h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body)),
                         400, "APIG.2001")
    assert field in err.error_msg, err.error_msg


def test_policy_without_url_domain_is_400_apig_2001(apig, instance_id, new_group):
    body = h.http_api_body(new_group().id, req_params=[_param("q", "QUERY")], policy_https=[_policy(url_domain=None)])
    err = h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body)),
                         400, "APIG.2001")
    assert "url_domain" in err.error_msg


def test_length_limits_are_inclusive(apig, instance_id, new_group):
    body = h.http_api_body(new_group().id, req_uri="/" + "u" * 511, version="v" * 16,
                           result_normal_sample="s" * 20480, result_failure_sample="f" * 20480,
                           body_remark="b" * 20480, tags=[f"t{i}" for i in range(10)])
    created = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    h.assert_fields_match(body, created)


def test_invalid_update_keeps_the_api(apig, instance_id, new_api):
    api = new_api()
    bad = h.http_api_body(api.group_id, name=api.name, req_method="FETCH")
    h.expect_error(lambda: apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api.id, body=bad)),
                   400, "APIG.2011")
    assert apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(
        instance_id=instance_id, api_id=api.id)).req_method == api.req_method


@pytest.mark.parametrize("name", ["ab", "1" * 256, "bad name!", "-leading-dash"])
def test_invalid_group_name_is_400(apig, instance_id, name):
    h.expect_error(lambda: apig.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=instance_id, body=ApiGroupCreate(name=name))), 400, "APIG.2011")


def test_group_without_name_is_400_apig_2001(apig, instance_id):
    h.expect_error(lambda: apig.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=instance_id, body=ApiGroupCreate(remark="no name"))), 400, "APIG.2001")


@pytest.mark.parametrize("name", ["9env", "env-with-dash", "env name", "_env"])
def test_invalid_env_name_is_400(apig, instance_id, name):
    h.expect_error(lambda: apig.create_environment_v2(CreateEnvironmentV2Request(
        instance_id=instance_id, body=EnvCreate(name=name))), 400, "APIG.2011")


# ------------------------------------------------------------------------------------ 409


def test_duplicate_group_name_is_409(apig, instance_id, new_group):
    name = new_group().name
    err = h.expect_error(lambda: apig.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=instance_id, body=ApiGroupCreate(name=name))), 409)
    assert err.error_code.startswith("APIG.")
    other = new_group()
    h.expect_error(lambda: apig.update_api_group_v2(UpdateApiGroupV2Request(
        instance_id=instance_id, group_id=other.id, body=ApiGroupBase(name=name))), 409)


def test_duplicate_api_is_409(apig, instance_id, new_group, new_api):
    gid = new_group().id
    api = new_api(gid, req_method="GET", req_uri="/dup/path", match_mode="NORMAL")
    h.expect_error(lambda: new_api(gid, req_method="GET", req_uri="/dup/path", match_mode="NORMAL"), 409)
    # differing method, match mode or group is not a duplicate
    new_api(gid, req_method="POST", req_uri="/dup/path", match_mode="NORMAL")
    new_api(gid, req_method="GET", req_uri="/dup/path", match_mode="SWA")
    new_api(None, req_method="GET", req_uri="/dup/path", match_mode="NORMAL")
    # duplicate name in the same group
    h.expect_error(lambda: new_api(gid, name=api.name), 409)
    # an update onto another API's (method, path, mode) conflicts too
    other = new_api(gid, req_method="GET", req_uri="/dup/other")
    clash = h.http_api_body(gid, name=other.name, req_method="GET", req_uri="/dup/path", match_mode="NORMAL")
    h.expect_error(lambda: apig.update_api_v2(UpdateApiV2Request(
        instance_id=instance_id, api_id=other.id, body=clash)), 409)


# ------------------------------------------------------------------------------------ refused deletes


def test_group_with_apis_cannot_be_deleted(apig, instance_id, new_group, new_api):
    gid = new_group().id
    api = new_api(gid)
    err = h.expect_error_any(lambda: apig.delete_api_group_v2(DeleteApiGroupV2Request(
        instance_id=instance_id, group_id=gid)), (400, 403, 409))
    assert err.error_msg
    assert apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(instance_id=instance_id, group_id=gid)).id == gid
    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=api.id))
    apig.delete_api_group_v2(DeleteApiGroupV2Request(instance_id=instance_id, group_id=gid))


def test_env_with_published_apis_cannot_be_deleted(apig, instance_id, new_env, new_api, publish):
    env = new_env()
    api = new_api()
    publish(api.id, env.id)
    err = h.expect_error_any(lambda: apig.delete_environment_v2(DeleteEnvironmentV2Request(
        instance_id=instance_id, env_id=env.id)), (400, 403, 409))
    assert err.error_msg
    listed = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=env.name))
    assert [e.id for e in listed.envs] == [env.id]
    publish(api.id, env.id, action="offline")
    apig.delete_environment_v2(DeleteEnvironmentV2Request(instance_id=instance_id, env_id=env.id))
