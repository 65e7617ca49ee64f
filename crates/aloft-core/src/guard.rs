//! The gateway's opt-in checks, before a service sees a request: `--verify-signatures` (SigV4
//! against the caller's secret: headers and presigned queries; S3's chunk signatures are S3's,
//! from the [`aloft_sigv4::Verified`] left in the request's extensions) and `--enforce-iam`
//! (the caller's policies and the resource's own policy, through the [`Authority`]). Errors are
//! rendered in the protocol the request arrived in, with each service family's codes.

use std::collections::HashMap;
use std::sync::Arc;

use aloft_model::ServiceModel;
use aloft_protocol::Protocol;
use aloft_sigv4::{Flavor, SigError, UriMode, VerifyOptions};
use serde_json::Value;

use crate::auth::{self, Authority, Authorization, Caller, Decision};
use crate::body::{self, Body, Response};
use crate::context::RequestContext;
use crate::service::{Config, Service};
use crate::{AwsError, clock};

/// Verification hashes the body of every service but S3 (whose clients send the hash in
/// `x-amz-content-sha256`); Lambda's inline zips are the largest such bodies AWS accepts.
const VERIFY_BODY_LIMIT: usize = 96 * 1024 * 1024;

pub(crate) struct Guard {
    pub authority: Option<Arc<dyn Authority>>,
    pub verify: bool,
    pub enforce: bool,
}

impl Guard {
    pub fn new(services: &[Arc<dyn Service>], config: &Config) -> Self {
        Self {
            authority: services.iter().find_map(|s| s.authority()),
            verify: config.flag("iam.verify_signatures"),
            enforce: config.flag("iam.enforce"),
        }
    }

    /// Neither signatures nor IAM policies are checked (the default): `check` passes everything.
    pub fn is_off(&self) -> bool {
        !self.verify && !self.enforce
    }

    /// The caller an access key stands for: a key the authority issued, or the default
    /// credentials (root of their account).
    pub fn caller(&self, key: &str) -> Option<Caller> {
        self.authority
            .as_ref()
            .and_then(|a| a.caller(key))
            .or_else(|| {
                auth::is_default_key(key).then(|| Caller::root(key, &auth::account_for_key(key)))
            })
    }

    /// Checks a request; `Ok` gives back the body (buffered if it had to be read).
    pub async fn check(
        &self,
        service: &Arc<dyn Service>,
        ctx: &RequestContext,
        parts: &mut http::request::Parts,
        body: Body,
    ) -> Result<Body, Response> {
        if !self.verify && !self.enforce {
            return Ok(body);
        }
        let spec = service.spec();
        parts.extensions.insert(auth::Enforcement {
            verify: self.verify,
            enforce: self.enforce,
            authority: self.authority.clone(),
        });
        let model = model_of(spec.name, spec.signing_names);
        let protocol = model.map(|m| aloft_protocol::detect(m, parts));
        let fail = |e: AwsError| render(model, protocol, &ctx.request_id, &e);
        let is_s3 = spec.name == "s3";
        // S3's body is not read here: it streams to the service untouched.
        let (bytes, stream) = if is_s3 {
            (None, Some(body))
        } else {
            match body::collect_limited(body, VERIFY_BODY_LIMIT).await {
                Ok(b) => (Some(b), None),
                Err(_) => {
                    return Err(fail(AwsError::new(
                        "RequestEntityTooLarge",
                        413,
                        "Request body too large",
                    )));
                }
            }
        };

        let caller = match &ctx.signature {
            // S3 alone still takes SigV2; elsewhere such a request is unsigned.
            None if is_s3 => self.sigv2_caller(ctx, parts).map_err(fail)?,
            None => None,
            Some(sig) => {
                let key = &sig.credential.access_key;
                let Some(c) = self.caller(key) else {
                    return Err(fail(invalid_key(protocol, key)));
                };
                if self.verify {
                    self.verify_signature(&c, sig, parts, bytes.as_deref(), protocol)
                        .map_err(fail)?;
                }
                Some(c)
            }
        };

        let op_input = decode_op(model, parts, bytes.as_deref().unwrap_or(&[]));
        match &caller {
            None => {
                let anonymous_ok = op_input
                    .as_ref()
                    .is_none_or(|(op, _)| spec.unsigned_actions.contains(op));
                // S3 answers anonymous requests itself (public buckets, presigned POSTs).
                if !anonymous_ok && !is_s3 {
                    return Err(fail(missing_token(protocol)));
                }
            }
            // Root has every permission in its own account; another account's root is let in
            // only by the resource's own policy.
            Some(c) if self.enforce => {
                if let Some((op, input)) = &op_input {
                    self.authorize(service, ctx, c, op, input, protocol)
                        .await
                        .map_err(fail)?;
                }
            }
            Some(_) => {}
        }
        if let Some(c) = caller {
            parts.extensions.insert(c);
        }
        Ok(match bytes {
            Some(b) => body::full(b),
            None => stream.unwrap_or_else(body::empty),
        })
    }

    /// The account an access key belongs to (SigV2 requests name no credential scope).
    pub fn account_of(&self, key: &str) -> String {
        if auth::is_default_key(key) {
            auth::account_for_key(key)
        } else {
            self.caller(key)
                .map_or_else(|| auth::account_for_key(key), |c| c.account)
        }
    }

    /// S3's SigV2 (`Authorization: AWS key:signature`, or `AWSAccessKeyId`/`Signature`/
    /// `Expires` query parameters): the key's caller, with its signature verified under
    /// `--verify-signatures`. A presigned URL's expiry is left to S3, which answers it with
    /// its own `Expires`/`ServerTime` fields.
    fn sigv2_caller(
        &self,
        ctx: &RequestContext,
        parts: &http::request::Parts,
    ) -> Result<Option<Caller>, AwsError> {
        let query = parts.uri.query().unwrap_or("");
        let Some(v2) = aloft_sigv4::parse_v2(header(parts, "authorization"), query) else {
            return Ok(None);
        };
        let protocol = Some(Protocol::RestXml);
        let Some(c) = self.caller(&v2.access_key) else {
            return Err(invalid_key(protocol, &v2.access_key));
        };
        if !self.verify {
            return Ok(Some(c));
        }
        let now = clock::now_millis();
        if c.expires_millis.is_some_and(|e| e <= now) {
            return Err(expired(protocol));
        }
        if let Some(token) = &c.session_token {
            // botocore moves a presigned URL's signed headers into its query, lower-cased.
            let sent = header(parts, "x-amz-security-token")
                .map(str::to_string)
                .or_else(|| query_param(query, "x-amz-security-token"));
            if sent.as_deref() != Some(token.as_str()) {
                return Err(bad_token(protocol, &c.access_key));
            }
        }
        let headers: Vec<(&str, &[u8])> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        let req = aloft_sigv4::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &headers,
        };
        // A virtual-hosted bucket (S3 reads it from the same prefix) starts the canonicalized
        // resource.
        let bucket = ctx.host_prefix.as_deref().filter(|b| !b.is_empty());
        aloft_sigv4::verify_v2(&req, bucket, &v2, &c.secret, now)
            .map_err(|e| sig_error(&e, protocol))?;
        Ok(Some(c))
    }

    fn verify_signature(
        &self,
        c: &Caller,
        sig: &aloft_sigv4::SignatureParts,
        parts: &mut http::request::Parts,
        body: Option<&[u8]>,
        protocol: Option<Protocol>,
    ) -> Result<(), AwsError> {
        let now = clock::now_millis();
        if c.expires_millis.is_some_and(|e| e <= now) {
            return Err(expired(protocol));
        }
        if let Some(token) = &c.session_token {
            let sent = header(parts, "x-amz-security-token")
                .map(str::to_string)
                .or_else(|| query_param(parts.uri.query().unwrap_or(""), "X-Amz-Security-Token"));
            if sent.as_deref() != Some(token.as_str()) {
                return Err(bad_token(protocol, &c.access_key));
            }
        }
        let headers: Vec<(&str, &[u8])> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        let req = aloft_sigv4::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
        };
        let hash = body.map(aloft_sigv4::sha256_hex);
        let opts = VerifyOptions {
            now_millis: now,
            uri: UriMode::for_service(&sig.credential.service),
            payload_hash: hash.as_deref(),
        };
        let verified = aloft_sigv4::verify(&req, sig, &c.secret, &opts)
            .map_err(|e| sig_error(&e, protocol))?;
        parts.extensions.insert(verified);
        Ok(())
    }

    async fn authorize(
        &self,
        service: &Arc<dyn Service>,
        ctx: &RequestContext,
        caller: &Caller,
        op: &str,
        input: &Value,
        protocol: Option<Protocol>,
    ) -> Result<(), AwsError> {
        let Some(authority) = &self.authority else {
            return Ok(());
        };
        let signing = ctx
            .signature
            .as_ref()
            .map_or(ctx.service, |s| s.credential.service.as_str());
        let prefix = auth::action_prefix(signing);
        let mut wanted = service.authorization(ctx, op, input).unwrap_or_else(|| {
            vec![(
                auth::default_action(prefix, op),
                auth::default_resource(prefix, &ctx.region, &ctx.account_id, input),
            )]
        });
        if caller.root {
            // S3's ARNs name no account: S3 compares the bucket owner itself.
            wanted.retain(|(_, r)| foreign(r, &caller.account));
            if wanted.is_empty() {
                return Ok(());
            }
        }
        let mut context: HashMap<String, Vec<String>> = HashMap::new();
        context.insert("aws:PrincipalArn".into(), vec![caller.arn.clone()]);
        context.insert("aws:PrincipalAccount".into(), vec![caller.account.clone()]);
        context.insert("aws:RequestedRegion".into(), vec![ctx.region.clone()]);
        context.insert("aws:SecureTransport".into(), vec!["false".into()]);
        context.insert(
            "aws:CurrentTime".into(),
            vec![aloft_protocol::format_iso8601(clock::now_secs_f64())],
        );
        if let Some(user) = caller.arn.split(":user/").nth(1) {
            context.insert(
                "aws:username".into(),
                vec![user.rsplit('/').next().unwrap_or(user).to_string()],
            );
        }
        for (action, resource) in wanted {
            let policy = service.resource_policy(ctx, &resource).await;
            let decision = authority.authorize(&Authorization {
                caller,
                action: &action,
                resource: &resource,
                resource_policy: policy.as_deref(),
                context: &context,
                resource_only: caller.root,
            });
            if decision != Decision::Allowed {
                return Err(access_denied(
                    protocol,
                    ctx.service,
                    &auth::denied_message(
                        &caller.arn,
                        &action,
                        &resource,
                        decision,
                        protocol == Some(Protocol::RestXml),
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether a resource ARN names an account other than `account` (`aws`, in AWS-managed
/// policy ARNs, is no account).
fn foreign(resource: &str, account: &str) -> bool {
    crate::arn::parse(resource).is_some_and(|a| {
        a.account.len() == 12
            && a.account.bytes().all(|b| b.is_ascii_digit())
            && a.account != account
    })
}

/// The model of a service: by its name, else by a signing name (`events`, `monitoring`).
fn model_of(name: &str, signing: &[&str]) -> Option<&'static ServiceModel> {
    aloft_model::get(name).or_else(|| signing.iter().find_map(|s| aloft_model::get(s)))
}

fn decode_op(
    model: Option<&'static ServiceModel>,
    parts: &http::request::Parts,
    body: &[u8],
) -> Option<(&'static str, Value)> {
    let model = model?;
    match aloft_protocol::decode_unvalidated(model, parts, body) {
        Ok(d) => Some((d.operation, d.input)),
        // S3's payload was not read: its bucket and key still come from the URI.
        Err(_) => {
            let m = aloft_protocol::Router::for_model(model).find(
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query().unwrap_or(""),
                &parts.headers,
            )?;
            let (op, labels) = m;
            let input: serde_json::Map<String, Value> = labels
                .into_iter()
                .map(|(k, v)| (k.trim_end_matches('+').to_string(), Value::String(v)))
                .collect();
            Some((op, Value::Object(input)))
        }
    }
}

fn header<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
}

fn render(
    model: Option<&'static ServiceModel>,
    protocol: Option<Protocol>,
    request_id: &str,
    err: &AwsError,
) -> Response {
    match (model, protocol) {
        (Some(m), Some(p)) => body::from_bytes(aloft_protocol::encode_error(m, p, err, request_id)),
        _ => crate::gateway::error_response(err),
    }
}

/// Which family answers: S3 (rest-xml), json and CBOR RPC, rest-json, query.
fn flavor(protocol: Option<Protocol>) -> Flavor {
    match protocol {
        Some(Protocol::RestXml) => Flavor::S3,
        Some(Protocol::Json10 | Protocol::Json11 | Protocol::RpcV2Cbor | Protocol::JsonCbor) => {
            Flavor::Json
        }
        Some(Protocol::RestJson) => Flavor::RestJson,
        Some(Protocol::Query) | None => Flavor::Query,
    }
}

fn sig_error(e: &SigError, protocol: Option<Protocol>) -> AwsError {
    let doc = e.other(flavor(protocol));
    let mut err = AwsError::new(doc.code, doc.status, doc.message);
    for (k, v) in doc.fields {
        err.fields.insert(k.to_string(), Value::String(v));
    }
    err
}

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

fn invalid_key(protocol: Option<Protocol>, key: &str) -> AwsError {
    match flavor(protocol) {
        Flavor::S3 => {
            let mut e = AwsError::new(
                "InvalidAccessKeyId",
                403,
                "The AWS Access Key Id you provided does not exist in our records.",
            );
            e.fields
                .insert("AWSAccessKeyId".into(), Value::String(key.to_string()));
            e
        }
        Flavor::Json => AwsError::new("UnrecognizedClientException", 400, INVALID_TOKEN),
        Flavor::RestJson => AwsError::new("UnrecognizedClientException", 403, INVALID_TOKEN),
        Flavor::Query => AwsError::new("InvalidClientTokenId", 403, INVALID_TOKEN),
    }
}

/// A temporary key sent without its session token, or with another one.
fn bad_token(protocol: Option<Protocol>, key: &str) -> AwsError {
    match flavor(protocol) {
        Flavor::S3 => AwsError::new(
            "InvalidToken",
            400,
            "The provided token is malformed or otherwise invalid.",
        ),
        _ => invalid_key(protocol, key),
    }
}

fn expired(protocol: Option<Protocol>) -> AwsError {
    match flavor(protocol) {
        Flavor::S3 => AwsError::new("ExpiredToken", 400, "The provided token has expired."),
        Flavor::Json => AwsError::new("ExpiredTokenException", 400, EXPIRED_TOKEN),
        Flavor::RestJson => AwsError::new("ExpiredTokenException", 403, EXPIRED_TOKEN),
        Flavor::Query => AwsError::new("ExpiredToken", 403, EXPIRED_TOKEN),
    }
}

fn missing_token(protocol: Option<Protocol>) -> AwsError {
    match flavor(protocol) {
        Flavor::Json => AwsError::new(
            "MissingAuthenticationTokenException",
            400,
            "Request is missing Authentication Token",
        ),
        Flavor::RestJson => AwsError::new(
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token",
        ),
        Flavor::S3 | Flavor::Query => AwsError::new(
            "MissingAuthenticationToken",
            403,
            "Request is missing Authentication Token",
        ),
    }
}

fn access_denied(protocol: Option<Protocol>, service: &str, message: &str) -> AwsError {
    match flavor(protocol) {
        Flavor::S3 => AwsError::new("AccessDenied", 403, message),
        Flavor::Json => AwsError::new("AccessDeniedException", 400, message),
        Flavor::RestJson => AwsError::new("AccessDeniedException", 403, message),
        // SNS says AuthorizationError where other query services say AccessDenied.
        Flavor::Query if service == "sns" => AwsError::new("AuthorizationError", 403, message),
        Flavor::Query => AwsError::new("AccessDenied", 403, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_follow_the_protocol_family() {
        let e = invalid_key(Some(Protocol::Query), "AKIA");
        assert_eq!((e.code, e.status.as_u16()), ("InvalidClientTokenId", 403));
        let e = invalid_key(Some(Protocol::Json11), "AKIA");
        assert_eq!(
            (e.code, e.status.as_u16()),
            ("UnrecognizedClientException", 400)
        );
        let e = invalid_key(Some(Protocol::RestXml), "AKIA");
        assert_eq!(e.code, "InvalidAccessKeyId");
        assert_eq!(expired(Some(Protocol::Query)).code, "ExpiredToken");
        assert_eq!(
            expired(Some(Protocol::Json10)).code,
            "ExpiredTokenException"
        );
        assert_eq!(
            access_denied(Some(Protocol::Query), "sns", "m").code,
            "AuthorizationError"
        );
        assert_eq!(
            access_denied(Some(Protocol::Json10), "dynamodb", "m").code,
            "AccessDeniedException"
        );
        assert_eq!(
            missing_token(Some(Protocol::RestJson)).message,
            "Missing Authentication Token"
        );
    }

    #[test]
    fn roots_are_checked_only_on_other_accounts_resources() {
        let q = "arn:aws:sqs:us-east-1:111122223333:q";
        assert!(foreign(q, "000000000000"));
        assert!(!foreign(q, "111122223333"));
        assert!(!foreign("arn:aws:s3:::b/k", "000000000000"));
        assert!(!foreign("*", "000000000000"));
        assert!(!foreign(
            "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess",
            "000000000000"
        ));
    }

    #[test]
    fn models_are_found_by_signing_name() {
        assert!(model_of("eventbridge", &["events"]).is_some());
        assert!(model_of("nope", &[]).is_none());
    }
}
