//! CSV sources: RFC 4180 records (quoted fields, `""` escapes, delimiters and newlines inside
//! quotes) with the header from `HeaderList` or the first line. Key attributes of the table
//! and its indexes take their declared types; every other column is a string, and an empty
//! cell is no attribute.

use serde_json::{Map, json};

use super::{CsvOptions, Record};
use crate::domain::value::KeyType;

/// What comes next in the text at hand, from a record's start.
enum Step {
    /// A record (its fields, or why it cannot be read) and the offset just after it.
    Row(Result<Vec<String>, String>, usize),
    /// A blank line: no record.
    Blank(usize),
    /// The record runs past the text at hand.
    More,
    /// A quote still open at the end of the object.
    Unterminated,
}

/// The record starting at `start`. `last`: the text at hand ends the object; otherwise a
/// record that reaches its end (or needs one byte past it, for `""` and `\r\n`) waits for
/// more.
fn next_row(b: &[u8], start: usize, delim: u8, last: bool) -> Step {
    let mut i = start;
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut error: Option<String> = None;
    let mut quoted = false;
    let mut was_quoted = false;
    loop {
        if i >= b.len() {
            if !last {
                return Step::More;
            }
            if quoted {
                return Step::Unterminated;
            }
            break;
        }
        let c = b[i];
        if quoted {
            if c == b'"' {
                match b.get(i + 1) {
                    Some(b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    None if !last => return Step::More,
                    _ => {
                        quoted = false;
                        i += 1;
                    }
                }
            } else {
                field.push(c);
                i += 1;
            }
            continue;
        }
        if c == b'\n' {
            i += 1;
            break;
        }
        if c == b'\r' {
            match b.get(i + 1) {
                Some(b'\n') => {
                    i += 2;
                    break;
                }
                None if !last => return Step::More,
                _ => {}
            }
        }
        if c == delim {
            fields.push(std::mem::take(&mut field));
            was_quoted = false;
            i += 1;
            continue;
        }
        if c == b'"' {
            if field.is_empty() && !was_quoted {
                quoted = true;
                was_quoted = true;
            } else if error.is_none() {
                error = Some(format!(
                    "Unescaped double quote in field {} (escape it as \"\")",
                    fields.len() + 1
                ));
            }
            i += 1;
            continue;
        }
        if was_quoted && error.is_none() {
            error = Some(format!(
                "Unexpected character after the closing quote of field {}",
                fields.len() + 1
            ));
        }
        field.push(c);
        i += 1;
    }
    fields.push(field);
    if fields.len() == 1 && fields[0].is_empty() && !was_quoted && error.is_none() {
        return Step::Blank(i);
    }
    let fields = match error {
        Some(e) => Err(e),
        None => Ok(fields
            .into_iter()
            .map(|f| String::from_utf8_lossy(&f).into_owned())
            .collect()),
    };
    Step::Row(fields, i)
}

/// A CSV object being read: its header once known.
pub(super) struct Csv {
    delimiter: u8,
    header: Option<Vec<String>>,
    /// Whether the object's start (a byte order mark) has been passed.
    started: bool,
}

/// How far a scan got.
pub(super) struct Scanned {
    /// Offset of the first byte not yet read (a record's start).
    pub consumed: usize,
    /// Nothing more of the object is to be read (AWS skips the rest of a malformed object).
    pub done: bool,
}

const BOM: &[u8] = "\u{feff}".as_bytes();

impl Csv {
    pub(super) fn new(opts: &CsvOptions) -> Csv {
        Csv {
            delimiter: opts.delimiter,
            header: opts.header.clone(),
            started: false,
        }
    }

    /// Reads the records of `text` (starting at a record's start). After an unterminated
    /// quote the framing is lost, so the rest of the object is one bad record. `line` gives
    /// the line of an offset of `text` (offsets asked in increasing order).
    pub(super) fn scan(
        &mut self,
        text: &[u8],
        last: bool,
        key_types: &[(String, KeyType)],
        line: &mut dyn FnMut(usize) -> usize,
        emit: &mut dyn FnMut(Record),
    ) -> Scanned {
        let mut pos = 0;
        if !self.started {
            if text.len() < BOM.len() && !last && BOM.starts_with(text) {
                return Scanned {
                    consumed: 0,
                    done: false,
                };
            }
            if text.starts_with(BOM) {
                pos = BOM.len();
            }
            self.started = true;
        }
        let bad = |line, message| Record::Bad { line, message };
        while pos < text.len() {
            let (fields, end) = match next_row(text, pos, self.delimiter, last) {
                Step::More => break,
                Step::Blank(end) => {
                    pos = end;
                    continue;
                }
                Step::Unterminated => {
                    let message = "Unterminated quoted field at end of object".to_string();
                    emit(bad(line(pos), message));
                    return Scanned {
                        consumed: text.len(),
                        done: true,
                    };
                }
                Step::Row(fields, end) => (fields, end),
            };
            let at = line(pos);
            pos = end;
            let Some(header) = &self.header else {
                // The first record is the header.
                let problem = match fields {
                    Ok(h) if h.iter().any(String::is_empty) => {
                        Some("The header has an empty column name".to_string())
                    }
                    Ok(h) => {
                        self.header = Some(h);
                        None
                    }
                    Err(e) => Some(e),
                };
                if let Some(message) = problem {
                    emit(bad(at, message));
                    return Scanned {
                        consumed: text.len(),
                        done: true,
                    };
                }
                continue;
            };
            emit(match fields {
                Err(message) => bad(at, message),
                Ok(fields) => item(header, fields, at, key_types),
            });
        }
        Scanned {
            consumed: pos,
            done: false,
        }
    }
}

/// One record under the header: key attributes typed, the rest strings, empty cells absent.
fn item(
    header: &[String],
    fields: Vec<String>,
    line: usize,
    key_types: &[(String, KeyType)],
) -> Record {
    if fields.len() != header.len() {
        return Record::Bad {
            line,
            message: format!(
                "The record has {} columns but the header has {}",
                fields.len(),
                header.len()
            ),
        };
    }
    let mut item = Map::new();
    for (name, value) in header.iter().zip(fields) {
        let typed = key_types.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
        if value.is_empty() && typed.is_none() {
            continue;
        }
        let tag = typed.map_or("S", KeyType::tag);
        item.insert(name.clone(), json!({ tag: value }));
    }
    Record::Item(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn items(text: &str, opts: &CsvOptions, keys: &[(String, KeyType)]) -> Vec<Record> {
        crate::import::records(text.as_bytes(), crate::import::Format::Csv, opts, keys)
    }

    fn item(j: Json) -> Record {
        Record::Item(j.as_object().unwrap().clone())
    }

    #[test]
    fn header_line_keys_typed_others_strings() {
        let keys = vec![
            ("id".to_string(), KeyType::N),
            ("sk".to_string(), KeyType::S),
        ];
        let r = items(
            "id,sk,price,note\n1,a,9.5,\n2,b,10,hi\n",
            &CsvOptions::default(),
            &keys,
        );
        assert_eq!(
            r,
            vec![
                item(json!({"id": {"N": "1"}, "sk": {"S": "a"}, "price": {"S": "9.5"}})),
                item(
                    json!({"id": {"N": "2"}, "sk": {"S": "b"}, "price": {"S": "10"}, "note": {"S": "hi"}})
                ),
            ]
        );
    }

    #[test]
    fn quoting_escapes_delimiters_and_newlines_inside_quotes() {
        let r = items(
            "id,v\r\n\"a\",\"x,\"\"y\"\"\nz\"\r\nb,\"\"\"123\"\"\"\n",
            &CsvOptions::default(),
            &[],
        );
        assert_eq!(
            r,
            vec![
                item(json!({"id": {"S": "a"}, "v": {"S": "x,\"y\"\nz"}})),
                item(json!({"id": {"S": "b"}, "v": {"S": "\"123\""}})),
            ]
        );
    }

    #[test]
    fn header_list_makes_the_first_line_data_and_delimiter_applies() {
        let opts = CsvOptions {
            delimiter: b'\t',
            header: Some(vec!["pk".into(), "v".into()]),
        };
        let r = items("a\t1\nb\t2\n", &opts, &[]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], item(json!({"pk": {"S": "a"}, "v": {"S": "1"}})));
    }

    #[test]
    fn bad_rows_are_counted_with_their_line() {
        let r = items(
            "pk,v\na,1,extra\nb,x\"y\nc,\"ok\"z\n\nd,2\n",
            &CsvOptions::default(),
            &[],
        );
        assert!(matches!(&r[0], Record::Bad { line: 2, .. }));
        assert!(matches!(&r[1], Record::Bad { line: 3, .. }));
        assert!(matches!(&r[2], Record::Bad { line: 4, .. }));
        assert_eq!(r[3], item(json!({"pk": {"S": "d"}, "v": {"S": "2"}})));
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn unterminated_quote_ends_the_object() {
        let r = items("pk,v\na,1\nb,\"open\nc,3\n", &CsvOptions::default(), &[]);
        assert_eq!(r.len(), 2);
        assert!(matches!(&r[1], Record::Bad { line: 3, .. }));
    }

    #[test]
    fn empty_key_cell_stays_so_the_item_check_rejects_it() {
        let keys = vec![("pk".to_string(), KeyType::S)];
        let r = items("pk,v\n,1\n", &CsvOptions::default(), &keys);
        assert_eq!(r[0], item(json!({"pk": {"S": ""}, "v": {"S": "1"}})));
    }
}
