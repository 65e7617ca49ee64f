//! GetExport: a deployed REST API as OpenAPI 3 (`oas30`) or Swagger 2 (`swagger`).

use serde_json::{Map, Value, json};

use super::ANY;
use crate::model::Resource;

/// Exports a deployed API as OpenAPI 3 (`oas30`) or Swagger 2 (`swagger`), with the
/// `x-amazon-apigateway-*` extensions when `extensions` names them.
pub fn export(
    snap: &crate::model::Snapshot,
    stage: &str,
    base_url: &str,
    oas3: bool,
    extensions: &str,
) -> Value {
    let with = |e: &str| extensions.split(',').any(|x| x.trim() == e);
    let integrations = with("integrations") || with("apigateway");
    let authorizers = with("authorizers") || with("apigateway");
    let model_ref = |name: &str| {
        if oas3 {
            format!("#/components/schemas/{name}")
        } else {
            format!("#/definitions/{name}")
        }
    };
    let mut paths = Map::new();
    let mut resources: Vec<&Resource> = snap.resources.values().collect();
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    for r in resources {
        if r.resource_methods.is_empty() {
            continue;
        }
        let mut item = Map::new();
        for (verb, m) in &r.resource_methods {
            let mut op = Map::new();
            if let Some(n) = &m.operation_name {
                op.insert("operationId".into(), json!(n));
            }
            let mut params = Vec::new();
            for (name, required) in &m.request_parameters {
                let mut parts = name.splitn(4, '.');
                let (_, _, loc, pname) = (parts.next(), parts.next(), parts.next(), parts.next());
                let (Some(loc), Some(pname)) = (loc, pname) else {
                    continue;
                };
                let loc = if loc == "querystring" { "query" } else { loc };
                let mut p =
                    json!({"name": pname, "in": loc, "required": *required || loc == "path"});
                if oas3 {
                    p["schema"] = json!({"type": "string"});
                } else {
                    p["type"] = json!("string");
                }
                params.push(p);
            }
            if let Some(model) = m.request_models.values().next() {
                if oas3 {
                    let content: Map<String, Value> = m
                        .request_models
                        .iter()
                        .map(|(ct, n)| (ct.clone(), json!({"schema": {"$ref": model_ref(n)}})))
                        .collect();
                    op.insert(
                        "requestBody".into(),
                        json!({"content": content, "required": true}),
                    );
                } else {
                    params.push(json!({"in": "body", "name": model, "required": true, "schema": {"$ref": model_ref(model)}}));
                }
            }
            if !params.is_empty() {
                op.insert("parameters".into(), json!(params));
            }
            let mut responses = Map::new();
            for (status, mr) in &m.method_responses {
                let mut resp = json!({"description": format!("{status} response")});
                let headers: Map<String, Value> = mr
                    .response_parameters
                    .keys()
                    .filter_map(|k| k.strip_prefix("method.response.header."))
                    .map(|h| {
                        (
                            h.to_string(),
                            if oas3 {
                                json!({"schema": {"type": "string"}})
                            } else {
                                json!({"type": "string"})
                            },
                        )
                    })
                    .collect();
                if !headers.is_empty() {
                    resp["headers"] = Value::Object(headers);
                }
                if let Some(model) = mr.response_models.values().next() {
                    if oas3 {
                        let content: Map<String, Value> = mr
                            .response_models
                            .iter()
                            .map(|(ct, n)| (ct.clone(), json!({"schema": {"$ref": model_ref(n)}})))
                            .collect();
                        resp["content"] = Value::Object(content);
                    } else {
                        resp["schema"] = json!({"$ref": model_ref(model)});
                    }
                }
                responses.insert(status.clone(), resp);
            }
            op.insert("responses".into(), Value::Object(responses));
            let mut security = Vec::new();
            if m.api_key_required {
                security.push(json!({"api_key": []}));
            }
            match m.authorization_type.as_str() {
                "AWS_IAM" => security.push(json!({"sigv4": []})),
                "CUSTOM" | "COGNITO_USER_POOLS" => {
                    if let Some(a) = m
                        .authorizer_id
                        .as_ref()
                        .and_then(|id| snap.authorizers.get(id))
                    {
                        security.push(json!({ a.name.clone(): m.authorization_scopes }));
                    }
                }
                _ => {}
            }
            if !security.is_empty() {
                op.insert("security".into(), json!(security));
            }
            if integrations && let Some(i) = &m.method_integration {
                let mut x = json!({
                    "type": i.kind.to_ascii_lowercase(),
                    "passthroughBehavior": i.passthrough_behavior.as_deref().unwrap_or("WHEN_NO_MATCH").to_ascii_lowercase(),
                    "timeoutInMillis": i.timeout_in_millis,
                });
                for (k, v) in [
                    ("httpMethod", &i.http_method),
                    ("uri", &i.uri),
                    ("credentials", &i.credentials),
                    ("contentHandling", &i.content_handling),
                ] {
                    if let Some(v) = v {
                        x[k] = json!(v);
                    }
                }
                if !i.request_templates.is_empty() {
                    x["requestTemplates"] = json!(i.request_templates);
                }
                if !i.request_parameters.is_empty() {
                    x["requestParameters"] = json!(i.request_parameters);
                }
                if !i.cache_key_parameters.is_empty() {
                    x["cacheKeyParameters"] = json!(i.cache_key_parameters);
                }
                let mut rs = Map::new();
                for ir in i.integration_responses.values() {
                    let mut r = json!({"statusCode": ir.status_code});
                    if !ir.response_templates.is_empty() {
                        r["responseTemplates"] = json!(ir.response_templates);
                    }
                    if !ir.response_parameters.is_empty() {
                        r["responseParameters"] = json!(ir.response_parameters);
                    }
                    rs.insert(
                        ir.selection_pattern
                            .clone()
                            .filter(|p| !p.is_empty())
                            .unwrap_or_else(|| "default".into()),
                        r,
                    );
                }
                if !rs.is_empty() {
                    x["responses"] = Value::Object(rs);
                }
                op.insert("x-amazon-apigateway-integration".into(), x);
            }
            let key = if verb == "ANY" {
                ANY.to_string()
            } else {
                verb.to_ascii_lowercase()
            };
            item.insert(key, Value::Object(op));
        }
        paths.insert(r.path.clone(), Value::Object(item));
    }
    let mut schemas = Map::new();
    for m in snap.models.values() {
        let mut s: Value = m
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| json!({}));
        unrewrite_refs(&mut s, oas3);
        schemas.insert(m.name.clone(), s);
    }
    let mut sec = Map::new();
    for m in snap
        .resources
        .values()
        .flat_map(|r| r.resource_methods.values())
    {
        if m.api_key_required {
            sec.insert(
                "api_key".into(),
                json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
            );
        }
        if m.authorization_type == "AWS_IAM" {
            sec.insert("sigv4".into(), json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}));
        }
    }
    for a in snap.authorizers.values() {
        let header = a
            .identity_source
            .as_deref()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .unwrap_or("Unused");
        let mut s = json!({"type": "apiKey", "name": header, "in": "header",
            "x-amazon-apigateway-authtype": a.auth_type.clone().unwrap_or_else(|| if a.kind == "COGNITO_USER_POOLS" { "cognito_user_pools".into() } else { "custom".into() })});
        if authorizers {
            let mut x = json!({"type": a.kind.to_ascii_lowercase()});
            if let Some(u) = &a.authorizer_uri {
                x["authorizerUri"] = json!(u);
            }
            if !a.provider_arns.is_empty() {
                x["providerARNs"] = json!(a.provider_arns);
            }
            if let Some(t) = a.authorizer_result_ttl_in_seconds {
                x["authorizerResultTtlInSeconds"] = json!(t);
            }
            if a.kind == "REQUEST" {
                x["identitySource"] = json!(a.identity_source);
            }
            if let Some(e) = &a.identity_validation_expression {
                x["identityValidationExpression"] = json!(e);
            }
            s["x-amazon-apigateway-authorizer"] = x;
        }
        sec.insert(a.name.clone(), s);
    }
    let mut info = json!({"title": snap.info.name, "version": snap.info.version.clone().unwrap_or_else(|| "1.0".into())});
    if let Some(d) = &snap.info.description {
        info["description"] = json!(d);
    }
    let mut doc = if oas3 {
        json!({"openapi": "3.0.1", "info": info,
               "servers": [{"url": format!("{base_url}/{{basePath}}"), "variables": {"basePath": {"default": stage}}}],
               "paths": paths})
    } else {
        let host = base_url
            .split_once("://")
            .map_or(base_url, |(_, h)| h)
            .to_string();
        json!({"swagger": "2.0", "info": info, "host": host, "basePath": format!("/{stage}"),
               "schemes": [base_url.split("://").next().unwrap_or("http")], "paths": paths})
    };
    if oas3 {
        let mut components = Map::new();
        if !schemas.is_empty() {
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if !sec.is_empty() {
            components.insert("securitySchemes".into(), Value::Object(sec));
        }
        if !components.is_empty() {
            doc["components"] = Value::Object(components);
        }
    } else {
        if !schemas.is_empty() {
            doc["definitions"] = Value::Object(schemas);
        }
        if !sec.is_empty() {
            doc["securityDefinitions"] = Value::Object(sec);
        }
    }
    if !snap.info.binary_media_types.is_empty() {
        doc["x-amazon-apigateway-binary-media-types"] = json!(snap.info.binary_media_types);
    }
    doc
}

fn unrewrite_refs(v: &mut Value, oas3: bool) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = x
                    && r.contains("/models/")
                {
                    let name = r.rsplit('/').next().unwrap_or_default().to_string();
                    *r = if oas3 {
                        format!("#/components/schemas/{name}")
                    } else {
                        format!("#/definitions/{name}")
                    };
                } else {
                    unrewrite_refs(x, oas3);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| unrewrite_refs(x, oas3)),
        _ => {}
    }
}
