//! HTTP APIs from and to OpenAPI 3 (and Swagger 2 on import): ImportApi, ReimportApi and
//! ExportApi, with `x-amazon-apigateway-integration`, `-authorizer` (JWT and Lambda) and
//! `-cors`.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::{Authorizer, HttpApi, Integration, Route, Snapshot};
use crate::error::{Result, bad_request};
use crate::handlers::new_id;

const VERBS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];
const ANY: &str = "x-amazon-apigateway-any-method";

fn invalid(why: impl std::fmt::Display) -> aloft_core::AwsError {
    bad_request(format!("Errors found during import:\n\t{why}"))
}

fn strs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// A text member; YAML documents may leave numbers unquoted (`version: 1.0`).
fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `allowOrigins` → `AllowOrigins`: OpenAPI spells the CORS members in camelCase.
fn cors(v: &Value) -> Value {
    let mut out = Map::new();
    for (k, x) in v.as_object().into_iter().flatten() {
        let mut c = k.chars();
        let name = c
            .next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default();
        out.insert(name, x.clone());
    }
    Value::Object(out)
}

/// Parses the document into `api` (routes, integrations, authorizers, CORS replaced).
pub fn import(doc: &Value, api: &mut HttpApi) -> Result<Vec<String>> {
    let oas3 = s(doc, "openapi").is_some_and(|v| v.starts_with("3."));
    if !oas3 && s(doc, "swagger").as_deref() != Some("2.0") {
        return Err(invalid(
            "The document is neither OpenAPI 3.x nor Swagger 2.0",
        ));
    }
    let mut warnings = Vec::new();
    let info = doc.get("info").cloned().unwrap_or_default();
    api.info.name = s(&info, "title").ok_or_else(|| invalid("info.title is required"))?;
    api.info.version = s(&info, "version");
    api.info.description = s(&info, "description");
    api.info.cors_configuration = doc.get("x-amazon-apigateway-cors").map(cors);
    api.routes.clear();
    api.integrations.clear();
    api.authorizers.clear();
    let schemes = if oas3 {
        doc.pointer("/components/securitySchemes")
    } else {
        doc.get("securityDefinitions")
    };
    // Security scheme name → (authorizer id or None for IAM, authorization type).
    let mut auths: IndexMap<String, (Option<String>, &'static str)> = IndexMap::new();
    for (name, sc) in schemes.and_then(Value::as_object).into_iter().flatten() {
        if sc
            .get("x-amazon-apigateway-authtype")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
        {
            auths.insert(name.clone(), (None, "AWS_IAM"));
            continue;
        }
        let Some(a) = sc.get("x-amazon-apigateway-authorizer") else {
            warnings.push(format!(
                "Security scheme {name} has no x-amazon-apigateway-authorizer and was ignored"
            ));
            continue;
        };
        let kind = s(a, "type").unwrap_or_default().to_ascii_uppercase();
        let id = new_id(6);
        let mut au = Authorizer {
            authorizer_id: id.clone(),
            name: name.clone(),
            authorizer_type: kind.clone(),
            identity_source: strs(a.get("identitySource")),
            ..Default::default()
        };
        match kind.as_str() {
            "JWT" => {
                let j = a.get("jwtConfiguration").cloned().unwrap_or_default();
                let issuer = s(&j, "issuer").ok_or_else(|| {
                    invalid(format!("Authorizer {name} has no jwtConfiguration.issuer"))
                })?;
                au.jwt_configuration =
                    Some(json!({"Issuer": issuer, "Audience": strs(j.get("audience"))}));
                if au.identity_source.is_empty() {
                    au.identity_source = vec!["$request.header.Authorization".into()];
                }
            }
            "REQUEST" => {
                au.authorizer_uri =
                    Some(s(a, "authorizerUri").ok_or_else(|| {
                        invalid(format!("Authorizer {name} has no authorizerUri"))
                    })?);
                au.authorizer_payload_format_version =
                    Some(s(a, "authorizerPayloadFormatVersion").unwrap_or_else(|| "2.0".into()));
                au.enable_simple_responses =
                    a.get("enableSimpleResponses").and_then(Value::as_bool);
                au.authorizer_result_ttl_in_seconds = Some(
                    a.get("authorizerResultTtlInSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                );
                au.authorizer_credentials_arn = s(a, "authorizerCredentials");
            }
            other => {
                return Err(invalid(format!(
                    "Authorizer {name} has an unsupported type {other}"
                )));
            }
        }
        api.authorizers.insert(id.clone(), au);
        auths.insert(
            name.clone(),
            (Some(id), if kind == "JWT" { "JWT" } else { "CUSTOM" }),
        );
    }
    let global_security = doc.get("security");
    // Identical integrations are shared, as AWS does on import.
    let mut seen: Vec<(Value, String)> = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (verb, op) in item.as_object().into_iter().flatten() {
            let method = if verb == ANY {
                "ANY".to_string()
            } else if VERBS.contains(&verb.as_str()) {
                verb.to_ascii_uppercase()
            } else {
                continue;
            };
            let key = if path == "$default" || path == "/$default" {
                "$default".to_string()
            } else {
                format!("{method} {path}")
            };
            let mut route = Route {
                route_id: new_id(7),
                route_key: key.clone(),
                authorization_type: "NONE".into(),
                operation_name: s(op, "operationId"),
                ..Default::default()
            };
            for req in op
                .get("security")
                .or(global_security)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (name, scopes) in req.as_object().into_iter().flatten() {
                    match auths.get(name) {
                        Some((id, t)) => {
                            route.authorization_type = (*t).to_string();
                            route.authorizer_id.clone_from(id);
                            route.authorization_scopes = strs(Some(scopes));
                        }
                        None => {
                            warnings.push(format!("Unknown security scheme {name} on route {key}"))
                        }
                    }
                }
            }
            if let Some(x) = op.get("x-amazon-apigateway-integration") {
                let found = seen.iter().find(|(v, _)| v == x).map(|(_, id)| id.clone());
                let id = match found {
                    Some(id) => id,
                    None => {
                        let i =
                            integration(x).map_err(|e| invalid(format!("{e} on route {key}")))?;
                        let id = i.integration_id.clone();
                        api.integrations.insert(id.clone(), i);
                        seen.push((x.clone(), id.clone()));
                        id
                    }
                };
                route.target = Some(format!("integrations/{id}"));
            } else {
                warnings.push(format!(
                    "Route {key} has no x-amazon-apigateway-integration"
                ));
            }
            api.routes.insert(route.route_id.clone(), route);
        }
    }
    Ok(warnings)
}

fn integration(x: &Value) -> std::result::Result<Integration, String> {
    let kind = s(x, "type").unwrap_or_default().to_ascii_uppercase();
    if kind != "AWS_PROXY" && kind != "HTTP_PROXY" {
        return Err(format!(
            "Unsupported integration type {kind}: HTTP APIs take aws_proxy or http_proxy"
        ));
    }
    let uri = s(x, "uri")
        .or_else(|| s(x, "integrationUri"))
        .ok_or("The integration has no uri")?;
    super::params::validate(x.get("requestParameters"), x.get("responseParameters"))
        .map_err(|e| e.message.clone())?;
    Ok(Integration {
        integration_id: new_id(7),
        integration_type: kind.clone(),
        connection_type: s(x, "connectionType").unwrap_or_else(|| "INTERNET".into()),
        integration_method: Some(s(x, "httpMethod").unwrap_or_else(|| {
            if kind == "AWS_PROXY" {
                "POST".into()
            } else {
                "ANY".into()
            }
        })),
        integration_uri: Some(uri),
        payload_format_version: Some(s(x, "payloadFormatVersion").unwrap_or_else(|| {
            if kind == "AWS_PROXY" {
                "2.0".into()
            } else {
                "1.0".into()
            }
        })),
        timeout_in_millis: x
            .get("timeoutInMillis")
            .and_then(Value::as_i64)
            .unwrap_or(30_000),
        request_parameters: x.get("requestParameters").cloned(),
        response_parameters: x.get("responseParameters").cloned(),
        credentials_arn: s(x, "credentials"),
        ..Default::default()
    })
}

/// OpenAPI 3 for an HTTP API (a stage's deployment, or the API as it is).
pub fn export(snap: &Snapshot, extensions: bool, server: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in snap.routes.values() {
        let (method, path) = match r.route_key.split_once(' ') {
            Some((m, p)) => (m.to_string(), p.to_string()),
            None => ("ANY".to_string(), r.route_key.clone()),
        };
        let verb = if method == "ANY" {
            ANY.to_string()
        } else {
            method.to_ascii_lowercase()
        };
        let mut op = json!({"responses": {"default": {"description": format!("Default response for {}", r.route_key)}}});
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|p| json!({"name": p.trim_end_matches('+'), "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = json!(params);
        }
        if let Some(n) = &r.operation_name {
            op["operationId"] = json!(n);
        }
        match r.authorization_type.as_str() {
            "JWT" | "CUSTOM" => {
                if let Some(a) = r
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| snap.authorizers.get(id))
                {
                    op["security"] = json!([{ a.name.clone(): r.authorization_scopes }]);
                }
            }
            "AWS_IAM" => op["security"] = json!([{"sigv4": []}]),
            _ => {}
        }
        if extensions
            && let Some(i) = r
                .target
                .as_deref()
                .and_then(|t| t.strip_prefix("integrations/"))
                .and_then(|id| snap.integrations.get(id))
        {
            let mut x = json!({
                "type": i.integration_type.to_ascii_lowercase(),
                "httpMethod": i.integration_method,
                "uri": i.integration_uri,
                "connectionType": i.connection_type,
                "payloadFormatVersion": i.payload_format_version,
                "timeoutInMillis": i.timeout_in_millis,
            });
            if let Some(p) = &i.request_parameters {
                x["requestParameters"] = p.clone();
            }
            if let Some(p) = &i.response_parameters {
                x["responseParameters"] = p.clone();
            }
            op["x-amazon-apigateway-integration"] = x;
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[verb] = op;
    }
    let mut schemes = Map::new();
    for a in snap.authorizers.values() {
        let mut sc = json!({"type": "oauth2", "flows": {}});
        if extensions {
            let mut x = json!({"type": a.authorizer_type.to_ascii_lowercase(), "identitySource": a.identity_source.join(",")});
            if let Some(j) = &a.jwt_configuration {
                x["jwtConfiguration"] =
                    json!({"issuer": j.get("Issuer"), "audience": j.get("Audience")});
            }
            if let Some(u) = &a.authorizer_uri {
                x["authorizerUri"] = json!(u);
                x["authorizerPayloadFormatVersion"] = json!(a.authorizer_payload_format_version);
                x["authorizerResultTtlInSeconds"] = json!(a.authorizer_result_ttl_in_seconds);
                if let Some(simple) = a.enable_simple_responses {
                    x["enableSimpleResponses"] = json!(simple);
                }
                sc = json!({"type": "apiKey", "name": "Unused", "in": "header"});
            }
            sc["x-amazon-apigateway-authorizer"] = x;
        }
        schemes.insert(a.name.clone(), sc);
    }
    if snap
        .routes
        .values()
        .any(|r| r.authorization_type == "AWS_IAM")
    {
        schemes.insert("sigv4".into(), json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}));
    }
    let mut info = json!({"title": snap.info.name, "version": snap.info.version.clone().unwrap_or_else(|| "1.0".into())});
    if let Some(d) = &snap.info.description {
        info["description"] = json!(d);
    }
    let mut doc =
        json!({"openapi": "3.0.1", "info": info, "servers": [{"url": server}], "paths": paths});
    if !schemes.is_empty() {
        doc["components"] = json!({"securitySchemes": schemes});
    }
    if extensions && let Some(c) = &snap.info.cors_configuration {
        let mut out = Map::new();
        for (k, v) in c.as_object().into_iter().flatten() {
            let mut ch = k.chars();
            out.insert(
                ch.next()
                    .map(|f| f.to_ascii_lowercase().to_string() + ch.as_str())
                    .unwrap_or_default(),
                v.clone(),
            );
        }
        doc["x-amazon-apigateway-cors"] = Value::Object(out);
    }
    doc
}

/// The document of ImportApi/ReimportApi: JSON or YAML text.
fn document(input: &Value) -> Result<Value> {
    let body = input
        .get("Body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    crate::openapi::yaml::parse(body).map_err(invalid)
}

fn finish(input: &Value, api: &HttpApi, warnings: Vec<String>) -> Result<Value> {
    if input.get("FailOnWarnings").and_then(Value::as_bool) == Some(true) && !warnings.is_empty() {
        return Err(bad_request(format!(
            "Warnings found during import:\n\t{}",
            warnings.join("\n\t")
        )));
    }
    let mut out = super::output(&api.info);
    if !warnings.is_empty() {
        out["Warnings"] = json!(warnings);
    }
    Ok(out)
}

pub(crate) async fn import_api(
    gw: &crate::ApiGateway,
    ctx: &aloft_core::RequestContext,
    input: &Value,
) -> Result<Value> {
    let doc = document(input)?;
    let id = new_id(10);
    let mut api = HttpApi::default();
    api.info.api_id = id.clone();
    api.info.protocol_type = "HTTP".into();
    api.info.api_endpoint = super::handlers::endpoint(ctx, &id, false);
    api.info.created_date = crate::handlers::now();
    api.info.api_key_selection_expression = Some("$request.header.x-api-key".into());
    api.info.route_selection_expression = Some("${request.method} ${request.path}".into());
    let warnings = import(&doc, &mut api)?;
    let out = finish(input, &api, warnings)?;
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", crate::scope(ctx));
        st.v2_index.insert(id, key.clone());
        let c = gw.commit_v2(&key, Some(&api));
        st.v2.insert(key, api);
        c
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    Ok(out)
}

pub(crate) async fn reimport_api(
    gw: &crate::ApiGateway,
    ctx: &aloft_core::RequestContext,
    input: &Value,
) -> Result<Value> {
    let doc = document(input)?;
    let id = crate::handlers::s(input, "ApiId")?;
    gw.edit_v2(ctx, id, true, |api| {
        if api.is_websocket() {
            return Err(bad_request("Import is only supported for HTTP APIs"));
        }
        let warnings = import(&doc, api)?;
        finish(input, api, warnings)
    })
    .await
}

pub(crate) fn export_api(
    gw: &crate::ApiGateway,
    ctx: &aloft_core::RequestContext,
    input: &Value,
) -> Result<Value> {
    let spec = crate::handlers::s(input, "Specification")?;
    if spec != "OAS30" {
        return Err(bad_request(format!(
            "Unsupported specification {spec}: OAS30 is supported"
        )));
    }
    let yaml = match crate::handlers::s(input, "OutputType")? {
        "JSON" => false,
        "YAML" => true,
        other => {
            return Err(bad_request(format!(
                "Unsupported output type {other}: JSON and YAML are supported"
            )));
        }
    };
    let extensions = input
        .get("IncludeExtensions")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    gw.read_v2(ctx, crate::handlers::s(input, "ApiId")?, |api| {
        if api.is_websocket() {
            return Err(bad_request("Export is only supported for HTTP APIs"));
        }
        let snap = match input.get("StageName").and_then(Value::as_str) {
            Some(stage) => {
                let st = api.stages.get(stage).ok_or_else(|| {
                    crate::error::not_found(format!("Invalid Stage identifier specified {stage}"))
                })?;
                st.deployment_id
                    .as_ref()
                    .and_then(|d| api.deployments.get(d))
                    .map(|d| (*d.snapshot).clone())
                    .ok_or_else(|| bad_request(format!("Stage {stage} has no deployment")))?
            }
            None => api.snapshot(),
        };
        let doc = export(&snap, extensions, &api.info.api_endpoint);
        use base64::Engine as _;
        let text = if yaml {
            crate::openapi::yaml::dump(&doc).into_bytes()
        } else {
            serde_json::to_vec_pretty(&doc).unwrap_or_default()
        };
        Ok(json!({"body": base64::engine::general_purpose::STANDARD.encode(text)}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_routes_integrations_authorizers_and_exports_them() {
        let doc = json!({
            "openapi": "3.0.1",
            "info": {"title": "items", "version": "1"},
            "x-amazon-apigateway-cors": {"allowOrigins": ["*"], "maxAge": 60},
            "paths": {
                "/items/{id}": {"get": {
                    "security": [{"jwt": ["read"]}],
                    "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "arn:aws:lambda:us-east-1:000000000000:function:f", "payloadFormatVersion": "2.0"}}},
                "/items": {"post": {
                    "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "arn:aws:lambda:us-east-1:000000000000:function:f", "payloadFormatVersion": "2.0"}}},
                "$default": {ANY: {}}
            },
            "components": {"securitySchemes": {"jwt": {"type": "oauth2",
                "x-amazon-apigateway-authorizer": {"type": "jwt", "identitySource": "$request.header.Authorization",
                    "jwtConfiguration": {"issuer": "https://issuer.example", "audience": ["a"]}}}}}
        });
        let mut api = HttpApi::default();
        let warnings = import(&doc, &mut api).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(api.routes.len(), 3);
        assert_eq!(
            api.integrations.len(),
            1,
            "identical integrations are shared"
        );
        let get = api
            .routes
            .values()
            .find(|r| r.route_key == "GET /items/{id}")
            .unwrap();
        assert_eq!(
            (
                get.authorization_type.as_str(),
                get.authorization_scopes.clone()
            ),
            ("JWT", vec!["read".to_string()])
        );
        assert_eq!(api.info.cors_configuration.as_ref().unwrap()["MaxAge"], 60);
        let out = export(&api.snapshot(), true, "http://x");
        assert_eq!(
            out["paths"]["/items/{id}"]["get"]["x-amazon-apigateway-integration"]["type"],
            "aws_proxy"
        );
        assert_eq!(out["x-amazon-apigateway-cors"]["maxAge"], 60);
        let mut again = HttpApi::default();
        import(&out, &mut again).unwrap();
        assert_eq!(again.routes.len(), 3);
        assert!(import(&json!({"x": 1}), &mut again).is_err());
    }
}
