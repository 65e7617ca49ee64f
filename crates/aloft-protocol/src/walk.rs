//! The shape walker every codec shares: resolving references, wire names, and scalars
//! to and from the text forms (query strings, headers, XML text).

use aloft_model::{Member, ServiceModel, Shape, ShapeType};
use base64::Engine;
use serde_json::Value;

use crate::AwsError;
use crate::timestamp::{self, epoch_value};

pub(crate) fn resolve<'m>(model: &'m ServiceModel, member: &Member) -> Result<&'m Shape, AwsError> {
    model
        .shape(&member.shape)
        .ok_or_else(|| AwsError::internal(format!("shape {} is not in the model", member.shape)))
}

/// The name a member carries on the wire (json key, XML element, header, query key).
pub(crate) fn wire_name<'a>(name: &'a str, member: &'a Member) -> &'a str {
    member.location_name.as_deref().unwrap_or(name)
}

/// Which timestamp format applies: the member's, the shape's, else the protocol default.
pub(crate) fn ts_format<'a>(member: &'a Member, shape: &'a Shape, default: &'a str) -> &'a str {
    member
        .timestamp_format
        .as_deref()
        .or(shape.timestamp_format.as_deref())
        .unwrap_or(default)
}

/// Converts the text form of a scalar (query string, header, URI label, XML text) to the
/// internal form. `Err` carries a reason for the protocol's error message.
pub(crate) fn scalar_from_text(shape: &Shape, text: &str) -> Result<Value, String> {
    match shape.kind {
        ShapeType::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(format!("'{text}' is not a valid boolean")),
        },
        ShapeType::Integer
        | ShapeType::Long
        | ShapeType::Short
        | ShapeType::Byte
        | ShapeType::Biginteger => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{text}' is not a valid integer")),
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => {
            let t = text.trim();
            match t {
                "NaN" | "Infinity" | "-Infinity" => Ok(Value::String(t.to_string())),
                _ => t
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("'{text}' is not a valid number")),
            }
        }
        ShapeType::Timestamp => timestamp::parse_timestamp(text)
            .map(epoch_value)
            .ok_or_else(|| format!("'{text}' is not a valid timestamp")),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// Renders an internal scalar as text (query/XML output, headers, URIs).
pub(crate) fn scalar_to_text(shape: &Shape, value: &Value, ts_format: &str) -> Option<String> {
    match (shape.kind, value) {
        (ShapeType::Timestamp, v) => timestamp_secs(v).map(|s| timestamp::format_as(s, ts_format)),
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        (ShapeType::Float | ShapeType::Double, Value::Number(n)) => Some(float_text(n)),
        (_, Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn float_text(n: &serde_json::Number) -> String {
    if let Some(f) = n.as_f64()
        && n.is_f64()
    {
        if f.is_nan() {
            return "NaN".into();
        }
        if f.is_infinite() {
            return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
        }
    }
    n.to_string()
}

/// Epoch seconds from an internal timestamp (a number; a string in any wire form is tolerated).
pub(crate) fn timestamp_secs(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => timestamp::parse_timestamp(s),
        _ => None,
    }
}

/// Decodes an internal blob (base64 text) to bytes; text that is not base64 is taken as is,
/// so a handler may also put raw UTF-8 there.
pub(crate) fn blob_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap_or_else(|_| s.as_bytes().to_vec()),
        _ => Vec::new(),
    }
}

pub(crate) fn blob_value(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}
