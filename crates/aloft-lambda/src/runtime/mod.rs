//! Execution: warm pools of environments per function, concurrency limits, timeouts, reaping.
//!
//! An invocation takes an idle environment of the same function version and revision, or
//! starts a new one while the function's reserved concurrency (or the account's limit) allows;
//! past that it is throttled. A timeout or crash kills the environment; code and configuration
//! changes retire the old ones.

pub mod api;
pub mod env;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

pub use api::Invocation;
use api::Outcome;
pub use env::{Env, EnvSpec, Host, Interpreters};

/// How long a new environment may initialise before the function's own timeout starts.
const INIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The result of running one invocation.
#[derive(Debug)]
pub struct RunResult {
    pub payload: Bytes,
    /// `Unhandled` when the function failed (AWS reports every runtime failure so).
    pub function_error: Option<&'static str>,
    /// The invocation's log (START..REPORT), for `LogType: Tail`.
    pub log: String,
    pub duration_ms: f64,
}

/// Why an invocation could not run at all.
#[derive(Debug)]
pub enum RunError {
    /// Reserved concurrency of the function (true) or the account limit (false) is used up.
    Throttled { reserved: bool },
    /// The runtime could not be started (missing interpreter or bootstrap).
    Spawn(String),
}

/// Where log lines go: CloudWatch Logs, through the logs service's target.
#[async_trait::async_trait]
pub trait LogSink: Send + Sync + 'static {
    async fn put(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    );
}

#[derive(Default)]
struct Pool {
    idle: Vec<Arc<Env>>,
    /// Environments running an invocation now (all versions of the function).
    busy: usize,
}

pub struct Engine {
    host: Host,
    scratch: PathBuf,
    pools: Mutex<HashMap<String, Pool>>,
    total_busy: AtomicUsize,
    pub account_limit: usize,
    pub idle_ms: i64,
    sink: Arc<dyn LogSink>,
}

fn pool_key(spec: &EnvSpec) -> String {
    format!("{}/{}/{}", spec.account, spec.region, spec.function_name)
}

/// Releases a concurrency slot even if the invocation's future is dropped.
struct Slot<'a> {
    engine: &'a Engine,
    key: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(p) = self
            .engine
            .pools
            .lock()
            .expect("pools lock")
            .get_mut(&self.key)
        {
            p.busy = p.busy.saturating_sub(1);
        }
        self.engine.total_busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Engine {
    pub fn new(host: Host, scratch: PathBuf, sink: Arc<dyn LogSink>) -> Self {
        let _ = std::fs::create_dir_all(&scratch);
        Self {
            host,
            scratch,
            pools: Mutex::new(HashMap::new()),
            total_busy: AtomicUsize::new(0),
            account_limit: 1000,
            idle_ms: 15 * 60 * 1000,
            sink,
        }
    }

    /// Starts finding the Python interpreter now, so that the first invocation of a function
    /// just created does not wait for it.
    pub fn warm_python(&self) {
        self.host.interpreters.warm_python();
    }

    /// Takes a warm environment or a slot for a new one; throttles past the limits.
    fn acquire(&self, spec: &EnvSpec) -> Result<(Slot<'_>, Option<Arc<Env>>), RunError> {
        let key = pool_key(spec);
        let mut pools = self.pools.lock().expect("pools lock");
        let pool = pools.entry(key.clone()).or_default();
        if let Some(r) = spec.reserved
            && pool.busy >= r as usize
        {
            return Err(RunError::Throttled { reserved: true });
        }
        if self.total_busy.load(Ordering::Relaxed) >= self.account_limit {
            return Err(RunError::Throttled { reserved: false });
        }
        pool.busy += 1;
        self.total_busy.fetch_add(1, Ordering::Relaxed);
        let mut found = None;
        let mut stale = Vec::new();
        while let Some(e) = pool.idle.pop() {
            if !e.is_alive() {
                continue;
            }
            if e.spec.version == spec.version && e.spec.revision != spec.revision {
                stale.push(e);
                continue;
            }
            if e.spec.version == spec.version {
                found = Some(e);
                break;
            }
            stale.push(e);
        }
        // Environments of other versions stay warm; only other revisions of this one retire.
        for e in stale {
            if e.spec.version == spec.version {
                e.kill();
            } else {
                pool.idle.insert(0, e);
            }
        }
        drop(pools);
        Ok((Slot { engine: self, key }, found))
    }

    fn release(&self, env: Arc<Env>) {
        env.mark_used();
        let key = pool_key(&env.spec);
        self.pools
            .lock()
            .expect("pools lock")
            .entry(key)
            .or_default()
            .idle
            .push(env);
    }

    /// Kills the idle environments of a function (all versions when `version` is None).
    pub fn retire(&self, account: &str, region: &str, name: &str, version: Option<&str>) {
        let key = format!("{account}/{region}/{name}");
        let mut pools = self.pools.lock().expect("pools lock");
        if let Some(p) = pools.get_mut(&key) {
            p.idle.retain(|e| {
                let keep = version.is_some_and(|v| e.spec.version != v);
                if !keep {
                    e.kill();
                }
                keep
            });
        }
    }

    /// Kills environments idle for longer than `idle_ms`.
    pub fn reap(&self) -> usize {
        let now = aloft_core::clock::now_millis();
        let mut n = 0;
        let mut pools = self.pools.lock().expect("pools lock");
        for p in pools.values_mut() {
            p.idle.retain(|e| {
                let keep =
                    e.is_alive() && now - e.last_used_ms.load(Ordering::Relaxed) < self.idle_ms;
                if !keep {
                    e.kill();
                    n += 1;
                }
                keep
            });
        }
        n
    }

    pub fn kill_all(&self) {
        let mut pools = self.pools.lock().expect("pools lock");
        for p in pools.values_mut() {
            for e in p.idle.drain(..) {
                e.kill();
            }
        }
        pools.clear();
    }

    /// Environment counts per function: (idle, busy).
    pub fn stats(&self) -> serde_json::Value {
        let pools = self.pools.lock().expect("pools lock");
        let mut m = serde_json::Map::new();
        for (k, p) in pools.iter() {
            m.insert(
                k.clone(),
                serde_json::json!({"idle": p.idle.len(), "busy": p.busy}),
            );
        }
        serde_json::Value::Object(m)
    }

    /// Runs one invocation to its end (response, error, timeout or crash).
    pub async fn run(&self, spec: &EnvSpec, mut inv: Invocation) -> Result<RunResult, RunError> {
        let (slot, warm) = self.acquire(spec)?;
        let cold = warm.is_none();
        let env = match warm {
            Some(e) => e,
            None => env::spawn(&self.host, spec.clone(), &self.scratch)
                .await
                .map_err(|e| RunError::Spawn(e.to_string()))?,
        };
        if cold {
            // Init has its own 10 s, as on AWS: the function's timeout starts when the
            // runtime first asks for an event. A longer init eats into the function timeout.
            let mut ready = env.api.ready.subscribe();
            let mut exited = env.exited.clone();
            tokio::select! {
                _ = ready.wait_for(|r| *r) => {}
                _ = exited.wait_for(Option::is_some) => {}
                () = tokio::time::sleep(INIT_TIMEOUT) => {}
            }
        }
        let started = std::time::Instant::now();
        let start_ms = aloft_core::clock::now_millis();
        inv.deadline_ms = wall_millis() + i64::from(spec.timeout_s) * 1000;
        let request_id = inv.request_id.clone();
        let init_lines = env.capture.begin();
        let rx = env.api.expect(&request_id);
        let _ = env.events.send(inv).await;
        let mut exited = env.exited.clone();
        let timeout = std::time::Duration::from_secs(u64::from(spec.timeout_s));
        let outcome = tokio::select! {
            o = rx => o.ok(),
            () = tokio::time::sleep(timeout) => None,
            _ = exited.wait_for(Option::is_some) => None,
        };
        let timed_out = outcome.is_none() && env.exited.borrow().is_none();
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let init_ms = init_duration(&env);
        match &outcome {
            Some(Outcome::Response(_) | Outcome::Error(..)) if env.our_bootstrap => {
                env.capture.wait_marker(&request_id, 200).await;
            }
            Some(Outcome::Response(_) | Outcome::Error(..)) => {
                // A custom runtime prints no marker: give the pipe a moment to drain.
                tokio::task::yield_now().await;
            }
            _ => {
                if timed_out {
                    env.kill();
                }
                env.capture.wait_marker("", 100).await;
            }
        }
        let body_lines = env.capture.take_lines();
        let mut version_note = spec.version.clone();
        if version_note.is_empty() {
            version_note = "$LATEST".into();
        }
        let mut log: Vec<(i64, String)> = Vec::with_capacity(body_lines.len() + 4);
        if let Some(ms) = init_ms {
            log.push((
                env.started_ms,
                format!(
                    "INIT_START Runtime Version: {}.aloft\tRuntime Version ARN: arn:aws:lambda:{}::runtime:aloft",
                    spec.runtime.replace("python", "python:").replace("nodejs", "nodejs:"),
                    spec.region
                ),
            ));
            let _ = ms;
        }
        log.extend(init_lines);
        log.push((
            start_ms,
            format!("START RequestId: {request_id} Version: {version_note}"),
        ));
        log.extend(body_lines);
        let end_ms = aloft_core::clock::now_millis();
        let (payload, function_error, healthy) = match outcome {
            Some(Outcome::Response(b)) => (b, None, true),
            Some(Outcome::Error(b, _)) => (error_payload(b, &request_id), Some("Unhandled"), true),
            Some(Outcome::InitError(b, kind)) => {
                let p = error_payload(b, &request_id);
                log.push((
                    end_ms,
                    format!(
                        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {}",
                        env.spawned.elapsed().as_secs_f64() * 1000.0,
                        kind.as_deref().unwrap_or("Runtime.Unknown")
                    ),
                ));
                (p, Some("Unhandled"), false)
            }
            Some(Outcome::TooLarge(n)) => (
                Bytes::from(
                    serde_json::json!({
                        "errorMessage": format!("Response payload size ({n} bytes) exceeded maximum allowed payload size (6291556 bytes)."),
                        "errorType": "Function.ResponseSizeTooLarge"
                    })
                    .to_string(),
                ),
                Some("Unhandled"),
                true,
            ),
            None if timed_out => {
                let secs = format!("{:.2}", f64::from(spec.timeout_s));
                log.push((
                    end_ms,
                    format!(
                        "{} {request_id} Task timed out after {secs} seconds",
                        aloft_core::clock::iso8601_millis(end_ms)
                    ),
                ));
                (
                    Bytes::from(
                        serde_json::json!({
                            "errorType": "Sandbox.Timedout",
                            "errorMessage": format!("RequestId: {request_id} Error: Task timed out after {secs} seconds")
                        })
                        .to_string(),
                    ),
                    Some("Unhandled"),
                    false,
                )
            }
            None => {
                let code = env.exited.borrow().unwrap_or(-1);
                let status = if code < 0 {
                    "signal: killed".to_string()
                } else {
                    format!("exit status {code}")
                };
                log.push((
                    end_ms,
                    format!("RequestId: {request_id} Error: Runtime exited with error: {status}\nRuntime.ExitError"),
                ));
                (
                    Bytes::from(
                        serde_json::json!({
                            "errorType": "Runtime.ExitError",
                            "errorMessage": format!("RequestId: {request_id} Error: Runtime exited with error: {status}")
                        })
                        .to_string(),
                    ),
                    Some("Unhandled"),
                    false,
                )
            }
        };
        log.push((end_ms, format!("END RequestId: {request_id}")));
        let billed = duration_ms.ceil().max(1.0) as u64;
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            spec.memory_mb,
            env.max_memory_mb()
        );
        if let Some(ms) = init_ms {
            report.push_str(&format!("Init Duration: {ms:.2} ms\t"));
        }
        log.push((end_ms, report));
        let text = log
            .iter()
            .filter(|(_, l)| !l.starts_with("INIT_START"))
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        self.sink
            .put(
                &spec.account,
                &spec.region,
                &spec.log_group,
                &env.stream_name,
                log,
            )
            .await;
        if healthy && env.is_alive() {
            self.release(env);
        } else {
            env.kill();
        }
        drop(slot);
        Ok(RunResult {
            payload,
            function_error,
            log: text,
            duration_ms,
        })
    }
}

/// Real wall-clock milliseconds: the runtime compares the deadline with its own clock.
fn wall_millis() -> i64 {
    aloft_core::clock::now_millis() - aloft_core::clock::offset_millis()
}

/// On the first invocation of an environment: how long the runtime took to ask for it.
fn init_duration(env: &Env) -> Option<f64> {
    if env.initialized.swap(true, Ordering::Relaxed) {
        return None;
    }
    let ready = (*env.api.ready_at.lock().expect("ready lock"))?;
    Some(ready.duration_since(env.spawned).as_secs_f64() * 1000.0)
}

/// AWS fills in `requestId` when a runtime left it empty, and passes other documents as given.
fn error_payload(body: Bytes, request_id: &str) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut m)) => {
            if m.get("requestId").is_some_and(|v| v == "") {
                m.insert("requestId".into(), request_id.into());
            }
            Bytes::from(serde_json::Value::Object(m).to_string())
        }
        _ if body.is_empty() => Bytes::from(
            serde_json::json!({"errorMessage": "Unknown application error occurred", "errorType": "Unhandled"})
                .to_string(),
        ),
        _ => body,
    }
}

/// The last 4 KB of a log, as `X-Amz-Log-Result` carries it (before base64).
pub fn tail_4k(log: &str) -> &str {
    if log.len() <= 4096 {
        return log;
    }
    let mut start = log.len() - 4096;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}
