//! CSV sources: RFC 4180 records (quoted fields, `""` escapes, delimiters and newlines inside
//! quotes) with the header from `HeaderList` or the first line. Key attributes of the table
//! and its indexes take their declared types; every other column is a string, and an empty
//! cell is no attribute.

use serde_json::{Map, json};

use super::{CsvOptions, Record};
use crate::domain::value::KeyType;

/// One CSV record: its first line and its fields, or why it could not be read.
struct Row {
    line: usize,
    fields: Result<Vec<String>, String>,
}

/// Splits `text` into records. After an unterminated quote the framing is lost, so the rest
/// of the object is one bad record (AWS skips the rest of a malformed object).
fn rows(text: &str, delim: u8) -> Vec<Row> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = Vec::new();
        let mut error: Option<String> = None;
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            if i >= b.len() {
                if quoted {
                    out.push(Row {
                        line: start_line,
                        fields: Err("Unterminated quoted field at end of object".to_string()),
                    });
                    return out;
                }
                break;
            }
            let c = b[i];
            if quoted {
                if c == b'"' {
                    if b.get(i + 1) == Some(&b'"') {
                        field.push(b'"');
                        i += 2;
                    } else {
                        quoted = false;
                        i += 1;
                    }
                } else {
                    if c == b'\n' {
                        line += 1;
                    }
                    field.push(c);
                    i += 1;
                }
                continue;
            }
            if c == b'\n' || (c == b'\r' && b.get(i + 1) == Some(&b'\n')) {
                i += if c == b'\r' { 2 } else { 1 };
                line += 1;
                break;
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
        // A blank line is no record.
        if fields.len() == 1 && fields[0].is_empty() && !was_quoted && error.is_none() {
            continue;
        }
        let fields = match error {
            Some(e) => Err(e),
            None => Ok(fields
                .into_iter()
                .map(|f| String::from_utf8_lossy(&f).into_owned())
                .collect()),
        };
        out.push(Row {
            line: start_line,
            fields,
        });
    }
    out
}

/// The items of one CSV object.
pub fn records(text: &str, opts: &CsvOptions, key_types: &[(String, KeyType)]) -> Vec<Record> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = rows(text, opts.delimiter).into_iter();
    let header: Vec<String> = match &opts.header {
        Some(h) => h.clone(),
        None => match rows.next() {
            None => return Vec::new(),
            Some(Row {
                fields: Ok(h),
                line,
            }) => {
                if h.iter().any(String::is_empty) {
                    return vec![Record::Bad {
                        line,
                        message: "The header has an empty column name".to_string(),
                    }];
                }
                h
            }
            Some(Row {
                fields: Err(e),
                line,
            }) => return vec![Record::Bad { line, message: e }],
        },
    };
    rows.map(|row| match row.fields {
        Err(message) => Record::Bad {
            line: row.line,
            message,
        },
        Ok(fields) if fields.len() != header.len() => Record::Bad {
            line: row.line,
            message: format!(
                "The record has {} columns but the header has {}",
                fields.len(),
                header.len()
            ),
        },
        Ok(fields) => {
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
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn items(text: &str, opts: &CsvOptions, keys: &[(String, KeyType)]) -> Vec<Record> {
        records(text, opts, keys)
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
