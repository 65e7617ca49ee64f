//! SQS's two wire forms: json 1.0 (`X-Amz-Target: AmazonSQS.Op`) and the query protocol
//! older SDKs and CLIs still send (`Action=Op` form bodies, XML answers).
//!
//! Both become `(operation, input Value)` with the json member names. The query protocol's
//! member names for SQS (`Attribute.N.Name`, `MessageAttribute.N.Value.StringValue`,
//! `SendMessageBatchRequestEntry.N.Id`, `<QueueUrl>`, `<Attribute><Name>`) are no longer in
//! botocore's model since SQS moved to json, so they are kept here, in one table.

use std::collections::BTreeMap;

use aloft_core::{AwsError, Response, body};
use bytes::Bytes;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
}

const XMLNS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// Reads a request body of at most `limit` bytes (`None` if longer or broken).
///
/// Frame by frame rather than through `AwsRequest::bytes`: that future trips rustc's
/// higher-ranked `Send` check inside `#[async_trait]` handlers.
pub async fn read_body(body: aloft_core::Body, limit: usize) -> Option<Bytes> {
    aloft_core::body::collect_limited(body, limit).await.ok()
}

/// Decodes a json 1.0 request.
pub fn decode_json(target: &str, body: &[u8]) -> Result<(String, Value), AwsError> {
    let op = target
        .strip_prefix("AmazonSQS.")
        .unwrap_or(target)
        .to_string();
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| {
            AwsError::new(
                "SerializationException",
                400,
                format!("Malformed JSON request body: {e}"),
            )
        })?
    };
    if !input.is_object() {
        return Err(AwsError::new(
            "SerializationException",
            400,
            "Start of structure or map found where not expected.",
        ));
    }
    Ok((op, input))
}

enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

/// Decodes a query request (form body and URL query together).
pub fn decode_query(form: &[u8], url_query: &str) -> Result<(String, Value), AwsError> {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    let mut action = None;
    for (k, v) in pairs(url_query.as_bytes()).chain(pairs(form)) {
        match k.as_str() {
            "Action" => action = Some(v),
            "Version" | "AWSAccessKeyId" | "SignatureMethod" | "SignatureVersion" | "Signature"
            | "Timestamp" | "Expires" | "SecurityToken" => {}
            k if k.starts_with("X-Amz-") => {}
            _ => insert(&mut root, &k, v),
        }
    }
    let action = action.ok_or_else(|| {
        AwsError::new(
            "MissingAction",
            400,
            "The request must contain the parameter Action.",
        )
    })?;
    let input = branch_to_json(root);
    Ok((action, input))
}

fn pairs(data: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    data.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|b| *b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &b""[..]),
            };
            (form_decode(k), form_decode(v))
        })
}

fn form_decode(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

fn insert(root: &mut BTreeMap<String, Node>, key: &str, value: String) {
    let mut parts = key.split('.').peekable();
    let mut cur = root;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_string(), Node::Leaf(value));
            return;
        }
        let e = cur
            .entry(p.to_string())
            .or_insert_with(|| Node::Branch(BTreeMap::new()));
        if let Node::Leaf(_) = e {
            *e = Node::Branch(BTreeMap::new());
        }
        let Node::Branch(next) = e else { return };
        cur = next;
    }
}

/// Query name → (json name, map key/value member names if the member is a map).
fn rename(name: &str) -> (&str, Option<(&'static str, &'static str)>) {
    match name {
        "Attribute" => ("Attributes", Some(("Name", "Value"))),
        "Tag" => ("Tags", Some(("Key", "Value"))),
        "MessageAttribute" => ("MessageAttributes", Some(("Name", "Value"))),
        "MessageSystemAttribute" => ("MessageSystemAttributes", Some(("Name", "Value"))),
        "AttributeName" => ("AttributeNames", None),
        "MessageAttributeName" => ("MessageAttributeNames", None),
        "MessageSystemAttributeName" => ("MessageSystemAttributeNames", None),
        "SendMessageBatchRequestEntry"
        | "DeleteMessageBatchRequestEntry"
        | "ChangeMessageVisibilityBatchRequestEntry" => ("Entries", None),
        "TagKey" => ("TagKeys", None),
        "AWSAccountId" => ("AWSAccountIds", None),
        "ActionName" => ("Actions", None),
        "StringListValue" => ("StringListValues", None),
        "BinaryListValue" => ("BinaryListValues", None),
        other => (other, None),
    }
}

const INTEGERS: &[&str] = &[
    "DelaySeconds",
    "MaxNumberOfMessages",
    "VisibilityTimeout",
    "WaitTimeSeconds",
    "MaxResults",
    "MaxNumberOfMessagesPerSecond",
];

fn leaf(name: &str, v: String) -> Value {
    if INTEGERS.contains(&name)
        && let Ok(n) = v.trim().parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(v)
}

fn indexed(children: BTreeMap<String, Node>) -> Vec<Node> {
    let mut v: Vec<(u64, Node)> = children
        .into_iter()
        .filter_map(|(k, n)| k.parse::<u64>().ok().map(|i| (i, n)))
        .collect();
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, n)| n).collect()
}

fn node_to_json(name: &str, node: Node) -> Value {
    match node {
        Node::Leaf(s) => leaf(name, s),
        Node::Branch(b) => branch_to_json(b),
    }
}

fn branch_to_json(b: BTreeMap<String, Node>) -> Value {
    let mut out = Map::new();
    for (k, node) in b {
        let (json_name, map) = rename(&k);
        let numeric =
            matches!(&node, Node::Branch(c) if c.keys().all(|k| k.parse::<u64>().is_ok()));
        let value = match (node, map) {
            (Node::Branch(children), Some((kn, vn))) if numeric => {
                let mut m = Map::new();
                for entry in indexed(children) {
                    if let Node::Branch(mut e) = entry
                        && let Some(Node::Leaf(key)) = e.remove(kn)
                    {
                        let v = e.remove(vn).map_or(Value::Null, |n| node_to_json(vn, n));
                        m.insert(key, v);
                    }
                }
                Value::Object(m)
            }
            (Node::Branch(children), None) if numeric && json_name != k => Value::Array(
                indexed(children)
                    .into_iter()
                    .map(|n| node_to_json(&k, n))
                    .collect(),
            ),
            (node, _) => node_to_json(&k, node),
        };
        out.insert(json_name.to_string(), value);
    }
    Value::Object(out)
}

/// Renders a successful answer.
pub fn encode(protocol: Protocol, op: &str, output: &Value, request_id: &str) -> Response {
    match protocol {
        Protocol::Json => {
            let body = serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec());
            respond(
                http::StatusCode::OK,
                &[
                    ("content-type", "application/x-amz-json-1.0"),
                    ("x-amzn-RequestId", request_id),
                ],
                body,
            )
        }
        Protocol::Query => {
            let mut x = String::with_capacity(256);
            x.push_str("<?xml version=\"1.0\"?>");
            x.push_str(&format!("<{op}Response xmlns=\"{XMLNS}\">"));
            if let Value::Object(m) = output
                && !m.is_empty()
            {
                x.push_str(&format!("<{op}Result>"));
                write_members(&mut x, op, m);
                x.push_str(&format!("</{op}Result>"));
            } else if output.is_object() && op != "DeleteQueue" && !no_result(op) {
                x.push_str(&format!("<{op}Result/>"));
            }
            x.push_str(&format!(
                "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
            ));
            respond(
                http::StatusCode::OK,
                &[
                    ("content-type", "text/xml"),
                    ("x-amzn-RequestId", request_id),
                ],
                x.into_bytes(),
            )
        }
    }
}

/// Operations whose answer has no `…Result` element.
fn no_result(op: &str) -> bool {
    matches!(
        op,
        "DeleteQueue"
            | "DeleteMessage"
            | "ChangeMessageVisibility"
            | "SetQueueAttributes"
            | "PurgeQueue"
            | "TagQueue"
            | "UntagQueue"
            | "AddPermission"
            | "RemovePermission"
    )
}

fn list_item_name<'a>(op: &str, key: &'a str) -> &'a str {
    match key {
        "QueueUrls" | "queueUrls" => "QueueUrl",
        "Messages" => "Message",
        "Failed" => "BatchResultErrorEntry",
        "Results" => "ListMessageMoveTasksResultEntry",
        "StringListValues" => "StringListValue",
        "BinaryListValues" => "BinaryListValue",
        "Successful" => match op {
            "SendMessageBatch" => "SendMessageBatchResultEntry",
            "DeleteMessageBatch" => "DeleteMessageBatchResultEntry",
            _ => "ChangeMessageVisibilityBatchResultEntry",
        },
        other => other,
    }
}

fn write_members(x: &mut String, op: &str, m: &Map<String, Value>) {
    for (k, v) in m {
        match v {
            Value::Array(items) => {
                let item = list_item_name(op, k);
                for i in items {
                    write_element(x, op, item, i);
                }
            }
            Value::Object(entries)
                if matches!(k.as_str(), "Attributes" | "MessageAttributes" | "Tags") =>
            {
                let (el, kn) = match k.as_str() {
                    "Attributes" => ("Attribute", "Name"),
                    "MessageAttributes" => ("MessageAttribute", "Name"),
                    _ => ("Tag", "Key"),
                };
                for (ek, ev) in entries {
                    x.push_str(&format!("<{el}><{kn}>{}</{kn}>", escape(ek)));
                    write_element(x, op, "Value", ev);
                    x.push_str(&format!("</{el}>"));
                }
            }
            other => write_element(x, op, k, other),
        }
    }
}

fn write_element(x: &mut String, op: &str, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            x.push_str(&format!("<{name}>"));
            write_members(x, op, m);
            x.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            for i in items {
                write_element(x, op, name, i);
            }
        }
        Value::String(s) => x.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => x.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// XML text escaping; `\r` is escaped too so XML parsers do not fold it into `\n`.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\r' => o.push_str("&#xD;"),
            c => o.push(c),
        }
    }
    o
}

/// Renders an error in the request's protocol (the json form already carries the
/// `x-amzn-query-error` header; the query form uses the query code).
pub fn encode_error(protocol: Protocol, err: &AwsError, request_id: &str) -> Response {
    let mut headers: Vec<(&str, &str)> = vec![("x-amzn-RequestId", request_id)];
    for (k, v) in &err.headers {
        headers.push((k.as_str(), v.as_str()));
    }
    let body = match protocol {
        Protocol::Json => {
            headers.push(("content-type", "application/x-amz-json-1.0"));
            let ty = if err.code.contains('.') {
                err.code.to_string()
            } else {
                format!("com.amazonaws.sqs#{}", err.code)
            };
            serde_json::json!({"__type": ty, "message": err.message}).to_string()
        }
        Protocol::Query => {
            headers.push(("content-type", "text/xml"));
            format!(
                "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message><Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if err.sender_fault {
                    "Sender"
                } else {
                    "Receiver"
                },
                escape(err.code),
                escape(&err.message)
            )
        }
    };
    respond(err.status, &headers, body.into_bytes())
}

/// Builds a response; header values that are not valid HTTP are left out, never a panic.
pub fn respond(status: http::StatusCode, headers: &[(&str, &str)], body: Vec<u8>) -> Response {
    let mut r = http::Response::new(body::full(Bytes::from(body)));
    *r.status_mut() = status;
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_form_becomes_json_shape() {
        let form = b"Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fx%2F0%2Fq\
&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=hi+there\
&SendMessageBatchRequestEntry.1.DelaySeconds=5\
&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k\
&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String\
&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v\
&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=x";
        let (op, v) = decode_query(form, "").unwrap();
        assert_eq!(op, "SendMessageBatch");
        assert_eq!(
            v,
            serde_json::json!({
                "QueueUrl": "http://x/0/q",
                "Entries": [
                    {"Id": "a", "MessageBody": "hi there", "DelaySeconds": 5,
                     "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
                    {"Id": "b", "MessageBody": "x"}
                ]
            })
        );
        let (_, v) = decode_query(
            b"Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=3&AttributeName.1=All",
            "",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"AttributeNames": ["All"], "Attributes": {"DelaySeconds": "3"}, "QueueName": "q"})
        );
    }

    #[test]
    fn xml_uses_flattened_query_names() {
        let out = serde_json::json!({"Messages": [{"MessageId": "m", "Body": "a<b",
            "Attributes": {"SentTimestamp": "1"},
            "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}]});
        let r = encode(Protocol::Query, "ReceiveMessage", &out, "rid");
        assert_eq!(r.status(), 200);
        let mut x = String::new();
        write_members(&mut x, "ReceiveMessage", out.as_object().unwrap());
        assert_eq!(
            x,
            "<Message><MessageId>m</MessageId><Body>a&lt;b</Body><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute></Message>"
        );
    }
}
