//! The awsJson 1.0/1.1 protocol: `X-Amz-Target: Prefix.Operation`, JSON bodies; plus the
//! JSON value walkers rest-json and rpcv2-cbor reuse.

use aloft_model::{Member, Operation, ServiceModel, Shape, ShapeType};
use bytes::Bytes;
use http::request::Parts;
use serde_json::{Map, Value};

use crate::walk::{resolve, ts_format, wire_name};
use crate::{AwsError, Protocol, response, timestamp};

pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    let op = operation(model, parts)?;
    let input = parse_body(body)?;
    Ok((op.name.as_str(), input_from_wire(model, op, input)?))
}

/// The operation `X-Amz-Target` names, if the service has it under its target prefix.
pub(crate) fn operation(
    model: &'static ServiceModel,
    parts: &Parts,
) -> Result<&'static Operation, AwsError> {
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (prefix, name) = target.rsplit_once('.').unwrap_or(("", target));
    model
        .operations
        .get(name)
        .filter(|_| {
            model
                .metadata
                .target_prefix
                .as_deref()
                .is_none_or(|p| p == prefix)
        })
        .ok_or_else(unknown_operation)
}

/// `UnknownOperationException`, which Coral sends without a message.
pub(crate) fn unknown_operation() -> AwsError {
    AwsError::new("UnknownOperationException", 400, "")
}

/// Parses a JSON request body; an empty body is an empty structure, as AWS treats it.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    // Coral answers malformed JSON with a bare SerializationException.
    serde_json::from_slice(body).map_err(|_| serialization(""))
}

pub(crate) fn serialization(message: impl Into<String>) -> AwsError {
    AwsError::new("SerializationException", 400, message)
}

/// Checks and converts a decoded body to the internal form of the operation's input.
pub(crate) fn input_from_wire(
    model: &ServiceModel,
    op: &Operation,
    input: Value,
) -> Result<Value, AwsError> {
    match &op.input {
        Some(m) => {
            if !input.is_object() {
                return Err(serialization(format!(
                    "{} can not be converted to a structure",
                    json_type(&input)
                )));
            }
            Ok(from_wire(model, m, input)?.unwrap_or_else(|| Value::Object(Map::new())))
        }
        None => Ok(Value::Object(Map::new())),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn mismatch(found: &Value, expected: &str) -> AwsError {
    serialization(format!(
        "{} can not be converted to {expected}",
        json_type(found)
    ))
}

/// Converts a JSON wire value to the internal form: wire names → member names, timestamps →
/// epoch seconds; type mismatches are `SerializationException`s. `null` means absent.
pub(crate) fn from_wire(
    model: &ServiceModel,
    member: &Member,
    value: Value,
) -> Result<Option<Value>, AwsError> {
    if value.is_null() {
        return Ok(None);
    }
    let shape = resolve(model, member)?;
    if shape.document {
        return Ok(Some(value));
    }
    let out = match shape.kind {
        ShapeType::Structure => {
            let Value::Object(wire) = value else {
                return Err(mismatch(&value, "a structure"));
            };
            structure_from_wire(model, shape, wire)?
        }
        ShapeType::List => {
            let Value::Array(mut items) = value else {
                return Err(mismatch(&value, "a list"));
            };
            let missing;
            let element = match shape.member.as_deref() {
                Some(m) => m,
                None => {
                    missing = Member::default();
                    &missing
                }
            };
            // Converted in place: a list of a thousand items is not copied.
            for item in &mut items {
                // Null list elements are kept (as AWS's sparse lists do) only if present.
                *item = from_wire(model, element, std::mem::take(item))?.unwrap_or(Value::Null);
            }
            Value::Array(items)
        }
        ShapeType::Map => {
            let Value::Object(mut entries) = value else {
                return Err(mismatch(&value, "a map"));
            };
            let missing;
            let value_ref = match shape.value.as_deref() {
                Some(m) => m,
                None => {
                    missing = Member::default();
                    &missing
                }
            };
            // Converted in place (keys are not rehashed); null values are dropped after.
            let mut dropped = Vec::new();
            for (k, v) in &mut entries {
                match from_wire(model, value_ref, std::mem::take(v))? {
                    Some(x) => *v = x,
                    None => dropped.push(k.clone()),
                }
            }
            for k in dropped {
                entries.shift_remove(&k);
            }
            Value::Object(entries)
        }
        ShapeType::String => match value {
            Value::String(_) => value,
            _ => return Err(mismatch(&value, "a String")),
        },
        ShapeType::Blob => match value {
            Value::String(_) => value,
            _ => return Err(mismatch(&value, "a Blob")),
        },
        ShapeType::Boolean => match value {
            Value::Bool(_) => value,
            _ => return Err(mismatch(&value, "a Boolean")),
        },
        ShapeType::Integer | ShapeType::Short | ShapeType::Byte => integer(value, "an Integer")?,
        ShapeType::Long | ShapeType::Biginteger => integer(value, "a Long")?,
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => match value {
            Value::Number(_) => value,
            Value::String(ref s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => value,
            _ => return Err(mismatch(&value, "a Double")),
        },
        ShapeType::Timestamp => match &value {
            Value::Number(n) => timestamp::epoch_value(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => timestamp::parse_timestamp(s)
                .map(timestamp::epoch_value)
                .ok_or_else(|| mismatch(&value, "a Timestamp"))?,
            _ => return Err(mismatch(&value, "a Timestamp")),
        },
        ShapeType::Other => value,
    };
    Ok(Some(out))
}

/// Wire structure → internal form, members in model order. The wire object is taken apart
/// into a vector and each member found by a scan: structures are small (an AttributeValue has
/// ten members and one on the wire), and scanning a few keys costs less than hashing each
/// member name into the map. Scanning stops once every wire member is placed.
fn structure_from_wire(
    model: &ServiceModel,
    shape: &Shape,
    wire: Map<String, Value>,
) -> Result<Value, AwsError> {
    let mut out = Map::with_capacity(wire.len().min(shape.members.len()));
    if wire.len() > 16 {
        let mut wire = wire;
        for (name, m) in &shape.members {
            if let Some(v) = wire.remove(wire_name(name, m))
                && let Some(v) = from_wire(model, m, v)?
            {
                out.insert(name.clone(), v);
            }
        }
        return Ok(Value::Object(out));
    }
    let mut entries: Vec<(String, Value)> = wire.into_iter().collect();
    for (name, m) in &shape.members {
        if entries.is_empty() {
            break;
        }
        let wanted = wire_name(name, m);
        let Some(i) = entries.iter().position(|(k, _)| k == wanted) else {
            continue;
        };
        let (key, v) = entries.swap_remove(i);
        if let Some(v) = from_wire(model, m, v)? {
            // The wire key is the member's name unless the model renames it.
            let key = if key == *name { key } else { name.clone() };
            out.insert(key, v);
        }
    }
    Ok(Value::Object(out))
}

fn integer(value: Value, expected: &str) -> Result<Value, AwsError> {
    match &value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value),
        // Coral truncates a fractional number sent for an integer member.
        #[allow(clippy::cast_possible_truncation)]
        Value::Number(n) => Ok(Value::from(n.as_f64().unwrap_or(0.0) as i64)),
        _ => Err(mismatch(&value, expected)),
    }
}

/// Converts an internal value to the JSON wire form for `member` (rest-json bodies, json).
pub(crate) fn to_wire(model: &ServiceModel, member: &Member, value: &Value) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    let shape = model.shape(&member.shape)?;
    if shape.document {
        return Some(value.clone());
    }
    Some(match shape.kind {
        ShapeType::Structure => {
            let Value::Object(map) = value else {
                return None;
            };
            Value::Object(structure_to_wire(model, shape, map))
        }
        ShapeType::List => {
            let Value::Array(items) = value else {
                return None;
            };
            let element = shape.member.as_deref()?;
            Value::Array(
                items
                    .iter()
                    .map(|v| to_wire(model, element, v).unwrap_or(Value::Null))
                    .collect(),
            )
        }
        ShapeType::Map => {
            let Value::Object(entries) = value else {
                return None;
            };
            let value_ref = shape.value.as_deref()?;
            Value::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), to_wire(model, value_ref, v)?)))
                    .collect(),
            )
        }
        ShapeType::Timestamp => {
            let secs = crate::walk::timestamp_secs(value)?;
            match ts_format(member, shape, "unixTimestamp") {
                "unixTimestamp" => timestamp::epoch_value(secs),
                other => Value::String(timestamp::format_as(secs, other)),
            }
        }
        ShapeType::Float | ShapeType::Double => match value {
            Value::Number(n) => Value::Number(n.clone()),
            other => other.clone(),
        },
        _ => value.clone(),
    })
}

pub(crate) fn structure_to_wire(
    model: &ServiceModel,
    shape: &Shape,
    map: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if let Some(v) = map.get(name)
            && let Some(w) = to_wire(model, m, v)
        {
            out.insert(wire_name(name, m).to_string(), w);
        }
    }
    out
}

fn content_type(protocol: Protocol) -> &'static str {
    if protocol == Protocol::Json11 {
        "application/x-amz-json-1.1"
    } else {
        "application/x-amz-json-1.0"
    }
}

pub(crate) fn encode_output(
    model: &ServiceModel,
    op: &Operation,
    protocol: Protocol,
    output: &Value,
) -> http::Response<Bytes> {
    let body = match (&op.output, output) {
        (Some(m), Value::Object(map)) => model
            .shape(&m.shape)
            .map(|s| structure_to_wire(model, s, map))
            .unwrap_or_default(),
        _ => Map::new(),
    };
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_else(|_| b"{}".to_vec());
    response(http::StatusCode::OK, content_type(protocol), bytes)
}

/// Namespaces some json services put before `#` in `__type` (clients strip them).
fn type_namespace(model: &ServiceModel, code: &str) -> Option<&'static str> {
    let service = match model.metadata.target_prefix.as_deref() {
        Some("DynamoDB_20120810") => "com.amazonaws.dynamodb.v20120810#",
        Some("AmazonSQS") => "com.amazonaws.sqs#",
        _ => return None,
    };
    if model.error_shape(code).is_some() {
        return Some(service);
    }
    Some(match code {
        "ValidationException" => "com.amazon.coral.validate#",
        _ => "com.amazon.coral.service#",
    })
}

/// The body every JSON-ish protocol sends for an error: `__type`, `message`, extra fields.
pub(crate) fn error_body(
    model: &ServiceModel,
    error: &AwsError,
    typed: bool,
) -> Map<String, Value> {
    let mut body = Map::new();
    let code = model
        .error_shape(error.code)
        .map_or(error.code, |(name, _)| name);
    let kind = match type_namespace(model, code).filter(|_| typed) {
        Some(ns) => format!("{ns}{code}"),
        None => code.to_string(),
    };
    body.insert("__type".into(), Value::String(kind));
    // The message goes under the error shape's own member name (`message` or `Message`).
    let key = model
        .error_shape(error.code)
        .and_then(|(_, s)| {
            s.members
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("message"))
        })
        .map_or("message", |(n, _)| n.as_str());
    if !error.message.is_empty() {
        body.insert(key.into(), Value::String(error.message.clone()));
    }
    for (k, v) in &error.fields {
        body.insert(k.clone(), v.clone());
    }
    body
}

/// `x-amzn-query-error: <query code>;Sender` for awsQueryCompatible services (SQS,
/// CloudWatch): SDKs read the old query error code from it.
pub(crate) fn query_error_header(model: &ServiceModel, error: &AwsError) -> Option<String> {
    if !model.metadata.query_compatible() {
        return None;
    }
    let code = crate::query::wire_code(model, error);
    let fault = if error.sender_fault {
        "Sender"
    } else {
        "Receiver"
    };
    Some(format!("{code};{fault}"))
}

pub(crate) fn encode_error(
    model: &ServiceModel,
    protocol: Protocol,
    error: &AwsError,
) -> http::Response<Bytes> {
    let body = error_body(model, error, true);
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut resp = response(error.status, content_type(protocol), bytes);
    if let Some(h) = query_error_header(model, error)
        && let Ok(v) = http::HeaderValue::from_str(&h)
    {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use crate::{AwsError, Protocol, decode, encode_error};
    use serde_json::{Value, json};

    fn call(service: &str, target: &str, body: &str) -> Result<crate::Decoded, crate::Rejection> {
        let model = aloft_model::get(service).unwrap();
        let (parts, ()) = http::Request::post("/")
            .header("x-amz-target", target)
            .body(())
            .unwrap()
            .into_parts();
        decode(model, &parts, body.as_bytes())
    }

    #[test]
    fn decodes_and_drops_nulls() {
        let d = call(
            "dynamodb",
            "DynamoDB_20120810.DescribeTable",
            r#"{"TableName":"t","Bogus":1}"#,
        )
        .unwrap();
        assert_eq!(d.protocol, Protocol::Json10);
        assert_eq!(d.input, json!({"TableName": "t"}));
        let d = call(
            "logs",
            "Logs_20140328.CreateLogGroup",
            r#"{"logGroupName":"g","kmsKeyId":null}"#,
        )
        .unwrap();
        assert_eq!(
            (d.protocol, d.input),
            (Protocol::Json11, json!({"logGroupName": "g"}))
        );
    }

    #[test]
    fn rejects_like_coral() {
        let e = call("dynamodb", "DynamoDB_20120810.Nope", "{}").unwrap_err();
        assert_eq!(e.error.code, "UnknownOperationException");
        let e = call("dynamodb", "Other_20120810.DescribeTable", "{}").unwrap_err();
        assert_eq!(e.error.code, "UnknownOperationException");
        let e = call("dynamodb", "DynamoDB_20120810.DescribeTable", "{not json").unwrap_err();
        assert_eq!(e.error.code, "SerializationException");
        let e = call(
            "dynamodb",
            "DynamoDB_20120810.Scan",
            r#"{"TableName":"t","Limit":"5"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.error.message,
            "STRING_VALUE can not be converted to an Integer"
        );
        let e = call("dynamodb", "DynamoDB_20120810.DescribeTable", "").unwrap_err();
        assert_eq!(e.error.code, "ValidationException");
    }

    #[test]
    fn query_compatible_errors_carry_the_old_code() {
        let sqs = aloft_model::get("sqs").unwrap();
        let err = AwsError::new(
            "QueueDoesNotExist",
            400,
            "The specified queue does not exist.",
        );
        let resp = encode_error(sqs, Protocol::Json10, &err, "rid");
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.headers()["x-amzn-query-error"],
            "AWS.SimpleQueueService.NonExistentQueue;Sender"
        );
        assert_eq!(resp.headers()["x-amzn-requestid"], "rid");
        let body: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(
            body,
            json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."})
        );
    }
}
