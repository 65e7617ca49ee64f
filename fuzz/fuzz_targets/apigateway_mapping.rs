//! An API Gateway mapping template and a request body (split at the first NUL byte), rendered
//! as API Gateway renders them: Ok or Err, never a panic, a hang or a memory blow-up.
#![no_main]

use aloft_apigateway::invoke::mapping::{Params, render};
use indexmap::IndexMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (template, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"a\": [1, {\"b\": \"x\"}], \"n\": null}"[..]),
    };
    let (Ok(template), Ok(body)) = (std::str::from_utf8(template), std::str::from_utf8(body)) else {
        return;
    };
    let mut params = Params::default();
    params.path.insert("id".into(), "42".into());
    params.query.insert("q".into(), vec!["a".into(), "b".into()]);
    params.headers.insert("Content-Type".into(), vec!["application/json".into()]);
    let context = serde_json::json!({
        "requestId": "r", "stage": "prod", "identity": {"sourceIp": "127.0.0.1"},
        "authorizer": {"claims": {"sub": "u", "cognito:groups": "a,b"}},
    });
    let mut vars = IndexMap::new();
    vars.insert("v".to_string(), "1".to_string());
    let _ = render(template, body, &params, &context, &vars);
    // The engine alone, with no host objects.
    let _ = aloft_vtl::render(template, &aloft_vtl::Context::new());
});
