"""Lambda: functions run as local processes (Python, Node.js, provided.al2023) via boto3 and the CLI."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.request
import zipfile

import botocore.exceptions
import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def zip_of(files: dict[str, str], modes: dict[str, int] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return buf.getvalue()


PY_COUNTER = """
import os, json
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    print("got", json.dumps(event))
    return {
        "count": COUNT,
        "name": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "region": os.environ["AWS_REGION"],
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "custom": os.environ.get("GREETING"),
        "event": event,
    }
"""


def create_py(lam, name="fn", code=PY_COUNTER, **kw):
    args = dict(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": code})},
    )
    args.update(kw)
    return lam.create_function(**args)


def invoke_json(lam, name, payload=None, **kw):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), **kw)
    body = r["Payload"].read()
    return r, json.loads(body) if body else None


def test_python_function_cold_then_warm_with_context(aloft):
    lam = aloft.client("lambda")
    out = create_py(lam, Environment={"Variables": {"GREETING": "hi"}})
    assert out["State"] == "Pending" and out["Runtime"] == "python3.12" and out["Timeout"] == 3
    lam.get_waiter("function_active_v2").wait(FunctionName="fn")
    assert lam.get_function(FunctionName="fn")["Configuration"]["State"] == "Active"

    r, body = invoke_json(lam, "fn", {"k": "v"}, LogType="Tail")
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    assert r["ExecutedVersion"] == "$LATEST"
    assert body["count"] == 1
    assert body["name"] == "fn" and body["version"] == "$LATEST"
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert body["memory"] == "128" and body["group"] == "/aws/lambda/fn"
    assert body["stream"].endswith(body["stream"][-32:]) and "[$LATEST]" in body["stream"]
    assert 0 < body["remaining"] <= 3000
    assert body["region"] == "us-east-1" and body["endpoint"].startswith("http://")
    assert body["custom"] == "hi" and body["event"] == {"k": "v"}
    log = base64.b64decode(r["LogResult"]).decode()
    assert log.startswith(f"START RequestId: {body['request_id']} Version: $LATEST")
    assert 'got {"k": "v"}' in log
    assert f"END RequestId: {body['request_id']}" in log
    assert "REPORT RequestId:" in log and "Init Duration:" in log and "Memory Size: 128 MB" in log

    # Warm reuse: module state survives, no init this time.
    r, body = invoke_json(lam, "fn", LogType="Tail")
    assert body["count"] == 2
    assert "Init Duration" not in base64.b64decode(r["LogResult"]).decode()


def test_logs_reach_cloudwatch(aloft):
    lam = aloft.client("lambda")
    logs = aloft.client("logs")
    create_py(lam)
    _, body = invoke_json(lam, "fn", {"marker": "findme"})
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/fn")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [body["stream"]]
    events = logs.get_log_events(
        logGroupName="/aws/lambda/fn", logStreamName=body["stream"], startFromHead=True
    )["events"]
    messages = [e["message"] for e in events]
    assert messages[0].startswith("INIT_START")
    assert any(m.startswith("START RequestId: " + body["request_id"]) for m in messages)
    assert any("findme" in m for m in messages)
    assert messages[-1].startswith("REPORT RequestId: " + body["request_id"])
    found = logs.filter_log_events(logGroupName="/aws/lambda/fn", filterPattern="findme")["events"]
    assert len(found) == 1 and found[0]["logStreamName"] == body["stream"]


def test_python_errors_are_unhandled_with_trace(aloft):
    lam = aloft.client("lambda")
    create_py(lam, code="def handler(e, c):\n    raise ValueError('boom')\n")
    r, body = invoke_json(lam, "fn", LogType="Tail")
    assert r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom"
    assert body["requestId"] and any("raise ValueError" in line for line in body["stackTrace"])
    assert "[ERROR] ValueError: boom" in base64.b64decode(r["LogResult"]).decode()


def test_python_import_error_is_reported_as_init_failure(aloft):
    lam = aloft.client("lambda")
    create_py(lam, Handler="missing.handler")
    r, body = invoke_json(lam, "fn")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'missing': No module named 'missing'"
    create_py(lam, name="fn2", Handler="app.nothere")
    _, body = invoke_json(lam, "fn2")
    assert body["errorType"] == "Runtime.HandlerNotFound"


def test_timeout_kills_the_environment(aloft):
    lam = aloft.client("lambda")
    code = "import time\nN = 0\ndef handler(e, c):\n    global N\n    N += 1\n    if e.get('sleep'):\n        time.sleep(5)\n    return N\n"
    create_py(lam, code=code, Timeout=1)
    _, n = invoke_json(lam, "fn")
    assert n == 1
    started = time.time()
    r, body = invoke_json(lam, "fn", {"sleep": True}, LogType="Tail")
    assert time.time() - started < 3
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in base64.b64decode(r["LogResult"]).decode()
    # The environment was killed: the next invoke is a cold start with fresh module state.
    _, n = invoke_json(lam, "fn")
    assert n == 1


def test_node_async_and_callback_handlers(aloft):
    lam = aloft.client("lambda")
    code = """
let n = 0;
exports.handler = async (event, context) => {
  n += 1;
  console.log('node says', JSON.stringify(event));
  return { n, name: context.functionName, id: context.awsRequestId,
           left: context.getRemainingTimeInMillis(), mem: context.memoryLimitInMB };
};
exports.cb = (event, context, callback) => { setTimeout(() => callback(null, { cb: event.x }), 5); };
exports.bad = async () => { throw new TypeError('nope'); };
"""
    for name, handler in [("node", "index.handler"), ("nodecb", "index.cb"), ("nodebad", "index.bad")]:
        lam.create_function(
            FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler=handler,
            Code={"ZipFile": zip_of({"index.js": code})},
        )
    r, body = invoke_json(lam, "node", {"a": 1}, LogType="Tail")
    assert body["n"] == 1 and body["name"] == "node" and body["mem"] == "128" and body["left"] > 0
    log = base64.b64decode(r["LogResult"]).decode()
    assert f"\t{body['id']}\tINFO\tnode says {{\"a\":1}}" in log
    _, body = invoke_json(lam, "node")
    assert body["n"] == 2
    _, body = invoke_json(lam, "nodecb", {"x": 7})
    assert body == {"cb": 7}
    r, body = invoke_json(lam, "nodebad")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "nope"
    assert isinstance(body["trace"], list)


def test_node_esm_module(aloft):
    lam = aloft.client("lambda")
    lam.create_function(
        FunctionName="esm", Runtime="nodejs22.x", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": zip_of({"index.mjs": "export const handler = async (e) => ({ esm: true, e });\n"})},
    )
    _, body = invoke_json(lam, "esm", {"q": 1})
    assert body == {"esm": True, "e": {"q": 1}}


def test_provided_al2023_shell_bootstrap(aloft):
    lam = aloft.client("lambda")
    bootstrap = """#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i lambda-runtime-aws-request-id "$HEADERS" | tr -d '\\r' | cut -d' ' -f2)
  echo "custom runtime got $EVENT"
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\\"echo\\": $EVENT, \\"handler\\": \\"$_HANDLER\\"}" >/dev/null
done
"""
    lam.create_function(
        FunctionName="custom", Runtime="provided.al2023", Role=ROLE, Handler="my.handler",
        Code={"ZipFile": zip_of({"bootstrap": bootstrap}, {"bootstrap": 0o755})},
    )
    r, body = invoke_json(lam, "custom", {"v": 42}, LogType="Tail")
    assert body == {"echo": {"v": 42}, "handler": "my.handler"}
    assert r["ExecutedVersion"] == "$LATEST"


def test_reserved_concurrency_throttles(aloft):
    lam = aloft.client("lambda")
    create_py(lam)
    lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=0)
    assert lam.get_function_concurrency(FunctionName="fn")["ReservedConcurrentExecutions"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName="fn", Payload=b"{}")
    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName="fn")
    r, _ = invoke_json(lam, "fn")
    assert r["StatusCode"] == 200


def test_code_update_retires_environments(aloft):
    lam = aloft.client("lambda")
    create_py(lam, code="def handler(e, c):\n    return 'v1'\n")
    assert invoke_json(lam, "fn")[1] == "v1"
    out = lam.update_function_code(FunctionName="fn", ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    assert out["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
    assert invoke_json(lam, "fn")[1] == "v2"
    lam.update_function_configuration(FunctionName="fn", Environment={"Variables": {"A": "1"}})
    cfg = lam.get_function_configuration(FunctionName="fn")
    assert cfg["Environment"]["Variables"] == {"A": "1"} and cfg["LastUpdateStatus"] == "Successful"


def test_versions_and_weighted_alias(aloft):
    lam = aloft.client("lambda")
    create_py(lam, code="def handler(e, c):\n    return 'one'\n")
    v1 = lam.publish_version(FunctionName="fn")["Version"]
    assert v1 == "1"
    lam.update_function_code(FunctionName="fn", ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 'two'\n"}))
    v2 = lam.publish_version(FunctionName="fn", Description="second")["Version"]
    assert v2 == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="fn")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    r, body = invoke_json(lam, "fn", Qualifier="1")
    assert body == "one" and r["ExecutedVersion"] == "1"
    alias = lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(":function:fn:live")
    assert invoke_json(lam, "fn:live")[1] == "one"
    lam.update_alias(FunctionName="fn", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {invoke_json(lam, "fn", Qualifier="live")[0]["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.delete_function(FunctionName="fn", Qualifier="1")
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="fn", Qualifier="9", Payload=b"{}")


def test_api_errors(aloft):
    lam = aloft.client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.get_function(FunctionName="nope")
    assert e.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    create_py(lam)
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        create_py(lam)
    assert e.value.response["Error"]["Message"] == "Function already exist: fn"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create_py(lam, name="t", Timeout=901)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have value less than or equal to 900" in e.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        create_py(lam, name="r", Environment={"Variables": {"AWS_REGION": "x"}})
    assert "Reserved keys used in this request: AWS_REGION" in e.value.response["Error"]["Message"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_function(FunctionName="z", Runtime="python3.12", Role=ROLE, Handler="a.b", Code={"ZipFile": b"not a zip"})
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="fn", Payload=b"{not json")
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="fn", Payload=json.dumps({"x": "a" * (6 * 1024 * 1024)}).encode())


def test_event_invoke_retries_then_on_failure_destination(aloft):
    lam = aloft.client("lambda")
    create_py(lam, name="sink", code="import json\nGOT = []\ndef handler(e, c):\n    GOT.append(e)\n    print('DEST', json.dumps(e))\n    return len(GOT)\n")
    create_py(lam, name="flaky", code="def handler(e, c):\n    raise RuntimeError('always')\n")
    sink_arn = lam.get_function(FunctionName="sink")["Configuration"]["FunctionArn"]
    cfg = lam.put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": sink_arn}},
    )
    assert cfg["MaximumRetryAttempts"] == 1
    r = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"job": 5}')
    assert r["StatusCode"] == 202
    logs = aloft.client("logs")

    def dest_events():
        try:
            return logs.filter_log_events(logGroupName="/aws/lambda/sink", filterPattern="DEST")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []

    def attempts():
        try:
            return len(logs.filter_log_events(logGroupName="/aws/lambda/flaky", filterPattern="\"START RequestId\"")["events"])
        except logs.exceptions.ResourceNotFoundException:
            return 0

    deadline = time.time() + 10
    while attempts() < 1 and time.time() < deadline:
        time.sleep(0.05)
    assert attempts() == 1 and dest_events() == []
    aloft.advance(61)  # the retry waits a minute on Aloft's clock
    deadline = time.time() + 10
    while not dest_events() and time.time() < deadline:
        time.sleep(0.05)
    assert attempts() == 2
    record = json.loads(dest_events()[0]["message"].split("DEST ", 1)[1])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"job": 5}
    assert record["responsePayload"]["errorMessage"] == "always"
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_dry_run_and_permissions_and_tags(aloft):
    lam = aloft.client("lambda")
    arn = create_py(lam)["FunctionArn"]
    assert lam.invoke(FunctionName="fn", InvocationType="DryRun")["StatusCode"] == 204
    stmt = json.loads(lam.add_permission(
        FunctionName="fn", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::b",
    )["Statement"])
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    policy = json.loads(lam.get_policy(FunctionName="fn")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s3"]
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.add_permission(FunctionName="fn", StatementId="s3", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    lam.remove_permission(FunctionName="fn", StatementId="s3")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="fn")
    lam.tag_resource(Resource=arn, Tags={"team": "a", "x": "y"})
    lam.untag_resource(Resource=arn, TagKeys=["x"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] == 1


def test_layers_on_python_path(aloft):
    lam = aloft.client("lambda")
    layer = lam.publish_layer_version(
        LayerName="helpers", Content={"ZipFile": zip_of({"python/helper.py": "def shout(s):\n    return s.upper()\n"})},
        CompatibleRuntimes=["python3.12"],
    )
    assert layer["Version"] == 1 and layer["LayerVersionArn"].endswith(":layer:helpers:1")
    create_py(lam, code="import helper\ndef handler(e, c):\n    return helper.shout('hi')\n", Layers=[layer["LayerVersionArn"]])
    assert invoke_json(lam, "fn")[1] == "HI"
    assert [l["LayerName"] for l in lam.list_layers()["Layers"]] == ["helpers"]
    assert lam.get_function(FunctionName="fn")["Configuration"]["Layers"][0]["Arn"] == layer["LayerVersionArn"]


def test_function_url_invokes_with_http_event(aloft):
    lam = aloft.client("lambda")
    code = "import json\ndef handler(e, c):\n    return {'statusCode': 201, 'headers': {'x-m': e['requestContext']['http']['method']}, 'body': json.dumps({'path': e['rawPath'], 'q': e.get('queryStringParameters'), 'body': e.get('body')})}\n"
    create_py(lam, code=code)
    url = lam.create_function_url_config(FunctionName="fn", AuthType="NONE")["FunctionUrl"]
    assert ".lambda-url.us-east-1.localhost" in url
    # *.localhost may not resolve here: address Aloft directly and name the URL's host.
    host = url.split("://", 1)[1].rstrip("/")
    req = urllib.request.Request(
        f"{aloft.url}/hello/world?a=1", data=b"payload", method="POST", headers={"Host": host}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 201 and resp.headers["x-m"] == "POST"
        assert json.loads(resp.read()) == {"path": "/hello/world", "q": {"a": "1"}, "body": "payload"}


def test_cli_create_and_invoke(aloft, tmp_path):
    pkg = tmp_path / "fn.zip"
    pkg.write_bytes(zip_of({"app.py": "def handler(e, c):\n    return {'cli': e}\n"}))
    out = aloft.cli_json(
        "lambda", "create-function", "--function-name", "clifn", "--runtime", "python3.11",
        "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{pkg}",
    )
    assert out["FunctionName"] == "clifn"
    result = tmp_path / "out.json"
    meta = aloft.cli_json(
        "lambda", "invoke", "--function-name", "clifn", "--payload", '{"z": 1}', str(result),
    )
    assert meta["StatusCode"] == 200
    assert json.loads(result.read_text()) == {"cli": {"z": 1}}


def test_function_calls_aloft_through_the_sdk(aloft):
    lam = aloft.client("lambda")
    code = "import boto3\ndef handler(e, c):\n    return [f['FunctionName'] for f in boto3.client('lambda').list_functions()['Functions']]\n"
    create_py(lam, code=code, Timeout=30)
    r, body = invoke_json(lam, "fn")
    assert body == ["fn"]
