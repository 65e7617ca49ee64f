//! Scheduler's schedule expressions: one-time `at(yyyy-mm-ddThh:mm:ss)`, `rate(N unit)` and
//! `cron(...)`, with `at` and `cron` read as wall-clock time in ScheduleExpressionTimezone.

use aloft_cron::{Cron, Zone, tz::Local};
use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::error::{Result, SchedError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A naive local time, in seconds.
    At(i64),
    /// A period in seconds.
    Rate(i64),
    Cron(Cron),
}

fn invalid(expr: &str) -> SchedError {
    SchedError::validation(format!("Invalid Schedule Expression {expr}."))
}

/// Parses an expression; the time zone is checked separately by [`zone`].
pub fn parse(expr: &str) -> Result<Expr> {
    if let Some(inner) = expr.strip_prefix("at(").and_then(|s| s.strip_suffix(')')) {
        let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let t = PrimitiveDateTime::parse(inner, &f).map_err(|_| invalid(expr))?;
        return Ok(Expr::At(t.assume_utc().unix_timestamp()));
    }
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        return aloft_cron::parse_rate(inner, false)
            .map(Expr::Rate)
            .map_err(|_| invalid(expr));
    }
    aloft_cron::cron::parse(expr)
        .map(Expr::Cron)
        .map_err(|_| invalid(expr))
}

/// The zone named by ScheduleExpressionTimezone (UTC when absent).
pub fn zone(name: Option<&str>) -> Result<Zone> {
    match name {
        None => Ok(Zone::utc()),
        Some(n) => {
            Zone::named(n).ok_or_else(|| SchedError::validation(format!("Invalid time zone: {n}")))
        }
    }
}

impl Expr {
    /// The first occurrence strictly after `after_ms` (rates count from `anchor_ms`, and
    /// their first occurrence is the anchor itself: a rate schedule starts at once).
    pub fn next_after(&self, anchor_ms: i64, after_ms: i64, zone: &Zone) -> Option<i64> {
        match self {
            Expr::At(local) => match zone.to_utc(*local) {
                Local::Single(u) | Local::Ambiguous(u, _) => {
                    Some(u * 1000).filter(|t| *t > after_ms)
                }
                // A time the clocks skip happens at the moment they jump.
                Local::Gap => {
                    let u = local - i64::from(zone.offset_at(*local - 86_400));
                    Some(u * 1000).filter(|t| *t > after_ms)
                }
            },
            Expr::Rate(secs) => {
                let p = secs * 1000;
                if after_ms < anchor_ms {
                    return Some(anchor_ms);
                }
                Some(anchor_ms + ((after_ms - anchor_ms).div_euclid(p) + 1) * p)
            }
            Expr::Cron(c) => c.next_after_in(after_ms, zone),
        }
    }

    pub fn is_one_time(&self) -> bool {
        matches!(self, Expr::At(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(
            parse("at(2024-03-10T12:00:00)").unwrap(),
            Expr::At(1_710_072_000)
        );
        assert_eq!(parse("rate(1 minutes)").unwrap(), Expr::Rate(60));
        assert_eq!(parse("rate(5 minutes)").unwrap(), Expr::Rate(300));
        assert!(matches!(parse("cron(0 9 * * ? *)").unwrap(), Expr::Cron(_)));
        for bad in [
            "at(2024-03-10)",
            "rate(5 weeks)",
            "cron(0 9 * * *)",
            "every day",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.message, format!("Invalid Schedule Expression {bad}."));
        }
        assert!(zone(Some("Nowhere/Land")).is_err());
    }

    #[test]
    fn occurrences() {
        let utc = Zone::utc();
        let r = Expr::Rate(60);
        assert_eq!(
            r.next_after(1000, 0, &utc),
            Some(1000),
            "first at the anchor"
        );
        assert_eq!(r.next_after(1000, 1000, &utc), Some(61_000));
        let ny = zone(Some("America/New_York")).unwrap();
        let at = parse("at(2024-07-01T09:00:00)").unwrap();
        // 09:00 EDT is 13:00 UTC.
        assert_eq!(at.next_after(0, 0, &ny), Some(1_719_838_800_000));
        assert_eq!(at.next_after(0, 1_719_838_800_000, &ny), None);
    }
}
