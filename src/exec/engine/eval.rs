//! Running a [`Program`] over an [`IndexedFleet`] (as bitmaps) or over one
//! host (as booleans).
//!
//! This module owns the physical plan: for each leaf it chooses between a
//! dictionary lookup (equality and `in` on texts and booleans, `has`), a
//! test of every distinct value of the column (ordering, numbers, versions,
//! instants, globs, regexes), ranges of sorted orders (globs and regexes
//! on names, and on columns of at least `pattern_order_min` values: see
//! `patterns`), or, inside a conjunction whose candidates are already few,
//! a test of just those hosts. Conjunctions run their cheapest
//! and most selective operands first. Every value test goes through
//! [`Operand::compare`], [`Glob::is_match`](crate::value::Glob::is_match)
//! and the scope's compiled regex, exactly as the reference interpreter
//! does; the engine differs only in which values it visits.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use roaring::{MultiOps, RoaringBitmap};

use super::dict_order::DictOrder;
use super::index::{Column, IndexedFleet, Postings};
use super::par::filter_ids;
use super::patterns::{self, Pattern, TextOrder};
use super::program::{Instr, Program, Term, Test, TestKind};
use crate::fleet::Host;
use crate::syntax::{Literal, Path};
use crate::value::{for_each_value, HostValue, Operand};

type Set<'a> = Cow<'a, RoaringBitmap>;

/// A set of hosts or its complement (relative to the live hosts); `not`
/// flips the flag for free, and the complement is taken once, at the end.
struct SetOrComplement<'a> {
    set: Set<'a>,
    complement: bool,
}

/// A test made ready for one evaluation: literals bound to `now`.
struct Compiled<'p> {
    path: &'p Path,
    kind: &'p TestKind,
    operands: Vec<Operand<'p>>,
    /// For `like`: the literal text every match starts with, checked before
    /// the glob itself (a prefilter; the glob still decides).
    prefix: String,
}

impl<'p> Compiled<'p> {
    fn new(test: &'p Test, paths: &'p [Path], now: DateTime<Utc>) -> Option<Compiled<'p>> {
        let operands = match &test.kind {
            TestKind::Compare { value, .. } => vec![Operand::new(value, now)],
            TestKind::In(values) => values.iter().map(|v| Operand::new(v, now)).collect(),
            TestKind::Like(_) | TestKind::Matches(_) => Vec::new(),
        };
        let prefix = match &test.kind {
            TestKind::Like(glob) => glob.literal_prefix(),
            _ => String::new(),
        };
        Some(Compiled {
            path: paths.get(test.path.index())?,
            kind: &test.kind,
            operands,
            prefix,
        })
    }

    /// Whether one value passes: the same rule as the reference
    /// interpreter's, predicate by predicate.
    fn passes(&self, value: &HostValue<'_>) -> bool {
        match self.kind {
            TestKind::Compare { op, .. } => self
                .operands
                .iter()
                .any(|o| o.compare(value).is_some_and(|ord| op.holds(ord))),
            TestKind::In(_) => self
                .operands
                .iter()
                .any(|o| o.compare(value) == Some(Ordering::Equal)),
            TestKind::Like(glob) => value
                .text()
                .is_some_and(|t| has_prefix(&t, &self.prefix) && glob.is_match(&t)),
            TestKind::Matches(regex) => value.text().is_some_and(|t| regex.is_match(&t)),
        }
    }

    fn host_passes(&self, host: &Host) -> bool {
        let mut found = false;
        for_each_value(host, self.path, |v| found = found || self.passes(&v));
        found
    }

    /// The literals when the test is equality with texts or booleans only:
    /// then the values that can pass are few and known, and a dictionary
    /// lookup finds them.
    fn equality_literals(&self) -> Option<Vec<&'p Literal>> {
        let literals: Vec<&Literal> = match self.kind {
            TestKind::Compare {
                op: crate::syntax::CmpOp::Eq,
                value,
            } => vec![value],
            TestKind::In(values) => values.iter().collect(),
            _ => return None,
        };
        literals
            .iter()
            .all(|l| matches!(l, Literal::Str(_) | Literal::Bool(_)))
            .then_some(literals)
    }
}

/// `text.starts_with(prefix)`, compared byte by byte in line: most texts
/// differ in the first byte, and a call to `memcmp` per text costs more
/// than the comparison (this is the inner loop of a scan over every name).
#[inline]
fn has_prefix(text: &str, prefix: &str) -> bool {
    let (t, p) = (text.as_bytes(), prefix.as_bytes());
    t.len() >= p.len() && t.iter().zip(p).all(|(a, b)| a == b)
}

fn has_value(host: &Host, path: &Path) -> bool {
    let mut found = false;
    for_each_value(host, path, |_| found = true);
    found
}

/// Host values that could equal `literal` (a text or boolean literal): a
/// text equals a string literal only when it is that string, an integer
/// when its digits spell it, a boolean when its word does.
fn candidates(literal: &Literal) -> Vec<HostValue<'_>> {
    match literal {
        Literal::Str(s) => {
            let mut out = vec![HostValue::Text(s)];
            if let Ok(i) = s.parse::<i128>() {
                if i.to_string() == *s {
                    out.push(HostValue::Int(i));
                }
            }
            match s.as_str() {
                "true" => out.push(HostValue::Bool(true)),
                "false" => out.push(HostValue::Bool(false)),
                _ => {}
            }
            out
        }
        Literal::Bool(b) => vec![
            HostValue::Bool(*b),
            HostValue::Text(if *b { "true" } else { "false" }),
        ],
        _ => Vec::new(),
    }
}

/// A union of postings not yet computed: it may only ever be intersected
/// with a small candidate set.
#[derive(Default)]
struct Exact<'a> {
    maps: Vec<&'a RoaringBitmap>,
    ones: Vec<u32>,
}

impl<'a> Exact<'a> {
    fn add(&mut self, postings: &'a Postings) {
        match postings {
            Postings::Empty => {}
            Postings::One(id) => self.ones.push(*id),
            Postings::Many(b) => self.maps.push(b),
        }
    }

    fn len(&self) -> u64 {
        self.maps.iter().map(|b| b.len()).sum::<u64>() + self.ones.len() as u64
    }

    fn into_set(mut self) -> Set<'a> {
        if self.ones.is_empty() {
            if let [one] = self.maps.as_slice() {
                return Cow::Borrowed(*one);
            }
        }
        self.ones.sort_unstable();
        self.ones.dedup();
        let mut out = RoaringBitmap::from_sorted_iter(self.ones).unwrap_or_default();
        if !self.maps.is_empty() {
            out |= self.maps.into_iter().union();
        }
        Cow::Owned(out)
    }

    fn intersect(&self, with: &RoaringBitmap) -> RoaringBitmap {
        let mut out: RoaringBitmap = self
            .ones
            .iter()
            .copied()
            .filter(|id| with.contains(*id))
            .collect();
        for b in &self.maps {
            out |= *b & with;
        }
        out
    }
}

/// One operand of a conjunction, before it is combined.
enum Conjunct<'a, 'p> {
    Set(Set<'a>),
    Exact(Exact<'a>),
    Scan(&'p Compiled<'p>),
}

/// A conjunction operand whose size is known without testing values.
enum CountedConjunct<'a> {
    Set(Set<'a>),
    Exact(Exact<'a>),
}

pub(crate) struct Evaluator<'a> {
    fleet: &'a IndexedFleet,
    program: &'a Program,
    /// Each of the program's tests, at the same position (a test whose path
    /// is missing, which lowering never produces, is `None` rather than
    /// skipped, so no later test moves onto a wrong id).
    tests: Vec<Option<Compiled<'a>>>,
    /// The column of each of the program's paths (`None` for `name` and
    /// for paths no host has).
    columns: Vec<Option<&'a Column>>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(fleet: &'a IndexedFleet, program: &'a Program, now: DateTime<Utc>) -> Self {
        Evaluator {
            fleet,
            program,
            tests: program
                .tests
                .iter()
                .map(|t| Compiled::new(t, &program.paths, now))
                .collect(),
            columns: program.paths.iter().map(|p| fleet.column(p)).collect(),
        }
    }

    /// The compiled test with this id.
    fn compiled(&self, test: usize) -> Option<&Compiled<'a>> {
        self.tests.get(test).and_then(Option::as_ref)
    }

    /// Each output of the program as a set of ids of live hosts.
    pub(crate) fn run(&self) -> Vec<RoaringBitmap> {
        let program = self.program;
        let mut regs: Vec<Option<SetOrComplement<'a>>> = Vec::with_capacity(program.instrs.len());
        let mut remaining = program.uses.clone();
        for (i, instr) in program.instrs.iter().enumerate() {
            if program.deferred.get(i).copied().unwrap_or(false) {
                regs.push(None);
                continue;
            }
            let value = match instr {
                Instr::All => SetOrComplement {
                    set: Cow::Owned(RoaringBitmap::new()),
                    complement: true,
                },
                Instr::Has(p) => SetOrComplement {
                    set: self.has((*p).index()).into_set(),
                    complement: false,
                },
                Instr::Test(t) => SetOrComplement {
                    set: self.test_full((*t).index()),
                    complement: false,
                },
                Instr::And(terms) => self.and(terms, &mut regs, &mut remaining),
                Instr::Or(terms) => self.or(terms, &mut regs, &mut remaining),
            };
            regs.push(Some(value));
        }
        program
            .outputs
            .iter()
            .map(|t| {
                let s = take(t, &mut regs, &mut remaining);
                self.materialize(s)
            })
            .collect()
    }

    fn materialize(&self, s: SetOrComplement<'a>) -> RoaringBitmap {
        if s.complement {
            self.fleet.live_ids() - s.set.as_ref()
        } else {
            s.set.into_owned()
        }
    }

    /// `has(P)`, as postings.
    fn has(&self, path: usize) -> Exact<'a> {
        let mut e = Exact::default();
        match (
            self.columns.get(path).copied().flatten(),
            self.program.paths.get(path),
        ) {
            (Some(col), _) => e.maps.push(&col.has),
            (None, Some(Path::Name)) => e.maps.push(self.fleet.live_ids()),
            _ => {}
        }
        e
    }

    /// The test as a dictionary lookup, when it is one.
    fn exact(&self, test: usize) -> Option<Exact<'a>> {
        let compiled = self.compiled(test)?;
        let literals = compiled.equality_literals()?;
        let path = self
            .program
            .paths
            .get(self.program.tests.get(test)?.path.index())?;
        let column = self
            .program
            .tests
            .get(test)
            .and_then(|t| self.columns.get(t.path.index()).copied().flatten());
        let mut e = Exact::default();
        for literal in literals {
            let operand = Operand::new(literal, DateTime::<Utc>::MIN_UTC);
            for value in candidates(literal) {
                // By construction every candidate equals the literal; the
                // check keeps the lookup tied to `Operand::compare`.
                if operand.compare(&value) != Some(Ordering::Equal) {
                    continue;
                }
                match (path, column) {
                    (Path::Name, _) => {
                        if let HostValue::Text(name) = value {
                            e.ones.extend(self.fleet.id_of(name));
                        }
                    }
                    (_, Some(col)) => {
                        if let Some(p) = col
                            .dict
                            .get(&value)
                            .and_then(|v| col.postings.get(v as usize))
                        {
                            e.add(p);
                        }
                    }
                    (_, None) => {}
                }
            }
        }
        Some(e)
    }

    /// The hosts passing test `test`, over the whole fleet.
    fn test_full(&self, test: usize) -> Set<'a> {
        if let Some(e) = self.exact(test) {
            return e.into_set();
        }
        match self.compiled(test) {
            Some(c) => Cow::Owned(self.scan_full_compiled(c)),
            None => Cow::Owned(RoaringBitmap::new()),
        }
    }

    fn and(
        &self,
        terms: &[Term],
        regs: &mut [Option<SetOrComplement<'a>>],
        remaining: &mut [u32],
    ) -> SetOrComplement<'a> {
        let mut positive: Vec<Conjunct<'a, '_>> = Vec::new();
        let mut negative: Vec<Conjunct<'a, '_>> = Vec::new();
        for term in terms {
            let deferred = self
                .program
                .deferred
                .get(term.reg.index())
                .copied()
                .unwrap_or(false);
            let operand = if deferred {
                match self.program.instrs.get(term.reg.index()) {
                    Some(Instr::Has(p)) => Conjunct::Exact(self.has((*p).index())),
                    Some(Instr::Test(t)) => match self.exact((*t).index()) {
                        Some(e) => Conjunct::Exact(e),
                        None => match self.compiled((*t).index()) {
                            Some(c) => Conjunct::Scan(c),
                            None => continue,
                        },
                    },
                    _ => continue,
                }
            } else {
                let s = take(term, regs, remaining);
                if s.complement {
                    negative.push(Conjunct::Set(s.set));
                } else {
                    positive.push(Conjunct::Set(s.set));
                }
                continue;
            };
            if term.negated {
                negative.push(operand);
            } else {
                positive.push(operand);
            }
        }

        if positive.is_empty() {
            // not a and not b = not (a or b): no universe is built.
            let parts: Vec<RoaringBitmap> = negative
                .into_iter()
                .map(|o| match o {
                    Conjunct::Set(s) => s.into_owned(),
                    Conjunct::Exact(e) => e.into_set().into_owned(),
                    Conjunct::Scan(c) => self.scan_full_compiled(c),
                })
                .collect();
            return SetOrComplement {
                set: Cow::Owned(parts.into_iter().union()),
                complement: true,
            };
        }

        // Sets and lookups by size, then scans by cost.
        let mut sized: Vec<(u64, CountedConjunct<'a>)> = Vec::new();
        let mut scans: Vec<(u64, &Compiled<'_>)> = Vec::new();
        for o in positive {
            match o {
                Conjunct::Set(s) => sized.push((s.len(), CountedConjunct::Set(s))),
                Conjunct::Exact(e) => sized.push((e.len(), CountedConjunct::Exact(e))),
                Conjunct::Scan(c) => scans.push((self.compiled_cost(c), c)),
            }
        }
        sized.sort_by_key(|(n, _)| *n);
        scans.sort_by_key(|(n, _)| *n);

        let mut cand: Option<Set<'a>> = None;
        for (_, o) in sized {
            cand = Some(match (cand, o) {
                (None, CountedConjunct::Set(s)) => s,
                (None, CountedConjunct::Exact(e)) => e.into_set(),
                (Some(c), CountedConjunct::Set(s)) => Cow::Owned(intersect(c, s)),
                (Some(c), CountedConjunct::Exact(e)) => Cow::Owned(e.intersect(&c)),
            });
            if cand.as_ref().is_some_and(|c| c.is_empty()) {
                return empty();
            }
        }
        for (_, c) in scans {
            cand = Some(Cow::Owned(match cand {
                None => self.scan_full_compiled(c),
                Some(set) => self.scan_within_compiled(c, &set),
            }));
            if cand.as_ref().is_some_and(|c| c.is_empty()) {
                return empty();
            }
        }
        let mut cand = match cand {
            Some(c) => c.into_owned(),
            None => return empty(),
        };
        // Subtract sets and lookups first; scans then see fewer candidates.
        let mut neg_scans = Vec::new();
        for o in negative {
            match o {
                Conjunct::Set(s) => cand -= s.as_ref(),
                Conjunct::Exact(e) => {
                    let hit = e.intersect(&cand);
                    cand -= hit;
                }
                Conjunct::Scan(c) => neg_scans.push(c),
            }
            if cand.is_empty() {
                return empty();
            }
        }
        for c in neg_scans {
            let hit = self.scan_within_compiled(c, &cand);
            cand -= hit;
        }
        SetOrComplement {
            set: Cow::Owned(cand),
            complement: false,
        }
    }

    fn or(
        &self,
        terms: &[Term],
        regs: &mut [Option<SetOrComplement<'a>>],
        remaining: &mut [u32],
    ) -> SetOrComplement<'a> {
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for term in terms {
            let s = take(term, regs, remaining);
            if s.complement {
                negative.push(s.set);
            } else {
                positive.push(s.set);
            }
        }
        if negative.is_empty() {
            return SetOrComplement {
                set: union(positive),
                complement: false,
            };
        }
        // a or not b or not c = not ((b and c) - a)
        negative.sort_by_key(|s| s.len());
        let mut iter = negative.into_iter();
        let mut inner = iter.next().map(Cow::into_owned).unwrap_or_default();
        for s in iter {
            inner &= s.as_ref();
        }
        for s in positive {
            inner -= s.as_ref();
        }
        SetOrComplement {
            set: Cow::Owned(inner),
            complement: true,
        }
    }

    fn compiled_cost(&self, c: &Compiled<'_>) -> u64 {
        match (self.fleet.column(c.path), c.path) {
            (Some(col), _) => col.dict.len() as u64,
            (None, Path::Name) => self.fleet.live_ids().len(),
            _ => 0,
        }
    }

    fn scan_full_compiled(&self, c: &Compiled<'_>) -> RoaringBitmap {
        match (self.fleet.column(c.path), c.path) {
            (Some(col), _) => self
                .column_pattern(col, c)
                .unwrap_or_else(|| scan_column(col, c)),
            (None, Path::Name) => {
                if let Some(hit) = self.name_pattern(c) {
                    return hit;
                }
                let fleet = self.fleet;
                // The glob's literal prefix is checked in this loop itself:
                // kept this small, the loop overlaps the cache misses on
                // the names, which dominate a scan over every host.
                let prefix = c.prefix.as_str();
                let ids = filter_ids(fleet.names.len(), |i| {
                    fleet.names.get(i as u32).is_some_and(|name| {
                        has_prefix(name, prefix) && c.passes(&HostValue::Text(name))
                    })
                });
                RoaringBitmap::from_sorted_iter(ids).unwrap_or_default() & &fleet.live
            }
            _ => RoaringBitmap::new(),
        }
    }

    /// A glob or regex on names answered through the sorted name orders,
    /// when its literals narrow the names to test (see `patterns`).
    fn name_pattern(&self, c: &Compiled<'_>) -> Option<RoaringBitmap> {
        let fleet = self.fleet;
        let pattern = Pattern::of(c.kind)?;
        let order = fleet
            .name_order
            .get_or_init(|| TextOrder::build(&fleet.names, fleet.live.iter()));
        patterns::match_names(pattern, &fleet.names, &fleet.live, order)
    }

    /// A glob or regex on a column with many distinct values, answered
    /// through the sorted orders of its dictionary: the hosts of the
    /// values that match, when the pattern's literals narrow the values
    /// to test (see `dict_order`).
    fn column_pattern(&self, col: &Column, c: &Compiled<'_>) -> Option<RoaringBitmap> {
        let pattern = Pattern::of(c.kind)?;
        if col.dict.len() < self.fleet.pattern_order_min {
            return None;
        }
        let order = col
            .order
            .get_or_init(|| DictOrder::build(&col.dict, &col.postings));
        order.select(&col.dict, &col.postings, pattern, self.fleet.names.len())
    }

    fn scan_within_compiled(&self, c: &Compiled<'_>, within: &RoaringBitmap) -> RoaringBitmap {
        if within.len() <= self.compiled_cost(c) {
            let fleet = self.fleet;
            let column = fleet.layout.column(c.path);
            let ids = within.iter().filter(|id| match (c.path, column) {
                (Path::Name, _) => fleet
                    .names
                    .get(*id)
                    .is_some_and(|n| c.passes(&HostValue::Text(n))),
                (_, Some(col)) => {
                    let mut found = false;
                    fleet.for_each_in_column(*id, col, |v| found = found || c.passes(&v));
                    found
                }
                (_, None) => false,
            });
            return RoaringBitmap::from_sorted_iter(ids).unwrap_or_default();
        }
        self.scan_full_compiled(c) & within
    }

    /// Each output for one host.
    pub(crate) fn run_host(&self, host: &Host) -> Vec<bool> {
        let program = self.program;
        let mut regs: Vec<bool> = Vec::with_capacity(program.instrs.len());
        let read =
            |regs: &[bool], t: &Term| regs.get(t.reg.index()).copied().unwrap_or(false) ^ t.negated;
        for instr in &program.instrs {
            let value = match instr {
                Instr::All => true,
                Instr::Has(p) => program
                    .paths
                    .get((*p).index())
                    .is_some_and(|p| has_value(host, p)),
                Instr::Test(t) => self
                    .compiled((*t).index())
                    .is_some_and(|c| c.host_passes(host)),
                Instr::And(terms) => terms.iter().all(|t| read(&regs, t)),
                Instr::Or(terms) => terms.iter().any(|t| read(&regs, t)),
            };
            regs.push(value);
        }
        program.outputs.iter().map(|t| read(&regs, t)).collect()
    }
}

/// Takes a register's value for one reader: moved out at its last use,
/// otherwise shared (cheap when it borrows the index, a copy when owned).
fn take<'a>(
    term: &Term,
    regs: &mut [Option<SetOrComplement<'a>>],
    remaining: &mut [u32],
) -> SetOrComplement<'a> {
    let i = term.reg.index();
    let last = match remaining.get_mut(i) {
        Some(r) => {
            *r = r.saturating_sub(1);
            *r == 0
        }
        None => true,
    };
    let value = match regs.get_mut(i) {
        Some(slot) if last => slot.take(),
        Some(Some(s)) => Some(SetOrComplement {
            set: s.set.clone(),
            complement: s.complement,
        }),
        _ => None,
    };
    let s = value.unwrap_or(SetOrComplement {
        set: Cow::Owned(RoaringBitmap::new()),
        complement: false,
    });
    SetOrComplement {
        set: s.set,
        complement: s.complement ^ term.negated,
    }
}

fn empty<'a>() -> SetOrComplement<'a> {
    SetOrComplement {
        set: Cow::Owned(RoaringBitmap::new()),
        complement: false,
    }
}

fn intersect(a: Set<'_>, b: Set<'_>) -> RoaringBitmap {
    match (a, b) {
        (Cow::Owned(mut a), b) => {
            a &= b.as_ref();
            a
        }
        (a, Cow::Owned(mut b)) => {
            b &= a.as_ref();
            b
        }
        (Cow::Borrowed(a), Cow::Borrowed(b)) => a & b,
    }
}

fn union(sets: Vec<Set<'_>>) -> Set<'_> {
    if sets.len() == 1 {
        if let Some(s) = sets.into_iter().next() {
            return s;
        }
        return Cow::Owned(RoaringBitmap::new());
    }
    Cow::Owned(sets.iter().map(|s| s.as_ref()).union())
}

/// Hosts of `col` with some value passing `test`: each distinct value is
/// tested once, then the postings of the passing ones are united.
fn scan_column(col: &Column, test: &Compiled<'_>) -> RoaringBitmap {
    let keys = &col.dict.keys;
    let postings = &col.postings;
    let pass = filter_ids(keys.len(), |v| {
        postings.get(v).is_some_and(|p| p.len() > 0)
            && keys.get(v).is_some_and(|k| test.passes(&k.value()))
    });
    let postings_of = |ids: &[u32]| {
        let mut e = Exact::default();
        for v in ids {
            if let Some(p) = postings.get(*v as usize) {
                e.add(p);
            }
        }
        e
    };
    let hit = postings_of(&pass);
    if !col.multi {
        // Single-valued column: the values' hosts are disjoint, so when
        // most hosts pass, subtracting the rest from `has` is cheaper
        // than uniting the passing ones.
        let total = col.has.len();
        let hits = hit.len();
        if hits.saturating_mul(2) > total {
            let mut fail = Vec::with_capacity(keys.len().saturating_sub(pass.len()));
            let mut passing = pass.iter().peekable();
            for v in 0..keys.len() as u32 {
                if passing.peek() == Some(&&v) {
                    passing.next();
                } else {
                    fail.push(v);
                }
            }
            let miss = postings_of(&fail).into_set();
            return &col.has - miss.as_ref();
        }
    }
    hit.into_set().into_owned()
}
