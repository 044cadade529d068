"""Apps, AppCodes and app authorizations through the official SDK."""

import pytest
from huaweicloudsdkapig.v2 import (
    ApiAuthCreate,
    AppCodeCreate,
    AppCreate,
    AppResetCreate,
    CancelingAuthorizationV2Request,
    CheckAppV2Request,
    CreateAnAppV2Request,
    CreateAppCodeAutoV2Request,
    CreateAppCodeV2Request,
    CreateAuthorizingAppsV2Request,
    DeleteAppCodeV2Request,
    DeleteAppV2Request,
    ListAppCodesV2Request,
    ListApisBindedToAppV2Request,
    ListApisUnbindedToAppV2Request,
    ListAppsBindedToApiV2Request,
    ListAppsV2Request,
    ResettingAppSecretV2Request,
    ShowDetailsOfAppCodeV2Request,
    ShowDetailsOfAppV2Request,
    UpdateAppV2Request,
)

import sdkhelpers as h


@pytest.fixture
def new_app(apig, instance_id):
    def make(**kw):
        kw.setdefault("name", h.unique("app"))
        return apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id, body=AppCreate(**kw)))

    return make


def test_app_create_show_update_reset_delete(apig, instance_id, new_app):
    body = AppCreate(name=h.unique("app"), remark="shop front")
    created = apig.create_an_app_v2(CreateAnAppV2Request(instance_id=instance_id, body=body))
    assert created.status_code == 201
    h.assert_fields_match(body, created)
    raw = h.body_of(created)
    assert h.is_hex32(raw["id"]) and h.is_hex32(raw["app_key"]) and h.is_hex32(raw["app_secret"]), raw
    assert raw["status"] == 1 and raw["creator"] == "USER" and raw["app_type"] == "apig"
    h.assert_times(created)
    app_id = raw["id"]

    shown = apig.show_details_of_app_v2(ShowDetailsOfAppV2Request(instance_id=instance_id, app_id=app_id))
    assert h.body_of(shown) == raw
    check = apig.check_app_v2(CheckAppV2Request(instance_id=instance_id, app_id=app_id))
    assert (check.id, check.name, check.remark) == (app_id, body.name, "shop front")

    change = AppCreate(name=h.unique("app_renamed"), remark="renamed", app_key="custom_key_" + app_id[:8])
    updated = apig.update_app_v2(UpdateAppV2Request(instance_id=instance_id, app_id=app_id, body=change))
    h.assert_fields_match(change, updated)
    assert updated.app_secret == raw["app_secret"], "an update without app_secret keeps it"

    reset = apig.resetting_app_secret_v2(ResettingAppSecretV2Request(
        instance_id=instance_id, app_id=app_id, body=AppResetCreate()))
    assert reset.app_secret != raw["app_secret"] and h.is_hex32(reset.app_secret)
    chosen = apig.resetting_app_secret_v2(ResettingAppSecretV2Request(
        instance_id=instance_id, app_id=app_id, body=AppResetCreate(app_secret="Chosen_Secret#1")))
    assert chosen.app_secret == "Chosen_Secret#1"
    h.expect_error(lambda: apig.resetting_app_secret_v2(ResettingAppSecretV2Request(
        instance_id=instance_id, app_id=app_id, body=AppResetCreate(app_secret="bad secret"))), 400, "APIG.2011")

    apig.delete_app_v2(DeleteAppV2Request(instance_id=instance_id, app_id=app_id))
    h.expect_error(lambda: apig.show_details_of_app_v2(
        ShowDetailsOfAppV2Request(instance_id=instance_id, app_id=app_id)), 404, "APIG.3004")
    h.expect_error(lambda: apig.check_app_v2(CheckAppV2Request(instance_id=instance_id, app_id=app_id)), 404, "APIG.3004")
    h.expect_error(lambda: apig.delete_app_v2(DeleteAppV2Request(instance_id=instance_id, app_id=app_id)),
                   404, "APIG.3004")


def test_app_given_credentials_validation_and_conflicts(apig, instance_id, new_app):
    key = "given_" + h.unique("k")
    created = new_app(app_key=key, app_secret="Given_secret!1")
    assert (created.app_key, created.app_secret) == (key, "Given_secret!1")
    h.expect_error(lambda: new_app(name=created.name), 409, "APIG.3313")
    h.expect_error(lambda: new_app(app_key=key), 409, "APIG.3314")
    h.expect_error(lambda: new_app(name="9starts_with_digit"), 400, "APIG.2011")
    h.expect_error(lambda: new_app(app_key="short"), 400, "APIG.2011")
    h.expect_error(lambda: new_app(app_secret="-dash-first"), 400, "APIG.2011")
    h.expect_error(lambda: apig.create_an_app_v2(CreateAnAppV2Request(
        instance_id=instance_id, body=AppCreate(remark="no name"))), 400, "APIG.2001")


def test_app_list_filters_and_paging(apig, instance_id, new_app):
    prefix = h.unique("lst")
    made = [new_app(name=f"{prefix}_{i}") for i in range(3)]
    listed = apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, name=prefix))
    assert listed.total == 3 and [a.name for a in listed.apps] == [a.name for a in made]
    assert all(a.bind_num == 0 and a.app_secret for a in listed.apps)
    page = apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, name=prefix, offset=1, limit=1))
    assert (page.size, page.total, page.apps[0].name) == (1, 3, made[1].name)
    exact = apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, name=prefix, precise_search="name"))
    assert exact.total == 0
    by_key = apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, app_key=made[2].app_key))
    assert [a.id for a in by_key.apps] == [made[2].id]
    by_id = apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, id=made[0].id))
    assert [a.id for a in by_id.apps] == [made[0].id]
    h.expect_error(lambda: apig.list_apps_v2(ListAppsV2Request(instance_id=instance_id, limit=501)), 400, "APIG.2011")


def test_app_codes(apig, instance_id, new_app):
    app_id = new_app().id
    code = "+" + h.unique("c").replace("_", "") * 5
    code = (code + "A" * 64)[:70]
    made = apig.create_app_code_v2(CreateAppCodeV2Request(
        instance_id=instance_id, app_id=app_id, body=AppCodeCreate(app_code=code)))
    assert made.status_code == 201 and made.app_code == code and made.app_id == app_id and h.is_hex32(made.id)
    auto = apig.create_app_code_auto_v2(CreateAppCodeAutoV2Request(instance_id=instance_id, app_id=app_id))
    assert auto.status_code == 201 and len(auto.app_code) == 64
    listed = apig.list_app_codes_v2(ListAppCodesV2Request(instance_id=instance_id, app_id=app_id))
    assert listed.total == 2 and [c.id for c in listed.app_codes] == [made.id, auto.id]
    shown = apig.show_details_of_app_code_v2(ShowDetailsOfAppCodeV2Request(
        instance_id=instance_id, app_id=app_id, app_code_id=made.id))
    assert shown.app_code == code
    h.expect_error(lambda: apig.create_app_code_v2(CreateAppCodeV2Request(
        instance_id=instance_id, app_id=app_id, body=AppCodeCreate(app_code=code))), 409, "APIG.3315")
    h.expect_error(lambda: apig.create_app_code_v2(CreateAppCodeV2Request(
        instance_id=instance_id, app_id=app_id, body=AppCodeCreate(app_code="too-short"))), 400, "APIG.2011")
    apig.delete_app_code_v2(DeleteAppCodeV2Request(instance_id=instance_id, app_id=app_id, app_code_id=made.id))
    h.expect_error(lambda: apig.show_details_of_app_code_v2(ShowDetailsOfAppCodeV2Request(
        instance_id=instance_id, app_id=app_id, app_code_id=made.id)), 404, "APIG.3014")
    h.expect_error(lambda: apig.create_app_code_auto_v2(CreateAppCodeAutoV2Request(
        instance_id=instance_id, app_id="0" * 32)), 404, "APIG.3004")


def test_app_authorizations(apig, instance_id, new_app, new_api, new_env, publish):
    env_id = new_env().id
    api = new_api()
    unpublished = new_api()
    publish(api.id, env_id)
    app = new_app()

    unbound = apig.list_apis_unbinded_to_app_v2(ListApisUnbindedToAppV2Request(
        instance_id=instance_id, app_id=app.id, env_id=env_id))
    assert [a.id for a in unbound.apis] == [api.id]

    granted = apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=env_id, app_ids=[app.id], api_ids=[api.id, unpublished.id])))
    assert granted.status_code == 201
    ok, failed = granted.auths
    assert ok.auth_result.status == "SUCCESS" and ok.api_id == api.id and h.is_hex32(ok.id)
    assert failed.auth_result.status == "FAILED" and failed.auth_result.error_code == "APIG.3007"
    again = apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=env_id, app_ids=[app.id], api_ids=[api.id])))
    assert again.auths[0].auth_result.error_code == "APIG.3316"

    bound = apig.list_apis_binded_to_app_v2(ListApisBindedToAppV2Request(instance_id=instance_id, app_id=app.id))
    assert bound.total == 1 and bound.auths[0].api_id == api.id and bound.auths[0].env_id == env_id
    assert bound.auths[0].app_name == app.name
    apps = apig.list_apps_binded_to_api_v2(ListAppsBindedToApiV2Request(instance_id=instance_id, api_id=api.id))
    assert [a.app_id for a in apps.auths] == [app.id]
    assert apig.list_apis_unbinded_to_app_v2(ListApisUnbindedToAppV2Request(
        instance_id=instance_id, app_id=app.id, env_id=env_id)).total == 0

    # Offline removes the authorization.
    publish(api.id, env_id, action="offline")
    assert apig.list_apis_binded_to_app_v2(ListApisBindedToAppV2Request(
        instance_id=instance_id, app_id=app.id)).total == 0

    publish(api.id, env_id)
    granted = apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=env_id, app_ids=[app.id], api_ids=[api.id])))
    auth_id = granted.auths[0].id
    apig.canceling_authorization_v2(CancelingAuthorizationV2Request(instance_id=instance_id, app_auth_id=auth_id))
    h.expect_error(lambda: apig.canceling_authorization_v2(CancelingAuthorizationV2Request(
        instance_id=instance_id, app_auth_id=auth_id)), 404, "APIG.3015")
    h.expect_error(lambda: apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id=env_id, app_ids=[], api_ids=[api.id]))), 400, "APIG.2001")
    h.expect_error(lambda: apig.create_authorizing_apps_v2(CreateAuthorizingAppsV2Request(
        instance_id=instance_id, body=ApiAuthCreate(env_id="0" * 32, app_ids=[app.id], api_ids=[api.id]))),
        404, "APIG.3003")
