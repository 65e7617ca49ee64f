//! Opt-in throttling (`--set dynamodb.throttle=true`): PROVISIONED tables get a token bucket per
//! table filled at their RCU/WCU per second holding up to 300 s of unused capacity (AWS's
//! burst credit); an empty bucket answers ProvisionedThroughputExceededException.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, clock};

use crate::DynamoDb;
use crate::error::ErrorCode;
use crate::state::Table;

const BURST_SECONDS: f64 = 300.0;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

pub struct Throttle {
    enabled: bool,
    buckets: Mutex<HashMap<(String, bool), Bucket>>,
}

impl Throttle {
    pub fn new(enabled: bool) -> Self {
        Throttle {
            enabled,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, id: &str, read: bool, rate: u64, units: f64) -> Result<(), AwsError> {
        let now = clock::now_millis();
        let rate = rate as f64;
        let mut b = self.buckets.lock().expect("throttle lock");
        let bucket = b.entry((id.to_string(), read)).or_insert(Bucket {
            tokens: rate * BURST_SECONDS,
            at_ms: now,
        });
        let elapsed = (now - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate * BURST_SECONDS);
        bucket.at_ms = now;
        if bucket.tokens < units {
            return Err(ErrorCode::ProvisionedThroughputExceededException.err(
                "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
            ));
        }
        bucket.tokens -= units;
        Ok(())
    }
}

impl DynamoDb {
    fn throttle(&self, table: &Arc<Table>, read: bool) -> Result<(), AwsError> {
        if !self.throttle.enabled {
            return Ok(());
        }
        let (id, rate, pay) = {
            let d = table.data.read().expect("table lock");
            (
                d.meta.id.clone(),
                if read { d.meta.rcu } else { d.meta.wcu },
                d.meta.pay_per_request,
            )
        };
        if pay {
            return Ok(());
        }
        self.throttle.take(&id, read, rate, 1.0)
    }

    pub fn throttle_read(&self, table: &Arc<Table>) -> Result<(), AwsError> {
        self.throttle(table, true)
    }

    pub fn throttle_write(&self, table: &Arc<Table>) -> Result<(), AwsError> {
        self.throttle(table, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let t = Throttle::new(true);
        for _ in 0..300 {
            t.take("t", true, 1, 1.0).unwrap();
        }
        let e = t.take("t", true, 1, 1.0).unwrap_err();
        assert_eq!(e.code, "ProvisionedThroughputExceededException");
    }
}
