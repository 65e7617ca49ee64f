//! One execution environment: a runtime process, its Runtime API server and its captured output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncBufReadExt;
use tokio::sync::{Notify, watch};

use super::api::{self, Invocation, RuntimeApi};

/// What the engine needs to start an environment for one function version.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub account: String,
    pub region: String,
    pub function_name: String,
    pub version: String,
    /// Changes whenever code or configuration changes: environments of another revision retire.
    pub revision: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub code_dir: PathBuf,
    pub layer_dirs: Vec<PathBuf>,
    pub variables: BTreeMap<String, String>,
    pub log_group: String,
    /// Reserved concurrency of the function (all its versions), if set.
    pub reserved: Option<u32>,
    /// The execution role's ARN.
    pub role: String,
}

/// Lines a runtime printed, with the time they were read.
#[derive(Default)]
pub struct CaptureState {
    pub lines: Vec<(i64, String)>,
    /// The request id of the last end-of-invocation marker the bootstrap printed.
    pub ended: Option<String>,
    pub closed: bool,
}

#[derive(Default)]
pub struct Capture {
    pub state: Mutex<CaptureState>,
    pub notify: Notify,
}

impl Capture {
    pub fn take_lines(&self) -> Vec<(i64, String)> {
        std::mem::take(&mut self.state.lock().expect("capture lock").lines)
    }

    /// Takes the lines printed so far and forgets the last end marker, before an invocation
    /// is handed over: async retries reuse their request id, so an old marker must not end
    /// the wait for the new one's output.
    pub fn begin(&self) -> Vec<(i64, String)> {
        let mut s = self.state.lock().expect("capture lock");
        s.ended = None;
        std::mem::take(&mut s.lines)
    }

    /// Waits until the bootstrap marked `request_id` finished printing, or `max_ms` passed.
    pub async fn wait_marker(&self, request_id: &str, max_ms: u64) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(max_ms);
        loop {
            let notified = self.notify.notified();
            {
                let s = self.state.lock().expect("capture lock");
                if s.closed || s.ended.as_deref() == Some(request_id) {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

/// A running execution environment.
pub struct Env {
    pub spec: EnvSpec,
    pub stream_name: String,
    pub api: Arc<RuntimeApi>,
    pub events: tokio::sync::mpsc::Sender<Invocation>,
    pub capture: Arc<Capture>,
    /// `Some(code)` once the process has exited.
    pub exited: watch::Receiver<Option<i32>>,
    pub pid: Option<u32>,
    pub initialized: AtomicBool,
    pub spawned: std::time::Instant,
    pub started_ms: i64,
    pub last_used_ms: AtomicI64,
    pub our_bootstrap: bool,
    kill: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    server: tokio::task::JoinHandle<()>,
    tmp_dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(k) = self.kill.lock().expect("kill lock").take() {
            let _ = k.send(());
        }
        let _ = std::fs::remove_dir_all(&self.tmp_dir);
    }
}

/// Where the interpreters live. `python3` may be a slow shim (pyenv: ~50 ms), so its real path
/// is found once on a background thread: start-up never waits for it, and the first Python
/// environment waits only if it comes before the probe has finished.
#[derive(Debug, Clone)]
pub struct Interpreters {
    python: Arc<std::sync::OnceLock<String>>,
    /// Whether the background probe for `python` was started (once).
    probing: Arc<std::sync::atomic::AtomicBool>,
    pub node: String,
}

impl Interpreters {
    /// Takes the configured paths. The Python probe (a child process, through a pyenv shim
    /// often several) is not run here: it would compete with start-up and the first requests
    /// on a small machine, and most runs never start a Python function. It runs on the first
    /// [`Interpreters::warm_python`] (CreateFunction of a Python function) or the first
    /// environment that needs it.
    pub fn detect(python: Option<&str>, node: Option<&str>) -> Self {
        let cell = Arc::new(std::sync::OnceLock::new());
        if let Some(p) = python {
            let _ = cell.set(p.to_string());
        }
        Self {
            python: cell,
            probing: Arc::default(),
            node: node.unwrap_or("node").to_string(),
        }
    }

    /// Starts resolving the Python interpreter on a background thread, if not done or started.
    pub fn warm_python(&self) {
        if self.python.get().is_some()
            || self.probing.swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let probe = self.python.clone();
        let spawned = std::thread::Builder::new()
            .name("aloft-python-probe".into())
            .spawn(move || {
                probe.get_or_init(resolve_python3);
            });
        if spawned.is_err() {
            // The first environment resolves it instead.
            self.probing
                .store(false, std::sync::atomic::Ordering::Release);
        }
    }

    /// The Python interpreter, resolved off the async workers if it is not known yet (waits
    /// for a probe already running).
    pub async fn python(&self) -> String {
        if let Some(p) = self.python.get() {
            return p.clone();
        }
        let cell = self.python.clone();
        tokio::task::spawn_blocking(move || cell.get_or_init(resolve_python3).clone())
            .await
            .unwrap_or_else(|_| "python3".to_string())
    }
}

fn resolve_python3() -> String {
    std::process::Command::new("python3")
        .args(["-c", "import sys;print(sys.executable)"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Paths shared by every environment: bootstraps written once, per-environment /tmp parent.
pub struct Host {
    pub runtime_dir: PathBuf,
    pub interpreters: Interpreters,
    pub internal_url: String,
    pub host_path: String,
    /// Under `--enforce-iam`: where execution roles are assumed (IAM's `iam` target), so each
    /// environment gets its role's temporary credentials instead of the account's root keys.
    pub role_credentials: Option<Arc<aloft_events::Targets>>,
}

impl Host {
    pub fn new(work_dir: &Path, interpreters: Interpreters, internal_url: String) -> Self {
        let runtime_dir = work_dir.join("runtime");
        let _ = std::fs::create_dir_all(&runtime_dir);
        let _ = std::fs::write(
            runtime_dir.join("bootstrap.py"),
            include_str!("bootstrap.py"),
        );
        let _ = std::fs::write(
            runtime_dir.join("bootstrap.js"),
            include_str!("bootstrap.js"),
        );
        Self {
            runtime_dir,
            interpreters,
            internal_url,
            host_path: std::env::var("PATH")
                .unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            role_credentials: None,
        }
    }
}

/// The family of a runtime identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Python,
    Node,
    Provided,
}

pub fn family(runtime: &str) -> Option<Family> {
    if runtime.starts_with("python3.") {
        Some(Family::Python)
    } else if runtime.starts_with("nodejs") {
        Some(Family::Node)
    } else if runtime.starts_with("provided") {
        Some(Family::Provided)
    } else {
        None
    }
}

/// `YYYY/MM/DD/[$LATEST]hex32`, as AWS names a log stream per environment.
pub fn stream_name(version: &str, now_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}/{:02}/{:02}/[{}]{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        version,
        aloft_core::ids::hex(16)
    )
}

/// Temporary credentials (key, secret, session token).
type Credentials = (String, String, String);

/// The execution role's credentials when roles are enforced; `None` when they are not.
/// A role that cannot be assumed gets credentials no one issued, so the function's calls are
/// refused rather than made as the account's root.
async fn role_credentials(host: &Host, spec: &EnvSpec) -> Option<Credentials> {
    let targets = host.role_credentials.as_ref()?;
    let mut options = serde_json::Map::new();
    options.insert("Service".into(), "lambda.amazonaws.com".into());
    options.insert("RoleSessionName".into(), spec.function_name.clone().into());
    let delivery = aloft_events::Delivery {
        options,
        sync: true,
        account: spec.account.clone(),
        region: spec.region.clone(),
        ..Default::default()
    };
    let answer = targets
        .deliver(&spec.role, delivery)
        .await
        .map_err(|e| {
            tracing::warn!(function = %spec.function_name, role = %spec.role, error = %e.message, "execution role not assumed");
        })
        .ok()
        .and_then(|d| d.payload)
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok());
    let field =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let creds = answer.and_then(|v| {
        Some((
            field(&v, "AccessKeyId")?,
            field(&v, "SecretAccessKey")?,
            field(&v, "SessionToken")?,
        ))
    });
    Some(creds.unwrap_or_else(|| {
        (
            "ASIAALOFTROLENOTASSUMED".into(),
            "role-not-assumed".into(),
            "role-not-assumed".into(),
        )
    }))
}

fn credentials(account: &str) -> (String, String) {
    // Aloft maps a 12-digit access key to that account; `test` means the default account.
    if account == aloft_core::context::DEFAULT_ACCOUNT {
        ("test".into(), "test".into())
    } else {
        (account.to_string(), "test".into())
    }
}

/// The variables AWS sets in an environment, then the function's own.
fn variables(
    host: &Host,
    spec: &EnvSpec,
    api: &str,
    stream: &str,
    tmp: &Path,
    role: Option<Credentials>,
) -> Vec<(String, String)> {
    let (key, secret, token) = match role {
        Some(c) => c,
        None => {
            let (k, s) = credentials(&spec.account);
            (k, s, "aloft".into())
        }
    };
    let task = spec.code_dir.display().to_string();
    let fam = family(&spec.runtime);
    let mut path = String::new();
    for l in &spec.layer_dirs {
        path.push_str(&format!("{}:", l.join("bin").display()));
    }
    path.push_str(&host.host_path);
    let mut ld = String::new();
    for l in &spec.layer_dirs {
        ld.push_str(&format!("{}:", l.join("lib").display()));
    }
    ld.push_str(&format!("{task}/lib"));
    let mut v: Vec<(String, String)> = vec![
        (
            "AWS_LAMBDA_FUNCTION_NAME".into(),
            spec.function_name.clone(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), spec.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), spec.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream.to_string()),
        ("AWS_LAMBDA_RUNTIME_API".into(), api.to_string()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_REGION".into(), spec.region.clone()),
        ("AWS_DEFAULT_REGION".into(), spec.region.clone()),
        (
            "AWS_EXECUTION_ENV".into(),
            format!("AWS_Lambda_{}", spec.runtime),
        ),
        ("AWS_ACCESS_KEY_ID".into(), key),
        ("AWS_SECRET_ACCESS_KEY".into(), secret),
        ("AWS_SESSION_TOKEN".into(), token),
        ("AWS_ENDPOINT_URL".into(), host.internal_url.clone()),
        // `{route}.{endpoint}` hosts (WriteGetObjectResponse) do not resolve for a local
        // endpoint: SDKs send such operations path-style instead, which Aloft routes.
        ("AWS_DISABLE_HOST_PREFIX_INJECTION".into(), "true".into()),
        ("_HANDLER".into(), spec.handler.clone()),
        ("LAMBDA_TASK_ROOT".into(), task.clone()),
        (
            "LAMBDA_RUNTIME_DIR".into(),
            host.runtime_dir.display().to_string(),
        ),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("PATH".into(), path),
        ("LD_LIBRARY_PATH".into(), ld),
        ("TMPDIR".into(), tmp.display().to_string()),
        ("HOME".into(), tmp.display().to_string()),
    ];
    match fam {
        Some(Family::Python) => {
            let mut pp = task.clone();
            for l in &spec.layer_dirs {
                pp.push_str(&format!(":{}", l.join("python").display()));
                pp.push_str(&format!(
                    ":{}",
                    l.join("python/lib/python3/site-packages").display()
                ));
            }
            v.push(("PYTHONPATH".into(), pp));
            v.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        }
        Some(Family::Node) => {
            let mut np = String::new();
            for l in &spec.layer_dirs {
                np.push_str(&format!("{}:", l.join("nodejs/node_modules").display()));
            }
            np.push_str(&task);
            v.push(("NODE_PATH".into(), np));
        }
        _ => {}
    }
    for (k, val) in &spec.variables {
        v.push((k.clone(), val.clone()));
    }
    v
}

/// Starts an environment: the Runtime API server, then the runtime process.
pub async fn spawn(host: &Host, spec: EnvSpec, scratch: &Path) -> std::io::Result<Arc<Env>> {
    let spawned = std::time::Instant::now();
    let server = api::start().await?;
    let now = aloft_core::clock::now_millis();
    let stream = stream_name(&spec.version, now);
    let tmp = scratch.join(format!("tmp-{}", aloft_core::ids::hex(8)));
    std::fs::create_dir_all(&tmp)?;
    let api_addr = server.addr.to_string();
    let role = role_credentials(host, &spec).await;
    let (program, args, ours): (String, Vec<String>, bool) = match family(&spec.runtime) {
        Some(Family::Python) => (
            host.interpreters.python().await,
            vec![
                "-s".into(),
                host.runtime_dir.join("bootstrap.py").display().to_string(),
            ],
            true,
        ),
        Some(Family::Node) => (
            host.interpreters.node.clone(),
            vec![host.runtime_dir.join("bootstrap.js").display().to_string()],
            true,
        ),
        _ => {
            let mut boot = spec.code_dir.join("bootstrap");
            if !boot.exists() {
                for l in &spec.layer_dirs {
                    if l.join("bootstrap").exists() {
                        boot = l.join("bootstrap");
                    }
                }
            }
            (boot.display().to_string(), vec![], false)
        }
    };
    let (reader, writer) = std::io::pipe()?;
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args)
        .env_clear()
        .envs(variables(host, &spec, &api_addr, &stream, &tmp, role))
        .current_dir(&spec.code_dir)
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            server.task.abort();
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    // The parent's copies of the pipe's write end are gone with `cmd`.
    drop(cmd);
    let pid = child.id();
    let capture = Arc::new(Capture::default());
    let cap = capture.clone();
    let receiver =
        tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(reader))?;
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(receiver).split(b'\n');
        while let Ok(Some(line)) = lines.next_segment().await {
            let text = String::from_utf8_lossy(&line).into_owned();
            let mut s = cap.state.lock().expect("capture lock");
            if let Some(id) = text.strip_prefix("\u{1e}ALOFT_END ") {
                s.ended = Some(id.to_string());
                drop(s);
                cap.notify.notify_waiters();
            } else {
                s.lines.push((aloft_core::clock::now_millis(), text));
            }
        }
        cap.state.lock().expect("capture lock").closed = true;
        cap.notify.notify_waiters();
    });
    let (exit_tx, exited) = watch::channel(None);
    let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let status = tokio::select! {
            s = child.wait() => s.ok().and_then(|s| s.code()).unwrap_or(-1),
            _ = kill_rx => {
                if let Some(pid) = pid {
                    // The runtime may have started children (a shell bootstrap): end the group.
                    let _ = tokio::process::Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .await;
                }
                let _ = child.kill().await;
                -9
            }
        };
        let _ = exit_tx.send(Some(status));
    });
    Ok(Arc::new(Env {
        spec,
        stream_name: stream,
        api: server.api,
        events: server.events,
        capture,
        exited,
        pid,
        initialized: AtomicBool::new(false),
        spawned,
        started_ms: now,
        last_used_ms: AtomicI64::new(now),
        our_bootstrap: ours,
        kill: Mutex::new(Some(kill_tx)),
        server: server.task,
        tmp_dir: tmp,
    }))
}

impl Env {
    pub fn kill(&self) {
        if let Some(k) = self.kill.lock().expect("kill lock").take() {
            let _ = k.send(());
        }
    }

    pub fn is_alive(&self) -> bool {
        self.exited.borrow().is_none() && self.kill.lock().expect("kill lock").is_some()
    }

    pub fn mark_used(&self) {
        self.last_used_ms
            .store(aloft_core::clock::now_millis(), Ordering::Relaxed);
    }

    /// Peak resident memory of the runtime process in MB (`VmHWM`), as REPORT prints it.
    pub fn max_memory_mb(&self) -> u64 {
        let Some(pid) = self.pid else { return 0 };
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .map_or(0, |kb| kb.div_ceil(1024))
    }
}
