//! Parsing of `Authorization: AWS4-HMAC-SHA256 ...` and presigned `X-Amz-*` query parameters.

/// `AKID/20261121/us-east-1/s3/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    /// Parses the credential string; `None` unless it has the five SigV4 fields.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('/');
        let access_key = it.next()?.to_string();
        let date = it.next()?.to_string();
        let region = it.next()?.to_string();
        let service = it.next()?.to_string();
        if it.next()? != "aws4_request" || it.next().is_some() || access_key.is_empty() {
            return None;
        }
        Some(Self {
            access_key,
            date,
            region,
            service,
        })
    }
}

/// What a SigV4 signature says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParts {
    pub credential: Credential,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// Presigned URLs only: `X-Amz-Date` and `X-Amz-Expires`.
    pub presigned_date: Option<String>,
    pub presigned_expires: Option<String>,
}

/// Parses an `Authorization` header value. `None` for anything that is not SigV4
/// (SigV2 and anonymous requests are handled as unsigned).
pub fn parse_authorization(value: &str) -> Option<SignatureParts> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Credential::parse(v),
            "SignedHeaders" => {
                signed_headers = Some(v.split(';').map(str::to_string).collect::<Vec<_>>());
            }
            "Signature" => signature = Some(v.to_string()),
            _ => {}
        }
    }
    Some(SignatureParts {
        credential: credential?,
        signed_headers: signed_headers?,
        signature: signature?,
        presigned_date: None,
        presigned_expires: None,
    })
}

/// Parses the SigV4 members of a presigned URL's query string (raw, still percent-encoded).
pub fn parse_presigned(query: &str) -> Option<SignatureParts> {
    let mut algorithm = None;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut date = None;
    let mut expires = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        match k {
            "X-Amz-Algorithm" => algorithm = Some(v),
            "X-Amz-Credential" => credential = Credential::parse(&v),
            "X-Amz-SignedHeaders" => {
                signed_headers = Some(v.split(';').map(str::to_string).collect::<Vec<_>>());
            }
            "X-Amz-Signature" => signature = Some(v),
            "X-Amz-Date" => date = Some(v),
            "X-Amz-Expires" => expires = Some(v),
            _ => {}
        }
    }
    if algorithm.as_deref() != Some("AWS4-HMAC-SHA256") {
        return None;
    }
    Some(SignatureParts {
        credential: credential?,
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
        presigned_date: date,
        presigned_expires: expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_sdk_authorization_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc123";
        let p = parse_authorization(h).unwrap();
        assert_eq!(p.credential.access_key, "AKIDEXAMPLE");
        assert_eq!(p.credential.region, "eu-west-1");
        assert_eq!(p.credential.service, "dynamodb");
        assert_eq!(
            p.signed_headers,
            ["content-type", "host", "x-amz-date", "x-amz-target"]
        );
        assert_eq!(p.signature, "abc123");
    }

    #[test]
    fn rejects_what_is_not_sigv4() {
        assert!(parse_authorization("AWS AKID:sig").is_none());
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c, Signature=x").is_none());
        assert!(parse_authorization("AWS4-HMAC-SHA256 garbage").is_none());
        assert!(Credential::parse("a/b/c/d/aws4_request/extra").is_none());
        assert!(Credential::parse("/b/c/d/aws4_request").is_none());
    }

    #[test]
    fn parses_a_presigned_query() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261121%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261121T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        let p = parse_presigned(q).unwrap();
        assert_eq!(p.credential.service, "s3");
        assert_eq!(p.presigned_expires.as_deref(), Some("3600"));
        assert!(parse_presigned("a=b").is_none());
    }
}
