//! PutItem, GetItem, UpdateItem, DeleteItem, and the single-item write path that batches
//! and transactions share.

use std::sync::Arc;

use aloft_core::{AwsError, RequestContext};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::capacity::{Consumed, read_units, write_units};
use crate::domain::value::{
    AttrValue, Item, MAX_ITEM_SIZE, item_from_json, item_size, item_to_json,
};
use crate::error::{ErrorCode, conditional_failed, invalid_param, table_not_found, validation};
use crate::expr::ast::{Cond, Path, Update};
use crate::expr::eval::{eval, project};
use crate::expr::{ExprContext, ExprKind, parse_condition, parse_projection, parse_update};
use crate::handlers::legacy;
use crate::state::{Actor, IndexWrites, Table, TableData};
use crate::tables::TableMeta;

/// What a write does to its item.
#[derive(Debug, Clone)]
pub enum Action {
    Put(Item),
    Update(Update),
    Delete,
    Check,
}

/// A write ready to run: its table, key, action and condition, all validated.
pub struct Prepared {
    pub table: Arc<Table>,
    pub table_name: String,
    pub key: Vec<u8>,
    pub key_item: Item,
    pub action: Action,
    pub cond: Option<Cond>,
}

/// A write that happened: the old item, the new one (None when deleted), index write units.
pub type Written = (Option<Item>, Option<Item>, IndexWrites);

/// Why a prepared write did not happen.
pub enum WriteFailure {
    /// The condition was false; carries the item as it was.
    Condition(Option<Item>),
    Invalid(AwsError),
}

pub fn str_param<'a>(input: &'a Json, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Json::as_str)
}

/// `TableName` checked for presence and AWS's naming rule.
pub fn table_name(input: &Json) -> Result<String, AwsError> {
    checked_table_name(str_param(input, "TableName")).map(str::to_string)
}

/// The `TableName` member as AWS validates it: present, then of the table name's form.
pub fn checked_table_name(name: Option<&str>) -> Result<&str, AwsError> {
    let name = name.ok_or_else(|| {
        validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
    })?;
    crate::tables::check_table_name(name, "tableName")?;
    Ok(name)
}

pub fn expr_context(input: &Json) -> Result<ExprContext, AwsError> {
    ExprContext::new(
        input.get("ExpressionAttributeNames"),
        input.get("ExpressionAttributeValues"),
    )
}

/// The item with its new contents checked: size and secondary index key types.
pub fn check_new_item(meta: &TableMeta, item: &Item, update: bool) -> Result<(), AwsError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(validation(if update {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        }));
    }
    crate::vectors::check_item(meta, item)?;
    for idx in &meta.indexes {
        for attr in idx.schema.names() {
            let Some(v) = item.get(attr) else { continue };
            let want = meta
                .attribute_definitions
                .iter()
                .find(|(n, _)| n == attr)
                .map(|(_, t)| *t);
            if let Some(want) = want {
                if v.as_key_scalar() != Some(want) {
                    return Err(invalid_param(format!(
                        "Type mismatch for Index Key {attr} Expected: {} Actual: {} IndexName: {}",
                        want.tag(),
                        v.attr_type().tag(),
                        idx.name
                    )));
                }
                if matches!(v, AttrValue::S(s) if s.is_empty())
                    || matches!(v, AttrValue::B(b) if b.is_empty())
                {
                    return Err(validation(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {attr}",
                        idx.name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Rejects updates that touch a key attribute, as AWS does.
pub fn check_update_keys(meta: &TableMeta, update: &Update) -> Result<(), AwsError> {
    for a in &update.actions {
        let p = a.path();
        if p.0.len() == 1 && meta.schema.is_key_attr(p.top()) {
            return Err(invalid_param(format!(
                "Cannot update attribute {}. This attribute is part of the key",
                p.top()
            )));
        }
    }
    Ok(())
}

/// Computes the new item of a write (None = delete, Some(None) = no change).
pub fn next_item(
    prep_key: &Item,
    action: &Action,
    old: Option<&Item>,
) -> Result<Option<Option<Item>>, AwsError> {
    Ok(match action {
        Action::Put(item) => Some(Some(item.clone())),
        Action::Delete => Some(None),
        Action::Check => None,
        Action::Update(u) => {
            let base = old.cloned().unwrap_or_else(|| prep_key.clone());
            Some(Some(crate::expr::update::apply(u, &base)?))
        }
    })
}

/// Runs one prepared write against locked table data; `Ok` carries (old, new, index writes).
pub fn run_write(
    db: &DynamoDb,
    data: &mut TableData,
    p: &Prepared,
    batch: &mut Batch,
) -> Result<Written, WriteFailure> {
    let old = data.items.get(&p.key[..]).cloned();
    let empty = Item::new();
    if let Some(c) = &p.cond
        && !eval(c, old.as_ref().unwrap_or(&empty))
    {
        return Err(WriteFailure::Condition(old));
    }
    let next = next_item(&p.key_item, &p.action, old.as_ref()).map_err(WriteFailure::Invalid)?;
    let Some(new) = next else {
        return Ok((old, None, IndexWrites::default()));
    };
    if let Some(n) = &new {
        check_new_item(&data.meta, n, matches!(p.action, Action::Update(_)))
            .map_err(WriteFailure::Invalid)?;
    }
    if new.is_none() && old.is_none() {
        return Ok((None, None, IndexWrites::default()));
    }
    if let Some(n) = &new {
        check_collection_limit(db, data, old.as_ref(), n).map_err(WriteFailure::Invalid)?;
    }
    let new = new.map(crate::state::stored);
    let (old, writes) = data.write_shared(&db.db, p.key.clone(), new.clone(), Actor::User, batch);
    Ok((old, new, writes))
}

/// Rejects a write that would grow its item collection past the limit (tables with LSIs).
pub fn check_collection_limit(
    db: &DynamoDb,
    data: &TableData,
    old: Option<&Item>,
    new: &Item,
) -> Result<(), AwsError> {
    if !data.has_lsi() {
        return Ok(());
    }
    let Some(part) = data.collection_of(new) else {
        return Ok(());
    };
    let grow = data.collection_share(new);
    let shrink = old.map_or(0, |o| data.collection_share(o));
    let limit = db
        .db
        .collection_limit
        .load(std::sync::atomic::Ordering::Relaxed);
    if grow > shrink && data.collection_size(&part) + grow - shrink > limit {
        return Err(
            ErrorCode::ItemCollectionSizeLimitExceededException.err("Collection size exceeded.")
        );
    }
    Ok(())
}

/// `ItemCollectionMetrics` for a write to a table with local secondary indexes.
pub fn collection_metrics(data: &TableData, item: &Item) -> Option<Json> {
    if !data.has_lsi() {
        return None;
    }
    let hash = &data.meta.schema.hash.name;
    let value = item.get(hash)?;
    let part = data.collection_of(item)?;
    let gb = data.collection_size(&part) as f64 / (1024.0 * 1024.0 * 1024.0);
    let mut key = Item::new();
    key.insert(hash, value.clone());
    Some(json!({"ItemCollectionKey": item_to_json(&key),
        "SizeEstimateRangeGB": [gb.floor(), gb.floor() + 1.0]}))
}

/// The write conflicts with a transaction that holds the item and has not committed yet.
pub fn check_no_transaction(db: &DynamoDb, p: &Prepared) -> Result<(), AwsError> {
    if db
        .db
        .in_flight_count
        .load(std::sync::atomic::Ordering::Acquire)
        == 0
    {
        return Ok(());
    }
    let key = (Arc::as_ptr(&p.table) as usize, p.key.clone());
    if db
        .db
        .in_flight
        .lock()
        .expect("in-flight lock")
        .contains(&key)
    {
        return Err(
            ErrorCode::TransactionConflictException.err("Transaction is ongoing for the item")
        );
    }
    Ok(())
}

/// Write capacity of one item write on the table and its indexes.
pub fn write_consumed(
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
    writes: &IndexWrites,
    factor: f64,
) -> Consumed {
    let mut c = Consumed::new(&meta.name, false);
    let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
    c.table_units = write_units(size) * factor;
    for (i, u) in &writes.0 {
        if *u > 0.0 {
            let idx = &meta.indexes[*i];
            c.add_index(&idx.name, idx.global, u * factor);
        }
    }
    for (name, bytes) in crate::vectors::write_bytes(meta, old, new) {
        c.add_vector(name, bytes);
    }
    c
}

fn return_values(input: &Json, allowed: &[&str]) -> Result<String, AwsError> {
    let rv = str_param(input, "ReturnValues").unwrap_or("NONE");
    if !allowed.contains(&rv) {
        return Err(validation("Return values set to invalid value"));
    }
    Ok(rv.to_string())
}

fn on_condition_failure(input: &Json) -> bool {
    str_param(input, "ReturnValuesOnConditionCheckFailure") == Some("ALL_OLD")
}

pub fn condition_error(old: Option<&Item>, with_item: bool) -> AwsError {
    let mut e = conditional_failed();
    if with_item && let Some(o) = old {
        e = e.with_field("Item", item_to_json(o));
    }
    e
}

impl DynamoDb {
    pub fn table(&self, rc: &RequestContext, name: &str) -> Result<Arc<Table>, AwsError> {
        self.db
            .get(&rc.account_id, &rc.region, name)
            .ok_or_else(table_not_found)
    }

    /// Validates a write's key, condition and action against its table's schema.
    pub fn prepare(
        &self,
        rc: &RequestContext,
        input: &Json,
        kind: &str,
    ) -> Result<(Prepared, ExprContext), AwsError> {
        let name = table_name(input)?;
        let table = self.table(rc, &name)?;
        let meta = table.data.read().expect("table lock").meta.clone();
        let mut ctx = expr_context(input)?;
        let cond_src = str_param(input, "ConditionExpression");
        legacy::check_mixed(input, kind)?;
        let mut cond = match cond_src {
            Some(src) => Some(parse_condition(src, ExprKind::Condition, &mut ctx)?),
            None => None,
        };
        if cond.is_none() && input.get("Expected").is_some_and(|e| !e.is_null()) {
            cond = legacy::expected(input)?;
        }
        let (key, key_item, action) = match kind {
            "Put" => {
                let item = item_from_json(input.get("Item").ok_or_else(|| {
                    validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
                })?)?;
                let key = meta.schema.item_key(&item)?;
                check_new_item(&meta, &item, false)?;
                (key, meta.schema.extract(&item), Action::Put(item))
            }
            _ => {
                let key_item = item_from_json(input.get("Key").ok_or_else(|| {
                    validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
                })?)?;
                let key = meta.schema.key_param(&key_item)?;
                let action = match kind {
                    "Update" => {
                        let update = match str_param(input, "UpdateExpression") {
                            Some(src) => parse_update(src, &mut ctx)?,
                            None => legacy::attribute_updates(input)?,
                        };
                        check_update_keys(&meta, &update)?;
                        Action::Update(update)
                    }
                    "Delete" => Action::Delete,
                    _ => Action::Check,
                };
                (key, key_item, action)
            }
        };
        if (ctx.has_values() || ctx.has_names())
            && cond_src.is_none()
            && str_param(input, "UpdateExpression").is_none()
            && str_param(input, "ProjectionExpression").is_none()
        {
            let which = if ctx.has_values() {
                "ExpressionAttributeValues"
            } else {
                "ExpressionAttributeNames"
            };
            let exprs = if kind == "Update" {
                "UpdateExpression and ConditionExpression are null"
            } else {
                "ConditionExpression is null"
            };
            return Err(validation(format!(
                "{which} can only be specified when using expressions: {exprs}"
            )));
        }
        Ok((
            Prepared {
                table,
                table_name: name,
                key,
                key_item,
                action,
                cond,
            },
            ctx,
        ))
    }

    /// Runs a single-item write and answers with ReturnValues and ConsumedCapacity.
    async fn single_write(
        &self,
        rc: &RequestContext,
        input: Json,
        kind: &str,
        allowed_rv: &[&str],
    ) -> Result<Json, AwsError> {
        let rv = return_values(&input, allowed_rv)?;
        let (prep, ctx) = self.prepare(rc, &input, kind)?;
        ctx.check_unused()?;
        let metrics_wanted = match str_param(&input, "ReturnItemCollectionMetrics") {
            None | Some("NONE") => false,
            Some("SIZE") => true,
            Some(other) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{other}' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]"
                )));
            }
        };
        self.throttle_write(&prep.table)?;
        check_no_transaction(self, &prep)?;
        crate::handlers::global::check_no_replicated_conflict(self, rc, &prep)?;
        let mut batch = Batch::new();
        let mut metrics = None;
        let (result, meta_name, commit) = {
            let mut data = prep.table.data.write().expect("table lock");
            if data.deleted {
                return Err(table_not_found());
            }
            let r = run_write(self, &mut data, &prep, &mut batch);
            if metrics_wanted && let Ok((old, new, _)) = &r {
                metrics = new
                    .as_ref()
                    .or(old.as_ref())
                    .and_then(|i| collection_metrics(&data, i));
            }
            let consumed = match &r {
                Ok((old, new, w)) => write_consumed(&data.meta, old.as_ref(), new.as_ref(), w, 1.0),
                Err(_) => {
                    let mut c = Consumed::new(&data.meta.name, false);
                    c.table_units = 1.0;
                    c
                }
            };
            self.charge(&data.meta, &consumed);
            let commit =
                (!batch.is_empty()).then(|| self.db.store.submit(std::mem::take(&mut batch)));
            (r.map(|(o, n, _)| (o, n)), consumed, commit)
        };
        if let Some(c) = commit {
            c.await.map_err(|e| AwsError::internal(e.to_string()))?;
        }
        let (old, new) = match result {
            Ok(x) => x,
            Err(WriteFailure::Condition(old)) => {
                return Err(condition_error(old.as_ref(), on_condition_failure(&input)));
            }
            Err(WriteFailure::Invalid(e)) => return Err(e),
        };
        let mut out = json!({});
        let attrs = match rv.as_str() {
            "ALL_OLD" => old.as_ref().cloned(),
            "ALL_NEW" => new.as_ref().cloned(),
            "UPDATED_OLD" | "UPDATED_NEW" => {
                let paths: Vec<Path> = match &prep.action {
                    Action::Update(u) => u.actions.iter().map(|a| a.path().clone()).collect(),
                    _ => Vec::new(),
                };
                let src = if rv == "UPDATED_OLD" {
                    old.as_ref().cloned()
                } else {
                    new.as_ref().cloned()
                };
                src.map(|i| project(&i, &paths)).filter(|i| !i.is_empty())
            }
            _ => None,
        };
        if let Some(a) = attrs.filter(|a| !a.is_empty()) {
            out["Attributes"] = item_to_json(&a);
        }
        if let Some(c) = meta_name.render(str_param(&input, "ReturnConsumedCapacity")) {
            out["ConsumedCapacity"] = c;
        }
        if let Some(m) = metrics {
            out["ItemCollectionMetrics"] = m;
        }
        Ok(out)
    }

    pub async fn put_item(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        self.single_write(rc, input, "Put", &["NONE", "ALL_OLD"])
            .await
    }

    pub async fn delete_item(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        self.single_write(rc, input, "Delete", &["NONE", "ALL_OLD"])
            .await
    }

    pub async fn update_item(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        self.single_write(
            rc,
            input,
            "Update",
            &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        )
        .await
    }

    pub async fn get_item(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let table = self.table(rc, &name)?;
        let mut ctx = expr_context(&input)?;
        legacy::check_mixed(&input, "Get")?;
        let projection = projection_of(&input, &mut ctx)?;
        if ctx.has_values() {
            return Err(validation(
                "ExpressionAttributeValues can only be specified when using expressions: ProjectionExpression is null",
            ));
        }
        ctx.check_unused()?;
        let key_item = item_from_json(input.get("Key").ok_or_else(|| {
            validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
        })?)?;
        let consistent = input
            .get("ConsistentRead")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        self.throttle_read(&table)?;
        let (item, meta) = {
            let data = table.data.read().expect("table lock");
            let key = data.meta.schema.key_param(&key_item)?;
            (data.items.get(&key[..]).cloned(), data.meta.clone())
        };
        let mut out = json!({});
        let mut c = Consumed::new(&meta.name, true);
        c.table_units = read_units(item.as_ref().map_or(0, item_size), consistent);
        self.charge(&meta, &c);
        if let Some(item) = item {
            out["Item"] = match &projection {
                Some(paths) => item_to_json(&project(&item, paths)),
                None => item_to_json(&item),
            };
        }
        if let Some(j) = c.render(str_param(&input, "ReturnConsumedCapacity")) {
            out["ConsumedCapacity"] = j;
        }
        Ok(out)
    }
}

/// ProjectionExpression, or the legacy AttributesToGet, as document paths.
pub fn projection_of(input: &Json, ctx: &mut ExprContext) -> Result<Option<Vec<Path>>, AwsError> {
    if let Some(src) = str_param(input, "ProjectionExpression") {
        return Ok(Some(parse_projection(src, ctx)?));
    }
    legacy::attributes_to_get(input)
}
