//! A JSON document given to ImportRestApi: imported or refused, never a panic.
#![no_main]

use aloft_apigateway::model::{Api, Resource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut api = Api::default();
    api.info.id = "fuzz".into();
    api.info.root_resource_id = "root".into();
    api.resources.insert(
        "root".into(),
        Resource { id: "root".into(), path: "/".into(), ..Default::default() },
    );
    let _ = aloft_apigateway::openapi::import(&doc, &mut api, true);
    let _ = aloft_apigateway::openapi::export(&api.snapshot(), "s", "http://h", true, "apigateway");
});
