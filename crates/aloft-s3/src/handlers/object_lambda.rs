//! S3 Object Lambda: GetObject through an Object Lambda access point invokes the
//! transformation function (through the `lambda` target) with a `getObjectContext`, and the
//! caller waits for the body the function sends back with `WriteGetObjectResponse`.

use aloft_core::AwsError;
use aloft_core::body::{Response, full};
use aloft_events::Delivery;
use bytes::Bytes;
use serde_json::json;

use super::{Call, read_limited};
use crate::S3;
use crate::error::{S3Error, internal};
use crate::xml::Resp;

/// Largest transformed body held for a waiting caller.
const MAX_TRANSFORMED: usize = 512 * 1024 * 1024;

/// What the function answered through WriteGetObjectResponse.
pub struct Written {
    status: u16,
    headers: Vec<(String, String)>,
    error: Option<(String, String)>,
    body: Bytes,
}

/// Whether this request is for Object Lambda (its signing name or its host).
pub fn is_object_lambda(call: &Call) -> bool {
    call.ctx.host_label == Some("s3-object-lambda")
        || call
            .ctx
            .signature
            .as_ref()
            .is_some_and(|s| s.credential.service == "s3-object-lambda")
}

/// `{name}-{account}` → (name, account).
fn split_host_prefix(prefix: &str) -> Option<(&str, &str)> {
    let (name, account) = prefix.rsplit_once('-')?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some((name, account))
}

pub async fn serve(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    if call.parts.method == http::Method::POST && call.parts.uri.path() == "/WriteGetObjectResponse"
    {
        return write_get_object_response(s3, call).await;
    }
    if call.parts.method != http::Method::GET && call.parts.method != http::Method::HEAD {
        return Err(S3Error::NotImplemented
            .msg("Aloft's Object Lambda access points transform GetObject only"));
    }
    get_object(s3, call).await
}

async fn get_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let prefix = call.ctx.host_prefix.clone().unwrap_or_default();
    let (name, account) = split_host_prefix(&prefix)
        .ok_or_else(|| S3Error::InvalidRequest.msg("Invalid Object Lambda access point host"))?;
    let region = call.ctx.region.clone();
    let key = call.parts.uri.path().trim_start_matches('/').to_string();
    let (config, bucket) = {
        let points = s3.points.read().map_err(internal)?;
        let p = points
            .object_lambda
            .get(&(account.to_string(), region.clone(), name.to_string()))
            .ok_or_else(|| S3Error::NoSuchAccessPoint.err())?;
        let supporting = p
            .config
            .supporting_access_point
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        let ap = points
            .access
            .get(&(account.to_string(), region.clone(), supporting))
            .ok_or_else(|| S3Error::NoSuchAccessPoint.err())?;
        (p.config.clone(), ap.bucket.clone())
    };
    let Some(t) = config
        .transformation_configurations
        .items
        .iter()
        .find(|t| t.actions.items.iter().any(|a| a == "GetObject"))
    else {
        return Err(S3Error::InvalidRequest
            .msg("The Object Lambda access point has no transformation for GetObject"));
    };
    let function = t.content_transformation.aws_lambda.function_arn.clone();
    let payload = t
        .content_transformation
        .aws_lambda
        .function_payload
        .clone()
        .unwrap_or_default();
    let route = format!("io-{}", aloft_core::ids::hex(4));
    let token = aloft_core::ids::hex(32);
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    s3.pending
        .lock()
        .map_err(internal)?
        .insert(format!("{route}/{token}"), tx);
    let base = call.ctx.base_url.clone();
    let base = base
        .strip_prefix("http://")
        .map(|h| h.strip_prefix(&format!("{prefix}.")).unwrap_or(h))
        .map_or(base.clone(), |h| format!("http://{h}"));
    let input_url = presigned_url(&base, &bucket, &key, account, &region);
    let headers: serde_json::Map<String, serde_json::Value> = call
        .parts
        .headers
        .iter()
        .filter(|(k, _)| *k != "authorization")
        .filter_map(|(k, v)| Some((k.as_str().to_string(), json!(v.to_str().ok()?))))
        .collect();
    let access_key = call
        .ctx
        .signature
        .as_ref()
        .map(|s| s.credential.access_key.clone())
        .unwrap_or_default();
    let event = json!({
        "xAmzRequestId": call.ctx.request_id,
        "getObjectContext": {"inputS3Url": input_url, "outputRoute": route, "outputToken": token},
        "configuration": {
            "accessPointArn": super::control::olap_arn(&region, account, name),
            "supportingAccessPointArn": config.supporting_access_point,
            "payload": payload,
        },
        "userRequest": {
            "url": format!("https://{prefix}.s3-object-lambda.{region}.amazonaws.com/{key}"),
            "headers": headers,
        },
        "userIdentity": {
            "type": "IAMUser",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
            "accessKeyId": access_key,
        },
        "protocolVersion": "1.00",
    });
    let d = Delivery {
        payload: event.to_string().into(),
        sync: true,
        source_arn: Some(super::control::olap_arn(&region, account, name)),
        account: account.to_string(),
        region: region.clone(),
        ..Default::default()
    };
    let targets = s3.targets.clone();
    let mut invoke = tokio::spawn(async move { targets.deliver(&function, d).await });
    let written = tokio::select! {
        w = &mut rx => w.ok(),
        r = &mut invoke => {
            // The function calls WriteGetObjectResponse before it returns.
            let w = rx.try_recv().ok();
            if w.is_none() {
                s3.pending.lock().map_err(internal)?.remove(&format!("{route}/{token}"));
                let failed = match r {
                    Ok(Ok(d)) => d.info.contains_key("FunctionError"),
                    _ => true,
                };
                return Err(if failed {
                    S3Error::LambdaRuntimeError.err()
                } else {
                    S3Error::LambdaResponseNotReceived.err()
                });
            }
            w
        }
    };
    let w = written.ok_or_else(|| S3Error::LambdaResponseNotReceived.err())?;
    Ok(render(w, &call.ctx.request_id, call.is_head()))
}

fn render(w: Written, request_id: &str, head: bool) -> Response {
    if let Some((code, message)) = w.error {
        // The function's own error code is passed through as is (not one of S3's codes).
        let r = Resp::new(w.status).header("content-type", "application/xml");
        if head {
            return r.empty();
        }
        let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
        return r.body(full(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
            esc(&code),
            esc(&message),
            esc(request_id)
        )));
    }
    let mut r = Resp::new(w.status);
    for (k, v) in &w.headers {
        r = r.header(k, v);
    }
    if head {
        r.empty()
    } else {
        r.body(full(w.body))
    }
}

/// A presigned URL to the original object that the function can fetch.
fn presigned_url(base: &str, bucket: &str, key: &str, account: &str, region: &str) -> String {
    let now = aloft_core::clock::now_millis();
    let date = aloft_sigv4::dates::format_amz_date(now);
    let day = &date[..8];
    let credential = format!("{account}%2F{day}%2F{region}%2Fs3%2Faws4_request");
    let signature = aloft_sigv4::sha256_hex(format!("{bucket}/{key}/{date}").as_bytes());
    format!(
        "{base}/{bucket}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}\
         &X-Amz-Date={date}&X-Amz-Expires=61&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
    )
}

async fn write_get_object_response(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let route = call.header("x-amz-request-route").unwrap_or("").to_string();
    let token = call.header("x-amz-request-token").unwrap_or("").to_string();
    let Some(tx) = s3
        .pending
        .lock()
        .map_err(internal)?
        .remove(&format!("{route}/{token}"))
    else {
        return Err(S3Error::InvalidRequest.msg("Invalid or expired x-amz-request-token"));
    };
    let status = call
        .header("x-amz-fwd-status")
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .unwrap_or(200);
    let error = call.header("x-amz-fwd-error-code").map(|c| {
        (
            c.to_string(),
            call.header("x-amz-fwd-error-message")
                .unwrap_or("")
                .to_string(),
        )
    });
    let headers = call
        .parts
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-amz-fwd-header-")?;
            Some((name.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    let too_big = S3Error::EntityTooLarge.msg("The transformed object is too large for Aloft");
    let body = read_limited(call.take_body(), MAX_TRANSFORMED, too_big).await?;
    let _ = tx.send(Written {
        status,
        headers,
        error,
        body,
    });
    Ok(Resp::ok().empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_prefix_names_the_access_point_and_account() {
        assert_eq!(
            split_host_prefix("my-olap-000000000000"),
            Some(("my-olap", "000000000000"))
        );
        assert_eq!(split_host_prefix("bucket"), None);
        assert_eq!(split_host_prefix("a-123"), None);
    }
}
