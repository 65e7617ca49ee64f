//! Bucket sub-resource documents (tagging, CORS, website, lifecycle, notifications, public
//! access block, encryption, ownership, ACL), typed as S3's XML schema names them.
//!
//! The same types are read from request XML, written to response XML and kept in the journal
//! as JSON, so a configuration reads back exactly as it was put.

use serde::{Deserialize, Serialize};

/// Everything configurable on a bucket besides versioning.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BucketConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagging: Option<Tagging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<WebsiteConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<AccessControlPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlockConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<ServerSideEncryptionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership: Option<OwnershipControls>,
    /// `x-amz-transition-default-minimum-object-size` as put with the lifecycle configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition_min_size: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value", default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TagSet {
    #[serde(rename = "Tag", default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Tagging {
    #[serde(rename = "TagSet", default)]
    pub tag_set: TagSet,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CorsRule {
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(
        rename = "AllowedHeader",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_headers: Vec<String>,
    #[serde(rename = "AllowedMethod", default)]
    pub allowed_methods: Vec<String>,
    #[serde(rename = "AllowedOrigin", default)]
    pub allowed_origins: Vec<String>,
    #[serde(
        rename = "ExposeHeader",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose_headers: Vec<String>,
    #[serde(
        rename = "MaxAgeSeconds",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub max_age_seconds: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CorsConfiguration {
    #[serde(rename = "CORSRule", default)]
    pub rules: Vec<CorsRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IndexDocument {
    #[serde(rename = "Suffix")]
    pub suffix: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ErrorDocument {
    #[serde(rename = "Key")]
    pub key: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RedirectAllRequestsTo {
    #[serde(rename = "HostName")]
    pub host_name: String,
    #[serde(rename = "Protocol", skip_serializing_if = "Option::is_none", default)]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoutingCondition {
    #[serde(
        rename = "HttpErrorCodeReturnedEquals",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub http_error_code: Option<String>,
    #[serde(
        rename = "KeyPrefixEquals",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub key_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Redirect {
    #[serde(rename = "HostName", skip_serializing_if = "Option::is_none", default)]
    pub host_name: Option<String>,
    #[serde(
        rename = "HttpRedirectCode",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub http_redirect_code: Option<String>,
    #[serde(rename = "Protocol", skip_serializing_if = "Option::is_none", default)]
    pub protocol: Option<String>,
    #[serde(
        rename = "ReplaceKeyPrefixWith",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub replace_key_prefix_with: Option<String>,
    #[serde(
        rename = "ReplaceKeyWith",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub replace_key_with: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoutingRule {
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none", default)]
    pub condition: Option<RoutingCondition>,
    #[serde(rename = "Redirect")]
    pub redirect: Redirect,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoutingRules {
    #[serde(rename = "RoutingRule", default)]
    pub rules: Vec<RoutingRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WebsiteConfiguration {
    #[serde(
        rename = "RedirectAllRequestsTo",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub redirect_all: Option<RedirectAllRequestsTo>,
    #[serde(
        rename = "IndexDocument",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub index: Option<IndexDocument>,
    #[serde(
        rename = "ErrorDocument",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub error: Option<ErrorDocument>,
    #[serde(
        rename = "RoutingRules",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub routing_rules: Option<RoutingRules>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PublicAccessBlockConfiguration {
    #[serde(rename = "BlockPublicAcls", default)]
    pub block_public_acls: bool,
    #[serde(rename = "IgnorePublicAcls", default)]
    pub ignore_public_acls: bool,
    #[serde(rename = "BlockPublicPolicy", default)]
    pub block_public_policy: bool,
    #[serde(rename = "RestrictPublicBuckets", default)]
    pub restrict_public_buckets: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SseByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub algorithm: String,
    #[serde(
        rename = "KMSMasterKeyID",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SseRule {
    #[serde(
        rename = "ApplyServerSideEncryptionByDefault",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub by_default: Option<SseByDefault>,
    #[serde(
        rename = "BucketKeyEnabled",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServerSideEncryptionConfiguration {
    #[serde(rename = "Rule", default)]
    pub rules: Vec<SseRule>,
}

impl ServerSideEncryptionConfiguration {
    /// Since January 2023 every bucket encrypts with SSE-S3 unless configured otherwise.
    pub fn aws_default() -> Self {
        Self {
            rules: vec![SseRule {
                by_default: Some(SseByDefault {
                    algorithm: "AES256".into(),
                    kms_key_id: None,
                }),
                bucket_key_enabled: Some(false),
            }],
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OwnershipRule {
    #[serde(rename = "ObjectOwnership")]
    pub object_ownership: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OwnershipControls {
    #[serde(rename = "Rule", default)]
    pub rules: Vec<OwnershipRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Owner {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(
        rename = "DisplayName",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Grantee {
    #[serde(rename = "@xmlns:xsi", default = "xsi_ns")]
    pub xmlns_xsi: String,
    #[serde(rename = "@xsi:type", alias = "@type", default)]
    pub kind: String,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(
        rename = "DisplayName",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub display_name: Option<String>,
    #[serde(rename = "URI", skip_serializing_if = "Option::is_none", default)]
    pub uri: Option<String>,
    #[serde(
        rename = "EmailAddress",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub email: Option<String>,
}

fn xsi_ns() -> String {
    "http://www.w3.org/2001/XMLSchema-instance".into()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Grant {
    #[serde(rename = "Grantee")]
    pub grantee: Grantee,
    #[serde(rename = "Permission")]
    pub permission: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccessControlList {
    #[serde(rename = "Grant", default)]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccessControlPolicy {
    #[serde(rename = "Owner", default)]
    pub owner: Owner,
    #[serde(rename = "AccessControlList", default)]
    pub list: AccessControlList,
}

/// The canonical-user id Aloft reports for an account (AWS's are 64 hex characters).
pub fn canonical_id(account: &str) -> String {
    crate::checksums::md5_hex(account.as_bytes()).repeat(2)
}

impl AccessControlPolicy {
    /// The ACL a canned `x-amz-acl` value stands for.
    pub fn canned(account: &str, canned: &str) -> Option<Self> {
        let owner = Owner {
            id: canonical_id(account),
            display_name: Some("aloft".into()),
        };
        let user = |perm: &str| Grant {
            grantee: Grantee {
                xmlns_xsi: xsi_ns(),
                kind: "CanonicalUser".into(),
                id: Some(owner.id.clone()),
                display_name: owner.display_name.clone(),
                ..Default::default()
            },
            permission: perm.into(),
        };
        let group = |uri: &str, perm: &str| Grant {
            grantee: Grantee {
                xmlns_xsi: xsi_ns(),
                kind: "Group".into(),
                uri: Some(uri.into()),
                ..Default::default()
            },
            permission: perm.into(),
        };
        const ALL: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
        const AUTH: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
        const LOG: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
        let mut grants = vec![user("FULL_CONTROL")];
        match canned {
            "private" | "bucket-owner-read" | "bucket-owner-full-control" => {}
            "public-read" => grants.push(group(ALL, "READ")),
            "public-read-write" => {
                grants.push(group(ALL, "READ"));
                grants.push(group(ALL, "WRITE"));
            }
            "authenticated-read" => grants.push(group(AUTH, "READ")),
            "log-delivery-write" => {
                grants.push(group(LOG, "WRITE"));
                grants.push(group(LOG, "READ_ACP"));
            }
            "aws-exec-read" => {}
            _ => return None,
        }
        Some(Self {
            owner,
            list: AccessControlList { grants },
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VersioningConfiguration {
    #[serde(rename = "Status", skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(rename = "MfaDelete", skip_serializing_if = "Option::is_none", default)]
    pub mfa_delete: Option<String>,
}

pub use crate::domain::lifecycle::LifecycleConfiguration;
pub use crate::domain::notifications::NotificationConfiguration;
