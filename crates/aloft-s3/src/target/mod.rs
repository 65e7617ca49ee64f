//! S3 as a [`Target`] for other services (DynamoDB exports and imports write and read objects
//! through it): `PutObject`, `GetObject`, `ListObjectsV2` and `HeadBucket` on `arn:aws:s3:::B`.
//!
//! Writes and reads run the very handlers an HTTP request runs (a request is made for them),
//! so an object stored here has the ETag, checksum, versioning and notifications a PutObject
//! would give it. Options use S3's own member names (`Key`, `ContentType`,
//! `ExpectedBucketOwner`, `Prefix`, `ContinuationToken`, `MaxKeys`, and GetObject's `Range`,
//! `IfMatch` and `VersionId`: a large object is read in parts). An object ARN
//! `arn:aws:s3:::bucket/key` names the key when no `Key` option does.
//!
//! A bucket owned by another account than `Delivery.account` refuses with `AccessDenied`
//! unless its bucket policy allows that account the action (AWS's cross-account rule: the
//! bucket owner must grant it).

mod grant;

use std::sync::{Arc, Weak};

use aloft_core::body::{Response, full};
use aloft_core::service::AuthorityCell;
use aloft_core::{AwsError, RequestContext, ServiceContext};
use aloft_events::{Delivered, Delivery, Target};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::S3;
use crate::domain::listing::{Entry, list_current};
use crate::error::{internal, invalid_argument};
use crate::handlers::{self, Call};
use crate::routes::Query;

/// What a key's path segment escapes (all but unreserved characters and `/`).
const KEY_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Registered for `s3` ARNs by [`crate::start`].
pub struct S3Target {
    s3: Weak<S3>,
    /// The IAM service's policy evaluator, once the binary has built the services.
    authority: AuthorityCell,
}

impl S3Target {
    /// Without an authority: bucket policies are read by [`grant::policy_allows`].
    pub fn new(s3: &Arc<S3>) -> Self {
        S3Target {
            s3: Arc::downgrade(s3),
            authority: AuthorityCell::default(),
        }
    }

    /// Judging other accounts by the authority the binary leaves in `ctx`.
    pub fn judged_by(s3: &Arc<S3>, ctx: &ServiceContext) -> Self {
        S3Target {
            s3: Arc::downgrade(s3),
            authority: ctx.authority.clone(),
        }
    }
}

/// The bucket of `arn:aws:s3:::bucket`, and the key of an object ARN
/// `arn:aws:s3:::bucket/key` (Lambda names a function's code so; a `Key` option wins).
fn bucket_of(arn: &str) -> Result<(&str, Option<&str>), AwsError> {
    let rest = arn
        .strip_prefix("arn:aws:s3:::")
        .or_else(|| {
            arn.split_once(":s3:::")
                .filter(|(p, _)| p.starts_with("arn:"))
                .map(|(_, b)| b)
        })
        .unwrap_or_default();
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, Some(k).filter(|k| !k.is_empty())),
        None => (rest, None),
    };
    if bucket.is_empty() {
        return Err(AwsError::validation(format!(
            "Invalid S3 bucket ARN: {arn}"
        )));
    }
    Ok((bucket, key))
}

fn opt<'a>(d: &'a Delivery, name: &str) -> Option<&'a str> {
    d.options.get(name).and_then(Value::as_str)
}

#[async_trait::async_trait]
impl Target for S3Target {
    async fn deliver(&self, arn: &str, mut d: Delivery) -> Result<Delivered, AwsError> {
        let s3 = self
            .s3
            .upgrade()
            .ok_or_else(|| internal("S3 has shut down"))?;
        let (bucket, arn_key) = bucket_of(arn)?;
        let bucket = bucket.to_string();
        if let Some(k) = arn_key
            && !d.options.contains_key("Key")
        {
            d.options.insert("Key".into(), k.into());
        }
        let op = opt(&d, "Operation").unwrap_or("PutObject");
        let action = match op {
            "PutObject" => "s3:PutObject",
            "GetObject" => "s3:GetObject",
            "ListObjectsV2" => "s3:ListBucket",
            "HeadBucket" => "s3:ListBucket",
            other => {
                return Err(AwsError::validation(format!(
                    "S3 does not serve {other} to other services"
                )));
            }
        };
        grant::check_owner(&s3, self.authority.get(), &bucket, &d, action)?;
        match op {
            "PutObject" => put_object(&s3, bucket, d).await,
            "GetObject" => get_object(&s3, bucket, &d).await,
            "ListObjectsV2" => list_objects_v2(&s3, &bucket, &d),
            _ => Ok(Delivered::default()),
        }
    }
}

/// A request as a client would send it, run through S3's own dispatch.
async fn run(
    s3: &S3,
    d: &Delivery,
    method: http::Method,
    bucket: String,
    key: String,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Response, AwsError> {
    let method_is_get = method == http::Method::GET;
    let mut req = http::Request::builder().method(method).uri(format!(
        "/{bucket}/{}",
        percent_encoding::utf8_percent_encode(&key, KEY_PATH)
    ));
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let (parts, ()) = req.body(()).map_err(internal)?.into_parts();
    let mut ctx = RequestContext::local("s3");
    ctx.request_id = aloft_core::ids::request_id();
    if !d.account.is_empty() {
        ctx.account_id.clone_from(&d.account);
    }
    if !d.region.is_empty() {
        ctx.region.clone_from(&d.region);
    }
    // GetObject of a version (`VersionId`, as Lambda's code reference may name one).
    let query = match opt(d, "VersionId") {
        Some(v) if method_is_get => Query(vec![("versionId".into(), v.into())]),
        _ => Query::default(),
    };
    let mut call = Call::new(ctx, parts, full(body), bucket, key, query);
    handlers::dispatch_for(s3, &mut call).await
}

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn key_of(d: &Delivery) -> Result<String, AwsError> {
    opt(d, "Key")
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .ok_or_else(|| AwsError::validation("Key is required"))
}

async fn put_object(s3: &S3, bucket: String, d: Delivery) -> Result<Delivered, AwsError> {
    let key = key_of(&d)?;
    let mut headers = vec![("content-length", d.payload.len().to_string())];
    if let Some(ct) = opt(&d, "ContentType") {
        headers.push(("content-type", ct.to_string()));
    }
    let body = d.payload.clone();
    let r = run(s3, &d, http::Method::PUT, bucket, key, &headers, body).await?;
    let mut info = Map::new();
    if let Some(e) = header(&r, "etag") {
        info.insert("ETag".into(), e.into());
    }
    if let Some(v) = header(&r, "x-amz-version-id") {
        info.insert("VersionId".into(), v.into());
    }
    Ok(Delivered {
        payload: None,
        info,
    })
}

/// `Range` (an HTTP range, `bytes=0-1048575`) and `IfMatch` pass as GetObject's headers,
/// so that a large object is read in parts, each from the same version: the part comes with
/// `ContentRange` (`bytes 0-1048575/5000000`), an unsatisfiable range is `InvalidRange`, a
/// changed object `PreconditionFailed`, as S3 answers them.
async fn get_object(s3: &S3, bucket: String, d: &Delivery) -> Result<Delivered, AwsError> {
    use http_body_util::BodyExt;
    let key = key_of(d)?;
    let mut headers = Vec::new();
    if let Some(r) = opt(d, "Range") {
        headers.push(("range", r.to_string()));
    }
    if let Some(e) = opt(d, "IfMatch") {
        headers.push(("if-match", e.to_string()));
    }
    let r = run(
        s3,
        d,
        http::Method::GET,
        bucket,
        key,
        &headers,
        Bytes::new(),
    )
    .await?;
    let mut info = Map::new();
    if let Some(e) = header(&r, "etag") {
        info.insert("ETag".into(), e.into());
    }
    if let Some(c) = header(&r, "content-range") {
        info.insert("ContentRange".into(), c.into());
    }
    let body = r
        .into_body()
        .collect()
        .await
        .map_err(|e| internal(format!("reading an object body: {e}")))?
        .to_bytes();
    info.insert("ContentLength".into(), body.len().into());
    Ok(Delivered {
        payload: Some(body),
        info,
    })
}

fn list_objects_v2(s3: &S3, bucket: &str, d: &Delivery) -> Result<Delivered, AwsError> {
    let prefix = opt(d, "Prefix").unwrap_or("");
    let max = match d.options.get("MaxKeys") {
        None | Some(Value::Null) => 1000,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => usize::try_from(n.min(1000)).unwrap_or(1000),
            _ => {
                return Err(invalid_argument(
                    "Argument maxKeys must be an integer between 0 and 2147483647",
                    "max-keys",
                    &v.to_string(),
                ));
            }
        },
    };
    let marker = match opt(d, "ContinuationToken") {
        None => None,
        Some(t) => Some(crate::handlers::listing::continuation_marker(t)?),
    };
    let cell = s3.bucket(bucket)?;
    let b = cell.read().map_err(internal)?;
    let l = list_current(&b.objects, prefix, None, marker.as_deref(), max);
    let contents: Vec<Value> = l
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Object(k, v) => Some(json!({"Key": k, "Size": v.size, "ETag": v.quoted_etag()})),
            Entry::Prefix(_) => None,
        })
        .collect();
    let mut info = Map::new();
    info.insert("KeyCount".into(), contents.len().into());
    info.insert("Contents".into(), contents.into());
    info.insert("IsTruncated".into(), l.truncated.into());
    if l.truncated
        && let Some(last) = &l.last
    {
        info.insert("NextContinuationToken".into(), B64.encode(last).into());
    }
    Ok(Delivered {
        payload: None,
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aloft_core::auth::{Authority, Authorization, Caller, Decision};
    use aloft_core::{AwsRequest, Service, ServiceContext};

    async fn started() -> (Arc<aloft_events::Targets>, Arc<S3>) {
        let ctx = ServiceContext::ephemeral().expect("ephemeral context");
        let s3 = S3::open(&ctx).await;
        ctx.targets
            .register_target("s3", Arc::new(S3Target::new(&s3)));
        (ctx.targets.clone(), s3)
    }

    async fn request(s3: &S3, method: &str, path: &str, body: &str) -> u16 {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-length", body.len().to_string())
            .body(())
            .unwrap()
            .into_parts();
        let req = AwsRequest {
            ctx: RequestContext::local("s3"),
            parts,
            body: full(body.to_string()),
        };
        s3.handle(req).await.status().as_u16()
    }

    fn delivery(op: &str, opts: Value) -> Delivery {
        let mut options = opts.as_object().cloned().unwrap_or_default();
        options.insert("Operation".into(), op.into());
        Delivery {
            options,
            account: aloft_core::context::DEFAULT_ACCOUNT.into(),
            region: "us-east-1".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn put_get_list_head_through_the_target() {
        let (t, s3) = started().await;
        assert_eq!(request(&s3, "PUT", "/exports", "").await, 200);
        let arn = "arn:aws:s3:::exports";
        for k in ["p/a.json", "p/b.json", "p/c d.json", "q/x"] {
            let mut d = delivery("PutObject", json!({"Key": k}));
            d.payload = Bytes::from(format!("body of {k}"));
            let out = t.deliver(arn, d).await.unwrap();
            let etag = out.info["ETag"].as_str().unwrap();
            // MD5 of the body, quoted, as a PutObject answers.
            assert_eq!(etag.len(), 34, "{etag}");
            assert!(etag.starts_with('"'));
        }
        let got = t
            .deliver(arn, delivery("GetObject", json!({"Key": "p/c d.json"})))
            .await
            .unwrap();
        assert_eq!(got.payload.unwrap(), Bytes::from("body of p/c d.json"));
        assert_eq!(got.info["ContentLength"], 18);
        // An object ARN names the key (Lambda's code references do so).
        let got = t
            .deliver(
                "arn:aws:s3:::exports/p/c d.json",
                delivery("GetObject", json!({})),
            )
            .await
            .unwrap();
        assert_eq!(got.payload.unwrap(), Bytes::from("body of p/c d.json"));
        // The object reads back over HTTP too: one store for both paths.
        assert_eq!(request(&s3, "GET", "/exports/p/c%20d.json", "").await, 200);

        let page = t
            .deliver(
                arn,
                delivery("ListObjectsV2", json!({"Prefix": "p/", "MaxKeys": 2})),
            )
            .await
            .unwrap();
        let keys: Vec<&str> = page.info["Contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["p/a.json", "p/b.json"]);
        assert_eq!(page.info["IsTruncated"], true);
        let token = page.info["NextContinuationToken"].as_str().unwrap();
        let rest = t
            .deliver(
                arn,
                delivery(
                    "ListObjectsV2",
                    json!({"Prefix": "p/", "ContinuationToken": token}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(rest.info["Contents"][0]["Key"], "p/c d.json");
        assert_eq!(rest.info["Contents"][0]["Size"], 18);
        assert_eq!(rest.info["IsTruncated"], false);
        assert!(rest.info.get("NextContinuationToken").is_none());

        t.deliver(arn, delivery("HeadBucket", json!({})))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn errors_are_s3s() {
        let (t, s3) = started().await;
        let e = t
            .deliver("arn:aws:s3:::nope", delivery("HeadBucket", json!({})))
            .await
            .unwrap_err();
        assert_eq!(e.code, "NoSuchBucket");
        assert_eq!(request(&s3, "PUT", "/bkt1", "").await, 200);
        let e = t
            .deliver(
                "arn:aws:s3:::bkt1",
                delivery("GetObject", json!({"Key": "missing"})),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "NoSuchKey");
        let e = t
            .deliver(
                "arn:aws:s3:::bkt1",
                delivery("HeadBucket", json!({"ExpectedBucketOwner": "111122223333"})),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        let mut other = delivery("PutObject", json!({"Key": "k"}));
        other.account = "111122223333".into();
        let e = t
            .deliver("arn:aws:s3:::bkt1", other.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(e.status.as_u16(), 403);
        let e = t
            .deliver(
                "arn:aws:s3:::bkt1",
                delivery("ListObjectsV2", json!({"ContinuationToken": "%%"})),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "InvalidArgument");
    }

    #[test]
    fn bucket_and_object_arns() {
        assert_eq!(bucket_of("arn:aws:s3:::b").unwrap(), ("b", None));
        assert_eq!(
            bucket_of("arn:aws:s3:::b/k/l.zip").unwrap(),
            ("b", Some("k/l.zip"))
        );
        assert!(bucket_of("arn:aws:s3:::/k").is_err());
        assert!(bucket_of("arn:aws:sqs:us-east-1:1:q").is_err());
    }

    /// An authority that records the questions and answers as told.
    struct Judge {
        asked: std::sync::Mutex<Vec<String>>,
        allow: std::sync::atomic::AtomicBool,
    }

    impl Authority for Judge {
        fn caller(&self, _: &str) -> Option<Caller> {
            None
        }

        fn authorize(&self, a: &Authorization<'_>) -> Decision {
            self.asked.lock().unwrap().push(format!(
                "{} {} {} {} {}",
                a.caller.arn,
                a.action,
                a.resource,
                a.resource_only,
                a.resource_policy
                    .is_some_and(|p| p.contains("111122223333"))
            ));
            if self.allow.load(std::sync::atomic::Ordering::SeqCst) {
                Decision::Allowed
            } else {
                Decision::ExplicitDeny {
                    resource_based: true,
                }
            }
        }
    }

    #[tokio::test]
    async fn with_an_authority_other_accounts_are_judged_by_it() {
        let ctx = ServiceContext::ephemeral().expect("ephemeral context");
        let judge = Arc::new(Judge {
            asked: std::sync::Mutex::new(Vec::new()),
            allow: false.into(),
        });
        assert!(ctx.authority.set(judge.clone()).is_ok());
        let s3 = S3::open(&ctx).await;
        ctx.targets
            .register_target("s3", Arc::new(S3Target::judged_by(&s3, &ctx)));
        let t = ctx.targets.clone();
        assert_eq!(request(&s3, "PUT", "/bkt", "").await, 200);
        // A grant the fallback reading would honour.
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::bkt/*"}]}"#;
        assert_eq!(request(&s3, "PUT", "/bkt?policy", policy).await, 204);
        let mut put = delivery("PutObject", json!({"Key": "k"}));
        put.account = "111122223333".into();
        put.payload = Bytes::from("x");
        let e = t
            .deliver("arn:aws:s3:::bkt", put.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(
            judge.asked.lock().unwrap().as_slice(),
            ["arn:aws:iam::111122223333:root s3:PutObject arn:aws:s3:::bkt/k true true"]
        );
        judge.allow.store(true, std::sync::atomic::Ordering::SeqCst);
        t.deliver("arn:aws:s3:::bkt", put).await.unwrap();
        let mut list = delivery("ListObjectsV2", json!({"Prefix": "k"}));
        list.account = "111122223333".into();
        t.deliver("arn:aws:s3:::bkt", list).await.unwrap();
        assert_eq!(
            judge.asked.lock().unwrap().last().unwrap(),
            "arn:aws:iam::111122223333:root s3:ListBucket arn:aws:s3:::bkt true true"
        );
        // The bucket's own account is not asked about.
        let n = judge.asked.lock().unwrap().len();
        t.deliver(
            "arn:aws:s3:::bkt",
            delivery("GetObject", json!({"Key": "k"})),
        )
        .await
        .unwrap();
        assert_eq!(judge.asked.lock().unwrap().len(), n);
    }

    #[tokio::test]
    async fn ranges_read_an_object_in_parts_from_one_version() {
        let (t, s3) = started().await;
        assert_eq!(request(&s3, "PUT", "/rng", "").await, 200);
        let mut put = delivery("PutObject", json!({"Key": "o"}));
        put.payload = Bytes::from("0123456789");
        let etag = t.deliver("arn:aws:s3:::rng", put).await.unwrap().info["ETag"].clone();
        let part = |range: &str, if_match: Value| {
            let mut o = json!({"Key": "o", "Range": range});
            if !if_match.is_null() {
                o["IfMatch"] = if_match;
            }
            t.deliver("arn:aws:s3:::rng", delivery("GetObject", o))
        };
        let got = part("bytes=0-3", Value::Null).await.unwrap();
        assert_eq!(got.payload.unwrap(), Bytes::from("0123"));
        assert_eq!(got.info["ContentRange"], "bytes 0-3/10");
        assert_eq!(got.info["ContentLength"], 4);
        assert_eq!(got.info["ETag"], etag);
        let got = part("bytes=8-11", etag.clone()).await.unwrap();
        assert_eq!(got.payload.unwrap(), Bytes::from("89"));
        assert_eq!(got.info["ContentRange"], "bytes 8-9/10");
        let e = part("bytes=10-20", Value::Null).await.unwrap_err();
        assert_eq!(e.code, "InvalidRange");
        let e = part("bytes=0-3", json!("\"other\"")).await.unwrap_err();
        assert_eq!(e.code, "PreconditionFailed");
    }

    #[tokio::test]
    async fn a_version_is_read_by_its_id() {
        let (t, s3) = started().await;
        assert_eq!(request(&s3, "PUT", "/vbkt", "").await, 200);
        let enable = r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#;
        assert_eq!(request(&s3, "PUT", "/vbkt?versioning", enable).await, 200);
        let mut versions = Vec::new();
        for body in ["one", "two"] {
            let mut put = delivery("PutObject", json!({"Key": "code.zip"}));
            put.payload = Bytes::from(body);
            let out = t.deliver("arn:aws:s3:::vbkt", put).await.unwrap();
            versions.push(out.info["VersionId"].as_str().unwrap().to_string());
        }
        let get = |o: Value| t.deliver("arn:aws:s3:::vbkt/code.zip", delivery("GetObject", o));
        let first = get(json!({"VersionId": versions[0]})).await.unwrap();
        assert_eq!(first.payload.unwrap(), Bytes::from("one"));
        let latest = get(json!({})).await.unwrap();
        assert_eq!(latest.payload.unwrap(), Bytes::from("two"));
    }
}
