"""Stage access logs to CloudWatch Logs, REST and HTTP APIs, in the stage's format."""

import json
import time

import requests


def eventually(fetch, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        out = fetch()
        if out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError("no log events arrived")
        time.sleep(0.05)


def events(logs, group):
    return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def test_rest_stage_access_log(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="api-access")
    arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    gw = aloft.client("apigateway")
    api_id = gw.create_rest_api(name="logged")["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
    gw.put_integration_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200",
                                responseTemplates={"application/json": '{"ok": true}'})
    gw.create_deployment(restApiId=api_id, stageName="prod")
    fmt = '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod","resource":"$context.resourcePath","status":"$context.status","len":"$context.responseLength","err":"$context.error.message"}'
    stage = gw.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
        {"op": "replace", "path": "/accessLogSettings/format", "value": fmt},
    ])
    assert stage["accessLogSettings"] == {"destinationArn": arn, "format": fmt}
    base = f"{aloft.url}/_aws/execute-api/{api_id}/prod"
    ok = requests.get(base + "/")
    assert ok.status_code == 200
    requests.get(base + "/missing")
    lines = eventually(lambda: (lambda m: m if len(m) >= 2 else None)(events(logs, "api-access")))
    parsed = sorted((json.loads(line) for line in lines), key=lambda d: d["status"])
    assert parsed[0] == {"requestId": ok.headers["x-amzn-RequestId"], "ip": "127.0.0.1", "method": "GET", "resource": "/",
                         "status": "200", "len": "12", "err": "-"}
    assert (parsed[1]["status"], parsed[1]["err"]) == ("403", "Missing Authentication Token")


def test_http_api_stage_access_log(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="http-access")
    arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="h", ProtocolType="HTTP", Target=f"{aloft.url}/_aloft/health")["ApiId"]
    v2.update_stage(ApiId=api_id, StageName="$default", AccessLogSettings={
        "DestinationArn": arn, "Format": "$context.httpMethod $context.routeKey $context.status $context.path"})
    assert requests.get(f"{aloft.url}/_aws/execute-api/{api_id}/anything").status_code == 200
    lines = eventually(lambda: events(logs, "http-access"))
    assert lines == ["GET $default 200 /anything"]


def test_http_api_access_log_variables(aloft):
    """The $context variables AWS documents for HTTP API access logs: errors the gateway
    answers, the integration's status and latency, the authorizer's error."""
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="http-vars")
    arn = logs.describe_log_groups(logGroupNamePrefix="http-vars")["logGroups"][0]["arn"]
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="h", ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  IntegrationUri=f"{aloft.url}/_aloft/health", PayloadFormatVersion="1.0")
    v2.create_route(ApiId=api_id, RouteKey="GET /ok", Target=f"integrations/{integ['IntegrationId']}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, AccessLogSettings={
        "DestinationArn": arn,
        "Format": "$context.status $context.routeKey $context.integrationStatus $context.domainPrefix "
                  "$context.integrationLatency $context.responseLatency $context.error.messageString"})
    base = f"{aloft.url}/_aws/execute-api/{api_id}"
    assert requests.get(f"{base}/ok").status_code == 200
    assert requests.get(f"{base}/missing").status_code == 404
    lines = eventually(lambda: (lambda e: e if len(e) >= 2 else None)(events(logs, "http-vars")))
    got = {line.split(" ", 1)[0]: line for line in lines}
    ok = got["200"].split(" ")
    assert ok[:5] == ["200", "GET", "/ok", "200", api_id] and ok[7] == "-"
    assert int(ok[5]) >= 0 and int(ok[6]) >= 0
    # The gateway answered itself: no route, no integration, the error's message quoted.
    missing = got["404"]
    assert missing.startswith(f"404 - - {api_id} - ") and missing.endswith(' "Not Found"')
