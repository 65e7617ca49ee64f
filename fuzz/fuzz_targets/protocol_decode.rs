//! The protocol codecs' request decoding, one service per wire protocol: never a panic, whatever
//! the body (and, for rest protocols, the method and URI). The first byte picks the protocol;
//! rest inputs start with a `METHOD /uri?query` line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn parts(builder: http::request::Builder) -> Option<http::request::Parts> {
    builder.body(()).ok().map(|r| r.into_parts().0)
}

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else {
        return;
    };
    let (service, head, body) = match which % 6 {
        0 => {
            // json 1.0; the operation name comes from the input's first line.
            let (op, body) = split_line(rest);
            let Ok(op) = std::str::from_utf8(op) else {
                return;
            };
            let b = http::Request::post("/")
                .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
                .header("content-type", "application/x-amz-json-1.0");
            ("dynamodb", parts(b), body)
        }
        1 => {
            let (op, body) = split_line(rest);
            let Ok(op) = std::str::from_utf8(op) else {
                return;
            };
            let b = http::Request::post("/")
                .header("x-amz-target", format!("Logs_20140328.{op}"))
                .header("content-type", "application/x-amz-json-1.1");
            ("logs", parts(b), body)
        }
        2 => {
            let b = http::Request::post("/")
                .header("content-type", "application/x-www-form-urlencoded");
            ("sns", parts(b), rest)
        }
        3 => {
            let (op, body) = split_line(rest);
            let Ok(op) = std::str::from_utf8(op) else {
                return;
            };
            let b = http::Request::post(format!(
                "/service/GraniteServiceVersion20100801/operation/{op}"
            ))
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("content-type", "application/cbor");
            ("monitoring", parts(b), body)
        }
        n => {
            let (line, body) = split_line(rest);
            let Ok(line) = std::str::from_utf8(line) else {
                return;
            };
            let Some((method, uri)) = line.split_once(' ') else {
                return;
            };
            let b = http::Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json");
            (if n == 4 { "lambda" } else { "s3" }, parts(b), body)
        }
    };
    let Some(head) = head else { return };
    let model = aloft_model::get(service).expect("embedded model");
    let _ = aloft_protocol::decode(model, &head, body);
});

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
