//! Lowering a checked [`Scope`] (or a whole [`Catalog`]) to a flat program.
//!
//! This module owns the normalized plan: a table of instructions addressed
//! by index (jaq-style, no tree of boxes), where every operand precedes its
//! user, so evaluation is one forward pass. Lowering
//!
//! - interns paths to [`PathId`]s and leaf tests to [`TestId`]s, so a test
//!   written twice is evaluated once;
//! - hash-conses instructions, so shared subexpressions (and every named
//!   scope, however often it is referred to) are computed once;
//! - flattens nested `and`/`or`, drops duplicate operands, folds constants;
//! - pushes `not` down with De Morgan's laws until it sits on an operand
//!   edge ([`Term::negated`]), so no instruction is a complement;
//! - rewrites the fail-closed operators (`!=`, `not in`, `not like`,
//!   `not matches`) to `has(P) and not positive`, as `docs/language.md` defines
//!   them.
//!
//! It knows nothing about fleets or indexes and never evaluates anything;
//! the order in which a conjunction's operands run is chosen at evaluation
//! time, when the index can say what each costs.

use std::collections::HashMap;

use regex::Regex;

use crate::scope::{Catalog, Node, NodeKind, Scope};
use crate::syntax::{CmpOp, Literal, Path};
use crate::value::Glob;

/// Index of an interned path in [`Program::paths`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PathId(pub(crate) u32);
/// Index of an interned leaf test in [`Program::tests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TestId(pub(crate) u32);
/// Index of an instruction (and of the register holding its result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Reg(pub(crate) u32);

impl PathId {
    /// Its position in [`Program::paths`].
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl TestId {
    /// Its position in [`Program::tests`].
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl Reg {
    /// Its position in [`Program::instrs`] (and among the registers).
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// An operand: an instruction's result, possibly complemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Term {
    pub(crate) reg: Reg,
    pub(crate) negated: bool,
}

impl Term {
    fn flip(self, negate: bool) -> Term {
        Term {
            reg: self.reg,
            negated: self.negated ^ negate,
        }
    }
}

/// One instruction. `And` and `Or` hold at least two terms, all earlier
/// registers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Instr {
    /// Every live host.
    All,
    /// Hosts with at least one value at the path.
    Has(PathId),
    /// Hosts with some value at the test's path that passes the test.
    Test(TestId),
    /// Hosts in every term.
    And(Vec<Term>),
    /// Hosts in some term.
    Or(Vec<Term>),
}

/// A positive leaf test: "some value at `path` passes".
#[derive(Debug, Clone)]
pub(crate) struct Test {
    pub(crate) path: PathId,
    pub(crate) kind: TestKind,
}

/// What a value must satisfy. Never a negated operator: those are lowered
/// to `has(P) and not positive`.
#[derive(Debug, Clone)]
pub(crate) enum TestKind {
    /// `=`, `<`, `<=`, `>`, `>=` against one literal (never `!=`).
    Compare { op: CmpOp, value: Literal },
    /// Equal to one of two or more literals.
    In(Vec<Literal>),
    /// The value's text matches the glob.
    Like(Glob),
    /// The value's text matches the (anchored) regex.
    Matches(Regex),
}

/// What lowering a node gives: a constant or a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lowered {
    Const(bool),
    Term(Term),
}

impl Lowered {
    fn flip(self, negate: bool) -> Lowered {
        match self {
            Lowered::Const(b) => Lowered::Const(b ^ negate),
            Lowered::Term(t) => Lowered::Term(t.flip(negate)),
        }
    }
}

/// A lowered program: instructions, their interned paths and tests, and
/// the terms to report (one per scope lowered).
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    pub(crate) paths: Vec<Path>,
    pub(crate) tests: Vec<Test>,
    pub(crate) instrs: Vec<Instr>,
    pub(crate) outputs: Vec<Term>,
    /// How many operand edges and outputs read each register.
    pub(crate) uses: Vec<u32>,
    /// Leaves (`Has`, `Test`) whose only reader is one `And`: the evaluator
    /// runs them inside that conjunction, restricted to its candidates,
    /// instead of over the whole fleet.
    pub(crate) deferred: Vec<bool>,
}

impl Program {
    /// The program for one scope; its single output is the scope.
    pub(crate) fn for_scope(scope: &Scope) -> Program {
        let mut lowerer = Lowerer::new(&scope.catalog);
        let root = lowerer.lower(&scope.root, false);
        let output = lowerer.term_of(root);
        lowerer.finish(vec![output])
    }

    /// The program for every named scope of `catalog`, in name order, each
    /// lowered once and shared by the scopes that refer to it.
    pub(crate) fn for_catalog(catalog: &Catalog) -> Program {
        let mut lowerer = Lowerer::new(catalog);
        let outputs = (0..catalog.len())
            .map(|i| {
                let lowered = lowerer.named(i);
                lowerer.term_of(lowered)
            })
            .collect();
        lowerer.finish(outputs)
    }
}

struct Lowerer<'c> {
    catalog: &'c Catalog,
    program: Program,
    path_ids: HashMap<Path, PathId>,
    /// Tests keyed by their canonical spelling (path id and `Debug` of the
    /// kind, which spells out literals, globs and regex patterns).
    test_ids: HashMap<String, TestId>,
    instr_ids: HashMap<Instr, Reg>,
    /// Each named scope lowered (positively), by catalog index.
    named: HashMap<usize, Lowered>,
}

impl<'c> Lowerer<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        Lowerer {
            catalog,
            program: Program::default(),
            path_ids: HashMap::new(),
            test_ids: HashMap::new(),
            instr_ids: HashMap::new(),
            named: HashMap::new(),
        }
    }

    fn finish(self, outputs: Vec<Term>) -> Program {
        let Program {
            paths,
            tests,
            instrs,
            ..
        } = self.program;
        // Flattening leaves behind instructions that nothing reads any
        // more; drop them (walking backwards, readers before operands) and
        // renumber the rest.
        let mut live = vec![false; instrs.len()];
        for t in &outputs {
            if let Some(l) = live.get_mut(t.reg.index()) {
                *l = true;
            }
        }
        for (i, instr) in instrs.iter().enumerate().rev() {
            if !live.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Instr::And(terms) | Instr::Or(terms) = instr {
                for t in terms {
                    if let Some(l) = live.get_mut(t.reg.index()) {
                        *l = true;
                    }
                }
            }
        }
        let mut renumber = vec![Reg(0); instrs.len()];
        let mut kept: Vec<Instr> = Vec::new();
        let rename = |t: &Term, renumber: &[Reg]| Term {
            reg: renumber.get(t.reg.index()).copied().unwrap_or(Reg(0)),
            negated: t.negated,
        };
        for (i, instr) in instrs.into_iter().enumerate() {
            if !live.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Some(r) = renumber.get_mut(i) {
                *r = Reg(kept.len() as u32);
            }
            kept.push(match instr {
                Instr::And(terms) => {
                    Instr::And(terms.iter().map(|t| rename(t, &renumber)).collect())
                }
                Instr::Or(terms) => Instr::Or(terms.iter().map(|t| rename(t, &renumber)).collect()),
                other => other,
            });
        }
        let outputs: Vec<Term> = outputs.iter().map(|t| rename(t, &renumber)).collect();

        let n = kept.len();
        let mut uses = vec![0u32; n];
        let mut and_reader = vec![false; n];
        for instr in &kept {
            let (terms, is_and) = match instr {
                Instr::And(t) => (t, true),
                Instr::Or(t) => (t, false),
                _ => continue,
            };
            for t in terms {
                if let Some(u) = uses.get_mut(t.reg.index()) {
                    *u += 1;
                }
                if let Some(a) = and_reader.get_mut(t.reg.index()) {
                    *a = is_and;
                }
            }
        }
        for t in &outputs {
            if let Some(u) = uses.get_mut(t.reg.index()) {
                *u += 1;
            }
        }
        let deferred = kept
            .iter()
            .enumerate()
            .map(|(i, instr)| {
                matches!(instr, Instr::Has(_) | Instr::Test(_))
                    && uses.get(i) == Some(&1)
                    && and_reader.get(i) == Some(&true)
            })
            .collect();
        Program {
            paths,
            tests,
            instrs: kept,
            outputs,
            uses,
            deferred,
        }
    }

    /// A term for a lowered node; constants become `All` (or its complement).
    fn term_of(&mut self, lowered: Lowered) -> Term {
        match lowered {
            Lowered::Term(t) => t,
            Lowered::Const(b) => Term {
                reg: self.instr(Instr::All),
                negated: !b,
            },
        }
    }

    fn instr(&mut self, instr: Instr) -> Reg {
        if let Some(reg) = self.instr_ids.get(&instr) {
            return *reg;
        }
        let reg = Reg(self.program.instrs.len() as u32);
        self.program.instrs.push(instr.clone());
        self.instr_ids.insert(instr, reg);
        reg
    }

    fn path(&mut self, path: &Path) -> PathId {
        if let Some(id) = self.path_ids.get(path) {
            return *id;
        }
        let id = PathId(self.program.paths.len() as u32);
        self.program.paths.push(path.clone());
        self.path_ids.insert(path.clone(), id);
        id
    }

    fn leaf(&mut self, instr: Instr, negated: bool) -> Lowered {
        Lowered::Term(Term {
            reg: self.instr(instr),
            negated,
        })
    }

    fn has(&mut self, path: &Path) -> Lowered {
        let p = self.path(path);
        self.leaf(Instr::Has(p), false)
    }

    fn test(&mut self, path: &Path, kind: TestKind) -> Lowered {
        let p = self.path(path);
        let key = format!("{}:{kind:?}", p.0);
        let id = match self.test_ids.get(&key) {
            Some(id) => *id,
            None => {
                let id = TestId(self.program.tests.len() as u32);
                self.program.tests.push(Test { path: p, kind });
                self.test_ids.insert(key, id);
                id
            }
        };
        self.leaf(Instr::Test(id), false)
    }

    /// `positive` when not `negated`, else `has(P) and not positive`; the
    /// complement of that when `negate` (`not has(P) or positive`).
    fn fail_closed(&mut self, path: &Path, negated: bool, kind: TestKind, negate: bool) -> Lowered {
        let positive = self.test(path, kind);
        if !negated {
            return positive.flip(negate);
        }
        let has = self.has(path);
        self.combine(!negate, vec![has.flip(negate), positive.flip(!negate)])
    }

    fn named(&mut self, index: usize) -> Lowered {
        if let Some(l) = self.named.get(&index) {
            return *l;
        }
        let catalog = self.catalog;
        let lowered = match catalog.named(index) {
            Some(named) => self.lower(&named.root, false),
            // The catalog resolved every reference when it was built.
            None => Lowered::Const(false),
        };
        self.named.insert(index, lowered);
        lowered
    }

    /// Lowers `node`, or its complement when `negate`. Recursion is bounded
    /// by the expanded depth the catalog checked against its limits.
    fn lower(&mut self, node: &Node, negate: bool) -> Lowered {
        match &node.kind {
            NodeKind::Const(b) => Lowered::Const(*b ^ negate),
            // Named scopes are lowered positively once; a negated reference
            // complements the shared result instead of pushing `not` into
            // (and so duplicating) the scope.
            NodeKind::Ref(i) => self.named(*i).flip(negate),
            NodeKind::Not(inner) => self.lower(inner, !negate),
            NodeKind::And(terms) | NodeKind::Or(terms) => {
                let is_and = matches!(node.kind, NodeKind::And(_));
                let parts = terms.iter().map(|t| self.lower(t, negate)).collect();
                // De Morgan: not (a and b) = not a or not b.
                self.combine(is_and ^ negate, parts)
            }
            NodeKind::Has(path) => self.has(path).flip(negate),
            NodeKind::Compare {
                path,
                op: CmpOp::Ne,
                value,
            } => {
                let kind = TestKind::Compare {
                    op: CmpOp::Eq,
                    value: value.clone(),
                };
                self.fail_closed(path, true, kind, negate)
            }
            NodeKind::Compare { path, op, value } => {
                let kind = TestKind::Compare {
                    op: *op,
                    value: value.clone(),
                };
                self.test(path, kind).flip(negate)
            }
            NodeKind::In {
                path,
                negated,
                values,
            } => {
                let mut distinct: Vec<Literal> = Vec::with_capacity(values.len());
                for v in values {
                    if !distinct.contains(v) {
                        distinct.push(v.clone());
                    }
                }
                let kind = match <[Literal; 1]>::try_from(distinct) {
                    Ok([value]) => TestKind::Compare {
                        op: CmpOp::Eq,
                        value,
                    },
                    Err(many) => TestKind::In(many),
                };
                self.fail_closed(path, *negated, kind, negate)
            }
            NodeKind::Like {
                path,
                negated,
                glob,
            } => self.fail_closed(path, *negated, TestKind::Like(glob.clone()), negate),
            NodeKind::Matches {
                path,
                negated,
                regex,
            } => self.fail_closed(path, *negated, TestKind::Matches(regex.clone()), negate),
        }
    }

    /// `and` (or `or`) of `parts`: flattened, constants folded, duplicates
    /// dropped, terms in a canonical order so that equal sets of operands
    /// become the same instruction.
    fn combine(&mut self, is_and: bool, parts: Vec<Lowered>) -> Lowered {
        // The value that decides the whole: false for `and`, true for `or`.
        let absorbing = !is_and;
        let mut terms: Vec<Term> = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Lowered::Const(b) if b == absorbing => return Lowered::Const(absorbing),
                Lowered::Const(_) => {}
                Lowered::Term(t) => {
                    let same_kind = match self.program.instrs.get(t.reg.index()) {
                        Some(Instr::And(inner)) if is_and && !t.negated => Some(inner),
                        Some(Instr::Or(inner)) if !is_and && !t.negated => Some(inner),
                        _ => None,
                    };
                    match same_kind {
                        Some(inner) => terms.extend(inner.iter().copied()),
                        None => terms.push(t),
                    }
                }
            }
        }
        terms.sort_unstable();
        terms.dedup();
        // `x and not x` is empty; `x or not x` is everything.
        if terms
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.reg == b.reg))
        {
            return Lowered::Const(absorbing);
        }
        match terms.as_slice() {
            [] => Lowered::Const(!absorbing),
            [one] => Lowered::Term(*one),
            _ => {
                let instr = if is_and {
                    Instr::And(terms)
                } else {
                    Instr::Or(terms)
                };
                self.leaf(instr, false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(source: &str) -> Program {
        let catalog = Catalog::new([
            ("web", "role = web"),
            ("prodweb", "@web and tags.env = prod"),
        ])
        .expect("valid catalog");
        Program::for_scope(&catalog.compile(source).expect("valid scope"))
    }

    #[test]
    fn nested_conjunctions_are_flattened() {
        let p = program("role = web and (tags.env = prod and (has(tags.x) and tags.y = 1))");
        let ands = p
            .instrs
            .iter()
            .filter(|i| matches!(i, Instr::And(_)))
            .count();
        assert_eq!(ands, 1, "{:?}", p.instrs);
        assert!(matches!(p.instrs.last(), Some(Instr::And(t)) if t.len() == 4));
    }

    #[test]
    fn negations_sit_on_edges_only() {
        let p = program("not (role = web or tags.env != prod)");
        // not (a or (has and not b)) = not a and (not has or b)
        assert_eq!(
            p.instrs
                .iter()
                .filter(|i| matches!(i, Instr::Or(_)))
                .count(),
            1
        );
        assert_eq!(p.outputs.len(), 1);
        assert!(!p.outputs[0].negated);
    }

    #[test]
    fn shared_tests_and_named_scopes_are_computed_once() {
        let p = program("(@prodweb or @web) and (@web or role = db) and tags.env = prod");
        let role_web_tests = p
            .tests
            .iter()
            .filter(|t| matches!(&t.kind, TestKind::Compare { value: Literal::Str(s), .. } if s == "web"))
            .count();
        assert_eq!(role_web_tests, 1);
        assert_eq!(p.tests.len(), 3, "{:?}", p.tests);
    }

    #[test]
    fn constants_fold() {
        let p = program("role = web and not (false or false)");
        assert_eq!(p.instrs.len(), 1);
        let p = program("tags.x = 1 or not tags.x = 1 or false");
        assert!(
            matches!(p.instrs.as_slice(), [Instr::All]),
            "{:?}",
            p.instrs
        );
        assert!(!p.outputs[0].negated);
    }
}
