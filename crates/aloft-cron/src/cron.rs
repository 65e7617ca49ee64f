//! Six-field cron expressions (`cron(min hour day-of-month month day-of-week year)`) with
//! AWS's extras: `?`, `L` (last day of month, `5L` last Thursday), `W` (nearest weekday,
//! `LW`), `#` (`2#1` first Monday); names `JAN`..`DEC`, `SUN`..`SAT` (1 = Sunday).

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

use crate::tz::{Local, Zone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    dom: Option<Dom>,
    months: Vec<bool>,
    dow: Option<Dow>,
    years: Option<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Dom {
    Days(Vec<bool>),
    Last,
    LastWeekday,
    NearestWeekday(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Dow {
    /// Index 0 = Sunday (cron 1).
    Days(Vec<bool>),
    /// The last such weekday of the month (`6L`).
    Last(u8),
    /// The nth such weekday of the month (`2#1`).
    Nth(u8, u8),
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn bad() -> String {
    crate::bad()
}

/// Parses `cron(...)`; the error is EventBridge's message.
///
/// # Errors
/// `Parameter ScheduleExpression is not valid.` when a field is out of range or malformed.
pub fn parse(expr: &str) -> Result<Cron, String> {
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
    let years = if f[5] == "*" {
        None
    } else {
        Some(field(f[5], 1970, 2199, &[]).ok_or_else(bad)?)
    };
    Ok(Cron {
        minutes: field(f[0], 0, 59, &[]).ok_or_else(bad)?,
        hours: field(f[1], 0, 23, &[]).ok_or_else(bad)?,
        dom: if f[2] == "?" {
            None
        } else {
            Some(dom(f[2]).ok_or_else(bad)?)
        },
        months: field(f[3], 1, 12, MONTHS).ok_or_else(bad)?,
        dow: if f[4] == "?" {
            None
        } else {
            Some(dow(f[4]).ok_or_else(bad)?)
        },
        years,
    })
}

fn dom(s: &str) -> Option<Dom> {
    match s {
        "L" => Some(Dom::Last),
        "LW" => Some(Dom::LastWeekday),
        _ => match s.strip_suffix('W') {
            Some(d) => d
                .parse::<u8>()
                .ok()
                .filter(|d| (1..=31).contains(d))
                .map(Dom::NearestWeekday),
            None => field(s, 1, 31, &[]).map(Dom::Days),
        },
    }
}

fn dow(s: &str) -> Option<Dow> {
    let day = |t: &str| -> Option<u8> {
        if let Some(i) = DAYS.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            return Some(i as u8 + 1);
        }
        t.parse().ok().filter(|v| (1..=7).contains(v))
    };
    if s == "L" {
        return Some(Dow::Days(one_day(7)));
    }
    if let Some(d) = s.strip_suffix('L') {
        return day(d).map(Dow::Last);
    }
    if let Some((d, n)) = s.split_once('#') {
        let n: u8 = n.parse().ok().filter(|n| (1..=5).contains(n))?;
        return day(d).map(|d| Dow::Nth(d, n));
    }
    field(s, 1, 7, DAYS).map(Dow::Days)
}

fn one_day(d: u8) -> Vec<bool> {
    let mut v = vec![false; 7];
    v[usize::from(d - 1)] = true;
    v
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

fn days_in_month(year: i32, month: Month) -> u8 {
    month.length(year)
}

fn is_weekday(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl Cron {
    fn day_matches(&self, d: Date) -> bool {
        let last = days_in_month(d.year(), d.month());
        let dom_ok = match &self.dom {
            None => true,
            Some(Dom::Days(b)) => b[usize::from(d.day()) - 1],
            Some(Dom::Last) => d.day() == last,
            Some(Dom::LastWeekday) => {
                let mut x = d.replace_day(last).unwrap_or(d);
                while !is_weekday(x) {
                    x = x.previous_day().unwrap_or(x);
                }
                x == d
            }
            Some(Dom::NearestWeekday(n)) => {
                // The weekday nearest to day n, never crossing into another month.
                let n = (*n).min(last);
                let Ok(target) = d.replace_day(n) else {
                    return false;
                };
                let near = match target.weekday() {
                    Weekday::Saturday if n == 1 => target + Duration::days(2),
                    Weekday::Saturday => target - Duration::days(1),
                    Weekday::Sunday if n == last => target - Duration::days(2),
                    Weekday::Sunday => target + Duration::days(1),
                    _ => target,
                };
                near == d
            }
        };
        let wd = d.weekday().number_days_from_sunday(); // 0 = Sunday = cron 1
        let dow_ok = match &self.dow {
            None => true,
            Some(Dow::Days(b)) => b[usize::from(wd)],
            Some(Dow::Last(x)) => wd + 1 == *x && d.day() + 7 > last,
            Some(Dow::Nth(x, n)) => wd + 1 == *x && (d.day() - 1) / 7 + 1 == *n,
        };
        let year_ok = self
            .years
            .as_ref()
            .is_none_or(|y| y.get((d.year() - 1970) as usize).copied().unwrap_or(false));
        year_ok && self.months[usize::from(u8::from(d.month())) - 1] && dom_ok && dow_ok
    }

    /// The first matching wall-clock minute strictly after `after` (a naive local time in
    /// seconds), searching up to five years ahead.
    fn next_local(&self, after: i64) -> Option<i64> {
        let t = OffsetDateTime::from_unix_timestamp(after).ok()?;
        let mut t = t.replace_second(0).ok()?.replace_nanosecond(0).ok()? + Duration::minutes(1);
        for _ in 0..(366 * 5) {
            if self.day_matches(t.date()) {
                for h in t.hour()..24 {
                    if !self.hours[usize::from(h)] {
                        continue;
                    }
                    let m0 = if h == t.hour() { t.minute() } else { 0 };
                    for m in m0..60 {
                        if self.minutes[usize::from(m)] {
                            let at = t.replace_hour(h).ok()?.replace_minute(m).ok()?;
                            return Some(at.unix_timestamp());
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

    /// The first firing strictly after `after_ms`, with the fields read as wall-clock time in
    /// `zone`. As Scheduler documents for daylight saving: a time skipped when clocks go
    /// forward does not fire, and a time repeated when they go back fires once (the first).
    pub fn next_after_in(&self, after_ms: i64, zone: &Zone) -> Option<i64> {
        let after_s = after_ms.div_euclid(1000);
        let mut local = after_s + i64::from(zone.offset_at(after_s));
        for _ in 0..64 {
            let cand = self.next_local(local)?;
            match zone.to_utc(cand) {
                Local::Single(u) | Local::Ambiguous(u, _) if u > after_s => return Some(u * 1000),
                _ => local = cand,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Schedule, parse as parse_any};

    fn next(expr: &str, after_ms: i64) -> Option<i64> {
        parse_any(expr).unwrap().next_after(0, after_ms)
    }

    #[test]
    fn utc_crons() {
        assert!(
            parse("cron(0 12 * * * *)").is_err(),
            "one of dom/dow must be ?"
        );
        // 2023-11-14T22:13:20Z → next noon is 2023-11-15T12:00:00Z.
        assert_eq!(
            next("cron(0 12 * * ? *)", 1_700_000_000_000),
            Some(1_700_049_600_000)
        );
        assert_eq!(
            next("cron(0/15 * * * ? *)", 1_700_000_000_000),
            Some(1_700_000_100_000)
        );
        // Mondays (cron day 2) at 08:00: 2023-11-20 is a Monday.
        assert_eq!(
            next("cron(0 8 ? * MON *)", 1_700_000_000_000),
            Some(1_700_467_200_000)
        );
        assert!(parse("cron(61 * * * ? *)").is_err());
        assert!(matches!(
            parse_any("cron(0 8 ? * 2#1 *)"),
            Ok(Schedule::Cron(_))
        ));
    }

    fn at(s: &str) -> i64 {
        let f = time::format_description::well_known::Rfc3339;
        OffsetDateTime::parse(s, &f).unwrap().unix_timestamp() * 1000
    }

    #[test]
    fn last_nearest_and_nth() {
        // Last day of November 2023 is the 30th.
        assert_eq!(
            next("cron(0 0 L * ? *)", at("2023-11-14T00:00:00Z")),
            Some(at("2023-11-30T00:00:00Z"))
        );
        // 2023-09-30 is a Saturday: LW is Friday the 29th.
        assert_eq!(
            next("cron(0 0 LW * ? *)", at("2023-09-01T00:00:00Z")),
            Some(at("2023-09-29T00:00:00Z"))
        );
        // 15W in July 2023: the 15th is a Saturday → Friday the 14th.
        assert_eq!(
            next("cron(0 0 15W * ? *)", at("2023-07-01T00:00:00Z")),
            Some(at("2023-07-14T00:00:00Z"))
        );
        // First Monday of December 2023 is the 4th; last Friday of November is the 24th.
        assert_eq!(
            next("cron(0 9 ? * 2#1 *)", at("2023-11-14T00:00:00Z")),
            Some(at("2023-12-04T09:00:00Z"))
        );
        assert_eq!(
            next("cron(0 9 ? * 6L *)", at("2023-11-14T00:00:00Z")),
            Some(at("2023-11-24T09:00:00Z"))
        );
    }

    #[test]
    fn time_zones_and_daylight_saving() {
        let ny = Zone::named("America/New_York").unwrap();
        let c = parse("cron(30 2 * * ? *)").unwrap();
        // 2024-03-10 02:30 does not exist in New York: skipped, next is 03-11 02:30 EDT.
        assert_eq!(
            c.next_after_in(at("2024-03-09T12:00:00Z"), &ny),
            Some(at("2024-03-11T06:30:00Z"))
        );
        // 2024-11-03 01:30 happens twice: it fires once, at the first (EDT).
        let c = parse("cron(30 1 * * ? *)").unwrap();
        let first = c.next_after_in(at("2024-11-02T12:00:00Z"), &ny).unwrap();
        assert_eq!(first, at("2024-11-03T05:30:00Z"));
        assert_eq!(
            c.next_after_in(first, &ny),
            Some(at("2024-11-04T06:30:00Z"))
        );
        // Tokyo has no DST: 09:00 JST is 00:00 UTC.
        let tokyo = Zone::named("Asia/Tokyo").unwrap();
        let c = parse("cron(0 9 * * ? *)").unwrap();
        assert_eq!(
            c.next_after_in(at("2024-06-01T01:00:00Z"), &tokyo),
            Some(at("2024-06-02T00:00:00Z"))
        );
    }
}
