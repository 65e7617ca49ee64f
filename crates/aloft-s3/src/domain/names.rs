//! Bucket-name and key rules, as S3 enforces them on create and on every request.

use aloft_core::AwsError;

use crate::error::S3Error;

/// S3's general-purpose bucket naming rules: 3–63 characters of lower-case letters, digits,
/// dots and hyphens, starting and ending with a letter or digit, no `..`, not an IP address,
/// and none of the reserved prefixes/suffixes.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return false;
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 3] = ["-s3alias", "--ol-s3", "--x-s3"];
    !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// `InvalidBucketName` naming the bucket.
pub fn check_bucket_name(name: &str) -> Result<(), AwsError> {
    if valid_bucket_name(name) {
        Ok(())
    } else {
        Err(S3Error::InvalidBucketName
            .err()
            .with_field("BucketName", name))
    }
}

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// `KeyTooLongError` past 1024 bytes, with the sizes AWS reports.
pub fn check_key(key: &str) -> Result<(), AwsError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLongError
            .err()
            .with_field("Size", key.len().to_string())
            .with_field("MaxSizeAllowed", MAX_KEY_BYTES.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.v2", "a1b", &"a".repeat(63)] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            "a..b",
            "a.-b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
            "sthree-x",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn keys() {
        assert!(check_key(&"k".repeat(1024)).is_ok());
        let e = check_key(&"k".repeat(1025)).unwrap_err();
        assert_eq!(e.code, "KeyTooLongError");
        assert_eq!(e.fields["Size"], "1025");
    }
}
