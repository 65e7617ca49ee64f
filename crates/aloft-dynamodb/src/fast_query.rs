//! The fast path for Query and Scan: the request bytes are read straight into the typed
//! [`ReadInput`] (no `serde_json::Value` tree, no codec walk of the model) and the page is
//! written straight to bytes (no tree of the answer). Checking the input and reading the page
//! are [`DynamoDb::read_many`]'s, shared with the generic path: this module only decodes and
//! renders.
//!
//! The fallback rule is [`crate::fast`]'s: a member this reader does not take (the legacy
//! KeyConditions, QueryFilter, ScanFilter, AttributesToGet, ConditionalOperator; a member the
//! operation's model lacks), a null, a duplicate, an escape in a string, a number other than a
//! plain integer, a value the model would reject, or any error from `read_many` returns `None`
//! before any side effect (the throttle, whose charging is the only one, sends every request
//! the generic way when on), and the generic path answers, with AWS's error when there is one.

use aloft_core::{RequestContext, Response};

use crate::DynamoDb;
use crate::expr::ExprContext;
use crate::fast::{Parser, Rcc, Seen, table_name, write_item};
use crate::handlers::query::{Page, ReadInput};

/// Longer `ExpressionAttributeNames` values go the generic way (the model caps them at 65535
/// characters; a byte count at or under that is under it too).
const MAX_NAME: usize = 65535;
/// More names or values go the generic way: this decoder keeps them sorted by insertion,
/// quadratic, so it only takes the few real requests have.
const MAX_DEFINITIONS: usize = 256;
/// The model's `Limit` is an integer (32 bits) of at least 1.
const MAX_LIMIT: u64 = i32::MAX as u64;
/// The model's `Segment` (0–999999) and `TotalSegments` (1–1000000).
const MAX_SEGMENT: u64 = 999_999;
const MAX_TOTAL_SEGMENTS: u64 = 1_000_000;

/// Serves a Query (`is_query`) or Scan this path fully understands and that succeeds; `None`
/// means "use the generic path" (nothing happened yet).
pub(crate) fn read(
    db: &DynamoDb,
    rc: &RequestContext,
    body: &[u8],
    is_query: bool,
) -> Option<Response> {
    let input = parse_read(body, is_query)?;
    let out = db.read_many(rc, input, write_page).ok()?;
    Some(crate::wire::ok_bytes(out))
}

pub(crate) fn parse_read(body: &[u8], is_query: bool) -> Option<ReadInput<'_>> {
    let mut p = Parser::new(body)?;
    let mut r = ReadInput::new(is_query);
    let mut ctx = ExprContext::default();
    let mut defined = 0usize;
    let mut seen = Seen(0);
    p.object(|p, name| {
        match name {
            "TableName" => {
                seen.mark(1)?;
                r.table = Some(table_name(p.string()?)?);
            }
            "IndexName" => {
                seen.mark(1 << 1)?;
                // The model's IndexName is the table name's rule (3–255 of `[a-zA-Z0-9_.-]`).
                r.index = Some(table_name(p.string()?)?);
            }
            "KeyConditionExpression" if is_query => {
                seen.mark(1 << 2)?;
                r.key_condition = Some(p.string()?);
            }
            "FilterExpression" => {
                seen.mark(1 << 3)?;
                r.filter = Some(p.string()?);
            }
            "ProjectionExpression" => {
                seen.mark(1 << 4)?;
                r.projection = Some(p.string()?);
            }
            "ExpressionAttributeNames" => {
                seen.mark(1 << 5)?;
                let mut any = false;
                p.object(|p, k| {
                    let v = p.string()?;
                    (v.len() <= MAX_NAME && defined < MAX_DEFINITIONS).then_some(())?;
                    defined += 1;
                    any = true;
                    ctx.define_name(k, v).then_some(())
                })?;
                // An empty map is an error: the generic path's.
                any.then_some(())?;
            }
            "ExpressionAttributeValues" => {
                seen.mark(1 << 6)?;
                let mut any = false;
                p.object(|p, k| {
                    k.starts_with(':').then_some(())?;
                    let v = p.attr_value(0)?;
                    (defined < MAX_DEFINITIONS).then_some(())?;
                    defined += 1;
                    any = true;
                    ctx.define_value(k, v).then_some(())
                })?;
                any.then_some(())?;
            }
            "Select" => {
                seen.mark(1 << 7)?;
                r.select = Some(select(p.string()?)?);
            }
            "Limit" => {
                seen.mark(1 << 8)?;
                let n = p.integer()?;
                (1..=MAX_LIMIT).contains(&n).then_some(())?;
                r.limit = Some(n as i64);
            }
            "ScanIndexForward" if is_query => {
                seen.mark(1 << 9)?;
                r.forward = p.boolean()?;
            }
            "ConsistentRead" => {
                seen.mark(1 << 10)?;
                r.consistent = p.boolean()?;
            }
            "Segment" if !is_query => {
                seen.mark(1 << 11)?;
                r.segment = Some(p.integer()?).filter(|&s| s <= MAX_SEGMENT);
                r.segment?;
            }
            "TotalSegments" if !is_query => {
                seen.mark(1 << 12)?;
                r.total_segments =
                    Some(p.integer()?).filter(|t| (1..=MAX_TOTAL_SEGMENTS).contains(t));
                r.total_segments?;
            }
            "ExclusiveStartKey" => {
                seen.mark(1 << 13)?;
                r.start_key = Some(Ok(p.attr_map(0)?));
            }
            "ReturnConsumedCapacity" => {
                seen.mark(1 << 14)?;
                let s = p.string()?;
                Rcc::parse(s)?;
                r.return_consumed = Some(s);
            }
            _ => return None,
        }
        Some(())
    })?;
    p.end()?;
    r.ctx = Ok(ctx);
    Some(r)
}

/// `Select`, the model's enum.
fn select(s: &str) -> Option<&str> {
    matches!(
        s,
        "ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT"
    )
    .then_some(s)
}

/// The page as the generic path's JSON tree would be written: `Count`, `ScannedCount`,
/// `Items`, `LastEvaluatedKey`, `ConsumedCapacity`, in that order.
fn write_page(p: &Page<'_>) -> Vec<u8> {
    // Written JSON takes about twice an item's size (AWS's measure: names and values).
    let guess = if p.count_only {
        0
    } else {
        p.returned_bytes * 2 + p.items.len() * 16
    };
    let mut out = Vec::with_capacity(64 + guess);
    out.extend_from_slice(b"{\"Count\":");
    write_usize(&mut out, p.items.len());
    out.extend_from_slice(b",\"ScannedCount\":");
    write_usize(&mut out, p.scanned);
    if !p.count_only {
        out.extend_from_slice(b",\"Items\":[");
        for (i, item) in p.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_item(&mut out, item);
        }
        out.push(b']');
    }
    if let Some(k) = &p.last_key {
        out.extend_from_slice(b",\"LastEvaluatedKey\":");
        write_item(&mut out, k);
    }
    if let Some(c) = &p.consumed {
        out.extend_from_slice(b",\"ConsumedCapacity\":");
        let _ = serde_json::to_writer(&mut out, c);
    }
    out.push(b'}');
    out
}

/// A count in decimal (serde_json writes integers with `itoa`, without `fmt`; writing to a
/// `Vec` cannot fail).
fn write_usize(out: &mut Vec<u8>, n: usize) {
    let _ = serde_json::to_writer(out, &n);
}

#[cfg(test)]
#[path = "fast_query_tests.rs"]
mod tests;
