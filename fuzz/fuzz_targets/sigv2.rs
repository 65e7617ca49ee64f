//! SigV2 parsing and canonicalization: `Authorization` header and query parsing, the string to
//! sign and verification over arbitrary method, path, query and headers never panic, and a
//! request signed with the string to sign it produced verifies.
#![no_main]

use aloft_sigv4::Request;
use aloft_sigv4::sigv2::{AmzDate, parse_v2, sign_v2, string_to_sign_v2, verify_v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Fields separated by NUL: authorization, method, path, query, then header name/value pairs.
    let mut it = text.split('\0');
    let auth = it.next().filter(|a| !a.is_empty());
    let method = it.next().unwrap_or("GET");
    let path = it.next().unwrap_or("/");
    let query = it.next().unwrap_or("");
    let rest: Vec<&str> = it.collect();
    let headers: Vec<(&str, &[u8])> = rest
        .chunks(2)
        .map(|c| (c[0], c.get(1).copied().unwrap_or("").as_bytes()))
        .collect();
    let req = Request {
        method,
        path,
        query,
        headers: &headers,
    };
    let Some(mut sig) = parse_v2(auth, query) else {
        return;
    };
    let _ = verify_v2(&req, Some("bucket"), &sig, "secret", 0);
    let _ = verify_v2(&req, None, &sig, "secret", i64::MAX / 4);
    if sig.expires.as_deref().is_some_and(|e| !e.is_empty()) {
        // Presigned: no date check, so a correct signature must verify.
        let sts = string_to_sign_v2(&req, None, &sig, AmzDate::Documented);
        sig.signature = sign_v2("secret", &sts);
        assert!(verify_v2(&req, None, &sig, "secret", 0).is_ok(), "{sts:?}");
    }
});
