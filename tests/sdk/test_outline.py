"""What an instance holds, through the official SDKs: the resource outlines
(`ListApiQuantitiesV2`, `ListApiGroupsQuantitiesV2`, `ListAppQuantitiesV2`) and the distinct tags
of its APIs (`ListTagsV2`, on `apigw` and `apic`), counted on an instance of the test's own; and
the limits Portico enforces (`ListProjectCofigsV2`, `ListInstanceConfigsV2`,
`ShowRestrictionOfInstanceV2`)."""

import pytest
import huaweicloudsdkroma.v2 as roma_sdk
from huaweicloudsdkapig.v2 import (
    ApiActionInfo,
    ApiAuthCreate,
    AppCreate,
    CreateAnAppV2Request,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    CreateAuthorizingAppsV2Request,
    CreateEnvironmentV2Request,
    CreateInstanceV2Request,
    CreateOrDeletePublishRecordForApiV2Request,
    InstanceCreateReq,
    ListInstanceConfigsV2Request,
    ListProjectCofigsV2Request,
    ListApiGroupsQuantitiesV2Request,
    ListApiQuantitiesV2Request,
    ListAppQuantitiesV2Request,
    ListTagsV2Request,
    ShowRestrictionOfInstanceV2Request,
)

import sdkhelpers as h

UNKNOWN_INSTANCE = "f" * 32


@pytest.fixture
def fresh_instance(apig):
    created = apig.create_instance_v2(CreateInstanceV2Request(body=InstanceCreateReq(
        instance_name="inst-" + h.unique("outline").replace("_", "-"), spec_id="BASIC",
        vpc_id="0" * 32, subnet_id="1" * 32, security_group_id="2" * 32, available_zone_ids=["az1"])))
    return created.instance_id


def outline(apig, instance_id):
    apis = apig.list_api_quantities_v2(ListApiQuantitiesV2Request(instance_id=instance_id))
    groups = apig.list_api_groups_quantities_v2(ListApiGroupsQuantitiesV2Request(instance_id=instance_id))
    apps = apig.list_app_quantities_v2(ListAppQuantitiesV2Request(instance_id=instance_id))
    return {
        "apis": (apis.instance_num, apis.nums_on_release, apis.nums_off_release),
        "groups": (groups.onsell_nums, groups.offsell_nums),
        "apps": (apps.authed_nums, apps.unauthed_nums),
    }


def test_outlines_count_what_the_instance_holds(apig, fresh_instance):
    iid = fresh_instance
    assert outline(apig, iid) == {"apis": (0, 0, 0), "groups": (0, 0), "apps": (0, 0)}

    groups = [apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=iid, body=h.group_body())).id
              for _ in range(2)]
    apis = [apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(
        groups[i % 2], auth_type="APP"))).id for i in range(3)]
    test_env = apig.create_environment_v2(CreateEnvironmentV2Request(instance_id=iid, body=h.env_body())).id

    def publish(api_id, env_id):
        apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
            instance_id=iid, body=ApiActionInfo(action="online", env_id=env_id, api_id=api_id)))

    publish(apis[0], h.RELEASE_ENV_ID)
    publish(apis[1], test_env)
    apps = [apig.create_an_app_v2(CreateAnAppV2Request(instance_id=iid, body=AppCreate(name=h.unique("app")))).id
            for _ in range(3)]
    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(instance_id=iid, body=ApiAuthCreate(
        env_id=h.RELEASE_ENV_ID, app_ids=[apps[0]], api_ids=[apis[0]])))
    # two authorizations of one app count it once
    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(instance_id=iid, body=ApiAuthCreate(
        env_id=test_env, app_ids=[apps[0]], api_ids=[apis[1]])))

    # an API published only outside RELEASE is off release; a group has no marketplace to be on sale in
    assert outline(apig, iid) == {"apis": (3, 1, 2), "groups": (0, 2), "apps": (1, 2)}


def test_outlines_of_an_unknown_instance(apig):
    for call, request in [(apig.list_api_quantities_v2, ListApiQuantitiesV2Request),
                          (apig.list_api_groups_quantities_v2, ListApiGroupsQuantitiesV2Request),
                          (apig.list_app_quantities_v2, ListAppQuantitiesV2Request)]:
        h.expect_error(lambda: call(request(instance_id=UNKNOWN_INSTANCE)), 404, "APIG.3008")


@pytest.mark.parametrize("product", ["apig", "roma"])
def test_tags_are_the_distinct_tags_of_the_apis(request, apig, fresh_instance, product):
    iid = fresh_instance
    group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=iid, body=h.group_body())).id
    for tags in (["pay", "Beta"], ["pay", "alpha"], [], ["zeta"]):
        apig.create_api_v2(CreateApiV2Request(instance_id=iid, body=h.http_api_body(group, tags=tags)))
    if product == "apig":
        client, tag_request = apig, ListTagsV2Request
    else:
        client, tag_request = request.getfixturevalue("roma"), roma_sdk.ListTagsV2Request

    everything = client.list_tags_v2(tag_request(instance_id=iid))
    # byte order: an upper-case letter sorts before every lower-case one, on both engines
    assert (everything.total, everything.size, everything.tags) == (4, 4, ["Beta", "alpha", "pay", "zeta"])
    page = client.list_tags_v2(tag_request(instance_id=iid, offset=1, limit=2))
    assert (page.total, page.size, page.tags) == (4, 2, ["alpha", "pay"])
    past_the_end = client.list_tags_v2(tag_request(instance_id=iid, offset=10))
    assert (past_the_end.total, past_the_end.tags) == (4, [])

    h.expect_error(lambda: client.list_tags_v2(tag_request(instance_id=iid, limit=0)), 400, "APIG.2011")
    h.expect_error(lambda: client.list_tags_v2(tag_request(instance_id=iid, limit=501)), 400, "APIG.2011")
    h.expect_error(lambda: client.list_tags_v2(tag_request(instance_id=UNKNOWN_INSTANCE)), 404, "APIG.3008")


def test_tags_of_an_instance_without_apis(apig, fresh_instance):
    empty = apig.list_tags_v2(ListTagsV2Request(instance_id=fresh_instance))
    assert (empty.total, empty.size, empty.tags) == (0, 0, [])


@pytest.mark.parametrize("product", ["apig", "roma"])
def test_project_configs_are_the_limits_portico_enforces(request, apig, instance_id, new_group, product):
    if product == "apig":
        client, config_request = apig, ListProjectCofigsV2Request
    else:
        client, config_request = request.getfixturevalue("roma"), roma_sdk.ListProjectCofigsV2Request
    listed = client.list_project_cofigs_v2(config_request(instance_id=instance_id))
    limits = {c.config_name: int(c.config_value) for c in listed.configs}
    assert limits == {"API_TAG_NUM_LIMIT": 10, "API_CONDITION_NUM_LIMIT": 5}
    assert (listed.total, listed.size) == (2, 2)
    second = client.list_project_cofigs_v2(config_request(instance_id=instance_id, offset=1, limit=1))
    assert (second.total, [c.config_name for c in second.configs]) == (2, ["API_CONDITION_NUM_LIMIT"])

    # the limit described is the one enforced
    group = new_group().id
    at_limit = [f"t{i}" for i in range(limits["API_TAG_NUM_LIMIT"])]
    apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(group, tags=at_limit)))
    h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        group, tags=at_limit + ["one_more"]))), 400, "APIG.2011")

    h.expect_error(lambda: client.list_project_cofigs_v2(config_request(instance_id=instance_id, limit=0)),
                   400, "APIG.2011")
    h.expect_error(lambda: client.list_project_cofigs_v2(config_request(instance_id=UNKNOWN_INSTANCE)),
                   404, "APIG.3008")


def test_instance_configs_are_empty_as_no_project_quota_applies(apig):
    listed = apig.list_instance_configs_v2(ListInstanceConfigsV2Request())
    assert (listed.total, listed.size, listed.configs) == (0, 0, [])
    h.expect_error(lambda: apig.list_instance_configs_v2(ListInstanceConfigsV2Request(limit=501)), 400, "APIG.2011")


@pytest.mark.parametrize("product", ["apig", "roma"])
def test_restriction_lists_no_network_as_portico_refuses_none(request, apig, instance_id, product):
    if product == "apig":
        client, restriction_request = apig, ShowRestrictionOfInstanceV2Request
    else:
        client, restriction_request = request.getfixturevalue("roma"), roma_sdk.ShowRestrictionOfInstanceV2Request
    shown = client.show_restriction_of_instance_v2(restriction_request(instance_id=instance_id))
    assert (shown.restrict_cidrs, shown.resource_subnet_cidr) == ([], None)
    h.expect_error(lambda: client.show_restriction_of_instance_v2(restriction_request(instance_id=UNKNOWN_INSTANCE)),
                   404, "APIG.3008")
