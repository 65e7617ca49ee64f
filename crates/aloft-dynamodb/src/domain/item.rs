//! `AttrMap`, the compact map of attribute names to values used for items and `M` values: a
//! vector sorted by name, sized exactly, with names interned so that a million items sharing
//! five attribute names hold five name strings, not five million.
//!
//! A `BTreeMap` costs a ~600-byte node per item however few attributes it holds; items are
//! small (a handful of attributes), so a sorted vector with binary search is both smaller and
//! at least as fast.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hasher;
use std::ops::{Deref, Index};
use std::sync::{Arc, RwLock};

use super::value::AttrValue;
use crate::hash::FastBuild;

/// An attribute name: a shared, immutable string behind one thin pointer. Eight bytes
/// instead of an `Arc<str>`'s sixteen make an entry 40 bytes instead of 48 (the value's
/// alignment pads anything smaller to the same 40); the extra hop to the text lands on the
/// interned names, which every item shares and which stay in cache.
#[derive(Clone)]
pub struct Name(Arc<Box<str>>);

impl Name {
    /// Whether both are the same shared copy (tests).
    pub fn ptr_eq(a: &Name, b: &Name) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::new(s.into()))
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    #[inline]
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || **self.0 == **other.0
    }
}
impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        **self.0 == *other
    }
}
impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        **self.0 == **other
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.0.as_bytes().cmp(other.0.as_bytes())
    }
}

impl std::hash::Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (**self.0).hash(h)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self.0, f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&**self.0, f)
    }
}

/// Interning stops at this many distinct names, so a workload with unbounded attribute
/// names (e.g. map keys built from ids) cannot grow the table for ever; later names are
/// simply allocated per item.
const INTERN_LIMIT: usize = 65_536;
/// Longer names are rarely shared; not worth the lookup.
const INTERN_MAX_LEN: usize = 64;

/// The shared names, with the crate's fast hasher: every attribute of every item written is
/// looked up, where SipHash cost more than the rest of the lookup. The set is capped (see
/// [`INTERN_LIMIT`]), so a flood of colliding names cannot grow it for ever.
static NAMES: RwLock<Option<HashSet<Name, FastBuild>>> = RwLock::new(None);

/// Slots in each thread's cache of recently interned names.
const RECENT_SLOTS: usize = 64;

thread_local! {
    /// Each thread's last names by a cheap slot number: most requests name the same few
    /// attributes, and a hit here skips the shared set's lock and hash (≈ 100 instructions a
    /// name, four to ten names per written item).
    static RECENT: std::cell::RefCell<[Option<Name>; RECENT_SLOTS]> =
        const { std::cell::RefCell::new([const { None }; RECENT_SLOTS]) };
}

/// The shared copy of `s`.
pub fn intern(s: &str) -> Name {
    if s.len() > INTERN_MAX_LEN {
        return Name::from(s);
    }
    let b = s.as_bytes();
    let slot = match b {
        [] => 0,
        [first, .., last] => b.len() * 7 + usize::from(*first) * 3 + usize::from(*last),
        [only] => b.len() * 7 + usize::from(*only) * 4,
    } % RECENT_SLOTS;
    RECENT.with_borrow_mut(|recent| {
        if let Some(n) = &recent[slot]
            && &**n == s
        {
            return n.clone();
        }
        let n = intern_shared(s);
        recent[slot] = Some(n.clone());
        n
    })
}

/// [`intern`] in the set shared by all threads.
fn intern_shared(s: &str) -> Name {
    if let Some(n) = NAMES
        .read()
        .ok()
        .and_then(|g| g.as_ref().and_then(|set| set.get(s).cloned()))
    {
        return n;
    }
    let Ok(mut g) = NAMES.write() else {
        return Name::from(s);
    };
    let set = g.get_or_insert_with(HashSet::default);
    if let Some(n) = set.get(s) {
        return n.clone();
    }
    let n = Name::from(s);
    if set.len() < INTERN_LIMIT {
        set.insert(n.clone());
    }
    n
}

/// What can become a [`Name`]: an existing name is kept, strings are interned.
pub trait IntoName {
    fn into_name(self) -> Name;
}

impl IntoName for Name {
    fn into_name(self) -> Name {
        self
    }
}
impl IntoName for &Name {
    fn into_name(self) -> Name {
        self.clone()
    }
}
impl IntoName for &str {
    fn into_name(self) -> Name {
        intern(self)
    }
}
impl IntoName for String {
    fn into_name(self) -> Name {
        intern(&self)
    }
}
impl IntoName for &String {
    fn into_name(self) -> Name {
        intern(self)
    }
}

/// One attribute of a map.
pub type Entry = (Name, AttrValue);

/// Attribute name → value, sorted by name (byte order, like `BTreeMap<String, _>`).
///
/// A map being built or changed owns a `Vec`; a stored item is [`AttrMap::shared`]: its
/// entries in one allocation with the reference counts, so reading a stored item is one
/// block of adjacent lines instead of an `Arc` block and a separate entry vector, and
/// copying one (a read's answer, a snapshot) is a reference count. A shared map is copied
/// into a `Vec` the first time it is changed.
#[derive(Clone)]
pub struct AttrMap {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Boxed so that the map is 16 bytes, like the shared form: a table's tree keeps one
    /// beside every key.
    #[allow(clippy::box_collection)]
    Owned(Box<Vec<Entry>>),
    Shared(Arc<[Entry]>),
}

impl Default for AttrMap {
    fn default() -> Self {
        AttrMap::new()
    }
}

impl PartialEq for AttrMap {
    fn eq(&self, other: &AttrMap) -> bool {
        self.entries() == other.entries()
    }
}

impl std::fmt::Debug for AttrMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttrMap")
            .field("entries", &self.entries())
            .finish()
    }
}

impl AttrMap {
    pub fn new() -> Self {
        AttrMap {
            repr: Repr::Owned(Box::default()),
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        AttrMap {
            repr: Repr::Owned(Box::new(Vec::with_capacity(n))),
        }
    }

    #[inline]
    fn entries(&self) -> &[Entry] {
        match &self.repr {
            Repr::Owned(v) => v.as_slice(),
            Repr::Shared(a) => a,
        }
    }

    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        if let Repr::Shared(a) = &self.repr {
            self.repr = Repr::Owned(Box::new(a.to_vec()));
        }
        match &mut self.repr {
            Repr::Owned(v) => v,
            Repr::Shared(_) => unreachable!("just made owned"),
        }
    }

    /// This map as stored items hold it: entries and reference counts in one exact-size
    /// allocation (see the type's note).
    pub fn shared(self) -> AttrMap {
        match self.repr {
            Repr::Owned(mut v) => {
                // Maps inside become shared too: one allocation each instead of a box and
                // its vector.
                for (_, value) in v.iter_mut() {
                    share_nested(value);
                }
                AttrMap {
                    repr: Repr::Shared(Arc::from(*v)),
                }
            }
            shared @ Repr::Shared(_) => AttrMap { repr: shared },
        }
    }

    /// Whether this is a [`AttrMap::shared`] map (tests).
    pub fn is_shared(&self) -> bool {
        matches!(self.repr, Repr::Shared(_))
    }

    fn find(&self, k: &str) -> Result<usize, usize> {
        self.entries().binary_search_by(|(n, _)| n.as_ref().cmp(k))
    }

    pub fn get<Q: Borrow<str> + ?Sized>(&self, k: &Q) -> Option<&AttrValue> {
        let e = self.entries();
        e.binary_search_by(|(n, _)| n.as_ref().cmp(k.borrow()))
            .ok()
            .map(|i| &e[i].1)
    }

    pub fn get_mut<Q: Borrow<str> + ?Sized>(&mut self, k: &Q) -> Option<&mut AttrValue> {
        match self.find(k.borrow()) {
            Ok(i) => Some(&mut self.entries_mut()[i].1),
            Err(_) => None,
        }
    }

    pub fn contains_key<Q: Borrow<str> + ?Sized>(&self, k: &Q) -> bool {
        self.find(k.borrow()).is_ok()
    }

    pub fn insert(&mut self, k: impl IntoName, v: AttrValue) -> Option<AttrValue> {
        let k = k.into_name();
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, v)),
            Err(i) => {
                self.entries_mut().insert(i, (k, v));
                None
            }
        }
    }

    pub fn remove<Q: Borrow<str> + ?Sized>(&mut self, k: &Q) -> Option<AttrValue> {
        match self.find(k.borrow()) {
            Ok(i) => Some(self.entries_mut().remove(i).1),
            Err(_) => None,
        }
    }

    /// The value at `k`, inserting `f()` first when absent.
    pub fn get_or_insert_with(
        &mut self,
        k: impl IntoName,
        f: impl FnOnce() -> AttrValue,
    ) -> &mut AttrValue {
        let k = k.into_name();
        let found = self.find(&k);
        let entries = self.entries_mut();
        let i = match found {
            Ok(i) => i,
            Err(i) => {
                entries.insert(i, (k, f()));
                i
            }
        };
        &mut entries[i].1
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Name, &AttrValue)> + ExactSizeIterator {
        self.entries().iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.entries().iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &AttrValue> {
        self.entries().iter().map(|(_, v)| v)
    }

    pub fn retain(&mut self, mut f: impl FnMut(&Name, &mut AttrValue) -> bool) {
        self.entries_mut().retain_mut(|(k, v)| f(k, v));
    }

    /// Drops spare capacity: stored items are never grown in place.
    pub fn shrink_to_fit(&mut self) {
        if let Repr::Owned(v) = &mut self.repr {
            v.shrink_to_fit();
        }
    }
}

/// [`AttrMap::shared`] for the maps inside a value (in maps and lists, at any depth).
fn share_nested(v: &mut AttrValue) {
    match v {
        AttrValue::M(m) => *m = std::mem::take(m).shared(),
        AttrValue::L(l) => l.iter_mut().for_each(share_nested),
        _ => {}
    }
}

impl<K: IntoName> FromIterator<(K, AttrValue)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (K, AttrValue)>>(iter: I) -> Self {
        let mut entries: Vec<Entry> = iter.into_iter().map(|(k, v)| (k.into_name(), v)).collect();
        // Stable sort, then keep the last of equal names, as repeated inserts would.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        out.shrink_to_fit();
        AttrMap {
            repr: Repr::Owned(Box::new(out)),
        }
    }
}

impl<K: IntoName> Extend<(K, AttrValue)> for AttrMap {
    fn extend<I: IntoIterator<Item = (K, AttrValue)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for AttrMap {
    type Item = (Name, AttrValue);
    type IntoIter = std::vec::IntoIter<(Name, AttrValue)>;
    fn into_iter(self) -> Self::IntoIter {
        match self.repr {
            Repr::Owned(v) => (*v).into_iter(),
            Repr::Shared(a) => Vec::from(&*a).into_iter(),
        }
    }
}

impl<'a> IntoIterator for &'a AttrMap {
    type Item = (&'a Name, &'a AttrValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Name, AttrValue)>,
        fn(&'a (Name, AttrValue)) -> (&'a Name, &'a AttrValue),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries().iter().map(|(k, v)| (k, v))
    }
}

impl<Q: Borrow<str> + ?Sized> Index<&Q> for AttrMap {
    type Output = AttrValue;
    fn index(&self, k: &Q) -> &AttrValue {
        self.get(k).expect("attribute present")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_names_sorted_and_unique() {
        let mut m = AttrMap::new();
        m.insert("b", AttrValue::Null);
        m.insert("a", AttrValue::Bool(true));
        assert_eq!(m.insert("b", AttrValue::Bool(false)), Some(AttrValue::Null));
        let names: Vec<&str> = m.keys().map(|k| &**k).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(m.remove("a"), Some(AttrValue::Bool(true)));
        assert!(!m.contains_key("a"));
        let c: AttrMap = [
            ("z", AttrValue::Null),
            ("y", AttrValue::Null),
            ("z", AttrValue::Bool(true)),
        ]
        .into_iter()
        .collect();
        assert_eq!(c.len(), 2);
        assert_eq!(c["z"], AttrValue::Bool(true));
    }

    #[test]
    fn a_shared_map_reads_alike_and_is_copied_on_change() {
        let mut m: AttrMap = [("b", AttrValue::Null), ("a", AttrValue::Bool(true))]
            .into_iter()
            .collect();
        let before = m.clone();
        m = m.shared();
        assert!(m.is_shared());
        assert_eq!(m, before);
        assert_eq!(m.get("a"), Some(&AttrValue::Bool(true)));
        let copy = m.clone();
        m.insert("c", AttrValue::Null);
        *m.get_mut("a").unwrap() = AttrValue::Null;
        assert!(!m.is_shared());
        assert_eq!(copy, before);
        assert_eq!(m.len(), 3);
        let names: Vec<Name> = copy.into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, [intern("a"), intern("b")]);
        assert_eq!(std::mem::size_of::<AttrMap>(), 16);
        let inner: AttrMap = [("x", AttrValue::Null)].into_iter().collect();
        let outer: AttrMap = [
            ("m", AttrValue::M(inner.clone())),
            ("l", AttrValue::L(vec![AttrValue::M(inner.clone())])),
        ]
        .into_iter()
        .collect();
        let stored = outer.clone().shared();
        assert_eq!(stored, outer);
        assert!(matches!(stored.get("m"), Some(AttrValue::M(m)) if m.is_shared() && *m == inner));
        assert!(
            matches!(stored.get("l"), Some(AttrValue::L(l)) if matches!(&l[0], AttrValue::M(m) if m.is_shared()))
        );
    }

    #[test]
    fn interns_names() {
        let a = intern("interned-name");
        let b = "interned-name".into_name();
        assert!(Name::ptr_eq(&a, &b));
    }

    #[test]
    fn names_sharing_a_recent_slot_stay_distinct() {
        // Same length, first and last byte: the same slot of the thread's cache.
        for _ in 0..3 {
            for n in ["ab_b", "aXYb", "a__b"] {
                assert_eq!(&*intern(n), n);
                assert!(Name::ptr_eq(&intern(n), &intern_shared(n)));
            }
        }
        let long = "n".repeat(INTERN_MAX_LEN + 1);
        assert_eq!(&*intern(&long), long);
    }

    #[test]
    fn values_are_small() {
        assert!(std::mem::size_of::<AttrValue>() <= 32);
        assert_eq!(std::mem::size_of::<(Name, AttrValue)>(), 40);
    }
}
