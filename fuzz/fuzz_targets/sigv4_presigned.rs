//! Presigned-URL query parsing: never panics, and what it accepts re-encodes to a query that
//! parses to the same parts.
#![no_main]

use aloft_sigv4::parse_presigned;
use libfuzzer_sys::fuzz_target;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Some(parts) = parse_presigned(query) else {
        return;
    };
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let c = &parts.credential;
    let credential = format!(
        "{}/{}/{}/{}/aws4_request",
        c.access_key, c.date, c.region, c.service
    );
    let mut rendered = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Signature={}",
        enc(&credential),
        enc(&parts.signature)
    );
    // The parser reports an absent SignedHeaders as empty; a present one always has a member.
    if !parts.signed_headers.is_empty() {
        rendered += &format!(
            "&X-Amz-SignedHeaders={}",
            enc(&parts.signed_headers.join(";"))
        );
    }
    if let Some(date) = &parts.presigned_date {
        rendered += &format!("&X-Amz-Date={}", enc(date));
    }
    if let Some(expires) = &parts.presigned_expires {
        rendered += &format!("&X-Amz-Expires={}", enc(expires));
    }
    assert_eq!(
        parse_presigned(&rendered).as_ref(),
        Some(&parts),
        "{rendered}"
    );
});
