"""ACL policies and ACL bindings through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    AclApiBindingCreate,
    AclBatchDelete,
    AclBindingBatchDelete,
    ApiAclCreate,
    BatchDeleteAclV2Request,
    BatchDeleteApiAclBindingV2Request,
    CreateAclStrategyV2Request,
    CreateApiAclBindingV2Request,
    DeleteAclV2Request,
    DeleteApiAclBindingV2Request,
    ListAclPolicyBindedToApiV2Request,
    ListAclStrategiesV2Request,
    ListApisBindedToAclPolicyV2Request,
    ListApisUnbindedToAclPolicyV2Request,
    ShowDetailsOfAclPolicyV2Request,
    UpdateAclStrategyV2Request,
)

import sdkhelpers as h


def acl_body(**kw):
    fields = dict(acl_name=h.unique("acl"), acl_type="PERMIT", acl_value="10.0.0.0/8,192.168.1.10", entity_type="IP")
    fields.update(kw)
    return ApiAclCreate(**fields)


@pytest.fixture
def new_acl(apig, instance_id):
    def make(**kw):
        return apig.create_acl_strategy_v2(CreateAclStrategyV2Request(instance_id=instance_id, body=acl_body(**kw)))

    return make


def test_acl_crud_and_list(apig, instance_id, new_acl):
    body = acl_body()
    created = apig.create_acl_strategy_v2(CreateAclStrategyV2Request(instance_id=instance_id, body=body))
    assert created.status_code == 201
    h.assert_fields_match(body, created)
    h.assert_times(created)
    shown = apig.show_details_of_acl_policy_v2(ShowDetailsOfAclPolicyV2Request(instance_id=instance_id,
                                                                              acl_id=created.id))
    assert h.body_of(shown) == h.body_of(created)
    change = acl_body(acl_name=h.unique("acl2"), acl_type="DENY", entity_type="DOMAIN", acl_value="tenant_a,tenant_b")
    updated = apig.update_acl_strategy_v2(UpdateAclStrategyV2Request(instance_id=instance_id, acl_id=created.id,
                                                                     body=change))
    h.assert_fields_match(change, updated)
    listed = apig.list_acl_strategies_v2(ListAclStrategiesV2Request(
        instance_id=instance_id, name=change.acl_name, precise_search="name", entity_type="DOMAIN", acl_type="DENY"))
    assert [a.id for a in listed.acls] == [created.id] and listed.acls[0].bind_num == 0
    h.expect_error(lambda: new_acl(acl_name=change.acl_name), 409, "APIG.3319")
    apig.delete_acl_v2(DeleteAclV2Request(instance_id=instance_id, acl_id=created.id))
    h.expect_error(lambda: apig.show_details_of_acl_policy_v2(ShowDetailsOfAclPolicyV2Request(
        instance_id=instance_id, acl_id=created.id)), 404, "APIG.3013")


@pytest.mark.parametrize("fields", [
    dict(acl_value="10.0.0.0/33"), dict(acl_value="300.0.0.1"), dict(acl_value="example.com"),
    dict(entity_type="DOMAIN", acl_value="12345"), dict(entity_type="HOST"), dict(acl_type="ALLOW"),
])
def test_acl_validation(new_acl, fields):
    h.expect_error(lambda: new_acl(**fields), 400, "APIG.2011")


def test_acl_bindings_and_batch_deletes(apig, instance_id, new_acl, new_api, new_env, publish):
    env_id = new_env().id
    acl = new_acl()
    spare = new_acl()
    api = new_api()
    pub = publish(api.id, env_id).publish_id

    unbound = apig.list_apis_unbinded_to_acl_policy_v2(ListApisUnbindedToAclPolicyV2Request(
        instance_id=instance_id, acl_id=acl.id, env_id=env_id))
    assert [a.publish_id for a in unbound.apis] == [pub]
    bound = apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(
        instance_id=instance_id, body=AclApiBindingCreate(acl_id=acl.id, publish_ids=[pub])))
    assert bound.status_code == 201
    binding = bound.acl_bindings[0]
    assert (binding.api_id, binding.env_id, binding.acl_id) == (api.id, env_id, acl.id)
    h.expect_error(lambda: apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(
        instance_id=instance_id, body=AclApiBindingCreate(acl_id=spare.id, publish_ids=[pub]))), 409, "APIG.3320")
    h.expect_error(lambda: apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(
        instance_id=instance_id, body=AclApiBindingCreate(acl_id=spare.id, publish_ids=["0" * 32]))), 404, "APIG.3007")

    apis = apig.list_apis_binded_to_acl_policy_v2(ListApisBindedToAclPolicyV2Request(
        instance_id=instance_id, acl_id=acl.id))
    assert [(a.api_id, a.bind_id) for a in apis.apis] == [(api.id, binding.id)]
    acls = apig.list_acl_policy_binded_to_api_v2(ListAclPolicyBindedToApiV2Request(
        instance_id=instance_id, api_id=api.id, env_id=env_id))
    assert [(a.acl_id, a.bind_id, a.acl_type) for a in acls.acls] == [(acl.id, binding.id, "PERMIT")]

    result = apig.batch_delete_acl_v2(BatchDeleteAclV2Request(
        instance_id=instance_id, action="delete", body=AclBatchDelete(acls=[acl.id, spare.id])))
    assert result.success_count == 1
    assert [(f.acl_id, f.error_code) for f in result.failure] == [(acl.id, "APIG.3321")]
    h.expect_error(lambda: apig.delete_acl_v2(DeleteAclV2Request(instance_id=instance_id, acl_id=acl.id)),
                   409, "APIG.3321")

    unbind = apig.batch_delete_api_acl_binding_v2(BatchDeleteApiAclBindingV2Request(
        instance_id=instance_id, action="delete", body=AclBindingBatchDelete(acl_bindings=[binding.id])))
    assert unbind.success_count == 1 and not unbind.failure
    h.expect_error(lambda: apig.delete_api_acl_binding_v2(DeleteApiAclBindingV2Request(
        instance_id=instance_id, acl_bindings_id=binding.id)), 404, "APIG.3016")

    rebound = apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(
        instance_id=instance_id, body=AclApiBindingCreate(acl_id=acl.id, publish_ids=[pub])))
    apig.delete_api_acl_binding_v2(DeleteApiAclBindingV2Request(
        instance_id=instance_id, acl_bindings_id=rebound.acl_bindings[0].id))
    apig.delete_acl_v2(DeleteAclV2Request(instance_id=instance_id, acl_id=acl.id))
