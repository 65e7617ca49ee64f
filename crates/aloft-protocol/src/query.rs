//! The query protocol: form-encoded `Action=Op&Version=...&A.member.1=x` requests, XML
//! `<OpResponse><OpResult>` responses and `<ErrorResponse>` errors (SNS, STS, IAM, old SQS).

use std::collections::BTreeMap;

use aloft_model::{Member, Operation, ServiceModel, Shape, ShapeType};
use bytes::Bytes;
use http::request::Parts;
use serde_json::{Map, Value};

use crate::walk::{resolve, scalar_from_text, wire_name};
use crate::xml::XmlWriter;
use crate::{AwsError, response};

/// The dotted keys of a form, as a tree: `A.member.1=x` is `A → member → 1 = x`.
#[derive(Debug, Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, key: &str, value: String) {
        let mut node = self;
        for segment in key.split('.') {
            node = node.children.entry(segment.to_string()).or_default();
        }
        node.value = Some(value);
    }

    /// Children whose keys are 1-based indices, in numeric order.
    fn indexed(&self) -> Vec<&Node> {
        let mut items: Vec<(u64, &Node)> = self
            .children
            .iter()
            .filter_map(|(k, v)| k.parse::<u64>().ok().map(|i| (i, v)))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, n)| n).collect()
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    let mut pairs = form_pairs(parts.uri.query().unwrap_or(""));
    pairs.extend(form_pairs(&String::from_utf8_lossy(body)));
    let action = pairs
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(op) = model.operation(&action) else {
        return Err(if action.is_empty() {
            AwsError::new("MissingAction", 400, "Missing Action")
        } else {
            AwsError::new(
                "InvalidAction",
                400,
                format!("The action {action} is not valid for this web service."),
            )
        });
    };
    let mut root = Node::default();
    for (k, v) in pairs {
        if k != "Action" && k != "Version" {
            root.insert(&k, v);
        }
    }
    let input = match op.input.as_ref().map(|m| resolve(model, m)).transpose()? {
        Some(shape) => structure(model, shape, &root, "")?,
        None => Value::Object(Map::new()),
    };
    Ok((op.name.as_str(), input))
}

/// The key a member is sent under: `queryName`, else `locationName`, else its name.
fn query_name<'a>(name: &'a str, member: &'a Member) -> &'a str {
    member
        .query_name
        .as_deref()
        .unwrap_or_else(|| wire_name(name, member))
}

fn structure(
    model: &ServiceModel,
    shape: &Shape,
    node: &Node,
    path: &str,
) -> Result<Value, AwsError> {
    let mut out = Map::new();
    // Element names are shared by some flattened lists (SQS's `AttributeName`): first one wins.
    let mut claimed: Vec<&str> = Vec::new();
    for (name, m) in &shape.members {
        let member_shape = resolve(model, m)?;
        let primary = query_name(name, m);
        // A flattened list may be sent under its element's name (`AttributeName.1`).
        let element_name = (member_shape.kind == ShapeType::List && member_shape.flattened)
            .then(|| {
                member_shape
                    .member
                    .as_deref()
                    .and_then(|e| e.location_name.as_deref())
            })
            .flatten();
        let child = node
            .children
            .get(primary)
            .or_else(|| {
                let n = element_name.filter(|n| !claimed.contains(n))?;
                claimed.push(n);
                node.children.get(n)
            })
            .or_else(|| node.children.get(name.as_str()));
        if let Some(child) = child {
            let child_path = if path.is_empty() {
                primary.to_string()
            } else {
                format!("{path}.{primary}")
            };
            out.insert(
                name.clone(),
                value(model, m, member_shape, child, &child_path)?,
            );
        }
    }
    Ok(Value::Object(out))
}

fn value(
    model: &ServiceModel,
    member: &Member,
    shape: &Shape,
    node: &Node,
    path: &str,
) -> Result<Value, AwsError> {
    match shape.kind {
        ShapeType::Structure => structure(model, shape, node, path),
        // `A=` is how clients send an empty list or map.
        ShapeType::List if node.children.is_empty() => Ok(Value::Array(Vec::new())),
        ShapeType::Map if node.children.is_empty() => Ok(Value::Object(Map::new())),
        ShapeType::List => {
            let element = shape.member.as_deref().cloned().unwrap_or_default();
            let element_shape = resolve(model, &element)?;
            // Accept both `A.member.N` and flattened `A.N`, whatever the model says.
            let wrapper = element.location_name.as_deref().unwrap_or("member");
            let items_node = node
                .children
                .get(wrapper)
                .or_else(|| node.children.get("member"))
                .unwrap_or(node);
            let mut out = Vec::new();
            for (i, item) in items_node.indexed().into_iter().enumerate() {
                out.push(value(
                    model,
                    &element,
                    element_shape,
                    item,
                    &format!("{path}.{}", i + 1),
                )?);
            }
            Ok(Value::Array(out))
        }
        ShapeType::Map => {
            let key_ref = shape.key.as_deref().cloned().unwrap_or_default();
            let value_ref = shape.value.as_deref().cloned().unwrap_or_default();
            let value_shape = resolve(model, &value_ref)?;
            let key_name = key_ref.location_name.as_deref().unwrap_or("key");
            let value_name = value_ref.location_name.as_deref().unwrap_or("value");
            let entries = node.children.get("entry").unwrap_or(node);
            let mut out = Map::new();
            for entry in entries.indexed() {
                let key = entry
                    .children
                    .get(key_name)
                    .and_then(|k| k.value.clone())
                    .unwrap_or_default();
                if let Some(v) = entry.children.get(value_name) {
                    out.insert(
                        key.clone(),
                        value(model, &value_ref, value_shape, v, &format!("{path}.{key}"))?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        _ => {
            let text = node.value.as_deref().unwrap_or("");
            let _ = member;
            scalar_from_text(shape, text).map_err(|_| {
                AwsError::new(
                    "MalformedInput",
                    400,
                    format!("Value '{text}' for parameter {path} is invalid."),
                )
            })
        }
    }
}

/// The query-protocol code of an error: the model's `error.code` override if it has one
/// (`QueueDoesNotExist` is `AWS.SimpleQueueService.NonExistentQueue` on the query wire).
pub(crate) fn wire_code<'a>(model: &'a ServiceModel, e: &'a AwsError) -> &'a str {
    model
        .error_shape(e.code)
        .and_then(|(_, s)| s.error.as_ref())
        .and_then(|i| i.code.as_deref())
        .unwrap_or(e.code)
}

fn namespace(model: &ServiceModel) -> String {
    model.metadata.xml_namespace.clone().unwrap_or_else(|| {
        format!(
            "https://{}.amazonaws.com/doc/{}/",
            model.metadata.endpoint_prefix, model.metadata.api_version
        )
    })
}

pub(crate) fn encode_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> http::Response<Bytes> {
    let ns = namespace(model);
    let root = format!("{}Response", op.name);
    let mut w = XmlWriter::default();
    w.open(&root, &[("xmlns", &ns)]);
    if let Some(out_ref) = &op.output
        && let Some(shape) = model.shape(&out_ref.shape)
    {
        let wrapper = out_ref
            .result_wrapper
            .clone()
            .unwrap_or_else(|| format!("{}Result", op.name));
        w.open(&wrapper, &[]);
        w.members(model, shape, output);
        w.close(&wrapper);
    }
    w.open("ResponseMetadata", &[]);
    w.leaf("RequestId", request_id);
    w.close("ResponseMetadata");
    w.close(&root);
    response(http::StatusCode::OK, "text/xml", w.out.into_bytes())
}

pub(crate) fn encode_error(
    model: &ServiceModel,
    error: &AwsError,
    request_id: &str,
) -> http::Response<Bytes> {
    let ns = namespace(model);
    let mut w = XmlWriter::default();
    w.open("ErrorResponse", &[("xmlns", &ns)]);
    w.open("Error", &[]);
    w.leaf(
        "Type",
        if error.sender_fault {
            "Sender"
        } else {
            "Receiver"
        },
    );
    w.leaf("Code", wire_code(model, error));
    w.leaf("Message", &error.message);
    for (k, v) in &error.fields {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        w.leaf(k, &text);
    }
    w.close("Error");
    w.leaf("RequestId", request_id);
    w.close("ErrorResponse");
    response(error.status, "text/xml", w.out.into_bytes())
}

#[cfg(test)]
mod tests {
    use crate::{AwsError, Protocol, decode, encode_error, encode_output};
    use serde_json::json;

    fn form(service: &str, body: &str) -> Result<crate::Decoded, crate::Rejection> {
        let model = aloft_model::get(service).unwrap();
        let (parts, ()) = http::Request::post("/")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(())
            .unwrap()
            .into_parts();
        decode(model, &parts, body.as_bytes())
    }

    #[test]
    fn sqs_accepts_query_with_flattened_names() {
        let d = form(
            "sqs",
            "Action=CreateQueue&QueueName=q%201&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40&Tag.1.Key=k&Tag.1.Value=v",
        )
        .unwrap();
        assert_eq!(d.protocol, Protocol::Query);
        assert_eq!(
            d.input,
            json!({"QueueName": "q 1", "Attributes": {"VisibilityTimeout": "40"}, "tags": {"k": "v"}})
        );
        let d = form(
            "sqs",
            "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MaxNumberOfMessages=5",
        )
        .unwrap();
        assert_eq!(
            d.input,
            json!({"QueueUrl": "u", "AttributeNames": ["All"], "MaxNumberOfMessages": 5})
        );
    }

    #[test]
    fn sns_member_lists_and_entry_maps() {
        let d = form(
            "sns",
            "Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=d&Tags.member.1.Key=a&Tags.member.1.Value=b",
        )
        .unwrap();
        assert_eq!(
            d.input,
            json!({"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "a", "Value": "b"}]})
        );
    }

    #[test]
    fn unknown_action_and_validation() {
        let e = form("sns", "Action=Nope").unwrap_err();
        assert_eq!(e.error.code, "InvalidAction");
        let e = form("iam", "Action=GetRole").unwrap_err();
        assert_eq!(e.error.code, "ValidationError");
        assert_eq!(
            e.error.message,
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn renders_results_and_errors() {
        let sns = aloft_model::get("sns").unwrap();
        let out = json!({"TopicArn": "arn:aws:sns:us-east-1:000000000000:t"});
        let resp = encode_output(sns, "CreateTopic", Protocol::Query, &out, "rid");
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert_eq!(
            body,
            "<CreateTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><CreateTopicResult>\
             <TopicArn>arn:aws:sns:us-east-1:000000000000:t</TopicArn></CreateTopicResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateTopicResponse>"
        );
        let sqs = aloft_model::get("sqs").unwrap();
        let resp = encode_output(
            sqs,
            "GetQueueAttributes",
            Protocol::Query,
            &json!({"Attributes": {"A": "1"}}),
            "r",
        );
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(body.contains("<GetQueueAttributesResult><Attribute><Name>A</Name><Value>1</Value></Attribute></GetQueueAttributesResult>"), "{body}");
        let err = AwsError::new(
            "QueueDoesNotExist",
            400,
            "The specified queue does not exist.",
        );
        let resp = encode_error(sqs, Protocol::Query, &err, "r");
        let body = String::from_utf8(resp.body().to_vec()).unwrap();
        assert!(
            body.contains(
                "<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
            ),
            "{body}"
        );
        assert_eq!(resp.status(), 400);
    }
}

#[cfg(test)]
mod gzip_tests {
    use std::io::Write;

    #[test]
    fn gzipped_query_bodies_are_inflated() {
        let model = aloft_model::get("monitoring").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member.1.MetricName=m&MetricData.member.1.Value=2")
            .unwrap();
        let body = gz.finish().unwrap();
        let (parts, ()) = http::Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-encoding", "gzip")
            .body(())
            .unwrap()
            .into_parts();
        let d = crate::decode(model, &parts, &body).unwrap();
        assert_eq!(d.input["MetricData"][0]["Value"], 2.0);
        let e = crate::decode(model, &parts, b"not gzip").unwrap_err();
        assert_eq!(e.error.code, "SerializationException");
    }
}
