"""HTTP API parameter mapping: an integration's RequestParameters (append/overwrite/remove a
header or query string, overwrite:path) and ResponseParameters per status code, for HTTP proxy
and Lambda integrations, and the validation CreateIntegration does."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from test_apigatewayv2_http import AUTH, ECHO, base, function


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlsplit(self.path)
        body = json.dumps({
            "path": u.path, "query": parse_qs(u.query),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "info": {"name": "backend", "items": [1, 2]},
        }).encode()
        self.send_response(200 if not u.path.endswith("/missing") else 404)
        self.send_header("content-type", "application/json")
        self.send_header("x-backend", "one")
        self.send_header("x-secret", "hide-me")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def backend():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_http_proxy_request_and_response_mapping(aloft, backend):
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="mapped", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True,
                    StageVariables={"env": "dev"})
    integ = v2.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
        IntegrationUri=f"{backend}/orig", PayloadFormatVersion="1.0",
        RequestParameters={
            "append:header.x-user": "$request.header.x-client",
            "overwrite:header.x-env": "$stageVariables.env",
            "remove:header.x-drop": "''",
            "overwrite:header.x-rid": "${context.requestId}",
            "append:querystring.item": "$request.path.id",
            "overwrite:querystring.mode": "fixed",
            "remove:querystring.secret": "''",
            "overwrite:path": "/backend/items/${request.path.id}",
        },
        ResponseParameters={
            "200": {
                "append:header.x-from-backend": "$response.header.x-backend",
                "overwrite:header.x-name": "$response.body.info.name",
                "overwrite:header.x-item": "$response.body.info.items[1]",
                "remove:header.x-secret": "''",
                "overwrite:statuscode": "202",
            },
            "404": {"overwrite:statuscode": "410"},
        },
    )
    assert integ["RequestParameters"]["overwrite:path"] == "/backend/items/${request.path.id}"
    assert integ["ResponseParameters"]["200"]["overwrite:statuscode"] == "202"
    v2.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=f"integrations/{integ['IntegrationId']}")

    r = requests.get(f"{base(aloft, api_id)}/items/7?secret=s&keep=k&mode=x",
                     headers={"x-client": "ann", "x-drop": "gone"})
    assert r.status_code == 202, r.text
    seen = r.json()
    assert seen["path"] == "/backend/items/7"
    assert seen["query"] == {"keep": ["k"], "mode": ["fixed"], "item": ["7"]}
    h = seen["headers"]
    assert (h["x-user"], h["x-env"]) == ("ann", "dev")
    assert "x-drop" not in h
    assert h["x-rid"] == r.headers["apigw-requestid"]
    assert r.headers["x-from-backend"] == "one"
    assert (r.headers["x-name"], r.headers["x-item"]) == ("backend", "2")
    assert "x-secret" not in r.headers

    # Only the answered status code's mappings apply.
    v2.update_integration(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                          RequestParameters={"overwrite:path": "/missing"})
    r = requests.get(f"{base(aloft, api_id)}/items/7")
    assert r.status_code == 410
    assert "x-secret" in r.headers


def test_lambda_integration_mapping(aloft):
    fn = function(aloft, "mapecho", ECHO)
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="lam", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    integ = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn, PayloadFormatVersion="2.0",
        RequestParameters={"overwrite:header.x-tenant": "tenant-$request.querystring.t",
                           "append:querystring.extra": "yes"},
        ResponseParameters={"200": {"overwrite:header.x-fn": "mapped-$response.header.x-fn",
                                    "append:header.x-route": "$context.routeKey"},
                            "500": {"overwrite:statuscode": "418"}},
    )
    v2.create_route(ApiId=api_id, RouteKey="GET /who", Target=f"integrations/{integ['IntegrationId']}")
    v2.create_route(ApiId=api_id, RouteKey="GET /boom", Target=f"integrations/{integ['IntegrationId']}")
    # A failed function is the gateway's 500, which response mappings do not touch.
    r = requests.get(f"{base(aloft, api_id)}/boom")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    r = requests.get(f"{base(aloft, api_id)}/who?t=acme")
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["headers"]["x-tenant"] == "tenant-acme"
    assert event["queryStringParameters"] == {"t": "acme", "extra": "yes"}
    assert r.headers["x-fn"] == "mapped-echo"
    assert r.headers["x-route"] == "GET /who"


def test_create_integration_validates_mappings(aloft, backend):
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="bad", ProtocolType="HTTP")["ApiId"]

    def create(**kw):
        return v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                     IntegrationUri=backend, PayloadFormatVersion="1.0", **kw)

    for params in [
        {"overwrite:header.x-amz-date": "x"},
        {"append:header.Connection": "close"},
        {"append:path": "/x"},
        {"rewrite:header.a": "x"},
        {"append:header.a": "$response.header.b"},
    ]:
        with pytest.raises(v2.exceptions.BadRequestException) as e:
            create(RequestParameters=params)
        assert e.value.response["Error"]["Message"].startswith("Invalid mapping expression specified")
    with pytest.raises(v2.exceptions.BadRequestException) as e:
        create(RequestParameters={"overwrite:header.Authorization": "x"})
    assert "Operations on header Authorization are restricted" in e.value.response["Error"]["Message"]
    for resp in [{"200": {"overwrite:querystring.a": "x"}}, {"200": {"overwrite:statuscode": "abc"}},
                 {"700": {"append:header.a": "x"}}]:
        with pytest.raises(v2.exceptions.BadRequestException):
            create(ResponseParameters=resp)
    ok = create(RequestParameters={"append:header.a": "static"})
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.update_integration(ApiId=api_id, IntegrationId=ok["IntegrationId"],
                              RequestParameters={"remove:header.x-amzn-trace-id": "''"})


def test_mapping_reads_the_lambda_authorizer_context(aloft, backend):
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="authmap", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    auth = v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST",
                                AuthorizerUri=function(aloft, "mapauth", AUTH),
                                AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
                                IdentitySource=["$request.header.Authorization"])["AuthorizerId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  IntegrationUri=f"{backend}/x", PayloadFormatVersion="1.0",
                                  RequestParameters={"overwrite:header.x-user": "$context.authorizer.user",
                                                     "append:querystring.n": "${context.authorizer.n}"})
    v2.create_route(ApiId=api_id, RouteKey="GET /me", Target=f"integrations/{integ['IntegrationId']}",
                    AuthorizationType="CUSTOM", AuthorizerId=auth)
    r = requests.get(f"{base(aloft, api_id)}/me", headers={"Authorization": "let-me-in"})
    assert r.status_code == 200, r.text
    assert r.json()["headers"]["x-user"] == "u1"
    assert r.json()["query"] == {"n": ["7"]}
