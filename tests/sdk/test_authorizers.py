"""Custom authorizers and the references APIs make to them, through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    AuthorizerCreate,
    CreateApiV2Request,
    CreateCustomAuthorizerV2Request,
    DeleteApiV2Request,
    DeleteCustomAuthorizerV2Request,
    Identity,
    ListCustomAuthorizersV2Request,
    ShowDetailsOfCustomAuthorizersV2Request,
    UpdateCustomAuthorizerV2Request,
)

import sdkhelpers as h


def authorizer_body(**kw):
    fields = dict(name=h.unique("auth"), type="FRONTEND", authorizer_type="FUNC",
                  authorizer_uri="urn:fss:region:project:function:default:auth:latest", network_type="V1",
                  identities=[Identity(name="Authorization", location="HEADER", validation="^Bearer .+$")],
                  ttl=30, user_data="tenant=1", need_body=False)
    fields.update(kw)
    return AuthorizerCreate(**fields)


@pytest.fixture
def new_authorizer(apig, instance_id):
    def make(**kw):
        return apig.create_custom_authorizer_v2(CreateCustomAuthorizerV2Request(
            instance_id=instance_id, body=authorizer_body(**kw)))

    return make


def test_authorizer_crud_and_list(apig, instance_id, new_authorizer):
    body = authorizer_body()
    created = apig.create_custom_authorizer_v2(CreateCustomAuthorizerV2Request(instance_id=instance_id, body=body))
    assert created.status_code == 201 and h.is_hex32(created.id)
    h.assert_fields_match(body, created)
    h.assert_times(created)
    shown = apig.show_details_of_custom_authorizers_v2(ShowDetailsOfCustomAuthorizersV2Request(
        instance_id=instance_id, authorizer_id=created.id))
    assert h.body_of(shown) == h.body_of(created)
    change = authorizer_body(name=h.unique("auth2"), ttl=0, identities=[Identity(name="token", location="QUERY")])
    updated = apig.update_custom_authorizer_v2(UpdateCustomAuthorizerV2Request(
        instance_id=instance_id, authorizer_id=created.id, body=change))
    h.assert_fields_match(change, updated)
    h.expect_error(lambda: apig.update_custom_authorizer_v2(UpdateCustomAuthorizerV2Request(
        instance_id=instance_id, authorizer_id=created.id, body=authorizer_body(type="BACKEND"))), 409, "APIG.3324")
    listed = apig.list_custom_authorizers_v2(ListCustomAuthorizersV2Request(
        instance_id=instance_id, name=change.name, type="FRONTEND"))
    assert [a.id for a in listed.authorizer_list] == [created.id]
    h.expect_error(lambda: new_authorizer(name=change.name), 409, "APIG.3322")
    apig.delete_custom_authorizer_v2(DeleteCustomAuthorizerV2Request(instance_id=instance_id, authorizer_id=created.id))
    h.expect_error(lambda: apig.show_details_of_custom_authorizers_v2(ShowDetailsOfCustomAuthorizersV2Request(
        instance_id=instance_id, authorizer_id=created.id)), 404, "APIG.3017")


@pytest.mark.parametrize("fields", [
    dict(type="SIDE"), dict(authorizer_type="HTTP"), dict(ttl=4000), dict(network_type="V7"),
    dict(identities=[Identity(name="x", location="BODY")]),
])
def test_authorizer_validation(new_authorizer, fields):
    h.expect_error(lambda: new_authorizer(**fields), 400, "APIG.2011")


def test_api_references_to_authorizers(apig, instance_id, new_authorizer, new_group):
    front = new_authorizer()
    back = new_authorizer(type="BACKEND")
    gid = new_group().id

    def create(**kw):
        return apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(gid, **kw)))

    err = h.expect_error(lambda: create(auth_type="AUTHORIZER", authorizer_id="0" * 32), 400, "APIG.2015")
    assert "authorizer_id" in err.error_msg
    h.expect_error(lambda: create(auth_type="AUTHORIZER", authorizer_id=back.id), 400, "APIG.2015")
    h.expect_error(lambda: create(auth_type="NONE", backend_api=h.backend_body(authorizer_id=front.id)), 400, "APIG.2015")
    api = create(auth_type="AUTHORIZER", authorizer_id=front.id, backend_api=h.backend_body(authorizer_id=back.id))
    assert api.authorizer_id == front.id and api.backend_api.authorizer_id == back.id
    for used in (front, back):
        h.expect_error(lambda: apig.delete_custom_authorizer_v2(DeleteCustomAuthorizerV2Request(
            instance_id=instance_id, authorizer_id=used.id)), 409, "APIG.3323")
    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=api.id))
    for used in (front, back):
        apig.delete_custom_authorizer_v2(DeleteCustomAuthorizerV2Request(instance_id=instance_id, authorizer_id=used.id))
