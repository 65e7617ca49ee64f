//! Prints DynamoDB figures without HTTP: PutItem/GetItem handler throughput on one core,
//! Query latency as the table grows (10 thousand → 1 million items), and memory per item.
//!
//! `cargo run --release -p aloft-dynamodb --example scale [max_items]`

use std::time::Instant;

use aloft_core::{RequestContext, ServiceContext};
use aloft_dynamodb::DynamoDb;
use serde_json::json;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn rc() -> RequestContext {
    RequestContext::local("dynamodb")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let max: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let ctx = ServiceContext::ephemeral().expect("ephemeral context");
    let db = DynamoDb::start(&ctx).await;
    let rc = rc();
    db.create_table(&rc, json!({"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}))
        .await
        .expect("create");
    let base = rss_bytes();
    let mut n = 0usize;
    let mut checkpoint = 10_000usize;
    let started = Instant::now();
    while n < max {
        let item = json!({"TableName": "bench", "Item": {"pk": {"S": format!("user#{}", n / 10)}, "sk": {"N": (n % 10).to_string()},
            "name": {"S": "a typical name"}, "count": {"N": n.to_string()}, "flag": {"BOOL": true}}});
        db.put_item(&rc, item).await.expect("put");
        n += 1;
        if n == checkpoint {
            let puts = n as f64 / started.elapsed().as_secs_f64();
            let q = Instant::now();
            let rounds = 2000;
            for i in 0..rounds {
                let pk = format!("user#{}", (i * 7919) % (n / 10));
                let out = db
                    .query(&rc, json!({"TableName": "bench", "KeyConditionExpression": "pk = :p AND sk >= :s",
                        "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"N": "5"}}}))
                    .await
                    .expect("query");
                assert_eq!(out["Count"], 5);
            }
            let query_us = q.elapsed().as_secs_f64() * 1e6 / rounds as f64;
            let g = Instant::now();
            for i in 0..rounds {
                let k = (i * 104_729) % n;
                db.get_item(&rc, json!({"TableName": "bench", "Key": {"pk": {"S": format!("user#{}", k / 10)}, "sk": {"N": (k % 10).to_string()}}}))
                    .await
                    .expect("get");
            }
            let gets = rounds as f64 / g.elapsed().as_secs_f64();
            let per_item = (rss_bytes().saturating_sub(base)) as f64 / n as f64;
            println!(
                "items {n:>9}  put {puts:>8.0}/s  get {gets:>8.0}/s  query(5 of 10) {query_us:>6.1} µs  memory/item {per_item:>5.0} B"
            );
            checkpoint *= 10;
        }
    }
}
