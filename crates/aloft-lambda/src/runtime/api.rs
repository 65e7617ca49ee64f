//! The Lambda Runtime API (2018-06-01) one execution environment talks to, on its own port.
//!
//! `GET /invocation/next` long-polls for the next event; `POST /invocation/{id}/response` and
//! `/error` answer it; `POST /init/error` reports a failed initialisation. One environment runs
//! one invocation at a time, as on AWS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// The largest response a function may return synchronously (6 MB) plus headroom for errors.
const MAX_RESPONSE: usize = 6 * 1024 * 1024 + 1024;

/// An event handed to the runtime by `/invocation/next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: i64,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

/// How the runtime ended an invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// `/error`: the error document and the `Lambda-Runtime-Function-Error-Type` header.
    Error(Bytes, Option<String>),
    /// `/init/error` arrived while this invocation waited for the runtime to start.
    InitError(Bytes, Option<String>),
    /// The response was larger than Lambda accepts.
    TooLarge(usize),
}

struct Current {
    request_id: String,
    tx: oneshot::Sender<Outcome>,
}

/// What the server shares with the environment that owns it.
pub struct RuntimeApi {
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    current: Mutex<Option<Current>>,
    /// When the runtime first asked for an event: initialisation was over.
    pub ready_at: Mutex<Option<std::time::Instant>>,
    /// Turns true when initialisation is over (the first `/next`, or `/init/error`).
    pub ready: tokio::sync::watch::Sender<bool>,
    init_error: Mutex<Option<(Bytes, Option<String>)>>,
}

impl RuntimeApi {
    /// Registers the invocation the environment is about to hand over and returns where its
    /// outcome will arrive.
    pub fn expect(&self, request_id: &str) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        if let Some((body, kind)) = self.init_error.lock().expect("init lock").clone() {
            let _ = tx.send(Outcome::InitError(body, kind));
            return rx;
        }
        *self.current.lock().expect("current lock") = Some(Current {
            request_id: request_id.to_string(),
            tx,
        });
        rx
    }

    fn finish(&self, request_id: &str, outcome: Outcome) -> bool {
        let mut cur = self.current.lock().expect("current lock");
        match cur.take() {
            Some(c) if c.request_id == request_id => {
                let _ = c.tx.send(outcome);
                true
            }
            other => {
                *cur = other;
                false
            }
        }
    }
}

/// A started Runtime API server: its address, the sender for events, and a signal for init.
pub struct Server {
    pub addr: SocketAddr,
    pub api: Arc<RuntimeApi>,
    pub events: mpsc::Sender<Invocation>,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start() -> std::io::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (events, rx) = mpsc::channel(1);
    let api = Arc::new(RuntimeApi {
        next: tokio::sync::Mutex::new(rx),
        current: Mutex::new(None),
        ready_at: Mutex::new(None),
        ready: tokio::sync::watch::channel(false).0,
        init_error: Mutex::new(None),
    });
    let served = api.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let api = served.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(route(&api, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Server {
        addr,
        api,
        events,
        task,
    })
}

fn reply(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
}

fn error_type(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn route(api: &RuntimeApi, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}");
    };
    let method = req.method().clone();
    if rest == "invocation/next" && method == http::Method::GET {
        api.ready_at
            .lock()
            .expect("ready lock")
            .get_or_insert_with(std::time::Instant::now);
        api.ready.send_replace(true);
        let inv = api.next.lock().await.recv().await;
        return match inv {
            Some(inv) => next_response(inv),
            None => reply(
                StatusCode::GONE,
                "{\"errorMessage\":\"environment retired\"}",
            ),
        };
    }
    if rest == "init/error" && method == http::Method::POST {
        let kind = error_type(&req);
        let body = read_body(req).await.unwrap_or_default();
        *api.init_error.lock().expect("init lock") = Some((body.clone(), kind.clone()));
        api.ready.send_replace(true);
        let cur = api.current.lock().expect("current lock").take();
        if let Some(c) = cur {
            let _ = c.tx.send(Outcome::InitError(body, kind));
        }
        return accepted();
    }
    if let Some(tail) = rest.strip_prefix("invocation/")
        && method == http::Method::POST
        && let Some((id, what)) = tail.split_once('/')
    {
        let id = id.to_string();
        let outcome = match what {
            "response" => match read_body(req).await {
                Ok(b) => Outcome::Response(b),
                Err(n) => Outcome::TooLarge(n),
            },
            "error" => {
                let kind = error_type(&req);
                Outcome::Error(read_body(req).await.unwrap_or_default(), kind)
            }
            _ => return reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}"),
        };
        if let Outcome::TooLarge(_) = outcome {
            api.finish(&id, outcome);
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}",
            );
        }
        return if api.finish(&id, outcome) {
            accepted()
        } else {
            reply(
                StatusCode::BAD_REQUEST,
                "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}",
            )
        };
    }
    reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}")
}

/// Reads a body up to the response limit; `Err(len)` when it is larger.
async fn read_body(req: Request<Incoming>) -> Result<Bytes, usize> {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    match Limited::new(req.into_body(), MAX_RESPONSE).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(declared.max(MAX_RESPONSE + 1)),
    }
}

fn next_response(inv: Invocation) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &inv.request_id);
    set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &inv.invoked_arn);
    set("lambda-runtime-trace-id", &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        set("lambda-runtime-client-context", cc);
    }
    if let Some(ci) = &inv.cognito_identity {
        set("lambda-runtime-cognito-identity", ci);
    }
    r
}
