"""The data plane with APP authentication: apps, AppCodes, authorizations and a throttling policy
made through the official SDK, then requests to the gateway signed by the SDK's own signer
(`huaweicloudsdkcore.signer.Signer`) with the app's key and secret."""

import time

from huaweicloudsdkapig.v2 import (
    ApiAuthCreate,
    ApiMockCreate,
    AppCreate,
    AuthOpt,
    CreateAnAppV2Request,
    CreateAppCodeAutoV2Request,
    CreateAuthorizingAppsV2Request,
    CreateRequestThrottlingPolicyV2Request,
    AssociateRequestThrottlingPolicyV2Request,
    ThrottleApiBindingCreate,
    ThrottleBaseInfo,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

import sdkhelpers as h

WAIT = 10.0  # seconds the gateway may take to pick up a change


def call(gateway_url, host, path, headers=None, query=()):
    with h.http_session() as s:
        return s.get(gateway_url + path, params=list(query), headers={"Host": host, **(headers or {})}, timeout=30)


def signed_call(gateway_url, host, path, ak, sk, query=()):
    """GET signed by the SDK's signer for `host` (what the group's domain would be)."""
    req = SdkRequest(method="GET", schema="http", host=host, resource_path=path, query_params=list(query),
                     header_params={}, body=b"")
    req = Signer(BasicCredentials(ak, sk)).sign(req)
    with h.http_session() as s:
        return s.get(gateway_url + req.uri, headers=req.header_params, timeout=30)


def until(probe, accept):
    """Calls `probe` until `accept(response)` (the gateway reloads within about a second); returns
    the last response."""
    deadline = time.monotonic() + WAIT
    while True:
        response = probe()
        if accept(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.1)  # readiness polling only; nothing asserts how long it took


def error_code(response):
    try:
        return response.json().get("error_code")
    except ValueError:
        return None


def test_sdk_signed_app_requests(apig, instance_id, new_group, new_api, publish, gateway_url):
    group = new_group()
    host = h.body_of(group)["sl_domain"]
    api = new_api(group_id=group.id, auth_type="APP", backend_type="MOCK", backend_api=None,
                  mock_info=ApiMockCreate(result_content="hello from the mock"),
                  auth_opt=AuthOpt(app_code_auth_type="HEADER"))
    publish(api.id, h.RELEASE_ENV_ID)
    path = api.req_uri
    app = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id,
                                                     body=AppCreate(name=h.unique("app"))))
    ak, sk = app.app_key, app.app_secret

    unsigned = until(lambda: call(gateway_url, host, path), lambda r: r.status_code != 404)
    assert (unsigned.status_code, error_code(unsigned)) == (401, "APIG.0303"), unsigned.text
    refused = until(lambda: signed_call(gateway_url, host, path, ak, sk), lambda r: r.status_code == 403)
    assert (refused.status_code, error_code(refused)) == (403, "APIG.0305"), refused.text

    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=h.RELEASE_ENV_ID, app_ids=[app.id], api_ids=[api.id])))
    ok = until(lambda: signed_call(gateway_url, host, path, ak, sk, query=[("b", "2"), ("a", "x y")]),
               lambda r: r.status_code == 200)
    assert (ok.status_code, ok.text) == (200, "hello from the mock"), ok.text

    wrong = signed_call(gateway_url, host, path, ak, sk[:-1] + ("x" if sk[-1] != "x" else "y"))
    assert (wrong.status_code, error_code(wrong)) == (401, "APIG.0304"), wrong.text

    code = apig.create_app_code_auto_v2(CreateAppCodeAutoV2Request(instance_id=instance_id, app_id=app.id))
    by_code = until(lambda: call(gateway_url, host, path, {"X-Apig-AppCode": code.app_code}),
                    lambda r: r.status_code == 200)
    assert (by_code.status_code, by_code.text) == (200, "hello from the mock"), by_code.text


def test_sdk_throttled_app(apig, instance_id, new_group, new_api, publish, gateway_url):
    group = new_group()
    host = h.body_of(group)["sl_domain"]
    api = new_api(group_id=group.id, auth_type="APP", backend_type="MOCK", backend_api=None,
                  mock_info=ApiMockCreate(result_content="ok"))
    record = publish(api.id, h.RELEASE_ENV_ID)
    # Two apps: the first shows when the policy is live on the data plane, the second then counts
    # from zero (per app, in a one-hour window) and gets exactly the limit.
    herald, counted = (apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id,
                                                                  body=AppCreate(name=h.unique("app"))))
                       for _ in range(2))
    apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(instance_id=instance_id, body=ApiAuthCreate(
        env_id=h.RELEASE_ENV_ID, app_ids=[herald.id, counted.id], api_ids=[api.id])))
    path = api.req_uri
    for app in (herald, counted):
        ready = until(lambda: signed_call(gateway_url, host, path, app.app_key, app.app_secret),
                      lambda r: r.status_code == 200)
        assert ready.status_code == 200, ready.text

    limit = 2
    throttle = apig.create_request_throttling_policy_v2(CreateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleBaseInfo(name=h.unique("throttle"), api_call_limits=100,
                                                       app_call_limits=limit, time_interval=1, time_unit="HOUR")))
    apig.associate_request_throttling_policy_v2(AssociateRequestThrottlingPolicyV2Request(
        instance_id=instance_id, body=ThrottleApiBindingCreate(strategy_id=throttle.id,
                                                               publish_ids=[record.publish_id])))
    live = until(lambda: signed_call(gateway_url, host, path, herald.app_key, herald.app_secret),
                 lambda r: r.status_code == 429)
    assert (live.status_code, error_code(live)) == (429, "APIG.0308"), live.text

    answers = [signed_call(gateway_url, host, path, counted.app_key, counted.app_secret) for _ in range(limit + 1)]
    assert [r.status_code for r in answers] == [200] * limit + [429], [r.text for r in answers]
    assert error_code(answers[-1]) == "APIG.0308" and "app call limit" in answers[-1].json()["error_msg"]
