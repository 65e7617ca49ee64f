//! Opt-in throttling (`--set dynamodb.throttle=true`): a PROVISIONED table and each of its
//! global secondary indexes have a token bucket per direction, filled at their RCU/WCU per
//! second and holding up to 300 s of unused capacity (AWS's burst credit). A request is
//! admitted while its buckets hold a unit and then charged what it really consumed (the
//! ReturnConsumedCapacity figures: 4 KB read units, halved when eventually consistent, 1 KB
//! write units, doubled in transactions), so a big read can leave a bucket in debt. GSI writes
//! are charged to the GSI's own throughput, and an empty GSI bucket throttles base-table
//! writes with AWS's index message; LSIs share the table's throughput.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, clock};

use crate::DynamoDb;
use crate::capacity::Consumed;
use crate::error::ErrorCode;
use crate::state::Table;
use crate::tables::TableMeta;

const BURST_SECONDS: f64 = 300.0;

const TABLE_MESSAGE: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";
const INDEX_MESSAGE: &str = "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API";

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Table id, index name (None for the table), read?
type BucketKey = (String, Option<String>, bool);

pub struct Throttle {
    enabled: bool,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
}

impl Throttle {
    pub fn new(enabled: bool) -> Self {
        Throttle {
            enabled,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Refills the bucket for the time passed and applies `f` to its tokens.
    fn with_bucket<R>(&self, key: BucketKey, rate: u64, f: impl FnOnce(&mut f64) -> R) -> R {
        let now = clock::now_millis();
        let rate = rate as f64;
        let cap = rate * BURST_SECONDS;
        let mut b = self.buckets.lock().expect("throttle lock");
        let bucket = b.entry(key).or_insert(Bucket {
            tokens: cap,
            at_ms: now,
        });
        let elapsed = (now - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(cap);
        bucket.at_ms = now;
        f(&mut bucket.tokens)
    }

    /// Whether the bucket has a unit left (a request may start).
    fn has_capacity(&self, key: BucketKey, rate: u64) -> bool {
        self.with_bucket(key, rate, |t| *t >= 1.0)
    }

    fn charge(&self, key: BucketKey, rate: u64, units: f64) {
        if units > 0.0 {
            self.with_bucket(key, rate, |t| *t -= units);
        }
    }

    /// Admission of a read on the table or one of its indexes.
    fn admit_read(&self, meta: &TableMeta, index: Option<&str>) -> Result<(), AwsError> {
        let gsi = index.and_then(|n| meta.index(n)).filter(|(_, i)| i.global);
        let ok = match gsi {
            Some((_, idx)) => {
                self.has_capacity((meta.id.clone(), Some(idx.name.clone()), true), idx.rcu)
            }
            None => self.has_capacity((meta.id.clone(), None, true), meta.rcu),
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorCode::ProvisionedThroughputExceededException.err(TABLE_MESSAGE))
        }
    }

    /// Admission of a write: the table's bucket and every GSI's must have capacity.
    fn admit_write(&self, meta: &TableMeta) -> Result<(), AwsError> {
        if !self.has_capacity((meta.id.clone(), None, false), meta.wcu) {
            return Err(ErrorCode::ProvisionedThroughputExceededException.err(TABLE_MESSAGE));
        }
        for idx in meta.indexes.iter().filter(|i| i.global) {
            if !self.has_capacity((meta.id.clone(), Some(idx.name.clone()), false), idx.wcu) {
                return Err(ErrorCode::ProvisionedThroughputExceededException.err(INDEX_MESSAGE));
            }
        }
        Ok(())
    }

    /// Takes what a request consumed from the buckets it used.
    fn charge_consumed(&self, meta: &TableMeta, c: &Consumed) {
        let read = c.read;
        let rate = |r: u64, w: u64| if read { r } else { w };
        let mut table_units = c.table_units;
        for (name, (global, units)) in &c.indexes {
            match meta.index(name) {
                Some((_, idx)) if *global => self.charge(
                    (meta.id.clone(), Some(idx.name.clone()), read),
                    rate(idx.rcu, idx.wcu),
                    *units,
                ),
                // Local indexes use the table's throughput.
                _ => table_units += units,
            }
        }
        self.charge(
            (meta.id.clone(), None, read),
            rate(meta.rcu, meta.wcu),
            table_units,
        );
    }
}

impl DynamoDb {
    /// The definition to throttle by, when throttling applies to this table.
    fn throttled_meta(&self, table: &Arc<Table>) -> Option<Arc<TableMeta>> {
        if !self.throttle.enabled {
            return None;
        }
        let meta = table.data.read().expect("table lock").meta.clone();
        (!meta.pay_per_request).then_some(meta)
    }

    pub fn throttle_read(&self, table: &Arc<Table>) -> Result<(), AwsError> {
        self.throttle_read_index(table, None)
    }

    /// Admission of a read of `index` (its own throughput when it is a GSI).
    pub fn throttle_read_index(
        &self,
        table: &Arc<Table>,
        index: Option<&str>,
    ) -> Result<(), AwsError> {
        match self.throttled_meta(table) {
            Some(meta) => self.throttle.admit_read(&meta, index),
            None => Ok(()),
        }
    }

    pub fn throttle_write(&self, table: &Arc<Table>) -> Result<(), AwsError> {
        match self.throttled_meta(table) {
            Some(meta) => self.throttle.admit_write(&meta),
            None => Ok(()),
        }
    }

    /// Charges what a request consumed on the table `meta` defines (after it ran).
    pub fn charge(&self, meta: &TableMeta, consumed: &Consumed) {
        if self.throttle.enabled && !meta.pay_per_request {
            self.throttle.charge_consumed(meta, consumed);
        }
    }

    /// Charges consumption reported by table name (batches and transactions).
    pub fn charge_named<'a>(
        &self,
        account: &str,
        region: &str,
        consumed: impl IntoIterator<Item = &'a Consumed>,
    ) {
        if !self.throttle.enabled {
            return;
        }
        for c in consumed {
            if let Some(t) = self.db.get(account, region, &c.table) {
                let meta = t.data.read().expect("table lock").meta.clone();
                self.charge(&meta, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(rcu: u64, wcu: u64, gsi_wcu: u64) -> TableMeta {
        let input = serde_json::json!({
            "TableName": "Tab",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
            "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": gsi_wcu}}]
        });
        crate::tables::from_create(&input, "1", "r", 0).unwrap()
    }

    #[test]
    fn reads_are_charged_what_they_consume_with_300_s_of_burst() {
        let t = Throttle::new(true);
        let m = meta(1, 1, 1);
        // 300 units of burst: 30 reads of 10 units each, then the bucket is empty.
        for _ in 0..30 {
            t.admit_read(&m, None).unwrap();
            let mut c = Consumed::new("Tab", true);
            c.table_units = 10.0;
            t.charge_consumed(&m, &c);
        }
        let e = t.admit_read(&m, None).unwrap_err();
        assert_eq!(e.code, "ProvisionedThroughputExceededException");
        assert_eq!(e.message, TABLE_MESSAGE);
        // Writes have their own bucket.
        t.admit_write(&m).unwrap();
    }

    #[test]
    fn gsi_writes_use_the_index_throughput() {
        let t = Throttle::new(true);
        let m = meta(1, 1000, 1);
        let mut c = Consumed::new("Tab", false);
        c.table_units = 1.0;
        c.add_index("byG", true, 300.0);
        t.admit_write(&m).unwrap();
        t.charge_consumed(&m, &c);
        let e = t.admit_write(&m).unwrap_err();
        assert_eq!(e.message, INDEX_MESSAGE);
        // Reads of the table are unaffected.
        t.admit_read(&m, None).unwrap();
    }
}
