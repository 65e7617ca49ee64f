//! The HTTP client for HTTP/HTTP_PROXY integrations and AWS service integrations (which call
//! Aloft itself at its internal URL, so that no service crate depends on another).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub struct Client {
    inner: Hyper<HttpConnector, Full<Bytes>>,
}

/// What an integration endpoint answered.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Why an integration call failed: API Gateway answers 504 for a timeout, 500 otherwise.
pub enum Failure {
    Timeout,
    Other(String),
}

/// Integration responses bigger than API Gateway's 10 MB payload limit are refused.
const MAX_RESPONSE: usize = 10 * 1024 * 1024;

impl Client {
    pub fn new() -> Self {
        let mut conn = HttpConnector::new();
        conn.set_nodelay(true);
        conn.enforce_http(true);
        Client {
            inner: Hyper::builder(TokioExecutor::new()).build(conn),
        }
    }

    pub async fn send(
        &self,
        req: http::Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Answer, Failure> {
        let call = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|e| Failure::Other(e.to_string()))?;
            let (parts, body) = resp.into_parts();
            let body = http_body_util::Limited::new(body, MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| Failure::Other(e.to_string()))?
                .to_bytes();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}
