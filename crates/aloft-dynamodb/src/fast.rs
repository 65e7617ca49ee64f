//! The fast path for the hot item operations (GetItem, PutItem, DeleteItem): the request
//! bytes are parsed straight into typed inputs and attribute values (no `serde_json::Value`,
//! no codec walk of the model, no validation pass), and the answer is written straight from
//! the item. Query and Scan take it too, through [`crate::fast_query`], and SearchVectors
//! through [`crate::fast_vectors`], with this module's reader and item writer.
//!
//! It exists because the generic path (parse to a JSON tree → `from_wire` → model validation
//! → handler → JSON tree → bytes) cost several times the work of the operation itself.
//!
//! The fallback rule: this path answers only plain, valid requests that it fully understands
//! and that succeed. Anything else — an unknown, null or duplicate member, an escape in a
//! string, an expression, a legacy parameter, a value the model or the handler would reject,
//! a missing table, throttling, any transaction in flight — returns `None` before
//! any side effect, and the request is served by the generic path (decode → validate →
//! handler), which renders AWS's exact errors. So the fast path can only accept what the
//! generic path accepts, and answers it with the same bytes (tests compare both paths).

use aloft_core::{AwsError, RequestContext, Response};
use aloft_store::Batch;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::request::Parts;

use crate::DynamoDb;
use crate::capacity::{Consumed, read_units};
use crate::domain::number::Number;
use crate::domain::rowkey::RowKey;
use crate::domain::value::{AttrMap, AttrValue, Item, Str, item_size};
use crate::handlers::items::{check_collection_limit, check_new_item, write_consumed};
use crate::state::{Actor, IndexWrites, stored};

/// Deeper `M`/`L` nesting than real items use goes the generic way (bounds the recursion).
const MAX_DEPTH: u32 = 32;
/// Longer attribute names go the generic way (the model caps them at 65535 characters).
const MAX_NAME: usize = 1024;
/// Bigger maps and sets go the generic way: this path builds maps by sorted insertion and
/// checks set members pairwise, both quadratic, so it only takes the small ones real items
/// are made of.
const MAX_MEMBERS: usize = 64;

const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// `ReturnConsumedCapacity`, the model's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rcc {
    None,
    Total,
    Indexes,
}

impl Rcc {
    pub(crate) fn parse(s: &str) -> Option<Rcc> {
        match s {
            "NONE" => Some(Rcc::None),
            "TOTAL" => Some(Rcc::Total),
            "INDEXES" => Some(Rcc::Indexes),
            _ => None,
        }
    }
    pub(crate) fn as_str(self) -> Option<&'static str> {
        match self {
            Rcc::None => None,
            Rcc::Total => Some("TOTAL"),
            Rcc::Indexes => Some("INDEXES"),
        }
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct GetInput<'a> {
    table: &'a str,
    key: Item,
    consistent: bool,
    rcc: Rcc,
}

/// PutItem's and DeleteItem's input: the same members, with `Item` or `Key` as `attrs`.
#[derive(Debug, PartialEq)]
pub(crate) struct WriteInput<'a> {
    table: &'a str,
    attrs: Item,
    all_old: bool,
    rcc: Rcc,
}

/// The operations this path serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Get,
    Put,
    Delete,
    Query,
    Scan,
    Search,
}

/// The fast-path operation a request names, from one pass over its headers: compressed or
/// CBOR bodies, and other operations, are the generic path's business.
pub(crate) fn route(parts: &Parts) -> Option<Op> {
    let mut op = None;
    for (name, value) in &parts.headers {
        match name.as_str() {
            "x-amz-target" => {
                // The generic path reads the first of repeated targets: leave those to it.
                if op.is_some() {
                    return None;
                }
                op = match value.as_bytes().strip_prefix(TARGET_PREFIX.as_bytes())? {
                    b"GetItem" => Some(Op::Get),
                    b"PutItem" => Some(Op::Put),
                    b"DeleteItem" => Some(Op::Delete),
                    b"Query" => Some(Op::Query),
                    b"Scan" => Some(Op::Scan),
                    b"SearchVectors" => Some(Op::Search),
                    _ => return None,
                };
            }
            "content-encoding" | "smithy-protocol" => return None,
            _ => {}
        }
    }
    op
}

#[cfg(test)]
/// Serves the request when it is a plain GetItem, PutItem, DeleteItem, Query, Scan or SearchVectors this path fully understands;
/// `None` means "use the generic path" (nothing happened yet).
pub(crate) async fn try_serve(
    db: &DynamoDb,
    rc: &RequestContext,
    parts: &Parts,
    body: &[u8],
) -> Option<Response> {
    serve(db, route(parts)?, rc, body).await
}

/// [`try_serve`] once the operation is known.
pub(crate) async fn serve(
    db: &DynamoDb,
    op: Op,
    rc: &RequestContext,
    body: &[u8],
) -> Option<Response> {
    // Throttling is opt-in; its admission and charging stay on the generic path.
    if db.throttle_enabled() {
        return None;
    }
    match op {
        Op::Get => get_item(db, rc, parse_get(body)?),
        Op::Put => write(db, rc, parse_put(body)?, true).await,
        Op::Delete => write(db, rc, parse_delete(body)?, false).await,
        Op::Query => crate::fast_query::read(db, rc, body, true),
        Op::Scan => crate::fast_query::read(db, rc, body, false),
        Op::Search => crate::fast_vectors::search(db, rc, body),
    }
}

fn get_item(db: &DynamoDb, rc: &RequestContext, input: GetInput<'_>) -> Option<Response> {
    let table = db.db.get(&rc.account_id, &rc.region, input.table)?;
    let (item, consumed) = {
        let data = table.data.read().expect("table lock");
        let key = RowKey::from(data.meta.schema.key_param(&input.key).ok()?);
        let item = data.items.get(&key).cloned();
        let consumed = (input.rcc != Rcc::None).then(|| Consumed::new(&data.meta.name, true));
        (item, consumed)
    };
    let mut out = Vec::with_capacity(item.as_ref().map_or(2, |i| 64 + item_size(i) * 2));
    out.push(b'{');
    if let Some(item) = &item {
        out.extend_from_slice(b"\"Item\":");
        write_item(&mut out, item);
    }
    if let Some(mut c) = consumed {
        c.table_units = read_units(item.as_ref().map_or(0, item_size), input.consistent);
        if let Some(j) = c.render(input.rcc.as_str()) {
            if item.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"ConsumedCapacity\":");
            let _ = serde_json::to_writer(&mut out, &j);
        }
    }
    out.push(b'}');
    Some(crate::wire::ok_bytes(out))
}

/// Puts the input's item (`put`) or deletes the item at its key, as the generic
/// `single_write` does for requests without conditions or expressions.
async fn write(
    db: &DynamoDb,
    rc: &RequestContext,
    input: WriteInput<'_>,
    put: bool,
) -> Option<Response> {
    // The answer is written before waiting for the commit, in a block, so the table, the
    // items and the capacity are not kept across the wait (a smaller future per request).
    let (out, commit) = {
        let table = db.db.get(&rc.account_id, &rc.region, input.table)?;
        // A transaction holding some item, or an MRSC write on its way: let the generic path
        // check which.
        if db
            .db
            .in_flight_count
            .load(std::sync::atomic::Ordering::Acquire)
            != 0
            || db.db.replication.strong_busy()
        {
            return None;
        }
        let mut batch = Batch::new();
        let (old, consumed, commit) = {
            let mut data = table.data.write().expect("table lock");
            if data.deleted {
                return None;
            }
            let key = if put {
                check_new_item(&data.meta, &input.attrs, false).ok()?;
                data.meta.schema.item_key(&input.attrs).ok()?
            } else {
                data.meta.schema.key_param(&input.attrs).ok()?
            };
            let new = put.then_some(input.attrs);
            // Only the collection limit needs the old item before the write (which returns it):
            // without local indexes a put walks the tree once.
            let old = if put && !data.has_lsi() {
                None
            } else {
                data.items.get(&key[..]).cloned()
            };
            if let Some(item) = &new {
                check_collection_limit(db, &data, old.as_ref(), item).ok()?;
            }
            // Every check passed: from here on this path answers, errors included.
            let new = new.map(stored);
            let (old, writes) = if new.is_none() && old.is_none() {
                (None, IndexWrites::default())
            } else {
                data.write_shared(&db.db, key, new.clone(), Actor::User, &mut batch)
            };
            let consumed = (input.rcc != Rcc::None)
                .then(|| write_consumed(&data.meta, old.as_ref(), new.as_ref(), &writes, 1.0));
            let commit =
                (!batch.is_empty()).then(|| db.db.store.submit(std::mem::take(&mut batch)));
            (old, consumed, commit)
        };
        let mut out = Vec::with_capacity(64);
        out.push(b'{');
        let mut first = true;
        if input.all_old
            && let Some(o) = old.as_ref().filter(|o| !o.is_empty())
        {
            out.extend_from_slice(b"\"Attributes\":");
            write_item(&mut out, o);
            first = false;
        }
        if let Some(j) = consumed.and_then(|c| c.render(input.rcc.as_str())) {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"\"ConsumedCapacity\":");
            let _ = serde_json::to_writer(&mut out, &j);
        }
        out.push(b'}');
        (out, commit)
    };
    if let Some(c) = commit
        && let Err(e) = c.await
    {
        let e = AwsError::internal(e.to_string());
        return Some(crate::wire::error(
            crate::wire::model_for(None),
            &e,
            &rc.request_id,
        ));
    }
    Some(crate::wire::ok_bytes(out))
}

// ---- parsing -------------------------------------------------------------------------------

/// Which top-level members a request has seen (duplicates go the generic way).
pub(crate) struct Seen(pub(crate) u32);

impl Seen {
    pub(crate) fn mark(&mut self, bit: u32) -> Option<()> {
        if self.0 & bit != 0 {
            return None;
        }
        self.0 |= bit;
        Some(())
    }
}

pub(crate) fn parse_get(body: &[u8]) -> Option<GetInput<'_>> {
    let mut p = Parser::new(body)?;
    let (mut table, mut key, mut consistent, mut rcc) = (None, None, false, Rcc::None);
    let mut seen = Seen(0);
    p.object(|p, name| {
        match name {
            "TableName" => {
                seen.mark(1)?;
                table = Some(table_name(p.string()?)?);
            }
            "Key" => {
                seen.mark(2)?;
                key = Some(p.attr_map(0)?);
            }
            "ConsistentRead" => {
                seen.mark(4)?;
                consistent = p.boolean()?;
            }
            "ReturnConsumedCapacity" => {
                seen.mark(8)?;
                rcc = Rcc::parse(p.string()?)?;
            }
            _ => return None,
        }
        Some(())
    })?;
    p.end()?;
    Some(GetInput {
        table: table?,
        key: key?,
        consistent,
        rcc,
    })
}

pub(crate) fn parse_put(body: &[u8]) -> Option<WriteInput<'_>> {
    parse_write(body, "Item")
}

pub(crate) fn parse_delete(body: &[u8]) -> Option<WriteInput<'_>> {
    parse_write(body, "Key")
}

/// PutItem (`attrs_member` = `Item`) or DeleteItem (`Key`) without conditions or expressions.
fn parse_write<'a>(body: &'a [u8], attrs_member: &str) -> Option<WriteInput<'a>> {
    let mut p = Parser::new(body)?;
    let (mut table, mut attrs, mut all_old, mut rcc) = (None, None, false, Rcc::None);
    let mut seen = Seen(0);
    p.object(|p, name| {
        match name {
            "TableName" => {
                seen.mark(1)?;
                table = Some(table_name(p.string()?)?);
            }
            n if n == attrs_member => {
                seen.mark(2)?;
                attrs = Some(p.attr_map(0)?);
            }
            "ReturnValues" => {
                seen.mark(4)?;
                all_old = return_values(p.string()?)?;
            }
            "ReturnConsumedCapacity" => {
                seen.mark(8)?;
                rcc = Rcc::parse(p.string()?)?;
            }
            "ReturnItemCollectionMetrics" => {
                seen.mark(16)?;
                (p.string()? == "NONE").then_some(())?;
            }
            _ => return None,
        }
        Some(())
    })?;
    p.end()?;
    Some(WriteInput {
        table: table?,
        attrs: attrs?,
        all_old,
        rcc,
    })
}

/// `ReturnValues` as PutItem and DeleteItem accept it: whether it is `ALL_OLD`.
fn return_values(s: &str) -> Option<bool> {
    match s {
        "NONE" => Some(false),
        "ALL_OLD" => Some(true),
        _ => None,
    }
}

/// A table name both the model (1–1024) and the handler's rule (3–255 of `[a-zA-Z0-9_.-]`)
/// accept; ARNs and bad names go the generic way.
pub(crate) fn table_name(s: &str) -> Option<&str> {
    crate::tables::check_table_name(s, "tableName").ok()?;
    Some(s)
}

/// The bytes that end a plain string: its closing quote, an escape, a raw control character.
/// (A 256-entry table instead of the comparisons measured slower.)
fn stops_string(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// Where the first byte that [`stops_string`] is, eight bytes at a time: the classic
/// "has a zero byte" test on the word XORed with `"` and with `\\`, and "has a byte under
/// 0x20". A flagged byte can be a false one only above a true one, so the lowest is exact.
/// (Byte by byte, reading strings was the largest DynamoDB cost of a Query's request.)
pub(crate) fn string_end(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    let mut words = b.chunks_exact(8);
    for c in &mut words {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let q = w ^ (LO * u64::from(b'"'));
        let e = w ^ (LO * u64::from(b'\\'));
        let m = ((q.wrapping_sub(LO) & !q)
            | (e.wrapping_sub(LO) & !e)
            | (w.wrapping_sub(LO * 0x20) & !w))
            & HI;
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| stops_string(c))
        .map(|p| at + p)
}

/// A strict JSON reader over the body: plain strings only (no escapes), no numbers, no
/// nulls; every surprise is `None`. The body is checked to be UTF-8 once, up front (outside
/// strings only ASCII tokens are accepted, so this accepts what a per-string check would).
pub(crate) struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Option<Self> {
        let s = std::str::from_utf8(b).ok()?;
        Some(Parser {
            s,
            b: s.as_bytes(),
            i: 0,
        })
    }

    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.i += 1;
        }
    }

    /// The next non-blank byte, consumed.
    pub(crate) fn next(&mut self) -> Option<u8> {
        self.ws();
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(c)
    }

    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    pub(crate) fn end(&mut self) -> Option<()> {
        self.ws();
        (self.i == self.b.len()).then_some(())
    }

    pub(crate) fn string(&mut self) -> Option<&'a str> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.i;
        let rest = self.b.get(start..)?;
        // Escapes and raw control characters: the generic path decides.
        let n = string_end(rest)?;
        if rest[n] != b'"' {
            return None;
        }
        self.i = start + n + 1;
        // Both ends are at a `"`, so on character boundaries.
        self.s.get(start..start + n)
    }

    pub(crate) fn boolean(&mut self) -> Option<bool> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// A plain non-negative integer (`0` or digits without a leading zero, at most 15 of
    /// them): fractions, exponents, signs go the generic way.
    pub(crate) fn integer(&mut self) -> Option<u64> {
        self.ws();
        let rest = &self.b[self.i..];
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 15 || (n > 1 && rest[0] == b'0') {
            return None;
        }
        self.i += n;
        Some(
            rest[..n]
                .iter()
                .fold(0u64, |v, c| v * 10 + u64::from(c - b'0')),
        )
    }

    /// An object's members, each handed to `f` with its name to read the value.
    pub(crate) fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        if self.next()? != b'{' {
            return None;
        }
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let name = self.string()?;
            if self.next()? != b':' {
                return None;
            }
            f(self, name)?;
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array's elements, each read by `f`.
    pub(crate) fn array(&mut self, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.next()? != b'[' {
            return None;
        }
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            f(self)?;
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// `{"name": AttributeValue, ...}` (an item, a key, an `M` value).
    pub(crate) fn attr_map(&mut self, depth: u32) -> Option<AttrMap> {
        let mut m = AttrMap::with_capacity(8);
        self.object(|p, name| {
            if name.is_empty() || name.len() > MAX_NAME || m.len() >= MAX_MEMBERS {
                return None;
            }
            let v = p.attr_value(depth)?;
            // A repeated name: serde_json keeps the last; let the generic path do it.
            m.insert(name, v).is_none().then_some(())
        })?;
        Some(m)
    }

    /// `{"S": "x"}` and friends: exactly one type member, valid for its type.
    pub(crate) fn attr_value(&mut self, depth: u32) -> Option<AttrValue> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut found = None;
        self.object(|p, tag| {
            if found.is_some() {
                return None;
            }
            found = Some(match tag {
                "S" => AttrValue::S(p.string()?.into()),
                "N" => AttrValue::N(number(p.string()?)?),
                "B" => AttrValue::B(B64.decode(p.string()?).ok()?),
                "BOOL" => AttrValue::Bool(p.boolean()?),
                "NULL" => {
                    p.boolean()?.then_some(())?;
                    AttrValue::Null
                }
                "M" => AttrValue::M(p.attr_map(depth + 1)?),
                "L" => {
                    let mut l = Vec::new();
                    p.array(|p| {
                        l.push(p.attr_value(depth + 1)?);
                        Some(())
                    })?;
                    AttrValue::L(l)
                }
                "SS" => {
                    let mut s: Vec<String> = Vec::new();
                    p.array(|p| {
                        let x = p.string()?;
                        (!s.iter().any(|y| y == x)).then_some(())?;
                        (s.len() < MAX_MEMBERS).then_some(())?;
                        s.push(x.to_owned());
                        Some(())
                    })?;
                    (!s.is_empty()).then_some(())?;
                    AttrValue::Ss(s)
                }
                "NS" => {
                    let mut s: Vec<Number> = Vec::new();
                    p.array(|p| {
                        let x = number(p.string()?)?;
                        (!s.contains(&x)).then_some(())?;
                        (s.len() < MAX_MEMBERS).then_some(())?;
                        s.push(x);
                        Some(())
                    })?;
                    (!s.is_empty()).then_some(())?;
                    AttrValue::Ns(s)
                }
                "BS" => {
                    let mut s: Vec<Vec<u8>> = Vec::new();
                    p.array(|p| {
                        let x = B64.decode(p.string()?).ok()?;
                        (!s.contains(&x)).then_some(())?;
                        (s.len() < MAX_MEMBERS).then_some(())?;
                        s.push(x);
                        Some(())
                    })?;
                    (!s.is_empty()).then_some(())?;
                    AttrValue::Bs(s)
                }
                _ => return None,
            });
            Some(())
        })?;
        found
    }
}

fn number(s: &str) -> Option<Number> {
    Number::parse(s).ok()
}

// ---- writing -------------------------------------------------------------------------------

/// An item as the generic path's `item_to_json` + `serde_json::to_vec` would write it.
pub(crate) fn write_item(out: &mut Vec<u8>, item: &AttrMap) {
    out.push(b'{');
    for (i, (k, v)) in item.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, v: &AttrValue) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(v.attr_type().tag().as_bytes());
    out.extend_from_slice(b"\":");
    match v {
        AttrValue::S(s) => write_text(out, s),
        AttrValue::N(n) => write_number(out, n),
        AttrValue::B(b) => write_b64(out, b),
        AttrValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AttrValue::Null => out.extend_from_slice(b"true"),
        AttrValue::M(m) => write_item(out, m),
        AttrValue::L(l) => write_list(out, l, write_value),
        AttrValue::Ss(s) => write_list(out, s, |o, x| write_str(o, x)),
        AttrValue::Ns(s) => write_list(out, s, write_number),
        AttrValue::Bs(s) => write_list(out, s, |o, x| write_b64(o, x)),
    }
    out.push(b'}');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], f: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f(out, x);
    }
    out.push(b']');
}

/// [`write_str`] of an `S` value: its bytes are checked as UTF-8 only when they need escapes.
fn write_text(out: &mut Vec<u8>, s: &Str) {
    if s.as_bytes().iter().any(|&b| stops_string(b)) {
        write_str(out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most names and values need no escape: copied as they are, which is what serde_json
    // writes for them; any other goes through serde_json's own escaping, so the bytes match
    // the generic path's.
    if string_end(s.as_bytes()).is_some() {
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    out.push(b'"');
    n.write_plain(out);
    out.push(b'"');
}

fn write_b64(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    let at = out.len();
    out.resize(at + b.len().div_ceil(3) * 4, 0);
    let n = B64.encode_slice(b, &mut out[at..]).unwrap_or(0);
    out.truncate(at + n);
    out.push(b'"');
}

impl DynamoDb {
    fn throttle_enabled(&self) -> bool {
        self.throttle.enabled()
    }
}

#[cfg(test)]
#[path = "fast_tests.rs"]
pub(crate) mod tests;
