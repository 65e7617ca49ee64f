//! `FilterCriteria` of event source mappings: EventBridge-style patterns (the grammar of
//! `aloft-eventpattern`: literals, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
//! `anything-but`, `numeric`, `exists`, `cidr`, `$or`) matched against a per-source view of
//! each record, as Lambda's "event filtering" page describes.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{Code, Result, err};

/// AWS caps a mapping at five filters (a soft quota).
const MAX_FILTERS: usize = 5;

/// Checks `FilterCriteria` on Create/UpdateEventSourceMapping.
pub fn validate(criteria: &Value) -> Result<()> {
    let Some(list) = criteria.get("Filters") else {
        return Ok(());
    };
    let Some(list) = list.as_array() else {
        return Err(invalid());
    };
    if list.len() > MAX_FILTERS {
        return Err(err(
            Code::InvalidParameterValue,
            format!(
                "The number of filters exceeds the limit. Filters count: {}, limit: {MAX_FILTERS}",
                list.len()
            ),
        ));
    }
    for f in list {
        let Some(text) = f.get("Pattern").and_then(Value::as_str) else {
            return Err(invalid());
        };
        aloft_eventpattern::parse(text, aloft_eventpattern::Dialect::EventBridge)
            .map_err(|_| invalid())?;
    }
    Ok(())
}

fn invalid() -> aloft_core::AwsError {
    err(
        Code::InvalidParameterValue,
        "Invalid filter pattern definition.",
    )
}

/// What a pattern sees of a record:
/// - SQS: the message, with a JSON `body` parsed (a plain-text body stays a string);
/// - Kinesis: only `data`, base64-decoded and parsed as JSON ("Kinesis event source mappings
///   support only filtering on the data key"); a record whose data is not JSON has no `data`,
///   so only patterns that do not look at `data` can match it;
/// - DynamoDB: the record as delivered (`eventName`, `dynamodb.Keys`/`NewImage`/`OldImage` in
///   DynamoDB JSON, ...).
fn view(kind: &str, record: &Value) -> Value {
    match kind {
        "kinesis" => {
            let data = record
                .pointer("/kinesis/data")
                .and_then(Value::as_str)
                .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            let mut v = Map::new();
            if let Some(d) = data {
                v.insert("data".into(), d);
            }
            Value::Object(v)
        }
        "sqs" => {
            let mut v = record.clone();
            if let Some(Value::String(b)) = record.get("body")
                && let Ok(parsed) = serde_json::from_str::<Value>(b)
            {
                v["body"] = parsed;
            }
            v
        }
        _ => record.clone(),
    }
}

/// Whether a record passes the mapping's filters (any one pattern matching is enough).
pub fn passes(kind: &str, criteria: Option<&Value>, record: &Value) -> bool {
    let Some(list) = criteria
        .and_then(|f| f.get("Filters"))
        .and_then(Value::as_array)
    else {
        return true;
    };
    if list.is_empty() {
        return true;
    }
    let view = view(kind, record);
    list.iter()
        .filter_map(|f| f.get("Pattern").and_then(Value::as_str))
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .any(|p| aloft_eventpattern::matches(&p, &view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinesis_record(data: &[u8]) -> Value {
        json!({"kinesis": {"data": base64::engine::general_purpose::STANDARD.encode(data), "partitionKey": "p"}})
    }

    fn f(p: &str) -> Value {
        json!({"Filters": [{"Pattern": p}]})
    }

    #[test]
    fn sqs_bodies_are_matched_as_json() {
        let rec = json!({"body": "{\"kind\":\"order\",\"n\":5}", "attributes": {"x": "1"}});
        assert!(passes(
            "sqs",
            Some(&f(r#"{"body": {"kind": ["order"]}}"#)),
            &rec
        ));
        assert!(!passes(
            "sqs",
            Some(&f(r#"{"body": {"kind": ["refund"]}}"#)),
            &rec
        ));
        assert!(passes(
            "sqs",
            Some(&f(r#"{"body": {"n": [{"numeric": [">", 3]}]}}"#)),
            &rec
        ));
        assert!(passes(
            "sqs",
            Some(&f(r#"{"body": {"kind": [{"prefix": "ord"}]}}"#)),
            &rec
        ));
        assert!(passes(
            "sqs",
            Some(&f(r#"{"body": {"missing": [{"exists": false}]}}"#)),
            &rec
        ));
        assert!(passes("sqs", None, &rec));
    }

    #[test]
    fn kinesis_data_is_decoded_and_only_data_is_visible() {
        let rec = kinesis_record(br#"{"temp": 31, "city": "Seoul"}"#);
        assert!(passes(
            "kinesis",
            Some(&f(r#"{"data": {"temp": [{"numeric": [">", 30]}]}}"#)),
            &rec
        ));
        assert!(!passes(
            "kinesis",
            Some(&f(r#"{"data": {"temp": [{"numeric": ["<", 30]}]}}"#)),
            &rec
        ));
        assert!(passes(
            "kinesis",
            Some(&f(r#"{"data": {"city": [{"anything-but": ["Tokyo"]}]}}"#)),
            &rec
        ));
        assert!(passes(
            "kinesis",
            Some(&f(r#"{"data": {"city": [{"suffix": "oul"}]}}"#)),
            &rec
        ));
        assert!(!passes(
            "kinesis",
            Some(&f(r#"{"partitionKey": ["p"]}"#)),
            &rec
        ));
        let plain = kinesis_record(b"not json");
        assert!(!passes(
            "kinesis",
            Some(&f(r#"{"data": {"temp": [{"exists": true}]}}"#)),
            &plain
        ));
        assert!(passes(
            "kinesis",
            Some(&f(r#"{"data": [{"exists": false}]}"#)),
            &plain
        ));
    }

    #[test]
    fn dynamodb_records_match_in_dynamodb_json() {
        let rec = json!({"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "user#1"}},
            "NewImage": {"pk": {"S": "user#1"}, "n": {"N": "7"}}}});
        assert!(passes(
            "dynamodb",
            Some(&f(
                r#"{"eventName": ["MODIFY"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "user#"}]}}}}"#
            )),
            &rec
        ));
        assert!(!passes(
            "dynamodb",
            Some(&f(
                r#"{"dynamodb": {"OldImage": {"n": {"N": [{"exists": true}]}}}}"#
            )),
            &rec
        ));
        let either = json!({"Filters": [{"Pattern": r#"{"eventName": ["INSERT"]}"#}, {"Pattern": r#"{"eventName": ["MODIFY"]}"#}]});
        assert!(passes("dynamodb", Some(&either), &rec));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(validate(&f(r#"{"eventName": ["INSERT"]}"#)).is_ok());
        assert!(validate(&f("not json")).is_err());
        assert!(validate(&f(r#"{"eventName": "INSERT"}"#)).is_err());
        assert!(validate(&f(r#"{"n": [{"numeric": [">"]}]}"#)).is_err());
        assert!(validate(&json!({"Filters": [{}]})).is_err());
    }
}
