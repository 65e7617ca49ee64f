//! S3 as a [`Target`] for other services (DynamoDB exports and imports write and read objects
//! through it): `PutObject`, `GetObject`, `ListObjectsV2` and `HeadBucket` on `arn:aws:s3:::B`.
//!
//! Writes and reads run the very handlers an HTTP request runs (a request is made for them),
//! so an object stored here has the ETag, checksum, versioning and notifications a PutObject
//! would give it. Options use S3's own member names (`Key`, `ContentType`,
//! `ExpectedBucketOwner`, `Prefix`, `ContinuationToken`, `MaxKeys`).
//!
//! A bucket owned by another account than `Delivery.account` refuses with `AccessDenied`
//! unless its bucket policy allows that account the action (AWS's cross-account rule: the
//! bucket owner must grant it).

use std::sync::{Arc, Weak};

use aloft_core::body::{Response, full};
use aloft_core::{AwsError, RequestContext};
use aloft_events::{Delivered, Delivery, Target};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::S3;
use crate::domain::listing::{Entry, list_current};
use crate::error::{S3Error, internal, invalid_argument};
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
pub struct S3Target(pub Weak<S3>);

impl S3Target {
    pub fn new(s3: &Arc<S3>) -> Self {
        S3Target(Arc::downgrade(s3))
    }
}

/// The bucket of `arn:aws:s3:::bucket` (an object ARN `bucket/key` is refused: options name
/// the key).
fn bucket_of(arn: &str) -> Result<&str, AwsError> {
    arn.strip_prefix("arn:aws:s3:::")
        .or_else(|| {
            arn.split_once(":s3:::")
                .filter(|(p, _)| p.starts_with("arn:"))
                .map(|(_, b)| b)
        })
        .filter(|b| !b.is_empty() && !b.contains('/'))
        .ok_or_else(|| AwsError::validation(format!("Invalid S3 bucket ARN: {arn}")))
}

fn opt<'a>(d: &'a Delivery, name: &str) -> Option<&'a str> {
    d.options.get(name).and_then(Value::as_str)
}

#[async_trait::async_trait]
impl Target for S3Target {
    async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
        let s3 = self
            .0
            .upgrade()
            .ok_or_else(|| internal("S3 has shut down"))?;
        let bucket = bucket_of(arn)?.to_string();
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
        check_owner(&s3, &bucket, &d, action)?;
        match op {
            "PutObject" => put_object(&s3, bucket, d).await,
            "GetObject" => get_object(&s3, bucket, &d).await,
            "ListObjectsV2" => list_objects_v2(&s3, &bucket, &d),
            _ => Ok(Delivered::default()),
        }
    }
}

/// NoSuchBucket, `ExpectedBucketOwner`, and the cross-account grant.
fn check_owner(s3: &S3, bucket: &str, d: &Delivery, action: &str) -> Result<(), AwsError> {
    let cell = s3.bucket(bucket)?;
    let b = cell.read().map_err(internal)?;
    let owner = b.info.account.as_str();
    if opt(d, "ExpectedBucketOwner").is_some_and(|e| e != owner) {
        return Err(S3Error::AccessDenied.err());
    }
    if d.account.is_empty() || d.account == owner {
        return Ok(());
    }
    let key = opt(d, "Key");
    let resource = crate::domain::access::resource_arn(bucket, key);
    let bucket_arn = crate::domain::access::resource_arn(bucket, None);
    let on = if action == "s3:ListBucket" {
        &bucket_arn
    } else {
        &resource
    };
    match b.info.config.policy.as_deref() {
        Some(p) if policy_allows(p, &d.account, action, on) => Ok(()),
        _ => Err(S3Error::AccessDenied.err()),
    }
}

/// Whether a bucket policy lets `account` (its root or any of its principals, or everyone)
/// perform `action` on `resource`: an Allow statement matches and no Deny does. Conditions
/// are not evaluated: a statement with conditions does not grant.
pub fn policy_allows(policy: &str, account: &str, action: &str, resource: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return false,
    };
    let mut allowed = false;
    for s in &statements {
        if !names_principal(s.get("Principal"), account)
            || !any_matches(s.get("Action"), action)
            || !any_matches(s.get("Resource"), resource)
        {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") if s.get("Condition").is_none() => allowed = true,
            _ => {}
        }
    }
    allowed
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn names_principal(p: Option<&Value>, account: &str) -> bool {
    let of_account = |s: &str| {
        s == "*"
            || s == account
            || s.split(':').nth(4).is_some_and(|a| a == account) && s.starts_with("arn:")
    };
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => strings(m.get("AWS")).into_iter().any(of_account),
        _ => false,
    }
}

fn any_matches(v: Option<&Value>, what: &str) -> bool {
    strings(v)
        .into_iter()
        .any(|pat| aloft_core::auth::wildcard(pat, what, true))
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
    let mut call = Call::new(ctx, parts, full(body), bucket, key, Query::default());
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

async fn get_object(s3: &S3, bucket: String, d: &Delivery) -> Result<Delivered, AwsError> {
    use http_body_util::BodyExt;
    let key = key_of(d)?;
    let r = run(s3, d, http::Method::GET, bucket, key, &[], Bytes::new()).await?;
    let mut info = Map::new();
    if let Some(e) = header(&r, "etag") {
        info.insert("ETag".into(), e.into());
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
    fn bucket_policies_grant_other_accounts() {
        let p = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
             "Action":["s3:PutObject","s3:Get*"],"Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#;
        assert!(policy_allows(
            p,
            "111122223333",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(policy_allows(
            p,
            "111122223333",
            "s3:GetObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(!policy_allows(
            p,
            "444455556666",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(!policy_allows(
            p,
            "111122223333",
            "s3:PutObject",
            "arn:aws:s3:::b/secret/x"
        ));
        assert!(!policy_allows(
            p,
            "111122223333",
            "s3:ListBucket",
            "arn:aws:s3:::b"
        ));
        assert!(!policy_allows(
            "not json",
            "1",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
        assert_eq!(bucket_of("arn:aws:s3:::b").unwrap(), "b");
        assert!(bucket_of("arn:aws:s3:::b/k").is_err());
        assert!(bucket_of("arn:aws:sqs:us-east-1:1:q").is_err());
    }
}
