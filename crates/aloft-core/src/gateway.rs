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
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderName, HeaderValue, Method, Request, header};
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
        let request_id = ids::request_id();
        // The header value is made once; the id itself moves into the context.
        let id = HeaderValue::from_str(&request_id).ok();
        let (parts, body) = req.into_parts();

        if parts.uri.path().starts_with("/_aloft/") || parts.uri.path() == "/_aloft" {
            let ctx = self.context(&parts, request_id, "aloft", None);
            let resp = internal::handle(self, AwsRequest { ctx, parts, body }).await;
            return finish(resp, id.as_ref(), None);
        }

        let signature = signature_of(&parts);
        // Names made once: `get(&str)` would parse and lower-case the name on every request.
        let header = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let head = Head {
            host: header(&header::HOST).or_else(|| parts.uri.authority().map(|a| a.as_str())),
            path: parts.uri.path(),
            target: header(&X_AMZ_TARGET),
            smithy_protocol: header(&SMITHY_PROTOCOL),
            signature: signature.as_ref(),
        };
        let mut route = self.registry.route(&head);
        let host = head.host;

        // Unsigned query-protocol calls (STS AssumeRoleWithWebIdentity) say who they are for
        // only in their form body.
        let mut body = body;
        if route.is_none() && parts.method == Method::POST && is_form(&parts) {
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
                    return finish(error_response(&err), id.as_ref(), None);
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
            return finish(error_response(&err), id.as_ref(), None);
        };

        // Borrowed, not cloned: a shared reference count would bounce between the cores.
        let service = self.registry.get(route.service);
        let name = service.spec().name;
        let origin = parts.headers.get(header::ORIGIN).cloned();
        let gateway_cors = origin.is_some() && !OWN_CORS.contains(&name);
        if gateway_cors && parts.method == Method::OPTIONS {
            return finish(preflight(&parts), id.as_ref(), origin.as_ref());
        }

        let mut ctx = self.context(&parts, request_id, name, signature);
        ctx.host_prefix = route.host_prefix;
        ctx.host_label = route.host_label;
        let mut parts = parts;
        let body = match self.guard.check(service, &ctx, &mut parts, body).await {
            Ok(body) => body,
            Err(resp) => {
                return finish(
                    resp,
                    id.as_ref(),
                    if gateway_cors { origin.as_ref() } else { None },
                );
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
        finish(
            resp,
            id.as_ref(),
            if gateway_cors { origin.as_ref() } else { None },
        )
    }

    fn context(
        &self,
        parts: &http::request::Parts,
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
                aloft_sigv4::parse_v2(
                    parts
                        .headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok()),
                    parts.uri.query().unwrap_or(""),
                )
                .map_or_else(
                    || DEFAULT_ACCOUNT.to_string(),
                    |v2| self.guard.account_of(&v2.access_key),
                ),
                DEFAULT_REGION.to_string(),
            ),
        };
        let base_url = match parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
        {
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
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let gw = gw.clone();
        async move {
            let mut read_to_end = None;
            let req = req.map(|b| {
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
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection from {peer} ended: {e}");
    }
    drop(alive);
}

fn signature_of(parts: &http::request::Parts) -> Option<aloft_sigv4::SignatureParts> {
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return aloft_sigv4::parse_authorization(auth);
    }
    let query = parts.uri.query()?;
    query
        .contains("X-Amz-Credential")
        .then(|| aloft_sigv4::parse_presigned(query))
        .flatten()
}

fn is_form(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
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

const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const SMITHY_PROTOCOL: HeaderName = HeaderName::from_static("smithy-protocol");
const X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");

fn finish(
    mut resp: Response,
    request_id: Option<&HeaderValue>,
    cors_origin: Option<&HeaderValue>,
) -> Response {
    let h = resp.headers_mut();
    // One hash per header (`entry`), not two (`contains_key` then `insert`).
    if let Some(id) = request_id {
        if let header::Entry::Vacant(e) = h.entry(X_AMZN_REQUESTID) {
            e.insert(id.clone());
        }
        if let header::Entry::Vacant(e) = h.entry(X_AMZ_REQUEST_ID) {
            e.insert(id.clone());
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
