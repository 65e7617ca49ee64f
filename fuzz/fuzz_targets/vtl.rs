//! API Gateway mapping templates (VTL): parsing and rendering with an empty context never
//! panic (and, through libFuzzer's timeout, never hang).
#![no_main]

use aloft_vtl::{Context, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Template::parse(src) {
        let _ = t.render(&Context::new());
    }
});
