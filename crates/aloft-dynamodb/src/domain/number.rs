//! DynamoDB's Number: a decimal of up to 38 significant digits, magnitude 1E-130 to 1E+126.
//!
//! Kept as sign + coefficient (≤ 38 digits fits in a `u128`) + exponent, normalised so that
//! equal numbers are equal values ("1.50" and "15E-1" are one number, as on AWS, which
//! returns both as "1.5").

use std::cmp::Ordering;
use std::fmt;

/// The largest coefficient DynamoDB stores: 38 nines.
const MAX_DIGITS: usize = 38;
/// Adjusted exponent (position of the leading digit) bounds: 1E-130 ..= 9.99…E+125.
const MAX_ADJ_EXP: i32 = 125;
const MIN_ADJ_EXP: i32 = -130;

/// A `u128` kept as two `u64`s: `u128` is 16-byte aligned, which would make every
/// `Number` (and so every attribute value) 16 bytes larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Coef(u64, u64);

impl Coef {
    const ZERO: Coef = Coef(0, 0);

    fn new(v: u128) -> Coef {
        Coef((v >> 64) as u64, v as u64)
    }

    fn get(self) -> u128 {
        (u128::from(self.0) << 64) | u128::from(self.1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    /// Without trailing zeros; zero is `coef == 0, exp == 0, neg == false`.
    coef: Coef,
    exp: i32,
}

/// Why a string is not a DynamoDB number; each maps to AWS's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    Invalid,
    Overflow,
    Underflow,
    Precision,
}

impl NumberError {
    pub fn message(self) -> &'static str {
        match self {
            NumberError::Invalid => "A value provided cannot be converted into a number",
            NumberError::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
            }
            NumberError::Precision => {
                "Attempting to store more than 38 significant digits in a Number"
            }
        }
    }
}

/// 10^0 ..= 10^38.
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// By comparisons with the powers of ten: a `u128` division per digit cost more than the
/// rest of a number comparison.
fn digit_count(c: u128) -> i32 {
    POW10.partition_point(|&p| p <= c) as i32
}

impl Number {
    pub const ZERO: Number = Number {
        neg: false,
        coef: Coef::ZERO,
        exp: 0,
    };

    /// Builds from significant digits (ASCII, no leading zeros needed) and an exponent.
    fn from_digits(neg: bool, digits: &[u8], exp: i64) -> Result<Number, NumberError> {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        let end = digits
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(start, |e| e + 1);
        if start >= end {
            return Ok(Number::ZERO);
        }
        let sig = &digits[start..end];
        let exp = exp + (digits.len() - end) as i64;
        let adj = exp + sig.len() as i64 - 1;
        if adj > i64::from(MAX_ADJ_EXP) {
            return Err(NumberError::Overflow);
        }
        if adj < i64::from(MIN_ADJ_EXP) {
            return Err(NumberError::Underflow);
        }
        if sig.len() > MAX_DIGITS {
            return Err(NumberError::Precision);
        }
        let coef = sig
            .iter()
            .fold(0u128, |acc, d| acc * 10 + u128::from(d - b'0'));
        Ok(Number {
            neg,
            coef: Coef::new(coef),
            exp: exp as i32,
        })
    }

    /// Parses AWS's accepted syntax: `[+-]digits[.digits][(e|E)[+-]digits]`.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            neg = b[i] == b'-';
            i += 1;
        }
        // Digits gather on the stack for the usual short number (no allocation per value).
        let mut stack = [0u8; 64];
        let mut heap = Vec::new();
        let digits: &mut [u8] = if b.len() <= stack.len() {
            &mut stack[..b.len()]
        } else {
            heap.resize(b.len(), 0);
            &mut heap
        };
        let mut nd = 0;
        let mut frac = 0i64;
        let mut seen_digit = false;
        while i < b.len() && b[i].is_ascii_digit() {
            digits[nd] = b[i];
            nd += 1;
            seen_digit = true;
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                digits[nd] = b[i];
                nd += 1;
                frac += 1;
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return Err(NumberError::Invalid);
        }
        let mut exp = 0i64;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut eneg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                eneg = b[i] == b'-';
                i += 1;
            }
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Saturate: anything this large is out of range anyway.
                exp = (exp * 10 + i64::from(b[i] - b'0')).min(1_000_000_000);
                i += 1;
            }
            if st == i {
                return Err(NumberError::Invalid);
            }
            if eneg {
                exp = -exp;
            }
        }
        if i != b.len() {
            return Err(NumberError::Invalid);
        }
        let mut n = Number::from_digits(neg, &digits[..nd], exp - frac)?;
        if n.coef.get() == 0 {
            n.neg = false;
        }
        Ok(n)
    }

    pub fn from_i64(v: i64) -> Number {
        Number::parse(&v.to_string()).unwrap_or(Number::ZERO)
    }

    pub fn is_zero(&self) -> bool {
        self.coef.get() == 0
    }

    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// Number of significant digits (0 for zero).
    pub fn significant_digits(&self) -> usize {
        digit_count(self.coef.get()) as usize
    }

    /// The exponent of the leading digit (scientific notation's exponent).
    fn adjusted_exp(&self) -> i32 {
        self.exp + digit_count(self.coef.get()) - 1
    }

    fn digit_string(&self) -> String {
        self.coef.get().to_string()
    }

    /// The value as an `i64`, when it is an integer in range (TTL timestamps, indexes).
    pub fn to_i64(&self) -> Option<i64> {
        if self.exp < 0 {
            return None;
        }
        let mut c = i128::try_from(self.coef.get()).ok()?;
        for _ in 0..self.exp {
            c = c.checked_mul(10)?;
        }
        let c = if self.neg { -c } else { c };
        i64::try_from(c).ok()
    }

    /// The value as a float (approximate; for TTL comparisons with fractional seconds).
    pub fn to_f64(&self) -> f64 {
        let s = format!("{}e{}", self.digit_string(), self.exp);
        let v: f64 = s.parse().unwrap_or(0.0);
        if self.neg { -v } else { v }
    }

    #[must_use]
    pub fn negate(&self) -> Number {
        let mut n = *self;
        if n.coef.get() != 0 {
            n.neg = !n.neg;
        }
        n
    }

    /// Exact sum, or AWS's range/precision error when the result does not fit.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        // Align both coefficients to the smaller exponent as decimal digit strings.
        let exp = self.exp.min(other.exp);
        let a = scaled_digits(self, exp);
        let b = scaled_digits(other, exp);
        let (neg, digits) = if self.neg == other.neg {
            (self.neg, add_digits(&a, &b))
        } else {
            match cmp_digits(&a, &b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (self.neg, sub_digits(&a, &b)),
                Ordering::Less => (other.neg, sub_digits(&b, &a)),
            }
        };
        Number::from_digits(neg, &digits, i64::from(exp))
    }

    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negate())
    }

    /// Bytes that sort like the numbers (used in index keys).
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x80);
            return;
        }
        let adj = (self.adjusted_exp() + 1000) as u16;
        let digits = self.digit_string();
        if self.neg {
            out.push(0x40);
            out.extend_from_slice(&(u16::MAX - adj).to_be_bytes());
            out.extend(digits.bytes().map(|d| 0xFF - d));
            out.push(0xFF);
        } else {
            out.push(0xC0);
            out.extend_from_slice(&adj.to_be_bytes());
            out.extend_from_slice(digits.as_bytes());
            out.push(0x00);
        }
    }
}

fn scaled_digits(n: &Number, exp: i32) -> Vec<u8> {
    let mut d = n.digit_string().into_bytes();
    d.extend(std::iter::repeat_n(b'0', (n.exp - exp) as usize));
    d
}

fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let x = if i > 0 {
            i -= 1;
            a[i] - b'0'
        } else {
            0
        };
        let y = if j > 0 {
            j -= 1;
            b[j] - b'0'
        } else {
            0
        };
        let s = x + y + carry;
        out.push(b'0' + s % 10);
        carry = s / 10;
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut i, mut j, mut borrow) = (a.len(), b.len(), 0i8);
    while i > 0 {
        i -= 1;
        let x = (a[i] - b'0') as i8;
        let y = if j > 0 {
            j -= 1;
            (b[j] - b'0') as i8
        } else {
            0
        };
        let mut d = x - y - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(b'0' + d as u8);
    }
    out.reverse();
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if other.neg {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            (false, true) => {
                return if self.neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            _ => {}
        }
        if self.neg != other.neg {
            return if self.neg {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let mag = self
            .adjusted_exp()
            .cmp(&other.adjusted_exp())
            .then_with(|| {
                // Same leading position: compare the digits left-aligned, as numbers once the
                // shorter is padded with zeros (then the shorter first, as its digit string
                // would sort); without formatting both, which cost ~1k instructions per
                // comparison in filters and sort key conditions.
                let (a, b) = (self.coef.get(), other.coef.get());
                let (da, db) = (digit_count(a), digit_count(b));
                let pad = |x: u128, by: i32| x.checked_mul(POW10[by as usize]);
                let (pa, pb) = if da < db {
                    (pad(a, db - da), Some(b))
                } else {
                    (Some(a), pad(b, da - db))
                };
                match (pa, pb) {
                    (Some(x), Some(y)) => x.cmp(&y).then(da.cmp(&db)),
                    _ => self
                        .digit_string()
                        .as_bytes()
                        .cmp(other.digit_string().as_bytes()),
                }
            });
        if self.neg { mag.reverse() } else { mag }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Number {
    /// Appends the plain notation `Display` gives, without formatting machinery or a
    /// temporary string (every number of every item answered goes through here).
    pub fn write_plain(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(b'0');
            return;
        }
        let mut buf = [0u8; 40];
        let mut i = buf.len();
        let mut c = self.coef.get();
        while c > u128::from(u64::MAX) {
            i -= 1;
            buf[i] = b'0' + (c % 10) as u8;
            c /= 10;
        }
        let mut c = c as u64;
        while c > 0 {
            i -= 1;
            buf[i] = b'0' + (c % 10) as u8;
            c /= 10;
        }
        let digits = &buf[i..];
        if self.neg {
            out.push(b'-');
        }
        if self.exp >= 0 {
            out.extend_from_slice(digits);
            out.resize(out.len() + self.exp as usize, b'0');
        } else {
            let point = digits.len() as i32 + self.exp;
            if point > 0 {
                out.extend_from_slice(&digits[..point as usize]);
                out.push(b'.');
                out.extend_from_slice(&digits[point as usize..]);
            } else {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (-point) as usize, b'0');
                out.extend_from_slice(digits);
            }
        }
    }
}

/// AWS returns numbers in plain notation without exponent or trailing zeros.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let digits = self.digit_string();
        let mut s = String::with_capacity(digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        if self.exp >= 0 {
            s.push_str(&digits);
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = digits.len() as i32 + self.exp;
            if point > 0 {
                s.push_str(&digits[..point as usize]);
                s.push('.');
                s.push_str(&digits[point as usize..]);
            } else {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', (-point) as usize));
                s.push_str(&digits);
            }
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_plain_matches_display() {
        for s in [
            "0",
            "-0",
            "1",
            "-1",
            "10",
            "1.5",
            "-0.000120",
            "1E+3",
            "1.50E-7",
            "12345678901234567890123456789012345678",
            "-9.9999999999999999999999999999999999999E+125",
            "1E-130",
            "18446744073709551615",
            "18446744073709551616",
            "0.1",
            "100.001",
        ] {
            let n = Number::parse(s).expect(s);
            let mut out = Vec::new();
            n.write_plain(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string(), "{s}");
        }
    }

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn canonical_form() {
        assert_eq!(n("1.50").to_string(), "1.5");
        assert_eq!(n("15E-1").to_string(), "1.5");
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("-0.00").to_string(), "0");
        assert_eq!(n("+007").to_string(), "7");
        assert_eq!(n(".5").to_string(), "0.5");
        assert_eq!(n("5.").to_string(), "5");
        assert_eq!(n("-0.000123").to_string(), "-0.000123");
        assert_eq!(n("1.5"), n("15e-1"));
    }

    #[test]
    fn range_and_precision() {
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert_eq!(Number::parse("1E+126"), Err(NumberError::Overflow));
        assert!(Number::parse("1E-130").is_ok());
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
        assert_eq!(
            Number::parse("1.000000000000000000000000000000000000001"),
            Err(NumberError::Precision)
        );
        // Trailing zeros are not significant.
        assert!(Number::parse("100000000000000000000000000000000000000000000").is_ok());
        for bad in [
            "", "abc", "1e", "--1", "1.2.3", " 1", "0x10", "Infinity", "NaN",
        ] {
            assert_eq!(Number::parse(bad), Err(NumberError::Invalid), "{bad}");
        }
    }

    #[test]
    fn comparison_agrees_with_the_ordered_encoding() {
        let src = [
            "0",
            "1",
            "-1",
            "12",
            "120",
            "123",
            "13",
            "1.2",
            "1.23",
            "0.0012",
            "-12",
            "-123",
            "-1.3",
            "99999999999999999999999999999999999999",
            "9999999999999999999999999999999999999.9",
            "1E+125",
            "9.9E+125",
            "1E-130",
            "-1E-130",
            "12345678901234567890123456789012345678",
            "1234567890123456789012345678901234567.9",
            "2",
            "19",
            "0.2",
            "1.9",
        ];
        let nums: Vec<Number> = src.iter().map(|x| n(x)).collect();
        let enc = |x: &Number| {
            let mut b = Vec::new();
            x.encode_ordered(&mut b);
            b
        };
        for (x, sx) in nums.iter().zip(src) {
            let digits = if x.is_zero() {
                0
            } else {
                x.digit_string().len()
            };
            assert_eq!(digit_count(x.coef.get()) as usize, digits, "{sx}");
            for (y, sy) in nums.iter().zip(src) {
                assert_eq!(x.cmp(y), enc(x).cmp(&enc(y)), "{sx} vs {sy}");
            }
        }
    }

    #[test]
    fn ordering() {
        let mut v = [
            n("10"),
            n("-1"),
            n("0"),
            n("2.5"),
            n("-10.5"),
            n("1e-5"),
            n("100"),
        ];
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["-10.5", "-1", "0", "0.00001", "2.5", "10", "100"]);
        let mut enc: Vec<Vec<u8>> = v
            .iter()
            .map(|x| {
                let mut b = Vec::new();
                x.encode_ordered(&mut b);
                b
            })
            .collect();
        let sorted = enc.clone();
        enc.sort();
        assert_eq!(enc, sorted, "encoding preserves order");
        let mut a = Vec::new();
        n("-1.2").encode_ordered(&mut a);
        let mut b = Vec::new();
        n("-1.25").encode_ordered(&mut b);
        assert!(b < a);
    }

    #[test]
    fn arithmetic() {
        assert_eq!(n("1.5").add(&n("2.25")).unwrap().to_string(), "3.75");
        assert_eq!(n("1").sub(&n("3")).unwrap().to_string(), "-2");
        assert_eq!(n("-1").add(&n("1")).unwrap(), Number::ZERO);
        assert_eq!(n("0.1").add(&n("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(
            n("1e30").add(&n("1e-30")),
            Err(NumberError::Precision),
            "61 digits cannot be stored"
        );
        assert_eq!(
            n("9.9999999999999999999999999999999999999E+125").add(&n("1e125")),
            Err(NumberError::Overflow)
        );
        assert_eq!(n("12345678901234567890").to_i64(), None);
        assert_eq!(n("1700000000").to_i64(), Some(1_700_000_000));
    }
}
