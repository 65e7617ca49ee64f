//! Browser POST uploads: the multipart/form-data form, its policy (aloft-sigv4's checks), the
//! `${filename}` key, and the success status/redirect S3 answers with.

use aloft_core::AwsError;
use aloft_core::body::{Response, full};
use aloft_sigv4::post_policy::PostPolicy;
use bytes::Bytes;
use serde::Serialize;

use super::Call;
use super::objects::{NewObject, parse_tagging_header, write_object};
use crate::S3;
use crate::bodies::IngestOptions;
use crate::checksums::Algo;
use crate::domain::model::{Checksum, ObjectMeta};
use crate::error::S3Error;
use crate::xml::Resp;

/// The whole form is read into memory: browser forms are small, and S3's own POST size limit
/// is checked against the policy's content-length-range.
const FORM_LIMIT: usize = 64 * 1024 * 1024;

/// One form field: its name, the file name (for the file), and its bytes.
pub struct Field {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub value: Bytes,
}

fn malformed() -> AwsError {
    S3Error::MalformedPOSTRequest.err()
}

/// Parses a multipart/form-data body.
pub fn parse_form(body: &Bytes, boundary: &str) -> Result<Vec<Field>, AwsError> {
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut pos = find(body, d, 0).ok_or_else(malformed)? + d.len();
    let mut fields = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(malformed)?;
        let head = std::str::from_utf8(&body[pos..head_end]).map_err(|_| malformed())?;
        let next =
            find(body, format!("\r\n{delim}").as_bytes(), head_end + 4).ok_or_else(malformed)?;
        let value = body.slice(head_end + 4..next);
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let (k, v) = line.split_once(':').ok_or_else(malformed)?;
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                for p in v.split(';').map(str::trim) {
                    if let Some(n) = p.strip_prefix("name=") {
                        name = Some(n.trim_matches('"').to_string());
                    } else if let Some(f) = p.strip_prefix("filename=") {
                        filename = Some(f.trim_matches('"').to_string());
                    }
                }
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_string());
            }
        }
        fields.push(Field {
            name: name.ok_or_else(malformed)?,
            filename,
            content_type,
            value,
        });
        pos = next + 2 + d.len();
    }
    Ok(fields)
}

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
        return Err(S3Error::MethodNotAllowed
            .err()
            .with_field("Method", "POST")
            .with_field("ResourceType", "BUCKET"));
    };
    let body =
        super::read_limited(call.take_body(), FORM_LIMIT, S3Error::EntityTooLarge.err()).await?;
    let fields = parse_form(&body, &boundary)?;
    let file = fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("file"))
        .ok_or_else(|| {
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
        .filter(|f| !f.name.eq_ignore_ascii_case("file") && !f.name.eq_ignore_ascii_case("key"))
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
    if let Some(p) = text("policy") {
        {
            let policy = PostPolicy::parse(&p).map_err(|e| policy_error(&e))?;
            let refs: Vec<(&str, &str)> = plain
                .iter()
                // SigV2 forms sign with these two; like x-amz-signature they are not policy-checked.
                .filter(|(n, _)| n != "policy" && n != "awsaccesskeyid" && n != "signature")
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            policy
                .check(&refs, aloft_core::clock::now_millis())
                .map_err(|e| policy_error(&e))?;
            policy
                .check_length(file.value.len() as u64)
                .map_err(|e| policy_error(&e))?;
        }
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
    meta.acl = text("acl");
    let got = s3
        .bodies
        .ingest(
            full(file.value.clone()),
            IngestOptions {
                algo: Some(Algo::CRC64NVME),
                content_sha256: None,
                chunked: None,
                max: super::MAX_PUT,
            },
        )
        .await?;
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
        write_object(s3, &call.ctx, &call.bucket, obj, "ObjectCreated:Post", None).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_browser_form() {
        let body = Bytes::from_static(b"--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n");
        let f = parse_form(&body, "XX").unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "key");
        assert_eq!(&f[1].value[..], b"hello");
        assert_eq!(f[1].filename.as_deref(), Some("a.txt"));
        assert!(parse_form(&Bytes::from_static(b"garbage"), "XX").is_err());
    }
}
