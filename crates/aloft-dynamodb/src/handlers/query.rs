//! Query and Scan on tables and indexes: a Query is a range over the ordered map (O(log n +
//! page)); a Scan walks the map in partition-hash order and a parallel Scan segment is a
//! slice of the hash space, so it is a range too; pages stop at Limit evaluated items or 1 MB
//! read, as on AWS.

use std::borrow::Cow;
use std::ops::Bound;

use aloft_core::{AwsError, RequestContext};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::capacity::{Consumed, read_units};
use crate::domain::key::{KeySchema, encode_scalar, hash_of_key, segment_start};
use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{AttrValue, Item, item_from_json, item_size, item_to_json};
use crate::error::{invalid_param, validation};
use crate::expr::ast::{CmpOp, Cond, Operand, Path};
use crate::expr::eval::{eval, project};
use crate::expr::{ExprContext, ExprKind, parse_condition, parse_projection};
use crate::handlers::items::{checked_table_name, expr_context, str_param};
use crate::handlers::legacy;
use crate::tables::{IndexMeta, ProjectionType, TableMeta};

/// AWS stops a page after 1 MB of items read.
const PAGE_BYTES: usize = 1024 * 1024;

/// The sort key part of a key condition.
#[derive(Debug, Clone)]
enum SortCond {
    Cmp(CmpOp, AttrValue),
    Between(AttrValue, AttrValue),
    BeginsWith(AttrValue),
}

fn flatten_and(c: Cond, out: &mut Vec<Cond>) -> Result<(), AwsError> {
    match c {
        Cond::And(a, b) => {
            flatten_and(*a, out)?;
            flatten_and(*b, out)
        }
        Cond::Or(..) => {
            Err(ExprKind::KeyCondition.error("Invalid operator used in KeyConditionExpression: OR"))
        }
        Cond::Not(..) => {
            Err(ExprKind::KeyCondition
                .error("Invalid operator used in KeyConditionExpression: NOT"))
        }
        other => {
            out.push(other);
            Ok(())
        }
    }
}

fn single_attr(p: &Path) -> Option<&str> {
    (p.0.len() == 1).then(|| p.top())
}

/// Splits a key condition into the partition value and the sort key condition.
fn analyse_key_condition(
    cond: Cond,
    schema: &KeySchema,
) -> Result<(AttrValue, Option<SortCond>), AwsError> {
    let mut parts = Vec::new();
    flatten_and(cond, &mut parts)?;
    if parts.len() > 2 {
        return Err(validation(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let unsupported = || validation("Query key condition not supported");
    let mut hash = None;
    let mut sort = None;
    for c in parts {
        let (attr, sc) = match c {
            Cond::Cmp(Operand::Path(p), op, Operand::Value(v)) => {
                (single_attr(&p).map(str::to_string), SortCond::Cmp(op, v))
            }
            Cond::Cmp(Operand::Value(v), op, Operand::Path(p)) => {
                let flipped = match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    o => o,
                };
                (
                    single_attr(&p).map(str::to_string),
                    SortCond::Cmp(flipped, v),
                )
            }
            Cond::Between(Operand::Path(p), Operand::Value(a), Operand::Value(b)) => {
                (single_attr(&p).map(str::to_string), SortCond::Between(a, b))
            }
            Cond::BeginsWith(Operand::Path(p), Operand::Value(v)) => {
                (single_attr(&p).map(str::to_string), SortCond::BeginsWith(v))
            }
            _ => return Err(unsupported()),
        };
        let Some(attr) = attr else {
            return Err(unsupported());
        };
        if attr == schema.hash.name {
            if hash.is_some() {
                return Err(validation(
                    "KeyConditionExpressions must only contain one condition per key",
                ));
            }
            match sc {
                SortCond::Cmp(CmpOp::Eq, v) => hash = Some(v),
                _ => return Err(unsupported()),
            }
        } else if schema.range.as_ref().is_some_and(|r| r.name == attr) {
            if sort.is_some() {
                return Err(validation(
                    "KeyConditionExpressions must only contain one condition per key",
                ));
            }
            if matches!(sc, SortCond::Cmp(CmpOp::Ne, _)) {
                return Err(unsupported());
            }
            sort = Some(sc);
        } else if hash.is_none() && sort.is_none() {
            return Err(validation(format!(
                "Query condition missed key schema element: {}",
                schema.hash.name
            )));
        } else {
            return Err(unsupported());
        }
    }
    let hash = hash.ok_or_else(|| {
        validation(format!(
            "Query condition missed key schema element: {}",
            schema.hash.name
        ))
    })?;
    let type_err = || invalid_param("Condition parameter type does not match schema type");
    if hash.as_key_scalar() != Some(schema.hash.ty) {
        return Err(type_err());
    }
    if let (Some(sc), Some(r)) = (&sort, &schema.range) {
        let vals: Vec<&AttrValue> = match sc {
            SortCond::Cmp(_, v) | SortCond::BeginsWith(v) => vec![v],
            SortCond::Between(a, b) => vec![a, b],
        };
        if vals.iter().any(|v| v.as_key_scalar() != Some(r.ty)) {
            return Err(type_err());
        }
        if matches!(sc, SortCond::BeginsWith(_)) && r.ty == crate::domain::value::KeyType::N {
            return Err(ExprKind::KeyCondition.error("Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"));
        }
    }
    Ok((hash, sort))
}

/// The smallest byte string greater than every string starting with `prefix`.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last < 0xFF {
            p.push(last + 1);
            return Some(p);
        }
    }
    None
}

/// A bound as a [`RowKey`]: the tree's search then compares keys by their inline first 8
/// bytes (one number) instead of a `memcmp` per key by byte slice, which cost ~45 instructions
/// per key visited, the more the deeper the table (bench/README.md, "Large tables").
fn row_bound(b: &Bound<Vec<u8>>) -> Bound<RowKey> {
    b.as_ref().map(|v| RowKey::new(v))
}

fn upper_of(prefix: Vec<u8>) -> Bound<Vec<u8>> {
    successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

/// Byte bounds that contain every entry the sort condition can match (checked exactly later).
fn key_range(partition: &[u8], sort: Option<&SortCond>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let with = |v: &AttrValue| {
        let mut k = partition.to_vec();
        encode_scalar(v, &mut k);
        k
    };
    let all = || {
        (
            Bound::Included(partition.to_vec()),
            upper_of(partition.to_vec()),
        )
    };
    match sort {
        None => all(),
        Some(SortCond::Cmp(op, v)) => match op {
            CmpOp::Eq => (Bound::Included(with(v)), upper_of(with(v))),
            CmpOp::Lt | CmpOp::Le => (Bound::Included(partition.to_vec()), upper_of(with(v))),
            CmpOp::Gt | CmpOp::Ge => (Bound::Included(with(v)), upper_of(partition.to_vec())),
            CmpOp::Ne => all(),
        },
        Some(SortCond::Between(a, b)) => (Bound::Included(with(a)), upper_of(with(b))),
        Some(SortCond::BeginsWith(v)) => {
            // The escaped bytes of the prefix without the terminator.
            let mut k = with(v);
            k.truncate(k.len() - 2);
            (Bound::Included(k.clone()), upper_of(k))
        }
    }
}

fn sort_matches(sc: &SortCond, v: Option<&AttrValue>) -> bool {
    use std::cmp::Ordering::*;
    let Some(v) = v else { return false };
    match sc {
        SortCond::Cmp(op, x) => matches!(
            (op, v.compare(x)),
            (CmpOp::Eq, Some(Equal))
                | (CmpOp::Lt, Some(Less))
                | (CmpOp::Gt, Some(Greater))
                | (CmpOp::Le, Some(Less | Equal))
                | (CmpOp::Ge, Some(Greater | Equal))
        ),
        SortCond::Between(a, b) => {
            matches!(v.compare(a), Some(Greater | Equal))
                && matches!(v.compare(b), Some(Less | Equal))
        }
        SortCond::BeginsWith(p) => match (v, p) {
            (AttrValue::S(s), AttrValue::S(p)) => s.as_bytes().starts_with(p.as_bytes()),
            (AttrValue::B(s), AttrValue::B(p)) => s.starts_with(p),
            _ => false,
        },
    }
}

/// Which attributes a read returns.
#[derive(Debug, Clone, PartialEq)]
enum Select {
    All,
    Projected,
    Specific(Vec<Path>),
    Count,
}

fn resolve_select(
    sel: Option<&str>,
    index: Option<&IndexMeta>,
    projection: Option<Vec<Path>>,
) -> Result<Select, AwsError> {
    Ok(match (sel, projection) {
        (None | Some("SPECIFIC_ATTRIBUTES"), Some(p)) => Select::Specific(p),
        (Some("SPECIFIC_ATTRIBUTES"), None) => {
            return Err(invalid_param(
                "Select type SPECIFIC_ATTRIBUTES requires either AttributesToGet or ProjectionExpression",
            ));
        }
        (Some(s), Some(_)) => {
            return Err(invalid_param(format!(
                "Cannot specify the ProjectionExpression when choosing to get {s}"
            )));
        }
        (Some("COUNT"), None) => Select::Count,
        (Some("ALL_PROJECTED_ATTRIBUTES"), None) => {
            if index.is_none() {
                return Err(invalid_param(
                    "Select type ALL_PROJECTED_ATTRIBUTES is only supported when querying an index",
                ));
            }
            Select::Projected
        }
        (Some("ALL_ATTRIBUTES"), None) => {
            if let Some(idx) = index
                && idx.global
                && idx.projection != ProjectionType::All
            {
                return Err(invalid_param(format!(
                    "Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                    idx.name
                )));
            }
            Select::All
        }
        (None, None) => {
            if index.is_some() {
                Select::Projected
            } else {
                Select::All
            }
        }
        (Some(other), None) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )));
        }
    })
}

fn limit_of(limit: Option<i64>) -> Result<Option<usize>, AwsError> {
    match limit {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as usize)),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
    }
}

/// Which ordered map a read walks: the table's or an index's.
struct Target<'a> {
    meta: &'a TableMeta,
    index: Option<(usize, &'a IndexMeta)>,
}

impl Target<'_> {
    fn schema(&self) -> &KeySchema {
        self.index.map_or(&self.meta.schema, |(_, i)| &i.schema)
    }

    /// The map position of an ExclusiveStartKey.
    fn start_key(&self, esk: &Item) -> Result<Vec<u8>, AwsError> {
        let bad = || {
            validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let table_part: Item = self.meta.schema.extract(esk);
        let table_key = self.meta.schema.key_param(&table_part).map_err(|_| bad())?;
        match self.index {
            None => {
                if esk.len() != table_part.len() {
                    return Err(bad());
                }
                Ok(table_key)
            }
            Some((_, idx)) => {
                let mut k = idx.schema.index_key(esk).ok_or_else(bad)?;
                k.extend_from_slice(&table_key);
                Ok(k)
            }
        }
    }

    fn last_key(&self, item: &Item) -> Item {
        let mut k = self.meta.schema.extract(item);
        if let Some((_, idx)) = self.index {
            k.extend(idx.schema.extract(item));
        }
        k
    }
}

/// The segment of `total` whose slice of the hash space holds `hash`.
fn segment_of(hash: u32, total: u64) -> u64 {
    let h = u64::from(hash);
    let mut s = (h * total) >> 32;
    while s + 1 < total && segment_start(s + 1, total) <= h {
        s += 1;
    }
    while s > 0 && segment_start(s, total) > h {
        s -= 1;
    }
    s
}

/// The slice of the map a parallel Scan segment covers: keys start with the partition hash,
/// so a segment is a contiguous range of it (O(log n + page) per page, like a Query).
fn segment_range(segment: u64, total: u64) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let at = |h: u64| (h as u32).to_be_bytes().to_vec();
    let lo = Bound::Included(at(segment_start(segment, total)));
    let hi = if segment + 1 == total {
        Bound::Unbounded
    } else {
        Bound::Excluded(at(segment_start(segment + 1, total)))
    };
    (lo, hi)
}

/// Query's and Scan's input, typed, from either decoder: the generic path's JSON tree
/// ([`ReadInput::from_json`]) or the fast path's reader (`fast_query`). Every check happens in
/// [`DynamoDb::read_many`], in AWS's order, so a member whose decoding failed keeps its error
/// until its turn.
pub(crate) struct ReadInput<'a> {
    pub is_query: bool,
    pub table: Option<&'a str>,
    pub index: Option<&'a str>,
    pub ctx: Result<ExprContext, AwsError>,
    pub key_condition: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub projection: Option<&'a str>,
    /// The generic path's whole input, for the legacy parameters (KeyConditions,
    /// QueryFilter/ScanFilter, AttributesToGet); the fast path takes none of them.
    pub legacy: Option<&'a Json>,
    pub select: Option<&'a str>,
    pub limit: Option<i64>,
    pub forward: bool,
    pub consistent: bool,
    pub segment: Option<u64>,
    pub total_segments: Option<u64>,
    pub start_key: Option<Result<Item, AwsError>>,
    pub return_consumed: Option<&'a str>,
}

impl<'a> ReadInput<'a> {
    /// Nothing but the operation: what a request without members means.
    pub fn new(is_query: bool) -> Self {
        ReadInput {
            is_query,
            table: None,
            index: None,
            ctx: Ok(ExprContext::default()),
            key_condition: None,
            filter: None,
            projection: None,
            legacy: None,
            select: None,
            limit: None,
            forward: true,
            consistent: false,
            segment: None,
            total_segments: None,
            start_key: None,
            return_consumed: None,
        }
    }

    pub fn from_json(input: &'a Json, is_query: bool) -> Self {
        let s = |name| str_param(input, name);
        ReadInput {
            is_query,
            table: s("TableName"),
            index: s("IndexName"),
            ctx: expr_context(input),
            key_condition: s("KeyConditionExpression"),
            filter: s("FilterExpression"),
            projection: s("ProjectionExpression"),
            legacy: Some(input),
            select: s("Select"),
            limit: input.get("Limit").and_then(Json::as_i64),
            forward: input
                .get("ScanIndexForward")
                .and_then(Json::as_bool)
                .unwrap_or(true),
            consistent: input
                .get("ConsistentRead")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            segment: input.get("Segment").and_then(Json::as_u64),
            total_segments: input.get("TotalSegments").and_then(Json::as_u64),
            start_key: input
                .get("ExclusiveStartKey")
                .filter(|v| !v.is_null())
                .map(item_from_json),
            return_consumed: s("ReturnConsumedCapacity"),
        }
    }
}

/// A legacy condition member (None on the fast path, which takes none).
fn legacy_conditions(input: Option<&Json>, member: &str) -> Result<Option<Cond>, AwsError> {
    match input {
        Some(j) => legacy::conditions(j, member),
        None => Ok(None),
    }
}

/// One page read, borrowing the table's items, handed to a renderer while the table is
/// read-locked.
pub(crate) struct Page<'t> {
    pub items: Vec<Cow<'t, Item>>,
    /// Select COUNT: the answer has no `Items`.
    pub count_only: bool,
    pub scanned: usize,
    /// The returned items' size before any projection (AWS's measure): a bound for renderers.
    pub returned_bytes: usize,
    pub last_key: Option<Item>,
    /// The `ConsumedCapacity` member, when asked for.
    pub consumed: Option<Json>,
}

/// The generic path's answer: a JSON tree.
fn page_json(p: &Page<'_>) -> Json {
    let mut out = json!({"Count": p.items.len(), "ScannedCount": p.scanned});
    if !p.count_only {
        out["Items"] = Json::Array(p.items.iter().map(|i| item_to_json(i)).collect());
    }
    if let Some(k) = &p.last_key {
        out["LastEvaluatedKey"] = item_to_json(k);
    }
    if let Some(c) = &p.consumed {
        out["ConsumedCapacity"] = c.clone();
    }
    out
}

impl DynamoDb {
    pub async fn query(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        self.read_many(rc, ReadInput::from_json(&input, true), page_json)
    }

    pub async fn scan(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        self.read_many(rc, ReadInput::from_json(&input, false), page_json)
    }

    /// Query or Scan: validates the input in AWS's order, reads one page and hands it to
    /// `render` under the table's read lock.
    pub(crate) fn read_many<R>(
        &self,
        rc: &RequestContext,
        input: ReadInput<'_>,
        render: impl FnOnce(&Page<'_>) -> R,
    ) -> Result<R, AwsError> {
        let is_query = input.is_query;
        let name = checked_table_name(input.table)?;
        let table = self.table(rc, name)?;
        let mut ctx = input.ctx?;
        if let Some(j) = input.legacy {
            legacy::check_mixed(j, if is_query { "Query" } else { "Scan" })?;
        }
        let key_cond = match input.key_condition {
            Some(src) if is_query => Some(parse_condition(src, ExprKind::KeyCondition, &mut ctx)?),
            _ if is_query => legacy_conditions(input.legacy, "KeyConditions")?,
            _ => None,
        };
        if is_query && key_cond.is_none() {
            return Err(validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
        let filter = match input.filter {
            Some(src) => Some(parse_condition(src, ExprKind::Filter, &mut ctx)?),
            None => legacy_conditions(
                input.legacy,
                if is_query {
                    "QueryFilter"
                } else {
                    "ScanFilter"
                },
            )?,
        };
        let projection = match (input.projection, input.legacy) {
            (Some(src), _) => Some(parse_projection(src, &mut ctx)?),
            (None, Some(j)) => legacy::attributes_to_get(j)?,
            (None, None) => None,
        };
        ctx.check_unused()?;
        let limit = limit_of(input.limit)?;
        let forward = input.forward;
        let consistent = input.consistent;
        let segment = match (input.segment, input.total_segments) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
            (Some(s), Some(t)) => {
                if t == 0 || t > 1_000_000 {
                    return Err(validation(format!(
                        "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"
                    )));
                }
                if s >= t {
                    return Err(validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                Some((s, t))
            }
        };
        self.throttle_read_index(&table, input.index)?;
        let data = table.data.read().expect("table lock");
        let meta = &data.meta;
        let index = match input.index {
            Some(n) => Some(meta.index(n).ok_or_else(|| {
                validation(format!("The table does not have the specified index: {n}"))
            })?),
            None => None,
        };
        if consistent && index.is_some_and(|(_, i)| i.global) {
            return Err(validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        let select = resolve_select(input.select, index.map(|(_, i)| i), projection)?;
        let target = Target { meta, index };
        let map: &Rows = match index {
            Some((i, _)) => &data.indexes[i],
            None => &data.items,
        };
        let esk = match input.start_key {
            Some(k) => Some(target.start_key(&k?)?),
            None => None,
        };
        let (mut lo, mut hi) = (Bound::Unbounded, Bound::Unbounded);
        let mut sort = None;
        if let Some(kc) = key_cond {
            let (h, s) = analyse_key_condition(kc, target.schema())?;
            let partition = target.schema().partition_prefix(&h);
            (lo, hi) = key_range(&partition, s.as_ref());
            sort = s;
        } else if let Some((s, t)) = segment {
            (lo, hi) = segment_range(s, t);
            if let Some(k) = &esk {
                let owner = segment_of(hash_of_key(k), t);
                if owner != s {
                    return Err(validation(format!(
                        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {t} Segment: {owner}"
                    )));
                }
            }
        }
        if let Some(k) = esk {
            if forward {
                // Within a segment (or a key range) the start key only ever narrows it.
                let inside = match &lo {
                    Bound::Included(b) | Bound::Excluded(b) => &k >= b,
                    Bound::Unbounded => true,
                };
                if inside {
                    lo = Bound::Excluded(k);
                }
            } else {
                hi = Bound::Excluded(k);
            }
        }
        // An empty or inverted range reads nothing (BTreeMap::range would panic).
        let empty = match (&lo, &hi) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b
                    || (a == b
                        && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))))
            }
            _ => false,
        };
        let bounds = (row_bound(&lo), row_bound(&hi));
        let iter: Box<dyn Iterator<Item = (&RowKey, &Item)>> = if empty {
            Box::new(std::iter::empty())
        } else if forward || !is_query {
            Box::new(map.range::<RowKey, _>(bounds))
        } else {
            Box::new(map.range::<RowKey, _>(bounds).rev())
        };

        // Items are borrowed from the table until they are rendered: a copy of each (every
        // string allocated again) cost more than the rendering of a small item.
        let mut items: Vec<Cow<'_, Item>> = Vec::new();
        let mut scanned = 0usize;
        let mut bytes = 0usize;
        let mut returned_bytes = 0usize;
        let mut last: Option<&Item> = None;
        let mut more = false;
        let sort_name = target.schema().range.as_ref().map(|r| r.name.clone());
        let empty_item = Item::new();
        for (_, item) in iter {
            if let (Some(sc), Some(sn)) = (&sort, &sort_name)
                && !sort_matches(sc, item.get(sn))
            {
                continue;
            }
            if limit.is_some_and(|l| scanned >= l) || bytes >= PAGE_BYTES {
                more = true;
                break;
            }
            scanned += 1;
            let visible = match (index, &select) {
                (Some((_, idx)), Select::Projected | Select::Specific(_) | Select::Count) => {
                    Cow::Owned(meta.project_for_index(idx, item))
                }
                _ => Cow::Borrowed(item),
            };
            let size = item_size(&visible);
            bytes += size;
            last = Some(item);
            if let Some(f) = &filter
                && !eval(
                    f,
                    if visible.is_empty() {
                        &empty_item
                    } else {
                        &visible
                    },
                )
            {
                continue;
            }
            returned_bytes += size;
            items.push(match &select {
                Select::Specific(p) => Cow::Owned(project(&visible, p)),
                _ => visible,
            });
        }
        // Limit reached exactly: AWS still returns a LastEvaluatedKey.
        if limit.is_some_and(|l| scanned >= l) {
            more = true;
        }
        let mut c = Consumed::new(&meta.name, true);
        let units = read_units(bytes, consistent);
        match index {
            Some((_, idx)) => c.add_index(&idx.name, idx.global, units),
            None => c.table_units = units,
        }
        self.charge(meta, &c);
        let page = Page {
            items,
            count_only: select == Select::Count,
            scanned,
            returned_bytes,
            last_key: last.filter(|_| more).map(|item| target.last_key(item)),
            consumed: c.render(input.return_consumed),
        };
        Ok(render(&page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_is_the_next_prefix() {
        assert_eq!(successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(successor(&[0xFF]), None);
    }

    #[test]
    fn segments_tile_the_hash_space() {
        let key = |h: u32| h.to_be_bytes().to_vec();
        for total in [1u64, 2, 3, 7, 1000] {
            let mut covered = 0u64;
            for s in 0..total {
                let (lo, hi) = segment_range(s, total);
                let Bound::Included(lo) = lo else { panic!() };
                assert_eq!(lo, key(covered as u32));
                covered = match hi {
                    Bound::Excluded(h) => u32::from_be_bytes(h.try_into().unwrap()) as u64,
                    _ => 1 << 32,
                };
            }
            assert_eq!(covered, 1 << 32);
        }
        for total in [1u64, 3, 7, 1_000_000] {
            for h in [0u32, 1, 12345, 1 << 31, u32::MAX - 1, u32::MAX] {
                let s = segment_of(h, total);
                let (Bound::Included(lo), hi) = segment_range(s, total) else {
                    panic!()
                };
                assert!(key(h) >= lo);
                if let Bound::Excluded(hi) = hi {
                    assert!(key(h) < hi);
                }
            }
        }
    }
}
