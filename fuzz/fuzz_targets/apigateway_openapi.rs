//! A document given to ImportRestApi or ImportApi, JSON or YAML: imported or refused, never a
//! panic; the export's YAML reads back.
#![no_main]

use aloft_apigateway::model::{Api, Resource};
use aloft_apigateway::openapi::yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = yaml::parse(text) else {
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
    let out = aloft_apigateway::openapi::export(&api.snapshot(), "s", "http://h", true, "apigateway");
    let _ = yaml::parse(&yaml::dump(&out));
    let mut v2 = aloft_apigateway::v2::HttpApi::default();
    let _ = aloft_apigateway::v2::openapi::import(&doc, &mut v2);
});
