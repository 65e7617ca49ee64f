//! Vector indexes: their definitions (checked as CreateTable and UpdateTable check them), the
//! vectors each index keeps (one per item holding a valid vector and its search schema's HASH
//! attributes), the distance functions, and the checks writes must pass.
//!
//! Search is exact (every indexed vector is scored): the true nearest neighbours, which AWS's
//! approximate search approaches.

use std::collections::HashMap;

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::domain::key::KeySchema;
use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{AttrValue, Item, KeyType, item_size};
use crate::error::{invalid_param, validation};
use crate::tables::{IndexMeta, ProjectionType, TableMeta};

/// The largest vector: the model's `SearchVectorList` holds at most 4096 elements.
pub const MAX_DIMENSIONS: u64 = 4096;
/// Vector indexes per table: five, as measured against DynamoDB (August 2026; the API
/// reference does not say).
pub const MAX_VECTOR_INDEXES: usize = 5;
/// INLINE_FILTER elements per search schema, as measured (not the twenty a search may use).
const MAX_INLINE_FILTERS: usize = 18;
/// `TopK` range, as AWS's troubleshooting guide states it.
pub const MAX_TOP_K: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distance {
    Cosine,
    Euclidean,
    DotProduct,
}

impl Distance {
    pub fn parse(s: &str) -> Option<Distance> {
        match s {
            "COSINE" => Some(Distance::Cosine),
            "EUCLIDEAN" => Some(Distance::Euclidean),
            "DOT_PRODUCT" => Some(Distance::DotProduct),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Distance::Cosine => "COSINE",
            Distance::Euclidean => "EUCLIDEAN",
            Distance::DotProduct => "DOT_PRODUCT",
        }
    }

    /// DOT_PRODUCT returns the k highest scores; COSINE and EUCLIDEAN the k smallest.
    pub fn higher_is_closer(self) -> bool {
        self == Distance::DotProduct
    }

    /// The score AWS reports: `1 - cos` (0 identical .. 2 opposite), the Euclidean distance
    /// (not squared), or the dot product. A zero vector has no direction: its cosine score is
    /// 1, as for an orthogonal one.
    pub fn score(self, q: &[f32], v: &[f32]) -> f32 {
        self.score_normed(q, norm2(q), v, norm2(v))
    }

    /// [`Distance::score`] given the squared norms `qq` of `q` and `vv` of `v` (the index
    /// keeps each vector's, a search computes its query's once).
    #[inline]
    pub fn score_normed(self, q: &[f32], qq: f32, v: &[f32], vv: f32) -> f32 {
        match self {
            Distance::Cosine => {
                if qq == 0.0 || vv == 0.0 {
                    return 1.0;
                }
                let dot = lanes(q, v, |a, b| a * b);
                let cos = (dot / (qq.sqrt() * vv.sqrt())).clamp(-1.0, 1.0);
                (1.0 - cos).max(0.0)
            }
            Distance::Euclidean => lanes(q, v, |a, b| (a - b) * (a - b)).sqrt(),
            Distance::DotProduct => lanes(q, v, |a, b| a * b),
        }
    }
}

/// A vector's squared norm (its dot product with itself).
pub fn norm2(v: &[f32]) -> f32 {
    lanes(v, v, |a, b| a * b)
}

/// The sum of `term(a[i], b[i])` in eight independent lanes. A float sum in one accumulator
/// must be added in order, one addition waiting for the last; eight lanes let the additions
/// overlap and the loop use the CPU's vector instructions (a search scores every vector).
#[inline]
fn lanes(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| term(*x, *y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += term(x[i], y[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// One attribute of a search schema: the index's partition key (`HASH`) or an inline filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchAttr {
    pub name: String,
    pub hash: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VectorIndexMeta {
    pub name: String,
    pub attribute: String,
    pub dimensions: usize,
    pub distance: Distance,
    pub search_schema: Vec<SearchAttr>,
    pub projection: ProjectionType,
}

/// A vector as an item holds it: a list (`L`) of numbers (`N`), each kept as an f32.
pub fn vector_from(v: &AttrValue) -> Result<Vec<f32>, VectorError> {
    let AttrValue::L(list) = v else {
        return Err(VectorError::NotAList(v.attr_type().tag()));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let AttrValue::N(n) = e else {
            return Err(VectorError::NotANumber(i, e.attr_type().tag()));
        };
        let f = n.to_f64() as f32;
        if !f.is_finite() {
            return Err(VectorError::OutOfRange(i));
        }
        out.push(f);
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
pub enum VectorError {
    NotAList(&'static str),
    NotANumber(usize, &'static str),
    OutOfRange(usize),
}

impl VectorError {
    pub fn describe(&self) -> String {
        match self {
            VectorError::NotAList(t) => {
                format!("expected a list (L) of numbers (N), actual type: {t}")
            }
            VectorError::NotANumber(i, t) => {
                format!("element at index {i} must be a number (N), actual type: {t}")
            }
            VectorError::OutOfRange(i) => {
                format!(
                    "element at index {i} is not representable as a 32-bit floating point number"
                )
            }
        }
    }
}

impl VectorIndexMeta {
    pub fn hash_attrs(&self) -> impl Iterator<Item = &str> {
        self.search_schema
            .iter()
            .filter(|a| a.hash)
            .map(|a| a.name.as_str())
    }

    pub fn in_schema(&self, name: &str) -> Option<&SearchAttr> {
        self.search_schema.iter().find(|a| a.name == name)
    }

    /// The vector an item contributes, when the item belongs in the index: it holds a valid
    /// vector of the index's dimensions and every HASH attribute of the search schema.
    pub fn entry_of(&self, item: &Item) -> Option<Vec<f32>> {
        let v = vector_from(item.get(self.attribute.as_str())?).ok()?;
        if v.len() != self.dimensions {
            return None;
        }
        if self.hash_attrs().any(|h| !item.contains_key(h)) {
            return None;
        }
        Some(v)
    }

    /// The attributes an index entry keeps: the table's keys, the search schema, the vector,
    /// and the projection's non-key attributes.
    pub fn project(&self, table: &KeySchema, item: &Item) -> Item {
        if self.projection == ProjectionType::All {
            return item.clone();
        }
        item.iter()
            .filter(|(k, _)| {
                let k: &str = k;
                table.is_key_attr(k)
                    || k == self.attribute
                    || self.in_schema(k).is_some()
                    || matches!(&self.projection, ProjectionType::Include(a) if a.iter().any(|x| x == k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn describe(&self, meta: &TableMeta, data: &VectorData) -> Json {
        let mut j = json!({
            "IndexName": self.name,
            "VectorAttribute": {"AttributeName": self.attribute},
            "Dimensions": self.dimensions,
            "DistanceFunction": self.distance.name(),
            "Projection": projection_json(&self.projection),
            "IndexStatus": "ACTIVE",
            "Backfilling": false,
            "IndexSizeBytes": data.size,
            "ItemCount": data.len(),
            "IndexArn": format!("{}/index/{}", meta.arn(), self.name),
        });
        if !self.search_schema.is_empty() {
            j["SearchSchema"] = Json::Array(
                self.search_schema
                    .iter()
                    .map(|a| {
                        json!({"AttributeName": a.name,
                            "SearchSchemaElementType": if a.hash { "HASH" } else { "INLINE_FILTER" }})
                    })
                    .collect(),
            );
        }
        j
    }
}

fn projection_json(p: &ProjectionType) -> Json {
    match p {
        ProjectionType::All => json!({"ProjectionType": "ALL"}),
        ProjectionType::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
        ProjectionType::Include(a) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": a}),
    }
}

/// One vector index's contents, laid out for the search, which reads every vector: the
/// vectors one after another in one array (row `r` at `r * dims`), so that a search streams
/// through memory instead of chasing one allocation per item (a cache miss each, most of a
/// search's time at 30k items), beside each row's table key, squared norm and entry size.
/// Rows are in no order (a removal moves the last row into the hole); `rows` finds a key's.
#[derive(Debug, Default, Clone)]
pub struct VectorData {
    dims: usize,
    vectors: Vec<f32>,
    keys: Vec<RowKey>,
    /// Each vector's squared norm, for COSINE (computed once, not per search).
    norms: Vec<f32>,
    sizes: Vec<u64>,
    rows: HashMap<RowKey, usize>,
    /// Bytes the index holds: vectors (4 bytes a dimension) and the projected attributes.
    pub size: u64,
}

impl VectorData {
    /// Indexed items.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The vector indexed for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[f32]> {
        let r = *self.rows.get(key)?;
        Some(&self.vectors[r * self.dims..(r + 1) * self.dims])
    }

    pub fn key(&self, row: usize) -> &RowKey {
        &self.keys[row]
    }

    /// Every row's table key, vector and squared norm, in row order.
    pub fn rows(&self) -> impl Iterator<Item = (&RowKey, &[f32], f32)> {
        // No rows: `dims` may be 0, which `chunks_exact` refuses.
        let dims = self.dims.max(1);
        self.keys
            .iter()
            .zip(self.vectors.chunks_exact(dims))
            .zip(&self.norms)
            .map(|((k, v), n)| (k, v, *n))
    }

    fn remove(&mut self, key: &[u8]) {
        let Some(r) = self.rows.remove(key) else {
            return;
        };
        self.size = self.size.saturating_sub(self.sizes[r]);
        let last = self.keys.len() - 1;
        if r != last {
            let d = self.dims;
            self.vectors.copy_within(last * d..(last + 1) * d, r * d);
            if let Some(moved) = self.rows.get_mut(&self.keys[last]) {
                *moved = r;
            }
        }
        self.vectors.truncate(last * self.dims);
        self.keys.swap_remove(r);
        self.norms.swap_remove(r);
        self.sizes.swap_remove(r);
    }

    fn put(&mut self, vi: &VectorIndexMeta, table: &KeySchema, key: &[u8], item: Option<&Item>) {
        self.remove(key);
        let Some(item) = item else { return };
        let Some(v) = vi.entry_of(item) else { return };
        if self.dims != v.len() {
            // Only before the first row: an index's dimensions never change, and every
            // entry has them (`entry_of`).
            *self = VectorData {
                dims: v.len(),
                ..Default::default()
            };
        }
        let mut projected = vi.project(table, item);
        projected.remove(vi.attribute.as_str());
        let size = item_size(&projected) as u64 + 4 * v.len() as u64;
        self.size += size;
        self.rows.insert(RowKey::new(key), self.keys.len());
        self.keys.push(RowKey::new(key));
        self.norms.push(norm2(&v));
        self.sizes.push(size);
        self.vectors.extend_from_slice(&v);
    }
}
/// `VectorWriteRequestBytes` of one item write on each vector index whose entry it changes
/// (a write that leaves the indexed data as it was costs none): the bytes replicated to the
/// index, the new entry's (or, for a removal, the old entry's) vector and projected attributes.
pub fn write_bytes<'a>(
    meta: &'a TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<(&'a str, f64)> {
    let mut out = Vec::new();
    for vi in &meta.vector_indexes {
        let entry = |i: Option<&Item>| {
            let i = i?;
            let v = vi.entry_of(i)?;
            let mut p = vi.project(&meta.schema, i);
            p.remove(vi.attribute.as_str());
            Some((v, p))
        };
        let (o, n) = (entry(old), entry(new));
        if o == n {
            continue;
        }
        if let Some((v, p)) = n.as_ref().or(o.as_ref()) {
            out.push((vi.name.as_str(), (item_size(p) + 4 * v.len()) as f64));
        }
    }
    out
}

/// Keeps every vector index in step with the item now at `key` (None: deleted).
pub fn maintain(meta: &TableMeta, data: &mut [VectorData], key: &[u8], new: Option<&Item>) {
    for (vi, vd) in meta.vector_indexes.iter().zip(data.iter_mut()) {
        vd.put(vi, &meta.schema, key, new);
    }
}

/// Builds every vector index from the table's items (on load, restore, and the backfill of an
/// index added by UpdateTable).
pub fn rebuild(meta: &TableMeta, items: &Rows) -> Vec<VectorData> {
    let mut out = vec![VectorData::default(); meta.vector_indexes.len()];
    if out.is_empty() {
        return out;
    }
    for (k, v) in items {
        maintain(meta, &mut out, k.as_bytes(), Some(v));
    }
    out
}

/// The `VectorIndexes` member of a table description, when the table has any.
pub fn describe(meta: &TableMeta, data: &[VectorData]) -> Option<Json> {
    if meta.vector_indexes.is_empty() {
        return None;
    }
    let empty = VectorData::default();
    Some(Json::Array(
        meta.vector_indexes
            .iter()
            .enumerate()
            .map(|(i, vi)| vi.describe(meta, data.get(i).unwrap_or(&empty)))
            .collect(),
    ))
}

/// Rejects a write whose item holds a vector attribute that is not a valid vector of the
/// index's dimensions, or a search schema attribute of another type than its definition:
/// AWS refuses such writes rather than leaving the item out of the index.
pub fn check_item(meta: &TableMeta, item: &Item) -> Result<(), AwsError> {
    for vi in &meta.vector_indexes {
        if let Some(v) = item.get(vi.attribute.as_str()) {
            // AWS's words (captured from DynamoDB by dynoxide's conformance notes, 2026-08):
            // "invalid." with a full stop, and the punctuation before IndexName as AWS has it.
            let (a, n) = (&vi.attribute, &vi.name);
            let vector = vector_from(v).map_err(|e| {
                validation(match e {
                    VectorError::NotAList(_) => format!(
                        "One or more parameter values were invalid. Invalid type for parameter {a}, Expected: 32-bit floating point number list IndexName: {n}"
                    ),
                    VectorError::NotANumber(i, t) => format!(
                        "One or more parameter values were invalid. Invalid type for parameter {a}[{i}], Expected: 32-bit floating point number, Actual: {t}. IndexName: {n}"
                    ),
                    VectorError::OutOfRange(i) => {
                        let raw = match v {
                            AttrValue::L(l) => match l.get(i) {
                                Some(AttrValue::N(x)) => x.to_string(),
                                _ => String::new(),
                            },
                            _ => String::new(),
                        };
                        format!(
                            "One or more parameter values were invalid. Invalid value for parameter {a}[{i}], Value: {raw} is outside valid range [-3.4028235E38, 3.4028235E38]. IndexName: {n}"
                        )
                    }
                })
            })?;
            if vector.len() != vi.dimensions {
                return Err(validation(format!(
                    "One or more parameter values were invalid. Invalid size for parameter {a}, Expected: {}, Actual: {} IndexName: {n}",
                    vi.dimensions,
                    vector.len()
                )));
            }
        }
        for a in &vi.search_schema {
            let Some(v) = item.get(a.name.as_str()) else {
                continue;
            };
            let want = meta
                .attribute_definitions
                .iter()
                .find(|(n, _)| *n == a.name)
                .map(|(_, t)| *t);
            if let Some(want) = want
                && v.as_key_scalar() != Some(want)
            {
                return Err(validation(format!(
                    "One or more parameter values were invalid. Attribute '{}' type mismatch. Expected: {}, Actual: {}. IndexName: {}",
                    a.name,
                    want.tag(),
                    v.attr_type().tag(),
                    vi.name
                )));
            }
        }
    }
    Ok(())
}

/// Parses one `VectorIndex` (CreateTable) or `CreateVectorIndexAction` (UpdateTable).
pub fn parse(
    v: &Json,
    defs: &[(String, KeyType)],
    table: &KeySchema,
    member: &str,
) -> Result<VectorIndexMeta, AwsError> {
    let name = v["IndexName"].as_str().unwrap_or_default().to_string();
    crate::tables::check_table_name(&name, &format!("{member}.indexName"))?;
    let attribute = v["VectorAttribute"]["AttributeName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if attribute.is_empty() {
        return Err(validation(format!(
            "1 validation error detected: Value null at '{member}.vectorAttribute.attributeName' failed to satisfy constraint: Member must not be null"
        )));
    }
    let dims = v["Dimensions"].as_u64().unwrap_or(0);
    if !(1..=MAX_DIMENSIONS).contains(&dims) {
        return Err(invalid_param(format!(
            "Number of dimensions must be between 1 and {MAX_DIMENSIONS} inclusive."
        )));
    }
    let distance = v["DistanceFunction"]
        .as_str()
        .and_then(Distance::parse)
        .ok_or_else(|| {
            validation(format!(
                "1 validation error detected: Value '{}' at '{member}.distanceFunction' failed to satisfy constraint: Member must satisfy enum value set: [DOT_PRODUCT, COSINE, EUCLIDEAN]",
                v["DistanceFunction"].as_str().unwrap_or("null")
            ))
        })?;
    if table.is_key_attr(&attribute) || defs.iter().any(|(n, _)| *n == attribute) {
        return Err(invalid_param(format!(
            "Conflicting attribute definition for '{attribute}'. An attribute cannot be defined in AttributeDefinitions when used as a VectorAttribute."
        )));
    }
    let mut search_schema: Vec<SearchAttr> = Vec::new();
    for e in v["SearchSchema"].as_array().into_iter().flatten() {
        let a = e["AttributeName"].as_str().unwrap_or_default().to_string();
        let hash = match e["SearchSchemaElementType"].as_str() {
            Some("HASH") => true,
            Some("INLINE_FILTER") => false,
            other => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{}' at '{member}.searchSchema.member.searchSchemaElementType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, INLINE_FILTER]",
                    other.unwrap_or("null")
                )));
            }
        };
        if !defs.iter().any(|(n, _)| *n == a) {
            return Err(invalid_param(
                "One element in SearchSchema is not defined in attribute definitions",
            ));
        }
        if a == attribute {
            return Err(invalid_param(format!(
                "The vector attribute {attribute} cannot also be in the SearchSchema of vector index {name}"
            )));
        }
        if search_schema.iter().any(|x| x.name == a) {
            return Err(invalid_param(format!(
                "Duplicate attribute {a} in the SearchSchema of vector index {name}"
            )));
        }
        search_schema.push(SearchAttr { name: a, hash });
    }
    // AWS words these two in its constraint style, the member named as in the request.
    let hashes = search_schema.iter().filter(|a| a.hash).count();
    if hashes > 1 {
        return Err(invalid_param(format!(
            "Value '{hashes}' at 'SearchSchema' failed to satisfy constraint: Member must have HASH count less than or equal to 1"
        )));
    }
    let filters = search_schema.len() - hashes;
    if filters > MAX_INLINE_FILTERS {
        return Err(invalid_param(format!(
            "Value '{filters}' at 'SearchSchema' failed to satisfy constraint: Member must have INLINE_FILTER count less than or equal to {MAX_INLINE_FILTERS}"
        )));
    }
    let projection = crate::tables::parse_projection(&v["Projection"])?;
    Ok(VectorIndexMeta {
        name,
        attribute,
        dimensions: dims as usize,
        distance,
        search_schema,
        projection,
    })
}

/// Table-wide rules once the vector indexes are known: on-demand billing, unique index
/// names, one dimension count per vector attribute, the count limit.
pub fn check_table(
    pay_per_request: bool,
    indexes: &[IndexMeta],
    vector_indexes: &[VectorIndexMeta],
) -> Result<(), AwsError> {
    if vector_indexes.is_empty() {
        return Ok(());
    }
    if !pay_per_request {
        return Err(invalid_param(
            "Vector indexes are only supported for PAY_PER_REQUEST tables",
        ));
    }
    if vector_indexes.len() > MAX_VECTOR_INDEXES {
        return Err(invalid_param(format!(
            "VectorIndex count exceeds the per-table limit of {MAX_VECTOR_INDEXES}"
        )));
    }
    for (i, vi) in vector_indexes.iter().enumerate() {
        if indexes.iter().any(|x| x.name == vi.name)
            || vector_indexes[..i].iter().any(|x| x.name == vi.name)
        {
            return Err(invalid_param(format!("Duplicate index name: {}", vi.name)));
        }
        if let Some(o) = vector_indexes[..i]
            .iter()
            .find(|x| x.attribute == vi.attribute && x.dimensions != vi.dimensions)
        {
            return Err(invalid_param(format!(
                "Vector indexes {} and {} reference the same vector attribute {} and must use the same number of dimensions",
                o.name, vi.name, vi.attribute
            )));
        }
    }
    Ok(())
}

/// Vector indexes of a CreateTable input.
pub fn parse_create(
    input: &Json,
    defs: &[(String, KeyType)],
    table: &KeySchema,
    pay_per_request: bool,
    indexes: &[IndexMeta],
) -> Result<Vec<VectorIndexMeta>, AwsError> {
    let out = input["VectorIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, v)| parse(v, defs, table, &format!("vectorIndexes.{}.member", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    check_table(pay_per_request, indexes, &out)?;
    Ok(out)
}

/// What UpdateTable's `VectorIndexUpdates` did, for its answer.
pub enum VectorChange {
    Created(String),
    /// The deleted index's description, shown as DELETING.
    Deleted(Json),
}

/// Applies `VectorIndexUpdates` (one index per call) to a definition; the caller backfills.
pub fn apply_updates(
    meta: &mut TableMeta,
    data: &[VectorData],
    input: &Json,
) -> Result<Option<VectorChange>, AwsError> {
    let Some(updates) = input.get("VectorIndexUpdates").and_then(Json::as_array) else {
        return Ok(None);
    };
    if updates.len() != 1 {
        return Err(invalid_param(
            "You can add or remove only one vector index per UpdateTable operation",
        ));
    }
    let u = &updates[0];
    if let Some(c) = u.get("Create").filter(|c| !c.is_null()) {
        if u.get("Delete").is_some_and(|d| !d.is_null()) {
            return Err(invalid_param(
                "A VectorIndexUpdate can specify only one of Create or Delete",
            ));
        }
        let vi = parse(
            c,
            &meta.attribute_definitions,
            &meta.schema,
            "vectorIndexUpdates.1.member.create",
        )?;
        if meta.vector_indexes.iter().any(|x| x.name == vi.name) || meta.index(&vi.name).is_some() {
            return Err(validation(
                "Attempting to create an index which already exists",
            ));
        }
        // UpdateTable words the limit differently from CreateTable, and as another error.
        if meta.vector_indexes.len() >= MAX_VECTOR_INDEXES {
            return Err(crate::error::ErrorCode::LimitExceededException.err(format!(
                "Subscriber limit exceeded: Number of vector secondary indexes exceeds per-table limit of {MAX_VECTOR_INDEXES}"
            )));
        }
        let name = vi.name.clone();
        meta.vector_indexes.push(vi);
        check_table(meta.pay_per_request, &meta.indexes, &meta.vector_indexes)?;
        return Ok(Some(VectorChange::Created(name)));
    }
    if let Some(d) = u.get("Delete").filter(|d| !d.is_null()) {
        let n = d["IndexName"].as_str().unwrap_or_default();
        let Some(pos) = meta.vector_indexes.iter().position(|x| x.name == n) else {
            return Err(
                crate::error::ErrorCode::ResourceNotFoundException.err(format!(
                    "Requested resource not found: Vector index: {n} not found for table {}",
                    meta.name
                )),
            );
        };
        let empty = VectorData::default();
        let mut desc = meta.vector_indexes[pos].describe(meta, data.get(pos).unwrap_or(&empty));
        desc["IndexStatus"] = json!("DELETING");
        meta.vector_indexes.remove(pos);
        return Ok(Some(VectorChange::Deleted(desc)));
    }
    Err(validation(
        "One or more parameter values were invalid: A VectorIndexUpdate must specify Create or Delete",
    ))
}

/// Shows an UpdateTable's vector change in its answer: the new index CREATING (its backfill
/// is done by the time DescribeTable is called), the removed one DELETING.
pub fn mark_change(desc: &mut Json, change: &VectorChange) {
    match change {
        VectorChange::Created(name) => {
            if let Some(list) = desc["VectorIndexes"].as_array_mut() {
                for j in list.iter_mut().filter(|j| j["IndexName"] == name.as_str()) {
                    j["IndexStatus"] = json!("CREATING");
                    j["Backfilling"] = json!(true);
                }
            }
        }
        VectorChange::Deleted(d) => match desc["VectorIndexes"].as_array_mut() {
            Some(list) => list.push(d.clone()),
            None => desc["VectorIndexes"] = json!([d]),
        },
    }
}

/// A restore's `VectorIndexOverride`: the backup's vector indexes to keep (all when absent).
/// Each one given must match an index of the source by name and definition.
pub fn apply_restore_override(meta: &mut TableMeta, input: &Json) -> Result<(), AwsError> {
    if let Some(list) = input.get("VectorIndexOverride").and_then(Json::as_array) {
        let mut kept = Vec::new();
        for v in list {
            let want = parse(
                v,
                &meta.attribute_definitions,
                &meta.schema,
                "vectorIndexOverride.member",
            )?;
            let Some(have) = meta.vector_indexes.iter().find(|x| x.name == want.name) else {
                return Err(invalid_param(format!(
                    "Vector index {} does not exist in the source table",
                    want.name
                )));
            };
            if have.attribute != want.attribute
                || have.dimensions != want.dimensions
                || have.distance != want.distance
                || have.search_schema != want.search_schema
                || have.projection != want.projection
            {
                return Err(invalid_param(format!(
                    "Vector index {} does not match the vector index of the source table",
                    want.name
                )));
            }
            kept.push(want);
        }
        meta.vector_indexes = kept;
    }
    check_table(meta.pay_per_request, &meta.indexes, &meta.vector_indexes)
}

/// The `VectorIndexes` member of a backup's `SourceTableFeatureDetails` (`VectorIndexInfo`).
pub fn backup_info(meta: &TableMeta) -> Option<Json> {
    if meta.vector_indexes.is_empty() {
        return None;
    }
    let empty = VectorData::default();
    Some(Json::Array(
        meta.vector_indexes
            .iter()
            .map(|vi| {
                let mut j = vi.describe(meta, &empty);
                if let Some(o) = j.as_object_mut() {
                    for k in [
                        "IndexStatus",
                        "Backfilling",
                        "IndexSizeBytes",
                        "ItemCount",
                        "IndexArn",
                    ] {
                        o.remove(k);
                    }
                }
                j
            })
            .collect(),
    ))
}

#[cfg(test)]
#[path = "vectors_tests.rs"]
mod tests;
