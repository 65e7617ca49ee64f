"""REST API authorizers with real functions and a real Cognito sign-in: Lambda TOKEN and REQUEST
(policy evaluation, context, caching on the one clock), COGNITO_USER_POOLS, AWS_IAM."""

import io
import json
import zipfile

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests

ROLE = "arn:aws:iam::000000000000:role/r"
PASSWORD = "Corr3ct-Horse!"

AUTH_FN = '''
import json
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    print(json.dumps(event))
    token = event.get("authorizationToken") or (event.get("headers") or {}).get("X-Token", "")
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "broken":
        return {"nope": 1}
    effect = "Deny" if token == "deny" else "Allow"
    # "narrow" allows only the method that was called: later calls to others hit the cache.
    resource = event["methodArn"] if token == "narrow" else event["methodArn"].split("/")[0] + "/*"
    out = {"principalId": "user-" + token, "policyDocument": {"Version": "2012-10-17",
           "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
           "context": {"count": COUNT, "flag": True, "type": event["type"]}}
    if event["type"] == "REQUEST":
        out["context"]["query"] = event["queryStringParameters"]["q"]
        out["context"]["method"] = event["httpMethod"]
    return out
'''
ECHO_FN = '''
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"authorizer": event["requestContext"].get("authorizer"),
                                                   "identity": event["requestContext"]["identity"]})}
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


def uri(arn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


class Api:
    def __init__(self, aloft, name="auth"):
        self.aloft = aloft
        self.gw = aloft.client("apigateway")
        self.id = self.gw.create_rest_api(name=name)["id"]
        self.root = next(r["id"] for r in self.gw.get_resources(restApiId=self.id)["items"] if r["path"] == "/")

    def resource(self, part, parent=None):
        return self.gw.create_resource(restApiId=self.id, parentId=parent or self.root, pathPart=part)["id"]

    def mock(self, rid, method, template, **kw):
        self.gw.put_method(restApiId=self.id, resourceId=rid, httpMethod=method, **kw)
        self.gw.put_integration(restApiId=self.id, resourceId=rid, httpMethod=method, type="MOCK",
                                requestTemplates={"application/json": '{"statusCode": 200}'})
        self.gw.put_method_response(restApiId=self.id, resourceId=rid, httpMethod=method, statusCode="200")
        self.gw.put_integration_response(restApiId=self.id, resourceId=rid, httpMethod=method, statusCode="200",
                                         responseTemplates={"application/json": template})

    def proxy(self, rid, method, fn_arn, **kw):
        self.gw.put_method(restApiId=self.id, resourceId=rid, httpMethod=method, **kw)
        self.gw.put_integration(restApiId=self.id, resourceId=rid, httpMethod=method, type="AWS_PROXY",
                                integrationHttpMethod="POST", uri=uri(fn_arn))

    def deploy(self):
        self.gw.create_deployment(restApiId=self.id, stageName="prod")

    def url(self, path):
        return f"{self.aloft.url}/_aws/execute-api/{self.id}/prod{path}"


def test_token_authorizer_allow_deny_unauthorized_and_cache(aloft):
    fn = function(aloft, "auth", AUTH_FN)
    api = Api(aloft)
    auth = api.gw.create_authorizer(restApiId=api.id, name="tok", type="TOKEN", authorizerUri=uri(fn),
                                    identitySource="method.request.header.Authorization",
                                    identityValidationExpression="^[a-z]+$")
    assert auth["authorizerResultTtlInSeconds"] == 300
    a, b = api.resource("a"), api.resource("b")
    template = '{"principal": "$context.authorizer.principalId", "count": "$context.authorizer.count", "flag": "$context.authorizer.flag"}'
    for rid in (a, b):
        api.mock(rid, "GET", template, authorizationType="CUSTOM", authorizerId=auth["id"])
    api.deploy()

    r = requests.get(api.url("/a"))
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert r.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    # The validation expression refuses without calling the function.
    assert requests.get(api.url("/a"), headers={"Authorization": "Bad-Token"}).status_code == 401

    r = requests.get(api.url("/a"), headers={"Authorization": "allow"})
    assert r.status_code == 200, r.text
    assert r.json() == {"principal": "user-allow", "count": "1", "flag": "true"}
    # Cached by token for the TTL: the function is not called again...
    assert requests.get(api.url("/b"), headers={"Authorization": "allow"}).json()["count"] == "1"
    # ...until the TTL has passed on the one clock.
    aloft.advance(301)
    assert requests.get(api.url("/a"), headers={"Authorization": "allow"}).json()["count"] == "2"

    r = requests.get(api.url("/a"), headers={"Authorization": "deny"})
    assert (r.status_code, r.json()) == (403, {"message": "User is not authorized to access this resource with an explicit deny"})
    assert r.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    r = requests.get(api.url("/a"), headers={"Authorization": "unauthorized"})
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    r = requests.get(api.url("/a"), headers={"Authorization": "broken"})
    assert (r.status_code, r.json()) == (500, {"message": None})
    assert r.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"

    # A cached policy naming one method ARN denies the other methods for the TTL.
    assert requests.get(api.url("/a"), headers={"Authorization": "narrow"}).status_code == 200
    r = requests.get(api.url("/b"), headers={"Authorization": "narrow"})
    assert (r.status_code, r.json()) == (403, {"message": "User is not authorized to access this resource"})


def test_request_authorizer_identity_sources_and_proxy_event(aloft):
    fn = function(aloft, "auth", AUTH_FN)
    echo = function(aloft, "echo", ECHO_FN)
    api = Api(aloft)
    auth = api.gw.create_authorizer(restApiId=api.id, name="req", type="REQUEST", authorizerUri=uri(fn),
                                    identitySource="method.request.header.X-Token, method.request.querystring.q",
                                    authorizerResultTtlInSeconds=0)
    rid = api.resource("echo")
    api.proxy(rid, "GET", echo, authorizationType="CUSTOM", authorizerId=auth["id"])
    api.deploy()
    r = requests.get(api.url("/echo"), params={"q": "hello"}, headers={"X-Token": "allow"})
    assert r.status_code == 200, r.text
    a = r.json()["authorizer"]
    assert a["principalId"] == "user-allow"
    assert (a["type"], a["query"], a["method"], a["flag"]) == ("REQUEST", "hello", "GET", "true")
    # TTL 0: no caching, every call runs the function.
    r2 = requests.get(api.url("/echo"), params={"q": "hello"}, headers={"X-Token": "allow"})
    assert int(r2.json()["authorizer"]["count"]) == int(a["count"]) + 1
    r = requests.get(api.url("/echo"), params={"q": "x"}, headers={"X-Token": "deny"})
    assert r.status_code == 403

    # With caching on, a missing identity source is refused without calling the function.
    api.gw.update_authorizer(restApiId=api.id, authorizerId=auth["id"], patchOperations=[
        {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "60"}])
    api.deploy()
    r = requests.get(api.url("/echo"), headers={"X-Token": "allow"})
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert requests.get(api.url("/echo"), params={"q": "a"}, headers={"X-Token": "allow"}).status_code == 200


@pytest.fixture
def pool(aloft):
    idp = aloft.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="app")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})["AuthenticationResult"]
    return pool_id, tokens


def test_cognito_user_pool_authorizer(aloft, pool):
    pool_id, tokens = pool
    echo = function(aloft, "echo", ECHO_FN)
    api = Api(aloft)
    auth = api.gw.create_authorizer(restApiId=api.id, name="pool", type="COGNITO_USER_POOLS",
                                    providerARNs=[f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool_id}"],
                                    identitySource="method.request.header.Authorization")
    me = api.resource("me")
    api.mock(me, "GET", '{"user": "$context.authorizer.claims[\'cognito:username\']", "email": "$context.authorizer.claims.email"}',
             authorizationType="COGNITO_USER_POOLS", authorizerId=auth["id"])
    admin = api.resource("admin")
    api.proxy(admin, "GET", echo, authorizationType="COGNITO_USER_POOLS", authorizerId=auth["id"],
              authorizationScopes=["aws.cognito.signin.user.admin"])
    api.deploy()

    r = requests.get(api.url("/me"), headers={"Authorization": tokens["IdToken"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "alice", "email": "alice@example.com"}
    for bad in [None, "garbage", tokens["AccessToken"], tokens["IdToken"][:-4] + "AAAA"]:
        r = requests.get(api.url("/me"), headers={"Authorization": bad} if bad else {})
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"}), bad

    # With scopes, the access token is what is checked; its claims reach the proxy event.
    r = requests.get(api.url("/admin"), headers={"Authorization": tokens["AccessToken"]})
    assert r.status_code == 200, r.text
    claims = r.json()["authorizer"]["claims"]
    assert claims["token_use"] == "access" and claims["scope"] == "aws.cognito.signin.user.admin"
    assert claims["username"] == "alice"
    assert requests.get(api.url("/admin"), headers={"Authorization": tokens["IdToken"]}).status_code == 401

    aloft.advance(3601)
    r = requests.get(api.url("/me"), headers={"Authorization": tokens["IdToken"]})
    assert (r.status_code, r.json()) == (401, {"message": "The incoming token has expired"})


def test_aws_iam_authorization(aloft):
    api = Api(aloft)
    rid = api.resource("iam")
    api.mock(rid, "GET", '{"key": "$context.identity.accessKey", "arn": "$context.identity.userArn"}', authorizationType="AWS_IAM")
    api.deploy()
    u = api.url("/iam")
    r = requests.get(u)
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
    req = botocore.awsrequest.AWSRequest(method="GET", url=u)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDEXAMPLE", "secret"), "execute-api", "us-east-1").add_auth(req)
    r = requests.get(u, headers=dict(req.headers))
    assert r.status_code == 200, r.text
    assert r.json() == {"key": "AKIDEXAMPLE", "arn": "arn:aws:iam::000000000000:root"}


def test_aws_iam_identity_of_an_iam_user_with_verified_signatures(aloft_factory):
    aloft = aloft_factory(args=["--verify-signatures"])
    iam = aloft.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    api = Api(aloft)
    rid = api.resource("iam")
    api.mock(rid, "GET", '{"arn": "$context.identity.userArn", "user": "$context.identity.user"}', authorizationType="AWS_IAM")
    api.deploy()
    u = api.url("/iam")

    def signed(secret):
        req = botocore.awsrequest.AWSRequest(method="GET", url=u)
        creds = botocore.credentials.Credentials(key["AccessKeyId"], secret)
        botocore.auth.SigV4Auth(creds, "execute-api", "us-east-1").add_auth(req)
        return requests.get(u, headers=dict(req.headers))

    r = signed(key["SecretAccessKey"])
    assert r.status_code == 200, r.text
    assert r.json() == {"arn": "arn:aws:iam::000000000000:user/dev", "user": "dev"}
    assert signed("wrong-secret").status_code == 403
