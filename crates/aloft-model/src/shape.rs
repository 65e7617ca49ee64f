//! Shapes and member references: the type system of an AWS model, with wire bindings.

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
    Byte,
    Short,
    #[serde(alias = "bigInteger")]
    Biginteger,
    #[serde(alias = "bigDecimal")]
    Bigdecimal,
    /// `document` shapes in newer models are structures with `"document": true`.
    #[serde(other)]
    Other,
}

/// Where a member of an HTTP-bound (rest-*) input or output lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    Uri,
    Querystring,
    Header,
    Headers,
    StatusCode,
    #[serde(other)]
    Body,
}

/// A reference to a shape from a structure member, a list member, a map key/value or an
/// operation's input/output/error, with the traits that may sit on the reference.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Member {
    pub shape: String,
    pub location: Option<Location>,
    pub location_name: Option<String>,
    /// Query protocol only: the name ec2/query use instead of `locationName`.
    pub query_name: Option<String>,
    pub flattened: bool,
    pub xml_attribute: bool,
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    pub idempotency_token: bool,
    pub host_label: bool,
    /// A string member carrying JSON (rest-json headers: base64 of the JSON text).
    pub jsonvalue: bool,
    pub streaming: bool,
    pub eventpayload: bool,
    pub deprecated: bool,
    /// Query protocol output: the element the result is wrapped in (`CreateTopicResult`).
    pub result_wrapper: Option<String>,
}

/// An `xmlNamespace` trait, written in models either as a string or as `{uri, prefix}`.
#[derive(Debug, Clone, Default)]
pub struct XmlNamespace {
    pub uri: Option<String>,
    pub prefix: Option<String>,
}

impl<'de> Deserialize<'de> for XmlNamespace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full {
            uri: Option<String>,
            prefix: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            S(String),
            N(Full),
        }
        Ok(match Either::deserialize(d)? {
            Either::S(uri) => Self {
                uri: Some(uri),
                prefix: None,
            },
            Either::N(f) => Self {
                uri: f.uri,
                prefix: f.prefix,
            },
        })
    }
}

/// Error metadata of an exception shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorInfo {
    /// The wire code when it differs from the shape name (query services).
    pub code: Option<String>,
    pub http_status_code: Option<u16>,
    pub sender_fault: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// Structure members in model order (order matters for XML output).
    #[serde(default, deserialize_with = "ordered")]
    pub members: Vec<(String, Member)>,
    #[serde(default)]
    pub required: Vec<String>,
    /// List element.
    pub member: Option<Box<Member>>,
    pub key: Option<Box<Member>>,
    pub value: Option<Box<Member>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    #[serde(default)]
    pub flattened: bool,
    pub location_name: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    /// The member that is the whole HTTP body (rest-*).
    pub payload: Option<String>,
    pub error: Option<ErrorInfo>,
    #[serde(default)]
    pub exception: bool,
    #[serde(default)]
    pub fault: bool,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub event: bool,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub sensitive: bool,
}

impl Shape {
    pub fn member_named(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// The HTTP status the model gives this error shape.
    pub fn error_status(&self) -> Option<u16> {
        self.error.as_ref().and_then(|e| e.http_status_code)
    }
}

fn ordered<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Member)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, Member)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of members")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some((k, v)) = map.next_entry::<String, Member>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}
