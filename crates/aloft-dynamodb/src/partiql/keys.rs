//! SELECTs over lists of key values: `pk IN (…)` or `pk = a OR pk = b` (with or without a
//! sort key condition), and `sk IN (…)` / `sk = x OR sk = y` within those partitions, run as
//! one Query per key value instead of a Scan, as DynamoDB does: partitions in the order the
//! statement lists them, sort key values in key order (reversed by ORDER BY … DESC).

use std::cmp::Ordering;

use aloft_core::AwsError;

use super::parser::{Expr, PSeg};
use super::plan::{Native, Render, equality, select_parts};
use crate::domain::key::KeySchema;
use crate::domain::value::AttrValue;
use crate::error::validation;
use crate::expr::ast::CmpOp;

/// At most this many partition key values in one SELECT's IN list (AWS's documented limit).
pub const MAX_IN_PARTITIONS: usize = 50;
/// At most this many operands in any other IN list.
pub const MAX_IN_VALUES: usize = 100;

/// The values of `attr IN (…)` or `attr = a OR attr = b …` (literals only).
fn key_values<'e>(e: &'e Expr, attr: &str) -> Option<Vec<&'e Expr>> {
    let is_attr = |x: &Expr| matches!(x, Expr::Path(p) if matches!(p.as_slice(), [PSeg::Attr(n)] if n == attr));
    match e {
        Expr::In(a, list)
            if is_attr(a)
                && !list.is_empty()
                && list
                    .iter()
                    .all(|v| Render::is_literal(v) && !matches!(v, Expr::Missing)) =>
        {
            Some(list.iter().collect())
        }
        Expr::Or(a, b) => {
            let mut l = key_values(a, attr)?;
            l.extend(key_values(b, attr)?);
            Some(l)
        }
        other => match equality(other) {
            Some((n, v)) if n == attr && !matches!(v, Expr::Missing) => Some(vec![v]),
            _ => None,
        },
    }
}

/// A conjunct listing values of `attr`: its position and values. A single equality is not a
/// list (the plain Query handles it).
fn listed<'e>(parts: &'e [Expr], attr: &str) -> Option<(usize, Vec<&'e Expr>)> {
    parts.iter().enumerate().find_map(|(i, p)| {
        key_values(p, attr)
            .filter(|vs| vs.len() > 1 || matches!(p, Expr::In(..)))
            .map(|vs| (i, vs))
    })
}

fn eq(attr: &str, v: Expr) -> Expr {
    Expr::Cmp(
        Box::new(Expr::Path(vec![PSeg::Attr(attr.to_string())])),
        CmpOp::Eq,
        Box::new(v),
    )
}

/// Distinct values (by their bound value), in first-seen order.
fn distinct(
    r: &Render<'_>,
    values: Vec<&Expr>,
) -> Result<Vec<(Expr, Option<AttrValue>)>, AwsError> {
    let mut out: Vec<(Expr, Option<AttrValue>)> = Vec::new();
    for v in values {
        let lit = r.literal(v)?;
        if lit.is_some() && out.iter().any(|(_, l)| *l == lit) {
            continue;
        }
        out.push((v.clone(), lit));
    }
    Ok(out)
}

/// Plans a SELECT whose conditions list key values; None when they list none.
#[allow(clippy::too_many_arguments)]
pub fn plan_lists(
    params: &[AttrValue],
    read: &KeySchema,
    table: &str,
    index: Option<&str>,
    projection: Option<&[Vec<PSeg>]>,
    parts: &[Expr],
    descending: bool,
) -> Result<Option<Native>, AwsError> {
    let r = Render::new(params);
    let hash = &read.hash.name;
    let hash_list = listed(parts, hash);
    let sort_list = read.range.as_ref().and_then(|s| listed(parts, &s.name));
    // The partition values: a list, or the one equality when only the sort key lists.
    let (hash_at, hash_values) = match hash_list {
        Some(l) => l,
        None if sort_list.is_some() => {
            match parts
                .iter()
                .enumerate()
                .find_map(|(i, p)| key_values(p, hash).filter(|v| v.len() == 1).map(|v| (i, v)))
            {
                Some(l) => l,
                None => return Ok(None),
            }
        }
        None => return Ok(None),
    };
    if hash_values.len() > MAX_IN_PARTITIONS {
        return Err(validation(format!(
            "The IN operator on the partition key is provided with too many operands; number of operands: {}, maximum: {MAX_IN_PARTITIONS}",
            hash_values.len()
        )));
    }
    if let Some((_, vs)) = &sort_list
        && vs.len() > MAX_IN_VALUES
    {
        return Err(validation(format!(
            "The IN operator is provided with too many operands; number of operands: {}",
            vs.len()
        )));
    }
    let hash_values = distinct(&r, hash_values)?;
    let sort_values = match &sort_list {
        Some((_, vs)) => {
            let mut vs = distinct(&r, vs.clone())?;
            // Within a partition a Query returns sort key order.
            vs.sort_by(|a, b| match (&a.1, &b.1) {
                (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
                _ => Ordering::Equal,
            });
            if descending {
                vs.reverse();
            }
            Some(vs)
        }
        None => None,
    };
    let sort_at = sort_list.as_ref().map(|(i, _)| *i);
    let rest: Vec<Expr> = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != hash_at && Some(*i) != sort_at)
        .map(|(_, p)| p.clone())
        .collect();
    let mut queries = Vec::new();
    for (hv, _) in &hash_values {
        let sorts: Vec<Option<&Expr>> = match &sort_values {
            Some(vs) => vs.iter().map(|(v, _)| Some(v)).collect(),
            None => vec![None],
        };
        for sv in sorts {
            let mut mine = vec![eq(hash, hv.clone())];
            if let (Some(sv), Some(range)) = (sv, &read.range) {
                mine.push(eq(&range.name, sv.clone()));
            }
            mine.extend(rest.iter().cloned());
            match select_parts(
                Render::new(params),
                table,
                index,
                projection,
                mine,
                descending,
                read,
            )? {
                Native::Query(q) => queries.push(q),
                // Key attributes left for the filter: the whole statement scans.
                _ => {
                    return select_parts(
                        Render::new(params),
                        table,
                        index,
                        projection,
                        parts.to_vec(),
                        descending,
                        read,
                    )
                    .map(Some);
                }
            }
        }
    }
    Ok(Some(if queries.len() == 1 {
        Native::Query(queries.remove(0))
    } else {
        Native::Queries(queries)
    }))
}
