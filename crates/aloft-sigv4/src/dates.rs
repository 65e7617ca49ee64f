//! The date forms SigV4 uses (`20130524T000000Z`, the `Date` header's IMF-fixdate, POST policies'
//! ISO 8601), converted to and from epoch milliseconds without a date library.

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn to_millis(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + i64::from(h * 3600 + mi * 60 + s)) * 1000)
}

/// Parses `YYYYMMDDTHHMMSSZ` (`X-Amz-Date`).
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_millis(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// Formats epoch milliseconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(millis: i64) -> String {
    let (y, mo, d, h, mi, s) = split(millis);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Formats epoch milliseconds as ISO 8601 `2013-05-24T00:00:00Z` (S3's `Expires`/`ServerTime`
/// error fields).
pub fn format_iso8601(millis: i64) -> String {
    let (y, mo, d, h, mi, s) = split(millis);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn split(millis: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = millis.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = u32::try_from(secs.rem_euclid(86_400)).unwrap_or(0);
    (y, mo, d, rem / 3600, rem / 60 % 60, rem % 60)
}

/// Parses ISO 8601 as POST policies write `expiration`: `2007-12-01T12:00:00.000Z` (fraction
/// optional, `Z` required).
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let base = to_millis(
        i64::from(digits(&b[0..4])?),
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    match &b[19..] {
        b"Z" => Some(base),
        [b'.', frac @ .., b'Z'] if !frac.is_empty() && frac.len() <= 9 => {
            let ms = digits(&frac[..frac.len().min(3)])?;
            digits(frac)?;
            let scale = [100, 10, 1][frac.len().min(3) - 1];
            Some(base + i64::from(ms * scale))
        }
        _ => None,
    }
}

/// Parses an IMF-fixdate `Date` header: `Fri, 24 May 2013 00:00:00 GMT`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = s.split_ascii_whitespace();
    let _weekday = it.next()?.strip_suffix(',')?;
    let d = digits(it.next()?.as_bytes())?;
    let mon = it.next()?;
    let mo = u32::try_from(MONTHS.iter().position(|m| *m == mon)? + 1).ok()?;
    let y = digits(it.next()?.as_bytes())?;
    let hms: Vec<&str> = it.next()?.split(':').collect();
    if it.next()? != "GMT" || it.next().is_some() || hms.len() != 3 {
        return None;
    }
    to_millis(
        i64::from(y),
        mo,
        d,
        digits(hms[0].as_bytes())?,
        digits(hms[1].as_bytes())?,
        digits(hms[2].as_bytes())?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(t, 1_369_353_600_000);
        assert_eq!(format_amz_date(t), "20130524T000000Z");
        assert_eq!(format_iso8601(t + 3_600_000), "2013-05-24T01:00:00Z");
        assert_eq!(
            parse_amz_date("20240229T235959Z")
                .map(format_amz_date)
                .as_deref(),
            Some("20240229T235959Z")
        );
        for bad in [
            "20130524T000000",
            "2013-05-24T00:00:00Z",
            "20130532T000000Z",
            "20230229T000000Z",
            "20130524T246000Z",
            "2013052AT000000Z",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso8601_and_http_dates() {
        let t = parse_amz_date("20071201T120000Z").unwrap();
        assert_eq!(parse_iso8601("2007-12-01T12:00:00.000Z"), Some(t));
        assert_eq!(parse_iso8601("2007-12-01T12:00:00Z"), Some(t));
        assert_eq!(parse_iso8601("2007-12-01T12:00:00.5Z"), Some(t + 500));
        assert_eq!(parse_iso8601("2007-12-01T12:00:00"), None);
        assert_eq!(parse_iso8601("2007-12-01 12:00:00Z"), None);
        assert_eq!(
            parse_http_date("Fri, 24 May 2013 00:00:00 GMT"),
            parse_amz_date("20130524T000000Z")
        );
        assert_eq!(parse_http_date("Fri, 24 May 2013 00:00:00"), None);
    }
}
