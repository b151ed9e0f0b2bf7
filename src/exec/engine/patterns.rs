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
//! - `*lit*` is `memchr::memmem` over the texts (for names, one pass over
//!   all names back to back);
//! - any other glob, and a regex, narrow the texts they test to the range
//!   of their literal prefix or suffix (for a regex, the literals
//!   `regex-syntax` extracts from the anchored pattern), the narrower of
//!   the two, and test only those with the glob or regex itself.
//!
//! The answer is a list of ids; the index turns name ids into hosts and
//! value ids into the union of their postings. This module only chooses
//! which texts to test; whether one matches is still decided by
//! [`Glob::is_match`](crate::value::Glob::is_match) and the compiled
//! regex, or by a literal test that is equivalent by construction. The text
//! of a dictionary value is [`HostValue::text`](crate::value::HostValue::text),
//! the one the reference interpreter reads: an integer's decimal digits
//! (made when read), a boolean's word; a float has none and never matches.

use std::borrow::Cow;
use std::cmp::Ordering;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};
use roaring::RoaringBitmap;

use super::index::Dict;
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

    /// The ids whose text contains `needle`, in increasing order: one
    /// `memmem` search per text (in parallel on many texts).
    fn containing(&self, needle: &str) -> Vec<u32> {
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        filter_ids(self.len(), |id| {
            self.text(id as u32)
                .is_some_and(|t| finder.find(t.as_bytes()).is_some())
        })
    }
}

impl Texts for Names {
    fn len(&self) -> usize {
        Names::len(self)
    }

    fn text(&self, id: u32) -> Option<Cow<'_, str>> {
        self.get(id).map(Cow::Borrowed)
    }

    /// One pass of `memmem` over all names back to back; a hit that runs
    /// across two names is no hit.
    fn containing(&self, needle: &str) -> Vec<u32> {
        if needle.is_empty() {
            return (0..Names::len(self) as u32).collect();
        }
        let (text, ends) = self.buffer();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let (mut id, mut from) = (0usize, 0usize);
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

impl Texts for Dict {
    fn len(&self) -> usize {
        Dict::len(self)
    }

    fn text(&self, id: u32) -> Option<Cow<'_, str>> {
        self.keys.get(id as usize)?.value().text()
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
        let keyed: Vec<(Cow<'_, str>, u32)> =
            ids.filter_map(|id| Some((texts.text(id)?, id))).collect();
        let by_text = || {
            let mut refs: Vec<(&str, u32)> =
                keyed.iter().map(|(t, id)| (t.as_ref(), *id)).collect();
            sort_by(&mut refs, |a, b| a.0.cmp(b.0));
            refs.into_iter().map(|(_, id)| id).collect()
        };
        let by_reversed = || {
            // A reversed copy of every text, sorted, then dropped: byte
            // order of the reversed text is suffix order.
            let mut bytes: Vec<u8> = Vec::new();
            let mut spans: Vec<(usize, usize, u32)> = Vec::with_capacity(keyed.len());
            for (text, id) in &keyed {
                let start = bytes.len();
                bytes.extend(text.bytes().rev());
                spans.push((start, bytes.len(), *id));
            }
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

    /// The ids whose texts start with `prefix`.
    fn prefix_range<'o, T: Texts + ?Sized>(&'o self, texts: &T, prefix: &str) -> &'o [u32] {
        let text = |id: &u32| texts.text(*id).unwrap_or_default();
        let lo = self.sorted.partition_point(|id| text(id).as_ref() < prefix);
        let rest = self.sorted.get(lo..).unwrap_or_default();
        let len = rest.partition_point(|id| text(id).starts_with(prefix));
        rest.get(..len).unwrap_or_default()
    }

    /// The ids whose texts end with `suffix`.
    fn suffix_range<'o, T: Texts + ?Sized>(&'o self, texts: &T, suffix: &str) -> &'o [u32] {
        let text = |id: &u32| texts.text(*id).unwrap_or_default();
        let lo = self
            .reversed
            .partition_point(|id| cmp_reversed(&text(id), suffix) == Ordering::Less);
        let rest = self.reversed.get(lo..).unwrap_or_default();
        let len = rest.partition_point(|id| text(id).ends_with(suffix));
        rest.get(..len).unwrap_or_default()
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
    fn narrow<'o, T: Texts + ?Sized>(
        &self,
        texts: &T,
        order: &'o TextOrder,
    ) -> Option<Narrowed<'o>> {
        match self {
            Pattern::Glob(glob) => narrow_glob(glob, texts, order),
            Pattern::Regex(regex) => narrow_regex(regex, texts, order),
        }
    }
}

/// Which texts a pattern can match: candidates to test, or the answer.
enum Narrowed<'o> {
    /// These ids match; nothing more to test.
    Exact(Vec<&'o [u32]>),
    /// Only these ids (in disjoint ranges) can match; each is tested.
    Candidates(Vec<&'o [u32]>),
    /// The ids whose texts contain this literal match.
    Containing(String),
}

/// The ids whose texts `pattern` matches, each once, in no particular
/// order; `None` when no literal of the pattern narrows the search (the
/// caller then tests every text).
pub(crate) fn find<T: Texts + ?Sized>(
    pattern: Pattern<'_>,
    texts: &T,
    order: &TextOrder,
) -> Option<Vec<u32>> {
    let (ranges, exact) = match pattern.narrow(texts, order)? {
        // Searches every text, the tail's too.
        Narrowed::Containing(needle) => return Some(texts.containing(&needle)),
        Narrowed::Exact(r) => (r, true),
        Narrowed::Candidates(r) => (r, false),
    };
    let passes = |id: &u32| texts.text(*id).is_some_and(|t| pattern.is_match(&t));
    let mut ids: Vec<u32> = Vec::new();
    for range in ranges {
        if exact {
            ids.extend_from_slice(range);
        } else {
            ids.extend(range.iter().copied().filter(passes));
        }
    }
    let len = u32::try_from(texts.len()).unwrap_or(u32::MAX);
    ids.extend((order.covers..len).filter(passes));
    Some(ids)
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
    find(pattern, names, order).map(|ids| to_bitmap(ids) & live)
}

fn narrow_glob<'o, T: Texts + ?Sized>(
    glob: &Glob,
    texts: &T,
    order: &'o TextOrder,
) -> Option<Narrowed<'o>> {
    Some(match glob.literal_shape() {
        Some((GlobShape::Contains, lit)) => Narrowed::Containing(lit),
        Some((GlobShape::Prefix, lit)) => Narrowed::Exact(vec![order.prefix_range(texts, &lit)]),
        Some((GlobShape::Suffix, lit)) => Narrowed::Exact(vec![order.suffix_range(texts, &lit)]),
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
fn narrow_regex<'o, T: Texts + ?Sized>(
    regex: &regex::Regex,
    texts: &T,
    order: &'o TextOrder,
) -> Option<Narrowed<'o>> {
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
        .map(|l| l.iter().map(|p| order.prefix_range(texts, p)).collect());
    let by_suffix: Option<Vec<&[u32]>> = suffixes
        .as_deref()
        .map(|l| l.iter().map(|x| order.suffix_range(texts, x)).collect());
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

/// Ids in any order (repeats allowed) as a bitmap: through a plain bit
/// set when they are many for their range (setting bits is cheaper than
/// sorting), else sorted.
pub(crate) fn to_bitmap(mut ids: Vec<u32>) -> RoaringBitmap {
    let universe = ids.iter().max().map_or(0, |m| *m as usize + 1);
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
    use crate::value::HostValue;
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
    fn prefix_ranges_at_their_boundaries() {
        let texts = list(TRICKY);
        let order = order_of(&texts);
        let prefix = |p: &str| texts_of(&texts, order.prefix_range(&texts, p));
        // The empty literal: every text, the empty one too.
        assert_eq!(prefix("").len(), TRICKY.len());
        // A literal equal to a whole value, which others extend.
        assert_eq!(prefix("ab"), ["ab", "abc", "abc", "abd"]);
        assert_eq!(prefix("abc"), ["abc", "abc"]);
        assert_eq!(prefix("abd"), ["abd"]);
        assert!(prefix("abcd").is_empty());
        assert_eq!(
            prefix("a"),
            ["a", "a.b", "ab", "abc", "abc", "abd", "aé", "aéb"]
        );
        // Multi-byte characters, and literals before or after every text.
        assert_eq!(prefix("é"), ["é", "éa"]);
        assert_eq!(prefix("日"), ["日本"]);
        assert!(prefix("\u{0}").is_empty());
        assert!(prefix("\u{10FFFF}").is_empty());
        assert!(prefix("zz").is_empty());
    }

    #[test]
    fn suffix_ranges_at_their_boundaries() {
        let texts = list(TRICKY);
        let order = order_of(&texts);
        let suffix = |s: &str| texts_of(&texts, order.suffix_range(&texts, s));
        assert_eq!(suffix("").len(), TRICKY.len());
        assert_eq!(suffix("b"), ["a.b", "ab", "aéb", "b"]);
        assert_eq!(suffix("ab"), ["ab"]);
        assert_eq!(suffix("a"), ["a", "éa"]);
        // `é` is two bytes; a suffix order by bytes still keeps whole
        // characters together.
        assert_eq!(suffix("é"), ["aé", "é"]);
        assert_eq!(suffix("本"), ["日本", "本"]);
        assert_eq!(suffix("日本"), ["日本"]);
        assert!(suffix("x本").is_empty());
        assert_eq!(suffix("abc"), ["abc", "abc"]);
        assert!(suffix("zabc").is_empty());
    }

    #[test]
    fn an_empty_order_narrows_to_nothing() {
        let texts = List(Vec::new());
        let order = order_of(&texts);
        assert!(order.prefix_range(&texts, "").is_empty());
        assert!(order.suffix_range(&texts, "a").is_empty());
        let glob = Glob::new("a*").unwrap();
        assert_eq!(find(Pattern::Glob(&glob), &texts, &order), Some(vec![]));
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
    fn dictionary_values_match_by_the_text_the_reference_reads() {
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
        let order = TextOrder::build(&dict, 0..dict.len() as u32);
        let glob = |dict: &Dict, g: &str| {
            let glob = Glob::new(g).unwrap();
            let mut ids = find(Pattern::Glob(&glob), dict, &order).unwrap();
            ids.sort_unstable();
            ids
        };
        // A float has no text; an integer's is its digits.
        assert_eq!(glob(&dict, "*7"), [0, 1, 2, 6]);
        assert_eq!(glob(&dict, "-*"), [2]);
        assert_eq!(glob(&dict, "tr*"), [4, 5]);
        assert_eq!(glob(&dict, "*7*"), [0, 1, 2, 6]);
        assert_eq!(glob(&dict, "2?"), [1]);
        // Values added after the build are tested one by one.
        dict.id(&HostValue::Int(7));
        dict.id(&HostValue::Text("x7"));
        assert_eq!(glob(&dict, "*7"), [0, 1, 2, 6, 7, 8]);
        assert_eq!(glob(&dict, "x*"), [8]);
    }

    #[test]
    fn an_order_is_stale_once_an_eighth_of_it_was_added() {
        let mut dict = Dict::default();
        for i in 0..64 {
            dict.id(&HostValue::Int(i));
        }
        let order = TextOrder::build(&dict, 0..dict.len() as u32);
        assert!(!order.is_stale(dict.len()));
        for i in 64..72 {
            dict.id(&HostValue::Int(i));
        }
        assert!(!order.is_stale(dict.len()));
        dict.id(&HostValue::Int(72));
        assert!(order.is_stale(dict.len()));
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
        if let Some(mut got) = find(pattern, &all, &order) {
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
