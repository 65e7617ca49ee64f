//! One source object read piece by piece: compressed pieces in (S3 ranges of [`PIECE`]
//! bytes), records out as soon as they are whole. What is held at any time is one piece,
//! one decompressed chunk and the one record still incomplete, whatever the object's size.

use super::csv::Csv;
use super::inflate::Inflate;
use super::{Compression, CsvOptions, Format, Record, ion, json_scan};
use crate::domain::value::KeyType;

/// Bytes of the object asked of S3 at a time.
pub const PIECE: u64 = 1 << 20;

/// The longest record waited for. A DynamoDB item is at most 400 KB; a record this much
/// longer than that cannot be one, and waiting for its end would hold the object in memory.
pub const MAX_RECORD: usize = 4 << 20;

/// Decompressed text gathered before it is parsed: a record split across chunks is parsed
/// again when more arrives, so parsing tiny chunks one by one would waste work.
const BATCH: usize = 64 << 10;

/// The records of one object, fed its compressed bytes in order.
pub struct Reader {
    inflate: Inflate,
    text: Text,
    input_bytes: u64,
}

/// The decompressed side: text not yet read as records.
struct Text {
    format: Format,
    csv: Csv,
    key_types: Vec<(String, KeyType)>,
    /// From a record's start (or a line being skipped) to the last byte received.
    buf: Vec<u8>,
    /// Bytes of `buf` checked to be UTF-8.
    valid: usize,
    /// Offset in the object of `buf[0]`, and the newlines before it.
    offset: usize,
    lines: usize,
    /// Bytes are dropped up to the next newline (where reading resumes after a bad record).
    skip_line: bool,
    /// The rest of the object is not read (AWS skips the rest of a malformed object).
    done: bool,
    batch: usize,
    decompressed: u64,
}

impl Reader {
    pub fn new(
        format: Format,
        compression: Compression,
        csv: &CsvOptions,
        key_types: &[(String, KeyType)],
    ) -> Reader {
        Reader {
            inflate: Inflate::new(compression),
            text: Text {
                format,
                csv: Csv::new(csv),
                key_types: key_types.to_vec(),
                buf: Vec::new(),
                valid: 0,
                offset: 0,
                lines: 0,
                skip_line: false,
                done: false,
                batch: BATCH,
                decompressed: 0,
            },
            input_bytes: 0,
        }
    }

    /// The next compressed piece; the records it completes go to `emit`. An error (the
    /// object is not in its declared compression) ends the object.
    pub fn push(&mut self, piece: &[u8], emit: &mut dyn FnMut(Record)) -> Result<(), String> {
        self.input_bytes += piece.len() as u64;
        let Reader { inflate, text, .. } = self;
        inflate.push(piece, &mut |chunk| text.push(chunk, emit))
    }

    /// The end of the object: its last records.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Record)) -> Result<(), String> {
        let Reader { inflate, text, .. } = self;
        inflate.finish(&mut |chunk| text.push(chunk, emit))?;
        text.scan(true, emit);
        Ok(())
    }

    /// Bytes of the object as stored.
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes
    }

    /// Bytes of the object decompressed.
    pub fn decompressed_bytes(&self) -> u64 {
        self.text.decompressed
    }
}

fn newlines(b: &[u8]) -> usize {
    b.iter().filter(|c| **c == b'\n').count()
}

impl Text {
    fn push(&mut self, chunk: &[u8], emit: &mut dyn FnMut(Record)) {
        self.decompressed += chunk.len() as u64;
        if self.done {
            return;
        }
        self.buf.extend_from_slice(chunk);
        if self.buf.len() >= self.batch {
            self.scan(false, emit);
        }
    }

    /// Reads the whole records at hand (all of them at the end of the object).
    fn scan(&mut self, eof: bool, emit: &mut dyn FnMut(Record)) {
        if self.done {
            self.buf.clear();
            return;
        }
        // Invalid UTF-8 ends the object where it starts; a character split across chunks
        // waits for its other bytes.
        let mut bad_utf8 = None;
        match std::str::from_utf8(&self.buf[self.valid..]) {
            Ok(_) => self.valid = self.buf.len(),
            Err(e) => {
                self.valid += e.valid_up_to();
                if e.error_len().is_some() || eof {
                    bad_utf8 = Some(self.valid);
                }
            }
        }
        let last = eof && bad_utf8.is_none();
        let end = self.valid;
        let mut pos = 0;
        if self.skip_line {
            match self.buf[..end].iter().position(|c| *c == b'\n') {
                Some(n) => {
                    pos = n + 1;
                    self.skip_line = false;
                }
                None => pos = end,
            }
        }
        if !self.skip_line {
            let text = &self.buf[pos..end];
            let (mut counted, mut n) = (0, self.lines + newlines(&self.buf[..pos]));
            let mut line = |at: usize| {
                if at >= counted {
                    n += newlines(&text[counted..at]);
                } else {
                    n -= newlines(&text[at..counted]);
                }
                counted = at;
                n + 1
            };
            pos += match self.format {
                Format::Csv => {
                    let s = self.csv.scan(text, last, &self.key_types, &mut line, emit);
                    self.done = s.done;
                    s.consumed
                }
                Format::DynamoDbJson => json_scan(text, last, &mut line, emit),
                Format::Ion => ion::scan(
                    text,
                    self.offset + pos,
                    last,
                    &mut line,
                    &mut self.skip_line,
                    emit,
                ),
            };
        }
        if let Some(at) = bad_utf8
            && !self.done
        {
            emit(Record::Bad {
                line: self.lines + newlines(&self.buf[..at]) + 1,
                message: "The object is not valid UTF-8 text".to_string(),
            });
            self.done = true;
        }
        if self.done || eof {
            self.buf.clear();
            self.valid = 0;
            return;
        }
        self.lines += newlines(&self.buf[..pos]);
        self.offset += pos;
        self.buf.drain(..pos);
        self.valid -= pos;
        if self.buf.len() > MAX_RECORD {
            emit(Record::Bad {
                line: self.lines + 1,
                message: format!(
                    "The record is longer than {MAX_RECORD} bytes, more than an item can be"
                ),
            });
            // JSON lines frame records by line: reading resumes at the next one.
            if self.format == Format::DynamoDbJson {
                self.skip_line = true;
                self.lines += newlines(&self.buf);
                self.offset += self.buf.len();
                self.buf.clear();
                self.valid = 0;
            } else {
                self.done = true;
                self.buf.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Compression, records};
    use serde_json::json;

    /// The records of `text` compressed as `c`, fed in pieces of `n` bytes and parsed at
    /// every chunk.
    fn in_pieces(
        body: &[u8],
        format: Format,
        c: Compression,
        opts: &CsvOptions,
        n: usize,
    ) -> Vec<Record> {
        let keys = vec![("id".to_string(), KeyType::N)];
        let mut r = Reader::new(format, c, opts, &keys);
        r.text.batch = 1;
        let mut out = Vec::new();
        let mut emit = |rec| out.push(rec);
        for piece in body.chunks(n) {
            r.push(piece, &mut emit).unwrap();
        }
        r.finish(&mut emit).unwrap();
        out
    }

    fn whole(text: &[u8], format: Format, opts: &CsvOptions) -> Vec<Record> {
        let keys = vec![("id".to_string(), KeyType::N)];
        records(text, format, opts, &keys)
    }

    /// Every split of `text` gives what the whole text gives.
    fn same(text: &str, format: Format, opts: &CsvOptions) -> Vec<Record> {
        let w = whole(text.as_bytes(), format, opts);
        for n in [1, 2, 3, 7, 13] {
            assert_eq!(
                in_pieces(text.as_bytes(), format, Compression::None, opts, n),
                w,
                "{format:?} in pieces of {n}: {text:?}"
            );
        }
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(in_pieces(&gz, format, Compression::Gzip, opts, 7), w);
        w
    }

    fn item(j: serde_json::Value) -> Record {
        Record::Item(j.as_object().unwrap().clone())
    }

    #[test]
    fn csv_split_anywhere_reads_as_whole() {
        let opts = CsvOptions::default();
        let text = "\u{feff}id,v,w\r\n1,\"multi\nline, \"\"quoted\"\"\",é😀\n\n2,x\"y,z\r\n3,\"ok\"z,w\n4,a,b\r\n5,\"open\n6,x,y\n";
        let r = same(text, Format::Csv, &opts);
        assert_eq!(
            r[0],
            item(
                json!({"id": {"N": "1"}, "v": {"S": "multi\nline, \"quoted\""}, "w": {"S": "é😀"}})
            )
        );
        assert!(matches!(&r[1], Record::Bad { line: 5, .. }));
        assert!(matches!(&r[2], Record::Bad { line: 6, .. }));
        assert!(matches!(&r[4], Record::Bad { line: 8, .. }), "{:?}", r[4]);
        assert_eq!(r.len(), 5);
        same("id,v\n1,a", Format::Csv, &opts);
        same("id,v\r\n1,a\r", Format::Csv, &opts);
        same("\u{feff}", Format::Csv, &opts);
        same("", Format::Csv, &opts);
        same("\"id\",\"\"\n", Format::Csv, &opts);
        let tabs = CsvOptions {
            delimiter: b'\t',
            header: Some(vec!["id".into(), "v".into()]),
        };
        assert_eq!(same("1\t\"a\tb\"\n2\tc", Format::Csv, &tabs).len(), 2);
    }

    #[test]
    fn dynamodb_json_split_anywhere_reads_as_whole() {
        let text = "{\"Item\":{\"id\":{\"N\":\"1\"},\"s\":{\"S\":\"é😀\"}}}\r\n\n  \nnot json\n{\"Item\":{\"id\":{\"N\":\"2\"}}}";
        let r = same(text, Format::DynamoDbJson, &CsvOptions::default());
        assert_eq!(r.len(), 3);
        assert!(matches!(&r[1], Record::Bad { line: 4, .. }));
        same(
            "\u{3000}{\"Item\":{}}\u{3000}\n",
            Format::DynamoDbJson,
            &CsvOptions::default(),
        );
    }

    #[test]
    fn ion_split_anywhere_reads_as_whole() {
        let text = "$ion_1_0 {Item:{id:1.,s:\"é😀\\u00e9\",t:'''a\nb''' '''c''',b:{{AQI=}},\
                    ss:$dynamodb_SS::[\"x\"]}}\n// c\n/* block\ncomment */ {Item:{id:2e0}}\n\
                    {Item:{id:(1)}} {Item:{id:3}}\n{Item:{id:4, x: [1 2]}}\n$ion_1_0\n{Item:{id:5}}";
        let r = same(text, Format::Ion, &CsvOptions::default());
        assert_eq!(r.len(), 5, "{r:?}");
        assert!(matches!(&r[2], Record::Bad { line: 6, .. }), "{:?}", r[2]);
        // An s-expression: the rest of its line is skipped.
        assert!(matches!(&r[3], Record::Bad { line: 7, .. }));
        if let Record::Bad { message, .. } = &r[3] {
            // Offsets are the object's, wherever the piece began.
            let at = text.find("2]").unwrap();
            assert_eq!(message, &format!("Expected ',' or ']' at offset {at}"));
        }
        same(
            "{Item:{id:1}} // trailing",
            Format::Ion,
            &CsvOptions::default(),
        );
        same("{Item:{id:1}} /* open", Format::Ion, &CsvOptions::default());
        same("{Item:{id:\"open", Format::Ion, &CsvOptions::default());
    }

    #[test]
    fn invalid_utf8_ends_the_object_at_its_line() {
        let mut text = b"id,v\n1,a\n2,b".to_vec();
        text.extend_from_slice(&[0xff, b'\n', b'3', b',', b'c', b'\n']);
        for n in [1, 5, 100] {
            let r = in_pieces(
                &text,
                Format::Csv,
                Compression::None,
                &CsvOptions::default(),
                n,
            );
            assert_eq!(r.len(), 2, "{r:?}");
            assert!(matches!(&r[1], Record::Bad { line: 3, .. }));
        }
        // A character cut short by the end of the object.
        let r = in_pieces(
            "id\n1\né".as_bytes().split_last().unwrap().1,
            Format::Csv,
            Compression::None,
            &CsvOptions::default(),
            2,
        );
        assert!(matches!(&r[1], Record::Bad { line: 3, .. }), "{r:?}");
    }

    #[test]
    fn an_endless_record_is_one_error_not_the_whole_object_in_memory() {
        let long = "x".repeat(MAX_RECORD + 10);
        let text = format!(
            "{{\"Item\":{{\"id\":{{\"N\":\"1\"}}}}}}\n{long}\n{{\"Item\":{{\"id\":{{\"N\":\"2\"}}}}}}\n"
        );
        let mut r = Reader::new(
            Format::DynamoDbJson,
            Compression::None,
            &CsvOptions::default(),
            &[],
        );
        let mut out = Vec::new();
        let mut emit = |rec| out.push(rec);
        for piece in text.as_bytes().chunks(100_000) {
            r.push(piece, &mut emit).unwrap();
            assert!(r.text.buf.len() <= MAX_RECORD + 100_000);
        }
        r.finish(&mut emit).unwrap();
        assert_eq!(out.len(), 3);
        assert!(matches!(&out[1], Record::Bad { line: 2, .. }));
        assert!(matches!(&out[2], Record::Item(_)));
        let csv = format!("id\n\"{long}");
        let r = in_pieces(
            csv.as_bytes(),
            Format::Csv,
            Compression::None,
            &CsvOptions::default(),
            1 << 20,
        );
        assert!(
            matches!(&r[..], [Record::Bad { line: 2, .. }]),
            "{}",
            r.len()
        );
    }

    /// Pieces of random sizes (a fixed seed), in every format, against the whole text.
    #[test]
    fn random_splits_read_as_whole() {
        let corpora: &[(Format, &str)] = &[
            (
                Format::Csv,
                "id,v\r\n1,\"a\r\nb\"\"c\"\n2,é😀\n3,\"x\"y\n\n4,\"\"\r\n5,a,b\n6,\"end",
            ),
            (
                Format::DynamoDbJson,
                "{\"Item\":{\"id\":{\"N\":\"1\"}}}\n\r\n{\"Item\":1}\n{\"Item\":{\"s\":{\"S\":\"😀\"}}}\r\nx",
            ),
            (
                Format::Ion,
                "$ion_1_0\n{Item:{id:1,s:\"😀\",l:[1,2.5e0,{{AQ==}}]}}\n{Item:{id:(x)}}\n\
                 {Item:{id:2}} // c\n/* c */{Item:{id:0x1F,n:null.string}}\n{Item:{",
            ),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n).unwrap_or(0) + 1
        };
        let opts = CsvOptions::default();
        for (format, text) in corpora {
            let w = whole(text.as_bytes(), *format, &opts);
            for _ in 0..200 {
                let keys = vec![("id".to_string(), KeyType::N)];
                let mut r = Reader::new(*format, Compression::None, &opts, &keys);
                r.text.batch = next(8);
                let mut out = Vec::new();
                let mut emit = |rec| out.push(rec);
                let mut rest = text.as_bytes();
                while !rest.is_empty() {
                    let n = next(12).min(rest.len());
                    r.push(&rest[..n], &mut emit).unwrap();
                    rest = &rest[n..];
                }
                r.finish(&mut emit).unwrap();
                assert_eq!(out, w, "{format:?}");
                assert_eq!(r.decompressed_bytes(), text.len() as u64);
            }
        }
    }
}
