//! Tests of the aws-chunked decoder: AWS's documented example, every framing error, and every
//! way of splitting the input.

use super::*;
use crate::sign::sha256_hex;
use crate::sign::tests::s3_example_context;

const SIG1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const SIG2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const SIG3: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

/// The body of "Example: PUT Object" (S3 API reference, chunked upload): 65 KiB of 'a' in a
/// 64 KiB chunk and a 1 KiB chunk.
fn documented_body() -> Vec<u8> {
    let mut b = format!("10000;chunk-signature={SIG1}\r\n").into_bytes();
    b.extend_from_slice(&[b'a'; 65536]);
    b.extend_from_slice(format!("\r\n400;chunk-signature={SIG2}\r\n").as_bytes());
    b.extend_from_slice(&[b'a'; 1024]);
    b.extend_from_slice(format!("\r\n0;chunk-signature={SIG3}\r\n\r\n").as_bytes());
    b
}

fn signed_trailer_body(trailer_sig: &str) -> Vec<u8> {
    let mut b = documented_body();
    b.truncate(b.len() - 2);
    b.extend_from_slice(
        format!("x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{trailer_sig}\r\n\r\n")
            .as_bytes(),
    );
    b
}

/// Computed from the documented algorithm by an independent (Python hmac/hashlib) implementation.
const TRAILER_SIG: &str = "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61";

fn unsigned(chunks: &[&[u8]], trailer: &str) -> Vec<u8> {
    let mut b = Vec::new();
    for c in chunks {
        b.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        b.extend_from_slice(c);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"0\r\n");
    if !trailer.is_empty() {
        b.extend_from_slice(format!("{trailer}\r\n").as_bytes());
    }
    b.extend_from_slice(b"\r\n");
    b
}

#[test]
fn decodes_and_verifies_the_documented_example() {
    let body = documented_body();
    let (out, trailers) = decode_all(
        ChunkedMode::Signed,
        &body,
        Some(66560),
        Some(s3_example_context()),
    )
    .unwrap();
    assert_eq!(out, vec![b'a'; 66560]);
    assert!(trailers.entries.is_empty());
}

#[test]
fn any_split_of_the_input_gives_the_same_result() {
    let body = documented_body();
    for piece in [1, 2, 3, 7, 64, 89, 90, 91, 4096, 65536, 65537] {
        let mut d =
            ChunkedDecoder::new(ChunkedMode::Signed, Some(66560), Some(s3_example_context()));
        let mut n = 0u64;
        for slice in body.chunks(piece) {
            d.push(slice, |p| {
                assert!(p.iter().all(|&b| b == b'a'));
                n += p.len() as u64;
            })
            .unwrap();
        }
        assert!(d.is_done());
        d.finish().unwrap();
        assert_eq!(n, 66560, "piece {piece}");
    }
}

#[test]
fn decode_returns_ranges_into_the_input_without_copying() {
    let body = unsigned(&[b"hello"], "x-amz-checksum-crc32:NhCmhg==");
    let mut d = ChunkedDecoder::new(ChunkedMode::Unsigned, Some(5), None);
    let step = d.decode(&body).unwrap();
    assert_eq!(&body[step.payload.clone()], b"hello");
    assert_eq!(step.consumed, step.payload.end);
    let step = d.decode(&body[step.consumed..]).unwrap();
    assert!(step.payload.is_empty());
    let t = d.finish().unwrap();
    assert_eq!(t.checksum(), Some((ChecksumAlgorithm::Crc32, "NhCmhg==")));
}

#[test]
fn a_tampered_chunk_fails_its_signature() {
    let mut body = documented_body();
    body[200] = b'b';
    let err = decode_all(ChunkedMode::Signed, &body, None, Some(s3_example_context())).unwrap_err();
    assert_eq!(err, ChunkedError::SignatureMismatch);
    assert_eq!((err.code(), err.status()), ("SignatureDoesNotMatch", 403));
    // Without verification the same body decodes.
    assert!(decode_all(ChunkedMode::Signed, &body, None, None).is_ok());
    // A wrong final-chunk signature is caught too.
    let body = documented_body();
    let bad = String::from_utf8_lossy(&body).replace(SIG3, &"0".repeat(64));
    let err = decode_all(
        ChunkedMode::Signed,
        bad.as_bytes(),
        None,
        Some(s3_example_context()),
    );
    assert_eq!(err.unwrap_err(), ChunkedError::SignatureMismatch);
}

#[test]
fn verifies_signed_trailers() {
    let body = signed_trailer_body(TRAILER_SIG);
    let (out, t) = decode_all(
        ChunkedMode::SignedWithTrailer,
        &body,
        Some(66560),
        Some(s3_example_context()),
    )
    .unwrap();
    assert_eq!(out.len(), 66560);
    assert_eq!(t.get("x-amz-checksum-crc32c"), Some("sOO8/Q=="));
    assert_eq!(t.get("x-amz-trailer-signature"), None);

    let bad = signed_trailer_body(&"1".repeat(64));
    let err = decode_all(
        ChunkedMode::SignedWithTrailer,
        &bad,
        None,
        Some(s3_example_context()),
    );
    assert_eq!(err.unwrap_err(), ChunkedError::SignatureMismatch);

    // A signed trailer section without its signature.
    let mut missing = documented_body();
    missing.truncate(missing.len() - 2);
    missing.extend_from_slice(b"x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n");
    let err = decode_all(ChunkedMode::SignedWithTrailer, &missing, None, None);
    assert_eq!(err.unwrap_err(), ChunkedError::MalformedTrailer);
}

#[test]
fn unsigned_trailer_bodies_as_the_sdks_send_them() {
    let big = vec![b'x'; 8192];
    let body = unsigned(&[&big, b"tail"], "x-amz-checksum-crc64nvme:AAAAAAAAAAA=");
    let (out, t) = decode_all(ChunkedMode::Unsigned, &body, Some(8196), None).unwrap();
    assert_eq!(out.len(), 8196);
    assert_eq!(
        t.checksum(),
        Some((ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA="))
    );
    // Chunk extensions are ignored when unsigned; upper-case hex sizes are fine.
    let body = b"5;foo=bar\r\nhello\r\n0\r\n\r\n";
    assert_eq!(
        decode_all(ChunkedMode::Unsigned, body, Some(5), None)
            .unwrap()
            .0,
        b"hello"
    );
    let body = b"A\r\n0123456789\r\n0\r\n\r\n";
    assert_eq!(
        decode_all(ChunkedMode::Unsigned, body, None, None)
            .unwrap()
            .0,
        b"0123456789"
    );
    // An empty object is just the final chunk.
    let (out, _) = decode_all(
        ChunkedMode::Unsigned,
        b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        Some(0),
        None,
    )
    .unwrap();
    assert!(out.is_empty());
}

#[test]
fn only_the_last_data_chunk_may_be_small() {
    // 1000 + 1000 + 0: S3 names chunk 2 and the size of chunk 1.
    let body = unsigned(&[&[b'a'; 1000], &[b'a'; 1000]], "");
    let err = decode_all(ChunkedMode::Unsigned, &body, None, None).unwrap_err();
    assert_eq!(
        err,
        ChunkedError::ChunkTooSmall {
            chunk: 2,
            size: 1000
        }
    );
    assert_eq!(err.code(), "InvalidChunkSizeError");
    assert_eq!(
        err.fields(),
        vec![("Chunk", "2".into()), ("BadChunkSize", "1000".into())]
    );
}

#[test]
fn decoded_length_must_match_the_declaration() {
    let body = unsigned(&[b"hello"], "");
    let err = decode_all(ChunkedMode::Unsigned, &body, Some(3), None).unwrap_err();
    assert_eq!(
        err,
        ChunkedError::LengthMismatch {
            expected: 3,
            provided: 5
        }
    );
    assert_eq!(err.code(), "IncompleteBody");
    let err = decode_all(ChunkedMode::Unsigned, &body, Some(6), None).unwrap_err();
    assert!(matches!(
        err,
        ChunkedError::LengthMismatch { provided: 5, .. }
    ));
}

#[test]
fn malformed_framing_is_an_incomplete_body() {
    let cases: &[&[u8]] = &[
        b"",                                                     // nothing at all
        b"5\r\nhello\r\n",                                       // no final chunk
        b"5\r\nhello\r\n0\r\n", // final chunk without the closing line
        b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n", // trailer not closed
        b"3\r\nhello\r\n0\r\n\r\n", // size smaller than the data
        b"9\r\nhello\r\n0\r\n\r\n", // size larger than the data
        b"zz\r\nhello\r\n0\r\n\r\n", // not hex
        b"\r\nhello\r\n0\r\n\r\n", // no size
        b"5\nhello\r\n0\r\n\r\n", // bare LF
        b"5\r\nhelloXX0\r\n\r\n", // no CRLF after data
        b"11111111111111111\r\n", // 17 hex digits
        b"5\r\nhello\r\n0\r\n\r\nextra", // bytes after the end
    ];
    for body in cases {
        let err = decode_all(ChunkedMode::Unsigned, body, None, None).unwrap_err();
        assert_eq!(
            err,
            ChunkedError::Incomplete,
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(err.message(), "The request body terminated unexpectedly");
    }
    // Signed modes require a well-formed chunk signature on every chunk.
    for body in [
        &b"5\r\nhello\r\n0\r\n\r\n"[..],
        b"5;chunk-signature=abc\r\nhello\r\n",
    ] {
        let err = decode_all(ChunkedMode::Signed, body, None, None).unwrap_err();
        assert_eq!(err, ChunkedError::Incomplete);
    }
    // A signed body without trailers must not carry any.
    let mut body = documented_body();
    body.truncate(body.len() - 2);
    body.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    let err = decode_all(ChunkedMode::Signed, &body, None, None).unwrap_err();
    assert_eq!(err, ChunkedError::Incomplete);
}

#[test]
fn malformed_trailers() {
    for t in ["no-colon-here", "bad name:x", ":empty-name"] {
        let body = unsigned(&[b"hi"], t);
        let err = decode_all(ChunkedMode::Unsigned, &body, None, None).unwrap_err();
        assert_eq!(err, ChunkedError::MalformedTrailer, "{t}");
    }
    let huge = format!("x-amz-meta:{}", "v".repeat(MAX_LINE));
    let body = unsigned(&[b"hi"], &huge);
    let err = decode_all(ChunkedMode::Unsigned, &body, None, None).unwrap_err();
    assert_eq!(err, ChunkedError::MalformedTrailer);
}

#[test]
fn errors_are_sticky_and_lines_are_bounded() {
    let mut d = ChunkedDecoder::new(ChunkedMode::Unsigned, None, None);
    let long = vec![b'1'; MAX_LINE + 1];
    assert_eq!(d.decode(&long).unwrap_err(), ChunkedError::Incomplete);
    assert_eq!(
        d.decode(b"0\r\n\r\n").unwrap_err(),
        ChunkedError::Incomplete
    );
    assert_eq!(d.finish().unwrap_err(), ChunkedError::Incomplete);
}

#[test]
fn signatures_chain_through_a_freshly_encoded_body() {
    // Encode with the primitives, decode with verification: a round trip over several chunks.
    let ctx = s3_example_context();
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let mut body = Vec::new();
    let mut prev = ctx.seed_signature.clone();
    for c in data.chunks(9000).chain(std::iter::once(&[][..])) {
        let sig = ctx.chunk_signature(&prev, &sha256_hex(c));
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        body.extend_from_slice(c);
        if !c.is_empty() {
            body.extend_from_slice(b"\r\n");
        }
        prev = sig;
    }
    body.extend_from_slice(b"\r\n");
    let (out, _) = decode_all(ChunkedMode::Signed, &body, Some(50_000), Some(ctx)).unwrap();
    assert_eq!(out, data);
}

#[test]
fn detects_framing_from_headers() {
    let d = ChunkedMode::detect;
    assert_eq!(
        d(
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Some("aws-chunked")
        ),
        Some(ChunkedMode::Unsigned)
    );
    assert_eq!(
        d(Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), None),
        Some(ChunkedMode::Signed)
    );
    assert_eq!(
        d(Some("UNSIGNED-PAYLOAD"), Some("gzip, aws-chunked")),
        Some(ChunkedMode::Unsigned)
    );
    assert_eq!(d(Some("UNSIGNED-PAYLOAD"), Some("gzip")), None);
    assert_eq!(d(None, None), None);
    assert_eq!(stored_content_encoding("aws-chunked"), None);
    assert_eq!(
        stored_content_encoding("aws-chunked, gzip").as_deref(),
        Some("gzip")
    );
}

#[test]
fn mutated_bodies_never_panic() {
    // A small deterministic fuzz: flip bytes of valid bodies and split them at random points.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let bases = [
        documented_body(),
        signed_trailer_body(TRAILER_SIG),
        unsigned(&[&[b'z'; 9000], b"end"], "x-amz-checksum-crc32:AAAAAA=="),
    ];
    for round in 0..300 {
        let mut body = bases[round % bases.len()].clone();
        for _ in 0..1 + rnd() % 4 {
            let i = usize::try_from(rnd() % body.len() as u64).unwrap();
            body[i] = u8::try_from(rnd() % 256).unwrap();
        }
        let cut = usize::try_from(rnd() % body.len() as u64).unwrap();
        for mode in [
            ChunkedMode::Signed,
            ChunkedMode::SignedWithTrailer,
            ChunkedMode::Unsigned,
        ] {
            let mut d = ChunkedDecoder::new(mode, Some(66560), Some(s3_example_context()));
            let mut n = 0u64;
            let r = d
                .push(&body[..cut], |p| n += p.len() as u64)
                .and_then(|()| d.push(&body[cut..], |p| n += p.len() as u64));
            if r.is_ok() {
                assert_eq!(n, d.decoded_len());
                let _ = d.finish();
            }
        }
    }
}
