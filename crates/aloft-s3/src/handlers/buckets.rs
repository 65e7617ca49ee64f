//! Buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation and
//! versioning.

use std::sync::{Arc, RwLock};

use aloft_core::AwsError;
use aloft_core::body::Response;
use aloft_store::Batch;
use serde::{Deserialize, Serialize};

use super::{Call, committed, iso};
use crate::S3;
use crate::domain::acl::AclSpec;
use crate::domain::config::{
    OwnershipControls, OwnershipRule, VersioningConfiguration, canonical_id,
};
use crate::domain::model::{Bucket, BucketInfo, Versioning};
use crate::domain::names::check_bucket_name;
use crate::error::{S3Error, internal, invalid_argument};
use crate::store;
use crate::xml::Resp;

#[derive(Serialize)]
pub struct Owner {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "DisplayName")]
    display_name: &'static str,
}

#[derive(Serialize)]
struct BucketEntry {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "CreationDate")]
    creation_date: String,
    #[serde(rename = "BucketRegion")]
    region: String,
}

#[derive(Serialize)]
struct BucketList {
    #[serde(rename = "Bucket")]
    buckets: Vec<BucketEntry>,
}

#[derive(Serialize)]
struct ListAllMyBucketsResult {
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "Buckets")]
    buckets: BucketList,
    #[serde(rename = "ContinuationToken", skip_serializing_if = "Option::is_none")]
    continuation_token: Option<String>,
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
}

pub fn owner(account: &str) -> Owner {
    Owner {
        id: canonical_id(account),
        display_name: "aloft",
    }
}

pub async fn list_buckets(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let prefix = call.q.get("prefix").map(str::to_string);
    let region = call.q.get("bucket-region");
    let mut buckets: Vec<BucketEntry> = s3
        .bucket_names()
        .iter()
        .filter_map(|cell| {
            let b = cell.read().ok()?;
            let i = &b.info;
            (i.account == call.ctx.account_id
                && prefix.as_deref().is_none_or(|p| i.name.starts_with(p))
                && region.is_none_or(|r| r == i.region))
            .then(|| BucketEntry {
                name: i.name.clone(),
                creation_date: iso(i.created),
                region: i.region.clone(),
            })
        })
        .collect();
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    // Paging: the token is the last name returned; S3 allows up to 10,000 per page.
    if let Some(token) = call.q.get("continuation-token") {
        buckets.retain(|b| b.name.as_str() > token);
    }
    let max = match call.q.get("max-buckets") {
        None => usize::MAX,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                    "max-buckets",
                    m,
                )
            })?,
    };
    let continuation_token = (buckets.len() > max).then(|| buckets[max - 1].name.clone());
    buckets.truncate(max);
    Ok(Resp::ok().xml(
        "ListAllMyBucketsResult",
        &ListAllMyBucketsResult {
            owner: owner(&call.ctx.account_id),
            buckets: BucketList { buckets },
            continuation_token,
            prefix,
        },
    ))
}

#[derive(Deserialize, Default)]
struct CreateBucketConfiguration {
    #[serde(rename = "LocationConstraint", default)]
    location_constraint: Option<String>,
}

pub async fn create_bucket(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let name = call.bucket.clone();
    check_bucket_name(&name)?;
    let raw = call.read_small().await?;
    let cfg: CreateBucketConfiguration = if raw.iter().all(u8::is_ascii_whitespace) {
        CreateBucketConfiguration::default()
    } else {
        crate::xml::from_xml(&raw)?
    };
    let region = call.ctx.region.clone();
    let lc = cfg.location_constraint.filter(|l| !l.is_empty());
    match lc.as_deref() {
        // us-east-1 is the one region that must not be named.
        Some("us-east-1") => {
            return Err(S3Error::InvalidLocationConstraint
                .err()
                .with_field("LocationConstraint", "us-east-1"));
        }
        Some(l) if l != region => {
            return Err(S3Error::IllegalLocationConstraintException.msg(format!(
                "The {l} location constraint is incompatible for the region specific endpoint this request was sent to."
            )));
        }
        None if region != "us-east-1" => {
            return Err(S3Error::IllegalLocationConstraintException.err());
        }
        _ => {}
    }
    let mut config = crate::domain::config::BucketConfig::default();
    let acl_spec = crate::domain::acl::from_headers(
        &|n| call.header(n).map(str::to_string),
        &call.ctx.account_id,
    )?;
    let ownership = call
        .header("x-amz-object-ownership")
        .unwrap_or("BucketOwnerEnforced");
    if !matches!(
        ownership,
        "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter"
    ) {
        return Err(invalid_argument(
            "Invalid x-amz-object-ownership header",
            "x-amz-object-ownership",
            ownership,
        ));
    }
    // ACLs are disabled under BucketOwnerEnforced (the default since April 2023): a bucket may
    // still be created with a private or owner-full-control ACL.
    if let Some(spec) = &acl_spec {
        let owner_only = matches!(spec, AclSpec::Canned(c) if c == "private")
            || crate::domain::acl::allowed_when_enforced(spec, &call.ctx.account_id);
        if ownership == "BucketOwnerEnforced" && !owner_only {
            return Err(S3Error::InvalidBucketAclWithObjectOwnership.err());
        }
        config.acl = Some(crate::domain::acl::expand(Some(spec), &call.ctx.account_id));
    }
    config.ownership = Some(OwnershipControls {
        rules: vec![OwnershipRule {
            object_ownership: ownership.to_string(),
        }],
    });
    let info = BucketInfo {
        name: name.clone(),
        account: call.ctx.account_id.clone(),
        region: region.clone(),
        created: aloft_core::clock::now_millis(),
        versioning: Versioning::Unversioned,
        config,
    };
    let commit = {
        let mut map = s3.buckets.write().map_err(internal)?;
        if let Some(existing) = map.get(&name) {
            let e = existing.read().map_err(internal)?;
            if e.info.account != call.ctx.account_id {
                return Err(S3Error::BucketAlreadyExists
                    .err()
                    .with_field("BucketName", name));
            }
            // us-east-1 answers a repeated create by the owner with 200 (a legacy AWS quirk).
            if e.info.region == "us-east-1" && region == "us-east-1" {
                return Ok(Resp::ok().header("location", format!("/{name}")).empty());
            }
            return Err(S3Error::BucketAlreadyOwnedByYou
                .err()
                .with_field("BucketName", name));
        }
        let mut batch = Batch::new();
        store::put_bucket(&mut batch, &info);
        map.insert(name.clone(), Arc::new(RwLock::new(Bucket::new(info))));
        s3.store.submit(batch)
    };
    committed(commit).await?;
    Ok(Resp::ok().header("location", format!("/{name}")).empty())
}

pub async fn head_bucket(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let region = cell.read().map_err(internal)?.info.region.clone();
    Ok(Resp::ok()
        .header("x-amz-bucket-region", region)
        .header("x-amz-access-point-alias", "false")
        .empty())
}

pub async fn delete_bucket(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let name = call.bucket.clone();
    let (commit, blobs) = {
        let mut map = s3.buckets.write().map_err(internal)?;
        let cell = map
            .get(&name)
            .cloned()
            .ok_or_else(|| crate::error::no_such_bucket(&name))?;
        let b = cell.read().map_err(internal)?;
        if !b.is_empty() {
            return Err(S3Error::BucketNotEmpty.err().with_field("BucketName", name));
        }
        let mut batch = Batch::new();
        batch.delete(store::BUCKETS, store::bucket_key(&b.info));
        let mut blobs = Vec::new();
        for u in b.uploads.values() {
            store::delete_upload(&mut batch, &name, u);
            for p in u.parts.values() {
                p.data.blob_ids(&mut blobs);
            }
        }
        drop(b);
        map.remove(&name);
        (s3.store.submit(batch), blobs)
    };
    committed(commit).await?;
    s3.bodies.remove(&blobs);
    Ok(Resp::new(204).empty())
}

#[derive(Serialize)]
struct LocationConstraint {
    #[serde(rename = "$text", skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

pub async fn get_bucket_location(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let region = cell.read().map_err(internal)?.info.region.clone();
    // us-east-1 buckets report an empty constraint.
    let value = (region != "us-east-1").then_some(region);
    Ok(Resp::ok().xml("LocationConstraint", &LocationConstraint { value }))
}

pub async fn get_bucket_versioning(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let v = cell.read().map_err(internal)?.info.versioning;
    let status = match v {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some("Enabled".to_string()),
        Versioning::Suspended => Some("Suspended".to_string()),
    };
    Ok(Resp::ok().xml(
        "VersioningConfiguration",
        &VersioningConfiguration {
            status,
            mfa_delete: None,
        },
    ))
}

pub async fn put_bucket_versioning(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let cfg: VersioningConfiguration = call.read_xml().await?;
    let v = match cfg.status.as_deref() {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        None => return Err(S3Error::IllegalVersioningConfigurationException.err()),
        Some(_) => return Err(S3Error::MalformedXML.err()),
    };
    let commit = {
        let mut b = cell.write().map_err(internal)?;
        b.info.versioning = v;
        let mut batch = Batch::new();
        store::put_bucket(&mut batch, &b.info);
        s3.store.submit(batch)
    };
    committed(commit).await?;
    Ok(Resp::ok().empty())
}
