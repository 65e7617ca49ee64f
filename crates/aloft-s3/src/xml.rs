//! S3's XML on the wire: typed documents in and out (quick-xml's serde), S3's error document,
//! and the response builder every handler uses.

use aloft_core::AwsError;
use aloft_core::body::{Body, Response, empty, full};
use bytes::Bytes;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::S3Error;

pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Serialises a typed document under `root`, in S3's namespace.
pub fn to_xml<T: Serialize>(root: &str, value: &T) -> Bytes {
    let mut body = String::with_capacity(256);
    body.push_str(DECL);
    let mut ser = quick_xml::se::Serializer::with_root(&mut body, Some(root))
        .expect("root names are static and valid");
    ser.expand_empty_elements(false);
    if let Err(e) = value.serialize(ser) {
        tracing::error!("could not serialise {root}: {e}");
    }
    // The namespace goes on the root element; the serialiser has no attribute for it.
    let open = format!("<{root}");
    if let Some(i) = body.find(&open) {
        body.insert_str(i + open.len(), &format!(" xmlns=\"{NS}\""));
    }
    Bytes::from(body)
}

/// Parses a request document; anything that does not fit the schema is `MalformedXML`.
pub fn from_xml<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let text = std::str::from_utf8(body).map_err(|_| S3Error::MalformedXML.err())?;
    if text.trim().is_empty() {
        return Err(S3Error::MalformedXML.err());
    }
    quick_xml::de::from_str(text).map_err(|e| {
        tracing::debug!("malformed xml: {e}");
        S3Error::MalformedXML.err()
    })
}

/// S3's `<Error>` document: Code, Message, the error's extra fields, RequestId, HostId.
pub fn error_body(err: &AwsError, request_id: &str) -> Bytes {
    let mut w = Writer::new(Vec::with_capacity(256));
    let text = |w: &mut Writer<Vec<u8>>, name: &str, value: &str| {
        let _ = w.write_event(Event::Start(BytesStart::new(name)));
        let _ = w.write_event(Event::Text(BytesText::new(value)));
        let _ = w.write_event(Event::End(BytesEnd::new(name)));
    };
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let _ = w.write_event(Event::Text(BytesText::from_escaped("\n")));
    let _ = w.write_event(Event::Start(BytesStart::new("Error")));
    text(&mut w, "Code", err.code);
    text(&mut w, "Message", &err.message);
    for (k, v) in &err.fields {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text(&mut w, k, &v);
    }
    text(&mut w, "RequestId", request_id);
    text(
        &mut w,
        "HostId",
        &crate::domain::notifications::host_id(request_id),
    );
    let _ = w.write_event(Event::End(BytesEnd::new("Error")));
    Bytes::from(w.into_inner())
}

/// S3's own response header names, made once (`HeaderName::from_bytes` parses and hashes a
/// name on every call; an object's GET answers with a dozen).
pub mod names {
    use http::HeaderName;
    pub const VERSION_ID: HeaderName = HeaderName::from_static("x-amz-version-id");
    pub const STORAGE_CLASS: HeaderName = HeaderName::from_static("x-amz-storage-class");
    pub const RESTORE: HeaderName = HeaderName::from_static("x-amz-restore");
    pub const WEBSITE_REDIRECT: HeaderName =
        HeaderName::from_static("x-amz-website-redirect-location");
    pub const TAGGING_COUNT: HeaderName = HeaderName::from_static("x-amz-tagging-count");
    pub const PARTS_COUNT: HeaderName = HeaderName::from_static("x-amz-mp-parts-count");
    pub const CHECKSUM_TYPE: HeaderName = HeaderName::from_static("x-amz-checksum-type");
    pub const SSE: HeaderName = HeaderName::from_static("x-amz-server-side-encryption");
    pub const SSE_KMS_KEY_ID: HeaderName =
        HeaderName::from_static("x-amz-server-side-encryption-aws-kms-key-id");
    pub const SSE_BUCKET_KEY: HeaderName =
        HeaderName::from_static("x-amz-server-side-encryption-bucket-key-enabled");
    pub const SSE_C_ALGORITHM: HeaderName =
        HeaderName::from_static("x-amz-server-side-encryption-customer-algorithm");
    pub const SSE_C_KEY_MD5: HeaderName =
        HeaderName::from_static("x-amz-server-side-encryption-customer-key-md5");
    pub const ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
    pub const COPY_SOURCE: HeaderName = HeaderName::from_static("x-amz-copy-source");
}

/// An empty body that takes no allocation (`body::empty()` boxes a `Full` of nothing); on the
/// wire the same: no frames, an exact size of 0.
fn no_body() -> Body {
    use http_body_util::BodyExt;
    http_body_util::Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// Builds responses with S3's headers.
pub struct Resp {
    status: Option<http::StatusCode>,
    headers: http::HeaderMap,
}

impl Resp {
    pub fn new(status: u16) -> Self {
        Self {
            status: http::StatusCode::from_u16(status).ok(),
            // Room for an object's usual headers plus the gateway's, without regrowing.
            headers: http::HeaderMap::with_capacity(16),
        }
    }

    #[must_use]
    pub fn status(mut self, status: u16) -> Self {
        if self.status.is_some() {
            self.status = http::StatusCode::from_u16(status).ok();
        }
        self
    }

    pub fn ok() -> Self {
        Self::new(200)
    }

    /// Appends a header; a value that is not a valid header value is left out. An invalid name
    /// (or status) spoils the whole response, as `http::response::Builder` did: empty 200.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        if self.status.is_none() {
            return self;
        }
        if let Ok(v) = http::HeaderValue::from_str(value.as_ref()) {
            match http::HeaderName::from_bytes(name.as_bytes()) {
                Ok(n) => {
                    self.headers.append(n, v);
                }
                Err(_) => self.status = None,
            }
        }
        self
    }

    /// Appends a header by a ready name and value (the hot paths: no name parsing).
    #[must_use]
    pub fn put(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        if self.status.is_some() {
            self.headers.append(name, value);
        }
        self
    }

    /// Appends a header whose value is a fixed string.
    #[must_use]
    pub fn put_static(self, name: http::HeaderName, value: &'static str) -> Self {
        self.put(name, http::HeaderValue::from_static(value))
    }

    /// Appends a header from a borrowed value (copied), left out when it is not a valid value.
    #[must_use]
    pub fn put_str(self, name: http::HeaderName, value: &str) -> Self {
        match http::HeaderValue::from_str(value) {
            Ok(v) => self.put(name, v),
            Err(_) => self,
        }
    }

    /// Appends a header from an owned value (moved, not copied), left out when invalid.
    #[must_use]
    pub fn put_string(self, name: http::HeaderName, value: String) -> Self {
        match http::HeaderValue::try_from(value) {
            Ok(v) => self.put(name, v),
            Err(_) => self,
        }
    }

    /// Appends a header whose value is a number (`HeaderValue::from(u64)` goes through
    /// `fmt`: four times the work).
    #[must_use]
    pub fn put_u64(self, name: http::HeaderName, n: u64) -> Self {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = n;
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        match http::HeaderValue::from_bytes(&buf[i..]) {
            Ok(v) => self.put(name, v),
            Err(_) => self,
        }
    }

    #[must_use]
    pub fn put_opt(self, name: http::HeaderName, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.put_str(name, v),
            None => self,
        }
    }

    #[must_use]
    pub fn opt_header(self, name: &str, value: Option<impl AsRef<str>>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub fn body(self, body: Body) -> Response {
        let Some(status) = self.status else {
            return http::Response::new(empty());
        };
        let mut r = http::Response::new(body);
        *r.status_mut() = status;
        *r.headers_mut() = self.headers;
        r
    }

    pub fn empty(self) -> Response {
        self.body(no_body())
    }

    pub fn xml<T: Serialize>(self, root: &str, value: &T) -> Response {
        self.header("content-type", "application/xml")
            .body(full(to_xml(root, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn numbers_as_header_values() {
        for n in [0, 7, 10, 1024, 99_999, u64::MAX] {
            let r = Resp::ok().put_u64(http::header::CONTENT_LENGTH, n).empty();
            assert_eq!(r.headers()["content-length"], n.to_string().as_str());
        }
    }

    #[test]
    fn resp_appends_headers_and_spoils_on_a_bad_name() {
        let r = Resp::new(206)
            .header("x-amz-meta-a", "1")
            .header("x-amz-meta-a", "2")
            .header("etag", "bad\nvalue")
            .opt_header("expires", None::<&str>)
            .empty();
        assert_eq!(r.status(), 206);
        let all: Vec<_> = r.headers().get_all("x-amz-meta-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
        assert!(r.headers().get("etag").is_none());
        let bad = Resp::ok()
            .header("etag", "x")
            .header("bad name", "v")
            .empty();
        assert_eq!(bad.status(), 200);
        assert!(bad.headers().is_empty());
        assert!(
            Resp::new(1000)
                .header("etag", "x")
                .empty()
                .headers()
                .is_empty()
        );
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Doc {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Item", default)]
        items: Vec<String>,
    }

    #[test]
    fn round_trip_and_namespace() {
        let d = Doc {
            name: "a<b".into(),
            items: vec!["x".into(), "y".into()],
        };
        let x = to_xml("Doc", &d);
        let s = std::str::from_utf8(&x).unwrap();
        assert!(s.starts_with(DECL));
        assert!(s.contains("<Doc xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
        assert!(s.contains("<Name>a&lt;b</Name><Item>x</Item><Item>y</Item>"));
        let back: Doc = from_xml(x.as_ref()).unwrap();
        assert_eq!(back, d);
        assert_eq!(
            from_xml::<Doc>(b"<Doc><Name>").unwrap_err().code,
            "MalformedXML"
        );
        assert_eq!(from_xml::<Doc>(b"").unwrap_err().code, "MalformedXML");
    }

    #[test]
    fn error_document() {
        let e = crate::error::no_such_key("a&b");
        let x = error_body(&e, "rid");
        let s = std::str::from_utf8(&x).unwrap();
        assert!(s.contains("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><RequestId>rid</RequestId>"));
    }
}
