"""HTTP APIs (apigatewayv2): control plane via boto3 and the CLI, quick create, routes, Lambda
proxy payloads 2.0 and 1.0, HTTP proxy, CORS, JWT authorizers with a real Cognito pool, Lambda
authorizers with simple responses, auto-deploy."""

import io
import json
import zipfile

import pytest
import requests

ROLE = "arn:aws:iam::000000000000:role/r"
PASSWORD = "Corr3ct-Horse!"
ECHO = '''
import json
def handler(event, context):
    if event.get("rawPath", "").endswith("/plain") or event.get("path", "").endswith("/plain"):
        return {"plain": True}
    if event.get("rawPath", "").endswith("/boom"):
        raise RuntimeError("boom")
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-fn": "echo"},
            "cookies": ["session=abc; Path=/"], "body": json.dumps(event)}
'''
AUTH = '''
def handler(event, context):
    ok = event["headers"].get("authorization") == "let-me-in"
    return {"isAuthorized": ok, "context": {"user": "u1", "route": event["routeKey"], "n": 7}}
'''


def zip_of(code):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", code)
    return buf.getvalue()


def function(aloft, name, code):
    lam = aloft.client("lambda")
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": zip_of(code)})["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return arn


def base(aloft, api_id):
    return f"{aloft.url}/_aws/execute-api/{api_id}"


def test_quick_create_lambda_payload_v2(aloft):
    fn = function(aloft, "echo", ECHO)
    v2 = aloft.client("apigatewayv2")
    api = v2.create_api(Name="quick", ProtocolType="HTTP", Target=fn)
    assert api["ApiEndpoint"].startswith(f"http://{api['ApiId']}.execute-api.localhost")
    assert api["RouteSelectionExpression"] == "${request.method} ${request.path}"
    routes = v2.get_routes(ApiId=api["ApiId"])["Items"]
    assert [r["RouteKey"] for r in routes] == ["$default"] and routes[0]["ApiGatewayManaged"] is True
    integ = v2.get_integrations(ApiId=api["ApiId"])["Items"][0]
    assert (integ["IntegrationType"], integ["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    stage = v2.get_stages(ApiId=api["ApiId"])["Items"][0]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)

    r = requests.post(f"{base(aloft, api['ApiId'])}/some/path?a=1&a=2&b=x", data='{"k": 1}',
                      headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "X-Multi": "m"})
    assert r.status_code == 200, r.text
    assert r.headers["x-fn"] == "echo" and r.headers["set-cookie"] == "session=abc; Path=/"
    assert "apigw-requestid" in r.headers
    e = r.json()
    assert (e["version"], e["routeKey"], e["rawPath"], e["rawQueryString"]) == ("2.0", "$default", "/some/path", "a=1&a=2&b=x")
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert e["cookies"] == ["c1=v1", "c2=v2"] and "cookie" not in e["headers"]
    assert e["headers"]["x-multi"] == "m"
    assert (e["body"], e["isBase64Encoded"]) == ('{"k": 1}', False)
    rc = e["requestContext"]
    assert (rc["http"]["method"], rc["http"]["path"], rc["stage"], rc["apiId"]) == ("POST", "/some/path", "$default", api["ApiId"])
    assert "pathParameters" not in e and "stageVariables" not in e

    # Without statusCode the function's value is the JSON body; a failure is a 500.
    r = requests.get(f"{base(aloft, api['ApiId'])}/plain")
    assert (r.status_code, r.json(), r.headers["content-type"]) == (200, {"plain": True}, "application/json")
    r = requests.get(f"{base(aloft, api['ApiId'])}/boom")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    # Form posts reach the function base64-encoded, as on AWS.
    r = requests.post(f"{base(aloft, api['ApiId'])}/form", data={"x": "1"})
    assert r.json()["isBase64Encoded"] is True

    # The execute-api host form works too.
    r = requests.get(f"{aloft.url}/plain", headers={"Host": f"{api['ApiId']}.execute-api.localhost:{aloft.port}"})
    assert r.json() == {"plain": True}


def test_routes_stages_payload_v1_and_errors(aloft):
    fn = function(aloft, "echo", ECHO)
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="routes", ProtocolType="HTTP")["ApiId"]
    i2 = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn, PayloadFormatVersion="2.0")
    i1 = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn, PayloadFormatVersion="1.0")
    assert i1["TimeoutInMillis"] == 30000 and i1["ConnectionType"] == "INTERNET"
    v2.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=f"integrations/{i2['IntegrationId']}")
    v2.create_route(ApiId=api_id, RouteKey="ANY /v1/{proxy+}", Target=f"integrations/{i1['IntegrationId']}")
    with pytest.raises(v2.exceptions.ConflictException):
        v2.create_route(ApiId=api_id, RouteKey="GET /items/{id}")
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_route(ApiId=api_id, RouteKey="FETCH /x")
    with pytest.raises(v2.exceptions.NotFoundException):
        v2.get_api(ApiId="nope")
    with pytest.raises(v2.exceptions.NotFoundException):
        v2.create_route(ApiId=api_id, RouteKey="GET /y", Target="integrations/nope")
    # Not live before a deployment.
    assert requests.get(f"{base(aloft, api_id)}/prod/items/1").status_code == 404
    v2.create_stage(ApiId=api_id, StageName="prod", StageVariables={"color": "blue"})
    dep = v2.create_deployment(ApiId=api_id, StageName="prod")
    assert dep["DeploymentStatus"] == "DEPLOYED"
    assert v2.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == dep["DeploymentId"]

    r = requests.get(f"{base(aloft, api_id)}/prod/items/42")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["pathParameters"] == {"id": "42"} and e["stageVariables"] == {"color": "blue"}
    assert (e["rawPath"], e["routeKey"], e["requestContext"]["stage"]) == ("/prod/items/42", "GET /items/{id}", "prod")

    r = requests.delete(f"{base(aloft, api_id)}/prod/v1/a/b", params={"q": "1"})
    e = r.json()
    assert (e["version"], e["resource"], e["path"], e["httpMethod"]) == ("1.0", "/v1/{proxy+}", "/v1/a/b", "DELETE")
    assert e["pathParameters"] == {"proxy": "a/b"} and e["multiValueQueryStringParameters"] == {"q": ["1"]}
    assert e["requestContext"]["resourcePath"] == "/v1/{proxy+}"

    r = requests.post(f"{base(aloft, api_id)}/prod/items/42")
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    assert requests.get(f"{base(aloft, api_id)}/nostage/items/1").status_code == 404

    # CLI: list and delete.
    apis = aloft.cli_json("apigatewayv2", "get-apis")["Items"]
    assert [a["Name"] for a in apis] == ["routes"]
    aloft.cli("apigatewayv2", "delete-api", "--api-id", api_id)
    assert v2.get_apis()["Items"] == []


def test_auto_deploy_cors_and_http_proxy(aloft):
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="proxy", ProtocolType="HTTP", CorsConfiguration={
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["authorization", "content-type"], "ExposeHeaders": ["x-trace"], "MaxAge": 600,
    })["ApiId"]
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    integ = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                  IntegrationUri=f"{aloft.url}/_aloft/{{proxy}}", PayloadFormatVersion="1.0")
    assert integ["IntegrationMethod"] == "GET"
    v2.create_route(ApiId=api_id, RouteKey="GET /aloft/{proxy+}", Target=f"integrations/{integ['IntegrationId']}")
    # Auto-deploy: live at once.
    r = requests.get(f"{base(aloft, api_id)}/aloft/health", headers={"Origin": "https://app.example"})
    assert r.status_code == 200, r.text
    assert "apigateway" in r.json()["services"]
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-expose-headers"] == "x-trace"
    r = requests.options(f"{base(aloft, api_id)}/aloft/health", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert r.headers["access-control-allow-headers"] == "authorization,content-type"
    assert r.headers["access-control-max-age"] == "600"
    r = requests.get(f"{base(aloft, api_id)}/aloft/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    v2.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in v2.get_api(ApiId=api_id)
    r = requests.get(f"{base(aloft, api_id)}/aloft/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers


def test_jwt_authorizer_with_cognito(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="app")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="bob", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="bob", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD})["AuthenticationResult"]
    fn = function(aloft, "echo", ECHO)
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="jwt", ProtocolType="HTTP", Target=fn)["ApiId"]
    auth = v2.create_authorizer(ApiId=api_id, Name="cognito", AuthorizerType="JWT",
                                IdentitySource=["$request.header.Authorization"],
                                JwtConfiguration={"Issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "Audience": [client_id]})
    route = v2.get_routes(ApiId=api_id)["Items"][0]
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="JWT", AuthorizerId=auth["AuthorizerId"])
    u = f"{base(aloft, api_id)}/me"
    r = requests.get(u)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = requests.get(u, headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401
    # Both Cognito tokens carry the client id (aud for the ID token, client_id for access).
    for tok in (tokens["IdToken"], tokens["AccessToken"]):
        r = requests.get(u, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200, r.text
        jwt_ctx = r.json()["requestContext"]["authorizer"]["jwt"]
        assert jwt_ctx["claims"]["sub"]
    assert jwt_ctx["scopes"] == ["aws.cognito.signin.user.admin"]
    # Scopes on the route: the access token has it, the ID token has none → 403.
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationScopes=["aws.cognito.signin.user.admin"])
    assert requests.get(u, headers={"Authorization": tokens["AccessToken"]}).status_code == 200
    r = requests.get(u, headers={"Authorization": tokens["IdToken"]})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    # A wrong audience is refused; so is an expired token.
    v2.update_authorizer(ApiId=api_id, AuthorizerId=auth["AuthorizerId"],
                         JwtConfiguration={"Issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "Audience": ["other"]})
    assert requests.get(u, headers={"Authorization": tokens["AccessToken"]}).status_code == 401
    v2.update_authorizer(ApiId=api_id, AuthorizerId=auth["AuthorizerId"],
                         JwtConfiguration={"Issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "Audience": [client_id]})
    assert requests.get(u, headers={"Authorization": tokens["AccessToken"]}).status_code == 200
    aloft.advance(3601)
    r = requests.get(u, headers={"Authorization": tokens["AccessToken"]})
    assert r.status_code == 401 and "expired" in r.headers["www-authenticate"]


def test_lambda_authorizer_simple_responses(aloft):
    fn = function(aloft, "echo", ECHO)
    auth_fn = function(aloft, "auth", AUTH)
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="lam", ProtocolType="HTTP", Target=fn, RouteKey="GET /secret")["ApiId"]
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
                             AuthorizerUri=auth_fn)
    auth = v2.create_authorizer(
        ApiId=api_id, Name="a", AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
        AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{auth_fn}/invocations",
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True)
    route = v2.get_routes(ApiId=api_id)["Items"][0]
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
    u = f"{base(aloft, api_id)}/secret"
    assert (requests.get(u).status_code, requests.get(u).json()) == (401, {"message": "Unauthorized"})
    r = requests.get(u, headers={"Authorization": "wrong"})
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    r = requests.get(u, headers={"Authorization": "let-me-in"})
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"]["lambda"] == {"user": "u1", "route": "GET /secret", "n": 7}


def test_stage_throttling(aloft):
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="t", ProtocolType="HTTP", Target=f"{aloft.url}/_aloft/health")["ApiId"]
    v2.update_stage(ApiId=api_id, StageName="$default",
                    DefaultRouteSettings={"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1})
    u = f"{base(aloft, api_id)}/x"
    assert requests.get(u).status_code == 200
    r = requests.get(u)
    assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
    aloft.advance(1)
    assert requests.get(u).status_code == 200


def test_import_reimport_export_openapi(aloft):
    fn = function(aloft, "echo", ECHO)
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "imported", "version": "3"},
        "x-amazon-apigateway-cors": {"allowOrigins": ["https://app.example"], "allowMethods": ["GET"]},
        "paths": {
            "/items/{id}": {"get": {"x-amazon-apigateway-integration": {
                "type": "aws_proxy", "httpMethod": "POST", "uri": fn, "payloadFormatVersion": "2.0"}}},
            "/health": {"get": {"x-amazon-apigateway-integration": {
                "type": "http_proxy", "httpMethod": "GET", "uri": f"{aloft.url}/_aloft/health", "payloadFormatVersion": "1.0"}}},
        },
    }
    v2 = aloft.client("apigatewayv2")
    api = v2.import_api(Body=json.dumps(doc), FailOnWarnings=True)
    assert (api["Name"], api["Version"], api["ProtocolType"]) == ("imported", "3", "HTTP")
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://app.example"]
    api_id = api["ApiId"]
    assert sorted(r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]) == ["GET /health", "GET /items/{id}"]
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    r = requests.get(f"{base(aloft, api_id)}/items/9", headers={"Origin": "https://app.example"})
    assert r.status_code == 200, r.text
    assert r.json()["pathParameters"] == {"id": "9"}
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert requests.get(f"{base(aloft, api_id)}/health").status_code == 200

    out = v2.export_api(ApiId=api_id, Specification="OAS30", OutputType="JSON", StageName="$default")
    exported = json.loads(out["body"].read())
    assert exported["paths"]["/items/{id}"]["get"]["x-amazon-apigateway-integration"]["uri"] == fn
    # Reimport replaces the routes; auto-deploy makes it live.
    doc["paths"].pop("/health")
    v2.reimport_api(ApiId=api_id, Body=json.dumps(doc))
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]] == ["GET /items/{id}"]
    assert requests.get(f"{base(aloft, api_id)}/health").status_code == 404
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.import_api(Body='{"openapi": "3.0.1", "info": {"title": "t"}, "paths": {"/x": {"get": {}}}}', FailOnWarnings=True)
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.import_api(Body="openapi: 3.0.1")
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.import_api(Body="openapi: 3.0.1\ninfo: {title: [x\n")

    # YAML documents, as SAM and the console write them; ExportApi answers YAML too.
    yaml_doc = (
        "openapi: 3.0.1\ninfo:\n  title: yaml-http\n  version: 2\npaths:\n  /items/{id}:\n    get:\n"
        "      x-amazon-apigateway-integration:\n        type: aws_proxy\n        httpMethod: POST\n"
        f"        uri: {fn}\n        payloadFormatVersion: '2.0'\n"
    )
    api = v2.import_api(Body=yaml_doc)
    assert (api["Name"], api["Version"]) == ("yaml-http", "2")
    yid = api["ApiId"]
    v2.create_stage(ApiId=yid, StageName="$default", AutoDeploy=True)
    assert requests.get(f"{base(aloft, yid)}/items/5").json()["pathParameters"] == {"id": "5"}
    text = v2.export_api(ApiId=yid, Specification="OAS30", OutputType="YAML")["body"].read().decode()
    assert "title: yaml-http" in text and "/items/{id}" in text
    v2.reimport_api(ApiId=yid, Body=text)
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=yid)["Items"]] == ["GET /items/{id}"]


POLICY_AUTH = '''
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    effect = "Allow" if event["identitySource"] == "good" else "Deny"
    return {"principalId": "p1", "context": {"count": COUNT, "version": event["version"]},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
'''


def test_lambda_authorizer_policy_response_cached_and_iam_routes(aloft):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    fn = function(aloft, "echo", ECHO)
    auth_fn = function(aloft, "auth", POLICY_AUTH)
    v2 = aloft.client("apigatewayv2")
    api_id = v2.create_api(Name="pol", ProtocolType="HTTP", Target=fn, RouteKey="GET /p")["ApiId"]
    auth = v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST", IdentitySource=["$request.header.X-Key"],
                                AuthorizerUri=auth_fn, AuthorizerPayloadFormatVersion="1.0", AuthorizerResultTtlInSeconds=300)
    route = v2.get_routes(ApiId=api_id)["Items"][0]
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
    u = f"{base(aloft, api_id)}/p"
    r = requests.get(u, headers={"X-Key": "good"})
    assert r.status_code == 200, r.text
    a = r.json()["requestContext"]["authorizer"]
    assert (a["principalId"], a["lambda"]["count"], a["lambda"]["version"]) == ("p1", 1, "1.0")
    # Cached by identity source for the TTL; a new identity runs the function again.
    assert requests.get(u, headers={"X-Key": "good"}).json()["requestContext"]["authorizer"]["lambda"]["count"] == 1
    assert requests.get(u, headers={"X-Key": "bad"}).status_code == 403
    aloft.advance(301)
    assert requests.get(u, headers={"X-Key": "good"}).json()["requestContext"]["authorizer"]["lambda"]["count"] == 3
    v2.reset_authorizers_cache(ApiId=api_id, StageName="$default")
    assert requests.get(u, headers={"X-Key": "good"}).json()["requestContext"]["authorizer"]["lambda"]["count"] == 4

    # AWS_IAM: unsigned is forbidden, signed carries the caller.
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="AWS_IAM")
    r = requests.get(u)
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})
    req = botocore.awsrequest.AWSRequest(method="GET", url=u)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDEXAMPLE", "s"), "execute-api", "us-east-1").add_auth(req)
    r = requests.get(u, headers=dict(req.headers))
    assert r.status_code == 200, r.text
    iam = r.json()["requestContext"]["authorizer"]["iam"]
    assert (iam["accessKey"], iam["userArn"]) == ("AKIDEXAMPLE", "arn:aws:iam::000000000000:root")
