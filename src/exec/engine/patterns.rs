//! Globs and regexes on host names without testing every name.
//!
//! Names are unique, so `name` has no dictionary; instead the index keeps
//! (built on the first pattern query, dropped when names change) the live
//! ids sorted by name and sorted by reversed name. Then:
//! - `lit*` is a range of the first order and `*lit` a range of the
//!   second: two binary searches, no name outside the answer is read;
//! - `*lit*` is one `memchr::memmem` pass over all names back to back;
//! - any other glob, and a regex, narrow the names they test to the range
//!   of their literal prefix or suffix (for a regex, the literals
//!   `regex-syntax` extracts from the anchored pattern), the narrower of
//!   the two, and test only those with the glob or regex itself.
//!
//! This module only chooses which names to test; whether one matches is
//! still decided by [`Glob::is_match`](crate::value::Glob::is_match) and the
//! compiled regex, or by a literal test that is equivalent by construction.

use std::cmp::Ordering;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};
use roaring::RoaringBitmap;

use super::store::Names;
use crate::value::{Glob, GlobShape};

/// Live host ids sorted by name, and by reversed name.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameOrder {
    sorted: Vec<u32>,
    reversed: Vec<u32>,
}

fn cmp_reversed(a: &str, b: &str) -> Ordering {
    a.bytes().rev().cmp(b.bytes().rev())
}

impl NameOrder {
    /// Sorts the live ids both ways (in parallel with the `parallel`
    /// feature). Cost: two sorts of the live names, 8 bytes per host.
    pub(crate) fn build(names: &Names, live: &RoaringBitmap) -> NameOrder {
        let ids: Vec<u32> = live.iter().collect();
        let by_name = || {
            // Slices resolved once: the comparisons then touch only text.
            let mut keyed: Vec<(&str, u32)> = ids
                .iter()
                .map(|id| (names.get(*id).unwrap_or(""), *id))
                .collect();
            sort_by(&mut keyed, |a, b| a.0.cmp(b.0));
            keyed.into_iter().map(|(_, id)| id).collect()
        };
        let by_reversed = || {
            // A reversed copy of every name, sorted, then dropped: byte
            // order of the reversed text is suffix order.
            let mut text: Vec<u8> = Vec::new();
            let mut spans: Vec<(usize, usize, u32)> = Vec::with_capacity(ids.len());
            for id in &ids {
                let name = names.get(*id).unwrap_or("");
                let start = text.len();
                text.extend(name.bytes().rev());
                spans.push((start, text.len(), *id));
            }
            let key = |s: &(usize, usize, u32)| text.get(s.0..s.1).unwrap_or_default();
            sort_by(&mut spans, |a, b| key(a).cmp(key(b)));
            spans.into_iter().map(|(_, _, id)| id).collect()
        };
        let (sorted, reversed) = join(by_name, by_reversed);
        NameOrder { sorted, reversed }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.sorted.capacity() + self.reversed.capacity()) * 4
    }

    /// The ids whose names start with `prefix`.
    fn prefix_range<'o>(&'o self, names: &Names, prefix: &str) -> &'o [u32] {
        let name = |id: &u32| names.get(*id).unwrap_or("");
        let lo = self.sorted.partition_point(|id| name(id) < prefix);
        let rest = self.sorted.get(lo..).unwrap_or_default();
        let len = rest.partition_point(|id| name(id).starts_with(prefix));
        rest.get(..len).unwrap_or_default()
    }

    /// The ids whose names end with `suffix`.
    fn suffix_range<'o>(&'o self, names: &Names, suffix: &str) -> &'o [u32] {
        let name = |id: &u32| names.get(*id).unwrap_or("");
        let lo = self
            .reversed
            .partition_point(|id| cmp_reversed(name(id), suffix) == Ordering::Less);
        let rest = self.reversed.get(lo..).unwrap_or_default();
        let len = rest.partition_point(|id| name(id).ends_with(suffix));
        rest.get(..len).unwrap_or_default()
    }
}

/// Which names a pattern can match: candidates to test, or the answer.
enum Narrowed<'o> {
    /// These ids match; nothing more to test.
    Exact(Vec<&'o [u32]>),
    /// Only these ids can match; each is tested.
    Candidates(Vec<&'o [u32]>),
}

/// The ids whose names `glob` matches, when a literal narrows the search.
pub(crate) fn match_glob(
    glob: &Glob,
    names: &Names,
    live: &RoaringBitmap,
    order: &NameOrder,
) -> Option<RoaringBitmap> {
    let narrowed = match glob.literal_shape() {
        Some((GlobShape::Contains, lit)) => return Some(contains(names, live, &lit)),
        Some((GlobShape::Prefix, lit)) => Narrowed::Exact(vec![order.prefix_range(names, &lit)]),
        Some((GlobShape::Suffix, lit)) => Narrowed::Exact(vec![order.suffix_range(names, &lit)]),
        // `lit` alone: the names starting with it, tested.
        Some((GlobShape::Exact, lit)) => {
            Narrowed::Candidates(vec![order.prefix_range(names, &lit)])
        }
        None => {
            let (prefix, suffix) = (glob.literal_prefix(), glob.literal_suffix());
            if prefix.is_empty() && suffix.is_empty() {
                return None;
            }
            let p = order.prefix_range(names, &prefix);
            let s = order.suffix_range(names, &suffix);
            let chosen = if suffix.is_empty() || (!prefix.is_empty() && p.len() <= s.len()) {
                p
            } else {
                s
            };
            Narrowed::Candidates(vec![chosen])
        }
    };
    Some(collect(narrowed, names, live, |n| glob.is_match(n)))
}

/// The ids whose names `regex` (anchored at both ends) matches, when its
/// literal prefixes or suffixes narrow the search.
pub(crate) fn match_regex(
    regex: &regex::Regex,
    names: &Names,
    live: &RoaringBitmap,
    order: &NameOrder,
) -> Option<RoaringBitmap> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(regex.as_str())
        .ok()?;
    let (starts, ends) = anchors(&hir);
    let literals = |kind: ExtractKind| -> Option<Vec<String>> {
        let mut extractor = Extractor::new();
        extractor.kind(kind);
        let seq = extractor.extract(&hir);
        let lits = seq.literals()?;
        let mut out = Vec::with_capacity(lits.len());
        for lit in lits {
            // A literal that is not text, or is empty, narrows nothing.
            let text = std::str::from_utf8(lit.as_bytes()).ok()?;
            if text.is_empty() {
                return None;
            }
            out.push(text.to_string());
        }
        (!out.is_empty()).then_some(out)
    };
    let prefixes = if starts {
        literals(ExtractKind::Prefix)
    } else {
        None
    };
    let suffixes = if ends {
        literals(ExtractKind::Suffix)
    } else {
        None
    };
    let by_prefix: Option<Vec<&[u32]>> = prefixes
        .as_deref()
        .map(|l| l.iter().map(|p| order.prefix_range(names, p)).collect());
    let by_suffix: Option<Vec<&[u32]>> = suffixes
        .as_deref()
        .map(|l| l.iter().map(|x| order.suffix_range(names, x)).collect());
    let size = |r: &Vec<&[u32]>| r.iter().map(|x| x.len()).sum::<usize>();
    let chosen = match (by_prefix, by_suffix) {
        (Some(p), Some(s)) => {
            if size(&p) <= size(&s) {
                p
            } else {
                s
            }
        }
        (Some(p), None) => p,
        (None, Some(s)) => s,
        (None, None) => return None,
    };
    // Literal ranges may overlap (`a` and `ab`): test each id once.
    Some(collect(
        Narrowed::Candidates(dedup_ranges(chosen)),
        names,
        live,
        |n| regex.is_match(n),
    ))
}

/// Whether the pattern is anchored at its start and at its end: only then
/// are its literal prefixes and suffixes those of every matching text.
fn anchors(hir: &Hir) -> (bool, bool) {
    fn first(h: &Hir) -> &Hir {
        match h.kind() {
            HirKind::Concat(parts) => parts.first().map_or(h, first),
            HirKind::Capture(c) => first(&c.sub),
            _ => h,
        }
    }
    fn last(h: &Hir) -> &Hir {
        match h.kind() {
            HirKind::Concat(parts) => parts.last().map_or(h, last),
            HirKind::Capture(c) => last(&c.sub),
            _ => h,
        }
    }
    let is = |h: &Hir, look: Look| matches!(h.kind(), HirKind::Look(l) if *l == look);
    (is(first(hir), Look::Start), is(last(hir), Look::End))
}

/// Ranges that may overlap, as disjoint lists (ids repeated across
/// overlapping ranges kept once).
fn dedup_ranges(ranges: Vec<&[u32]>) -> Vec<&[u32]> {
    if ranges.len() <= 1 {
        return ranges;
    }
    // Ranges of one order overlap only when one literal extends another;
    // keep a range unless another one contains it.
    let mut out: Vec<&[u32]> = Vec::new();
    for r in ranges {
        let inside = |o: &&[u32]| {
            let (a, b) = (o.as_ptr_range(), r.as_ptr_range());
            a.start <= b.start && b.end <= a.end
        };
        if out.iter().any(inside) {
            continue;
        }
        out.retain(|o| {
            let (a, b) = (r.as_ptr_range(), o.as_ptr_range());
            !(a.start <= b.start && b.end <= a.end)
        });
        out.push(r);
    }
    out
}

/// The ids of `narrowed` that are live (and, for candidates, whose names
/// pass `test`), as a bitmap.
fn collect(
    narrowed: Narrowed<'_>,
    names: &Names,
    live: &RoaringBitmap,
    test: impl Fn(&str) -> bool + Sync,
) -> RoaringBitmap {
    let (ranges, exact) = match narrowed {
        Narrowed::Exact(r) => (r, true),
        Narrowed::Candidates(r) => (r, false),
    };
    let mut ids: Vec<u32> = Vec::new();
    for range in ranges {
        if exact {
            ids.extend_from_slice(range);
        } else {
            ids.extend(
                range
                    .iter()
                    .copied()
                    .filter(|id| names.get(*id).is_some_and(&test)),
            );
        }
    }
    // Orders hold live ids only, but removed hosts are never in `live`.
    to_bitmap(ids, names.len()) & live
}

/// Unsorted ids as a bitmap: through a plain bit set when they are many
/// (setting bits is cheaper than sorting), else sorted.
fn to_bitmap(mut ids: Vec<u32>, universe: usize) -> RoaringBitmap {
    if ids.len() < universe / 64 {
        ids.sort_unstable();
        return RoaringBitmap::from_sorted_iter(ids).unwrap_or_default();
    }
    let mut bits = vec![0u8; universe.div_ceil(8)];
    for id in ids {
        if let Some(b) = bits.get_mut(id as usize / 8) {
            *b |= 1 << (id % 8);
        }
    }
    RoaringBitmap::from_lsb0_bytes(0, &bits)
}

/// The live ids whose names contain `needle`: one pass of `memmem` over
/// all names back to back; a hit that runs across two names is no hit.
fn contains(names: &Names, live: &RoaringBitmap, needle: &str) -> RoaringBitmap {
    let (text, ends) = names.buffer();
    if needle.is_empty() {
        return live.clone();
    }
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut id, mut from) = (0usize, 0usize);
    while let Some(found) = bytes.get(from..).and_then(|rest| finder.find(rest)) {
        let at = (from + found) as u64;
        // The name holding the hit's first byte: the first that ends after
        // it (hits come in order, so the search only moves forward).
        while ends.get(id).is_some_and(|end| *end <= at) {
            id += 1;
        }
        let Some(end) = ends.get(id) else {
            break;
        };
        if at + needle.len() as u64 <= *end {
            out.push(id as u32);
            // One hit per name is enough: go on after this name.
            from = usize::try_from(*end).unwrap_or(usize::MAX);
        } else {
            // The hit runs into the next name: search again inside it.
            from = from + found + 1;
        }
    }
    RoaringBitmap::from_sorted_iter(out).unwrap_or_default() & live
}

fn sort_by<T: Send>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering + Sync) {
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        v.par_sort_unstable_by(cmp);
    }
    #[cfg(not(feature = "parallel"))]
    v.sort_unstable_by(cmp);
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
