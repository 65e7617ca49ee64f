//! HTTP bindings shared by rest-json and rest-xml: routing `method + URI` to an operation,
//! reading members from the URI, query string, headers, status and payload, and writing them
//! back out. The body document itself is the json or xml codec's business.

use aloft_model::{Location, Member, Operation, ServiceModel, Shape, ShapeType};
use base64::Engine;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};

use crate::query::form_pairs;
use crate::router::Router;
use crate::walk::{
    blob_bytes, blob_value, resolve, scalar_from_text, scalar_to_text, ts_format, wire_name,
};
use crate::{AwsError, Protocol, json, xml};

/// Where bound members are read from: a request, or (for clients and tests) a response.
pub(crate) struct Source<'a> {
    pub labels: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub status: u16,
    pub body: &'a [u8],
}

fn bad_input(protocol: Protocol, reason: &str) -> AwsError {
    match protocol {
        Protocol::RestXml => AwsError::new("InvalidArgument", 400, reason.to_string()),
        _ => json::serialization(reason.to_string()),
    }
}

/// Reads a structure's members from their HTTP locations and its body/payload.
pub(crate) fn bind(
    model: &ServiceModel,
    shape: &Shape,
    src: &Source<'_>,
    protocol: Protocol,
) -> Result<Value, AwsError> {
    let mut out = Map::new();
    let claimed: Vec<&str> = shape
        .members
        .iter()
        .filter(|(_, m)| m.location == Some(Location::Querystring))
        .filter_map(|(n, m)| m.location_name.as_deref().or(Some(n.as_str())))
        .collect();
    let mut has_body_members = false;
    for (name, m) in &shape.members {
        let ms = resolve(model, m)?;
        let wire = wire_name(name, m);
        // In a response, members bound to the URI or query string live in the body.
        let location = match m.location {
            Some(Location::Uri | Location::Querystring) if src.status != 0 => None,
            other => other,
        };
        let value = match location {
            Some(Location::Uri) => match src.labels.iter().find(|(k, _)| k == wire) {
                Some((_, v)) => Some(scalar_from_text(ms, v).map_err(|r| bad_input(protocol, &r))?),
                None => None,
            },
            Some(Location::Querystring) => {
                query_member(model, ms, m, wire, src.query, &claimed, protocol)?
            }
            Some(Location::Header) => match header_text(src.headers, wire) {
                Some(text) => {
                    Some(header_value(model, ms, m, &text).map_err(|r| bad_input(protocol, &r))?)
                }
                None => None,
            },
            Some(Location::Headers) => {
                let prefix = wire.to_ascii_lowercase();
                let map: Map<String, Value> = src
                    .headers
                    .iter()
                    .filter_map(|(k, v)| {
                        let rest = k.as_str().strip_prefix(prefix.as_str())?;
                        Some((
                            rest.to_string(),
                            Value::String(v.to_str().ok()?.to_string()),
                        ))
                    })
                    .collect();
                Some(Value::Object(map))
            }
            Some(Location::StatusCode) => (src.status != 0).then(|| Value::from(src.status)),
            Some(Location::Body) | None => {
                has_body_members |= shape.payload.is_none();
                None
            }
        };
        let _ = location;
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    if let Some(payload) = &shape.payload {
        if !src.body.is_empty()
            && let Some(m) = shape.member_named(payload)
            && let Some(v) = payload_value(model, m, src.body, protocol)?
        {
            out.insert(payload.clone(), v);
        }
    } else if has_body_members && !src.body.iter().all(u8::is_ascii_whitespace) {
        let body = body_document(model, shape, src.body, protocol, src.status != 0)?;
        for (name, m) in &shape.members {
            if is_body(m, src.status != 0)
                && let Some(v) = body.get(name)
            {
                out.insert(name.clone(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// Whether a member travels in the body (responses also carry URI/query-bound members there).
fn is_body(m: &Member, response: bool) -> bool {
    match m.location {
        None | Some(Location::Body) => true,
        Some(Location::Uri | Location::Querystring) => response,
        _ => false,
    }
}

fn body_document(
    model: &ServiceModel,
    shape: &Shape,
    body: &[u8],
    protocol: Protocol,
    response: bool,
) -> Result<Map<String, Value>, AwsError> {
    if protocol == Protocol::RestXml {
        let root = xml::parse(body).map_err(|_| malformed_xml())?;
        return match xml::structure_from_xml(model, shape, &root)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        };
    }
    let doc = json::parse_body(body)?;
    let Value::Object(mut wire) = doc else {
        return Err(json::serialization(
            "Start of structure or map found where not expected.",
        ));
    };
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if is_body(m, response)
            && let Some(v) = wire.remove(wire_name(name, m))
            && let Some(v) = json::from_wire(model, m, v)?
        {
            out.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// S3's answer to XML it cannot read.
pub(crate) fn malformed_xml() -> AwsError {
    AwsError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn payload_value(
    model: &ServiceModel,
    member: &Member,
    body: &[u8],
    protocol: Protocol,
) -> Result<Option<Value>, AwsError> {
    let shape = resolve(model, member)?;
    match shape.kind {
        ShapeType::Blob => Ok(Some(blob_value(body))),
        ShapeType::String => {
            Ok((!body.is_empty())
                .then(|| Value::String(String::from_utf8_lossy(body).into_owned())))
        }
        _ if body.iter().all(u8::is_ascii_whitespace) => Ok(None),
        ShapeType::Structure if !shape.document && protocol == Protocol::RestXml => {
            let root = xml::parse(body).map_err(|_| malformed_xml())?;
            Ok(Some(xml::structure_from_xml(model, shape, &root)?))
        }
        _ if protocol == Protocol::RestXml => {
            let root = xml::parse(body).map_err(|_| malformed_xml())?;
            Ok(Some(xml::from_xml(model, member, &root)?))
        }
        _ => {
            let doc: Value = serde_json::from_slice(body).map_err(|_| json::serialization(""))?;
            // Clients send `{}` for an absent structure payload.
            if doc.as_object().is_some_and(Map::is_empty) && shape.kind == ShapeType::Structure {
                return Ok(None);
            }
            json::from_wire(model, member, doc)
        }
    }
}

fn query_member(
    model: &ServiceModel,
    shape: &Shape,
    member: &Member,
    wire: &str,
    query: &[(String, String)],
    claimed: &[&str],
    protocol: Protocol,
) -> Result<Option<Value>, AwsError> {
    let _ = member;
    match shape.kind {
        // A map bound to the query string takes every parameter no other member claims.
        ShapeType::Map => {
            let value_shape = shape.value.as_deref().and_then(|v| model.shape(&v.shape));
            let list = value_shape.is_some_and(|s| s.kind == ShapeType::List);
            let mut map = Map::new();
            for (k, v) in query.iter().filter(|(k, _)| !claimed.contains(&k.as_str())) {
                if list {
                    let entry = map
                        .entry(k.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        items.push(Value::String(v.clone()));
                    }
                } else if !map.contains_key(k) {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
            }
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        ShapeType::List => {
            let element = shape.member.as_deref().cloned().unwrap_or_default();
            let element_shape = resolve(model, &element)?;
            let items = query
                .iter()
                .filter(|(k, _)| k == wire)
                .map(|(_, v)| {
                    scalar_from_text(element_shape, v).map_err(|r| bad_input(protocol, &r))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        _ => match query.iter().find(|(k, _)| k == wire) {
            Some((_, v)) => Ok(Some(
                scalar_from_text(shape, v).map_err(|r| bad_input(protocol, &r))?,
            )),
            None => Ok(None),
        },
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Splits a list header: commas separate items, double quotes protect commas.
fn split_header_list(text: &str, timestamps: bool) -> Vec<String> {
    if timestamps {
        // HTTP dates contain a comma of their own: `Mon, 16 Dec 2019 23:48:18 GMT, Tue, ...`.
        return text
            .split("GMT")
            .map(|s| s.trim_start_matches(',').trim())
            .filter(|s| !s.is_empty())
            .map(|s| format!("{s} GMT"))
            .collect();
    }
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_string()),
            c => current.push(c),
        }
    }
    items.push(current.trim().to_string());
    items
}

fn header_value(
    model: &ServiceModel,
    shape: &Shape,
    member: &Member,
    text: &str,
) -> Result<Value, String> {
    // A `jsonvalue` header carries base64 of JSON text; handlers get the text.
    if member.jsonvalue {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| e.to_string())?;
        return Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    }
    match shape.kind {
        ShapeType::List if text.trim().is_empty() => Ok(Value::Array(Vec::new())),
        ShapeType::List => {
            let element = shape.member.as_deref().cloned().unwrap_or_default();
            let element_shape = model.shape(&element.shape).ok_or("unknown shape")?;
            split_header_list(text, element_shape.kind == ShapeType::Timestamp)
                .iter()
                .map(|s| scalar_from_text(element_shape, s))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        _ => scalar_from_text(shape, text.trim_matches(|c: char| c == ' ' || c == '\t')),
    }
}

/// The text of a header-bound member.
fn header_out(
    model: &ServiceModel,
    shape: &Shape,
    member: &Member,
    value: &Value,
) -> Option<String> {
    if member.jsonvalue {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Some(base64::engine::general_purpose::STANDARD.encode(text));
    }
    match (shape.kind, value) {
        (ShapeType::List, Value::Array(items)) => {
            let element = shape.member.as_deref()?;
            let element_shape = model.shape(&element.shape)?;
            let texts: Vec<String> = items
                .iter()
                .filter_map(|v| {
                    let t = scalar_to_text(
                        element_shape,
                        v,
                        ts_format(element, element_shape, "rfc822"),
                    )?;
                    let quote = element_shape.kind == ShapeType::String
                        && (t.contains(',') || t.contains('"'));
                    Some(if quote {
                        format!("\"{}\"", t.replace('"', "\\\""))
                    } else {
                        t
                    })
                })
                .collect();
            Some(texts.join(", "))
        }
        _ => scalar_to_text(shape, value, ts_format(member, shape, "rfc822")),
    }
}

/// Writes a structure's header/status members and returns (status, headers, body members?).
pub(crate) fn encode(
    model: &ServiceModel,
    op: &Operation,
    shape: &Shape,
    value: &Value,
    protocol: Protocol,
    root: &str,
    namespace: Option<&str>,
) -> http::Response<Bytes> {
    let empty = Map::new();
    let map = value.as_object().unwrap_or(&empty);
    let mut status = op.http.response_code.unwrap_or(200);
    let mut headers = HeaderMap::new();
    let mut body_members = false;
    for (name, m) in &shape.members {
        let Some(ms) = model.shape(&m.shape) else {
            continue;
        };
        let v = map.get(name).filter(|v| !v.is_null());
        match m.location {
            Some(Location::Header) => {
                if let Some(text) = v.and_then(|v| header_out(model, ms, m, v)) {
                    insert_header(&mut headers, wire_name(name, m), &text);
                }
            }
            Some(Location::Headers) => {
                if let Some(Value::Object(entries)) = v {
                    for (k, x) in entries {
                        if let Some(t) = x.as_str() {
                            insert_header(&mut headers, &format!("{}{k}", wire_name(name, m)), t);
                        }
                    }
                }
            }
            Some(Location::StatusCode) => {
                if let Some(n) = v
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                {
                    status = n;
                }
            }
            Some(Location::Body | Location::Uri | Location::Querystring) | None => {
                body_members |= shape.payload.is_none()
            }
        }
    }
    let (body, content_type) = if let Some(payload) = &shape.payload {
        match (
            shape.member_named(payload),
            map.get(payload).filter(|v| !v.is_null()),
        ) {
            (Some(m), Some(v)) => payload_out(model, payload, m, v, protocol, namespace),
            _ => (Vec::new(), None),
        }
    } else if body_members {
        match protocol {
            Protocol::RestXml => {
                let has_any = shape
                    .members
                    .iter()
                    .any(|(n, m)| is_body(m, true) && map.get(n).is_some_and(|v| !v.is_null()));
                if has_any {
                    let member = Member {
                        shape: op
                            .output
                            .as_ref()
                            .map(|o| o.shape.clone())
                            .unwrap_or_default(),
                        ..Member::default()
                    };
                    (
                        xml::to_xml(model, root, &member, value, namespace).into_bytes(),
                        Some("application/xml"),
                    )
                } else {
                    (Vec::new(), None)
                }
            }
            _ => {
                let body: Map<String, Value> = shape
                    .members
                    .iter()
                    .filter(|(_, m)| is_body(m, true))
                    .filter_map(|(n, _)| Some((n.clone(), map.get(n)?.clone())))
                    .collect();
                let doc = json::structure_to_wire(model, shape, &body);
                (
                    serde_json::to_vec(&Value::Object(doc)).unwrap_or_default(),
                    Some("application/json"),
                )
            }
        }
    } else {
        (Vec::new(), None)
    };
    let mut resp = http::Response::new(Bytes::from(body));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    if let Some(ct) = content_type
        && !headers.contains_key(http::header::CONTENT_TYPE)
    {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(ct),
        );
    }
    resp.headers_mut().extend(headers);
    resp
}

fn insert_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        http::HeaderValue::from_str(value),
    ) {
        headers.insert(n, v);
    }
}

fn payload_out(
    model: &ServiceModel,
    name: &str,
    member: &Member,
    value: &Value,
    protocol: Protocol,
    namespace: Option<&str>,
) -> (Vec<u8>, Option<&'static str>) {
    let Some(shape) = model.shape(&member.shape) else {
        return (Vec::new(), None);
    };
    match shape.kind {
        ShapeType::Blob => (blob_bytes(value), Some("application/octet-stream")),
        ShapeType::String => (
            value.as_str().unwrap_or_default().as_bytes().to_vec(),
            Some("text/plain"),
        ),
        _ if protocol == Protocol::RestXml => {
            let root = member
                .location_name
                .as_deref()
                .or(shape.location_name.as_deref())
                .unwrap_or(name);
            (
                xml::to_xml(model, root, member, value, namespace).into_bytes(),
                Some("application/xml"),
            )
        }
        _ => {
            let doc = json::to_wire(model, member, value).unwrap_or(Value::Object(Map::new()));
            (
                serde_json::to_vec(&doc).unwrap_or_default(),
                Some("application/json"),
            )
        }
    }
}

/// Decodes a rest request: route, then bind.
pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &http::request::Parts,
    body: &[u8],
    protocol: Protocol,
) -> Result<(&'static str, Value), AwsError> {
    let router = Router::for_model(model);
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let Some((name, labels)) = router.find(parts.method.as_str(), path, query, &parts.headers)
    else {
        return Err(no_route(protocol, parts.method.as_str(), path));
    };
    let op = model
        .operation(name)
        .ok_or_else(|| AwsError::internal("routed to an unknown operation"))?;
    let Some(shape) = model.input_shape(op) else {
        return Ok((name, Value::Object(Map::new())));
    };
    let pairs = form_pairs(query);
    let src = Source {
        labels: &labels,
        query: &pairs,
        headers: &parts.headers,
        status: 0,
        body,
    };
    Ok((name, bind(model, shape, &src, protocol)?))
}

fn no_route(protocol: Protocol, method: &str, path: &str) -> AwsError {
    match protocol {
        Protocol::RestXml => AwsError::new(
            "MethodNotAllowed",
            405,
            "The specified method is not allowed against this resource.",
        ),
        _ => AwsError::new(
            "UnknownOperationException",
            404,
            format!("No operation matches {method} {path}"),
        ),
    }
}

/// Reads a rest response as a client would (tests).
pub(crate) fn read_output(
    model: &ServiceModel,
    op: &Operation,
    protocol: Protocol,
    resp: &http::Response<Bytes>,
) -> Result<Value, AwsError> {
    let Some(shape) = model.output_shape(op) else {
        return Ok(Value::Object(Map::new()));
    };
    let src = Source {
        labels: &[],
        query: &[],
        headers: resp.headers(),
        status: resp.status().as_u16(),
        body: resp.body(),
    };
    bind(model, shape, &src, protocol)
}

#[cfg(test)]
mod tests {
    use crate::{AwsError, Protocol, decode, encode_error, encode_output};
    use serde_json::{Value, json};

    fn call(
        service: &str,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<crate::Decoded, crate::Rejection> {
        let model = aloft_model::get(service).unwrap();
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        decode(model, &parts, body.as_bytes())
    }

    #[test]
    fn routes_s3_by_method_path_and_query() {
        let op = |m, u| {
            call("s3", m, u, &[], "")
                .map(|d| d.operation)
                .unwrap_or("rejected")
        };
        assert_eq!(op("GET", "/"), "ListBuckets");
        assert_eq!(op("GET", "/b?list-type=2&prefix=a"), "ListObjectsV2");
        assert_eq!(op("GET", "/b"), "ListObjects");
        assert_eq!(op("GET", "/b/"), "ListObjects");
        assert_eq!(op("PUT", "/b"), "CreateBucket");
        assert_eq!(op("HEAD", "/b"), "HeadBucket");
        assert_eq!(op("GET", "/b/k/x.txt"), "GetObject");
        assert_eq!(op("POST", "/b/k?uploads"), "CreateMultipartUpload");
        assert_eq!(op("PUT", "/b/k?partNumber=1&uploadId=u"), "UploadPart");
        assert_eq!(op("GET", "/b?tagging"), "GetBucketTagging");
        let d = call(
            "s3",
            "PUT",
            "/b/dir/a%20b%2Bc",
            &[("x-amz-meta-color", "red"), ("content-type", "text/plain")],
            "hi",
        )
        .unwrap();
        assert_eq!(d.protocol, Protocol::RestXml);
        assert_eq!(
            d.input,
            json!({"Bucket": "b", "ContentType": "text/plain", "Key": "dir/a b+c", "Metadata": {"color": "red"}, "Body": "aGk="})
        );
    }

    #[test]
    fn s3_xml_payloads_and_errors() {
        let body = r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"#;
        let d = call("s3", "PUT", "/b?tagging", &[], body).unwrap();
        assert_eq!(
            d.input["Tagging"],
            json!({"TagSet": [{"Key": "k", "Value": "v"}]})
        );
        let e = call("s3", "PUT", "/b?tagging", &[], "<Tagging><TagSet>").unwrap_err();
        assert_eq!(e.error.code, "MalformedXML");
        let s3 = aloft_model::get("s3").unwrap();
        let err = AwsError::new("NoSuchKey", 404, "The specified key does not exist.")
            .with_field("Key", "k");
        let resp = encode_error(s3, Protocol::RestXml, &err, "rid");
        let text = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(text.contains("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>k</Key><RequestId>rid</RequestId>"), "{text}");
        assert_eq!(resp.headers()["x-amz-request-id"], "rid");
        let out = json!({"Name": "b", "KeyCount": 1, "Contents": [{"Key": "k", "LastModified": 1_700_000_000, "Size": 3}], "IsTruncated": false});
        let resp = encode_output(s3, "ListObjectsV2", Protocol::RestXml, &out, "rid");
        let text = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(text.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><Contents><Key>k</Key><LastModified>2023-11-14T22:13:20Z</LastModified>"#), "{text}");
        let resp = encode_output(
            s3,
            "PutObject",
            Protocol::RestXml,
            &json!({"ETag": "\"abc\""}),
            "rid",
        );
        assert_eq!(resp.headers()["etag"], "\"abc\"");
        assert!(resp.body().is_empty());
    }

    #[test]
    fn lambda_invoke_and_errors() {
        let d = call(
            "lambda",
            "POST",
            "/2015-03-31/functions/my-fn/invocations?Qualifier=live",
            &[("x-amz-invocation-type", "Event")],
            r#"{"a":1}"#,
        )
        .unwrap();
        assert_eq!(d.operation, "Invoke");
        assert_eq!(
            d.input,
            json!({"FunctionName": "my-fn", "InvocationType": "Event", "Payload": "eyJhIjoxfQ==", "Qualifier": "live"})
        );
        let lambda = aloft_model::get("lambda").unwrap();
        let resp = encode_output(
            lambda,
            "Invoke",
            Protocol::RestJson,
            &json!({"StatusCode": 202, "Payload": ""}),
            "r",
        );
        assert_eq!(resp.status(), 202);
        let err = AwsError::new(
            "ResourceNotFoundException",
            404,
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:x",
        );
        let resp = encode_error(lambda, Protocol::RestJson, &err, "r");
        assert_eq!(
            resp.headers()["x-amzn-errortype"],
            "ResourceNotFoundException"
        );
        let body: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(
            body,
            json!({"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:x"})
        );
        let d = call("lambda", "POST", "/2015-03-31/functions", &[], r#"{"FunctionName":"f","Role":"arn:aws:iam::000000000000:role/r","Code":{"ZipFile":"UEs="}}"#).unwrap();
        assert_eq!(d.operation, "CreateFunction");
        let e = call("lambda", "GET", "/2015-03-31/nothing-here", &[], "").unwrap_err();
        assert_eq!(e.error.status, 404);
    }

    #[test]
    fn apigateway_routes_and_validation() {
        let d = call(
            "apigateway",
            "GET",
            "/restapis/abc123/resources?limit=5",
            &[],
            "",
        )
        .unwrap();
        assert_eq!(
            (d.operation, d.input),
            ("GetResources", json!({"restApiId": "abc123", "limit": 5}))
        );
        let d = call(
            "apigateway",
            "PUT",
            "/restapis/a/resources/r/methods/GET",
            &[],
            r#"{"authorizationType":"NONE"}"#,
        )
        .unwrap();
        assert_eq!(d.operation, "PutMethod");
        assert_eq!(d.input["httpMethod"], "GET");
        let d = call("scheduler", "GET", "/schedules/s1?groupName=g", &[], "").unwrap();
        assert_eq!(
            (d.operation, d.input),
            ("GetSchedule", json!({"Name": "s1", "GroupName": "g"}))
        );
    }
}
