//! Prints the throughput of what an S3 PUT does per byte (run on demand, release mode):
//! `cargo run --release -p aloft-sigv4 --example throughput [MiB]`. Figures are per CPU second.

use std::time::Instant;

use aloft_sigv4::checksums::{ChecksumAlgorithm, Checksummer, Md5};
use aloft_sigv4::{ChunkedDecoder, ChunkedMode, SigningKey, StreamingContext, sha256_hex};

/// CPU time of this thread in seconds (Linux `schedstat`), so that a busy machine does not
/// distort the figures; wall-clock time elsewhere.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn rate(label: &str, bytes: usize, f: impl FnOnce()) -> f64 {
    let (t, c) = (Instant::now(), cpu_seconds());
    f();
    let s = match (c, cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => t.elapsed().as_secs_f64(),
    }
    .max(t.elapsed().as_secs_f64() / 1000.0);
    #[allow(clippy::cast_precision_loss)]
    let mib = bytes as f64 / (1024.0 * 1024.0) / s;
    println!("{label:<44} {mib:>8.0} MiB/s");
    mib
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let data: Vec<u8> = (0..mib * 1024 * 1024)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let chunk = 64 * 1024;
    let mut unsigned = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    for c in data.chunks(chunk) {
        unsigned.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        unsigned.extend_from_slice(c);
        unsigned.extend_from_slice(b"\r\n");
    }
    unsigned.extend_from_slice(b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    let ctx = StreamingContext {
        key: SigningKey::derive("secret", "20261121", "us-east-1", "s3"),
        amz_date: "20261121T000000Z".into(),
        scope: "20261121/us-east-1/s3/aws4_request".into(),
        seed_signature: "0".repeat(64),
    };
    let mut signed = Vec::with_capacity(unsigned.len() + data.len() / 500);
    let mut prev = ctx.seed_signature.clone();
    for c in data.chunks(chunk).chain(std::iter::once(&[][..])) {
        let sig = ctx.chunk_signature(&prev, &sha256_hex(c));
        signed.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        signed.extend_from_slice(c);
        if !c.is_empty() {
            signed.extend_from_slice(b"\r\n");
        }
        prev = sig;
    }
    signed.extend_from_slice(b"\r\n");
    let frames = 16 * 1024; // what hyper typically hands over per frame

    let md5 = rate("md5 alone (the target's yardstick)", data.len(), || {
        let mut m = Md5::new();
        m.update(&data);
        std::hint::black_box(m.finish());
    });
    for a in ChecksumAlgorithm::ALL {
        rate(&format!("{a:?} alone"), data.len(), || {
            let mut c = Checksummer::new(a);
            c.update(&data);
            std::hint::black_box(c.finish());
        });
    }
    rate("unsigned aws-chunked decode alone", data.len(), || {
        let mut d = ChunkedDecoder::new(ChunkedMode::Unsigned, Some(data.len() as u64), None);
        let mut n = 0;
        for f in unsigned.chunks(frames) {
            d.push(f, |p| n += p.len()).unwrap();
        }
        d.finish().unwrap();
        std::hint::black_box(n);
    });
    let put = rate("unsigned decode + md5 + crc32 (S3 PUT)", data.len(), || {
        let mut d = ChunkedDecoder::new(ChunkedMode::Unsigned, Some(data.len() as u64), None);
        let (mut m, mut c) = (Md5::new(), Checksummer::new(ChecksumAlgorithm::Crc32));
        for f in unsigned.chunks(frames) {
            d.push(f, |p| {
                m.update(p);
                c.update(p);
            })
            .unwrap();
        }
        d.finish().unwrap();
        std::hint::black_box((m.finish(), c.finish()));
    });
    rate("signed decode, verified, + md5", data.len(), || {
        let mut d = ChunkedDecoder::new(
            ChunkedMode::Signed,
            Some(data.len() as u64),
            Some(ctx.clone()),
        );
        let mut m = Md5::new();
        for f in signed.chunks(frames) {
            d.push(f, |p| m.update(p)).unwrap();
        }
        d.finish().unwrap();
        std::hint::black_box(m.finish());
    });
    println!("S3 PUT path / md5: {:.0}%", put / md5 * 100.0);
}
