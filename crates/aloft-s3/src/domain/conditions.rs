//! Range requests and conditional requests (If-Match, If-None-Match, If-(Un)Modified-Since).

/// A satisfiable byte range `[start, start+len)`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct ByteRange {
    pub start: u64,
    pub len: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RangeResult {
    /// No usable Range header: S3 serves the whole object (also for multi-range requests).
    Whole,
    Partial(ByteRange),
    /// 416 InvalidRange.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` against an object of `size` bytes.
pub fn parse_range(header: &str, size: u64) -> RangeResult {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeResult::Whole;
    };
    if spec.contains(',') {
        return RangeResult::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeResult::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return RangeResult::Whole;
        };
        if n == 0 || size == 0 {
            return RangeResult::Unsatisfiable;
        }
        let n = n.min(size);
        return RangeResult::Partial(ByteRange {
            start: size - n,
            len: n,
        });
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeResult::Whole;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeResult::Whole,
        }
    };
    if start >= size {
        return RangeResult::Unsatisfiable;
    }
    let end = end.min(size - 1);
    RangeResult::Partial(ByteRange {
        start,
        len: end - start + 1,
    })
}

/// What a conditional GET/HEAD comes to.
#[derive(Debug, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    NotModified,
    /// 412, naming the header that failed.
    Failed(&'static str),
}

/// True when `etag` (unquoted) is in the header's list (quoted or not, or `*`).
pub fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t == etag)
}

fn parse_http_date(s: &str) -> Option<i64> {
    httpdate::parse_http_date(s.trim())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
}

/// Evaluates the conditional headers against an object's ETag and last-modified time.
pub fn evaluate(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    if_unmodified_since: Option<&str>,
    etag: &str,
    modified_ms: i64,
) -> Precondition {
    let modified = modified_ms.div_euclid(1000);
    if let Some(h) = if_match {
        if !etag_matches(h, etag) {
            return Precondition::Failed("If-Match");
        }
    } else if let Some(t) = if_unmodified_since.and_then(parse_http_date)
        && modified > t
    {
        return Precondition::Failed("If-Unmodified-Since");
    }
    if let Some(h) = if_none_match {
        if etag_matches(h, etag) {
            return Precondition::NotModified;
        }
    } else if let Some(t) = if_modified_since.and_then(parse_http_date)
        && modified <= t
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeResult::*;
        assert_eq!(
            parse_range("bytes=0-9", 100),
            Partial(ByteRange { start: 0, len: 10 })
        );
        assert_eq!(
            parse_range("bytes=90-", 100),
            Partial(ByteRange { start: 90, len: 10 })
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Partial(ByteRange { start: 90, len: 10 })
        );
        assert_eq!(
            parse_range("bytes=-1000", 100),
            Partial(ByteRange { start: 0, len: 100 })
        );
        assert_eq!(
            parse_range("bytes=50-1000", 100),
            Partial(ByteRange { start: 50, len: 50 })
        );
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), Whole);
        assert_eq!(parse_range("bytes=9-1", 100), Whole);
        assert_eq!(parse_range("items=0-1", 100), Whole);
    }

    #[test]
    fn preconditions() {
        let t = 1_700_000_000_000;
        let before = "Tue, 14 Nov 2023 22:00:00 GMT";
        let after = "Tue, 14 Nov 2023 23:00:00 GMT";
        assert_eq!(
            evaluate(Some("\"abc\""), None, None, None, "abc", t),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate(Some("\"x\""), None, None, None, "abc", t),
            Precondition::Failed("If-Match")
        );
        assert_eq!(
            evaluate(None, Some("\"abc\""), None, None, "abc", t),
            Precondition::NotModified
        );
        assert_eq!(
            evaluate(None, None, Some(after), None, "abc", t),
            Precondition::NotModified
        );
        assert_eq!(
            evaluate(None, None, Some(before), None, "abc", t),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate(None, None, None, Some(before), "abc", t),
            Precondition::Failed("If-Unmodified-Since")
        );
        // If-Match true wins over a failing If-Unmodified-Since (RFC 7232, as S3 does).
        assert_eq!(
            evaluate(Some("abc"), None, None, Some(before), "abc", t),
            Precondition::Proceed
        );
    }
}
