//! Query and Scan's fast path against the generic path: the same requests on two services
//! with the same items, one answered only by the generic path, the other by the fast path
//! (falling back as it decides); answers must be byte-identical, and the fast path must take
//! exactly the requests it is meant for.

use serde_json::json;

use crate::DynamoDb;
use crate::fast::tests::{compare_on, rc};

async fn service() -> DynamoDb {
    let ctx = aloft_core::ServiceContext::ephemeral().expect("ephemeral context");
    let db = DynamoDb::start(&ctx).await;
    let rc = rc();
    db.create_table(
        &rc,
        json!({"TableName": "qtab", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"},
                                     {"AttributeName": "l", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "LocalSecondaryIndexes": [{"IndexName": "byL",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            "GlobalSecondaryIndexes": [{"IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}}]}),
    )
    .await
    .expect("qtab");
    db.create_table(
        &rc,
        json!({"TableName": "htab", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
    )
    .await
    .expect("htab");
    for p in 0..3 {
        for s in 0..8 {
            let mut item = json!({"pk": {"S": format!("p{p}")}, "sk": {"N": format!("{s}")},
                "name": {"S": format!("name \"{p}\" {s}")}, "n": {"N": format!("{}.5", s * 10)},
                "tags": {"SS": ["a", format!("t{s}")]},
                "doc": {"M": {"lst": {"L": [{"N": "1"}, {"S": "two"}, {"BOOL": s % 2 == 0}]},
                              "b": {"B": "AAEC"}, "nul": {"NULL": true}}}});
            if s % 2 == 0 {
                item["l"] = json!({"S": format!("l{}", 7 - s)});
            }
            if s % 3 == 0 {
                item["g"] = json!({"S": format!("g{}", s % 2)});
            }
            db.put_item(&rc, json!({"TableName": "qtab", "Item": item}))
                .await
                .expect("put");
        }
    }
    for i in 0..40 {
        db.put_item(
            &rc,
            json!({"TableName": "htab", "Item": {"id": {"S": format!("id{i}")},
                "v": {"N": format!("{i}")}, "big": {"S": "x".repeat(i * 50)}}}),
        )
        .await
        .expect("put");
    }
    db
}

/// Runs `(op, body, fast?)` on both services; answers must match byte for byte.
async fn compare(cases: &[(&str, String, bool)]) {
    compare_on(&service().await, &service().await, cases).await;
}

fn query(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("Query", body.to_string(), fast)
}

fn scan(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("Scan", body.to_string(), fast)
}

#[tokio::test]
async fn plain_queries_and_scans_take_the_fast_path_with_the_same_answers() {
    let q = |rest: &str| {
        query(
            &format!(r#"{{"TableName":"qtab","KeyConditionExpression":"pk = :p"{rest}}}"#),
            true,
        )
    };
    let vp = r#","ExpressionAttributeValues":{":p":{"S":"p1"}"#;
    let cases = vec![
        q(&format!("{vp}}}")),
        q(&format!(
            r#"{vp}}},"ReturnConsumedCapacity":"TOTAL","ConsistentRead":true"#
        )),
        q(&format!(r#"{vp}}},"ReturnConsumedCapacity":"INDEXES""#)),
        q(&format!(r#"{vp}}},"ReturnConsumedCapacity":"NONE""#)),
        q(&format!(r#"{vp}}},"Limit":3"#)),
        q(&format!(r#"{vp}}},"Limit":8"#)),
        q(&format!(r#"{vp}}},"Limit":3,"ScanIndexForward":false"#)),
        q(&format!(
            r#"{vp}}},"Limit":3,"ExclusiveStartKey":{{"pk":{{"S":"p1"}},"sk":{{"N":"2"}}}}"#
        )),
        q(&format!(
            r#"{vp}}},"ScanIndexForward":false,"ExclusiveStartKey":{{"pk":{{"S":"p1"}},"sk":{{"N":"5"}}}}"#
        )),
        q(&format!(r#"{vp}}},"Select":"COUNT""#)),
        q(&format!(r#"{vp}}},"Select":"ALL_ATTRIBUTES""#)),
        q(&format!(
            r##"{vp}}},"Select":"SPECIFIC_ATTRIBUTES","ProjectionExpression":"#n, doc.lst[1], tags","ExpressionAttributeNames":{{"#n":"name"}}"##
        )),
        q(&format!(
            r#"{vp}}},"ProjectionExpression":"doc.b, sk, absent""#
        )),
        q(&format!(
            r#"{vp},":a":{{"N":"20"}}}},"FilterExpression":"n > :a""#
        )),
        q(&format!(
            r#"{vp},":t":{{"S":"t3"}},":x":{{"N":"3"}}}},"FilterExpression":"contains(tags, :t) OR size(tags) > :x OR attribute_exists(l)""#
        )),
        q(&format!(
            r#"{vp},":t":{{"S":"t3"}}}},"FilterExpression":"NOT contains(tags, :t)","Select":"COUNT","Limit":5"#
        )),
        // No partition of that name.
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"nope"}},"ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        // Sort key conditions.
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"p2"},":a":{"N":"2"},":b":{"N":"5"}}}"#,
            true,
        ),
        query(
            r##"{"TableName":"qtab","KeyConditionExpression":":a <= sk AND #k = :p","ExpressionAttributeNames":{"#k":"pk"},"ExpressionAttributeValues":{":p":{"S":"p2"},":a":{"N":"6"}}}"##,
            true,
        ),
        query(
            r#" { "TableName" : "qtab" , "KeyConditionExpression" : "pk = :p AND sk < :a" ,
              "ExpressionAttributeValues" : { ":p" : { "S" : "p0" } , ":a" : { "N" : "3" } } } "#,
            true,
        ),
        // Indexes: a local one (KEYS_ONLY), a global one (INCLUDE).
        query(
            r#"{"TableName":"qtab","IndexName":"byL","KeyConditionExpression":"pk = :p AND begins_with(l, :l)","ExpressionAttributeValues":{":p":{"S":"p1"},":l":{"S":"l"}},"ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byL","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"}},"Select":"ALL_ATTRIBUTES","Limit":2}"#,
            true,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g0"}},"ReturnConsumedCapacity":"INDEXES","Limit":2}"#,
            true,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g0"}},"Select":"ALL_PROJECTED_ATTRIBUTES","ExclusiveStartKey":{"g":{"S":"g0"},"sk":{"N":"0"},"pk":{"S":"p1"}}}"#,
            true,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g1"}},"Select":"COUNT","ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        // Scans: whole, paged, segments, filters, indexes.
        scan(r#"{"TableName":"htab"}"#, true),
        scan(
            r#"{"TableName":"htab","Limit":7,"ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        scan(
            r#"{"TableName":"htab","Limit":7,"ExclusiveStartKey":{"id":{"S":"id17"}}}"#,
            true,
        ),
        scan(
            r#"{"TableName":"htab","Segment":1,"TotalSegments":3}"#,
            true,
        ),
        scan(
            r#"{"TableName":"htab","Segment":0,"TotalSegments":2,"Limit":4,"ConsistentRead":true,"ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        scan(
            r#"{"TableName":"htab","FilterExpression":"v >= :a AND v < :b","ExpressionAttributeValues":{":a":{"N":"10"},":b":{"N":"30"}},"ProjectionExpression":"id, v"}"#,
            true,
        ),
        scan(
            r#"{"TableName":"htab","Select":"COUNT","FilterExpression":"v IN (:a, :b)","ExpressionAttributeValues":{":a":{"N":"1"},":b":{"N":"3"}}}"#,
            true,
        ),
        scan(r#"{"TableName":"qtab","IndexName":"byG"}"#, true),
        scan(
            r#"{"TableName":"qtab","IndexName":"byL","Limit":5,"ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        scan(r#"{"TableName":"qtab","Limit":1}"#, true),
    ];
    compare(&cases).await;
}

#[tokio::test]
async fn everything_else_falls_back_with_the_generic_answer() {
    let kc = r#""TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"}}"#;
    let q = |rest: &str, fast: bool| query(&format!("{{{kc}{rest}}}"), fast);
    let cases = vec![
        // Legacy parameters.
        query(
            r#"{"TableName":"qtab","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p1"}]}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p1"}]}},"QueryFilter":{"sk":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"3"}]}},"ConditionalOperator":"AND"}"#,
            false,
        ),
        q(r#","AttributesToGet":["pk"]"#, false),
        q(
            r#","QueryFilter":{"sk":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"3"}]}}"#,
            false,
        ),
        scan(
            r#"{"TableName":"htab","ScanFilter":{"v":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"3"}]}}}"#,
            false,
        ),
        scan(r#"{"TableName":"htab","AttributesToGet":["id"]}"#, false),
        // Errors: every one is the generic path's.
        query(
            r#"{"TableName":"nosuch","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"}}}"#,
            false,
        ),
        query(r#"{"TableName":"qtab"}"#, false),
        query(r#"{"KeyConditionExpression":"pk = :p"}"#, false),
        query(
            r#"{"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"}}}"#,
            false,
        ),
        q(r#","Limit":0"#, false),
        q(r#","Limit":-1"#, false),
        q(r#","Limit":1.5"#, false),
        q(r#","Limit":"3""#, false),
        q(r#","Select":"ALL_PROJECTED_ATTRIBUTES""#, false),
        q(r#","Select":"SOME""#, false),
        q(r#","Select":"COUNT","ProjectionExpression":"pk""#, false),
        q(r#","Select":"SPECIFIC_ATTRIBUTES""#, false),
        q(r#","ReturnConsumedCapacity":"ALL""#, false),
        q(r#","IndexName":"nope""#, false),
        q(r#","IndexName":"x""#, false),
        q(r#","ConsistentRead":null"#, false),
        q(r#","ExclusiveStartKey":{"pk":{"S":"p1"}}"#, false),
        q(r#","ExclusiveStartKey":{}"#, false),
        q(r##","ExpressionAttributeNames":{"#x":"y"}"##, false),
        q(r#","ExpressionAttributeNames":{}"#, false),
        q(r#","FilterExpression":"size(#u) > :p""#, false),
        q(r#","ProjectionExpression":"a,,b""#, false),
        q(r#","Segment":0,"TotalSegments":2"#, false),
        q(r#","TableName":"qtab""#, false),
        q(r#","Unknown":1"#, false),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"},":q":{"S":"x"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"N":"1"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p OR sk = :s","ExpressionAttributeValues":{":p":{"S":"p1"},":s":{"N":"1"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"sk = :s","ExpressionAttributeValues":{":s":{"N":"1"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{"p":{"S":"p1"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p1"},":p":{"S":"p2"}}}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g0"}},"ConsistentRead":true}"#,
            false,
        ),
        query(
            r#"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g0"}},"Select":"ALL_ATTRIBUTES"}"#,
            false,
        ),
        // Valid, but with what this reader leaves alone: an escape, an unusual number.
        query(
            r#"{"TableName":"qtab","KeyConditionExpression":"pk\u0020= :p","ExpressionAttributeValues":{":p":{"S":"p1"}}}"#,
            false,
        ),
        q(r#","Limit":1e1"#, false),
        scan(
            r#"{"TableName":"htab","KeyConditionExpression":"id = :i"}"#,
            false,
        ),
        scan(r#"{"TableName":"htab","Segment":1}"#, false),
        scan(r#"{"TableName":"htab","TotalSegments":2}"#, false),
        scan(
            r#"{"TableName":"htab","Segment":2,"TotalSegments":2}"#,
            false,
        ),
        scan(
            r#"{"TableName":"htab","Segment":0,"TotalSegments":0}"#,
            false,
        ),
        scan(
            r#"{"TableName":"htab","Segment":1000000,"TotalSegments":1000000}"#,
            false,
        ),
        scan(
            r#"{"TableName":"htab","Segment":0,"TotalSegments":1000001}"#,
            false,
        ),
        scan(
            r#"{"TableName":"htab","Segment":0,"TotalSegments":4,"ExclusiveStartKey":{"id":{"S":"id3"}}}"#,
            false,
        ),
        scan(r#"{"TableName":"htab","ScanIndexForward":false}"#, false),
        scan(r#"{"TableName":"htab"} x"#, false),
        scan(r#"{"TableName":"htab""#, false),
    ];
    compare(&cases).await;
}

#[test]
fn parses_typed_inputs() {
    use super::parse_read;
    let body = br##"{"TableName":"qtab","IndexName":"byG","KeyConditionExpression":"#g = :g",
        "FilterExpression":"a > :a","ProjectionExpression":"a, b","Select":"SPECIFIC_ATTRIBUTES",
        "ExpressionAttributeNames":{"#g":"g"},"ExpressionAttributeValues":{":g":{"S":"x"},":a":{"N":"1"}},
        "Limit":25,"ScanIndexForward":false,"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL",
        "ExclusiveStartKey":{"g":{"S":"x"}}}"##;
    let r = parse_read(body, true).expect("parsed");
    assert!(r.is_query);
    assert_eq!(r.table, Some("qtab"));
    assert_eq!(r.index, Some("byG"));
    assert_eq!(r.key_condition, Some("#g = :g"));
    assert_eq!(r.filter, Some("a > :a"));
    assert_eq!(r.projection, Some("a, b"));
    assert_eq!(r.select, Some("SPECIFIC_ATTRIBUTES"));
    assert_eq!(r.limit, Some(25));
    assert!(!r.forward && r.consistent);
    assert_eq!(r.return_consumed, Some("TOTAL"));
    assert!(r.legacy.is_none());
    assert!(matches!(r.start_key, Some(Ok(ref k)) if k.len() == 1));
    let ctx = r.ctx.expect("context");
    assert!(ctx.has_names() && ctx.has_values());
    // The same members on a Scan: the Query-only ones are refused.
    assert!(parse_read(body, false).is_none());
    let scan = parse_read(
        br#"{"TableName":"htab","Segment":3,"TotalSegments":4}"#,
        false,
    )
    .expect("scan");
    assert_eq!((scan.segment, scan.total_segments), (Some(3), Some(4)));
    assert!(scan.forward && !scan.consistent);
    assert!(
        parse_read(
            br#"{"TableName":"htab","Segment":3,"TotalSegments":4}"#,
            true
        )
        .is_none()
    );
    for bad in [
        &br#"{"TableName":"htab","Limit":01}"#[..],
        br#"{"TableName":"htab","Limit":2147483648}"#,
        br#"{"TableName":"htab","Limit":1234567890123456}"#,
        br#"{"TableName":"htab","TableName":"htab"}"#,
        br#"{"TableName":"htab","Select":"count"}"#,
    ] {
        assert!(
            parse_read(bad, false).is_none(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        parse_read(br#"{"TableName":"htab","Limit":2147483647}"#, false)
            .expect("max")
            .limit,
        Some(i32::MAX as i64)
    );
}

#[test]
fn counts_are_written_in_decimal() {
    for n in [0usize, 7, 10, 99, 1000, 123_456_789, usize::MAX] {
        let mut out = Vec::new();
        super::write_usize(&mut out, n);
        assert_eq!(out, n.to_string().into_bytes());
    }
}
