//! ACL grants: the `x-amz-grant-*` headers, `AccessControlPolicy` documents checked as S3 checks
//! them (grantee types, canonical ids, group URIs, e-mail grantees), and what "bucket owner full
//! control" means when Object Ownership is `BucketOwnerEnforced`.

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};

use crate::domain::config::{AccessControlList, AccessControlPolicy, Grant, Grantee, Owner};
use crate::error::{S3Error, invalid_argument};

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTH_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const GROUPS: [&str; 3] = [ALL_USERS, AUTH_USERS, LOG_DELIVERY];
const PERMISSIONS: [&str; 5] = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];

/// The grant headers and the permission each gives, in S3's order.
pub const GRANT_HEADERS: [(&str, &str); 5] = [
    ("x-amz-grant-full-control", "FULL_CONTROL"),
    ("x-amz-grant-read", "READ"),
    ("x-amz-grant-read-acp", "READ_ACP"),
    ("x-amz-grant-write", "WRITE"),
    ("x-amz-grant-write-acp", "WRITE_ACP"),
];

/// An ACL as a request sets it: a canned name (kept compactly on objects) or explicit grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AclSpec {
    Canned(String),
    Grants(AccessControlPolicy),
}

fn owner_of(account: &str) -> Owner {
    AccessControlPolicy::canned(account, "private")
        .map(|p| p.owner)
        .unwrap_or_default()
}

fn valid_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// S3 resolves an e-mail grantee to the account's canonical user. Aloft has no registry of
/// account e-mails: a well-formed address resolves to a stable canonical user of its own, any
/// other is unresolvable.
fn resolve_email(email: &str) -> Result<Grantee, AwsError> {
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.contains(char::is_whitespace)
    });
    if !well_formed {
        return Err(S3Error::UnresolvableGrantByEmailAddress
            .err()
            .with_field("EmailAddress", email));
    }
    let lower = email.to_ascii_lowercase();
    Ok(Grantee {
        xmlns_xsi: "http://www.w3.org/2001/XMLSchema-instance".into(),
        kind: "CanonicalUser".into(),
        id: Some(crate::domain::config::canonical_id(&format!(
            "email:{lower}"
        ))),
        display_name: lower.split('@').next().map(str::to_string),
        ..Default::default()
    })
}

fn canonical(id: &str, own: &Owner) -> Grantee {
    Grantee {
        xmlns_xsi: "http://www.w3.org/2001/XMLSchema-instance".into(),
        kind: "CanonicalUser".into(),
        id: Some(id.to_string()),
        display_name: (id == own.id).then(|| own.display_name.clone()).flatten(),
        ..Default::default()
    }
}

fn group(uri: &str) -> Grantee {
    Grantee {
        xmlns_xsi: "http://www.w3.org/2001/XMLSchema-instance".into(),
        kind: "Group".into(),
        uri: Some(uri.to_string()),
        ..Default::default()
    }
}

/// One grantee of a grant header (`id="…"`, `uri="…"` or `emailAddress="…"`).
fn header_grantee(header: &str, item: &str, own: &Owner) -> Result<Grantee, AwsError> {
    let bad = || invalid_argument("Argument format not recognized", header, item);
    let (kind, value) = item.split_once('=').ok_or_else(bad)?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    match kind.trim().to_ascii_lowercase().as_str() {
        "id" if valid_canonical_id(value) => Ok(canonical(value, own)),
        "id" => Err(invalid_argument("Invalid id", "CanonicalUser/ID", value)),
        "uri" if GROUPS.contains(&value) => Ok(group(value)),
        "uri" => Err(invalid_argument("Invalid group uri", "Group/URI", value)),
        "emailaddress" => resolve_email(value),
        _ => Err(bad()),
    }
}

/// The ACL a write request asks for, from `x-amz-acl` or the grant headers (never both).
pub fn from_headers(
    header: &dyn Fn(&str) -> Option<String>,
    account: &str,
) -> Result<Option<AclSpec>, AwsError> {
    let canned = header("x-amz-acl");
    let mut grants = Vec::new();
    let mut any = false;
    if canned.is_some() && GRANT_HEADERS.iter().any(|(n, _)| header(n).is_some()) {
        return Err(S3Error::InvalidRequest
            .msg("Specifying both Canned ACLs and Header Grants is not allowed"));
    }
    // The owner (an MD5 and a policy) only when a grant header needs it: most writes have none.
    let mut own = None;
    for (name, perm) in GRANT_HEADERS {
        let Some(v) = header(name) else { continue };
        any = true;
        let own = own.get_or_insert_with(|| owner_of(account));
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            grants.push(Grant {
                grantee: header_grantee(name, item, own)?,
                permission: perm.into(),
            });
        }
    }
    match (canned, any) {
        (Some(c), _) => {
            AccessControlPolicy::canned(account, &c)
                .ok_or_else(|| invalid_argument("", "x-amz-acl", &c))?;
            Ok(Some(AclSpec::Canned(c)))
        }
        (None, true) => Ok(Some(AclSpec::Grants(AccessControlPolicy {
            owner: own.unwrap_or_else(|| owner_of(account)),
            list: AccessControlList { grants },
        }))),
        (None, false) => Ok(None),
    }
}

/// Checks an `AccessControlPolicy` document and resolves its e-mail grantees. `owner_account`
/// owns the resource: a document naming another owner is refused.
pub fn check_document(
    mut acl: AccessControlPolicy,
    owner_account: &str,
) -> Result<AccessControlPolicy, AwsError> {
    let own = owner_of(owner_account);
    if acl.owner.id.is_empty() {
        return Err(S3Error::MalformedACLError.err());
    }
    if acl.owner.id != own.id {
        return Err(S3Error::AccessDenied.err());
    }
    acl.owner = own.clone();
    for g in &mut acl.list.grants {
        if !PERMISSIONS.contains(&g.permission.as_str()) {
            return Err(S3Error::MalformedACLError.err());
        }
        let ge = &g.grantee;
        g.grantee = match ge.kind.as_str() {
            "CanonicalUser" => match ge.id.as_deref() {
                Some(id) if valid_canonical_id(id) => canonical(id, &own),
                Some(id) => return Err(invalid_argument("Invalid id", "CanonicalUser/ID", id)),
                None => return Err(S3Error::MalformedACLError.err()),
            },
            "Group" => match ge.uri.as_deref() {
                Some(u) if GROUPS.contains(&u) => group(u),
                Some(u) => return Err(invalid_argument("Invalid group uri", "Group/URI", u)),
                None => return Err(S3Error::MalformedACLError.err()),
            },
            "AmazonCustomerByEmail" => match ge.email.as_deref() {
                Some(e) => resolve_email(e)?,
                None => return Err(S3Error::MalformedACLError.err()),
            },
            _ => return Err(S3Error::MalformedACLError.err()),
        };
    }
    if acl.list.grants.len() > 100 {
        return Err(S3Error::MalformedACLError.msg("ACLs may contain at most 100 grants"));
    }
    Ok(acl)
}

/// The full ACL a spec stands for.
pub fn expand(spec: Option<&AclSpec>, account: &str) -> AccessControlPolicy {
    match spec {
        Some(AclSpec::Grants(p)) => Some(p.clone()),
        Some(AclSpec::Canned(c)) => AccessControlPolicy::canned(account, c),
        None => AccessControlPolicy::canned(account, "private"),
    }
    .unwrap_or_default()
}

/// An object's full ACL: `owner` owns it; the bucket-owner-* canned ACLs also grant the bucket
/// owner when that is another account.
pub fn object_policy(
    spec: Option<&AclSpec>,
    owner: &str,
    bucket_owner: &str,
) -> AccessControlPolicy {
    let mut p = expand(spec, owner);
    let extra = match spec {
        Some(AclSpec::Canned(c)) if c == "bucket-owner-full-control" => Some("FULL_CONTROL"),
        Some(AclSpec::Canned(c)) if c == "bucket-owner-read" => Some("READ"),
        _ => None,
    };
    if let Some(perm) = extra
        && owner != bucket_owner
    {
        let id = crate::domain::config::canonical_id(bucket_owner);
        p.list.grants.push(Grant {
            grantee: canonical(&id, &p.owner),
            permission: perm.into(),
        });
    }
    p
}

/// Who owns a new object `writer` puts in a bucket `bucket_owner` owns: the writer only under
/// `ObjectWriter` (also when no ownership controls are set) or under `BucketOwnerPreferred`
/// without the bucket-owner-full-control ACL.
pub fn writer_owns(
    ownership: Option<&str>,
    writer: &str,
    bucket_owner: &str,
    spec: Option<&AclSpec>,
) -> bool {
    if writer == bucket_owner {
        return false;
    }
    let full = matches!(spec, Some(AclSpec::Canned(c)) if c == "bucket-owner-full-control");
    match ownership {
        Some("BucketOwnerEnforced") => false,
        Some("BucketOwnerPreferred") => !full,
        _ => true,
    }
}

/// Under `BucketOwnerEnforced` only ACLs that give the bucket owner full control (and nothing
/// else) may be set.
pub fn allowed_when_enforced(spec: &AclSpec, bucket_account: &str) -> bool {
    match spec {
        AclSpec::Canned(c) => c == "bucket-owner-full-control",
        AclSpec::Grants(p) => {
            let id = owner_of(bucket_account).id;
            p.list.grants.len() == 1
                && p.list.grants[0].permission == "FULL_CONTROL"
                && p.list.grants[0].grantee.id.as_deref() == Some(id.as_str())
        }
    }
}

/// Whether an ACL grants anything to everyone or to every AWS account.
pub fn is_public(acl: &AccessControlPolicy) -> bool {
    acl.list.grants.iter().any(|g| {
        g.grantee
            .uri
            .as_deref()
            .is_some_and(|u| u == ALL_USERS || u == AUTH_USERS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |n: &str| m.get(n).cloned()
    }

    #[test]
    fn grant_headers_become_grants() {
        let id = crate::domain::config::canonical_id("2");
        let read = format!("uri=\"{ALL_USERS}\", id=\"{id}\"");
        let h = headers(&[
            ("x-amz-grant-read", &read),
            ("x-amz-grant-write-acp", "emailAddress=\"a@example.com\""),
        ]);
        let Some(AclSpec::Grants(p)) = from_headers(&h, "1").unwrap() else {
            panic!("grants expected")
        };
        let perms: Vec<&str> = p
            .list
            .grants
            .iter()
            .map(|g| g.permission.as_str())
            .collect();
        assert_eq!(perms, ["READ", "READ", "WRITE_ACP"]);
        assert_eq!(p.list.grants[1].grantee.id.as_deref(), Some(id.as_str()));
        assert_eq!(p.list.grants[2].grantee.kind, "CanonicalUser");
        assert!(is_public(&p));
    }

    #[test]
    fn bad_grants_get_s3s_errors() {
        let e = |pairs: &[(&str, &str)]| from_headers(&headers(pairs), "1").unwrap_err().code;
        assert_eq!(e(&[("x-amz-grant-read", "id=\"abc\"")]), "InvalidArgument");
        assert_eq!(
            e(&[("x-amz-grant-read", "uri=\"http://x/y\"")]),
            "InvalidArgument"
        );
        assert_eq!(e(&[("x-amz-grant-read", "name=\"x\"")]), "InvalidArgument");
        assert_eq!(
            e(&[("x-amz-grant-read", "emailAddress=\"nobody\"")]),
            "UnresolvableGrantByEmailAddress"
        );
        assert_eq!(
            e(&[("x-amz-acl", "private"), ("x-amz-grant-read", "uri=\"x\"")]),
            "InvalidRequest"
        );
        let mut doc = AccessControlPolicy::canned("1", "public-read").unwrap();
        assert!(check_document(doc.clone(), "1").is_ok());
        assert_eq!(
            check_document(doc.clone(), "2").unwrap_err().code,
            "AccessDenied"
        );
        doc.list.grants[1].grantee.kind = "Robot".into();
        assert_eq!(
            check_document(doc, "1").unwrap_err().code,
            "MalformedACLError"
        );
    }

    #[test]
    fn cross_account_writers_own_their_objects_unless_the_bucket_says_otherwise() {
        let full = AclSpec::Canned("bucket-owner-full-control".into());
        assert!(writer_owns(Some("ObjectWriter"), "2", "1", None));
        assert!(writer_owns(None, "2", "1", Some(&full)));
        assert!(!writer_owns(
            Some("BucketOwnerPreferred"),
            "2",
            "1",
            Some(&full)
        ));
        assert!(writer_owns(Some("BucketOwnerPreferred"), "2", "1", None));
        assert!(!writer_owns(Some("BucketOwnerEnforced"), "2", "1", None));
        assert!(!writer_owns(Some("ObjectWriter"), "1", "1", None));
        let p = object_policy(Some(&full), "2", "1");
        let ids: Vec<_> = p
            .list
            .grants
            .iter()
            .filter_map(|g| g.grantee.id.clone())
            .collect();
        assert_eq!(
            ids,
            [
                crate::domain::config::canonical_id("2"),
                crate::domain::config::canonical_id("1")
            ]
        );
        assert_eq!(object_policy(Some(&full), "1", "1").list.grants.len(), 1);
    }

    #[test]
    fn enforced_ownership_allows_only_owner_full_control() {
        assert!(allowed_when_enforced(
            &AclSpec::Canned("bucket-owner-full-control".into()),
            "1"
        ));
        assert!(!allowed_when_enforced(
            &AclSpec::Canned("public-read".into()),
            "1"
        ));
        let private = AccessControlPolicy::canned("1", "private").unwrap();
        assert!(allowed_when_enforced(&AclSpec::Grants(private), "1"));
    }
}

#[cfg(test)]
mod xml_tests {
    use crate::domain::config::AccessControlPolicy;

    #[test]
    fn boto3_documents_parse() {
        let doc = br#"<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList><Owner><ID>def</ID></Owner></AccessControlPolicy>"#;
        let p: Result<AccessControlPolicy, _> = crate::xml::from_xml(doc);
        let p = p.map_err(|e| e.message).unwrap();
        assert_eq!(p.owner.id, "def");
        assert_eq!(p.list.grants[0].grantee.kind, "CanonicalUser");
    }
}
