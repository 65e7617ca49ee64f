//! CORS on the wire: preflight (OPTIONS) answers and headers on actual cross-origin requests,
//! both from the bucket's CORS rules.

use aloft_core::AwsError;
use aloft_core::body::Response;

use super::Call;
use crate::S3;
use crate::domain::cors;
use crate::error::{S3Error, internal};
use crate::xml::Resp;

pub async fn preflight(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let origin = call.header("origin").map(str::to_string);
    let method = call
        .header("access-control-request-method")
        .map(str::to_string);
    let (Some(origin), Some(method)) = (origin, method) else {
        return Err(AwsError::new(
            "BadRequest",
            400,
            "Insufficient information. Origin request header needed.",
        ));
    };
    let requested = call
        .header("access-control-request-headers")
        .map(str::to_string);
    let headers: Vec<&str> = requested
        .as_deref()
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let Some(cfg) = &b.info.config.cors else {
        return Err(S3Error::CORSResponse
            .err()
            .with_field("Method", method)
            .with_field("ResourceType", "BUCKET"));
    };
    let Some(rule) = cors::find(cfg, &origin, &method, &headers) else {
        return Err(S3Error::CORSResponse
            .msg("This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
            .with_field("Method", method)
            .with_field("ResourceType", "OBJECT"));
    };
    let mut r = Resp::ok();
    for (k, v) in cors::headers(rule, &origin, requested.as_deref(), true) {
        r = r.header(k, v);
    }
    Ok(r.empty())
}

/// Adds the matching rule's headers to an actual cross-origin response.
pub fn decorate(s3: &S3, bucket: &str, origin: &str, method: &str, resp: &mut Response) {
    let Ok(cell) = s3.bucket(bucket) else { return };
    let Ok(b) = cell.read() else { return };
    let Some(cfg) = &b.info.config.cors else {
        return;
    };
    let Some(rule) = cors::find(cfg, origin, method, &[]) else {
        return;
    };
    for (k, v) in cors::headers(rule, origin, None, false) {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
}
