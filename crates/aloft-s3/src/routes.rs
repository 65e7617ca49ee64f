//! S3's own routing: bucket and key from a virtual host or the path, the query's
//! sub-resources, and the operation S3 would pick for the method.

use aloft_core::{AwsError, RequestContext};
use http::Method;
use percent_encoding::percent_decode_str;

use crate::error::S3Error;

/// The decoded query string, in order.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Self {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_decode_str(&s).decode_utf8_lossy().into_owned()
        };
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// Where a request points.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// Bucket and key from the virtual host (when the gateway saw one) or from the path.
pub fn target(ctx: &RequestContext, raw_path: &str) -> Target {
    // Most paths have nothing to decode.
    let path = if raw_path.contains('%') {
        percent_decode_str(raw_path).decode_utf8_lossy()
    } else {
        std::borrow::Cow::Borrowed(raw_path)
    };
    let path = path.strip_prefix('/').unwrap_or(&path);
    if let Some(bucket) = ctx.host_prefix.as_deref().filter(|b| !b.is_empty()) {
        return Target {
            bucket: Some(bucket.to_string()),
            key: (!path.is_empty()).then(|| path.to_string()),
        };
    }
    match path.split_once('/') {
        None if path.is_empty() => Target {
            bucket: None,
            key: None,
        },
        None => Target {
            bucket: Some(path.to_string()),
            key: None,
        },
        Some((b, k)) => Target {
            bucket: Some(b.to_string()),
            key: (!k.is_empty()).then(|| k.to_string()),
        },
    }
}

/// The operations Aloft serves, by AWS's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    GetBucketVersioning,
    PutBucketVersioning,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    DeleteObjects,
    PostObject,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    GetBucketWebsite,
    PutBucketWebsite,
    DeleteBucketWebsite,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketAcl,
    PutBucketAcl,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetBucketNotificationConfiguration,
    PutBucketNotificationConfiguration,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    GetBucketLogging,
    GetBucketAccelerateConfiguration,
    GetBucketRequestPayment,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetObjectAcl,
    PutObjectAcl,
    RestoreObject,
    GetObjectAttributes,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// CORS preflight.
    Options,
    /// Reads of configurations Aloft never stores: S3's "not configured" answers.
    GetBucketReplication,
    GetObjectLockConfiguration,
    /// `ListBucket{Analytics,Inventory,Metrics,IntelligentTiering}Configurations` (empty), or
    /// the `Get…` of one of them by id (never found).
    ListBucketConfigurations(&'static str),
}

/// Query sub-resources of S3 operations Aloft does not serve (answered `NotImplemented`).
const UNSUPPORTED: &[&str] = &[
    "analytics",
    "inventory",
    "metrics",
    "replication",
    "object-lock",
    "intelligent-tiering",
    "legal-hold",
    "retention",
    "torrent",
    "select",
    "session",
    "metadataTable",
    "metadataConfiguration",
    "annotation",
    "renameObject",
    "abac",
];

fn not_implemented(what: &str) -> AwsError {
    S3Error::NotImplemented.msg(format!("The {what} operation is not implemented by Aloft"))
}

/// Picks the operation as S3 does: method, then whether a key is present, then sub-resources.
pub fn select(method: &Method, t: &Target, q: &Query, copy_source: bool) -> Result<Op, AwsError> {
    use Op::*;
    if *method == Method::OPTIONS {
        return Ok(Options);
    }
    // Tools reading a bucket's whole state (Terraform, CloudFormation drift) expect S3's
    // "not configured" answers for features Aloft does not implement.
    if *method == Method::GET && t.bucket.is_some() && t.key.is_none() {
        if q.has("replication") {
            return Ok(GetBucketReplication);
        }
        if q.has("object-lock") {
            return Ok(GetObjectLockConfiguration);
        }
        for (sub, root) in [
            ("analytics", "ListBucketAnalyticsConfigurationResult"),
            ("inventory", "ListInventoryConfigurationsResult"),
            ("metrics", "ListMetricsConfigurationsResult"),
            (
                "intelligent-tiering",
                "ListBucketIntelligentTieringConfigurationsOutput",
            ),
        ] {
            if q.has(sub) {
                return Ok(ListBucketConfigurations(root));
            }
        }
    }
    if let Some(s) = UNSUPPORTED.iter().find(|s| q.has(s)) {
        return Err(not_implemented(&format!("?{s}")));
    }
    let Some(_bucket) = &t.bucket else {
        return match *method {
            Method::GET => Ok(ListBuckets),
            _ => Err(method_not_allowed(method, "SERVICE")),
        };
    };
    let m = method.as_str();
    if t.key.is_none() {
        let sub = |name: &str| q.has(name);
        let op = match m {
            "GET" => {
                if sub("location") {
                    GetBucketLocation
                } else if sub("versioning") {
                    GetBucketVersioning
                } else if sub("tagging") {
                    GetBucketTagging
                } else if sub("cors") {
                    GetBucketCors
                } else if sub("website") {
                    GetBucketWebsite
                } else if sub("policyStatus") {
                    GetBucketPolicyStatus
                } else if sub("policy") {
                    GetBucketPolicy
                } else if sub("acl") {
                    GetBucketAcl
                } else if sub("publicAccessBlock") {
                    GetPublicAccessBlock
                } else if sub("lifecycle") {
                    GetBucketLifecycleConfiguration
                } else if sub("notification") {
                    GetBucketNotificationConfiguration
                } else if sub("encryption") {
                    GetBucketEncryption
                } else if sub("ownershipControls") {
                    GetBucketOwnershipControls
                } else if sub("logging") {
                    GetBucketLogging
                } else if sub("accelerate") {
                    GetBucketAccelerateConfiguration
                } else if sub("requestPayment") {
                    GetBucketRequestPayment
                } else if sub("uploads") {
                    ListMultipartUploads
                } else if sub("versions") {
                    ListObjectVersions
                } else if q.get("list-type") == Some("2") {
                    ListObjectsV2
                } else {
                    ListObjects
                }
            }
            "PUT" => {
                if sub("versioning") {
                    PutBucketVersioning
                } else if sub("tagging") {
                    PutBucketTagging
                } else if sub("cors") {
                    PutBucketCors
                } else if sub("website") {
                    PutBucketWebsite
                } else if sub("policy") {
                    PutBucketPolicy
                } else if sub("acl") {
                    PutBucketAcl
                } else if sub("publicAccessBlock") {
                    PutPublicAccessBlock
                } else if sub("lifecycle") {
                    PutBucketLifecycleConfiguration
                } else if sub("notification") {
                    PutBucketNotificationConfiguration
                } else if sub("encryption") {
                    PutBucketEncryption
                } else if sub("ownershipControls") {
                    PutBucketOwnershipControls
                } else if sub("logging") || sub("accelerate") || sub("requestPayment") {
                    return Err(not_implemented("bucket configuration"));
                } else {
                    CreateBucket
                }
            }
            "DELETE" => {
                if sub("tagging") {
                    DeleteBucketTagging
                } else if sub("cors") {
                    DeleteBucketCors
                } else if sub("website") {
                    DeleteBucketWebsite
                } else if sub("policy") {
                    DeleteBucketPolicy
                } else if sub("publicAccessBlock") {
                    DeletePublicAccessBlock
                } else if sub("lifecycle") {
                    DeleteBucketLifecycle
                } else if sub("encryption") {
                    DeleteBucketEncryption
                } else if sub("ownershipControls") {
                    DeleteBucketOwnershipControls
                } else {
                    DeleteBucket
                }
            }
            "HEAD" => HeadBucket,
            "POST" => {
                if sub("delete") {
                    DeleteObjects
                } else {
                    PostObject
                }
            }
            _ => return Err(method_not_allowed(method, "BUCKET")),
        };
        return Ok(op);
    }
    let op = match m {
        "GET" => {
            if q.has("tagging") {
                GetObjectTagging
            } else if q.has("acl") {
                GetObjectAcl
            } else if q.has("attributes") {
                GetObjectAttributes
            } else if q.has("uploadId") {
                ListParts
            } else {
                GetObject
            }
        }
        "HEAD" => HeadObject,
        "PUT" => {
            if q.has("tagging") {
                PutObjectTagging
            } else if q.has("acl") {
                PutObjectAcl
            } else if q.has("uploadId") || q.has("partNumber") {
                if copy_source {
                    UploadPartCopy
                } else {
                    UploadPart
                }
            } else if copy_source {
                CopyObject
            } else {
                PutObject
            }
        }
        "DELETE" => {
            if q.has("tagging") {
                DeleteObjectTagging
            } else if q.has("uploadId") {
                AbortMultipartUpload
            } else {
                DeleteObject
            }
        }
        "POST" => {
            if q.has("restore") {
                RestoreObject
            } else if q.has("uploads") {
                CreateMultipartUpload
            } else if q.has("uploadId") {
                CompleteMultipartUpload
            } else {
                return Err(method_not_allowed(method, "OBJECT"));
            }
        }
        _ => return Err(method_not_allowed(method, "OBJECT")),
    };
    Ok(op)
}

pub fn method_not_allowed(method: &Method, resource: &str) -> AwsError {
    S3Error::MethodNotAllowed
        .err()
        .with_field("Method", method.as_str())
        .with_field("ResourceType", resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(host_prefix: Option<&str>) -> RequestContext {
        RequestContext {
            host_prefix: host_prefix.map(str::to_string),
            ..RequestContext::local("s3")
        }
    }

    #[test]
    fn path_and_virtual_host() {
        let t = target(&ctx(None), "/b/a%20b/c%2Fd");
        assert_eq!(t.bucket.as_deref(), Some("b"));
        assert_eq!(t.key.as_deref(), Some("a b/c/d"));
        let t = target(&ctx(Some("vb")), "/k");
        assert_eq!(
            (t.bucket.as_deref(), t.key.as_deref()),
            (Some("vb"), Some("k"))
        );
        let t = target(&ctx(None), "/");
        assert_eq!(
            t,
            Target {
                bucket: None,
                key: None
            }
        );
        let t = target(&ctx(None), "/b/");
        assert_eq!((t.bucket.as_deref(), t.key), (Some("b"), None));
        let t = target(&ctx(None), "/b/../../etc/passwd");
        assert_eq!(t.key.as_deref(), Some("../../etc/passwd"));
    }

    #[test]
    fn operation_selection() {
        let bt = Target {
            bucket: Some("b".into()),
            key: None,
        };
        let ot = Target {
            bucket: Some("b".into()),
            key: Some("k".into()),
        };
        let q = |s: &str| Query::parse(s);
        assert_eq!(
            select(&Method::GET, &bt, &q("list-type=2&prefix=a"), false).unwrap(),
            Op::ListObjectsV2
        );
        assert_eq!(
            select(&Method::GET, &bt, &q("versioning"), false).unwrap(),
            Op::GetBucketVersioning
        );
        assert_eq!(
            select(&Method::PUT, &bt, &q(""), false).unwrap(),
            Op::CreateBucket
        );
        assert_eq!(
            select(&Method::POST, &bt, &q("delete"), false).unwrap(),
            Op::DeleteObjects
        );
        assert_eq!(
            select(&Method::PUT, &ot, &q("partNumber=1&uploadId=x"), true).unwrap(),
            Op::UploadPartCopy
        );
        assert_eq!(
            select(&Method::PUT, &ot, &q(""), true).unwrap(),
            Op::CopyObject
        );
        assert_eq!(
            select(&Method::POST, &ot, &q("uploads"), false).unwrap(),
            Op::CreateMultipartUpload
        );
        assert_eq!(
            select(&Method::GET, &ot, &q("uploadId=u"), false).unwrap(),
            Op::ListParts
        );
        assert_eq!(
            select(&Method::GET, &bt, &q("replication"), false).unwrap(),
            Op::GetBucketReplication
        );
        assert_eq!(
            select(&Method::PUT, &bt, &q("replication"), false)
                .unwrap_err()
                .code,
            "NotImplemented"
        );
        assert_eq!(
            select(&Method::PATCH, &ot, &q(""), false).unwrap_err().code,
            "MethodNotAllowed"
        );
        assert_eq!(q("prefix=a%2Fb+c&x").get("prefix"), Some("a/b c"));
    }
}
