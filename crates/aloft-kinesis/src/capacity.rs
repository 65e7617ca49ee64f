//! On-demand capacity settings: warm throughput (UpdateStreamWarmThroughput) and the record
//! distribution strategy (UpdateStreamRecordDistributionStrategy: AUTO places records evenly
//! and ignores partition keys). Both are for on-demand streams only.

use serde_json::{Value, json};

use crate::error::KinesisError;
use crate::{Kinesis, Out};

pub fn auto_needs_on_demand() -> KinesisError {
    KinesisError::invalid(
        "The AUTO record distribution strategy is only supported for streams in ON_DEMAND capacity mode.",
    )
}

pub fn warm_needs_on_demand() -> KinesisError {
    KinesisError::invalid(
        "Warm throughput is only supported for streams in ON_DEMAND capacity mode.",
    )
}

impl Kinesis {
    pub(crate) async fn update_stream_warm_throughput(
        &self,
        a: &str,
        r: &str,
        input: Value,
    ) -> Out {
        let mibps = input
            .get("WarmThroughputMiBps")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        self.mutate(a, r, &input, |s, _| {
            if s.mode != "ON_DEMAND" {
                return Err(warm_needs_on_demand());
            }
            s.warm_mibps = Some(mibps);
            Ok(json!({
                "StreamARN": s.arn, "StreamName": s.name,
                "WarmThroughput": {"TargetMiBps": mibps, "CurrentMiBps": mibps},
            }))
        })
        .await
    }

    pub(crate) async fn update_stream_record_distribution_strategy(
        &self,
        a: &str,
        r: &str,
        input: Value,
    ) -> Out {
        let strategy = input
            .get("RecordDistributionStrategy")
            .and_then(Value::as_str)
            .unwrap_or("USER_PARTITION_KEY")
            .to_string();
        self.mutate(a, r, &input, |s, _| {
            if s.mode != "ON_DEMAND" {
                return Err(if strategy == "AUTO" {
                    auto_needs_on_demand()
                } else {
                    KinesisError::invalid(
                        "The record distribution strategy is only supported for streams in ON_DEMAND capacity mode.",
                    )
                });
            }
            s.distribution = strategy;
            Ok(json!({}))
        })
        .await
    }
}
