//! Hosts as views: the index keeps no `Host` structs. Each host is a name in
//! one shared text buffer and a compact record of the values it holds, as
//! (column, value id) pairs into the index's dictionaries; a whole [`Host`]
//! is rebuilt from those on demand (`explain`, `Selection::hosts`, the
//! planner's groups).
//!
//! This module owns the record format and the rebuilding; it must not
//! decide what values mean (that is [`crate::value`]'s job) nor which hosts
//! a query selects.
//!
//! Record layout, one per host, back to back in one byte buffer:
//! `varint(payload length)`, then `varint(event count)`, then per event
//! `varint(column << 1 | in_array)` and `varint(value id)`, then the rest
//! of the payload: empty when the facts are rebuilt from the events, or the
//! facts as JSON text when they hold something events cannot say (a
//! `null`, an empty object or array, an array holding objects or arrays).

use crate::fleet::Host;
use crate::syntax::Path;
use crate::value::HostValue;

use super::index::{ColId, Column, Key, Layout};

/// Host names, back to back, by id. Names of removed hosts stay (ids are
/// never reused); liveness is the index's business.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    text: String,
    /// `ends[i]`: where name `i` ends in `text`; it starts where `i - 1`
    /// ends.
    ends: Vec<u64>,
}

impl Names {
    pub(crate) fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len() as u64);
    }

    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        let i = id as usize;
        let end = usize::try_from(*self.ends.get(i)?).ok()?;
        let start = match i.checked_sub(1) {
            Some(p) => usize::try_from(*self.ends.get(p)?).ok()?,
            None => 0,
        };
        self.text.get(start..end)
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every name in id order (removed hosts' too).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |end| {
            let end = usize::try_from(*end).unwrap_or(usize::MAX);
            let name = self.text.get(start..end).unwrap_or("");
            start = end;
            name
        })
    }

    /// All names back to back, and where each ends: for scans that search
    /// the whole buffer at once.
    pub(crate) fn buffer(&self) -> (&str, &[u64]) {
        (&self.text, &self.ends)
    }

    /// Appends `other`'s names after these.
    pub(crate) fn append(&mut self, other: &Names) {
        let base = self.text.len() as u64;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 8
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// One value of a host: the column, the value id in its dictionary, and
/// whether it is an element of an array (facts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) col: ColId,
    pub(crate) vid: u32,
    pub(crate) array: bool,
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
    }
    None
}

/// Every host's record, by id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Records {
    bytes: Vec<u8>,
    /// Offset of each host's record in `bytes`. A replaced host's record is
    /// appended and its old bytes are left behind (see `docs/ingest.md`).
    at: Vec<u64>,
}

/// A record, decoded lazily.
pub(crate) struct Record<'r> {
    events: &'r [u8],
    count: u64,
    raw: &'r [u8],
}

impl<'r> Record<'r> {
    pub(crate) fn events(&self) -> impl Iterator<Item = Event> + 'r {
        let bytes = self.events;
        let mut at = 0usize;
        (0..self.count).map_while(move |_| {
            let tag = get_varint(bytes, &mut at)?;
            let vid = get_varint(bytes, &mut at)?;
            Some(Event {
                col: u32::try_from(tag >> 1).ok()?,
                vid: u32::try_from(vid).ok()?,
                array: tag & 1 == 1,
            })
        })
    }

    /// The facts as JSON text, when they are kept that way.
    pub(crate) fn raw_facts(&self) -> Option<&'r str> {
        (!self.raw.is_empty())
            .then(|| std::str::from_utf8(self.raw).ok())
            .flatten()
    }
}

/// Encodes one record (without its length prefix) into `out`.
pub(crate) fn encode(out: &mut Vec<u8>, events: &[Event], raw_facts: Option<&str>) {
    put_varint(out, events.len() as u64);
    for e in events {
        put_varint(out, (u64::from(e.col) << 1) | u64::from(e.array));
        put_varint(out, u64::from(e.vid));
    }
    if let Some(raw) = raw_facts {
        out.extend_from_slice(raw.as_bytes());
    }
}

impl Records {
    /// Appends a record for the next id.
    pub(crate) fn push(&mut self, payload: &[u8]) {
        self.at.push(self.bytes.len() as u64);
        put_varint(&mut self.bytes, payload.len() as u64);
        self.bytes.extend_from_slice(payload);
    }

    /// Gives host `id` a new record (appended; the old one becomes garbage).
    pub(crate) fn replace(&mut self, id: u32, payload: &[u8]) {
        let at = self.bytes.len() as u64;
        put_varint(&mut self.bytes, payload.len() as u64);
        self.bytes.extend_from_slice(payload);
        if let Some(slot) = self.at.get_mut(id as usize) {
            *slot = at;
        }
    }

    pub(crate) fn get(&self, id: u32) -> Option<Record<'_>> {
        let mut at = usize::try_from(*self.at.get(id as usize)?).ok()?;
        let len = usize::try_from(get_varint(&self.bytes, &mut at)?).ok()?;
        let payload = self.bytes.get(at..at.checked_add(len)?)?;
        let mut p = 0usize;
        let count = get_varint(payload, &mut p)?;
        // Skip the events to find where the raw facts start.
        let mut q = p;
        for _ in 0..count {
            get_varint(payload, &mut q)?;
            get_varint(payload, &mut q)?;
        }
        Some(Record {
            events: payload.get(p..q)?,
            count,
            raw: payload.get(q..)?,
        })
    }

    pub(crate) fn reserve(&mut self, hosts: usize, bytes: usize) {
        self.at.reserve(hosts);
        self.bytes.reserve(bytes);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.at.capacity() * 8
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.at.shrink_to_fit();
    }
}

/// A JSON value for a dictionary key.
fn json_of(key: &Key) -> serde_json::Value {
    match key {
        Key::Text(s) => serde_json::Value::String(s.to_string()),
        Key::Int(i) => match (u64::try_from(*i), i64::try_from(*i)) {
            (Ok(u), _) => serde_json::Value::from(u),
            (_, Ok(s)) => serde_json::Value::from(s),
            // Never indexed: JSON integers beyond 64 bits read as floats.
            _ => serde_json::Value::from(*i as f64),
        },
        Key::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Key::Bool(b) => serde_json::Value::Bool(*b),
    }
}

fn insert_fact(
    facts: &mut serde_json::Map<String, serde_json::Value>,
    keys: &[String],
    value: serde_json::Value,
    array: bool,
) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = facts;
    for key in parents {
        let next = node
            .entry(key.clone())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        match next {
            serde_json::Value::Object(map) => node = map,
            _ => return,
        }
    }
    if array {
        let slot = node
            .entry(last.clone())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(items) = slot {
            items.push(value);
        }
    } else {
        node.insert(last.clone(), value);
    }
}

/// Rebuilds a whole host from its name and record.
pub(crate) fn rebuild(
    name: &str,
    record: &Record<'_>,
    layout: &Layout,
    columns: &[Column],
) -> Host {
    let mut host = Host::named(name);
    let raw = record
        .raw_facts()
        .and_then(|t| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t).ok());
    let rebuild_facts = raw.is_none();
    if let Some(facts) = raw {
        host.facts = facts;
    }
    for e in record.events() {
        let (Some(path), Some(key)) = (
            layout.paths.get(e.col as usize),
            columns
                .get(e.col as usize)
                .and_then(|c| c.dict.keys.get(e.vid as usize)),
        ) else {
            continue;
        };
        match (path, key) {
            (Path::Role, Key::Text(role)) => host.roles.push(role.to_string()),
            (Path::Tag(tag), Key::Text(value)) => {
                host.tags.insert(tag.clone(), value.to_string());
            }
            (Path::Fact(keys), key) if rebuild_facts => {
                insert_fact(&mut host.facts, keys, json_of(key), e.array)
            }
            _ => {}
        }
    }
    host
}

/// Hosts the planner and evaluator read by id: names and values at a path.
/// The index answers from its records; a plain list of hosts from the hosts.
pub(crate) trait HostSource: Sync {
    /// The name of host `id`, if it is present.
    fn name(&self, id: u32) -> Option<&str>;
    /// Calls `visit` with each value of host `id` at `path`.
    fn for_each_value<'s>(&'s self, id: u32, path: &Path, visit: &mut dyn FnMut(HostValue<'s>));
}

/// A plain list of hosts, addressed by position (for unit tests of the
/// planner, which need no index).
#[cfg(test)]
pub(crate) struct HostList<'h>(pub(crate) &'h [Host]);

#[cfg(test)]
impl HostSource for HostList<'_> {
    fn name(&self, id: u32) -> Option<&str> {
        self.0.get(id as usize).map(|h| h.name.as_str())
    }

    fn for_each_value<'s>(&'s self, id: u32, path: &Path, visit: &mut dyn FnMut(HostValue<'s>)) {
        if let Some(host) = self.0.get(id as usize) {
            crate::value::for_each_value(host, path, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let mut out = Vec::new();
        let values = [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        for v in values {
            put_varint(&mut out, v);
        }
        let mut at = 0;
        for v in values {
            assert_eq!(get_varint(&out, &mut at), Some(v));
        }
        assert_eq!(get_varint(&out, &mut at), None);
    }

    #[test]
    fn records_keep_events_and_raw_facts() {
        let mut records = Records::default();
        let events = [
            Event {
                col: 0,
                vid: 3,
                array: false,
            },
            Event {
                col: 70_000,
                vid: 200,
                array: true,
            },
        ];
        let mut payload = Vec::new();
        encode(&mut payload, &events, None);
        records.push(&payload);
        payload.clear();
        encode(&mut payload, &events[..1], Some("{\"a\":null}"));
        records.push(&payload);
        let first = records.get(0).expect("record 0");
        assert_eq!(first.events().collect::<Vec<_>>(), events);
        assert_eq!(first.raw_facts(), None);
        let second = records.get(1).expect("record 1");
        assert_eq!(second.events().collect::<Vec<_>>(), events[..1]);
        assert_eq!(second.raw_facts(), Some("{\"a\":null}"));
        payload.clear();
        encode(&mut payload, &[], None);
        records.replace(0, &payload);
        assert_eq!(records.get(0).expect("replaced").events().count(), 0);
        assert!(records.get(2).is_none());
    }

    #[test]
    fn names_are_found_by_id() {
        let mut names = Names::default();
        names.push("a");
        names.push("");
        names.push("ccc");
        let mut more = Names::default();
        more.push("dd");
        names.append(&more);
        assert_eq!(names.get(0), Some("a"));
        assert_eq!(names.get(1), Some(""));
        assert_eq!(names.get(2), Some("ccc"));
        assert_eq!(names.get(3), Some("dd"));
        assert_eq!(names.get(4), None);
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a", "", "ccc", "dd"]);
    }
}
