//! Event source mappings: pollers that read SQS queues, DynamoDB streams and Kinesis streams
//! through the owning service's [`aloft_events::Source`] and invoke the function with batches.
//!
//! SQS: records are acknowledged (deleted) only after success; with `ReportBatchItemFailures`
//! only the reported ones stay (an answer naming an unknown message fails the whole batch). Streams: a failed batch is retried up to `MaximumRetryAttempts`
//! (halved first when `BisectBatchOnFunctionError`), then skipped to the on-failure destination
//! (see [`crate::streams`]); `MaximumBatchingWindowInSeconds` holds a read that is not a full
//! batch until the window passes. Settings are checked by [`crate::mapping_rules`], filters
//! matched by [`crate::filters`].

use std::sync::{Arc, Weak};

use aloft_core::RequestContext;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Code, Result, err};
use crate::functions::parse_name;
use crate::invoke::Mode;
use crate::{Lambda, key};

pub const NS_MAPPINGS: &str = "lambda/mappings";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub uuid: String,
    pub account: String,
    pub region: String,
    pub function: String,
    pub qualifier: Option<String>,
    pub source_arn: String,
    pub enabled: bool,
    pub config: serde_json::Map<String, Value>,
    pub modified_ms: i64,
    /// Bumped on every update so the running poller notices and restarts.
    pub generation: u64,
}

fn kind(arn: &str) -> &str {
    aloft_events::arn_service(arn).unwrap_or("")
}

impl Mapping {
    pub(crate) fn batch_size(&self) -> usize {
        let default = if kind(&self.source_arn) == "sqs" {
            10
        } else {
            100
        };
        self.config
            .get("BatchSize")
            .and_then(Value::as_u64)
            .map_or(default, |n| n as usize)
    }

    /// As the API shows it, with the last processing result of a stream mapping.
    pub(crate) fn describe_in(&self, s: &crate::State) -> Value {
        let mut v = self.describe();
        if let Some(r) = s.results.get(&self.uuid) {
            v["LastProcessingResult"] = json!(r);
        }
        v
    }

    pub fn describe(&self) -> Value {
        let mut fn_arn = aloft_core::arn::build(
            "lambda",
            &self.region,
            &self.account,
            &format!("function:{}", self.function),
        );
        if let Some(q) = &self.qualifier {
            fn_arn = format!("{fn_arn}:{q}");
        }
        let mut v = json!({
            "UUID": self.uuid,
            "EventSourceArn": self.source_arn,
            "FunctionArn": fn_arn,
            "BatchSize": self.batch_size(),
            "MaximumBatchingWindowInSeconds": self.config.get("MaximumBatchingWindowInSeconds").cloned().unwrap_or(json!(0)),
            "LastModified": self.modified_ms as f64 / 1000.0,
            "State": if self.enabled { "Enabled" } else { "Disabled" },
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": self.config.get("FunctionResponseTypes").cloned().unwrap_or(json!([])),
            "EventSourceMappingArn": aloft_core::arn::build("lambda", &self.region, &self.account, &format!("event-source-mapping:{}", self.uuid)),
        });
        if kind(&self.source_arn) != "sqs" {
            v["LastProcessingResult"] = json!("No records processed");
            // Stream mappings show every stream setting, unset ones with their defaults.
            v["ParallelizationFactor"] = json!(1);
            v["MaximumRecordAgeInSeconds"] = json!(-1);
            v["BisectBatchOnFunctionError"] = json!(false);
            v["MaximumRetryAttempts"] = json!(-1);
            v["TumblingWindowInSeconds"] = json!(0);
            v["DestinationConfig"] = json!({"OnFailure": {}});
        }
        for k in [
            "StartingPosition",
            "StartingPositionTimestamp",
            "FilterCriteria",
            "DestinationConfig",
            "MaximumRecordAgeInSeconds",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "ParallelizationFactor",
            "TumblingWindowInSeconds",
            "ScalingConfig",
        ] {
            if let Some(x) = self.config.get(k) {
                v[k] = x.clone();
            }
        }
        v
    }
}

impl Lambda {
    pub async fn create_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let source = input
            .get("EventSourceArn")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if !matches!(kind(&source), "sqs" | "dynamodb" | "kinesis") {
            return Err(err(
                Code::InvalidParameterValue,
                format!(
                    "Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source arn : {source}"
                ),
            ));
        }
        if self.ctx.targets.source_for(&source).is_err() {
            return Err(err(
                Code::InvalidParameterValue,
                format!(
                    "The event source {source} is not served by this Aloft (its service is not running)."
                ),
            ));
        }
        let raw = input
            .get("FunctionName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (name, q) = parse_name(raw)?;
        self.read(ctx, &name, |_| Ok(()))?;
        if kind(&source) != "sqs" && input.get("StartingPosition").is_none() {
            // AWS's text, as LocalStack's validation quotes it: an InvalidParameterValue
            // worded like a model error, ending in a period.
            return Err(err(
                Code::InvalidParameterValue,
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
            ));
        }
        let mut config = input.as_object().cloned().unwrap_or_default();
        for k in ["FunctionName", "EventSourceArn", "Enabled", "Tags"] {
            config.remove(k);
        }
        crate::mapping_rules::check(kind(&source), &source, &config, &config)?;
        let m = Mapping {
            uuid: aloft_core::ids::uuid(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function: name,
            qualifier: q,
            source_arn: source,
            enabled: input
                .get("Enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            config,
            modified_ms: aloft_core::clock::now_millis(),
            generation: 0,
        };
        let mut out = m.describe();
        self.save_mapping(&m).await?;
        self.start_poller(&m);
        out["State"] = json!(if m.enabled { "Creating" } else { "Disabled" });
        Ok(out)
    }

    async fn save_mapping(&self, m: &Mapping) -> Result<()> {
        let commit = {
            let mut s = self.state.lock().expect("state lock");
            s.mappings.insert(m.uuid.clone(), m.clone());
            let mut b = aloft_store::Batch::new();
            b.put(
                NS_MAPPINGS,
                key(&m.account, &m.region, &m.uuid).as_bytes(),
                serde_json::to_vec(m).unwrap_or_default(),
            );
            self.ctx.store.submit(b)
        };
        commit.await.map_err(|e| err(Code::Service, e.to_string()))
    }

    fn mapping(&self, ctx: &RequestContext, uuid: &str) -> Result<Mapping> {
        let s = self.state.lock().expect("state lock");
        s.mappings
            .get(uuid)
            .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
            .cloned()
            .ok_or_else(|| err(Code::ResourceNotFound, format!("The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {})", ctx.request_id)))
    }

    pub fn get_event_source_mapping(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let uuid = input
            .get("UUID")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let m = self.mapping(ctx, uuid)?;
        Ok(m.describe_in(&self.state.lock().expect("state lock")))
    }

    pub async fn update_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let uuid = input
            .get("UUID")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut m = self.mapping(ctx, uuid)?;
        if let Some(e) = input.get("Enabled").and_then(Value::as_bool) {
            m.enabled = e;
        }
        if let Some(f) = input.get("FunctionName").and_then(Value::as_str) {
            let (name, q) = parse_name(f)?;
            self.read(ctx, &name, |_| Ok(()))?;
            m.function = name;
            m.qualifier = q;
        }
        let mut given = input.as_object().cloned().unwrap_or_default();
        for k in ["UUID", "Enabled", "FunctionName"] {
            given.remove(k);
        }
        let mut merged = m.config.clone();
        merged.extend(given.clone());
        crate::mapping_rules::check(kind(&m.source_arn), &m.source_arn, &given, &merged)?;
        m.config = merged;
        m.generation += 1;
        m.modified_ms = aloft_core::clock::now_millis();
        self.save_mapping(&m).await?;
        self.start_poller(&m);
        let mut out = m.describe();
        out["State"] = json!(if m.enabled { "Updating" } else { "Disabling" });
        Ok(out)
    }

    pub async fn delete_event_source_mapping(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let uuid = input
            .get("UUID")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let m = self.mapping(ctx, uuid)?;
        let commit = {
            let mut s = self.state.lock().expect("state lock");
            s.mappings.remove(uuid);
            s.positions.remove(uuid);
            s.results.remove(uuid);
            let mut b = aloft_store::Batch::new();
            b.delete(NS_MAPPINGS, key(&m.account, &m.region, &m.uuid).as_bytes());
            b.delete(crate::streams::NS_POSITIONS, m.uuid.as_bytes());
            self.ctx.store.submit(b)
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        let mut out = m.describe();
        out["State"] = json!("Deleting");
        Ok(out)
    }

    pub fn list_event_source_mappings(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let source = input.get("EventSourceArn").and_then(Value::as_str);
        let func = input
            .get("FunctionName")
            .and_then(Value::as_str)
            .map(parse_name)
            .transpose()?
            .map(|(n, _)| n);
        let s = self.state.lock().expect("state lock");
        let mut list: Vec<&Mapping> = s
            .mappings
            .values()
            .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
            .filter(|m| source.is_none_or(|a| a == m.source_arn))
            .filter(|m| func.as_ref().is_none_or(|f| *f == m.function))
            .collect();
        list.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        let items = list.into_iter().map(|m| m.describe_in(&s)).collect();
        Ok(crate::functions::paginate(
            items,
            &input,
            "EventSourceMappings",
            "NextMarker",
            100,
        ))
    }

    /// Starts (or restarts, after an update) the poller of a mapping.
    pub(crate) fn start_poller(&self, m: &Mapping) {
        let Some(me) = self.me.get().and_then(Weak::upgrade) else {
            return;
        };
        tokio::spawn(poll(Arc::downgrade(&me), m.uuid.clone(), m.generation));
    }
}

async fn poll(svc: Weak<Lambda>, uuid: String, generation: u64) {
    let mut position: Option<String> = svc.upgrade().and_then(|s| s.stream_position(&uuid));
    let mut windows = crate::windows::Windows::new();
    // When a read that is not a full batch was first seen (MaximumBatchingWindowInSeconds).
    let mut gathering_since: Option<i64> = None;
    loop {
        let Some(s) = svc.upgrade() else { return };
        let m = {
            let st = s.state.lock().expect("state lock");
            st.mappings.get(&uuid).cloned()
        };
        let Some(m) = m else { return };
        if m.generation != generation {
            return;
        }
        let idle = || async {
            let mut tick = aloft_core::clock::changed();
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                _ = tick.changed() => {}
            }
        };
        if !m.enabled {
            drop(s);
            idle().await;
            continue;
        }
        let Ok(source) = s.ctx.targets.source_for(&m.source_arn) else {
            drop(s);
            idle().await;
            continue;
        };
        let stream = kind(&m.source_arn) != "sqs";
        if stream
            && !windows.is_empty()
            && let crate::streams::Outcome::Stopped = s.close_due_windows(&m, &mut windows).await
        {
            continue;
        }
        let mut options = m.config.clone();
        options.insert("Account".into(), json!(m.account));
        options.insert("Region".into(), json!(m.region));
        // Kinesis records carry the function's execution role as `invokeIdentityArn`.
        if let Some(role) = s.execution_role(&m) {
            options.insert("Role".into(), json!(role));
        }
        let lanes = if stream {
            m.config
                .get("ParallelizationFactor")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 10) as usize
        } else {
            1
        };
        let want = m.batch_size();
        let batch = source
            .read(
                &m.source_arn,
                position.as_deref(),
                (want * lanes).min(10_000),
                &options,
            )
            .await;
        let (records, next) = match batch {
            Ok(b) => b,
            Err(_) => {
                drop(s);
                idle().await;
                continue;
            }
        };
        if records.is_empty() {
            if next.is_some() && next != position {
                position = next;
                if let Some(p) = &position
                    && kind(&m.source_arn) != "sqs"
                {
                    s.save_position(&m.uuid, p).await;
                }
            }
            drop(s);
            idle().await;
            continue;
        }
        let window_ms = m
            .config
            .get("MaximumBatchingWindowInSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            * 1000;
        if stream && window_ms > 0 && records.len() < want {
            // Not a full batch yet: read again from the same position until the window
            // passes (SQS sources gather in their own receive).
            let now = aloft_core::clock::now_millis();
            let since = *gathering_since.get_or_insert(now);
            if now - since < window_ms {
                drop(s);
                idle().await;
                continue;
            }
        }
        gathering_since = None;
        let filters = m.config.get("FilterCriteria");
        let source_kind = kind(&m.source_arn);
        let (keep, dropped): (Vec<_>, Vec<_>) = records
            .into_iter()
            .partition(|r| crate::filters::passes(source_kind, filters, &r.record));
        if kind(&m.source_arn) == "sqs" && !dropped.is_empty() {
            // Lambda deletes SQS messages its filters drop.
            let acks: Vec<String> = dropped.iter().map(|r| r.ack.clone()).collect();
            let _ = source.ack(&m.source_arn, &acks).await;
        }
        if keep.is_empty() {
            position = next;
            if let Some(p) = &position
                && kind(&m.source_arn) != "sqs"
            {
                s.save_position(&m.uuid, p).await;
            }
            continue;
        }
        if kind(&m.source_arn) != "sqs" {
            // Streams: retry (bisecting) until done, then move past the batch.
            match s.process_stream_read(&m, keep, &mut windows).await {
                crate::streams::Outcome::Done => {
                    position = next;
                    if let Some(p) = &position {
                        s.save_position(&m.uuid, p).await;
                    }
                }
                crate::streams::Outcome::Stopped => {}
            }
            continue;
        }
        let event = json!({"Records": keep.iter().map(|r| r.record.clone()).collect::<Vec<_>>()});
        let out = s
            .invoke(
                &m.account,
                &m.region,
                &m.function,
                m.qualifier.as_deref(),
                Mode::RequestResponse,
                false,
                Bytes::from(event.to_string()),
                None,
            )
            .await;
        let report = m
            .config
            .get("FunctionResponseTypes")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "ReportBatchItemFailures"));
        let ok_payload = match &out {
            Ok(o) if o.function_error.is_none() => Some(o.payload.clone()),
            _ => None,
        };
        if kind(&m.source_arn) == "sqs" {
            let acks: Vec<String> = match &ok_payload {
                Some(p) if report => {
                    let ids: Vec<Option<&str>> = keep
                        .iter()
                        .map(|r| r.record.get("messageId").and_then(Value::as_str))
                        .collect();
                    match crate::streams::item_failures(p, &ids) {
                        crate::streams::Verdict::Success => {
                            keep.iter().map(|r| r.ack.clone()).collect()
                        }
                        crate::streams::Verdict::Failed(failed) => keep
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !failed.contains(i))
                            .map(|(_, r)| r.ack.clone())
                            .collect(),
                        // An unknown or empty identifier fails the whole batch.
                        crate::streams::Verdict::Invalid => Vec::new(),
                    }
                }
                Some(_) => keep.iter().map(|r| r.ack.clone()).collect(),
                // Failed batches return to the queue after their visibility timeout.
                None => Vec::new(),
            };
            if !acks.is_empty() {
                let _ = source.ack(&m.source_arn, &acks).await;
            }
            continue;
        }
    }
}
