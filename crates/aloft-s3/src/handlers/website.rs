//! Static website hosting at `BUCKET.s3-website.localhost`: index documents, redirects (all
//! requests, routing rules, per-object), error documents and S3's HTML error pages.

use aloft_core::AwsError;
use aloft_core::body::{Response, full};
use http::Method;

use super::Call;
use crate::S3;
use crate::domain::config::WebsiteConfiguration;
use crate::domain::model::ObjectVersion;
use crate::domain::storage;
use crate::domain::website::{key_for_path, matching_rule, redirect_location};
use crate::xml::Resp;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// S3's HTML error page for website endpoints.
fn html_error(
    status: u16,
    code: &str,
    message: &str,
    extra: &[(&str, &str)],
    request_id: &str,
) -> Response {
    let title = match status {
        403 => "403 Forbidden",
        404 => "404 Not Found",
        405 => "405 Method Not Allowed",
        _ => "400 Bad Request",
    };
    let mut items = format!(
        "<li>Code: {}</li>\n<li>Message: {}</li>\n",
        escape(code),
        escape(message)
    );
    for (k, v) in extra {
        items.push_str(&format!("<li>{}: {}</li>\n", escape(k), escape(v)));
    }
    items.push_str(&format!("<li>RequestId: {}</li>\n", escape(request_id)));
    let body = format!(
        "<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n{items}</ul>\n<hr/>\n</body>\n</html>\n"
    );
    Resp::new(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(full(body))
}

fn lookup(s3: &S3, bucket: &str, key: &str) -> Option<ObjectVersion> {
    let cell = s3.bucket(bucket).ok()?;
    let b = cell.read().ok()?;
    b.current(key).cloned()
}

fn serve_object(s3: &S3, call: &Call, v: &ObjectVersion, status: u16) -> Response {
    if let Some(loc) = &v.meta.website_redirect {
        return Resp::new(301).header("location", loc).empty();
    }
    let r = Resp::new(status)
        .header("etag", v.quoted_etag())
        .header("last-modified", aloft_core::clock::http_date(v.modified))
        .header(
            "content-type",
            v.meta
                .content_type
                .as_deref()
                .unwrap_or("binary/octet-stream"),
        )
        .opt_header("content-encoding", v.meta.content_encoding.as_deref())
        .opt_header("cache-control", v.meta.cache_control.as_deref())
        .header("content-length", v.size.to_string());
    if call.parts.method == Method::HEAD {
        r.empty()
    } else {
        r.body(s3.bodies.body(&v.data, 0, v.size))
    }
}

/// Under `--enforce-iam` the website endpoint serves only what anonymous readers may get.
fn public(s3: &S3, call: &Call, bucket: &str, key: &str) -> bool {
    let Some(ent) = super::access::enforcement(call) else {
        return true;
    };
    super::access::judge(
        s3,
        call,
        ent,
        None,
        false,
        "s3:GetObject",
        bucket,
        Some(key),
    )
    .is_ok()
}

fn access_denied(rid: &str) -> Response {
    html_error(403, "AccessDenied", "Access Denied", &[], rid)
}

/// Archived (GLACIER, DEEP_ARCHIVE) objects are readable only through a restored copy.
fn readable(v: &ObjectVersion) -> bool {
    storage::readable(
        v.meta.storage_class.as_deref(),
        v.meta.restore.as_deref(),
        aloft_core::clock::now_millis(),
    )
}

/// An archived object is a 403 on the website endpoint, as on the REST one
/// (`InvalidObjectState`); like any 4xx it is answered with the error document when the bucket
/// has a readable one, keeping the status.
fn archived(
    s3: &S3,
    call: &Call,
    cfg: &WebsiteConfiguration,
    bucket: &str,
    v: &ObjectVersion,
    rid: &str,
) -> Response {
    if let Some(err_key) = cfg.error.as_ref().map(|e| e.key.as_str())
        && let Some(doc) = lookup(s3, bucket, err_key)
        && readable(&doc)
        && public(s3, call, bucket, err_key)
    {
        return serve_object(s3, call, &doc, 403);
    }
    let class = v.meta.storage_class.as_deref().unwrap_or("GLACIER");
    html_error(
        403,
        "InvalidObjectState",
        "The operation is not valid for the object's storage class",
        &[("StorageClass", class)],
        rid,
    )
}

pub async fn serve(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let rid = call.ctx.request_id.clone();
    let bucket = call.bucket.clone();
    if call.parts.method != Method::GET && call.parts.method != Method::HEAD {
        return Ok(html_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            &[
                ("Method", call.parts.method.as_str()),
                ("ResourceType", "OBJECT"),
            ],
            &rid,
        ));
    }
    let cfg: Option<WebsiteConfiguration> = match s3.bucket(&bucket) {
        Err(_) => {
            return Ok(html_error(
                404,
                "NoSuchBucket",
                "The specified bucket does not exist",
                &[("BucketName", &bucket)],
                &rid,
            ));
        }
        Ok(cell) => cell.read().ok().and_then(|b| b.info.config.website.clone()),
    };
    let Some(cfg) = cfg else {
        return Ok(html_error(
            404,
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
            &[("BucketName", &bucket)],
            &rid,
        ));
    };
    let host = call.header("host").unwrap_or("localhost").to_string();
    if let Some(all) = &cfg.redirect_all {
        let proto = all.protocol.as_deref().unwrap_or("http");
        let loc = format!("{proto}://{}{}", all.host_name, call.parts.uri.path());
        return Ok(Resp::new(301).header("location", loc).empty());
    }
    let path_key = call.key.clone();
    if let Some((redirect, prefix)) = matching_rule(&cfg, &path_key, None) {
        let (code, loc) = redirect_location(redirect, &path_key, prefix, &host);
        return Ok(Resp::new(code).header("location", loc).empty());
    }
    let key = key_for_path(&cfg, &path_key);
    if let Some(v) = lookup(s3, &bucket, &key) {
        if !public(s3, call, &bucket, &key) {
            return Ok(access_denied(&rid));
        }
        if !readable(&v) {
            return Ok(archived(s3, call, &cfg, &bucket, &v, &rid));
        }
        return Ok(serve_object(s3, call, &v, 200));
    }
    // `/docs` with `docs/index.html` present redirects to `/docs/`, as S3 does.
    if !path_key.is_empty() && !path_key.ends_with('/') {
        let dir_index = format!(
            "{path_key}/{}",
            cfg.index
                .as_ref()
                .map_or("index.html", |i| i.suffix.as_str())
        );
        if lookup(s3, &bucket, &dir_index).is_some() {
            return Ok(Resp::new(302)
                .header("location", format!("/{path_key}/"))
                .empty());
        }
    }
    if let Some((redirect, prefix)) = matching_rule(&cfg, &path_key, Some(404)) {
        let (code, loc) = redirect_location(redirect, &path_key, prefix, &host);
        return Ok(Resp::new(code).header("location", loc).empty());
    }
    if let Some(err_key) = cfg.error.as_ref().map(|e| e.key.clone())
        && let Some(v) = lookup(s3, &bucket, &err_key)
        && readable(&v)
    {
        if !public(s3, call, &bucket, &err_key) {
            return Ok(access_denied(&rid));
        }
        return Ok(serve_object(s3, call, &v, 404));
    }
    Ok(html_error(
        404,
        "NoSuchKey",
        "The specified key does not exist.",
        &[("Key", &key)],
        &rid,
    ))
}
