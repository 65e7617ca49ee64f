//! Opt-in throttling (`--set dynamodb.throttle=true`): a PROVISIONED table and each of its
//! global secondary indexes have a token bucket per direction, filled at their RCU/WCU per
//! second and holding up to 300 s of unused capacity (AWS's burst credit). A request is
//! admitted while its buckets hold a unit and then charged what it really consumed (the
//! ReturnConsumedCapacity figures: 4 KB read units, halved when eventually consistent, 1 KB
//! write units, doubled in transactions), so a big read can leave a bucket in debt. GSI writes
//! are charged to the GSI's own throughput, and an empty GSI bucket throttles base-table
//! writes with AWS's index message; LSIs share the table's throughput.
//!
//! An on-demand table or GSI with an `OnDemandThroughput` maximum gets the same kind of
//! bucket, filled at its maximum but holding one second of it: AWS calls the maximum a
//! per-second target and answers excess requests with quick throttles (burst past it is
//! best-effort, never promised), so Aloft gives no credit. Without a maximum an on-demand
//! table is never throttled. Every throttle names its cause in `ThrottlingReasons`
//! (`<Table|Index><Read|Write><limit>` and the table's or index's ARN).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, clock};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::capacity::Consumed;
use crate::error::ErrorCode;
use crate::state::Table;
use crate::tables::{IndexMeta, TableMeta};

const BURST_SECONDS: f64 = 300.0;

const TABLE_MESSAGE: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";
const INDEX_MESSAGE: &str = "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API";
/// AWS's words for an on-demand maximum (the throttling diagnosis guide's example, and
/// users' reports of the live service).
const ON_DEMAND_MESSAGE: &str =
    "Throughput exceeds the maximum OnDemandThroughput configured on table or index";

/// What limits a bucket; a table switching billing modes starts a fresh bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Limit {
    Provisioned,
    MaxOnDemand,
}

impl Limit {
    fn burst_seconds(self) -> f64 {
        match self {
            Limit::Provisioned => BURST_SECONDS,
            Limit::MaxOnDemand => 1.0,
        }
    }

    /// The LimitType part of a throttling reason.
    fn reason(self) -> &'static str {
        match self {
            Limit::Provisioned => "ProvisionedThroughputExceeded",
            Limit::MaxOnDemand => "MaxOnDemandThroughputExceeded",
        }
    }
}

/// Units per second a table or GSI may use in one direction, and why.
#[derive(Debug, Clone, Copy)]
struct Rate {
    per_second: u64,
    limit: Limit,
}

impl Rate {
    /// The limit of a table or GSI with this billing mode, capacity and on-demand maximum;
    /// `None` when nothing limits it.
    fn of(pay_per_request: bool, capacity: u64, max: Option<u64>) -> Option<Rate> {
        if pay_per_request {
            max.map(|per_second| Rate {
                per_second,
                limit: Limit::MaxOnDemand,
            })
        } else {
            Some(Rate {
                per_second: capacity,
                limit: Limit::Provisioned,
            })
        }
    }

    fn table(meta: &TableMeta, read: bool) -> Option<Rate> {
        let od = meta.throughput.on_demand;
        if read {
            Rate::of(meta.pay_per_request, meta.rcu, od.max_read)
        } else {
            Rate::of(meta.pay_per_request, meta.wcu, od.max_write)
        }
    }

    fn index(meta: &TableMeta, idx: &IndexMeta, read: bool) -> Option<Rate> {
        let od = idx.throughput.on_demand;
        if read {
            Rate::of(meta.pay_per_request, idx.rcu, od.max_read)
        } else {
            Rate::of(meta.pay_per_request, idx.wcu, od.max_write)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Table id, index name (None for the table), read?, what limits it.
type BucketKey = (String, Option<String>, bool, Limit);

/// A table or GSI found without capacity: its index name (None for the table) and limit.
type Exhausted = (Option<String>, Limit);

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

    /// Refills the bucket for the time passed and applies `f` to its tokens. A rate lowered
    /// since the last request caps the tokens at once.
    fn with_bucket<R>(
        &self,
        meta: &TableMeta,
        index: Option<&str>,
        read: bool,
        rate: Rate,
        f: impl FnOnce(&mut f64) -> R,
    ) -> R {
        let now = clock::now_millis();
        let per_second = rate.per_second as f64;
        let cap = per_second * rate.limit.burst_seconds();
        let key = (meta.id.clone(), index.map(str::to_string), read, rate.limit);
        let mut b = self.buckets.lock().expect("throttle lock");
        let bucket = b.entry(key).or_insert(Bucket {
            tokens: cap,
            at_ms: now,
        });
        let elapsed = (now - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(cap);
        bucket.at_ms = now;
        f(&mut bucket.tokens)
    }

    /// Whether the table's or GSI's bucket has a unit left (a request may start); `None`
    /// when it does, else what exhausted it.
    fn exhausted(
        &self,
        meta: &TableMeta,
        index: Option<&IndexMeta>,
        read: bool,
    ) -> Option<Exhausted> {
        let rate = match index {
            Some(idx) => Rate::index(meta, idx, read)?,
            None => Rate::table(meta, read)?,
        };
        let name = index.map(|i| i.name.as_str());
        let ok = self.with_bucket(meta, name, read, rate, |t| *t >= 1.0);
        (!ok).then(|| (name.map(str::to_string), rate.limit))
    }

    fn charge_bucket(&self, meta: &TableMeta, index: Option<&IndexMeta>, read: bool, units: f64) {
        let rate = match index {
            Some(idx) => Rate::index(meta, idx, read),
            None => Rate::table(meta, read),
        };
        if let Some(rate) = rate
            && units > 0.0
        {
            let name = index.map(|i| i.name.as_str());
            self.with_bucket(meta, name, read, rate, |t| *t -= units);
        }
    }

    /// Admission of a read on the table or one of its indexes.
    fn admit_read(&self, meta: &TableMeta, index: Option<&str>) -> Result<(), AwsError> {
        let gsi = index
            .and_then(|n| meta.index(n))
            .map(|(_, i)| i)
            .filter(|i| i.global);
        match self.exhausted(meta, gsi, true) {
            None => Ok(()),
            Some(ex) => Err(throttled(meta, true, vec![ex])),
        }
    }

    /// Admission of a write: the table's bucket and every GSI's must have capacity.
    fn admit_write(&self, meta: &TableMeta) -> Result<(), AwsError> {
        let exhausted: Vec<Exhausted> = std::iter::once(None)
            .chain(meta.indexes.iter().filter(|i| i.global).map(Some))
            .filter_map(|idx| self.exhausted(meta, idx, false))
            .collect();
        if exhausted.is_empty() {
            Ok(())
        } else {
            Err(throttled(meta, false, exhausted))
        }
    }

    /// Takes what a request consumed from the buckets it used.
    fn charge_consumed(&self, meta: &TableMeta, c: &Consumed) {
        let mut table_units = c.table_units;
        for (name, (global, units)) in &c.indexes {
            match meta.index(name) {
                Some((_, idx)) if *global => self.charge_bucket(meta, Some(idx), c.read, *units),
                // Local indexes use the table's throughput.
                _ => table_units += units,
            }
        }
        self.charge_bucket(meta, None, c.read, table_units);
    }
}

/// The error for a request some tables or GSIs had no capacity for: provisioned capacity
/// gives ProvisionedThroughputExceededException, an on-demand maximum ThrottlingException
/// (whose model member is `throttlingReasons`, lower-case, unlike the other two).
fn throttled(meta: &TableMeta, read: bool, exhausted: Vec<Exhausted>) -> AwsError {
    let limit = exhausted.first().map_or(Limit::Provisioned, |(_, l)| *l);
    let table_exhausted = exhausted.iter().any(|(i, _)| i.is_none());
    let reasons: Vec<Json> = exhausted
        .iter()
        .map(|(index, limit)| throttling_reason(meta, index.as_deref(), read, *limit))
        .collect();
    match limit {
        Limit::Provisioned => {
            let message = if read || table_exhausted {
                TABLE_MESSAGE
            } else {
                INDEX_MESSAGE
            };
            ErrorCode::ProvisionedThroughputExceededException
                .err(message)
                .with_field("ThrottlingReasons", reasons)
        }
        Limit::MaxOnDemand => ErrorCode::ThrottlingException
            .err(ON_DEMAND_MESSAGE)
            .with_field("throttlingReasons", reasons),
    }
}

/// One `ThrottlingReason`: `<Table|Index><Read|Write><limit>` and the ARN of the table or
/// index (`.../table/NAME/index/INDEX`).
fn throttling_reason(meta: &TableMeta, index: Option<&str>, read: bool, limit: Limit) -> Json {
    let resource = match index {
        Some(name) => format!("{}/index/{name}", meta.arn()),
        None => meta.arn(),
    };
    let reason = format!(
        "{}{}{}",
        if index.is_some() { "Index" } else { "Table" },
        if read { "Read" } else { "Write" },
        limit.reason()
    );
    json!({"reason": reason, "resource": resource})
}

/// The code a throttle shows among TransactionCanceledException's CancellationReasons and
/// BatchExecuteStatement's errors (whose shapes carry no ThrottlingReasons).
pub fn cancellation_code(e: &AwsError) -> &'static str {
    if e.code == ErrorCode::ThrottlingException.code() {
        "ThrottlingError"
    } else {
        "ProvisionedThroughputExceeded"
    }
}

impl DynamoDb {
    /// The definition to throttle by, when throttling is on.
    fn throttled_meta(&self, table: &Arc<Table>) -> Option<Arc<TableMeta>> {
        if !self.throttle.enabled {
            return None;
        }
        Some(table.data.read().expect("table lock").meta.clone())
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
        if self.throttle.enabled {
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

    /// An on-demand table with `table_max` and a GSI with `gsi_max` (OnDemandThroughput).
    fn on_demand(table_max: Json, gsi_max: Json) -> TableMeta {
        let input = serde_json::json!({
            "TableName": "Free", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "OnDemandThroughput": table_max,
            "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}, "OnDemandThroughput": gsi_max}]
        });
        crate::tables::from_create(&input, "1", "r", 0).unwrap()
    }

    impl Throttle {
        /// Moves every bucket's last refill `ms` into the past (the shared clock stays put, so
        /// tests running at once do not refill each other's buckets).
        fn age(&self, ms: i64) {
            for b in self.buckets.lock().unwrap().values_mut() {
                b.at_ms -= ms;
            }
        }
    }

    fn write(table_units: f64, gsi_units: f64) -> Consumed {
        let mut c = Consumed::new("Tab", false);
        c.table_units = table_units;
        if gsi_units > 0.0 {
            c.add_index("byG", true, gsi_units);
        }
        c
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
        assert_eq!(
            e.fields["ThrottlingReasons"],
            json!([{"reason": "TableReadProvisionedThroughputExceeded",
                    "resource": "arn:aws:dynamodb:r:1:table/Tab"}])
        );
        // Writes have their own bucket.
        t.admit_write(&m).unwrap();
    }

    #[test]
    fn gsi_writes_use_the_index_throughput() {
        let t = Throttle::new(true);
        let m = meta(1, 1000, 1);
        t.admit_write(&m).unwrap();
        t.charge_consumed(&m, &write(1.0, 300.0));
        let e = t.admit_write(&m).unwrap_err();
        assert_eq!(e.message, INDEX_MESSAGE);
        // The reason names the index, not the table the write was sent to.
        assert_eq!(
            e.fields["ThrottlingReasons"],
            json!([{"reason": "IndexWriteProvisionedThroughputExceeded",
                    "resource": "arn:aws:dynamodb:r:1:table/Tab/index/byG"}])
        );
        // Reads of the table are unaffected.
        t.admit_read(&m, None).unwrap();
    }

    #[test]
    fn a_write_names_every_exhausted_table_and_index() {
        let t = Throttle::new(true);
        let m = meta(1, 1, 1);
        t.charge_consumed(&m, &write(300.0, 300.0));
        let e = t.admit_write(&m).unwrap_err();
        assert_eq!(e.message, TABLE_MESSAGE);
        let reasons: Vec<&str> = e.fields["ThrottlingReasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "TableWriteProvisionedThroughputExceeded",
                "IndexWriteProvisionedThroughputExceeded"
            ]
        );
    }

    #[test]
    fn gsi_reads_name_the_index() {
        let t = Throttle::new(true);
        let m = meta(100, 1, 1);
        let mut c = Consumed::new("Tab", true);
        c.add_index("byG", true, 300.0);
        t.charge_consumed(&m, &c);
        let e = t.admit_read(&m, Some("byG")).unwrap_err();
        assert_eq!(
            e.fields["ThrottlingReasons"][0]["reason"],
            "IndexReadProvisionedThroughputExceeded"
        );
        t.admit_read(&m, None).unwrap();
    }

    #[test]
    fn on_demand_maximum_holds_one_second_without_burst_credit() {
        let t = Throttle::new(true);
        let m = on_demand(json!({"MaxWriteRequestUnits": 2}), json!(null));
        // Two units a second: one 2-unit write, then nothing until a second has passed.
        t.admit_write(&m).unwrap();
        t.charge_consumed(&m, &write(2.0, 0.0));
        let e = t.admit_write(&m).unwrap_err();
        assert_eq!(e.code, "ThrottlingException");
        assert_eq!(e.message, ON_DEMAND_MESSAGE);
        assert_eq!(
            e.fields["throttlingReasons"],
            json!([{"reason": "TableWriteMaxOnDemandThroughputExceeded",
                    "resource": "arn:aws:dynamodb:r:1:table/Free"}])
        );
        assert_eq!(cancellation_code(&e), "ThrottlingError");
        t.age(1000);
        t.admit_write(&m).unwrap();
        // An idle minute still leaves only one second's worth.
        t.age(60_000);
        t.charge_consumed(&m, &write(2.0, 0.0));
        t.admit_write(&m).unwrap_err();
        // Reads have no maximum: never throttled, however much they consume.
        let mut c = Consumed::new("Tab", true);
        c.table_units = 1e9;
        t.charge_consumed(&m, &c);
        t.admit_read(&m, None).unwrap();
    }

    #[test]
    fn on_demand_gsi_maximum_throttles_the_table_writes_and_its_reads() {
        let t = Throttle::new(true);
        let m = on_demand(
            json!(null),
            json!({"MaxReadRequestUnits": 1, "MaxWriteRequestUnits": 1}),
        );
        t.charge_consumed(&m, &write(1000.0, 1.0));
        let e = t.admit_write(&m).unwrap_err();
        assert_eq!(
            e.fields["throttlingReasons"],
            json!([{"reason": "IndexWriteMaxOnDemandThroughputExceeded",
                    "resource": "arn:aws:dynamodb:r:1:table/Free/index/byG"}])
        );
        let mut c = Consumed::new("Tab", true);
        c.add_index("byG", true, 1.0);
        t.charge_consumed(&m, &c);
        let e = t.admit_read(&m, Some("byG")).unwrap_err();
        assert_eq!(
            e.fields["throttlingReasons"][0]["reason"],
            "IndexReadMaxOnDemandThroughputExceeded"
        );
        t.admit_read(&m, None).unwrap();
    }

    #[test]
    fn on_demand_without_maximum_is_never_throttled_and_mode_switches_start_afresh() {
        let t = Throttle::new(true);
        let mut m = on_demand(json!(null), json!(null));
        t.charge_consumed(&m, &write(1e9, 1e9));
        t.admit_write(&m).unwrap();
        // Lowering a maximum applies to the next request: the bucket holds one second of it.
        m.throughput.on_demand.max_write = Some(1);
        t.admit_write(&m).unwrap();
        t.charge_consumed(&m, &write(1.0, 0.0));
        t.admit_write(&m).unwrap_err();
        // Switched to provisioned, the table starts with its full burst credit.
        m.pay_per_request = false;
        m.wcu = 1;
        for idx in &mut m.indexes {
            idx.wcu = 1;
        }
        t.admit_write(&m).unwrap();
    }
}
