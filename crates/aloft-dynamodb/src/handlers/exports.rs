//! Exports to S3: ExportTableToPointInTime, DescribeExport and ListExports, and the registry
//! of export descriptions (journaled under [`NS_EXPORTS`], so they survive a restart).
//!
//! The table is read from the point-in-time recovery log at the export time (full exports)
//! or over the export period (incremental exports) when the request is accepted; the files
//! are written in the background ([`crate::export::runs`]), through S3's target.

use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_events::Targets;
use aloft_store::{Batch, Store};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, validation};
use crate::export::files::Format;
use crate::export::runs::{self, Snapshot};

pub const NS_EXPORTS: &str = "dynamodb/exports";

/// A client token makes a request idempotent for eight hours.
const TOKEN_WINDOW_MS: i64 = 8 * 3_600_000;
/// Incremental export periods: at least 15 minutes, at most 24 hours.
const MIN_PERIOD_MS: i64 = 15 * 60_000;
const MAX_PERIOD_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Incremental {
    pub from_ms: i64,
    pub to_ms: i64,
    pub view: String,
}

/// One export, as DescribeExport shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub arn: String,
    pub id: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub table_arn: String,
    pub table_id: String,
    pub table_name: String,
    pub export_time_ms: i64,
    pub client_token: Option<String>,
    /// The request's parameters other than the token, to tell a retry from a conflict.
    pub fingerprint: String,
    pub bucket: String,
    pub bucket_owner: Option<String>,
    pub prefix: Option<String>,
    pub sse_algorithm: String,
    pub kms_key_id: Option<String>,
    pub format: String,
    pub export_type: String,
    pub incremental: Option<Incremental>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub billed_bytes: Option<u64>,
    pub item_count: Option<u64>,
    pub manifest: Option<String>,
}

fn secs(ms: i64) -> Json {
    json!(ms as f64 / 1000.0)
}

impl Export {
    /// The S3 key of a file of this export (`S3Prefix/AWSDynamoDB/<ExportId>/<name>`).
    pub fn key(&self, name: &str) -> String {
        match self.prefix.as_deref().map(|p| p.trim_end_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/AWSDynamoDB/{}/{name}", self.id),
            _ => format!("AWSDynamoDB/{}/{name}", self.id),
        }
    }

    pub fn format(&self) -> Format {
        Format::parse(&self.format).unwrap_or(Format::DynamoDbJson)
    }

    pub fn description(&self) -> Json {
        let mut d = json!({
            "ExportArn": self.arn,
            "ExportStatus": self.status,
            "StartTime": secs(self.start_ms),
            "TableArn": self.table_arn,
            "TableId": self.table_id,
            "S3Bucket": self.bucket,
            "S3SseAlgorithm": self.sse_algorithm,
            "ExportFormat": self.format,
        });
        let o = d.as_object_mut().expect("an object");
        // AWS describes a full export without its ExportType (ListExports' summaries have it).
        if self.incremental.is_none() {
            o.insert("ExportTime".into(), secs(self.export_time_ms));
        } else {
            o.insert("ExportType".into(), self.export_type.clone().into());
        }
        let mut put = |k: &str, v: Option<Json>| {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        };
        put("EndTime", self.end_ms.map(secs));
        put("ExportManifest", self.manifest.clone().map(Json::from));
        put("ClientToken", self.client_token.clone().map(Json::from));
        put("S3BucketOwner", self.bucket_owner.clone().map(Json::from));
        put("S3Prefix", self.prefix.clone().map(Json::from));
        put("S3SseKmsKeyId", self.kms_key_id.clone().map(Json::from));
        put("FailureCode", self.failure_code.clone().map(Json::from));
        put(
            "FailureMessage",
            self.failure_message.clone().map(Json::from),
        );
        put("BilledSizeBytes", self.billed_bytes.map(Json::from));
        put("ItemCount", self.item_count.map(Json::from));
        put(
            "IncrementalExportSpecification",
            self.incremental.as_ref().map(|i| {
                json!({"ExportFromTime": secs(i.from_ms), "ExportToTime": secs(i.to_ms),
                    "ExportViewType": i.view})
            }),
        );
        d
    }
}

/// Every export of every account and region, in the order they were requested.
pub struct Exports {
    pub targets: Arc<Targets>,
    pub store: Arc<dyn Store>,
    list: Mutex<Vec<Export>>,
}

fn journal_key(e: &Export) -> Vec<u8> {
    format!("{}/{}/{}", e.account, e.region, e.arn).into_bytes()
}

impl Exports {
    /// Loads the journaled exports.
    pub fn load(store: Arc<dyn Store>, targets: Arc<Targets>) -> Arc<Exports> {
        let mut list: Vec<Export> = match store.load(NS_EXPORTS, b"") {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
                .collect(),
            Err(e) => {
                tracing::error!("dynamodb: loading exports failed: {e}");
                Vec::new()
            }
        };
        list.sort_by(|a, b| (a.start_ms, &a.arn).cmp(&(b.start_ms, &b.arn)));
        Arc::new(Exports {
            targets,
            store,
            list: Mutex::new(list),
        })
    }

    pub fn in_progress(&self) -> Vec<Export> {
        self.list
            .lock()
            .expect("exports lock")
            .iter()
            .filter(|e| e.status == "IN_PROGRESS")
            .cloned()
            .collect()
    }

    /// Records a new export, or answers with the one an earlier request with the same
    /// client token made.
    async fn add(&self, e: Export) -> Result<Export, AwsError> {
        let commit = {
            let mut list = self.list.lock().expect("exports lock");
            let now = clock::now_millis();
            if let Some(token) = &e.client_token
                && let Some(prior) = list.iter().find(|p| {
                    p.client_token.as_ref() == Some(token)
                        && p.account == e.account
                        && p.region == e.region
                        && now - p.end_ms.unwrap_or(now) < TOKEN_WINDOW_MS
                })
            {
                if prior.fingerprint == e.fingerprint {
                    return Ok(prior.clone());
                }
                return Err(ErrorCode::ExportConflictException.err(
                    "Export conflict: Duplicate request detected with conflicting parameters",
                ));
            }
            let mut batch = Batch::new();
            batch.put(
                NS_EXPORTS,
                journal_key(&e),
                serde_json::to_vec(&e).unwrap_or_default(),
            );
            list.push(e.clone());
            self.store.submit(batch)
        };
        commit
            .await
            .map_err(|err| AwsError::internal(err.to_string()))?;
        Ok(e)
    }

    /// Applies `f` to the export and journals it (a no-op once the export is gone: reset).
    pub async fn update(&self, arn: &str, f: impl FnOnce(&mut Export)) {
        let commit = {
            let mut list = self.list.lock().expect("exports lock");
            let Some(e) = list.iter_mut().find(|e| e.arn == arn) else {
                return;
            };
            f(e);
            let mut batch = Batch::new();
            batch.put(
                NS_EXPORTS,
                journal_key(e),
                serde_json::to_vec(&*e).unwrap_or_default(),
            );
            self.store.submit(batch)
        };
        if let Err(e) = commit.await {
            tracing::error!("dynamodb: journaling an export failed: {e}");
        }
    }

    fn find(&self, arn: &str) -> Option<Export> {
        self.list
            .lock()
            .expect("exports lock")
            .iter()
            .find(|e| e.arn == arn)
            .cloned()
    }

    pub async fn clear(&self) {
        self.list.lock().expect("exports lock").clear();
        if let Err(e) = self.store.clear(NS_EXPORTS, b"").await {
            tracing::error!("dynamodb reset: {e}");
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ExportInput {
    table_arn: String,
    export_time: Option<f64>,
    client_token: Option<String>,
    s3_bucket: String,
    s3_bucket_owner: Option<String>,
    s3_prefix: Option<String>,
    s3_sse_algorithm: Option<String>,
    s3_sse_kms_key_id: Option<String>,
    export_format: Option<String>,
    export_type: Option<String>,
    incremental_export_specification: Option<IncrementalInput>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct IncrementalInput {
    export_from_time: Option<f64>,
    export_to_time: Option<f64>,
    export_view_type: Option<String>,
}

fn ms(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

/// AWS's words for a full export's time outside the recovery window.
fn invalid_time() -> AwsError {
    ErrorCode::InvalidExportTimeException.err("Export Time is invalid")
}

/// An incremental export's period outside the recovery window or of the wrong length: all
/// InvalidExportTimeException, the bounds quoted to the second. AWS calls the window's start
/// "the table creation time" whatever it is (PITR's earliest restorable time, here).
fn invalid_period(message: String) -> AwsError {
    ErrorCode::InvalidExportTimeException.err(message)
}

fn iso_secs(ms: i64) -> String {
    let s = clock::iso8601_millis(ms);
    format!("{}Z", &s[..s.len() - 5])
}

fn from_too_early(from: i64) -> AwsError {
    invalid_period(format!(
        "Incremental export period from time cannot be less than the table creation time : {}",
        iso_secs(from)
    ))
}

fn bad_token(token: &str) -> AwsError {
    invalid_request(&format!("Provided nextToken is invalid: {token}"))
}

/// AWS's prefix for the export requests it refuses as a whole.
fn invalid_request(detail: &str) -> AwsError {
    validation(format!("Invalid Request: {detail}"))
}

impl DynamoDb {
    pub async fn export_table_to_point_in_time(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let mut fingerprint = input.clone();
        if let Some(o) = fingerprint.as_object_mut() {
            o.remove("ClientToken");
        }
        let i: ExportInput =
            serde_json::from_value(input).map_err(|e| validation(e.to_string()))?;
        let format = Format::parse(i.export_format.as_deref().unwrap_or("DYNAMODB_JSON"))
            .ok_or_else(|| validation("Unknown ExportFormat"))?;
        let export_type = i.export_type.as_deref().unwrap_or("FULL_EXPORT");
        // A specification makes sense only with an explicit INCREMENTAL_EXPORT; an ExportTime
        // beside one is ignored (AWS checks the period instead).
        match (
            i.export_type.as_deref(),
            &i.incremental_export_specification,
        ) {
            (None, Some(_)) => {
                return Err(invalid_request(
                    "Export Type expected to be Incremental Export when incremental export specification is provided",
                ));
            }
            (Some(t), Some(_)) if t != "INCREMENTAL_EXPORT" => {
                return Err(invalid_request(
                    "When Export Type is Full Export , Incremental Export Specification should not be provided",
                ));
            }
            (Some("INCREMENTAL_EXPORT"), None) => {
                return Err(invalid_request(
                    "Incremental Export Specification expected when export type is set as Incremental Export",
                ));
            }
            _ => {}
        }
        let from = match &i.incremental_export_specification {
            Some(s) => Some(s.export_from_time.map(ms).ok_or_else(|| {
                invalid_request("ExportFromTime must be provided in IncrementalExportSpecification")
            })?),
            None => None,
        };
        if i.s3_sse_kms_key_id.is_some() && i.s3_sse_algorithm.as_deref() != Some("KMS") {
            return Err(invalid_request(
                "KMS Key Id is not supported for this encryption type",
            ));
        }
        let Some(arn) = aloft_core::arn::parse(&i.table_arn) else {
            return Err(validation(
                "One or more parameter values were invalid: tableArn is not a valid ARN",
            ));
        };
        let name = arn
            .resource
            .strip_prefix("table/")
            .filter(|n| !n.is_empty() && !n.contains('/') && arn.service == "dynamodb")
            .ok_or_else(|| invalid_request("Table ARN is invalid."))?;
        if arn.account != rc.account_id {
            return Err(ErrorCode::AccessDeniedException.err("Access is denied"));
        }
        // The ARN's region is not checked: the table is looked up where the request is sent.
        let table = self
            .db
            .get(&rc.account_id, &rc.region, name)
            .ok_or_else(|| {
                ErrorCode::TableNotFoundException.err(format!("Table not found: {}", i.table_arn))
            })?;
        let now = clock::now_millis();
        let (meta, export_time_ms, spec, snapshot) = {
            let data = table.data.read().expect("table lock");
            let pitr = data.pitr.as_ref().filter(|_| data.meta.pitr);
            if let Some(from) = from {
                let s = i
                    .incremental_export_specification
                    .as_ref()
                    .expect("checked");
                // Without PITR there is no window: the period starts too early.
                let Some(p) = pitr else {
                    return Err(from_too_early(from));
                };
                let (earliest, _) = p.window(now);
                let to = s.export_to_time.map_or(now, ms);
                if from < earliest - 999 {
                    return Err(from_too_early(from));
                }
                if to > now + 999 {
                    return Err(invalid_period(format!(
                        "Incremental export period to time cannot be greater than the current time : {}",
                        iso_secs(to)
                    )));
                }
                if to - from < MIN_PERIOD_MS {
                    return Err(invalid_period(
                        "Difference between export period from time and export period to time is less than 15 minutes".into(),
                    ));
                }
                if to - from > MAX_PERIOD_MS {
                    return Err(invalid_period(
                        "Difference between export period from time and export period to time is more than 24 hours".into(),
                    ));
                }
                let view = s
                    .export_view_type
                    .clone()
                    .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into());
                let snap = runs::incremental(&data.meta.schema, p, from, to);
                let spec = Incremental {
                    from_ms: from,
                    to_ms: to,
                    view,
                };
                ((*data.meta).clone(), to, Some(spec), snap)
            } else {
                let Some(p) = pitr else {
                    return Err(
                        ErrorCode::PointInTimeRecoveryUnavailableException.err(format!(
                            "Point in time recovery is not enabled for table '{name}'"
                        )),
                    );
                };
                let (earliest, _) = p.window(now);
                let at = i.export_time.map_or(now, ms);
                if at < earliest - 999 || at > now + 999 {
                    return Err(invalid_time());
                }
                let at = at.clamp(earliest, now);
                let snap = Snapshot::full(p, at);
                ((*data.meta).clone(), at, None, snap)
            }
        };
        let id = format!("{now:014}-{}", aloft_core::ids::hex(4));
        let table_arn = meta.arn();
        let export = Export {
            arn: format!("{table_arn}/export/{id}"),
            id,
            account: rc.account_id.clone(),
            region: rc.region.clone(),
            status: "IN_PROGRESS".into(),
            start_ms: now,
            end_ms: None,
            table_arn,
            table_id: meta.id.clone(),
            table_name: meta.name.clone(),
            export_time_ms,
            client_token: i.client_token,
            fingerprint: fingerprint.to_string(),
            bucket: i.s3_bucket,
            bucket_owner: i.s3_bucket_owner,
            prefix: i.s3_prefix,
            sse_algorithm: i.s3_sse_algorithm.unwrap_or_else(|| "AES256".into()),
            kms_key_id: i.s3_sse_kms_key_id,
            format: format.name().into(),
            export_type: export_type.into(),
            incremental: spec,
            failure_code: None,
            failure_message: None,
            billed_bytes: None,
            item_count: None,
            manifest: None,
        };
        let arn = export.arn.clone();
        let stored = self.exports.add(export).await?;
        if stored.arn == arn {
            runs::spawn(self.exports.clone(), stored.clone(), snapshot);
        }
        Ok(json!({"ExportDescription": stored.description()}))
    }

    pub async fn describe_export(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = input
            .get("ExportArn")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let parsed = aloft_core::arn::parse(arn)
            .filter(|a| a.service == "dynamodb")
            .filter(|a| {
                let mut parts = a.resource.split('/');
                parts.next() == Some("table")
                    && parts.next().is_some_and(|t| !t.is_empty())
                    && parts.next() == Some("export")
                    && parts.next().is_some_and(|id| !id.is_empty())
                    && parts.next().is_none()
            })
            .ok_or_else(|| validation("Invalid Export ARN"))?;
        if parsed.account != rc.account_id {
            return Err(ErrorCode::AccessDeniedException.err("Access is denied"));
        }
        if parsed.region != rc.region {
            return Err(
                ErrorCode::ExportNotFoundException.err("Export not found: Invalid export arn")
            );
        }
        let e = self
            .exports
            .find(arn)
            .filter(|e| e.account == rc.account_id && e.region == rc.region)
            .ok_or_else(|| {
                ErrorCode::ExportNotFoundException
                    .err(format!("Export not found: Export not found: {arn}"))
            })?;
        Ok(json!({"ExportDescription": e.description()}))
    }

    pub async fn list_exports(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let table = input.get("TableArn").and_then(Json::as_str);
        let max = input
            .get("MaxResults")
            .and_then(Json::as_u64)
            .map_or(25, |n| n as usize);
        let after = match input.get("NextToken").and_then(Json::as_str) {
            None => None,
            Some(t) => Some(
                B64.decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad_token(t))?,
            ),
        };
        // AWS lists a table's exports by the table that exists now: none once it is deleted,
        // none of the old one's after a re-creation under the same name.
        let table_id = table.map(|t| {
            aloft_core::arn::parse(t)
                .and_then(|a| a.resource.strip_prefix("table/").map(str::to_string))
                .and_then(|n| self.db.get(&rc.account_id, &rc.region, &n))
                .map(|t| t.data.read().expect("table lock").meta.id.clone())
        });
        let list = self.exports.list.lock().expect("exports lock");
        let mine: Vec<&Export> = list
            .iter()
            .filter(|e| e.account == rc.account_id && e.region == rc.region)
            .filter(|e| table.is_none_or(|t| e.table_arn == t))
            .filter(|e| {
                table_id
                    .as_ref()
                    .is_none_or(|id| id.as_ref() == Some(&e.table_id))
            })
            .collect();
        let start = match &after {
            None => 0,
            Some(a) => match mine.iter().position(|e| &e.arn == a) {
                Some(p) => p + 1,
                // A token of this account's exports under another filter: an empty page.
                None if list.iter().any(|e| &e.arn == a) => mine.len(),
                None => return Err(bad_token(input["NextToken"].as_str().unwrap_or_default())),
            },
        };
        let page: Vec<&&Export> = mine.iter().skip(start).take(max).collect();
        let summaries: Vec<Json> = page
            .iter()
            .map(|e| {
                json!({"ExportArn": e.arn, "ExportStatus": e.status, "ExportType": e.export_type})
            })
            .collect();
        let mut out = json!({ "ExportSummaries": summaries });
        if start + page.len() < mine.len()
            && let Some(last) = page.last()
        {
            out["NextToken"] = B64.encode(&last.arn).into();
        }
        Ok(out)
    }
}
