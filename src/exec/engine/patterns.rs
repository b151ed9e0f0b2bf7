//! Globs and regexes without testing every text.
//!
//! Two kinds of texts answer patterns here, both as [`Texts`]: host names
//! by host id (every name is distinct, so `name` has no dictionary), and a
//! column's dictionary by value id. For either, a [`TextOrder`] keeps the
//! ids sorted by text and sorted by reversed text. The caller builds it on
//! the first pattern query and keeps it in the index; texts added later
//! (the *tail*: ids from the count the order was built over on) are
//! tested one by one until they make up an eighth of the order, when the
//! index drops it to be built again ([`TextOrder::is_stale`]). Then:
//! - `lit*` is a range of the first order and `*lit` a range of the
//!   second: two binary searches, no text outside the answer is read;
//! - `*lit*` is `memchr::memmem` over the texts back to back (names, and a
//!   column's copy of its texts, in parallel pieces);
//! - any other glob, and a regex, narrow the texts they test to the range
//!   of their literal prefix or suffix (for a regex, the literals
//!   `regex-syntax` extracts from the anchored pattern), the narrower of
//!   the two, and test only those with the glob or regex itself.
//!
//! The answer ([`Found`]) is a span of one order plus a list of ids; name
//! ids are host ids, and `dict_order` turns value ids into their hosts.
//! This module only chooses which texts to test; whether one matches is
//! still decided by [`Glob::is_match`](crate::value::Glob::is_match) and
//! the compiled regex, or by a literal test that is equivalent by
//! construction.

use std::borrow::Cow;
use std::cmp::Ordering;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};
use roaring::RoaringBitmap;

use super::par::map_chunks;
use super::par::{filter_ids, join, sort_by};
use super::program::TestKind;
use super::store::Names;
use crate::value::{Glob, GlobShape};

/// Texts addressed by dense ids `0..len()`; an id may have no text.
pub(crate) trait Texts: Sync {
    /// How many ids there are.
    fn len(&self) -> usize;

    /// The text of `id`, if it has one.
    fn text(&self, id: u32) -> Option<Cow<'_, str>>;

    /// The ids whose text contains `needle`, in increasing order.
    fn containing(&self, needle: &str) -> Vec<u32> {
        each_containing(self, 0, needle)
    }
}

/// The ids from `from` on whose text contains `needle`, in increasing
/// order: one `memmem` search per text (in parallel on many texts).
pub(crate) fn each_containing<T: Texts + ?Sized>(texts: &T, from: u32, needle: &str) -> Vec<u32> {
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut ids = filter_ids(texts.len().saturating_sub(from as usize), |i| {
        texts
            .text(from + i as u32)
            .is_some_and(|t| finder.find(t.as_bytes()).is_some())
    });
    for id in &mut ids {
        *id += from;
    }
    ids
}

impl Texts for Names {
    fn len(&self) -> usize {
        Names::len(self)
    }

    fn text(&self, id: u32) -> Option<Cow<'_, str>> {
        self.get(id).map(Cow::Borrowed)
    }

    /// `memmem` over all names back to back, in parallel over pieces of
    /// 64 Ki names; a hit that runs across two names is no hit.
    fn containing(&self, needle: &str) -> Vec<u32> {
        const PIECE: usize = 1 << 16;
        let n = Names::len(self);
        let pieces: Vec<(usize, usize)> = (0..n)
            .step_by(PIECE)
            .map(|first| (first, (first + PIECE).min(n)))
            .collect();
        map_chunks(&pieces, |(first, last)| {
            self.containing_in(*first, *last, needle)
        })
        .concat()
    }
}

impl Names {
    /// The ids in `first..last` whose names contain `needle`: one pass of
    /// `memmem` over those names back to back.
    fn containing_in(&self, first: usize, last: usize, needle: &str) -> Vec<u32> {
        if needle.is_empty() {
            return (first as u32..last as u32).collect();
        }
        let (text, ends) = self.buffer();
        let offset = |id: Option<usize>| {
            id.and_then(|i| ends.get(i))
                .map_or(0, |e| usize::try_from(*e).unwrap_or(usize::MAX))
        };
        let (start, stop) = (offset(first.checked_sub(1)), offset(last.checked_sub(1)));
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let bytes = text.as_bytes().get(..stop).unwrap_or_default();
        let mut out = Vec::new();
        let (mut id, mut from) = (first, start);
        while let Some(found) = bytes.get(from..).and_then(|rest| finder.find(rest)) {
            let at = (from + found) as u64;
            // The name holding the hit's first byte: the first that ends
            // after it (hits come in order, so the search only moves on).
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
        out
    }
}

/// Ids sorted by their text, and by their reversed text (suffix order),
/// for the ids below `covers` that have a text when it was built.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextOrder {
    sorted: Vec<u32>,
    reversed: Vec<u32>,
    covers: u32,
}

impl TextOrder {
    /// Sorts `ids` (those of them with a text) both ways, in parallel with
    /// the `parallel` feature. Cost: two sorts of the texts, 8 bytes per
    /// id kept; the text of every id is read once (an integer's is made).
    /// The order covers the ids below `texts.len()`; an id from there on,
    /// or one left out of `ids`, is never in its answers.
    pub(crate) fn build<T: Texts + ?Sized>(texts: &T, ids: impl Iterator<Item = u32>) -> TextOrder {
        // Texts resolved once: the comparisons then touch only text.
        let mut keyed: Vec<(Cow<'_, str>, u32)> =
            ids.filter_map(|id| Some((texts.text(id)?, id))).collect();
        // A reversed copy of every text, sorted, then dropped: byte order
        // of the reversed text is suffix order.
        let mut bytes: Vec<u8> = Vec::new();
        let mut spans: Vec<(usize, usize, u32)> = Vec::with_capacity(keyed.len());
        for (text, id) in &keyed {
            let start = bytes.len();
            bytes.extend(text.bytes().rev());
            spans.push((start, bytes.len(), *id));
        }
        let by_text = || {
            sort_by(&mut keyed, |a, b| a.0.cmp(&b.0));
            keyed.into_iter().map(|(_, id)| id).collect()
        };
        let by_reversed = || {
            let key = |s: &(usize, usize, u32)| bytes.get(s.0..s.1).unwrap_or_default();
            sort_by(&mut spans, |a, b| key(a).cmp(key(b)));
            spans.into_iter().map(|(_, _, id)| id).collect()
        };
        let (sorted, reversed) = join(by_text, by_reversed);
        TextOrder {
            sorted,
            reversed,
            covers: u32::try_from(texts.len()).unwrap_or(u32::MAX),
        }
    }

    /// Whether, with `len` ids now, the ones added since the build (each
    /// tested on every query) make up more than an eighth of the order:
    /// then a rebuild costs less than testing them a few more times.
    pub(crate) fn is_stale(&self, len: usize) -> bool {
        let covers = self.covers as usize;
        len.saturating_sub(covers) > covers / 8
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.sorted.capacity() + self.reversed.capacity()) * 4
    }

    /// The ids of one order, by position.
    pub(crate) fn ids(&self, side: Side) -> &[u32] {
        match side {
            Side::Sorted => &self.sorted,
            Side::Reversed => &self.reversed,
        }
    }

    /// The ids in `span`.
    pub(crate) fn slice(&self, span: &Span) -> &[u32] {
        self.ids(span.side)
            .get(span.start..span.end)
            .unwrap_or_default()
    }

    /// Where the ids whose texts start with `prefix` are.
    fn prefix_range<T: Texts + ?Sized>(&self, texts: &T, prefix: &str) -> Span {
        let text = |id: &u32| texts.text(*id).unwrap_or_default();
        let start = self.sorted.partition_point(|id| text(id).as_ref() < prefix);
        let rest = self.sorted.get(start..).unwrap_or_default();
        let len = rest.partition_point(|id| text(id).starts_with(prefix));
        Span::new(Side::Sorted, start, len)
    }

    /// Where the ids whose texts end with `suffix` are.
    fn suffix_range<T: Texts + ?Sized>(&self, texts: &T, suffix: &str) -> Span {
        let text = |id: &u32| texts.text(*id).unwrap_or_default();
        let start = self
            .reversed
            .partition_point(|id| cmp_reversed(&text(id), suffix) == Ordering::Less);
        let rest = self.reversed.get(start..).unwrap_or_default();
        let len = rest.partition_point(|id| text(id).ends_with(suffix));
        Span::new(Side::Reversed, start, len)
    }

    /// The positions of `id`, whose text is `text`, in the sorted and the
    /// reversed order (`None` where it is not in the order).
    pub(crate) fn positions<T: Texts + ?Sized>(
        &self,
        texts: &T,
        id: u32,
        text: &str,
    ) -> [Option<usize>; 2] {
        // Several ids may share a text (an integer and its digits as a
        // string): look among all of them.
        let find = |span: Span| {
            self.slice(&span)
                .iter()
                .position(|i| *i == id)
                .map(|p| span.start + p)
        };
        let exact = |span: Span, len: usize| Span {
            end: span.start + len,
            ..span
        };
        let sorted = self.prefix_range(texts, text);
        let same = self
            .slice(&sorted)
            .partition_point(|i| texts.text(*i).unwrap_or_default() == text);
        let reversed = self.suffix_range(texts, text);
        let same_r = self
            .slice(&reversed)
            .partition_point(|i| texts.text(*i).unwrap_or_default() == text);
        [find(exact(sorted, same)), find(exact(reversed, same_r))]
    }
}

/// Which of the two orders of a [`TextOrder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// By text.
    Sorted,
    /// By reversed text.
    Reversed,
}

/// Positions `start..end` of one order of a [`TextOrder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) side: Side,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    fn new(side: Side, start: usize, len: usize) -> Span {
        Span {
            side,
            start,
            end: start + len,
        }
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn contains(&self, other: &Span) -> bool {
        self.side == other.side && self.start <= other.start && other.end <= self.end
    }
}

fn cmp_reversed(a: &str, b: &str) -> Ordering {
    a.bytes().rev().cmp(b.bytes().rev())
}

/// A glob or a regex, the two tests an order can answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pattern<'p> {
    Glob(&'p Glob),
    Regex(&'p regex::Regex),
}

impl<'p> Pattern<'p> {
    /// The pattern of a `like` or `matches` test.
    pub(crate) fn of(kind: &'p TestKind) -> Option<Pattern<'p>> {
        match kind {
            TestKind::Like(glob) => Some(Pattern::Glob(glob)),
            TestKind::Matches(regex) => Some(Pattern::Regex(regex)),
            _ => None,
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Glob(glob) => glob.is_match(text),
            Pattern::Regex(regex) => regex.is_match(text),
        }
    }

    /// Which texts the pattern can match, when a literal narrows them.
    fn narrow<T: Texts + ?Sized>(&self, texts: &T, order: &TextOrder) -> Option<Narrowed> {
        match self {
            Pattern::Glob(glob) => narrow_glob(glob, texts, order),
            Pattern::Regex(regex) => narrow_regex(regex, texts, order),
        }
    }
}

/// Which texts a pattern can match: candidates to test, or the answer.
enum Narrowed {
    /// The ids in this span match; nothing more to test.
    Exact(Span),
    /// Only the ids in these (disjoint) spans can match; each is tested.
    Candidates(Vec<Span>),
    /// The ids whose texts contain this literal match.
    Containing(String),
}

/// The ids whose texts a pattern matches: every id in a span of the
/// order, and more ids, each once, in no particular order.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) span: Option<Span>,
    pub(crate) ids: Vec<u32>,
}

impl Found {
    /// All the ids found, in no particular order.
    pub(crate) fn into_ids(mut self, order: &TextOrder) -> Vec<u32> {
        if let Some(span) = &self.span {
            self.ids.extend_from_slice(order.slice(span));
        }
        self.ids
    }
}

/// The ids whose texts `pattern` matches; `None` when no literal of the
/// pattern narrows the search (the caller then tests every text).
pub(crate) fn find<T: Texts + ?Sized>(
    pattern: Pattern<'_>,
    texts: &T,
    order: &TextOrder,
) -> Option<Found> {
    let passes = |id: &u32| texts.text(*id).is_some_and(|t| pattern.is_match(&t));
    let len = u32::try_from(texts.len()).unwrap_or(u32::MAX);
    let tail = || (order.covers..len).filter(passes);
    Some(match pattern.narrow(texts, order)? {
        // Searches every text, the tail's too.
        Narrowed::Containing(needle) => Found {
            span: None,
            ids: texts.containing(&needle),
        },
        Narrowed::Exact(span) => Found {
            span: Some(span),
            ids: tail().collect(),
        },
        Narrowed::Candidates(spans) => {
            let mut candidates: Vec<u32> = spans
                .iter()
                .flat_map(|span| order.slice(span))
                .copied()
                .collect();
            // Texts are stored by id: tested in id order, they are read
            // front to back instead of at random (sorting costs less than
            // the cache misses it saves).
            candidates.sort_unstable();
            let kept = filter_ids(candidates.len(), |i| candidates.get(i).is_some_and(passes));
            let mut ids: Vec<u32> = kept
                .into_iter()
                .filter_map(|i| candidates.get(i as usize).copied())
                .collect();
            ids.extend(tail());
            Found { span: None, ids }
        }
    })
}

/// The live hosts whose names `pattern` matches, when a literal narrows
/// the search.
pub(crate) fn match_names(
    pattern: Pattern<'_>,
    names: &Names,
    live: &RoaringBitmap,
    order: &TextOrder,
) -> Option<RoaringBitmap> {
    // Orders hold live ids, but removed hosts are never in `live`.
    find(pattern, names, order).map(|found| to_bitmap(found.into_ids(order), names.len()) & live)
}

fn narrow_glob<T: Texts + ?Sized>(glob: &Glob, texts: &T, order: &TextOrder) -> Option<Narrowed> {
    Some(match glob.literal_shape() {
        Some((GlobShape::Contains, lit)) => Narrowed::Containing(lit),
        Some((GlobShape::Prefix, lit)) => Narrowed::Exact(order.prefix_range(texts, &lit)),
        Some((GlobShape::Suffix, lit)) => Narrowed::Exact(order.suffix_range(texts, &lit)),
        // `lit` alone: the texts starting with it, tested.
        Some((GlobShape::Exact, lit)) => {
            Narrowed::Candidates(vec![order.prefix_range(texts, &lit)])
        }
        None => {
            let (prefix, suffix) = (glob.literal_prefix(), glob.literal_suffix());
            if prefix.is_empty() && suffix.is_empty() {
                return None;
            }
            let p = order.prefix_range(texts, &prefix);
            let s = order.suffix_range(texts, &suffix);
            let chosen = if suffix.is_empty() || (!prefix.is_empty() && p.len() <= s.len()) {
                p
            } else {
                s
            };
            Narrowed::Candidates(vec![chosen])
        }
    })
}

/// Candidates for `regex` (anchored at both ends): the ranges of its
/// literal prefixes or suffixes, whichever hold fewer ids.
fn narrow_regex<T: Texts + ?Sized>(
    regex: &regex::Regex,
    texts: &T,
    order: &TextOrder,
) -> Option<Narrowed> {
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
    let by_prefix: Option<Vec<Span>> = prefixes
        .as_deref()
        .map(|l| l.iter().map(|p| order.prefix_range(texts, p)).collect());
    let by_suffix: Option<Vec<Span>> = suffixes
        .as_deref()
        .map(|l| l.iter().map(|x| order.suffix_range(texts, x)).collect());
    let size = |r: &Vec<Span>| r.iter().map(Span::len).sum::<usize>();
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
    Some(Narrowed::Candidates(dedup_ranges(chosen)))
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

/// Spans that may overlap, as disjoint ones (ids repeated across
/// overlapping spans kept once).
fn dedup_ranges(spans: Vec<Span>) -> Vec<Span> {
    // Spans of one order overlap only when one literal extends another;
    // keep a span unless another one contains it.
    let mut out: Vec<Span> = Vec::new();
    for r in spans {
        if out.iter().any(|o| o.contains(&r)) {
            continue;
        }
        out.retain(|o| !r.contains(o));
        out.push(r);
    }
    out
}

/// Ids (all below `universe`, in any order, repeats allowed) as a bitmap:
/// through a plain bit set when they are many (setting bits is cheaper
/// than sorting), else sorted.
pub(crate) fn to_bitmap(mut ids: Vec<u32>, universe: usize) -> RoaringBitmap {
    if ids.len() < universe / 64 {
        ids.sort_unstable();
        ids.dedup();
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Texts by position; `None` is an id without a text.
    struct List(Vec<Option<String>>);

    impl Texts for List {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn text(&self, id: u32) -> Option<Cow<'_, str>> {
            self.0.get(id as usize)?.as_deref().map(Cow::Borrowed)
        }
    }

    fn list(texts: &[&str]) -> List {
        List(texts.iter().map(|t| Some(t.to_string())).collect())
    }

    fn order_of(texts: &List) -> TextOrder {
        TextOrder::build(texts, 0..texts.len() as u32)
    }

    /// The texts of `ids`, sorted.
    fn texts_of(texts: &List, ids: &[u32]) -> Vec<String> {
        let mut out: Vec<String> = ids
            .iter()
            .map(|id| texts.text(*id).unwrap().into_owned())
            .collect();
        out.sort();
        out
    }

    const TRICKY: &[&str] = &[
        "", "a", "ab", "abc", "abd", "b", "é", "éa", "aé", "aéb", "日本", "本", "a.b", "abc",
    ];

    #[test]
    fn ranges_at_their_boundaries() {
        let texts = list(TRICKY);
        let order = order_of(&texts);
        let (prefix, suffix) = (Side::Sorted, Side::Reversed);
        let cases: &[(Side, &str, &[&str])] = &[
            // A literal equal to a whole value, which others extend.
            (prefix, "ab", &["ab", "abc", "abc", "abd"]),
            (prefix, "abc", &["abc", "abc"]),
            (prefix, "abd", &["abd"]),
            (prefix, "abcd", &[]),
            (
                prefix,
                "a",
                &["a", "a.b", "ab", "abc", "abc", "abd", "aé", "aéb"],
            ),
            // Multi-byte characters, and literals before or after every text.
            (prefix, "é", &["é", "éa"]),
            (prefix, "日", &["日本"]),
            (prefix, "\u{0}", &[]),
            (prefix, "\u{10FFFF}", &[]),
            (prefix, "zz", &[]),
            (suffix, "b", &["a.b", "ab", "aéb", "b"]),
            (suffix, "ab", &["ab"]),
            (suffix, "a", &["a", "éa"]),
            // `é` is two bytes; a suffix order by bytes still keeps whole
            // characters together.
            (suffix, "é", &["aé", "é"]),
            (suffix, "本", &["日本", "本"]),
            (suffix, "日本", &["日本"]),
            (suffix, "x本", &[]),
            (suffix, "abc", &["abc", "abc"]),
            (suffix, "zabc", &[]),
        ];
        let range = |side: Side, lit: &str| match side {
            Side::Sorted => order.prefix_range(&texts, lit),
            Side::Reversed => order.suffix_range(&texts, lit),
        };
        for (side, lit, expected) in cases {
            let got = texts_of(&texts, order.slice(&range(*side, lit)));
            assert_eq!(got, *expected, "{side:?} {lit:?}");
        }
        // The empty literal: every text, the empty one too.
        for side in [prefix, suffix] {
            assert_eq!(order.slice(&range(side, "")).len(), TRICKY.len());
        }
    }

    #[test]
    fn an_empty_order_narrows_to_nothing() {
        let texts = List(Vec::new());
        let order = order_of(&texts);
        assert!(order.slice(&order.prefix_range(&texts, "")).is_empty());
        assert!(order.slice(&order.suffix_range(&texts, "a")).is_empty());
        let glob = Glob::new("a*").unwrap();
        let found = find(Pattern::Glob(&glob), &texts, &order).unwrap();
        assert!(found.into_ids(&order).is_empty());
    }

    #[test]
    fn names_contain_a_literal_only_within_one_name() {
        let mut names = Names::default();
        for n in ["ab", "cd", "bcb", "", "xbc"] {
            names.push(n);
        }
        assert_eq!(names.containing("bc"), [2, 4]);
        assert_eq!(names.containing("b"), [0, 2, 4]);
        assert_eq!(names.containing("abcd"), Vec::<u32>::new());
        assert_eq!(names.containing(""), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn names_are_searched_in_pieces_without_losing_a_name() {
        let mut names = Names::default();
        let n = 2 * (1 << 16) + 3;
        for i in 0..n {
            names.push(if i % 2 == 0 { "xa" } else { "bx" });
        }
        let even: Vec<u32> = (0..n as u32).filter(|i| i % 2 == 0).collect();
        assert_eq!(names.containing("xa"), even);
        assert_eq!(names.containing("x").len(), n);
        // Every `ab` runs across two names.
        assert!(names.containing("ab").is_empty());
        assert_eq!(names.containing("").len(), n);
    }

    #[test]
    fn positions_are_found_among_equal_texts() {
        let texts = list(&["b", "a", "ab", "a", "ba"]);
        let order = order_of(&texts);
        for id in 0..texts.len() as u32 {
            let text = texts.text(id).unwrap();
            let [s, r] = order.positions(&texts, id, &text);
            assert_eq!(order.ids(Side::Sorted)[s.unwrap()], id);
            assert_eq!(order.ids(Side::Reversed)[r.unwrap()], id);
        }
        // An id outside the order has no position.
        assert_eq!(order.positions(&texts, 9, "a"), [None, None]);
    }

    #[test]
    fn an_order_is_stale_once_an_eighth_of_it_was_added() {
        let texts = List((0..64).map(|i| Some(i.to_string())).collect());
        let order = order_of(&texts);
        assert!(!order.is_stale(64 + 8));
        assert!(order.is_stale(64 + 9));
    }

    /// Texts over a small alphabet, multi-byte characters included, so that
    /// texts often extend one another.
    fn text() -> BoxedStrategy<String> {
        prop::collection::vec(
            prop::sample::select(&['a', 'b', 'é', '-', '7', '.'][..]),
            0..6,
        )
        .prop_map(|c| c.into_iter().collect())
        .boxed()
    }

    /// Globs over the same alphabet, with `*`, `?` and escapes.
    fn glob() -> impl Strategy<Value = String> {
        let token =
            prop::sample::select(&["a", "b", "é", "-", "7", ".", "*", "?", "\\*", "ab"][..]);
        prop::collection::vec(token, 0..5).prop_map(|t| t.concat())
    }

    /// Regexes of every shape: literal prefixes and suffixes, alternations,
    /// classes, case folding and unanchored-looking ones.
    fn regex() -> impl Strategy<Value = String> {
        let lit = text();
        (
            lit.clone(),
            lit,
            prop::sample::select::<&'static str>(
                &[
                    "{0}.*",
                    ".*{1}",
                    "{0}.*{1}",
                    "({0}|{1})",
                    "({0}|{1}).*",
                    ".*({0}|{1})",
                    "{0}[0-9]+{1}",
                    "(?i){0}.*",
                    "{0}|{1}.*",
                    ".*{0}.*",
                    "({0})?{1}",
                    "(a|ab)(c|bcd)",
                ][..],
            ),
        )
            .prop_map(|(a, b, shape)| {
                shape
                    .replace("{0}", &regex::escape(&a))
                    .replace("{1}", &regex::escape(&b))
            })
    }

    /// `find` against testing every text, with texts both in the order
    /// and added after it.
    fn agrees(
        texts: Vec<Option<String>>,
        built: usize,
        pattern: Pattern<'_>,
    ) -> Result<(), TestCaseError> {
        let mut all = List(texts);
        let tail = all.0.split_off(built.min(all.0.len()));
        let order = order_of(&all);
        all.0.extend(tail);
        let expected: Vec<u32> = (0..all.len() as u32)
            .filter(|id| all.text(*id).is_some_and(|t| pattern.is_match(&t)))
            .collect();
        if let Some(mut got) = find(pattern, &all, &order).map(|f| f.into_ids(&order)) {
            got.sort_unstable();
            prop_assert_eq!(got, expected);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn globs_through_orders_agree_with_testing_every_text(
            texts in prop::collection::vec(prop::option::weighted(0.9, text()), 0..40),
            built in 0usize..40,
            pattern in glob(),
        ) {
            let glob = Glob::new(&pattern).unwrap();
            // Only a glob without any literal at an end tests every text.
            let unnarrowed = glob.literal_shape().is_none()
                && glob.literal_prefix().is_empty()
                && glob.literal_suffix().is_empty();
            let order = TextOrder::default();
            prop_assert_eq!(find(Pattern::Glob(&glob), &List(Vec::new()), &order).is_none(), unnarrowed);
            agrees(texts, built, Pattern::Glob(&glob))?;
        }

        #[test]
        fn regexes_through_orders_agree_with_testing_every_text(
            texts in prop::collection::vec(prop::option::weighted(0.9, text()), 0..40),
            built in 0usize..40,
            pattern in regex(),
        ) {
            let regex = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
            agrees(texts, built, Pattern::Regex(&regex))?;
        }
    }

    #[test]
    fn literal_globs_and_anchored_regexes_always_narrow() {
        let texts = list(TRICKY);
        let order = order_of(&texts);
        for g in ["a*", "*a", "*a*", "a", "a*b", "a?*", "*"] {
            let glob = Glob::new(g).unwrap();
            assert!(find(Pattern::Glob(&glob), &texts, &order).is_some(), "{g}");
        }
        for r in ["ab.*", ".*ab", "(a|b)c", "web-[0-9]+7"] {
            let regex = regex::Regex::new(&format!("^(?:{r})$")).unwrap();
            assert!(
                find(Pattern::Regex(&regex), &texts, &order).is_some(),
                "{r}"
            );
        }
        // Nothing to narrow with: the caller tests every text.
        let glob = Glob::new("?*?").unwrap();
        assert!(find(Pattern::Glob(&glob), &texts, &order).is_none());
    }
}
