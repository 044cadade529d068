"""ROMA Connect integration applications through the official SDK: `CheckRomaAppSecret` shows the
secret in clear, `ResetRomaAppSecret` replaces it (generated when none is given), `UpdateRomaApp`
changes the name, remark and favourite flag."""

from huaweicloudsdkroma.v2 import (
    CheckRomaAppDetailsRequest,
    CheckRomaAppSecretRequest,
    CreateAppReq,
    CreateRomaAppRequest,
    DeleteRomaAppRequest,
    ResetRomaAppSecretRequest,
    UpdateAppReq,
    UpdateAppSecretReq,
    UpdateRomaAppRequest,
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


def test_update_renames_and_keeps_key_and_secret(roma, instance_id):
    created = roma.create_roma_app(CreateRomaAppRequest(instance_id=instance_id, body=CreateAppReq(
        name=h.unique("app"), remark="before", secret="kept-secret-0001")))
    name = h.unique("renamed")
    updated = roma.update_roma_app(UpdateRomaAppRequest(instance_id=instance_id, app_id=created.id, body=UpdateAppReq(
        name=name, remark="after", favorite=True)))
    assert (updated.id, updated.name, updated.remark, updated.favorite) == (created.id, name, "after", True)
    assert updated.key == created.key and updated.create_time == created.create_time
    shown = roma.check_roma_app_details(CheckRomaAppDetailsRequest(instance_id=instance_id, app_id=created.id))
    assert (shown.name, shown.remark, shown.favorite) == (name, "after", True)
    assert roma.check_roma_app_secret(CheckRomaAppSecretRequest(
        instance_id=instance_id, app_id=created.id)).secret == "kept-secret-0001"

    other = roma.create_roma_app(CreateRomaAppRequest(instance_id=instance_id, body=CreateAppReq(
        name=h.unique("app")))).name
    h.expect_error(lambda: roma.update_roma_app(UpdateRomaAppRequest(
        instance_id=instance_id, app_id=created.id, body=UpdateAppReq(name=other))), 409, "APIG.3340")
    h.expect_error(lambda: roma.update_roma_app(UpdateRomaAppRequest(
        instance_id=instance_id, app_id=created.id, body=UpdateAppReq(name="1 bad"))), 400, "APIG.2011")
    assert roma.check_roma_app_details(CheckRomaAppDetailsRequest(
        instance_id=instance_id, app_id=created.id)).name == name, "a refused update changes nothing"
    h.expect_error(lambda: roma.update_roma_app(UpdateRomaAppRequest(
        instance_id=instance_id, app_id="f" * 32, body=UpdateAppReq(name=h.unique("app")))), 404, "APIG.3030")
