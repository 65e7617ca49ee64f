//! AWS's examples from "Signing and authenticating REST requests" (SigV2), with the example
//! secret `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.

use super::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn req<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(&'a str, &'a [u8])],
) -> Request<'a> {
    Request {
        method,
        path,
        query,
        headers,
    }
}

fn header_sig(sig: &str) -> V2Signature {
    parse_v2_header(&format!("AWS AKIAIOSFODNN7EXAMPLE:{sig}")).unwrap()
}

/// Checks the documented string to sign and signature, and that `verify_v2` accepts it.
fn check(r: &Request<'_>, bucket: Option<&str>, sts: &str, sig: &str) {
    let v2 = header_sig(sig);
    assert_eq!(string_to_sign_v2(r, bucket, &v2, AmzDate::Documented), sts);
    assert_eq!(sign_v2(SECRET, sts), sig);
    let date = r.header("x-amz-date").or_else(|| r.header("date")).unwrap();
    let now = parse_v2_date(date).unwrap() + 60_000;
    assert_eq!(verify_v2(r, bucket, &v2, SECRET, now), Ok(()));
}

#[test]
fn object_get_virtual_host() {
    let h: &[(&str, &[u8])] = &[
        ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("Date", b"Tue, 27 Mar 2007 19:36:42 +0000"),
    ];
    check(
        &req("GET", "/photos/puppy.jpg", "", h),
        Some("awsexamplebucket1"),
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
        "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    );
}

#[test]
fn object_put_with_content_type() {
    let h: &[(&str, &[u8])] = &[
        ("Content-Type", b"image/jpeg"),
        ("Content-Length", b"94328"),
        ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("Date", b"Tue, 27 Mar 2007 21:15:45 +0000"),
    ];
    check(
        &req("PUT", "/photos/puppy.jpg", "", h),
        Some("awsexamplebucket1"),
        "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
        "iqRzw+ileNPu1fhspnRs8nOjjIA=",
    );
}

#[test]
fn list_leaves_ordinary_parameters_out() {
    let h: &[(&str, &[u8])] = &[
        ("User-Agent", b"Mozilla/5.0"),
        ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("Date", b"Tue, 27 Mar 2007 19:42:41 +0000"),
    ];
    check(
        &req("GET", "/", "prefix=photos&max-keys=50&marker=puppy", h),
        Some("awsexamplebucket1"),
        "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
        "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
    );
}

#[test]
fn acl_subresource_is_signed() {
    let h: &[(&str, &[u8])] = &[
        ("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("Date", b"Tue, 27 Mar 2007 19:44:46 +0000"),
    ];
    check(
        &req("GET", "/", "acl", h),
        Some("awsexamplebucket1"),
        "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
        "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
    );
}

#[test]
fn upload_with_amz_headers_combined_and_sorted() {
    let h: &[(&str, &[u8])] = &[
        ("User-Agent", b"curl/7.15.5"),
        ("Host", b"static.example.com:8080"),
        ("Date", b"Tue, 27 Mar 2007 21:06:08 +0000"),
        ("x-amz-acl", b"public-read"),
        ("content-type", b"application/x-download"),
        ("Content-MD5", b"4gJE4saaMU4BqNR0kLY+lw=="),
        ("X-Amz-Meta-ReviewedBy", b"joe@example.com"),
        ("X-Amz-Meta-ReviewedBy", b"jane@example.com"),
        ("X-Amz-Meta-FileChecksum", b"0x02661779"),
        ("X-Amz-Meta-ChecksumAlgorithm", b"crc32"),
        ("Content-Disposition", b"attachment; filename=database.dat"),
        ("Content-Encoding", b"gzip"),
        ("Content-Length", b"5913339"),
    ];
    let r = req("PUT", "/db-backup.dat.gz", "", h);
    let v2 = header_sig("x");
    assert_eq!(
        string_to_sign_v2(&r, Some("static.example.com"), &v2, AmzDate::Documented),
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz"
    );
}

#[test]
fn list_all_buckets() {
    let h: &[(&str, &[u8])] = &[
        ("Host", b"s3.us-west-1.amazonaws.com"),
        ("Date", b"Wed, 28 Mar 2007 01:29:59 +0000"),
    ];
    check(
        &req("GET", "/", "", h),
        None,
        "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
        "qGdzdERIC03wnaRNKh6OqZehG9s=",
    );
}

#[test]
fn unicode_keys_are_signed_as_sent() {
    let h: &[(&str, &[u8])] = &[
        ("Host", b"s3.us-west-1.amazonaws.com"),
        ("Date", b"Wed, 28 Mar 2007 01:49:49 +0000"),
    ];
    check(
        &req("GET", "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", "", h),
        None,
        "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
    );
}

#[test]
fn delete_with_x_amz_date_as_the_example_signs_it() {
    let h: &[(&str, &[u8])] = &[
        ("User-Agent", b"dotnet"),
        ("Host", b"s3.us-west-1.amazonaws.com"),
        ("Date", b"Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", b"Tue, 27 Mar 2007 21:20:26 +0000"),
    ];
    let r = req("DELETE", "/awsexamplebucket1/photos/puppy.jpg", "", h);
    let v2 = header_sig("XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
    assert_eq!(
        string_to_sign_v2(&r, None, &v2, AmzDate::OnDateLine),
        "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    );
    // The documented rule: an empty Date line, x-amz-date among the signed headers.
    assert_eq!(
        string_to_sign_v2(&r, None, &v2, AmzDate::Documented),
        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    );
    let now = parse_v2_date("Tue, 27 Mar 2007 21:20:26 +0000").unwrap();
    assert_eq!(verify_v2(&r, None, &v2, SECRET, now), Ok(()));
}

#[test]
fn query_string_authentication() {
    let q = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=x";
    let h: &[(&str, &[u8])] = &[("Host", b"awsexamplebucket1.s3.us-west-1.amazonaws.com")];
    let r = req("GET", "/photos/puppy.jpg", q, h);
    let v2 = parse_v2(None, q).unwrap();
    assert_eq!(v2.access_key, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(v2.expires.as_deref(), Some("1175139620"));
    let sts = string_to_sign_v2(&r, Some("awsexamplebucket1"), &v2, AmzDate::Documented);
    assert_eq!(
        sts,
        "GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg"
    );
    // Expiry is S3's to check: any time verifies the signature.
    let q = format!(
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature={}",
        sign_v2(SECRET, &sts)
            .replace('+', "%2B")
            .replace('=', "%3D")
            .replace('/', "%2F")
    );
    let r = req("GET", "/photos/puppy.jpg", &q, h);
    let v2 = parse_v2(None, &q).unwrap();
    assert_eq!(
        verify_v2(&r, Some("awsexamplebucket1"), &v2, SECRET, 0),
        Ok(())
    );
}

#[test]
fn presigned_headers_travel_in_the_query() {
    let q = "versionId=v%2B1&AWSAccessKeyId=k&Expires=10&x-amz-security-token=tok%2F1&content-type=text%2Fplain&Signature=s";
    let r = req("PUT", "/b/key", q, &[]);
    let v2 = parse_v2(None, q).unwrap();
    assert_eq!(
        string_to_sign_v2(&r, None, &v2, AmzDate::Documented),
        "PUT\n\ntext/plain\n10\nx-amz-security-token:tok/1\n/b/key?versionId=v+1"
    );
}

#[test]
fn wrong_signatures_and_dates_are_refused() {
    let h: &[(&str, &[u8])] = &[("Date", b"Wed, 28 Mar 2007 01:29:59 GMT")];
    let r = req("GET", "/", "uploads&prefix=a", h);
    let v2 = header_sig("AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let now = parse_v2_date("Wed, 28 Mar 2007 01:29:59 GMT").unwrap();
    match verify_v2(&r, None, &v2, SECRET, now) {
        Err(SigError::V2SignatureDoesNotMatch {
            string_to_sign,
            provided,
            ..
        }) => {
            assert_eq!(
                string_to_sign,
                "GET\n\n\nWed, 28 Mar 2007 01:29:59 GMT\n/?uploads"
            );
            assert_eq!(provided, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        verify_v2(&r, None, &v2, SECRET, now + 16 * 60_000),
        Err(SigError::RequestTimeTooSkewed { .. })
    ));
    let r = req("GET", "/", "", &[]);
    assert_eq!(
        verify_v2(&r, None, &v2, SECRET, now),
        Err(SigError::MissingDate)
    );
    let q = parse_v2_query("AWSAccessKeyId=k&Signature=s").unwrap();
    assert_eq!(
        verify_v2(&r, None, &q, SECRET, now),
        Err(SigError::V2QueryIncomplete)
    );
    let doc = SigError::V2QueryIncomplete.s3();
    assert_eq!((doc.code, doc.status), ("AccessDenied", 403));
}

#[test]
fn only_v2_shapes_parse() {
    assert!(parse_v2_header("AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request").is_none());
    assert!(parse_v2_header("AWS :sig").is_none());
    assert!(parse_v2_header("Bearer x").is_none());
    assert_eq!(
        parse_v2_header("AWS AKID:a:b=").map(|s| (s.access_key, s.signature)),
        Some(("AKID:a".to_string(), "b=".to_string()))
    );
    assert!(parse_v2(None, "Signature=x").is_none());
    assert!(parse_v2(None, "X-Amz-Credential=x").is_none());
}

#[test]
fn mismatch_document_has_s3s_fields() {
    let e = SigError::V2SignatureDoesNotMatch {
        access_key: "AKID".into(),
        string_to_sign: "GET\n".into(),
        provided: "x=".into(),
    };
    let doc = e.s3();
    assert_eq!((doc.code, doc.status), ("SignatureDoesNotMatch", 403));
    let names: Vec<&str> = doc.fields.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "AWSAccessKeyId",
            "StringToSign",
            "SignatureProvided",
            "StringToSignBytes"
        ]
    );
    assert_eq!(doc.fields[3].1, "47 45 54 0a");
}

#[test]
fn a_path_style_bucket_is_the_bucket_resource() {
    let h: &[(&str, &[u8])] = &[("Date", b"Wed, 28 Mar 2007 01:29:59 GMT")];
    let r = req("PUT", "/old-sdk", "", h);
    let v2 = header_sig("x");
    let sts = string_to_sign_v2(&r, None, &v2, AmzDate::Documented);
    assert_eq!(sts, "PUT\n\n\nWed, 28 Mar 2007 01:29:59 GMT\n/old-sdk/");
    let now = parse_v2_date("Wed, 28 Mar 2007 01:29:59 GMT").unwrap();
    for signed in [sts.as_str(), sts.strip_suffix('/').unwrap()] {
        let v2 = header_sig(&sign_v2(SECRET, signed));
        assert_eq!(verify_v2(&r, None, &v2, SECRET, now), Ok(()));
    }
    let r = req("GET", "/old-sdk/", "", h);
    assert_eq!(
        string_to_sign_v2(&r, None, &v2, AmzDate::Documented),
        "GET\n\n\nWed, 28 Mar 2007 01:29:59 GMT\n/old-sdk/"
    );
}
