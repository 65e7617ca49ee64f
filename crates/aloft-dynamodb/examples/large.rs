//! Large-table reads without HTTP, on one thread: preloads a table of `items` 5-attribute
//! items (the shape of `bench/dynamodb.sh`), then interleaves batches of Query and GetItem of
//! random keys among the first 10,000 items (hot: as in a 10k-item table) and among all of them
//! (cold), and prints the fastest and the median batch of each, in ns per request. Interference
//! from other processes only ever adds time, so the fastest batch is the figure to compare on
//! a shared machine; the hot/cold difference is what the table's size costs.
//!
//! `cargo run --release -p aloft-dynamodb --example large [items] [rounds] [batch]`
//! (mimalloc as in the `aloft` binary; `MIMALLOC_*` settings apply).

use std::time::Instant;

use aloft_core::{RequestContext, ServiceContext};
use aloft_dynamodb::DynamoDb;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOT: u64 = 10_000;

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn huge_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("AnonHugePages:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn item(i: u64) -> Value {
    json!({"PutRequest": {"Item": {"pk": {"S": format!("k{i:08}")}, "name": {"S": "a typical name"},
        "count": {"N": i.to_string()}, "flag": {"BOOL": true}, "email": {"S": format!("user{i}@example.com")}}}})
}

/// A xorshift generator: the same key sequence in every run.
struct Keys(u64);
impl Keys {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let items: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let batch: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let ctx = ServiceContext::ephemeral().expect("ephemeral context");
    let db = DynamoDb::start(&ctx).await;
    let rc = RequestContext::local("dynamodb");
    db.create_table(
        &rc,
        json!({"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    )
    .await
    .expect("create");
    let base = status_kib("VmRSS:");
    let started = Instant::now();
    let mut i = 0;
    while i < items {
        let rows: Vec<Value> = (i..(i + 25).min(items)).map(item).collect();
        i += rows.len() as u64;
        db.batch_write_item(&rc, json!({"RequestItems": {"bench": rows}}))
            .await
            .expect("batch");
    }
    let rss = status_kib("VmRSS:");
    println!(
        "{items} items in {:.1} s; {:.0} B/item (RSS {} MiB, {} MiB in huge pages)",
        started.elapsed().as_secs_f64(),
        (rss - base) as f64 * 1024.0 / items as f64,
        rss / 1024,
        huge_kib() / 1024
    );

    let mut keys = Keys(0x9E37_79B9_7F4A_7C15);
    // ns per request of each batch, by (operation, hot).
    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..rounds {
        for (slot, (query, range)) in [(true, HOT), (true, items), (false, HOT), (false, items)]
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            for _ in 0..batch {
                let pk = json!({"S": format!("k{:08}", keys.next(range))});
                if query {
                    let out = db
                        .query(
                            &rc,
                            json!({"TableName": "bench", "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": pk}}),
                        )
                        .await
                        .expect("query");
                    assert_eq!(out["Count"], 1);
                } else {
                    let out = db
                        .get_item(&rc, json!({"TableName": "bench", "Key": {"pk": pk}}))
                        .await
                        .expect("get");
                    assert!(out.get("Item").is_some());
                }
            }
            times[slot].push(t.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    for (slot, label) in ["Query hot", "Query all", "GetItem hot", "GetItem all"]
        .iter()
        .enumerate()
    {
        let t = &mut times[slot];
        t.sort_by(f64::total_cmp);
        println!(
            "{label:<12} fastest {:>7.0} ns  median {:>7.0} ns  (of {rounds} batches of {batch})",
            t[0],
            t[t.len() / 2]
        );
    }
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?")
    );
}
