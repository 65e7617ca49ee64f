//! Validation of Create/UpdateEventSourceMapping settings: the model's ranges (a
//! `ValidationException` naming the camelCase member), AWS's stricter rules
//! (`MaximumRecordAgeInSeconds` is -1 or 60–604800), and settings that only apply to streams
//! or only to SQS (`InvalidParameterValueException: Unsupported '…' parameter for given event
//! source mapping type.`).

use serde_json::{Map, Value};

use crate::error::{Code, Result, constraint, err};

/// Integer settings and their model ranges (`min`, `max`).
const RANGES: &[(&str, i64, i64)] = &[
    ("BatchSize", 1, 10_000),
    ("MaximumBatchingWindowInSeconds", 0, 300),
    ("ParallelizationFactor", 1, 10),
    ("MaximumRecordAgeInSeconds", -1, 604_800),
    ("MaximumRetryAttempts", -1, 10_000),
    ("TumblingWindowInSeconds", 0, 900),
];

/// Settings of stream sources (Kinesis, DynamoDB Streams) that an SQS mapping rejects.
const STREAM_ONLY: &[&str] = &[
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "DestinationConfig",
];

/// Settings of SQS mappings that a stream mapping rejects.
const SQS_ONLY: &[&str] = &["ScalingConfig"];

fn camel(name: &str) -> String {
    let mut c = name.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_ascii_lowercase().to_string() + c.as_str()
    })
}

fn unsupported(name: &str) -> aloft_core::AwsError {
    err(
        Code::InvalidParameterValue,
        format!(
            "Unsupported '{}' parameter for given event source mapping type.",
            camel(name)
        ),
    )
}

/// Checks the settings given in a request (`input`) for a source of `kind`; `merged` is the
/// configuration they produce (the same as `input` on create), for rules that combine settings.
pub fn check(
    kind: &str,
    source: &str,
    input: &Map<String, Value>,
    merged: &Map<String, Value>,
) -> Result<()> {
    for &(name, min, max) in RANGES {
        let Some(v) = input.get(name).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(n) = v.as_i64() else {
            return Err(err(
                Code::InvalidParameterValue,
                format!("{name} must be an integer."),
            ));
        };
        if n < min {
            return Err(constraint(
                &n.to_string(),
                &camel(name),
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(constraint(
                &n.to_string(),
                &camel(name),
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
    }
    let given = |name: &str| input.get(name).is_some_and(|v| !v.is_null());
    let sqs = kind == "sqs";
    check_starting_position(kind, source, input)?;
    for name in if sqs { STREAM_ONLY } else { SQS_ONLY } {
        if given(name) {
            return Err(unsupported(name));
        }
    }
    if let Some(age) = input
        .get("MaximumRecordAgeInSeconds")
        .and_then(Value::as_i64)
        && (0..60).contains(&age)
    {
        return Err(err(
            Code::InvalidParameterValue,
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)",
        ));
    }
    if let Some(types) = input.get("FunctionResponseTypes") {
        let list = types.as_array().cloned().unwrap_or_default();
        if list.len() > 1 || list.iter().any(|t| t != "ReportBatchItemFailures") {
            let shown: Vec<String> = list
                .iter()
                .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_string))
                .collect();
            return Err(constraint(
                &format!("[{}]", shown.join(", ")),
                "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
            ));
        }
    }
    if let Some(f) = input.get("FilterCriteria").filter(|v| !v.is_null()) {
        crate::filters::validate(f)?;
    }
    let num = |name: &str| merged.get(name).and_then(Value::as_i64);
    // A standard queue batches more than ten messages only while it waits for them.
    if sqs
        && num("BatchSize").unwrap_or(10) > 10
        && num("MaximumBatchingWindowInSeconds").unwrap_or(0) < 1
    {
        return Err(err(
            Code::InvalidParameterValue,
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    Ok(())
}

/// `StartingPosition` and its timestamp, in AWS's order (recorded against AWS in LocalStack's
/// `event_source_mapping/test_api.snapshot.json`): the enum first (a `ValidationException`
/// listing `[LATEST, AT_TIMESTAMP, TRIM_HORIZON]`, for SQS too), then SQS's refusal, then a
/// timestamp without AT_TIMESTAMP, then AT_TIMESTAMP on a DynamoDB stream (naming the stream),
/// then a negative timestamp (AWS's Java deserializer leaks through).
fn check_starting_position(kind: &str, source: &str, input: &Map<String, Value>) -> Result<()> {
    let position = input.get("StartingPosition").filter(|v| !v.is_null());
    let stamp = input
        .get("StartingPositionTimestamp")
        .filter(|v| !v.is_null());
    let Some(position) = position else {
        return Ok(());
    };
    let p = position
        .as_str()
        .map_or_else(|| position.to_string(), str::to_string);
    if !matches!(p.as_str(), "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP") {
        return Err(constraint(
            &p,
            "startingPosition",
            "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
        ));
    }
    if kind == "sqs" {
        return Err(err(
            Code::InvalidParameterValue,
            "StartingPosition is not valid for SQS event sources.",
        ));
    }
    if stamp.is_some() && p != "AT_TIMESTAMP" {
        return Err(err(
            Code::InvalidParameterValue,
            "Timestamp only valid with StartingPosition AT_TIMESTAMP",
        ));
    }
    if p == "AT_TIMESTAMP" && kind == "dynamodb" {
        return Err(err(
            Code::InvalidParameterValue,
            format!("Unsupported starting position for arn type: {source}"),
        ));
    }
    if stamp.and_then(Value::as_f64).is_some_and(|t| t < 0.0) {
        return Err(err(
            Code::InvalidParameterValue,
            "Received Exception while reading from provided stream. class java.lang.Long can not be converted to a Timestamp",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(kind: &str, v: Value) -> std::result::Result<(), String> {
        let m = v.as_object().cloned().unwrap_or_default();
        check(
            kind,
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
            &m,
            &m,
        )
        .map_err(|e| format!("{}: {}", e.code, e.message))
    }

    #[test]
    fn ranges_and_ages() {
        assert!(
            run(
                "kinesis",
                json!({"ParallelizationFactor": 10, "TumblingWindowInSeconds": 900})
            )
            .is_ok()
        );
        let e = run("kinesis", json!({"ParallelizationFactor": 11})).unwrap_err();
        assert!(e.starts_with("ValidationException: 1 validation error detected: Value '11' at 'parallelizationFactor'"), "{e}");
        assert!(
            run("dynamodb", json!({"TumblingWindowInSeconds": 901}))
                .unwrap_err()
                .contains("less than or equal to 900")
        );
        assert!(run("kinesis", json!({"MaximumRecordAgeInSeconds": -1})).is_ok());
        assert!(
            run("kinesis", json!({"MaximumRecordAgeInSeconds": 30}))
                .unwrap_err()
                .contains("-1 (forever)")
        );
        assert!(run("kinesis", json!({"MaximumRecordAgeInSeconds": 604_801})).is_err());
    }

    #[test]
    fn settings_that_do_not_apply() {
        let e = run("sqs", json!({"TumblingWindowInSeconds": 60})).unwrap_err();
        assert_eq!(
            e,
            "InvalidParameterValueException: Unsupported 'tumblingWindowInSeconds' parameter for given event source mapping type."
        );
        assert!(run("sqs", json!({"ParallelizationFactor": 2})).is_err());
        assert!(
            run(
                "kinesis",
                json!({"ScalingConfig": {"MaximumConcurrency": 2}})
            )
            .is_err()
        );
        assert!(
            run("sqs", json!({"BatchSize": 20}))
                .unwrap_err()
                .contains("greater than 0")
        );
        assert!(
            run(
                "sqs",
                json!({"BatchSize": 20, "MaximumBatchingWindowInSeconds": 1})
            )
            .is_ok()
        );
        assert!(run("kinesis", json!({"FunctionResponseTypes": ["Nope"]})).is_err());
        assert_eq!(
            run("dynamodb", json!({"StartingPosition": "AT_TIMESTAMP"})).unwrap_err(),
            "InvalidParameterValueException: Unsupported starting position for arn type: arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x"
        );
    }

    #[test]
    fn starting_positions_as_aws_orders_them() {
        let e = run("sqs", json!({"StartingPosition": "0"})).unwrap_err();
        assert_eq!(
            e,
            "ValidationException: 1 validation error detected: Value '0' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
        );
        assert_eq!(
            run("sqs", json!({"StartingPosition": "LATEST"})).unwrap_err(),
            "InvalidParameterValueException: StartingPosition is not valid for SQS event sources."
        );
        let stamp = json!({"StartingPosition": "LATEST", "StartingPositionTimestamp": 1.0e9});
        assert_eq!(
            run("kinesis", stamp).unwrap_err(),
            "InvalidParameterValueException: Timestamp only valid with StartingPosition AT_TIMESTAMP"
        );
        let negative =
            json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": -1.0e9});
        assert!(
            run("kinesis", negative)
                .unwrap_err()
                .contains("java.lang.Long")
        );
        let fine = json!({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1.0e9});
        assert!(run("kinesis", fine).is_ok());
    }
}
