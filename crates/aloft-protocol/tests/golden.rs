//! AWS's protocol test suites (botocore's, see `protocol-tests/README.md`) run server-side:
//! requests are decoded and compared with their params; results are encoded and the bodies
//! read back and compared with the expected results. Prints pass counts per suite file and
//! fails when a suite drops below the count it reached when this was written.

mod common;

use std::fmt::Write as _;

use common::{drop_tokens, internal, same};

use aloft_model::ServiceModel;
use aloft_protocol::{AwsError, Protocol};
use base64::Engine;
use serde_json::{Map, Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn load(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/protocol-tests/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn model_for(suite: &Value, case: &Value) -> &'static ServiceModel {
    let given = &case["given"];
    let mut ops = Map::new();
    ops.insert(given["name"].as_str().unwrap().to_string(), given.clone());
    let v = json!({"metadata": suite["metadata"], "operations": ops, "shapes": suite["shapes"]});
    Box::leak(Box::new(ServiceModel::from_value(v).unwrap()))
}

fn request(serialized: &Value, protocol: &str) -> (http::request::Parts, Vec<u8>) {
    let mut b = http::Request::builder()
        .method(serialized["method"].as_str().unwrap_or("POST"))
        .uri(serialized["uri"].as_str().unwrap_or("/"));
    if let Some(h) = serialized["headers"].as_object() {
        for (k, v) in h {
            b = b.header(k, v.as_str().unwrap_or(""));
        }
    }
    let body = serialized["body"].as_str().unwrap_or("");
    let body = if protocol == "smithy-rpc-v2-cbor" {
        B64.decode(body).unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    let (parts, ()) = b.body(()).unwrap().into_parts();
    (parts, body)
}

/// Cases that only test what a client does (host prefixes, custom endpoint paths, SDK-side
/// compression without a body) carry no request a server could decode.
fn client_only(case: &Value) -> bool {
    let s = &case["serialized"];
    s.get("body").is_none() && s.get("headers").is_none()
        || s.get("host").is_some() && s.get("headers").is_none()
        || case["given"].get("requestcompression").is_some() && s.get("body").is_none()
        // "Does not serialize empty query maps": nothing on the wire to read an empty map from.
        || case["description"].as_str().is_some_and(|d| d.starts_with("Does not serialize"))
        // Empty lists are omitted and named parameters shadow map entries: not on the wire.
        || matches!(
            case["id"].as_str(),
            Some("RestJsonOmitsEmptyListQueryValues" | "RestJsonQueryPrecedence" | "RestXmlQueryPrecedence")
        )
}

fn run_input(file: &str) -> (usize, usize, String) {
    let (mut pass, mut total, mut log) = (0, 0, String::new());
    for suite in load(&format!("input/{file}")) {
        for case in suite["cases"].as_array().unwrap() {
            if client_only(case) {
                let _ = writeln!(
                    log,
                    "  {}: skipped (client-only)",
                    case["id"].as_str().unwrap_or("?")
                );
                continue;
            }
            total += 1;
            let model = model_for(&suite, case);
            let protocol = suite["metadata"]["protocol"].as_str().unwrap_or("");
            let (parts, body) = request(&case["serialized"], protocol);
            let op = model.operations.values().next().unwrap();
            let want = op
                .input
                .as_ref()
                .map_or(json!({}), |m| internal(model, m, &case["params"]));
            match aloft_protocol::decode_unvalidated(model, &parts, &body) {
                Ok(mut d) => {
                    if let Some(m) = &op.input {
                        drop_tokens(model, m, &mut d.input, &want);
                    }
                    if d.operation == op.name && same(&d.input, &want) {
                        pass += 1;
                    } else {
                        let _ = writeln!(
                            log,
                            "  {}: got {} want {}",
                            case["id"].as_str().unwrap_or("?"),
                            d.input,
                            want
                        );
                    }
                }
                Err(e) => {
                    let _ = writeln!(
                        log,
                        "  {}: rejected {:?}",
                        case["id"].as_str().unwrap_or("?"),
                        e.error
                    );
                }
            }
        }
    }
    (pass, total, log)
}

/// Reads a response back through the decoder side of the same codec, as a client would.
fn read_back(
    model: &'static ServiceModel,
    protocol: Protocol,
    resp: &http::Response<bytes::Bytes>,
) -> Option<Value> {
    aloft_protocol::testing::read_output(model, model.operations.values().next()?, protocol, resp)
        .ok()
}

fn run_output(file: &str) -> (usize, usize, String) {
    let (mut pass, mut total, mut log) = (0, 0, String::new());
    for suite in load(&format!("output/{file}")) {
        for case in suite["cases"].as_array().unwrap() {
            total += 1;
            let id = case["id"].as_str().unwrap_or("?");
            let model = model_for(&suite, case);
            let md = &model.metadata;
            let protocol =
                Protocol::from_model_name(&md.protocol, md.json_version.as_deref()).unwrap();
            let op = model.operations.values().next().unwrap();
            let response = &case["response"];
            let status = response["status_code"].as_u64().unwrap_or(200);
            if case.get("error").is_some() {
                let code: &'static str = Box::leak(
                    case["errorCode"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                        .into_boxed_str(),
                );
                let mut err = AwsError::new(
                    code,
                    u16::try_from(status).unwrap(),
                    case["errorMessage"].as_str().unwrap_or(""),
                );
                if let Some(fields) = case["error"].as_object() {
                    for (k, v) in fields {
                        if k != "Code" && k != "Message" && k != "message" {
                            err.fields.insert(k.clone(), v.clone());
                        }
                    }
                }
                let resp = aloft_protocol::encode_error(model, protocol, &err, "rid");
                match aloft_protocol::testing::read_error(model, protocol, &resp) {
                    Ok((c, _)) if c == code && u64::from(resp.status().as_u16()) == status => {
                        pass += 1
                    }
                    other => {
                        let _ = writeln!(
                            log,
                            "  {id}: error read back as {other:?}, status {}",
                            resp.status()
                        );
                    }
                }
                continue;
            }
            let want = op
                .output
                .as_ref()
                .map_or(json!({}), |m| internal(model, m, &case["result"]));
            let mut resp = aloft_protocol::encode_output(model, &op.name, protocol, &want, "rid");
            resp.headers_mut().remove("x-amzn-requestid");
            resp.headers_mut().remove("x-amz-request-id");
            // AWS's own body must read as the result too (the parser is half of the codec).
            let mut theirs = http::Response::builder().status(u16::try_from(status).unwrap());
            if let Some(h) = response["headers"].as_object() {
                for (k, v) in h {
                    theirs = theirs.header(k, v.as_str().unwrap_or(""));
                }
            }
            let body = response["body"].as_str().unwrap_or("");
            let body = if md.protocol == "smithy-rpc-v2-cbor" {
                B64.decode(body).unwrap_or_default()
            } else {
                body.as_bytes().to_vec()
            };
            let theirs = theirs.body(bytes::Bytes::from(body)).unwrap();
            let ours_read = read_back(model, protocol, &resp);
            let theirs_read = read_back(model, protocol, &theirs);
            let ok_status = resp.status().as_u16() == theirs.status().as_u16();
            match (&ours_read, &theirs_read) {
                (Some(o), Some(t)) if same(o, &want) && same(t, &want) && ok_status => pass += 1,
                _ => {
                    let _ = writeln!(
                        log,
                        "  {id}: want {want}\n    ours {ours_read:?} (status {})\n    theirs {theirs_read:?}\n    body {}",
                        resp.status(),
                        String::from_utf8_lossy(resp.body())
                    );
                }
            }
        }
    }
    (pass, total, log)
}

#[test]
fn protocol_suites() {
    // (direction, file, minimum passing) — minimums record what passed when last changed.
    let suites: &[(&str, &str, usize)] = &[
        ("input", "json.json", 52),
        ("input", "json_1_0.json", 16),
        ("input", "json_1_0-query-compatible.json", 1),
        ("input", "query.json", 34),
        ("output", "json.json", 58),
        ("output", "json_1_0.json", 32),
        ("output", "json_1_0-query-compatible.json", 2),
        ("output", "query.json", 38),
        ("input", "rest-json.json", 100),
        ("input", "rest-xml.json", 89),
        ("output", "rest-json.json", 91),
        ("output", "rest-xml.json", 78),
        ("input", "smithy-rpc-v2-cbor.json", 15),
        ("input", "smithy-rpc-v2-cbor-query-compatible.json", 1),
        ("output", "smithy-rpc-v2-cbor.json", 35),
        ("output", "smithy-rpc-v2-cbor-query-compatible.json", 2),
    ];
    let mut report = String::new();
    let mut failures = Vec::new();
    let verbose = std::env::var("GOLDEN_VERBOSE").is_ok();
    for (dir, file, min) in suites {
        let (pass, total, log) = if *dir == "input" {
            run_input(file)
        } else {
            run_output(file)
        };
        let _ = writeln!(report, "{dir}/{file}: {pass}/{total}");
        if verbose {
            report.push_str(&log);
        }
        if pass < *min {
            failures.push(format!("{dir}/{file}: {pass} < {min}"));
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "regressions: {failures:?}\n{report}");
}
