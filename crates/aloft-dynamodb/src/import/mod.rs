//! The source files of ImportTable (and bulk puts): decompression and the three input
//! formats (CSV, DynamoDB JSON, Ion text), each turned into items in DynamoDB JSON so that
//! the one item parser and the one item check (PutItem's) decide what is valid.

pub mod csv;
pub mod inflate;
pub mod ion;
pub mod reader;

pub use reader::Reader;

use serde_json::{Map, Value as Json};

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

/// Decompresses one whole body: the oracle the piecewise [`inflate`] is tested against.
#[cfg(test)]
pub fn decompress(body: &[u8], c: Compression) -> Result<Vec<u8>, String> {
    use std::io::Read;
    match c {
        Compression::None => Ok(body.to_vec()),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|e| format!("Unable to decompress GZIP object: {e}"))?;
            Ok(out)
        }
        Compression::Zstd => {
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

/// The records of one whole (decompressed) object, read in one piece.
#[cfg(test)]
pub fn records(
    text: &[u8],
    format: Format,
    csv: &CsvOptions,
    key_types: &[(String, crate::domain::value::KeyType)],
) -> Vec<Record> {
    let mut out = Vec::new();
    let mut r = Reader::new(format, Compression::None, csv, key_types);
    let mut emit = |rec| out.push(rec);
    r.push(text, &mut emit).expect("plain text");
    r.finish(&mut emit).expect("plain text");
    out
}

/// DynamoDB JSON: one `{"Item": {...}}` per line, as DynamoDB's export writes it. Reads
/// the whole lines of `text` (all of it when `last`) and returns where it stopped.
fn json_scan(
    text: &[u8],
    last: bool,
    line: &mut dyn FnMut(usize) -> usize,
    emit: &mut dyn FnMut(Record),
) -> usize {
    let mut pos = 0;
    while pos < text.len() {
        let (end, next) = match text[pos..].iter().position(|c| *c == b'\n') {
            Some(n) => (pos + n, pos + n + 1),
            None if last => (text.len(), text.len()),
            None => break,
        };
        let raw = String::from_utf8_lossy(&text[pos..end]);
        let l = raw.trim();
        if !l.is_empty() {
            emit(json_record(l, line(pos)));
        }
        pos = next;
    }
    pos
}

fn json_record(line: &str, at: usize) -> Record {
    let bad = |message: String| Record::Bad { line: at, message };
    match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(mut o)) => match o.remove("Item") {
            Some(Json::Object(item)) if o.is_empty() => Record::Item(item),
            _ => bad("Unexpected token: the line must be one object {\"Item\": {...}}".to_string()),
        },
        Ok(_) => bad("Unexpected token: the line is not a JSON object".into()),
        Err(e) => bad(format!("Unable to parse JSON: {e}")),
    }
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
