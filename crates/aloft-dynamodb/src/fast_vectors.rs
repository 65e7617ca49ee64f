//! The fast path for SearchVectors: a plain request (`TableName` as a name, `IndexName`,
//! `SearchVector` of numbers, `TopK`, `ReturnConsumedCapacity`) is read straight from the
//! bytes, without the JSON tree of its vector (one map and one string per number) and the
//! model's walk over it.
//!
//! The fallback rule is [`crate::fast`]'s: any other member (an expression, names, values),
//! a table ARN, a null, a duplicate, an escape, a value the model would reject, and any error
//! of the search return `None` before anything happened (a search changes nothing), and the
//! generic path answers, with AWS's error when there is one.

use aloft_core::{RequestContext, Response};

use crate::DynamoDb;
use crate::domain::value::AttrValue;
use crate::fast::{Parser, Rcc, Seen, table_name};
use crate::vectors::{MAX_DIMENSIONS, MAX_TOP_K};

/// A plain SearchVectors request.
#[derive(Debug, PartialEq)]
pub(crate) struct PlainSearch<'a> {
    table: &'a str,
    index: &'a str,
    vector: Vec<AttrValue>,
    top_k: usize,
    consumed: bool,
}

/// Serves a plain SearchVectors that succeeds; `None` means "use the generic path".
pub(crate) fn search(db: &DynamoDb, rc: &RequestContext, body: &[u8]) -> Option<Response> {
    let s = parse(body)?;
    let out = db.search_plain(rc, s.table, s.index, s.vector, s.top_k, s.consumed)?;
    Some(crate::wire::ok_bytes(out))
}

pub(crate) fn parse(body: &[u8]) -> Option<PlainSearch<'_>> {
    let mut p = Parser::new(body)?;
    let (mut table, mut index, mut vector, mut top_k) = (None, None, None, None);
    let mut rcc = Rcc::None;
    let mut seen = Seen(0);
    p.object(|p, name| {
        match name {
            "TableName" => {
                seen.mark(1)?;
                table = Some(table_name(p.string()?)?);
            }
            "IndexName" => {
                seen.mark(1 << 1)?;
                // The model's IndexName is the table name's rule (3–255 of `[a-zA-Z0-9_.-]`).
                index = Some(table_name(p.string()?)?);
            }
            "SearchVector" => {
                seen.mark(1 << 2)?;
                let mut v = Vec::with_capacity(128);
                p.array(|p| {
                    if v.len() as u64 >= MAX_DIMENSIONS {
                        return None;
                    }
                    v.push(p.attr_value(1)?);
                    Some(())
                })?;
                // The model's SearchVectorList holds 1 to 4096 values.
                if v.is_empty() {
                    return None;
                }
                vector = Some(v);
            }
            "TopK" => {
                seen.mark(1 << 3)?;
                let k = p.integer()?;
                if !(1..=MAX_TOP_K).contains(&k) {
                    return None;
                }
                top_k = Some(k as usize);
            }
            "ReturnConsumedCapacity" => {
                seen.mark(1 << 4)?;
                rcc = Rcc::parse(p.string()?)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    p.end()?;
    Some(PlainSearch {
        table: table?,
        index: index?,
        vector: vector?,
        top_k: top_k?,
        consumed: rcc != Rcc::None,
    })
}

#[cfg(test)]
#[path = "fast_vectors_tests.rs"]
mod tests;
