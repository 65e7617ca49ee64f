//! XML ↔ internal `Value` for a shape, honouring `locationName`, `flattened`, `xmlAttribute`
//! and `xmlNamespace` (query responses, S3 bodies). Also a small element tree parser.

use aloft_model::{Member, ServiceModel, Shape, ShapeType};
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::AwsError;
use crate::walk::{resolve, scalar_from_text, scalar_to_text, ts_format, wire_name};

/// A parsed XML element: local name, attributes (qualified names), children, text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Parses an XML document into its root element.
///
/// # Errors
/// A description of the first syntax error (S3 answers `MalformedXML`).
pub fn parse(body: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => stack.push(start(&e)?),
            Event::Empty(e) => {
                let el = start(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match &*r.xml10_content() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                if let Some(el) = stack.last_mut() {
                    el.text.push(ch);
                }
            }
            Event::Eof => return Err("unexpected end of document".into()),
            _ => {}
        }
    }
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let mut el = Element {
        name: local(e.name().as_ref()).to_string(),
        ..Element::default()
    };
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        el.attributes
            .push((attr.key.as_ref().to_string(), value.into_owned()));
    }
    Ok(el)
}

/// The element name a structure member is found under. A member-level `flattened` list
/// repeats the member's own name (Smithy); a list *shape* marked flattened in an old-style
/// model (SQS) repeats its element's name (`Messages` → `<Message>`), as botocore reads it.
fn member_element_name<'a>(model: &'a ServiceModel, name: &'a str, member: &'a Member) -> &'a str {
    if let Some(shape) = model.shape(&member.shape)
        && shape.kind == ShapeType::List
        && shape.flattened
        && member.location_name.is_none()
        && member.query_name.is_none()
        && let Some(n) = shape
            .member
            .as_deref()
            .and_then(|m| m.location_name.as_deref())
    {
        return n;
    }
    xml_name(name, member)
}

/// A member's element name: `queryName` (query-only names, see tools/models.py), else
/// `locationName`, else the member name.
fn xml_name<'a>(name: &'a str, member: &'a Member) -> &'a str {
    member
        .query_name
        .as_deref()
        .unwrap_or_else(|| wire_name(name, member))
}

/// Members bound to headers or the status code are not part of an XML document.
fn in_http_head(m: &Member) -> bool {
    use aloft_model::Location;
    matches!(
        m.location,
        Some(Location::Header | Location::Headers | Location::StatusCode)
    )
}

fn flattened(shape: &Shape, member: &Member) -> bool {
    shape.flattened || member.flattened
}

/// Reads a structure from `el` (whose children are the members) into the internal form.
///
/// # Errors
/// A scalar whose text does not parse as its type.
pub fn structure_from_xml(
    model: &ServiceModel,
    shape: &Shape,
    el: &Element,
) -> Result<Value, AwsError> {
    let mut out = Map::new();
    for (name, m) in &shape.members {
        if in_http_head(m) {
            continue;
        }
        let member_shape = resolve(model, m)?;
        let wire = member_element_name(model, name, m);
        if m.xml_attribute {
            if let Some(v) = el
                .attributes
                .iter()
                .find(|(k, _)| k == wire || local(k) == wire)
            {
                out.insert(name.clone(), text_value(member_shape, m, &v.1)?);
            }
            continue;
        }
        if flattened(member_shape, m)
            && matches!(member_shape.kind, ShapeType::List | ShapeType::Map)
        {
            let items: Vec<&Element> = el.children_named(wire).collect();
            if !items.is_empty() {
                out.insert(
                    name.clone(),
                    flattened_from_xml(model, member_shape, &items)?,
                );
            }
            continue;
        }
        if let Some(child) = el.child(wire) {
            out.insert(name.clone(), from_xml(model, m, child)?);
        }
    }
    Ok(Value::Object(out))
}

fn text_value(shape: &Shape, _member: &Member, text: &str) -> Result<Value, AwsError> {
    let text = if matches!(shape.kind, ShapeType::String) {
        text
    } else {
        text.trim()
    };
    scalar_from_text(shape, text).map_err(|reason| {
        AwsError::new("MalformedXML", 400, format!("The XML you provided was not well-formed or did not validate against our published schema: {reason}"))
    })
}

fn flattened_from_xml(
    model: &ServiceModel,
    shape: &Shape,
    items: &[&Element],
) -> Result<Value, AwsError> {
    if shape.kind == ShapeType::Map {
        let mut out = Map::new();
        for item in items {
            map_entry(model, shape, item, &mut out)?;
        }
        return Ok(Value::Object(out));
    }
    let element = shape.member.as_deref().cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(from_xml(model, &element, item)?);
    }
    Ok(Value::Array(out))
}

fn map_entry(
    model: &ServiceModel,
    shape: &Shape,
    entry: &Element,
    out: &mut Map<String, Value>,
) -> Result<(), AwsError> {
    let key_ref = shape.key.as_deref().cloned().unwrap_or_default();
    let value_ref = shape.value.as_deref().cloned().unwrap_or_default();
    let key_name = key_ref.location_name.as_deref().unwrap_or("key");
    let value_name = value_ref.location_name.as_deref().unwrap_or("value");
    let key = entry
        .child(key_name)
        .map(|k| k.text.clone())
        .unwrap_or_default();
    if let Some(v) = entry.child(value_name) {
        out.insert(key, from_xml(model, &value_ref, v)?);
    }
    Ok(())
}

/// Reads the value of `member` from its element.
///
/// # Errors
/// A scalar whose text does not parse as its type.
pub fn from_xml(model: &ServiceModel, member: &Member, el: &Element) -> Result<Value, AwsError> {
    let shape = resolve(model, member)?;
    match shape.kind {
        ShapeType::Structure => structure_from_xml(model, shape, el),
        ShapeType::List => {
            let element = shape.member.as_deref().cloned().unwrap_or_default();
            let mut out = Vec::new();
            for child in &el.children {
                out.push(from_xml(model, &element, child)?);
            }
            Ok(Value::Array(out))
        }
        ShapeType::Map => {
            let mut out = Map::new();
            for entry in &el.children {
                map_entry(model, shape, entry, &mut out)?;
            }
            Ok(Value::Object(out))
        }
        _ => text_value(shape, member, &el.text),
    }
}

/// Builds XML text; names and values are escaped here, never by callers.
#[derive(Default)]
pub struct XmlWriter {
    pub out: String,
}

pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Carriage returns would be normalised away by the reader's XML parser.
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;").replace('\n', "&#xA;")
}

impl XmlWriter {
    pub fn declaration(&mut self) {
        self.out
            .push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    }

    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attributes {
            self.out.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
        }
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name, &[]);
        self.out.push_str(&escape_text(text));
        self.close(name);
    }

    /// Writes the members of a structure (not the structure's own element).
    pub fn members(&mut self, model: &ServiceModel, shape: &Shape, value: &Value) {
        let Some(map) = value.as_object() else { return };
        for (name, m) in &shape.members {
            if m.xml_attribute || in_http_head(m) {
                continue;
            }
            if let Some(v) = map.get(name).filter(|v| !v.is_null()) {
                self.member(model, name, m, v);
            }
        }
    }

    /// Writes one structure member under its wire name.
    pub fn member(&mut self, model: &ServiceModel, name: &str, member: &Member, value: &Value) {
        let Some(shape) = model.shape(&member.shape) else {
            return;
        };
        if flattened(shape, member) {
            match (shape.kind, value) {
                (ShapeType::List, Value::Array(items)) => {
                    let element = shape.member.as_deref().cloned().unwrap_or_default();
                    let tag = member_element_name(model, name, member);
                    for item in items {
                        self.element(model, tag, &element, item, None);
                    }
                    return;
                }
                (ShapeType::Map, Value::Object(entries)) => {
                    let tag = xml_name(name, member);
                    for (k, v) in entries {
                        self.open(tag, &[]);
                        self.map_entry(model, shape, k, v);
                        self.close(tag);
                    }
                    return;
                }
                _ => {}
            }
        }
        self.element(model, xml_name(name, member), member, value, None);
    }

    fn map_entry(&mut self, model: &ServiceModel, shape: &Shape, key: &str, value: &Value) {
        let key_ref = shape.key.as_deref().cloned().unwrap_or_default();
        let value_ref = shape.value.as_deref().cloned().unwrap_or_default();
        self.leaf(key_ref.location_name.as_deref().unwrap_or("key"), key);
        self.element(
            model,
            value_ref.location_name.as_deref().unwrap_or("value"),
            &value_ref,
            value,
            None,
        );
    }

    /// Writes `<tag ...>value</tag>` for a value of `member`'s shape; `namespace` adds `xmlns`.
    pub fn element(
        &mut self,
        model: &ServiceModel,
        tag: &str,
        member: &Member,
        value: &Value,
        namespace: Option<&str>,
    ) {
        let Some(shape) = model.shape(&member.shape) else {
            return;
        };
        let mut attrs: Vec<(String, String)> = Vec::new();
        let ns = member
            .xml_namespace
            .as_ref()
            .or(shape.xml_namespace.as_ref());
        if let Some(uri) = namespace {
            attrs.push(("xmlns".into(), uri.to_string()));
        } else if let Some(ns) = ns
            && let Some(uri) = &ns.uri
        {
            let key = ns
                .prefix
                .as_ref()
                .map_or("xmlns".to_string(), |p| format!("xmlns:{p}"));
            attrs.push((key, uri.clone()));
        }
        if shape.kind == ShapeType::Structure
            && let Some(map) = value.as_object()
        {
            for (name, m) in shape.members.iter().filter(|(_, m)| m.xml_attribute) {
                if let Some(v) = map.get(name)
                    && let Some(ms) = model.shape(&m.shape)
                    && let Some(text) = scalar_to_text(ms, v, ts_format(m, ms, "iso8601"))
                {
                    attrs.push((wire_name(name, m).to_string(), text));
                }
            }
        }
        let attr_refs: Vec<(&str, &str)> = attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.open(tag, &attr_refs);
        match (shape.kind, value) {
            (ShapeType::Structure, _) => self.members(model, shape, value),
            (ShapeType::List, Value::Array(items)) => {
                let element = shape.member.as_deref().cloned().unwrap_or_default();
                let child = element
                    .location_name
                    .clone()
                    .unwrap_or_else(|| "member".into());
                for item in items {
                    self.element(model, &child, &element, item, None);
                }
            }
            (ShapeType::Map, Value::Object(entries)) => {
                for (k, v) in entries {
                    self.open("entry", &[]);
                    self.map_entry(model, shape, k, v);
                    self.close("entry");
                }
            }
            _ => {
                if let Some(text) =
                    scalar_to_text(shape, value, ts_format(member, shape, "iso8601"))
                {
                    self.out.push_str(&escape_text(&text));
                }
            }
        }
        self.close(tag);
    }
}

/// Serialises a value of `member`'s shape as a whole document rooted at `root`.
pub fn to_xml(
    model: &ServiceModel,
    root: &str,
    member: &Member,
    value: &Value,
    namespace: Option<&str>,
) -> String {
    let mut w = XmlWriter::default();
    w.declaration();
    w.element(model, root, member, value, namespace);
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_entities_char_refs_and_cdata() {
        let el = parse(br#"<?xml version="1.0"?><a x="1&amp;2"><b>k&lt;&#xD;z</b><c><![CDATA[<raw>]]></c><d/></a>"#).unwrap();
        assert_eq!(el.attribute("x"), Some("1&2"));
        assert_eq!(el.child("b").unwrap().text, "k<\rz");
        assert_eq!(el.child("c").unwrap().text, "<raw>");
        assert!(el.child("d").is_some());
        assert!(parse(b"<a><b></a>").is_err());
    }

    #[test]
    fn s3_tagging_round_trip() {
        let s3 = aloft_model::get("s3").unwrap();
        let member = Member {
            shape: "Tagging".into(),
            ..Member::default()
        };
        let value = json!({"TagSet": [{"Key": "k&", "Value": "v"}]});
        let text = to_xml(
            s3,
            "Tagging",
            &member,
            &value,
            Some("http://s3.amazonaws.com/doc/2006-03-01/"),
        );
        assert!(
            text.contains("<TagSet><Tag><Key>k&amp;</Key><Value>v</Value></Tag></TagSet>"),
            "{text}"
        );
        let back = from_xml(s3, &member, &parse(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(back, value);
    }
}
