//! EnableKinesisStreamingDestination, DisableKinesisStreamingDestination,
//! DescribeKinesisStreamingDestination and UpdateKinesisStreamingDestination: a table's
//! destinations and their state machine (see [`crate::kinesis`] for AWS's rules).
//!
//! AWS answers every wrong state with a ValidationException whose message starts "Table is
//! not in a valid state to enable Kinesis Streaming Destination" (whatever the operation),
//! and never ResourceNotFoundException for a destination, not even one never enabled.

use aloft_core::{AwsError, RequestContext, clock};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::validation;
use crate::handlers::items::str_param;
use crate::kinesis::{Destination, Phase, Status};

fn not_valid(detail: &str) -> AwsError {
    validation(format!(
        "Table is not in a valid state to enable Kinesis Streaming Destination: {detail}"
    ))
}

fn cannot_enable() -> AwsError {
    not_valid(
        "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.",
    )
}

/// A member that is present and not null.
fn given<'a>(input: &'a Json, name: &str) -> Option<&'a Json> {
    input.get(name).filter(|v| !v.is_null())
}

fn precision_of(config: Option<&Json>) -> Option<&str> {
    config
        .and_then(|c| c.get("ApproximateCreationDateTimePrecision"))
        .and_then(Json::as_str)
}

impl DynamoDb {
    pub async fn enable_kinesis_streaming_destination(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (table, meta) = self.table_by_name_or_arn(rc, &input)?;
        let arn = str_param(&input, "StreamArn")
            .unwrap_or_default()
            .to_string();
        let config = given(&input, "EnableKinesisStreamingConfiguration");
        let precision = precision_of(config).map(str::to_string);
        if meta.kinesis.iter().any(|d| d.live(clock::now_millis())) {
            return Err(cannot_enable());
        }
        // AWS accepts any well-formed ARN and reports a bad one later, as ENABLE_FAILED.
        let failure = crate::kinesis::check_stream(self.db.kinesis.targets(), &meta, &arn).await;
        self.edit_meta(&table, |m| {
            let now = clock::now_millis();
            if m.kinesis.iter().any(|d| d.live(now)) {
                return Err(cannot_enable());
            }
            let fresh = Destination {
                stream_arn: arn.clone(),
                phase: Phase::Enabling,
                since_ms: now,
                precision: precision.clone(),
                failure: failure.clone(),
            };
            // Enabling a stream again reuses its DISABLED or ENABLE_FAILED entry.
            match m.kinesis.iter_mut().find(|d| d.stream_arn == arn) {
                Some(d) => *d = fresh,
                None => m.kinesis.push(fresh),
            }
            Ok(())
        })
        .await?;
        Ok(json!({
            "TableName": meta.name,
            "StreamArn": arn,
            "DestinationStatus": Status::Enabling.as_str(),
            "EnableKinesisStreamingConfiguration": config.cloned().unwrap_or_else(|| json!({})),
        }))
    }

    pub async fn disable_kinesis_streaming_destination(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (table, meta) = self.table_by_name_or_arn(rc, &input)?;
        if given(&input, "EnableKinesisStreamingConfiguration").is_some() {
            return Err(validation(
                "Stream cannot be disabled using EnableKinesisStreamingConfiguration parameters",
            ));
        }
        let arn = str_param(&input, "StreamArn").unwrap_or_default();
        self.edit_meta(&table, |m| {
            let now = clock::now_millis();
            let d = m
                .kinesis
                .iter_mut()
                .find(|d| d.stream_arn == arn)
                .filter(|d| matches!(d.status(now), Status::Active | Status::Disabling))
                .ok_or_else(|| {
                    not_valid(
                        "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation.",
                    )
                })?;
            // A second Disable while DISABLING answers DISABLING again.
            if d.status(now) == Status::Active {
                d.phase = Phase::Disabling;
                d.since_ms = now;
            }
            Ok(())
        })
        .await?;
        Ok(json!({
            "TableName": meta.name,
            "StreamArn": arn,
            "DestinationStatus": Status::Disabling.as_str(),
        }))
    }

    pub async fn describe_kinesis_streaming_destination(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (_, meta) = self.table_by_name_or_arn(rc, &input)?;
        let now = clock::now_millis();
        // The latest enabled first, as AWS lists them.
        let list: Vec<Json> = meta.kinesis.iter().rev().map(|d| d.describe(now)).collect();
        Ok(json!({"TableName": meta.name, "KinesisDataStreamDestinations": list}))
    }

    pub async fn update_kinesis_streaming_destination(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (table, meta) = self.table_by_name_or_arn(rc, &input)?;
        let arn = str_param(&input, "StreamArn").unwrap_or_default();
        let precision = precision_of(given(&input, "UpdateKinesisStreamingConfiguration"))
            .ok_or_else(|| {
                validation(
                    "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration cannot be null or contain only null values",
                )
            })?;
        self.edit_meta(&table, |m| {
            let now = clock::now_millis();
            let (name, id) = (m.name.clone(), m.id.clone());
            let d = m
                .kinesis
                .iter_mut()
                .find(|d| d.stream_arn == arn)
                .filter(|d| d.status(now) == Status::Active)
                .ok_or_else(|| {
                    not_valid(&format!(
                        "Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. TableName: {name}, kdsArn: {arn}"
                    ))
                })?;
            // Unset means MILLISECOND.
            if d.precision.as_deref().unwrap_or("MILLISECOND") == precision {
                return Err(validation(format!(
                    "Invalid Request: Precision is already set to the desired value of {precision} for tableId: {id}, kdsArn: {arn}"
                )));
            }
            d.precision = Some(precision.to_string());
            d.phase = Phase::Updating;
            d.since_ms = now;
            Ok(())
        })
        .await?;
        Ok(json!({
            "TableName": meta.name,
            "StreamArn": arn,
            "DestinationStatus": Status::Updating.as_str(),
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision},
        }))
    }
}

#[cfg(test)]
#[path = "kinesis_destinations_tests.rs"]
mod tests;
