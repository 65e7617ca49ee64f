//! A bearer token from a request header: parsed and checked, or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = aloft_apigateway::jwt::parse(s) {
        let _ = t.check_time(0);
        let _ = t.scopes();
        let key = serde_json::json!({"kid": t.kid(), "n": "AQAB", "e": "AQAB"});
        let _ = t.verify(&[key]);
    }
    let _ = aloft_apigateway::jwt::issuer_matches(s, "http://localhost:4566/us-east-1_x");
});
