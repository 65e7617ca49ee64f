//! IANA time zones for schedules, as POSIX TZ rules (`EST5EDT,M3.2.0,M11.1.0`).
//!
//! Schedules only look forward, so a zone's current rule is all they need: the common zones
//! are embedded (the same answer on every machine, even without tzdata), and any other IANA
//! name is read from the footer line of the system's `/usr/share/zoneinfo` file (TZif v2+).

use time::{Date, Month};

/// A zone: standard offset and, if it observes daylight saving, when and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Seconds east of UTC.
    std_off: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Dst {
    off: i32,
    start: Rule,
    /// Local (standard) time of day the change happens, in seconds.
    start_time: i32,
    end: Rule,
    /// Local (daylight) time of day the change back happens.
    end_time: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    M(u8, u8, u8),
    /// Julian day 1..=365, February 29 never counted.
    J(u16),
    /// Zero-based day of the year, counting February 29.
    N(u16),
}

/// What a wall-clock time is in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    Single(i64),
    /// Clocks went back: the time happens twice (earlier first).
    Ambiguous(i64, i64),
    /// Clocks went forward over it.
    Gap,
}

const EMBEDDED: &[(&str, &str)] = &[
    ("UTC", "UTC0"),
    ("Etc/UTC", "UTC0"),
    ("GMT", "GMT0"),
    ("Etc/GMT", "GMT0"),
    ("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Detroit", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Toronto", "EST5EDT,M3.2.0,M11.1.0"),
    ("US/Eastern", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Chicago", "CST6CDT,M3.2.0,M11.1.0"),
    ("America/Winnipeg", "CST6CDT,M3.2.0,M11.1.0"),
    ("US/Central", "CST6CDT,M3.2.0,M11.1.0"),
    ("America/Mexico_City", "CST6"),
    ("America/Denver", "MST7MDT,M3.2.0,M11.1.0"),
    ("America/Edmonton", "MST7MDT,M3.2.0,M11.1.0"),
    ("US/Mountain", "MST7MDT,M3.2.0,M11.1.0"),
    ("America/Phoenix", "MST7"),
    ("America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Vancouver", "PST8PDT,M3.2.0,M11.1.0"),
    ("US/Pacific", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Anchorage", "AKST9AKDT,M3.2.0,M11.1.0"),
    ("Pacific/Honolulu", "HST10"),
    ("America/Halifax", "AST4ADT,M3.2.0,M11.1.0"),
    ("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0"),
    ("America/Sao_Paulo", "<-03>3"),
    ("America/Argentina/Buenos_Aires", "<-03>3"),
    ("America/Bogota", "<-05>5"),
    ("America/Lima", "<-05>5"),
    ("America/Santiago", "<-04>4<-03>,M9.1.6/24,M4.1.6/24"),
    ("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"),
    ("Europe/Dublin", "GMT0IST,M3.5.0/1,M10.5.0"),
    ("Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"),
    ("Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Vienna", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Oslo", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Copenhagen", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Prague", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Budapest", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kyiv", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kiev", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Bucharest", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Istanbul", "<+03>-3"),
    ("Europe/Moscow", "MSK-3"),
    ("Africa/Johannesburg", "SAST-2"),
    ("Africa/Lagos", "WAT-1"),
    ("Africa/Nairobi", "EAT-3"),
    ("Africa/Cairo", "EET-2EEST,M4.5.5/0,M10.5.4/24"),
    ("Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"),
    ("Asia/Riyadh", "<+03>-3"),
    ("Asia/Tehran", "<+0330>-3:30"),
    ("Asia/Dubai", "<+04>-4"),
    ("Asia/Karachi", "PKT-5"),
    ("Asia/Kolkata", "IST-5:30"),
    ("Asia/Calcutta", "IST-5:30"),
    ("Asia/Kathmandu", "<+0545>-5:45"),
    ("Asia/Dhaka", "<+06>-6"),
    ("Asia/Bangkok", "<+07>-7"),
    ("Asia/Ho_Chi_Minh", "<+07>-7"),
    ("Asia/Jakarta", "WIB-7"),
    ("Asia/Shanghai", "CST-8"),
    ("Asia/Hong_Kong", "HKT-8"),
    ("Asia/Taipei", "CST-8"),
    ("Asia/Singapore", "<+08>-8"),
    ("Asia/Kuala_Lumpur", "<+08>-8"),
    ("Asia/Manila", "PST-8"),
    ("Australia/Perth", "AWST-8"),
    ("Asia/Tokyo", "JST-9"),
    ("Asia/Seoul", "KST-9"),
    ("Australia/Darwin", "ACST-9:30"),
    ("Australia/Adelaide", "ACST-9:30ACDT,M10.1.0,M4.1.0/3"),
    ("Australia/Brisbane", "AEST-10"),
    ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Melbourne", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Canberra", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Hobart", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"),
];

impl Zone {
    pub fn utc() -> Self {
        Self {
            std_off: 0,
            dst: None,
        }
    }

    /// The zone for an IANA name: embedded, `Etc/GMT±N`, or the system's tzdata.
    pub fn named(name: &str) -> Option<Self> {
        if let Some((_, rule)) = EMBEDDED.iter().find(|(n, _)| *n == name) {
            return Self::posix(rule);
        }
        if let Some(n) = name.strip_prefix("Etc/GMT") {
            // POSIX sign convention: Etc/GMT+5 is five hours *behind* UTC.
            let h: i32 = n.parse().ok().filter(|h: &i32| (-14..=12).contains(h))?;
            return Some(Self {
                std_off: -h * 3600,
                dst: None,
            });
        }
        Self::system(name)
    }

    fn system(name: &str) -> Option<Self> {
        let safe = !name.is_empty()
            && !name.starts_with('/')
            && !name.split('/').any(|p| p.is_empty() || p.starts_with('.'))
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if !safe {
            return None;
        }
        let bytes = std::fs::read(format!("/usr/share/zoneinfo/{name}")).ok()?;
        if !bytes.starts_with(b"TZif") || bytes.get(4).is_none_or(|v| *v < b'2') {
            return None;
        }
        // The footer is the last line: "\n<POSIX TZ>\n".
        let body = bytes.strip_suffix(b"\n")?;
        let start = body.iter().rposition(|b| *b == b'\n')? + 1;
        Self::posix(std::str::from_utf8(&body[start..]).ok()?)
    }

    /// Parses a POSIX TZ rule string.
    pub fn posix(s: &str) -> Option<Self> {
        let mut p = Parser {
            s: s.as_bytes(),
            i: 0,
        };
        p.name()?;
        let std_off = -p.offset()?;
        if p.done() {
            return Some(Self { std_off, dst: None });
        }
        p.name()?;
        let off = if p.peek() == Some(b',') || p.done() {
            std_off + 3600
        } else {
            -p.offset()?
        };
        if p.done() {
            // No rule given: POSIX's default is the US rule.
            return Some(Self {
                std_off,
                dst: Some(Dst {
                    off,
                    start: Rule::M(3, 2, 0),
                    start_time: 7200,
                    end: Rule::M(11, 1, 0),
                    end_time: 7200,
                }),
            });
        }
        p.eat(b',')?;
        let (start, start_time) = p.rule()?;
        p.eat(b',')?;
        let (end, end_time) = p.rule()?;
        p.done().then_some(Self {
            std_off,
            dst: Some(Dst {
                off,
                start,
                start_time,
                end,
                end_time,
            }),
        })
    }

    /// Seconds east of UTC in force at `utc` (epoch seconds).
    pub fn offset_at(&self, utc: i64) -> i32 {
        let Some(d) = &self.dst else {
            return self.std_off;
        };
        let year = year_of(utc + i64::from(self.std_off));
        let in_dst = |y: i32| {
            let start = d.start.day(y) + i64::from(d.start_time) - i64::from(self.std_off);
            let end = d.end.day(y) + i64::from(d.end_time) - i64::from(d.off);
            if start < end {
                utc >= start && utc < end
            } else {
                // Southern hemisphere: daylight time spans the new year.
                !(utc >= end && utc < start)
            }
        };
        if in_dst(year) { d.off } else { self.std_off }
    }

    /// Maps a naive wall-clock time (seconds) to UTC.
    pub fn to_utc(&self, local: i64) -> Local {
        let Some(d) = &self.dst else {
            return Local::Single(local - i64::from(self.std_off));
        };
        let mut hits: Vec<i64> = [self.std_off, d.off]
            .iter()
            .map(|off| local - i64::from(*off))
            .filter(|u| i64::from(self.offset_at(*u)) == local - u)
            .collect();
        hits.sort_unstable();
        hits.dedup();
        match hits[..] {
            [u] => Local::Single(u),
            [a, b] => Local::Ambiguous(a, b),
            _ => Local::Gap,
        }
    }
}

fn year_of(secs: i64) -> i32 {
    time::OffsetDateTime::from_unix_timestamp(secs).map_or(1970, time::OffsetDateTime::year)
}

fn midnight(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp()
}

impl Rule {
    /// Local midnight (naive seconds) of the rule's day in `year`.
    fn day(self, year: i32) -> i64 {
        let jan1 = Date::from_calendar_date(year, Month::January, 1).unwrap_or(Date::MIN);
        match self {
            Rule::J(n) => {
                let leap = time::util::is_leap_year(year);
                let n = i64::from(n) - 1 + i64::from(leap && n >= 60);
                midnight(jan1) + n * 86_400
            }
            Rule::N(n) => midnight(jan1) + i64::from(n) * 86_400,
            Rule::M(m, w, wd) => {
                let month = Month::try_from(m).unwrap_or(Month::January);
                let first = Date::from_calendar_date(year, month, 1).unwrap_or(jan1);
                let first_wd = first.weekday().number_days_from_sunday();
                let mut day = 1 + (wd + 7 - first_wd) % 7 + (w - 1) * 7;
                let last = month.length(year);
                while day > last {
                    day -= 7;
                }
                midnight(first) + i64::from(day - 1) * 86_400
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }
    fn name(&mut self) -> Option<()> {
        if self.eat(b'<').is_some() {
            while self.peek()? != b'>' {
                self.i += 1;
            }
            self.i += 1;
            return Some(());
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        (self.i - start >= 3).then_some(())
    }
    fn number(&mut self) -> Option<i32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    /// `[+-]hh[:mm[:ss]]` in seconds, POSIX sign (positive = west).
    fn offset(&mut self) -> Option<i32> {
        let sign = match self.peek() {
            Some(b'-') => {
                self.i += 1;
                -1
            }
            Some(b'+') => {
                self.i += 1;
                1
            }
            _ => 1,
        };
        let mut secs = self.number()? * 3600;
        if self.eat(b':').is_some() {
            secs += self.number()? * 60;
            if self.eat(b':').is_some() {
                secs += self.number()?;
            }
        }
        Some(sign * secs)
    }
    fn rule(&mut self) -> Option<(Rule, i32)> {
        let rule = match self.peek()? {
            b'M' => {
                self.i += 1;
                let m = self.number()?;
                self.eat(b'.')?;
                let w = self.number()?;
                self.eat(b'.')?;
                let d = self.number()?;
                if !(1..=12).contains(&m) || !(1..=5).contains(&w) || !(0..=6).contains(&d) {
                    return None;
                }
                Rule::M(m as u8, w as u8, d as u8)
            }
            b'J' => {
                self.i += 1;
                Rule::J(
                    u16::try_from(self.number()?)
                        .ok()
                        .filter(|n| (1..=365).contains(n))?,
                )
            }
            _ => Rule::N(u16::try_from(self.number()?).ok().filter(|n| *n <= 365)?),
        };
        let time = if self.eat(b'/').is_some() {
            self.offset()?
        } else {
            7200
        };
        Some((rule, time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_through_the_year() {
        let ny = Zone::named("America/New_York").unwrap();
        // 2024-01-15T12:00Z is EST; 2024-07-15T12:00Z is EDT.
        assert_eq!(ny.offset_at(1_705_320_000), -5 * 3600);
        assert_eq!(ny.offset_at(1_721_044_800), -4 * 3600);
        // DST starts 2024-03-10 07:00Z (02:00 EST).
        assert_eq!(ny.offset_at(1_710_053_999), -5 * 3600);
        assert_eq!(ny.offset_at(1_710_054_000), -4 * 3600);
        let syd = Zone::named("Australia/Sydney").unwrap();
        assert_eq!(syd.offset_at(1_705_320_000), 11 * 3600, "January is summer");
        assert_eq!(syd.offset_at(1_721_044_800), 10 * 3600);
        let kolkata = Zone::named("Asia/Kolkata").unwrap();
        assert_eq!(kolkata.offset_at(0), 19_800);
        assert_eq!(Zone::named("Etc/GMT+5").unwrap().offset_at(0), -5 * 3600);
        assert!(Zone::named("Mars/Olympus").is_none());
        assert!(Zone::named("../etc/passwd").is_none());
    }

    #[test]
    fn other_zones_come_from_the_system_tzdata() {
        if !std::path::Path::new("/usr/share/zoneinfo/America/Indiana/Indianapolis").exists() {
            return;
        }
        let z = Zone::named("America/Indiana/Indianapolis").unwrap();
        assert_eq!(z, Zone::named("America/New_York").unwrap());
    }

    #[test]
    fn london_gap_and_overlap() {
        let l = Zone::named("Europe/London").unwrap();
        // 2024-03-31 01:30 local does not exist; 2024-10-27 01:30 happens twice.
        let gap = 1_711_848_600; // 2024-03-31T01:30 as naive seconds
        assert_eq!(l.to_utc(gap), Local::Gap);
        let twice = 1_729_992_600; // 2024-10-27T01:30 naive
        assert_eq!(l.to_utc(twice), Local::Ambiguous(twice - 3600, twice));
    }

    #[test]
    fn posix_strings() {
        let z = Zone::posix("<+0545>-5:45").unwrap();
        assert_eq!(z.offset_at(0), 20_700);
        assert!(Zone::posix("EST5EDT,M3.2.0,M13.1.0").is_none());
        assert!(Zone::posix("").is_none());
    }
}
