"""Writes a Swagger 2.0 document with N APIs for the import/export benchmark (bench/openapi.sh).

Each API looks like the APIs of `crates/openapi/benches/export.rs`: three parameters, three
backend parameters (REQUEST, CONSTANT, SYSTEM), an HTTP backend and, every tenth, a backend
policy with a condition.

    python3 bench/openapi_doc.py 10000 > doc.json
"""

import json
import sys


def operation(i):
    op = {
        "operationId": f"get_item_{i}",
        "description": "Read one item of the shop",
        "schemes": ["https"],
        "security": [{"apig-auth-app": []}],
        "parameters": [
            {"name": "id", "in": "path", "required": True, "type": "string", "maxLength": 32, "description": "item id"},
            {"name": "verbose", "in": "query", "required": False, "type": "number", "minimum": 0, "maximum": 1,
             "default": 0},
            {"name": "X-Tenant", "in": "header", "required": True, "type": "string"},
        ],
        "responses": {"default": {"description": "response example"},
                      "x-apigateway-result-normal-sample": '{"id":"1"}'},
        "x-apigateway-request-type": "public",
        "x-apigateway-match-mode": "NORMAL",
        "x-apigateway-cors": False,
        "x-apigateway-backend": {
            "type": "HTTP",
            "parameters": [
                {"name": "id", "value": "id", "in": "path", "origin": "REQUEST"},
                {"name": "X-Caller", "value": "portico", "in": "header", "origin": "CONSTANT"},
                {"name": "X-Client-Ip", "value": "$context.sourceIp", "in": "header", "origin": "SYSTEM"},
            ],
            "httpEndpoints": {"address": "backend.example.com:8443", "scheme": "https", "method": "GET",
                              "path": "/v1/items/{id}", "timeout": 5000, "retryCount": "-1"},
        },
    }
    if i % 10 == 0:
        op["x-apigateway-backend-policies"] = [{
            "type": "HTTP", "name": "vip_tenant", "effectMode": "ANY",
            "parameters": [{"name": "id", "value": "id", "in": "path", "origin": "REQUEST"}],
            "httpEndpoints": {"address": "vip.example.com:8443", "scheme": "https", "method": "GET",
                              "path": "/v1/items/{id}", "timeout": 5000},
            "conditions": [{"type": "equal", "value": "vip", "origin": "request", "parameter": "X-Tenant"}],
        }]
    return op


def main():
    n = int(sys.argv[1])
    doc = {
        "swagger": "2.0",
        "info": {"title": "bench_shop", "description": "benchmark group", "version": "1"},
        "host": "shop.example.com",
        "paths": {f"/shop/items{i}/{{id}}": {"get": operation(i)} for i in range(n)},
        "securityDefinitions": {"apig-auth-app": {"type": "apiKey", "name": "Authorization", "in": "header",
                                                  "x-apigateway-auth-type": "AppSigv1"}},
    }
    json.dump(doc, sys.stdout)


if __name__ == "__main__":
    main()
