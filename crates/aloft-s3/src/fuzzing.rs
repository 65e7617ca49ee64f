//! Entry points for fuzz targets (`fuzz/fuzz_targets/s3_*.rs`): every parser S3 feeds with
//! network bytes. Each must return (never panic) on any input; the unit test below runs them
//! over a corpus of hostile inputs so a regression shows up in `cargo test` too.

use crate::domain::config::{
    AccessControlPolicy, CorsConfiguration, OwnershipControls, PublicAccessBlockConfiguration,
    ServerSideEncryptionConfiguration, Tagging, VersioningConfiguration, WebsiteConfiguration,
};
use crate::domain::lifecycle::LifecycleConfiguration;
use crate::domain::notifications::NotificationConfiguration;
use crate::xml::from_xml;

/// Every XML request document S3 accepts.
pub fn xml_documents(data: &[u8]) {
    let _ = from_xml::<CorsConfiguration>(data);
    let _ = from_xml::<WebsiteConfiguration>(data);
    if let Ok(l) = from_xml::<LifecycleConfiguration>(data) {
        let _ = crate::domain::lifecycle_rules::validate(&l);
    }
    let _ = from_xml::<NotificationConfiguration>(data);
    let _ = from_xml::<Tagging>(data);
    if let Ok(acl) = from_xml::<AccessControlPolicy>(data) {
        let _ = crate::domain::acl::check_document(acl, "000000000000");
    }
    let _ = from_xml::<PublicAccessBlockConfiguration>(data);
    let _ = from_xml::<ServerSideEncryptionConfiguration>(data);
    let _ = from_xml::<OwnershipControls>(data);
    let _ = from_xml::<VersioningConfiguration>(data);
    crate::handlers::fuzz_documents(data);
}

/// Query strings, Range and conditional headers, copy sources.
pub fn request_parts(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let q = crate::routes::Query::parse(&s);
    let _ = q.get("prefix");
    let _ = crate::domain::conditions::parse_range(&s, 1000);
    let _ = crate::domain::conditions::parse_range(&s, 0);
    let _ = crate::domain::conditions::etag_matches(&s, "abc");
    let _ = crate::domain::conditions::evaluate(Some(&s), Some(&s), Some(&s), Some(&s), "e", 0);
    crate::handlers::fuzz_request_parts(&s);
    let _ = crate::domain::acl::from_headers(
        &|n| (n == "x-amz-grant-read").then(|| s.to_string()),
        "000000000000",
    );
}

/// A POST form body; the first line is taken as the boundary.
pub fn post_form(data: &[u8]) {
    let (boundary, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"x"[..], data),
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(crate::handlers::fuzz_post_form(
        &String::from_utf8_lossy(boundary),
        bytes::Bytes::copy_from_slice(body),
    ));
}

#[cfg(test)]
mod tests {
    #[test]
    fn hostile_inputs_never_panic() {
        let inputs: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"<".to_vec(),
            b"<CORSConfiguration><CORSRule><AllowedMethod>".to_vec(),
            b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration></Rule></LifecycleConfiguration>".to_vec(),
            b"<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>".to_vec(),
            b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Tagging>&a;&a;&a;</Tagging>".to_vec(),
            vec![0xff, 0xfe, 0x00, 0x3c],
            b"bytes=-0".to_vec(),
            b"bytes=18446744073709551615-".to_vec(),
            b"bytes=5-18446744073709551615".to_vec(),
            b"%%%&&==a=%ZZ+".to_vec(),
            b"/bucket/key?versionId=%FF".to_vec(),
            b"XX\n--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec(),
            b"XX\n--XX\r\n\r\n\r\n--XX--".to_vec(),
            b"\n--\r\n".to_vec(),
        ];
        for i in &inputs {
            super::xml_documents(i);
            super::request_parts(i);
            super::post_form(i);
        }
    }
}
