//! The four Kinesis streaming destination operations against a service whose bus has a
//! fake Kinesis for `kinesis` ARNs: AWS's state machine and messages, delivery in write order
//! (generic and fast paths), streams that are missing or deleted, restarts.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, RequestContext, ServiceContext, clock};
use aloft_events::{Delivered, Delivery, Source, SourceRecord, Target};
use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use crate::DynamoDb;
use crate::domain::value::item_from_json;
use crate::kinesis::tests::{STREAM, dest};
use crate::kinesis::{Destination, NO_PERMISSION, NS_KINESIS, Phase, TRANSITION_MS};
use crate::state::Actor;

const GONE: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/gone";

/// Kinesis as the bus sees it: `orders` exists, anything else does not.
#[derive(Default)]
struct FakeKinesis {
    got: Mutex<Vec<(String, Delivery)>>,
}

fn missing(arn: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        400,
        format!("Stream {arn} not found."),
    )
}

#[async_trait]
impl Target for FakeKinesis {
    async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
        if arn != STREAM {
            return Err(missing(arn));
        }
        let mut got = self.got.lock().unwrap();
        got.push((arn.to_string(), d));
        let mut info = Map::new();
        info.insert("ShardId".into(), json!("shardId-000000000000"));
        info.insert("SequenceNumber".into(), json!(got.len().to_string()));
        Ok(Delivered {
            payload: None,
            info,
        })
    }
}

#[async_trait]
impl Source for FakeKinesis {
    async fn read(
        &self,
        arn: &str,
        _position: Option<&str>,
        _max: usize,
        _options: &Map<String, Json>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError> {
        if arn == STREAM {
            Ok((Vec::new(), Some("0".into())))
        } else {
            Err(missing(arn))
        }
    }
    async fn ack(&self, _arn: &str, _acks: &[String]) -> Result<(), AwsError> {
        Ok(())
    }
}

async fn service() -> (DynamoDb, Arc<FakeKinesis>, RequestContext) {
    let ctx = ServiceContext::ephemeral().expect("ephemeral context");
    let fake = Arc::new(FakeKinesis::default());
    ctx.targets.register_target("kinesis", fake.clone());
    ctx.targets.register_source("kinesis", fake.clone());
    let db = DynamoDb::start(&ctx).await;
    let rc = RequestContext::local("dynamodb");
    db.create_table(
        &rc,
        json!({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
    )
    .await
    .unwrap();
    (db, fake, rc)
}

/// Moves the table's destinations' transitions into the past, instead of the shared clock.
fn settle(db: &DynamoDb) {
    let t = db.db.get("000000000000", "us-east-1", "orders").unwrap();
    let mut d = t.data.write().unwrap();
    let mut m = (*d.meta).clone();
    for k in &mut m.kinesis {
        k.since_ms -= TRANSITION_MS;
    }
    d.meta = Arc::new(m);
}

async fn call(db: &DynamoDb, rc: &RequestContext, op: &str, input: Json) -> Result<Json, AwsError> {
    db.dispatch(rc, false, op, input).await
}

async fn describe(db: &DynamoDb, rc: &RequestContext) -> Json {
    call(
        db,
        rc,
        "DescribeKinesisStreamingDestination",
        json!({"TableName": "orders"}),
    )
    .await
    .unwrap()["KinesisDataStreamDestinations"]
        .clone()
}

async fn records(fake: &FakeKinesis, n: usize) -> Vec<(String, Json)> {
    for _ in 0..200 {
        if fake.got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    fake.got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, d)| {
            (
                d.options["PartitionKey"].as_str().unwrap().to_string(),
                serde_json::from_slice(&d.payload).unwrap(),
            )
        })
        .collect()
}

fn error(r: Result<Json, AwsError>) -> (&'static str, String) {
    let e = r.unwrap_err();
    (e.code, e.message)
}

#[tokio::test]
async fn enabled_destinations_receive_every_change_in_order_until_disabled() {
    let (db, fake, rc) = service().await;
    let out = call(
        &db,
        &rc,
        "EnableKinesisStreamingDestination",
        json!({"TableName": "orders", "StreamArn": STREAM}),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({"TableName": "orders", "StreamArn": STREAM, "DestinationStatus": "ENABLING",
            "EnableKinesisStreamingConfiguration": {}})
    );
    assert_eq!(
        describe(&db, &rc).await,
        json!([{"StreamArn": STREAM, "DestinationStatus": "ENABLING"}])
    );
    settle(&db);
    assert_eq!(
        describe(&db, &rc).await,
        json!([{"StreamArn": STREAM, "DestinationStatus": "ACTIVE"}])
    );
    // DescribeTable does not show destinations.
    let t = call(&db, &rc, "DescribeTable", json!({"TableName": "orders"}))
        .await
        .unwrap();
    assert!(!t.to_string().contains("kinesis"));

    let item = |v: &str| json!({"TableName": "orders", "Item": {"id": {"S": "a"}, "v": {"S": v}}});
    call(&db, &rc, "PutItem", item("1")).await.unwrap();
    call(&db, &rc, "PutItem", item("2")).await.unwrap();
    // Writing the same item again changes nothing and sends nothing.
    call(&db, &rc, "PutItem", item("2")).await.unwrap();
    call(
        &db,
        &rc,
        "DeleteItem",
        json!({"TableName": "orders", "Key": {"id": {"S": "a"}}}),
    )
    .await
    .unwrap();
    let got = records(&fake, 3).await;
    let names: Vec<&str> = got
        .iter()
        .map(|(_, r)| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"]);
    assert!(got.iter().all(|(pk, _)| *pk == got[0].0));
    assert_eq!(got[1].1["dynamodb"]["OldImage"]["v"], json!({"S": "1"}));
    assert_eq!(got[1].1["dynamodb"]["NewImage"]["v"], json!({"S": "2"}));
    {
        let sent = fake.got.lock().unwrap();
        assert_eq!(
            sent[0].1.source_arn.as_deref(),
            Some("arn:aws:dynamodb:us-east-1:000000000000:table/orders")
        );
    }

    let out = call(
        &db,
        &rc,
        "DisableKinesisStreamingDestination",
        json!({"TableName": "orders", "StreamArn": STREAM}),
    )
    .await
    .unwrap();
    assert_eq!(out["DestinationStatus"], "DISABLING");
    call(&db, &rc, "PutItem", item("3")).await.unwrap();
    settle(&db);
    assert_eq!(
        describe(&db, &rc).await,
        json!([{"StreamArn": STREAM, "DestinationStatus": "DISABLED"}])
    );
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(fake.got.lock().unwrap().len(), 3);
    assert_eq!(db.stats()["kinesis"], json!({"delivered": 3, "dropped": 0}));
}

#[tokio::test]
async fn a_missing_stream_fails_the_enable_later_and_blocks_nothing() {
    let (db, fake, rc) = service().await;
    let enable = |arn: &str| json!({"TableName": "orders", "StreamArn": arn});
    let out = call(&db, &rc, "EnableKinesisStreamingDestination", enable(GONE))
        .await
        .unwrap();
    assert_eq!(out["DestinationStatus"], "ENABLING");
    // While ENABLING, nothing else may be enabled.
    assert_eq!(
        error(call(&db, &rc, "EnableKinesisStreamingDestination", enable(STREAM)).await),
        (
            "ValidationException",
            "Table is not in a valid state to enable Kinesis Streaming Destination: EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.".into()
        )
    );
    call(
        &db,
        &rc,
        "PutItem",
        json!({"TableName": "orders", "Item": {"id": {"S": "x"}}}),
    )
    .await
    .unwrap();
    settle(&db);
    assert_eq!(
        describe(&db, &rc).await,
        json!([{"StreamArn": GONE, "DestinationStatus": "ENABLE_FAILED",
            "DestinationStatusDescription": NO_PERMISSION}])
    );
    // Other regions and accounts fail with AWS's own descriptions.
    let other_region = "arn:aws:kinesis:eu-west-1:000000000000:stream/orders";
    call(
        &db,
        &rc,
        "EnableKinesisStreamingDestination",
        enable(other_region),
    )
    .await
    .unwrap();
    settle(&db);
    let list = describe(&db, &rc).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["StreamArn"], other_region);
    assert!(
        list[0]["DestinationStatusDescription"]
            .as_str()
            .unwrap()
            .ends_with("not in the current region")
    );
    // A failed entry cannot be disabled or updated; enabling it again reuses it.
    assert_eq!(
        error(call(&db, &rc, "DisableKinesisStreamingDestination", enable(GONE)).await).1,
        "Table is not in a valid state to enable Kinesis Streaming Destination: KinesisStreamingDestination must be ACTIVE to perform DISABLE operation."
    );
    call(
        &db,
        &rc,
        "EnableKinesisStreamingDestination",
        enable(STREAM),
    )
    .await
    .unwrap();
    settle(&db);
    assert_eq!(describe(&db, &rc).await[0]["DestinationStatus"], "ACTIVE");
    assert!(fake.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn precision_updates_follow_aws_rules() {
    let (db, fake, rc) = service().await;
    let arn = json!({"TableName": "orders", "StreamArn": STREAM});
    let update = |p: &str| {
        json!({"TableName": "orders", "StreamArn": STREAM,
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": p}})
    };
    let not_active = "Table is not in a valid state to enable Kinesis Streaming Destination: Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. TableName: orders, kdsArn: arn:aws:kinesis:us-east-1:000000000000:stream/orders";
    assert_eq!(
        error(
            call(
                &db,
                &rc,
                "UpdateKinesisStreamingDestination",
                update("MICROSECOND")
            )
            .await
        )
        .1,
        not_active
    );
    call(&db, &rc, "EnableKinesisStreamingDestination", arn.clone())
        .await
        .unwrap();
    settle(&db);
    assert_eq!(
        error(call(&db, &rc, "UpdateKinesisStreamingDestination", arn.clone()).await).1,
        "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration cannot be null or contain only null values"
    );
    // Unset is MILLISECOND.
    let (code, msg) = error(
        call(
            &db,
            &rc,
            "UpdateKinesisStreamingDestination",
            update("MILLISECOND"),
        )
        .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(
        msg.starts_with("Invalid Request: Precision is already set to the desired value of MILLISECOND for tableId: "),
        "{msg}"
    );
    let out = call(
        &db,
        &rc,
        "UpdateKinesisStreamingDestination",
        update("MICROSECOND"),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({"TableName": "orders", "StreamArn": STREAM, "DestinationStatus": "UPDATING",
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": "MICROSECOND"}})
    );
    assert_eq!(
        describe(&db, &rc).await,
        json!([{"StreamArn": STREAM, "DestinationStatus": "UPDATING",
            "ApproximateCreationDateTimePrecision": "MICROSECOND"}])
    );
    assert_eq!(
        error(
            call(
                &db,
                &rc,
                "UpdateKinesisStreamingDestination",
                update("MILLISECOND")
            )
            .await
        )
        .1,
        not_active
    );
    let before = clock::now_millis() * 1000;
    call(
        &db,
        &rc,
        "PutItem",
        json!({"TableName": "orders", "Item": {"id": {"S": "a"}}}),
    )
    .await
    .unwrap();
    let got = records(&fake, 1).await;
    let at = got[0].1["dynamodb"]["ApproximateCreationDateTime"]
        .as_i64()
        .unwrap();
    assert!(at >= before, "{at} < {before}: not microseconds");
    // Disabling takes no configuration.
    let mut with_config = arn.clone();
    with_config["EnableKinesisStreamingConfiguration"] =
        json!({"ApproximateCreationDateTimePrecision": "MICROSECOND"});
    assert_eq!(
        error(call(&db, &rc, "DisableKinesisStreamingDestination", with_config).await).1,
        "Stream cannot be disabled using EnableKinesisStreamingConfiguration parameters"
    );
}

#[tokio::test]
async fn a_missing_table_is_not_found_and_a_deleted_stream_loses_records_not_writes() {
    let (db, fake, rc) = service().await;
    assert_eq!(
        error(
            call(
                &db,
                &rc,
                "DescribeKinesisStreamingDestination",
                json!({"TableName": "nope"})
            )
            .await
        ),
        (
            "ResourceNotFoundException",
            "Requested resource not found: Table: nope not found".into()
        )
    );
    // A destination whose stream went away after it was enabled: AWS keeps it ACTIVE.
    {
        let t = db.db.get("000000000000", "us-east-1", "orders").unwrap();
        let mut d = t.data.write().unwrap();
        let mut m = (*d.meta).clone();
        m.kinesis.push(Destination {
            stream_arn: GONE.into(),
            phase: Phase::Enabling,
            since_ms: 0,
            precision: None,
            failure: None,
        });
        d.meta = Arc::new(m);
    }
    call(
        &db,
        &rc,
        "PutItem",
        json!({"TableName": "orders", "Item": {"id": {"S": "kept"}}}),
    )
    .await
    .unwrap();
    for _ in 0..200 {
        if db.db.kinesis.counters.dropped.load(Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(db.stats()["kinesis"], json!({"delivered": 0, "dropped": 1}));
    assert!(fake.got.lock().unwrap().is_empty());
    assert_eq!(describe(&db, &rc).await[0]["DestinationStatus"], "ACTIVE");
    let got = call(
        &db,
        &rc,
        "GetItem",
        json!({"TableName": "orders", "Key": {"id": {"S": "kept"}}}),
    )
    .await
    .unwrap();
    assert_eq!(got["Item"]["id"], json!({"S": "kept"}));
}

#[tokio::test]
async fn destinations_survive_a_restart_and_end_with_their_table() {
    let mut ctx = ServiceContext::ephemeral().expect("ephemeral context");
    ctx.store = Arc::new(aloft_store::Memory::new());
    let fake = Arc::new(FakeKinesis::default());
    ctx.targets.register_target("kinesis", fake.clone());
    ctx.targets.register_source("kinesis", fake.clone());
    let rc = RequestContext::local("dynamodb");
    let create = json!({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]});
    let db = DynamoDb::start(&ctx).await;
    db.create_table(&rc, create.clone()).await.unwrap();
    call(
        &db,
        &rc,
        "EnableKinesisStreamingDestination",
        json!({"TableName": "orders", "StreamArn": STREAM,
            "EnableKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": "MICROSECOND"}}),
    )
    .await
    .unwrap();
    let before = describe(&db, &rc).await;

    let again = DynamoDb::start(&ctx).await;
    assert_eq!(describe(&again, &rc).await, before);
    call(&again, &rc, "DeleteTable", json!({"TableName": "orders"}))
        .await
        .unwrap();
    again.create_table(&rc, create).await.unwrap();
    assert_eq!(describe(&again, &rc).await, json!([]));
}

#[tokio::test]
async fn the_fast_path_delivers_too() {
    let (db, fake, rc) = service().await;
    call(
        &db,
        &rc,
        "EnableKinesisStreamingDestination",
        json!({"TableName": "orders", "StreamArn": STREAM}),
    )
    .await
    .unwrap();
    let parts = crate::fast::tests::parts("PutItem");
    let body = br#"{"TableName":"orders","Item":{"id":{"S":"fast"}}}"#;
    let resp = crate::fast::try_serve(&db, &rc, &parts, body).await;
    assert!(resp.is_some(), "the fast path declined a plain PutItem");
    let body = br#"{"TableName":"orders","Key":{"id":{"S":"fast"}}}"#;
    let parts = crate::fast::tests::parts("DeleteItem");
    assert!(
        crate::fast::try_serve(&db, &rc, &parts, body)
            .await
            .is_some()
    );
    let got = records(&fake, 2).await;
    let names: Vec<&str> = got
        .iter()
        .map(|(_, r)| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["INSERT", "REMOVE"]);
}

/// The in-memory store, claiming durability so that DynamoDB journals what `--data-dir` keeps.
#[derive(Default)]
struct Kept(aloft_store::Memory);

impl aloft_store::Store for Kept {
    fn is_durable(&self) -> bool {
        true
    }
    fn load(
        &self,
        ns: &str,
        prefix: &[u8],
    ) -> Result<aloft_store::Entries, aloft_store::StoreError> {
        self.0.load(ns, prefix)
    }
    fn submit(&self, batch: aloft_store::Batch) -> aloft_store::Commit {
        self.0.submit(batch)
    }
    fn clear(&self, ns: &str, prefix: &[u8]) -> aloft_store::Commit {
        self.0.clear(ns, prefix)
    }
    fn flush(&self) -> aloft_store::Commit {
        self.0.flush()
    }
}

#[tokio::test]
async fn records_journaled_before_a_crash_are_delivered_after_the_restart() {
    let mut ctx = ServiceContext::ephemeral().expect("ephemeral context");
    ctx.store = Arc::new(Kept::default());
    // Writes of a process whose worker never ran: their records stay in the journal.
    let db = crate::state::Db::new(ctx.store.clone());
    let input = json!({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]});
    let mut meta = crate::tables::from_create(&input, "000000000000", "us-east-1", 0).unwrap();
    meta.kinesis.push(dest(Phase::Enabling, 0, None));
    let mut batch = aloft_store::Batch::new();
    db.save_meta(&meta, &mut batch);
    let mut data = crate::state::TableData::new(meta);
    for v in ["1", "2"] {
        let item = item_from_json(&json!({"id": {"S": "a"}, "v": {"S": v}})).unwrap();
        let key = data.meta.schema.item_key(&item).unwrap();
        data.write(&db, key, Some(item), Actor::User, &mut batch);
    }
    ctx.store.submit(batch).await.unwrap();
    assert_eq!(ctx.store.load(NS_KINESIS, b"").unwrap().len(), 2);

    let fake = Arc::new(FakeKinesis::default());
    ctx.targets.register_target("kinesis", fake.clone());
    let _service = DynamoDb::start(&ctx).await;
    let got = records(&fake, 2).await;
    let seen: Vec<(&str, &str)> = got
        .iter()
        .map(|(_, r)| {
            (
                r["eventName"].as_str().unwrap(),
                r["dynamodb"]["NewImage"]["v"]["S"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("INSERT", "1"), ("MODIFY", "2")]);
    // Delivered records leave the journal.
    for _ in 0..200 {
        if ctx.store.load(NS_KINESIS, b"").unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(ctx.store.load(NS_KINESIS, b"").unwrap().is_empty());
}
