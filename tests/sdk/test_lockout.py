"""The production failure quota of the running binary (`lockout::default_quota`, documented in
docs/errors.md and RELIABILITY.md): per principal and source address, a burst of 10 failures,
then one more every 6 seconds; a failure past it is answered 429 with `Retry-After`. Each test
uses a user of its own, so the failures it spends never reach another test's principal."""

import time

from huaweicloudsdkapig.v2 import ListApiGroupsV2Request

import sdkhelpers as h

BURST = 10
REFILL_SECS = 6


def until_throttled(attempt, expected_refusal):
    """Calls `attempt` until it answers 429; returns how many were refused with
    `expected_refusal` before, the seconds that took, and the 429."""
    refused, started = 0, time.monotonic()
    while True:
        response = attempt()
        if response.status_code == 429:
            return refused, time.monotonic() - started, response
        assert response.status_code == expected_refusal, response.text
        refused += 1
        assert refused <= 3 * BURST, f"{refused} failures and no 429"


def assert_the_documented_burst(refused, elapsed):
    # The quota refills while the attempts run: one more per full REFILL_SECS they took.
    assert BURST <= refused <= BURST + int(elapsed // REFILL_SECS), (refused, elapsed)


def retry_after(response):
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= REFILL_SECS, value
    return value


def login(base_url, user, password, domain):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}}}}
    with h.http_session() as s:
        return s.post(base_url + "/v3/auth/tokens", json=body, timeout=30)


def test_failed_logins_get_the_documented_burst_then_429(base_url, new_tenant):
    user = new_tenant()
    refused, elapsed, locked = until_throttled(
        lambda: login(base_url, user["user"], user["password"] + "x", user["domain"]), 401)
    assert_the_documented_burst(refused, elapsed)
    retry_after(locked)
    assert locked.json()["error"]["code"] == 429, locked.text


def test_failed_signatures_get_the_documented_burst_then_429_and_never_lock_out_the_owner(
        base_url, new_tenant, project_id, instance_id):
    user = new_tenant(project=project_id)
    path = f"/v2/{project_id}/apigw/instances/{instance_id}/api-groups"
    wrong_secret = user["secret_key"][:-1] + ("x" if user["secret_key"][-1] != "x" else "y")

    def forged():
        return h.signed_request(base_url, user["access_key"], wrong_secret, project_id, "GET", path)

    refused, elapsed, throttled = until_throttled(forged, 401)
    assert_the_documented_burst(refused, elapsed)
    h.assert_apig_error(throttled, 429, "APIG.1010")

    # The owner's own signature, from the same address, is accepted at once: failures of
    # someone who knows the access key must not lock its owner out.
    signed = h.signed_request(base_url, user["access_key"], user["secret_key"], project_id, "GET", path)
    assert signed.status_code == 200, signed.text
    assert user["client"].list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)).status_code == 200
    retry_after(throttled)
