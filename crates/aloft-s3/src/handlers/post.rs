//! Browser POST uploads: the multipart/form-data form, its policy (aloft-sigv4's checks), the
//! `${filename}` key, and the success status/redirect S3 answers with.

use aloft_core::AwsError;
use aloft_core::body::Response;
use aloft_sigv4::post_policy::{PostCredentials, PostPolicy};
use serde::Serialize;

use super::Call;
use super::form::FormReader;
use super::objects::{NewObject, parse_tagging_header, write_object};
use crate::S3;
use crate::bodies::IngestOptions;
use crate::checksums::Algo;
use crate::domain::model::{Checksum, ObjectMeta};
use crate::error::S3Error;
use crate::xml::Resp;

#[derive(Serialize)]
struct PostResponse {
    #[serde(rename = "Location")]
    location: String,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "ETag")]
    etag: String,
}

fn policy_error(e: &aloft_sigv4::post_policy::PolicyError) -> AwsError {
    let doc = e.s3();
    let mut err = AwsError::new(doc.code, doc.status, doc.message);
    for (k, v) in doc.fields {
        err = err.with_field(k, v);
    }
    err
}

/// Under `--verify-signatures` the form's signature (SigV4 `x-amz-signature`, or SigV2
/// `signature`) must be the policy signed with the key's secret; under `--enforce-iam` the
/// signer (or an anonymous uploader) must be allowed `s3:PutObject` on the key.
fn check_form_signature(
    s3: &S3,
    call: &Call,
    fields: &[(String, String)],
    key: &str,
) -> Result<(), AwsError> {
    let Some(ent) = super::access::enforcement(call).cloned() else {
        return Ok(());
    };
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let unknown = |k: &str| {
        AwsError::new(
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
        .with_field("AWSAccessKeyId", k)
    };
    let caller = if let Some(k) = get("awsaccesskeyid") {
        let caller = ent.caller(k).ok_or_else(|| unknown(k))?;
        let policy = get("policy").unwrap_or_default();
        let sig = get("signature").unwrap_or_default();
        if ent.verify && super::access::hmac_sha1_b64(&caller.secret, policy) != sig {
            return Err(S3Error::SignatureDoesNotMatch
                .msg("The request signature we calculated does not match the signature you provided. Check your key and signing method.")
                .with_field("AWSAccessKeyId", k)
                .with_field("StringToSign", policy)
                .with_field("SignatureProvided", sig));
        }
        Some(caller)
    } else {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        match PostCredentials::from_fields(&refs).map_err(|e| policy_error(&e))? {
            None => None,
            Some(creds) => {
                let k = &creds.credential.access_key;
                let caller = ent.caller(k).ok_or_else(|| unknown(k))?;
                if ent.verify {
                    creds.verify(&caller.secret).map_err(|e| policy_error(&e))?;
                }
                Some(caller)
            }
        }
    };
    super::access::judge(
        s3,
        call,
        &ent,
        caller.as_ref(),
        false,
        "s3:PutObject",
        &call.bucket,
        Some(key),
    )
}

/// The access key a policy form is signed with (SigV2 `AWSAccessKeyId`, SigV4
/// `x-amz-credential`): the principal of the upload's event.
fn form_signer(fields: &[(String, String)]) -> Option<String> {
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    get("awsaccesskeyid")
        .or_else(|| get("x-amz-credential").and_then(|c| c.split('/').next()))
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

pub async fn post_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    s3.bucket(&call.bucket)?;
    let ct = call.header("content-type").unwrap_or_default().to_string();
    let Some(boundary) = ct
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .filter(|_| ct.starts_with("multipart/form-data"))
    else {
        return Err(S3Error::PreconditionFailed
            .msg("Bucket POST must be of the enclosure-type multipart/form-data")
            .with_field(
                "Condition",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            ));
    };
    let mut form = FormReader::new(call.take_body(), &boundary);
    let (fields, file) = form.fields().await?;
    let file = file.ok_or_else(|| {
        AwsError::new(
            "InvalidArgument",
            400,
            "POST requires exactly one file upload per request.",
        )
        .with_field("ArgumentName", "file")
    })?;
    let text = |name: &str| {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| String::from_utf8_lossy(&f.value).into_owned())
    };
    let filename = file.filename.clone().unwrap_or_default();
    let key = text("key")
        .ok_or_else(|| AwsError::new("InvalidArgument", 400, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.").with_field("ArgumentName", "key"))?
        .replace("${filename}", &filename);
    crate::domain::names::check_key(&key)?;
    let mut plain: Vec<(String, String)> = fields
        .iter()
        .filter(|f| !f.name.eq_ignore_ascii_case("key"))
        .map(|f| {
            (
                f.name.to_ascii_lowercase(),
                String::from_utf8_lossy(&f.value).into_owned(),
            )
        })
        .collect();
    plain.push(("key".into(), key.clone()));
    plain.push(("bucket".into(), call.bucket.clone()));
    // Without a policy the form is an anonymous upload (allowed until identity lands).
    let mut policy = None;
    if let Some(p) = text("policy") {
        {
            let parsed = PostPolicy::parse(&p).map_err(|e| policy_error(&e))?;
            let refs: Vec<(&str, &str)> = plain
                .iter()
                // SigV2 forms sign with these two; like x-amz-signature they are not policy-checked.
                .filter(|(n, _)| n != "policy" && n != "awsaccesskeyid" && n != "signature")
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            parsed
                .check(&refs, aloft_core::clock::now_millis())
                .map_err(|e| policy_error(&e))?;
            policy = Some(parsed);
        }
    }
    check_form_signature(s3, call, &plain, &key)?;
    if let Some(k) = form_signer(&plain) {
        call.parts.extensions.insert(super::objects::FormSigner(k));
    }
    let mut meta = ObjectMeta {
        content_type: text("content-type").or_else(|| file.content_type.clone()),
        content_disposition: text("content-disposition"),
        cache_control: text("cache-control"),
        content_encoding: text("content-encoding"),
        expires: text("expires"),
        ..Default::default()
    };
    for (n, v) in &plain {
        if let Some(k) = n.strip_prefix("x-amz-meta-") {
            meta.user.push((k.to_string(), v.clone()));
        }
    }
    if let Some(t) = text("tagging") {
        let tagging: crate::domain::config::Tagging = crate::xml::from_xml(t.as_bytes())?;
        let pairs: Vec<(String, String)> = tagging
            .tag_set
            .tags
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        super::objects::validate_tags(&pairs)?;
        meta.tags = pairs;
    } else if let Some(t) = text("x-amz-tagging") {
        meta.tags = parse_tagging_header(&t)?;
    }
    if let Some(canned) = text("acl") {
        crate::domain::config::AccessControlPolicy::canned(&call.ctx.account_id, &canned)
            .ok_or_else(|| crate::error::invalid_argument("", "acl", &canned))?;
        let spec = crate::domain::acl::AclSpec::Canned(canned);
        super::object_input::check_ownership(s3, &call.bucket, &spec)?;
        meta.set_acl(Some(spec));
    }
    // The policy's content-length-range bounds the stream; S3's own POST limit is 5 GB.
    let max = policy
        .as_ref()
        .and_then(PostPolicy::content_length_range)
        .map_or(super::MAX_PUT, |(_, max)| max.min(super::MAX_PUT));
    let got = s3
        .bodies
        .ingest(
            form.file_body(),
            IngestOptions {
                algo: Some(Algo::CRC64NVME),
                content_sha256: None,
                chunked: None,
                verify: None,
                max,
            },
        )
        .await
        .map_err(|e| {
            if e.code == "IncompleteBody" {
                S3Error::MalformedPOSTRequest.err()
            } else if e.code == "EntityTooLarge" {
                match policy
                    .as_ref()
                    .map(|p| p.check_length(max.saturating_add(1)))
                {
                    Some(Err(pe)) => policy_error(&pe),
                    _ => e,
                }
            } else {
                e
            }
        })?;
    if let Some(p) = &policy
        && let Err(e) = p.check_length(got.size)
    {
        let mut ids = Vec::new();
        got.data.blob_ids(&mut ids);
        s3.bodies.remove(&ids);
        return Err(policy_error(&e));
    }
    let obj = NewObject {
        key: key.clone(),
        etag: got.etag(),
        size: got.size,
        checksum: got.checksum.clone().map(|(algo, value)| Checksum {
            algo,
            value,
            composite: false,
        }),
        data: got.data,
        meta,
        parts: None,
        completes: None,
    };
    let (v, versioning) =
        write_object(s3, call, &call.bucket, obj, "ObjectCreated:Post", None).await?;
    let location = format!("{}/{}/{}", call.ctx.base_url, call.bucket, key);
    let mut r =
        super::objects::write_headers(Resp::new(204), &v, versioning).header("location", &location);
    if let Some(redirect) = text("success_action_redirect").or_else(|| text("redirect")) {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let target = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            enc(&call.bucket),
            enc(&key),
            enc(&v.quoted_etag())
        );
        return Ok(r.status(303).header("location", target).empty());
    }
    match text("success_action_status").as_deref() {
        Some("200") => Ok(r.status(200).empty()),
        Some("201") => Ok(r.status(201).xml(
            "PostResponse",
            &PostResponse {
                location,
                bucket: call.bucket.clone(),
                key,
                etag: v.quoted_etag(),
            },
        )),
        _ => {
            r = r.status(204);
            Ok(r.empty())
        }
    }
}
