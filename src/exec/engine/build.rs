//! Building an index from parts: a part is a run of hosts read on one
//! thread, with its own path layout and dictionaries and each host's values
//! as (column, value id) pairs in those; the assembler takes parts in fleet
//! order, renumbers their columns and values into the index's, writes each
//! host's record and appends its ids to the postings.
//!
//! Parts are independent, so they are filled in parallel; assembling them in
//! order makes the result (ids, value ids, column ids, errors) the same
//! whatever the split.

use crate::fleet::{FleetError, Host};
use crate::value::HostValue;

use super::index::{name_hash, ColId, ColumnBuilder, Dict, IndexedFleet, Layout, NameIndex};
use super::store::{self, Event, Names, Records};

/// A run of hosts, parsed or walked on one thread. See the module docs.
#[derive(Default)]
pub(crate) struct Part {
    pub(crate) layout: Layout,
    dicts: Vec<Dict>,
    names: Names,
    /// Each name's `name_hash`, computed here, on the part's thread.
    hashes: Vec<u32>,
    events: Vec<Event>,
    /// Where each host's events end in `events`.
    ends: Vec<usize>,
    /// Facts kept as JSON text, by host (part-local index), in order.
    raws: Vec<(usize, String)>,
    /// The first host (part-local index) with an empty name.
    first_empty: Option<usize>,
}

impl Part {
    /// How many hosts the part holds.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Adds a value of the host being read.
    pub(crate) fn value(&mut self, col: ColId, value: &HostValue<'_>, array: bool) {
        push_value(&mut self.dicts, &mut self.events, col, value, array);
    }

    /// Ends the host being read: its values were given with
    /// [`Part::value`]; `raw_facts` are its facts as JSON text when they
    /// cannot be rebuilt from those values.
    pub(crate) fn end_host(&mut self, name: &str, raw_facts: Option<String>) {
        let i = self.names.len();
        if name.is_empty() && self.first_empty.is_none() {
            self.first_empty = Some(i);
        }
        if let Some(raw) = raw_facts {
            self.raws.push((i, raw));
        }
        self.names.push(name);
        self.hashes.push(name_hash(name));
        self.ends.push(self.events.len());
    }

    /// Forgets the values given since the last host ended (the host is read
    /// another way).
    pub(crate) fn discard_host(&mut self) {
        let start = self.ends.last().copied().unwrap_or(0);
        self.events.truncate(start);
    }

    /// Adds a whole host.
    pub(crate) fn add_host(&mut self, host: &Host) {
        let (dicts, events) = (&mut self.dicts, &mut self.events);
        self.layout.walk(host, |c, v, array| {
            push_value(dicts, events, c, &v, array);
        });
        let raw = (!facts_are_plain(&host.facts))
            .then(|| serde_json::to_string(&host.facts).ok())
            .flatten();
        self.end_host(&host.name, raw);
    }
}

fn push_value(
    dicts: &mut Vec<Dict>,
    events: &mut Vec<Event>,
    col: ColId,
    value: &HostValue<'_>,
    array: bool,
) {
    let c = col as usize;
    if dicts.len() <= c {
        dicts.resize_with(c + 1, Dict::default);
    }
    if let Some(dict) = dicts.get_mut(c) {
        let vid = dict.id(value);
        events.push(Event { col, vid, array });
    }
}

/// Whether `facts` can be rebuilt exactly from the values the index keeps:
/// no `null`, no empty object or array below the top, arrays of scalars
/// only.
pub(crate) fn facts_are_plain(facts: &serde_json::Map<String, serde_json::Value>) -> bool {
    use serde_json::Value;
    let mut stack = vec![facts];
    while let Some(map) = stack.pop() {
        for value in map.values() {
            match value {
                Value::Null => return false,
                Value::Object(inner) if inner.is_empty() => return false,
                Value::Object(inner) => stack.push(inner),
                Value::Array(items) => {
                    if items.is_empty()
                        || !items.iter().all(|v| {
                            matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
                        })
                    {
                        return false;
                    }
                }
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            }
        }
    }
    true
}

/// Parts joined in fleet order into the index's storage.
pub(crate) struct Assembler {
    layout: Layout,
    columns: Vec<ColumnBuilder>,
    names: Names,
    records: Records,
    by_name: NameIndex,
    duplicate: bool,
    first_empty: Option<usize>,
    payload: Vec<u8>,
    remapped: Vec<Event>,
}

impl Assembler {
    pub(crate) fn with_capacity(hosts: usize) -> Assembler {
        Assembler {
            layout: Layout::default(),
            columns: Vec::new(),
            names: Names::default(),
            records: Records::default(),
            by_name: NameIndex::with_capacity(hosts),
            duplicate: false,
            first_empty: None,
            payload: Vec::new(),
            remapped: Vec::new(),
        }
    }

    /// How many hosts are in so far.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Appends `part`'s hosts after those already in.
    pub(crate) fn absorb(&mut self, part: Part) {
        let base = self.names.len();
        // Part-local column and value ids to the index's.
        let mut cols: Vec<ColId> = Vec::with_capacity(part.layout.paths.len());
        let mut vids: Vec<Vec<u32>> = Vec::with_capacity(part.layout.paths.len());
        for (c, path) in part.layout.paths.iter().enumerate() {
            let Some(g) = self.layout.column_or_create(path) else {
                cols.push(ColId::MAX);
                vids.push(Vec::new());
                continue;
            };
            let gi = g as usize;
            if self.columns.len() <= gi {
                self.columns.resize_with(gi + 1, ColumnBuilder::default);
            }
            let map = match (part.dicts.get(c), self.columns.get_mut(gi)) {
                (Some(local), Some(target)) => local
                    .keys
                    .iter()
                    .map(|k| target.dict.id(&k.value()))
                    .collect(),
                _ => Vec::new(),
            };
            cols.push(g);
            vids.push(map);
        }

        if let (None, Some(e)) = (self.first_empty, part.first_empty) {
            self.first_empty = Some(base + e);
        }
        self.names.append(&part.names);
        for (i, (name, hash)) in part.names.iter().zip(&part.hashes).enumerate() {
            if name.is_empty() {
                continue;
            }
            let id = (base + i) as u32;
            if self
                .by_name
                .insert_unique(name, *hash, id, &self.names)
                .is_err()
            {
                self.duplicate = true;
            }
        }

        let mut raws = part.raws.iter().peekable();
        let mut start = 0usize;
        self.records.reserve(part.ends.len(), part.events.len() * 3);
        for (i, end) in part.ends.iter().enumerate() {
            let id = (base + i) as u32;
            self.remapped.clear();
            for e in part.events.get(start..*end).unwrap_or_default() {
                let (Some(g), Some(v)) = (
                    cols.get(e.col as usize).copied(),
                    vids.get(e.col as usize)
                        .and_then(|m| m.get(e.vid as usize))
                        .copied(),
                ) else {
                    continue;
                };
                if let Some(col) = self.columns.get_mut(g as usize) {
                    col.push_vid(id, v);
                }
                self.remapped.push(Event {
                    col: g,
                    vid: v,
                    array: e.array,
                });
            }
            start = *end;
            let raw = match raws.peek() {
                Some((h, text)) if *h == i => {
                    raws.next();
                    Some(text.as_str())
                }
                _ => None,
            };
            self.payload.clear();
            store::encode(&mut self.payload, &self.remapped, raw);
            self.records.push(&self.payload);
        }
    }

    /// The index, without checking names (for hosts from a valid `Fleet`).
    pub(crate) fn into_fleet(self) -> IndexedFleet {
        IndexedFleet::from_parts(
            self.names,
            self.records,
            self.by_name,
            self.layout,
            self.columns,
        )
    }

    /// The index, or the error `Fleet::new` would give for these names: the
    /// first empty name, else the first duplicated name in name order.
    pub(crate) fn finish(self) -> Result<IndexedFleet, FleetError> {
        if let Some(record) = self.first_empty {
            return Err(FleetError::EmptyName { record });
        }
        if self.duplicate {
            if let Some(e) = duplicate_error(&self.names) {
                return Err(e);
            }
        }
        Ok(self.into_fleet())
    }
}

/// The duplicate `Fleet::new` reports: the smallest duplicated name and its
/// first two records.
fn duplicate_error(names: &Names) -> Option<FleetError> {
    let all: Vec<&str> = names.iter().collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_unstable_by(|a, b| all.get(*a).cmp(&all.get(*b)).then(a.cmp(b)));
    order.windows(2).find_map(|pair| match pair {
        [a, b] if all.get(*a) == all.get(*b) => Some(FleetError::DuplicateName {
            name: all.get(*a).map_or_else(String::new, |s| s.to_string()),
            first: *a,
            second: *b,
        }),
        _ => None,
    })
}
