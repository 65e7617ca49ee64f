"""WebSocket APIs: a chat round trip with a real WebSocket client (`websockets`), Lambda routes
($connect with a REQUEST authorizer, $disconnect, a custom route, a two-way $default), connection
state in DynamoDB, and the @connections management API from a function and from boto3."""

import io
import json
import time
import zipfile

import boto3
import requests

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

ROLE = "arn:aws:iam::000000000000:role/r"
CHAT = '''
import json, os, boto3
table = boto3.resource("dynamodb").Table("Connections")

def handler(event, context):
    rc = event["requestContext"]
    route, cid = rc["routeKey"], rc["connectionId"]
    if route == "$connect":
        user = event["queryStringParameters"]["name"]
        table.put_item(Item={"id": cid, "user": user, "principal": rc["authorizer"]["principalId"]})
        return {"statusCode": 200}
    if route == "$disconnect":
        table.delete_item(Key={"id": cid})
        return {"statusCode": 200}
    if route == "sendmessage":
        me = table.get_item(Key={"id": cid})["Item"]["user"]
        text = json.loads(event["body"])["data"]
        api = boto3.client("apigatewaymanagementapi",
                           endpoint_url=f"{os.environ['AWS_ENDPOINT_URL']}/_aws/execute-api/{rc['apiId']}/{rc['stage']}")
        for item in table.scan()["Items"]:
            api.post_to_connection(ConnectionId=item["id"], Data=f"{me}: {text}".encode())
        return {"statusCode": 200}
    # $default: two-way, the body goes back to the sender.
    return {"statusCode": 200, "body": json.dumps({"echo": event["body"], "connectionId": cid, "eventType": rc["eventType"]})}
'''
AUTH = '''
def handler(event, context):
    token = event["queryStringParameters"].get("token")
    if token == "boom":
        raise Exception("Unauthorized")
    effect = "Allow" if token == "ok" else "Deny"
    return {"principalId": "p-" + event["queryStringParameters"]["name"],
            "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
'''


def zip_of(code):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", code)
    return buf.getvalue()


def function(aloft, name, code):
    lam = aloft.client("lambda")
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": zip_of(code)}, Timeout=30)["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return arn


def uri(arn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.fixture
def chat(aloft):
    ddb = aloft.client("dynamodb")
    ddb.create_table(TableName="Connections", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    fn = function(aloft, "chat", CHAT)
    auth_fn = function(aloft, "auth", AUTH)
    v2 = aloft.client("apigatewayv2")
    api = v2.create_api(Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert api["ApiEndpoint"].startswith("ws://")
    api_id = api["ApiId"]
    integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri(fn))["IntegrationId"]
    auth = v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST", AuthorizerUri=uri(auth_fn),
                                IdentitySource=["route.request.querystring.token"])["AuthorizerId"]
    target = f"integrations/{integ}"
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=target, AuthorizationType="CUSTOM", AuthorizerId=auth)
    v2.create_route(ApiId=api_id, RouteKey="$disconnect", Target=target)
    v2.create_route(ApiId=api_id, RouteKey="sendmessage", Target=target)
    default = v2.create_route(ApiId=api_id, RouteKey="$default", Target=target, RouteResponseSelectionExpression="$default")
    v2.create_route_response(ApiId=api_id, RouteId=default["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod")
    v2.create_deployment(ApiId=api_id, StageName="prod")
    return api_id, f"ws://127.0.0.1:{aloft.port}/_aws/execute-api/{api_id}/prod"


def test_chat_round_trip(aloft, chat):
    api_id, url = chat
    ddb = aloft.client("dynamodb")
    with connect(f"{url}?token=ok&name=alice", open_timeout=30) as alice, connect(f"{url}?token=ok&name=bob", open_timeout=30) as bob:
        users = sorted(i["user"]["S"] for i in ddb.scan(TableName="Connections")["Items"])
        assert users == ["alice", "bob"]
        alice.send(json.dumps({"action": "sendmessage", "data": "hello"}))
        assert alice.recv(timeout=30) == "alice: hello"
        assert bob.recv(timeout=30) == "alice: hello"
        bob.send(json.dumps({"action": "sendmessage", "data": "hi alice"}))
        assert alice.recv(timeout=30) == "bob: hi alice"
        assert bob.recv(timeout=30) == "bob: hi alice"
        # No matching route: $default answers the sender (a two-way route).
        alice.send("not json at all")
        echo = json.loads(alice.recv(timeout=30))
        assert (echo["echo"], echo["eventType"]) == ("not json at all", "MESSAGE")
        alice_id = echo["connectionId"]

        # The management API from outside.
        mgmt = boto3.client("apigatewaymanagementapi", region_name="us-east-1",
                            endpoint_url=f"{aloft.url}/_aws/execute-api/{api_id}/prod")
        info = mgmt.get_connection(ConnectionId=alice_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1" and info["ConnectedAt"]
        mgmt.post_to_connection(ConnectionId=alice_id, Data=b"from the server")
        assert alice.recv(timeout=30) == "from the server"
        # The execute-api host form (`*.localhost` may not resolve here: Host header).
        r = requests.post(f"{aloft.url}/prod/@connections/{alice_id}", data=b"via the host",
                          headers={"Host": f"{api_id}.execute-api.localhost:{aloft.port}"})
        assert r.status_code == 200, r.text
        assert alice.recv(timeout=30) == "via the host"
        mgmt.delete_connection(ConnectionId=alice_id)
        with pytest.raises(ConnectionClosed):
            alice.recv(timeout=30)
        with pytest.raises(mgmt.exceptions.GoneException) as e:
            mgmt.post_to_connection(ConnectionId=alice_id, Data=b"x")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        with pytest.raises(mgmt.exceptions.GoneException):
            mgmt.get_connection(ConnectionId=alice_id)
    # $disconnect ran for both: the table is empty again.
    eventually(lambda: ddb.scan(TableName="Connections")["Count"] == 0)


def test_connect_authorizer_refuses(aloft, chat):
    _, url = chat
    for query, status in [("token=bad&name=x", 403), ("name=x", 401), ("token=boom&name=x", 401)]:
        with pytest.raises(InvalidStatus) as e:
            connect(f"{url}?{query}", open_timeout=30)
        assert e.value.response.status_code == status, query
    assert aloft.client("dynamodb").scan(TableName="Connections")["Count"] == 0
    # Unknown stage: refused.
    with pytest.raises(InvalidStatus):
        connect(url.replace("/prod", "/nope") + "?token=ok&name=x", open_timeout=30)


def test_idle_connections_close_after_ten_minutes(aloft, chat):
    _, url = chat
    ddb = aloft.client("dynamodb")
    with connect(f"{url}?token=ok&name=idle", open_timeout=30) as ws:
        assert ddb.scan(TableName="Connections")["Count"] == 1
        # (The $connect function's cold start already counts towards the ten minutes.)
        aloft.advance(540)
        ws.send("still here")
        assert json.loads(ws.recv(timeout=30))["echo"] == "still here"
        aloft.advance(540)
        assert json.loads((ws.send("again"), ws.recv(timeout=30))[1])["echo"] == "again"
        aloft.advance(601)
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=30)
        assert e.value.rcvd.code == 1001
    eventually(lambda: ddb.scan(TableName="Connections")["Count"] == 0)


def test_binary_messages_reach_the_default_route_base64(aloft, chat):
    _, url = chat
    with connect(f"{url}?token=ok&name=bin", open_timeout=30) as ws:
        ws.send(b"\x00\x01\xff")
        echo = json.loads(ws.recv(timeout=30))
        assert echo["echo"] == "AAH/"
