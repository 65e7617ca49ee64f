//! Destinations' states, the records' format and the journal's value formats (the
//! operations and the delivery are tested in `handlers/kinesis_destinations_tests.rs`).

use serde_json::{Value as Json, json};

use super::*;
use crate::domain::value::item_from_json;

pub(crate) const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";

pub(crate) fn dest(phase: Phase, since_ms: i64, failure: Option<&str>) -> Destination {
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
