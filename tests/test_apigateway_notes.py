"""Seed 004's notes API end to end: API Gateway → real Lambda (Python) → real DynamoDB.

GET goes through the lab's VTL response template, POST is checked by the Note model (400 on a
bad body), the console's "Enable CORS" answers preflights, Lambda errors map to statuses by
selection pattern, and an AWS integration queries DynamoDB straight from a request template.
"""

import io
import json
import zipfile

import pytest
import requests

ROLE = "arn:aws:iam::000000000000:role/notes-role"
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
NOTES_FN = '''
import json, boto3
from boto3.dynamodb.conditions import Key

table = boto3.resource("dynamodb").Table("Notes")

def handler(event, context):
    if "httpMethod" in event:  # Lambda proxy
        note = table.get_item(Key={"UserId": event["pathParameters"]["user"], "NoteId": int(event["pathParameters"]["id"])}).get("Item")
        if note is None:
            return {"statusCode": 404, "headers": {"Access-Control-Allow-Origin": "*"}, "body": json.dumps({"message": "no such note"})}
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"},
                "multiValueHeaders": {"X-Note": ["a", "b"]},
                "body": json.dumps({"NoteId": int(note["NoteId"]), "Note": note["Note"], "stage": event["requestContext"]["stage"]})}
    if event["op"] == "list":
        if not event["userId"]:
            raise ValueError("BadRequest: userId is required")
        items = table.query(KeyConditionExpression=Key("UserId").eq(event["userId"]))["Items"]
        return [{"UserId": i["UserId"], "NoteId": int(i["NoteId"]), "Note": i["Note"]} for i in items]
    note = event["note"]
    table.put_item(Item=note)
    return {"saved": note["NoteId"], "user": note["UserId"]}
'''


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def url(aloft, api_id, stage, path):
    return f"{aloft.url}/_aws/execute-api/{api_id}/{stage}{path}"


def lambda_uri(fn_arn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


@pytest.fixture
def notes_api(aloft):
    ddb = aloft.client("dynamodb")
    ddb.create_table(
        TableName="Notes",
        AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"}, {"AttributeName": "NoteId", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}, {"AttributeName": "NoteId", "KeyType": "RANGE"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    ddb.get_waiter("table_exists").wait(TableName="Notes")
    lam = aloft.client("lambda")
    fn = lam.create_function(FunctionName="notes", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                             Code={"ZipFile": zip_of({"app.py": NOTES_FN})}, Timeout=30)
    lam.get_waiter("function_active_v2").wait(FunctionName="notes")

    apigw = aloft.client("apigateway")
    api_id = apigw.create_rest_api(name="notes-api")["id"]
    lam.add_permission(FunctionName="notes", StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    notes = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="notes")["id"]
    cors = {"method.response.header.Access-Control-Allow-Origin": "'*'"}

    def method(http_method, req_template, responses, **kw):
        apigw.put_method(restApiId=api_id, resourceId=notes, httpMethod=http_method, authorizationType="NONE", **kw)
        apigw.put_integration(restApiId=api_id, resourceId=notes, httpMethod=http_method, type="AWS",
                              integrationHttpMethod="POST", uri=lambda_uri(fn["FunctionArn"]),
                              requestTemplates={"application/json": req_template})
        for status, pattern, template in responses:
            apigw.put_method_response(restApiId=api_id, resourceId=notes, httpMethod=http_method, statusCode=status,
                                      responseParameters={k: False for k in cors})
            extra = {"selectionPattern": pattern} if pattern else {}
            apigw.put_integration_response(restApiId=api_id, resourceId=notes, httpMethod=http_method, statusCode=status,
                                           responseTemplates={"application/json": template}, responseParameters=cors, **extra)

    # GET /notes: the lab's response template over what the function returns.
    method("GET", '{"op": "list", "userId": "$input.params(\'userId\')"}', [
        ("200", None, NOTES_TEMPLATE),
        ("400", "BadRequest.*", '{"message": "$input.path(\'$.errorMessage\')"}'),
    ])
    # POST /notes: the Note model checks the body before the function runs.
    apigw.create_model(restApiId=api_id, name="Note", contentType="application/json", schema=json.dumps(NOTE_SCHEMA))
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)["id"]
    method("POST", '{"op": "put", "note": $input.json(\'$\')}', [("200", None, '{"saved": $input.json(\'$.saved\')}')],
           requestValidatorId=validator, requestModels={"application/json": "Note"})
    # The console's "Enable CORS".
    apigw.put_method(restApiId=api_id, resourceId=notes, httpMethod="OPTIONS", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=notes, httpMethod="OPTIONS", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    preflight = {
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }
    apigw.put_method_response(restApiId=api_id, resourceId=notes, httpMethod="OPTIONS", statusCode="200",
                              responseParameters={k: False for k in preflight})
    apigw.put_integration_response(restApiId=api_id, resourceId=notes, httpMethod="OPTIONS", statusCode="200",
                                   responseParameters=preflight)

    # GET /notes/query: no function at all, an AWS integration to DynamoDB Query.
    query = apigw.create_resource(restApiId=api_id, parentId=notes, pathPart="query")["id"]
    apigw.put_method(restApiId=api_id, resourceId=query, httpMethod="GET", authorizationType="NONE",
                     requestParameters={"method.request.querystring.userId": True})
    apigw.put_integration(
        restApiId=api_id, resourceId=query, httpMethod="GET", type="AWS", integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:dynamodb:action/Query", credentials=ROLE,
        requestTemplates={"application/json": json.dumps({
            "TableName": "Notes", "KeyConditionExpression": "UserId = :u",
            "ExpressionAttributeValues": {":u": {"S": "$input.params('userId')"}},
            "ProjectionExpression": "NoteId, Note",
        })},
    )
    apigw.put_method_response(restApiId=api_id, resourceId=query, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(
        restApiId=api_id, resourceId=query, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": (
            "#set($inputRoot = $input.path('$'))\n{\"count\": $inputRoot.Count, \"notes\": [\n"
            "#foreach($elem in $inputRoot.Items){\"NoteId\": $elem.NoteId.N, \"Note\": \"$util.escapeJavaScript($elem.Note.S)\"}"
            "#if($foreach.hasNext),#end\n#end]}"
        )},
    )
    apigw.put_method_response(restApiId=api_id, resourceId=query, httpMethod="GET", statusCode="400")
    apigw.put_integration_response(restApiId=api_id, resourceId=query, httpMethod="GET", statusCode="400",
                                   selectionPattern="4\\d\\d", responseTemplates={"application/json": '{"error": "$input.path(\'$.__type\')"}'})

    # GET /users/{user}/notes/{id}: Lambda proxy.
    users = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="users")["id"]
    user = apigw.create_resource(restApiId=api_id, parentId=users, pathPart="{user}")["id"]
    unotes = apigw.create_resource(restApiId=api_id, parentId=user, pathPart="notes")["id"]
    note = apigw.create_resource(restApiId=api_id, parentId=unotes, pathPart="{id}")["id"]
    apigw.put_method(restApiId=api_id, resourceId=note, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=note, httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(fn["FunctionArn"]))
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def test_notes_post_then_get_through_the_template(aloft, notes_api):
    u = url(aloft, notes_api, "prod", "/notes")
    for i, text in [(1, "hello"), (2, 'say "hi"')]:
        r = requests.post(u, json={"UserId": "student", "NoteId": i, "Note": text})
        assert r.status_code == 200, r.text
        assert r.json() == {"saved": i}
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    # The item really is in DynamoDB.
    item = aloft.client("dynamodb").get_item(TableName="Notes", Key={"UserId": {"S": "student"}, "NoteId": {"N": "1"}})["Item"]
    assert item["Note"] == {"S": "hello"}

    r = requests.get(u, params={"userId": "student"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    # Exactly the lab's template output: VTL keeps the whitespace of its lines.
    assert r.text.startswith('[\n        {\n    "NoteId" : "1",\n    "Note" : "hello"\n    } \n    ,')
    assert r.text.count('"NoteId"') == 2
    # Empty results render as an empty list.
    r = requests.get(u, params={"userId": "nobody"})
    assert r.status_code == 200 and json.loads(r.text) == []


def test_notes_post_rejected_by_the_model(aloft, notes_api):
    u = url(aloft, notes_api, "prod", "/notes")
    for bad in [{"UserId": "u", "NoteId": "3", "Note": "n"}, {"UserId": "u", "Note": "n"}, {"UserId": "u", "NoteId": 1.5, "Note": "n"}]:
        r = requests.post(u, json=bad)
        assert (r.status_code, r.json()) == (400, {"message": "Invalid request body"}), bad
    # Nothing reached the table.
    assert aloft.client("dynamodb").scan(TableName="Notes")["Count"] == 0


def test_notes_cors_preflight(aloft, notes_api):
    r = requests.options(url(aloft, notes_api, "prod", "/notes"),
                         headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert "X-Api-Key" in r.headers["Access-Control-Allow-Headers"]


def test_notes_lambda_error_selected_by_pattern(aloft, notes_api):
    r = requests.get(url(aloft, notes_api, "prod", "/notes"))
    assert r.status_code == 400, r.text
    assert r.json() == {"message": "BadRequest: userId is required"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_notes_dynamodb_query_integration(aloft, notes_api):
    ddb = aloft.client("dynamodb")
    for i, text in [(1, "one"), (2, "two \"quoted\"")]:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "student"}, "NoteId": {"N": str(i)}, "Note": {"S": text}})
    ddb.put_item(TableName="Notes", Item={"UserId": {"S": "other"}, "NoteId": {"N": "9"}, "Note": {"S": "x"}})
    r = requests.get(url(aloft, notes_api, "prod", "/notes/query"), params={"userId": "student"})
    assert r.status_code == 200, r.text
    assert r.json() == {"count": 2, "notes": [{"NoteId": 1, "Note": "one"}, {"NoteId": 2, "Note": 'two "quoted"'}]}


def test_notes_lambda_proxy(aloft, notes_api):
    aloft.client("dynamodb").put_item(TableName="Notes", Item={"UserId": {"S": "amy"}, "NoteId": {"N": "7"}, "Note": {"S": "proxy"}})
    r = requests.get(url(aloft, notes_api, "prod", "/users/amy/notes/7"))
    assert r.status_code == 200, r.text
    assert r.json() == {"NoteId": 7, "Note": "proxy", "stage": "prod"}
    assert r.headers["X-Note"] == "a, b"
    r = requests.get(url(aloft, notes_api, "prod", "/users/amy/notes/8"))
    assert (r.status_code, r.json()) == (404, {"message": "no such note"})
