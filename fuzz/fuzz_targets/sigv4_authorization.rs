//! `Authorization` header parsing: never panics, and what it accepts renders back to a header
//! that parses to the same parts.
#![no_main]

use aloft_sigv4::parse_authorization;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Some(parts) = parse_authorization(header) else {
        return;
    };
    let c = &parts.credential;
    assert!(!c.access_key.is_empty());
    let rendered = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}",
        c.access_key,
        c.date,
        c.region,
        c.service,
        parts.signed_headers.join(";"),
        parts.signature
    );
    assert_eq!(
        parse_authorization(&rendered).as_ref(),
        Some(&parts),
        "{rendered}"
    );
});
