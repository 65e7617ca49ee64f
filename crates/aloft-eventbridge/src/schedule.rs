//! Schedule expressions: `rate(N unit)` and six-field `cron(min hour dom month dow year)`,
//! evaluated in UTC as EventBridge rules are.

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A period in seconds.
    Rate(i64),
    Cron(Cron),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    dom: Option<Vec<bool>>,
    months: Vec<bool>,
    dow: Option<Vec<bool>>,
    years: Option<Vec<bool>>,
}

/// Parses `rate(...)` or `cron(...)`; the error is EventBridge's message.
pub fn parse(expr: &str) -> Result<Schedule, String> {
    let bad = || "Parameter ScheduleExpression is not valid.".to_string();
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
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
            _ => return Err(bad()),
        };
        return Ok(Schedule::Rate(n * secs));
    }
    let inner = expr
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(bad)?;
    let f: Vec<&str> = inner.split_whitespace().collect();
    if f.len() != 6 {
        return Err(bad());
    }
    // Exactly one of day-of-month and day-of-week must be `?`.
    if (f[2] == "?") == (f[4] == "?") {
        return Err(bad());
    }
    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let years = if f[5] == "*" {
        None
    } else {
        Some(field(f[5], 1970, 2199, &[]).ok_or_else(bad)?)
    };
    Ok(Schedule::Cron(Cron {
        minutes: field(f[0], 0, 59, &[]).ok_or_else(bad)?,
        hours: field(f[1], 0, 23, &[]).ok_or_else(bad)?,
        dom: if f[2] == "?" {
            None
        } else {
            Some(field(f[2], 1, 31, &[]).ok_or_else(bad)?)
        },
        months: field(f[3], 1, 12, MONTHS).ok_or_else(bad)?,
        dow: if f[4] == "?" {
            None
        } else {
            Some(field(f[4], 1, 7, DAYS).ok_or_else(bad)?)
        },
        years,
    }))
}

/// One cron field as a bitmap over `lo..=hi` (index 0 is `lo`).
fn field(s: &str, lo: i32, hi: i32, names: &[&str]) -> Option<Vec<bool>> {
    let mut bits = vec![false; (hi - lo + 1) as usize];
    let value = |t: &str| -> Option<i32> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            return Some(i as i32 + lo);
        }
        t.parse().ok().filter(|v| (lo..=hi).contains(v))
    };
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<i32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((x, y)) = range.split_once('-') {
            (value(x)?, value(y)?)
        } else {
            let v = value(range)?;
            (v, if part.contains('/') { hi } else { v })
        };
        if a > b {
            return None;
        }
        let mut v = a;
        while v <= b {
            bits[(v - lo) as usize] = true;
            v += step;
        }
    }
    Some(bits)
}

impl Schedule {
    /// The first firing strictly after `after_ms` (for rates: counted from `start_ms`).
    pub fn next_after(&self, start_ms: i64, after_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate(secs) => {
                let p = secs * 1000;
                let n = ((after_ms - start_ms).div_euclid(p)) + 1;
                Some(start_ms + n.max(1) * p)
            }
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

impl Cron {
    fn next_after(&self, after_ms: i64) -> Option<i64> {
        let t = OffsetDateTime::from_unix_timestamp(after_ms.div_euclid(1000)).ok()?;
        // Start at the next whole minute.
        let mut t = t.replace_second(0).ok()?.replace_nanosecond(0).ok()? + Duration::minutes(1);
        for _ in 0..(366 * 5) {
            let year_ok = self
                .years
                .as_ref()
                .is_none_or(|y| y.get((t.year() - 1970) as usize).copied().unwrap_or(false));
            let month_ok = self.months[u8::from(t.month()) as usize - 1];
            let dom_ok = self.dom.as_ref().is_none_or(|d| d[t.day() as usize - 1]);
            let dow = t.weekday().number_days_from_sunday() as usize; // 0 = Sunday = cron 1
            let dow_ok = self.dow.as_ref().is_none_or(|d| d[dow]);
            if year_ok && month_ok && dom_ok && dow_ok {
                for h in t.hour()..24 {
                    if !self.hours[h as usize] {
                        continue;
                    }
                    let m0 = if h == t.hour() { t.minute() } else { 0 };
                    for m in m0..60 {
                        if self.minutes[m as usize] {
                            let at = t.replace_hour(h).ok()?.replace_minute(m).ok()?;
                            return Some(at.unix_timestamp() * 1000);
                        }
                    }
                }
            }
            t = (t + Duration::days(1))
                .replace_hour(0)
                .ok()?
                .replace_minute(0)
                .ok()?;
        }
        None
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
        let s = parse("rate(1 minute)").unwrap();
        assert_eq!(s.next_after(0, 0), Some(60_000));
        assert_eq!(s.next_after(0, 60_000), Some(120_000));
    }

    #[test]
    fn crons() {
        assert!(
            parse("cron(0 12 * * * *)").is_err(),
            "one of dom/dow must be ?"
        );
        let noon = parse("cron(0 12 * * ? *)").unwrap();
        // 2023-11-14T22:13:20Z → next noon is 2023-11-15T12:00:00Z.
        assert_eq!(
            noon.next_after(0, 1_700_000_000_000),
            Some(1_700_049_600_000)
        );
        let every15 = parse("cron(0/15 * * * ? *)").unwrap();
        assert_eq!(
            every15.next_after(0, 1_700_000_000_000),
            Some(1_700_000_100_000)
        );
        // Mondays (cron day 2) at 08:00: 2023-11-20 is a Monday.
        let mon = parse("cron(0 8 ? * MON *)").unwrap();
        assert_eq!(
            mon.next_after(0, 1_700_000_000_000),
            Some(1_700_467_200_000)
        );
        assert!(parse("cron(61 * * * ? *)").is_err());
    }
}
