//! Timestamps on the wire: ISO 8601, HTTP dates and epoch seconds, all to/from epoch seconds.

use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

/// Parses any of AWS's timestamp wire forms into epoch seconds.
///
/// Accepts RFC 3339 / ISO 8601 (`2015-01-25T08:00:00Z`, with fractions or offsets),
/// HTTP dates (`Sun, 25 Jan 2015 08:00:00 GMT`) and epoch seconds (`1422172800.5`).
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(epoch(t));
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(epoch(t));
    }
    // ISO 8601 without a zone (`2015-01-25T08:00:00`): AWS reads it as UTC.
    if let Ok(t) = OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339) {
        return Some(epoch(t));
    }
    httpdate::parse_http_date(text).ok().map(|t| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    })
}

fn epoch(t: OffsetDateTime) -> f64 {
    let nanos = t.unix_timestamp_nanos();
    #[allow(clippy::cast_precision_loss)]
    let secs = nanos as f64 / 1e9;
    // Millisecond precision is all AWS carries; rounding hides binary noise.
    (secs * 1000.0).round() / 1000.0
}

fn datetime(secs: f64) -> OffsetDateTime {
    #[allow(clippy::cast_possible_truncation)]
    let nanos = (secs * 1e3).round() as i128 * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2015-01-25T08:00:00Z`, or `2015-01-25T08:00:00.123Z` when there are milliseconds.
pub fn format_iso8601(secs: f64) -> String {
    let t = datetime(secs);
    let ms = t.millisecond();
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if ms == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{ms:03}Z")
    }
}

/// `Sun, 25 Jan 2015 08:00:00 GMT` (RFC 7231), as rest protocols send in headers.
pub fn format_http_date(secs: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = secs.max(0.0).floor() as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(whole))
}

/// Epoch seconds as a JSON number: an integer when whole, else with milliseconds.
pub fn epoch_value(secs: f64) -> serde_json::Value {
    #[allow(clippy::cast_possible_truncation)]
    if secs.fract() == 0.0 && secs.abs() < 9.0e15 {
        serde_json::Value::from(secs as i64)
    } else {
        serde_json::Number::from_f64((secs * 1000.0).round() / 1000.0)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// Renders epoch seconds in a model `timestampFormat` (`iso8601`, `rfc822`, `unixTimestamp`).
pub fn format_as(secs: f64, format: &str) -> String {
    match format {
        "rfc822" => format_http_date(secs),
        "unixTimestamp" => epoch_value(secs).to_string(),
        _ => format_iso8601(secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_wire_form() {
        assert_eq!(
            parse_timestamp("2015-01-25T08:00:00Z"),
            Some(1_422_172_800.0)
        );
        assert_eq!(
            parse_timestamp("2015-01-25T08:00:00.500Z"),
            Some(1_422_172_800.5)
        );
        assert_eq!(
            parse_timestamp("2015-01-25T09:00:00+01:00"),
            Some(1_422_172_800.0)
        );
        assert_eq!(
            parse_timestamp("2015-01-25T08:00:00"),
            Some(1_422_172_800.0)
        );
        assert_eq!(
            parse_timestamp("Sun, 25 Jan 2015 08:00:00 GMT"),
            Some(1_422_172_800.0)
        );
        assert_eq!(parse_timestamp("1422172800"), Some(1_422_172_800.0));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn formats_like_aws() {
        assert_eq!(format_iso8601(1_422_172_800.0), "2015-01-25T08:00:00Z");
        assert_eq!(
            format_iso8601(1_422_172_800.123),
            "2015-01-25T08:00:00.123Z"
        );
        assert_eq!(
            format_http_date(1_422_172_800.0),
            "Sun, 25 Jan 2015 08:00:00 GMT"
        );
        assert_eq!(epoch_value(1.5).to_string(), "1.5");
        assert_eq!(epoch_value(2.0).to_string(), "2");
    }
}
