//! Streaming multipart/form-data for POST uploads: the fields before the file are read (small,
//! bounded), the file itself streams on into the body store, so a multi-GB browser upload
//! never sits in memory. S3 ignores fields after the file, and so does this reader.

use aloft_core::AwsError;
use aloft_core::body::{Body, BoxError};
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::error::S3Error;

/// Most bytes of form fields accepted before the file starts.
const FIELDS_LIMIT: usize = 1024 * 1024;

fn malformed() -> AwsError {
    S3Error::MalformedPOSTRequest.err()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One form field before the file.
#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub value: Bytes,
}

/// The file part's own headers.
#[derive(Debug, Default)]
pub struct FilePart {
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

pub struct FormReader {
    body: Body,
    buf: BytesMut,
    /// `\r\n--boundary`: every part ends with it.
    delim: Vec<u8>,
    ended: bool,
}

impl FormReader {
    pub fn new(body: Body, boundary: &str) -> Self {
        let mut buf = BytesMut::new();
        // The first delimiter has no CRLF before it; pretend it had, so one pattern fits all.
        buf.extend_from_slice(b"\r\n");
        Self {
            body,
            buf,
            delim: format!("\r\n--{boundary}").into_bytes(),
            ended: false,
        }
    }

    /// Reads more of the body; false at its end.
    async fn fill(&mut self) -> Result<bool, BoxError> {
        while let Some(frame) = self.body.frame().await {
            if let Ok(d) = frame?.into_data() {
                self.buf.extend_from_slice(&d);
                return Ok(true);
            }
        }
        self.ended = true;
        Ok(false)
    }

    async fn fill_to(&mut self, n: usize) -> Result<(), AwsError> {
        while self.buf.len() < n {
            if self.buf.len() > FIELDS_LIMIT || !self.fill().await.map_err(|_| malformed())? {
                return Err(malformed());
            }
        }
        Ok(())
    }

    /// Reads the fields up to the file; `None` for the file if the form has none.
    pub async fn fields(&mut self) -> Result<(Vec<Field>, Option<FilePart>), AwsError> {
        let mut fields = Vec::new();
        loop {
            // At a delimiter: then `--` (the end) or CRLF and a part's headers.
            self.fill_to(self.delim.len() + 2).await?;
            if !self.buf.starts_with(&self.delim) {
                return Err(malformed());
            }
            self.buf.advance(self.delim.len());
            if self.buf.starts_with(b"--") {
                return Ok((fields, None));
            }
            if !self.buf.starts_with(b"\r\n") {
                return Err(malformed());
            }
            self.buf.advance(2);
            let head_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                    break i;
                }
                let n = self.buf.len() + 1;
                self.fill_to(n).await?;
            };
            let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| malformed())?;
            let (mut name, mut file) = (None, FilePart::default());
            for line in head.split("\r\n") {
                let (k, v) = line.split_once(':').ok_or_else(malformed)?;
                if k.trim().eq_ignore_ascii_case("content-disposition") {
                    for p in v.split(';').map(str::trim) {
                        if let Some(n) = p.strip_prefix("name=") {
                            name = Some(n.trim_matches('"').to_string());
                        } else if let Some(f) = p.strip_prefix("filename=") {
                            file.filename = Some(f.trim_matches('"').to_string());
                        }
                    }
                } else if k.trim().eq_ignore_ascii_case("content-type") {
                    file.content_type = Some(v.trim().to_string());
                }
            }
            self.buf.advance(head_end + 4);
            let name = name.ok_or_else(malformed)?;
            if name.eq_ignore_ascii_case("file") {
                return Ok((fields, Some(file)));
            }
            let end = loop {
                if let Some(i) = find(&self.buf, &self.delim) {
                    break i;
                }
                let n = self.buf.len() + 1;
                self.fill_to(n).await?;
            };
            let value = self.buf.split_to(end).freeze();
            fields.push(Field { name, value });
        }
    }

    /// The file's content, streamed up to its closing delimiter.
    pub fn file_body(self) -> Body {
        let stream = futures_util::stream::unfold(Some(self), |state| async move {
            let mut r = state?;
            loop {
                if let Some(i) = find(&r.buf, &r.delim) {
                    let chunk = r.buf.split_to(i).freeze();
                    return Some((Ok(chunk), None));
                }
                // Keep a tail that could be the start of the delimiter.
                let keep = r.delim.len() - 1;
                if r.buf.len() > keep + 64 * 1024 || (r.ended && r.buf.len() > keep) {
                    if r.ended {
                        return Some((
                            Err::<Bytes, BoxError>("form ended inside the file".into()),
                            None,
                        ));
                    }
                    let n = r.buf.len() - keep;
                    let chunk = r.buf.split_to(n).freeze();
                    return Some((Ok(chunk), Some(r)));
                }
                if r.ended {
                    return Some((Err("form ended inside the file".into()), None));
                }
                match r.fill().await {
                    Ok(_) => {}
                    Err(e) => return Some((Err(e), None)),
                }
            }
        });
        aloft_core::body::stream(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(data: &'static [u8], size: usize) -> Body {
        let chunks: Vec<Result<Bytes, BoxError>> = data
            .chunks(size)
            .map(|c| Ok(Bytes::from_static(c)))
            .collect();
        aloft_core::body::stream(futures_util::stream::iter(chunks))
    }

    async fn collect(b: Body) -> Result<Vec<u8>, BoxError> {
        Ok(b.collect().await?.to_bytes().to_vec())
    }

    const FORM: &[u8] = b"--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XY not yet\r\n--XX\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n--XX--\r\n";

    #[tokio::test]
    async fn streams_the_file_whatever_the_chunking() {
        for size in [1, 2, 3, 7, 64, 4096] {
            let mut r = FormReader::new(chunked(FORM, size), "XX");
            let (fields, file) = r.fields().await.unwrap();
            assert_eq!(fields.len(), 1);
            assert_eq!(&fields[0].value[..], b"uploads/${filename}");
            let file = file.unwrap();
            assert_eq!(file.filename.as_deref(), Some("a.txt"));
            assert_eq!(file.content_type.as_deref(), Some("text/plain"));
            let content = collect(r.file_body()).await.unwrap();
            assert_eq!(content, b"hello\r\n--XY not yet", "chunk size {size}");
        }
    }

    #[tokio::test]
    async fn malformed_forms_are_refused() {
        let mut r = FormReader::new(chunked(b"garbage", 3), "XX");
        assert_eq!(r.fields().await.unwrap_err().code, "MalformedPOSTRequest");
        let truncated: &'static [u8] =
            b"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end";
        let mut r = FormReader::new(chunked(truncated, 4), "XX");
        r.fields().await.unwrap();
        assert!(collect(r.file_body()).await.is_err());
        let mut r = FormReader::new(chunked(b"--XX--\r\n", 2), "XX");
        assert!(r.fields().await.unwrap().1.is_none());
    }
}
