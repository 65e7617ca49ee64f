//! Function URLs: `http://<id>.lambda-url.<region>.localhost:4566/` invokes the function with
//! the payload format 2.0 event and turns its result into the HTTP response, as AWS does.

use aloft_core::{AwsRequest, Response, body};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Lambda;
use crate::invoke::{MAX_SYNC_PAYLOAD, Mode};

fn plain(status: u16, msg: &str) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body::full(json!({"Message": msg}).to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

fn is_text(content_type: &str) -> bool {
    content_type.is_empty()
        || content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || content_type.contains("x-www-form-urlencoded")
        || content_type.contains("javascript")
}

/// The payload format 2.0 event AWS builds for a function URL request.
pub fn event(req: &AwsRequest, url_id: &str, body_bytes: &[u8]) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (k, v) in &req.parts.headers {
        let v = v.to_str().unwrap_or_default();
        if k == http::header::COOKIE {
            cookies.extend(v.split("; ").map(|c| json!(c)));
            continue;
        }
        let name = k.as_str().to_string();
        match headers.get_mut(&name) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(v);
            }
            _ => {
                headers.insert(name, json!(v));
            }
        }
    }
    let raw_query = req.query().to_string();
    let mut qs = Map::new();
    for kv in raw_query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let dec = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        let (k, v) = (dec(k), dec(v));
        match qs.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(&v);
            }
            _ => {
                qs.insert(k, json!(v));
            }
        }
    }
    let ct = req.header("content-type").unwrap_or_default();
    let text = is_text(ct) && std::str::from_utf8(body_bytes).is_ok();
    let now = aloft_core::clock::now_millis();
    let mut ev = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": req.header("host").unwrap_or_default(),
            "domainPrefix": url_id,
            "http": {
                "method": req.parts.method.as_str(),
                "path": req.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": req.header("user-agent").unwrap_or_default(),
            },
            "requestId": req.ctx.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": aloft_core::clock::http_date(now),
            "timeEpoch": now,
        },
        "isBase64Encoded": !text,
    });
    if !cookies.is_empty() {
        ev["cookies"] = Value::Array(cookies);
    }
    if !qs.is_empty() {
        ev["queryStringParameters"] = Value::Object(qs);
    }
    if !body_bytes.is_empty() {
        ev["body"] = if text {
            json!(String::from_utf8_lossy(body_bytes))
        } else {
            json!(base64::engine::general_purpose::STANDARD.encode(body_bytes))
        };
    }
    ev
}

/// Turns a function's result into the URL's HTTP response (the 2.0 response format).
pub fn response(payload: &[u8]) -> Response {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let structured = v.as_object().is_some_and(|m| m.contains_key("statusCode"));
    if !structured {
        // Anything else is the body itself, sent as JSON with 200.
        return http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body::full(Bytes::copy_from_slice(payload)))
            .unwrap_or_else(|_| http::Response::new(body::empty()));
    }
    let status = v["statusCode"].as_u64().unwrap_or(200) as u16;
    let mut r = http::Response::builder().status(status);
    let mut has_ct = false;
    if let Some(h) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in h {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            let s = val.as_str().map_or_else(|| val.to_string(), str::to_string);
            r = r.header(k.as_str(), s);
        }
    }
    if let Some(c) = v.get("cookies").and_then(Value::as_array) {
        for c in c.iter().filter_map(Value::as_str) {
            r = r.header("set-cookie", c);
        }
    }
    if !has_ct {
        r = r.header("content-type", "application/json");
    }
    let body_bytes = match v.get("body") {
        Some(Value::String(s)) if v.get("isBase64Encoded") == Some(&json!(true)) => {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    r.body(body::full(body_bytes))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

pub async fn serve(svc: &Lambda, mut req: AwsRequest) -> Response {
    let id = req
        .ctx
        .host_prefix
        .clone()
        .unwrap_or_default()
        .split('.')
        .next_back()
        .unwrap_or_default()
        .to_string();
    let Some((account, region, name, q, auth)) = svc.find_url(&id) else {
        return plain(403, "Forbidden");
    };
    if auth == "AWS_IAM" && req.ctx.signature.is_none() {
        return plain(403, "Forbidden");
    }
    let Ok(b) = crate::routes::read_body(&mut req, MAX_SYNC_PAYLOAD, || {
        crate::error::err(
            crate::error::Code::RequestTooLarge,
            "Request Entity Too Large",
        )
    })
    .await
    else {
        return plain(413, "Request Entity Too Large");
    };
    let ev = event(&req, &id, &b);
    match svc
        .invoke(
            &account,
            &region,
            &name,
            q.as_deref(),
            Mode::RequestResponse,
            false,
            Bytes::from(ev.to_string()),
            None,
        )
        .await
    {
        Ok(out) if out.function_error.is_none() => response(&out.payload),
        Ok(_) => plain(502, "Internal Server Error"),
        Err(e) if e.status.as_u16() == 429 => plain(429, "Rate Exceeded."),
        Err(_) => plain(502, "Internal Server Error"),
    }
}
