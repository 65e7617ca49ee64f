//! The single port every service is served on.
//!
//! Per request: assign a request id → `/_aloft/` internal endpoints → detect the service →
//! build the [`RequestContext`] (account from the access key, region from the scope) → call the
//! service (a panic becomes a 500 `InternalFailure`, never a dropped connection) → add request
//! id and CORS headers. Shutdown stops accepting, lets in-flight requests finish, then asks each
//! service to stop and the store to flush.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderName, HeaderValue, Method, Request, header};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::body::{self, Body, Response};
use crate::context::{AwsRequest, DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext};
use crate::detect::{Head, Registry, Route};
use crate::guard::Guard;
use crate::service::{Config, Service};
use crate::{AwsError, ids, internal};

/// Unsigned form bodies are read to find their `Action`; query requests are small.
const FORM_PEEK_LIMIT: usize = 1024 * 1024;

/// Services that answer browsers' CORS themselves (bucket CORS rules, API CORS settings).
const OWN_CORS: &[&str] = &["s3", "apigateway"];

pub struct Gateway {
    registry: Registry,
    config: Arc<Config>,
    store: Arc<dyn aloft_store::Store>,
    guard: Guard,
    /// Set before connections are told to stop: until then they do not poll the stop signal.
    stopping: AtomicBool,
}

impl Gateway {
    pub fn new(
        services: Vec<Arc<dyn Service>>,
        config: Arc<Config>,
        store: Arc<dyn aloft_store::Store>,
    ) -> Arc<Self> {
        let guard = Guard::new(&services, &config);
        Arc::new(Self {
            guard,
            registry: Registry::new(services),
            config,
            store,
            stopping: AtomicBool::new(false),
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Serves until `shutdown` resolves, then drains connections and stops services.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        // Each connection holds a clone of `alive`; when all are dropped, `drained` closes.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (alive, mut drained) = tokio::sync::mpsc::channel::<()>(1);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            // Out of descriptors and the like: back off instead of spinning.
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(self.clone(), stream, peer, stop_rx.clone(), alive.clone()));
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: finishing in-flight requests");
        // Before the signal: a connection woken by it must see the flag (see `connection`).
        self.stopping.store(true, Ordering::SeqCst);
        let _ = stop_tx.send(true);
        drop(alive);
        if tokio::time::timeout(Duration::from_secs(30), drained.recv())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish within 30 s");
        }
        for s in self.registry.services() {
            s.shutdown().await;
        }
        if let Err(e) = self.store.flush().await {
            tracing::error!("flushing storage failed: {e}");
        }
        Ok(())
    }

    pub async fn handle(self: &Arc<Self>, req: Request<Body>) -> Response {
        let id_bytes = ids::request_id_bytes();
        let request_id = ids::as_string(&id_bytes);
        // Made once from the bytes; `finish` clones it for one header and moves it into the other.
        let id = HeaderValue::from_bytes(&id_bytes).ok();
        let (parts, body) = req.into_parts();

        if parts.uri.path().starts_with("/_aloft/") || parts.uri.path() == "/_aloft" {
            let known = Known::of(&parts.headers);
            let ctx = self.context(&parts, &known, request_id, "aloft", None);
            let resp = internal::handle(self, AwsRequest { ctx, parts, body }).await;
            return finish(resp, id, None);
        }

        let known = Known::of(&parts.headers);
        let signature = signature_of(&parts, known.authorization);
        let head = Head {
            host: known
                .host
                .or_else(|| parts.uri.authority().map(|a| a.as_str())),
            path: parts.uri.path(),
            target: known.target,
            smithy_protocol: known.smithy_protocol,
            signature: signature.as_ref(),
        };
        let mut route = self.registry.route(&head);
        let host = head.host;

        // Unsigned query-protocol calls (STS AssumeRoleWithWebIdentity) say who they are for
        // only in their form body.
        let mut body = body;
        if route.is_none()
            && parts.method == Method::POST
            && known
                .content_type
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
        {
            match body::collect_limited(body, FORM_PEEK_LIMIT).await {
                Ok(bytes) => {
                    route = form_action(&bytes)
                        .and_then(|a| self.registry.by_unsigned_action(&a))
                        .map(|service| Route {
                            service,
                            host_prefix: None,
                            host_label: None,
                        });
                    body = body::full(bytes);
                }
                Err(_) => {
                    let err = AwsError::new("RequestEntityTooLarge", 413, "Request body too large");
                    return finish(error_response(&err), id, None);
                }
            }
        }
        let Some(route) = route.or_else(|| self.registry.fallback(host)) else {
            let err = AwsError::new(
                "UnknownService",
                400,
                format!(
                    "No Aloft service matches {} {}",
                    parts.method,
                    parts.uri.path()
                ),
            );
            return finish(error_response(&err), id, None);
        };

        // Borrowed, not cloned: a shared reference count would bounce between the cores.
        let service = self.registry.get(route.service);
        let name = service.spec().name;
        let origin = known.origin.cloned();
        let gateway_cors = origin.is_some() && !OWN_CORS.contains(&name);
        if gateway_cors && parts.method == Method::OPTIONS {
            return finish(preflight(&parts), id, origin.as_ref());
        }

        let mut ctx = self.context(&parts, &known, request_id, name, signature);
        ctx.host_prefix = route.host_prefix;
        ctx.host_label = route.host_label;
        let cors = if gateway_cors { origin.as_ref() } else { None };
        let mut parts = parts;
        // Most runs check nothing: no need to build (and move) the checking future then.
        let body = if self.guard.is_off() {
            body
        } else {
            match self.guard.check(service, &ctx, &mut parts, body).await {
                Ok(body) => body,
                Err(resp) => return finish(resp, id, cors),
            }
        };
        // For the log lines below; a `Uri` clone shares its bytes instead of copying the path.
        let method = parts.method.clone();
        let uri = parts.uri.clone();
        let call = AssertUnwindSafe(service.handle(AwsRequest { ctx, parts, body })).catch_unwind();
        let resp = match call.await {
            Ok(resp) => resp,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let request_id = id
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::error!(%request_id, service = name, "{method} {} panicked: {what}", uri.path());
                error_response(&AwsError::internal("An internal error occurred in Aloft"))
            }
        };
        tracing::debug!(
            request_id = id
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
            service = name,
            status = resp.status().as_u16(),
            "{method} {}",
            uri.path()
        );
        finish(resp, id, cors)
    }

    fn context(
        &self,
        parts: &http::request::Parts,
        known: &Known<'_>,
        request_id: String,
        service: &'static str,
        signature: Option<aloft_sigv4::SignatureParts>,
    ) -> RequestContext {
        let (account_id, region) = match &signature {
            // STS's temporary keys and IAM users' keys belong to their account. Default keys
            // (`test`, a 12-digit account) are never IAM's, so they skip IAM's lock: that lookup
            // would otherwise sit on every request's path.
            Some(sig) => (
                {
                    let key = sig.credential.access_key.as_str();
                    if crate::auth::is_default_key(key) {
                        crate::auth::account_for_key(key)
                    } else {
                        self.guard
                            .caller(key)
                            .map_or_else(|| crate::auth::account_for_key(key), |c| c.account)
                    }
                },
                if sig.credential.region.is_empty() {
                    DEFAULT_REGION.into()
                } else {
                    sig.credential.region.clone()
                },
            ),
            // S3's SigV2 names the key (so the account) but no region.
            None => (
                aloft_sigv4::parse_v2(known.authorization, parts.uri.query().unwrap_or(""))
                    .map_or_else(
                        || DEFAULT_ACCOUNT.to_string(),
                        |v2| self.guard.account_of(&v2.access_key),
                    ),
                DEFAULT_REGION.to_string(),
            ),
        };
        let base_url = match known.host {
            Some(host) => {
                let mut url = String::with_capacity(7 + host.len());
                url.push_str("http://");
                url.push_str(host);
                url
            }
            None => format!("http://{}:{}", self.config.host, self.config.port),
        };
        RequestContext {
            request_id,
            account_id,
            region,
            service,
            signature,
            host_prefix: None,
            host_label: None,
            base_url,
        }
    }
}

/// Serves one connection until it closes or shutdown asks it to finish its request in flight.
async fn connection(
    gw: Arc<Gateway>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut stop: tokio::sync::watch::Receiver<bool>,
    alive: tokio::sync::mpsc::Sender<()>,
) {
    let shared = gw.clone();
    let stopping = &shared.stopping;
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let gw = gw.clone();
        async move {
            let mut read_to_end = None;
            let req = req.map(|b| {
                // A request without a body (most GETs) has nothing left unread to track: its
                // flag (an `Arc`) would be an allocation per request for nothing.
                if b.is_end_stream() {
                    return BodyExt::boxed(b.map_err(body::BoxError::from));
                }
                let (tracked, done) = body::Tracked::new(b);
                read_to_end = Some(done);
                BodyExt::boxed(tracked)
            });
            let mut resp = gw.handle(req).await;
            if read_to_end.is_some_and(|d| !d.load(std::sync::atomic::Ordering::Relaxed)) {
                // Unread body bytes must not be parsed as the next request: close after this answer.
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(resp)
        }
    });
    // The JavaScript SDK v3's Kinesis client (and its other event-stream clients) speaks HTTP/2
    // by default, to an `http://` endpoint with prior knowledge (h2c): its first bytes are the
    // HTTP/2 preface, "PRI * HTTP/2.0". No HTTP/1 method starts with "PRI ", so four peeked bytes
    // choose the protocol once per connection and HTTP/1 keeps its own fast path.
    let mut first = [0u8; 4];
    let h2 = tokio::select! {
        peeked = stream.peek(&mut first) => matches!(peeked, Ok(4)) && &first == b"PRI ",
        _ = stop.changed() => return,
    };
    // Drives a connection until it ends, or until shutdown asks it to finish its request in flight.
    macro_rules! drive {
        ($conn:expr) => {{
            let mut conn = std::pin::pin!($conn);
            // `select!` polled the stop signal (and drew a random number) at every wake-up of the
            // connection, two per request: ~600 instructions per request. The signal is polled once
            // to register this task's waker, then only once the gateway's `stopping` flag is up (it
            // is set before the signal is sent, and the signal's wake-up orders the two).
            let mut changed = std::pin::pin!(stop.changed());
            let mut registered = false;
            let stopped = std::future::poll_fn(|cx| {
                if !registered || stopping.load(Ordering::SeqCst) {
                    registered = true;
                    if changed.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                }
                conn.as_mut().poll(cx).map(Some)
            })
            .await;
            match stopped {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            }
        }};
    }
    let result = if h2 {
        drive!(
            hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
        )
    } else {
        drive!(
            hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
        )
    };
    if let Err(e) = result {
        tracing::debug!("connection from {peer} ended: {e}");
    }
    drop(alive);
}

/// The request headers the gateway reads, each as `HeaderMap::get` would find it (the first
/// value), found in one pass over the header list: six hashed lookups cost six times a short
/// scan of the handful of headers a request carries.
struct Known<'a> {
    host: Option<&'a str>,
    target: Option<&'a str>,
    smithy_protocol: Option<&'a str>,
    authorization: Option<&'a str>,
    content_type: Option<&'a str>,
    origin: Option<&'a HeaderValue>,
}

impl<'a> Known<'a> {
    fn of(headers: &'a http::HeaderMap) -> Self {
        let mut found: [Option<&'a HeaderValue>; 6] = [None; 6];
        for (name, value) in headers {
            // Standard names compare as enum tags; only the two custom ones compare bytes.
            let slot = if *name == header::HOST {
                0
            } else if *name == header::CONTENT_TYPE {
                4
            } else if *name == header::AUTHORIZATION {
                3
            } else if *name == header::ORIGIN {
                5
            } else {
                match name.as_str().as_bytes() {
                    b"x-amz-target" => 1,
                    b"smithy-protocol" => 2,
                    _ => continue,
                }
            };
            // A name's values come in order, so the first one seen is the one `get` returns.
            found[slot].get_or_insert(value);
        }
        let text = |v: Option<&'a HeaderValue>| v.and_then(|v| v.to_str().ok());
        Known {
            host: text(found[0]),
            target: text(found[1]),
            smithy_protocol: text(found[2]),
            authorization: text(found[3]),
            content_type: text(found[4]),
            origin: found[5],
        }
    }
}

fn signature_of(
    parts: &http::request::Parts,
    authorization: Option<&str>,
) -> Option<aloft_sigv4::SignatureParts> {
    if let Some(auth) = authorization {
        return aloft_sigv4::parse_authorization(auth);
    }
    let query = parts.uri.query()?;
    query
        .contains("X-Amz-Credential")
        .then(|| aloft_sigv4::parse_presigned(query))
        .flatten()
}

fn form_action(body: &[u8]) -> Option<String> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let rest = pair.strip_prefix(b"Action=")?;
        Some(String::from_utf8_lossy(rest).into_owned())
    })
}

/// A browser preflight for a service that has no CORS rules of its own: allow what was asked.
fn preflight(parts: &http::request::Parts) -> Response {
    let mut resp = http::Response::new(body::empty());
    let h = resp.headers_mut();
    let asked = |name: &str| parts.headers.get(name).cloned();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        asked("access-control-request-method").unwrap_or(HeaderValue::from_static(
            "GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH",
        )),
    );
    if let Some(v) = asked("access-control-request-headers") {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    resp
}

/// A minimal JSON error for failures before any service (and so any codec) is chosen.
pub(crate) fn error_response(err: &AwsError) -> Response {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    let mut resp = http::Response::new(body::full(Bytes::from(body.to_string())));
    *resp.status_mut() = err.status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(err.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");

fn finish(
    mut resp: Response,
    request_id: Option<HeaderValue>,
    cors_origin: Option<&HeaderValue>,
) -> Response {
    let h = resp.headers_mut();
    // One hash per header (`entry`), not two (`contains_key` then `insert`); one clone, the
    // value itself goes into the second header.
    if let Some(id) = request_id {
        if let header::Entry::Vacant(e) = h.entry(X_AMZN_REQUESTID) {
            e.insert(id.clone());
        }
        if let header::Entry::Vacant(e) = h.entry(X_AMZ_REQUEST_ID) {
            e.insert(id);
        }
    }
    if let Some(origin) = cors_origin
        && !h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("*"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_form_action() {
        assert_eq!(
            super::form_action(b"Version=2011-06-15&Action=AssumeRoleWithWebIdentity").as_deref(),
            Some("AssumeRoleWithWebIdentity")
        );
        assert_eq!(super::form_action(b"a=b"), None);
    }
}
