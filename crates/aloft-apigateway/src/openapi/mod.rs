//! OpenAPI 3 and Swagger 2 for REST APIs: import (ImportRestApi, PutRestApi in overwrite or
//! merge mode) with the `x-amazon-apigateway-*` extensions; [`export`] writes them (GetExport).

mod export;
pub mod yaml;

pub use export::export;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{Result, bad_request};
use crate::handlers::new_id;
use crate::model::{
    Api, Authorizer, GatewayResponse, Integration, IntegrationResponse, Method, MethodResponse,
    Model, RequestValidator, Resource, StrMap,
};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];
pub(crate) const ANY: &str = "x-amazon-apigateway-any-method";

fn invalid(why: impl std::fmt::Display) -> aloft_core::AwsError {
    bad_request(format!("Errors found during import:\n\t{why}"))
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn str_map(v: Option<&Value>) -> StrMap {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Which flavour a document is: `true` for OpenAPI 3.
fn version(doc: &Value) -> Result<bool> {
    // YAML documents may leave the version unquoted (`swagger: 2.0`): a number then.
    let text = |k: &str| match doc.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if text("swagger").as_deref() == Some("2.0") {
        return Ok(false);
    }
    if text("openapi").is_some_and(|v| v.starts_with("3.")) {
        return Ok(true);
    }
    Err(invalid(
        "The document is neither Swagger 2.0 nor OpenAPI 3.x (no 'swagger' or 'openapi' version)",
    ))
}

/// `#/definitions/X` or `#/components/schemas/X` → the model URL API Gateway uses.
fn rewrite_refs(v: &mut Value, api_id: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = x
                    && let Some(name) = r
                        .strip_prefix("#/definitions/")
                        .or_else(|| r.strip_prefix("#/components/schemas/"))
                {
                    *r =
                        format!("https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}");
                } else {
                    rewrite_refs(x, api_id);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, api_id)),
        _ => {}
    }
}

fn ref_name(v: &Value) -> Option<String> {
    let r = v.get("$ref")?.as_str()?;
    r.rsplit('/').next().map(str::to_string)
}

/// Replaces (`overwrite`) or extends (merge) `api` with the document's definition.
pub fn import(doc: &Value, api: &mut Api, overwrite: bool) -> Result<Vec<String>> {
    let oas3 = version(doc)?;
    let mut warnings = Vec::new();
    let api_id = api.info.id.clone();
    let info = doc.get("info").cloned().unwrap_or_default();
    if let Some(t) = info.get("title").and_then(Value::as_str) {
        api.info.name = t.to_string();
    } else if overwrite {
        return Err(invalid("info.title is required"));
    }
    if let Some(d) = info.get("description").and_then(Value::as_str) {
        api.info.description = Some(d.to_string());
    }
    if let Some(v) = info
        .get("version")
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_number().map(ToString::to_string))
        })
        .as_deref()
    {
        api.info.version = Some(v.to_string());
    }
    if let Some(t) = doc.get("x-amazon-apigateway-binary-media-types") {
        api.info.binary_media_types = strs(Some(t));
    }
    if let Some(s) = doc
        .get("x-amazon-apigateway-api-key-source")
        .and_then(Value::as_str)
    {
        api.info.api_key_source = s.to_string();
    }
    if overwrite {
        let root = api.info.root_resource_id.clone();
        api.resources.retain(|id, _| *id == root);
        if let Some(r) = api.resources.get_mut(&root) {
            r.resource_methods.clear();
        }
        api.models.clear();
        api.validators.clear();
        api.authorizers.clear();
        api.gateway_responses.clear();
    }
    // Models.
    let schemas = if oas3 {
        doc.pointer("/components/schemas")
    } else {
        doc.get("definitions")
    };
    for (name, schema) in schemas.and_then(Value::as_object).into_iter().flatten() {
        let mut schema = schema.clone();
        rewrite_refs(&mut schema, &api_id);
        let id = api
            .models
            .get(name)
            .map_or_else(|| new_id(6), |m| m.id.clone());
        api.models.insert(
            name.clone(),
            Model {
                id,
                name: name.clone(),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                schema: Some(schema.to_string()),
                content_type: "application/json".into(),
            },
        );
    }
    // Request validators, by name.
    let mut validators: IndexMap<String, String> = IndexMap::new();
    for (name, v) in doc
        .get("x-amazon-apigateway-request-validators")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let id = new_id(6);
        api.validators.insert(
            id.clone(),
            RequestValidator {
                id: id.clone(),
                name: Some(name.clone()),
                validate_request_body: v
                    .get("validateRequestBody")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                validate_request_parameters: v
                    .get("validateRequestParameters")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
        );
        validators.insert(name.clone(), id);
    }
    // Security schemes: API keys, and authorizers.
    let schemes = if oas3 {
        doc.pointer("/components/securitySchemes")
    } else {
        doc.get("securityDefinitions")
    };
    let mut api_key_schemes = Vec::new();
    let mut iam_schemes = Vec::new();
    let mut authorizers: IndexMap<String, (String, String)> = IndexMap::new();
    for (name, s) in schemes.and_then(Value::as_object).into_iter().flatten() {
        let authtype = s
            .get("x-amazon-apigateway-authtype")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(a) = s.get("x-amazon-apigateway-authorizer") else {
            if authtype.eq_ignore_ascii_case("awsSigv4") {
                iam_schemes.push(name.clone());
            } else if s.get("type").and_then(Value::as_str) == Some("apiKey") {
                api_key_schemes.push(name.clone());
            }
            continue;
        };
        let kind = a
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("token")
            .to_ascii_uppercase();
        let header = s
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("Authorization");
        let id = new_id(6);
        let identity = a
            .get("identitySource")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| (kind != "REQUEST").then(|| format!("method.request.header.{header}")));
        let au = Authorizer {
            id: id.clone(),
            name: name.clone(),
            kind: kind.clone(),
            provider_arns: strs(a.get("providerARNs")),
            auth_type: Some(authtype.to_string()).filter(|t| !t.is_empty()),
            authorizer_uri: a
                .get("authorizerUri")
                .and_then(Value::as_str)
                .map(str::to_string),
            authorizer_credentials: a
                .get("authorizerCredentials")
                .and_then(Value::as_str)
                .map(str::to_string),
            identity_source: identity,
            identity_validation_expression: a
                .get("identityValidationExpression")
                .and_then(Value::as_str)
                .map(str::to_string),
            authorizer_result_ttl_in_seconds: Some(
                a.get("authorizerResultTtlInSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(300),
            ),
        };
        if !matches!(kind.as_str(), "TOKEN" | "REQUEST" | "COGNITO_USER_POOLS") {
            return Err(invalid(format!("Invalid authorizer type {kind} in {name}")));
        }
        api.authorizers.insert(id.clone(), au);
        let auth_type = if kind == "COGNITO_USER_POOLS" {
            "COGNITO_USER_POOLS"
        } else {
            "CUSTOM"
        };
        authorizers.insert(name.clone(), (id, auth_type.to_string()));
    }
    // Gateway responses.
    for (t, g) in doc
        .get("x-amazon-apigateway-gateway-responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        api.gateway_responses.insert(
            t.clone(),
            GatewayResponse {
                response_type: t.clone(),
                status_code: g
                    .get("statusCode")
                    .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_string)),
                response_parameters: str_map(g.get("responseParameters")),
                response_templates: str_map(g.get("responseTemplates")),
                default_response: false,
            },
        );
    }
    let default_validator = doc
        .get("x-amazon-apigateway-request-validator")
        .and_then(Value::as_str)
        .and_then(|n| validators.get(n).cloned());
    let global_security = doc.get("security").cloned();
    // Paths: resources and their methods.
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !path.starts_with('/') {
            return Err(invalid(format!(
                "Invalid path {path}: paths must start with '/'"
            )));
        }
        let rid = ensure_resource(api, path)?;
        let shared_params = item.get("parameters").cloned();
        for (verb, op) in item.as_object().into_iter().flatten() {
            let http_method = if verb == ANY {
                "ANY".to_string()
            } else if METHODS.contains(&verb.as_str()) {
                verb.to_ascii_uppercase()
            } else {
                continue;
            };
            let security = op.get("security").or(global_security.as_ref());
            let mut m = Method {
                http_method: http_method.clone(),
                authorization_type: "NONE".into(),
                operation_name: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                request_validator_id: op
                    .get("x-amazon-apigateway-request-validator")
                    .and_then(Value::as_str)
                    .and_then(|n| validators.get(n).cloned())
                    .or_else(|| default_validator.clone()),
                ..Default::default()
            };
            for req in security.and_then(Value::as_array).into_iter().flatten() {
                for (name, scopes) in req.as_object().into_iter().flatten() {
                    if api_key_schemes.contains(name) {
                        m.api_key_required = true;
                    } else if iam_schemes.contains(name) {
                        m.authorization_type = "AWS_IAM".into();
                    } else if let Some((id, t)) = authorizers.get(name) {
                        m.authorization_type.clone_from(t);
                        m.authorizer_id = Some(id.clone());
                        m.authorization_scopes = strs(Some(scopes));
                    } else {
                        warnings.push(format!(
                            "Unknown security scheme {name} at {http_method} {path}"
                        ));
                    }
                }
            }
            let params = shared_params
                .iter()
                .chain(op.get("parameters"))
                .filter_map(Value::as_array)
                .flatten();
            for p in params {
                let (Some(name), Some(loc)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let loc = match loc {
                    "path" => "path",
                    "query" => "querystring",
                    "header" => "header",
                    "body" => {
                        if let Some(model) = p.get("schema").and_then(ref_name) {
                            m.request_models.insert("application/json".into(), model);
                        }
                        continue;
                    }
                    _ => continue,
                };
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                m.request_parameters
                    .insert(format!("method.request.{loc}.{name}"), required);
            }
            if let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                for (ct, c) in content {
                    if let Some(model) = c.get("schema").and_then(ref_name) {
                        m.request_models.insert(ct.clone(), model);
                    }
                }
            }
            for (status, r) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if status == "default" {
                    continue;
                }
                let mut mr = MethodResponse {
                    status_code: status.clone(),
                    ..Default::default()
                };
                for h in r
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    mr.response_parameters
                        .insert(format!("method.response.header.{}", h.0), false);
                }
                if let Some(model) = r.get("schema").and_then(ref_name) {
                    mr.response_models.insert("application/json".into(), model);
                }
                for (ct, c) in r
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(model) = c.get("schema").and_then(ref_name) {
                        mr.response_models.insert(ct.clone(), model);
                    }
                }
                m.method_responses.insert(status.clone(), mr);
            }
            if let Some(i) = op.get("x-amazon-apigateway-integration") {
                m.method_integration = Some(integration(i, &rid, path, &http_method)?);
            } else {
                warnings.push(format!(
                    "No integration defined for method {http_method} {path}"
                ));
            }
            if let Some(r) = api.resources.get_mut(&rid) {
                r.resource_methods.insert(http_method, m);
            }
        }
    }
    Ok(warnings)
}

/// The resource for `path`, creating the missing ancestors.
fn ensure_resource(api: &mut Api, path: &str) -> Result<String> {
    let mut parent = api.info.root_resource_id.clone();
    let mut cur = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        cur = format!("{cur}/{part}");
        if let Some(r) = api.resources.values().find(|r| r.path == cur) {
            parent = r.id.clone();
            continue;
        }
        let id = new_id(6);
        api.resources.insert(
            id.clone(),
            Resource {
                id: id.clone(),
                parent_id: Some(parent.clone()),
                path_part: Some(part.to_string()),
                path: cur.clone(),
                resource_methods: IndexMap::new(),
            },
        );
        parent = id;
    }
    Ok(parent)
}

fn integration(i: &Value, rid: &str, path: &str, method: &str) -> Result<Integration> {
    let kind = i
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let mut out = Integration {
        kind,
        http_method: i
            .get("httpMethod")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase),
        uri: i.get("uri").and_then(Value::as_str).map(str::to_string),
        connection_type: i
            .get("connectionType")
            .and_then(Value::as_str)
            .map(str::to_string),
        connection_id: i
            .get("connectionId")
            .and_then(Value::as_str)
            .map(str::to_string),
        credentials: i
            .get("credentials")
            .and_then(Value::as_str)
            .map(str::to_string),
        request_parameters: str_map(i.get("requestParameters")),
        request_templates: str_map(i.get("requestTemplates")),
        passthrough_behavior: Some(
            i.get("passthroughBehavior")
                .and_then(Value::as_str)
                .map_or_else(|| "WHEN_NO_MATCH".to_string(), str::to_ascii_uppercase),
        ),
        content_handling: i
            .get("contentHandling")
            .and_then(Value::as_str)
            .map(str::to_string),
        timeout_in_millis: i
            .get("timeoutInMillis")
            .and_then(|t| t.as_i64().or_else(|| t.as_str()?.parse().ok()))
            .unwrap_or(29_000),
        cache_namespace: Some(
            i.get("cacheNamespace")
                .and_then(Value::as_str)
                .unwrap_or(rid)
                .to_string(),
        ),
        cache_key_parameters: strs(i.get("cacheKeyParameters")),
        integration_responses: IndexMap::new(),
    };
    for (pattern, r) in i
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let status = r
            .get("statusCode")
            .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_string))
            .ok_or_else(|| {
                invalid(format!(
                    "An integration response at {method} {path} has no statusCode"
                ))
            })?;
        out.integration_responses.insert(
            status.clone(),
            IntegrationResponse {
                status_code: status,
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: str_map(r.get("responseParameters")),
                response_templates: str_map(r.get("responseTemplates")),
                content_handling: r
                    .get("contentHandling")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
        );
    }
    crate::handlers::methods::check_integration(&out)
        .map_err(|e| invalid(format!("{} at {method} {path}", e.message)))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn empty_api() -> Api {
        let mut api = Api::default();
        api.info.id = "abc".into();
        api.info.root_resource_id = "root".into();
        api.info.api_key_source = "HEADER".into();
        api.resources.insert(
            "root".into(),
            Resource {
                id: "root".into(),
                path: "/".into(),
                ..Default::default()
            },
        );
        api
    }

    #[test]
    fn imports_swagger_and_exports_it_back() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "pets", "version": "1"},
            "paths": {"/pets/{id}": {"get": {
                "parameters": [{"name": "id", "in": "path", "required": true}],
                "security": [{"api_key": []}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
                "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                    "responses": {"default": {"statusCode": "200"}, "4\\d{2}": {"statusCode": "400"}}}
            }}},
            "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
            "definitions": {"Pet": {"type": "object", "properties": {"tag": {"$ref": "#/definitions/Tag"}}}, "Tag": {"type": "string"}}
        });
        let mut api = empty_api();
        let warnings = import(&doc, &mut api, true).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(api.info.name, "pets");
        let paths: Vec<&str> = api.resources.values().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/", "/pets", "/pets/{id}"]);
        let m = &api.resources.values().last().unwrap().resource_methods["GET"];
        assert!(m.api_key_required && m.request_parameters["method.request.path.id"]);
        let i = m.method_integration.as_ref().unwrap();
        assert_eq!(i.kind, "MOCK");
        assert_eq!(
            i.integration_responses["400"].selection_pattern.as_deref(),
            Some("4\\d{2}")
        );
        assert!(
            api.models["Pet"]
                .schema
                .as_deref()
                .unwrap()
                .contains("restapis/abc/models/Tag")
        );

        let out = export(
            &api.snapshot(),
            "prod",
            "http://localhost:4566",
            false,
            "integrations",
        );
        assert_eq!(out["basePath"], "/prod");
        let get = &out["paths"]["/pets/{id}"]["get"];
        assert_eq!(get["x-amazon-apigateway-integration"]["type"], "mock");
        assert_eq!(get["security"], json!([{"api_key": []}]));
        assert_eq!(
            out["definitions"]["Pet"]["properties"]["tag"]["$ref"],
            "#/definitions/Tag"
        );
        // Round trip: importing the export gives the same tree.
        let mut again = empty_api();
        import(&out, &mut again, true).unwrap();
        assert_eq!(again.resources.len(), 3);
    }

    #[test]
    fn refuses_what_is_not_openapi() {
        let mut api = empty_api();
        assert!(import(&json!({"hello": 1}), &mut api, true).is_err());
        let bad = json!({"openapi": "3.0.1", "info": {"title": "t"}, "paths": {"/x": {"get": {
            "x-amazon-apigateway-integration": {"type": "bogus"}}}}});
        assert!(import(&bad, &mut api, true).is_err());
    }
}
