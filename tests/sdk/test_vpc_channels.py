"""VPC channels, their members, and APIs using them, through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    AddingBackendInstancesV2Request,
    ApiBackendVpcReq,
    CreateApiV2Request,
    CreateVpcChannelV2Request,
    DeleteApiV2Request,
    DeleteBackendInstanceV2Request,
    DeleteVpcChannelV2Request,
    ListApisV2Request,
    ListBackendInstancesV2Request,
    ListVpcChannelsV2Request,
    MemberGroupCreate,
    MemberInfo,
    ShowDetailsOfVpcChannelV2Request,
    UpdateBackendInstancesV2Request,
    UpdateVpcChannelV2Request,
    VpcCreate,
    VpcHealthConfig,
    VpcMemberCreate,
    VpcMemberModify,
)

import sdkhelpers as h


def channel_body(**kw):
    fields = dict(name=h.unique("lb"), port=8080, balance_strategy=1, member_type="ip", type=2,
                  member_groups=[MemberGroupCreate(member_group_name="blue", member_group_weight=10)],
                  members=[MemberInfo(host="10.0.0.1", weight=5, member_group_name="blue"),
                           MemberInfo(host="backend.internal", port=9090, is_backup=True, weight=1)],
                  vpc_health_config=VpcHealthConfig(protocol="HTTP", path="/health", method="GET", http_code="200",
                                                    threshold_normal=2, threshold_abnormal=3, time_interval=10,
                                                    timeout=5))
    fields.update(kw)
    return VpcCreate(**fields)


@pytest.fixture
def new_channel(apig, instance_id):
    def make(**kw):
        return apig.create_vpc_channel_v2(CreateVpcChannelV2Request(instance_id=instance_id, body=channel_body(**kw)))

    return make


def show(apig, instance_id, cid):
    return apig.show_details_of_vpc_channel_v2(ShowDetailsOfVpcChannelV2Request(
        instance_id=instance_id, vpc_channel_id=cid))


def test_channel_crud_and_list(apig, instance_id, new_channel):
    body = channel_body()
    created = apig.create_vpc_channel_v2(CreateVpcChannelV2Request(instance_id=instance_id, body=body))
    assert created.status_code == 201 and h.is_hex32(created.id)
    assert (created.name, created.port, created.balance_strategy, created.member_type) == (body.name, 8080, 1, "ip")
    assert created.member_groups[0].member_group_name == "blue" and h.is_hex32(created.member_groups[0].member_group_id)
    shown = show(apig, instance_id, created.id)
    assert [m.host for m in shown.members] == ["10.0.0.1", "backend.internal"]
    assert shown.members[0].member_group_id == created.member_groups[0].member_group_id
    assert shown.vpc_health_config.protocol == "HTTP" and shown.vpc_health_config.http_code == "200"
    h.assert_times(show(apig, instance_id, created.id))

    change = channel_body(name=h.unique("lb2"), balance_strategy=3)
    updated = apig.update_vpc_channel_v2(UpdateVpcChannelV2Request(
        instance_id=instance_id, vpc_channel_id=created.id, body=change))
    assert (updated.name, updated.balance_strategy) == (change.name, 3)
    listed = apig.list_vpc_channels_v2(ListVpcChannelsV2Request(
        instance_id=instance_id, name=change.name, precise_search="name", member_host="10.0.0.1",
        member_group_name="blue"))
    assert [c.id for c in listed.vpc_channels] == [created.id]
    h.expect_error(lambda: new_channel(name=change.name), 409, "APIG.3325")
    apig.delete_vpc_channel_v2(DeleteVpcChannelV2Request(instance_id=instance_id, vpc_channel_id=created.id))
    h.expect_error(lambda: show(apig, instance_id, created.id), 404, "APIG.3018")


@pytest.mark.parametrize("fields", [
    dict(port=0), dict(balance_strategy=7), dict(member_type="pod"), dict(vpc_channel_type="microservice"),
    dict(members=[MemberInfo(host="not a host")]),
    dict(members=[MemberInfo(host="10.0.0.1", member_group_name="green")]),
    dict(vpc_health_config=VpcHealthConfig(protocol="TCP", threshold_normal=2, threshold_abnormal=2,
                                           time_interval=5, timeout=9)),
])
def test_channel_validation(new_channel, fields):
    h.expect_error(lambda: new_channel(**fields), 400, "APIG.2011")


def test_channel_members(apig, instance_id, new_channel):
    cid = new_channel().id
    added = apig.adding_backend_instances_v2(AddingBackendInstancesV2Request(
        instance_id=instance_id, vpc_channel_id=cid, body=VpcMemberCreate(members=[
            MemberInfo(host="10.0.0.2", member_group_name="blue")])))
    assert added.total == 3 and added.members[2].host == "10.0.0.2"
    listed = apig.list_backend_instances_v2(ListBackendInstancesV2Request(
        instance_id=instance_id, vpc_channel_id=cid, member_group_name="blue"))
    assert [m.host for m in listed.members] == ["10.0.0.1", "10.0.0.2"]
    replaced = apig.update_backend_instances_v2(UpdateBackendInstancesV2Request(
        instance_id=instance_id, vpc_channel_id=cid, body=VpcMemberModify(
            member_group_name="blue", members=[MemberInfo(host="10.0.0.3")])))
    assert [m.host for m in replaced.members] == ["backend.internal", "10.0.0.3"]
    member_id = replaced.members[1].id
    apig.delete_backend_instance_v2(DeleteBackendInstanceV2Request(
        instance_id=instance_id, vpc_channel_id=cid, member_id=member_id))
    h.expect_error(lambda: apig.delete_backend_instance_v2(DeleteBackendInstanceV2Request(
        instance_id=instance_id, vpc_channel_id=cid, member_id=member_id)), 404, "APIG.3019")
    h.expect_error(lambda: apig.adding_backend_instances_v2(AddingBackendInstancesV2Request(
        instance_id=instance_id, vpc_channel_id=cid, body=VpcMemberCreate(members=[
            MemberInfo(host="10.0.0.9", member_group_name="nope")]))), 400, "APIG.2011")


def test_apis_on_channels(apig, instance_id, new_channel, new_group):
    channel = new_channel()
    gid = new_group().id

    def create(channel_id):
        backend = h.backend_body(url_domain=None, vpc_channel_status=1,
                                 vpc_channel_info=ApiBackendVpcReq(vpc_channel_id=channel_id))
        return apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
            gid, backend_api=backend)))

    err = h.expect_error(lambda: create("0" * 32), 400, "APIG.2015")
    assert "vpc_channel_id" in err.error_msg
    api = create(channel.id)
    found = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, vpc_channel_name=channel.name))
    assert [a.id for a in found.apis] == [api.id]
    h.expect_error(lambda: apig.delete_vpc_channel_v2(DeleteVpcChannelV2Request(
        instance_id=instance_id, vpc_channel_id=channel.id)), 409, "APIG.3323")
    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=api.id))
    apig.delete_vpc_channel_v2(DeleteVpcChannelV2Request(instance_id=instance_id, vpc_channel_id=channel.id))
