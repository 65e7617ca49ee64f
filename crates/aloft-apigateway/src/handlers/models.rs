//! Models (JSON schemas), request validators, authorizers and gateway responses of an API.

use aloft_core::RequestContext;
use serde_json::{Value, json};

use super::{flag, items, new_id, opt, s, str_map};
use crate::ApiGateway;
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::invoke::responses::{RESPONSE_TYPES, default_response};
use crate::model::{Authorizer, GatewayResponse, Model, RequestValidator, output};
use crate::patch;

fn invalid_model(name: &str) -> aloft_core::AwsError {
    not_found(format!("Invalid model name specified: {name}"))
}

fn check_schema(schema: Option<&str>) -> Result<()> {
    if let Some(s) = schema
        && serde_json::from_str::<Value>(s).is_err()
    {
        return Err(bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
        ));
    }
    Ok(())
}

pub(crate) async fn create_model(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "name")?.to_string();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad_request("Model name must be alphanumeric"));
    }
    let m = Model {
        id: new_id(6),
        name: name.clone(),
        description: opt(input, "description"),
        schema: opt(input, "schema"),
        content_type: s(input, "contentType")?.to_string(),
    };
    check_schema(m.schema.as_deref())?;
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        if api.models.contains_key(&name) {
            return Err(err(
                Code::ConflictException,
                "Model name already exists for this REST API",
            ));
        }
        let out = output(&m);
        api.models.insert(name, m);
        Ok(out)
    })
    .await
}

pub(crate) fn get_model(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = s(input, "modelName")?;
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            api.models.get(name).ok_or_else(|| invalid_model(name))?,
        ))
    })
}

pub(crate) fn get_models(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(items(api.models.values().map(output).collect()))
    })
}

pub(crate) async fn update_model(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "modelName")?.to_string();
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let m = api
            .models
            .get_mut(&name)
            .ok_or_else(|| invalid_model(&name))?;
        let mut copy = m.clone();
        patch::apply(&mut copy, &ops, &[])?;
        check_schema(copy.schema.as_deref())?;
        copy.name = name.clone();
        copy.id = m.id.clone();
        *m = copy;
        Ok(output(&*m))
    })
    .await
}

pub(crate) async fn delete_model(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "modelName")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let in_use = api
            .resources
            .values()
            .flat_map(|r| r.resource_methods.values())
            .any(|m| m.request_models.values().any(|n| n == &name));
        if !api.models.contains_key(&name) {
            return Err(invalid_model(&name));
        }
        if in_use {
            return Err(err(
                Code::ConflictException,
                format!("Cannot delete model '{name}', is referenced in method request"),
            ));
        }
        api.models.shift_remove(&name);
        Ok(json!({}))
    })
    .await
}

fn invalid_validator() -> aloft_core::AwsError {
    not_found("Invalid Request Validator identifier specified")
}

pub(crate) async fn create_request_validator(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let v = RequestValidator {
        id: new_id(6),
        name: opt(input, "name"),
        validate_request_body: flag(input, "validateRequestBody").unwrap_or(false),
        validate_request_parameters: flag(input, "validateRequestParameters").unwrap_or(false),
    };
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let out = output(&v);
        api.validators.insert(v.id.clone(), v);
        Ok(out)
    })
    .await
}

pub(crate) fn get_request_validator(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            api.validators
                .get(s(input, "requestValidatorId")?)
                .ok_or_else(invalid_validator)?,
        ))
    })
}

pub(crate) fn get_request_validators(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(items(api.validators.values().map(output).collect()))
    })
}

pub(crate) async fn update_request_validator(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "requestValidatorId")?.to_string();
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let v = api.validators.get_mut(&id).ok_or_else(invalid_validator)?;
        patch::apply(v, &ops, &[])?;
        v.id = id.clone();
        Ok(output(&*v))
    })
    .await
}

pub(crate) async fn delete_request_validator(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "requestValidatorId")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        api.validators
            .shift_remove(&id)
            .ok_or_else(invalid_validator)?;
        Ok(json!({}))
    })
    .await
}

fn invalid_authorizer() -> aloft_core::AwsError {
    not_found("Invalid Authorizer identifier specified")
}

pub(crate) async fn create_authorizer(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let mut a: Authorizer =
        serde_json::from_value(input.clone()).map_err(|e| bad_request(e.to_string()))?;
    a.id = new_id(6);
    match a.kind.as_str() {
        "TOKEN" | "REQUEST" => {
            if a.authorizer_uri.is_none() {
                return Err(bad_request(
                    "Authorizer URI is required for TOKEN and REQUEST authorizers",
                ));
            }
            if a.kind == "TOKEN" && a.identity_source.is_none() {
                return Err(bad_request(
                    "Identity Source is required for TOKEN authorizers",
                ));
            }
        }
        "COGNITO_USER_POOLS" => {
            if a.provider_arns.is_empty() {
                return Err(bad_request(
                    "ProviderARNs need to be specified for COGNITO_USER_POOLS authorizers",
                ));
            }
        }
        _ => {
            return Err(bad_request(
                "Invalid authorizer type specified. Valid options are TOKEN,REQUEST,COGNITO_USER_POOLS",
            ));
        }
    }
    if a.authorizer_result_ttl_in_seconds.is_none() {
        a.authorizer_result_ttl_in_seconds = Some(300);
    }
    gw.edit_api(ctx, s(&input, "restApiId")?, |api| {
        let out = output(&a);
        api.authorizers.insert(a.id.clone(), a);
        Ok(out)
    })
    .await
}

pub(crate) fn get_authorizer(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            api.authorizers
                .get(s(input, "authorizerId")?)
                .ok_or_else(invalid_authorizer)?,
        ))
    })
}

pub(crate) fn get_authorizers(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(items(api.authorizers.values().map(output).collect()))
    })
}

pub(crate) async fn update_authorizer(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "authorizerId")?.to_string();
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let a = api
            .authorizers
            .get_mut(&id)
            .ok_or_else(invalid_authorizer)?;
        patch::apply(a, &ops, &[])?;
        a.id = id.clone();
        Ok(output(&*a))
    })
    .await
}

pub(crate) async fn delete_authorizer(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "authorizerId")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        api.authorizers
            .shift_remove(&id)
            .ok_or_else(invalid_authorizer)?;
        Ok(json!({}))
    })
    .await
}

fn check_type(t: &str) -> Result<()> {
    if RESPONSE_TYPES.iter().any(|(n, _)| *n == t) {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid response type specified: {t}")))
    }
}

pub(crate) async fn put_gateway_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let t = s(input, "responseType")?.to_string();
    check_type(&t)?;
    let r = GatewayResponse {
        response_type: t.clone(),
        status_code: opt(input, "statusCode"),
        response_parameters: str_map(input, "responseParameters"),
        response_templates: str_map(input, "responseTemplates"),
        default_response: false,
    };
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let out = output(&r);
        api.gateway_responses.insert(t, r);
        Ok(out)
    })
    .await
}

pub(crate) fn get_gateway_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let t = s(input, "responseType")?;
    check_type(t)?;
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            &api.gateway_responses
                .get(t)
                .cloned()
                .unwrap_or_else(|| default_response(t)),
        ))
    })
}

pub(crate) fn get_gateway_responses(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(items(
            RESPONSE_TYPES
                .iter()
                .map(|(t, _)| {
                    output(
                        &api.gateway_responses
                            .get(*t)
                            .cloned()
                            .unwrap_or_else(|| default_response(t)),
                    )
                })
                .collect(),
        ))
    })
}

pub(crate) async fn delete_gateway_response(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let t = s(input, "responseType")?.to_string();
    check_type(&t)?;
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        api.gateway_responses
            .shift_remove(&t)
            .ok_or_else(|| not_found("Invalid Gateway Response type specified"))?;
        Ok(json!({}))
    })
    .await
}
