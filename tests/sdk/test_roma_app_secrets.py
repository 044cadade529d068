"""ROMA Connect integration applications' secrets through the official SDK: `CheckRomaAppSecret`
shows the secret in clear, `ResetRomaAppSecret` replaces it (generated when none is given)."""

from huaweicloudsdkroma.v2 import (
    CheckRomaAppSecretRequest,
    CreateAppReq,
    CreateRomaAppRequest,
    DeleteRomaAppRequest,
    ResetRomaAppSecretRequest,
    UpdateAppSecretReq,
)

import sdkhelpers as h


def test_secret_is_shown_and_reset(roma, instance_id):
    app = roma.create_roma_app(CreateRomaAppRequest(instance_id=instance_id, body=CreateAppReq(
        name=h.unique("app"), secret="first-secret-0001"))).id

    def shown():
        return roma.check_roma_app_secret(CheckRomaAppSecretRequest(instance_id=instance_id, app_id=app))

    assert (shown().id, shown().secret) == (app, "first-secret-0001")

    chosen = roma.reset_roma_app_secret(ResetRomaAppSecretRequest(
        instance_id=instance_id, app_id=app, body=UpdateAppSecretReq(secret="second-secret-0002")))
    assert (chosen.id, chosen.secret) == (app, "second-secret-0002")
    assert shown().secret == "second-secret-0002"

    generated = roma.reset_roma_app_secret(ResetRomaAppSecretRequest(
        instance_id=instance_id, app_id=app, body=UpdateAppSecretReq()))
    assert h.is_hex32(generated.secret) and shown().secret == generated.secret


def test_secret_validation_and_unknown_apps(roma, instance_id):
    app = roma.create_roma_app(CreateRomaAppRequest(instance_id=instance_id, body=CreateAppReq(
        name=h.unique("app"), secret="kept-secret-0001"))).id
    for bad in ("short", "x" * 65):
        h.expect_error(lambda: roma.reset_roma_app_secret(ResetRomaAppSecretRequest(
            instance_id=instance_id, app_id=app, body=UpdateAppSecretReq(secret=bad))), 400, "APIG.2011")
    assert roma.check_roma_app_secret(CheckRomaAppSecretRequest(
        instance_id=instance_id, app_id=app)).secret == "kept-secret-0001", "a refused reset changes nothing"

    roma.delete_roma_app(DeleteRomaAppRequest(instance_id=instance_id, app_id=app))
    h.expect_error(lambda: roma.check_roma_app_secret(CheckRomaAppSecretRequest(
        instance_id=instance_id, app_id=app)), 404, "APIG.3030")
    h.expect_error(lambda: roma.reset_roma_app_secret(ResetRomaAppSecretRequest(
        instance_id=instance_id, app_id=app, body=UpdateAppSecretReq(secret="new-secret-0001"))), 404, "APIG.3030")
