//! Which service a request is for.
//!
//! Many services share `POST /`, so the gateway reads, in order: a service label in the Host
//! (`b.s3.localhost`, `id.execute-api.localhost`), `X-Amz-Target`, the rpcv2-cbor path, the SigV4
//! credential scope, unsigned path prefixes, unsigned query actions, a bare virtual host (an S3
//! bucket), and finally falls back to S3, which owns every unsigned path-style URL (presigned
//! GETs, browser POST uploads, public objects).

use std::collections::HashMap;
use std::sync::Arc;

use aloft_sigv4::SignatureParts;

use crate::service::Service;

/// The host names Aloft answers for; labels left of them select services or buckets.
const BASE_DOMAINS: &[&str] = &["localhost.localstack.cloud", "localhost"];

/// The service everything unclaimed goes to: path-style S3 is unsigned-friendly by design.
const FALLBACK: &str = "s3";

/// A request's destination, as far as the gateway can tell from its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub service: usize,
    pub host_prefix: Option<String>,
    pub host_label: Option<&'static str>,
}

/// The services, indexed by every way a request can name them.
pub struct Registry {
    services: Vec<Arc<dyn Service>>,
    by_name: HashMap<&'static str, usize>,
    by_signing_name: HashMap<&'static str, usize>,
    /// A short list scanned by length first: cheaper than SipHash-ing the prefix per request.
    by_target_prefix: Vec<(&'static str, usize)>,
    by_host_label: HashMap<&'static str, usize>,
    path_prefixes: Vec<(&'static str, usize)>,
    by_unsigned_action: HashMap<&'static str, usize>,
    /// The index of [`FALLBACK`], looked up once: most path-style S3 requests end there.
    fallback: Option<usize>,
}

/// What detection reads from a request's head.
pub struct Head<'a> {
    pub host: Option<&'a str>,
    pub path: &'a str,
    pub target: Option<&'a str>,
    pub smithy_protocol: Option<&'a str>,
    pub signature: Option<&'a SignatureParts>,
}

impl Registry {
    pub fn new(services: Vec<Arc<dyn Service>>) -> Self {
        let mut r = Registry {
            by_name: HashMap::new(),
            by_signing_name: HashMap::new(),
            by_target_prefix: Vec::new(),
            by_host_label: HashMap::new(),
            path_prefixes: Vec::new(),
            by_unsigned_action: HashMap::new(),
            services: Vec::new(),
            fallback: None,
        };
        for (i, s) in services.iter().enumerate() {
            let spec = s.spec();
            r.by_name.insert(spec.name, i);
            for n in spec.signing_names {
                r.by_signing_name.insert(n, i);
            }
            for t in spec.target_prefixes {
                // A later service naming the same prefix wins, as the map this replaced had it.
                r.by_target_prefix.retain(|(p, _)| p != t);
                r.by_target_prefix.push((t, i));
            }
            for h in spec.host_labels {
                r.by_host_label.insert(h, i);
            }
            for p in spec.path_prefixes {
                r.path_prefixes.push((p, i));
            }
            for a in spec.unsigned_actions {
                r.by_unsigned_action.insert(a, i);
            }
        }
        // Longest prefix first, so `/restapis/x/y/_user_request_/` beats `/restapis/`.
        r.path_prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        r.services = services;
        r.fallback = r.by_name.get(FALLBACK).copied();
        r
    }

    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }

    pub fn get(&self, index: usize) -> &Arc<dyn Service> {
        &self.services[index]
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Service>> {
        self.by_name.get(name).map(|&i| &self.services[i])
    }

    /// The service for an unsigned query-protocol action (read from a form body).
    pub fn by_unsigned_action(&self, action: &str) -> Option<usize> {
        self.by_unsigned_action.get(action).copied()
    }

    /// Routes a request from its head alone. `None` means: an unsigned form POST that needs its
    /// body's `Action` read (see [`Registry::by_unsigned_action`]), then the fallback.
    pub fn route(&self, head: &Head<'_>) -> Option<Route> {
        let host = head.host.map(strip_port).unwrap_or("");
        let labels = labels_before_base(host);

        // 1. A service label in the host is the most specific claim there is.
        if let Some(labels) = &labels
            && let Some(route) = self.route_by_host_label(labels)
        {
            return Some(route);
        }
        // 2. X-Amz-Target: `DynamoDB_20120810.PutItem`.
        if let Some(prefix) = head.target.and_then(before_last_dot)
            && let Some(i) = self.target_prefix(prefix)
        {
            return Some(plain(i));
        }
        // 3. rpcv2-cbor: `/service/GraniteServiceVersion20100801/operation/PutMetricData`.
        if head.smithy_protocol.is_some()
            && let Some(name) = head
                .path
                .strip_prefix("/service/")
                .and_then(|rest| rest.split('/').next())
            && let Some(i) = self.target_prefix(name)
        {
            return Some(plain(i));
        }
        // 4. The SigV4 credential scope names the service the SDK meant.
        if let Some(sig) = head.signature
            && let Some(&i) = self.by_signing_name.get(sig.credential.service.as_str())
        {
            return Some(self.with_bucket_host(i, labels.as_deref()));
        }
        // 5. Unsigned paths a service owns (execute-api, JWKS, function URLs).
        if let Some(&(_, i)) = self
            .path_prefixes
            .iter()
            .find(|(p, _)| head.path.starts_with(p))
        {
            return Some(plain(i));
        }
        None
    }

    fn target_prefix(&self, prefix: &str) -> Option<usize> {
        self.by_target_prefix
            .iter()
            .find(|(p, _)| p.len() == prefix.len() && *p == prefix)
            .map(|&(_, i)| i)
    }

    /// The route for a request nothing else claimed: a bucket virtual host or path-style S3.
    pub fn fallback(&self, host: Option<&str>) -> Option<Route> {
        let i = self.fallback?;
        let labels = labels_before_base(host.map(strip_port).unwrap_or(""));
        Some(self.with_bucket_host(i, labels.as_deref()))
    }

    fn route_by_host_label(&self, labels: &[&str]) -> Option<Route> {
        // Rightmost service label wins: bucket names may contain dots and even `s3` labels,
        // while only a region may stand right of the service label.
        for (pos, label) in labels.iter().enumerate().rev() {
            if let Some((&name, &i)) = self.by_host_label.get_key_value(*label) {
                let prefix = (pos > 0).then(|| labels[..pos].join("."));
                return Some(Route {
                    service: i,
                    host_prefix: prefix,
                    host_label: Some(name),
                });
            }
        }
        None
    }

    /// S3 reached through `bucket.localhost` carries no service label: the labels are the bucket.
    fn with_bucket_host(&self, i: usize, labels: Option<&[&str]>) -> Route {
        match labels {
            Some(l) if !l.is_empty() && self.services[i].spec().name == FALLBACK => Route {
                service: i,
                host_prefix: Some(l.join(".")),
                host_label: None,
            },
            _ => plain(i),
        }
    }
}

fn plain(i: usize) -> Route {
    Route {
        service: i,
        host_prefix: None,
        host_label: None,
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    // A byte loop from the end: the port is a few digits, `rsplit_once` calls `memrchr`.
    match host.bytes().rposition(|b| b == b':') {
        Some(i) => &host[..i],
        None => host,
    }
}

/// `DynamoDB_20120810` of `DynamoDB_20120810.GetItem` (the operation is short: scan from the end).
fn before_last_dot(target: &str) -> Option<&str> {
    target
        .bytes()
        .rposition(|b| b == b'.')
        .map(|i| &target[..i])
}

/// The labels left of a base domain: `a.b.s3.localhost` → `[a, b, s3]`; `localhost` → `[]`;
/// a host outside the base domains (an IP, a custom name) → `None`.
fn labels_before_base(host: &str) -> Option<Vec<&str>> {
    let host = host.trim_end_matches('.');
    for base in BASE_DOMAINS {
        if host.eq_ignore_ascii_case(base) {
            return Some(Vec::new());
        }
        if host.len() > base.len() + 1 && host[host.len() - base.len()..].eq_ignore_ascii_case(base)
        {
            let rest = &host[..host.len() - base.len()];
            if let Some(rest) = rest.strip_suffix('.') {
                return Some(rest.split('.').collect());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Response;
    use crate::context::AwsRequest;
    use crate::service::ServiceSpec;
    use async_trait::async_trait;

    struct Fake(&'static ServiceSpec);
    #[async_trait]
    impl Service for Fake {
        fn spec(&self) -> &'static ServiceSpec {
            self.0
        }
        async fn handle(&self, _req: AwsRequest) -> Response {
            unreachable!()
        }
        async fn reset(&self) {}
    }

    static S3: ServiceSpec = ServiceSpec {
        name: "s3",
        signing_names: &["s3"],
        target_prefixes: &[],
        host_labels: &["s3", "s3-website"],
        path_prefixes: &[],
        unsigned_actions: &[],
    };
    static DDB: ServiceSpec = ServiceSpec {
        name: "dynamodb",
        signing_names: &["dynamodb"],
        target_prefixes: &["DynamoDB_20120810"],
        host_labels: &[],
        path_prefixes: &[],
        unsigned_actions: &[],
    };
    static SQS: ServiceSpec = ServiceSpec {
        name: "sqs",
        signing_names: &["sqs"],
        target_prefixes: &["AmazonSQS"],
        host_labels: &["sqs"],
        path_prefixes: &[],
        unsigned_actions: &[],
    };
    static APIGW: ServiceSpec = ServiceSpec {
        name: "apigateway",
        signing_names: &["apigateway", "execute-api"],
        target_prefixes: &[],
        host_labels: &["execute-api"],
        path_prefixes: &["/_aws/execute-api/", "/restapis/"],
        unsigned_actions: &[],
    };
    static CW: ServiceSpec = ServiceSpec {
        name: "cloudwatch",
        signing_names: &["monitoring"],
        target_prefixes: &["GraniteServiceVersion20100801"],
        host_labels: &[],
        path_prefixes: &[],
        unsigned_actions: &[],
    };

    fn registry() -> Registry {
        Registry::new(vec![
            Arc::new(Fake(&S3)),
            Arc::new(Fake(&DDB)),
            Arc::new(Fake(&SQS)),
            Arc::new(Fake(&APIGW)),
            Arc::new(Fake(&CW)),
        ])
    }

    fn head<'a>(host: &'a str, path: &'a str) -> Head<'a> {
        Head {
            host: Some(host),
            path,
            target: None,
            smithy_protocol: None,
            signature: None,
        }
    }

    fn sig(service: &str) -> SignatureParts {
        aloft_sigv4::parse_authorization(&format!(
            "AWS4-HMAC-SHA256 Credential=test/20261121/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"
        ))
        .unwrap()
    }

    fn name(r: &Registry, route: &Route) -> &'static str {
        r.get(route.service).spec().name
    }

    #[test]
    fn host_labels_select_services_and_carry_the_prefix() {
        let r = registry();
        let route = r.route(&head("my.bucket.s3.localhost:4566", "/k")).unwrap();
        assert_eq!(
            (name(&r, &route), route.host_prefix.as_deref()),
            ("s3", Some("my.bucket"))
        );
        let route = r.route(&head("site.s3-website.localhost", "/")).unwrap();
        assert_eq!(route.host_label, Some("s3-website"));
        let route = r
            .route(&head("b.s3.us-east-1.localhost.localstack.cloud", "/"))
            .unwrap();
        assert_eq!(route.host_prefix.as_deref(), Some("b"));
        let route = r
            .route(&head("abc123.execute-api.localhost:4566", "/prod/x"))
            .unwrap();
        assert_eq!(
            (name(&r, &route), route.host_prefix.as_deref()),
            ("apigateway", Some("abc123"))
        );
        let route = r
            .route(&head("sqs.eu-west-1.localhost", "/000000000000/q"))
            .unwrap();
        assert_eq!((name(&r, &route), route.host_prefix), ("sqs", None));
    }

    #[test]
    fn target_then_cbor_then_signature() {
        let r = registry();
        let mut h = head("localhost:4566", "/");
        h.target = Some("DynamoDB_20120810.PutItem");
        assert_eq!(name(&r, &r.route(&h).unwrap()), "dynamodb");

        let mut h = head(
            "localhost:4566",
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        );
        h.smithy_protocol = Some("rpc-v2-cbor");
        assert_eq!(name(&r, &r.route(&h).unwrap()), "cloudwatch");

        let s = sig("sqs");
        let mut h = head("localhost:4566", "/");
        h.signature = Some(&s);
        assert_eq!(name(&r, &r.route(&h).unwrap()), "sqs");
    }

    #[test]
    fn bare_virtual_hosts_are_buckets_and_the_rest_falls_back_to_s3() {
        let r = registry();
        let s = sig("s3");
        let mut h = head("photos.localhost:4566", "/cat.jpg");
        h.signature = Some(&s);
        let route = r.route(&h).unwrap();
        assert_eq!(
            (name(&r, &route), route.host_prefix.as_deref()),
            ("s3", Some("photos"))
        );

        assert!(r.route(&head("localhost:4566", "/bucket/key")).is_none());
        let route = r.fallback(Some("localhost:4566")).unwrap();
        assert_eq!((name(&r, &route), route.host_prefix), ("s3", None));
        let route = r.fallback(Some("127.0.0.1:4566")).unwrap();
        assert_eq!(route.host_prefix, None);
        let route = r.fallback(Some("pub.localhost")).unwrap();
        assert_eq!(route.host_prefix.as_deref(), Some("pub"));
    }

    #[test]
    fn unsigned_paths_go_to_their_owner() {
        let r = registry();
        let route = r
            .route(&head("127.0.0.1:4566", "/_aws/execute-api/abc/prod/items"))
            .unwrap();
        assert_eq!(name(&r, &route), "apigateway");
    }

    #[test]
    fn host_parsing_edge_cases() {
        assert_eq!(strip_port("localhost:4566"), "localhost");
        assert_eq!(strip_port("[::1]:4566"), "[::1]");
        assert_eq!(labels_before_base("LOCALHOST"), Some(vec![]));
        assert_eq!(labels_before_base("xlocalhost"), None);
        assert_eq!(labels_before_base("example.com"), None);
        assert_eq!(labels_before_base("a.localhost."), Some(vec!["a"]));
    }
}
