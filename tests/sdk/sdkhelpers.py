"""Helpers shared by the SDK end-to-end tests (imported by conftest.py and the test modules).

Nothing here talks to the server on its own; the fixtures in conftest.py bind these helpers to the
running Portico instance.
"""

import json
import re
import uuid
from datetime import datetime
from urllib.parse import urlparse

import pytest
import requests
from huaweicloudsdkapig.v2 import (
    ApiCreate,
    ApiGroupCreate,
    BackendApiCreate,
    EnvCreate,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.utils import http_utils

HEX32 = re.compile(r"^[0-9a-f]{32}$")
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
RELEASE_ENV_ID = "DEFAULT_ENVIRONMENT_RELEASE_ID"
RELEASE_ENV_NAME = "RELEASE"


def unique(prefix):
    """A name that no other test uses: `<prefix>_<12 hex>` (letters, digits and `_` only)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def is_hex32(value):
    return isinstance(value, str) and bool(HEX32.match(value))


def is_rfc3339_z(value):
    return isinstance(value, str) and bool(RFC3339_Z.match(value))


def ts(value):
    """Parse an RFC 3339 UTC time string (for ordering comparisons)."""
    assert is_rfc3339_z(value), f"not an RFC 3339 UTC time: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# Wire-level views of SDK objects


def wire(model):
    """The JSON object the SDK puts on the wire for `model` (None fields dropped, openapi_types order)."""
    return json.loads(json.dumps(http_utils.sanitize_for_serialization(model)))


def body_of(resp):
    """The decoded JSON body the server sent for an SDK response (not the SDK's coerced model)."""
    raw = resp.raw_content
    assert raw, f"{type(resp).__name__}: empty response body"
    return json.loads(raw)


# --------------------------------------------------------------------------------------------
# Field-for-field comparison


def field_mismatches(sent, received, path="$"):
    """Every field present in `sent` must come back in `received` with the same value and JSON type.

    `sent`: an SDK request model (compared as the JSON the SDK sends) or a plain dict/list.
    `received`: an SDK response (its raw JSON body is used, so type coercions by the SDK cannot hide
    a wrong JSON type), an SDK model, or a plain dict. Fields only the server adds (id, register_time,
    update_time, status, req_param_id, ...) are ignored because only the keys that were sent are
    looked at. Lists must have the same length and order. Returns a list of human-readable mismatches.
    """
    exp = wire(sent) if hasattr(sent, "openapi_types") else sent
    if hasattr(received, "raw_content"):
        got = body_of(received)
    elif hasattr(received, "openapi_types"):
        got = wire(received)
    else:
        got = received
    out = []
    _diff(exp, got, path, out)
    return out


def _diff(exp, got, path, out):
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            out.append(f"{path}: sent an object, got {got!r}")
            return
        for key, value in exp.items():
            if key not in got or got[key] is None:
                out.append(f"{path}.{key}: sent {value!r}, missing in response")
            else:
                _diff(value, got[key], f"{path}.{key}", out)
    elif isinstance(exp, list):
        if not isinstance(got, list) or len(got) != len(exp):
            out.append(f"{path}: sent {len(exp)} items {exp!r}, got {got!r}")
            return
        for i, (e, g) in enumerate(zip(exp, got)):
            _diff(e, g, f"{path}[{i}]", out)
    elif type(exp) is not type(got) or exp != got:
        out.append(f"{path}: sent {exp!r} ({type(exp).__name__}), got {got!r} ({type(got).__name__})")


def assert_fields_match(sent, received, path="$"):
    problems = field_mismatches(sent, received, path)
    assert not problems, "fields differ from what was sent:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------------
# Errors


def expect_error(call, status, code=None):
    """Run `call()`; it must raise the SDK exception for `status` with `code` (or any `APIG.*` code).

    Returns the exception. A 5xx raises ServerResponseException, a 4xx ClientRequestException; both
    are ServiceResponseException, so a wrong status shows up as an assertion, not as a crash.
    """
    with pytest.raises(ServiceResponseException) as info:
        call()
    err = info.value
    detail = f"got {err.status_code} {err.error_code!r}: {err.error_msg!r}"
    assert err.status_code == status, f"expected HTTP {status}, {detail}"
    if code is not None:
        assert err.error_code == code, f"expected {code}, {detail}"
    else:
        assert str(err.error_code).startswith("APIG."), f"expected an APIG.* error code, {detail}"
    assert err.error_msg, f"empty error_msg, {detail}"
    assert err.request_id, f"no X-Request-Id on the error response, {detail}"
    return err


# --------------------------------------------------------------------------------------------
# Request bodies


def group_body(**kw):
    kw.setdefault("name", unique("grp"))
    kw.setdefault("remark", "created by the SDK e2e suite")
    return ApiGroupCreate(**kw)


def env_body(**kw):
    kw.setdefault("name", unique("env"))
    kw.setdefault("remark", "e2e env")
    return EnvCreate(**kw)


def backend_body(**kw):
    fields = dict(url_domain="backend.example.com:8080", req_protocol="HTTP", req_method="GET",
                  req_uri="/v1/items", timeout=5000, retry_count="-1")
    fields.update(kw)
    return BackendApiCreate(**fields)


def http_api_body(group_id, **kw):
    """A minimal valid API with an HTTP backend; keyword arguments override fields."""
    fields = dict(name=unique("api"), type=1, version="v1", req_protocol="HTTPS", req_method="GET",
                  req_uri="/e2e/" + uuid.uuid4().hex[:12], auth_type="NONE", match_mode="NORMAL",
                  backend_type="HTTP", group_id=group_id, backend_api=backend_body())
    fields.update(kw)
    return ApiCreate(**fields)


# --------------------------------------------------------------------------------------------
# Raw HTTP (for what the SDK cannot send: stale dates, malformed bodies, tokens)


def http_session():
    s = requests.Session()
    s.trust_env = False  # never go through a proxy to 127.0.0.1
    return s


def signed_request(base_url, ak, sk, project_id, method, path, body=b"", query=(), headers=None,
                   sdk_date=None, content_type="application/json;charset=UTF-8"):
    """Send a request signed exactly like the SDK does (BasicCredentials.sign_request).

    `sdk_date` (YYYYMMDDTHHMMSSZ) replaces the current time in X-Sdk-Date and in the signature.
    `body` is sent byte-for-byte (it need not be valid JSON).
    """
    u = urlparse(base_url)
    hdrs = {"Content-Type": content_type}
    if sdk_date:
        hdrs["X-Sdk-Date"] = sdk_date
    hdrs.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    req = SdkRequest(method=method, schema=u.scheme, host=u.netloc, resource_path=path,
                     query_params=list(query), header_params=hdrs, body=body)
    req = BasicCredentials(ak, sk, project_id).sign_request(req)
    with http_session() as s:
        return s.request(method, f"{u.scheme}://{u.netloc}{req.uri}", headers=req.header_params,
                         data=req.body or None, timeout=30)


def assert_apig_error(resp, status, code=None):
    """Check a raw `requests` response for the APIG error shape."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:500]}"
    assert resp.headers.get("X-Request-Id"), "no X-Request-Id header"
    body = resp.json()
    assert isinstance(body.get("error_msg"), str) and body["error_msg"], body
    if code is None:
        assert str(body.get("error_code", "")).startswith("APIG."), body
    else:
        assert body.get("error_code") == code, body
    return body


def expect_error_any(call, statuses):
    """Like expect_error, for a case where more than one status is defensible (e.g. 400 or 409)."""
    with pytest.raises(ServiceResponseException) as info:
        call()
    err = info.value
    assert err.status_code in statuses, (
        f"expected HTTP {statuses}, got {err.status_code} {err.error_code!r}: {err.error_msg!r}")
    assert str(err.error_code).startswith("APIG."), f"expected an APIG.* code, got {err.error_code!r}"
    assert err.request_id, "no X-Request-Id on the error response"
    return err


def runtime_view(sent):
    """The part of a sent ApiCreate that ListApiRuntimeDefinitionV2 carries in the SDK model (the
    frontend definition: no backend_api, backend_params or policies). If the server also returns the
    backend part, callers compare it separately."""
    from huaweicloudsdkapig.v2 import ListApiRuntimeDefinitionV2Response

    keep = ListApiRuntimeDefinitionV2Response.openapi_types
    return {k: v for k, v in wire(sent).items() if k in keep}


def assert_runtime_matches(sent, runtime_resp, path="$runtime"):
    """Runtime definition == what was published: the frontend always; the backend too when sent back."""
    assert_fields_match(runtime_view(sent), runtime_resp, path)
    got = body_of(runtime_resp)
    backend = {k: v for k, v in wire(sent).items() if k not in runtime_view(sent) and k in got}
    assert_fields_match(backend, got, path)


def time_format_problems(obj, path="$"):
    """Every string field named *_time (register_time, update_time, create_time, publish_time, ...)
    must be RFC 3339 UTC ending in Z (publish_time may be several joined with `|`)."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.endswith("_time") and isinstance(v, str) and v:
                if not all(is_rfc3339_z(part) for part in v.split("|")):
                    out.append(f"{path}.{k} = {v!r}")
            else:
                out.extend(time_format_problems(v, f"{path}.{k}"))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(time_format_problems(v, f"{path}[{i}]"))
    return out


def assert_times(resp_or_json):
    data = body_of(resp_or_json) if hasattr(resp_or_json, "raw_content") else resp_or_json
    problems = time_format_problems(data)
    assert not problems, "times not RFC 3339 UTC: " + ", ".join(problems)
