//! Schedule expressions shared by EventBridge rules and EventBridge Scheduler: `rate(N unit)`
//! and six-field `cron(min hour dom month dow year)`, evaluated in UTC (rules) or in an IANA
//! time zone (Scheduler's `ScheduleExpressionTimezone`, see [`tz`]).

pub mod cron;
pub mod tz;

pub use cron::Cron;
pub use tz::Zone;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A period in seconds.
    Rate(i64),
    Cron(Cron),
}

/// Parses `rate(...)` or `cron(...)`; the error is EventBridge's message.
///
/// # Errors
/// `Parameter ScheduleExpression is not valid.` for anything else.
pub fn parse(expr: &str) -> Result<Schedule, String> {
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        return parse_rate(inner, true).map(Schedule::Rate);
    }
    cron::parse(expr).map(Schedule::Cron)
}

fn bad() -> String {
    "Parameter ScheduleExpression is not valid.".to_string()
}

/// The inside of `rate(...)` as seconds. EventBridge rules insist on `1 minute` but
/// `2 minutes`; Scheduler accepts either form.
///
/// # Errors
/// EventBridge's message when the value or unit is wrong.
pub fn parse_rate(inner: &str, strict_plural: bool) -> Result<i64, String> {
    let mut it = inner.split_whitespace();
    let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    let n: i64 = n.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    let secs = match (unit, n) {
        ("minute", 1) | ("minutes", 2..) => 60,
        ("hour", 1) | ("hours", 2..) => 3600,
        ("day", 1) | ("days", 2..) => 86_400,
        ("minute" | "minutes", _) if !strict_plural => 60,
        ("hour" | "hours", _) if !strict_plural => 3600,
        ("day" | "days", _) if !strict_plural => 86_400,
        _ => return Err(bad()),
    };
    Ok(n * secs)
}

impl Schedule {
    /// The first firing strictly after `after_ms` (for rates: counted from `start_ms`), in UTC.
    pub fn next_after(&self, start_ms: i64, after_ms: i64) -> Option<i64> {
        self.next_after_in(start_ms, after_ms, &Zone::utc())
    }

    /// As [`Schedule::next_after`], with cron fields read as wall-clock time in `zone`.
    /// Rates are absolute periods: a `rate(1 day)` stays 24 hours across a DST change.
    pub fn next_after_in(&self, start_ms: i64, after_ms: i64, zone: &Zone) -> Option<i64> {
        match self {
            Schedule::Rate(secs) => {
                let p = secs * 1000;
                let n = ((after_ms - start_ms).div_euclid(p)) + 1;
                Some(start_ms + n.max(1) * p)
            }
            Schedule::Cron(c) => c.next_after_in(after_ms, zone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse("rate(5 minutes)").unwrap(), Schedule::Rate(300));
        assert_eq!(parse("rate(1 hour)").unwrap(), Schedule::Rate(3600));
        assert!(parse("rate(1 minutes)").is_err());
        assert!(parse("rate(0 minutes)").is_err());
        assert!(parse("rate(5 weeks)").is_err());
        assert_eq!(parse_rate("1 minutes", false).unwrap(), 60);
        let s = parse("rate(1 minute)").unwrap();
        assert_eq!(s.next_after(0, 0), Some(60_000));
        assert_eq!(s.next_after(0, 60_000), Some(120_000));
    }
}
