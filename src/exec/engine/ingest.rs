//! Reading fleet records straight into a [`Part`]: no `Host`, no
//! `serde_json::Value` tree, no path tracking on the way.
//!
//! A record is read by hand-written serde visitors that borrow strings from
//! the input where it has no escapes, and hand each value to the part as it
//! arrives; the facts are walked as they are read. A record the fast reader
//! refuses — facts that are not plain (see `build::facts_are_plain`: a
//! `null`, an empty object, a key given twice), a host in serde's array
//! form, or an error — is read again on its own as a `Host`, and facts that
//! are not plain are kept as text so that the host rebuilds exactly.
//!
//! Errors are found by the fast reader but never worded by it: a JSON Lines
//! record that fails is read again by the `fleet` module's own reader,
//! which tracks paths; a JSON document that fails goes to
//! [`Fleet::from_json`](crate::Fleet::from_json) whole. So every message
//! (record, field, line, column) is exactly the one the exact readers give.
//! Where the records are, and how a file streams through here, is `load`'s
//! business.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::fleet::{host_from_line, FleetError, Host};
use crate::value::HostValue;

use super::build::Part;
use super::index::{ColId, Layout};

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
}

impl Scratch<'_> {
    fn clear(&mut self) {
        self.name = None;
        self.roles.clear();
        self.tags.clear();
    }
}

/// The fast reader refused a record; the `fleet` reader says why (or
/// reads it, if it is merely unusual).
fn refused<E: de::Error>() -> E {
    E::custom("record needs the exact reader")
}

/// One host record; its facts are walked as they are read (a refused
/// record is read again on its own by the exact reader).
struct HostSeed<'s, 'k, 'de> {
    scratch: &'s mut Scratch<'de>,
    sink: &'s mut FactSink<'k, 'de>,
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
        let sink = self.sink;
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
                    map.next_value_seed(ObjectSeed {
                        sink: &mut *sink,
                        node: 0,
                        top: true,
                    })?;
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
            let child = self
                .sink
                .layout
                .fact_child_at(self.node, children.len(), &key.0);
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

    /// Reads one record (one JSON value, nothing after it but whitespace)
    /// with the fast reader; `Err` when it refuses it (nothing is added
    /// then, once [`Part::discard_host`] is called).
    ///
    /// The record's UTF-8 is checked once, whole (std's check runs a word
    /// at a time over ASCII), so that serde_json need not check each
    /// string; text that is not UTF-8 goes the checking way, which
    /// refuses it where serde_json would.
    fn fast(&mut self, record: &'de [u8]) -> Result<(), ()> {
        match std::str::from_utf8(record) {
            Ok(text) => self.fast_from(&mut serde_json::Deserializer::from_str(text)),
            Err(_) => self.fast_from(&mut serde_json::Deserializer::from_slice(record)),
        }
    }

    fn fast_from<R: serde_json::de::Read<'de>>(
        &mut self,
        de: &mut serde_json::Deserializer<R>,
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
            sink: &mut sink,
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

    /// Moves the scratch host, and the facts walked while it was read,
    /// into the part.
    fn commit(&mut self) -> Result<(), ()> {
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
            for (i, (k, v)) in tags.iter().enumerate() {
                let c = part.layout.tag_column_at(i, k);
                part.value(c, &HostValue::Text(v), false);
            }
        }
        for (c, v, array) in &self.found {
            part.value(*c, &v.value(), *array);
        }
        part.end_host(&name, None);
        Ok(())
    }
}

fn has_repeated_key(tags: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
    tags.iter().enumerate().any(|(i, (k, _))| {
        tags.get(..i)
            .is_some_and(|before| before.iter().any(|(b, _)| b == k))
    })
}

/// Why reading stopped before the end.
pub(crate) enum Stop {
    /// The file is wrong, and this is the exact reader's word for it.
    Error(FleetError),
    /// A record of a JSON document that the exact reader must read in its
    /// place: the whole document is handed to it.
    Refused,
}

impl From<FleetError> for Stop {
    fn from(e: FleetError) -> Stop {
        Stop::Error(e)
    }
}

/// A run of records read into a part: how many lines it spans (JSON
/// Lines), and why it stopped early, if it did (record indexes and line
/// numbers in an error count from 0 and 1 within the piece; the caller
/// shifts them).
pub(crate) struct Piece {
    pub(crate) part: Part,
    pub(crate) lines: usize,
    pub(crate) stop: Option<Stop>,
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Reads `bytes` (whole lines; the last may lack its line end) as JSON
/// Lines. A line the fast reader refuses is read by the exact reader,
/// which either reads it or words its error.
pub(crate) fn read_lines(bytes: &[u8]) -> Piece {
    let mut reader = Reader::new();
    let mut lines = 0usize;
    let mut stop = None;
    for line in split_lines(bytes) {
        lines += 1;
        if is_blank(line) {
            continue;
        }
        if reader.fast(line).is_ok() {
            continue;
        }
        reader.part.discard_host();
        match host_from_line(line, reader.part.len(), lines) {
            Ok(host) => reader.part.add_host(&host),
            Err(e) => {
                stop = Some(Stop::Error(e));
                break;
            }
        }
    }
    Piece {
        part: reader.part,
        lines,
        stop,
    }
}

/// Reads records of a JSON document, each one object's bytes (see
/// `document`). A record the fast reader refuses is read as a [`Host`]
/// on its own, which accepts exactly what it would accept inside the
/// document; if that fails too, the piece stops with [`Stop::Refused`] and
/// the whole document goes to the exact reader, which words the error with
/// its place in the document.
pub(crate) fn read_records(records: &[&[u8]]) -> Piece {
    let mut reader = Reader::new();
    let mut stop = None;
    for record in records {
        if reader.fast(record).is_ok() {
            continue;
        }
        reader.part.discard_host();
        match serde_json::from_slice::<Host>(record) {
            Ok(host) => reader.part.add_host(&host),
            Err(_) => {
                stop = Some(Stop::Refused);
                break;
            }
        }
    }
    Piece {
        part: reader.part,
        lines: 0,
        stop,
    }
}

/// The lines of `bytes` as `split(b'\n')` gives them, except that a final
/// empty line after a last line end is not given.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let ends = memchr::memchr_iter(b'\n', trimmed).chain(std::iter::once(trimmed.len()));
    let mut start = 0usize;
    ends.filter(move |_| !bytes.is_empty()).map(move |end| {
        let line = trimmed.get(start..end).unwrap_or_default();
        start = end + 1;
        line
    })
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
}
