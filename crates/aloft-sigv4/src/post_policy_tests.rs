//! Tests of POST policies against the example of the S3 API reference ("Example: Browser-Based
//! Upload using HTTP POST (Using AWS Signature Version 4)").

use super::*;
use crate::dates::parse_amz_date;

/// The documented policy, base64 as published, and its signature.
const POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("bucket", "sigv4examplebucket"),
        ("key", "user/user1/photo.jpg"),
        ("acl", "public-read"),
        (
            "success_action_redirect",
            "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
        ),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-uuid", "14365123651274"),
        ("x-amz-server-side-encryption", "AES256"),
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
        ),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("x-amz-meta-tag", ""),
        ("Policy", POLICY),
        ("X-Amz-Signature", SIGNATURE),
    ]
}

fn now() -> i64 {
    parse_amz_date("20151229T120000Z").unwrap()
}

#[test]
fn the_documented_form_passes() {
    let p = PostPolicy::parse(POLICY).unwrap();
    assert_eq!(
        p.expiration_millis,
        parse_amz_date("20151230T120000Z").unwrap()
    );
    assert_eq!(p.conditions.len(), 11);
    p.check(&fields(), now()).unwrap();
    let creds = PostCredentials::from_fields(&fields()).unwrap().unwrap();
    assert_eq!(creds.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
    creds.verify(SECRET).unwrap();
    let err = creds.verify("wrong").unwrap_err().s3();
    assert_eq!((err.code, err.status), ("SignatureDoesNotMatch", 403));
    assert_eq!(err.fields[1], ("StringToSign", POLICY.to_string()));
}

#[test]
fn expired_policy() {
    let p = PostPolicy::parse(POLICY).unwrap();
    let late = parse_amz_date("20151230T120001Z").unwrap();
    let err = p.check(&fields(), late).unwrap_err().s3();
    assert_eq!((err.code, err.status), ("AccessDenied", 403));
    assert_eq!(err.message, "Invalid according to Policy: Policy expired.");
}

fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    fields()
        .into_iter()
        .map(|(n, v)| if n == name { (n, value) } else { (n, v) })
        .collect()
}

#[test]
fn failed_conditions_are_quoted_as_s3_does() {
    let p = PostPolicy::parse(POLICY).unwrap();
    let msg = |f: &[(&str, &str)]| p.check(f, now()).unwrap_err().s3().message;
    assert_eq!(
        msg(&with("key", "other/photo.jpg")),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/user1/"]"#
    );
    assert_eq!(
        msg(&with("acl", "private")),
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "public-read"]"#
    );
    assert_eq!(
        msg(&with("bucket", "another")),
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]"#
    );
    // Each member of a Content-Type list must match.
    assert!(
        p.check(&with("Content-Type", "image/png, image/gif"), now())
            .is_ok()
    );
    assert_eq!(
        msg(&with("Content-Type", "image/png, text/plain")),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]"#
    );
    // A field the policy names but the form lacks fails its condition.
    let missing: Vec<_> = fields()
        .into_iter()
        .filter(|(n, _)| *n != "x-amz-meta-tag")
        .collect();
    assert_eq!(
        msg(&missing),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-tag", ""]"#
    );
}

#[test]
fn extra_fields_are_refused_except_the_exempt_ones() {
    let p = PostPolicy::parse(POLICY).unwrap();
    let mut f = fields();
    f.push(("x-ignore-submit", "Upload"));
    f.push(("file", "ignored"));
    p.check(&f, now()).unwrap();
    f.push(("success_action_status", "201"));
    let err = p.check(&f, now()).unwrap_err().s3();
    assert_eq!(
        err.message,
        "Invalid according to Policy: Extra input fields: success_action_status"
    );
}

fn policy(json: &str) -> String {
    B64.encode(json)
}

#[test]
fn content_length_range_and_odd_conditions() {
    let p = PostPolicy::parse(&policy(
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",10,20],["eq","$key","k"],["starts-with","$key"]]}"#,
    ))
    .unwrap();
    assert_eq!(p.content_length_range(), Some((10, 20)));
    p.check_length(10).unwrap();
    p.check_length(20).unwrap();
    let small = p.check_length(9).unwrap_err().s3();
    assert_eq!(small.code, "EntityTooSmall");
    assert_eq!(
        small.fields,
        vec![
            ("ProposedSize", "9".into()),
            ("MinSizeAllowed", "10".into())
        ]
    );
    assert_eq!(p.check_length(21).unwrap_err().s3().code, "EntityTooLarge");
    // The malformed starts-with (two members) always fails.
    let err = p.check(&[("key", "k")], 0).unwrap_err();
    assert_eq!(
        err,
        PolicyError::ConditionFailed(r#"["starts-with","$key"]"#.into())
    );
}

#[test]
fn invalid_policy_documents() {
    for (text, message) in [
        ("!!!", "Invalid Policy: Invalid 'Base64' encoded string."),
        (&policy("not json")[..], "Invalid Policy: Invalid JSON."),
        (
            &policy(r#"{"conditions":[]}"#)[..],
            "Invalid Policy: Policy missing expiration.",
        ),
        (
            &policy(r#"{"expiration":"2030-01-01T00:00:00Z"}"#)[..],
            "Invalid Policy: Policy missing conditions.",
        ),
        (
            &policy(r#"{"expiration":"tomorrow","conditions":[]}"#)[..],
            "Invalid Policy: Invalid 'expiration' value.",
        ),
    ] {
        let err = PostPolicy::parse(text).unwrap_err().s3();
        assert_eq!((err.code, err.status), ("InvalidPolicyDocument", 400));
        assert_eq!(err.message, message);
    }
}

#[test]
fn credentials_fields() {
    assert_eq!(PostCredentials::from_fields(&[("key", "k")]).unwrap(), None);
    let err = PostCredentials::from_fields(&[("policy", POLICY)]).unwrap_err();
    assert_eq!(err, PolicyError::MissingField("x-amz-algorithm"));
    assert_eq!(err.s3().code, "InvalidArgument");
}
