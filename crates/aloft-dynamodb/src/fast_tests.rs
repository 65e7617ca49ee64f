//! The fast path against the generic path: two services get the same requests, one served
//! only by the generic path, the other by the fast path (falling back as it decides); every
//! answer must be byte-identical, and the fast path must have taken exactly the cases it is
//! meant for.

use aloft_core::{RequestContext, ServiceContext};
use serde_json::json;

use crate::DynamoDb;

async fn service() -> DynamoDb {
    let ctx = ServiceContext::ephemeral().expect("ephemeral context");
    let db = DynamoDb::start(&ctx).await;
    let rc = rc();
    db.create_table(
        &rc,
        json!({"TableName": "tab1", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]}),
    )
    .await
    .expect("tab1");
    db.create_table(
        &rc,
        json!({"TableName": "tab2", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": "N"},
                                     {"AttributeName": "r", "AttributeType": "B"},
                                     {"AttributeName": "l", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"},
                          {"AttributeName": "r", "KeyType": "RANGE"}],
            "LocalSecondaryIndexes": [{"IndexName": "byL",
                "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"},
                              {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}]}),
    )
    .await
    .expect("tab2");
    db
}

pub(crate) fn rc() -> RequestContext {
    RequestContext::local("dynamodb")
}

pub(crate) fn parts(op: &str) -> http::request::Parts {
    http::Request::post("/")
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(())
        .expect("request")
        .into_parts()
        .0
}

pub(crate) async fn answer(resp: aloft_core::Response) -> (u16, Vec<u8>) {
    let status = resp.status().as_u16();
    let Ok(body) = aloft_core::body::collect_limited(resp.into_body(), 1 << 24).await else {
        panic!("unreadable body");
    };
    (status, body.to_vec())
}

/// Runs `(op, body, fast?)` on both services; answers must match byte for byte.
async fn compare(cases: &[(&str, String, bool)]) {
    compare_on(&service().await, &service().await, cases).await;
}

/// Runs each `(op, body, fast?)` on `generic` through the generic path and on `fast` through
/// the fast path when it takes it (it must exactly when `fast?`); the answers must match byte
/// for byte. The two services start from the same state.
pub(crate) async fn compare_on(
    generic: &DynamoDb,
    fast: &DynamoDb,
    cases: &[(&str, String, bool)],
) {
    let rc = rc();
    let model = crate::wire::model_for(None);
    for (op, body, want_fast) in cases {
        let p = parts(op);
        let g = answer(generic.generic(&rc, &p, model, body.as_bytes()).await).await;
        let f = match super::try_serve(fast, &rc, &p, body.as_bytes()).await {
            Some(r) => {
                assert!(want_fast, "fast path took {op} {body}");
                answer(r).await
            }
            None => {
                assert!(!want_fast, "fast path declined {op} {body}");
                answer(fast.generic(&rc, &p, model, body.as_bytes()).await).await
            }
        };
        assert_eq!(
            (g.0, String::from_utf8_lossy(&g.1)),
            (f.0, String::from_utf8_lossy(&f.1)),
            "{op} {body}"
        );
    }
}

fn put(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("PutItem", body.to_string(), fast)
}

fn del(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("DeleteItem", body.to_string(), fast)
}

fn get(body: &str, fast: bool) -> (&'static str, String, bool) {
    ("GetItem", body.to_string(), fast)
}

#[tokio::test]
async fn valid_requests_take_the_fast_path_with_the_same_answers() {
    let all_types = r#"{"TableName":"tab1","Item":{"pk":{"S":"all"},"s":{"S":"héllo ✓ / <>"},
        "n":{"N":"1.50E+3"},"z":{"N":"-0"},"neg":{"N":"-0.000120"},"b":{"B":"AAEC/w=="},
        "e":{"B":""},"t":{"BOOL":false},"nul":{"NULL":true},
        "m":{"M":{"b":{"L":[{"N":"1"},{"S":""},{"M":{}}]},"a":{"SS":["x","y"]}}},
        "l":{"L":[]},"ss":{"SS":["b","a"]},"ns":{"NS":["10","1e1x"]}}}"#;
    let cases = vec![
        put(
            r#"{"TableName":"tab1","Item":{"name":{"S":"a typical name"},"count":{"N":"1"},"flag":{"BOOL":true},"pk":{"S":"n1"}}}"#,
            true,
        ),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"n1"}}}"#, true),
        get(
            r#" { "TableName" : "tab1" ,
            "Key" : { "pk" : { "S" : "n1" } } , "ConsistentRead" : true } "#,
            true,
        ),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"n1"}},"ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"n1"}},"ReturnConsumedCapacity":"INDEXES","ConsistentRead":false}"#,
            true,
        ),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"none"}}}"#, true),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"none"}},"ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        // "1e1x" is not a number: the whole request falls back.
        put(all_types, false),
        put(&all_types.replace("1e1x", "1E1"), false),
        put(&all_types.replace("\"1e1x\"", "\"1e2\""), true),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"all"}}}"#, true),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"all"},"g":{"N":"7"},"bs":{"BS":["AQ==","Ag=="]}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"all"}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"TOTAL","ReturnItemCollectionMetrics":"NONE"}"#,
            true,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"all"}},"ReturnValues":"NONE","ReturnConsumedCapacity":"NONE"}"#,
            true,
        ),
        put(
            r#"{"TableName":"tab2","Item":{"h":{"N":"01.0"},"r":{"B":"AA=="},"l":{"S":"x"}},"ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        get(
            r#"{"TableName":"tab2","Key":{"r":{"B":"AA=="},"h":{"N":"1"}},"ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        put(
            r#"{"TableName":"tab2","Item":{"h":{"N":"1"},"r":{"B":"AA=="}},"ReturnValues":"ALL_OLD"}"#,
            true,
        ),
        get(
            r#"{"TableName":"tab2","Key":{"h":{"N":"1"},"r":{"B":"AA=="}}}"#,
            true,
        ),
        del(
            r#"{"TableName":"tab2","Key":{"h":{"N":"1.0"},"r":{"B":"AA=="}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        del(
            r#"{"TableName":"tab2","Key":{"h":{"N":"1"},"r":{"B":"AA=="}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"TOTAL"}"#,
            true,
        ),
        get(
            r#"{"TableName":"tab2","Key":{"h":{"N":"1"},"r":{"B":"AA=="}}}"#,
            true,
        ),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"all"}},"ReturnValues":"ALL_OLD","ReturnItemCollectionMetrics":"NONE"}"#,
            true,
        ),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"all"}},"ReturnValues":"NONE","ReturnConsumedCapacity":"INDEXES"}"#,
            true,
        ),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"all"}}}"#, true),
    ];
    compare(&cases).await;
}

#[tokio::test]
async fn everything_else_falls_back_with_the_generic_answer() {
    let deep = format!(
        r#"{{"TableName":"tab1","Item":{{"pk":{{"S":"deep"}},"d":{}{{"NULL":true}}{}}}}}"#,
        r#"{"L":["#.repeat(40),
        "]}".repeat(40)
    );
    let big = format!(
        r#"{{"TableName":"tab1","Item":{{"pk":{{"S":"big"}},"x":{{"S":"{}"}}}}}}"#,
        "x".repeat(410 * 1024)
    );
    let wide = |n: usize| {
        let attrs: Vec<String> = (1..n).map(|i| format!(r#""a{i}":{{"N":"{i}"}}"#)).collect();
        format!(
            r#"{{"TableName":"tab1","Item":{{"pk":{{"S":"wide"}},{}}},"ReturnValues":"ALL_OLD"}}"#,
            attrs.join(",")
        )
    };
    let set = |n: usize| {
        let members: Vec<String> = (0..n).map(|i| format!(r#""m{i}""#)).collect();
        format!(
            r#"{{"TableName":"tab1","Item":{{"pk":{{"S":"set"}},"s":{{"SS":[{}]}}}}}}"#,
            members.join(",")
        )
    };
    let cases = vec![
        put(&wide(64), true),
        put(&wide(65), false),
        put(&set(64), true),
        put(&set(65), false),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"wide"}}}"#, true),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"set"}}}"#, true),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"Foo":1}"#,
            false,
        ),
        put(r#"{"TableName":null,"Item":{"pk":{"S":"k"}}}"#, false),
        put(
            r#"{"TableName":"tab1","TableName":"tab1","Item":{"pk":{"S":"k"}}}"#,
            false,
        ),
        put(r#"{"TableName":"nope","Item":{"pk":{"S":"k"}}}"#, false),
        put(r#"{"TableName":"a","Item":{"pk":{"S":"k"}}}"#, false),
        put(
            r#"{"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/tab1","Item":{"pk":{"S":"k"}}}"#,
            false,
        ),
        put(r#"{"TableName":"tab1","Item":{"pk":{"N":"1"}}}"#, false),
        put(r#"{"TableName":"tab1","Item":{"other":{"S":"1"}}}"#, false),
        put(r#"{"TableName":"tab1","Item":{"pk":{"S":""}}}"#, false),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"g":{"S":"not a number"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"SS":[]}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"SS":["a","a"]}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"NS":["1","1.0"]}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"BS":["AQ==","AQ=="]}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"N":"abc"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"N":"1e200"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"B":"***"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"NULL":false}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"S":"a","N":"1"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"S":"a","N":null}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"X":"a"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"S":1}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":null}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"":{"S":"a"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"},"s":{"S":"a"},"s":{"S":"b"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k\"q"},"s":{"S":"\u00e9\n"}}}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"ReturnValues":"ALL_NEW"}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"ReturnValues":"BOGUS"}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"ReturnConsumedCapacity":"BOGUS"}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"ReturnItemCollectionMetrics":"SIZE"}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"ConditionExpression":"attribute_not_exists(pk)"}"#,
            false,
        ),
        put(
            r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},"Expected":{"pk":{"Exists":false}}}"#,
            false,
        ),
        put(r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}}"#, false),
        put(r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}}} x"#, false),
        put(r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}},}"#, false),
        put("", false),
        put("[]", false),
        put(&deep, false),
        put(&big, false),
        put(r#"{"TableName":"tab1"}"#, false),
        put(r#"{"Item":{"pk":{"S":"k"}}}"#, false),
        put(r#"{"TableName":"tab1","Item":{"pk":{"S":"k"}}}"#, true),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ProjectionExpression":"pk"}"#,
            false,
        ),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"AttributesToGet":["pk"]}"#,
            false,
        ),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"},"x":{"S":"y"}}}"#,
            false,
        ),
        get(r#"{"TableName":"tab1","Key":{"pk":{"N":"1"}}}"#, false),
        get(r#"{"TableName":"tab1","Key":{}}"#, false),
        get(r#"{"TableName":"tab1"}"#, false),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ConsistentRead":"yes"}"#,
            false,
        ),
        get(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ConsistentRead":null}"#,
            false,
        ),
        get(r#"{"TableName":"tab2","Key":{"h":{"N":"1"}}}"#, false),
        get(r#"{"TableName":"gone","Key":{"pk":{"S":"k"}}}"#, false),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}}}"#, true),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ConditionExpression":"attribute_exists(pk)"}"#,
            false,
        ),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ReturnValues":"ALL_NEW"}"#,
            false,
        ),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}},"ReturnItemCollectionMetrics":"SIZE"}"#,
            false,
        ),
        del(
            r#"{"TableName":"tab1","Key":{"pk":{"S":"k"},"x":{"S":"k"}}}"#,
            false,
        ),
        del(r#"{"TableName":"tab1","Key":{"pk":{"N":"1"}}}"#, false),
        del(r#"{"TableName":"gone","Key":{"pk":{"S":"k"}}}"#, false),
        del(r#"{"TableName":"tab1"}"#, false),
        del(r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}}}"#, true),
        get(r#"{"TableName":"tab1","Key":{"pk":{"S":"k"}}}"#, true),
    ];
    compare(&cases).await;
}

#[test]
fn routes_only_plain_item_and_read_requests() {
    use super::{Op, route};
    let with = |headers: &[(&str, &str)]| {
        let mut r = http::Request::post("/");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        route(&r.body(()).expect("request").into_parts().0)
    };
    let t = "x-amz-target";
    assert_eq!(with(&[(t, "DynamoDB_20120810.GetItem")]), Some(Op::Get));
    assert_eq!(
        with(&[(t, "DynamoDB_20120810.DeleteItem")]),
        Some(Op::Delete)
    );
    assert_eq!(with(&[(t, "DynamoDB_20120810.Query")]), Some(Op::Query));
    assert_eq!(with(&[(t, "DynamoDB_20120810.Scan")]), Some(Op::Scan));
    assert_eq!(with(&[(t, "DynamoDB_20120810.UpdateItem")]), None);
    assert_eq!(with(&[(t, "DynamoDBStreams_20120810.GetItem")]), None);
    assert_eq!(
        with(&[
            (t, "DynamoDB_20120810.GetItem"),
            (t, "DynamoDB_20120810.PutItem")
        ]),
        None
    );
    assert_eq!(
        with(&[
            (t, "DynamoDB_20120810.PutItem"),
            ("content-encoding", "gzip")
        ]),
        None
    );
    assert_eq!(
        with(&[
            ("smithy-protocol", "rpc-v2-cbor"),
            (t, "DynamoDB_20120810.PutItem")
        ]),
        None
    );
    assert_eq!(with(&[]), None);
}

#[test]
fn parses_typed_inputs() {
    let g =
        super::parse_get(br#"{"Key":{"pk":{"S":"a"}},"TableName":"tab","ConsistentRead":true}"#)
            .expect("get");
    assert!(g.consistent);
    assert_eq!(g.table, "tab");
    assert_eq!(g.key.len(), 1);
    assert!(super::parse_get(br#"{"TableName":"tab","Key":{"pk":{"S":"a"}},"Key":{}}"#).is_none());
    let p = super::parse_put(
        br#"{"TableName":"tab","Item":{"a":{"NS":["2","1"]}},"ReturnValues":"ALL_OLD"}"#,
    )
    .expect("put");
    assert!(p.all_old);
    // Invalid UTF-8 in a string, and a non-ASCII byte outside strings.
    assert!(
        super::parse_put(b"{\"TableName\":\"tab\",\"Item\":{\"a\":{\"S\":\"\xff\"}}}").is_none()
    );
    assert!(
        super::parse_put("{\"TableName\":\"tab\",\"Item\":{\"a\":{\"S\":\"é\"}}}".as_bytes())
            .is_some()
    );
    assert!(
        super::parse_put("{\"TableName\":\"tab\",\"Item\":{\"a\":{\"S\":\"é\"}}}é".as_bytes())
            .is_none()
    );
    assert!(
        super::parse_put(br#"{"TableName":"tab","Item":{"a":{"N":"1"}},"ReturnValues":"ALL_NEW"}"#)
            .is_none()
    );
}

#[test]
fn strings_are_written_as_serde_json_writes_them() {
    let long = "x".repeat(300);
    for s in [
        "",
        "pk",
        "hello world",
        "quote\"",
        "back\\slash",
        "tab\there",
        "nl\n",
        "\u{1}",
        "\u{1f}",
        "\u{7f}",
        "/",
        "é and 東京",
        &long,
    ] {
        let mut out = Vec::new();
        super::write_str(&mut out, s);
        assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
    }
}

#[test]
fn strings_with_escapes_or_control_characters_are_left_to_the_generic_path() {
    assert!(super::parse_get(br#"{"TableName":"tab1","Key":{"pk":{"S":"a\"b"}}}"#).is_none());
    assert!(
        super::parse_get(b"{\"TableName\":\"tab1\",\"Key\":{\"pk\":{\"S\":\"a\x01b\"}}}").is_none()
    );
    assert!(super::parse_get(br#"{"TableName":"tab1","Key":{"pk":{"S":"a"#).is_none());
    let ok =
        super::parse_get(b"{\"TableName\":\"tab1\",\"Key\":{\"pk\":{\"S\":\"\x7f \xc3\xa9\"}}}");
    assert!(ok.is_some());
}

#[tokio::test]
async fn a_small_request_future_stays_in_the_allocator_small_blocks() {
    use aloft_core::Service;
    let db = service().await;
    let (parts, _) = http::Request::post("/").body(()).unwrap().into_parts();
    let req = aloft_core::AwsRequest {
        ctx: rc(),
        parts,
        body: aloft_core::body::empty(),
    };
    // mimalloc's small-block path takes blocks up to 1 KiB; larger ones cost ~250
    // instructions more per request (bench/README.md, "Request path, sixth session").
    let f = db.handle(req);
    assert!(
        std::mem::size_of_val(&*f) <= 1024,
        "{}",
        std::mem::size_of_val(&*f)
    );
}

#[test]
fn string_ends_are_found_as_byte_by_byte() {
    let stop = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
    let mut cases: Vec<Vec<u8>> = vec![Vec::new(), b"abc".to_vec(), "héllo ✓ wörld".into()];
    for len in 0..20 {
        for at in 0..=len {
            for special in [
                b'"', b'\\', 0u8, 0x1f, b'\n', 0x20, 0x21, 0x5b, 0x7f, 0x80, 0xff,
            ] {
                let mut v: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                if at < len {
                    v[at] = special;
                }
                // A byte just above and below each stop right after it (borrow propagation).
                if at + 1 < len {
                    v[at + 1] = 0x01;
                }
                cases.push(v);
            }
        }
    }
    for v in &cases {
        assert_eq!(
            super::string_end(v),
            v.iter().position(|&c| stop(c)),
            "{v:?}"
        );
    }
}
