//! The two CBOR protocols. Smithy RPC v2 CBOR (CloudWatch's current SDKs):
//! `POST /service/<Svc>/operation/<Op>` with `smithy-protocol: rpc-v2-cbor`, CBOR bodies keyed
//! by member names, timestamps as tag 1 over epoch seconds, blobs as byte strings; errors as
//! CBOR maps with `__type`. And json 1.1 with CBOR bodies (`application/x-amz-cbor-1.1`, the
//! Java SDKs' and so the KCL's default for Kinesis): `X-Amz-Target` as in json, the same
//! bodies, but tag-1 timestamps over epoch *milliseconds*.

use aloft_model::{Member, Operation, ServiceModel, ShapeType};
use bytes::Bytes;
use http::request::Parts;
use minicbor::data::{Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Value};

use crate::walk::{blob_bytes, blob_value, timestamp_secs, wire_name};
use crate::{AwsError, json, response};

const CONTENT_TYPE: &str = "application/cbor";
const JSON_CBOR_CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

/// The unit under tag-1 timestamps: the one difference between the two protocols' bodies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Seconds,
    Millis,
}

pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    let path = parts.uri.path();
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some("service"), Some(service), Some("operation"), Some(name), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(json::unknown_operation());
    };
    // The service segment is the Smithy service shape name (CloudWatch: its target prefix).
    let op = model
        .operations
        .get(name)
        .filter(|_| {
            model
                .metadata
                .target_prefix
                .as_deref()
                .is_none_or(|p| p == service)
        })
        .ok_or_else(json::unknown_operation)?;
    let input = if body.is_empty() {
        Value::Object(Map::new())
    } else {
        let mut d = Decoder::new(body);
        read_value(&mut d, 0, Stamp::Seconds)
            .map_err(|_| json::serialization("Unable to parse the CBOR request body"))?
    };
    Ok((op.name.as_str(), json::input_from_wire(model, op, input)?))
}

/// A json 1.1 request with a CBOR body: the operation from `X-Amz-Target`, as in json.
pub(crate) fn decode_json_cbor(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    let op = json::operation(model, parts)?;
    let input = if body.is_empty() {
        Value::Object(Map::new())
    } else {
        read_value(&mut Decoder::new(body), 0, Stamp::Millis)
            .map_err(|_| json::serialization("Unable to parse the CBOR request body"))?
    };
    Ok((op.name.as_str(), json::input_from_wire(model, op, input)?))
}

/// Any CBOR item → the json wire form (bytes as base64, tag-1 timestamps as epoch numbers).
fn read_value(d: &mut Decoder<'_>, depth: usize, stamp: Stamp) -> Result<Value, String> {
    if depth > 64 {
        return Err("nesting too deep".into());
    }
    let e = |e: minicbor::decode::Error| e.to_string();
    Ok(match d.datatype().map_err(e)? {
        Type::Bool => Value::Bool(d.bool().map_err(e)?),
        Type::Null => {
            d.null().map_err(e)?;
            Value::Null
        }
        Type::Undefined => {
            d.undefined().map_err(e)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64().map_err(e)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            let i = d.int().map_err(e)?;
            i64::try_from(i)
                .map(Value::from)
                .map_err(|x| x.to_string())?
        }
        Type::F16 => float(f64::from(d.f16().map_err(e)?)),
        Type::F32 => float(f64::from(d.f32().map_err(e)?)),
        Type::F64 => float(d.f64().map_err(e)?),
        Type::Bytes => blob_value(d.bytes().map_err(e)?),
        Type::BytesIndef => {
            let mut all = Vec::new();
            for chunk in d.bytes_iter().map_err(e)? {
                all.extend_from_slice(chunk.map_err(e)?);
            }
            blob_value(&all)
        }
        Type::String => Value::String(d.str().map_err(e)?.to_string()),
        Type::StringIndef => {
            let mut all = String::new();
            for chunk in d.str_iter().map_err(e)? {
                all.push_str(chunk.map_err(e)?);
            }
            Value::String(all)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().map_err(e)?;
            let mut items = Vec::new();
            loop {
                if len.is_some_and(|n| items.len() as u64 >= n) {
                    break;
                }
                if len.is_none() && d.datatype().map_err(e)? == Type::Break {
                    d.skip().map_err(e)?;
                    break;
                }
                items.push(read_value(d, depth + 1, stamp)?);
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(e)?;
            let mut map = Map::new();
            let mut n = 0u64;
            loop {
                if len.is_some_and(|l| n >= l) {
                    break;
                }
                if len.is_none() && d.datatype().map_err(e)? == Type::Break {
                    d.skip().map_err(e)?;
                    break;
                }
                let key = match read_value(d, depth + 1, stamp)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                let value = read_value(d, depth + 1, stamp)?;
                map.insert(key, value);
                n += 1;
            }
            Value::Object(map)
        }
        // Tag 1 (epoch timestamp) and any other tag: the tagged value is what counts, in
        // seconds as the json form carries timestamps.
        Type::Tag => {
            let tag = d.tag().map_err(e)?;
            let inner = read_value(d, depth + 1, stamp)?;
            match (tag == Tag::new(1) && stamp == Stamp::Millis, inner.as_f64()) {
                (true, Some(ms)) => float(ms / 1000.0),
                _ => inner,
            }
        }
        other => return Err(format!("unexpected CBOR item {other}")),
    })
}

fn float(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

type Enc = Encoder<Vec<u8>>;

/// Writes an internal value of `member`'s shape; absent/unknown shapes write nothing useful.
fn write(e: &mut Enc, model: &ServiceModel, member: &Member, value: &Value, stamp: Stamp) {
    let Some(shape) = model.shape(&member.shape) else {
        let _ = e.null();
        return;
    };
    let _ = match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(map)) if !shape.document => {
            write_structure(e, model, shape, map, stamp);
            return;
        }
        (ShapeType::List, Value::Array(items)) => {
            let element = shape.member.as_deref().cloned().unwrap_or_default();
            let _ = e.array(items.len() as u64);
            for item in items {
                write(e, model, &element, item, stamp);
            }
            return;
        }
        (ShapeType::Map, Value::Object(entries)) => {
            let value_ref = shape.value.as_deref().cloned().unwrap_or_default();
            let _ = e.map(entries.len() as u64);
            for (k, v) in entries {
                let _ = e.str(k);
                write(e, model, &value_ref, v, stamp);
            }
            return;
        }
        (ShapeType::Blob, v) => e.bytes(&blob_bytes(v)),
        (ShapeType::Timestamp, v) => {
            let secs = timestamp_secs(v).unwrap_or(0.0);
            let e = e.tag(Tag::new(1));
            match stamp {
                Stamp::Seconds => e.and_then(|e| e.f64(secs)),
                #[allow(clippy::cast_possible_truncation)]
                Stamp::Millis => e.and_then(|e| e.i64((secs * 1000.0).round() as i64)),
            }
        }
        (ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal, v) => e.f64(number(v)),
        (_, Value::Number(n)) if n.is_i64() => e.i64(n.as_i64().unwrap_or(0)),
        (_, Value::Number(n)) if n.is_u64() => e.u64(n.as_u64().unwrap_or(0)),
        (_, Value::Number(n)) => e.f64(n.as_f64().unwrap_or(0.0)),
        (_, Value::String(s)) => e.str(s),
        (_, Value::Bool(b)) => e.bool(*b),
        (_, other) => {
            write_any(e, other);
            return;
        }
    };
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(0.0),
        },
        _ => 0.0,
    }
}

fn write_structure(
    e: &mut Enc,
    model: &ServiceModel,
    shape: &aloft_model::Shape,
    map: &Map<String, Value>,
    stamp: Stamp,
) {
    let present: Vec<(&String, &Member, &Value)> = shape
        .members
        .iter()
        .filter_map(|(n, m)| Some((n, m, map.get(n).filter(|v| !v.is_null())?)))
        .collect();
    let _ = e.map(present.len() as u64);
    for (name, m, v) in present {
        let _ = e.str(wire_name(name, m));
        write(e, model, m, v, stamp);
    }
}

/// Untyped values (error fields, documents).
fn write_any(e: &mut Enc, v: &Value) {
    let _ = match v {
        Value::Null => e.null(),
        Value::Bool(b) => e.bool(*b),
        Value::Number(n) if n.is_i64() => e.i64(n.as_i64().unwrap_or(0)),
        Value::Number(n) => e.f64(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => e.str(s),
        Value::Array(items) => {
            let _ = e.array(items.len() as u64);
            for i in items {
                write_any(e, i);
            }
            return;
        }
        Value::Object(m) => {
            let _ = e.map(m.len() as u64);
            for (k, x) in m {
                let _ = e.str(k);
                write_any(e, x);
            }
            return;
        }
    };
}

fn cbor_response(status: http::StatusCode, body: Vec<u8>) -> http::Response<Bytes> {
    let mut resp = response(status, CONTENT_TYPE, body);
    resp.headers_mut().insert(
        "smithy-protocol",
        http::HeaderValue::from_static("rpc-v2-cbor"),
    );
    resp
}

fn output_body(model: &ServiceModel, op: &Operation, output: &Value, stamp: Stamp) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    match (model.output_shape(op), output) {
        (Some(shape), Value::Object(map)) => write_structure(&mut e, model, shape, map, stamp),
        _ => {
            let _ = e.map(0);
        }
    }
    e.into_writer()
}

pub(crate) fn encode_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
) -> http::Response<Bytes> {
    cbor_response(
        http::StatusCode::OK,
        output_body(model, op, output, Stamp::Seconds),
    )
}

pub(crate) fn encode_json_cbor_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
) -> http::Response<Bytes> {
    let body = output_body(model, op, output, Stamp::Millis);
    response(http::StatusCode::OK, JSON_CBOR_CONTENT_TYPE, body)
}

/// The json error body (`__type`, message, fields), as CBOR.
pub(crate) fn encode_json_cbor_error(
    model: &ServiceModel,
    error: &AwsError,
) -> http::Response<Bytes> {
    let mut e = Encoder::new(Vec::new());
    write_any(&mut e, &Value::Object(json::error_body(model, error, true)));
    response(error.status, JSON_CBOR_CONTENT_TYPE, e.into_writer())
}

pub(crate) fn encode_error(model: &ServiceModel, error: &AwsError) -> http::Response<Bytes> {
    let body = json::error_body(model, error, false);
    let mut e = Encoder::new(Vec::new());
    write_any(&mut e, &Value::Object(body));
    let mut resp = cbor_response(error.status, e.into_writer());
    if let Some(h) = json::query_error_header(model, error)
        && let Ok(v) = http::HeaderValue::from_str(&h)
    {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
    resp
}

fn parse(body: &[u8], stamp: Stamp) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    read_value(&mut Decoder::new(body), 0, stamp).map_err(AwsError::internal)
}

/// Reads an answer of either CBOR protocol back (`millis`: json 1.1 with CBOR bodies).
pub(crate) fn read_output(
    model: &ServiceModel,
    op: &Operation,
    resp: &http::Response<Bytes>,
    millis: bool,
) -> Result<Value, AwsError> {
    let stamp = if millis {
        Stamp::Millis
    } else {
        Stamp::Seconds
    };
    let value = parse(resp.body(), stamp)?;
    match &op.output {
        Some(m) => {
            Ok(json::from_wire(model, m, value)?.unwrap_or_else(|| Value::Object(Map::new())))
        }
        None => Ok(Value::Object(Map::new())),
    }
}

pub(crate) fn read_error(resp: &http::Response<Bytes>) -> Result<(String, String), AwsError> {
    let value = parse(resp.body(), Stamp::Seconds)?;
    let code = value
        .get("__type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let code = code.rsplit('#').next().unwrap_or(code).to_string();
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    Ok((code, message))
}

#[cfg(test)]
mod tests {
    use crate::{AwsError, Protocol, decode, encode_error, encode_output};
    use minicbor::Encoder;
    use serde_json::json;

    fn cloudwatch(path: &str, body: &[u8]) -> Result<crate::Decoded, crate::Rejection> {
        let model = aloft_model::get("monitoring").unwrap();
        let (parts, ()) = http::Request::post(path)
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor")
            .body(())
            .unwrap()
            .into_parts();
        decode(model, &parts, body)
    }

    #[test]
    fn cloudwatch_put_metric_data() {
        let mut e = Encoder::new(Vec::new());
        e.map(2)
            .unwrap()
            .str("Namespace")
            .unwrap()
            .str("App")
            .unwrap();
        e.str("MetricData")
            .unwrap()
            .array(1)
            .unwrap()
            .map(3)
            .unwrap();
        e.str("MetricName").unwrap().str("Latency").unwrap();
        e.str("Value").unwrap().f64(1.5).unwrap();
        e.str("Timestamp")
            .unwrap()
            .tag(minicbor::data::Tag::new(1))
            .unwrap()
            .u64(1_700_000_000)
            .unwrap();
        let d = cloudwatch(
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            &e.into_writer(),
        )
        .unwrap();
        assert_eq!(d.protocol, Protocol::RpcV2Cbor);
        assert_eq!(d.operation, "PutMetricData");
        assert_eq!(
            d.input,
            json!({"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Timestamp": 1_700_000_000, "Value": 1.5}]})
        );
        let e = cloudwatch("/service/Other/operation/PutMetricData", b"").unwrap_err();
        assert_eq!(e.error.code, "UnknownOperationException");
    }

    #[test]
    fn cloudwatch_answers_query_too_and_renders_cbor() {
        let model = aloft_model::get("monitoring").unwrap();
        let (parts, ()) = http::Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(())
            .unwrap()
            .into_parts();
        let d = decode(
            model,
            &parts,
            b"Action=ListMetrics&Version=2010-08-01&Namespace=App",
        )
        .unwrap();
        assert_eq!((d.protocol, d.operation), (Protocol::Query, "ListMetrics"));
        let out = json!({"Metrics": [{"Namespace": "App", "MetricName": "Latency"}]});
        let resp = encode_output(model, "ListMetrics", Protocol::RpcV2Cbor, &out, "rid");
        assert_eq!(resp.headers()["smithy-protocol"], "rpc-v2-cbor");
        let op = model.operation("ListMetrics").unwrap();
        let back = crate::testing::read_output(model, op, Protocol::RpcV2Cbor, &resp).unwrap();
        assert_eq!(back, out);
        let err = AwsError::new("ResourceNotFound", 404, "nope");
        let resp = encode_error(model, Protocol::RpcV2Cbor, &err, "rid");
        let (code, message) =
            crate::testing::read_error(model, Protocol::RpcV2Cbor, &resp).unwrap();
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ResourceNotFound", "nope")
        );
    }

    fn kinesis(body: &[u8]) -> Result<crate::Decoded, crate::Rejection> {
        let model = aloft_model::get("kinesis").unwrap();
        let (parts, ()) = http::Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.PutRecord")
            .header("content-type", "application/x-amz-cbor-1.1")
            .body(())
            .unwrap()
            .into_parts();
        decode(model, &parts, body)
    }

    #[test]
    fn json_cbor_requests_read_millisecond_timestamps_and_byte_blobs() {
        let mut e = Encoder::new(Vec::new());
        e.map(4).unwrap();
        e.str("StreamName").unwrap().str("s").unwrap();
        e.str("PartitionKey").unwrap().str("p").unwrap();
        e.str("Data").unwrap().bytes(b"hi").unwrap();
        // Not a PutRecord member: a tag-1 value anywhere is read as milliseconds.
        e.str("Extra")
            .unwrap()
            .tag(minicbor::data::Tag::new(1))
            .unwrap()
            .i64(1_500)
            .unwrap();
        let raw = e.into_writer();
        let d = kinesis(&raw).unwrap();
        assert_eq!(d.protocol, Protocol::JsonCbor);
        assert_eq!(d.operation, "PutRecord");
        assert_eq!(d.input["Data"], "aGk=");
        let mut dec = minicbor::Decoder::new(&raw);
        assert_eq!(
            super::read_value(&mut dec, 0, super::Stamp::Millis).unwrap()["Extra"],
            1.5
        );
        let bad = kinesis(b"\xff\x00").unwrap_err();
        assert_eq!(bad.error.code, "SerializationException");
    }

    #[test]
    fn json_cbor_answers_carry_bytes_millisecond_timestamps_and_json_errors() {
        let model = aloft_model::get("kinesis").unwrap();
        let out = json!({"Records": [{"SequenceNumber": "1", "Data": "aGk=",
            "PartitionKey": "p", "ApproximateArrivalTimestamp": 1.5}], "MillisBehindLatest": 0});
        let resp = encode_output(model, "GetRecords", Protocol::JsonCbor, &out, "rid");
        assert_eq!(resp.headers()["content-type"], "application/x-amz-cbor-1.1");
        let mut d = minicbor::Decoder::new(resp.body());
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "Records");
        d.array().unwrap();
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "SequenceNumber");
        d.str().unwrap();
        assert_eq!(d.str().unwrap(), "ApproximateArrivalTimestamp");
        assert_eq!(d.tag().unwrap(), minicbor::data::Tag::new(1));
        assert_eq!(d.i64().unwrap(), 1500);
        assert_eq!(d.str().unwrap(), "Data");
        assert_eq!(d.bytes().unwrap(), b"hi");
        let op = model.operation("GetRecords").unwrap();
        let back = crate::testing::read_output(model, op, Protocol::JsonCbor, &resp).unwrap();
        assert_eq!(back["Records"][0]["ApproximateArrivalTimestamp"], 1.5);

        let err = AwsError::new("ResourceNotFoundException", 400, "Stream s not found.");
        let resp = encode_error(model, Protocol::JsonCbor, &err, "rid");
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()["content-type"], "application/x-amz-cbor-1.1");
        let mut d = minicbor::Decoder::new(resp.body());
        let v = super::read_value(&mut d, 0, super::Stamp::Millis).unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(v["message"], "Stream s not found.");
    }
}
