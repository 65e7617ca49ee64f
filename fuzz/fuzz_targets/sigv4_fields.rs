//! The small SigV4/S3 header and query parsers: dates, canonical URI and query, the
//! `x-amz-content-sha256` value, checksums, presigned-query checks and POST policies. The first
//! byte picks the parser; none may panic, and dates that parse format back to the same
//! instant (to the second).
#![no_main]

use aloft_sigv4::checksums::{Checksum, ChecksumAlgorithm};
use aloft_sigv4::post_policy::PostPolicy;
use aloft_sigv4::{ContentSha256, UriMode, canonical, check_presigned_query, dates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 8 {
        0 => {
            if let Some(ms) = dates::parse_amz_date(text) {
                assert_eq!(
                    dates::parse_amz_date(&dates::format_amz_date(ms)),
                    Some(ms),
                    "{text}"
                );
            }
        }
        1 => {
            if let Some(ms) = dates::parse_iso8601(text) {
                // The formatter writes whole seconds (S3's error fields); the parser keeps millis.
                let whole = ms.div_euclid(1000) * 1000;
                assert_eq!(
                    dates::parse_iso8601(&dates::format_iso8601(ms)),
                    Some(whole),
                    "{text}"
                );
            }
        }
        2 => {
            let _ = dates::parse_http_date(text);
        }
        3 => {
            let _ = canonical::canonical_uri(text, UriMode::for_service("s3"));
            let _ = canonical::canonical_uri(text, UriMode::for_service("dynamodb"));
            let _ = canonical::canonical_query(text, false);
            let _ = canonical::canonical_query(text, true);
        }
        4 => {
            let _ = ContentSha256::parse(text);
        }
        5 => {
            for algorithm in ChecksumAlgorithm::ALL {
                if let Some(c) = Checksum::from_base64(algorithm, text) {
                    assert_eq!(c.as_bytes().len(), algorithm.digest_len());
                }
            }
        }
        6 => {
            let _ = check_presigned_query(text);
        }
        _ => {
            if let Ok(policy) = PostPolicy::parse(text) {
                let fields = [
                    ("bucket", "b"),
                    ("key", "k"),
                    ("Content-Type", "text/plain"),
                ];
                let _ = policy.check(&fields, 1_800_000_000_000);
                let _ = policy.check_length(1024);
            }
        }
    }
});
