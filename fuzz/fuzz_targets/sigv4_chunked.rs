//! aws-chunked bodies: never a panic, and decoding in two arbitrary pieces gives what decoding
//! in one does (S3 receives bodies in frames of any size).
#![no_main]

use aloft_sigv4::chunked::decode_all;
use aloft_sigv4::{ChunkedDecoder, ChunkedMode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [mode, split, body @ ..] = data else {
        return;
    };
    let mode = match mode % 3 {
        0 => ChunkedMode::Signed,
        1 => ChunkedMode::SignedWithTrailer,
        _ => ChunkedMode::Unsigned,
    };
    let whole = decode_all(mode, body, None, None);

    let at = usize::from(*split).min(body.len());
    let mut d = ChunkedDecoder::new(mode, None, None);
    let mut payload = Vec::new();
    let pieces = d
        .push(&body[..at], |p| payload.extend_from_slice(p))
        .and_then(|()| d.push(&body[at..], |p| payload.extend_from_slice(p)));
    let pieces = pieces.and_then(|()| d.finish());
    match (&whole, &pieces) {
        (Ok((one, _)), Ok(_)) => assert_eq!(one, &payload),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        _ => panic!(
            "split at {at} changed the outcome: {:?} vs {:?}",
            whole.is_ok(),
            pieces.is_ok()
        ),
    }
});
