//! Methods, method responses, integrations and integration responses of a resource.

use aloft_core::RequestContext;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::restapis::invalid_resource;
use super::{s, str_map};
use crate::ApiGateway;
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::model::{Api, Integration, IntegrationResponse, Method, MethodResponse, StrMap, output};
use crate::patch;

const HTTP_METHODS: &[&str] = &[
    "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY",
];

fn invalid_method() -> aloft_core::AwsError {
    not_found("Invalid Method identifier specified")
}

fn invalid_integration() -> aloft_core::AwsError {
    not_found("Invalid Integration identifier specified")
}

fn invalid_status() -> aloft_core::AwsError {
    not_found("Invalid Response status code specified")
}

fn method_mut<'a>(api: &'a mut Api, input: &Value) -> Result<&'a mut Method> {
    let rid = s(input, "resourceId")?;
    let hm = s(input, "httpMethod")?;
    api.resources
        .get_mut(rid)
        .ok_or_else(invalid_resource)?
        .resource_methods
        .get_mut(hm)
        .ok_or_else(invalid_method)
}

fn method<'a>(api: &'a Api, input: &Value) -> Result<&'a Method> {
    let rid = s(input, "resourceId")?;
    let hm = s(input, "httpMethod")?;
    api.resources
        .get(rid)
        .ok_or_else(invalid_resource)?
        .resource_methods
        .get(hm)
        .ok_or_else(invalid_method)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodInput {
    rest_api_id: String,
    resource_id: String,
    http_method: String,
    authorization_type: String,
    authorizer_id: Option<String>,
    #[serde(default)]
    api_key_required: bool,
    operation_name: Option<String>,
    #[serde(default)]
    request_parameters: IndexMap<String, bool>,
    #[serde(default)]
    request_models: StrMap,
    request_validator_id: Option<String>,
    #[serde(default)]
    authorization_scopes: Vec<String>,
}

fn check_method_refs(api: &Api, m: &Method) -> Result<()> {
    if !matches!(
        m.authorization_type.as_str(),
        "NONE" | "AWS_IAM" | "CUSTOM" | "COGNITO_USER_POOLS"
    ) {
        return Err(bad_request("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS".to_string()));
    }
    if matches!(
        m.authorization_type.as_str(),
        "CUSTOM" | "COGNITO_USER_POOLS"
    ) {
        match &m.authorizer_id {
            None => {
                return Err(bad_request(format!(
                    "Invalid authorizer ID specified. Setting the authorization type to {} requires a valid authorizer.",
                    m.authorization_type
                )));
            }
            Some(a) if !api.authorizers.contains_key(a) => {
                return Err(bad_request(
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM requires a valid authorizer.",
                ));
            }
            _ => {}
        }
    }
    if let Some(v) = &m.request_validator_id
        && !api.validators.contains_key(v)
    {
        return Err(bad_request(
            "Invalid Request Validator identifier specified",
        ));
    }
    for name in m.request_models.values() {
        if !api.models.contains_key(name) {
            return Err(bad_request(format!(
                "Invalid model identifier specified: {name}"
            )));
        }
    }
    Ok(())
}

pub(crate) async fn put_method(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let i: PutMethodInput =
        serde_json::from_value(input).map_err(|e| bad_request(e.to_string()))?;
    if !HTTP_METHODS.contains(&i.http_method.as_str()) {
        return Err(bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ));
    }
    gw.edit_api(ctx, &i.rest_api_id, |api| {
        let m = Method {
            http_method: i.http_method.clone(),
            authorization_type: i.authorization_type,
            authorizer_id: i.authorizer_id,
            api_key_required: i.api_key_required,
            request_validator_id: i.request_validator_id,
            operation_name: i.operation_name,
            request_parameters: i.request_parameters,
            request_models: i.request_models,
            authorization_scopes: i.authorization_scopes,
            ..Default::default()
        };
        check_method_refs(api, &m)?;
        let r = api
            .resources
            .get_mut(&i.resource_id)
            .ok_or_else(invalid_resource)?;
        if r.resource_methods.contains_key(&i.http_method) {
            return Err(err(
                Code::ConflictException,
                "Method already exists for this resource",
            ));
        }
        let out = output(&m);
        r.resource_methods.insert(i.http_method, m);
        Ok(out)
    })
    .await
}

pub(crate) fn get_method(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(method(api, input)?))
    })
}

pub(crate) async fn update_method(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let mut m = method(api, input)?.clone();
        let fixed = (
            m.http_method.clone(),
            m.method_integration.clone(),
            m.method_responses.clone(),
        );
        patch::apply(&mut m, &ops, &["requestParameters"])?;
        (m.http_method, m.method_integration, m.method_responses) = fixed;
        check_method_refs(api, &m)?;
        let out = output(&m);
        *method_mut(api, input)? = m;
        Ok(out)
    })
    .await
}

pub(crate) async fn delete_method(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let r = api
            .resources
            .get_mut(s(input, "resourceId")?)
            .ok_or_else(invalid_resource)?;
        r.resource_methods
            .shift_remove(s(input, "httpMethod")?)
            .ok_or_else(invalid_method)?;
        Ok(json!({}))
    })
    .await
}

fn bool_map(input: &Value, name: &str) -> IndexMap<String, bool> {
    input
        .get(name)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_bool().unwrap_or(false)))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn put_method_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(&input, "restApiId")?, |api| {
        let status = s(&input, "statusCode")?.to_string();
        let mr = MethodResponse {
            status_code: status.clone(),
            response_parameters: bool_map(&input, "responseParameters"),
            response_models: str_map(&input, "responseModels"),
        };
        let out = output(&mr);
        method_mut(api, &input)?.method_responses.insert(status, mr);
        Ok(out)
    })
    .await
}

pub(crate) fn get_method_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let m = method(api, input)?;
        Ok(output(
            m.method_responses
                .get(s(input, "statusCode")?)
                .ok_or_else(invalid_status)?,
        ))
    })
}

pub(crate) async fn update_method_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let m = method_mut(api, input)?;
        let status = s(input, "statusCode")?;
        let mr = m
            .method_responses
            .get_mut(status)
            .ok_or_else(invalid_status)?;
        patch::apply(mr, &ops, &["responseParameters"])?;
        mr.status_code = status.to_string();
        Ok(output(&*mr))
    })
    .await
}

pub(crate) async fn delete_method_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        method_mut(api, input)?
            .method_responses
            .shift_remove(s(input, "statusCode")?)
            .ok_or_else(invalid_status)?;
        Ok(json!({}))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationInput {
    rest_api_id: String,
    resource_id: String,
    #[serde(rename = "type")]
    kind: String,
    integration_http_method: Option<String>,
    uri: Option<String>,
    connection_type: Option<String>,
    connection_id: Option<String>,
    credentials: Option<String>,
    #[serde(default)]
    request_parameters: StrMap,
    #[serde(default)]
    request_templates: StrMap,
    passthrough_behavior: Option<String>,
    cache_namespace: Option<String>,
    #[serde(default)]
    cache_key_parameters: Vec<String>,
    content_handling: Option<String>,
    timeout_in_millis: Option<i64>,
}

pub(crate) fn check_integration(i: &Integration) -> Result<()> {
    match i.kind.as_str() {
        "MOCK" => {}
        "HTTP" | "HTTP_PROXY" | "AWS" | "AWS_PROXY" => {
            if i.http_method.as_deref().is_none_or(str::is_empty) {
                return Err(bad_request(
                    "Enumeration value for HttpMethod must be non-empty",
                ));
            }
            let Some(uri) = i.uri.as_deref().filter(|u| !u.is_empty()) else {
                return Err(bad_request("Invalid integration URI specified"));
            };
            if i.kind.starts_with("HTTP")
                && !(uri.starts_with("http://") || uri.starts_with("https://"))
            {
                return Err(bad_request("Invalid HTTP endpoint specified for URI"));
            }
            if i.kind.starts_with("AWS") && !uri.starts_with("arn:") {
                return Err(bad_request(
                    "AWS ARN for integration must contain path or action",
                ));
            }
            if i.kind == "AWS_PROXY" && !uri.contains(":lambda:path/") {
                return Err(bad_request(
                    "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                ));
            }
        }
        _ => {
            return Err(bad_request(
                "Invalid integration type specified. Valid options are HTTP,HTTP_PROXY,AWS,AWS_PROXY,MOCK",
            ));
        }
    }
    if let Some(p) = &i.passthrough_behavior
        && !matches!(p.as_str(), "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER")
    {
        return Err(bad_request(
            "Invalid passthrough behavior specified. Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER",
        ));
    }
    if !(50..=29_000).contains(&i.timeout_in_millis) {
        return Err(bad_request("Timeout should be between 50 ms and 29000 ms"));
    }
    Ok(())
}

pub(crate) async fn put_integration(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let hm = s(&input, "httpMethod")?.to_string();
    let i: PutIntegrationInput =
        serde_json::from_value(input).map_err(|e| bad_request(e.to_string()))?;
    gw.edit_api(ctx, &i.rest_api_id, |api| {
        let integration = Integration {
            kind: i.kind,
            http_method: i.integration_http_method,
            uri: i.uri,
            connection_type: i.connection_type,
            connection_id: i.connection_id,
            credentials: i.credentials,
            request_parameters: i.request_parameters,
            request_templates: i.request_templates,
            passthrough_behavior: Some(
                i.passthrough_behavior
                    .unwrap_or_else(|| "WHEN_NO_MATCH".into()),
            ),
            content_handling: i.content_handling,
            timeout_in_millis: i.timeout_in_millis.unwrap_or(29_000),
            cache_namespace: Some(i.cache_namespace.unwrap_or_else(|| i.resource_id.clone())),
            cache_key_parameters: i.cache_key_parameters,
            integration_responses: IndexMap::new(),
        };
        check_integration(&integration)?;
        let m = api
            .resources
            .get_mut(&i.resource_id)
            .ok_or_else(invalid_resource)?
            .resource_methods
            .get_mut(&hm)
            .ok_or_else(invalid_method)?;
        let out = output(&integration);
        m.method_integration = Some(integration);
        Ok(out)
    })
    .await
}

pub(crate) fn get_integration(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            method(api, input)?
                .method_integration
                .as_ref()
                .ok_or_else(invalid_integration)?,
        ))
    })
}

pub(crate) async fn update_integration(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let m = method_mut(api, input)?;
        let i = m
            .method_integration
            .as_mut()
            .ok_or_else(invalid_integration)?;
        let responses = std::mem::take(&mut i.integration_responses);
        let mut copy = i.clone();
        patch::apply(&mut copy, &ops, &[])?;
        copy.integration_responses = responses;
        check_integration(&copy)?;
        *i = copy;
        Ok(output(&*i))
    })
    .await
}

pub(crate) async fn delete_integration(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        method_mut(api, input)?
            .method_integration
            .take()
            .ok_or_else(invalid_integration)?;
        Ok(json!({}))
    })
    .await
}

pub(crate) async fn put_integration_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(&input, "restApiId")?, |api| {
        let status = s(&input, "statusCode")?.to_string();
        let ir = IntegrationResponse {
            status_code: status.clone(),
            selection_pattern: input
                .get("selectionPattern")
                .and_then(Value::as_str)
                .map(str::to_string),
            response_parameters: str_map(&input, "responseParameters"),
            response_templates: str_map(&input, "responseTemplates"),
            content_handling: input
                .get("contentHandling")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        if let Some(p) = &ir.selection_pattern
            && regex::Regex::new(p).is_err()
        {
            return Err(bad_request(format!(
                "Invalid selection pattern specified: {p}"
            )));
        }
        let i = method_mut(api, &input)?
            .method_integration
            .as_mut()
            .ok_or_else(invalid_integration)?;
        let out = output(&ir);
        i.integration_responses.insert(status, ir);
        Ok(out)
    })
    .await
}

pub(crate) fn get_integration_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let i = method(api, input)?
            .method_integration
            .as_ref()
            .ok_or_else(invalid_integration)?;
        Ok(output(
            i.integration_responses
                .get(s(input, "statusCode")?)
                .ok_or_else(invalid_status)?,
        ))
    })
}

pub(crate) async fn update_integration_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let status = s(input, "statusCode")?;
        let i = method_mut(api, input)?
            .method_integration
            .as_mut()
            .ok_or_else(invalid_integration)?;
        let ir = i
            .integration_responses
            .get_mut(status)
            .ok_or_else(invalid_status)?;
        patch::apply(ir, &ops, &[])?;
        ir.status_code = status.to_string();
        Ok(output(&*ir))
    })
    .await
}

pub(crate) async fn delete_integration_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        method_mut(api, input)?
            .method_integration
            .as_mut()
            .ok_or_else(invalid_integration)?
            .integration_responses
            .shift_remove(s(input, "statusCode")?)
            .ok_or_else(invalid_status)?;
        Ok(json!({}))
    })
    .await
}
