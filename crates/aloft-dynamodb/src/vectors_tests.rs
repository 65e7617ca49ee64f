use serde_json::json;

use super::*;
use crate::domain::value::item_from_json;

fn table(vector_indexes: Json) -> Result<TableMeta, AwsError> {
    let input = json!({
        "TableName": "Docs", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                 {"AttributeName": "cat", "AttributeType": "S"},
                                 {"AttributeName": "yr", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "VectorIndexes": vector_indexes,
    });
    crate::tables::from_create(&input, "1", "r", 0)
}

fn index(name: &str, dims: u64, distance: &str) -> Json {
    json!({"IndexName": name, "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": dims,
           "DistanceFunction": distance, "Projection": {"ProjectionType": "KEYS_ONLY"},
           "SearchSchema": [{"AttributeName": "cat", "SearchSchemaElementType": "HASH"},
                            {"AttributeName": "yr", "SearchSchemaElementType": "INLINE_FILTER"}]})
}

fn item(id: &str, cat: Option<&str>, emb: Json) -> Item {
    let mut j = json!({"id": {"S": id}, "emb": emb, "yr": {"N": "2020"}, "x": {"S": "other"}});
    if let Some(c) = cat {
        j["cat"] = json!({"S": c});
    }
    item_from_json(&j).unwrap()
}

fn nums(v: &[f64]) -> Json {
    json!({"L": v.iter().map(|x| json!({"N": x.to_string()})).collect::<Vec<_>>()})
}

#[test]
fn distances_score_as_aws_defines_them() {
    let c = Distance::Cosine;
    assert_eq!(c.score(&[1.0, 0.0], &[2.0, 0.0]), 0.0);
    assert!((c.score(&[1.0, 0.0], &[0.0, 3.0]) - 1.0).abs() < 1e-6);
    assert!((c.score(&[1.0, 1.0], &[-1.0, -1.0]) - 2.0).abs() < 1e-6);
    assert_eq!(c.score(&[0.0, 0.0], &[1.0, 2.0]), 1.0);
    assert_eq!(Distance::Euclidean.score(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
    assert_eq!(Distance::DotProduct.score(&[1.0, 2.0], &[3.0, -4.0]), -5.0);
    assert!(Distance::DotProduct.higher_is_closer());
    assert!(!Distance::Euclidean.higher_is_closer());
}

#[test]
fn vectors_are_lists_of_f32_numbers() {
    let v = |j: Json| vector_from(&AttrValue::from_json(&j).unwrap());
    assert_eq!(v(nums(&[1.5, -2.0])).unwrap(), vec![1.5f32, -2.0]);
    assert_eq!(v(json!({"S": "x"})), Err(VectorError::NotAList("S")));
    assert_eq!(v(json!({"NS": ["1"]})), Err(VectorError::NotAList("NS")));
    assert_eq!(
        v(json!({"L": [{"N": "1"}, {"S": "2"}]})),
        Err(VectorError::NotANumber(1, "S"))
    );
    assert_eq!(
        v(json!({"L": [{"N": "1e39"}]})),
        Err(VectorError::OutOfRange(0))
    );
}

#[test]
fn create_table_validates_vector_indexes() {
    let meta = table(json!([index("byEmb", 3, "COSINE")])).unwrap();
    let vi = &meta.vector_indexes[0];
    assert_eq!(vi.dimensions, 3);
    assert_eq!(vi.hash_attrs().collect::<Vec<_>>(), ["cat"]);
    let msg = |r: Result<TableMeta, AwsError>| r.err().unwrap().message;
    // AWS's words, as measured against DynamoDB (August 2026).
    let p = "One or more parameter values were invalid: ";
    assert_eq!(
        msg(table(json!([index("byEmb", 5000, "COSINE")]))),
        format!("{p}Number of dimensions must be between 1 and 4096 inclusive.")
    );
    assert!(
        msg(table(json!([index("byEmb", 3, "MANHATTAN")])))
            .ends_with("Member must satisfy enum value set: [DOT_PRODUCT, COSINE, EUCLIDEAN]")
    );
    let six: Vec<Json> = (0..6)
        .map(|i| index(&format!("vi{i}"), 3, "COSINE"))
        .collect();
    assert_eq!(
        msg(table(json!(six))),
        format!("{p}VectorIndex count exceeds the per-table limit of 5")
    );
    assert!(msg(table(json!([index("byEmb", 3, "MANHATTAN")]))).contains("enum value set"));
    assert!(
        msg(table(json!([
            index("vi1", 3, "COSINE"),
            index("vi1", 3, "COSINE")
        ])))
        .contains("Duplicate index name: vi1")
    );
    assert!(
        msg(table(json!([
            index("vi1", 3, "COSINE"),
            index("vi2", 4, "COSINE")
        ])))
        .contains("same number of dimensions")
    );
    let mut undefined = index("vi1", 3, "COSINE");
    undefined["SearchSchema"][0]["AttributeName"] = json!("nope");
    assert_eq!(
        msg(table(json!([undefined]))),
        format!("{p}One element in SearchSchema is not defined in attribute definitions")
    );
    let mut two_hash = index("vi1", 3, "COSINE");
    two_hash["SearchSchema"][1]["SearchSchemaElementType"] = json!("HASH");
    assert_eq!(
        msg(table(json!([two_hash]))),
        format!(
            "{p}Value '2' at 'SearchSchema' failed to satisfy constraint: Member must have HASH count less than or equal to 1"
        )
    );
    let mut key_vector = index("vi1", 3, "COSINE");
    key_vector["VectorAttribute"]["AttributeName"] = json!("id");
    assert_eq!(
        msg(table(json!([key_vector]))),
        format!(
            "{p}Conflicting attribute definition for 'id'. An attribute cannot be defined in AttributeDefinitions when used as a VectorAttribute."
        )
    );
    // Search schema attributes count as used attribute definitions.
    assert!(table(json!([])).is_err());
}

#[test]
fn vector_indexes_need_on_demand_billing() {
    let input = json!({
        "TableName": "Docs", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "VectorIndexes": [{"IndexName": "vi1", "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 2,
            "DistanceFunction": "EUCLIDEAN", "Projection": {"ProjectionType": "ALL"}}],
    });
    let e = crate::tables::from_create(&input, "1", "r", 0).unwrap_err();
    assert!(e.message.contains("PAY_PER_REQUEST"), "{}", e.message);
}

#[test]
fn index_keeps_items_with_a_valid_vector_and_their_hash_attribute() {
    let meta = table(json!([index("byEmb", 2, "EUCLIDEAN")])).unwrap();
    let mut data = vec![VectorData::default()];
    let key = |id: &str| id.as_bytes().to_vec();
    maintain(
        &meta,
        &mut data,
        &key("a"),
        Some(&item("a", Some("c"), nums(&[1.0, 2.0]))),
    );
    maintain(
        &meta,
        &mut data,
        &key("b"),
        Some(&item("b", None, nums(&[1.0, 2.0]))),
    );
    maintain(
        &meta,
        &mut data,
        &key("c"),
        Some(&item("c", Some("c"), nums(&[1.0]))),
    );
    assert_eq!(data[0].len(), 1);
    let size = data[0].size;
    assert!(size >= 8);
    // Rewritten without the vector: leaves the index; deleted: gone, size back to zero.
    maintain(
        &meta,
        &mut data,
        &key("a"),
        Some(&item("a", Some("c"), json!({"S": "x"}))),
    );
    assert!(data[0].is_empty());
    maintain(
        &meta,
        &mut data,
        &key("a"),
        Some(&item("a", Some("c"), nums(&[3.0, 4.0]))),
    );
    assert_eq!(data[0].get(&key("a")).unwrap(), &[3.0, 4.0]);
    maintain(&meta, &mut data, &key("a"), None);
    assert!(data[0].is_empty());
    assert_eq!(data[0].size, 0);
}

#[test]
fn writes_with_malformed_vectors_are_rejected() {
    let meta = table(json!([index("byEmb", 2, "COSINE")])).unwrap();
    assert!(check_item(&meta, &item("a", Some("c"), nums(&[1.0, 2.0]))).is_ok());
    let e = check_item(&meta, &item("a", Some("c"), nums(&[1.0]))).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    // AWS's words, as captured from DynamoDB (dynoxide's conformance notes, 2026-08).
    assert_eq!(
        e.message,
        "One or more parameter values were invalid. Invalid size for parameter emb, Expected: 2, Actual: 1 IndexName: byEmb"
    );
    let e = check_item(&meta, &item("a", Some("c"), json!({"S": "v"}))).unwrap_err();
    assert_eq!(
        e.message,
        "One or more parameter values were invalid. Invalid type for parameter emb, Expected: 32-bit floating point number list IndexName: byEmb"
    );
    let e = check_item(
        &meta,
        &item("a", Some("c"), json!({"L": [{"N": "1"}, {"S": "x"}]})),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "One or more parameter values were invalid. Invalid type for parameter emb[1], Expected: 32-bit floating point number, Actual: S. IndexName: byEmb"
    );
    let e = check_item(
        &meta,
        &item("a", Some("c"), json!({"L": [{"N": "1e39"}, {"N": "1"}]})),
    )
    .unwrap_err();
    assert!(
        e.message.starts_with(
            "One or more parameter values were invalid. Invalid value for parameter emb[0], Value: "
        ) && e
            .message
            .ends_with(" is outside valid range [-3.4028235E38, 3.4028235E38]. IndexName: byEmb"),
        "{}",
        e.message
    );
    let mut wrong_cat = item("a", None, nums(&[1.0, 2.0]));
    wrong_cat.insert("cat", AttrValue::from_json(&json!({"N": "1"})).unwrap());
    let e = check_item(&meta, &wrong_cat).unwrap_err();
    assert_eq!(
        e.message,
        "One or more parameter values were invalid. Attribute 'cat' type mismatch. Expected: S, Actual: N. IndexName: byEmb"
    );
    // No vector at all: accepted, just not indexed.
    let plain = item_from_json(&json!({"id": {"S": "z"}})).unwrap();
    assert!(check_item(&meta, &plain).is_ok());
}

#[test]
fn projections_keep_keys_schema_and_vector() {
    let meta = table(json!([index("byEmb", 2, "COSINE")])).unwrap();
    let vi = &meta.vector_indexes[0];
    let p = vi.project(&meta.schema, &item("a", Some("c"), nums(&[1.0, 2.0])));
    let mut names: Vec<&str> = p.keys().map(|k| &**k).collect();
    names.sort();
    assert_eq!(names, ["cat", "emb", "id", "yr"]);
}

#[test]
fn search_conditions_follow_the_search_schema() {
    use crate::expr::{ExprContext, ExprKind, parse_condition};
    let meta = table(json!([index("byEmb", 2, "COSINE")])).unwrap();
    let vi = &meta.vector_indexes[0];
    let check = |src: &str| {
        let mut ctx = ExprContext::new(
            None,
            Some(&json!({":c": {"S": "c"}, ":y": {"N": "2020"}, ":z": {"N": "2021"}})),
        )
        .unwrap();
        let c = parse_condition(src, ExprKind::SearchCondition, &mut ctx)?;
        crate::handlers::vectors::check_condition(vi, Some(&c))
    };
    assert!(check("cat = :c").is_ok());
    check("cat = :c AND (yr = :y OR yr BETWEEN :y AND :z)").unwrap();
    assert!(check("yr IN (:y, :z) AND cat = :c").is_ok());
    let msg = |src: &str| check(src).unwrap_err().message;
    let comparator =
        "Invalid SearchConditionExpression: Invalid comparator used in SearchConditionExpression";
    assert_eq!(msg("cat <> :c"), comparator);
    assert_eq!(msg("cat = :c OR yr = :y"), comparator);
    assert!(msg("yr = :y").contains("HASH key cat"));
    assert_eq!(
        msg("cat = :c AND x = :y"),
        "SearchConditionExpression must not contain any attributes that is not in SearchSchema. Invalid attribute: x"
    );
    assert_eq!(
        msg("cat = :c AND cat = :c"),
        "Invalid SearchConditionExpression: SearchConditionExpression must only contain one condition per attribute"
    );
    assert!(msg("cat = :c AND attribute_exists(yr)").contains("Functions"));
    assert_eq!(
        crate::handlers::vectors::check_condition(vi, None)
            .unwrap_err()
            .message,
        "SearchConditionExpression must be provided when SearchSchema has a HASH key"
    );
}

#[test]
fn scores_match_a_plain_loop_for_every_length_and_tail() {
    // Eight lanes and a tail: lengths around the lane width, with values that do not cancel.
    for len in 0..=27usize {
        let q: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
        let v: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11 + 1.0).cos()).collect();
        let dot: f32 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
        let dist: f32 = q
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt();
        assert!(
            (Distance::DotProduct.score(&q, &v) - dot).abs() < 1e-4,
            "{len}"
        );
        assert!(
            (Distance::Euclidean.score(&q, &v) - dist).abs() < 1e-4,
            "{len}"
        );
        if len > 0 {
            let (qq, vv): (f32, f32) =
                (q.iter().map(|a| a * a).sum(), v.iter().map(|b| b * b).sum());
            // A zero vector has no direction: `score` gives it 1.0.
            let cosine = if qq == 0.0 || vv == 0.0 {
                1.0
            } else {
                (1.0 - (dot / (qq.sqrt() * vv.sqrt())).clamp(-1.0, 1.0)).max(0.0)
            };
            assert!(
                (Distance::Cosine.score(&q, &v) - cosine).abs() < 1e-4,
                "{len}"
            );
        }
    }
}

#[test]
fn removals_keep_every_other_row_at_its_key() {
    let meta = table(json!([index("byEmb", 2, "COSINE")])).unwrap();
    let mut data = vec![VectorData::default()];
    let vector = |i: usize| [i as f64, 1.0 + i as f64];
    let put = |data: &mut Vec<VectorData>, i: usize| {
        let id = format!("k{i}");
        let it = item(&id, Some("c"), nums(&vector(i)));
        maintain(&meta, data, id.as_bytes(), Some(&it));
    };
    for i in 0..6 {
        put(&mut data, i);
    }
    // The first, a middle and the last row go; one comes back; one is rewritten in place.
    for i in [0, 3, 5] {
        maintain(&meta, &mut data, format!("k{i}").as_bytes(), None);
    }
    put(&mut data, 3);
    put(&mut data, 4);
    assert_eq!(data[0].len(), 4);
    for i in [1, 2, 3, 4] {
        let want: Vec<f32> = vector(i).iter().map(|x| *x as f32).collect();
        assert_eq!(
            data[0].get(format!("k{i}").as_bytes()),
            Some(&want[..]),
            "k{i}"
        );
    }
    for i in [0, 5] {
        assert_eq!(data[0].get(format!("k{i}").as_bytes()), None);
    }
    // Each row's key, vector and norm stay together.
    for (key, v, vv) in data[0].rows() {
        assert_eq!(data[0].get(key), Some(v));
        assert_eq!(vv, norm2(v));
    }
    assert_eq!(data[0].rows().count(), 4);
    let mut fresh = vec![VectorData::default()];
    for i in [1, 2, 3, 4] {
        put(&mut fresh, i);
    }
    assert_eq!(data[0].size, fresh[0].size);
    for i in [1, 2, 3, 4] {
        maintain(&meta, &mut data, format!("k{i}").as_bytes(), None);
    }
    assert!(data[0].is_empty());
    assert_eq!((data[0].size, data[0].rows().count()), (0, 0));
}
