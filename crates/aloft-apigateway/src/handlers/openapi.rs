//! ImportRestApi, PutRestApi and GetExport: REST APIs from and to OpenAPI documents.

use aloft_core::RequestContext;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::{new_id, now, s};
use crate::error::{Result, bad_request, not_found};
use crate::model::{Api, Resource, RestApiInfo, output};
use crate::{ApiGateway, openapi, scope};

/// The document in a blob member: JSON or YAML (OpenAPI 3 or Swagger 2).
fn document(input: &Value) -> Result<Value> {
    let raw = B64
        .decode(s(input, "body")?)
        .map_err(|_| bad_request("Invalid request body"))?;
    // AWS answers a document it cannot read (not JSON, not YAML, not an object) with this
    // one terse message; what is wrong inside a readable document is listed per error.
    let text = std::str::from_utf8(&raw).map_err(|_| bad_request("Invalid OpenAPI input."))?;
    openapi::yaml::parse(text).map_err(|why| {
        tracing::debug!("apigateway: unreadable OpenAPI document: {why}");
        bad_request("Invalid OpenAPI input.")
    })
}

fn param<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input
        .get("parameters")
        .and_then(|p| p.get(name))
        .and_then(Value::as_str)
}

fn check_warnings(input: &Value, warnings: &[String]) -> Result<()> {
    if input.get("failOnWarnings").and_then(Value::as_bool) == Some(true) && !warnings.is_empty() {
        return Err(bad_request(format!(
            "Warnings found during import:\n\t{}",
            warnings.join("\n\t")
        )));
    }
    Ok(())
}

fn with_warnings(api: &Api, warnings: Vec<String>) -> Value {
    let mut out = output(&api.info);
    if !warnings.is_empty() {
        out["warnings"] = json!(warnings);
    }
    out
}

pub(crate) async fn import_rest_api(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let doc = document(input)?;
    let id = new_id(10);
    let root = new_id(10);
    let types = param(input, "endpointConfigurationTypes").unwrap_or("EDGE");
    let mut api = Api {
        info: RestApiInfo {
            id: id.clone(),
            created_date: now(),
            api_key_source: "HEADER".into(),
            endpoint_configuration: json!({"types": [types]}),
            root_resource_id: root.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    api.resources.insert(
        root.clone(),
        Resource {
            id: root,
            path: "/".into(),
            ..Default::default()
        },
    );
    let warnings = openapi::import(&doc, &mut api, true)?;
    check_warnings(input, &warnings)?;
    let out = with_warnings(&api, warnings);
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", scope(ctx));
        st.api_index.insert(id, key.clone());
        let c = gw.commit_api(&key, Some(&api));
        st.apis.insert(key, api);
        c
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    Ok(out)
}

pub(crate) async fn put_rest_api(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let doc = document(input)?;
    // PutRestApi merges unless told to overwrite.
    let overwrite = input.get("mode").and_then(Value::as_str) == Some("overwrite");
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let warnings = openapi::import(&doc, api, overwrite)?;
        check_warnings(input, &warnings)?;
        Ok(with_warnings(api, warnings))
    })
    .await
}

pub(crate) fn get_export(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let stage = s(input, "stageName")?;
    let oas3 = match s(input, "exportType")? {
        "oas30" => true,
        "swagger" => false,
        other => {
            return Err(bad_request(format!(
                "Invalid export type {other}. Valid options are oas30,swagger"
            )));
        }
    };
    let extensions = param(input, "extensions").unwrap_or("").to_string();
    // The Accept header picks the form: application/json (the default) or application/yaml.
    let yaml = match input.get("accepts").and_then(Value::as_str) {
        None => false,
        Some(a) if a.contains("yaml") => true,
        Some(a) if a.is_empty() || a.contains("json") || a.contains("*/*") => false,
        Some(a) => {
            return Err(bad_request(format!(
                "Unsupported content type {a}. Valid options are application/json,application/yaml"
            )));
        }
    };
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let st = api
            .stages
            .get(stage)
            .ok_or_else(|| not_found("Invalid Stage identifier specified"))?;
        let dep = api
            .deployments
            .get(&st.deployment_id)
            .ok_or_else(|| not_found("Invalid Deployment identifier specified"))?;
        let port = ctx
            .base_url
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let base = format!("http://{}.execute-api.localhost{port}", api.info.id);
        let doc = openapi::export(&dep.snapshot, stage, &base, oas3, &extensions);
        let kind = if oas3 { "oas30" } else { "swagger" };
        let (content_type, ext, body) = if yaml {
            ("application/yaml", "yaml", openapi::yaml::dump(&doc).into_bytes())
        } else {
            ("application/json", "json", serde_json::to_vec_pretty(&doc).unwrap_or_default())
        };
        Ok(json!({
            "contentType": content_type,
            "contentDisposition": format!("attachment; filename=\"{}_{stage}_{kind}.{ext}\"", api.info.id),
            "body": B64.encode(body),
        }))
    })
}
