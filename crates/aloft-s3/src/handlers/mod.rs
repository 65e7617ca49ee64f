//! From request to response: the per-request [`Call`], operation dispatch, presigned-URL
//! expiry, CORS headers and S3's error rendering (no body for HEAD).

pub(crate) mod access;
mod buckets;
mod config;
pub mod control;
mod cors;
mod form;
pub(crate) mod listing;
mod multipart;
mod object_input;
pub mod object_lambda;
mod objects;
mod objects_read;
mod post;
mod restore;
mod website;

use aloft_core::body::{Body, Response, empty, full};
use aloft_core::{AwsError, AwsRequest, RequestContext};
use http::Method;

use crate::S3;
use crate::domain::names::check_key;
use crate::error::{S3Error, internal};
use crate::routes::{self, Op, Query};
use crate::xml::{Resp, error_body};

/// Largest XML request document read (S3's own limits are far lower for every document).
pub const XML_LIMIT: usize = 4 * 1024 * 1024;
/// S3's single PUT limit.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// One request, decoded as far as routing needs.
pub struct Call {
    pub ctx: RequestContext,
    pub parts: http::request::Parts,
    body: Option<Body>,
    pub bucket: String,
    pub key: String,
    pub q: Query,
    /// A one-bit-per-name summary of the request's header names ([`name_bit`]), made once:
    /// a PUT asks for some thirty headers, nearly all absent, and a clear bit answers "absent"
    /// without a scan. (The request's headers are never changed after the call is made.)
    names: u64,
}

/// The bit that stands for a header name in [`Call`]'s summary (case-insensitive, as header
/// lookups are). Different names may share a bit: a set bit only means "look".
fn name_bit(n: &[u8]) -> u64 {
    let (Some(&last), Some(&mid)) = (n.last(), n.get(n.len() / 2)) else {
        return 1;
    };
    let h = n.len() * 7
        + usize::from(last.to_ascii_lowercase()) * 3
        + usize::from(mid.to_ascii_lowercase());
    1 << (h & 63)
}

impl Call {
    pub fn new(
        ctx: RequestContext,
        parts: http::request::Parts,
        body: Body,
        bucket: String,
        key: String,
        q: Query,
    ) -> Self {
        let names = parts
            .headers
            .keys()
            .fold(0, |m, n| m | name_bit(n.as_str().as_bytes()));
        Self {
            ctx,
            parts,
            body: Some(body),
            bucket,
            key,
            q,
            names,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        if self.names & name_bit(name.as_bytes()) == 0 {
            return None;
        }
        aloft_core::context::header(&self.parts.headers, name)
    }

    pub fn take_body(&mut self) -> Body {
        self.body.take().unwrap_or_else(empty)
    }

    /// Reads a bounded XML (or JSON) document body.
    pub async fn read_small(&mut self) -> Result<bytes::Bytes, AwsError> {
        read_limited(self.take_body(), XML_LIMIT, S3Error::MalformedXML.err()).await
    }

    pub async fn read_xml<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, AwsError> {
        let raw = self.read_small().await?;
        crate::xml::from_xml(&raw)
    }

    pub fn is_head(&self) -> bool {
        self.parts.method == Method::HEAD
    }
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_limited(
    mut body: Body,
    limit: usize,
    too_big: AwsError,
) -> Result<bytes::Bytes, AwsError> {
    use http_body_util::BodyExt;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            S3Error::IncompleteBody.msg(format!("Could not read the request body: {e}"))
        })?;
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > limit {
                return Err(too_big);
            }
            buf.extend_from_slice(&d);
        }
    }
    Ok(buf.freeze())
}

pub fn json_response(v: serde_json::Value) -> Response {
    Resp::ok()
        .header("content-type", "application/json")
        .body(full(v.to_string()))
}

/// Renders an error as S3 does: the XML `<Error>` document, or headers only for HEAD.
pub fn error_response(err: &AwsError, request_id: &str, head: bool) -> Response {
    let mut r = Resp::new(err.status.as_u16());
    for (k, v) in &err.headers {
        r = r.header(k, v);
    }
    if head {
        r.empty()
    } else {
        r.header("content-type", "application/xml")
            .body(full(error_body(err, request_id)))
    }
}

pub async fn handle(s3: &S3, req: AwsRequest) -> Response {
    let AwsRequest { ctx, parts, body } = req;
    let mut t = routes::target(&ctx, parts.uri.path());
    let q = Query::parse(parts.uri.query().unwrap_or(""));
    let head = parts.method == Method::HEAD;
    let origin = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // The call owns the bucket and key; routing only asks whether they are there.
    let bucket = t.bucket.as_mut().map(std::mem::take).unwrap_or_default();
    let key = t.key.as_mut().map(std::mem::take).unwrap_or_default();
    let mut call = Call::new(ctx, parts, body, bucket, key, q);
    let method = call.parts.method.clone();
    let result = if object_lambda::is_object_lambda(&call) {
        object_lambda::serve(s3, &mut call).await
    } else if call.parts.uri.path().starts_with("/v20180820/")
        && call.parts.headers.contains_key("x-amz-account-id")
    {
        control::serve(s3, &mut call).await
    } else if call.ctx.host_label == Some("s3-website") {
        website::serve(s3, &mut call).await
    } else {
        dispatch(s3, &mut call, &t).await
    };
    let request_id = &call.ctx.request_id;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => error_response(&e, request_id, head),
    };
    if let Ok(v) = http::HeaderValue::try_from(crate::domain::notifications::host_id(request_id)) {
        resp.headers_mut().insert(crate::xml::names::ID_2, v);
    }
    // Actual (non-preflight) cross-origin requests get the matching rule's headers.
    if let Some(origin) = origin
        && method != Method::OPTIONS
        && !call.bucket.is_empty()
    {
        cors::decorate(s3, &call.bucket, &origin, method.as_str(), &mut resp);
    }
    resp
}

/// Refuses presigned URLs past their expiry, by the one clock.
fn check_presigned(call: &Call) -> Result<(), AwsError> {
    // SigV2 query authentication (what boto3 still presigns S3 URLs with by default):
    // `Expires` is an absolute epoch-seconds time.
    if call.q.has("AWSAccessKeyId") && call.q.has("Signature") {
        let Some(expires) = call.q.get("Expires") else {
            return Ok(());
        };
        let now = aloft_core::clock::now_millis();
        let at = expires.parse::<i64>().unwrap_or(0);
        if now / 1000 > at {
            return Err(S3Error::AccessDenied
                .msg("Request has expired")
                .with_field(
                    "Expires",
                    aloft_core::clock::iso8601_millis(at * 1000).replace(".000Z", "Z"),
                )
                .with_field("ServerTime", iso_secs(now)));
        }
        return Ok(());
    }
    let (Some(date), Some(expires)) = (call.q.get("X-Amz-Date"), call.q.get("X-Amz-Expires"))
    else {
        return Ok(());
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return Err(S3Error::AccessDenied.msg("X-Amz-Expires should be a number"));
    };
    if !(1..=604_800).contains(&expires) {
        return Err(AwsError::new(
            "AuthorizationQueryParametersError",
            400,
            "X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than 604800 seconds",
        ));
    }
    let Some(signed) = aloft_sigv4::dates::parse_amz_date(date) else {
        return Err(AwsError::new(
            "AuthorizationQueryParametersError",
            400,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ));
    };
    let now = aloft_core::clock::now_millis();
    let until = signed + expires * 1000;
    if now > until {
        return Err(S3Error::AccessDenied
            .msg("Request has expired")
            .with_field("X-Amz-Expires", expires.to_string())
            .with_field(
                "Expires",
                aloft_core::clock::iso8601_millis(until).replace(".000Z", "Z"),
            )
            .with_field("ServerTime", iso_secs(now)));
    }
    Ok(())
}

/// `2026-11-21T07:20:00Z`, as S3 prints times in expiry errors.
fn iso_secs(ms: i64) -> String {
    let full = aloft_core::clock::iso8601_millis(ms);
    format!("{}Z", full.split('.').next().unwrap_or(""))
}

async fn dispatch(s3: &S3, call: &mut Call, t: &routes::Target) -> Result<Response, AwsError> {
    check_presigned(call)?;
    let copy_source = call
        .parts
        .headers
        .contains_key(crate::xml::names::COPY_SOURCE);
    let op = routes::select(&call.parts.method, t, &call.q, copy_source)?;
    if t.key.is_some() {
        check_key(&call.key)?;
    }
    access::check(s3, call, op)?;
    // Operations whose futures are kilobytes (body readers, XML documents) are boxed: this
    // future is as large as its largest arm, and it is moved by memcpy on every request.
    use Op::*;
    match op {
        ListBuckets => buckets::list_buckets(s3, call).await,
        CreateBucket => Box::pin(buckets::create_bucket(s3, call)).await,
        HeadBucket => buckets::head_bucket(s3, call).await,
        DeleteBucket => buckets::delete_bucket(s3, call).await,
        GetBucketLocation => buckets::get_bucket_location(s3, call).await,
        GetBucketVersioning => buckets::get_bucket_versioning(s3, call).await,
        PutBucketVersioning => buckets::put_bucket_versioning(s3, call).await,
        ListObjects => listing::list_objects(s3, call, false).await,
        ListObjectsV2 => listing::list_objects(s3, call, true).await,
        ListObjectVersions => listing::list_object_versions(s3, call).await,
        ListMultipartUploads => multipart::list_multipart_uploads(s3, call).await,
        DeleteObjects => Box::pin(objects::delete_objects(s3, call)).await,
        PostObject => Box::pin(post::post_object(s3, call)).await,
        GetBucketTagging
        | PutBucketTagging
        | DeleteBucketTagging
        | GetBucketCors
        | PutBucketCors
        | DeleteBucketCors
        | GetBucketWebsite
        | PutBucketWebsite
        | DeleteBucketWebsite
        | GetBucketPolicy
        | PutBucketPolicy
        | DeleteBucketPolicy
        | GetBucketPolicyStatus
        | GetBucketAcl
        | PutBucketAcl
        | GetPublicAccessBlock
        | PutPublicAccessBlock
        | DeletePublicAccessBlock
        | GetBucketLifecycleConfiguration
        | PutBucketLifecycleConfiguration
        | DeleteBucketLifecycle
        | GetBucketNotificationConfiguration
        | PutBucketNotificationConfiguration
        | GetBucketEncryption
        | PutBucketEncryption
        | DeleteBucketEncryption
        | GetBucketOwnershipControls
        | PutBucketOwnershipControls
        | DeleteBucketOwnershipControls
        | GetBucketLogging
        | GetBucketAccelerateConfiguration
        | GetBucketRequestPayment => config::bucket_config(s3, call, op).await,
        PutObject => objects::put_object(s3, call).await,
        CopyObject => Box::pin(objects::copy_object(s3, call)).await,
        GetObject | HeadObject => objects_read::get_object(s3, call).await,
        DeleteObject => objects::delete_object(s3, call).await,
        GetObjectTagging | PutObjectTagging | DeleteObjectTagging | GetObjectAcl | PutObjectAcl => {
            config::object_config(s3, call, op).await
        }
        RestoreObject => restore::restore_object(s3, call).await,
        GetObjectAttributes => objects_read::get_object_attributes(s3, call).await,
        CreateMultipartUpload => multipart::create_multipart_upload(s3, call).await,
        UploadPart => Box::pin(multipart::upload_part(s3, call)).await,
        UploadPartCopy => Box::pin(multipart::upload_part_copy(s3, call)).await,
        CompleteMultipartUpload => Box::pin(multipart::complete_multipart_upload(s3, call)).await,
        AbortMultipartUpload => multipart::abort_multipart_upload(s3, call).await,
        ListParts => multipart::list_parts(s3, call).await,
        Options => cors::preflight(s3, call).await,
        GetBucketReplication | GetObjectLockConfiguration | ListBucketConfigurations(_) => {
            config::absent_config(s3, call, op)
        }
    }
}

/// Runs an operation another service asked for ([`crate::target`]): routed and handled as
/// the same request from a client would be.
pub(crate) async fn dispatch_for(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let t = routes::Target {
        bucket: Some(call.bucket.clone()),
        key: (!call.key.is_empty()).then(|| call.key.clone()),
    };
    dispatch(s3, call, &t).await
}

/// Awaits a journal commit, turning a storage failure into a 500.
pub async fn committed(c: aloft_store::Commit) -> Result<(), AwsError> {
    c.await.map_err(internal)
}

/// The ISO 8601 timestamp S3 uses in XML documents.
pub fn iso(ms: i64) -> String {
    aloft_core::clock::iso8601_millis(ms)
}

/// Fuzzing hooks for parsers private to the handlers.
pub(crate) fn fuzz_documents(data: &[u8]) {
    objects::fuzz_delete_document(data);
    multipart::fuzz_complete_document(data);
}

pub(crate) fn fuzz_request_parts(s: &str) {
    let _ = objects::parse_copy_source(s);
    let _ = object_input::parse_tagging_header(s);
    let _ = objects::check_version_id(s);
}

pub(crate) async fn fuzz_post_form(boundary: &str, body: bytes::Bytes) {
    let mut r = form::FormReader::new(full(body), boundary);
    if let Ok((_, Some(_))) = r.fields().await {
        use http_body_util::BodyExt;
        let _ = r.file_body().collect().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_summary_never_hides_a_header() {
        let mut req = http::Request::new(());
        for n in [
            "host",
            "content-type",
            "x-amz-meta-a",
            "if-match",
            "x-amz-server-side-encryption-customer-key",
            "range",
        ] {
            req.headers_mut().insert(
                http::HeaderName::from_static(n),
                http::HeaderValue::from_static("v"),
            );
        }
        let (parts, ()) = req.into_parts();
        let ctx = RequestContext::local("s3");
        let call = Call::new(
            ctx,
            parts,
            empty(),
            String::new(),
            String::new(),
            Query::default(),
        );
        for n in ["Host", "content-type", "X-Amz-Meta-A", "if-match", "RANGE"] {
            assert_eq!(call.header(n), Some("v"), "{n}");
        }
        assert_eq!(
            call.header("x-amz-server-side-encryption-customer-key"),
            Some("v")
        );
        for n in [
            "if-none-match",
            "x-amz-acl",
            "",
            "content-md5",
            "x-amz-meta-b",
        ] {
            assert_eq!(call.header(n), None, "{n}");
        }
    }
}
