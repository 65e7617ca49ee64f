//! SearchVectors: an exact nearest-neighbour search over a vector index, filtered by a
//! SearchConditionExpression on the index's search schema, projected as Query projects.

use aloft_core::{AwsError, RequestContext};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::domain::rowkey::Rows;
use crate::domain::value::{AttrValue, item_size, item_to_json};
use crate::error::{table_named_not_found, validation};
use crate::expr::ast::{Cond, Operand, Path};
use crate::expr::eval::{eval, project};
use crate::expr::{ExprKind, parse_condition, parse_projection};
use crate::handlers::items::{expr_context, str_param};
use crate::vectors::{MAX_TOP_K, VectorData, VectorIndexMeta, vector_from};

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
pub fn nearest(
    vi: &VectorIndexMeta,
    vd: &VectorData,
    items: &Rows,
    q: &[f32],
    k: usize,
    filter: Option<&Cond>,
) -> Vec<(crate::domain::value::Item, f32)> {
    let mut scored: Vec<(f32, &crate::domain::rowkey::RowKey)> = Vec::new();
    for (key, e) in &vd.entries {
        if let Some(c) = filter {
            match items.get(key) {
                Some(item) if eval(c, item) => {}
                _ => continue,
            }
        }
        scored.push((vi.distance.score(q, &e.vector), key));
    }
    let higher = vi.distance.higher_is_closer();
    let order = |a: &(f32, &crate::domain::rowkey::RowKey),
                 b: &(f32, &crate::domain::rowkey::RowKey)| {
        let by_score = if higher {
            b.0.total_cmp(&a.0)
        } else {
            a.0.total_cmp(&b.0)
        };
        by_score.then_with(|| a.1.cmp(b.1))
    };
    if scored.len() > k {
        scored.select_nth_unstable_by(k, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
        .into_iter()
        .filter_map(|(s, key)| items.get(key).map(|i| (i.clone(), s)))
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

impl DynamoDb {
    pub async fn search_vectors(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = table_name_of(&input)?;
        let index = str_param(&input, "IndexName")
            .unwrap_or_default()
            .to_string();
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
        let meta = data.meta.clone();
        let Some(pos) = meta.vector_indexes.iter().position(|v| v.name == index) else {
            return Err(validation(format!(
                "The table does not have the specified index: {index}"
            )));
        };
        let vi = &meta.vector_indexes[pos];
        let q = search_vector(&input, vi)?;
        let mut ctx = expr_context(&input)?;
        let cond = match str_param(&input, "SearchConditionExpression") {
            Some(src) => Some(parse_condition(src, ExprKind::SearchCondition, &mut ctx)?),
            None => None,
        };
        let projection = match str_param(&input, "ProjectionExpression") {
            Some(src) => Some(parse_projection(src, &mut ctx)?),
            None => None,
        };
        ctx.check_unused()?;
        check_condition(vi, cond.as_ref())?;
        let vd = &data.vectors[pos];
        let hits = nearest(vi, vd, &data.items, &q, top_k as usize, cond.as_ref());
        let indexed = vd.entries.len();
        drop(data);
        let mut returned = 0;
        let results: Vec<Json> = hits
            .iter()
            .map(|(item, score)| {
                let mut out = vi.project(&meta.schema, item);
                if let Some(paths) = &projection {
                    out = project(&out, paths);
                }
                returned += item_size(&out);
                json!({"Item": item_to_json(&out), "Score": score_json(*score)})
            })
            .collect();
        let mut out = json!({"SearchResults": results});
        if matches!(
            str_param(&input, "ReturnConsumedCapacity"),
            Some("TOTAL" | "INDEXES")
        ) {
            out["ConsumedCapacity"] = json!({
                "VectorSearchRequestBytes": search_bytes(vi.dimensions, top_k as usize, indexed, returned)
            });
        }
        Ok(out)
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

    #[test]
    fn distance_names_round_trip() {
        for d in [Distance::Cosine, Distance::Euclidean, Distance::DotProduct] {
            assert_eq!(Distance::parse(d.name()), Some(d));
        }
    }
}
