//! `/_aloft/` endpoints: health, reset, clock, and per-service inspection.
//!
//! - `GET  /_aloft/health`: version, storage mode, each service and its state.
//! - `POST /_aloft/reset[?service=NAME]`: forget all state (of one service), reset the clock.
//! - `GET  /_aloft/clock`, `POST /_aloft/clock {"advance_seconds": N}`: read or move the one clock.
//! - `/_aloft/{service}/{path}`: handed to that service's [`crate::Service::internal`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::body::{self, Response};
use crate::clock;
use crate::context::AwsRequest;
use crate::gateway::Gateway;

pub(crate) async fn handle(gw: &Arc<Gateway>, mut req: AwsRequest) -> Response {
    let path = req
        .path()
        .trim_start_matches("/_aloft")
        .trim_start_matches('/')
        .to_string();
    let (head, rest) = path.split_once('/').unwrap_or((path.as_str(), ""));
    match (req.parts.method.clone(), head) {
        (Method::GET, "health") => health(gw),
        (Method::POST, "reset") => {
            let only = query_param(req.query(), "service");
            for s in gw.registry().services() {
                if only.as_deref().is_none_or(|n| n == s.spec().name) {
                    s.reset().await;
                }
            }
            if only.is_none() {
                clock::reset();
            }
            json_response(
                StatusCode::OK,
                &json!({ "reset": only.unwrap_or_else(|| "all".into()) }),
            )
        }
        (Method::GET, "clock") => clock_state(),
        (Method::POST, "clock") => {
            let body = match req
                .bytes(64 * 1024, || {
                    crate::AwsError::validation("clock body too large")
                })
                .await
            {
                Ok(b) => b,
                Err(e) => return json_response(e.status, &json!({ "error": e.message })),
            };
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let secs = v.get("advance_seconds").and_then(Value::as_f64);
            match secs {
                Some(s) if s >= 0.0 && s.is_finite() => {
                    clock::advance(Duration::from_secs_f64(s));
                    clock_state()
                }
                _ => json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "error": "send {\"advance_seconds\": N} with N >= 0; the clock never goes back" }),
                ),
            }
        }
        (_, name) => match gw.registry().by_name(name).cloned() {
            Some(service) => match service.internal(req, rest).await {
                Some(resp) => resp,
                None => not_found(&path),
            },
            None => not_found(&path),
        },
    }
}

fn health(gw: &Gateway) -> Response {
    let services: serde_json::Map<String, Value> = gw
        .registry()
        .services()
        .iter()
        .map(|s| (s.spec().name.to_string(), s.status()))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "version": env!("CARGO_PKG_VERSION"),
            "edition": "aloft",
            "storage": if gw.config().data_dir.is_some() { "durable" } else { "ephemeral" },
            "services": services,
        }),
    )
}

fn clock_state() -> Response {
    let now = clock::now_millis();
    json_response(
        StatusCode::OK,
        &json!({ "now": clock::iso8601_millis(now), "now_ms": now, "offset_ms": clock::offset_millis() }),
    )
}

fn not_found(path: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": format!("no internal endpoint /_aloft/{path}") }),
    )
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut resp = http::Response::new(body::full(Bytes::from(v.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}
