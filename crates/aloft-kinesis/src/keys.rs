//! The numbers of Kinesis: 128-bit hash keys (MD5 of the partition key), uniform shard ranges,
//! AWS-shaped sequence numbers and shard ids, and the opaque shard iterators and page tokens.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

/// The hash key a partition key maps to: its MD5 read as an unsigned 128-bit big-endian integer.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// An ExplicitHashKey: a decimal in `[0, 2^128 - 1]` (the model's pattern allows 39 digits,
/// which can still overflow).
pub fn parse_hash_key(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `n` shards splitting the key space evenly; the last one ends at `2^128 - 1`.
pub fn uniform_ranges(n: u32) -> Vec<(u128, u128)> {
    let n = u128::from(n.max(1));
    if n == 1 {
        return vec![(0, u128::MAX)];
    }
    // floor(2^128 / n), computed without 2^128.
    let width = u128::MAX / n + u128::from(u128::MAX % n == n - 1);
    (0..n)
        .map(|i| {
            let start = i * width;
            let end = if i == n - 1 {
                u128::MAX
            } else {
                (i + 1) * width - 1
            };
            (start, end)
        })
        .collect()
}

pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

pub fn shard_index(id: &str) -> Option<u32> {
    id.strip_prefix("shardId-")
        .filter(|d| d.len() == 12)
        .and_then(|d| d.parse().ok())
}

/// Sequence numbers are 56-digit decimals (AWS's are too); the stream's counter is the tail, so
/// they increase per shard and compare as numbers.
pub fn sequence_number(counter: u128) -> String {
    format!("49{counter:054}")
}

pub fn parse_sequence_number(s: &str) -> Option<u128> {
    if s.len() != 56 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix("49")?.parse().ok()
}

/// What a shard iterator carries. AWS's iterators are opaque base64; ours name the stream
/// (and its creation time, so a recreated stream does not accept old iterators), the shard,
/// the last sequence counter already read and when the iterator was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iterator {
    pub account: String,
    pub region: String,
    pub stream: String,
    pub created_ms: i64,
    pub shard: String,
    pub after: u128,
    pub issued_ms: i64,
}

impl Iterator {
    pub fn encode(&self) -> String {
        STANDARD.encode(format!(
            "1|{}|{}|{}|{}|{}|{}|{}",
            self.account,
            self.region,
            self.stream,
            self.created_ms,
            self.shard,
            self.after,
            self.issued_ms
        ))
    }

    pub fn decode(s: &str) -> Option<Self> {
        let raw = String::from_utf8(STANDARD.decode(s).ok()?).ok()?;
        let p: Vec<&str> = raw.split('|').collect();
        if p.len() != 8 || p[0] != "1" {
            return None;
        }
        Some(Self {
            account: p[1].to_string(),
            region: p[2].to_string(),
            stream: p[3].to_string(),
            created_ms: p[4].parse().ok()?,
            shard: p[5].to_string(),
            after: p[6].parse().ok()?,
            issued_ms: p[7].parse().ok()?,
        })
    }
}

/// A page token: what to continue after, and when it was issued (tokens expire).
pub fn encode_token(parts: &[&str], issued_ms: i64) -> String {
    let mut s = parts.join("|");
    s.push('|');
    s.push_str(&issued_ms.to_string());
    STANDARD.encode(s)
}

pub fn decode_token(token: &str) -> Option<(Vec<String>, i64)> {
    let raw = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
    let (rest, issued) = raw.rsplit_once('|')?;
    Some((
        rest.split('|').map(str::to_string).collect(),
        issued.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_hash_keys_as_aws_computes_them() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
        assert_eq!(
            hash_key("a"),
            u128::from_str_radix("0cc175b9c0f1b6a831c399e269772661", 16).unwrap()
        );
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("-1"), None);
    }

    #[test]
    fn uniform_ranges_cover_the_key_space() {
        let r = uniform_ranges(4);
        assert_eq!(
            r[0],
            (0, 85_070_591_730_234_615_865_843_651_857_942_052_863)
        );
        assert_eq!(r[1].0, 85_070_591_730_234_615_865_843_651_857_942_052_864);
        assert_eq!(r[3].1, u128::MAX);
        for n in [1, 2, 3, 5, 7, 10] {
            let r = uniform_ranges(n);
            assert_eq!(r.len(), n as usize);
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().unwrap().1, u128::MAX);
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
        assert_eq!(uniform_ranges(1), vec![(0, u128::MAX)]);
    }

    #[test]
    fn sequence_numbers_are_56_digits_and_round_trip() {
        let s = sequence_number(42);
        assert_eq!(s.len(), 56);
        assert!(s.starts_with("49"));
        assert_eq!(parse_sequence_number(&s), Some(42));
        assert!(sequence_number(9) < sequence_number(10));
        assert_eq!(parse_sequence_number("123"), None);
        assert_eq!(shard_id(3), "shardId-000000000003");
        assert_eq!(shard_index("shardId-000000000003"), Some(3));
        assert_eq!(shard_index("shard-3"), None);
    }

    #[test]
    fn iterators_round_trip_and_reject_garbage() {
        let it = Iterator {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            stream: "s".into(),
            created_ms: 5,
            shard: shard_id(0),
            after: 7,
            issued_ms: 9,
        };
        assert_eq!(Iterator::decode(&it.encode()), Some(it));
        assert_eq!(Iterator::decode("not-an-iterator"), None);
        let t = encode_token(&["a", "b"], 3);
        assert_eq!(decode_token(&t), Some((vec!["a".into(), "b".into()], 3)));
    }
}
