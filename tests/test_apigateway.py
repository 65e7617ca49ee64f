"""API Gateway REST APIs: control plane with boto3/CLI, invocation of deployed stages."""

import json

import pytest
import requests

NOTES_TEMPLATE = (
    "#set($inputRoot = $input.path('$'))\n[\n    #foreach($elem in $inputRoot)\n    {\n"
    '    "NoteId" : "$elem.NoteId",\n    "Note" : "$elem.Note"\n    } \n'
    "    #if($foreach.hasNext),#end\n    #end\n]"
)
NOTE_SCHEMA = {
    "title": "Note",
    "type": "object",
    "properties": {"UserId": {"type": "string"}, "NoteId": {"type": "integer"}, "Note": {"type": "string"}},
    "required": ["UserId", "NoteId", "Note"],
}


def root_id(apigw, api_id):
    return next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")


def url(aloft, api_id, stage, path):
    return f"{aloft.url}/_aws/execute-api/{api_id}/{stage}{path}"


def mock_method(apigw, api_id, rid, method, request_template, responses, **kw):
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod=method, authorizationType="NONE", **kw)
    apigw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod=method, type="MOCK",
        requestTemplates={"application/json": request_template},
    )
    for status, (pattern, template, params) in responses.items():
        apigw.put_method_response(
            restApiId=api_id, resourceId=rid, httpMethod=method, statusCode=status,
            responseParameters={k: False for k in params},
        )
        extra = {"selectionPattern": pattern} if pattern is not None else {}
        apigw.put_integration_response(
            restApiId=api_id, resourceId=rid, httpMethod=method, statusCode=status,
            responseTemplates={"application/json": template} if template else {},
            responseParameters=params, **extra,
        )


def test_control_plane_crud_and_errors(aloft):
    apigw = aloft.client("apigateway")
    api = apigw.create_rest_api(name="notes", description="d")
    assert api["apiKeySource"] == "HEADER" and api["endpointConfiguration"]["types"] == ["EDGE"]
    api_id = api["id"]
    assert [a["id"] for a in apigw.get_rest_apis()["items"]] == [api_id]
    root = root_id(apigw, api_id)
    assert root == api["rootResourceId"]
    notes = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="notes")
    assert notes["path"] == "/notes"
    item = apigw.create_resource(restApiId=api_id, parentId=notes["id"], pathPart="{id}")
    assert item["path"] == "/notes/{id}"
    with pytest.raises(apigw.exceptions.ConflictException) as e:
        apigw.create_resource(restApiId=api_id, parentId=root, pathPart="notes")
    assert "already has this name" in str(e.value)
    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.create_resource(restApiId=api_id, parentId=root, pathPart="bad/part")
    with pytest.raises(apigw.exceptions.NotFoundException) as e:
        apigw.get_rest_api(restApiId="nope")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    apigw.put_method(restApiId=api_id, resourceId=notes["id"], httpMethod="GET", authorizationType="NONE")
    with pytest.raises(apigw.exceptions.ConflictException):
        apigw.put_method(restApiId=api_id, resourceId=notes["id"], httpMethod="GET", authorizationType="NONE")
    upd = apigw.update_method(
        restApiId=api_id, resourceId=notes["id"], httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
    )
    assert upd["apiKeyRequired"] is True
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.create_deployment(restApiId=api_id, stageName="prod")
    assert "No integration defined for method" in str(e.value)
    renamed = apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/name", "value": "n2"}])
    assert renamed["name"] == "n2"
    listed = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    assert {r["path"] for r in listed} == {"/", "/notes", "/notes/{id}"}
    apigw.delete_resource(restApiId=api_id, resourceId=notes["id"])
    assert {r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]} == {"/"}
    apigw.delete_rest_api(restApiId=api_id)
    assert apigw.get_rest_apis()["items"] == []


def test_mock_integration_with_vtl_and_cors(aloft):
    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="mock")["id"]
    root = root_id(apigw, api_id)
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="hello")["id"]
    cors = {"method.response.header.Access-Control-Allow-Origin": "'*'"}
    mock_method(apigw, api_id, res, "GET", '{"statusCode": $input.params("code")}', {
        "200": (None, '{"greeting": "hi $input.params(\'name\')", "stage": "$context.stage", "v": "$stageVariables.v"}', cors),
        "404": ("404", '{"error": "nope"}', {}),
    })
    # The console's "Enable CORS": an OPTIONS MOCK answering the preflight headers.
    mock_method(apigw, api_id, res, "OPTIONS", '{"statusCode": 200}', {
        "200": (None, "", {
            "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
            "method.response.header.Access-Control-Allow-Origin": "'*'",
        }),
    })
    apigw.create_deployment(restApiId=api_id, stageName="dev", variables={"v": "one"})
    r = requests.get(url(aloft, api_id, "dev", "/hello"), params={"name": "bob", "code": "200"})
    assert r.status_code == 200, r.text
    assert r.json() == {"greeting": "hi bob", "stage": "dev", "v": "one"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.get(url(aloft, api_id, "dev", "/hello"), params={"code": "404"})
    assert (r.status_code, r.json()) == (404, {"error": "nope"})
    r = requests.options(url(aloft, api_id, "dev", "/hello"), headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    # The other two URL forms reach the same stage.
    r = requests.get(f"{aloft.url}/restapis/{api_id}/dev/_user_request_/hello", params={"code": "200", "name": "x"})
    assert r.json()["greeting"] == "hi x"
    # `*.localhost` may not resolve here: send the virtual host in the Host header.
    r = requests.get(f"{aloft.url}/dev/hello", params={"code": "200", "name": "y"},
                     headers={"Host": f"{api_id}.execute-api.localhost:{aloft.port}"})
    assert r.json()["greeting"] == "hi y"
    # Unknown paths and methods: AWS's 403.
    r = requests.get(url(aloft, api_id, "dev", "/nope"))
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
    assert r.headers["x-amzn-ErrorType"] == "ForbiddenException"
    r = requests.delete(url(aloft, api_id, "dev", "/hello"))
    assert r.status_code == 403
    # Changes are not live until deployed again.
    apigw.update_integration_response(
        restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="404",
        patchOperations=[{"op": "replace", "path": "/responseTemplates/application~1json", "value": '{"error": "changed"}'}],
    )
    assert requests.get(url(aloft, api_id, "dev", "/hello"), params={"code": "404"}).json() == {"error": "nope"}
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    assert requests.get(url(aloft, api_id, "dev", "/hello"), params={"code": "404"}).json() == {"error": "changed"}


def test_seed_004_notes_api_model_validation_and_template(aloft):
    """Seed 004: GET through the VTL response template, POST checked by the Note model."""
    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="notes")["id"]
    root = root_id(apigw, api_id)
    notes = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="notes")["id"]
    apigw.create_model(restApiId=api_id, name="Note", contentType="application/json", schema=json.dumps(NOTE_SCHEMA))
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)["id"]
    # GET: the integration's JSON goes through seed 004's template.
    data = [{"UserId": "student", "NoteId": 1, "Note": "hello", "Extra": 1}, {"UserId": "student", "NoteId": 2, "Note": "world"}]
    apigw.put_method(restApiId=api_id, resourceId=notes, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=notes, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=notes, httpMethod="GET", statusCode="200")
    # A MOCK has no body of its own: feed the data through a template variable.
    template = "#set($data = $util.parseJson('" + json.dumps(data) + "'))" + NOTES_TEMPLATE.replace("$input.path('$')", "$data")
    apigw.put_integration_response(restApiId=api_id, resourceId=notes, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": template})
    # POST: validated against the Note model.
    apigw.put_method(restApiId=api_id, resourceId=notes, httpMethod="POST", authorizationType="NONE",
                     requestValidatorId=validator, requestModels={"application/json": "Note"})
    apigw.put_integration(restApiId=api_id, resourceId=notes, httpMethod="POST", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api_id, resourceId=notes, httpMethod="POST", statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=notes, httpMethod="POST", statusCode="200",
                                   responseTemplates={"application/json": '{"saved": true}'})
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    r = requests.get(url(aloft, api_id, "prod", "/notes"))
    assert r.status_code == 200
    assert r.text == (
        '[\n        {\n    "NoteId" : "1",\n    "Note" : "hello"\n    } \n    ,        {\n'
        '    "NoteId" : "2",\n    "Note" : "world"\n    } \n        ]'
    )
    assert r.json() == [{"NoteId": "1", "Note": "hello"}, {"NoteId": "2", "Note": "world"}]

    ok = requests.post(url(aloft, api_id, "prod", "/notes"), json={"UserId": "u", "NoteId": 3, "Note": "n"})
    assert (ok.status_code, ok.json()) == (200, {"saved": True})
    for bad in [{"UserId": "u", "NoteId": "3", "Note": "n"}, {"UserId": "u"}, [1]]:
        r = requests.post(url(aloft, api_id, "prod", "/notes"), json=bad)
        assert (r.status_code, r.json()) == (400, {"message": "Invalid request body"}), bad
        assert r.headers["x-amzn-ErrorType"] == "BadRequestException"
    r = requests.post(url(aloft, api_id, "prod", "/notes"), data="not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_api_key_and_usage_plan_throttle_and_quota(aloft):
    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="keys")["id"]
    root = root_id(apigw, api_id)
    mock_method(apigw, api_id, root, "GET", '{"statusCode": 200}', {"200": (None, '{"ok": true}', {})}, apiKeyRequired=True)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    key = apigw.create_api_key(name="k", enabled=True)
    assert len(key["value"]) == 40
    plan = apigw.create_usage_plan(
        name="p", apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"rateLimit": 1.0, "burstLimit": 2}, quota={"limit": 100, "period": "DAY"},
    )
    u = url(aloft, api_id, "prod", "/")
    # No key, an unknown key, and a key in no plan: 403 Forbidden.
    assert (requests.get(u).status_code, requests.get(u).json()) == (403, {"message": "Forbidden"})
    assert requests.get(u, headers={"x-api-key": "x" * 40}).status_code == 403
    assert requests.get(u, headers={"x-api-key": key["value"]}).status_code == 403
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
    h = {"x-api-key": key["value"]}
    assert requests.get(u, headers=h).status_code == 200
    assert requests.get(u, headers=h).status_code == 200
    r = requests.get(u, headers=h)
    assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
    aloft.advance(1.0)
    assert requests.get(u, headers=h).status_code == 200
    # Quota: lower it to what was used.
    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "replace", "path": "/quota/limit", "value": "1"},
        {"op": "replace", "path": "/throttle/rateLimit", "value": "100"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "100"},
    ])
    assert requests.get(u, headers=h).status_code == 200
    r = requests.get(u, headers=h)
    assert (r.status_code, r.json()) == (429, {"message": "Limit Exceeded"})
    aloft.advance(86400)
    assert requests.get(u, headers=h).status_code == 200
    # A disabled key is refused.
    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert requests.get(u, headers=h).status_code == 403


def test_gateway_responses_and_stage_cli(aloft):
    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="gr")["id"]
    root = root_id(apigw, api_id)
    mock_method(apigw, api_id, root, "GET", '{"statusCode": 200}', {"200": (None, "{}", {})})
    apigw.put_gateway_response(
        restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        responseTemplates={"application/json": '{"error": $context.error.messageString, "type": "$context.error.responseType"}'},
    )
    types = {g["responseType"]: g for g in apigw.get_gateway_responses(restApiId=api_id)["items"]}
    assert types["THROTTLED"]["statusCode"] == "429" and types["THROTTLED"]["defaultResponse"] is True
    assert types["MISSING_AUTHENTICATION_TOKEN"]["defaultResponse"] is False
    dep = aloft.cli_json("apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1")
    stages = aloft.cli_json("apigateway", "get-stages", "--rest-api-id", api_id)["item"]
    assert [(s["stageName"], s["deploymentId"]) for s in stages] == [("v1", dep["id"])]
    r = requests.get(url(aloft, api_id, "v1", "/missing"))
    assert r.status_code == 404
    assert r.json() == {"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    st = apigw.update_stage(restApiId=api_id, stageName="v1", patchOperations=[
        {"op": "replace", "path": "/variables/x", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
    ])
    assert st["variables"] == {"x": "1"} and st["methodSettings"]["*/*"]["throttlingRateLimit"] == 1.0
    assert requests.get(url(aloft, api_id, "v1", "/")).status_code == 200
    assert requests.get(url(aloft, api_id, "v1", "/")).status_code == 429
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_stage(restApiId=api_id, stageName="nope")
    assert requests.get(url(aloft, api_id, "nope", "/")).status_code == 403


def test_http_proxy_integration_to_aloft_itself(aloft):
    """HTTP_PROXY with {proxy+}: forwards method, path and query (here to Aloft's health page)."""
    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="proxy")["id"]
    root = root_id(apigw, api_id)
    proxy = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    apigw.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=f"{aloft.url}/_aloft/{{proxy}}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    apigw.create_deployment(restApiId=api_id, stageName="p")
    r = requests.get(url(aloft, api_id, "p", "/health"))
    assert r.status_code == 200, r.text
    assert "apigateway" in r.text
