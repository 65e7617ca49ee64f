//! StartBulkPutItems, DescribeBulkOperation, ListBulkOperations, CancelBulkOperation: S3
//! objects (DynamoDB JSON or Ion, as ImportTable reads them) written into an existing table
//! through the table's one write path (indexes, streams, point-in-time log). Items that fail
//! PutItem's checks are counted and, when `OutputType` asks for `ERROR`, reported as a JSON
//! lines object in the output bucket. Descriptions are journaled.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, table_named_not_found, validation};
use crate::handlers::imports::{Imports, Plan, arn_token, read_source, token_arn};
use crate::import::{Compression, CsvOptions, Format};
use crate::jobs::{Job, Journal};
use crate::state::{Actor, Db};

pub const NS_BULK: &str = "dynamodb/bulk";

/// Items written per lock hold and journal batch.
const WRITE_CHUNK: usize = 500;

#[derive(Clone, Serialize, Deserialize)]
pub struct BulkOp {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub table_arn: String,
    pub table_id: String,
    pub client_token: Option<String>,
    pub input: Json,
    pub output: Json,
    pub max_wru: Option<u64>,
    pub tier: Option<String>,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub processed_items: u64,
    pub failed_items: u64,
    pub total_bytes: u64,
    pub processed_bytes: u64,
    pub put_bytes: u64,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
}

impl BulkOp {
    fn description(&self) -> Json {
        let mut d = json!({
            "BulkOperationArn": self.arn,
            "BulkOperationStatus": self.status,
            "TableDetails": [{"TableName": self.table_arn, "TableId": self.table_id}],
            "InputS3Configuration": self.input,
            "OutputS3Configuration": self.output,
            "StartTime": self.start_ms as f64 / 1000.0,
            "ProcessedItemCount": self.processed_items,
            "FailedItemCount": self.failed_items,
            "ProcessedInputBytes": self.processed_bytes,
            "TotalInputBytes": self.total_bytes,
            "BulkOperationUsage": [{
                "TableName": self.table_arn,
                "BulkPutBytes": self.put_bytes,
                "Table": {"BulkPutBytes": self.put_bytes},
            }],
        });
        let opt = |d: &mut Json, k: &str, v: Option<Json>| {
            if let Some(v) = v {
                d[k] = v;
            }
        };
        opt(
            &mut d,
            "ClientToken",
            self.client_token.as_ref().map(|t| json!(t)),
        );
        opt(
            &mut d,
            "EndTime",
            self.end_ms.map(|e| json!(e as f64 / 1000.0)),
        );
        opt(
            &mut d,
            "FailureCode",
            self.failure_code.as_ref().map(|c| json!(c)),
        );
        opt(
            &mut d,
            "FailureMessage",
            self.failure_message.as_ref().map(|m| json!(m)),
        );
        opt(
            &mut d,
            "MaxWriteRequestUnits",
            self.max_wru.map(|u| json!(u)),
        );
        opt(
            &mut d,
            "PerformanceTier",
            self.tier.as_ref().map(|t| json!(t)),
        );
        d
    }

    fn fingerprint(&self) -> Json {
        json!([
            self.table_arn,
            self.input,
            self.output,
            self.max_wru,
            self.tier
        ])
    }

    fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }
}

/// Bulk operations by ARN, with the cancel flags of the running ones.
pub struct BulkOps {
    ops: Journal<BulkOp>,
    cancels: RwLock<HashMap<String, Arc<AtomicBool>>>,
}

impl Job for BulkOp {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
    fn interrupted(&mut self) {
        if matches!(self.status.as_str(), "IN_PROGRESS" | "CANCELLING") {
            self.status = "FAILED".to_string();
            self.failure_code = Some("InternalServerError".to_string());
            self.failure_message = Some("The operation was interrupted by a restart".to_string());
        }
    }
}

impl BulkOps {
    pub fn load(db: &Db) -> BulkOps {
        BulkOps {
            ops: Journal::load(db.store.as_ref(), NS_BULK),
            cancels: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, arn: &str) -> Option<BulkOp> {
        self.ops.get(arn)
    }

    async fn save(&self, db: &Db, op: BulkOp) {
        self.ops.save(db.store.as_ref(), op).await;
    }

    pub async fn clear(&self, db: &Db) {
        for c in self.cancels.write().expect("bulk lock").drain() {
            c.1.store(true, Ordering::Relaxed);
        }
        self.ops.clear(db.store.as_ref()).await;
    }
}

fn not_found(arn: &str) -> AwsError {
    ErrorCode::ResourceNotFoundException.err(format!("Bulk operation not found: {arn}"))
}

/// `TableName` takes a name or an ARN.
fn table_name_of(s: &str) -> &str {
    s.rsplit_once(":table/").map_or(s, |(_, n)| n)
}

impl DynamoDb {
    pub async fn start_bulk_put_items(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = table_name_of(input["TableName"].as_str().unwrap_or_default()).to_string();
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| table_named_not_found(&name))?;
        let meta = (*table.data.read().expect("table lock").meta).clone();
        let cfg = input["InputS3Configuration"].clone();
        let format = cfg["InputFormat"]
            .as_str()
            .and_then(Format::parse)
            .filter(|f| *f != Format::Csv)
            .ok_or_else(|| validation("Invalid InputFormat"))?;
        let compression =
            Compression::parse(cfg["InputCompressionType"].as_str().unwrap_or("NONE"))
                .ok_or_else(|| validation("Invalid InputCompressionType"))?;
        let output = input["OutputS3Configuration"].clone();
        if output["OutputType"]
            .as_array()
            .is_some_and(|t| t.iter().any(|v| v == "ERROR"))
            && output["S3Bucket"].as_str().is_none()
        {
            return Err(validation(
                "OutputS3Configuration.S3Bucket is required when OutputType includes ERROR",
            ));
        }
        let now = clock::now_millis();
        let op = BulkOp {
            arn: format!(
                "{}/bulk-operation/{:014}-{}",
                meta.arn(),
                now,
                aloft_core::ids::hex(4)
            ),
            account: rc.account_id.clone(),
            region: rc.region.clone(),
            status: "IN_PROGRESS".to_string(),
            table_arn: meta.arn(),
            table_id: meta.id.clone(),
            client_token: input["ClientToken"].as_str().map(str::to_string),
            input: cfg.clone(),
            output,
            max_wru: input["MaxWriteRequestUnits"].as_u64(),
            tier: input["PerformanceTier"].as_str().map(str::to_string),
            start_ms: now,
            end_ms: None,
            processed_items: 0,
            failed_items: 0,
            total_bytes: 0,
            processed_bytes: 0,
            put_bytes: 0,
            failure_code: None,
            failure_message: None,
        };
        {
            let ops = self.bulk.ops.read();
            if let Some(t) = &op.client_token
                && let Some(prev) = ops.values().find(|o| {
                    o.account == rc.account_id
                        && o.region == rc.region
                        && o.client_token.as_deref() == Some(t)
                        && now - o.end_ms.unwrap_or(now) < 8 * 3600 * 1000
                })
            {
                if prev.fingerprint() == op.fingerprint() {
                    return Ok(json!({"BulkOperationDescription": prev.description()}));
                }
                return Err(ErrorCode::IdempotentParameterMismatchException.err(
                    "Parameters of the request do not match those of the request that first used the client token",
                ));
            }
            if ops
                .values()
                .any(|o| o.table_arn == op.table_arn && o.status == "IN_PROGRESS")
            {
                return Err(ErrorCode::ResourceInUseException.err(format!(
                    "A bulk operation is already in progress on table {name}"
                )));
            }
        }
        let desc = op.description();
        let plan = Plan {
            arn: op.arn.clone(),
            meta,
            bucket: cfg["S3Bucket"].as_str().unwrap_or_default().to_string(),
            owner: cfg["S3BucketOwner"].as_str().map(str::to_string),
            prefix: cfg["S3KeyPrefix"].as_str().unwrap_or_default().to_string(),
            format,
            csv: CsvOptions::default(),
            compression,
        };
        let cancel = Arc::new(AtomicBool::new(false));
        self.bulk
            .cancels
            .write()
            .expect("bulk lock")
            .insert(op.arn.clone(), cancel.clone());
        self.bulk.save(&self.db, op).await;
        let (db, bulk, imports) = (self.db.clone(), self.bulk.clone(), self.imports.clone());
        tokio::spawn(async move {
            let arn = plan.arn.clone();
            let worker = tokio::spawn(run(db.clone(), bulk.clone(), imports, plan, cancel));
            if let Err(e) = worker.await
                && let Some(mut op) = bulk.get(&arn)
            {
                op.status = "FAILED".to_string();
                op.end_ms = Some(clock::now_millis());
                op.failure_code = Some("InternalServerError".to_string());
                op.failure_message = Some(format!("The operation stopped: {e}"));
                bulk.save(&db, op).await;
            }
            bulk.cancels.write().expect("bulk lock").remove(&arn);
        });
        Ok(json!({"BulkOperationDescription": desc}))
    }

    pub async fn describe_bulk_operation(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = input["BulkOperationArn"].as_str().unwrap_or_default();
        let op = self.bulk.get(arn).ok_or_else(|| not_found(arn))?;
        Ok(json!({"BulkOperationDescription": op.description()}))
    }

    pub async fn list_bulk_operations(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let max = input["MaxResults"].as_u64().unwrap_or(25) as usize;
        let after = input["NextToken"].as_str().unwrap_or("");
        let ops = self.bulk.ops.read();
        // Most recent first (AWS's order).
        let mut mine: Vec<&BulkOp> = ops
            .values()
            .filter(|o| o.account == rc.account_id && o.region == rc.region)
            .collect();
        mine.sort_by(|a, b| (b.start_ms, b.id()).cmp(&(a.start_ms, a.id())));
        let start = if after.is_empty() {
            0
        } else {
            let id = token_arn(after);
            mine.iter()
                .position(|o| Some(o.arn.as_str()) == id.as_deref())
                .ok_or_else(|| validation(format!("Invalid NextToken: {after}")))?
        };
        let page: Vec<Json> = mine
            .iter()
            .skip(start)
            .take(max)
            .map(|o| {
                let mut s = json!({"BulkOperationArn": o.arn, "BulkOperationStatus": o.status,
                    "StartTime": o.start_ms as f64 / 1000.0});
                if let Some(e) = o.end_ms {
                    s["EndTime"] = json!(e as f64 / 1000.0);
                }
                s
            })
            .collect();
        let mut out = json!({"BulkOperationsSummaryList": page});
        if let Some(next) = mine.get(start + max) {
            out["NextToken"] = json!(arn_token(&next.arn));
        }
        Ok(out)
    }

    pub async fn cancel_bulk_operation(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = input["BulkOperationArn"].as_str().unwrap_or_default();
        let mut op = self.bulk.get(arn).ok_or_else(|| not_found(arn))?;
        // Cancelling a finished operation changes nothing: its status is final.
        if op.status == "IN_PROGRESS" {
            if let Some(c) = self.bulk.cancels.read().expect("bulk lock").get(arn) {
                c.store(true, Ordering::Relaxed);
            }
            op.status = "CANCELLING".to_string();
            self.bulk.save(&self.db, op.clone()).await;
        }
        Ok(json!({"BulkOperationArn": op.arn, "BulkOperationStatus": op.status}))
    }
}

/// The background half: read and check, write through the table's write path, report.
async fn run(
    db: Arc<Db>,
    bulk: Arc<BulkOps>,
    imports: Arc<Imports>,
    plan: Plan,
    cancel: Arc<AtomicBool>,
) {
    let outcome = read_source(&imports.targets, &plan).await;
    let Some(mut op) = bulk.get(&plan.arn) else {
        return;
    };
    match outcome {
        Err(e) => {
            op.status = "FAILED".to_string();
            op.failure_code = Some(format!("S3{}", e.code));
            op.failure_message = Some(e.message);
        }
        Ok(o) => {
            op.total_bytes = o.input_bytes;
            op.processed_bytes = o.input_bytes;
            op.processed_items = o.processed_items;
            op.failed_items = o.error_count;
            let mut written = 0u64;
            let rows: Vec<_> = o.rows.into_iter().collect();
            for chunk in rows.chunks(WRITE_CHUNK) {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let Some(table) = db.get(&plan.meta.account, &plan.meta.region, &plan.meta.name)
                else {
                    op.status = "FAILED".to_string();
                    op.failure_code = Some("ResourceNotFoundException".to_string());
                    op.failure_message = Some("The table was deleted".to_string());
                    break;
                };
                let mut batch = Batch::new();
                {
                    let mut data = table.data.write().expect("table lock");
                    if data.meta.id != plan.meta.id {
                        break;
                    }
                    for (k, item) in chunk {
                        written += crate::domain::value::item_size(item) as u64;
                        data.write(&db, k.to_vec(), Some(item.clone()), Actor::User, &mut batch);
                    }
                }
                if let Err(e) = db.store.submit(batch).await {
                    tracing::error!("dynamodb bulk put: {e}");
                }
            }
            op.put_bytes = written;
            if op.status != "FAILED" {
                op.status = if cancel.load(Ordering::Relaxed) {
                    "CANCELLED"
                } else if o.error_count > 0 {
                    "COMPLETED_WITH_ERRORS"
                } else {
                    "COMPLETED"
                }
                .to_string();
            }
            report_errors(&imports, &plan, &op, &o.errors).await;
        }
    }
    op.end_ms = Some(clock::now_millis());
    bulk.save(&db, op).await;
}

/// The error report: one JSON line per failed record, in the output bucket, when the
/// operation asked for `ERROR` output.
async fn report_errors(
    imports: &Imports,
    plan: &Plan,
    op: &BulkOp,
    errors: &[(String, usize, String)],
) {
    let wants = op.output["OutputType"]
        .as_array()
        .is_some_and(|t| t.iter().any(|v| v == "ERROR"));
    let Some(bucket) = op.output["S3Bucket"]
        .as_str()
        .filter(|_| wants && !errors.is_empty())
    else {
        return;
    };
    let mut body = String::new();
    for (key, index, message) in errors {
        body.push_str(
            &json!({"itemS3Pointer": {"bucket": plan.bucket, "key": key, "itemIndex": index},
                "bulkOperationArn": op.arn, "errorMessages": [message]})
            .to_string(),
        );
        body.push('\n');
    }
    let prefix = op.output["S3KeyPrefix"].as_str().unwrap_or_default();
    let sep = if prefix.is_empty() || prefix.ends_with('/') {
        ""
    } else {
        "/"
    };
    let key = format!("{prefix}{sep}AWSDynamoDB/bulk/{}/errors.json", op.id());
    let out = Plan {
        arn: op.arn.clone(),
        meta: plan.meta.clone(),
        bucket: bucket.to_string(),
        owner: op.output["S3BucketOwner"].as_str().map(str::to_string),
        prefix: String::new(),
        format: plan.format,
        csv: CsvOptions::default(),
        compression: Compression::None,
    };
    let mut o = Map::new();
    o.insert("Key".into(), json!(key));
    o.insert("ContentType".into(), json!("application/json"));
    if let Err(e) =
        crate::handlers::imports::s3_put(&imports.targets, &out, o, Bytes::from(body)).await
    {
        tracing::warn!(
            "dynamodb bulk {}: writing the error report failed: {e}",
            op.arn
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_table_names() {
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/bulk-operation/1-a";
        let t = arn_token(arn);
        assert!(t.len().is_multiple_of(16) && t.len() >= 112);
        assert_eq!(token_arn(&t).as_deref(), Some(arn));
        assert_eq!(
            table_name_of("arn:aws:dynamodb:us-east-1:1:table/Music"),
            "Music"
        );
        assert_eq!(table_name_of("Music"), "Music");
    }
}
