//! The files of a table export as AWS writes them to S3: data lines in DynamoDB JSON or Ion
//! text (full exports' `{"Item": ...}`, incremental exports' `Metadata`/`Keys`/`OldImage`/
//! `NewImage`), gzip, the two manifests and their MD5 files.
//!
//! Ion follows AWS's type mapping: numbers are decimals, binaries blobs, maps structs, lists
//! lists, and sets lists annotated `$dynamodb_SS`, `$dynamodb_NS` or `$dynamodb_BS`; each file
//! starts with the `$ion_1_0` version marker.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value as Json, json};

use crate::domain::number::Number;
use crate::domain::value::{AttrValue, Item, item_to_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DynamoDbJson,
    Ion,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "DYNAMODB_JSON" => Some(Format::DynamoDbJson),
            "ION" => Some(Format::Ion),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::DynamoDbJson => "DYNAMODB_JSON",
            Format::Ion => "ION",
        }
    }

    /// The data files' suffix.
    pub fn extension(self) -> &'static str {
        match self {
            Format::DynamoDbJson => "json.gz",
            Format::Ion => "ion.gz",
        }
    }
}

/// What a line of an incremental export carries for one changed item.
pub struct Change<'a> {
    pub keys: Item,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
    /// The time of the item's last change in the export period.
    pub write_micros: i64,
}

/// One data file being written (uncompressed), with its item count.
pub struct DataFile {
    format: Format,
    pub text: Vec<u8>,
    pub items: u64,
}

impl DataFile {
    pub fn new(format: Format) -> DataFile {
        let mut text = Vec::new();
        if format == Format::Ion {
            text.extend_from_slice(b"$ion_1_0 ");
        }
        DataFile {
            format,
            text,
            items: 0,
        }
    }

    /// Appends a full export's line for `item`.
    pub fn push_item(&mut self, item: &Item) {
        match self.format {
            Format::DynamoDbJson => {
                let line = json!({ "Item": item_to_json(item) });
                self.text.extend_from_slice(line.to_string().as_bytes());
            }
            Format::Ion => {
                self.text.extend_from_slice(b"{Item:");
                ion_struct(item, &mut self.text);
                self.text.push(b'}');
            }
        }
        self.text.push(b'\n');
        self.items += 1;
    }

    /// Appends an incremental export's line. `NEW_IMAGE` views leave the old image out; a
    /// deleted item has no new image.
    pub fn push_change(&mut self, c: &Change<'_>, with_old: bool) {
        let old = c.old.filter(|_| with_old);
        match self.format {
            Format::DynamoDbJson => {
                let mut m = Map::new();
                m.insert(
                    "Metadata".into(),
                    json!({"WriteTimestampMicros": {"N": c.write_micros.to_string()}}),
                );
                m.insert("Keys".into(), item_to_json(&c.keys));
                if let Some(o) = old {
                    m.insert("OldImage".into(), item_to_json(o));
                }
                if let Some(n) = c.new {
                    m.insert("NewImage".into(), item_to_json(n));
                }
                self.text
                    .extend_from_slice(Json::Object(m).to_string().as_bytes());
            }
            Format::Ion => {
                let t = &mut self.text;
                t.extend_from_slice(b"{Metadata:{WriteTimestampMicros:");
                t.extend_from_slice(c.write_micros.to_string().as_bytes());
                t.extend_from_slice(b".},Keys:");
                ion_struct(&c.keys, t);
                if let Some(o) = old {
                    t.extend_from_slice(b",OldImage:");
                    ion_struct(o, t);
                }
                if let Some(n) = c.new {
                    t.extend_from_slice(b",NewImage:");
                    ion_struct(n, t);
                }
                t.push(b'}');
            }
        }
        self.text.push(b'\n');
        self.items += 1;
    }
}

/// Gzip, as the data files are stored.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Base64 MD5, as the manifests give checksums.
pub fn md5_b64(data: &[u8]) -> String {
    use md5::Digest;
    B64.encode(md5::Md5::digest(data))
}

/// A data file's name: 26 random base-32 characters, as AWS names them.
pub fn data_file_name(format: Format) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    format!(
        "{}.{}",
        aloft_core::ids::random_string(26, ALPHABET),
        format.extension()
    )
}

/// A line of `manifest-files.json`.
pub fn manifest_files_line(items: u64, gz: &[u8], etag: &str, key: &str) -> String {
    json!({
        "itemCount": items,
        "md5Checksum": md5_b64(gz),
        "etag": etag.trim_matches('"'),
        "dataFileS3Key": key,
    })
    .to_string()
}

/// Ion's rendering of one attribute value.
pub fn ion_value(v: &AttrValue, out: &mut Vec<u8>) {
    match v {
        AttrValue::S(s) => ion_string(s.as_str(), b'"', out),
        AttrValue::N(n) => ion_decimal(n, out),
        AttrValue::B(b) => ion_blob(b, out),
        AttrValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AttrValue::Null => out.extend_from_slice(b"null"),
        AttrValue::M(m) => ion_struct(m, out),
        AttrValue::L(l) => ion_list(l.iter(), out, ion_value),
        AttrValue::Ss(s) => {
            out.extend_from_slice(b"$dynamodb_SS::");
            ion_list(s.iter(), out, |v, o| ion_string(v, b'"', o));
        }
        AttrValue::Ns(s) => {
            out.extend_from_slice(b"$dynamodb_NS::");
            ion_list(s.iter(), out, ion_decimal);
        }
        AttrValue::Bs(s) => {
            out.extend_from_slice(b"$dynamodb_BS::");
            ion_list(s.iter(), out, |v, o| ion_blob(v, o));
        }
    }
}

pub fn ion_struct(item: &Item, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (k, v)) in item.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        ion_symbol(k.as_ref(), out);
        out.push(b':');
        ion_value(v, out);
    }
    out.push(b'}');
}

fn ion_list<T>(items: impl Iterator<Item = T>, out: &mut Vec<u8>, f: impl Fn(T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f(v, out);
    }
    out.push(b']');
}

/// A decimal: DynamoDB's plain notation, with a point so that Ion reads a decimal, not an int.
fn ion_decimal(n: &Number, out: &mut Vec<u8>) {
    let s = n.to_string();
    out.extend_from_slice(s.as_bytes());
    if !s.contains('.') {
        out.push(b'.');
    }
}

fn ion_blob(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"{{");
    out.extend_from_slice(B64.encode(b).as_bytes());
    out.extend_from_slice(b"}}");
}

/// A field name: bare when it is an identifier Ion would not read as something else.
fn ion_symbol(s: &str, out: &mut Vec<u8>) {
    let bare = s
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
        && !matches!(s, "null" | "true" | "false" | "nan");
    if bare {
        out.extend_from_slice(s.as_bytes());
    } else {
        ion_string(s, b'\'', out);
    }
}

fn ion_string(s: &str, quote: u8, out: &mut Vec<u8>) {
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if c as u32 == u32::from(quote) => {
                out.push(b'\\');
                out.push(quote);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::item_from_json;

    fn item(j: Json) -> Item {
        item_from_json(&j).unwrap()
    }

    #[test]
    fn dynamodb_json_lines_wrap_each_item() {
        let mut f = DataFile::new(Format::DynamoDbJson);
        let i = item(json!({"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": "AQI="}}));
        f.push_item(&i);
        f.push_item(&item(json!({"pk": {"S": "b"}})));
        let text = String::from_utf8(f.text.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: Json = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(
            first,
            json!({"Item": {"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "AQI="}}})
        );
        assert_eq!(f.items, 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn ion_maps_every_type() {
        let i = item(json!({
            "pk": {"S": "a \"q\" \\ \n é"},
            "n": {"N": "10"}, "f": {"N": "-0.25"},
            "b": {"B": "AQI="}, "t": {"BOOL": true}, "z": {"NULL": true},
            "m": {"M": {"in-ner": {"S": "x"}}}, "l": {"L": [{"N": "1"}, {"S": "y"}]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AQ=="]},
            "null": {"S": "kw"}
        }));
        let mut f = DataFile::new(Format::Ion);
        f.push_item(&i);
        let text = String::from_utf8(f.text).unwrap();
        assert_eq!(
            text,
            // Attributes in the item's (sorted) order.
            "$ion_1_0 {Item:{b:{{AQI=}},bs:$dynamodb_BS::[{{AQ==}}],f:-0.25,l:[1.,\"y\"],\
             m:{'in-ner':\"x\"},n:10.,ns:$dynamodb_NS::[1.,2.5],'null':\"kw\",\
             pk:\"a \\\"q\\\" \\\\ \\n é\",ss:$dynamodb_SS::[\"a\",\"b\"],t:true,z:null}}\n"
        );
    }

    #[test]
    fn incremental_lines_follow_the_view_type() {
        let keys = item(json!({"pk": {"S": "a"}}));
        let old = item(json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
        let new = item(json!({"pk": {"S": "a"}, "v": {"N": "2"}}));
        let mut f = DataFile::new(Format::DynamoDbJson);
        let c = Change {
            keys: keys.clone(),
            old: Some(&old),
            new: Some(&new),
            write_micros: 1_700_000_000_123_000,
        };
        f.push_change(&c, true);
        f.push_change(&c, false);
        let deleted = Change {
            keys,
            old: Some(&old),
            new: None,
            write_micros: 5,
        };
        f.push_change(&deleted, true);
        let text = String::from_utf8(f.text.clone()).unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"Metadata": {"WriteTimestampMicros": {"N": "1700000000123000"}},
                "Keys": {"pk": {"S": "a"}},
                "OldImage": {"pk": {"S": "a"}, "v": {"N": "1"}},
                "NewImage": {"pk": {"S": "a"}, "v": {"N": "2"}}})
        );
        assert!(lines[1].get("OldImage").is_none());
        assert!(lines[2].get("NewImage").is_none());
        assert_eq!(lines[2]["OldImage"]["v"]["N"], "1");
        let mut ion = DataFile::new(Format::Ion);
        ion.push_change(&deleted, true);
        assert_eq!(
            String::from_utf8(ion.text).unwrap(),
            "$ion_1_0 {Metadata:{WriteTimestampMicros:5.},Keys:{pk:\"a\"},OldImage:{pk:\"a\",v:1.}}\n"
        );
    }

    #[test]
    fn gzip_round_trips_and_checksums_are_base64_md5() {
        use std::io::Read;
        let gz = gzip(b"hello\n");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello\n");
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(md5_b64(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        let name = data_file_name(Format::Ion);
        assert_eq!(name.len(), 26 + ".ion.gz".len());
        let line: Json =
            serde_json::from_str(&manifest_files_line(3, b"", "\"abc\"", "p/data/x.json.gz"))
                .unwrap();
        assert_eq!(line["etag"], "abc");
        assert_eq!(line["itemCount"], 3);
        assert_eq!(line["md5Checksum"], "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
