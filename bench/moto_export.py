"""moto's API Gateway export, the reference of the export benchmark (bench/openapi.sh): a REST
API with N resources, each with a GET method and an HTTP integration, exported as Swagger with
`get_export` (in process, moto's mock). Prints JSON: seconds per export (median of runs), bytes.

    python bench/moto_export.py 10000 5
"""

import json
import statistics
import sys
import time

import boto3
from moto import mock_aws


@mock_aws
def main():
    n, runs = int(sys.argv[1]), int(sys.argv[2])
    client = boto3.client("apigateway", region_name="us-east-1")
    api_id = client.create_rest_api(name="bench_shop")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    for i in range(n):
        resource = client.create_resource(restApiId=api_id, parentId=root, pathPart=f"items{i}")["id"]
        client.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET", authorizationType="NONE")
        client.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET", type="HTTP",
                               integrationHttpMethod="GET", uri=f"https://backend.example.com/v1/items/{i}")
    client.create_deployment(restApiId=api_id, stageName="prod")
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        body = client.get_export(restApiId=api_id, stageName="prod", exportType="swagger")["body"].read()
        times.append(time.perf_counter() - start)
        size = len(body)
    print(json.dumps({"seconds": statistics.median(times), "bytes": size, "apis": n}))


if __name__ == "__main__":
    main()
