//! WebSocket APIs: the handshake (`$connect` with its REQUEST authorizer and integration),
//! route selection per message (`$request.body.action` → custom route, else `$default`),
//! `$disconnect`, and the `@connections` management API (PostToConnection, GetConnection,
//! DeleteConnection; GoneException for closed connections).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsRequest, Response};
use aloft_protocol::{AwsError, Protocol};
use base64::Engine;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use indexmap::IndexMap;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

mod routes;

use super::frames::{self, Message};
use super::{Route, Snapshot, Stage};
use crate::ApiGateway;
use crate::invoke::authorizers::{Decision, evaluate};
use crate::invoke::{self, Target, lambda};

/// AWS caps WebSocket messages at 128 KB.
const MAX_MESSAGE: usize = 128 * 1024;
/// A connection with no client frame for 10 minutes is closed, and none lives past 2 hours.
const IDLE_MS: i64 = 10 * 60 * 1000;
const MAX_LIFE_MS: i64 = 2 * 60 * 60 * 1000;

/// One open connection, as the management API sees it.
pub struct Conn {
    pub api_id: String,
    pub stage: String,
    pub connected_at: i64,
    pub last_active: i64,
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// Raw frames to write to the client.
    tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Set when DeleteConnection closes it from the server side.
    closing: watch::Sender<bool>,
}

#[derive(Default)]
pub struct Connections {
    map: Mutex<HashMap<String, Conn>>,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conn>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn reset(&self) {
        for (_, c) in self.lock().drain() {
            let _ = c.tx.send(frames::close_frame(1001, "Going away"));
            let _ = c.closing.send(true);
        }
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }
}

/// The access log's integration variables, when the route ran an integration.
fn with_integration(mut ctx: Value, status: Option<u16>) -> Value {
    if let Some(s) = status {
        ctx["integrationStatus"] = json!(s.to_string());
        ctx["integration"] = json!({"status": s.to_string(), "integrationStatus": s.to_string()});
    }
    ctx
}

/// AWS connection ids look like `L0SM9cOFvHcCIhw=`; without `/` or `+`, so that they sit in
/// `@connections/{id}` paths unescaped.
fn connection_id() -> String {
    let mut id = aloft_core::ids::random_string(
        15,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    );
    id.push('=');
    id
}

/// What every event of a connection shares.
#[derive(Clone)]
struct Session {
    id: String,
    api_id: String,
    stage: String,
    account: String,
    region: String,
    domain: String,
    source_ip: String,
    user_agent: Option<String>,
    connected_at: i64,
    authorizer: Value,
    /// The API key the connection presented at `$connect`, when its route required one.
    api_key: Option<String>,
    snap: Arc<Snapshot>,
    stage_vars: IndexMap<String, String>,
    access_log: Option<Value>,
}

impl Session {
    fn context(&self, route_key: &str, event_type: &str, request_id: &str) -> Value {
        let now = aloft_core::clock::now_millis();
        let mut c = json!({
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": invoke::request_time(),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "requestId": request_id,
            "domainName": self.domain,
            "connectionId": self.id,
            "apiId": self.api_id,
        });
        if event_type == "MESSAGE" {
            c["messageId"] = json!(aloft_core::ids::random_string(
                16,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            ));
        }
        if !self.authorizer.is_null() {
            c["authorizer"] = self.authorizer.clone();
        }
        if let Some(k) = &self.api_key {
            c["identity"]["apiKey"] = json!(k);
        }
        c
    }

    /// One access log line, with the `$context` variables WebSocket APIs document.
    fn log(&self, gw: &ApiGateway, mut ctx: Value, status: u16, error: Option<&str>) {
        if crate::access_log::settings(self.access_log.as_ref()).is_none() {
            return;
        }
        ctx["status"] = json!(status);
        ctx["accountId"] = json!(self.account);
        ctx["integrationLatency"] = json!(0);
        if let Some(e) = error {
            ctx["error"] = json!({"message": e, "messageString": format!("\"{e}\"")});
        }
        gw.access_log(
            self.access_log.as_ref(),
            &ctx,
            format!("{}_{}", self.api_id, self.stage),
        );
    }

    fn route(&self, key: &str) -> Option<&Route> {
        self.snap.routes.values().find(|r| r.route_key == key)
    }
}

fn error_response(e: &AwsError, rid: &str) -> Response {
    let model = aloft_model::get("apigatewaymanagementapi").expect("management model");
    aloft_core::body::from_bytes(aloft_protocol::encode_error(
        model,
        Protocol::RestJson,
        e,
        rid,
    ))
}

fn gone(id: &str) -> AwsError {
    AwsError::new("GoneException", 410, format!("Connection {id} is gone"))
}

impl ApiGateway {
    fn resolve_ws(&self, target: &Target) -> Option<(Arc<Snapshot>, Stage, String, String)> {
        let st = self.lock();
        let key = st.v2_index.get(&target.api_id)?;
        let api = st.v2.get(key)?;
        let mut parts = key.split('/');
        let (account, region) = (parts.next()?.to_string(), parts.next()?.to_string());
        let stage = api.stages.get(&target.stage)?;
        let dep = api.deployments.get(stage.deployment_id.as_deref()?)?;
        Some((dep.snapshot.clone(), stage.clone(), account, region))
    }

    pub(crate) async fn invoke_websocket(&self, mut req: AwsRequest, target: Target) -> Response {
        let rid = req.ctx.request_id.clone();
        if let Some(rest) = target.path.strip_prefix("/@connections/") {
            let id = invoke::decode(rest.trim_end_matches('/'));
            return self.manage(&mut req, &target, &id).await;
        }
        let Some((snap, stage, account, region)) = self.resolve_ws(&target) else {
            return super::http::error(403, "Forbidden", &rid);
        };
        let upgrade = req
            .header("upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let Some(key) = req
            .header("sec-websocket-key")
            .filter(|_| upgrade)
            .map(str::to_string)
        else {
            return super::http::error(426, "Upgrade Required", &rid);
        };
        let Some(on_upgrade) = req.parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            return super::http::error(500, "Internal server error", &rid);
        };
        let mut headers: IndexMap<String, Vec<String>> = IndexMap::new();
        for (k, v) in &req.parts.headers {
            if let Ok(v) = v.to_str() {
                headers
                    .entry(invoke::canonical(k.as_str()))
                    .or_default()
                    .push(v.to_string());
            }
        }
        let params = invoke::mapping::Params {
            path: IndexMap::new(),
            query: invoke::parse_query(req.query()),
            headers,
        };
        let mut session = Session {
            id: connection_id(),
            api_id: target.api_id.clone(),
            stage: stage.stage_name.clone(),
            account,
            region,
            domain: req.header("host").unwrap_or("localhost").to_string(),
            source_ip: params
                .header("x-forwarded-for")
                .and_then(|v| v.split(',').next())
                .map_or("127.0.0.1", str::trim)
                .to_string(),
            user_agent: params.header("user-agent").map(str::to_string),
            connected_at: aloft_core::clock::now_millis(),
            authorizer: Value::Null,
            api_key: None,
            snap,
            stage_vars: stage.stage_variables.clone().unwrap_or_default(),
            access_log: stage.access_log_settings.clone(),
        };
        let mut integration_status = None;
        if let Some(route) = session.route("$connect").cloned() {
            let refuse = |session: &Session, status: u16, msg: &str| {
                session.log(
                    self,
                    session.context("$connect", "CONNECT", &rid),
                    status,
                    Some(msg),
                );
                super::http::error(status, msg, &rid)
            };
            let usage_key = match self
                .connect_authorize(&session, &route, &params, &req)
                .await
            {
                Ok((a, k)) => {
                    session.authorizer = a;
                    k
                }
                Err(status) => {
                    let msg = match status {
                        401 => "Unauthorized",
                        403 => "Forbidden",
                        _ => "Internal server error",
                    };
                    return refuse(&session, status, msg);
                }
            };
            if route.api_key_required {
                match self.ws_api_key(&session, &params, usage_key.as_deref()) {
                    Ok(k) => session.api_key = Some(k),
                    Err(()) => return refuse(&session, 403, "Forbidden"),
                }
            }
            let mut event = json!({
                "headers": lambda_single(&params.headers),
                "multiValueHeaders": params.headers,
                "queryStringParameters": lambda_single(&params.query),
                "multiValueQueryStringParameters": if params.query.is_empty() { Value::Null } else { json!(params.query) },
                "requestContext": session.context("$connect", "CONNECT", &rid),
                "isBase64Encoded": false,
            });
            if !session.stage_vars.is_empty() {
                event["stageVariables"] = json!(session.stage_vars);
            }
            let input = routes::Input {
                event,
                body: "",
                params: &params,
            };
            match self.ws_integration(&session, &route, input, &rid).await {
                Ok(Some(status)) if !(200..300).contains(&status) => {
                    return refuse(&session, status, "Forbidden");
                }
                Ok(status) => integration_status = status,
                Err(()) => return refuse(&session, 500, "Internal server error"),
            }
        }
        session.log(
            self,
            with_integration(
                session.context("$connect", "CONNECT", &rid),
                integration_status,
            ),
            200,
            None,
        );
        let mut resp = ::http::Response::new(aloft_core::body::empty());
        *resp.status_mut() = ::http::StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(
            ::http::header::UPGRADE,
            ::http::HeaderValue::from_static("websocket"),
        );
        h.insert(
            ::http::header::CONNECTION,
            ::http::HeaderValue::from_static("Upgrade"),
        );
        if let Ok(v) = ::http::HeaderValue::from_str(&frames::accept_key(&key)) {
            h.insert("sec-websocket-accept", v);
        }
        if let Some(p) = req
            .header("sec-websocket-protocol")
            .and_then(|p| p.split(',').next())
            .and_then(|p| ::http::HeaderValue::from_str(p.trim()).ok())
        {
            h.insert("sec-websocket-protocol", p);
        }
        let Some(me) = self.me.upgrade() else {
            return super::http::error(503, "Service Unavailable", &rid);
        };
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(up) => me.serve_connection(session, TokioIo::new(up)).await,
                Err(e) => tracing::debug!("apigateway: websocket upgrade failed: {e}"),
            }
        });
        resp
    }

    /// The `$connect` route's authorization: `Err(status)` refuses the handshake.
    async fn connect_authorize(
        &self,
        session: &Session,
        route: &Route,
        params: &invoke::mapping::Params,
        req: &AwsRequest,
    ) -> Result<(Value, Option<String>), u16> {
        match route.authorization_type.as_str() {
            "AWS_IAM" => {
                if req.ctx.signature.is_none() {
                    return Err(403);
                }
                Ok((Value::Null, None))
            }
            "CUSTOM" => {
                let auth = route
                    .authorizer_id
                    .as_ref()
                    .and_then(|id| session.snap.authorizers.get(id))
                    .ok_or(500u16)?;
                let mut values = Vec::new();
                for s in &auth.identity_source {
                    let v = if let Some(h) = s.strip_prefix("route.request.header.") {
                        params.header(h).map(str::to_string)
                    } else if let Some(q) = s.strip_prefix("route.request.querystring.") {
                        params.query_first(q).map(str::to_string)
                    } else if let Some(v) = s.strip_prefix("stageVariables.") {
                        session.stage_vars.get(v).cloned()
                    } else {
                        None
                    };
                    values.push(v.filter(|v| !v.is_empty()).ok_or(401u16)?);
                }
                let method_arn = format!(
                    "arn:aws:execute-api:{}:{}:{}/{}/$connect",
                    session.region, session.account, session.api_id, session.stage
                );
                let ttl = auth.authorizer_result_ttl_in_seconds.unwrap_or(0);
                let key = format!(
                    "{}/{}/{}",
                    session.api_id,
                    auth.authorizer_id,
                    values.join(",")
                );
                let now = aloft_core::clock::now_millis();
                let cached = (ttl > 0)
                    .then(|| self.authorizer_cache.get(&key, now))
                    .flatten();
                let result = match cached {
                    Some(r) => r,
                    None => {
                        let arn = auth
                            .authorizer_uri
                            .as_deref()
                            .and_then(lambda::function_arn)
                            .ok_or(500u16)?
                            .to_string();
                        let event = json!({
                            "type": "REQUEST",
                            "methodArn": method_arn,
                            "headers": lambda_single(&params.headers),
                            "multiValueHeaders": params.headers,
                            "queryStringParameters": lambda_single(&params.query),
                            "multiValueQueryStringParameters": if params.query.is_empty() { Value::Null } else { json!(params.query) },
                            "stageVariables": if session.stage_vars.is_empty() { Value::Null } else { json!(session.stage_vars) },
                            "requestContext": session.context("$connect", "CONNECT", &req.ctx.request_id),
                        });
                        let (payload, failed) = self
                            .call_ws_function(
                                session,
                                &arn,
                                event,
                                format!(
                                    "arn:aws:execute-api:{}:{}:{}/authorizers/{}",
                                    session.region,
                                    session.account,
                                    session.api_id,
                                    auth.authorizer_id
                                ),
                            )
                            .await
                            .ok_or(500u16)?;
                        let v: Value = serde_json::from_slice(&payload).map_err(|_| 500u16)?;
                        if failed {
                            return Err(
                                if v.get("errorMessage").and_then(Value::as_str)
                                    == Some("Unauthorized")
                                {
                                    401
                                } else {
                                    500
                                },
                            );
                        }
                        if ttl > 0 {
                            self.authorizer_cache.put(key, ttl, now, v.clone());
                        }
                        v
                    }
                };
                match result
                    .get("policyDocument")
                    .and_then(|p| evaluate(p, &method_arn))
                {
                    Some(Decision::Allow) => {}
                    Some(_) => return Err(403),
                    None => return Err(500),
                }
                let mut a = serde_json::Map::new();
                a.insert(
                    "principalId".into(),
                    result.get("principalId").cloned().unwrap_or(Value::Null),
                );
                if let Some(Value::Object(c)) = result.get("context") {
                    for (k, v) in c {
                        a.insert(k.clone(), v.clone());
                    }
                }
                a.insert("integrationLatency".into(), json!(0));
                let usage_key = result
                    .get("usageIdentifierKey")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                Ok((Value::Object(a), usage_key))
            }
            _ => Ok((Value::Null, None)),
        }
    }

    async fn call_ws_function(
        &self,
        s: &Session,
        arn: &str,
        event: Value,
        source_arn: String,
    ) -> Option<(Bytes, bool)> {
        let d = aloft_events::Delivery {
            payload: Bytes::from(event.to_string()),
            sync: true,
            source_arn: Some(source_arn),
            account: s.account.clone(),
            region: arn.split(':').nth(3).unwrap_or(&s.region).to_string(),
            ..Default::default()
        };
        match self.ctx.targets.deliver(arn, d).await {
            Ok(out) => Some((
                out.payload.unwrap_or_default(),
                out.info.get("FunctionError").is_some(),
            )),
            Err(e) => {
                tracing::warn!("apigateway: invoking {arn} failed: {}", e.message);
                None
            }
        }
    }

    fn send_to(&self, id: &str, data: &[u8]) -> bool {
        let frame = match std::str::from_utf8(data) {
            Ok(_) => frames::encode(frames::OP_TEXT, data),
            Err(_) => frames::encode(frames::OP_BINARY, data),
        };
        self.connections
            .lock()
            .get(id)
            .is_some_and(|c| c.tx.send(frame).is_ok())
    }

    async fn serve_connection(
        self: Arc<Self>,
        session: Session,
        io: TokioIo<hyper::upgrade::Upgraded>,
    ) {
        let (mut rd, mut wr) = tokio::io::split(io);
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let (closing_tx, mut closing) = watch::channel(false);
        self.connections.lock().insert(
            session.id.clone(),
            Conn {
                api_id: session.api_id.clone(),
                stage: session.stage.clone(),
                connected_at: session.connected_at,
                last_active: session.connected_at,
                source_ip: session.source_ip.clone(),
                user_agent: session.user_agent.clone(),
                tx: tx.clone(),
                closing: closing_tx,
            },
        );
        let writer = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                let close = frame.first() == Some(&(0x80 | frames::OP_CLOSE));
                if wr.write_all(&frame).await.is_err() || close {
                    break;
                }
            }
            let _ = wr.shutdown().await;
        });
        let mut reader = frames::Reader::default();
        let mut last_active = session.connected_at;
        let (code, reason) = loop {
            let deadline = (last_active + IDLE_MS).min(session.connected_at + MAX_LIFE_MS);
            let msg = tokio::select! {
                m = reader.read(&mut rd, MAX_MESSAGE) => m,
                _ = closing.changed() => break (1000, "Connection was closed by the server".to_string()),
                () = aloft_core::clock::sleep_until_millis(deadline) => {
                    let _ = tx.send(frames::close_frame(1001, "Going away"));
                    break (1001, "Going away".to_string());
                }
            };
            last_active = aloft_core::clock::now_millis();
            match msg {
                Ok(Message::Text(t)) => self.clone().message(&session, t.into_bytes(), false),
                Ok(Message::Binary(b)) => self.clone().message(&session, b, true),
                Ok(Message::Ping(p)) => {
                    let _ = tx.send(frames::encode(frames::OP_PONG, &p));
                }
                Ok(Message::Pong) => {}
                Ok(Message::Close(code, _)) => {
                    let code = code.unwrap_or(1005);
                    let _ = tx.send(frames::close_frame(
                        if code == 1005 { 1000 } else { code },
                        "",
                    ));
                    break (code, format!("Client-side close frame status code {code}"));
                }
                Err(frames::Broken::Gone) => {
                    break (1006, "Going away".to_string());
                }
                Err(frames::Broken::Protocol(c)) => {
                    let _ = tx.send(frames::close_frame(c, ""));
                    break (c, format!("Protocol error {c}"));
                }
            }
        };
        self.connections.lock().remove(&session.id);
        drop(tx);
        let _ = writer.await;
        if let Some(route) = session.route("$disconnect").cloned() {
            let rid = aloft_core::ids::request_id();
            let mut ctx = session.context("$disconnect", "DISCONNECT", &rid);
            ctx["disconnectStatusCode"] = json!(code);
            ctx["disconnectReason"] = json!(reason);
            let event = json!({
                "headers": {"Host": session.domain, "X-Forwarded-For": session.source_ip},
                "multiValueHeaders": {"Host": [session.domain], "X-Forwarded-For": [session.source_ip]},
                "requestContext": ctx.clone(),
                "isBase64Encoded": false,
            });
            let params = invoke::mapping::Params::default();
            let input = routes::Input {
                event,
                body: "",
                params: &params,
            };
            let ok = self
                .ws_integration(&session, &route, input, &rid)
                .await
                .is_ok();
            session.log(self.as_ref(), ctx, if ok { 200 } else { 500 }, None);
        } else {
            let rid = aloft_core::ids::request_id();
            let ctx = session.context("$disconnect", "DISCONNECT", &rid);
            session.log(self.as_ref(), ctx, 200, None);
        }
    }

    /// Routes one client message; runs beside the reader so pings and closes are not held
    /// up by a slow function.
    fn message(self: Arc<Self>, session: &Session, data: Vec<u8>, binary: bool) {
        if let Some(c) = self.connections.lock().get_mut(&session.id) {
            c.last_active = aloft_core::clock::now_millis();
        }
        let session = session.clone();
        tokio::spawn(async move {
            let rid = aloft_core::ids::request_id();
            let expr = session
                .snap
                .info
                .route_selection_expression
                .clone()
                .unwrap_or_default();
            let key = routes::select_route_key(&expr, &data, binary);
            let route = key
                .as_deref()
                .and_then(|k| session.route(k).filter(|_| !k.starts_with('$')))
                .or_else(|| session.route("$default"))
                .cloned();
            let Some(route) = route else {
                let msg =
                    json!({"message": "Forbidden", "connectionId": session.id, "requestId": rid});
                self.send_to(&session.id, msg.to_string().as_bytes());
                let ctx = session.context(key.as_deref().unwrap_or("$default"), "MESSAGE", &rid);
                session.log(self.as_ref(), ctx, 403, Some("Forbidden"));
                return;
            };
            let body = if binary {
                base64::engine::general_purpose::STANDARD.encode(&data)
            } else {
                String::from_utf8_lossy(&data).into_owned()
            };
            let mut event = json!({
                "requestContext": session.context(&route.route_key, "MESSAGE", &rid),
                "body": body,
                "isBase64Encoded": binary,
            });
            if !session.stage_vars.is_empty() {
                event["stageVariables"] = json!(session.stage_vars);
            }
            let ctx = event["requestContext"].clone();
            let params = invoke::mapping::Params::default();
            let text = if binary { "" } else { body.as_str() };
            let input = routes::Input {
                event,
                body: text,
                params: &params,
            };
            match self.ws_integration(&session, &route, input, &rid).await {
                Err(()) => {
                    let msg = json!({"message": "Internal server error", "connectionId": session.id, "requestId": rid});
                    self.send_to(&session.id, msg.to_string().as_bytes());
                    session.log(self.as_ref(), ctx, 500, Some("Internal server error"));
                }
                Ok(status) => {
                    session.log(self.as_ref(), with_integration(ctx, status), 200, None);
                }
            }
        });
    }

    /// `@connections/{id}`: POST sends, GET describes, DELETE closes.
    async fn manage(&self, req: &mut AwsRequest, target: &Target, id: &str) -> Response {
        let rid = req.ctx.request_id.clone();
        let op = match req.parts.method.as_str() {
            "POST" => "PostToConnection",
            "GET" => "GetConnection",
            "DELETE" => "DeleteConnection",
            _ => {
                return error_response(
                    &AwsError::new("ForbiddenException", 403, "Forbidden"),
                    &rid,
                );
            }
        };
        let known = {
            let m = self.connections.lock();
            m.get(id).filter(|c| c.api_id == target.api_id).map(|c| {
                (
                    c.connected_at,
                    c.last_active,
                    c.source_ip.clone(),
                    c.user_agent.clone(),
                    c.stage.clone(),
                )
            })
        };
        let Some((connected, active, ip, ua, _stage)) = known else {
            return error_response(&gone(id), &rid);
        };
        let model = aloft_model::get("apigatewaymanagementapi").expect("management model");
        let out = match op {
            "PostToConnection" => {
                let data = match req
                    .bytes(MAX_MESSAGE, || {
                        AwsError::new("PayloadTooLargeException", 413, "Message too long")
                    })
                    .await
                {
                    Ok(d) => d,
                    Err(e) => return error_response(&e, &rid),
                };
                if !self.send_to(id, &data) {
                    return error_response(&gone(id), &rid);
                }
                Value::Null
            }
            "GetConnection" => {
                #[allow(clippy::cast_precision_loss)]
                let secs = |ms: i64| ms as f64 / 1000.0;
                let mut identity = json!({"SourceIp": ip});
                if let Some(ua) = ua {
                    identity["UserAgent"] = json!(ua);
                }
                json!({"ConnectedAt": secs(connected), "Identity": identity, "LastActiveAt": secs(active)})
            }
            _ => {
                if let Some(c) = self.connections.lock().remove(id) {
                    let _ = c.tx.send(frames::close_frame(1000, ""));
                    let _ = c.closing.send(true);
                }
                Value::Null
            }
        };
        aloft_core::body::from_bytes(aloft_protocol::encode_output(
            model,
            op,
            Protocol::RestJson,
            &out,
            &rid,
        ))
    }
}

fn lambda_single(m: &IndexMap<String, Vec<String>>) -> Value {
    if m.is_empty() {
        return Value::Null;
    }
    Value::Object(
        m.iter()
            .filter_map(|(k, v)| Some((k.clone(), Value::String(v.last()?.clone()))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids() {
        let id = connection_id();
        assert!(id.len() == 16 && id.ends_with('=') && !id.contains(['/', '+']));
    }
}
