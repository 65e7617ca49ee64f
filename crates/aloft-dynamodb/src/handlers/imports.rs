//! ImportTable, DescribeImport, ListImports: a new table created from CSV, DynamoDB JSON or
//! Ion objects in S3 (read through S3's target, never by importing the S3 crate). The import
//! runs in the background; bad records are counted in `ErrorCount` and logged to CloudWatch
//! Logs (`/aws-dynamodb/imports`) as AWS does. Import descriptions are journaled.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_events::{Delivery, Targets};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::DynamoDb;
use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{KeyType, item_from_json};
use crate::error::{ErrorCode, validation};
use crate::handlers::items::check_new_item;
use crate::import::{self, Compression, CsvOptions, Format, Reader, Record};
use crate::jobs::{Job, Journal};
use crate::state::{Db, table_key};
use crate::tables::{self, TableMeta};

pub const NS_IMPORTS: &str = "dynamodb/imports";

/// A client token is remembered for 8 hours after its import (AWS's idempotency window).
const TOKEN_WINDOW_MS: i64 = 8 * 3600 * 1000;

/// AWS stops logging an import's errors after this many.
const MAX_LOGGED_ERRORS: u64 = 10_000;

pub const LOG_GROUP: &str = "/aws-dynamodb/imports";

/// One import, as DescribeImport shows it; journaled whole.
#[derive(Clone, Serialize, Deserialize)]
pub struct ImportJob {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub table_name: String,
    pub table_arn: String,
    pub table_id: String,
    pub client_token: Option<String>,
    /// The request's members as given, for the description and the idempotency check.
    pub source: Json,
    pub input_format: String,
    pub input_format_options: Option<Json>,
    pub compression: String,
    pub creation: Json,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub processed_bytes: u64,
    pub processed_items: u64,
    pub imported_items: u64,
    pub error_count: u64,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub log_group_arn: String,
}

impl ImportJob {
    fn description(&self) -> Json {
        let mut d = json!({
            "ImportArn": self.arn,
            "ImportStatus": self.status,
            "TableArn": self.table_arn,
            "TableId": self.table_id,
            "S3BucketSource": self.source,
            "ErrorCount": self.error_count,
            "CloudWatchLogGroupArn": self.log_group_arn,
            "InputFormat": self.input_format,
            "InputCompressionType": self.compression,
            "TableCreationParameters": self.creation,
            "StartTime": self.start_ms as f64 / 1000.0,
            "ProcessedSizeBytes": self.processed_bytes,
            "ProcessedItemCount": self.processed_items,
            "ImportedItemCount": self.imported_items,
        });
        if let Some(t) = &self.client_token {
            d["ClientToken"] = json!(t);
        }
        if let Some(o) = &self.input_format_options {
            d["InputFormatOptions"] = o.clone();
        }
        if let Some(e) = self.end_ms {
            d["EndTime"] = json!(e as f64 / 1000.0);
        }
        if let Some(c) = &self.failure_code {
            d["FailureCode"] = json!(c);
        }
        if let Some(m) = &self.failure_message {
            d["FailureMessage"] = json!(m);
        }
        d
    }

    fn summary(&self) -> Json {
        let mut s = json!({
            "ImportArn": self.arn,
            "ImportStatus": self.status,
            "TableArn": self.table_arn,
            "S3BucketSource": self.source,
            "CloudWatchLogGroupArn": self.log_group_arn,
            "InputFormat": self.input_format,
            "StartTime": self.start_ms as f64 / 1000.0,
        });
        if let Some(e) = self.end_ms {
            s["EndTime"] = json!(e as f64 / 1000.0);
        }
        s
    }

    /// The members an identical retry repeats (the client token's idempotency check).
    fn request_fingerprint(&self) -> Json {
        json!([
            self.source,
            self.input_format,
            self.input_format_options,
            self.compression,
            self.creation
        ])
    }

    fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }
}

/// The imports of every account and region, by ARN, and the targets that reach S3 and Logs.
pub struct Imports {
    jobs: Journal<ImportJob>,
    pub(crate) targets: Arc<Targets>,
    /// Tables being imported, by table key: DescribeTable shows them CREATING and CreateTable
    /// finds the name taken, as on AWS where the table exists from the start of the import.
    pending: RwLock<HashMap<String, TableMeta>>,
}

impl Job for ImportJob {
    fn arn(&self) -> &str {
        &self.arn
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
    /// FAILED, as a lost worker would leave it on AWS.
    fn interrupted(&mut self) {
        if self.status == "IN_PROGRESS" {
            self.status = "FAILED".to_string();
            self.failure_code = Some("InternalServerError".to_string());
            self.failure_message = Some("The import was interrupted by a restart".to_string());
        }
    }
}

impl Imports {
    pub fn load(db: &Db, targets: Arc<Targets>) -> Imports {
        Imports {
            jobs: Journal::load(db.store.as_ref(), NS_IMPORTS),
            targets,
            pending: RwLock::new(HashMap::new()),
        }
    }

    /// DescribeTable's answer for a table still being imported.
    pub(crate) fn creating(&self, account: &str, region: &str, name: &str) -> Option<Json> {
        let pending = self.pending.read().expect("imports lock");
        let meta = pending.get(&table_key(account, region, name))?;
        Some(meta.describe("CREATING", 0, 0, &[]))
    }

    pub(crate) fn is_pending(&self, key: &str) -> bool {
        self.pending.read().expect("imports lock").contains_key(key)
    }

    fn done(&self, meta: &TableMeta) {
        self.pending
            .write()
            .expect("imports lock")
            .remove(&table_key(&meta.account, &meta.region, &meta.name));
    }

    fn get(&self, arn: &str) -> Option<ImportJob> {
        self.jobs.get(arn)
    }

    async fn save(&self, db: &Db, job: ImportJob) {
        self.jobs.save(db.store.as_ref(), job).await;
    }

    pub async fn clear(&self, db: &Db) {
        self.pending.write().expect("imports lock").clear();
        self.jobs.clear(db.store.as_ref()).await;
    }
}

/// What the background worker needs from the request.
pub(crate) struct Plan {
    pub arn: String,
    pub meta: TableMeta,
    pub bucket: String,
    pub owner: Option<String>,
    pub prefix: String,
    pub format: Format,
    pub csv: CsvOptions,
    pub compression: Compression,
}

fn csv_options(input: &Json) -> Result<CsvOptions, AwsError> {
    let csv = &input["InputFormatOptions"]["Csv"];
    let mut opts = CsvOptions::default();
    if let Some(d) = csv["Delimiter"].as_str() {
        // The model's pattern is [,;:|\t ], length 1.
        match d.as_bytes() {
            [c] if b",;:|\t ".contains(c) => opts.delimiter = *c,
            _ => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{d}' at 'inputFormatOptions.csv.delimiter' failed to satisfy constraint: Member must satisfy regular expression pattern: [,;:|\\t ]"
                )));
            }
        }
    }
    if let Some(h) = csv["HeaderList"].as_array() {
        opts.header = Some(
            h.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
        );
    }
    Ok(opts)
}

/// Key attributes of the table and its indexes with their declared types: CSV imports these
/// typed, everything else as strings.
fn key_types(meta: &TableMeta) -> Vec<(String, KeyType)> {
    let mut names: Vec<&str> = meta.schema.names().collect();
    for i in &meta.indexes {
        names.extend(i.schema.names());
    }
    meta.attribute_definitions
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .cloned()
        .collect()
}

impl DynamoDb {
    pub async fn import_table(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let creation = input["TableCreationParameters"].clone();
        let now = clock::now_millis();
        let meta = tables::from_create(&creation, &rc.account_id, &rc.region, now)?;
        let format = input["InputFormat"]
            .as_str()
            .and_then(Format::parse)
            .ok_or_else(|| validation("Invalid InputFormat"))?;
        let compression_name = input["InputCompressionType"]
            .as_str()
            .unwrap_or("NONE")
            .to_string();
        let compression = Compression::parse(&compression_name)
            .ok_or_else(|| validation("Invalid InputCompressionType"))?;
        let csv = csv_options(&input)?;
        if format != Format::Csv && input["InputFormatOptions"].get("Csv").is_some() {
            return Err(validation(
                "InputFormatOptions.Csv can only be specified when InputFormat is CSV",
            ));
        }
        let source = input["S3BucketSource"].clone();
        let bucket = source["S3Bucket"].as_str().unwrap_or_default().to_string();
        let token = input["ClientToken"].as_str().map(str::to_string);
        let id = format!("{:014}-{}", now, aloft_core::ids::hex(4));
        let job = ImportJob {
            arn: format!("{}/import/{id}", meta.arn()),
            account: rc.account_id.clone(),
            region: rc.region.clone(),
            status: "IN_PROGRESS".to_string(),
            table_name: meta.name.clone(),
            table_arn: meta.arn(),
            table_id: meta.id.clone(),
            client_token: token.clone(),
            source: source.clone(),
            input_format: input["InputFormat"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            input_format_options: input.get("InputFormatOptions").cloned(),
            compression: compression_name,
            creation,
            start_ms: now,
            end_ms: None,
            processed_bytes: 0,
            processed_items: 0,
            imported_items: 0,
            error_count: 0,
            failure_code: None,
            failure_message: None,
            log_group_arn: aloft_core::arn::build(
                "logs",
                &rc.region,
                &rc.account_id,
                &format!("log-group:{LOG_GROUP}:*"),
            ),
        };
        {
            let jobs = self.imports.jobs.read();
            if let Some(t) = &token
                && let Some(prev) = jobs.values().find(|j| {
                    j.account == rc.account_id
                        && j.region == rc.region
                        && j.client_token.as_deref() == Some(t)
                        && now - j.end_ms.unwrap_or(now) < TOKEN_WINDOW_MS
                })
            {
                if prev.request_fingerprint() == job.request_fingerprint() {
                    return Ok(json!({"ImportTableDescription": prev.description()}));
                }
                return Err(ErrorCode::IdempotentParameterMismatchException.err(
                    "Parameters of the request do not match those of the request that first used the client token",
                ));
            }
            if self
                .db
                .get(&rc.account_id, &rc.region, &meta.name)
                .is_some()
            {
                return Err(ErrorCode::ResourceInUseException
                    .err(format!("Table already exists: {}", meta.name)));
            }
            let running = jobs
                .values()
                .filter(|j| j.status == "IN_PROGRESS" && j.account == rc.account_id)
                .count();
            if running >= 50 {
                return Err(ErrorCode::LimitExceededException.err(
                    "Subscriber limit exceeded: There is a limit of 50 concurrent import operations",
                ));
            }
        }
        {
            let mut pending = self.imports.pending.write().expect("imports lock");
            let key = table_key(&rc.account_id, &rc.region, &meta.name);
            if pending.contains_key(&key) {
                return Err(ErrorCode::ResourceInUseException
                    .err(format!("Table already exists: {}", meta.name)));
            }
            pending.insert(key, meta.clone());
        }
        let desc = job.description();
        let plan = Plan {
            arn: job.arn.clone(),
            meta,
            bucket,
            owner: source["S3BucketOwner"].as_str().map(str::to_string),
            prefix: source["S3KeyPrefix"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            format,
            csv,
            compression,
        };
        self.imports.save(&self.db, job).await;
        let db = self.db.clone();
        let imports = self.imports.clone();
        tokio::spawn(async move {
            let (arn, meta) = (plan.arn.clone(), plan.meta.clone());
            // A bug in the worker must not leave the import IN_PROGRESS forever.
            let worker = tokio::spawn(run(db.clone(), imports.clone(), plan)).await;
            imports.done(&meta);
            if let Err(e) = worker
                && let Some(mut job) = imports.get(&arn)
            {
                job.status = "FAILED".to_string();
                job.end_ms = Some(clock::now_millis());
                job.failure_code = Some("InternalServerError".to_string());
                job.failure_message = Some(format!("The import stopped: {e}"));
                imports.save(&db, job).await;
            }
        });
        Ok(json!({"ImportTableDescription": desc}))
    }

    pub async fn describe_import(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = input["ImportArn"].as_str().unwrap_or_default();
        let job = self.imports.get(arn).ok_or_else(|| {
            ErrorCode::ImportNotFoundException.err(format!("Import not found: {arn}"))
        })?;
        Ok(json!({"ImportTableDescription": job.description()}))
    }

    pub async fn list_imports(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let table = input["TableArn"].as_str();
        let page = input["PageSize"].as_u64().unwrap_or(25) as usize;
        let after = input["NextToken"].as_str().unwrap_or("");
        let jobs = self.imports.jobs.read();
        // Oldest first: the ARN's import id starts with the start time.
        let mut mine: Vec<&ImportJob> = jobs
            .values()
            .filter(|j| {
                j.account == rc.account_id
                    && j.region == rc.region
                    && table.is_none_or(|t| t == j.table_arn)
            })
            .collect();
        mine.sort_by(|a, b| (a.start_ms, a.id()).cmp(&(b.start_ms, b.id())));
        let start = if after.is_empty() {
            0
        } else {
            let arn = token_arn(after);
            mine.iter()
                .position(|j| Some(&j.arn) == arn.as_ref())
                .ok_or_else(|| validation(format!("Invalid NextToken: {after}")))?
        };
        let slice: Vec<&ImportJob> = mine.iter().skip(start).take(page).copied().collect();
        let mut out =
            json!({"ImportSummaryList": slice.iter().map(|j| j.summary()).collect::<Vec<_>>()});
        if let Some(next) = mine.get(start + page) {
            out["NextToken"] = json!(arn_token(&next.arn));
        }
        Ok(out)
    }
}

/// ListImports' (and ListBulkOperations') NextToken: the model wants hex in blocks of 16, at
/// least 112 characters for imports; it is the next ARN in hex, padded with zero bytes.
pub(crate) fn arn_token(arn: &str) -> String {
    let mut hex: String = arn.bytes().map(|b| format!("{b:02x}")).collect();
    while hex.len() < 112 || !hex.len().is_multiple_of(16) {
        hex.push_str("00");
    }
    hex
}

pub(crate) fn token_arn(token: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..token.len() / 2)
        .map(|i| u8::from_str_radix(token.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let mut bytes = bytes?;
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    String::from_utf8(bytes).ok()
}

/// What reading the source produced.
#[derive(Default)]
pub(crate) struct Outcome {
    pub rows: Rows,
    /// Bytes of the objects as stored (compressed) and as read (decompressed).
    pub input_bytes: u64,
    pub processed_bytes: u64,
    pub processed_items: u64,
    pub imported_items: u64,
    /// (object key, record index, message) of the first errors.
    pub errors: Vec<(String, usize, String)>,
    pub error_count: u64,
}

/// S3's error as an import's failure code (`S3NoSuchBucket`, `S3AccessDenied`, ...).
fn s3_failure(e: &AwsError) -> (String, String) {
    (format!("S3{}", e.code), e.message.clone())
}

pub(crate) async fn s3(
    targets: &Targets,
    plan: &Plan,
    op: &str,
    options: Map<String, Json>,
) -> Result<aloft_events::Delivered, AwsError> {
    s3_call(targets, plan, op, options, bytes::Bytes::new()).await
}

/// PutObject into `plan.bucket` (bulk operations' error reports).
pub(crate) async fn s3_put(
    targets: &Targets,
    plan: &Plan,
    options: Map<String, Json>,
    body: bytes::Bytes,
) -> Result<aloft_events::Delivered, AwsError> {
    s3_call(targets, plan, "PutObject", options, body).await
}

async fn s3_call(
    targets: &Targets,
    plan: &Plan,
    op: &str,
    options: Map<String, Json>,
    payload: bytes::Bytes,
) -> Result<aloft_events::Delivered, AwsError> {
    let mut options = options;
    options.insert("Operation".into(), json!(op));
    if let Some(o) = &plan.owner {
        options.insert("ExpectedBucketOwner".into(), json!(o));
    }
    targets
        .deliver(
            &format!("arn:aws:s3:::{}", plan.bucket),
            Delivery {
                payload,
                options,
                sync: true,
                source_arn: Some(plan.arn.clone()),
                account: plan.meta.account.clone(),
                region: plan.meta.region.clone(),
            },
        )
        .await
}

/// The keys under the prefix, every page.
async fn list_keys(targets: &Targets, plan: &Plan) -> Result<Vec<String>, AwsError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut o = Map::new();
        o.insert("Prefix".into(), json!(plan.prefix));
        if let Some(t) = &token {
            o.insert("ContinuationToken".into(), json!(t));
        }
        // `info` is a map: index it as a value, where a missing member is null.
        let page = Json::Object(s3(targets, plan, "ListObjectsV2", o).await?.info);
        for c in page["Contents"].as_array().into_iter().flatten() {
            if let Some(k) = c["Key"].as_str() {
                keys.push(k.to_string());
            }
        }
        token = page["NextContinuationToken"].as_str().map(str::to_string);
        if page["IsTruncated"].as_bool() != Some(true) || token.is_none() {
            return Ok(keys);
        }
    }
}

/// Reads and checks every record; items are checked exactly as PutItem checks them. Each
/// object is read in ranges of [`import::reader::PIECE`] bytes, decompressed and parsed as
/// they come, so a source object is never whole in memory (only the items it yields are).
pub(crate) async fn read_source(targets: &Targets, plan: &Plan) -> Result<Outcome, AwsError> {
    let mut out = Outcome::default();
    let keys = list_keys(targets, plan).await?;
    let key_types = key_types(&plan.meta);
    for key in keys {
        let mut reader = Reader::new(plan.format, plan.compression, &plan.csv, &key_types);
        let mut index = 0;
        let mut emit = |record| take(&mut out, plan, &key, &mut index, record);
        let mut read = read_object(targets, plan, &key, &mut reader, &mut emit).await?;
        if read.is_ok() {
            read = reader.finish(&mut emit);
        }
        match read {
            Ok(()) => {
                out.input_bytes += reader.input_bytes();
                out.processed_bytes += reader.decompressed_bytes();
            }
            Err(message) => {
                // An object not in its declared compression is one error (AWS skips the
                // rest of a malformed object).
                out.error_count += 1;
                out.errors.push((key, 0, message));
            }
        }
    }
    Ok(out)
}

/// Feeds `reader` the object `key`, range after range. The outer error is S3's (the import
/// fails); the inner one the object's decompression (one bad object).
async fn read_object(
    targets: &Targets,
    plan: &Plan,
    key: &str,
    reader: &mut Reader,
    emit: &mut (dyn FnMut(Record) + Send),
) -> Result<Result<(), String>, AwsError> {
    let mut offset = 0u64;
    let mut etag: Option<Json> = None;
    loop {
        let mut o = Map::new();
        o.insert("Key".into(), json!(key));
        let last_byte = offset + import::reader::PIECE - 1;
        o.insert("Range".into(), json!(format!("bytes={offset}-{last_byte}")));
        // Later ranges must come from the object the first one came from.
        if let Some(e) = &etag {
            o.insert("IfMatch".into(), e.clone());
        }
        let got = match s3(targets, plan, "GetObject", o).await {
            Ok(got) => got,
            // A range of an empty object is unsatisfiable: nothing to read.
            Err(e) if offset == 0 && e.code == "InvalidRange" => return Ok(Ok(())),
            Err(e) => return Err(e),
        };
        if etag.is_none() {
            etag = got.info.get("ETag").cloned();
        }
        let body = got.payload.unwrap_or_default();
        // `bytes a-b/size`; without it the answer was the whole object.
        let size = got
            .info
            .get("ContentRange")
            .and_then(Json::as_str)
            .and_then(|r| r.rsplit('/').next()?.parse::<u64>().ok())
            .unwrap_or(offset + body.len() as u64);
        offset += body.len() as u64;
        if let Err(message) = reader.push(&body, emit) {
            return Ok(Err(message));
        }
        if offset >= size || body.is_empty() {
            return Ok(Ok(()));
        }
    }
}

/// One record of object `key`, checked and kept (an item) or counted (an error).
fn take(out: &mut Outcome, plan: &Plan, key: &str, index: &mut usize, record: Record) {
    let i = *index;
    *index += 1;
    out.processed_items += 1;
    let checked = match record {
        Record::Bad { line, message } => Err(format!("line {line}: {message}")),
        Record::Item(map) => item_from_json(&Json::Object(map))
            .and_then(|item| {
                let k = plan.meta.schema.item_key(&item)?;
                check_new_item(&plan.meta, &item, false)?;
                Ok((k, item))
            })
            .map_err(|e| e.message),
    };
    match checked {
        Ok((k, item)) => {
            // Items sharing a key overwrite each other; not an error (AWS's rule).
            out.rows.insert(RowKey::from(k), crate::state::stored(item));
            out.imported_items += 1;
        }
        Err(message) => {
            out.error_count += 1;
            if out.error_count <= MAX_LOGGED_ERRORS {
                out.errors.push((key.to_string(), i, message));
            }
        }
    }
}

/// Writes the errors to `/aws-dynamodb/imports`, one event per bad record, in AWS's shape.
async fn log_errors(targets: &Targets, plan: &Plan, errors: &[(String, usize, String)]) {
    if errors.is_empty() {
        return;
    }
    let now = clock::now_millis();
    let events: Vec<Json> = errors
        .iter()
        .map(|(key, index, message)| {
            let m = json!({
                "itemS3Pointer": {"bucket": plan.bucket, "key": key, "itemIndex": index},
                "importArn": plan.arn,
                "errorMessages": [message],
            });
            json!({"timestamp": now, "message": m.to_string()})
        })
        .collect();
    let stream = plan.arn.rsplit('/').next().unwrap_or("import").to_string();
    let group_arn = aloft_core::arn::build(
        "logs",
        &plan.meta.region,
        &plan.meta.account,
        &format!("log-group:{LOG_GROUP}"),
    );
    for chunk in events.chunks(10_000) {
        let mut options = Map::new();
        options.insert("logStreamName".into(), json!(stream));
        options.insert("logEvents".into(), Json::Array(chunk.to_vec()));
        options.insert("CreateIfMissing".into(), json!(true));
        let d = Delivery {
            options,
            sync: true,
            source_arn: Some(plan.arn.clone()),
            account: plan.meta.account.clone(),
            region: plan.meta.region.clone(),
            ..Default::default()
        };
        if let Err(e) = targets.deliver(&group_arn, d).await {
            tracing::warn!("dynamodb import {}: logging errors failed: {e}", plan.arn);
        }
    }
}

/// The background half of ImportTable: read, check, create the table with its items.
async fn run(db: Arc<Db>, imports: Arc<Imports>, plan: Plan) {
    let outcome = read_source(&imports.targets, &plan).await;
    let Some(mut job) = imports.get(&plan.arn) else {
        return;
    };
    job.end_ms = Some(clock::now_millis());
    match outcome {
        Err(e) => {
            let (code, message) = s3_failure(&e);
            job.status = "FAILED".to_string();
            job.failure_code = Some(code);
            job.failure_message = Some(message);
        }
        Ok(o) => {
            log_errors(&imports.targets, &plan, &o.errors).await;
            job.processed_bytes = o.processed_bytes;
            job.processed_items = o.processed_items;
            job.imported_items = o.imported_items;
            job.error_count = o.error_count;
            match create_with_items(&db, plan.meta.clone(), o.rows).await {
                Ok(()) => job.status = "COMPLETED".to_string(),
                Err(e) => {
                    job.status = "FAILED".to_string();
                    job.failure_code = Some(e.code.to_string());
                    job.failure_message = Some(e.message);
                }
            }
        }
    }
    imports.done(&plan.meta);
    imports.save(&db, job).await;
}

/// Creates the imported table with its items in one journaled batch (as a restore does).
async fn create_with_items(db: &Db, meta: TableMeta, items: Rows) -> Result<(), AwsError> {
    let name = meta.name.clone();
    let (_, batch) =
        crate::handlers::backups::insert_with_items(db, meta, items).ok_or_else(|| {
            ErrorCode::ResourceInUseException.err(format!("Table already exists: {name}"))
        })?;
    db.store
        .submit(batch)
        .await
        .map_err(|e| AwsError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_token_is_hex_blocks_and_round_trips() {
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/import/01700000000000-abcd1234";
        let t = arn_token(arn);
        assert!(t.len() >= 112 && t.len().is_multiple_of(16));
        assert!(t.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(token_arn(&t).as_deref(), Some(arn));
        assert_eq!(arn_token("a").len(), 112);
        assert_eq!(token_arn("zz"), None);
    }
}
