//! The indexed fleet: hosts under dense, stable ids, and per path a
//! dictionary-encoded column with a bitmap of hosts per distinct value.
//!
//! This module owns the storage and its maintenance: building it (in
//! parallel chunks with the `parallel` feature), and upserting or removing
//! one host by touching only that host's postings. It decides nothing about
//! what a value means; evaluation reads the columns through
//! [`crate::value`] so that it agrees with the reference interpreter by
//! construction.
//!
//! Layout: `name` is not a column (every name is distinct, so a dictionary
//! would only copy them); a hash of each name maps to its id, and scans over
//! names read the hosts themselves. `role`, every tag key and every fact
//! path that holds a scalar or an array somewhere in the fleet get a column.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use roaring::RoaringBitmap;

use crate::fleet::{Fleet, Host};
use crate::syntax::Path;
use crate::value::HostValue;

use super::build::{Assembler, Part};
use super::dict_order::DictOrder;
use super::par::map_chunks;
use super::patterns::TextOrder;
use super::store::{self, Names, Records};

/// Index of a column in [`IndexedFleet::columns`].
pub(crate) type ColId = u32;

/// A host's dense id in an [`IndexedFleet`]: its place in fleet order.
///
/// Ids are assigned in inventory order when the index is built; a host
/// added by [`IndexedFleet::upsert`] gets the next id, a replaced host keeps
/// its id, and a removed host's id is never reused. Ids therefore stay
/// valid, and in fleet order, across changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) u32);

impl HostId {
    /// The id as an index (0-based, in fleet order, with gaps where hosts
    /// were removed).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why [`IndexedFleet::upsert`] rejected a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The host's name is empty.
    #[error("the host name is empty; every host needs a unique, non-empty name")]
    EmptyName,
    /// The index has handed out every id it can hold.
    #[error("the index holds at most {max} host ids (removed hosts included); rebuild it to reclaim ids")]
    Full {
        /// The largest number of ids.
        max: u64,
    },
}

/// A distinct value of a column, owned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    Text(Box<str>),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Key {
    pub(crate) fn value(&self) -> HostValue<'_> {
        match self {
            Key::Text(s) => HostValue::Text(s),
            Key::Int(i) => HostValue::Int(*i),
            Key::Float(f) => HostValue::Float(*f),
            Key::Bool(b) => HostValue::Bool(*b),
        }
    }
}

/// A column's distinct values, each with a dense value id. Values are
/// distinct as host values (`8` and `"8"` are two values), never merged by
/// meaning: what a value means is decided per query, by `crate::value`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dict {
    texts: FastMap<Box<str>, u32>,
    /// While a column has at most [`FEW`] texts (most columns of a fleet:
    /// operating systems, environments, regions), each as its first eight
    /// bytes, its length and its id: a lookup compares a few words instead
    /// of hashing.
    few: Vec<(u64, usize, u32)>,
    ints: FastMap<i128, u32>,
    /// By bit pattern: JSON has no NaN, and `0.0`/`-0.0` as two values is
    /// harmless since each is tested on its own.
    floats: FastMap<u64, u32>,
    bools: [Option<u32>; 2],
    pub(crate) keys: Vec<Key>,
}

/// Texts a dictionary looks up without hashing (see `Dict::few`).
const FEW: usize = 8;

/// A text's first eight bytes as a word (zeros after a shorter text).
fn head(text: &str) -> u64 {
    let mut word = [0u8; 8];
    for (w, b) in word.iter_mut().zip(text.bytes()) {
        *w = b;
    }
    u64::from_le_bytes(word)
}

impl Dict {
    fn get_text(&self, text: &str) -> Option<u32> {
        if self.texts.len() > FEW {
            return self.texts.get(text).copied();
        }
        let (h, len) = (head(text), text.len());
        self.few
            .iter()
            .find(|(fh, flen, id)| {
                *fh == h
                    && *flen == len
                    && (len <= 8
                        || matches!(self.keys.get(*id as usize), Some(Key::Text(k)) if &**k == text))
            })
            .map(|(_, _, id)| *id)
    }

    pub(crate) fn get(&self, value: &HostValue<'_>) -> Option<u32> {
        match value {
            HostValue::Text(s) => self.get_text(s),
            HostValue::Int(i) => self.ints.get(i).copied(),
            HostValue::Float(f) => self.floats.get(&f.to_bits()).copied(),
            HostValue::Bool(b) => self.bools.get(usize::from(*b)).copied().flatten(),
        }
    }

    fn intern(&mut self, value: &HostValue<'_>) -> u32 {
        if let Some(id) = self.get(value) {
            return id;
        }
        let id = self.keys.len() as u32;
        match value {
            HostValue::Text(s) => {
                self.texts.insert((*s).into(), id);
                self.keys.push(Key::Text((*s).into()));
                if self.texts.len() <= FEW {
                    self.few.push((head(s), s.len(), id));
                } else {
                    self.few = Vec::new();
                }
            }
            HostValue::Int(i) => {
                self.ints.insert(*i, id);
                self.keys.push(Key::Int(*i));
            }
            HostValue::Float(f) => {
                self.floats.insert(f.to_bits(), id);
                self.keys.push(Key::Float(*f));
            }
            HostValue::Bool(b) => {
                if let Some(slot) = self.bools.get_mut(usize::from(*b)) {
                    *slot = Some(id);
                }
                self.keys.push(Key::Bool(*b));
            }
        }
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    fn heap_bytes(&self) -> usize {
        let text_bytes: usize = self.texts.keys().map(|k| k.len()).sum();
        self.texts.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
            + self.ints.capacity() * (std::mem::size_of::<(i128, u32)>() + 1)
            + self.floats.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
            + self.keys.capacity() * std::mem::size_of::<Key>()
            + self.few.capacity() * std::mem::size_of::<(u64, usize, u32)>()
            + 2 * text_bytes
    }
}

/// The hosts holding one value. Most values of a high-cardinality column
/// belong to one host, where a bitmap would cost far more than an id.
#[derive(Debug, Clone, Default)]
pub(crate) enum Postings {
    #[default]
    Empty,
    One(u32),
    Many(RoaringBitmap),
}

impl Postings {
    fn from_bitmap(mut b: RoaringBitmap) -> Postings {
        match (b.len(), b.min()) {
            (0, _) | (_, None) => Postings::Empty,
            (1, Some(one)) => Postings::One(one),
            _ => {
                b.optimize();
                Postings::Many(b)
            }
        }
    }

    /// Adds `id`; whether it was absent.
    fn insert(&mut self, id: u32) -> bool {
        match self {
            Postings::Empty => {
                *self = Postings::One(id);
                true
            }
            Postings::One(x) if *x == id => false,
            Postings::One(x) => {
                let mut b = RoaringBitmap::new();
                b.insert(*x);
                b.insert(id);
                *self = Postings::Many(b);
                true
            }
            Postings::Many(b) => b.insert(id),
        }
    }

    fn remove(&mut self, id: u32) {
        match self {
            Postings::One(x) if *x == id => *self = Postings::Empty,
            Postings::Many(b) => {
                b.remove(id);
            }
            _ => {}
        }
    }

    pub(crate) fn len(&self) -> u64 {
        match self {
            Postings::Empty => 0,
            Postings::One(_) => 1,
            Postings::Many(b) => b.len(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Postings::Many(b) => bitmap_bytes(b),
            _ => 0,
        }
    }
}

/// Heap bytes of a bitmap: its payload plus each container's bookkeeping.
/// (roaring's own statistics count bitset containers in bits and array
/// elements as `u32`s, so they are recomputed here.)
pub(crate) fn bitmap_bytes(b: &RoaringBitmap) -> usize {
    let stats = b.statistics();
    let payload = stats.n_values_array_containers as usize * 2
        + stats.n_bitset_containers as usize * 8192
        + stats.n_bytes_run_containers as usize;
    // Per container: its key and store in the bitmap's vector (32 bytes)
    // and the allocation header of its payload.
    payload + stats.n_containers as usize * 48
}

/// One path's values over the fleet.
#[derive(Debug, Clone, Default)]
pub(crate) struct Column {
    pub(crate) dict: Dict,
    /// By value id; a value whose hosts are all gone keeps its id with
    /// empty postings, so ids stay stable across changes.
    pub(crate) postings: Vec<Postings>,
    /// Hosts with at least one value here (`has(P)`).
    pub(crate) has: RoaringBitmap,
    /// Whether some host ever held two distinct values here. When none
    /// does, the hosts of different values are disjoint, which lets the
    /// evaluator take a complement instead of a large union.
    pub(crate) multi: bool,
    /// The dictionary's values by text and by reversed text, for globs
    /// and regexes (see `dict_order`): built on the first pattern query
    /// once the column has [`IndexedFleet::PATTERN_ORDER_MIN`] values, kept
    /// current as postings change, dropped when values added since make it
    /// stale.
    pub(crate) order: std::sync::OnceLock<DictOrder>,
}

impl Column {
    /// Adds `value` for host `id`; returns the value's id.
    fn insert(&mut self, id: u32, value: &HostValue<'_>) -> u32 {
        let vid = self.dict.intern(value) as usize;
        if self.postings.len() <= vid {
            self.postings.resize_with(vid + 1, Postings::default);
        }
        let had = self.has.contains(id);
        let added = self.postings.get_mut(vid).is_some_and(|p| p.insert(id));
        if had && added {
            self.multi = true;
        }
        self.has.insert(id);
        self.postings_changed(vid as u32);
        vid as u32
    }

    fn remove(&mut self, id: u32, vid: u32) {
        if let Some(p) = self.postings.get_mut(vid as usize) {
            p.remove(id);
        }
        self.has.remove(id);
        self.postings_changed(vid);
    }

    /// Keeps the pattern order current after value `vid`'s hosts changed,
    /// or drops it once the values added since its build make it stale.
    fn postings_changed(&mut self, vid: u32) {
        if let Some(order) = self.order.get_mut() {
            if order.is_stale(self.dict.len()) {
                self.order = std::sync::OnceLock::new();
            } else {
                order.note(vid, self.postings.get(vid as usize));
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.dict.heap_bytes()
            + self.postings.capacity() * std::mem::size_of::<Postings>()
            + self
                .postings
                .iter()
                .map(Postings::heap_bytes)
                .sum::<usize>()
            + bitmap_bytes(&self.has)
    }
}

/// A node of the trie of fact keys; a node whose path holds values
/// somewhere has a column.
#[derive(Debug, Clone, Default)]
struct FactNode {
    children: FastMap<Box<str>, u32>,
    /// The children in the order they were first seen: records of one
    /// fleet mostly give their keys in one order, so the `i`-th key of an
    /// object is first compared with the `i`-th child (no hashing).
    order: Vec<u32>,
    /// This node's own key (empty at the root).
    key: Box<str>,
    column: Option<ColId>,
}

/// Where each path's column is, found without building a [`Path`].
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    role: Option<ColId>,
    tags: FastMap<Box<str>, ColId>,
    /// Tag columns in the order first seen (see `FactNode::order`).
    tag_order: Vec<ColId>,
    /// `facts[0]` is the root.
    facts: Vec<FactNode>,
    /// The path of each column.
    pub(crate) paths: Vec<Path>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            role: None,
            tags: FastMap::default(),
            tag_order: Vec::new(),
            facts: vec![FactNode::default()],
            paths: Vec::new(),
        }
    }
}

impl Layout {
    /// The column of `path`, if any host ever had a value there; `None`
    /// also for `name`, which has no column.
    pub(crate) fn column(&self, path: &Path) -> Option<ColId> {
        match path {
            Path::Name => None,
            Path::Role => self.role,
            Path::Tag(key) => self.tags.get(key.as_str()).copied(),
            Path::Fact(keys) => {
                let mut node = self.facts.first()?;
                for key in keys {
                    node = self.facts.get(*node.children.get(key.as_str())? as usize)?;
                }
                node.column
            }
        }
    }

    fn new_column(&mut self, path: Path) -> ColId {
        let id = self.paths.len() as ColId;
        self.paths.push(path);
        id
    }

    /// The column of `path`, created if missing; `None` for `name`.
    pub(crate) fn column_or_create(&mut self, path: &Path) -> Option<ColId> {
        match path {
            Path::Name => None,
            Path::Role => Some(self.role_column()),
            Path::Tag(key) => Some(self.tag_column(key)),
            Path::Fact(keys) => {
                let mut node = 0u32;
                for key in keys {
                    node = self.fact_child(node, key);
                }
                Some(self.fact_column(node, keys.iter().map(|k| k.as_str())))
            }
        }
    }

    pub(crate) fn role_column(&mut self) -> ColId {
        match self.role {
            Some(c) => c,
            None => {
                let c = self.new_column(Path::Role);
                self.role = Some(c);
                c
            }
        }
    }

    pub(crate) fn tag_column(&mut self, key: &str) -> ColId {
        if let Some(c) = self.tags.get(key) {
            return *c;
        }
        let c = self.new_column(Path::Tag(key.to_string()));
        self.tags.insert(key.into(), c);
        self.tag_order.push(c);
        c
    }

    /// [`Layout::tag_column`] for the `position`-th tag of a host, which
    /// is most often the tag first seen at that position.
    pub(crate) fn tag_column_at(&mut self, position: usize, key: &str) -> ColId {
        let guess = self.tag_order.get(position).copied();
        if let Some(c) = guess {
            if matches!(self.paths.get(c as usize), Some(Path::Tag(k)) if k == key) {
                return c;
            }
        }
        self.tag_column(key)
    }

    /// [`Layout::fact_child`] for the `position`-th key of an object,
    /// which is most often the child first seen at that position.
    pub(crate) fn fact_child_at(&mut self, node: u32, position: usize, key: &str) -> u32 {
        let guess = self
            .facts
            .get(node as usize)
            .and_then(|n| n.order.get(position))
            .copied();
        if let Some(child) = guess {
            if self
                .facts
                .get(child as usize)
                .is_some_and(|c| &*c.key == key)
            {
                return child;
            }
        }
        self.fact_child(node, key)
    }

    pub(crate) fn fact_child(&mut self, node: u32, key: &str) -> u32 {
        if let Some(child) = self
            .facts
            .get(node as usize)
            .and_then(|n| n.children.get(key))
        {
            return *child;
        }
        let child = self.facts.len() as u32;
        self.facts.push(FactNode {
            key: key.into(),
            ..FactNode::default()
        });
        if let Some(n) = self.facts.get_mut(node as usize) {
            n.children.insert(key.into(), child);
            n.order.push(child);
        }
        child
    }

    pub(crate) fn fact_column<'k>(
        &mut self,
        node: u32,
        keys: impl Iterator<Item = &'k str>,
    ) -> ColId {
        if let Some(c) = self.facts.get(node as usize).and_then(|n| n.column) {
            return c;
        }
        let c = self.new_column(Path::Fact(keys.map(str::to_string).collect()));
        if let Some(n) = self.facts.get_mut(node as usize) {
            n.column = Some(c);
        }
        c
    }

    /// Calls `visit` with each of `host`'s values (all paths but `name`)
    /// and the column it belongs to, creating columns as needed. Visits
    /// exactly the values `for_each_value` gives for each path.
    /// The third argument says whether the value is an element of an array.
    pub(crate) fn walk<'h>(
        &mut self,
        host: &'h Host,
        mut visit: impl FnMut(ColId, HostValue<'h>, bool),
    ) {
        if !host.roles.is_empty() {
            let c = self.role_column();
            for r in &host.roles {
                visit(c, HostValue::Text(r), true);
            }
        }
        for (key, value) in &host.tags {
            let c = self.tag_column(key);
            visit(c, HostValue::Text(value), false);
        }
        // Facts nest to any depth in a programmatically built host, so walk
        // them with an explicit stack: (trie node, keys so far, entries).
        type Entries<'h> = serde_json::map::Iter<'h>;
        let mut stack: Vec<(u32, Vec<&'h str>, Entries<'h>)> =
            vec![(0, Vec::new(), host.facts.iter())];
        while let Some((node, keys, entries)) = stack.last_mut() {
            let Some((key, value)) = entries.next() else {
                stack.pop();
                continue;
            };
            let (node, mut keys) = (*node, keys.clone());
            keys.push(key);
            let child = self.fact_child(node, key);
            match value {
                serde_json::Value::Object(map) => stack.push((child, keys, map.iter())),
                serde_json::Value::Array(items) => {
                    let mut column = None;
                    for v in items.iter().filter_map(HostValue::from_json) {
                        let c = *column
                            .get_or_insert_with(|| self.fact_column(child, keys.iter().copied()));
                        visit(c, v, true);
                    }
                }
                scalar => {
                    if let Some(v) = HostValue::from_json(scalar) {
                        let c = self.fact_column(child, keys.iter().copied());
                        visit(c, v, false);
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.tags.capacity() * (std::mem::size_of::<(Box<str>, ColId)>() + 1)
            + self.facts.capacity() * std::mem::size_of::<FactNode>()
            + self
                .facts
                .iter()
                .map(|n| n.children.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1))
                .sum::<usize>()
            + self.paths.capacity() * std::mem::size_of::<Path>()
    }
}

/// Maps keyed by the texts of a fleet, looked up once per value read.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Mix>>;

/// A fast multiply-mix hasher (FxHash's scheme) for the dictionaries: SipHash
/// was a sixth of a whole load. Keys come from the operator's own fleet
/// file, not from an adversary, so flooding resistance is not needed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Mix(u64);

impl Mix {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for Mix {
    #[inline]
    fn finish(&self) -> u64 {
        // Fold the high bits down: the table uses the low bits for buckets.
        self.0.rotate_left(26)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn write_u128(&mut self, n: u128) {
        self.add(n as u64);
        self.add((n >> 64) as u64);
    }
    #[inline]
    fn write_i128(&mut self, n: i128) {
        self.write_u128(n as u128);
    }
}

/// A hasher for keys that already are hashes.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        // Spread the hash over the high bits too, which the table uses
        // for its control bytes.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Name → id without a second copy of every name: a 32-bit hash of the
/// name maps to the id, and the host's own name confirms the match. A name
/// whose hash is already taken (about a hundred in a million hosts) goes to
/// `overflow`. Nine bytes a slot instead of a copy of every name.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    primary: HashMap<u32, u32, BuildHasherDefault<Prehashed>>,
    overflow: BTreeMap<Box<str>, u32>,
}

pub(crate) fn name_hash(name: &str) -> u32 {
    // `DefaultHasher::new()` uses fixed keys: the same hash in every run.
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    let full = h.finish();
    (full ^ (full >> 32)) as u32
}

fn name_at(names: &Names, id: u32) -> Option<&str> {
    names.get(id)
}

impl NameIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        NameIndex {
            primary: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            overflow: BTreeMap::new(),
        }
    }

    fn get(&self, name: &str, names: &Names) -> Option<u32> {
        if let Some(id) = self.primary.get(&name_hash(name)) {
            if name_at(names, *id) == Some(name) {
                return Some(*id);
            }
        }
        self.overflow.get(name).copied()
    }

    /// Adds a name that is not in the index yet.
    fn insert(&mut self, name: &str, id: u32) {
        match self.primary.entry(name_hash(name)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.overflow.insert(name.into(), id);
            }
        }
    }

    /// Adds `name`, whose [`name_hash`] is `hash` (computed where the
    /// name was read, in parallel), for `id` unless a host already has it;
    /// then returns that host's id. `names` must not hold `id` yet, or
    /// hold `name` there.
    pub(crate) fn insert_unique(
        &mut self,
        name: &str,
        hash: u32,
        id: u32,
        names: &Names,
    ) -> Result<(), u32> {
        match self.primary.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
                Ok(())
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let other = *e.get();
                if name_at(names, other) == Some(name) {
                    return Err(other);
                }
                match self.overflow.entry(name.into()) {
                    std::collections::btree_map::Entry::Occupied(o) => Err(*o.get()),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(id);
                        Ok(())
                    }
                }
            }
        }
    }

    /// Forgets `name`, which must still be the name of its host in `names`.
    fn remove(&mut self, name: &str, names: &Names) -> Option<u32> {
        let hash = name_hash(name);
        match self.primary.get(&hash) {
            Some(id) if name_at(names, *id) == Some(name) => {
                let id = *id;
                self.primary.remove(&hash);
                // Promote a colliding name, so that lookups by hash find it.
                let promoted = self.overflow.keys().find(|k| name_hash(k) == hash).cloned();
                if let Some(k) = promoted {
                    if let Some(other) = self.overflow.remove(&k) {
                        self.primary.insert(hash, other);
                    }
                }
                Some(id)
            }
            _ => self.overflow.remove(name),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.primary.capacity() * (std::mem::size_of::<(u32, u32)>() + 1)
            + self.overflow.keys().map(|k| k.len() + 64).sum::<usize>()
    }
}

/// A fleet indexed for fast selection: each path a dictionary-encoded
/// column with a bitmap of hosts per distinct value.
///
/// Build one with [`IndexedFleet::new`] (or load a file straight into one
/// with [`IndexedFleet::load`]), select with [`IndexedFleet::select`], keep
/// it current with [`IndexedFleet::upsert`] and [`IndexedFleet::remove`].
///
/// Hosts are not kept as [`Host`] values: each is a name and a compact
/// record of value ids (see `docs/ingest.md`), and [`IndexedFleet::host`]
/// rebuilds a `Host` when one is asked for.
#[derive(Debug, Clone)]
pub struct IndexedFleet {
    /// Every name by id, removed hosts' included.
    pub(crate) names: Names,
    /// Every host's values by id.
    pub(crate) records: Records,
    /// Ids of the hosts present.
    pub(crate) live: RoaringBitmap,
    pub(crate) by_name: NameIndex,
    pub(crate) layout: Layout,
    pub(crate) columns: Vec<Column>,
    /// Names sorted (and sorted by their reversed text), for pattern
    /// scans; built on first use and dropped when enough names were added
    /// since (removed hosts stay in it and are filtered out by `live`).
    pub(crate) name_order: std::sync::OnceLock<TextOrder>,
    /// Columns with fewer distinct values answer patterns by testing each
    /// value; see [`IndexedFleet::PATTERN_ORDER_MIN`].
    pub(crate) pattern_order_min: usize,
}

/// Hosts per build chunk.
const CHUNK: usize = 1 << 16;

/// A column under construction: ids arrive in increasing order, so every
/// bitmap is built by appending.
#[derive(Default)]
pub(crate) struct ColumnBuilder {
    pub(crate) dict: Dict,
    /// Ids per value, in order, as plain lists: pushing to a `Vec` is far
    /// cheaper than inserting into a bitmap (roaring's `try_push` even
    /// scans a bitmap container for its maximum on every call); the
    /// bitmaps are made once, in `finish`, in parallel across columns.
    lists: Vec<Vec<u32>>,
    has: Vec<u32>,
    multi: bool,
}

impl ColumnBuilder {
    /// Records that host `id` (not below any id pushed before) holds value
    /// `vid` of this column's dictionary.
    pub(crate) fn push_vid(&mut self, id: u32, vid: u32) {
        let v = vid as usize;
        if self.lists.len() <= v {
            self.lists.resize_with(v + 1, Vec::new);
        }
        let Some(list) = self.lists.get_mut(v) else {
            return;
        };
        // Ids arrive in order, so a repeat is the last id again.
        let new_for_value = list.last() != Some(&id);
        if new_for_value {
            list.push(id);
        }
        if self.has.last() == Some(&id) {
            // The host already has a value here; a second distinct one
            // makes the column multi-valued.
            self.multi |= new_for_value;
        } else {
            self.has.push(id);
        }
    }

    pub(crate) fn finish(self) -> Column {
        let bitmap = |ids: Vec<u32>| RoaringBitmap::from_sorted_iter(ids).unwrap_or_default();
        let mut has = bitmap(self.has);
        has.optimize();
        Column {
            dict: self.dict,
            postings: self
                .lists
                .into_iter()
                .map(|ids| match ids.as_slice() {
                    [] => Postings::Empty,
                    [one] => Postings::One(*one),
                    _ => Postings::from_bitmap(bitmap(ids)),
                })
                .collect(),
            has,
            multi: self.multi,
            order: std::sync::OnceLock::new(),
        }
    }
}

impl Dict {
    /// The id of `value`, added if new.
    pub(crate) fn id(&mut self, value: &HostValue<'_>) -> u32 {
        self.intern(value)
    }
}

impl IndexedFleet {
    /// Indexes `fleet`. Host ids follow the fleet's order.
    ///
    /// Cost: one pass over every value of every host (with the `parallel`
    /// feature in chunks of 65,536 hosts on rayon's pool), then one pass
    /// that numbers the values and builds the bitmaps. A [`Fleet`] is
    /// already valid (unique, non-empty names), so nothing is rejected.
    /// Fleets beyond `u32::MAX - 1` hosts are not supported: the hosts past
    /// that are dropped.
    pub fn new(fleet: Fleet) -> IndexedFleet {
        let mut hosts = fleet.into_hosts();
        hosts.truncate(u32::MAX as usize - 1);
        let chunks: Vec<&[Host]> = hosts.chunks(CHUNK).collect();
        let parts = map_chunks(&chunks, |c| {
            let mut part = Part::default();
            for h in *c {
                part.add_host(h);
            }
            part
        });
        let mut all = Assembler::with_capacity(hosts.len());
        for part in parts {
            all.absorb(part);
        }
        drop(hosts);
        // The hosts came from a `Fleet`: names are unique and non-empty.
        all.into_fleet()
    }

    pub(crate) fn from_parts(
        names: Names,
        records: Records,
        by_name: NameIndex,
        layout: Layout,
        builders: Vec<ColumnBuilder>,
    ) -> IndexedFleet {
        let (mut names, mut records) = (names, records);
        names.shrink_to_fit();
        records.shrink_to_fit();
        let mut live = RoaringBitmap::new();
        live.insert_range(0..names.len() as u32);
        IndexedFleet {
            names,
            records,
            live,
            by_name,
            layout,
            columns: finish_columns(builders),
            name_order: std::sync::OnceLock::new(),
            pattern_order_min: IndexedFleet::PATTERN_ORDER_MIN,
        }
    }

    /// Below this many distinct values, a column answers a glob or regex
    /// by testing each value; from it on, through sorted orders of its
    /// values (`docs/ingest.md`). Measured in `examples/ingest.rs`: below
    /// it, building the orders costs more than many queries save, and a
    /// regex's fixed cost through them beats the per-value test.
    #[doc(hidden)]
    pub const PATTERN_ORDER_MIN: usize = 1024;

    /// Sets the number of distinct values from which a column answers
    /// patterns through sorted orders (0: every column), for tests and
    /// measurements of both paths; answers are the same either way.
    #[doc(hidden)]
    pub fn set_pattern_order_min(&mut self, min: usize) {
        self.pattern_order_min = min;
    }

    /// How many hosts the fleet holds now.
    pub fn len(&self) -> usize {
        self.live.len() as usize
    }

    /// Whether the fleet holds no host.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The host with this id, unless it was removed. The host is rebuilt
    /// from the index (a few allocations per value); read names with
    /// [`IndexedFleet::name`], which costs nothing.
    pub fn host(&self, id: HostId) -> Option<Host> {
        if !self.live.contains(id.0) {
            return None;
        }
        let name = self.names.get(id.0)?;
        let record = self.records.get(id.0)?;
        Some(store::rebuild(name, &record, &self.layout, &self.columns))
    }

    /// The name of the host with this id, unless it was removed.
    pub fn name(&self, id: HostId) -> Option<&str> {
        if !self.live.contains(id.0) {
            return None;
        }
        self.names.get(id.0)
    }

    /// The id of the host named `name`. O(1): one hash and one comparison.
    pub fn position(&self, name: &str) -> Option<HostId> {
        self.by_name.get(name, &self.names).map(HostId)
    }

    /// The hosts present, in fleet order, with their ids; each host is
    /// rebuilt as it is reached.
    pub fn hosts(&self) -> impl Iterator<Item = (HostId, Host)> + '_ {
        self.live
            .iter()
            .filter_map(|i| Some((HostId(i), self.host(HostId(i))?)))
    }

    /// The names of the hosts present, in fleet order, with their ids.
    pub fn names(&self) -> impl Iterator<Item = (HostId, &str)> + '_ {
        self.live
            .iter()
            .filter_map(|i| Some((HostId(i), self.names.get(i)?)))
    }

    /// The hosts present as a plain [`Fleet`], in fleet order. Costs a
    /// rebuild of every host.
    pub fn to_fleet(&self) -> Fleet {
        // Names in the index are unique and non-empty, so this cannot fail;
        // an empty fleet is the safe answer if it ever did.
        Fleet::new(self.hosts().map(|(_, h)| h).collect()).unwrap_or_default()
    }

    /// Adds `host`, or replaces the host of the same name (which keeps its
    /// id and place in fleet order). Returns the host's id.
    ///
    /// Cost: proportional to the values of the old and the new host (a
    /// dictionary lookup and a bitmap update per value); no rebuild.
    /// Rejects an empty name, and a new host once every id is used.
    pub fn upsert(&mut self, host: Host) -> Result<HostId, IndexError> {
        if host.name.is_empty() {
            return Err(IndexError::EmptyName);
        }
        let id = match self.by_name.get(&host.name, &self.names) {
            Some(id) => {
                self.unindex(id);
                id
            }
            None => {
                let max = u64::from(u32::MAX) - 1;
                if self.names.len() as u64 >= max {
                    return Err(IndexError::Full { max });
                }
                let id = self.names.len() as u32;
                self.by_name.insert(&host.name, id);
                self.names.push(&host.name);
                self.records.push(&[]);
                if self
                    .name_order
                    .get()
                    .is_some_and(|o| o.is_stale(self.names.len()))
                {
                    self.name_order = std::sync::OnceLock::new();
                }
                id
            }
        };
        let payload = self.index(id, &host);
        self.records.replace(id, &payload);
        self.live.insert(id);
        Ok(HostId(id))
    }

    /// Removes the host named `name` and returns it. Its id is not reused.
    /// Cost: proportional to the host's values.
    pub fn remove(&mut self, name: &str) -> Option<Host> {
        let id = self.by_name.get(name, &self.names)?;
        let host = self.host(HostId(id))?;
        self.by_name.remove(name, &self.names)?;
        self.live.remove(id);
        self.unindex(id);
        Some(host)
    }

    /// Adds `host`'s values under `id`; returns its record.
    fn index(&mut self, id: u32, host: &Host) -> Vec<u8> {
        let columns = &mut self.columns;
        let mut events = Vec::new();
        self.layout.walk(host, |c, v, array| {
            let c = c as usize;
            if columns.len() <= c {
                columns.resize_with(c + 1, Column::default);
            }
            if let Some(col) = columns.get_mut(c) {
                let vid = col.insert(id, &v);
                events.push(store::Event {
                    col: c as u32,
                    vid,
                    array,
                });
            }
        });
        let raw = (!super::build::facts_are_plain(&host.facts))
            .then(|| serde_json::to_string(&host.facts).ok())
            .flatten();
        let mut payload = Vec::new();
        store::encode(&mut payload, &events, raw.as_deref());
        payload
    }

    /// Removes the values of host `id` (as its record says) from the
    /// postings.
    fn unindex(&mut self, id: u32) {
        let Some(record) = self.records.get(id) else {
            return;
        };
        for e in record.events() {
            if let Some(col) = self.columns.get_mut(e.col as usize) {
                col.remove(id, e.vid);
            }
        }
    }

    /// Bytes of heap the index uses, names and records included (an
    /// estimate from capacities and bitmap container sizes; allocator
    /// overhead is not counted).
    pub fn index_bytes(&self) -> usize {
        self.index_bytes_by_part().iter().map(|(_, b)| b).sum()
    }

    /// [`IndexedFleet::index_bytes`] split by part: names, records, the
    /// name index, the live set, the path layout, then each column by its
    /// path.
    #[doc(hidden)]
    pub fn index_bytes_by_part(&self) -> Vec<(String, usize)> {
        let mut parts = vec![
            ("names".to_string(), self.names.heap_bytes()),
            ("records".to_string(), self.records.heap_bytes()),
            ("name index".to_string(), self.by_name.heap_bytes()),
            ("live".to_string(), bitmap_bytes(&self.live)),
            ("layout".to_string(), self.layout.heap_bytes()),
            (
                "name order".to_string(),
                self.name_order.get().map_or(0, |o| o.heap_bytes()),
            ),
            (
                "column orders".to_string(),
                self.columns
                    .iter()
                    .filter_map(|c| c.order.get())
                    .map(DictOrder::heap_bytes)
                    .sum(),
            ),
        ];
        for (path, col) in self.layout.paths.iter().zip(&self.columns) {
            parts.push((
                format!("{path:?} ({} values)", col.dict.len()),
                col.heap_bytes(),
            ));
        }
        parts
    }

    /// The column at `path` and `name`'s special case, for evaluation.
    pub(crate) fn live_ids(&self) -> &RoaringBitmap {
        &self.live
    }

    pub(crate) fn column(&self, path: &Path) -> Option<&Column> {
        self.layout
            .column(path)
            .and_then(|c| self.columns.get(c as usize))
    }

    /// Ids of the hosts named `name`: at most one.
    pub(crate) fn id_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name, &self.names)
    }

    /// Calls `visit` with each value host `id` holds in column `col`.
    pub(crate) fn for_each_in_column<'s>(
        &'s self,
        id: u32,
        col: ColId,
        mut visit: impl FnMut(HostValue<'s>),
    ) {
        let (Some(record), Some(column)) = (self.records.get(id), self.columns.get(col as usize))
        else {
            return;
        };
        for e in record.events() {
            if e.col == col {
                if let Some(key) = column.dict.keys.get(e.vid as usize) {
                    visit(key.value());
                }
            }
        }
    }
}

impl store::HostSource for IndexedFleet {
    fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id)
    }

    fn for_each_value<'s>(&'s self, id: u32, path: &Path, visit: &mut dyn FnMut(HostValue<'s>)) {
        match path {
            Path::Name => {
                if let Some(n) = self.names.get(id) {
                    visit(HostValue::Text(n));
                }
            }
            other => {
                if let Some(col) = self.layout.column(other) {
                    self.for_each_in_column(id, col, visit);
                }
            }
        }
    }
}

fn finish_columns(builders: Vec<ColumnBuilder>) -> Vec<Column> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        builders
            .into_par_iter()
            .map(ColumnBuilder::finish)
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        builders.into_iter().map(ColumnBuilder::finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_find_texts_before_and_after_they_hash() {
        // Texts that share their first eight bytes, differ only in length,
        // or are empty, below and beyond the few looked up without hashing.
        let texts: Vec<String> = ["", "a", "abcdefgh", "abcdefghi", "abcdefghj", "abcdefg"]
            .into_iter()
            .map(str::to_string)
            .chain((0..20).map(|i| format!("abcdefgh-{i}")))
            .collect();
        let mut dict = Dict::default();
        for (n, text) in texts.iter().enumerate() {
            assert_eq!(dict.get(&HostValue::Text(text)), None, "{text:?} before");
            let id = dict.id(&HostValue::Text(text));
            assert_eq!(id as usize, n);
            for (m, earlier) in texts.iter().enumerate().take(n + 1) {
                assert_eq!(dict.get(&HostValue::Text(earlier)), Some(m as u32));
            }
            assert_eq!(dict.get(&HostValue::Text("abcdefgh-x")), None);
        }
        assert_eq!(dict.id(&HostValue::Int(1)), texts.len() as u32);
        assert_eq!(dict.get(&HostValue::Text("1")), None);
    }
}
