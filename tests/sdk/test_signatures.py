"""Signature keys and their bindings through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    AssociateSignatureKeyV2Request,
    BaseSignature,
    CreateSignatureKeyV2Request,
    DeleteSignatureKeyV2Request,
    DisassociateSignatureKeyV2Request,
    ListApisBindedToSignatureKeyV2Request,
    ListApisNotBoundWithSignatureKeyV2Request,
    ListSignatureKeysBindedToApiV2Request,
    ListSignatureKeysV2Request,
    SignApiBinding,
    UpdateSignatureKeyV2Request,
)

import sdkhelpers as h


@pytest.fixture
def new_sign(apig, instance_id):
    def make(**kw):
        kw.setdefault("name", h.unique("sig"))
        return apig.create_signature_key_v2(CreateSignatureKeyV2Request(instance_id=instance_id, body=BaseSignature(**kw)))

    return make


def test_signature_crud_and_list(apig, instance_id, new_sign):
    body = BaseSignature(name=h.unique("sig"), sign_type="basic", sign_key="user_1", sign_secret="Password_123")
    created = apig.create_signature_key_v2(CreateSignatureKeyV2Request(instance_id=instance_id, body=body))
    assert created.status_code == 201 and h.is_hex32(created.id)
    h.assert_fields_match(body, created)
    h.assert_times(created)
    generated = new_sign()
    assert generated.sign_type == "hmac" and len(generated.sign_key) == 32 and len(generated.sign_secret) == 32

    change = BaseSignature(name=h.unique("sig2"), sign_type="aes", sign_algorithm="aes-256-cfb")
    updated = apig.update_signature_key_v2(UpdateSignatureKeyV2Request(
        instance_id=instance_id, sign_id=created.id, body=change))
    assert (updated.name, updated.sign_type, updated.sign_algorithm, len(updated.sign_key)) == \
        (change.name, "aes", "aes-256-cfb", 32)
    listed = apig.list_signature_keys_v2(ListSignatureKeysV2Request(
        instance_id=instance_id, name=change.name, precise_search="name"))
    assert [s.id for s in listed.signs] == [created.id] and listed.signs[0].bind_num == 0
    h.expect_error(lambda: new_sign(name=change.name), 409, "APIG.3326")
    apig.delete_signature_key_v2(DeleteSignatureKeyV2Request(instance_id=instance_id, sign_id=created.id))
    h.expect_error(lambda: apig.delete_signature_key_v2(DeleteSignatureKeyV2Request(
        instance_id=instance_id, sign_id=created.id)), 404, "APIG.3020")


@pytest.mark.parametrize("fields", [
    dict(sign_type="rsa"), dict(sign_key="short"), dict(sign_secret="short"),
    dict(sign_type="basic", sign_key="1user"), dict(sign_type="aes", sign_algorithm="aes-512-cfb"),
])
def test_signature_validation(new_sign, fields):
    h.expect_error(lambda: new_sign(**fields), 400, "APIG.2011")


def test_signature_bindings(apig, instance_id, new_sign, new_api, new_env, publish):
    env_id = new_env().id
    sign = new_sign()
    api = new_api()
    pub = publish(api.id, env_id).publish_id
    unbound = apig.list_apis_not_bound_with_signature_key_v2(ListApisNotBoundWithSignatureKeyV2Request(
        instance_id=instance_id, sign_id=sign.id, env_id=env_id))
    assert [a.publish_id for a in unbound.apis] == [pub]

    bound = apig.associate_signature_key_v2(AssociateSignatureKeyV2Request(
        instance_id=instance_id, body=SignApiBinding(sign_id=sign.id, publish_ids=[pub])))
    assert bound.status_code == 201
    binding = bound.bindings[0]
    assert (binding.api_id, binding.env_id, binding.sign_id, binding.sign_secret) == (api.id, env_id, sign.id,
                                                                                       sign.sign_secret)
    apis = apig.list_apis_binded_to_signature_key_v2(ListApisBindedToSignatureKeyV2Request(
        instance_id=instance_id, sign_id=sign.id))
    assert [b.id for b in apis.bindings] == [binding.id]
    signs = apig.list_signature_keys_binded_to_api_v2(ListSignatureKeysBindedToApiV2Request(
        instance_id=instance_id, api_id=api.id))
    assert [(b.sign_id, b.sign_key) for b in signs.bindings] == [(sign.id, sign.sign_key)]

    h.expect_error(lambda: apig.associate_signature_key_v2(AssociateSignatureKeyV2Request(
        instance_id=instance_id, body=SignApiBinding(sign_id=new_sign().id, publish_ids=[pub]))), 409, "APIG.3320")
    h.expect_error(lambda: apig.delete_signature_key_v2(DeleteSignatureKeyV2Request(
        instance_id=instance_id, sign_id=sign.id)), 409, "APIG.3321")
    apig.disassociate_signature_key_v2(DisassociateSignatureKeyV2Request(
        instance_id=instance_id, sign_bindings_id=binding.id))
    h.expect_error(lambda: apig.disassociate_signature_key_v2(DisassociateSignatureKeyV2Request(
        instance_id=instance_id, sign_bindings_id=binding.id)), 404, "APIG.3016")
    apig.delete_signature_key_v2(DeleteSignatureKeyV2Request(instance_id=instance_id, sign_id=sign.id))
