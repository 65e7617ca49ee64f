//! TransactWriteItems and TransactGetItems: every table involved is locked (in one global
//! order, so transactions never deadlock), all conditions are checked against one state,
//! then all writes are applied and journaled as one batch, or none with the reasons in order.

use std::collections::HashMap;
use std::sync::{Arc, RwLockWriteGuard};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::capacity::{Consumed, read_units};
use crate::domain::value::{Item, item_from_json, item_size, item_to_json};
use crate::error::{ErrorCode, validation};
use crate::expr::eval::{eval, project};
use crate::handlers::items::{
    Action, Prepared, check_collection_limit, check_new_item, collection_metrics, expr_context,
    next_item, projection_of, table_name, write_consumed,
};
use crate::state::{Actor, Table, TableData};

/// Idempotency tokens are remembered for 10 minutes.
const TOKEN_TTL_MS: i64 = 10 * 60 * 1000;

fn reason(code: &str, message: Option<&str>, item: Option<&Item>) -> Json {
    let mut r = json!({"Code": code});
    if let Some(m) = message {
        r["Message"] = json!(m);
    }
    if let Some(i) = item {
        r["Item"] = item_to_json(i);
    }
    r
}

/// A transaction's writes applied in memory: the journal commit to await, capacity per
/// table, ItemCollectionMetrics per table (tables with LSIs).
type Applied = (
    aloft_store::Commit,
    HashMap<String, Consumed>,
    serde_json::Map<String, Json>,
);

/// TransactionCanceledException with its reasons, in the order of the request's items.
impl DynamoDb {
    /// Cancellation reasons when a table of the transaction has no capacity left (opt-in
    /// throttling): ProvisionedThroughputExceeded (ThrottlingError past an on-demand
    /// maximum) for its actions, None for the others.
    fn throttle_reasons<'a>(
        &self,
        tables: impl Iterator<Item = &'a Arc<Table>>,
        read: bool,
    ) -> Option<Vec<Json>> {
        let mut any = false;
        let reasons = tables
            .map(|t| {
                let r = if read {
                    self.throttle_read(t)
                } else {
                    self.throttle_write(t)
                };
                match r {
                    Ok(()) => reason("None", None, None),
                    Err(e) => {
                        any = true;
                        let code = crate::throttle::cancellation_code(&e);
                        reason(code, Some(&e.message), None)
                    }
                }
            })
            .collect();
        any.then_some(reasons)
    }
}

fn cancelled(reasons: Vec<Json>) -> AwsError {
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["Code"].as_str().unwrap_or("None"))
        .collect();
    ErrorCode::TransactionCanceledException
        .err(format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ))
        .with_field("CancellationReasons", Json::Array(reasons))
}

/// The items of a transaction between its checks and its commit: other writers to them get
/// TransactionConflictException, overlapping transactions are cancelled with
/// TransactionConflict, as on AWS. Released on drop.
struct InFlight<'a> {
    db: &'a DynamoDb,
    keys: Vec<(usize, Vec<u8>)>,
}

impl<'a> InFlight<'a> {
    fn claim(db: &'a DynamoDb, preps: &[(Prepared, bool)]) -> Result<InFlight<'a>, AwsError> {
        let keys: Vec<(usize, Vec<u8>)> = preps
            .iter()
            .map(|(p, _)| (Arc::as_ptr(&p.table) as usize, p.key.clone()))
            .collect();
        let mut set = db.db.in_flight.lock().expect("in-flight lock");
        if keys.iter().any(|k| set.contains(k)) {
            let reasons: Vec<Json> = keys
                .iter()
                .map(|k| {
                    if set.contains(k) {
                        reason(
                            "TransactionConflict",
                            Some("Transaction is ongoing for the item"),
                            None,
                        )
                    } else {
                        reason("None", None, None)
                    }
                })
                .collect();
            return Err(cancelled(reasons));
        }
        set.extend(keys.iter().cloned());
        db.db
            .in_flight_count
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(InFlight { db, keys })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self.db.db.in_flight.lock().expect("in-flight lock");
        for k in &self.keys {
            set.remove(k);
        }
        self.db
            .db
            .in_flight_count
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl DynamoDb {
    pub async fn transact_write_items(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let items = input
            .get("TransactItems")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if items.is_empty() || items.len() > 100 {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'transactItems' failed to satisfy constraint: Member must have length {}",
                items.len(),
                if items.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 100"
                }
            )));
        }
        let token = input
            .get("ClientRequestToken")
            .and_then(Json::as_str)
            .map(str::to_string);
        let fingerprint = {
            let mut c = input.clone();
            if let Some(o) = c.as_object_mut() {
                o.remove("ClientRequestToken");
            }
            c.to_string()
        };
        if let Some(t) = &token {
            let now = clock::now_millis();
            let mut tokens = self.db.tx_tokens.lock().expect("tokens lock");
            tokens.retain(|_, (at, _, _)| now - *at < TOKEN_TTL_MS);
            if let Some((_, fp, resp)) = tokens.get(&format!("{}/{t}", rc.account_id)) {
                if *fp != fingerprint {
                    return Err(ErrorCode::IdempotentParameterMismatchException
                        .err("Request parameters do not match the original request with the same ClientRequestToken"));
                }
                return Ok(resp.clone());
            }
        }
        let mut preps: Vec<(Prepared, bool)> = Vec::with_capacity(items.len());
        for ti in &items {
            let (kind, body) = match ti
                .as_object()
                .and_then(|o| o.iter().find(|(_, v)| !v.is_null()))
            {
                Some((k, v)) => (k.as_str(), v),
                None => {
                    return Err(validation(
                        "TransactItems can only contain one of Check, Put, Update or Delete",
                    ));
                }
            };
            let kind = match kind {
                "Put" => "Put",
                "Update" => "Update",
                "Delete" => "Delete",
                "ConditionCheck" => {
                    if body.get("ConditionExpression").is_none() {
                        return Err(validation(
                            "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                        ));
                    }
                    "Check"
                }
                _ => {
                    return Err(validation(
                        "TransactItems can only contain one of Check, Put, Update or Delete",
                    ));
                }
            };
            let (p, ctx) = self.prepare(rc, body, kind)?;
            ctx.check_unused()?;
            crate::handlers::global::refuse_transaction(&p.table)?;
            let with_item = body
                .get("ReturnValuesOnConditionCheckFailure")
                .and_then(Json::as_str)
                == Some("ALL_OLD");
            if preps
                .iter()
                .any(|(q, _)| Arc::ptr_eq(&q.table, &p.table) && q.key == p.key)
            {
                return Err(validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            preps.push((p, with_item));
        }

        // A throttled table cancels the transaction, naming its actions.
        if let Some(reasons) = self.throttle_reasons(preps.iter().map(|(p, _)| &p.table), false) {
            return Err(cancelled(reasons));
        }
        let _claim = InFlight::claim(self, &preps)?;
        let (commit, consumed, metrics) = self.transact_locked(&preps)?;
        self.charge_named(&rc.account_id, &rc.region, consumed.values());
        commit
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        let mut out = json!({});
        let mode = input.get("ReturnConsumedCapacity").and_then(Json::as_str);
        if mode.is_some_and(|m| m != "NONE") {
            out["ConsumedCapacity"] =
                Json::Array(consumed.values().filter_map(|c| c.render(mode)).collect());
        }
        if input
            .get("ReturnItemCollectionMetrics")
            .and_then(Json::as_str)
            == Some("SIZE")
            && !metrics.is_empty()
        {
            out["ItemCollectionMetrics"] = Json::Object(metrics);
        }
        if let Some(t) = token {
            self.db.tx_tokens.lock().expect("tokens lock").insert(
                format!("{}/{t}", rc.account_id),
                (clock::now_millis(), fingerprint, out.clone()),
            );
        }
        Ok(out)
    }

    /// Checks and applies a transaction's writes with every table locked.
    fn transact_locked(&self, preps: &[(Prepared, bool)]) -> Result<Applied, AwsError> {
        // Lock every table once, in address order.
        let mut tables: Vec<Arc<Table>> = Vec::new();
        for (p, _) in preps {
            if !tables.iter().any(|t| Arc::ptr_eq(t, &p.table)) {
                tables.push(p.table.clone());
            }
        }
        tables.sort_by_key(|t| Arc::as_ptr(t) as usize);
        let mut guards: Vec<RwLockWriteGuard<'_, TableData>> = tables
            .iter()
            .map(|t| t.data.write().expect("table lock"))
            .collect();
        let slot = |p: &Prepared| {
            tables
                .iter()
                .position(|t| Arc::ptr_eq(t, &p.table))
                .unwrap_or(0)
        };
        if guards.iter().any(|g| g.deleted) {
            return Err(crate::error::table_not_found());
        }

        let mut reasons = Vec::with_capacity(preps.len());
        let mut nexts: Vec<Option<Option<Item>>> = Vec::with_capacity(preps.len());
        let mut failed = false;
        let empty = Item::new();
        for (p, with_item) in preps {
            let g = &guards[slot(p)];
            let old = g.items.get(&p.key[..]).cloned();
            if let Some(c) = &p.cond
                && !eval(c, old.as_ref().unwrap_or(&empty))
            {
                failed = true;
                reasons.push(reason(
                    "ConditionalCheckFailed",
                    Some("The conditional request failed"),
                    old.as_ref().filter(|_| *with_item),
                ));
                nexts.push(None);
                continue;
            }
            let next = next_item(&p.key_item, &p.action, old.as_ref()).and_then(|n| {
                if let Some(Some(item)) = &n {
                    check_new_item(&g.meta, item, matches!(p.action, Action::Update(_)))?;
                }
                Ok(n)
            });
            let limit = match &next {
                Ok(Some(Some(item))) => check_collection_limit(self, g, old.as_ref(), item).err(),
                _ => None,
            };
            match next {
                Ok(_) if limit.is_some() => {
                    failed = true;
                    reasons.push(reason(
                        "ItemCollectionSizeLimitExceeded",
                        limit.as_ref().map(|e| e.message.as_str()),
                        None,
                    ));
                    nexts.push(None);
                }
                Ok(n) => {
                    reasons.push(reason("None", None, None));
                    nexts.push(n);
                }
                Err(e) => {
                    failed = true;
                    reasons.push(reason("ValidationError", Some(&e.message), None));
                    nexts.push(None);
                }
            }
        }
        if failed {
            return Err(cancelled(reasons));
        }
        let mut batch = Batch::new();
        let mut consumed: HashMap<String, Consumed> = HashMap::new();
        let mut metrics = serde_json::Map::new();
        for ((p, _), next) in preps.iter().zip(nexts) {
            let g = &mut guards[slot(p)];
            let entry = consumed
                .entry(p.table_name.clone())
                .or_insert_with(|| Consumed::new(&p.table_name, false));
            match next {
                Some(new) => {
                    let existed = g.items.contains_key(&p.key[..]);
                    if new.is_none() && !existed {
                        entry.table_units += 2.0;
                        continue;
                    }
                    let (old, w) = g.write(
                        &self.db,
                        p.key.clone(),
                        new.clone(),
                        Actor::User,
                        &mut batch,
                    );
                    if let Some(m) = new
                        .as_ref()
                        .or(old.as_ref())
                        .and_then(|i| collection_metrics(g, i))
                        && let Json::Array(list) = metrics
                            .entry(p.table_name.clone())
                            .or_insert_with(|| json!([]))
                    {
                        list.push(m);
                    }
                    let c = write_consumed(&g.meta, old.as_ref(), new.as_ref(), &w, 2.0);
                    entry.table_units += c.table_units;
                    for (n, (gl, u)) in c.indexes {
                        entry.add_index(&n, gl, u);
                    }
                    for (n, b) in c.vectors {
                        entry.add_vector(&n, b);
                    }
                }
                None => {
                    // ConditionCheck: a transactional read of the item.
                    let size = g.items.get(&p.key[..]).map_or(0, item_size);
                    entry.table_units += read_units(size, true) * 2.0;
                }
            }
        }
        let commit = self.db.store.submit(batch);
        drop(guards);
        Ok((commit, consumed, metrics))
    }

    pub async fn transact_get_items(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let items = input
            .get("TransactItems")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if items.is_empty() || items.len() > 100 {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'transactItems' failed to satisfy constraint: Member must have length {}",
                items.len(),
                if items.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 100"
                }
            )));
        }
        let mut plans = Vec::new();
        for ti in &items {
            let get = ti
                .get("Get")
                .ok_or_else(|| validation("TransactGetItems can only contain Get operations"))?;
            let name = table_name(get)?;
            let table = self.table(rc, &name)?;
            crate::handlers::global::refuse_transaction(&table)?;
            let mut ctx = expr_context(get)?;
            let projection = projection_of(get, &mut ctx)?;
            ctx.check_unused()?;
            let key = table
                .data
                .read()
                .expect("table lock")
                .meta
                .schema
                .key_param(&item_from_json(&get["Key"])?)?;
            plans.push((name, table, key, projection));
        }
        // A read of an item an uncommitted write transaction holds is cancelled, as on AWS.
        if self
            .db
            .in_flight_count
            .load(std::sync::atomic::Ordering::Acquire)
            > 0
        {
            let set = self.db.in_flight.lock().expect("in-flight lock");
            let busy: Vec<bool> = plans
                .iter()
                .map(|(_, t, k, _)| set.contains(&(Arc::as_ptr(t) as usize, k.clone())))
                .collect();
            if busy.iter().any(|b| *b) {
                let reasons: Vec<Json> = busy
                    .iter()
                    .map(|b| {
                        if *b {
                            reason(
                                "TransactionConflict",
                                Some("Transaction is ongoing for the item"),
                                None,
                            )
                        } else {
                            reason("None", None, None)
                        }
                    })
                    .collect();
                return Err(cancelled(reasons));
            }
        }
        if let Some(reasons) = self.throttle_reasons(plans.iter().map(|(_, t, _, _)| t), true) {
            return Err(cancelled(reasons));
        }
        let mut consumed: HashMap<String, Consumed> = HashMap::new();
        let mut responses = Vec::new();
        for (name, table, key, projection) in plans {
            let data = table.data.read().expect("table lock");
            let item = data.items.get(&key[..]);
            consumed
                .entry(name.clone())
                .or_insert_with(|| Consumed::new(&name, true))
                .table_units += read_units(item.map_or(0, item_size), true) * 2.0;
            responses.push(match item {
                Some(i) => {
                    let shown = projection
                        .as_ref()
                        .map_or_else(|| i.clone(), |p| project(i, p));
                    json!({"Item": item_to_json(&shown)})
                }
                None => json!({}),
            });
        }
        self.charge_named(&rc.account_id, &rc.region, consumed.values());
        let mut out = json!({"Responses": responses});
        let mode = input.get("ReturnConsumedCapacity").and_then(Json::as_str);
        if mode.is_some_and(|m| m != "NONE") {
            out["ConsumedCapacity"] =
                Json::Array(consumed.values().filter_map(|c| c.render(mode)).collect());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {

    use aloft_core::{RequestContext, ServiceContext};
    use serde_json::json;

    use crate::DynamoDb;

    async fn service() -> (DynamoDb, RequestContext) {
        let ctx = ServiceContext::ephemeral().expect("ephemeral context");
        let rc = RequestContext::local("dynamodb");
        (DynamoDb::start(&ctx).await, rc)
    }

    #[tokio::test]
    async fn writes_to_an_item_in_an_uncommitted_transaction_conflict() {
        let (db, rc) = service().await;
        db.create_table(
            &rc,
            json!({"TableName": "txs", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
        )
        .await
        .unwrap();
        let put = |id: &str| json!({"TableName": "txs", "Item": {"id": {"S": id}}});
        let (prep, _) = db.prepare(&rc, &put("busy"), "Put").unwrap();
        // A transaction holding "busy" between its checks and its commit.
        let claim = super::InFlight::claim(&db, &[(prep, false)]).unwrap();

        let e = db.put_item(&rc, put("busy")).await.unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                "TransactionConflictException",
                "Transaction is ongoing for the item"
            )
        );
        db.put_item(&rc, put("free")).await.unwrap();
        let e = db
            .transact_write_items(
                &rc,
                json!({"TransactItems": [{"Put": put("free")}, {"Put": put("busy")}]}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "TransactionCanceledException");
        let codes: Vec<&str> = e.fields["CancellationReasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["None", "TransactionConflict"]);

        let out = db
            .batch_write_item(
                &rc,
                json!({"RequestItems": {"txs": [
                {"PutRequest": {"Item": {"id": {"S": "busy"}}}},
                {"PutRequest": {"Item": {"id": {"S": "other"}}}}]}}),
            )
            .await
            .unwrap();
        assert_eq!(
            out["UnprocessedItems"],
            json!({"txs": [{"PutRequest": {"Item": {"id": {"S": "busy"}}}}]})
        );
        let get =
            json!({"TransactItems": [{"Get": {"TableName": "txs", "Key": {"id": {"S": "busy"}}}}]});
        let e = db.transact_get_items(&rc, get.clone()).await.unwrap_err();
        assert_eq!(e.code, "TransactionCanceledException");
        assert_eq!(
            e.fields["CancellationReasons"][0]["Code"],
            "TransactionConflict"
        );

        drop(claim);
        db.transact_get_items(&rc, get).await.unwrap();
        db.put_item(&rc, put("busy")).await.unwrap();
        db.transact_write_items(&rc, json!({"TransactItems": [{"Put": put("busy")}]}))
            .await
            .unwrap();
    }
}
