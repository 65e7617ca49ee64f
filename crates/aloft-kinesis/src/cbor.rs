//! Kinesis's CBOR wire format (`application/x-amz-cbor-1.1`), which the Java SDKs (and so
//! the KCL) send by default: the json 1.1 protocol with CBOR bodies, blobs as byte strings and
//! timestamps as tag 1 over epoch *milliseconds* (not seconds, unlike RPC v2 CBOR). Requests
//! are transcoded to JSON before the shared codec decodes them; answers are transcoded back,
//! walking the output shape so that blobs and timestamps get their CBOR forms.

use aloft_model::{Member, ServiceModel, ShapeType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use minicbor::data::{Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Value};

pub const CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

type Enc = Encoder<Vec<u8>>;

pub fn is_cbor(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-amz-cbor"))
}

/// Turns a CBOR request into the json 1.1 request the codec reads.
pub fn request_to_json(parts: &mut http::request::Parts, body: &[u8]) -> Result<Vec<u8>, String> {
    let value = if body.is_empty() {
        Value::Object(Map::new())
    } else {
        read(&mut Decoder::new(body), 0)?
    };
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    serde_json::to_vec(&value).map_err(|e| e.to_string())
}

fn read(d: &mut Decoder<'_>, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("CBOR nesting too deep".into());
    }
    let e = |e: minicbor::decode::Error| e.to_string();
    Ok(match d.datatype().map_err(e)? {
        Type::Bool => Value::Bool(d.bool().map_err(e)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(e)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64().map_err(e)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            let i = d.int().map_err(e)?;
            Value::from(i64::try_from(i).map_err(|x| x.to_string())?)
        }
        Type::F16 => Value::from(f64::from(d.f16().map_err(e)?)),
        Type::F32 => Value::from(f64::from(d.f32().map_err(e)?)),
        Type::F64 => Value::from(d.f64().map_err(e)?),
        Type::Bytes => Value::String(STANDARD.encode(d.bytes().map_err(e)?)),
        Type::BytesIndef => {
            let mut all = Vec::new();
            for chunk in d.bytes_iter().map_err(e)? {
                all.extend_from_slice(chunk.map_err(e)?);
            }
            Value::String(STANDARD.encode(all))
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
            while len.is_none_or(|n| (items.len() as u64) < n) {
                if len.is_none() && d.datatype().map_err(e)? == Type::Break {
                    d.skip().map_err(e)?;
                    break;
                }
                items.push(read(d, depth + 1)?);
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(e)?;
            let mut map = Map::new();
            let mut n = 0u64;
            while len.is_none_or(|l| n < l) {
                if len.is_none() && d.datatype().map_err(e)? == Type::Break {
                    d.skip().map_err(e)?;
                    break;
                }
                let key = match read(d, depth + 1)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                map.insert(key, read(d, depth + 1)?);
                n += 1;
            }
            Value::Object(map)
        }
        Type::Tag => {
            let tag = d.tag().map_err(e)?;
            let inner = read(d, depth + 1)?;
            // Tag 1 over epoch milliseconds: the JSON codec reads epoch seconds.
            match (tag == Tag::new(1), inner.as_f64()) {
                (true, Some(ms)) => Value::from(ms / 1000.0),
                _ => inner,
            }
        }
        other => return Err(format!("unexpected CBOR item {other}")),
    })
}

/// Re-encodes a json 1.1 answer (output or error) as CBOR, keeping status and headers.
pub fn response_to_cbor(
    model: &ServiceModel,
    output_shape: Option<&str>,
    resp: http::Response<Bytes>,
) -> http::Response<Bytes> {
    let (mut parts, body) = resp.into_parts();
    let value: Value = serde_json::from_slice(&body).unwrap_or_else(|_| Value::Object(Map::new()));
    let mut e = Encoder::new(Vec::new());
    match output_shape {
        Some(shape) if parts.status.is_success() => write_shape(&mut e, model, shape, &value),
        _ => write_any(&mut e, &value),
    }
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(CONTENT_TYPE),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    http::Response::from_parts(parts, Bytes::from(e.into_writer()))
}

fn write_member(e: &mut Enc, model: &ServiceModel, m: &Member, v: &Value) {
    write_shape(e, model, &m.shape, v);
}

fn write_shape(e: &mut Enc, model: &ServiceModel, shape: &str, v: &Value) {
    let Some(s) = model.shape(shape) else {
        write_any(e, v);
        return;
    };
    match (s.kind, v) {
        (ShapeType::Structure, Value::Object(map)) => {
            let present: Vec<(&String, &Member, &Value)> = s
                .members
                .iter()
                .filter_map(|(n, m)| Some((n, m, map.get(n).filter(|x| !x.is_null())?)))
                .collect();
            let _ = e.map(present.len() as u64);
            for (name, m, x) in present {
                let _ = e.str(name);
                write_member(e, model, m, x);
            }
        }
        (ShapeType::List, Value::Array(items)) => {
            let _ = e.array(items.len() as u64);
            for item in items {
                match s.member.as_deref() {
                    Some(m) => write_member(e, model, m, item),
                    None => write_any(e, item),
                }
            }
        }
        (ShapeType::Map, Value::Object(entries)) => {
            let _ = e.map(entries.len() as u64);
            for (k, x) in entries {
                let _ = e.str(k);
                match s.value.as_deref() {
                    Some(m) => write_member(e, model, m, x),
                    None => write_any(e, x),
                }
            }
        }
        (ShapeType::Blob, Value::String(b64)) => {
            let _ = e.bytes(&STANDARD.decode(b64).unwrap_or_default());
        }
        (ShapeType::Timestamp, Value::Number(n)) => {
            #[allow(clippy::cast_possible_truncation)]
            let ms = (n.as_f64().unwrap_or_default() * 1000.0).round() as i64;
            let _ = e.tag(Tag::new(1)).and_then(|e| e.i64(ms));
        }
        _ => write_any(e, v),
    }
}

fn write_any(e: &mut Enc, v: &Value) {
    match v {
        Value::Null => {
            let _ = e.null();
        }
        Value::Bool(b) => {
            let _ = e.bool(*b);
        }
        Value::Number(n) => {
            let _ = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => e.i64(i),
                (None, Some(u)) => e.u64(u),
                _ => e.f64(n.as_f64().unwrap_or_default()),
            };
        }
        Value::String(s) => {
            let _ = e.str(s);
        }
        Value::Array(items) => {
            let _ = e.array(items.len() as u64);
            for i in items {
                write_any(e, i);
            }
        }
        Value::Object(m) => {
            let _ = e.map(m.len() as u64);
            for (k, x) in m {
                let _ = e.str(k);
                write_any(e, x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_become_json_with_base64_blobs_and_second_timestamps() {
        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap();
        e.str("StreamName").unwrap().str("s").unwrap();
        e.str("Data").unwrap().bytes(b"hi").unwrap();
        e.str("Timestamp")
            .unwrap()
            .tag(Tag::new(1))
            .unwrap()
            .i64(1_500)
            .unwrap();
        let (mut parts, ()) = http::Request::builder()
            .header("content-type", CONTENT_TYPE)
            .body(())
            .unwrap()
            .into_parts();
        let json = request_to_json(&mut parts, &e.into_writer()).unwrap();
        let v: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["Data"], "aGk=");
        assert_eq!(v["Timestamp"], 1.5);
        assert_eq!(parts.headers["content-type"], JSON_CONTENT_TYPE);
    }

    #[test]
    fn answers_carry_bytes_and_millisecond_timestamps() {
        let model = aloft_model::get("kinesis").unwrap();
        let body = serde_json::json!({"Records": [{"SequenceNumber": "1", "Data": "aGk=",
            "PartitionKey": "p", "ApproximateArrivalTimestamp": 1.5}], "MillisBehindLatest": 0});
        let resp = http::Response::new(Bytes::from(body.to_string()));
        let out = response_to_cbor(model, Some("GetRecordsOutput"), resp);
        assert_eq!(out.headers()["content-type"], CONTENT_TYPE);
        let mut d = Decoder::new(out.body());
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "Records");
        d.array().unwrap();
        d.map().unwrap();
        assert_eq!(d.str().unwrap(), "SequenceNumber");
        d.str().unwrap();
        assert_eq!(d.str().unwrap(), "ApproximateArrivalTimestamp");
        assert_eq!(d.tag().unwrap(), Tag::new(1));
        assert_eq!(d.i64().unwrap(), 1500);
        assert_eq!(d.str().unwrap(), "Data");
        assert_eq!(d.bytes().unwrap(), b"hi");
    }
}
