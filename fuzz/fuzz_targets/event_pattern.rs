//! EventBridge and SNS filter-policy patterns: parsing, validation and matching never panic.
#![no_main]

use aloft_eventpattern::{Dialect, matches, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let dialect = if which % 2 == 0 {
        Dialect::EventBridge
    } else {
        Dialect::Sns
    };
    if let Ok(pattern) = parse(text, dialect) {
        let event = serde_json::json!({
            "source": "aws.s3", "detail-type": "Object Created", "account": "000000000000",
            "detail": {"bucket": {"name": "b"}, "size": 12.5, "tags": ["a", "b"], "ip": "10.0.0.1",
                       "none": null, "flag": true}
        });
        let _ = matches(&pattern, &event);
    }
});
