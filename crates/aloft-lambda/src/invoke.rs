//! Invoke in every mode (RequestResponse, Event, DryRun), the async queue with its retries,
//! destinations and dead-letter queue, and the `lambda` target other services deliver to.

use std::sync::{Arc, Weak};

use aloft_core::{AwsError, RequestContext};
use aloft_events::{Delivered, Delivery, Target, Targets};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{Code, Result, constraint, err, not_found, throttled};
use crate::functions::{name_and_qualifier, parse_name};
use crate::runtime::{EnvSpec, Invocation, LogSink, RunError};
use crate::{Lambda, key};

/// Synchronous payloads (request and response) are capped at 6 MB.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Asynchronous payloads are capped at 1 MB (the model's documented limit).
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    RequestResponse,
    Event,
    DryRun,
}

impl Mode {
    pub fn parse(s: Option<&str>) -> Result<Self> {
        match s {
            None | Some("RequestResponse") => Ok(Self::RequestResponse),
            Some("Event") => Ok(Self::Event),
            Some("DryRun") => Ok(Self::DryRun),
            Some(other) => Err(constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )),
        }
    }
}

/// What Invoke answers.
#[derive(Debug)]
pub struct InvokeOutput {
    pub status: u16,
    pub payload: Bytes,
    pub function_error: Option<&'static str>,
    pub log_result: Option<String>,
    pub executed_version: Option<String>,
}

/// An event waiting in (or retried by) the async queue.
#[derive(Debug, Clone)]
pub struct AsyncEvent {
    pub account: String,
    pub region: String,
    pub name: String,
    pub qualifier: Option<String>,
    pub payload: Bytes,
    pub request_id: String,
    pub first_ms: i64,
    pub attempts: u32,
}

impl Lambda {
    /// Builds what the engine needs for the version a qualifier selects (aliases route by weight).
    fn env_spec(
        &self,
        account: &str,
        region: &str,
        name: &str,
        q: Option<&str>,
    ) -> Result<(EnvSpec, String)> {
        let s = self.state.lock().expect("state lock");
        let f = s
            .functions
            .get(&key(account, region, name))
            .ok_or_else(|| {
                not_found(
                    "Function",
                    &aloft_core::arn::build("lambda", region, account, &format!("function:{name}")),
                )
            })?;
        let version_name = match q {
            None => "$LATEST".to_string(),
            Some(q) if f.version(q).is_some() => q.to_string(),
            Some(q) => match f.aliases.get(q) {
                Some(a) => crate::aliases::route(a),
                None => return Err(not_found("Function", &format!("{}:{q}", f.arn()))),
            },
        };
        let v = f
            .version(&version_name)
            .ok_or_else(|| not_found("Function", &format!("{}:{version_name}", f.arn())))?;
        let mut invoked = f.arn();
        if let Some(q) = q {
            invoked = format!("{invoked}:{q}");
        }
        let spec = EnvSpec {
            account: account.to_string(),
            region: region.to_string(),
            function_name: f.name.clone(),
            version: v.version.clone(),
            revision: v.revision_id.clone(),
            runtime: v.runtime.clone().unwrap_or_default(),
            handler: v.handler.clone().unwrap_or_default(),
            memory_mb: v.memory_size,
            timeout_s: v.timeout,
            code_dir: self.code_root.join(&v.code_hex),
            layer_dirs: crate::functions::layer_refs_hex(v)
                .into_iter()
                .map(|h| self.code_root.join(h))
                .collect(),
            variables: v.variables.clone().unwrap_or_default(),
            log_group: f.log_group(v),
            reserved: f.reserved_concurrency,
            role: v.role.clone(),
        };
        Ok((spec, invoked))
    }

    /// Invokes a function; the one path behind the API, the target and function URLs.
    #[allow(clippy::too_many_arguments)]
    pub async fn invoke(
        &self,
        account: &str,
        region: &str,
        name: &str,
        q: Option<&str>,
        mode: Mode,
        tail: bool,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<InvokeOutput> {
        let limit = if mode == Mode::Event {
            MAX_ASYNC_PAYLOAD
        } else {
            MAX_SYNC_PAYLOAD
        };
        if payload.len() > limit {
            return Err(err(
                Code::RequestTooLarge,
                format!(
                    "Request must be smaller than {limit} bytes for the InvokeFunction operation"
                ),
            ));
        }
        if !payload.is_empty()
            && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload)
        {
            return Err(err(
                Code::InvalidRequestContent,
                format!(
                    "Could not parse request body into json: Could not parse payload into json: {e}"
                ),
            ));
        }
        let (spec, invoked) = self.env_spec(account, region, name, q)?;
        if spec.runtime.is_empty() {
            return Err(err(
                Code::InvalidParameterValue,
                "Aloft runs .zip packages only.",
            ));
        }
        match mode {
            Mode::DryRun => {
                return Ok(InvokeOutput {
                    status: 204,
                    payload: Bytes::new(),
                    function_error: None,
                    log_result: None,
                    executed_version: None,
                });
            }
            Mode::Event => {
                let request_id = aloft_core::ids::request_id();
                let _ = self.queue.send(AsyncEvent {
                    account: account.to_string(),
                    region: region.to_string(),
                    name: name.to_string(),
                    qualifier: q.map(str::to_string),
                    payload,
                    request_id,
                    first_ms: aloft_core::clock::now_millis(),
                    attempts: 0,
                });
                return Ok(InvokeOutput {
                    status: 202,
                    payload: Bytes::new(),
                    function_error: None,
                    log_result: None,
                    executed_version: None,
                });
            }
            Mode::RequestResponse => {}
        }
        let request_id = aloft_core::ids::request_id();
        let version = spec.version.clone();
        let inv = Invocation {
            request_id,
            payload: if payload.is_empty() {
                Bytes::from_static(b"{}")
            } else {
                payload
            },
            deadline_ms: 0,
            invoked_arn: invoked,
            trace_id: format!(
                "Root=1-{:08x}-{};Sampled=0",
                aloft_core::clock::now_secs(),
                aloft_core::ids::hex(12)
            ),
            client_context: client_context.and_then(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            }),
            cognito_identity: None,
        };
        let r = self.engine.run(&spec, inv).await.map_err(|e| match e {
            RunError::Throttled { reserved } => throttled(reserved),
            RunError::Spawn(m) => err(
                Code::Service,
                format!("Aloft could not start the {} runtime: {m}", spec.runtime),
            ),
        })?;
        Ok(InvokeOutput {
            status: 200,
            payload: r.payload,
            function_error: r.function_error,
            log_result: tail.then(|| {
                base64::engine::general_purpose::STANDARD.encode(crate::runtime::tail_4k(&r.log))
            }),
            executed_version: Some(version),
        })
    }

    /// `Invoke` on model-shaped input (`Payload` base64), as the shared codec hands it.
    pub async fn invoke_api(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let mode = Mode::parse(input.get("InvocationType").and_then(Value::as_str))?;
        let tail = input.get("LogType").and_then(Value::as_str) == Some("Tail");
        let payload = input
            .get("Payload")
            .and_then(Value::as_str)
            .map(|p| {
                base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let cc = input
            .get("ClientContext")
            .and_then(Value::as_str)
            .map(str::to_string);
        let out = self
            .invoke(
                &ctx.account_id,
                &ctx.region,
                &name,
                q.as_deref(),
                mode,
                tail,
                Bytes::from(payload),
                cc,
            )
            .await?;
        let mut v = json!({
            "StatusCode": out.status,
            "Payload": base64::engine::general_purpose::STANDARD.encode(&out.payload),
        });
        if let Some(e) = out.function_error {
            v["FunctionError"] = json!(e);
        }
        if let Some(l) = out.log_result {
            v["LogResult"] = json!(l);
        }
        if let Some(x) = out.executed_version {
            v["ExecutedVersion"] = json!(x);
        }
        Ok(v)
    }

    /// The deprecated `InvokeAsync`: an Event invocation answering `{"Status": 202}`.
    pub async fn invoke_async_api(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let payload = input
            .get("InvokeArgs")
            .and_then(Value::as_str)
            .map(|p| {
                base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        self.invoke(
            &ctx.account_id,
            &ctx.region,
            &name,
            q.as_deref(),
            Mode::Event,
            false,
            Bytes::from(payload),
            None,
        )
        .await?;
        Ok(json!({"Status": 202}))
    }

    /// Runs one queued event; on failure schedules a retry or sends it to its failure target.
    async fn run_async(self: Arc<Self>, mut ev: AsyncEvent) {
        let cfg = self.event_config(&ev.account, &ev.region, &ev.name, ev.qualifier.as_deref());
        let max_retries = cfg
            .as_ref()
            .and_then(|c| c.get("MaximumRetryAttempts"))
            .and_then(Value::as_u64)
            .unwrap_or(2) as u32;
        let max_age_ms = cfg
            .as_ref()
            .and_then(|c| c.get("MaximumEventAgeInSeconds"))
            .and_then(Value::as_i64)
            .unwrap_or(21600)
            * 1000;
        loop {
            ev.attempts += 1;
            let (spec, invoked) =
                match self.env_spec(&ev.account, &ev.region, &ev.name, ev.qualifier.as_deref()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            let inv = Invocation {
                request_id: ev.request_id.clone(),
                payload: if ev.payload.is_empty() {
                    Bytes::from_static(b"{}")
                } else {
                    ev.payload.clone()
                },
                deadline_ms: 0,
                invoked_arn: invoked,
                trace_id: format!(
                    "Root=1-{:08x}-{};Sampled=0",
                    aloft_core::clock::now_secs(),
                    aloft_core::ids::hex(12)
                ),
                client_context: None,
                cognito_identity: None,
            };
            let version = spec.version.clone();
            let result = self.engine.run(&spec, inv).await;
            let (ok, response, function_error) = match result {
                Ok(r) if r.function_error.is_none() => (true, r.payload, None),
                Ok(r) => (false, r.payload, r.function_error),
                // Throttled events wait and retry like errors (AWS retries them for up to 6 h).
                Err(_) => (false, Bytes::new(), None),
            };
            if ok {
                self.destination(&ev, &cfg, "OnSuccess", "Success", &version, &response, None)
                    .await;
                return;
            }
            let age = aloft_core::clock::now_millis() - ev.first_ms;
            if ev.attempts > max_retries || age >= max_age_ms {
                let condition = if age >= max_age_ms {
                    "EventAgeExceeded"
                } else {
                    "RetriesExhausted"
                };
                self.destination(
                    &ev,
                    &cfg,
                    "OnFailure",
                    condition,
                    &version,
                    &response,
                    function_error,
                )
                .await;
                self.dead_letter(&ev, &spec, &response).await;
                return;
            }
            // AWS waits about a minute before the first retry and two before the second.
            let wait = 60_000 * i64::from(ev.attempts);
            aloft_core::clock::sleep_until_millis(aloft_core::clock::now_millis() + wait).await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn destination(
        &self,
        ev: &AsyncEvent,
        cfg: &Option<Value>,
        which: &str,
        condition: &str,
        version: &str,
        response: &Bytes,
        function_error: Option<&str>,
    ) {
        let Some(dest) = cfg
            .as_ref()
            .and_then(|c| c.pointer(&format!("/DestinationConfig/{which}/Destination")))
            .and_then(Value::as_str)
        else {
            return;
        };
        let fn_arn = aloft_core::arn::build(
            "lambda",
            &ev.region,
            &ev.account,
            &format!("function:{}:{version}", ev.name),
        );
        let mut response_context = json!({"statusCode": 200, "executedVersion": version});
        if let Some(e) = function_error {
            response_context["functionError"] = json!(e);
        }
        let record = json!({
            "version": "1.0",
            "timestamp": aloft_core::clock::iso8601_millis(aloft_core::clock::now_millis()),
            "requestContext": {
                "requestId": ev.request_id,
                "functionArn": fn_arn,
                "condition": condition,
                "approximateInvokeCount": ev.attempts,
            },
            "requestPayload": serde_json::from_slice::<Value>(&ev.payload).unwrap_or(Value::Null),
            "responseContext": response_context,
            "responsePayload": serde_json::from_slice::<Value>(response).unwrap_or(Value::Null),
        });
        let mut options = serde_json::Map::new();
        if aloft_events::arn_service(dest) == Some("events") {
            options.insert("Source".into(), json!("lambda"));
            options.insert(
                "DetailType".into(),
                json!(if which == "OnSuccess" {
                    "Lambda Function Invocation Result - Success"
                } else {
                    "Lambda Function Invocation Result - Failure"
                }),
            );
        }
        let d = Delivery {
            payload: Bytes::from(record.to_string()),
            options,
            sync: false,
            source_arn: Some(aloft_core::arn::build(
                "lambda",
                &ev.region,
                &ev.account,
                &format!("function:{}", ev.name),
            )),
            account: ev.account.clone(),
            region: ev.region.clone(),
        };
        if let Err(e) = self.ctx.targets.deliver(dest, d).await {
            tracing::warn!(destination = dest, error = %e, "lambda destination delivery failed");
        }
    }

    async fn dead_letter(&self, ev: &AsyncEvent, _spec: &EnvSpec, response: &Bytes) {
        let target = {
            let s = self.state.lock().expect("state lock");
            s.functions
                .get(&key(&ev.account, &ev.region, &ev.name))
                .and_then(|f| f.latest.dead_letter_target.clone())
        };
        let Some(target) = target else { return };
        let message = serde_json::from_slice::<Value>(response)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let mut options = serde_json::Map::new();
        options.insert(
            "MessageAttributes".into(),
            json!({
                "RequestID": {"DataType": "String", "StringValue": ev.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message},
            }),
        );
        let d = Delivery {
            payload: ev.payload.clone(),
            options,
            sync: false,
            source_arn: Some(aloft_core::arn::build(
                "lambda",
                &ev.region,
                &ev.account,
                &format!("function:{}", ev.name),
            )),
            account: ev.account.clone(),
            region: ev.region.clone(),
        };
        if let Err(e) = self.ctx.targets.deliver(&target, d).await {
            tracing::warn!(dlq = target, error = %e, "lambda dead-letter delivery failed");
        }
    }
}

/// Takes events off the async queue; each runs (and retries) in its own task.
pub async fn async_worker(
    svc: Weak<Lambda>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<AsyncEvent>,
) {
    while let Some(ev) = rx.recv().await {
        let Some(s) = svc.upgrade() else { break };
        tokio::spawn(s.run_async(ev));
    }
}

/// Other services invoke functions through this (S3 notifications, SNS, EventBridge, API GW).
pub struct LambdaTarget(pub Weak<Lambda>);

#[async_trait::async_trait]
impl Target for LambdaTarget {
    async fn deliver(&self, arn: &str, d: Delivery) -> std::result::Result<Delivered, AwsError> {
        let svc = self
            .0
            .upgrade()
            .ok_or_else(|| err(Code::Service, "Lambda is shutting down"))?;
        let parsed = aloft_core::arn::parse(arn)
            .ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        let (name, q) = parse_name(arn)?;
        let q = crate::functions::qualifier(q, d.options.get("Qualifier").and_then(Value::as_str))?;
        let account = if parsed.account.is_empty() {
            d.account.clone()
        } else {
            parsed.account.to_string()
        };
        let region = if parsed.region.is_empty() {
            d.region.clone()
        } else {
            parsed.region.to_string()
        };
        let mode = if d.sync {
            Mode::RequestResponse
        } else {
            Mode::Event
        };
        let out = svc
            .invoke(
                &account,
                &region,
                &name,
                q.as_deref(),
                mode,
                false,
                d.payload,
                None,
            )
            .await?;
        let mut info = serde_json::Map::new();
        info.insert("StatusCode".into(), json!(out.status));
        if let Some(e) = out.function_error {
            info.insert("FunctionError".into(), json!(e));
        }
        if let Some(v) = out.executed_version {
            info.insert("ExecutedVersion".into(), json!(v));
        }
        Ok(Delivered {
            payload: d.sync.then_some(out.payload),
            info,
        })
    }
}

/// Sends function logs to CloudWatch Logs through the `logs` target.
pub struct LogsSink {
    pub targets: Arc<Targets>,
}

#[async_trait::async_trait]
impl LogSink for LogsSink {
    async fn put(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) {
        let arn = aloft_core::arn::build("logs", region, account, &format!("log-group:{group}"));
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!("PutLogEvents"));
        options.insert("logGroupName".into(), json!(group));
        options.insert("logStreamName".into(), json!(stream));
        options.insert("CreateIfMissing".into(), json!(true));
        options.insert(
            "logEvents".into(),
            Value::Array(
                events
                    .into_iter()
                    .map(|(t, m)| json!({"timestamp": t, "message": m}))
                    .collect(),
            ),
        );
        let d = Delivery {
            options,
            account: account.to_string(),
            region: region.to_string(),
            ..Default::default()
        };
        let _ = self.targets.deliver(&arn, d).await;
    }
}
