//! The one clock every service reads, so expiries travel together in tests.
//!
//! Real time plus a virtual offset. `POST /_aloft/clock` moves the offset forward; services
//! with timers (TTL sweeps, visibility timeouts, schedules) wait on [`changed`] as well as on
//! their own sleeps, so an advance takes effect at once instead of after a real sleep.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

fn channel() -> &'static watch::Sender<i64> {
    static CHANNEL: OnceLock<watch::Sender<i64>> = OnceLock::new();
    CHANNEL.get_or_init(|| watch::channel(0).0)
}

/// Now, as milliseconds since the Unix epoch, including the virtual offset.
pub fn now_millis() -> i64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64;
    real + OFFSET_MS.load(Ordering::Relaxed)
}

/// Now, as seconds since the Unix epoch (fractional), as JSON protocols carry timestamps.
pub fn now_secs_f64() -> f64 {
    now_millis() as f64 / 1000.0
}

/// Now, as whole seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_millis().div_euclid(1000)
}

/// Now as an `OffsetDateTime` (UTC).
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_millis()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The current virtual offset in milliseconds.
pub fn offset_millis() -> i64 {
    OFFSET_MS.load(Ordering::Relaxed)
}

/// Moves the clock forward (never back: AWS time does not run backwards).
pub fn advance(by: Duration) {
    let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
    let new = OFFSET_MS.fetch_add(ms, Ordering::Relaxed) + ms;
    channel().send_replace(new);
}

/// Resets the offset to zero (used by `/_aloft/reset`).
pub fn reset() {
    OFFSET_MS.store(0, Ordering::Relaxed);
    channel().send_replace(0);
}

/// A receiver that wakes whenever the clock is moved.
pub fn changed() -> watch::Receiver<i64> {
    channel().subscribe()
}

/// Sleeps until the virtual clock reaches `deadline_ms`, waking early if the clock is advanced.
pub async fn sleep_until_millis(deadline_ms: i64) {
    let mut rx = changed();
    loop {
        let left = deadline_ms - now_millis();
        if left <= 0 {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(left as u64)) => {}
            r = rx.changed() => { if r.is_err() { tokio::time::sleep(Duration::from_millis(left as u64)).await; } }
        }
    }
}

/// Formats epoch milliseconds as ISO 8601 with milliseconds (`2026-11-21T07:20:00.000Z`).
pub fn iso8601_millis(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // Every response carries a timestamp or two: digits are pushed, not formatted.
    let mut s = String::with_capacity(24);
    push_year(&mut s, t.year());
    s.push('-');
    push2(&mut s, u8::from(t.month()));
    s.push('-');
    push2(&mut s, t.day());
    s.push('T');
    push_time(&mut s, &t);
    s.push('.');
    let milli = t.millisecond();
    push2(&mut s, (milli / 10) as u8);
    s.push(char::from(b'0' + (milli % 10) as u8));
    s.push('Z');
    s
}

/// Formats epoch milliseconds as an HTTP date (`Sat, 21 Nov 2026 07:20:00 GMT`).
pub fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut s = String::with_capacity(29);
    s.push_str(DAYS[t.weekday().number_days_from_monday() as usize]);
    s.push_str(", ");
    push2(&mut s, t.day());
    s.push(' ');
    s.push_str(MONTHS[u8::from(t.month()) as usize - 1]);
    s.push(' ');
    push_year(&mut s, t.year());
    s.push(' ');
    push_time(&mut s, &t);
    s.push_str(" GMT");
    s
}

fn push2(s: &mut String, n: u8) {
    s.push(char::from(b'0' + n / 10 % 10));
    s.push(char::from(b'0' + n % 10));
}

/// `{:04}`: four digits for the years AWS timestamps live in, `format!` for the rest.
fn push_year(s: &mut String, year: i32) {
    if (0..=9999).contains(&year) {
        push2(s, (year / 100) as u8);
        push2(s, (year % 100) as u8);
    } else {
        s.push_str(&format!("{year:04}"));
    }
}

fn push_time(s: &mut String, t: &time::OffsetDateTime) {
    push2(s, t.hour());
    s.push(':');
    push2(s, t.minute());
    s.push(':');
    push2(s, t.second());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_aws() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            http_date(1_700_000_000_123),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            iso8601_millis(1_700_000_000_007),
            "2023-11-14T22:13:20.007Z"
        );
        assert_eq!(iso8601_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            http_date(253_402_300_799_000),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        // Out of range: the epoch, as before.
        assert_eq!(http_date(i64::MAX), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
