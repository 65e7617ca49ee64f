//! Bucket sub-resources (tagging, CORS, website, policy, ACL, public access block, lifecycle,
//! notifications, encryption, ownership) and object tagging and ACLs: stored, validated as S3
//! validates them, returned as they were put.

use aloft_core::AwsError;
use aloft_core::body::{Response, full};
use aloft_store::Batch;
use serde::Serialize;

use super::objects::{check_version_id, validate_tags};
use super::{Call, committed};
use crate::domain::acl::{self, AclSpec};
use crate::domain::config::{
    AccessControlPolicy, BucketConfig, CorsConfiguration, LifecycleConfiguration,
    NotificationConfiguration, OwnershipControls, PublicAccessBlockConfiguration,
    ServerSideEncryptionConfiguration, Tag, TagSet, Tagging, WebsiteConfiguration,
};
use crate::domain::lifecycle_rules;
use crate::domain::model::{Bucket, Versioning};
use crate::domain::notifications::{EventExtra, ObjectEvent, valid_event};
use crate::domain::versions;
use crate::error::{S3Error, internal, invalid_argument, no_such_key};
use crate::routes::Op;
use crate::xml::Resp;
use crate::{S3, events, store};

/// Since September 2024 objects under 128 KiB do not transition unless asked.
const DEFAULT_MIN_SIZE: &str = "all_storage_classes_128K";

fn missing(code: S3Error, bucket: &str) -> AwsError {
    code.err().with_field("BucketName", bucket)
}

/// Applies `change` to the bucket's configuration and journals it.
async fn update(
    s3: &S3,
    bucket: &str,
    change: impl FnOnce(&mut BucketConfig),
) -> Result<(), AwsError> {
    let cell = s3.bucket(bucket)?;
    let commit = {
        let mut b = cell.write().map_err(internal)?;
        change(&mut b.info.config);
        let mut batch = Batch::new();
        store::put_bucket(&mut batch, &b.info);
        s3.store.submit(batch)
    };
    committed(commit).await
}

fn read<T>(s3: &S3, bucket: &str, f: impl FnOnce(&Bucket) -> T) -> Result<T, AwsError> {
    let cell = s3.bucket(bucket)?;
    let b = cell.read().map_err(internal)?;
    Ok(f(&b))
}

fn tags_to_pairs(t: &Tagging) -> Vec<(String, String)> {
    t.tag_set
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

fn pairs_to_tagging(p: &[(String, String)]) -> Tagging {
    Tagging {
        tag_set: TagSet {
            tags: p
                .iter()
                .map(|(k, v)| Tag {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
        },
    }
}

fn check_user_tags(t: &Tagging, max: usize) -> Result<(), AwsError> {
    let pairs = tags_to_pairs(t);
    if pairs.len() > max {
        return Err(S3Error::InvalidTag.msg(format!("Object tags cannot be greater than {max}")));
    }
    if pairs.iter().any(|(k, _)| k.starts_with("aws:")) {
        return Err(S3Error::InvalidTag.msg("System tags cannot be added/updated by requester"));
    }
    if max == 10 {
        validate_tags(&pairs)
    } else {
        validate_tags(&pairs[..0]).and_then(|()| {
            for (i, (k, _)) in pairs.iter().enumerate() {
                if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                    return Err(
                        S3Error::InvalidTag.msg("Cannot provide multiple Tags with the same key")
                    );
                }
            }
            Ok(())
        })
    }
}

const CORS_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

fn check_cors(c: &CorsConfiguration) -> Result<(), AwsError> {
    if c.rules.is_empty() || c.rules.len() > 100 {
        return Err(S3Error::MalformedXML.err());
    }
    for r in &c.rules {
        if r.allowed_methods.is_empty() || r.allowed_origins.is_empty() {
            return Err(S3Error::MalformedXML.err());
        }
        if let Some(m) = r
            .allowed_methods
            .iter()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(S3Error::InvalidRequest.msg(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
    }
    Ok(())
}

fn check_website(w: &WebsiteConfiguration) -> Result<(), AwsError> {
    if w.redirect_all.is_some() {
        if w.index.is_some() || w.error.is_some() || w.routing_rules.is_some() {
            return Err(S3Error::InvalidRequest.msg(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
            ));
        }
        return Ok(());
    }
    match &w.index {
        None => Err(S3Error::InvalidArgument.msg(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        )),
        Some(i) if i.suffix.is_empty() || i.suffix.contains('/') => Err(invalid_argument(
            "The IndexDocument Suffix is not well formed",
            "IndexDocument",
            &i.suffix,
        )),
        Some(_) => Ok(()),
    }
}

fn check_notifications(n: &mut NotificationConfiguration) -> Result<(), AwsError> {
    let mut events: Vec<&mut Vec<String>> = Vec::new();
    let mut ids: Vec<&mut Option<String>> = Vec::new();
    for c in &mut n.queues {
        events.push(&mut c.events);
        ids.push(&mut c.id);
    }
    for c in &mut n.topics {
        events.push(&mut c.events);
        ids.push(&mut c.id);
    }
    for c in &mut n.lambdas {
        events.push(&mut c.events);
        ids.push(&mut c.id);
    }
    for e in events {
        if e.is_empty() {
            return Err(S3Error::MalformedXML.err());
        }
        if let Some(bad) = e.iter().find(|x| !valid_event(x)) {
            return Err(invalid_argument(
                "The event is not supported for notifications",
                "Event",
                bad,
            ));
        }
    }
    // S3 names unnamed configurations.
    for id in ids {
        if id.is_none() {
            *id = Some(aloft_core::ids::uuid());
        }
    }
    Ok(())
}

use crate::domain::access::policy_is_public;

#[derive(Serialize)]
struct PolicyStatus {
    #[serde(rename = "IsPublic")]
    is_public: bool,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct RequestPayment {
    #[serde(rename = "Payer")]
    payer: &'static str,
}

pub async fn bucket_config(s3: &S3, call: &mut Call, op: Op) -> Result<Response, AwsError> {
    let bucket = call.bucket.clone();
    let b = bucket.as_str();
    use Op::*;
    match op {
        GetBucketTagging => {
            let t = read(s3, b, |x| x.info.config.tagging.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchTagSet, b))?;
            Ok(Resp::ok().xml("Tagging", &t))
        }
        PutBucketTagging => {
            let t: Tagging = call.read_xml().await?;
            check_user_tags(&t, 50)?;
            update(s3, b, |c| c.tagging = Some(t)).await?;
            Ok(Resp::new(204).empty())
        }
        DeleteBucketTagging => {
            update(s3, b, |c| c.tagging = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketCors => {
            let c = read(s3, b, |x| x.info.config.cors.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchCORSConfiguration, b))?;
            Ok(Resp::ok().xml("CORSConfiguration", &c))
        }
        PutBucketCors => {
            let c: CorsConfiguration = call.read_xml().await?;
            check_cors(&c)?;
            update(s3, b, |x| x.cors = Some(c)).await?;
            Ok(Resp::ok().empty())
        }
        DeleteBucketCors => {
            update(s3, b, |c| c.cors = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketWebsite => {
            let w = read(s3, b, |x| x.info.config.website.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchWebsiteConfiguration, b))?;
            Ok(Resp::ok().xml("WebsiteConfiguration", &w))
        }
        PutBucketWebsite => {
            let w: WebsiteConfiguration = call.read_xml().await?;
            check_website(&w)?;
            update(s3, b, |x| x.website = Some(w)).await?;
            Ok(Resp::ok().empty())
        }
        DeleteBucketWebsite => {
            update(s3, b, |c| c.website = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketPolicy => {
            let p = read(s3, b, |x| x.info.config.policy.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchBucketPolicy, b))?;
            Ok(Resp::ok()
                .header("content-type", "application/json")
                .body(full(p)))
        }
        PutBucketPolicy => {
            let raw = call.read_small().await?;
            let text = String::from_utf8(raw.to_vec()).map_err(|_| {
                malformed_policy("Policies must be valid JSON and the first byte must be '{'")
            })?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .ok()
                .filter(|v: &serde_json::Value| v.is_object() && text.trim_start().starts_with('{'))
                .ok_or_else(|| {
                    malformed_policy("Policies must be valid JSON and the first byte must be '{'")
                })?;
            if v.get("Statement").is_none() {
                return Err(malformed_policy("Missing required field Statement"));
            }
            super::access::check_policy_put(s3, call, &text)?;
            update(s3, b, |c| c.policy = Some(text)).await?;
            Ok(Resp::new(204).empty())
        }
        DeleteBucketPolicy => {
            update(s3, b, |c| c.policy = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketPolicyStatus => {
            let p = read(s3, b, |x| x.info.config.policy.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchBucketPolicy, b))?;
            Ok(Resp::ok().xml(
                "PolicyStatus",
                &PolicyStatus {
                    is_public: policy_is_public(&p),
                },
            ))
        }
        GetBucketAcl => {
            let (acl, account) = read(s3, b, |x| {
                (x.info.config.acl.clone(), x.info.account.clone())
            })?;
            let acl = acl
                .or_else(|| AccessControlPolicy::canned(&account, "private"))
                .unwrap_or_default();
            Ok(Resp::ok().xml("AccessControlPolicy", &acl))
        }
        PutBucketAcl => {
            let owner = read(s3, b, |x| x.info.account.clone())?;
            let acl = acl::expand(Some(&acl_from_request(s3, call, &owner).await?), &owner);
            update(s3, b, |c| c.acl = Some(acl)).await?;
            Ok(Resp::ok().empty())
        }
        GetPublicAccessBlock => {
            let p = read(s3, b, |x| x.info.config.public_access_block.clone())?
                .ok_or_else(|| missing(S3Error::NoSuchPublicAccessBlockConfiguration, b))?;
            Ok(Resp::ok().xml("PublicAccessBlockConfiguration", &p))
        }
        PutPublicAccessBlock => {
            let p: PublicAccessBlockConfiguration = call.read_xml().await?;
            update(s3, b, |c| c.public_access_block = Some(p)).await?;
            Ok(Resp::ok().empty())
        }
        DeletePublicAccessBlock => {
            update(s3, b, |c| c.public_access_block = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketLifecycleConfiguration => {
            let (l, min) = read(s3, b, |x| {
                (
                    x.info.config.lifecycle.clone(),
                    x.info.config.transition_min_size.clone(),
                )
            })?;
            let l = l.ok_or_else(|| missing(S3Error::NoSuchLifecycleConfiguration, b))?;
            Ok(Resp::ok()
                .header(
                    "x-amz-transition-default-minimum-object-size",
                    min.as_deref().unwrap_or(DEFAULT_MIN_SIZE),
                )
                .xml("LifecycleConfiguration", &l))
        }
        PutBucketLifecycleConfiguration => {
            let min = call
                .header("x-amz-transition-default-minimum-object-size")
                .map(str::to_string);
            if let Some(m) = min.as_deref()
                && !matches!(m, "all_storage_classes_128K" | "varies_by_storage_class")
            {
                return Err(invalid_argument(
                    "Invalid value for header x-amz-transition-default-minimum-object-size",
                    "x-amz-transition-default-minimum-object-size",
                    m,
                ));
            }
            let l: LifecycleConfiguration = call.read_xml().await?;
            lifecycle_rules::validate(&l)?;
            let echoed = min.clone().unwrap_or_else(|| DEFAULT_MIN_SIZE.into());
            update(s3, b, |c| {
                c.lifecycle = Some(l);
                c.transition_min_size = min;
            })
            .await?;
            Ok(Resp::ok()
                .header("x-amz-transition-default-minimum-object-size", echoed)
                .empty())
        }
        DeleteBucketLifecycle => {
            update(s3, b, |c| {
                c.lifecycle = None;
                c.transition_min_size = None;
            })
            .await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketNotificationConfiguration => {
            let n = read(s3, b, |x| x.info.config.notification.clone())?.unwrap_or_default();
            Ok(Resp::ok().xml("NotificationConfiguration", &n))
        }
        PutBucketNotificationConfiguration => {
            let raw = call.read_small().await?;
            let mut n: NotificationConfiguration = if raw.iter().all(u8::is_ascii_whitespace) {
                return Err(S3Error::MalformedXML.err());
            } else {
                crate::xml::from_xml(&raw)?
            };
            check_notifications(&mut n)?;
            let (account, region) =
                read(s3, b, |x| (x.info.account.clone(), x.info.region.clone()))?;
            let stored = n.clone();
            update(s3, b, |c| c.notification = Some(stored)).await?;
            if call.header("x-amz-skip-destination-validation") != Some("true") {
                events::test_event(&s3.targets, &n, b, &account, &region, &call.ctx.request_id);
            }
            Ok(Resp::ok().empty())
        }
        GetBucketEncryption => {
            let e = read(s3, b, |x| x.info.config.encryption.clone())?
                .unwrap_or_else(ServerSideEncryptionConfiguration::aws_default);
            Ok(Resp::ok().xml("ServerSideEncryptionConfiguration", &e))
        }
        PutBucketEncryption => {
            let e: ServerSideEncryptionConfiguration = call.read_xml().await?;
            let ok = !e.rules.is_empty()
                && e.rules.iter().all(|r| {
                    r.by_default.as_ref().is_none_or(|d| {
                        matches!(d.algorithm.as_str(), "AES256" | "aws:kms" | "aws:kms:dsse")
                    })
                });
            if !ok {
                return Err(S3Error::MalformedXML.err());
            }
            update(s3, b, |c| c.encryption = Some(e)).await?;
            Ok(Resp::ok().empty())
        }
        DeleteBucketEncryption => {
            update(s3, b, |c| c.encryption = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketOwnershipControls => {
            let o = read(s3, b, |x| x.info.config.ownership.clone())?
                .ok_or_else(|| missing(S3Error::OwnershipControlsNotFoundError, b))?;
            Ok(Resp::ok().xml("OwnershipControls", &o))
        }
        PutBucketOwnershipControls => {
            let o: OwnershipControls = call.read_xml().await?;
            let ok = o.rules.len() == 1
                && matches!(
                    o.rules[0].object_ownership.as_str(),
                    "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter"
                );
            if !ok {
                return Err(S3Error::MalformedXML.err());
            }
            // Disabling ACLs needs a bucket ACL that grants nothing beyond the owner.
            if o.rules[0].object_ownership == "BucketOwnerEnforced" {
                let (acl, owner) = read(s3, b, |x| {
                    (x.info.config.acl.clone(), x.info.account.clone())
                })?;
                let owner_id = crate::domain::config::canonical_id(&owner);
                let outside = acl.is_some_and(|a| {
                    a.list
                        .grants
                        .iter()
                        .any(|g| g.grantee.id.as_deref() != Some(owner_id.as_str()))
                });
                if outside {
                    return Err(S3Error::InvalidBucketAclWithObjectOwnership.err());
                }
            }
            update(s3, b, |c| c.ownership = Some(o)).await?;
            Ok(Resp::ok().empty())
        }
        DeleteBucketOwnershipControls => {
            update(s3, b, |c| c.ownership = None).await?;
            Ok(Resp::new(204).empty())
        }
        GetBucketLogging => {
            s3.bucket(b)?;
            Ok(Resp::ok().xml("BucketLoggingStatus", &Empty {}))
        }
        GetBucketAccelerateConfiguration => {
            s3.bucket(b)?;
            Ok(Resp::ok().xml("AccelerateConfiguration", &Empty {}))
        }
        GetBucketRequestPayment => {
            s3.bucket(b)?;
            Ok(Resp::ok().xml(
                "RequestPaymentConfiguration",
                &RequestPayment {
                    payer: "BucketOwner",
                },
            ))
        }
        _ => Err(S3Error::NotImplemented.err()),
    }
}

#[derive(Serialize)]
struct EmptyList {
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
}

/// S3's answers for configurations Aloft never stores.
pub fn absent_config(s3: &S3, call: &Call, op: Op) -> Result<Response, AwsError> {
    let b = call.bucket.as_str();
    s3.bucket(b)?;
    match op {
        Op::GetBucketReplication => Err(missing(S3Error::ReplicationConfigurationNotFoundError, b)),
        Op::GetObjectLockConfiguration => {
            Err(missing(S3Error::ObjectLockConfigurationNotFoundError, b))
        }
        Op::ListBucketConfigurations(_) if call.q.get("id").is_some() => {
            Err(S3Error::NoSuchConfiguration.err())
        }
        Op::ListBucketConfigurations(root) => Ok(Resp::ok().xml(
            root,
            &EmptyList {
                is_truncated: false,
            },
        )),
        _ => Err(S3Error::NotImplemented.err()),
    }
}

fn malformed_policy(msg: &str) -> AwsError {
    AwsError::new("MalformedPolicy", 400, msg)
}

/// An ACL from `x-amz-acl`, the grant headers or an `AccessControlPolicy` body (for a
/// resource `owner` owns), refused when Object Ownership disables ACLs or, under
/// `--enforce-iam`, when public ACLs are blocked.
async fn acl_from_request(s3: &S3, call: &mut Call, owner: &str) -> Result<AclSpec, AwsError> {
    let from_headers = acl::from_headers(&|n| call.header(n).map(str::to_string), owner)?;
    let raw = call.read_small().await?;
    let blank = raw.iter().all(u8::is_ascii_whitespace);
    let spec = match from_headers {
        Some(_) if !blank => return Err(S3Error::UnexpectedContent.err()),
        Some(spec) => spec,
        None if blank => {
            return Err(AwsError::new(
                "MissingSecurityHeader",
                400,
                "Your request was missing a required header",
            )
            .with_field("MissingHeaderName", "x-amz-acl"));
        }
        None => {
            let doc: AccessControlPolicy =
                crate::xml::from_xml(&raw).map_err(|_| S3Error::MalformedACLError.err())?;
            AclSpec::Grants(acl::check_document(doc, owner)?)
        }
    };
    super::object_input::check_ownership(s3, &call.bucket, &spec)?;
    if super::access::enforcing(call) && acl::is_public(&acl::expand(Some(&spec), owner)) {
        let blocked = read(s3, &call.bucket, |x| {
            x.info
                .config
                .public_access_block
                .as_ref()
                .is_some_and(|p| p.block_public_acls)
        })?;
        if blocked {
            return Err(S3Error::AccessDenied.err());
        }
    }
    Ok(spec)
}

pub async fn object_config(s3: &S3, call: &mut Call, op: Op) -> Result<Response, AwsError> {
    let version = call.q.get("versionId").map(str::to_string);
    if let Some(v) = &version {
        check_version_id(v)?;
    }
    let cell = s3.bucket(&call.bucket)?;
    // Reads.
    if matches!(op, Op::GetObjectTagging | Op::GetObjectAcl) {
        let b = cell.read().map_err(internal)?;
        let v = found(&b, &call.key, version.as_deref())?;
        let mut r = Resp::ok();
        if v.version_id.is_some() || b.info.versioning != Versioning::Unversioned {
            r = r.header("x-amz-version-id", v.version_str());
        }
        return Ok(if op == Op::GetObjectTagging {
            r.xml("Tagging", &pairs_to_tagging(&v.meta.tags))
        } else {
            r.xml("AccessControlPolicy", &v.meta.acl_policy(&b.info.account))
        });
    }
    enum Change {
        Tags(Vec<(String, String)>),
        Acl(AclSpec),
    }
    let change = match op {
        Op::PutObjectTagging => {
            let t: Tagging = call.read_xml().await?;
            check_user_tags(&t, 10)?;
            Change::Tags(tags_to_pairs(&t))
        }
        Op::DeleteObjectTagging => Change::Tags(Vec::new()),
        _ => {
            let owner = {
                let b = cell.read().map_err(internal)?;
                let v = found(&b, &call.key, version.as_deref())?;
                v.meta.owner_account(&b.info.account).to_string()
            };
            Change::Acl(acl_from_request(s3, call, &owner).await?)
        }
    };
    let event_name = match op {
        Op::PutObjectTagging => "ObjectTagging:Put",
        Op::DeleteObjectTagging => "ObjectTagging:Delete",
        _ => "ObjectAcl:Put",
    };
    let now = aloft_core::clock::now_millis();
    let principal = super::objects::principal(call);
    let (commit, vid, versioning, staged) = {
        let mut b = cell.write().map_err(internal)?;
        let versioning = b.info.versioning;
        let notif = b.info.config.notification.clone();
        let want = version.as_deref();
        found(&b, &call.key, want)?;
        let vs = b.objects.get_mut(&call.key).expect("found above");
        let target = match want {
            None => vs.last_mut(),
            Some(id) => {
                let id = (id != "null").then_some(id);
                vs.iter_mut().find(|v| v.version_id.as_deref() == id)
            }
        }
        .expect("found above");
        match change {
            Change::Tags(t) => target.meta.tags = t,
            Change::Acl(a) => target.meta.set_acl(Some(a)),
        }
        let mut batch = Batch::new();
        store::put_version(&mut batch, &call.bucket, &call.key, target);
        let ev = ObjectEvent {
            name: event_name,
            bucket: call.bucket.clone(),
            key: call.key.clone(),
            size: Some(target.size),
            etag: Some(target.etag.clone()),
            version_id: target.version_id.clone(),
            seq: s3.next_seq(),
            time_ms: now,
            region: call.ctx.region.clone(),
            account: call.ctx.account_id.clone(),
            request_id: call.ctx.request_id.clone(),
            principal,
            source_ip: "127.0.0.1".into(),
            extra: EventExtra::default(),
        };
        let staged = events::stage(s3, notif.as_ref(), &ev, &mut batch);
        (
            s3.store.submit(batch),
            target.version_str().to_string(),
            versioning,
            staged,
        )
    };
    committed(commit).await?;
    events::send(s3, staged);
    let status = if op == Op::DeleteObjectTagging {
        204
    } else {
        200
    };
    let mut r = Resp::new(status);
    if versioning != Versioning::Unversioned || vid != "null" {
        r = r.header("x-amz-version-id", vid);
    }
    Ok(r.empty())
}

/// The version an object sub-resource call names, with S3's errors.
fn found<'a>(
    b: &'a Bucket,
    key: &str,
    version: Option<&str>,
) -> Result<&'a crate::domain::model::ObjectVersion, AwsError> {
    match (versions::find(b, key, version), version) {
        (Some(v), _) if !v.delete_marker => Ok(v),
        (Some(_), Some(_)) => Err(S3Error::MethodNotAllowed
            .err()
            .with_field("Method", "GET")
            .with_field("ResourceType", "DeleteMarker")),
        (None, Some(v)) => Err(S3Error::NoSuchVersion
            .err()
            .with_field("Key", key)
            .with_field("VersionId", v)),
        _ => Err(no_such_key(key)),
    }
}
