//! The source files of ImportTable (and bulk puts): decompression and the three input
//! formats (CSV, DynamoDB JSON, Ion text), each turned into items in DynamoDB JSON so that
//! the one item parser and the one item check (PutItem's) decide what is valid.

pub mod csv;
pub mod ion;

use std::io::Read;

use serde_json::{Map, Value as Json};

use crate::domain::value::KeyType;

/// The input format named by `InputFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    DynamoDbJson,
    Ion,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "CSV" => Some(Format::Csv),
            "DYNAMODB_JSON" => Some(Format::DynamoDbJson),
            "ION" => Some(Format::Ion),
            _ => None,
        }
    }
}

/// `InputCompressionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn parse(s: &str) -> Option<Compression> {
        match s {
            "NONE" => Some(Compression::None),
            "GZIP" => Some(Compression::Gzip),
            "ZSTD" => Some(Compression::Zstd),
            _ => None,
        }
    }
}

/// The CSV options (`InputFormatOptions.Csv`).
#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub header: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            header: None,
        }
    }
}

/// What a source object yields, in order: items (DynamoDB JSON maps) and the errors of the
/// records that could not be read, each with the line it started on.
#[derive(Debug, PartialEq)]
pub enum Record {
    Item(Map<String, Json>),
    Bad { line: usize, message: String },
}

/// Decompresses one object's body. A body that is not in the declared compression is an
/// error for the whole object (AWS skips the rest of a malformed object).
pub fn decompress(body: &[u8], c: Compression) -> Result<Vec<u8>, String> {
    match c {
        Compression::None => Ok(body.to_vec()),
        Compression::Gzip => {
            let mut out = Vec::new();
            // MultiGzDecoder: `gzip a b > c` and parallel compressors write several members.
            flate2::read::MultiGzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|e| format!("Unable to decompress GZIP object: {e}"))?;
            Ok(out)
        }
        Compression::Zstd => {
            // Frame after frame: `zstd` and parallel compressors may write several.
            let mut out = Vec::new();
            let mut src = body;
            while !src.is_empty() {
                let mut frame = ruzstd::decoding::StreamingDecoder::new(&mut src)
                    .map_err(|e| format!("Unable to decompress ZSTD object: {e}"))?;
                frame
                    .read_to_end(&mut out)
                    .map_err(|e| format!("Unable to decompress ZSTD object: {e}"))?;
            }
            Ok(out)
        }
    }
}

/// The records of one (decompressed) object. `key_types` are the typed key attributes of the
/// table and its indexes: CSV imports those with their declared types, every other column
/// as a string (AWS's rule).
pub fn records(
    text: &[u8],
    format: Format,
    csv: &CsvOptions,
    key_types: &[(String, KeyType)],
) -> Vec<Record> {
    let Ok(text) = std::str::from_utf8(text) else {
        return vec![Record::Bad {
            line: 1,
            message: "The object is not valid UTF-8 text".to_string(),
        }];
    };
    match format {
        Format::Csv => csv::records(text, csv, key_types),
        Format::DynamoDbJson => json_records(text),
        Format::Ion => ion::records(text),
    }
}

/// DynamoDB JSON: one `{"Item": {...}}` per line, as DynamoDB's export writes it.
fn json_records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |message: String| Record::Bad {
            line: i + 1,
            message,
        };
        match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(mut o)) => match o.remove("Item") {
                Some(Json::Object(item)) if o.is_empty() => out.push(Record::Item(item)),
                _ => out.push(bad(
                    "Unexpected token: the line must be one object {\"Item\": {...}}".to_string(),
                )),
            },
            Ok(_) => out.push(bad("Unexpected token: the line is not a JSON object".into())),
            Err(e) => out.push(bad(format!("Unable to parse JSON: {e}"))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dynamodb_json_lines_items_and_bad_lines() {
        let text = "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n\n{\"Item\":{\"pk\":{\"S\":\"b\"},\"n\":{\"N\":\"1\"}}}\nnot json\n{\"pk\":{\"S\":\"c\"}}\n";
        let r = records(
            text.as_bytes(),
            Format::DynamoDbJson,
            &CsvOptions::default(),
            &[],
        );
        assert_eq!(r.len(), 4);
        assert_eq!(
            r[0],
            Record::Item(json!({"pk": {"S": "a"}}).as_object().unwrap().clone())
        );
        assert!(matches!(&r[2], Record::Bad { line: 4, .. }));
        assert!(matches!(&r[3], Record::Bad { line: 5, .. }));
    }

    #[test]
    fn gzip_round_trip_and_garbage() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello\n").unwrap();
        let gz = enc.finish().unwrap();
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        assert_eq!(decompress(&gz, Compression::Gzip).unwrap(), b"hello\n");
        assert_eq!(
            decompress(&two, Compression::Gzip).unwrap(),
            b"hello\nhello\n"
        );
        assert!(decompress(b"plain text", Compression::Gzip).is_err());
        assert_eq!(decompress(b"x", Compression::None).unwrap(), b"x");
    }

    #[test]
    fn zstd_frames_and_garbage() {
        // `printf 'hello\n' | zstd -c`, written by the reference implementation.
        let frame: &[u8] = &[
            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x31, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
            0x0a, 0x53, 0x88, 0xbd, 0x91,
        ];
        assert_eq!(decompress(frame, Compression::Zstd).unwrap(), b"hello\n");
        let two = [frame, frame].concat();
        assert_eq!(
            decompress(&two, Compression::Zstd).unwrap(),
            b"hello\nhello\n"
        );
        assert!(decompress(b"plain text", Compression::Zstd).is_err());
    }

    #[test]
    fn not_utf8_is_one_bad_record() {
        let r = records(&[0xff, 0xfe], Format::Csv, &CsvOptions::default(), &[]);
        assert!(matches!(&r[..], [Record::Bad { line: 1, .. }]));
    }
}
