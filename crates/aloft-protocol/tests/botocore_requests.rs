//! Real requests built by botocore (see `tools/protocol_fixtures.py`) for the models Aloft
//! embeds, decoded and validated by the codecs and compared with the params they came from.

mod common;

use base64::Engine;
use common::{drop_tokens, internal, same};
use serde_json::Value;

#[test]
fn botocore_requests_decode_to_their_params() {
    let path = format!(
        "{}/tests/fixtures/botocore-requests.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixtures: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let cases = fixtures["cases"].as_array().unwrap();
    for case in cases {
        let service = match case["service"].as_str().unwrap() {
            "cloudwatch" => "monitoring",
            other => other,
        };
        let model = aloft_model::get(service).unwrap();
        let req = &case["request"];
        let url = req["url"].as_str().unwrap();
        let path = url
            .splitn(4, '/')
            .nth(3)
            .map_or("/".to_string(), |p| format!("/{p}"));
        let mut b = http::Request::builder()
            .method(req["method"].as_str().unwrap())
            .uri(path);
        for (k, v) in req["headers"].as_object().unwrap() {
            b = b.header(k, v.as_str().unwrap());
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let body = base64::engine::general_purpose::STANDARD
            .decode(req["body"].as_str().unwrap())
            .unwrap();
        let op_name = case["operation"].as_str().unwrap();
        let op = model.operation(op_name).unwrap();
        let want = internal(model, op.input.as_ref().unwrap(), &case["params"]);
        match aloft_protocol::decode(model, &parts, &body) {
            Ok(mut d) => {
                drop_tokens(model, op.input.as_ref().unwrap(), &mut d.input, &want);
                // botocore adds `encoding-type=url` to S3 listings on its own.
                // botocore adds S3 checksum settings on its own too.
                if let Some(m) = d.input.as_object_mut() {
                    for added in ["EncodingType", "ChecksumAlgorithm", "ChecksumMode"] {
                        if want.get(added).is_none() {
                            m.remove(added);
                        }
                    }
                }
                if d.operation != op_name || !same(&d.input, &want) {
                    failures.push(format!(
                        "{service} {op_name}: got {} {}\n  want {want}",
                        d.operation, d.input
                    ));
                }
            }
            Err(e) => failures.push(format!("{service} {op_name}: rejected {:?}", e.error)),
        }
    }
    println!(
        "{}/{} botocore requests decoded",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
