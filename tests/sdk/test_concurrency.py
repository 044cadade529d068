"""Several SDK clients at once: uniqueness holds under races, writes never fail with 5xx
("database is locked"), and concurrent publishes leave one consistent publication."""

from concurrent.futures import ThreadPoolExecutor

from huaweicloudsdkapig.v2 import (
    ApiGroupCreate,
    CreateApiGroupV2Request,
    CreateApiV2Request,
    ListApisV2Request,
    ListApiVersionsV2Request,
    ShowDetailsOfApiV2Request,
)
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException

import sdkhelpers as h

THREADS = 8


def outcome(call):
    try:
        call()
        return 201
    except ServiceResponseException as e:
        return (e.status_code, e.error_code, e.error_msg)


def run_parallel(make_client, creds, fn, n=THREADS):
    clients = [make_client(creds["access_key"], creds["secret_key"], creds["project_id"]) for _ in range(n)]
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, clients, range(n)))


def test_same_group_name_in_parallel_creates_exactly_one(make_client, creds, instance_id):
    name = h.unique("race_grp")
    results = run_parallel(make_client, creds, lambda c, i: outcome(lambda: c.create_api_group_v2(
        CreateApiGroupV2Request(instance_id=instance_id, body=ApiGroupCreate(name=name)))))
    assert results.count(201) == 1, results
    assert all(r == 201 or r[0] == 409 for r in results), results


def test_same_api_path_in_parallel_creates_exactly_one(make_client, creds, instance_id, new_group):
    gid = new_group().id
    uri = "/race/" + h.unique("p")
    results = run_parallel(make_client, creds, lambda c, i: outcome(lambda: c.create_api_v2(CreateApiV2Request(
        instance_id=instance_id, body=h.http_api_body(gid, req_uri=uri)))))
    assert results.count(201) == 1, results
    assert all(r == 201 or r[0] == 409 for r in results), results


def test_parallel_distinct_writes_all_succeed(make_client, creds, instance_id, apig, new_group):
    gid = new_group().id

    def create_many(c, i):
        return [outcome(lambda: c.create_api_v2(CreateApiV2Request(
            instance_id=instance_id, body=h.http_api_body(gid)))) for _ in range(5)]

    results = [r for batch in run_parallel(make_client, creds, create_many) for r in batch]
    assert results == [201] * (THREADS * 5), [r for r in results if r != 201]
    listed = apig.list_apis_v2(ListApisV2Request(instance_id=instance_id, group_id=gid, limit=500))
    assert listed.total == THREADS * 5


def test_parallel_publishes_of_one_api_stay_consistent(make_client, creds, instance_id, apig, new_api, new_env,
                                                       publish):
    api = new_api()
    env = new_env()

    def pub(c, i):
        from huaweicloudsdkapig.v2 import ApiActionInfo, CreateOrDeletePublishRecordForApiV2Request
        return outcome(lambda: c.create_or_delete_publish_record_for_api_v2(
            CreateOrDeletePublishRecordForApiV2Request(instance_id=instance_id, body=ApiActionInfo(
                action="online", env_id=env.id, api_id=api.id, remark=f"race {i}"))))

    results = run_parallel(make_client, creds, pub)
    assert all(r == 201 or r[0] < 500 for r in results), results
    ok = results.count(201)
    assert ok >= 1, results
    detail = h.body_of(apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api.id)))
    assert detail["run_env_id"] == env.id, detail["run_env_id"]
    assert h.is_hex32(detail["publish_id"]), detail["publish_id"]
    versions = apig.list_api_versions_v2(ListApiVersionsV2Request(instance_id=instance_id, api_id=api.id))
    assert versions.total == ok, (versions.total, results)
