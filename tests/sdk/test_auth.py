"""Authentication (AK/SK signature, IAM tokens) and authorization (projects, read-only users)."""

from datetime import datetime, timedelta, timezone

import pytest
from huaweicloudsdkapig.v2 import (
    ApiGroupBase,
    CreateApiGroupV2Request,
    DeleteApiGroupV2Request,
    ListApiGroupsV2Request,
    ListEnvironmentsV2Request,
    ListInstancesV2Request,
    ShowDetailsOfApiGroupV2Request,
    ShowDetailsOfApiV2Request,
    UpdateApiGroupV2Request,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkiam.v3 import (
    AuthScope,
    AuthScopeProject,
    IamClient,
    KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody,
    PwdAuth,
    PwdIdentity,
    PwdPassword,
    PwdPasswordUser,
    PwdPasswordUserDomain,
)

import sdkhelpers as h


def groups_path(project_id, instance_id):
    return f"/v2/{project_id}/apigw/instances/{instance_id}/api-groups"


# ------------------------------------------------------------------------------------ AK/SK


def test_wrong_secret_key_is_401(make_client, creds, instance_id):
    bad = make_client(creds["access_key"], creds["secret_key"][:-1] + ("x" if creds["secret_key"][-1] != "x" else "y"),
                      creds["project_id"])
    h.expect_error(lambda: bad.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)), 401, "APIG.1002")
    h.expect_error(lambda: bad.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=instance_id, body=h.group_body())), 401, "APIG.1002")


def test_unknown_access_key_is_401(make_client, creds, instance_id):
    bad = make_client("UNKNOWNAK" + "0" * 11, creds["secret_key"], creds["project_id"])
    h.expect_error(lambda: bad.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)), 401, "APIG.1002")


def test_no_credentials_is_401(base_url, project_id, instance_id):
    with h.http_session() as s:
        r = s.get(base_url + groups_path(project_id, instance_id))
    h.assert_apig_error(r, 401, "APIG.1002")


def test_signed_request_by_hand_and_request_id(base_url, creds, project_id, instance_id):
    r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET",
                         groups_path(project_id, instance_id), query=[("limit", 5), ("offset", 0)])
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-Id")
    body = r.json()
    assert {"size", "total", "groups"} <= body.keys() and body["size"] <= 5


def test_sdk_date_window(base_url, creds, project_id, instance_id):
    def at(delta):
        return (datetime.now(timezone.utc) + delta).strftime("%Y%m%dT%H%M%SZ")

    def call(delta):
        return h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET",
                                groups_path(project_id, instance_id), sdk_date=at(delta))

    assert call(timedelta(minutes=-5)).status_code == 200
    assert call(timedelta(minutes=5)).status_code == 200
    h.assert_apig_error(call(timedelta(minutes=-20)), 401)
    h.assert_apig_error(call(timedelta(minutes=20)), 401)


def test_body_tampering_breaks_the_signature(base_url, creds, project_id, instance_id):
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from urllib.parse import urlparse

    u = urlparse(base_url)
    signed_body = ('{"name": "%s"}' % h.unique("grp_signed")).encode()
    req = SdkRequest(method="POST", schema=u.scheme, host=u.netloc, resource_path=groups_path(project_id, instance_id),
                     query_params=[], header_params={"Content-Type": "application/json;charset=UTF-8"},
                     body=signed_body)
    req = BasicCredentials(creds["access_key"], creds["secret_key"], project_id).sign_request(req)
    with h.http_session() as s:
        r = s.post(base_url + req.uri, headers=req.header_params,
                   data=('{"name": "%s"}' % h.unique("grp_forged")).encode())
    h.assert_apig_error(r, 401, "APIG.1002")


def test_body_swapped_under_a_declared_hash_is_401(base_url, creds, project_id, instance_id):
    """The SDK signs a JSON body's hash without sending it. Whoever holds one signed request can
    add `X-Sdk-Content-Sha256: <that hash>` (not a signed header) and send another body: the
    server must check the declared hash against the body it received."""
    import hashlib
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from urllib.parse import urlparse

    u = urlparse(base_url)
    path = groups_path(project_id, instance_id)
    signed_body = ('{"name": "%s"}' % h.unique("grp_declared")).encode()
    req = SdkRequest(method="POST", schema=u.scheme, host=u.netloc, resource_path=path, query_params=[],
                     header_params={"Content-Type": "application/json;charset=UTF-8"}, body=signed_body)
    req = BasicCredentials(creds["access_key"], creds["secret_key"], project_id).sign_request(req)
    assert "X-Sdk-Content-Sha256" not in req.header_params
    headers = {**req.header_params, "X-Sdk-Content-Sha256": hashlib.sha256(signed_body).hexdigest()}
    swapped_name = h.unique("grp_swapped")
    with h.http_session() as s:
        swapped = s.post(base_url + req.uri, headers=headers, data=('{"name": "%s"}' % swapped_name).encode())
        h.assert_apig_error(swapped, 401, "APIG.1002")
        honest = s.post(base_url + req.uri, headers=headers, data=signed_body)
    assert honest.status_code == 201, honest.text
    listed = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET", path,
                              query=[("name", swapped_name)])
    assert listed.status_code == 200 and listed.json()["total"] == 0, listed.text


def test_malformed_json_is_400_not_500(base_url, creds, project_id, instance_id):
    for body in (b'{"name": ', b"not json at all", b'["a list"]', b'{"name": 12345}'):
        r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "POST",
                             groups_path(project_id, instance_id), body=body)
        h.assert_apig_error(r, 400)


def test_unknown_route_has_request_id(base_url, creds, project_id, instance_id):
    r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET",
                         f"/v2/{project_id}/apigw/instances/{instance_id}/no-such-thing")
    assert r.status_code == 404 and r.headers.get("X-Request-Id")


# ------------------------------------------------------------------------------------ projects / users


@pytest.fixture(scope="module")
def other_tenant(new_tenant):
    return new_tenant()


def test_other_projects_credentials_are_403_on_this_project(make_client, other_tenant, project_id, instance_id,
                                                          apig):
    group = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=instance_id, body=h.group_body()))
    intruder = make_client(other_tenant["access_key"], other_tenant["secret_key"], project_id)
    for call in (
        lambda: intruder.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)),
        lambda: intruder.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
            instance_id=instance_id, group_id=group.id)),
        lambda: intruder.create_api_group_v2(CreateApiGroupV2Request(instance_id=instance_id, body=h.group_body())),
        lambda: intruder.delete_api_group_v2(DeleteApiGroupV2Request(instance_id=instance_id, group_id=group.id)),
        lambda: intruder.list_instances_v2(ListInstancesV2Request()),
    ):
        h.expect_error(call, 403, "APIG.1005")
    # nothing happened to the group
    assert apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=group.id)).name == group.name


def test_first_projects_data_is_invisible_from_the_second(other_tenant, instance_id, apig, new_api):
    api = new_api()
    group_name = apig.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api.id)).group_name
    b = other_tenant["client"]

    listed = b.list_instances_v2(ListInstancesV2Request(limit=500))
    assert instance_id not in [i.id for i in listed.instances]

    # The first project's instance, addressed under the second project's path, does not exist
    # there (docs/errors.md: APIG.3008), for a list and for one object alike.
    h.expect_error(lambda: b.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=group_name)),
                   404, "APIG.3008")
    h.expect_error(lambda: b.show_details_of_api_v2(ShowDetailsOfApiV2Request(instance_id=instance_id,
                                                                              api_id=api.id)),
                   404, "APIG.3008")


def test_readonly_user_reads_but_cannot_write(new_tenant, project_id, instance_id, new_group):
    ro = new_tenant(readonly=True, project=project_id)
    assert ro["readonly"] is True and ro["projects"] == [project_id]
    group = new_group()
    c = ro["client"]
    assert group.id in [g.id for g in c.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, limit=500)).groups]
    assert c.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(
        instance_id=instance_id, group_id=group.id)).id == group.id
    assert c.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id)).total >= 1
    h.expect_error(lambda: c.create_api_group_v2(CreateApiGroupV2Request(
        instance_id=instance_id, body=h.group_body())), 403, "APIG.1005")
    h.expect_error(lambda: c.update_api_group_v2(UpdateApiGroupV2Request(
        instance_id=instance_id, group_id=group.id, body=ApiGroupBase(name=h.unique("ro")))), 403, "APIG.1005")
    h.expect_error(lambda: c.delete_api_group_v2(DeleteApiGroupV2Request(
        instance_id=instance_id, group_id=group.id)), 403, "APIG.1005")


def test_user_added_by_project_name_can_write(run_cli, new_tenant, make_client):
    p = run_cli("project", "create", h.unique("projn"))
    t = new_tenant(project=p["project_name"])
    assert t["projects"] == [p["project_id"]] and t["readonly"] is False
    c = make_client(t["access_key"], t["secret_key"], p["project_id"])
    instances = c.list_instances_v2(ListInstancesV2Request()).instances
    if instances:  # a project may start with no instance; then there is nothing to write into
        g = c.create_api_group_v2(CreateApiGroupV2Request(instance_id=instances[0].id, body=h.group_body()))
        assert h.is_hex32(g.id)


def test_user_without_project_is_403(new_tenant, make_client, project_id, instance_id):
    t = new_tenant(with_project=False)
    assert t["projects"] == []
    c = make_client(t["access_key"], t["secret_key"], project_id)
    h.expect_error(lambda: c.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)), 403, "APIG.1005")


# ------------------------------------------------------------------------------------ IAM tokens


def token_request(domain, user, password, project_id=None, project_name=None):
    return KeystoneCreateUserTokenByPasswordRequest(body=KeystoneCreateUserTokenByPasswordRequestBody(auth=PwdAuth(
        identity=PwdIdentity(methods=["password"], password=PwdPassword(user=PwdPasswordUser(
            domain=PwdPasswordUserDomain(name=domain), name=user, password=password))),
        scope=AuthScope(project=AuthScopeProject(id=project_id, name=project_name)))))


@pytest.fixture(scope="module")
def iam(base_url, creds):
    # The IAM SDK signs every request; it is given the admin AK/SK only so it does not go to the
    # ECS metadata service. /v3/auth/tokens authenticates by the password in the body.
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    return (IamClient.new_builder().with_http_config(cfg)
            .with_credentials(BasicCredentials(creds["access_key"], creds["secret_key"], creds["project_id"]))
            .with_endpoints([base_url]).build())


@pytest.fixture(scope="module")
def get_token(iam, creds):
    def get(user=None, password=None, project_id=None, project_name=None):
        resp = iam.keystone_create_user_token_by_password(token_request(
            creds["domain"], user or creds["admin_user"], password or creds["admin_password"],
            project_id=project_id, project_name=project_name))
        assert resp.status_code == 201
        assert resp.x_subject_token, "no X-Subject-Token header"
        return resp

    return get


def token_call(base_url, token, method, path, json=None):
    with h.http_session() as s:
        return s.request(method, base_url + path, json=json,
                         headers={"X-Auth-Token": token, "Content-Type": "application/json;charset=UTF-8"})


def test_iam_token_by_project_id_and_name(get_token, base_url, creds, project_id, instance_id):
    resp = get_token(project_id=project_id)
    tok = resp.token
    assert tok.project.id == project_id and tok.project.name
    assert tok.user.name == creds["admin_user"]
    assert "password" in tok.methods
    assert h.ts(tok.expires_at) > h.ts(tok.issued_at) > datetime.now(timezone.utc) - timedelta(minutes=5)

    r = token_call(base_url, resp.x_subject_token, "GET", groups_path(project_id, instance_id))
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-Id") and "groups" in r.json()
    r = token_call(base_url, resp.x_subject_token, "POST", groups_path(project_id, instance_id),
                   json={"name": h.unique("grp_tok"), "remark": "via token"})
    assert r.status_code in (200, 201), r.text
    assert h.is_hex32(r.json()["id"])

    by_name = get_token(project_name=tok.project.name)
    assert by_name.token.project.id == project_id
    r = token_call(base_url, by_name.x_subject_token, "GET", groups_path(project_id, instance_id))
    assert r.status_code == 200, r.text


def test_iam_token_without_signature(base_url, creds, project_id):
    body = h.wire(token_request(creds["domain"], creds["admin_user"], creds["admin_password"],
                                project_id=project_id).body)
    with h.http_session() as s:
        r = s.post(base_url + "/v3/auth/tokens", json=body)
    assert r.status_code == 201, r.text
    assert r.headers.get("X-Subject-Token")
    assert r.json()["token"]["project"]["id"] == project_id


def test_iam_wrong_password_is_401(iam, creds, project_id):
    with pytest.raises(ClientRequestException) as info:
        iam.keystone_create_user_token_by_password(token_request(
            creds["domain"], creds["admin_user"], creds["admin_password"] + "x", project_id=project_id))
    assert info.value.status_code == 401


def test_garbage_and_tampered_tokens_are_401(get_token, base_url, project_id, instance_id):
    path = groups_path(project_id, instance_id)
    h.assert_apig_error(token_call(base_url, "garbage", "GET", path), 401, "APIG.1002")
    good = get_token(project_id=project_id).x_subject_token
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    h.assert_apig_error(token_call(base_url, tampered, "GET", path), 401, "APIG.1002")
    h.assert_apig_error(token_call(base_url, good[: len(good) // 2], "GET", path), 401, "APIG.1002")


def test_token_of_another_project_is_403(get_token, other_tenant, base_url, project_id, instance_id):
    tok = get_token(other_tenant["user"], other_tenant["password"], project_id=other_tenant["project_id"])
    assert tok.token.project.id == other_tenant["project_id"]
    h.assert_apig_error(token_call(base_url, tok.x_subject_token, "GET", groups_path(project_id, instance_id)),
                        403, "APIG.1005")
    h.assert_apig_error(token_call(base_url, tok.x_subject_token, "POST", groups_path(project_id, instance_id),
                                   json={"name": h.unique("grp_x")}), 403, "APIG.1005")
    by_name = get_token(other_tenant["user"], other_tenant["password"], project_name=other_tenant["project_name"])
    assert by_name.token.project.id == other_tenant["project_id"]


def test_readonly_token_cannot_write(get_token, new_tenant, base_url, project_id, instance_id):
    ro = new_tenant(readonly=True, project=project_id)
    tok = get_token(ro["user"], ro["password"], project_id=project_id).x_subject_token
    assert token_call(base_url, tok, "GET", groups_path(project_id, instance_id)).status_code == 200
    h.assert_apig_error(token_call(base_url, tok, "POST", groups_path(project_id, instance_id),
                                   json={"name": h.unique("grp_ro")}), 403, "APIG.1005")


def test_health_is_public_and_request_ids_are_unique(base_url, creds, project_id, instance_id):
    with h.http_session() as s:
        health = s.get(base_url + "/health")
    assert health.status_code == 200 and health.headers.get("X-Request-Id")
    ids = set()
    for _ in range(5):
        r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET",
                             groups_path(project_id, instance_id))
        assert r.status_code == 200
        ids.add(r.headers["X-Request-Id"])
    assert len(ids) == 5, ids


def test_ready_and_management_metrics(base_url, creds, project_id, instance_id):
    with h.http_session() as s:
        assert s.get(base_url + "/ready").status_code == 200
    r = h.signed_request(base_url, creds["access_key"], creds["secret_key"], project_id, "GET",
                         groups_path(project_id, instance_id) + "/" + "0" * 32)
    assert r.status_code == 404
    with h.http_session() as s:
        metrics = s.get(base_url + "/metrics").text
    route = "/v2/{project_id}/apigw/instances/{instance_id}/api-groups/{group_id}"
    lines = [line for line in metrics.splitlines() if line.startswith("portico_management_requests_total{")
             and f'route="{route}"' in line and 'status="404"' in line and 'method="GET"' in line]
    assert lines and float(lines[0].rsplit(" ", 1)[1]) >= 1, metrics
    assert f'portico_management_request_duration_seconds_bucket{{method="GET",route="{route}",le="0.005"}}' in metrics, metrics


def test_iam_token_nocatalog(iam, creds, project_id):
    req = token_request(creds["domain"], creds["admin_user"], creds["admin_password"], project_id=project_id)
    req.nocatalog = "true"
    resp = iam.keystone_create_user_token_by_password(req)
    assert resp.status_code == 201 and resp.x_subject_token
    assert resp.token.project.id == project_id


def _hand_signed_get(base_url, ak, sk, path, signed, extra_headers=None, scheme="SDK-HMAC-SHA256"):
    """A GET signed by hand with a chosen SignedHeaders list (the SDK always signs all it sets)."""
    import hashlib
    import hmac
    from urllib.parse import urlparse

    date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": urlparse(base_url).netloc, "x-sdk-date": date, "content-type": "application/json"}
    headers.update(extra_headers or {})
    canonical = "\n".join(["GET", path.rstrip("/") + "/", "", "".join(f"{n}:{headers[n]}\n" for n in signed),
                           ";".join(signed), hashlib.sha256(b"").hexdigest()])
    sts = f"SDK-HMAC-SHA256\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    send = {k: v for k, v in headers.items() if k != "host"}
    send["Authorization"] = f"{scheme} Access={ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    with h.http_session() as s:
        return s.get(base_url + path, headers=send)


def test_signed_headers_policy(base_url, creds, project_id, instance_id):
    ak, sk, path = creds["access_key"], creds["secret_key"], groups_path(project_id, instance_id)
    # control: the hand signer is right
    assert _hand_signed_get(base_url, ak, sk, path, ["content-type", "host", "x-sdk-date"]).status_code == 200
    assert _hand_signed_get(base_url, ak, sk, path, ["host", "x-sdk-date"]).status_code == 200
    # SignedHeaders without host or without x-sdk-date is refused
    h.assert_apig_error(_hand_signed_get(base_url, ak, sk, path, ["content-type", "x-sdk-date"]), 401, "APIG.1002")
    h.assert_apig_error(_hand_signed_get(base_url, ak, sk, path, ["content-type", "host"]), 401, "APIG.1002")
    # another algorithm name with a valid HMAC is not accepted as SDK-HMAC-SHA256
    h.assert_apig_error(_hand_signed_get(base_url, ak, sk, path, ["host", "x-sdk-date"], scheme="V11-HMAC-SHA256"),
                        401)


@pytest.mark.parametrize("auth", [
    "SDK-HMAC-SHA256",
    "SDK-HMAC-SHA256 Access=",
    "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date",
    "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=zz",
    "SDK-HMAC-SHA256 Access=AK,SignedHeaders=,Signature=" + "0" * 64,
    "Bearer abc",
    "\u00ff\u00fe garbage",
])
def test_malformed_authorization_is_401(base_url, project_id, instance_id, auth):
    with h.http_session() as s:
        r = s.get(base_url + groups_path(project_id, instance_id),
                  headers={"Authorization": auth.encode("latin-1"), "X-Sdk-Date": "20260101T000000Z"})
    h.assert_apig_error(r, 401)


def test_readonly_user_may_run_the_checks(new_tenant, project_id, instance_id, new_group):
    """CheckApiGroupsV2 / CheckApisV2 are POSTs but read-level actions in APIG's permission model
    (apig:apiGroup:checkApiGroupNameExistOrNot, apig:api:checkApiPathOrApiNameExistOrNot: Read)."""
    from huaweicloudsdkapig.v2 import ApiCheckInfoV2, ApiGroupCheck, CheckApiGroupsV2Request, CheckApisV2Request

    ro = new_tenant(readonly=True, project=project_id)["client"]
    gid = new_group().id
    r = ro.check_api_groups_v2(CheckApiGroupsV2Request(instance_id=instance_id, body=ApiGroupCheck(
        group_name=h.unique("free"))))
    assert 200 <= r.status_code < 300
    r = ro.check_apis_v2(CheckApisV2Request(instance_id=instance_id, body=ApiCheckInfoV2(
        type="name", name=h.unique("free"), group_id=gid)))
    assert 200 <= r.status_code < 300


def test_project_without_permission_is_403(make_client, creds, instance_id):
    stranger_project = "abcdef0123456789abcdef0123456789"
    c = make_client(creds["access_key"], creds["secret_key"], stranger_project)
    h.expect_error(lambda: c.list_instances_v2(ListInstancesV2Request()), 403, "APIG.1005")
    h.expect_error(lambda: c.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id)), 403, "APIG.1005")
