//! `Str`, the string of an `S` value: up to [`INLINE`] bytes inside the value itself, longer
//! ones on the heap. Most stored strings (ids, names, emails, dates) are short, and a heap
//! string per value was a separate allocation, so a separate cold cache line and page walk
//! per attribute when a large table's item is read.
//!
//! Same 24 bytes as the `String` it replaces; the length of an inline string is an enum of
//! the 24 possible lengths so that the heap case fits in the values it leaves unused.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest string kept inline.
pub const INLINE: usize = 23;

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
}

const LENS: [Len; INLINE + 1] = [
    Len::L0,
    Len::L1,
    Len::L2,
    Len::L3,
    Len::L4,
    Len::L5,
    Len::L6,
    Len::L7,
    Len::L8,
    Len::L9,
    Len::L10,
    Len::L11,
    Len::L12,
    Len::L13,
    Len::L14,
    Len::L15,
    Len::L16,
    Len::L17,
    Len::L18,
    Len::L19,
    Len::L20,
    Len::L21,
    Len::L22,
    Len::L23,
];

/// An immutable string, inline when short.
#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: Len, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Str {
    pub const EMPTY: Str = Str(Repr::Inline {
        len: Len::L0,
        bytes: [0; INLINE],
    });

    #[inline]
    fn inline(s: &str) -> Option<Str> {
        let len = *LENS.get(s.len())?;
        let mut bytes = [0; INLINE];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Str(Repr::Inline { len, bytes }))
    }

    /// The bytes, without the UTF-8 check `as_str` pays for an inline string: lengths,
    /// comparisons, hashing, key encoding and rendering need only these.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline { len, .. } => *len as usize,
            Repr::Heap(s) => s.len(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ever filled from a `&str`, so always valid UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..*len as usize]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }

    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Heap(s) => s.into_string(),
            Repr::Inline { .. } => self.as_str().to_string(),
        }
    }

    /// Whether the string is held on the heap (tests and memory accounting).
    pub fn is_heap(&self) -> bool {
        matches!(self.0, Repr::Heap(_))
    }
}

impl Default for Str {
    fn default() -> Self {
        Str::EMPTY
    }
}

impl From<&str> for Str {
    #[inline]
    fn from(s: &str) -> Str {
        Str::inline(s).unwrap_or_else(|| Str(Repr::Heap(s.into())))
    }
}

impl From<String> for Str {
    #[inline]
    fn from(s: String) -> Str {
        Str::inline(&s).unwrap_or_else(|| Str(Repr::Heap(s.into_boxed_str())))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.into_string()
    }
}

impl Deref for Str {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    #[inline]
    fn eq(&self, other: &Str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Str {
    /// Byte order, which is `str`'s order.
    fn cmp(&self, other: &Str) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Str {
    /// As `str` hashes: the bytes, then 0xFF.
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write(self.as_bytes());
        h.write_u8(0xff);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_inline_and_equal_to_their_text() {
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<Option<Str>>(), 24);
        for n in [0, 1, 22, 23, 24, 100] {
            let text = "é".repeat(n / 2) + &"x".repeat(n % 2);
            let s = Str::from(text.as_str());
            assert_eq!(s.is_heap(), text.len() > INLINE, "{n}");
            assert_eq!(s.as_str(), text);
            assert_eq!(Str::from(text.clone()), s);
            assert_eq!(s.clone().into_string(), text);
        }
        assert_eq!(Str::from("ab").cmp(&Str::from("b")), Ordering::Less);
        assert_eq!(
            Str::from("a".repeat(30)).cmp(&Str::from("a")),
            Ordering::Greater
        );
        assert_eq!(Str::default().as_str(), "");
        let hash = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            x(&mut h);
            h.finish()
        };
        let s = Str::from("héllo");
        assert_eq!(hash(&|h| s.hash(h)), hash(&|h| "héllo".hash(h)));
        assert_eq!((s.len(), s.as_bytes()), (6, "héllo".as_bytes()));
    }
}
