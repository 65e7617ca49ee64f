//! Who a request is from and where it goes: built once by the gateway, read by services.

use bytes::Bytes;

use crate::AwsError;
use crate::body::Body;

/// The default account for any access key that names no account (e.g. `test`).
pub const DEFAULT_ACCOUNT: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Also sent back as `x-amzn-RequestId` / `x-amz-request-id`.
    pub request_id: String,
    pub account_id: String,
    pub region: String,
    /// The service the gateway chose (its [`crate::ServiceSpec::name`]).
    pub service: &'static str,
    /// The parsed SigV4 signature, if the request carried one (header or presigned query).
    pub signature: Option<aloft_sigv4::SignatureParts>,
    /// Labels of the Host left of a service label: the bucket in `b.s3.localhost`, the API id
    /// in `id.execute-api.localhost`.
    pub host_prefix: Option<String>,
    /// The service host label that matched (`s3`, `s3-website`, `execute-api`, ...), if any.
    pub host_label: Option<&'static str>,
    /// `scheme://host[:port]` as the client addressed Aloft, for URLs in responses.
    pub base_url: String,
}

impl RequestContext {
    /// An unsigned request from the default account and region, addressed to
    /// `http://localhost:4566`: for a service driven without the gateway (crate tests,
    /// in-process benches), beside [`crate::ServiceContext::ephemeral`].
    pub fn local(service: &'static str) -> Self {
        RequestContext {
            request_id: "local".into(),
            account_id: DEFAULT_ACCOUNT.into(),
            region: DEFAULT_REGION.into(),
            service,
            signature: None,
            host_prefix: None,
            host_label: None,
            base_url: "http://localhost:4566".into(),
        }
    }

    pub fn access_key(&self) -> Option<&str> {
        self.signature
            .as_ref()
            .map(|s| s.credential.access_key.as_str())
    }

    /// `arn:aws:{service}:{region}:{account}:{resource}`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        crate::arn::build(service, &self.region, &self.account_id, resource)
    }
}

/// A request handed to a service: context, head, and the body still streaming.
pub struct AwsRequest {
    pub ctx: RequestContext,
    pub parts: http::request::Parts,
    pub body: Body,
}

impl AwsRequest {
    /// Reads the whole body, refusing more than `limit` bytes with `error`.
    ///
    /// Only for bodies AWS itself bounds (json/xml requests); object bodies must stream.
    pub async fn bytes(
        &mut self,
        limit: usize,
        error: impl FnOnce() -> AwsError,
    ) -> Result<Bytes, AwsError> {
        let body = std::mem::replace(&mut self.body, crate::body::empty());
        crate::body::collect_limited(body, limit)
            .await
            .map_err(|e| e.into_aws(error))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.parts.headers, name)
    }

    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    pub fn query(&self) -> &str {
        self.parts.uri.query().unwrap_or("")
    }
}

/// A header's first value as text, as `HeaderMap::get(name)` finds it.
///
/// Requests carry a handful of headers and handlers ask for dozens that are absent: a scan
/// comparing lengths first costs a fraction of the hashed lookup, which parses and lower-cases
/// `name` on every call. Large maps still use the hash.
pub fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    let value = if headers.len() <= 16 {
        headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    } else {
        headers.get(name)
    };
    value.and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn header_finds_the_first_value_in_any_case() {
        let mut h = HeaderMap::new();
        h.append("x-amz-meta-a", HeaderValue::from_static("1"));
        h.append("x-amz-meta-a", HeaderValue::from_static("2"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        assert_eq!(super::header(&h, "x-amz-meta-a"), Some("1"));
        assert_eq!(super::header(&h, "Content-Type"), Some("text/plain"));
        assert_eq!(super::header(&h, "x-amz-meta-b"), None);
        for i in 0..20 {
            h.insert(
                http::HeaderName::from_bytes(format!("x-{i}").as_bytes()).unwrap(),
                HeaderValue::from_static("v"),
            );
        }
        assert_eq!(super::header(&h, "X-AMZ-META-A"), Some("1"));
        assert_eq!(super::header(&h, "x-19"), Some("v"));
        assert_eq!(super::header(&h, "x-20"), None);
    }
}
