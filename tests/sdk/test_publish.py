"""Publishing: one API online/offline, batch publish/offline, version history, switching versions,
version details and the runtime (published) definition."""

from huaweicloudsdkapig.v2 import (
    ApiBatchPublish,
    ApiVersion,
    BatchPublishOrOfflineApiV2Request,
    ChangeApiVersionV2Request,
    CreateApiV2Request,
    DeleteApiByVersionIdV2Request,
    ListApiRuntimeDefinitionV2Request,
    ListApisV2Request,
    ListApiVersionDetailV2Request,
    ListApiVersionsV2Request,
    ShowDetailsOfApiV2Request,
    UpdateApiV2Request,
)

import pytest

import sdkhelpers as h


def show(apig, instance_id, api_id):
    return apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api_id))


def runtime(apig, instance_id, api_id, env_id):
    return apig.list_api_runtime_definition_v2(ListApiRuntimeDefinitionV2Request(
        instance_id=instance_id, api_id=api_id, env_id=env_id))


def versions(apig, instance_id, api_id, **q):
    return apig.list_api_versions_v2(ListApiVersionsV2Request(instance_id=instance_id, api_id=api_id, **q))


def published_ids(apig, instance_id, env_id, group_id):
    r = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, env_id=env_id, group_id=group_id, limit=500))
    return sorted(a.id for a in r.apis)


def test_publish_one_api_then_offline(apig, instance_id, new_group, new_env, publish):
    gid = new_group().id
    env = new_env()
    body = h.http_api_body(gid, remark="published remark")
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))

    rec = publish(api.id, env.id, remark="first publish")
    raw = h.body_of(rec)
    assert h.is_hex32(raw["publish_id"]) and h.is_hex32(raw["version_id"]), raw
    assert (raw["api_id"], raw["api_name"], raw["env_id"], raw["remark"]) == (api.id, api.name, env.id, "first publish")
    assert h.is_rfc3339_z(raw["publish_time"]), raw

    detail = h.body_of(show(apig, instance_id, api.id))
    assert (detail["run_env_id"], detail["run_env_name"], detail["publish_id"]) == (env.id, env.name, raw["publish_id"])
    assert h.ts(detail["publish_time"]) == h.ts(raw["publish_time"])

    rt = runtime(apig, instance_id, api.id, env.id)
    h.assert_runtime_matches(body, rt)
    assert rt.id == api.id

    hist = versions(apig, instance_id, api.id)
    h.assert_times(hist)
    assert (hist.total, hist.size) == (1, 1)
    v = hist.api_versions[0]
    assert (v.version_id, v.api_id, v.env_id, v.env_name, v.remark) == (
        raw["version_id"], api.id, env.id, env.name, "first publish")
    assert v.version_no

    again = publish(api.id, env.id, remark="second publish")
    assert again.version_id != rec.version_id
    assert versions(apig, instance_id, api.id).total == 2

    off = publish(api.id, env.id, action="offline")
    assert off.status_code < 300
    detail = h.body_of(show(apig, instance_id, api.id))
    assert not detail.get("run_env_id") and not detail.get("run_env_name") and not detail.get("publish_id"), detail
    h.expect_error(lambda: runtime(apig, instance_id, api.id, env.id), 404)
    assert published_ids(apig, instance_id, env.id, gid) == []


def test_publish_errors(apig, instance_id, new_api, new_env, publish):
    api = new_api()
    env = new_env()
    h.expect_error(lambda: publish("0" * 32, env.id), 404, "APIG.3002")
    h.expect_error(lambda: publish(api.id, "0" * 32), 404)
    h.expect_error(lambda: publish(api.id, env.id, action="launch"), 400, "APIG.2011")
    # runtime of an API never published to that env
    h.expect_error(lambda: runtime(apig, instance_id, api.id, env.id), 404)


def test_versions_switch_and_version_detail(apig, instance_id, new_group, new_env, publish):
    gid = new_group().id
    env = new_env()
    body1 = h.http_api_body(gid, remark="version one")
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body1))
    v1 = publish(api.id, env.id, remark="v1").version_id

    body2 = h.http_api_body(gid, name=body1.name, req_uri=body1.req_uri, remark="version two",
                            backend_api=h.backend_body(req_uri="/v2/items"))
    apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api.id, body=body2))
    v2 = publish(api.id, env.id, remark="v2").version_id
    assert v1 != v2
    h.assert_runtime_matches(body2, runtime(apig, instance_id, api.id, env.id))

    hist = versions(apig, instance_id, api.id, env_id=env.id)
    assert hist.total == 2 and sorted(v.version_id for v in hist.api_versions) == sorted([v1, v2])
    assert versions(apig, instance_id, api.id, env_name=env.name).total == 2
    page = versions(apig, instance_id, api.id, limit=1, offset=1)
    assert (page.total, page.size) == (2, 1)

    d1 = apig.list_api_version_detail_v2(ListApiVersionDetailV2Request(instance_id=instance_id, version_id=v1))
    h.assert_fields_match(body1, d1)
    assert d1.id == api.id
    assert d1.version_id in (None, v1)
    d2 = apig.list_api_version_detail_v2(ListApiVersionDetailV2Request(instance_id=instance_id, version_id=v2))
    h.assert_fields_match(body2, d2)

    def status_of():
        return {v.version_id: v.status for v in versions(apig, instance_id, api.id).api_versions}

    nos = [v.version_no for v in hist.api_versions]
    assert all(nos) and len(set(nos)) == 2, f"version_no must identify a version: {nos}"
    assert status_of() == {v1: 2, v2: 1}, "status 1 = the version in effect"

    switched = apig.change_api_version_v2(ChangeApiVersionV2Request(
        instance_id=instance_id, api_id=api.id, body=ApiVersion(version_id=v1)))
    assert (switched.version_id, switched.api_id, switched.env_id) == (v1, api.id, env.id)
    h.assert_runtime_matches(body1, runtime(apig, instance_id, api.id, env.id))
    h.assert_fields_match(body2, show(apig, instance_id, api.id))          # the draft is untouched
    assert status_of() == {v1: 1, v2: 2}
    assert h.body_of(show(apig, instance_id, api.id))["run_env_id"] == env.id

    h.expect_error(lambda: apig.list_api_version_detail_v2(ListApiVersionDetailV2Request(
        instance_id=instance_id, version_id="0" * 32)), 404)
    h.expect_error(lambda: apig.change_api_version_v2(ChangeApiVersionV2Request(
        instance_id=instance_id, api_id=api.id, body=ApiVersion(version_id="0" * 32))), 404)


@pytest.mark.parametrize("flavor", ["apig", "roma"])
def test_the_version_in_effect_is_taken_offline_by_its_id(flavor, apig, roma, instance_id, new_group, new_env,
                                                          publish):
    import huaweicloudsdkroma.v2 as roma_models
    client, request = ((apig, DeleteApiByVersionIdV2Request) if flavor == "apig"
                       else (roma, roma_models.DeleteApiByVersionIdV2Request))

    def offline(version_id):
        return client.delete_api_by_version_id_v2(request(instance_id=instance_id, version_id=version_id))

    gid = new_group().id
    env = new_env()
    body = h.http_api_body(gid)
    api = apig.create_api_v2(CreateApiV2Request(instance_id=instance_id, body=body))
    v1 = publish(api.id, env.id).version_id
    apig.update_api_v2(UpdateApiV2Request(instance_id=instance_id, api_id=api.id, body=h.http_api_body(
        gid, name=body.name, req_uri=body.req_uri, remark="second")))
    v2 = publish(api.id, env.id).version_id

    h.expect_error(lambda: offline(v1), 404, "APIG.3007")          # an earlier version: not in effect
    h.expect_error(lambda: offline("0" * 32), 404, "APIG.3006")
    assert runtime(apig, instance_id, api.id, env.id).remark == "second"  # nothing changed

    offline(v2)
    h.expect_error(lambda: runtime(apig, instance_id, api.id, env.id), 404)
    assert h.body_of(show(apig, instance_id, api.id)).get("run_env_id") in (None, "")
    assert versions(apig, instance_id, api.id, env_id=env.id).total == 2   # the history stays
    h.expect_error(lambda: offline(v2), 404, "APIG.3007")


def test_batch_publish_and_offline(apig, instance_id, new_group, new_api, new_env):
    gid = new_group().id
    a1, a2, a3 = (new_api(gid) for _ in range(3))
    env = new_env()
    missing = "0" * 32

    def batch(action, **kw):
        return apig.batch_publish_or_offline_api_v2(BatchPublishOrOfflineApiV2Request(
            instance_id=instance_id, action=action, body=ApiBatchPublish(env_id=env.id, **kw)))

    r = batch("online", apis=[a1.id, a2.id, missing], remark="batch")
    assert sorted(s.api_id for s in r.success) == sorted([a1.id, a2.id])
    for s in r.success:
        assert h.is_hex32(s.publish_id) and h.is_hex32(s.version_id) and s.env_id == env.id
        assert s.api_name in (a1.name, a2.name)
    assert [f.api_id for f in r.failure] == [missing]
    assert r.failure[0].error_code.startswith("APIG.") and r.failure[0].error_msg
    assert published_ids(apig, instance_id, env.id, gid) == sorted([a1.id, a2.id])

    r = batch("online", group_id=gid)
    assert a3.id in [s.api_id for s in r.success] and not r.failure
    assert published_ids(apig, instance_id, env.id, gid) == sorted([a1.id, a2.id, a3.id])

    r = batch("offline", apis=[a1.id])
    assert [s.api_id for s in r.success] == [a1.id]
    assert published_ids(apig, instance_id, env.id, gid) == sorted([a2.id, a3.id])

    batch("offline", group_id=gid)
    assert published_ids(apig, instance_id, env.id, gid) == []
    detail = h.body_of(show(apig, instance_id, a2.id))
    assert not detail.get("run_env_id"), detail


def test_batch_publish_validation(apig, instance_id, new_api, new_env):
    api = new_api()
    env = new_env()

    def batch(action, body):
        return apig.batch_publish_or_offline_api_v2(BatchPublishOrOfflineApiV2Request(
            instance_id=instance_id, action=action, body=body))

    h.expect_error(lambda: batch("launch", ApiBatchPublish(env_id=env.id, apis=[api.id])), 400)
    h.expect_error(lambda: batch("online", ApiBatchPublish(apis=[api.id])), 400, "APIG.2001")    # no env_id
    h.expect_error(lambda: batch("online", ApiBatchPublish(env_id=env.id)), 400)                # neither apis nor group
    too_many = [api.id] + ["%032x" % i for i in range(1, 1001)]
    h.expect_error(lambda: batch("online", ApiBatchPublish(env_id=env.id, apis=too_many)), 400)
    detail = h.body_of(show(apig, instance_id, api.id))
    assert not detail.get("run_env_id"), "a rejected batch must not publish anything"
