//! SearchVectors: an exact nearest-neighbour search over a vector index, filtered by a
//! SearchConditionExpression on the index's search schema, projected as Query projects.

use aloft_core::{AwsError, RequestContext};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::domain::key::KeySchema;
use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{AttrValue, Item, item_size, item_to_json};
use crate::error::{table_named_not_found, validation};
use crate::expr::ast::{Cond, Operand, Path};
use crate::expr::eval::{eval, project};
use crate::expr::{ExprKind, parse_condition, parse_projection};
use crate::fast::write_item;
use crate::handlers::items::{expr_context, str_param};
use crate::vectors::{MAX_TOP_K, VectorData, VectorIndexMeta, norm2, vector_from};

/// `TableName` is a name or a table ARN.
fn table_name_of(input: &Json) -> Result<String, AwsError> {
    let raw = str_param(input, "TableName").ok_or_else(|| {
        validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
    })?;
    if raw.starts_with("arn:") {
        return aloft_core::arn::parse(raw)
            .and_then(|a| a.resource.strip_prefix("table/").map(str::to_string))
            .map(|r| r.split('/').next().unwrap_or_default().to_string())
            .ok_or_else(|| {
                validation(format!(
                    "Invalid TableArn: Invalid ResourceArn provided as input {raw}"
                ))
            });
    }
    crate::tables::check_table_name(raw, "tableName")?;
    Ok(raw.to_string())
}

/// The search vector: numbers of the index's dimensions, each an f32.
fn search_vector(input: &Json, vi: &VectorIndexMeta) -> Result<Vec<f32>, AwsError> {
    let list = input["SearchVector"].as_array().ok_or_else(|| {
        validation("1 validation error detected: Value null at 'searchVector' failed to satisfy constraint: Member must not be null")
    })?;
    let values = list
        .iter()
        .map(AttrValue::from_json)
        .collect::<Result<Vec<_>, _>>()?;
    // AWS's words, as captured from DynamoDB by dynoxide's conformance notes (2026-08).
    let v = vector_from(&AttrValue::L(values)).map_err(|_| {
        validation(
            "Search vector contains invalid values. All values in the search vector must be a 32-bit floating-point number attribute",
        )
    })?;
    if v.len() != vi.dimensions {
        return Err(validation(format!(
            "Input search vector dimension {} does not match vector index dimension {}",
            v.len(),
            vi.dimensions
        )));
    }
    Ok(v)
}

fn comparator_error() -> AwsError {
    ExprKind::SearchCondition.error("Invalid comparator used in SearchConditionExpression")
}

/// A path the condition may name: a top-level attribute of the search schema.
fn check_path<'a>(
    vi: &'a VectorIndexMeta,
    p: &Path,
) -> Result<&'a crate::vectors::SearchAttr, AwsError> {
    if p.0.len() != 1 {
        return Err(ExprKind::SearchCondition
            .error("SearchConditionExpression cannot have conditions on nested attributes"));
    }
    vi.in_schema(p.top()).ok_or_else(|| {
        validation(format!(
            "SearchConditionExpression must not contain any attributes that is not in SearchSchema. Invalid attribute: {}",
            p.top()
        ))
    })
}

/// One side a path, the other a value.
fn path_and_value<'a>(a: &'a Operand, b: &'a Operand) -> Option<&'a Path> {
    match (a, b) {
        (Operand::Path(p), Operand::Value(_)) | (Operand::Value(_), Operand::Path(p)) => Some(p),
        _ => None,
    }
}

/// Checks a condition below the top-level conjunction: inline filters only (comparisons,
/// BETWEEN, IN, AND/OR/NOT); a HASH attribute is matched only by a top-level `=`.
fn check_nested(vi: &VectorIndexMeta, c: &Cond) -> Result<(), AwsError> {
    let operand = |o: &Operand| -> Result<(), AwsError> {
        match o {
            Operand::Path(p) => {
                if check_path(vi, p)?.hash {
                    return Err(comparator_error());
                }
                Ok(())
            }
            Operand::Value(_) => Ok(()),
            Operand::Size(_) => Err(ExprKind::SearchCondition
                .error("The function size is not supported in a SearchConditionExpression")),
        }
    };
    match c {
        Cond::Cmp(a, _, b) => {
            if path_and_value(a, b).is_none() {
                return Err(ExprKind::SearchCondition
                    .error("Each condition must compare an attribute with a value"));
            }
            operand(a)?;
            operand(b)
        }
        Cond::Between(a, lo, hi) => {
            for o in [a, lo, hi] {
                operand(o)?;
            }
            Ok(())
        }
        Cond::In(a, list) => {
            operand(a)?;
            list.iter().try_for_each(operand)
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            check_nested(vi, a)?;
            check_nested(vi, b)
        }
        Cond::Not(a) => check_nested(vi, a),
        Cond::AttributeExists(_)
        | Cond::AttributeNotExists(_)
        | Cond::AttributeType(..)
        | Cond::BeginsWith(..)
        | Cond::Contains(..) => Err(ExprKind::SearchCondition
            .error("Functions are not supported in a SearchConditionExpression")),
    }
}

fn conjuncts<'a>(c: &'a Cond, out: &mut Vec<&'a Cond>) {
    match c {
        Cond::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// Validates a SearchConditionExpression against the index's search schema: each HASH
/// attribute equal to a value in the top-level conjunction, inline filters anywhere.
pub fn check_condition(vi: &VectorIndexMeta, cond: Option<&Cond>) -> Result<(), AwsError> {
    let hashes: Vec<&str> = vi.hash_attrs().collect();
    let Some(cond) = cond else {
        if hashes.is_empty() {
            return Ok(());
        }
        return Err(validation(
            "SearchConditionExpression must be provided when SearchSchema has a HASH key",
        ));
    };
    let mut parts = Vec::new();
    conjuncts(cond, &mut parts);
    let mut seen = Vec::new();
    for part in parts {
        if let Cond::Cmp(a, op, b) = part
            && let Some(p) = path_and_value(a, b)
            && check_path(vi, p)?.hash
        {
            if *op != crate::expr::ast::CmpOp::Eq {
                return Err(comparator_error());
            }
            if seen.contains(&p.top()) {
                return Err(ExprKind::SearchCondition.error(
                    "SearchConditionExpression must only contain one condition per attribute",
                ));
            }
            seen.push(p.top());
            continue;
        }
        check_nested(vi, part)?;
    }
    if let Some(h) = hashes.iter().find(|h| !seen.contains(h)) {
        return Err(validation(format!(
            "SearchConditionExpression must specify the SearchSchema HASH key {h} with the = operator"
        )));
    }
    Ok(())
}

/// The `TopK` nearest entries passing the filter, closest first (ties in table key order).
pub fn nearest<'a>(
    vi: &VectorIndexMeta,
    vd: &VectorData,
    items: &'a Rows,
    q: &[f32],
    k: usize,
    filter: Option<&Cond>,
) -> Vec<(&'a Item, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let qq = norm2(q);
    let distance = vi.distance;
    let higher = distance.higher_is_closer();
    let by_score = |a: f32, b: f32| {
        if higher {
            b.total_cmp(&a)
        } else {
            a.total_cmp(&b)
        }
    };
    let order =
        |a: &(f32, &RowKey), b: &(f32, &RowKey)| by_score(a.0, b.0).then_with(|| a.1.cmp(b.1));
    // The candidates so far, cut back to the k closest whenever the buffer fills: a score
    // farther than the k-th closest kept cannot make the answer, and is not kept (an equal
    // one can, by its key).
    let room = (4 * k).max(256);
    let mut scored: Vec<(f32, &RowKey)> = Vec::with_capacity(room.min(vd.len()));
    let mut bound: Option<f32> = None;
    for (key, v, vv) in vd.rows() {
        if let Some(c) = filter {
            match items.get(key) {
                Some(item) if eval(c, item) => {}
                _ => continue,
            }
        }
        let s = distance.score_normed(q, qq, v, vv);
        if bound.is_some_and(|b| by_score(s, b).is_gt()) {
            continue;
        }
        scored.push((s, key));
        if scored.len() == room {
            scored.select_nth_unstable_by(k - 1, order);
            scored.truncate(k);
            bound = Some(scored[k - 1].0);
        }
    }
    if scored.len() > k {
        scored.select_nth_unstable_by(k, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
        .into_iter()
        .filter_map(|(s, key)| items.get(key).map(|i| (i, s)))
        .collect()
}

/// A score as JSON: the f32's shortest decimal form (0.1, not 0.10000000149011612).
fn score_json(s: f32) -> Json {
    format!("{s}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Json::Null, Json::Number)
}

/// `VectorSearchRequestBytes`: AWS says it scales with the vector data a search examines and
/// returns, and grows with the logarithm of the index size (its approximate search visits a
/// small part of the index). Assumed here: `TopK` vectors per level of a log2-deep index,
/// plus the bytes of the results.
fn search_bytes(dims: usize, top_k: usize, indexed: usize, returned: usize) -> f64 {
    let levels = (usize::BITS - indexed.leading_zeros()).max(1) as usize;
    (4 * dims * top_k * levels + returned) as f64
}

/// A search's answer before it is written: each result's projected item and score, and the
/// `VectorSearchRequestBytes` when the caller asked for its consumed capacity.
pub(crate) struct Found {
    results: Vec<(Item, f32)>,
    /// The results' size (AWS's measure).
    returned: usize,
    consumed: Option<f64>,
}

impl Found {
    /// The answer as a JSON tree (the generic path's form; the tests hold [`Found::write`]
    /// to it).
    pub(crate) fn to_json(&self) -> Json {
        let results: Vec<Json> = self
            .results
            .iter()
            .map(|(item, score)| json!({"Item": item_to_json(item), "Score": score_json(*score)}))
            .collect();
        let mut out = json!({"SearchResults": results});
        if let Some(bytes) = self.consumed {
            out["ConsumedCapacity"] = json!({ "VectorSearchRequestBytes": bytes });
        }
        out
    }

    /// The same document as [`Found::to_json`], written straight to bytes: each result
    /// carries its vector, and a tree of one map and one string per number cost more than
    /// the search itself at a few thousand items.
    pub(crate) fn write(&self) -> Vec<u8> {
        // Written JSON takes about twice an item's size (AWS's measure: names and values).
        let mut out = Vec::with_capacity(64 + self.returned * 2 + self.results.len() * 64);
        out.extend_from_slice(b"{\"SearchResults\":[");
        for (i, (item, score)) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"Item\":");
            write_item(&mut out, item);
            out.extend_from_slice(b",\"Score\":");
            let _ = serde_json::to_writer(&mut out, &score_json(*score));
            out.push(b'}');
        }
        out.push(b']');
        if let Some(bytes) = self.consumed {
            out.extend_from_slice(b",\"ConsumedCapacity\":{\"VectorSearchRequestBytes\":");
            let _ = serde_json::to_writer(&mut out, &bytes);
            out.push(b'}');
        }
        out.push(b'}');
        out
    }
}

impl DynamoDb {
    pub async fn search_vectors(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        Ok(self.search(rc, &input)?.to_json())
    }

    /// SearchVectors answered as bytes (what the generic path serves).
    pub(crate) fn search_vectors_bytes(
        &self,
        rc: &RequestContext,
        input: &Json,
    ) -> Result<Vec<u8>, AwsError> {
        Ok(self.search(rc, input)?.write())
    }

    fn search(&self, rc: &RequestContext, input: &Json) -> Result<Found, AwsError> {
        let name = table_name_of(input)?;
        let index = str_param(input, "IndexName").unwrap_or_default();
        let top_k = input["TopK"].as_i64().unwrap_or(0);
        if !(1..=MAX_TOP_K as i64).contains(&top_k) {
            return Err(validation(format!(
                "Provided TopK value '{top_k}' is out of valid range. The value must be between 1 and 100 inclusive"
            )));
        }
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| table_named_not_found(&name))?;
        let data = table.data.read().expect("table lock");
        let meta = &data.meta;
        let Some(pos) = meta.vector_indexes.iter().position(|v| v.name == index) else {
            return Err(validation(format!(
                "The table does not have the specified index: {index}"
            )));
        };
        let vi = &meta.vector_indexes[pos];
        let q = search_vector(input, vi)?;
        let mut ctx = expr_context(input)?;
        let cond = match str_param(input, "SearchConditionExpression") {
            Some(src) => Some(parse_condition(src, ExprKind::SearchCondition, &mut ctx)?),
            None => None,
        };
        let projection = match str_param(input, "ProjectionExpression") {
            Some(src) => Some(parse_projection(src, &mut ctx)?),
            None => None,
        };
        ctx.check_unused()?;
        check_condition(vi, cond.as_ref())?;
        let consumed = matches!(
            str_param(input, "ReturnConsumedCapacity"),
            Some("TOTAL" | "INDEXES")
        );
        let search = Search {
            q,
            top_k: top_k as usize,
            cond,
            projection,
            consumed,
        };
        Ok(search.run(vi, &meta.schema, &data.vectors[pos], &data.items))
    }

    /// SearchVectors of a plain request ([`crate::fast_vectors`]'s): a name, an index, a
    /// vector and `TopK`, nothing else. `None` on any error: the generic path answers those.
    pub(crate) fn search_plain(
        &self,
        rc: &RequestContext,
        table: &str,
        index: &str,
        vector: Vec<AttrValue>,
        top_k: usize,
        consumed: bool,
    ) -> Option<Vec<u8>> {
        let table = self.db.get(&rc.account_id, &rc.region, table)?;
        let data = table.data.read().expect("table lock");
        let meta = &data.meta;
        let pos = meta.vector_indexes.iter().position(|v| v.name == index)?;
        let vi = &meta.vector_indexes[pos];
        let q = vector_from(&AttrValue::L(vector)).ok()?;
        if q.len() != vi.dimensions || !(1..=MAX_TOP_K as usize).contains(&top_k) {
            return None;
        }
        check_condition(vi, None).ok()?;
        let search = Search {
            q,
            top_k,
            cond: None,
            projection: None,
            consumed,
        };
        let found = search.run(vi, &meta.schema, &data.vectors[pos], &data.items);
        drop(data);
        Some(found.write())
    }
}

/// A checked search: the query vector, `TopK`, the parsed expressions.
struct Search {
    q: Vec<f32>,
    top_k: usize,
    cond: Option<Cond>,
    projection: Option<Vec<Path>>,
    consumed: bool,
}

impl Search {
    fn run(
        &self,
        vi: &VectorIndexMeta,
        schema: &KeySchema,
        vd: &VectorData,
        items: &Rows,
    ) -> Found {
        // Projected under the read lock, from the stored items: no copy of a whole item.
        let mut returned = 0;
        let results: Vec<(Item, f32)> =
            nearest(vi, vd, items, &self.q, self.top_k, self.cond.as_ref())
                .into_iter()
                .map(|(item, score)| {
                    let mut out = vi.project(schema, item);
                    if let Some(paths) = &self.projection {
                        out = project(&out, paths);
                    }
                    returned += item_size(&out);
                    (out, score)
                })
                .collect();
        let consumed = self
            .consumed
            .then(|| search_bytes(vi.dimensions, self.top_k, vd.len(), returned));
        Found {
            results,
            returned,
            consumed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::Distance;

    #[test]
    fn scores_are_written_in_their_shortest_form() {
        assert_eq!(score_json(0.1).to_string(), "0.1");
        assert_eq!(score_json(2.0).to_string(), "2.0");
        assert_eq!(score_json(-3.5).to_string(), "-3.5");
    }

    #[test]
    fn search_bytes_grow_with_the_log_of_the_index() {
        let small = search_bytes(4, 2, 10, 0);
        let big = search_bytes(4, 2, 10_000, 0);
        assert!(big > small);
        assert!(big < small * 10.0);
        assert_eq!(search_bytes(4, 1, 0, 100), 116.0);
    }

    /// An item holding every data type, with strings that need escapes and numbers in
    /// several forms.
    fn every_type(id: &str) -> Json {
        json!({
            "id": {"S": id}, "emb": {"L": [{"N": "1"}, {"N": "-0.5"}]},
            "s": {"S": "quote \" backslash \\ tab \t nl \n ctl \u{1} \u{7f} é 日本 🎉"},
            "n": {"N": "-1.2500E+3"}, "big": {"N": "123456789012345678901234567890.5"},
            "b": {"B": "AAEC/w=="}, "t": {"BOOL": true}, "f": {"BOOL": false},
            "nul": {"NULL": true},
            "m": {"M": {"k\"ey": {"S": "v"}, "deep": {"M": {"l": {"L": [{"N": "0.001"}]}}}}},
            "l": {"L": [{"S": ""}, {"NULL": true}, {"BS": ["AQ==", "Ag=="]}]},
            "ss": {"SS": ["a", "b\u{0}"]}, "ns": {"NS": ["1", "2.5", "-3"]},
            "bs": {"BS": ["AA==", "//8="]}, "empty_m": {"M": {}}, "empty_l": {"L": []}
        })
    }

    fn same_document(found: &Found) {
        let tree = serde_json::to_vec(&found.to_json()).unwrap();
        assert_eq!(
            String::from_utf8(found.write()).unwrap(),
            String::from_utf8(tree).unwrap()
        );
    }

    #[test]
    fn the_byte_writer_writes_the_trees_document() {
        let item = crate::domain::value::item_from_json(&every_type("a")).unwrap();
        let scores = [0.0, 0.1, 2.0, -3.5, 1e-8, 3.4e38, 0.33333334, -0.0];
        for consumed in [None, Some(116.0), Some(0.5)] {
            same_document(&Found {
                results: Vec::new(),
                returned: 0,
                consumed,
            });
            same_document(&Found {
                results: scores.iter().map(|s| (item.clone(), *s)).collect(),
                returned: 0,
                consumed,
            });
            same_document(&Found {
                results: vec![(Item::default(), 1.0), (item.clone(), 0.5)],
                returned: 0,
                consumed,
            });
        }
    }

    #[tokio::test]
    async fn searches_answer_the_same_document_both_ways() {
        let ctx = aloft_core::ServiceContext::ephemeral().expect("ephemeral context");
        let db = DynamoDb::start(&ctx).await;
        let rc = crate::fast::tests::rc();
        let projections = [
            json!({"ProjectionType": "ALL"}),
            json!({"ProjectionType": "KEYS_ONLY"}),
            json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s", "m", "nope"]}),
        ];
        for (t, projection) in projections.iter().enumerate() {
            let table = format!("docs{t}");
            db.create_table(
                &rc,
                json!({"TableName": table, "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "VectorIndexes": [{"IndexName": "byEmb",
                        "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 2,
                        "DistanceFunction": "EUCLIDEAN", "Projection": projection}]}),
            )
            .await
            .expect("table");
            for id in ["a", "b", "c"] {
                db.put_item(&rc, json!({"TableName": table, "Item": every_type(id)}))
                    .await
                    .expect("put");
            }
            let searches = [
                json!({}),
                json!({"ReturnConsumedCapacity": "TOTAL"}),
                json!({"ProjectionExpression": "id, s, m.deep, l[2], #n",
                       "ExpressionAttributeNames": {"#n": "ns"},
                       "ReturnConsumedCapacity": "INDEXES"}),
                json!({"ProjectionExpression": "absent"}),
            ];
            for extra in searches {
                let mut input = json!({"TableName": table, "IndexName": "byEmb",
                    "SearchVector": [{"N": "1"}, {"N": "0"}], "TopK": 2});
                for (k, v) in extra.as_object().unwrap() {
                    input[k] = v.clone();
                }
                let tree = db.search_vectors(&rc, input.clone()).await.expect("search");
                assert_eq!(tree["SearchResults"].as_array().unwrap().len(), 2);
                let bytes = db.search_vectors_bytes(&rc, &input).expect("search");
                assert_eq!(
                    String::from_utf8(bytes).unwrap(),
                    serde_json::to_string(&tree).unwrap(),
                    "{input}"
                );
            }
        }
    }

    /// The k closest by sorting every score, against the buffered selection, on enough
    /// items to cut the buffer several times and with many equal scores (keys break ties).
    #[test]
    fn nearest_is_the_first_k_of_every_score_sorted() {
        for distance in ["COSINE", "EUCLIDEAN", "DOT_PRODUCT"] {
            let meta = crate::tables::from_create(
                &json!({"TableName": "docs", "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "VectorIndexes": [{"IndexName": "byEmb",
                        "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 3,
                        "DistanceFunction": distance,
                        "Projection": {"ProjectionType": "KEYS_ONLY"}}]}),
                "1",
                "r",
                0,
            )
            .unwrap();
            let vi = &meta.vector_indexes[0];
            let mut items = Rows::new();
            let mut data = vec![VectorData::default()];
            // A small linear congruential sequence of -1, 0 and 1: many equal scores;
            // keys in another order than the rows (7919 is prime to 1500).
            let mut x: u32 = 7;
            let mut next = || {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((x >> 16) % 3) as f64 - 1.0
            };
            for i in 0..1500 {
                let v = [next(), next(), next()];
                let item = crate::domain::value::item_from_json(&json!({
                    "id": {"S": format!("k{:04}", i * 7919 % 1500)},
                    "emb": {"L": v.iter().map(|n| json!({"N": n.to_string()})).collect::<Vec<_>>()}
                }))
                .unwrap();
                let key = meta.schema.item_key(&item).unwrap();
                crate::vectors::maintain(&meta, &mut data, &key, Some(&item));
                items.insert(RowKey::from(key), item);
            }
            let q = [1.0f32, -2.0, 0.5];
            let mut all: Vec<(f32, &RowKey)> = data[0]
                .rows()
                .map(|(key, v, _)| (vi.distance.score(&q, v), key))
                .collect();
            all.sort_by(|a, b| {
                let s = if vi.distance.higher_is_closer() {
                    b.0.total_cmp(&a.0)
                } else {
                    a.0.total_cmp(&b.0)
                };
                s.then_with(|| a.1.cmp(b.1))
            });
            for k in [1, 10, 100, 300, 1500, 2000] {
                let got: Vec<(String, f32)> = nearest(vi, &data[0], &items, &q, k, None)
                    .into_iter()
                    .map(|(item, s)| (format!("{:?}", item.get("id")), s))
                    .collect();
                let want: Vec<(String, f32)> = all
                    .iter()
                    .take(k)
                    .map(|(s, key)| (format!("{:?}", items[*key].get("id")), *s))
                    .collect();
                assert_eq!(got, want, "{distance} k {k}");
            }
            assert!(nearest(vi, &data[0], &items, &q, 0, None).is_empty());
        }
    }

    #[test]
    fn distance_names_round_trip() {
        for d in [Distance::Cosine, Distance::Euclidean, Distance::DotProduct] {
            assert_eq!(Distance::parse(d.name()), Some(d));
        }
    }
}
