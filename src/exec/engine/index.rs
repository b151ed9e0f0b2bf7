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
    texts: HashMap<Box<str>, u32>,
    ints: HashMap<i128, u32>,
    /// By bit pattern: JSON has no NaN, and `0.0`/`-0.0` as two values is
    /// harmless since each is tested on its own.
    floats: HashMap<u64, u32>,
    bools: [Option<u32>; 2],
    pub(crate) keys: Vec<Key>,
}

impl Dict {
    pub(crate) fn get(&self, value: &HostValue<'_>) -> Option<u32> {
        match value {
            HostValue::Text(s) => self.texts.get(*s).copied(),
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
}

impl Column {
    fn insert(&mut self, id: u32, value: &HostValue<'_>) {
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
    }

    fn remove(&mut self, id: u32, value: &HostValue<'_>) {
        if let Some(vid) = self.dict.get(value) {
            if let Some(p) = self.postings.get_mut(vid as usize) {
                p.remove(id);
            }
        }
        self.has.remove(id);
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
    children: HashMap<Box<str>, u32>,
    column: Option<ColId>,
}

/// Where each path's column is, found without building a [`Path`].
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    role: Option<ColId>,
    tags: HashMap<Box<str>, ColId>,
    /// `facts[0]` is the root.
    facts: Vec<FactNode>,
    /// The path of each column.
    pub(crate) paths: Vec<Path>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            role: None,
            tags: HashMap::new(),
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
    fn column_or_create(&mut self, path: &Path) -> Option<ColId> {
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

    fn role_column(&mut self) -> ColId {
        match self.role {
            Some(c) => c,
            None => {
                let c = self.new_column(Path::Role);
                self.role = Some(c);
                c
            }
        }
    }

    fn tag_column(&mut self, key: &str) -> ColId {
        if let Some(c) = self.tags.get(key) {
            return *c;
        }
        let c = self.new_column(Path::Tag(key.to_string()));
        self.tags.insert(key.into(), c);
        c
    }

    fn fact_child(&mut self, node: u32, key: &str) -> u32 {
        if let Some(child) = self
            .facts
            .get(node as usize)
            .and_then(|n| n.children.get(key))
        {
            return *child;
        }
        let child = self.facts.len() as u32;
        self.facts.push(FactNode::default());
        if let Some(n) = self.facts.get_mut(node as usize) {
            n.children.insert(key.into(), child);
        }
        child
    }

    fn fact_column<'k>(&mut self, node: u32, keys: impl Iterator<Item = &'k str>) -> ColId {
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
    fn walk<'h>(&mut self, host: &'h Host, mut visit: impl FnMut(ColId, HostValue<'h>)) {
        if !host.roles.is_empty() {
            let c = self.role_column();
            for r in &host.roles {
                visit(c, HostValue::Text(r));
            }
        }
        for (key, value) in &host.tags {
            let c = self.tag_column(key);
            visit(c, HostValue::Text(value));
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
                        visit(c, v);
                    }
                }
                scalar => {
                    if let Some(v) = HostValue::from_json(scalar) {
                        let c = self.fact_column(child, keys.iter().copied());
                        visit(c, v);
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
struct NameIndex {
    primary: HashMap<u32, u32, BuildHasherDefault<Prehashed>>,
    overflow: BTreeMap<Box<str>, u32>,
}

fn name_hash(name: &str) -> u32 {
    // `DefaultHasher::new()` uses fixed keys: the same hash in every run.
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    let full = h.finish();
    (full ^ (full >> 32)) as u32
}

fn name_at(hosts: &[Option<Host>], id: u32) -> Option<&str> {
    hosts
        .get(id as usize)
        .and_then(Option::as_ref)
        .map(|h| h.name.as_str())
}

impl NameIndex {
    fn with_capacity(n: usize) -> Self {
        NameIndex {
            primary: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            overflow: BTreeMap::new(),
        }
    }

    fn get(&self, name: &str, hosts: &[Option<Host>]) -> Option<u32> {
        if let Some(id) = self.primary.get(&name_hash(name)) {
            if name_at(hosts, *id) == Some(name) {
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

    /// Forgets `name`, which must still be the name of its host in `hosts`.
    fn remove(&mut self, name: &str, hosts: &[Option<Host>]) -> Option<u32> {
        let hash = name_hash(name);
        match self.primary.get(&hash) {
            Some(id) if name_at(hosts, *id) == Some(name) => {
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
/// Build one with [`IndexedFleet::new`], select with
/// [`IndexedFleet::select`], keep it current with [`IndexedFleet::upsert`]
/// and [`IndexedFleet::remove`].
#[derive(Debug, Clone)]
pub struct IndexedFleet {
    /// By id; `None` where a host was removed.
    pub(crate) hosts: Vec<Option<Host>>,
    /// Ids of the hosts present.
    live: RoaringBitmap,
    names: NameIndex,
    pub(crate) layout: Layout,
    pub(crate) columns: Vec<Column>,
}

/// Hosts per build chunk: a multiple of a roaring container (2^16 ids), so
/// chunks fill disjoint containers.
const CHUNK: usize = 1 << 16;

/// Columns for a run of hosts, with plain id lists for postings.
#[derive(Default)]
struct ChunkBuilder {
    layout: Layout,
    columns: Vec<ColumnBuilder>,
}

/// A column under construction: ids arrive in increasing order, so every
/// bitmap is built by appending.
#[derive(Default)]
struct ColumnBuilder {
    dict: Dict,
    lists: Vec<RoaringBitmap>,
    has: RoaringBitmap,
    multi: bool,
}

impl ColumnBuilder {
    fn push(&mut self, id: u32, value: &HostValue<'_>) {
        let vid = self.dict.intern(value) as usize;
        if self.lists.len() <= vid {
            self.lists.resize_with(vid + 1, RoaringBitmap::new);
        }
        let Some(list) = self.lists.get_mut(vid) else {
            return;
        };
        // `try_push` refuses an id not above the last: a repeat in this
        // host.
        let new_for_value = list.try_push(id).is_ok();
        if self.has.try_push(id).is_err() {
            // The host already has a value here; a second distinct one
            // makes the column multi-valued.
            self.multi |= new_for_value;
        }
    }
}

impl ChunkBuilder {
    fn add(&mut self, id: u32, host: &Host) {
        let columns = &mut self.columns;
        self.layout.walk(host, |c, v| {
            let c = c as usize;
            if columns.len() <= c {
                columns.resize_with(c + 1, ColumnBuilder::default);
            }
            if let Some(col) = columns.get_mut(c) {
                col.push(id, &v);
            }
        });
    }

    /// Appends `other` (a chunk of later ids) to this one.
    fn absorb(&mut self, other: ChunkBuilder) {
        for (path, col) in other.layout.paths.iter().zip(other.columns) {
            let Some(c) = self.layout.column_or_create(path) else {
                continue;
            };
            let c = c as usize;
            if self.columns.len() <= c {
                self.columns.resize_with(c + 1, ColumnBuilder::default);
            }
            let Some(target) = self.columns.get_mut(c) else {
                continue;
            };
            for (key, list) in col.dict.keys.iter().zip(col.lists) {
                let vid = target.dict.intern(&key.value()) as usize;
                if target.lists.len() <= vid {
                    target.lists.resize_with(vid + 1, RoaringBitmap::new);
                }
                if let Some(t) = target.lists.get_mut(vid) {
                    // Later chunks fill later containers: this appends.
                    *t |= list;
                }
            }
            target.has |= col.has;
            target.multi |= col.multi;
        }
    }
}

impl ColumnBuilder {
    fn finish(self) -> Column {
        let mut has = self.has;
        has.optimize();
        Column {
            dict: self.dict,
            postings: self.lists.into_iter().map(Postings::from_bitmap).collect(),
            has,
            multi: self.multi,
        }
    }
}

fn build_chunk(start: usize, hosts: &[Host]) -> ChunkBuilder {
    let mut chunk = ChunkBuilder::default();
    for (i, host) in hosts.iter().enumerate() {
        chunk.add((start + i) as u32, host);
    }
    chunk
}

impl IndexedFleet {
    /// Indexes `fleet`. Host ids follow the fleet's order.
    ///
    /// Cost: one pass over every value of every host, plus a hash of every
    /// name; with the `parallel` feature the pass runs in chunks of 65,536
    /// hosts on rayon's pool. A [`Fleet`] is already valid (unique, non-empty
    /// names), so nothing is rejected. Fleets beyond `u32::MAX - 1` hosts are
    /// not supported: the hosts past that are dropped.
    pub fn new(fleet: Fleet) -> IndexedFleet {
        let mut hosts = fleet.into_hosts();
        hosts.truncate(u32::MAX as usize - 1);
        let chunks: Vec<(usize, &[Host])> = hosts
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, c)| (i * CHUNK, c))
            .collect();
        let build_names = || {
            let mut names = NameIndex::with_capacity(hosts.len());
            for (i, h) in hosts.iter().enumerate() {
                names.insert(&h.name, i as u32);
            }
            names
        };
        let build_columns = || {
            let built: Vec<ChunkBuilder> = map_chunks(&chunks, |(start, c)| build_chunk(*start, c));
            let mut all = ChunkBuilder::default();
            for chunk in built {
                all.absorb(chunk);
            }
            let columns = finish_columns(all.columns);
            (all.layout, columns)
        };
        let (names, (layout, columns)) = join(build_names, build_columns);
        let mut live = RoaringBitmap::new();
        live.insert_range(0..hosts.len() as u32);
        IndexedFleet {
            hosts: hosts.into_iter().map(Some).collect(),
            live,
            names,
            layout,
            columns,
        }
    }

    /// How many hosts the fleet holds now.
    pub fn len(&self) -> usize {
        self.live.len() as usize
    }

    /// Whether the fleet holds no host.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The host with this id, unless it was removed.
    pub fn host(&self, id: HostId) -> Option<&Host> {
        self.hosts.get(id.index()).and_then(Option::as_ref)
    }

    /// The id of the host named `name`. O(1): one hash and one comparison.
    pub fn position(&self, name: &str) -> Option<HostId> {
        self.names.get(name, &self.hosts).map(HostId)
    }

    /// The hosts present, in fleet order, with their ids.
    pub fn hosts(&self) -> impl Iterator<Item = (HostId, &Host)> + '_ {
        self.hosts
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((HostId(i as u32), h.as_ref()?)))
    }

    /// The hosts present as a plain [`Fleet`], in fleet order. Costs a copy
    /// of every host.
    pub fn to_fleet(&self) -> Fleet {
        // Names in the index are unique and non-empty, so this cannot fail;
        // an empty fleet is the safe answer if it ever did.
        Fleet::new(self.hosts().map(|(_, h)| h.clone()).collect()).unwrap_or_default()
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
        let id = match self.names.get(&host.name, &self.hosts) {
            Some(id) => {
                if let Some(old) = self.hosts.get_mut(id as usize).and_then(Option::take) {
                    self.unindex(id, &old);
                }
                id
            }
            None => {
                let max = u64::from(u32::MAX) - 1;
                if self.hosts.len() as u64 >= max {
                    return Err(IndexError::Full { max });
                }
                let id = self.hosts.len() as u32;
                self.names.insert(&host.name, id);
                self.hosts.push(None);
                id
            }
        };
        self.index(id, &host);
        self.live.insert(id);
        if let Some(slot) = self.hosts.get_mut(id as usize) {
            *slot = Some(host);
        }
        Ok(HostId(id))
    }

    /// Removes the host named `name` and returns it. Its id is not reused.
    /// Cost: proportional to the host's values.
    pub fn remove(&mut self, name: &str) -> Option<Host> {
        let id = self.names.remove(name, &self.hosts)?;
        let host = self.hosts.get_mut(id as usize).and_then(Option::take)?;
        self.live.remove(id);
        self.unindex(id, &host);
        Some(host)
    }

    fn index(&mut self, id: u32, host: &Host) {
        let columns = &mut self.columns;
        self.layout.walk(host, |c, v| {
            let c = c as usize;
            if columns.len() <= c {
                columns.resize_with(c + 1, Column::default);
            }
            if let Some(col) = columns.get_mut(c) {
                col.insert(id, &v);
            }
        });
    }

    fn unindex(&mut self, id: u32, host: &Host) {
        let columns = &mut self.columns;
        self.layout.walk(host, |c, v| {
            if let Some(col) = columns.get_mut(c as usize) {
                col.remove(id, &v);
            }
        });
    }

    /// Bytes of heap the index uses beyond the hosts themselves (an
    /// estimate from capacities and bitmap container sizes; allocator
    /// overhead is not counted).
    pub fn index_bytes(&self) -> usize {
        self.names.heap_bytes()
            + bitmap_bytes(&self.live)
            + self.layout.heap_bytes()
            + self.columns.capacity() * std::mem::size_of::<Column>()
            + self.columns.iter().map(Column::heap_bytes).sum::<usize>()
            // The slot vector's cost over a plain `Vec<Host>`: none while
            // `Option<Host>` uses the name's niche.
            + self.hosts.capacity()
                * (std::mem::size_of::<Option<Host>>() - std::mem::size_of::<Host>())
    }

    /// [`IndexedFleet::index_bytes`] split by part: the name index, the
    /// live set, the path layout, then each column by its path.
    #[doc(hidden)]
    pub fn index_bytes_by_part(&self) -> Vec<(String, usize)> {
        let mut parts = vec![
            ("name index".to_string(), self.names.heap_bytes()),
            ("live".to_string(), bitmap_bytes(&self.live)),
            ("layout".to_string(), self.layout.heap_bytes()),
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
        self.names.get(name, &self.hosts)
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

fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}
