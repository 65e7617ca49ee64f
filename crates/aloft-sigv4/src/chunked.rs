//! Incremental decoding of `Content-Encoding: aws-chunked` request bodies: signed chunks chained
//! from the seed signature (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), unsigned chunks with
//! trailing checksums (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what current SDKs send for S3 uploads
//! over HTTPS), and the trailer section. Memory is bounded: payload bytes are never buffered, only
//! a chunk header or trailer line in progress.
//!
//! Wire format: `hex-size[;chunk-signature=SIG]\r\n<data>\r\n` per chunk, then a zero-size chunk,
//! then `name:value\r\n` trailer lines (`x-amz-trailer-signature:SIG` last when signed), then
//! `\r\n`.

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::checksums::{ChecksumAlgorithm, to_hex};
use crate::sign::{EMPTY_SHA256, StreamingContext};

/// Longest chunk header or trailer line accepted (a signed header is about 90 bytes).
const MAX_LINE: usize = 4096;
/// Most trailer bytes accepted in total.
const MAX_TRAILERS: usize = 16 * 1024;
/// S3 rejects a chunk smaller than this unless it is the last one carrying data.
pub const MIN_CHUNK_SIZE: u64 = 8192;

/// Which aws-chunked variant a body uses; see [`ChunkedMode::from_content_sha256`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: every chunk signed, no trailers.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, signed trailers.
    SignedWithTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, or any other aws-chunked body: chunk extensions are
    /// ignored, trailers are optional.
    Unsigned,
}

impl ChunkedMode {
    /// The mode named by an `x-amz-content-sha256` value; `None` if it is not a streaming one.
    /// (A body with `Content-Encoding: aws-chunked` and another value is [`Self::Unsigned`]: the
    /// Java SDK sends aws-chunked framing with `UNSIGNED-PAYLOAD`.)
    pub fn from_content_sha256(value: &str) -> Option<Self> {
        match value {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Some(Self::Signed),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Some(Self::SignedWithTrailer),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Some(Self::Unsigned),
            _ => None,
        }
    }

    /// How a request body is framed, from its `x-amz-content-sha256` and `Content-Encoding`:
    /// a `STREAMING-*` marker decides; otherwise `aws-chunked` in `Content-Encoding` means
    /// [`Self::Unsigned`]. `None`: a plain body.
    pub fn detect(content_sha256: Option<&str>, content_encoding: Option<&str>) -> Option<Self> {
        if let Some(mode) = content_sha256.and_then(Self::from_content_sha256) {
            return Some(mode);
        }
        content_encoding
            .is_some_and(|e| {
                e.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("aws-chunked"))
            })
            .then_some(Self::Unsigned)
    }

    fn signed(self) -> bool {
        self != Self::Unsigned
    }
}

/// Why an aws-chunked body was refused, with what S3 answers for each case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedError {
    /// Bad framing or a body that ended early. S3: 400 `IncompleteBody` "The request body
    /// terminated unexpectedly".
    Incomplete,
    /// The decoded bytes differ from `x-amz-decoded-content-length`. S3: 400 `IncompleteBody`
    /// "You did not provide the number of bytes specified by the Content-Length HTTP header", with
    /// `NumberBytesExpected` and `NumberBytesProvided`.
    LengthMismatch { expected: u64, provided: u64 },
    /// A chunk under 8 KiB was followed by another data chunk. S3: 400 `InvalidChunkSizeError`
    /// "Only the last chunk is allowed to have a size less than 8192 bytes", with `Chunk` (the
    /// 1-based number of the chunk that revealed it) and `BadChunkSize`.
    ChunkTooSmall { chunk: u64, size: u64 },
    /// A chunk or trailer signature is wrong. S3: 403 `SignatureDoesNotMatch`.
    SignatureMismatch,
    /// A trailer line is malformed, or a signed trailer lacks its signature. S3: 400
    /// `MalformedTrailerError` "The request contained trailing data that was not well-formed or
    /// did not conform to our published schema."
    MalformedTrailer,
}

impl ChunkedError {
    /// S3's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Incomplete | Self::LengthMismatch { .. } => "IncompleteBody",
            Self::ChunkTooSmall { .. } => "InvalidChunkSizeError",
            Self::SignatureMismatch => "SignatureDoesNotMatch",
            Self::MalformedTrailer => "MalformedTrailerError",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::SignatureMismatch => 403,
            _ => 400,
        }
    }

    /// S3's message.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Incomplete => "The request body terminated unexpectedly",
            Self::LengthMismatch { .. } => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header"
            }
            Self::ChunkTooSmall { .. } => {
                "Only the last chunk is allowed to have a size less than 8192 bytes"
            }
            Self::SignatureMismatch => crate::error::S3_SIGNATURE_MISMATCH,
            Self::MalformedTrailer => {
                "The request contained trailing data that was not well-formed or did not conform to our published schema."
            }
        }
    }

    /// Extra elements S3 adds to the `<Error>` document.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::LengthMismatch { expected, provided } => vec![
                ("NumberBytesExpected", expected.to_string()),
                ("NumberBytesProvided", provided.to_string()),
            ],
            Self::ChunkTooSmall { chunk, size } => vec![
                ("Chunk", chunk.to_string()),
                ("BadChunkSize", size.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ChunkedError {}

/// The trailer section of a finished body (`x-amz-trailer-signature` excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailers {
    /// `(lower-case name, trimmed value)` in the order sent.
    pub entries: Vec<(String, String)>,
}

impl Trailers {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first `x-amz-checksum-*` trailer: its algorithm and base64 value (parse it with
    /// [`crate::checksums::Checksum::from_base64`]).
    pub fn checksum(&self) -> Option<(ChecksumAlgorithm, &str)> {
        self.entries
            .iter()
            .find_map(|(n, v)| ChecksumAlgorithm::from_header_name(n).map(|a| (a, v.as_str())))
    }
}

/// One step of [`ChunkedDecoder::decode`]: how much input was consumed and which part of it (a
/// range into the input) is payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub consumed: usize,
    pub payload: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data { remaining: u64 },
    DataCr,
    DataLf,
    Trailer,
    Done,
}

/// An incremental aws-chunked decoder. Feed body bytes as they arrive with [`Self::decode`] (or
/// [`Self::push`]), then call [`Self::finish`]. Payload bytes are handed out before the chunk's
/// signature can be checked (it covers the whole chunk), so a caller must discard what it
/// received if any call fails. After an error every call returns that error.
pub struct ChunkedDecoder {
    mode: ChunkedMode,
    expected_len: Option<u64>,
    verify: Option<StreamingContext>,
    state: State,
    failed: Option<ChunkedError>,
    line: Vec<u8>,
    chunks: u64,
    prev_size: Option<u64>,
    decoded: u64,
    hasher: Option<Sha256>,
    expected_sig: String,
    prev_sig: String,
    trailers: Trailers,
    canonical_trailers: String,
    trailer_bytes: usize,
    trailer_sig: Option<String>,
}

impl ChunkedDecoder {
    /// `decoded_len` is `x-amz-decoded-content-length` when sent. `verify` (signed modes only)
    /// checks every chunk and trailer signature; without it signatures are parsed but not
    /// checked.
    pub fn new(
        mode: ChunkedMode,
        decoded_len: Option<u64>,
        verify: Option<StreamingContext>,
    ) -> Self {
        let verify = verify.filter(|_| mode.signed());
        let prev_sig = verify
            .as_ref()
            .map(|v| v.seed_signature.clone())
            .unwrap_or_default();
        Self {
            mode,
            expected_len: decoded_len,
            verify,
            state: State::Header,
            failed: None,
            line: Vec::new(),
            chunks: 0,
            prev_size: None,
            decoded: 0,
            hasher: None,
            expected_sig: String::new(),
            prev_sig,
            trailers: Trailers::default(),
            canonical_trailers: String::new(),
            trailer_bytes: 0,
            trailer_sig: None,
        }
    }

    /// Payload bytes decoded so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// True once the final chunk and trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes a prefix of `input` and returns it with the payload range it contained (at most
    /// one; empty if none). Call again with the rest until all input is consumed.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, ChunkedError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.decode_inner(input);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Decodes all of `input`, calling `sink` with each payload slice.
    pub fn push(
        &mut self,
        mut input: &[u8],
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(), ChunkedError> {
        while !input.is_empty() {
            let step = self.decode(input)?;
            if !step.payload.is_empty() {
                sink(&input[step.payload]);
            }
            input = &input[step.consumed..];
        }
        Ok(())
    }

    /// Ends the body: errors if it stopped early or its length differs from the declared one.
    pub fn finish(self) -> Result<Trailers, ChunkedError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.state != State::Done {
            return Err(ChunkedError::Incomplete);
        }
        if let Some(expected) = self.expected_len
            && expected != self.decoded
        {
            return Err(ChunkedError::LengthMismatch {
                expected,
                provided: self.decoded,
            });
        }
        Ok(self.trailers)
    }

    fn decode_inner(&mut self, input: &[u8]) -> Result<Step, ChunkedError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Data { remaining } => {
                    let avail = (input.len() - i) as u64;
                    let n = usize::try_from(remaining.min(avail)).unwrap_or(usize::MAX);
                    let payload = i..i + n;
                    if let Some(h) = &mut self.hasher {
                        h.update(&input[payload.clone()]);
                    }
                    self.decoded += n as u64;
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining: left }
                    };
                    return Ok(Step {
                        consumed: i + n,
                        payload,
                    });
                }
                State::DataCr => {
                    if input[i] != b'\r' {
                        return Err(ChunkedError::Incomplete);
                    }
                    self.state = State::DataLf;
                    i += 1;
                }
                State::DataLf => {
                    if input[i] != b'\n' {
                        return Err(ChunkedError::Incomplete);
                    }
                    i += 1;
                    if let Some(h) = self.hasher.take() {
                        let hash = to_hex(&h.finalize());
                        self.check_chunk_signature(&hash)?;
                    }
                    self.state = State::Header;
                }
                State::Header | State::Trailer => {
                    let rest = &input[i..];
                    let (take, complete) = match rest.iter().position(|&b| b == b'\n') {
                        Some(p) => (p + 1, true),
                        None => (rest.len(), false),
                    };
                    if self.line.len() + take > MAX_LINE {
                        return Err(if self.state == State::Trailer {
                            ChunkedError::MalformedTrailer
                        } else {
                            ChunkedError::Incomplete
                        });
                    }
                    self.line.extend_from_slice(&rest[..take]);
                    i += take;
                    if complete {
                        let mut line = std::mem::take(&mut self.line);
                        if line.len() < 2 || line[line.len() - 2] != b'\r' {
                            return Err(ChunkedError::Incomplete);
                        }
                        line.truncate(line.len() - 2);
                        if self.state == State::Header {
                            self.chunk_header(&line)?;
                        } else {
                            self.trailer_line(&line)?;
                        }
                        line.clear();
                        self.line = line;
                    }
                }
                State::Done => return Err(ChunkedError::Incomplete),
            }
        }
        Ok(Step {
            consumed: input.len(),
            payload: 0..0,
        })
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        let (size, ext) = match line.iter().position(|&b| b == b';') {
            Some(p) => (&line[..p], Some(&line[p + 1..])),
            None => (line, None),
        };
        let size = parse_hex_size(size).ok_or(ChunkedError::Incomplete)?;
        if self.mode.signed() {
            let sig = ext
                .and_then(|e| e.strip_prefix(b"chunk-signature="))
                .filter(|s| s.len() == 64 && s.iter().all(u8::is_ascii_hexdigit))
                .ok_or(ChunkedError::Incomplete)?;
            self.expected_sig.clear();
            self.expected_sig
                .push_str(std::str::from_utf8(sig).map_err(|_| ChunkedError::Incomplete)?);
        }
        self.chunks += 1;
        if size > 0
            && let Some(prev) = self.prev_size
            && prev < MIN_CHUNK_SIZE
        {
            return Err(ChunkedError::ChunkTooSmall {
                chunk: self.chunks,
                size: prev,
            });
        }
        self.prev_size = Some(size);
        if size == 0 {
            if self.verify.is_some() {
                self.check_chunk_signature(EMPTY_SHA256)?;
            }
            self.state = State::Trailer;
        } else {
            if self.verify.is_some() {
                self.hasher = Some(Sha256::new());
            }
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    fn check_chunk_signature(&mut self, data_hash: &str) -> Result<(), ChunkedError> {
        let Some(ctx) = &self.verify else {
            return Ok(());
        };
        let sig = ctx.chunk_signature(&self.prev_sig, data_hash);
        if sig != self.expected_sig {
            return Err(ChunkedError::SignatureMismatch);
        }
        self.prev_sig = sig;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        if line.is_empty() {
            return self.end_of_trailers();
        }
        if self.mode == ChunkedMode::Signed {
            // No trailers were announced: the final chunk must be followed by an empty line.
            return Err(ChunkedError::Incomplete);
        }
        if self.trailer_sig.is_some() {
            // The signature closes the section.
            return Err(ChunkedError::MalformedTrailer);
        }
        self.trailer_bytes += line.len();
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(ChunkedError::MalformedTrailer);
        }
        let text = std::str::from_utf8(line).map_err(|_| ChunkedError::MalformedTrailer)?;
        let (name, value) = text.split_once(':').ok_or(ChunkedError::MalformedTrailer)?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name.is_empty() || name.bytes().any(|b| !is_token_byte(b)) {
            return Err(ChunkedError::MalformedTrailer);
        }
        if name == "x-amz-trailer-signature" {
            self.trailer_sig = Some(value.to_string());
        } else {
            self.canonical_trailers.push_str(&name);
            self.canonical_trailers.push(':');
            self.canonical_trailers.push_str(value);
            self.canonical_trailers.push('\n');
            self.trailers.entries.push((name, value.to_string()));
        }
        Ok(())
    }

    fn end_of_trailers(&mut self) -> Result<(), ChunkedError> {
        if self.mode == ChunkedMode::SignedWithTrailer {
            let sig = self
                .trailer_sig
                .as_deref()
                .ok_or(ChunkedError::MalformedTrailer)?;
            if let Some(ctx) = &self.verify
                && ctx.trailer_signature(&self.prev_sig, &self.canonical_trailers) != sig
            {
                return Err(ChunkedError::SignatureMismatch);
            }
        }
        self.state = State::Done;
        Ok(())
    }
}

fn parse_hex_size(s: &[u8]) -> Option<u64> {
    // Sixteen hex digits already exceed any object S3 accepts; more is an attack.
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        let d = char::from(b).to_digit(16)?;
        Some((acc << 4) | u64::from(d))
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Content-Encoding` S3 stores for an aws-chunked upload: the header without the
/// `aws-chunked` token; `None` if nothing is left.
pub fn stored_content_encoding(header: &str) -> Option<String> {
    let rest: Vec<&str> = header
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!rest.is_empty()).then(|| rest.join(","))
}

/// Decodes a whole aws-chunked body at once (tests and fuzzing): the payload and the trailers.
pub fn decode_all(
    mode: ChunkedMode,
    body: &[u8],
    decoded_len: Option<u64>,
    verify: Option<StreamingContext>,
) -> Result<(Vec<u8>, Trailers), ChunkedError> {
    let mut d = ChunkedDecoder::new(mode, decoded_len, verify);
    let mut out = Vec::with_capacity(body.len());
    d.push(body, |p| out.extend_from_slice(p))?;
    Ok((out, d.finish()?))
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
