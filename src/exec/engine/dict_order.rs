//! A column's dictionary kept sorted for globs and regexes: what
//! [`super::patterns`] needs to answer them through ranges and `memmem`,
//! and the map from the values found to the hosts that hold them.
//!
//! Built on the first pattern query over a column with enough distinct
//! values (`IndexedFleet::PATTERN_ORDER_MIN`), then kept current: a change
//! of a value's hosts updates the host kept at its positions (two binary
//! searches), and values added to the dictionary are tested one by one
//! until the order is stale, when the column drops it. It decides nothing
//! about what matches (that is `patterns`, and through it
//! [`crate::value`]); it must never answer for a value it does not cover.
//!
//! Per distinct value it keeps: a copy of the value's text (an integer's
//! digits, a boolean's word; a float's none) back to back with an 8-byte
//! end, so that `*lit*` is one `memmem` pass and binary searches read one
//! buffer; the two orders (8 bytes); and the host of the value at each
//! position of each order when it has exactly one (8 bytes), so that a
//! range of a unique column becomes host ids without reading postings.

use std::borrow::Cow;

use roaring::{MultiOps, RoaringBitmap};

use super::index::{Dict, Postings};
use super::patterns::{self, Pattern, Side, TextOrder, Texts};
use super::store::Names;

/// Marks a position whose value has no host or several: read its postings.
const SHARED: u32 = u32::MAX;

/// A column's values by text and by reversed text, with their texts and
/// single hosts.
#[derive(Debug, Clone)]
pub(crate) struct DictOrder {
    /// The text of every value covered, by value id (empty for a value
    /// without a text).
    texts: Names,
    /// The covered value ids without a text (floats), increasing.
    textless: Vec<u32>,
    order: TextOrder,
    /// The host of the value at each position of the sorted and of the
    /// reversed order, or [`SHARED`].
    hosts: [Vec<u32>; 2],
}

/// The texts of a column: from the copy for the values the order covers,
/// from the dictionary for the values added since.
struct ColumnTexts<'a> {
    order: &'a DictOrder,
    dict: &'a Dict,
}

impl ColumnTexts<'_> {
    fn covers(&self, id: u32) -> bool {
        (id as usize) < self.order.texts.len()
    }

    fn has_text(&self, id: u32) -> bool {
        self.order.textless.binary_search(&id).is_err()
    }
}

impl Texts for ColumnTexts<'_> {
    fn len(&self) -> usize {
        self.dict.len()
    }

    fn text(&self, id: u32) -> Option<Cow<'_, str>> {
        if !self.covers(id) {
            return self.dict.keys.get(id as usize)?.value().text();
        }
        if !self.has_text(id) {
            return None;
        }
        self.order.texts.get(id).map(Cow::Borrowed)
    }

    /// One `memmem` pass over the copied texts, then each value added
    /// since.
    fn containing(&self, needle: &str) -> Vec<u32> {
        let mut ids = self.order.texts.containing(needle);
        if !self.order.textless.is_empty() {
            ids.retain(|id| self.has_text(*id));
        }
        let covered = self.order.texts.len() as u32;
        ids.extend(patterns::each_containing(self, covered, needle));
        ids
    }
}

/// The host of a value with exactly one, else [`SHARED`].
fn single(postings: Option<&Postings>) -> u32 {
    match postings {
        Some(Postings::One(host)) => *host,
        _ => SHARED,
    }
}

impl DictOrder {
    /// Copies the texts of `dict`'s values and sorts them both ways.
    /// Cost: two sorts of the values' texts.
    pub(crate) fn build(dict: &Dict, postings: &[Postings]) -> DictOrder {
        let mut texts = Names::default();
        let mut textless = Vec::new();
        for (id, key) in dict.keys.iter().enumerate() {
            match key.value().text() {
                Some(t) => texts.push(&t),
                None => {
                    texts.push("");
                    textless.push(id as u32);
                }
            }
        }
        texts.shrink_to_fit();
        let mut skip = textless.iter().peekable();
        let with_text = (0..texts.len() as u32).filter(|id| {
            let textless = skip.peek() == Some(&id);
            if textless {
                skip.next();
            }
            !textless
        });
        let order = TextOrder::build(&texts, with_text);
        let hosts = [Side::Sorted, Side::Reversed].map(|side| {
            order
                .ids(side)
                .iter()
                .map(|id| single(postings.get(*id as usize)))
                .collect()
        });
        DictOrder {
            texts,
            textless,
            order,
            hosts,
        }
    }

    /// Whether the dictionary, at `len` values now, grew enough since the
    /// build that the column should drop this order.
    pub(crate) fn is_stale(&self, len: usize) -> bool {
        self.order.is_stale(len)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.texts.heap_bytes()
            + self.textless.capacity() * 4
            + self.order.heap_bytes()
            + self.hosts.iter().map(|h| h.capacity() * 4).sum::<usize>()
    }

    /// Records that the hosts of value `id` changed to `postings`.
    /// Cost: two binary searches over the texts.
    pub(crate) fn note(&mut self, id: u32, postings: Option<&Postings>) {
        let Some(text) = self.texts.get(id) else {
            // Added after the build: never read from `hosts`.
            return;
        };
        let positions = self.order.positions(&self.texts, id, text);
        let host = single(postings);
        for (hosts, at) in self.hosts.iter_mut().zip(positions) {
            if let Some(slot) = at.and_then(|p| hosts.get_mut(p)) {
                *slot = host;
            }
        }
    }

    /// The hosts (ids below `hosts_len`) holding a value of the column
    /// that `pattern` matches; `None` when no literal of the pattern
    /// narrows the values to test.
    pub(crate) fn select(
        &self,
        dict: &Dict,
        postings: &[Postings],
        pattern: Pattern<'_>,
        hosts_len: usize,
    ) -> Option<RoaringBitmap> {
        let texts = ColumnTexts { order: self, dict };
        let found = patterns::find(pattern, &texts, &self.order)?;
        let mut hosts: Vec<u32> = Vec::new();
        let mut shared: Vec<u32> = found.ids;
        if let Some(span) = found.span {
            let side = match span.side {
                Side::Sorted => 0,
                Side::Reversed => 1,
            };
            let singles = self
                .hosts
                .get(side)
                .and_then(|h| h.get(span.start..span.end))
                .unwrap_or_default();
            hosts.reserve(singles.len());
            for (host, id) in singles.iter().zip(self.order.slice(&span)) {
                if *host == SHARED {
                    shared.push(*id);
                } else {
                    hosts.push(*host);
                }
            }
        }
        let mut maps: Vec<&RoaringBitmap> = Vec::new();
        for id in shared {
            match postings.get(id as usize) {
                Some(Postings::One(host)) => hosts.push(*host),
                Some(Postings::Many(b)) => maps.push(b),
                _ => {}
            }
        }
        let mut out = patterns::to_bitmap(hosts, hosts_len);
        if !maps.is_empty() {
            out |= maps.into_iter().union();
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Glob, HostValue};

    fn select(order: &DictOrder, dict: &Dict, postings: &[Postings], glob: &str) -> Vec<u32> {
        let glob = Glob::new(glob).unwrap();
        order
            .select(dict, postings, Pattern::Glob(&glob), 100)
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn values_match_by_the_text_the_reference_reads() {
        let mut dict = Dict::default();
        let values = [
            HostValue::Text("17"),
            HostValue::Int(27),
            HostValue::Int(-7),
            HostValue::Float(7.0),
            HostValue::Bool(true),
            HostValue::Text("true"),
            HostValue::Text("web-7"),
        ];
        for v in &values {
            dict.id(v);
        }
        // Host `10 * id + 1` holds value `id`.
        let mut postings: Vec<Postings> = (0..9).map(|id| Postings::One(10 * id + 1)).collect();
        let order = DictOrder::build(&dict, &postings);
        // A float has no text; an integer's is its digits.
        assert_eq!(select(&order, &dict, &postings, "*7"), [1, 11, 21, 61]);
        assert_eq!(select(&order, &dict, &postings, "-*"), [21]);
        assert_eq!(select(&order, &dict, &postings, "tr*"), [41, 51]);
        assert_eq!(select(&order, &dict, &postings, "*7*"), [1, 11, 21, 61]);
        assert_eq!(
            select(&order, &dict, &postings, "*"),
            [1, 11, 21, 41, 51, 61]
        );
        assert_eq!(select(&order, &dict, &postings, "2?"), [11]);
        // Values added after the build are tested one by one.
        dict.id(&HostValue::Int(7));
        dict.id(&HostValue::Text("x7"));
        assert_eq!(
            select(&order, &dict, &postings, "*7"),
            [1, 11, 21, 61, 71, 81]
        );
        assert_eq!(select(&order, &dict, &postings, "x*"), [81]);
        assert_eq!(select(&order, &dict, &postings, "*x*"), [81]);
        // Hosts of a value change: the order follows.
        let mut order = order;
        let mut two = RoaringBitmap::new();
        two.insert(3);
        two.insert(4);
        postings[0] = Postings::Many(two);
        order.note(0, postings.first());
        postings[6] = Postings::Empty;
        order.note(6, postings.get(6));
        postings[2] = Postings::One(99);
        order.note(2, postings.get(2));
        assert_eq!(
            select(&order, &dict, &postings, "*7"),
            [3, 4, 11, 71, 81, 99]
        );
    }
}
