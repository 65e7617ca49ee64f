//! BatchGetItem (≤ 100 keys) and BatchWriteItem (≤ 25 writes): the whole request is
//! validated before anything is read or written, as on AWS.

use std::collections::BTreeMap;

use aloft_core::{AwsError, RequestContext};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::capacity::{Consumed, read_units};
use crate::domain::value::{item_from_json, item_size, item_to_json};
use crate::error::{table_not_found, validation};
use crate::expr::eval::project;
use crate::handlers::items::{
    Action, Prepared, WriteFailure, check_new_item, check_no_transaction, collection_metrics,
    expr_context, projection_of, run_write, write_consumed,
};

fn too_many(member: &str, max: usize) -> AwsError {
    validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
    ))
}

impl DynamoDb {
    pub async fn batch_get_item(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let req = input.get("RequestItems").and_then(Json::as_object).ok_or_else(|| {
            validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        })?;
        let total: usize = req
            .values()
            .map(|t| t["Keys"].as_array().map_or(0, Vec::len))
            .sum();
        if total > 100 {
            return Err(validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        let mode = input.get("ReturnConsumedCapacity").and_then(Json::as_str);
        // Validate every table's keys and expressions first.
        let mut plans = Vec::new();
        for (name, spec) in req {
            let table = self.table(rc, name).map_err(|_| table_not_found())?;
            let mut ctx = expr_context(spec)?;
            let projection = projection_of(spec, &mut ctx)?;
            ctx.check_unused()?;
            let keys = spec["Keys"].as_array().cloned().unwrap_or_default();
            if keys.is_empty() {
                return Err(validation(
                    "1 validation error detected: Value '[]' at 'requestItems.keys' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            let schema = table.data.read().expect("table lock").meta.schema.clone();
            let mut encoded: Vec<Vec<u8>> = Vec::new();
            for k in &keys {
                let key = schema.key_param(&item_from_json(k)?)?;
                if encoded.contains(&key) {
                    return Err(validation("Provided list of item keys contains duplicates"));
                }
                encoded.push(key);
            }
            let consistent = spec["ConsistentRead"].as_bool().unwrap_or(false);
            plans.push((name.clone(), table, encoded, projection, consistent));
        }
        let mut responses = serde_json::Map::new();
        let mut unprocessed = serde_json::Map::new();
        let mut consumed = Vec::new();
        let (mut read, mut throttled) = (0usize, None);
        for (name, table, keys, projection, consistent) in plans {
            let mut items = Vec::new();
            let mut left = Vec::new();
            let mut c = Consumed::new(&name, true);
            // Admitted key by key and charged at once, so a batch stops where the table's
            // capacity runs out; the rest goes back in UnprocessedKeys (AWS's rule).
            for (i, k) in keys.iter().enumerate() {
                if let Err(e) = self.throttle_read(&table) {
                    throttled.get_or_insert(e);
                    left.push(req[&name]["Keys"][i].clone());
                    continue;
                }
                let data = table.data.read().expect("table lock");
                let item = data.items.get(&k[..]);
                let units = read_units(item.map_or(0, item_size), consistent);
                let mut one = Consumed::new(&name, true);
                one.table_units = units;
                self.charge(&data.meta, &one);
                c.table_units += units;
                read += 1;
                if let Some(item) = item {
                    let shown = match &projection {
                        Some(p) => project(item, p),
                        None => item.clone(),
                    };
                    items.push(item_to_json(&shown));
                }
            }
            if !left.is_empty() {
                // The table's request as sent (projection, names, ConsistentRead), with the
                // keys left.
                let mut rest = req[&name].clone();
                rest["Keys"] = Json::Array(left);
                unprocessed.insert(name.clone(), rest);
            }
            responses.insert(name, Json::Array(items));
            consumed.extend(c.render(mode));
        }
        // Throttled throughout: the error itself, as AWS answers when nothing could be read.
        if read == 0
            && let Some(e) = throttled
        {
            return Err(e);
        }
        let mut out = json!({"Responses": responses, "UnprocessedKeys": unprocessed});
        if mode.is_some_and(|m| m != "NONE") {
            out["ConsumedCapacity"] = Json::Array(consumed);
        }
        Ok(out)
    }

    pub async fn batch_write_item(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let req = input.get("RequestItems").and_then(Json::as_object).ok_or_else(|| {
            validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        })?;
        let total: usize = req.values().map(|t| t.as_array().map_or(0, Vec::len)).sum();
        if total > 25 {
            return Err(too_many("requestItems", 25));
        }
        if total == 0 {
            return Err(validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let mode = input.get("ReturnConsumedCapacity").and_then(Json::as_str);
        let metrics_wanted = input
            .get("ReturnItemCollectionMetrics")
            .and_then(Json::as_str)
            == Some("SIZE");
        let mut preps: Vec<Prepared> = Vec::new();
        let mut requests: Vec<Json> = Vec::new();
        for (name, writes) in req {
            let table = self.table(rc, name)?;
            let meta = table.data.read().expect("table lock").meta.clone();
            let mut seen: Vec<Vec<u8>> = Vec::new();
            for w in writes.as_array().into_iter().flatten() {
                let (key, key_item, action) = if let Some(p) = w.get("PutRequest") {
                    let item = item_from_json(&p["Item"])?;
                    let key = meta.schema.item_key(&item)?;
                    check_new_item(&meta, &item, false)?;
                    (key, meta.schema.extract(&item), Action::Put(item))
                } else if let Some(d) = w.get("DeleteRequest") {
                    let key_item = item_from_json(&d["Key"])?;
                    (meta.schema.key_param(&key_item)?, key_item, Action::Delete)
                } else {
                    return Err(validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ));
                };
                if seen.contains(&key) {
                    return Err(validation("Provided list of item keys contains duplicates"));
                }
                seen.push(key.clone());
                requests.push(w.clone());
                preps.push(Prepared {
                    table: table.clone(),
                    table_name: name.clone(),
                    key,
                    key_item,
                    action,
                    cond: None,
                });
            }
        }
        let mut consumed: BTreeMap<String, Consumed> = BTreeMap::new();
        let mut commits = Vec::new();
        let mut unprocessed: serde_json::Map<String, Json> = serde_json::Map::new();
        let mut metrics: serde_json::Map<String, Json> = serde_json::Map::new();
        let mut failure = None;
        let (mut written, mut throttled) = (0usize, None);
        for p in &preps {
            crate::handlers::global::check_no_replicated_conflict(self, rc, p)?;
        }
        for (p, request) in preps.iter().zip(requests) {
            // Items the table's capacity cannot take now, or held by an uncommitted
            // transaction, are left for the client to retry.
            let refused = match self.throttle_write(&p.table) {
                Err(e) => {
                    throttled.get_or_insert(e);
                    true
                }
                Ok(()) => check_no_transaction(self, p).is_err(),
            };
            if refused {
                if let Json::Array(list) = unprocessed
                    .entry(p.table_name.clone())
                    .or_insert_with(|| json!([]))
                {
                    list.push(request);
                }
                continue;
            }
            let mut batch = Batch::new();
            let mut data = p.table.data.write().expect("table lock");
            if data.deleted {
                continue;
            }
            let result = run_write(self, &mut data, p, &mut batch);
            if let Err(WriteFailure::Invalid(e)) = result {
                failure = Some(e);
                break;
            }
            if let Ok((old, new, w)) = result {
                if metrics_wanted
                    && let Some(m) = new
                        .as_ref()
                        .or(old.as_ref())
                        .and_then(|i| collection_metrics(&data, i))
                    && let Json::Array(list) = metrics
                        .entry(p.table_name.clone())
                        .or_insert_with(|| json!([]))
                {
                    list.push(m);
                }
                let c = write_consumed(&data.meta, old.as_ref(), new.as_ref(), &w, 1.0);
                // Charged write by write, so the next one is admitted against what is left.
                self.charge(&data.meta, &c);
                written += 1;
                let e = consumed
                    .entry(p.table_name.clone())
                    .or_insert_with(|| Consumed::new(&p.table_name, false));
                e.table_units += c.table_units;
                for (n, (g, u)) in c.indexes {
                    e.add_index(&n, g, u);
                }
                for (n, b) in c.vectors {
                    e.add_vector(&n, b);
                }
            }
            if !batch.is_empty() {
                commits.push(self.db.store.submit(batch));
            }
        }
        for c in commits {
            c.await.map_err(|e| AwsError::internal(e.to_string()))?;
        }
        if let Some(e) = failure {
            return Err(e);
        }
        // Throttled throughout: the error itself, as AWS answers when nothing could be written.
        if written == 0
            && let Some(e) = throttled
        {
            return Err(e);
        }
        let mut out = json!({"UnprocessedItems": unprocessed});
        if !metrics.is_empty() {
            out["ItemCollectionMetrics"] = Json::Object(metrics);
        }
        if mode.is_some_and(|m| m != "NONE") {
            out["ConsumedCapacity"] =
                Json::Array(consumed.values().filter_map(|c| c.render(mode)).collect());
        }
        Ok(out)
    }
}
