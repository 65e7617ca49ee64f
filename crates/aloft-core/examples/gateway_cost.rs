//! The gateway's own cost per request, without hyper or a real service: `Gateway::handle` on a
//! DynamoDB-like unsigned json 1.0 request (the headers wrk sends) to a service that answers
//! at once, as the fast path does. Run under callgrind and read `Gateway::handle` inclusive
//! minus `Fake::handle`; it builds in seconds where the binary takes minutes.
//!
//! `valgrind --tool=callgrind target/release/examples/gateway_cost 10000`

use std::collections::HashMap;
use std::sync::Arc;

use aloft_core::service::Config;
use aloft_core::{AwsRequest, Response, Service, ServiceSpec, body};
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, header};

struct Fake;

static SPEC: ServiceSpec = ServiceSpec {
    name: "dynamodb",
    signing_names: &["dynamodb"],
    target_prefixes: &["DynamoDB_20120810"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

#[async_trait]
impl Service for Fake {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }
    async fn handle(&self, req: AwsRequest) -> Response {
        drop(req);
        let mut resp = http::Response::new(body::full(Bytes::from_static(b"{}")));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        resp
    }
    async fn reset(&self) {}
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let config = Arc::new(Config {
        host: "127.0.0.1".into(),
        port: 4566,
        data_dir: None,
        internal_url: String::new(),
        settings: HashMap::new(),
    });
    let gw = aloft_core::gateway::Gateway::new(
        vec![Arc::new(Fake)],
        config,
        Arc::new(aloft_store::Ephemeral),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut bytes = 0;
        for _ in 0..n {
            let req = http::Request::builder()
                .method("POST")
                .uri("/")
                .header(header::HOST, "127.0.0.1:4566")
                .header("x-amz-target", "DynamoDB_20120810.GetItem")
                .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
                .header(header::CONTENT_LENGTH, "43")
                .body(body::empty())
                .expect("request");
            let resp = gw.handle(req).await;
            bytes += resp.headers().len();
        }
        println!("{n} requests, {bytes} response headers");
    });
}
