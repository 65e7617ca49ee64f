//! ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: each statement is parsed,
//! its parameters bound, planned onto a native operation (Query, Scan, GetItem, PutItem,
//! UpdateItem, DeleteItem, TransactWriteItems/TransactGetItems) and answered in PartiQL's
//! shapes (`Items`, `NextToken`, per-statement `Error`s).

use aloft_core::{AwsError, RequestContext};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::domain::value::AttrValue;
use crate::error::{ErrorCode, table_not_found, validation};
use crate::partiql::parser::{Statement, parse};
use crate::partiql::plan::{Native, Target, plan};

/// What INSERT answers when the key exists (its PutItem condition failed).
const DUPLICATE: &str = "Duplicate primary key exists in table";

fn params_of(v: Option<&Json>) -> Result<Vec<AttrValue>, AwsError> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(Vec::new()),
        Some(Json::Array(a)) => {
            if a.is_empty() {
                return Err(validation(
                    "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            a.iter().map(AttrValue::from_json).collect()
        }
        Some(_) => Err(crate::error::serialization(
            "Unexpected value type in payload: expected a list",
        )),
    }
}

fn statement_of(v: &Json) -> Result<&str, AwsError> {
    let s = v.get("Statement").and_then(Json::as_str).ok_or_else(|| {
        validation("1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null")
    })?;
    if s.is_empty() || s.len() > 8192 {
        return Err(validation(format!(
            "1 validation error detected: Value '{s}' at 'statement' failed to satisfy constraint: Member must have length {}",
            if s.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 8192"
            }
        )));
    }
    Ok(s)
}

fn list_len_error(what: &str, n: usize, max: usize) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{n}' at '{what}' failed to satisfy constraint: Member must have length {}",
        if n == 0 {
            "greater than or equal to 1".to_string()
        } else {
            format!("less than or equal to {max}")
        }
    ))
}

/// NextToken carries the LastEvaluatedKey of the page, opaque to the client.
fn encode_token(lek: &Json) -> String {
    B64.encode(lek.to_string())
}

fn decode_token(t: &str) -> Result<Json, AwsError> {
    B64.decode(t)
        .ok()
        .and_then(|b| serde_json::from_slice::<Json>(&b).ok())
        .filter(Json::is_object)
        .ok_or_else(|| validation("Invalid NextToken"))
}

/// Adds one ConsumedCapacity into another, member by member.
fn add_capacity(total: &mut Json, more: &Json) {
    let (Some(t), Some(m)) = (total.as_object_mut(), more.as_object()) else {
        return;
    };
    for (k, v) in m {
        match (t.get_mut(k), v) {
            (Some(Json::Number(a)), Json::Number(b)) => {
                let sum = a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0);
                *t.get_mut(k).expect("present") = json!(sum);
            }
            (Some(a @ Json::Object(_)), Json::Object(_)) => add_capacity(a, v),
            (None, _) => {
                t.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

/// The code a failed statement shows in BatchExecuteStatement and cancellation reasons.
fn batch_code(e: &AwsError) -> &'static str {
    match e.code {
        "ConditionalCheckFailedException" => "ConditionalCheckFailed",
        "DuplicateItemException" => "DuplicateItem",
        "ResourceNotFoundException" => "ResourceNotFound",
        "ProvisionedThroughputExceededException" => "ProvisionedThroughputExceeded",
        "ThrottlingException" => "ThrottlingError",
        "TransactionConflictException" => "TransactionConflict",
        "ItemCollectionSizeLimitExceededException" => "ItemCollectionSizeLimitExceeded",
        "ValidationException" => "ValidationError",
        _ => "InternalServerError",
    }
}

impl DynamoDb {
    /// Parses, binds and plans one statement against its table's key schema.
    fn plan_statement(
        &self,
        rc: &RequestContext,
        src: &str,
        params: &[AttrValue],
    ) -> Result<(Statement, Native), AwsError> {
        let (stmt, wanted) = parse(src)?;
        if wanted != params.len() {
            return Err(validation(
                "Number of parameters in request and statement don't match.",
            ));
        }
        let table = self
            .table(rc, stmt.table())
            .map_err(|_| table_not_found())?;
        let meta = table.data.read().expect("table lock").meta.clone();
        let index = match &stmt {
            Statement::Select { index: Some(i), .. } => Some(
                meta.index(i)
                    .map(|(_, idx)| idx.schema.clone())
                    .ok_or_else(|| {
                        validation(format!("The table does not have the specified index: {i}"))
                    })?,
            ),
            _ => None,
        };
        let target = Target {
            table: &meta.schema,
            read: index.as_ref().unwrap_or(&meta.schema),
        };
        let native = plan(stmt.clone(), params, &target)?;
        Ok((stmt, native))
    }

    pub async fn execute_statement(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let src = statement_of(&input)?;
        let params = params_of(input.get("Parameters"))?;
        let (_, native) = self.plan_statement(rc, src, &params)?;
        let rcc = input.get("ReturnConsumedCapacity").cloned();
        let on_fail = input.get("ReturnValuesOnConditionCheckFailure").cloned();
        let with = |mut req: Json| {
            if let Some(v) = &rcc {
                req["ReturnConsumedCapacity"] = v.clone();
            }
            if let Some(v) = &on_fail {
                req["ReturnValuesOnConditionCheckFailure"] = v.clone();
            }
            req
        };
        let mut out = json!({});
        match native {
            Native::Queries(reqs) => {
                let reqs = reqs.into_iter().map(with).collect();
                return self.select_partitions(rc, reqs, &input).await;
            }
            Native::Query(req) | Native::Scan(req) => {
                let is_query = req.get("KeyConditionExpression").is_some();
                let mut req = with(req);
                if let Some(obj) = req.as_object_mut() {
                    obj.remove("ReturnValuesOnConditionCheckFailure");
                }
                if let Some(c) = input.get("ConsistentRead").filter(|v| !v.is_null()) {
                    req["ConsistentRead"] = c.clone();
                }
                if let Some(l) = input.get("Limit").filter(|v| !v.is_null()) {
                    req["Limit"] = l.clone();
                }
                if let Some(t) = input.get("NextToken").and_then(Json::as_str) {
                    req["ExclusiveStartKey"] = decode_token(t)?;
                }
                let got = if is_query {
                    self.query(rc, req).await?
                } else {
                    self.scan(rc, req).await?
                };
                out["Items"] = got.get("Items").cloned().unwrap_or_else(|| json!([]));
                if let Some(lek) = got.get("LastEvaluatedKey") {
                    out["NextToken"] = json!(encode_token(lek));
                    out["LastEvaluatedKey"] = lek.clone();
                }
                if let Some(c) = got.get("ConsumedCapacity") {
                    out["ConsumedCapacity"] = c.clone();
                }
                return Ok(out);
            }
            Native::Insert(req) => {
                let got = self.put_item(rc, with(req)).await.map_err(|e| {
                    if e.code == "ConditionalCheckFailedException" {
                        ErrorCode::DuplicateItemException.err(DUPLICATE)
                    } else {
                        e
                    }
                })?;
                out = got;
                out["Items"] = json!([]);
            }
            Native::Update(req) => {
                out = self.update_item(rc, with(req)).await?;
                out["Items"] = match out.as_object_mut().and_then(|o| o.remove("Attributes")) {
                    Some(a) => json!([a]),
                    None => json!([]),
                };
            }
            Native::Delete(req) => {
                out = self.delete_item(rc, with(req)).await?;
                out["Items"] = match out.as_object_mut().and_then(|o| o.remove("Attributes")) {
                    Some(a) => json!([a]),
                    None => json!([]),
                };
            }
            Native::Check(_) => {
                return Err(validation(
                    "EXISTS function is only supported in ExecuteTransaction",
                ));
            }
        }
        Ok(out)
    }

    /// A SELECT over a list of partition key values: the Queries run in the list's order, one
    /// page holding `Limit` evaluated items at most; NextToken names the partition to resume
    /// at and the key within it.
    async fn select_partitions(
        &self,
        rc: &RequestContext,
        reqs: Vec<Json>,
        input: &Json,
    ) -> Result<Json, AwsError> {
        let (mut at, mut start) = match input.get("NextToken").and_then(Json::as_str) {
            Some(t) => {
                let j = decode_token(t)?;
                let at = j
                    .get("p")
                    .and_then(Json::as_u64)
                    .filter(|p| (*p as usize) < reqs.len())
                    .ok_or_else(|| validation("Invalid NextToken"))?;
                (at as usize, j.get("k").cloned())
            }
            None => (0, None),
        };
        let mut remaining = input.get("Limit").and_then(Json::as_u64);
        let mut items = Vec::new();
        let mut consumed: Option<Json> = None;
        let mut next = None;
        while at < reqs.len() {
            let mut req = reqs[at].clone();
            if let Some(o) = req.as_object_mut() {
                o.remove("ReturnValuesOnConditionCheckFailure");
            }
            if let Some(c) = input.get("ConsistentRead").filter(|v| !v.is_null()) {
                req["ConsistentRead"] = c.clone();
            }
            if let Some(l) = remaining {
                req["Limit"] = json!(l);
            }
            if let Some(k) = start.take() {
                req["ExclusiveStartKey"] = k;
            }
            let got = self.query(rc, req).await?;
            if let Some(Json::Array(a)) = got.get("Items") {
                items.extend(a.iter().cloned());
            }
            if let Some(c) = got.get("ConsumedCapacity") {
                match &mut consumed {
                    Some(total) => add_capacity(total, c),
                    None => consumed = Some(c.clone()),
                }
            }
            if let Some(l) = &mut remaining {
                *l = l.saturating_sub(got["ScannedCount"].as_u64().unwrap_or(0));
            }
            if let Some(lek) = got.get("LastEvaluatedKey") {
                next = Some(json!({"p": at, "k": lek}));
                break;
            }
            at += 1;
            if remaining == Some(0) && at < reqs.len() {
                next = Some(json!({"p": at}));
                break;
            }
        }
        let mut out = json!({"Items": items});
        if let Some(n) = next {
            out["NextToken"] = json!(encode_token(&n));
        }
        if let Some(c) = consumed {
            out["ConsumedCapacity"] = c;
        }
        Ok(out)
    }

    /// A SELECT naming the whole primary key, as a GetItem input (batches and transactions).
    fn point_read(
        &self,
        rc: &RequestContext,
        src: &str,
        params: &[AttrValue],
    ) -> Result<Json, AwsError> {
        let (stmt, _) = parse(src)?;
        let Statement::Select {
            table,
            index,
            projection,
            ..
        } = stmt
        else {
            return Err(validation("Expected a SELECT statement"));
        };
        if index.is_some() {
            return Err(validation(
                "Batch and transactional reads are not supported on secondary indexes",
            ));
        }
        // Planned as an EXISTS, which demands the whole key; only the key is kept.
        let (_, native) = self.plan_statement(rc, &format!("EXISTS({src})"), params)?;
        let Native::Check(check) = native else {
            return Err(validation("Expected a SELECT statement"));
        };
        let cond = check["ConditionExpression"].as_str().unwrap_or_default();
        if cond.contains(" AND ") {
            return Err(validation(
                "Where clause does not contain a mandatory equality on all key attributes",
            ));
        }
        let mut get = json!({"TableName": table, "Key": check["Key"].clone()});
        if let Some(paths) = projection {
            let mut names = serde_json::Map::new();
            let rendered: Vec<String> = paths
                .iter()
                .map(|p| {
                    let mut s = String::new();
                    for seg in p {
                        match seg {
                            crate::partiql::parser::PSeg::Attr(a) => {
                                let id = format!("#p{}", names.len());
                                names.insert(id.clone(), json!(a));
                                if !s.is_empty() {
                                    s.push('.');
                                }
                                s.push_str(&id);
                            }
                            crate::partiql::parser::PSeg::Index(i) => {
                                s.push_str(&format!("[{i}]"));
                            }
                        }
                    }
                    s
                })
                .collect();
            get["ProjectionExpression"] = json!(rendered.join(", "));
            get["ExpressionAttributeNames"] = Json::Object(names);
        }
        Ok(get)
    }

    pub async fn batch_execute_statement(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let stmts = input
            .get("Statements")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if stmts.is_empty() || stmts.len() > 25 {
            return Err(list_len_error("statements", stmts.len(), 25));
        }
        let mut reads = 0;
        for s in &stmts {
            let src = statement_of(s)?;
            if parse(src).is_ok_and(|(st, _)| st.is_read()) {
                reads += 1;
            }
        }
        if reads != 0 && reads != stmts.len() {
            return Err(validation(
                "Supported operations are all reads or all writes in one batch",
            ));
        }
        let rcc = input.get("ReturnConsumedCapacity").cloned();
        let mut responses = Vec::with_capacity(stmts.len());
        let mut consumed: Vec<Json> = Vec::new();
        for s in &stmts {
            let src = statement_of(s)?;
            let table = parse(src).map(|(st, _)| st.table().to_string()).ok();
            let result = async {
                let params = params_of(s.get("Parameters"))?;
                if reads > 0 {
                    let mut get = self.point_read(rc, src, &params)?;
                    if let Some(c) = s.get("ConsistentRead").filter(|v| !v.is_null()) {
                        get["ConsistentRead"] = c.clone();
                    }
                    if let Some(v) = &rcc {
                        get["ReturnConsumedCapacity"] = v.clone();
                    }
                    return self.get_item(rc, get).await;
                }
                let mut one = json!({"Statement": src});
                if let Some(p) = s.get("Parameters") {
                    one["Parameters"] = p.clone();
                }
                if let Some(v) = s.get("ReturnValuesOnConditionCheckFailure") {
                    one["ReturnValuesOnConditionCheckFailure"] = v.clone();
                }
                if let Some(v) = &rcc {
                    one["ReturnConsumedCapacity"] = v.clone();
                }
                self.execute_statement(rc, one).await
            }
            .await;
            let mut r = json!({});
            if let Some(t) = &table {
                r["TableName"] = json!(t);
            }
            match result {
                Ok(out) => {
                    if let Some(item) = out.get("Item") {
                        r["Item"] = item.clone();
                    }
                    if let Some(c) = out.get("ConsumedCapacity") {
                        consumed.push(c.clone());
                    }
                }
                Err(e) => {
                    let mut err = json!({"Code": batch_code(&e), "Message": e.message});
                    if let Some(item) = e.fields.get("Item") {
                        err["Item"] = item.clone();
                    }
                    r["Error"] = err;
                }
            }
            responses.push(r);
        }
        let mut out = json!({"Responses": responses});
        if rcc
            .as_ref()
            .and_then(Json::as_str)
            .is_some_and(|m| m != "NONE")
        {
            out["ConsumedCapacity"] = Json::Array(merge_consumed(consumed));
        }
        Ok(out)
    }

    pub async fn execute_transaction(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let stmts = input
            .get("TransactStatements")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if stmts.is_empty() || stmts.len() > 100 {
            return Err(list_len_error("transactStatements", stmts.len(), 100));
        }
        let mut parsed = Vec::with_capacity(stmts.len());
        for s in &stmts {
            let src = statement_of(s)?;
            let params = params_of(s.get("Parameters"))?;
            let (stmt, _) = parse(src)?;
            parsed.push((src, params, stmt));
        }
        let reads = parsed.iter().filter(|(_, _, s)| s.is_read()).count();
        if reads != 0 && reads != parsed.len() {
            return Err(validation(
                "Transactions must contain either all reads or all writes",
            ));
        }
        let mut req = json!({});
        for k in ["ReturnConsumedCapacity", "ClientRequestToken"] {
            if let Some(v) = input.get(k).filter(|v| !v.is_null()) {
                req[k] = v.clone();
            }
        }
        if reads > 0 {
            let mut items = Vec::new();
            for (src, params, _) in &parsed {
                items.push(json!({"Get": self.point_read(rc, src, params)?}));
            }
            req["TransactItems"] = Json::Array(items);
            if let Some(o) = req.as_object_mut() {
                o.remove("ClientRequestToken");
            }
            return self.transact_get_items(rc, req).await;
        }
        let mut items = Vec::new();
        let mut inserts = Vec::new();
        for (i, ((src, params, _), s)) in parsed.iter().zip(&stmts).enumerate() {
            let (_, native) = self.plan_statement(rc, src, params)?;
            let (kind, mut body) = match native {
                Native::Insert(b) => {
                    inserts.push(i);
                    ("Put", b)
                }
                Native::Update(b) => ("Update", b),
                Native::Delete(b) => ("Delete", b),
                Native::Check(b) => ("ConditionCheck", b),
                Native::Query(_) | Native::Scan(_) | Native::Queries(_) => {
                    return Err(validation(
                        "Transactions must contain either all reads or all writes",
                    ));
                }
            };
            if let Some(o) = body.as_object_mut() {
                o.remove("ReturnValues");
            }
            if let Some(v) = s.get("ReturnValuesOnConditionCheckFailure") {
                body["ReturnValuesOnConditionCheckFailure"] = v.clone();
            }
            items.push(json!({kind: body}));
        }
        req["TransactItems"] = Json::Array(items);
        self.transact_write_items(rc, req)
            .await
            .map_err(|e| duplicate_reasons(e, &inserts))
    }
}

/// INSERTs that failed their "key must not exist" condition are DuplicateItem reasons.
fn duplicate_reasons(mut e: AwsError, inserts: &[usize]) -> AwsError {
    if e.code != "TransactionCanceledException" {
        return e;
    }
    let Some(Json::Array(reasons)) = e.fields.get_mut("CancellationReasons") else {
        return e;
    };
    for &i in inserts {
        if let Some(r) = reasons.get_mut(i)
            && r["Code"] == "ConditionalCheckFailed"
        {
            *r = json!({"Code": "DuplicateItem", "Message": DUPLICATE});
        }
    }
    let codes: Vec<String> = reasons
        .iter()
        .map(|r| r["Code"].as_str().unwrap_or("None").to_string())
        .collect();
    e.message = format!(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        codes.join(", ")
    );
    e
}

/// One ConsumedCapacity per table, summed over the statements.
fn merge_consumed(list: Vec<Json>) -> Vec<Json> {
    let mut out: Vec<Json> = Vec::new();
    for c in list {
        let name = c["TableName"].clone();
        match out.iter_mut().find(|o| o["TableName"] == name) {
            Some(o) => {
                for k in ["CapacityUnits", "ReadCapacityUnits", "WriteCapacityUnits"] {
                    if let Some(v) = c.get(k).and_then(Json::as_f64) {
                        o[k] = json!(o.get(k).and_then(Json::as_f64).unwrap_or(0.0) + v);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}
