"""WebSocket APIs beyond Lambda proxy: MOCK and Lambda non-proxy integrations with request
templates (TemplateSelectionExpression), integration responses with response templates, route
responses ($default makes a route two-way), API keys required at $connect, and stage access logs."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from test_apigatewayv2_websocket import function, uri

KEY_AUTH = '''
def handler(event, context):
    return {"principalId": "u", "usageIdentifierKey": event["queryStringParameters"].get("k", ""),
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
'''
ADD = '''
def handler(event, context):
    if event["a"] < 0:
        raise Exception("boom: negative " + str(event["a"]))
    return {"sum": event["a"] + event["b"], "cid": event["cid"]}
'''


def ws_api(v2, **kw):
    return v2.create_api(Name="t", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action", **kw)["ApiId"]


def two_way(v2, api_id, key, integ):
    route = v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ}",
                            RouteResponseSelectionExpression="$default")
    v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    return route


def mock(v2, api_id, response_template):
    integ = v2.create_integration(ApiId=api_id, IntegrationType="MOCK", TemplateSelectionExpression="\\$default",
                                  RequestTemplates={"$default": '{"statusCode": 200}'})["IntegrationId"]
    v2.create_integration_response(ApiId=api_id, IntegrationId=integ, IntegrationResponseKey="$default",
                                   TemplateSelectionExpression="\\$default",
                                   ResponseTemplates={"$default": response_template})
    return integ


def url(aloft, api_id, stage="prod"):
    return f"ws://127.0.0.1:{aloft.port}/_aws/execute-api/{api_id}/{stage}"


def deploy(v2, api_id, **stage):
    v2.create_stage(ApiId=api_id, StageName="prod", **stage)
    v2.create_deployment(ApiId=api_id, StageName="prod")


def test_mock_and_lambda_non_proxy_templates_and_route_responses(aloft):
    fn = function(aloft, "adder", ADD)
    v2 = aloft.client("apigatewayv2")
    api_id = ws_api(v2)
    echo = mock(v2, api_id, '{"route": "$context.routeKey", "me": "$context.connectionId"}')
    two_way(v2, api_id, "whoami", echo)
    # One-way: no route response, nothing goes back.
    v2.create_route(ApiId=api_id, RouteKey="quiet", Target=f"integrations/{echo}")

    add = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS", IntegrationMethod="POST", IntegrationUri=uri(fn),
        TemplateSelectionExpression="${request.body.mode}",
        RequestTemplates={
            "$default": '{"a": $input.json(\'$.a\'), "b": $input.json(\'$.b\'), "cid": "$context.connectionId"}',
            "double": '{"a": $input.json(\'$.a\'), "b": $input.json(\'$.a\'), "cid": "$context.connectionId"}',
        })["IntegrationId"]
    v2.create_integration_response(ApiId=api_id, IntegrationId=add, IntegrationResponseKey="$default",
                                   ResponseTemplates={"$default": '{"total": $input.json(\'$.sum\'), "same": #if($input.path(\'$.cid\') == $context.connectionId)true#{else}false#end}'})
    v2.create_integration_response(ApiId=api_id, IntegrationId=add, IntegrationResponseKey="/boom.*/",
                                   ResponseTemplates={"$default": '{"error": "negative numbers"}'})
    two_way(v2, api_id, "add", add)
    assert v2.get_integration_responses(ApiId=api_id, IntegrationId=add)["Items"]
    deploy(v2, api_id)

    with connect(url(aloft, api_id), open_timeout=30) as ws:
        ws.send(json.dumps({"action": "quiet"}))
        ws.send(json.dumps({"action": "whoami"}))
        me = json.loads(ws.recv(timeout=30))
        assert me["route"] == "whoami" and me["me"].endswith("=")
        ws.send(json.dumps({"action": "add", "a": 2, "b": 3}))
        assert json.loads(ws.recv(timeout=30)) == {"total": 5, "same": True}
        ws.send(json.dumps({"action": "add", "mode": "double", "a": 4, "b": 100}))
        assert json.loads(ws.recv(timeout=30)) == {"total": 8, "same": True}
        ws.send(json.dumps({"action": "add", "a": -1, "b": 3}))
        assert json.loads(ws.recv(timeout=30)) == {"error": "negative numbers"}


def test_api_key_required_at_connect(aloft):
    gw, v2 = aloft.client("apigateway"), aloft.client("apigatewayv2")
    api_id = ws_api(v2, ApiKeySelectionExpression="$request.header.x-api-key")
    connect_integ = v2.create_integration(ApiId=api_id, IntegrationType="MOCK",
                                          RequestTemplates={"$default": '{"statusCode": 200}'})["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{connect_integ}", ApiKeyRequired=True)
    two_way(v2, api_id, "$default", mock(v2, api_id, '{"key": "$context.identity.apiKey"}'))
    deploy(v2, api_id)

    key = gw.create_api_key(name="ws-key", enabled=True)
    plan = gw.create_usage_plan(name="ws", apiStages=[{"apiId": api_id, "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    unused = gw.create_api_key(name="other", enabled=True)

    for headers in [{}, {"x-api-key": "nope"}, {"x-api-key": unused["value"]}]:
        with pytest.raises(InvalidStatus) as e:
            connect(url(aloft, api_id), additional_headers=headers, open_timeout=30)
        assert e.value.response.status_code == 403
    with connect(url(aloft, api_id), additional_headers={"x-api-key": key["value"]}, open_timeout=30) as ws:
        ws.send("hello")
        assert json.loads(ws.recv(timeout=30)) == {"key": key["value"]}
    # A disabled key no longer opens connections.
    gw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    with pytest.raises(InvalidStatus):
        connect(url(aloft, api_id), additional_headers={"x-api-key": key["value"]}, open_timeout=30)


def test_api_key_from_the_authorizer(aloft):
    gw, v2 = aloft.client("apigateway"), aloft.client("apigatewayv2")
    with pytest.raises(v2.exceptions.BadRequestException):
        ws_api(v2, ApiKeySelectionExpression="$request.querystring.key")
    api_id = ws_api(v2, ApiKeySelectionExpression="$context.authorizer.usageIdentifierKey")
    fn = function(aloft, "keyauth", KEY_AUTH)
    auth = v2.create_authorizer(ApiId=api_id, Name="k", AuthorizerType="REQUEST", AuthorizerUri=uri(fn),
                                IdentitySource=["route.request.querystring.k"])["AuthorizerId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="MOCK",
                                  RequestTemplates={"$default": '{"statusCode": 200}'})["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{integ}", ApiKeyRequired=True,
                    AuthorizationType="CUSTOM", AuthorizerId=auth)
    deploy(v2, api_id)
    key = gw.create_api_key(name="k", enabled=True)
    plan = gw.create_usage_plan(name="p", apiStages=[{"apiId": api_id, "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    with pytest.raises(InvalidStatus) as e:
        connect(url(aloft, api_id) + "?k=wrong", open_timeout=30)
    assert e.value.response.status_code == 403
    with connect(url(aloft, api_id) + f"?k={key['value']}", open_timeout=30):
        pass


def test_websocket_stage_access_log(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="ws-access")
    arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    v2 = aloft.client("apigatewayv2")
    api_id = ws_api(v2)
    two_way(v2, api_id, "$default", mock(v2, api_id, '{"ok": true}'))
    deploy(v2, api_id, AccessLogSettings={
        "DestinationArn": arn,
        "Format": "$context.eventType $context.routeKey $context.status $context.connectionId $context.integrationStatus $context.apiId"})
    with connect(url(aloft, api_id), open_timeout=30) as ws:
        ws.send("x")
        assert json.loads(ws.recv(timeout=30)) == {"ok": True}
    deadline = time.monotonic() + 10
    while True:
        lines = [e["message"] for e in logs.filter_log_events(logGroupName="ws-access")["events"]]
        if len(lines) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    kinds = sorted(line.split(" ")[:3] for line in lines)
    assert kinds == [["CONNECT", "$connect", "200"], ["DISCONNECT", "$disconnect", "200"],
                     ["MESSAGE", "$default", "200"]], lines
    cids = {line.split(" ")[3] for line in lines}
    assert len(cids) == 1 and cids.pop().endswith("=")
    assert all(line.endswith(api_id) for line in lines)
    # The MOCK integration ran for the message (200); no $connect/$disconnect routes here.
    status = {line.split(" ")[0]: line.split(" ")[4] for line in lines}
    assert status == {"CONNECT": "-", "MESSAGE": "200", "DISCONNECT": "-"}


class PostEcho(BaseHTTPRequestHandler):
    def do_POST(self):
        got = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        body = json.dumps({"got": got, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_and_http_proxy_integrations(aloft):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), PostEcho)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    backend = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        v2 = aloft.client("apigatewayv2")
        api_id = ws_api(v2)
        proxy = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                      IntegrationUri=f"{backend}/proxy")["IntegrationId"]
        two_way(v2, api_id, "proxy", proxy)
        http = v2.create_integration(ApiId=api_id, IntegrationType="HTTP", IntegrationMethod="POST",
                                     IntegrationUri=f"{backend}/http",
                                     RequestTemplates={"$default": '{"text": $input.json(\'$.text\'), "stage": "$context.stage"}'}
                                     )["IntegrationId"]
        v2.create_integration_response(ApiId=api_id, IntegrationId=http, IntegrationResponseKey="/2\\d\\d/",
                                       ResponseTemplates={"$default": '$input.json(\'$.got\')'})
        two_way(v2, api_id, "http", http)
        deploy(v2, api_id)
        with connect(url(aloft, api_id), open_timeout=30) as ws:
            msg = json.dumps({"action": "proxy", "n": 1})
            ws.send(msg)
            assert json.loads(ws.recv(timeout=30)) == {"got": msg, "path": "/proxy"}
            ws.send(json.dumps({"action": "http", "text": "hi"}))
            assert json.loads(json.loads(ws.recv(timeout=30))) == {"text": "hi", "stage": "prod"}
    finally:
        srv.shutdown()


def test_route_and_integration_response_control_plane(aloft):
    v2 = aloft.client("apigatewayv2")
    api_id = ws_api(v2)
    integ = mock(v2, api_id, '{"v": 1}')
    route = two_way(v2, api_id, "r", integ)
    deploy(v2, api_id)
    [rr] = v2.get_route_responses(ApiId=api_id, RouteId=route["RouteId"])["Items"]
    got = v2.get_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseId=rr["RouteResponseId"])
    assert got["RouteResponseKey"] == "$default"
    with pytest.raises(v2.exceptions.ConflictException):
        v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="200")
    with pytest.raises(v2.exceptions.NotFoundException):
        v2.get_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseId="nope")

    [ir] = v2.get_integration_responses(ApiId=api_id, IntegrationId=integ)["Items"]
    irid = ir["IntegrationResponseId"]
    updated = v2.update_integration_response(ApiId=api_id, IntegrationId=integ, IntegrationResponseId=irid,
                                             ResponseTemplates={"$default": '{"v": 2}'})
    assert (updated["IntegrationResponseKey"], updated["ResponseTemplates"]) == ("$default", {"$default": '{"v": 2}'})
    assert v2.get_integration_response(ApiId=api_id, IntegrationId=integ,
                                       IntegrationResponseId=irid)["ResponseTemplates"] == {"$default": '{"v": 2}'}
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_integration_response(ApiId=api_id, IntegrationId=integ, IntegrationResponseKey="/(/")
    # A new deployment serves the updated template; deleting the route response makes the route one-way.
    v2.create_deployment(ApiId=api_id, StageName="prod")
    with connect(url(aloft, api_id), open_timeout=30) as ws:
        ws.send(json.dumps({"action": "r"}))
        assert json.loads(ws.recv(timeout=30)) == {"v": 2}
    v2.delete_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseId=rr["RouteResponseId"])
    v2.delete_integration_response(ApiId=api_id, IntegrationId=integ, IntegrationResponseId=irid)
    assert v2.get_integration_responses(ApiId=api_id, IntegrationId=integ)["Items"] == []
    v2.create_deployment(ApiId=api_id, StageName="prod")
    with connect(url(aloft, api_id), open_timeout=30) as ws:
        ws.send(json.dumps({"action": "r"}))
        # No route for this one (and no $default): the gateway's Forbidden is the first answer.
        ws.send(json.dumps({"action": "unknown"}))
        assert json.loads(ws.recv(timeout=30))["message"] == "Forbidden"
