"""REST stage response caching: cache key parameters, TTL on the one clock, Cache-Control
invalidation (unsigned callers are not allowed to), FlushStageCache."""

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import requests


def test_stage_cache(aloft):
    gw = aloft.client("apigateway")
    api_id = gw.create_rest_api(name="cached")["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    rid = gw.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    gw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType="NONE",
                  requestParameters={"method.request.querystring.q": False})
    gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'},
                       cacheKeyParameters=["method.request.querystring.q"])
    gw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200")
    gw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
                                responseTemplates={"application/json": '{"rid": "$context.requestId", "q": "$input.params(\'q\')"}'})
    gw.create_deployment(restApiId=api_id, stageName="prod", cacheClusterEnabled=True, cacheClusterSize="0.5")
    u = f"{aloft.url}/_aws/execute-api/{api_id}/prod/items"
    first = requests.get(u, params={"q": "a"}).json()
    # Caching is off until the method settings turn it on.
    assert requests.get(u, params={"q": "a"}).json()["rid"] != first["rid"]
    gw.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "60"},
    ])
    a1 = requests.get(u, params={"q": "a"}).json()
    # Same cache key (q), other parameters do not matter.
    assert requests.get(u, params={"q": "a", "x": "1"}).json() == a1
    b1 = requests.get(u, params={"q": "b"}).json()
    assert b1["q"] == "b" and b1["rid"] != a1["rid"]

    # An unsigned caller cannot invalidate: the cached answer comes back with a warning.
    r = requests.get(u, params={"q": "a"}, headers={"Cache-Control": "max-age=0"})
    assert r.json() == a1 and "ignored" in r.headers["Warning"]
    # A signed caller can.
    req = botocore.awsrequest.AWSRequest(method="GET", url=u + "?q=a", headers={"Cache-Control": "max-age=0"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKID", "s"), "execute-api", "us-east-1").add_auth(req)
    a2 = requests.get(u + "?q=a", headers=dict(req.headers)).json()
    assert a2["rid"] != a1["rid"]
    assert requests.get(u, params={"q": "a"}).json() == a2

    aloft.advance(61)
    a3 = requests.get(u, params={"q": "a"}).json()
    assert a3["rid"] != a2["rid"]
    gw.flush_stage_cache(restApiId=api_id, stageName="prod")
    assert requests.get(u, params={"q": "a"}).json()["rid"] != a3["rid"]
