//! The `application/vnd.amazon.eventstream` framing SubscribeToShard answers in: a prelude
//! (total and header lengths, CRC32), string headers, the payload, and a CRC32 of it all.

use bytes::{BufMut, Bytes, BytesMut};
use crc_fast::CrcAlgorithm;

fn crc32(b: &[u8]) -> u32 {
    // CRC-32 (ISO-HDLC) fits in 32 bits; the crate answers in a u64.
    u32::try_from(crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, b)).unwrap_or_default()
}

/// One message with string-valued headers (type 7).
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut h = BytesMut::new();
    for (name, value) in headers {
        h.put_u8(u8::try_from(name.len()).unwrap_or(u8::MAX));
        h.put_slice(name.as_bytes());
        h.put_u8(7);
        h.put_u16(u16::try_from(value.len()).unwrap_or(u16::MAX));
        h.put_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut m = BytesMut::with_capacity(total);
    m.put_u32(u32::try_from(total).unwrap_or(u32::MAX));
    m.put_u32(u32::try_from(h.len()).unwrap_or(u32::MAX));
    let prelude_crc = crc32(&m[..8]);
    m.put_u32(prelude_crc);
    m.put_slice(&h);
    m.put_slice(payload);
    let crc = crc32(&m);
    m.put_u32(crc);
    m.freeze()
}

/// An event of `event_type` with a JSON payload.
pub fn event(event_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_lengths_and_checksums() {
        let m = event("initial-response", b"{}");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        assert_eq!(
            u32::from_be_bytes(m[8..12].try_into().unwrap()),
            crc32(&m[..8])
        );
        assert_eq!(&m[12 + headers..total - 4], b"{}");
        assert_eq!(
            u32::from_be_bytes(m[total - 4..].try_into().unwrap()),
            crc32(&m[..total - 4])
        );
        // CRC-32 of "123456789" is the standard check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
