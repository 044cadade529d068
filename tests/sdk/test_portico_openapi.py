"""Portico's own management API document (GET /openapi.json, generated from the routes): valid
OpenAPI, served without credentials, and it names the operations the SDKs call."""

import requests
from openapi_spec_validator import validate


def test_the_document_is_valid_openapi_3(base_url):
    response = requests.get(base_url + "/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)  # raises with the JSON path of the first violation


def test_the_document_describes_both_products_and_their_security(base_url):
    document = requests.get(base_url + "/openapi.json", timeout=30).json()
    paths = document["paths"]
    for prefix in ("/v2/{project_id}/apigw/instances/{instance_id}", "/v2/{project_id}/apic/instances/{instance_id}"):
        assert {"get", "post"} <= set(paths[prefix + "/apis"]), prefix
        assert "409" in paths[prefix + "/apis"]["post"]["responses"]
    assert "post" in paths["/v3/auth/tokens"]
    assert "get" in paths["/v1/{project_id}/service/apis"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                                "description": schemes["token"]["description"]}
    assert schemes["signature"]["name"] == "Authorization"
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"error_code", "error_msg"}
