"""REST APIs from and to OpenAPI: ImportRestApi (Swagger 2 and OpenAPI 3 with the
x-amazon-apigateway extensions), PutRestApi merge/overwrite, GetExport, and the imported API
serving requests."""

import json

import pytest
import requests

SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "pets", "version": "2024-01-01", "description": "imported"},
    "x-amazon-apigateway-request-validators": {"body": {"validateRequestBody": True, "validateRequestParameters": False}},
    "paths": {
        "/pets": {
            "post": {
                "x-amazon-apigateway-request-validator": "body",
                "parameters": [{"in": "body", "name": "Pet", "required": True, "schema": {"$ref": "#/definitions/Pet"}}],
                "responses": {"201": {"description": "created", "headers": {"Location": {"type": "string"}}}},
                "x-amazon-apigateway-integration": {
                    "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 201}"},
                    "responses": {"default": {"statusCode": "201", "responseTemplates": {"application/json": "{\"created\": true}"},
                                              "responseParameters": {"method.response.header.Location": "'/pets/1'"}}},
                },
            },
        },
        "/pets/{id}": {
            "get": {
                "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
                "security": [{"api_key": []}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                    "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"id\": \"$input.params('id')\"}"}}},
                },
            },
        },
    },
    "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
    "definitions": {
        "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "tag": {"$ref": "#/definitions/Tag"}}},
        "Tag": {"type": "string", "maxLength": 5},
    },
}


def test_import_swagger_serve_and_export(aloft):
    gw = aloft.client("apigateway")
    api = gw.import_rest_api(body=json.dumps(SWAGGER).encode(), failOnWarnings=True)
    assert (api["name"], api["description"], api["version"]) == ("pets", "imported", "2024-01-01")
    api_id = api["id"]
    paths = sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/pets", "/pets/{id}"]
    assert {m["name"] for m in gw.get_models(restApiId=api_id)["items"]} == {"Pet", "Tag"}
    gw.create_deployment(restApiId=api_id, stageName="v1")
    base = f"{aloft.url}/_aws/execute-api/{api_id}/v1"

    r = requests.post(f"{base}/pets", json={"name": "rex", "tag": "dog"})
    assert (r.status_code, r.json(), r.headers["Location"]) == (201, {"created": True}, "/pets/1")
    # The model's $ref to Tag is followed: too long a tag is refused.
    r = requests.post(f"{base}/pets", json={"name": "rex", "tag": "toolongtag"})
    assert (r.status_code, r.json()) == (400, {"message": "Invalid request body"})
    # The api_key security scheme made the key required.
    assert requests.get(f"{base}/pets/7").status_code == 403

    for kind, version_key in [("swagger", "swagger"), ("oas30", "openapi")]:
        out = gw.get_export(restApiId=api_id, stageName="v1", exportType=kind,
                            parameters={"extensions": "integrations"}, accepts="application/json")
        assert out["contentType"] == "application/json"
        doc = json.loads(out["body"].read())
        assert version_key in doc
        post = doc["paths"]["/pets"]["post"]
        assert post["x-amazon-apigateway-integration"]["type"] == "mock"
        # The export imports again into an equivalent API.
        again = gw.import_rest_api(body=json.dumps(doc).encode())
        assert sorted(r["path"] for r in gw.get_resources(restApiId=again["id"])["items"]) == paths
    with pytest.raises(gw.exceptions.BadRequestException):
        gw.get_export(restApiId=api_id, stageName="v1", exportType="raml")
    with pytest.raises(gw.exceptions.NotFoundException):
        gw.get_export(restApiId=api_id, stageName="nope", exportType="swagger")


def test_put_rest_api_merge_and_overwrite_and_bad_documents(aloft):
    gw = aloft.client("apigateway")
    api_id = gw.import_rest_api(body=json.dumps(SWAGGER).encode())["id"]
    extra = {
        "openapi": "3.0.1", "info": {"title": "pets", "version": "2"},
        "paths": {"/health": {"get": {"responses": {"200": {"description": "ok"}},
                                      "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                                                                          "responses": {"default": {"statusCode": "200"}}}}}},
    }
    gw.put_rest_api(restApiId=api_id, body=json.dumps(extra).encode())
    paths = sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/health", "/pets", "/pets/{id}"]
    gw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(extra).encode())
    assert sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"]) == ["/", "/health"]
    assert gw.get_models(restApiId=api_id)["items"] == []

    with pytest.raises(gw.exceptions.BadRequestException):
        gw.import_rest_api(body=b'{"not": "openapi"}')
    with pytest.raises(gw.exceptions.BadRequestException) as e:
        gw.import_rest_api(body=b"swagger: '2.0'\ninfo: [title: y\n")
    assert e.value.response["Error"]["Message"] == "Invalid OpenAPI input."
    with pytest.raises(gw.exceptions.BadRequestException) as e:
        gw.put_rest_api(restApiId=api_id, body=b'{"swagger": "2.0", ')
    assert e.value.response["Error"]["Message"] == "Invalid OpenAPI input."
    # Warnings: a method without an integration fails the import when asked to.
    doc = {"swagger": "2.0", "info": {"title": "w"}, "paths": {"/x": {"get": {"responses": {}}}}}
    with pytest.raises(gw.exceptions.BadRequestException):
        gw.import_rest_api(body=json.dumps(doc).encode(), failOnWarnings=True)
    assert gw.import_rest_api(body=json.dumps(doc).encode())["warnings"]


# The form the console, SAM and CDK export: YAML, unquoted status-code keys, block scalars.
YAML_OAS3 = """openapi: 3.0.1
info:
  title: yaml-pets
  version: 1.0
paths:
  /pets/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        200:
          description: ok
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: |
            {"statusCode": 200}
        responses:
          default:
            statusCode: 200
            responseTemplates:
              application/json: >-
                {"id": "$input.params('id')"}
components:
  schemas:
    Pet:
      type: object
      required: [name]
"""


def test_import_yaml_and_export_yaml(aloft):
    gw = aloft.client("apigateway")
    api = gw.import_rest_api(body=YAML_OAS3.encode(), failOnWarnings=True)
    assert (api["name"], api["version"]) == ("yaml-pets", "1.0")
    api_id = api["id"]
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Pet"]
    gw.create_deployment(restApiId=api_id, stageName="v1")
    r = requests.get(f"{aloft.url}/_aws/execute-api/{api_id}/v1/pets/42")
    assert (r.status_code, r.json()) == (200, {"id": "42"})

    out = gw.get_export(restApiId=api_id, stageName="v1", exportType="oas30",
                        parameters={"extensions": "integrations"}, accepts="application/yaml")
    assert out["contentType"] == "application/yaml"
    assert out["contentDisposition"].endswith('.yaml"')
    text = out["body"].read().decode()
    assert text.startswith("---") and "openapi: 3.0.1" in text and "{" not in text.split("\n")[1]
    # The YAML export imports again (PutRestApi overwrite) into the same API.
    gw.put_rest_api(restApiId=api_id, mode="overwrite", body=text.encode())
    assert sorted(r["path"] for r in gw.get_resources(restApiId=api_id)["items"]) == ["/", "/pets", "/pets/{id}"]
    # The AWS CLI reads it the same way.
    swagger = gw.get_export(restApiId=api_id, stageName="v1", exportType="swagger", accepts="application/yaml")
    assert "swagger: \"2.0\"" in swagger["body"].read().decode()
    with pytest.raises(gw.exceptions.BadRequestException):
        gw.get_export(restApiId=api_id, stageName="v1", exportType="oas30", accepts="text/csv")


def test_cli_imports_yaml_files_and_exports_yaml(aloft, tmp_path):
    """`aws apigateway import-rest-api --body fileb://api.yaml`, as a SAM or console export is
    loaded, and `aws apigatewayv2 import-api --body file://api.yaml`; get-export writes YAML."""
    doc = tmp_path / "api.yaml"
    doc.write_text(YAML_OAS3)
    api = aloft.cli_json("apigateway", "import-rest-api", "--body", f"fileb://{doc}")
    assert api["name"] == "yaml-pets"
    aloft.cli("apigateway", "create-deployment", "--rest-api-id", api["id"], "--stage-name", "v1")
    out = tmp_path / "export.yaml"
    meta = aloft.cli_json("apigateway", "get-export", "--rest-api-id", api["id"], "--stage-name", "v1",
                          "--export-type", "oas30", "--accepts", "application/yaml", str(out))
    assert meta["contentType"] == "application/yaml"
    assert "title: yaml-pets" in out.read_text()

    http_doc = tmp_path / "http.yaml"
    http_doc.write_text("openapi: 3.0.1\ninfo:\n  title: cli-http\n  version: '1'\npaths:\n  /h:\n    get:\n"
                        "      x-amazon-apigateway-integration:\n        type: http_proxy\n        httpMethod: GET\n"
                        f"        uri: {aloft.url}/_aloft/health\n        payloadFormatVersion: '1.0'\n")
    http_api = aloft.cli_json("apigatewayv2", "import-api", "--body", f"file://{http_doc}")
    assert http_api["Name"] == "cli-http"
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.1\ninfo: {title: [unclosed\n")
    p = aloft.cli("apigatewayv2", "import-api", "--body", f"file://{bad}", check=False)
    assert p.returncode != 0 and "BadRequestException" in p.stderr
