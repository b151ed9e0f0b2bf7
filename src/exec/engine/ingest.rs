//! Reading fleet files straight into the index: no `Host`, no
//! `serde_json::Value` tree, no path tracking on the way.
//!
//! A record is read by hand-written serde visitors that borrow strings from
//! the input where it has no escapes, and hand each value to a [`Part`] as
//! it arrives. In JSON Lines the facts are walked as they are read; a
//! record whose facts are not plain (see `build::facts_are_plain`: a
//! `null`, an empty object, duplicate keys) is read again on its own as a
//! `Host`. In a JSON document, which cannot be read again record by record,
//! the facts are first taken as raw JSON text (serde_json only checks
//! them), then walked, and facts that are not plain are read as a
//! `serde_json::Map` for that host only. Facts that are not plain are kept
//! as text, so that the host rebuilds exactly.
//!
//! Errors are found by the fast reader but never worded by it: when a
//! record fails, it is read again by the `fleet` module's own reader,
//! which tracks paths, so that every message (record, field, line,
//! column) is exactly the one [`Fleet::from_json`](crate::Fleet::from_json)
//! and [`Fleet::from_json_lines`](crate::Fleet::from_json_lines) give.
//!
//! JSON Lines are cut into pieces at line ends and read in parallel (with
//! the `parallel` feature); pieces are assembled in file order, so ids,
//! values and errors do not depend on where the cuts fall. A file is read
//! in blocks, so a JSON Lines file is never wholly in memory.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path as FsPath;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::fleet::inventory::FleetFormat;
use crate::fleet::{host_from_line, Fleet, FleetError, Host};
use crate::value::HostValue;

use super::build::{Assembler, Part};
use super::index::{ColId, IndexedFleet, Layout};

/// How far a load has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file read and parsed so far.
    pub done: u64,
    /// Bytes in the file.
    pub total: u64,
}

impl IndexedFleet {
    /// Reads a fleet file straight into an index: JSON Lines when the name
    /// ends in `.jsonl` or `.ndjson`, otherwise a JSON array of hosts or
    /// `{"hosts": [...]}` — the files [`Fleet::load`] reads, with the same
    /// errors, word for word.
    ///
    /// Cost: one pass over the file, no `Host` built; JSON Lines are read in
    /// blocks of 16 MiB, each parsed in parallel with the `parallel`
    /// feature, so the file is never wholly in memory. A JSON document is
    /// read whole, then parsed in one streaming pass. See `docs/ingest.md`
    /// for the memory a host costs.
    pub fn load(path: impl AsRef<FsPath>) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), None, &|_| {})
    }

    /// [`IndexedFleet::load`], calling `progress` after each block read.
    pub fn load_with(
        path: impl AsRef<FsPath>,
        progress: &dyn Fn(Progress),
    ) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), None, progress)
    }

    /// [`IndexedFleet::load_with`] in a given format rather than the one
    /// detected ([`Fleet::load_with`] for a plain [`Fleet`]). Fleetscope
    /// files stream into the index; other tools' inventories are read whole
    /// and converted first.
    pub fn load_as(
        path: impl AsRef<FsPath>,
        format: FleetFormat,
        progress: &dyn Fn(Progress),
    ) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), Some(format), progress)
    }

    /// Parses a JSON array of hosts, or `{"hosts": [...]}`, straight into
    /// an index; accepts and rejects exactly what [`Fleet::from_json`]
    /// does, with the same errors.
    pub fn from_json(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
        from_json(bytes)
    }

    /// Parses JSON Lines straight into an index, in parallel pieces with
    /// the `parallel` feature; accepts and rejects exactly what
    /// [`Fleet::from_json_lines`] does, with the same errors.
    pub fn from_json_lines(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
        from_json_lines(bytes)
    }

    /// [`IndexedFleet::from_json_lines`] with the text cut at these byte
    /// offsets (each just after a line end; others are moved there), for
    /// tests that the cut changes nothing.
    #[doc(hidden)]
    pub fn from_json_lines_cut_at(
        bytes: &[u8],
        cuts: &[usize],
    ) -> Result<IndexedFleet, FleetError> {
        let fixed: Vec<usize> = cuts
            .iter()
            .map(
                |c| match bytes.get(..*c).and_then(|b| memchr::memrchr(b'\n', b)) {
                    Some(i) => i + 1,
                    None => 0,
                },
            )
            .collect();
        from_json_lines_cut(bytes, &split_at_lines(bytes, &fixed))
    }
}

/// Bytes read from a JSON Lines file at a time.
const BLOCK: usize = 16 << 20;

/// A text from the input: borrowed when it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One host's fields as read, before they go into the part.
#[derive(Default)]
struct Scratch<'de> {
    name: Option<Cow<'de, str>>,
    roles: Vec<Cow<'de, str>>,
    tags: Vec<(Cow<'de, str>, Cow<'de, str>)>,
    facts: Option<&'de RawValue>,
}

impl Scratch<'_> {
    fn clear(&mut self) {
        self.name = None;
        self.roles.clear();
        self.tags.clear();
        self.facts = None;
    }
}

/// The fast reader refused a record; the `fleet` reader says why (or
/// reads it, if it is merely unusual).
fn refused<E: de::Error>() -> E {
    E::custom("record needs the exact reader")
}

/// One host record. With a sink, the facts are walked as they are read
/// (JSON Lines: a refused record is read again on its own); without, they
/// are taken as raw text and walked afterwards (a document cannot be read
/// again record by record).
struct HostSeed<'s, 'k, 'de> {
    scratch: &'s mut Scratch<'de>,
    sink: Option<&'s mut FactSink<'k, 'de>>,
}

impl<'de> DeserializeSeed<'de> for HostSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HostSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a host object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.scratch;
        let mut sink = self.sink;
        let (mut roles, mut tags, mut facts) = (false, false, false);
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "name" if s.name.is_none() => s.name = Some(map.next_value::<Text<'de>>()?.0),
                "roles" if !roles => {
                    roles = true;
                    map.next_value_seed(RolesSeed(&mut s.roles))?;
                }
                "tags" if !tags => {
                    tags = true;
                    map.next_value_seed(TagsSeed(&mut s.tags))?;
                }
                "facts" if !facts => {
                    facts = true;
                    match sink.as_deref_mut() {
                        Some(sink) => map.next_value_seed(ObjectSeed {
                            sink,
                            node: 0,
                            top: true,
                        })?,
                        None => s.facts = Some(map.next_value()?),
                    }
                }
                _ => return Err(refused()),
            }
        }
        if s.name.is_none() {
            return Err(refused());
        }
        Ok(())
    }
}

struct RolesSeed<'s, 'de>(&'s mut Vec<Cow<'de, str>>);

impl<'de> DeserializeSeed<'de> for RolesSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RolesSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of roles")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(role) = seq.next_element::<Text<'de>>()? {
            self.0.push(role.0);
        }
        Ok(())
    }
}

struct TagsSeed<'s, 'de>(&'s mut Vec<(Cow<'de, str>, Cow<'de, str>)>);

impl<'de> DeserializeSeed<'de> for TagsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of tags")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let value = map.next_value::<Text<'de>>()?;
            self.0.push((key.0, value.0));
        }
        Ok(())
    }
}

/// A scalar fact value, as read.
enum Scalar<'de> {
    Text(Cow<'de, str>),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Scalar<'_> {
    fn value(&self) -> HostValue<'_> {
        match self {
            Scalar::Text(t) => HostValue::Text(t),
            Scalar::Int(i) => HostValue::Int(*i),
            Scalar::Float(f) => HostValue::Float(*f),
            Scalar::Bool(b) => HostValue::Bool(*b),
        }
    }
}

/// Where a walk of plain facts puts what it finds.
struct FactSink<'s, 'de> {
    layout: &'s mut Layout,
    keys: Vec<Cow<'de, str>>,
    found: Vec<(ColId, Scalar<'de>, bool)>,
}

/// An object of facts at trie node `node`; refuses anything that is not
/// plain (empty objects below the top, `null`, arrays of non-scalars,
/// empty arrays, a key given twice).
struct ObjectSeed<'s, 'k, 'de> {
    sink: &'s mut FactSink<'k, 'de>,
    node: u32,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of facts")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut children: Vec<u32> = Vec::new();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let child = self.sink.layout.fact_child(self.node, &key.0);
            if children.contains(&child) {
                return Err(refused());
            }
            children.push(child);
            self.sink.keys.push(key.0);
            map.next_value_seed(ValueSeed {
                sink: &mut *self.sink,
                node: child,
            })?;
            self.sink.keys.pop();
        }
        if children.is_empty() && !self.top {
            return Err(refused());
        }
        Ok(())
    }
}

/// The value under one key of a facts object.
struct ValueSeed<'s, 'k, 'de> {
    sink: &'s mut FactSink<'k, 'de>,
    node: u32,
}

impl ValueSeed<'_, '_, '_> {
    fn column(&mut self) -> ColId {
        let keys = &self.sink.keys;
        self.sink
            .layout
            .fact_column(self.node, keys.iter().map(|k| k.as_ref()))
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! scalar_visits {
    ($push:ident) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.$push(Scalar::Bool(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.$push(Scalar::Int(i128::from(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.$push(Scalar::Int(i128::from(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            self.$push(Scalar::Float(v))
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
            self.$push(Scalar::Text(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            self.$push(Scalar::Text(Cow::Owned(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
            self.$push(Scalar::Text(Cow::Owned(v)))
        }
    };
}

impl<'de> ValueSeed<'_, '_, 'de> {
    fn scalar<E>(mut self, v: Scalar<'de>) -> Result<(), E> {
        let c = self.column();
        self.sink.found.push((c, v, false));
        Ok(())
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fact")
    }
    scalar_visits!(scalar);
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ObjectSeed {
            sink: self.sink,
            node: self.node,
            top: false,
        }
        .visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let c = self.column();
        let mut any = false;
        while let Some(()) = seq.next_element_seed(ElementSeed {
            sink: &mut *self.sink,
            col: c,
        })? {
            any = true;
        }
        if any {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// One element of an array of facts: a scalar, or refused.
struct ElementSeed<'s, 'k, 'de> {
    sink: &'s mut FactSink<'k, 'de>,
    col: ColId,
}

impl<'de> ElementSeed<'_, '_, 'de> {
    fn element<E>(self, v: Scalar<'de>) -> Result<(), E> {
        self.sink.found.push((self.col, v, true));
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }
    scalar_visits!(element);
}

/// Reads records into one part.
struct Reader<'de> {
    part: Part,
    scratch: Scratch<'de>,
    found: Vec<(ColId, Scalar<'de>, bool)>,
    keys: Vec<Cow<'de, str>>,
}

impl<'de> Reader<'de> {
    fn new() -> Self {
        Reader {
            part: Part::default(),
            scratch: Scratch::default(),
            found: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Reads one record with the fast reader; `Err` when it refuses it
    /// (nothing is added then).
    fn fast(
        &mut self,
        de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
    ) -> Result<(), ()> {
        self.scratch.clear();
        let mut sink = FactSink {
            layout: &mut self.part.layout,
            keys: std::mem::take(&mut self.keys),
            found: std::mem::take(&mut self.found),
        };
        sink.keys.clear();
        sink.found.clear();
        let read = HostSeed {
            scratch: &mut self.scratch,
            sink: Some(&mut sink),
        }
        .deserialize(&mut *de)
        .is_ok()
            && de.end().is_ok();
        self.keys = sink.keys;
        self.found = sink.found;
        if !read {
            return Err(());
        }
        self.commit()
    }

    /// Moves the scratch host into the part.
    fn commit(&mut self) -> Result<(), ()> {
        // Facts first: if they are not plain, the host is read as a whole.
        // Facts walked while read are in `found` already.
        let mut found = std::mem::take(&mut self.found);
        let mut raw_facts = None;
        if let Some(raw) = self.scratch.facts {
            found.clear();
            let mut sink = FactSink {
                layout: &mut self.part.layout,
                keys: std::mem::take(&mut self.keys),
                found,
            };
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let plain = ObjectSeed {
                sink: &mut sink,
                node: 0,
                top: true,
            }
            .deserialize(&mut de)
            .is_ok();
            self.keys = sink.keys;
            self.keys.clear();
            found = sink.found;
            if !plain {
                found.clear();
                // Facts a plain walk refuses: `null`s, empty objects or
                // arrays, nested arrays, keys given twice (the last wins,
                // as in `serde_json::Map`), or not an object at all.
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(raw.get()).map_err(|_| ())?;
                raw_facts = Some(map);
            }
        }
        let name = self.scratch.name.take().ok_or(())?;
        let part = &mut self.part;
        if !self.scratch.roles.is_empty() {
            let c = part.layout.role_column();
            for r in &self.scratch.roles {
                part.value(c, &HostValue::Text(r), true);
            }
        }
        let tags = &mut self.scratch.tags;
        if has_repeated_key(tags) {
            // `BTreeMap` semantics: the last value of a key wins.
            let mut last: std::collections::BTreeMap<&str, &str> =
                std::collections::BTreeMap::new();
            for (k, v) in tags.iter() {
                last.insert(k, v);
            }
            for (k, v) in last {
                let c = part.layout.tag_column(k);
                part.value(c, &HostValue::Text(v), false);
            }
        } else {
            for (k, v) in tags.iter() {
                let c = part.layout.tag_column(k);
                part.value(c, &HostValue::Text(v), false);
            }
        }
        let raw_text = match raw_facts {
            None => {
                for (c, v, array) in &found {
                    part.value(*c, &v.value(), *array);
                }
                None
            }
            Some(map) => {
                // Index the facts exactly as `Layout::walk` does for a
                // host, and keep them as text.
                let host = Host {
                    facts: map,
                    ..Host::default()
                };
                let mut values = Vec::new();
                part.layout
                    .walk(&host, |c, v, array| values.push((c, key_of(&v), array)));
                for (c, v, array) in &values {
                    part.value(*c, &v.value(), *array);
                }
                serde_json::to_string(&host.facts).ok()
            }
        };
        part.end_host(&name, raw_text);
        self.found = found;
        Ok(())
    }
}

/// An owned copy of a value (the walk above borrows the host it walks).
fn key_of(v: &HostValue<'_>) -> Scalar<'static> {
    match v {
        HostValue::Text(t) => Scalar::Text(Cow::Owned((*t).to_string())),
        HostValue::Int(i) => Scalar::Int(*i),
        HostValue::Float(f) => Scalar::Float(*f),
        HostValue::Bool(b) => Scalar::Bool(*b),
    }
}

fn has_repeated_key(tags: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
    tags.iter().enumerate().any(|(i, (k, _))| {
        tags.get(..i)
            .is_some_and(|before| before.iter().any(|(b, _)| b == k))
    })
}

/// A piece of JSON Lines read into a part: how many lines it spans, or the
/// first error in it (with its record index and line number counted from
/// the piece's start).
struct LinesPiece {
    part: Part,
    lines: usize,
    error: Option<FleetError>,
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Reads `bytes` (whole lines; the last may lack its line end) as JSON
/// Lines. Record and line numbers in errors count from 0 and 1 within the
/// piece; the caller shifts them.
fn read_lines(bytes: &[u8]) -> LinesPiece {
    let mut reader = Reader::new();
    let mut lines = 0usize;
    let mut error = None;
    for line in split_lines(bytes) {
        lines += 1;
        if is_blank(line) {
            continue;
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        if reader.fast(&mut de).is_ok() {
            continue;
        }
        reader.part.discard_host();
        match host_from_line(line, reader.part.len(), lines) {
            Ok(host) => reader.part.add_host(&host),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    LinesPiece {
        part: reader.part,
        lines,
        error,
    }
}

/// The lines of `bytes` as `split(b'\n')` gives them, except that a final
/// empty line after a last line end is not given.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    trimmed.split(|b| *b == b'\n').filter(move |_| !empty)
}

/// Cuts `bytes` at line ends into about `pieces` pieces of whole lines.
fn cut_lines(bytes: &[u8], pieces: usize) -> Vec<&[u8]> {
    let mut cuts = Vec::with_capacity(pieces + 1);
    let step = bytes.len() / pieces.max(1);
    let mut start = 0usize;
    for k in 1..pieces {
        let target = (k * step).max(start);
        let Some(tail) = bytes.get(target..) else {
            break;
        };
        match memchr::memchr(b'\n', tail) {
            Some(i) => {
                let end = target + i + 1;
                cuts.push(bytes.get(start..end).unwrap_or_default());
                start = end;
            }
            None => break,
        }
    }
    cuts.push(bytes.get(start..).unwrap_or_default());
    cuts
}

/// Assembles JSON Lines pieces in file order; stops at the first error.
struct LinesLoad {
    all: Assembler,
    lines: usize,
}

impl LinesLoad {
    fn new() -> Self {
        LinesLoad {
            all: Assembler::with_capacity(0),
            lines: 0,
        }
    }

    /// Reads whole lines (cut where `cuts` say, or evenly per thread) and
    /// adds them.
    fn add(&mut self, pieces: &[&[u8]]) -> Result<(), FleetError> {
        self.assemble(read_pieces(pieces))
    }

    /// Adds pieces already read, in order.
    fn assemble(&mut self, read: Vec<LinesPiece>) -> Result<(), FleetError> {
        for piece in read {
            let (records, lines) = (self.all.len(), self.lines);
            if let Some(mut e) = piece.error {
                if let FleetError::Malformed { record, line, .. } = &mut e {
                    *record = record.map(|r| r + records);
                    *line += lines;
                }
                return Err(e);
            }
            self.lines += piece.lines;
            self.all.absorb(piece.part);
        }
        Ok(())
    }
}

fn read_pieces(pieces: &[&[u8]]) -> Vec<LinesPiece> {
    super::index::map_chunks(pieces, |p| read_lines(p))
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

fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// JSON Lines from memory: see [`IndexedFleet::from_json_lines`].
pub(crate) fn from_json_lines(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
    // A block per thread, a few per thread when large (uneven lines).
    let pieces = if bytes.len() < (1 << 20) {
        1
    } else {
        threads() * 4
    };
    from_json_lines_cut(bytes, &cut_lines(bytes, pieces))
}

/// JSON Lines from memory, read in the given pieces (whole lines each, in
/// order, together all of `bytes`).
pub(crate) fn from_json_lines_cut(
    bytes: &[u8],
    pieces: &[&[u8]],
) -> Result<IndexedFleet, FleetError> {
    let _ = bytes;
    let mut load = LinesLoad::new();
    load.add(pieces)?;
    load.all.finish()
}

/// Where the split of a JSON Lines text falls: at line ends only.
pub(crate) fn split_at_lines<'b>(bytes: &'b [u8], cuts: &[usize]) -> Vec<&'b [u8]> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for &cut in cuts {
        if cut <= start || cut > bytes.len() {
            continue;
        }
        if let Some(piece) = bytes.get(start..cut) {
            out.push(piece);
        }
        start = cut;
    }
    out.push(bytes.get(start..).unwrap_or_default());
    out
}

/// A JSON document (array or `{"hosts": [...]}`) from memory, in one
/// streaming pass; any refusal hands the whole document to the exact
/// reader, which either reads it or gives its precise error.
pub(crate) fn from_json(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
    let mut reader = Reader::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fast = DocumentSeed(&mut reader).deserialize(&mut de).is_ok() && de.end().is_ok();
    if fast {
        let mut all = Assembler::with_capacity(reader.part.len());
        all.absorb(reader.part);
        return all.finish();
    }
    drop(reader);
    Fleet::from_json(bytes).map(IndexedFleet::new)
}

struct DocumentSeed<'r, 'de>(&'r mut Reader<'de>);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fleet document")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        HostsSeed(self.0).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            if key.0 != "hosts" || seen {
                return Err(refused());
            }
            seen = true;
            map.next_value_seed(HostsSeed(&mut *self.0))?;
        }
        if seen {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

struct HostsSeed<'r, 'de>(&'r mut Reader<'de>);

impl<'de> DeserializeSeed<'de> for HostsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for HostsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of hosts")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reader = self.0;
        loop {
            reader.scratch.clear();
            reader.found.clear();
            let seed = HostSeed {
                scratch: &mut reader.scratch,
                sink: None,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            reader.commit().map_err(|()| refused::<A::Error>())?;
        }
    }
}

/// Whether `path` names a JSON Lines file.
fn is_lines(path: &FsPath) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
}

/// A fleet file: see [`IndexedFleet::load_with`].
pub(crate) fn load(
    path: &FsPath,
    format: Option<FleetFormat>,
    progress: &dyn Fn(Progress),
) -> Result<IndexedFleet, FleetError> {
    let io = |source| FleetError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let streams_lines = is_lines(path) && matches!(format, None | Some(FleetFormat::Fleetscope));
    if !streams_lines {
        let mut bytes = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut done = 0u64;
        let mut block = vec![0u8; BLOCK];
        loop {
            let n = file.read(&mut block).map_err(io)?;
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(block.get(..n).unwrap_or_default());
            done += n as u64;
            progress(Progress {
                done: done / 2,
                total,
            });
        }
        let fleet = match format.unwrap_or_else(|| crate::fleet::inventory::detect(&bytes)) {
            FleetFormat::Fleetscope => from_json(&bytes),
            inventory => Fleet::from_json_with(&bytes, inventory).map(IndexedFleet::new),
        };
        progress(Progress { done: total, total });
        return fleet;
    }
    let mut load = LinesLoad::new();
    // Pieces read but not yet assembled: a block is assembled while the
    // next one is parsed.
    let mut pending: Vec<LinesPiece> = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK * 2);
    let mut done = 0u64;
    loop {
        // Fill up to a block beyond what is carried over.
        let keep = buf.len();
        buf.resize(keep + BLOCK, 0);
        let mut filled = keep;
        while filled < buf.len() {
            let n = file
                .read(buf.get_mut(filled..).unwrap_or_default())
                .map_err(io)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let end_of_file = filled < keep + BLOCK;
        // Whole lines only, unless the file has ended.
        let cut = if end_of_file {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                // One line longer than a block: read on.
                None => continue,
            }
        };
        let whole = buf.get(..cut).unwrap_or_default();
        if !whole.is_empty() {
            let pieces = cut_lines(whole, threads() * 2);
            let previous = std::mem::take(&mut pending);
            let (read, assembled) = join(|| read_pieces(&pieces), || load.assemble(previous));
            assembled?;
            pending = read;
        }
        done += cut as u64;
        progress(Progress { done, total });
        buf.drain(..cut);
        if end_of_file {
            break;
        }
    }
    load.assemble(pending)?;
    load.all.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_the_exact_reader() {
        let text = b"a\n\nb\n";
        assert_eq!(
            split_lines(text).collect::<Vec<_>>(),
            [&b"a"[..], b"", b"b"]
        );
        assert_eq!(split_lines(b"a").collect::<Vec<_>>(), [&b"a"[..]]);
        assert_eq!(split_lines(b"").count(), 0);
        assert_eq!(split_lines(b"\n").collect::<Vec<_>>(), [&b""[..]]);
    }

    #[test]
    fn cuts_fall_at_line_ends_and_cover_the_text() {
        let text = b"{\"name\":\"a\"}\n{\"name\":\"bb\"}\n\n{\"name\":\"c\"}";
        for pieces in 1..8 {
            let cut = cut_lines(text, pieces);
            assert_eq!(cut.concat(), text.to_vec());
            for piece in cut.iter().take(cut.len() - 1) {
                assert!(piece.ends_with(b"\n"));
            }
        }
    }
}
