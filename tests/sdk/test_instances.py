"""Instances (`/v2/{project_id}/apigw/instances`) and per-instance isolation."""

from huaweicloudsdkapig.v2 import (
    CreateApiGroupV2Request,
    CreateInstanceV2Request,
    InstanceCreateReq,
    ListApiGroupsV2Request,
    ListInstancesV2Request,
    ShowDetailsOfApiGroupV2Request,
    ShowDetailsOfInstanceV2Request,
)

import sdkhelpers as h


def test_default_instance_is_listed_and_shown(apig, instance_id, project_id):
    listed = apig.list_instances_v2(ListInstancesV2Request())
    assert listed.total >= 1 and listed.size == len(listed.instances)
    assert instance_id in [i.id for i in listed.instances]

    shown = apig.show_details_of_instance_v2(ShowDetailsOfInstanceV2Request(instance_id=instance_id))
    assert shown.id == instance_id
    assert shown.instance_name
    if shown.project_id is not None:
        assert shown.project_id == project_id

    by_id = apig.list_instances_v2(ListInstancesV2Request(instance_id=instance_id))
    assert [i.id for i in by_id.instances] == [instance_id]


def test_create_instance_and_isolation(apig, instance_id):
    name = "inst-" + h.unique("e2e").replace("_", "-")
    created = apig.create_instance_v2(CreateInstanceV2Request(body=InstanceCreateReq(
        instance_name=name, spec_id="BASIC", description="second gateway",
        vpc_id="0" * 32, subnet_id="1" * 32, security_group_id="2" * 32, available_zone_ids=["az1"])))
    new_id = created.instance_id
    assert h.is_hex32(new_id) and new_id != instance_id

    shown = apig.show_details_of_instance_v2(ShowDetailsOfInstanceV2Request(instance_id=new_id))
    assert (shown.id, shown.instance_name) == (new_id, name)
    by_name = apig.list_instances_v2(ListInstancesV2Request(instance_name=name))
    assert [i.id for i in by_name.instances] == [new_id]
    everything = apig.list_instances_v2(ListInstancesV2Request(limit=500))
    assert {instance_id, new_id} <= {i.id for i in everything.instances}
    for wanted in (instance_id, new_id):
        by_id = apig.list_instances_v2(ListInstancesV2Request(instance_id=wanted))
        assert [i.id for i in by_id.instances] == [wanted] and by_id.total == 1

    # a group lives in exactly one instance
    gname = h.unique("grp_inst")
    group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=new_id, body=h.group_body(name=gname)))
    in_new = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=new_id, name=gname))
    in_default = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=gname))
    assert [g.id for g in in_new.groups] == [group.id]
    assert in_default.total == 0 and in_default.groups == []
    h.expect_error(lambda: apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=group.id)), 404, "APIG.3001")
    # the same name is free in another instance
    apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=instance_id, body=h.group_body(name=gname)))


def test_unknown_instance(apig):
    h.expect_error(lambda: apig.show_details_of_instance_v2(
        ShowDetailsOfInstanceV2Request(instance_id="f" * 32)), 404)
    h.expect_error(lambda: apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id="f" * 32)), 404)


def test_objects_of_another_instance_are_not_found(apig, instance_id, new_env, publish):
    from huaweicloudsdkapig.v2 import (ApiActionInfo, ApiBatchPublish, BatchPublishOrOfflineApiV2Request,
                                       CreateApiV2Request, CreateEnvironmentV2Request,
                                       CreateOrDeletePublishRecordForApiV2Request, ShowDetailsOfApiV2Request)

    other = apig.create_instance_v2(CreateInstanceV2Request(body=InstanceCreateReq(
        instance_name="inst-" + h.unique("iso").replace("_", "-"), spec_id="BASIC", vpc_id="0" * 32,
        subnet_id="1" * 32, security_group_id="2" * 32, available_zone_ids=["az1"]))).instance_id
    g = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=other, body=h.group_body()))
    api = apig.create_api_v2(CreateApiV2Request(instance_id=other, body=h.http_api_body(g.id)))
    env_other = apig.create_environment_v2(CreateEnvironmentV2Request(instance_id=other, body=h.env_body()))

    h.expect_error(lambda: apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(
        instance_id=instance_id, api_id=api.id)), 404, "APIG.3002")
    # the default instance's env cannot take the other instance's API, and the reverse
    h.expect_error(lambda: publish(api.id, new_env().id), 404, "APIG.3002")
    h.expect_error(lambda: apig.batch_publish_or_offline_api_v2(BatchPublishOrOfflineApiV2Request(
        instance_id=instance_id, action="online", body=ApiBatchPublish(env_id=env_other.id, group_id=g.id))), 404)
    # inside its own instance everything works
    apig.create_or_delete_publish_record_for_api_v2(CreateOrDeletePublishRecordForApiV2Request(
        instance_id=other, body=ApiActionInfo(action="online", env_id=env_other.id, api_id=api.id)))
    assert apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(
        instance_id=other, api_id=api.id)).run_env_id == env_other.id
