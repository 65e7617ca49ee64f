//! Verification against AWS's SigV4 test suite, requests signed by botocore 1.44 (the client
//! Aloft's users run), and every refusal AWS makes.

use super::*;
use crate::dates::parse_amz_date;
use crate::error::Flavor;
use crate::parse::{parse_authorization, parse_presigned};
use crate::sign::sha256_hex;

const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_DATE: &str = "20150830T123600Z";

fn at(date: &str) -> i64 {
    parse_amz_date(date).unwrap()
}

/// One case of the AWS SigV4 test suite (`aws-signing-test-suite/v4`, service `service`): the
/// path and query are given unencoded there, as the signer saw them before encoding once.
fn suite_case(method: &str, path: &str, query: &str, extra: &[(&str, &str)], signature: &str) {
    let signed: Vec<&str> = std::iter::once("host")
        .chain(extra.iter().map(|(k, _)| *k))
        .chain(std::iter::once("x-amz-date"))
        .collect();
    let mut signed_set: Vec<String> = signed.iter().map(|s| s.to_lowercase()).collect();
    signed_set.sort();
    signed_set.dedup();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={}, Signature={signature}",
        signed_set.join(";")
    );
    let mut headers: Vec<(&str, &[u8])> = vec![("Host", b"example.amazonaws.com")];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.as_bytes())));
    headers.push(("X-Amz-Date", SUITE_DATE.as_bytes()));
    let req = Request {
        method,
        path,
        query,
        headers: &headers,
    };
    let sig = parse_authorization(&auth).unwrap();
    let opts = VerifyOptions {
        now_millis: at(SUITE_DATE),
        uri: UriMode::DEFAULT,
        payload_hash: Some(EMPTY_SHA256),
    };
    if let Err(e) = verify(&req, &sig, SUITE_SECRET, &opts) {
        panic!("{method} {path}?{query}: {e:?}");
    }
    // And one changed byte of the signature fails.
    let mut bad = sig.clone();
    bad.signature
        .replace_range(0..1, if signature.starts_with('0') { "1" } else { "0" });
    assert!(verify(&req, &bad, SUITE_SECRET, &opts).is_err());
}

#[test]
fn aws_signature_v4_test_suite() {
    let v = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    suite_case("GET", "/", "", &[], v);
    suite_case("GET", "/example1/example2/../..", "", &[], v);
    suite_case(
        "GET",
        "/",
        "Param2=value2&Param1=value1",
        &[],
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
    suite_case(
        "GET",
        "/ሴ",
        "",
        &[],
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    );
    suite_case(
        "GET",
        "/example space/",
        "",
        &[],
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    );
    suite_case(
        "GET",
        "//example//",
        "",
        &[],
        "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    );
    let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    suite_case(
        "GET",
        "/",
        &format!("{unreserved}={unreserved}"),
        &[],
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    );
    suite_case(
        "GET",
        "/",
        "ሴ=bar",
        &[],
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    );
    suite_case(
        "GET",
        "/",
        "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
        &[],
        "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
    );
    suite_case(
        "GET",
        "/",
        "Param1=value1",
        &[],
        "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
    );
    suite_case(
        "GET",
        "/",
        "",
        &[("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    );
    suite_case(
        "GET",
        "/",
        "",
        &[
            ("My-Header1", "value2"),
            ("My-Header1", "value2"),
            ("My-Header1", "value1"),
        ],
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    );
    suite_case(
        "POST",
        "/",
        "",
        &[("My-Header1", "value1")],
        "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    );
}

const SECRET: &str = SUITE_SECRET;
const NOW: &str = "20261121T120000Z";

fn opts(uri: UriMode, payload_hash: Option<&str>) -> VerifyOptions<'_> {
    VerifyOptions {
        now_millis: at(NOW),
        uri,
        payload_hash,
    }
}

#[test]
fn botocore_json_request() {
    let body = br#"{"TableName":"t"}"#;
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=91e6e287e738d31e499a1ee70495241c76327e8e4feb445aff7be61132e4b8e7";
    let headers: &[(&str, &[u8])] = &[
        ("host", b"localhost:4566"),
        ("content-type", b"application/x-amz-json-1.0"),
        ("x-amz-target", b"DynamoDB_20120810.ListTables"),
        ("x-amz-date", NOW.as_bytes()),
        ("authorization", auth.as_bytes()),
    ];
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers,
    };
    let sig = parse_authorization(auth).unwrap();
    let hash = sha256_hex(body);
    let v = verify(&req, &sig, SECRET, &opts(UriMode::DEFAULT, Some(&hash))).unwrap();
    assert_eq!(v.scope, "20261121/us-east-1/dynamodb/aws4_request");
    // A different body is a different signature.
    let other = sha256_hex(b"{}");
    let err = verify(&req, &sig, SECRET, &opts(UriMode::DEFAULT, Some(&other))).unwrap_err();
    let doc = err.other(Flavor::Json);
    assert_eq!((doc.code, doc.status), ("InvalidSignatureException", 400));
    assert!(
        doc.message
            .starts_with("The request signature we calculated")
    );
    // A wrong secret too.
    assert!(verify(&req, &sig, "other", &opts(UriMode::DEFAULT, Some(&hash))).is_err());
}

#[test]
fn botocore_rest_json_path_is_double_encoded() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=2e2f3d0dde8ee83b0a65b5d5706bbdc2cae71bb65c29e65a2253e97a04470ca8";
    let headers: &[(&str, &[u8])] = &[("host", b"localhost:4566"), ("x-amz-date", NOW.as_bytes())];
    let req = Request {
        method: "POST",
        path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
        query: "Qualifier=%24LATEST",
        headers,
    };
    let sig = parse_authorization(auth).unwrap();
    let hash = sha256_hex(b"{}");
    verify(
        &req,
        &sig,
        SECRET,
        &opts(UriMode::for_service("lambda"), Some(&hash)),
    )
    .unwrap();
    // Encoding once (S3's way) does not match.
    assert!(verify(&req, &sig, SECRET, &opts(UriMode::S3, Some(&hash))).is_err());
}

fn s3_put() -> (Vec<(&'static str, &'static [u8])>, SignatureParts) {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-1/s3/aws4_request, SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note, Signature=ad61d9d9c9a82831baf9fee9631673d02d1ff28765c506771b526c5d71c4fd5a";
    let headers: Vec<(&str, &[u8])> = vec![
        ("host", b"localhost:4566"),
        ("content-md5", b"XrY7u+Ae7tCTyyK7j1rNww=="),
        ("x-amz-meta-note", b"  two   spaces "),
        ("x-amz-date", b"20261121T120000Z"),
        (
            "x-amz-content-sha256",
            b"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
        ),
    ];
    (headers, parse_authorization(auth).unwrap())
}

#[test]
fn botocore_s3_put_with_reserved_characters_in_the_key() {
    let (headers, sig) = s3_put();
    let req = Request {
        method: "PUT",
        path: "/bucket/my%20dir/a%2Bb%21~.txt",
        query: "tagging=",
        headers: &headers,
    };
    let v = verify(&req, &sig, SECRET, &opts(UriMode::S3, None)).unwrap();
    assert_eq!(
        v.payload_hash,
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    assert_eq!(
        ContentSha256::parse(&v.payload_hash).unwrap(),
        ContentSha256::Sha256(
            crate::checksums::checksum(crate::checksums::ChecksumAlgorithm::Sha256, b"hello world")
                .as_bytes()
                .try_into()
                .unwrap()
        )
    );
    // S3's SignatureDoesNotMatch echoes the canonical request and string to sign.
    let req2 = Request {
        method: "POST",
        ..req
    };
    let doc = verify(&req2, &sig, SECRET, &opts(UriMode::S3, None))
        .unwrap_err()
        .s3();
    assert_eq!((doc.code, doc.status), ("SignatureDoesNotMatch", 403));
    let names: Vec<&str> = doc.fields.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "AWSAccessKeyId",
            "StringToSign",
            "SignatureProvided",
            "StringToSignBytes",
            "CanonicalRequest",
            "CanonicalRequestBytes"
        ]
    );
    assert!(
        doc.fields[4]
            .1
            .starts_with("POST\n/bucket/my%20dir/a%2Bb%21~.txt\ntagging=\n")
    );
    assert!(doc.fields[4].1.contains("\nx-amz-meta-note:two spaces\n"));
}

#[test]
fn s3_requires_a_valid_content_sha256() {
    let (mut headers, sig) = s3_put();
    headers.retain(|(n, _)| *n != "x-amz-content-sha256");
    let req = Request {
        method: "PUT",
        path: "/bucket/k",
        query: "",
        headers: &headers,
    };
    let err = verify(&req, &sig, SECRET, &opts(UriMode::S3, None)).unwrap_err();
    assert_eq!(err, SigError::MissingContentSha256);
    assert_eq!(err.s3().code, "InvalidRequest");
    headers.push(("x-amz-content-sha256", b"nope"));
    let req = Request {
        method: "PUT",
        path: "/bucket/k",
        query: "",
        headers: &headers,
    };
    let err = verify(&req, &sig, SECRET, &opts(UriMode::S3, None)).unwrap_err();
    assert_eq!(err.s3().code, "InvalidArgument");
    for ok in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    ] {
        assert!(ContentSha256::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn clock_skew_is_fifteen_minutes_either_way() {
    let (headers, sig) = s3_put();
    let req = Request {
        method: "PUT",
        path: "/bucket/my%20dir/a%2Bb%21~.txt",
        query: "tagging=",
        headers: &headers,
    };
    let base = at(NOW);
    for delta in [-MAX_SKEW_MILLIS, MAX_SKEW_MILLIS] {
        let o = VerifyOptions {
            now_millis: base + delta,
            ..opts(UriMode::S3, None)
        };
        assert!(verify(&req, &sig, SECRET, &o).is_ok());
    }
    let o = VerifyOptions {
        now_millis: base + MAX_SKEW_MILLIS + 1000,
        ..opts(UriMode::S3, None)
    };
    let err = verify(&req, &sig, SECRET, &o).unwrap_err();
    let doc = err.s3();
    assert_eq!((doc.code, doc.status), ("RequestTimeTooSkewed", 403));
    assert_eq!(
        doc.fields,
        vec![
            ("RequestTime", "20261121T120000Z".to_string()),
            ("ServerTime", "2026-11-21T12:15:01Z".to_string()),
            ("MaxAllowedSkewMilliseconds", "900000".to_string()),
        ]
    );
    assert_eq!(
        err.other(Flavor::Query).message,
        "Signature expired: 20261121T120000Z is now earlier than 20261121T120001Z (20261121T121501Z - 15 min.)"
    );
    let o = VerifyOptions {
        now_millis: base - MAX_SKEW_MILLIS - 1000,
        ..opts(UriMode::S3, None)
    };
    let err = verify(&req, &sig, SECRET, &o).unwrap_err();
    assert_eq!(
        err.other(Flavor::Json).message,
        "Signature not yet current: 20261121T120000Z is still later than 20261121T115959Z (20261121T114459Z + 15 min.)"
    );
}

#[test]
fn missing_date_and_mismatched_credential_date() {
    let (mut headers, sig) = s3_put();
    headers.retain(|(n, _)| *n != "x-amz-date");
    let req = Request {
        method: "PUT",
        path: "/bucket/k",
        query: "",
        headers: &headers,
    };
    assert_eq!(
        verify(&req, &sig, SECRET, &opts(UriMode::S3, None)).unwrap_err(),
        SigError::MissingDate
    );
    headers.push(("x-amz-date", b"20261122T000000Z"));
    let req = Request {
        method: "PUT",
        path: "/bucket/k",
        query: "",
        headers: &headers,
    };
    let o = VerifyOptions {
        now_millis: at("20261122T000000Z"),
        ..opts(UriMode::S3, None)
    };
    let doc = verify(&req, &sig, SECRET, &o).unwrap_err().s3();
    assert_eq!(doc.code, "AuthorizationHeaderMalformed");
}

const PRESIGNED_PATH: &str = "/photos/caf%C3%A9%20%281%29.jpg";
const PRESIGNED_QUERY: &str = "versionId=3%2F4&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261121T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=4f4d77c6269a8bfb165fd568624145a19c25acb87ab5eab9a4012bdf17e4ec2b";

fn presigned_at(query: &str, now: i64) -> Result<Verified, SigError> {
    let headers: &[(&str, &[u8])] = &[("host", b"bucket.localhost:4566")];
    let req = Request {
        method: "GET",
        path: PRESIGNED_PATH,
        query,
        headers,
    };
    let sig = parse_presigned(query).ok_or_else(|| query_error("unparsed"))?;
    let o = VerifyOptions {
        now_millis: now,
        ..opts(UriMode::S3, None)
    };
    verify(&req, &sig, SECRET, &o)
}

#[test]
fn botocore_s3_presigned_url() {
    let t = at(NOW);
    presigned_at(PRESIGNED_QUERY, t).unwrap();
    // Valid until the last second, then expired (no clock-skew allowance either way).
    presigned_at(PRESIGNED_QUERY, t + 3_600_000).unwrap();
    let err = presigned_at(PRESIGNED_QUERY, t + 3_601_000).unwrap_err();
    let doc = err.s3();
    assert_eq!((doc.code, doc.status), ("AccessDenied", 403));
    assert_eq!(doc.message, "Request has expired");
    assert_eq!(
        doc.fields,
        vec![
            ("X-Amz-Expires", "3600".to_string()),
            ("Expires", "2026-11-21T13:00:00Z".to_string()),
            ("ServerTime", "2026-11-21T13:00:01Z".to_string()),
        ]
    );
    // Tampering with a signed parameter breaks it.
    let tampered = PRESIGNED_QUERY.replace("versionId=3%2F4", "versionId=5");
    assert!(matches!(
        presigned_at(&tampered, t),
        Err(SigError::SignatureDoesNotMatch { .. })
    ));
}

#[test]
fn presigned_parameter_errors_use_s3_messages() {
    let t = at(NOW);
    let cases = [
        (
            "X-Amz-Expires=3600",
            "X-Amz-Expires=604801",
            "must be less than a week",
        ),
        (
            "X-Amz-Expires=3600",
            "X-Amz-Expires=-1",
            "must be non-negative",
        ),
        (
            "X-Amz-Expires=3600",
            "X-Amz-Expires=soon",
            "should be a number",
        ),
        ("&X-Amz-Expires=3600", "", "requires the X-Amz-Algorithm"),
        (
            "X-Amz-Date=20261121T120000Z",
            "X-Amz-Date=2026-11-21",
            "ISO8601 Long Format",
        ),
    ];
    for (from, to, message) in cases {
        let q = PRESIGNED_QUERY.replace(from, to);
        let err = presigned_at(&q, t).unwrap_err();
        let doc = err.s3();
        assert_eq!(doc.code, "AuthorizationQueryParametersError", "{q}");
        assert_eq!(doc.status, 400);
        assert!(doc.message.contains(message), "{q}: {}", doc.message);
    }
    // The week itself is allowed.
    let q = PRESIGNED_QUERY.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800");
    assert!(matches!(
        presigned_at(&q, t),
        Err(SigError::SignatureDoesNotMatch { .. })
    ));
    let bad_cred = PRESIGNED_QUERY.replace("%2Faws4_request", "%2Fnope");
    assert!(
        check_presigned_query(&bad_cred)
            .unwrap_err()
            .s3()
            .message
            .starts_with("Error parsing the X-Amz-Credential parameter")
    );
    assert_eq!(check_presigned_query("a=b").unwrap(), None);
}

#[test]
fn presign_round_trips_through_verify() {
    let t = at(NOW);
    for service in ["s3", "sts"] {
        let p = Presign {
            method: "GET",
            host: "localhost:4566",
            path: "/bucket/a%20b.txt",
            query: &[("response-content-type", "text/plain; charset=utf-8")],
            access_key: "AKIDEXAMPLE",
            secret: SECRET,
            session_token: Some("token/with+chars"),
            region: "us-west-2",
            service,
            now_millis: t,
            expires_secs: 900,
        };
        let url = presign(&p);
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "/bucket/a%20b.txt");
        assert!(query.contains("X-Amz-Security-Token=token%2Fwith%2Bchars"));
        let headers: &[(&str, &[u8])] = &[("host", b"localhost:4566")];
        let req = Request {
            method: "GET",
            path,
            query,
            headers,
        };
        let sig = parse_presigned(query).unwrap();
        let uri = UriMode::for_service(service);
        let hash = (service != "s3").then_some(EMPTY_SHA256);
        let o = VerifyOptions {
            now_millis: t + 60_000,
            uri,
            payload_hash: hash,
        };
        verify(&req, &sig, SECRET, &o).unwrap();
    }
    // The same URL botocore makes for the same inputs.
    let p = Presign {
        method: "GET",
        host: "bucket.localhost:4566",
        path: PRESIGNED_PATH,
        query: &[("versionId", "3/4")],
        access_key: "AKIDEXAMPLE",
        secret: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "s3",
        now_millis: t,
        expires_secs: 3600,
    };
    assert_eq!(presign(&p), format!("{PRESIGNED_PATH}?{PRESIGNED_QUERY}"));
}

#[test]
fn streaming_context_from_the_documented_seed_request() {
    // "Example: PUT Object" of the S3 chunked upload documentation: the seed signature.
    let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    let headers: &[(&str, &[u8])] = &[
        ("Host", b"s3.amazonaws.com"),
        ("x-amz-date", b"20130524T000000Z"),
        ("x-amz-storage-class", b"REDUCED_REDUNDANCY"),
        ("Authorization", auth.as_bytes()),
        (
            "x-amz-content-sha256",
            b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        ),
        ("Content-Encoding", b"aws-chunked"),
        ("x-amz-decoded-content-length", b"66560"),
        ("Content-Length", b"66824"),
    ];
    let req = Request {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: "",
        headers,
    };
    let sig = parse_authorization(auth).unwrap();
    let o = VerifyOptions {
        now_millis: at("20130524T000500Z"),
        uri: UriMode::S3,
        payload_hash: None,
    };
    let v = verify(&req, &sig, crate::sign::tests::SECRET, &o).unwrap();
    let ctx = v.streaming_context();
    assert_eq!(ctx.seed_signature, sig.signature);
    assert_eq!(
        ctx.chunk_signature(&ctx.seed_signature, &sha256_hex(&[b'a'; 65536])),
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    );
}
