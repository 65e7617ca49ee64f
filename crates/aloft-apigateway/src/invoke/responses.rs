//! Gateway responses: the errors API Gateway itself answers, customizable per API.

use aloft_vtl::{Context, Value as V};
use bytes::Bytes;
use indexmap::IndexMap;

use crate::model::{GatewayResponse, Snapshot};

/// Every response type with its default status (`None` for the DEFAULT_* families).
pub const RESPONSE_TYPES: &[(&str, Option<u16>)] = &[
    ("ACCESS_DENIED", Some(403)),
    ("API_CONFIGURATION_ERROR", Some(500)),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some(500)),
    ("AUTHORIZER_FAILURE", Some(500)),
    ("BAD_REQUEST_PARAMETERS", Some(400)),
    ("BAD_REQUEST_BODY", Some(400)),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some(403)),
    ("INTEGRATION_FAILURE", Some(504)),
    ("INTEGRATION_TIMEOUT", Some(504)),
    ("INVALID_API_KEY", Some(403)),
    ("INVALID_SIGNATURE", Some(403)),
    ("MISSING_AUTHENTICATION_TOKEN", Some(403)),
    ("QUOTA_EXCEEDED", Some(429)),
    ("REQUEST_TOO_LARGE", Some(413)),
    ("RESOURCE_NOT_FOUND", Some(404)),
    ("THROTTLED", Some(429)),
    ("UNAUTHORIZED", Some(401)),
    ("UNSUPPORTED_MEDIA_TYPE", Some(415)),
    ("WAF_FILTERED", Some(403)),
];

const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

pub fn default_response(t: &str) -> GatewayResponse {
    let status = RESPONSE_TYPES
        .iter()
        .find(|(n, _)| *n == t)
        .and_then(|(_, s)| *s);
    let mut templates = IndexMap::new();
    templates.insert("application/json".to_string(), DEFAULT_TEMPLATE.to_string());
    GatewayResponse {
        response_type: t.to_string(),
        status_code: status.map(|s| s.to_string()),
        response_parameters: IndexMap::new(),
        response_templates: templates,
        default_response: true,
    }
}

/// A failure the gateway answers itself.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub kind: &'static str,
    pub status: u16,
    pub message: String,
}

impl GatewayError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        let status = RESPONSE_TYPES
            .iter()
            .find(|(n, _)| *n == kind)
            .and_then(|(_, s)| *s)
            .unwrap_or(500);
        GatewayError {
            kind,
            status,
            message: message.into(),
        }
    }

    pub fn forbidden() -> Self {
        Self::new(
            "MISSING_AUTHENTICATION_TOKEN",
            "Missing Authentication Token",
        )
    }
}

/// Renders `err` with the API's customization of its type (or of DEFAULT_4XX/5XX).
pub fn render(
    err: &GatewayError,
    api: Option<&Snapshot>,
    context: &serde_json::Value,
    request_id: &str,
) -> http::Response<Bytes> {
    let family = if err.status >= 500 {
        "DEFAULT_5XX"
    } else {
        "DEFAULT_4XX"
    };
    let custom = api.and_then(|a| {
        a.gateway_responses
            .get(err.kind)
            .or_else(|| a.gateway_responses.get(family))
    });
    let status = custom
        .and_then(|c| c.status_code.as_deref())
        .filter(|_| custom.is_some_and(|c| c.response_type == err.kind))
        .and_then(|s| s.parse().ok())
        .unwrap_or(err.status);
    let template = custom
        .and_then(|c| {
            c.response_templates
                .get("application/json")
                .or_else(|| c.response_templates.values().next())
        })
        .map_or(DEFAULT_TEMPLATE, String::as_str);
    let mut ctx = Context::new();
    let context = V::from_json(context);
    if let V::Map(m) = &context {
        let mut error = IndexMap::new();
        error.insert("message".to_string(), V::from(err.message.as_str()));
        // Authorizer failures carry no message: AWS renders `{"message": null}`.
        let message_string = if err.message.is_empty() {
            "null".to_string()
        } else {
            serde_json::Value::String(err.message.clone()).to_string()
        };
        error.insert("messageString".to_string(), V::from(message_string));
        error.insert("responseType".to_string(), V::from(err.kind));
        m.borrow_mut().insert("error".into(), V::map(error));
    }
    ctx.insert("context", context);
    let body = aloft_vtl::render(template, &ctx).unwrap_or_else(|_| {
        format!(
            "{{\"message\":{}}}",
            serde_json::Value::String(err.message.clone())
        )
    });
    let mut resp = http::Response::new(Bytes::from(body));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::FORBIDDEN);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        "x-amzn-errortype",
        http::HeaderValue::from_str(error_type(err.kind))
            .unwrap_or(http::HeaderValue::from_static("Exception")),
    );
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(c) = custom {
        for (k, v) in &c.response_parameters {
            if let (Some(name), Some(val)) = (
                k.strip_prefix("gatewayresponse.header."),
                v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')),
            ) && let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(val),
            ) {
                h.insert(n, v);
            }
        }
    }
    resp
}

/// The `x-amzn-ErrorType` AWS sends with each gateway response.
fn error_type(kind: &str) -> &'static str {
    match kind {
        "MISSING_AUTHENTICATION_TOKEN" | "INVALID_API_KEY" => "ForbiddenException",
        "ACCESS_DENIED" => "AccessDeniedException",
        "AUTHORIZER_CONFIGURATION_ERROR" => "AuthorizerConfigurationException",
        "THROTTLED" | "QUOTA_EXCEEDED" => "TooManyRequestsException",
        "BAD_REQUEST_BODY" | "BAD_REQUEST_PARAMETERS" => "BadRequestException",
        "UNAUTHORIZED" => "UnauthorizedException",
        "RESOURCE_NOT_FOUND" => "NotFoundException",
        "REQUEST_TOO_LARGE" => "RequestTooLargeException",
        "UNSUPPORTED_MEDIA_TYPE" => "UnsupportedMediaTypeException",
        _ => "InternalServerErrorException",
    }
}
