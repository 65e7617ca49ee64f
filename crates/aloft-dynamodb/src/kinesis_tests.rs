//! Destinations' states, the records' format and their delivery through a fake Kinesis
//! registered on the bus for `kinesis` ARNs.

use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, RequestContext, ServiceContext, clock};
use aloft_events::{Delivered, Delivery, Source, SourceRecord, Target};
use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use super::*;
use crate::DynamoDb;
use crate::domain::value::item_from_json;

const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
const GONE: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/gone";

fn dest(phase: Phase, since_ms: i64, failure: Option<&str>) -> Destination {
    Destination {
        stream_arn: STREAM.into(),
        phase,
        since_ms,
        precision: None,
        failure: failure.map(str::to_string),
    }
}

#[test]
fn transitions_settle_after_a_second_of_the_clock() {
    let t = 1_000_000;
    let later = t + TRANSITION_MS;
    let cases = [
        (
            dest(Phase::Enabling, t, None),
            Status::Enabling,
            Status::Active,
        ),
        (
            dest(Phase::Enabling, t, Some(NO_PERMISSION)),
            Status::Enabling,
            Status::EnableFailed,
        ),
        (
            dest(Phase::Updating, t, None),
            Status::Updating,
            Status::Active,
        ),
        (
            dest(Phase::Disabling, t, None),
            Status::Disabling,
            Status::Disabled,
        ),
    ];
    for (d, during, after) in cases {
        assert_eq!(d.status(t + 10), during, "{d:?}");
        assert_eq!(d.status(later), after, "{d:?}");
    }
}

#[test]
fn only_live_destinations_block_and_only_enabled_ones_deliver() {
    let t = 1_000_000;
    let later = t + TRANSITION_MS;
    let ok = dest(Phase::Enabling, t, None);
    let bad = dest(Phase::Enabling, t, Some(NO_PERMISSION));
    let off = dest(Phase::Disabling, t, None);
    assert!(ok.delivers(t) && ok.delivers(later) && ok.live(later));
    assert!(!bad.delivers(t) && bad.live(t) && !bad.live(later));
    assert!(!off.delivers(t) && off.live(t) && !off.live(later));
    assert!(dest(Phase::Updating, t, None).delivers(t));
}

#[test]
fn describe_shows_a_description_only_when_failed_and_a_precision_only_when_set() {
    let t = 1_000_000;
    let later = t + TRANSITION_MS;
    let mut d = dest(Phase::Enabling, t, Some(NO_PERMISSION));
    assert_eq!(
        d.describe(t),
        json!({"StreamArn": STREAM, "DestinationStatus": "ENABLING"})
    );
    assert_eq!(
        d.describe(later),
        json!({"StreamArn": STREAM, "DestinationStatus": "ENABLE_FAILED",
            "DestinationStatusDescription": NO_PERMISSION})
    );
    d.failure = None;
    d.precision = Some("MICROSECOND".into());
    assert_eq!(
        d.describe(later),
        json!({"StreamArn": STREAM, "DestinationStatus": "ACTIVE",
            "ApproximateCreationDateTimePrecision": "MICROSECOND"})
    );
}

#[test]
fn destinations_round_trip_through_the_journal_and_old_definitions_have_none() {
    let input = json!({"TableName": "tab1", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]});
    let mut meta = crate::tables::from_create(&input, "1", "r", 0).unwrap();
    let plain = serde_json::to_vec(&meta).unwrap();
    assert!(!String::from_utf8_lossy(&plain).contains("kinesis"));
    meta.kinesis.push(dest(Phase::Updating, 5, None));
    let back: TableMeta = serde_json::from_slice(&serde_json::to_vec(&meta).unwrap()).unwrap();
    assert_eq!(back.kinesis, meta.kinesis);
    let old: TableMeta = serde_json::from_slice(&plain).unwrap();
    assert!(old.kinesis.is_empty());
}

/// A change on a table keyed `pk` and `sk`, made at a fixed time.
struct Owned {
    meta: TableMeta,
    old: Option<Item>,
    new: Option<Item>,
    actor: Actor,
}

fn change(old: Option<Json>, new: Option<Json>, actor: Actor) -> Owned {
    let input = json!({"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}]});
    Owned {
        meta: crate::tables::from_create(&input, "000000000000", "us-east-1", 0).unwrap(),
        old: old.map(|j| item_from_json(&j).unwrap()),
        new: new.map(|j| item_from_json(&j).unwrap()),
        actor,
    }
}

fn rendered(c: &Owned, precision: Option<&str>) -> (String, Json) {
    let view = Change {
        meta: &c.meta,
        old: c.old.as_ref(),
        new: c.new.as_ref(),
        actor: c.actor,
        at_ms: 1_700_000_000_123,
    };
    let text = String::from_utf8(render(&view, precision)).unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

#[test]
fn pending_records_round_trip_through_the_journal() {
    let p = Pending {
        journal: Some(b"000000000000/us-east-1/id/\x00\x01".to_vec()),
        stream_arn: STREAM.into(),
        partition_key: partition_key(b"k"),
        payload: Bytes::from_static(br#"{"awsRegion":"us-east-1","x":"\u00e9"}"#),
        table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/orders".into(),
        account: "000000000000".into(),
        region: "us-east-1".into(),
    };
    let back = Pending::from_journal(p.journal.clone().unwrap(), &p.to_journal()).unwrap();
    assert_eq!(back, p);
    assert!(Pending::from_journal(Vec::new(), b"{}").is_none());
}

#[test]
fn records_are_aws_kinesis_records_with_both_images() {
    let old = json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x"}});
    let new = json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "yy"}});
    let c = change(Some(old.clone()), Some(new.clone()), Actor::User);
    let (text, r) = rendered(&c, None);
    // AWS's member order, top level and in `dynamodb`.
    assert!(
        text.starts_with(r#"{"awsRegion":"us-east-1","eventID":""#),
        "{text}"
    );
    let order: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        order,
        [
            "awsRegion",
            "eventID",
            "eventName",
            "userIdentity",
            "recordFormat",
            "tableName",
            "dynamodb",
            "eventSource"
        ]
    );
    assert_eq!(r["eventName"], "MODIFY");
    assert_eq!(r["userIdentity"], Json::Null);
    assert_eq!(r["recordFormat"], "application/json");
    assert_eq!(r["tableName"], "orders");
    assert_eq!(r["eventSource"], "aws:dynamodb");
    assert_eq!(r["eventID"].as_str().unwrap().len(), 36);
    let d = &r["dynamodb"];
    let members: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        members,
        [
            "ApproximateCreationDateTime",
            "Keys",
            "NewImage",
            "OldImage",
            "SizeBytes"
        ]
    );
    assert_eq!(d["ApproximateCreationDateTime"], 1_700_000_000_123_i64);
    assert_eq!(d["Keys"], json!({"pk": {"S": "a"}, "sk": {"N": "1"}}));
    assert_eq!(d["NewImage"], new);
    assert_eq!(d["OldImage"], old);
    // The keys and both images, as AWS sizes items.
    let size = |j: &Json| item_size(&item_from_json(j).unwrap());
    let keys = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    assert_eq!(d["SizeBytes"], size(&keys) + size(&old) + size(&new));
}

#[test]
fn inserts_and_removes_carry_one_image_and_ttl_deletes_the_service_identity() {
    let item = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    let (_, r) = rendered(&change(None, Some(item.clone()), Actor::User), None);
    assert_eq!(r["eventName"], "INSERT");
    assert!(r["dynamodb"].get("OldImage").is_none());
    let (_, r) = rendered(&change(Some(item), None, Actor::TtlService), None);
    assert_eq!(r["eventName"], "REMOVE");
    assert!(r["dynamodb"].get("NewImage").is_none());
    assert_eq!(
        r["userIdentity"],
        json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
    );
}

#[test]
fn the_precision_scales_the_timestamp_and_is_named_when_set() {
    let c = change(
        None,
        Some(json!({"pk": {"S": "a"}, "sk": {"N": "1"}})),
        Actor::User,
    );
    let (_, r) = rendered(&c, Some("MICROSECOND"));
    assert_eq!(
        r["dynamodb"]["ApproximateCreationDateTime"],
        1_700_000_000_123_000_i64
    );
    assert_eq!(
        r["dynamodb"]["ApproximateCreationDateTimePrecision"],
        "MICROSECOND"
    );
    let (_, r) = rendered(&c, Some("MILLISECOND"));
    assert_eq!(
        r["dynamodb"]["ApproximateCreationDateTime"],
        1_700_000_000_123_i64
    );
    assert_eq!(
        r["dynamodb"]["ApproximateCreationDateTimePrecision"],
        "MILLISECOND"
    );
}

#[test]
fn partition_keys_are_32_upper_hex_digits_per_item() {
    let a = partition_key(b"item-a");
    assert_eq!(a.len(), 32);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    );
    assert_eq!(a, partition_key(b"item-a"));
    assert_ne!(a, partition_key(b"item-b"));
}

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
