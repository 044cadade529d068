"""Request throttling policies, special throttles and throttle bindings through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    AppCreate,
    AssociateRequestThrottlingPolicyV2Request,
    BatchDisassociateThrottlingPolicyV2Request,
    CreateAnAppV2Request,
    CreateRequestThrottlingPolicyV2Request,
    CreateSpecialThrottlingConfigurationV2Request,
    DeleteRequestThrottlingPolicyV2Request,
    DeleteSpecialThrottlingConfigurationV2Request,
    DisassociateRequestThrottlingPolicyV2Request,
    ListApisBindedToRequestThrottlingPolicyV2Request,
    ListApisUnbindedToRequestThrottlingPolicyV2Request,
    ListRequestThrottlingPoliciesBindedToApiV2Request,
    ListRequestThrottlingPolicyV2Request,
    ListSpecialThrottlingConfigurationsV2Request,
    ShowDetailsOfRequestThrottlingPolicyV2Request,
    ThrottleApiBindingCreate,
    ThrottleBaseInfo,
    ThrottleBindingBatchDelete,
    ThrottleSpecialCreate,
    ThrottleSpecialUpdate,
    UpdateRequestThrottlingPolicyV2Request,
    UpdateSpecialThrottlingConfigurationV2Request,
)

import sdkhelpers as h


def throttle_body(**kw):
    fields = dict(name=h.unique("tps"), api_call_limits=100, user_call_limits=50, app_call_limits=40,
                  ip_call_limits=20, time_interval=1, time_unit="SECOND", type=1, remark="e2e")
    fields.update(kw)
    return ThrottleBaseInfo(**fields)


@pytest.fixture
def new_throttle(apig, instance_id):
    def make(**kw):
        return apig.create_request_throttling_policy_v2(CreateRequestThrottlingPolicyV2Request(
            instance_id=instance_id, body=throttle_body(**kw)))

    return make


def show(apig, instance_id, throttle_id):
    return apig.show_details_of_request_throttling_policy_v2(ShowDetailsOfRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=throttle_id))


def test_throttle_crud_and_list(apig, instance_id, new_throttle):
    body = throttle_body()
    created = apig.create_request_throttling_policy_v2(CreateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=body))
    assert created.status_code == 201
    h.assert_fields_match(body, created)
    raw = h.body_of(created)
    assert raw["bind_num"] == 0 and raw["is_inclu_special_throttle"] == 2 and h.is_hex32(raw["id"])
    h.assert_times(created)
    assert h.body_of(show(apig, instance_id, raw["id"])) == raw

    change = throttle_body(name=h.unique("tps2"), api_call_limits=1000, type=2, time_unit="HOUR")
    updated = apig.update_request_throttling_policy_v2(UpdateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=raw["id"], body=change))
    h.assert_fields_match(change, updated)

    listed = apig.list_request_throttling_policy_v2(ListRequestThrottlingPolicyV2Request(
        instance_id=instance_id, name=change.name, precise_search="name"))
    assert [t.id for t in listed.throttles] == [raw["id"]]
    by_id = apig.list_request_throttling_policy_v2(ListRequestThrottlingPolicyV2Request(
        instance_id=instance_id, id=raw["id"]))
    assert by_id.total == 1

    h.expect_error(lambda: new_throttle(name=change.name), 409, "APIG.3317")
    apig.delete_request_throttling_policy_v2(DeleteRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=raw["id"]))
    h.expect_error(lambda: show(apig, instance_id, raw["id"]), 404, "APIG.3011")


@pytest.mark.parametrize("field,value", [
    ("app_call_limits", 101), ("user_call_limits", 500), ("ip_call_limits", 1000), ("time_unit", "WEEK"),
    ("type", 3), ("api_call_limits", 0), ("name", "1x"),
])
def test_throttle_validation(new_throttle, field, value):
    err = h.expect_error(lambda: new_throttle(**{field: value}), 400, "APIG.2011")
    assert field in err.error_msg


def test_special_throttles(apig, instance_id, new_throttle):
    tid = new_throttle().id
    app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id, body=AppCreate(name=h.unique("app"))))
    for_app = apig.create_special_throttling_configuration_v2(CreateSpecialThrottlingConfigurationV2Request(
        instance_id=instance_id, throttle_id=tid, body=ThrottleSpecialCreate(call_limits=80, object_id=app.id,
                                                                             object_type="APP")))
    assert for_app.status_code == 201
    assert (for_app.object_name, for_app.app_id, for_app.app_name) == (app.name, app.id, app.name)
    for_user = apig.create_special_throttling_configuration_v2(CreateSpecialThrottlingConfigurationV2Request(
        instance_id=instance_id, throttle_id=tid, body=ThrottleSpecialCreate(call_limits=3, object_id="tenant-1",
                                                                             object_type="USER")))
    assert show(apig, instance_id, tid).is_inclu_special_throttle == 1
    listed = apig.list_special_throttling_configurations_v2(ListSpecialThrottlingConfigurationsV2Request(
        instance_id=instance_id, throttle_id=tid))
    assert [s.id for s in listed.throttle_specials] == [for_app.id, for_user.id]
    apps_only = apig.list_special_throttling_configurations_v2(ListSpecialThrottlingConfigurationsV2Request(
        instance_id=instance_id, throttle_id=tid, object_type="APP", app_name=app.name))
    assert [s.id for s in apps_only.throttle_specials] == [for_app.id]

    updated = apig.update_special_throttling_configuration_v2(UpdateSpecialThrottlingConfigurationV2Request(
        instance_id=instance_id, throttle_id=tid, strategy_id=for_user.id, body=ThrottleSpecialUpdate(call_limits=7)))
    assert updated.call_limits == 7
    h.expect_error(lambda: apig.create_special_throttling_configuration_v2(
        CreateSpecialThrottlingConfigurationV2Request(instance_id=instance_id, throttle_id=tid, body=ThrottleSpecialCreate(
            call_limits=3, object_id="tenant-1", object_type="USER"))), 409, "APIG.3318")
    h.expect_error(lambda: apig.create_special_throttling_configuration_v2(
        CreateSpecialThrottlingConfigurationV2Request(instance_id=instance_id, throttle_id=tid, body=ThrottleSpecialCreate(
            call_limits=3, object_id="0" * 32, object_type="APP"))), 404, "APIG.3004")
    apig.delete_special_throttling_configuration_v2(DeleteSpecialThrottlingConfigurationV2Request(
        instance_id=instance_id, throttle_id=tid, strategy_id=for_user.id))
    h.expect_error(lambda: apig.delete_special_throttling_configuration_v2(
        DeleteSpecialThrottlingConfigurationV2Request(instance_id=instance_id, throttle_id=tid,
                                                      strategy_id=for_user.id)), 404, "APIG.3012")


def test_throttle_bindings(apig, instance_id, new_throttle, new_api, new_env, publish):
    env_id = new_env().id
    tid = new_throttle().id
    api = new_api()
    other = new_api()
    pub = publish(api.id, env_id).publish_id
    other_pub = publish(other.id, env_id).publish_id

    unbound = apig.list_apis_unbinded_to_request_throttling_policy_v2(ListApisUnbindedToRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=tid, env_id=env_id))
    assert sorted(a.publish_id for a in unbound.apis) == sorted([pub, other_pub])

    bound = apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleApiBindingCreate(strategy_id=tid, publish_ids=[pub, other_pub])))
    assert bound.status_code == 201 and len(bound.throttle_applys) == 2
    assert bound.throttle_applys[0].publish_id == pub and bound.throttle_applys[0].strategy_id == tid

    apis = apig.list_apis_binded_to_request_throttling_policy_v2(ListApisBindedToRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=tid, env_id=env_id))
    assert apis.total == 2 and apis.apis[0].id == api.id and apis.apis[0].throttle_apply_id == bound.throttle_applys[0].id
    policies = apig.list_request_throttling_policies_binded_to_api_v2(
        ListRequestThrottlingPoliciesBindedToApiV2Request(instance_id=instance_id, api_id=api.id))
    assert [t.id for t in policies.throttles] == [tid] and policies.throttles[0].bind_id == bound.throttle_applys[0].id
    assert show(apig, instance_id, tid).bind_num == 2

    second = new_throttle().id
    h.expect_error(lambda: apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleApiBindingCreate(strategy_id=second, publish_ids=[pub]))), 409, "APIG.3320")
    h.expect_error(lambda: apig.delete_request_throttling_policy_v2(DeleteRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=tid)), 409, "APIG.3321")

    apig.disassociate_request_throttling_policy_v2(DisassociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_binding_id=bound.throttle_applys[0].id))
    result = apig.batch_disassociate_throttling_policy_v2(BatchDisassociateThrottlingPolicyV2Request(
        instance_id=instance_id, action="delete", body=ThrottleBindingBatchDelete(
            throttle_bindings=[bound.throttle_applys[1].id, bound.throttle_applys[0].id])))
    assert result.success_count == 1
    assert [(f.bind_id, f.error_code) for f in result.failure] == [(bound.throttle_applys[0].id, "APIG.3016")]

    # Offline removes bindings.
    apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleApiBindingCreate(strategy_id=tid, publish_ids=[pub])))
    publish(api.id, env_id, action="offline")
    assert show(apig, instance_id, tid).bind_num == 0
    apig.delete_request_throttling_policy_v2(DeleteRequestThrottlingPolicyV2Request(
        instance_id=instance_id, throttle_id=tid))
