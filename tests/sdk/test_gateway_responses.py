"""Gateway responses of a group, through the official SDK."""

from huaweicloudsdkapig.v2 import (
    CreateApiV2Request,
    CreateGatewayResponseV2Request,
    DeleteApiV2Request,
    DeleteGatewayResponseTypeV2Request,
    DeleteGatewayResponseV2Request,
    ListGatewayResponsesV2Request,
    ResponseInfo,
    ResponseInfoHeader,
    ResponsesCreate,
    ShowDetailsOfGatewayResponseTypeV2Request,
    ShowDetailsOfGatewayResponseV2Request,
    UpdateGatewayResponseTypeV2Request,
    UpdateGatewayResponseV2Request,
)

import sdkhelpers as h


def test_gateway_responses(apig, instance_id, new_group):
    gid = new_group().id
    body = ResponsesCreate(name=h.unique("resp"), responses={
        "THROTTLED": ResponseInfo(status=503, body='{"msg":"slow"}',
                                  headers=[ResponseInfoHeader(key="Retry-After", value="1")])})
    created = apig.create_gateway_response_v2(CreateGatewayResponseV2Request(instance_id=instance_id, group_id=gid,
                                                                             body=body))
    assert created.status_code == 201 and h.is_hex32(created.id) and created.name == body.name
    assert created.responses["THROTTLED"].status == 503 and created.responses["THROTTLED"].default is False
    assert created.responses["NOT_FOUND"].default is True
    rid = created.id
    shown = apig.show_details_of_gateway_response_v2(ShowDetailsOfGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid))
    assert h.body_of(shown) == h.body_of(created)

    one = apig.update_gateway_response_type_v2(UpdateGatewayResponseTypeV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid, response_type="AUTH_FAILURE",
        body=ResponseInfo(status=401, body="denied")))
    assert one.body["AUTH_FAILURE"].status == 401 and one.body["AUTH_FAILURE"].default is False
    got = apig.show_details_of_gateway_response_type_v2(ShowDetailsOfGatewayResponseTypeV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid, response_type="AUTH_FAILURE"))
    assert got.body["AUTH_FAILURE"].body == "denied"
    apig.delete_gateway_response_type_v2(DeleteGatewayResponseTypeV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid, response_type="AUTH_FAILURE"))
    got = apig.show_details_of_gateway_response_type_v2(ShowDetailsOfGatewayResponseTypeV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid, response_type="AUTH_FAILURE"))
    assert got.body["AUTH_FAILURE"].default is True

    renamed = apig.update_gateway_response_v2(UpdateGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid, body=ResponsesCreate(name=h.unique("resp2"))))
    assert renamed.responses["THROTTLED"].default is True
    listed = apig.list_gateway_responses_v2(ListGatewayResponsesV2Request(instance_id=instance_id, group_id=gid))
    assert [r.id for r in listed.responses] == [rid]
    h.expect_error(lambda: apig.create_gateway_response_v2(CreateGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, body=ResponsesCreate(name=renamed.name))), 409, "APIG.3327")
    h.expect_error(lambda: apig.create_gateway_response_v2(CreateGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, body=ResponsesCreate(name=h.unique("r"), responses={
            "SLOW": ResponseInfo(status=429, body="")}))), 400, "APIG.2011")

    h.expect_error(lambda: apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(
        gid, response_id="0" * 32))), 400, "APIG.2015")
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=h.http_api_body(gid, response_id=rid)))
    assert api.response_id == rid
    h.expect_error(lambda: apig.delete_gateway_response_v2(DeleteGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid)), 409, "APIG.3323")
    apig.delete_api_v2(DeleteApiV2Request(instance_id=instance_id, api_id=api.id))
    apig.delete_gateway_response_v2(DeleteGatewayResponseV2Request(instance_id=instance_id, group_id=gid,
                                                                   response_id=rid))
    h.expect_error(lambda: apig.show_details_of_gateway_response_v2(ShowDetailsOfGatewayResponseV2Request(
        instance_id=instance_id, group_id=gid, response_id=rid)), 404, "APIG.3021")
