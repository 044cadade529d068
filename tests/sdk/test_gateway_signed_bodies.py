"""APP authentication at the gateway covers the body: a request signed by the SDK's own signer
(`huaweicloudsdkcore.signer.Signer`) whose body is swapped after signing, under an
`X-Sdk-Content-Sha256` that declares the signed body's hash, is refused."""

import hashlib
import time

from huaweicloudsdkapig.v2 import (
    ApiAuthCreate,
    ApiMockCreate,
    AppCreate,
    CreateAnAppV2Request,
    CreateAuthorizingAppsV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

import sdkhelpers as h

WAIT = 10.0  # seconds the gateway may take to pick up a change


def signed_post(gateway_url, host, path, ak, sk, signed_body, sent_body):
    """POST signed by the SDK's signer over `signed_body`, with the signed body's hash declared
    after signing, sending `sent_body`."""
    req = SdkRequest(method="POST", schema="http", host=host, resource_path=path, query_params=[],
                     header_params={"Content-Type": "application/json"}, body=signed_body)
    req = Signer(BasicCredentials(ak, sk)).sign(req)
    headers = {**req.header_params, "X-Sdk-Content-Sha256": hashlib.sha256(signed_body).hexdigest()}
    with h.http_session() as s:
        return s.post(gateway_url + req.uri, headers=headers, data=sent_body, timeout=30)


def error_code(response):
    try:
        return response.json().get("error_code")
    except ValueError:
        return None


def test_a_body_swapped_under_its_declared_hash_is_refused(apig, instance_id, new_group, new_api, publish,
                                                           gateway_url):
    group = new_group()
    host = h.body_of(group)["sl_domain"]
    api = new_api(group_id=group.id, req_method="POST", auth_type="APP", backend_type="MOCK", backend_api=None,
                  mock_info=ApiMockCreate(result_content="signed body accepted"))
    publish(api.id, h.RELEASE_ENV_ID)
    app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id,
                                                     body=AppCreate(name=h.unique("app"))))
    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=h.RELEASE_ENV_ID, app_ids=[app.id], api_ids=[api.id])))
    signed_body = b'{"amount": 1}'

    def honest():
        return signed_post(gateway_url, host, api.req_uri, app.app_key, app.app_secret, signed_body, signed_body)

    deadline = time.monotonic() + WAIT
    ok = honest()
    while ok.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # readiness polling only; nothing asserts how long it took
        ok = honest()
    assert (ok.status_code, ok.text) == (200, "signed body accepted"), ok.text

    swapped = signed_post(gateway_url, host, api.req_uri, app.app_key, app.app_secret, signed_body,
                          b'{"amount": 1000000}')
    assert (swapped.status_code, error_code(swapped)) == (401, "APIG.0304"), swapped.text
