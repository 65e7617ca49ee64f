//! The SearchVectors fast path against the generic path: same requests, byte-identical
//! answers, and the fast path takes exactly the plain ones.

use aloft_core::ServiceContext;
use serde_json::json;

use super::*;
use crate::fast::tests::{compare_on, rc};

async fn service() -> DynamoDb {
    let ctx = ServiceContext::ephemeral().expect("ephemeral context");
    let db = DynamoDb::start(&ctx).await;
    let rc = rc();
    db.create_table(
        &rc,
        json!({"TableName": "docs", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                     {"AttributeName": "cat", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "VectorIndexes": [
                {"IndexName": "byEmb", "VectorAttribute": {"AttributeName": "emb"},
                 "Dimensions": 3, "DistanceFunction": "COSINE",
                 "Projection": {"ProjectionType": "KEYS_ONLY"}},
                {"IndexName": "all.emb", "VectorAttribute": {"AttributeName": "emb"},
                 "Dimensions": 3, "DistanceFunction": "DOT_PRODUCT",
                 "Projection": {"ProjectionType": "ALL"}},
                {"IndexName": "byCat", "VectorAttribute": {"AttributeName": "emb"},
                 "Dimensions": 3, "DistanceFunction": "EUCLIDEAN",
                 "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "SearchSchema": [{"AttributeName": "cat", "SearchSchemaElementType": "HASH"}]}]}),
    )
    .await
    .expect("docs");
    for i in 0..20 {
        db.put_item(
            &rc,
            json!({"TableName": "docs", "Item": {"id": {"S": format!("d{i}")}, "cat": {"S": "c"},
                "n": {"N": format!("{i}.5")}, "b": {"B": "AAE="}, "t": {"BOOL": true},
                "emb": {"L": [{"N": format!("{}", i % 4)}, {"N": "-1.25"}, {"N": format!("{}", i % 3)}]}}}),
        )
        .await
        .expect("put");
    }
    db
}

fn search(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("SearchVectors", body.to_string(), fast)
}

#[tokio::test]
async fn plain_searches_take_the_fast_path_with_the_same_answers() {
    let v = r#"[{"N":"1"},{"N":"0.5"},{"N":"-2"}]"#;
    let cases = vec![
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":3}}"#),
            true,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"all.emb","SearchVector":{v},"TopK":100}}"#
            ),
            true,
        ),
        search(
            &format!(
                r#" {{ "TopK" : 5 , "SearchVector" : {v} , "IndexName" : "byEmb" , "TableName" : "docs" , "ReturnConsumedCapacity" : "TOTAL" }} "#
            ),
            true,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":1,"ReturnConsumedCapacity":"INDEXES"}}"#
            ),
            true,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":1,"ReturnConsumedCapacity":"NONE"}}"#
            ),
            true,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"0"},{"N":"0"},{"N":"0.0"}],"TopK":2}"#,
            true,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1E+2"},{"N":"-0.000001"},{"N":"3"}],"TopK":2}"#,
            true,
        ),
        // Everything else goes the generic way: expressions, ARNs, bad values, errors.
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"all.emb","SearchVector":{v},"TopK":3,"ProjectionExpression":"id, n"}}"#
            ),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byCat","SearchVector":{v},"TopK":3,"SearchConditionExpression":"cat = :c","ExpressionAttributeValues":{{":c":{{"S":"c"}}}}}}"#
            ),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byCat","SearchVector":{v},"TopK":3}}"#),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/docs","IndexName":"byEmb","SearchVector":{v},"TopK":3}}"#
            ),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"nope","IndexName":"byEmb","SearchVector":{v},"TopK":3}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"nope","SearchVector":{v},"TopK":3}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v}}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":0}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":101}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":1.0}}"#),
            false,
        ),
        search(
            &format!(r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":"3"}}"#),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":null}}"#
            ),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":3,"TopK":4}}"#
            ),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":3,"Foo":1}}"#
            ),
            false,
        ),
        search(
            &format!(
                r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":{v},"TopK":3,"ReturnConsumedCapacity":"ALL"}}"#
            ),
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},{"N":"2"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},{"S":"2"},{"N":"3"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},{"N":"1e40"},{"N":"3"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},{"N":"x"},{"N":"3"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},null,{"N":"3"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":{"N":"1"},"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"do\u0063s","IndexName":"byEmb","SearchVector":[{"N":"1"},{"N":"2"},{"N":"3"}],"TopK":3}"#,
            false,
        ),
        search(
            r#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"},{"N":"2"},{"N":"3"}],"TopK":3} x"#,
            false,
        ),
    ];
    compare_on(&service().await, &service().await, &cases).await;
}

#[test]
fn the_reader_takes_only_plain_requests() {
    let s =
        parse(br#"{"TableName":"docs","IndexName":"byEmb","SearchVector":[{"N":"1"}],"TopK":7}"#)
            .expect("plain");
    assert_eq!(
        (s.table, s.index, s.top_k, s.consumed),
        ("docs", "byEmb", 7, false)
    );
    assert_eq!(s.vector.len(), 1);
    let long = format!(
        r#"{{"TableName":"docs","IndexName":"byEmb","SearchVector":[{}],"TopK":7}}"#,
        vec![r#"{"N":"1"}"#; 4097].join(",")
    );
    assert!(parse(long.as_bytes()).is_none());
    assert!(parse(br#"{"TableName":"docs","IndexName":"byEmb","TopK":7}"#).is_none());
    assert!(
        parse(br#"{"TableName":"docs","IndexName":"ix","SearchVector":[{"N":"1"}],"TopK":7}"#)
            .is_none()
    );
}
