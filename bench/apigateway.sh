#!/usr/bin/env bash
# API Gateway figures: MOCK integration req/s, Lambda proxy to a warm Python function req/s
# (wrk -t2 -c16), and the gateway's own latency (p50 of a MOCK request at one connection).
set -euo pipefail
BIN="$1"
PORT=45661
DURATION="${DURATION:-10s}"
PY="${PYTHON:-python3}"
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$BIN" --port $PORT --log-level error >/dev/null &
pid=$!
until curl -sf "http://127.0.0.1:$PORT/_aloft/health" >/dev/null; do sleep 0.01; done
url="http://127.0.0.1:$PORT"

# Two APIs: GET / → MOCK, and GET /fn → AWS_PROXY to a Python function.
read -r api_id < <(AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 "$PY" - "$url" <<'PY'
import io, json, sys, zipfile, boto3
url = sys.argv[1]
gw = boto3.client("apigateway", endpoint_url=url)
lam = boto3.client("lambda", endpoint_url=url)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("app.py", "def handler(e, c):\n    return {'statusCode': 200, 'body': 'ok'}\n")
fn = lam.create_function(FunctionName="bench", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                         Handler="app.handler", Code={"ZipFile": buf.getvalue()})["FunctionArn"]
lam.get_waiter("function_active_v2").wait(FunctionName="bench")
api = gw.create_rest_api(name="bench")["id"]
root = gw.get_resources(restApiId=api)["items"][0]["id"]
gw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
gw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                   requestTemplates={"application/json": '{"statusCode": 200}'})
gw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
gw.put_integration_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200",
                            responseTemplates={"application/json": '{"ok": true, "id": "$context.requestId"}'})
res = gw.create_resource(restApiId=api, parentId=root, pathPart="fn")["id"]
gw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
gw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST",
                   uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations")
gw.create_deployment(restApiId=api, stageName="prod")
print(api)
PY
)
base="$url/_aws/execute-api/$api_id/prod"
curl -sf "$base/" >/dev/null && curl -sf "$base/fn" >/dev/null
# 16 connections need 16 warm execution environments: start them before measuring.
wrk -t2 -c16 -d5s "$base/fn" >/dev/null

echo "MOCK integration:        $(wrk -t2 -c16 -d"$DURATION" "$base/" | awk '/Requests\/sec/ {print $2}') req/s (target >= 20000)"
echo "Lambda proxy (warm py):  $(wrk -t2 -c16 -d"$DURATION" "$base/fn" | awk '/Requests\/sec/ {print $2}') req/s (target >= 3000)"
mock_p50=$(wrk -t1 -c1 -d"$DURATION" --latency "$base/" | awk '$1 == "50%" {print $2}')
health_p50=$(wrk -t1 -c1 -d"$DURATION" --latency "$url/_aloft/health" | awk '$1 == "50%" {print $2}')
echo "p50 at 1 connection:     MOCK $mock_p50, /_aloft/health $health_p50 (gateway added latency target < 0.5 ms)"
errors=$(wrk -t2 -c16 -d2s "$base/fn" | awk '/Non-2xx/ {print $4}')
echo "Lambda proxy non-2xx in a 2 s run: ${errors:-0}"
