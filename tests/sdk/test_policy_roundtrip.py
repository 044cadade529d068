"""The policies story, through the official SDK: an API that uses a custom authorizer,
a VPC channel and a gateway response, bound to a throttle (with an app special) and an ACL, is
exported at `define=all`; the document is imported into a new group; publishing the imported API
binds it to the same policies, and its export is the same document."""

from huaweicloudsdkapig.v2 import (
    AclApiBindingCreate,
    ApiBackendVpcReq,
    AppCreate,
    AssociateRequestThrottlingPolicyV2Request,
    CreateAclStrategyV2Request,
    CreateAnAppV2Request,
    CreateApiAclBindingV2Request,
    CreateApiV2Request,
    CreateCustomAuthorizerV2Request,
    CreateGatewayResponseV2Request,
    CreateRequestThrottlingPolicyV2Request,
    CreateSpecialThrottlingConfigurationV2Request,
    CreateVpcChannelV2Request,
    ListApisBindedToAclPolicyV2Request,
    ListApisBindedToRequestThrottlingPolicyV2Request,
    ListGatewayResponsesV2Request,
    ResponseInfo,
    ResponseInfoHeader,
    ResponsesCreate,
    ShowDetailsOfApiV2Request,
    ThrottleApiBindingCreate,
    ThrottleSpecialCreate,
)

import sdkhelpers as h
from test_acls import acl_body
from test_authorizers import authorizer_body
from test_openapi import export, import_file, operations, without_volatile
from test_throttles import throttle_body
from test_vpc_channels import channel_body


def bound_api_ids(apig, instance_id, throttle_id, acl_id):
    throttled = apig.list_apis_binded_to_request_throttling_policy_v2(
        ListApisBindedToRequestThrottlingPolicyV2Request(instance_id=instance_id, throttle_id=throttle_id))
    guarded = apig.list_apis_binded_to_acl_policy_v2(
        ListApisBindedToAclPolicyV2Request(instance_id=instance_id, acl_id=acl_id))
    return {a.id for a in throttled.apis}, {a.api_id for a in guarded.apis}


def test_policies_bound_to_an_api_survive_export_all_and_import(apig, instance_id, new_group, publish, tmp_path):
    app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id, body=AppCreate(name=h.unique("app"))))
    throttle = apig.create_request_throttling_policy_v2(CreateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=throttle_body(type=2)))
    apig.create_special_throttling_configuration_v2(CreateSpecialThrottlingConfigurationV2Request(
        instance_id=instance_id, throttle_id=throttle.id,
        body=ThrottleSpecialCreate(object_type="APP", object_id=app.id, call_limits=7)))
    acl = apig.create_acl_strategy_v2(CreateAclStrategyV2Request(instance_id=instance_id, body=acl_body()))
    authorizer = apig.create_custom_authorizer_v2(CreateCustomAuthorizerV2Request(
        instance_id=instance_id, body=authorizer_body()))
    channel = apig.create_vpc_channel_v2(CreateVpcChannelV2Request(instance_id=instance_id, body=channel_body()))
    group = new_group()
    response = apig.create_gateway_response_v2(CreateGatewayResponseV2Request(
        instance_id=instance_id, group_id=group.id, body=ResponsesCreate(name=h.unique("resp"), responses={
            "THROTTLED": ResponseInfo(status=503, body='{"msg":"slow"}',
                                      headers=[ResponseInfoHeader(key="Retry-After", value="1")])})))
    backend = h.backend_body(url_domain=None, vpc_channel_status=1,
                             vpc_channel_info=ApiBackendVpcReq(vpc_channel_id=channel.id))
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        group.id, name=h.unique("guarded"), auth_type="AUTHORIZER", authorizer_id=authorizer.id,
        response_id=response.id, backend_api=backend)))
    publish_id = publish(api.id, h.RELEASE_ENV_ID).publish_id
    apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleApiBindingCreate(strategy_id=throttle.id, publish_ids=[publish_id])))
    apig.create_api_acl_binding_v2(CreateApiAclBindingV2Request(
        instance_id=instance_id, body=AclApiBindingCreate(acl_id=acl.id, publish_ids=[publish_id])))

    first = export(apig, instance_id, group.id, "all", "yaml")
    op = operations(first)[api.name]
    assert op["x-apigateway-ratelimit"] == throttle.name and op["x-apigateway-access-control"] == acl.acl_name
    assert op["x-apigateway-response"] == response.name
    assert op["x-apigateway-backend"]["httpVpcEndpoints"]["name"] == channel.name
    limits = first["x-apigateway-ratelimits"][throttle.name]
    assert (limits["api-limit"], limits["shared"], limits["special"]) == (100, True, [
        {"type": "APP", "limit": 7, "instance": app.id}])
    assert first["x-apigateway-access-controls"][acl.acl_name]["value"] == acl.acl_value
    assert first["x-apigateway-responses"][response.name]["THROTTLED"]["status"] == 503

    first["info"]["title"] = h.unique("copy")
    result = import_file(apig, instance_id, tmp_path, first, is_create_group=True)
    body = h.body_of(result)
    assert body["failure"] == [] and len(body["success"]) == 1, body
    copy_id = body["success"][0]["id"]
    copy = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=copy_id))
    assert copy.authorizer_id == authorizer.id
    assert copy.backend_api.vpc_channel_info.vpc_channel_id == channel.id
    copied_responses = apig.list_gateway_responses_v2(ListGatewayResponsesV2Request(
        instance_id=instance_id, group_id=result.group_id)).responses
    assert [r.name for r in copied_responses] == [response.name]
    assert copy.response_id == copied_responses[0].id != response.id
    assert bound_api_ids(apig, instance_id, throttle.id, acl.id) == ({api.id}, {api.id}), "nothing bound yet"

    publish(copy_id, h.RELEASE_ENV_ID)
    assert bound_api_ids(apig, instance_id, throttle.id, acl.id) == ({api.id, copy_id}, {api.id, copy_id})
    again = export(apig, instance_id, result.group_id, "all", "yaml")
    assert without_volatile(again) == without_volatile(first)
