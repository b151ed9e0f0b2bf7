//! Checked scopes: named scopes in a [`Catalog`], and [`Scope`]s ready to
//! evaluate.
//!
//! A `Scope` is an expression whose `@name`s are resolved, whose regexes and
//! globs are compiled (once), and whose size and depth with every named scope
//! expanded are within the [`Limits`]. Every error a policy author can make in
//! an expression is found here or in [`crate::syntax`], never during
//! evaluation. This module does not evaluate anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use regex_syntax::hir::{Hir, Look};

mod error;

pub use error::{BindError, BindErrorKind, ScopeError, ScopeErrorKind};

use crate::diagnostic::{closest, Span};
use crate::syntax::{CmpOp, Expr, ExprKind, Limits, Literal, Path};
use crate::value::Glob;

/// A checked expression node. Mirrors the AST, with references resolved to
/// indices into the catalog and patterns compiled.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    /// Where the node stands in its expression's source.
    pub(crate) span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Const(bool),
    /// Index into the catalog's named scopes.
    Ref(usize),
    Has(Path),
    Compare {
        path: Path,
        op: CmpOp,
        value: Literal,
    },
    In {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
    },
    Like {
        path: Path,
        negated: bool,
        glob: Glob,
    },
    Matches {
        path: Path,
        negated: bool,
        regex: Regex,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// A named scope, checked.
#[derive(Debug)]
pub(crate) struct Named {
    pub(crate) name: String,
    pub(crate) source: Arc<str>,
    pub(crate) expr: Expr,
    pub(crate) root: Node,
}

/// An error in a catalog of named scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A named scope's expression is invalid (including unknown `@name`s and
    /// cycles, which are reported inside the scope that refers).
    #[error("scope `{name}`: {error}")]
    Scope {
        /// The scope's name.
        name: String,
        /// The scope's expression.
        expression: String,
        /// What is wrong in it.
        error: Box<ScopeError>,
    },
    /// A scope name that `@NAME` could not refer to.
    #[error("`{name}` is not a valid scope name: use letters, digits, `_` and `-`, starting with a letter or `_`")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// The same name defined twice.
    #[error("scope `{name}` is defined more than once")]
    Duplicate {
        /// The name.
        name: String,
    },
}

impl CatalogError {
    /// The error with its source line and a caret where there is a span.
    /// `origin` names the file or catalog the scopes came from.
    pub fn render(&self, origin: &str) -> String {
        match self {
            CatalogError::Scope {
                name,
                expression,
                error,
            } => error.render(expression, &format!("{origin}: scope `{name}`")),
            other => format!("error: {origin}: {other}\n"),
        }
    }
}

/// A set of named scopes that `@NAME` can refer to. Always valid: every
/// reference resolves, there are no cycles, and every scope expanded stays
/// within the limits. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    inner: Arc<CatalogInner>,
}

#[derive(Debug, Default)]
pub(crate) struct CatalogInner {
    pub(crate) limits: Limits,
    /// Sorted by name; `NodeKind::Ref` indexes this.
    pub(crate) named: Vec<Named>,
    /// Expanded size and depth of each named scope, for the limit checks.
    cost: Vec<Cost>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    depth: usize,
}

/// Whether `name` can follow `@` in an expression.
pub fn is_valid_scope_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Catalog {
    /// A catalog from `(name, expression)` pairs, with default [`Limits`].
    ///
    /// ```
    /// use fleetscope::Catalog;
    /// let catalog = Catalog::new([("web", "role = web"), ("prod-web", "@web and tags.env = prod")])?;
    /// assert_eq!(catalog.names().collect::<Vec<_>>(), ["prod-web", "web"]);
    /// # Ok::<(), fleetscope::CatalogError>(())
    /// ```
    pub fn new<N, S>(scopes: impl IntoIterator<Item = (N, S)>) -> Result<Catalog, CatalogError>
    where
        N: Into<String>,
        S: Into<String>,
    {
        Catalog::with_limits(scopes, Limits::default())
    }

    /// A catalog with explicit limits, which also apply to every expression
    /// compiled against it.
    // CatalogError carries the failing scope's text and its ScopeError; it
    // is built once per failed load, so its size costs nothing that boxing
    // would save, and boxing would change the public signature.
    #[expect(
        clippy::indexing_slicing,
        reason = "indices into parsed, cost and roots come from the topological order and the cycle, both over 0..parsed.len()"
    )]
    pub fn with_limits<N, S>(
        scopes: impl IntoIterator<Item = (N, S)>,
        limits: Limits,
    ) -> Result<Catalog, CatalogError>
    where
        N: Into<String>,
        S: Into<String>,
    {
        let mut sources: BTreeMap<String, Arc<str>> = BTreeMap::new();
        for (name, source) in scopes {
            let name = name.into();
            if !is_valid_scope_name(&name) {
                return Err(CatalogError::InvalidName { name });
            }
            if sources.contains_key(&name) {
                return Err(CatalogError::Duplicate { name });
            }
            sources.insert(name, Arc::from(source.into()));
        }
        let names: Vec<String> = sources.keys().cloned().collect();
        let scope_err = scope_error;

        // Parse everything first so that references can be checked as a whole.
        let mut parsed: Vec<Parsed> = Vec::with_capacity(sources.len());
        for (name, source) in &sources {
            let expr = crate::syntax::parse_with(source, &limits)
                .map_err(|e| scope_err(name, source, e.into()))?;
            parsed.push((name.clone(), source.clone(), expr));
        }
        let edges = resolve_references(&parsed, &names)?;
        let order = topological_order(&edges)
            .map_err(|(cycle, span)| cycle_error(&parsed, &cycle, span))?;

        // Check in dependency order so that each scope's expanded cost is
        // known before a scope that refers to it.
        let mut inner = CatalogInner {
            limits,
            named: Vec::with_capacity(parsed.len()),
            cost: vec![Cost::default(); parsed.len()],
        };
        let mut roots: Vec<Option<Node>> = (0..parsed.len()).map(|_| None).collect();
        for i in order {
            let (name, source, expr) = &parsed[i];
            let root = bind(expr, &names, source, &limits)
                .map_err(|e| scope_err(name, source, e.into()))?;
            let cost = inner
                .check_cost(&root, source)
                .map_err(|e| scope_err(name, source, e.into()))?;
            inner.cost[i] = cost;
            roots[i] = Some(root);
        }
        for ((name, source, expr), root) in parsed.into_iter().zip(roots) {
            let Some(root) = root else {
                continue;
            };
            inner.named.push(Named {
                name,
                source,
                expr,
                root,
            });
        }
        Ok(Catalog {
            inner: Arc::new(inner),
        })
    }

    /// Parses and checks an expression against this catalog.
    ///
    /// ```
    /// use fleetscope::Catalog;
    /// let catalog = Catalog::new([("web", "role = web")])?;
    /// let err = catalog.compile("@wbe and tags.env = prod").unwrap_err();
    /// assert_eq!(err.help(), Some("did you mean `@web`?"));
    /// # Ok::<(), fleetscope::CatalogError>(())
    /// ```
    pub fn compile(&self, source: &str) -> Result<Scope, ScopeError> {
        let limits = &self.inner.limits;
        let expr = crate::syntax::parse_with(source, limits)?;
        let names: Vec<String> = self.names().map(str::to_string).collect();
        let mut refs = Vec::new();
        collect_refs(&expr, &mut refs);
        if let Some((target, span)) = refs.iter().find(|(t, _)| names.binary_search(t).is_err()) {
            return Err(unknown_scope(&names, target, *span, source).into());
        }
        let root = bind(&expr, &names, source, limits)?;
        self.inner.check_cost(&root, source)?;
        Ok(Scope {
            source: Arc::from(source),
            expr,
            root,
            catalog: self.clone(),
            name: None,
        })
    }

    /// The named scope `name` as a [`Scope`].
    pub fn get(&self, name: &str) -> Option<Scope> {
        let i = self.index_of(name)?;
        let named = self.inner.named.get(i)?;
        Some(Scope {
            source: named.source.clone(),
            expr: named.expr.clone(),
            root: named.root.clone(),
            catalog: self.clone(),
            name: Some(named.name.clone()),
        })
    }

    /// The names of the scopes, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.inner.named.iter().map(|n| n.name.as_str())
    }

    /// How many named scopes there are.
    pub fn len(&self) -> usize {
        self.inner.named.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.named.is_empty()
    }

    /// The limits expressions are checked against.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.inner
            .named
            .binary_search_by(|n| n.name.as_str().cmp(name))
            .ok()
    }

    pub(crate) fn named(&self, index: usize) -> Option<&Named> {
        self.inner.named.get(index)
    }
}

impl CatalogInner {
    /// Size and depth of `root` with references expanded, checked against
    /// the limits.
    fn check_cost(&self, root: &Node, source: &str) -> Result<Cost, BindError> {
        let cost = self.cost_of(root);
        if cost.depth > self.limits.max_depth {
            return Err(BindError::new(
                BindErrorKind::TooDeep {
                    limit: self.limits.max_depth,
                },
                root.span,
                source,
            )
            .with_help(crate::syntax::TOO_DEEP_HELP));
        }
        if cost.nodes > self.limits.max_expanded_nodes {
            return Err(BindError::new(
                BindErrorKind::TooLarge {
                    what: format!("{} nodes", cost.nodes),
                    limit: self.limits.max_expanded_nodes,
                },
                root.span,
                source,
            )
            .with_help(
                "named scopes that refer to each other many times multiply; refer to each one once",
            ));
        }
        Ok(cost)
    }

    /// Depth counts what the expression would need if every `@name` were
    /// written out in parentheses: parentheses and `not`s, as the parser does.
    fn cost_of(&self, node: &Node) -> Cost {
        let group = |child: &Node, needs_parens: bool| {
            let c = self.cost_of(child);
            Cost {
                nodes: c.nodes,
                depth: c.depth + usize::from(needs_parens),
            }
        };
        let is_chain = |n: &Node| matches!(n.kind, NodeKind::And(_) | NodeKind::Or(_));
        let combine = |children: Vec<Cost>| Cost {
            nodes: children
                .iter()
                .fold(1usize, |acc, c| acc.saturating_add(c.nodes)),
            depth: children.iter().map(|c| c.depth).max().unwrap_or(0),
        };
        match &node.kind {
            NodeKind::Ref(i) => {
                let c = self.cost.get(*i).copied().unwrap_or_default();
                Cost {
                    nodes: c.nodes,
                    depth: c.depth + 1,
                }
            }
            NodeKind::Not(inner) => {
                let c = group(inner, is_chain(inner));
                Cost {
                    nodes: c.nodes.saturating_add(1),
                    depth: c.depth + 1,
                }
            }
            NodeKind::And(terms) => combine(terms.iter().map(|t| group(t, is_chain(t))).collect()),
            NodeKind::Or(terms) => combine(
                terms
                    .iter()
                    .map(|t| group(t, matches!(t.kind, NodeKind::Or(_))))
                    .collect(),
            ),
            _ => Cost { nodes: 1, depth: 0 },
        }
    }
}

/// A parsed named scope: its name, its text and its tree.
type Parsed = (String, Arc<str>, Expr);

fn scope_error(name: &str, source: &str, error: ScopeError) -> CatalogError {
    CatalogError::Scope {
        name: name.to_string(),
        expression: source.to_string(),
        error: Box::new(error),
    }
}

/// Each scope's references as (index into `names`, span), refusing an
/// unknown name.
fn resolve_references(
    parsed: &[Parsed],
    names: &[String],
) -> Result<Vec<Vec<(usize, Span)>>, CatalogError> {
    let mut edges = Vec::with_capacity(parsed.len());
    for (name, source, expr) in parsed {
        let mut refs = Vec::new();
        collect_refs(expr, &mut refs);
        let mut resolved = Vec::new();
        for (target, span) in refs {
            match names.binary_search(&target) {
                Ok(i) => resolved.push((i, span)),
                Err(_) => {
                    return Err(scope_error(
                        name,
                        source,
                        unknown_scope(names, &target, span, source).into(),
                    ))
                }
            }
        }
        edges.push(resolved);
    }
    Ok(edges)
}

/// The error for scopes that refer to each other in a circle, placed at
/// the closing reference, which stands in the last scope of the cycle.
fn cycle_error(parsed: &[Parsed], cycle: &[usize], span: Span) -> CatalogError {
    let name_of = |i: &usize| parsed.get(*i).map_or("", |p| p.0.as_str());
    let mut names_on_cycle: Vec<String> = cycle.iter().map(|i| name_of(i).to_string()).collect();
    // A cycle holds at least one scope.
    names_on_cycle.push(cycle.first().map_or("", name_of).to_string());
    let (name, source) = cycle
        .last()
        .and_then(|i| parsed.get(*i))
        .map_or(("", ""), |p| (p.0.as_str(), &*p.1));
    let error = BindError::new(
        BindErrorKind::ScopeCycle {
            cycle: names_on_cycle,
        },
        span,
        source,
    )
    .with_help(
        "a scope cannot include itself, directly or through others; remove one of these references",
    );
    scope_error(name, source, error.into())
}

fn unknown_scope(names: &[String], target: &str, span: Span, source: &str) -> BindError {
    let err = BindError::new(
        BindErrorKind::UnknownScope {
            name: target.to_string(),
            known: names.to_vec(),
        },
        span,
        source,
    );
    match closest(target, names.iter().map(String::as_str)) {
        Some(guess) => err.with_help(format!("did you mean `@{guess}`?")),
        None if names.is_empty() => {
            err.with_help("define named scopes in the policy's [scopes] table")
        }
        None => err,
    }
}

fn collect_refs(expr: &Expr, out: &mut Vec<(String, Span)>) {
    match &expr.node {
        ExprKind::ScopeRef(name) => out.push((name.clone(), expr.span)),
        ExprKind::Not(inner) => collect_refs(inner, out),
        ExprKind::And(terms) | ExprKind::Or(terms) => {
            terms.iter().for_each(|t| collect_refs(t, out))
        }
        _ => {}
    }
}

/// Dependencies-first order of the scopes, or the first cycle found (in
/// name order) with the span of the reference that closes it.
#[expect(
    clippy::indexing_slicing,
    reason = "mark has an entry per scope, and edges only point at scopes (their indices came from a binary search of the names)"
)]
fn topological_order(edges: &[Vec<(usize, Span)>]) -> Result<Vec<usize>, (Vec<usize>, Span)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut order = Vec::with_capacity(edges.len());
    for start in 0..edges.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Explicit stack of (node, next edge to look at): no recursion over
        // user-sized input.
        let mut stack = vec![(start, 0usize)];
        mark[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(target, span)) = edges[node].get(*next) {
                *next += 1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::Active;
                        stack.push((target, 0));
                    }
                    Mark::Active => {
                        let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let cycle: Vec<usize> = stack[from..].iter().map(|(n, _)| *n).collect();
                        return Err((cycle, span));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// AST → checked node: resolve references, compile patterns.
fn bind(expr: &Expr, names: &[String], source: &str, limits: &Limits) -> Result<Node, BindError> {
    let kind = match &expr.node {
        ExprKind::Const(b) => NodeKind::Const(*b),
        ExprKind::ScopeRef(name) => match names.binary_search(name) {
            Ok(i) => NodeKind::Ref(i),
            Err(_) => return Err(unknown_scope(names, name, expr.span, source)),
        },
        ExprKind::Has(path) => NodeKind::Has(path.node.clone()),
        ExprKind::Compare { path, op, value } => NodeKind::Compare {
            path: path.node.clone(),
            op: *op,
            value: value.node.clone(),
        },
        ExprKind::In {
            path,
            negated,
            values,
        } => NodeKind::In {
            path: path.node.clone(),
            negated: *negated,
            values: values.iter().map(|v| v.node.clone()).collect(),
        },
        ExprKind::Like {
            path,
            negated,
            pattern,
        } => NodeKind::Like {
            path: path.node.clone(),
            negated: *negated,
            glob: Glob::new(&pattern.node).map_err(|reason| {
                BindError::new(BindErrorKind::InvalidGlob { reason }, pattern.span, source)
            })?,
        },
        ExprKind::Matches {
            path,
            negated,
            pattern,
        } => NodeKind::Matches {
            path: path.node.clone(),
            negated: *negated,
            regex: compile_regex(&pattern.node, limits)
                .map_err(|e| e.into_bind_error(pattern.span, source))?,
        },
        ExprKind::Not(inner) => NodeKind::Not(Box::new(bind(inner, names, source, limits)?)),
        ExprKind::And(terms) => NodeKind::And(
            terms
                .iter()
                .map(|t| bind(t, names, source, limits))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Or(terms) => NodeKind::Or(
            terms
                .iter()
                .map(|t| bind(t, names, source, limits))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Node {
        kind,
        span: expr.span,
    })
}

/// Compiled regexes may use at most this much memory; a pattern like
/// `(a{1000}){1000}` is rejected rather than compiled.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

struct RegexError(String);

impl RegexError {
    fn into_bind_error(self, span: Span, source: &str) -> BindError {
        BindError::new(BindErrorKind::InvalidRegex { reason: self.0 }, span, source).with_help(
            "the pattern uses the `regex` crate's syntax and must match a value's whole text; write `.*west.*` to find a part",
        )
    }
}

/// Compiles `pattern` to match whole texts, with a size limit.
fn compile_regex(pattern: &str, limits: &Limits) -> Result<Regex, RegexError> {
    let build = |p: &str| {
        regex::RegexBuilder::new(p)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(u32::try_from(limits.max_depth).unwrap_or(u32::MAX))
            .build()
    };
    // Compile the pattern as written first, so that the engine's message
    // points into the author's text rather than our anchored wrapper.
    build(pattern).map_err(|e| RegexError(regex_message(&e)))?;
    // Anchor the parsed pattern, not its text: pasting `^(?:` and `)$`
    // around the text breaks patterns whose `(?x)` comments run to the end.
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(u32::try_from(limits.max_depth).unwrap_or(u32::MAX))
        .build()
        .parse(pattern)
        .map_err(|e| RegexError(e.to_string()))?;
    let anchored = Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)]);
    build(&anchored.to_string()).map_err(|e| RegexError(regex_message(&e)))
}

fn regex_message(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => format!(
            "the compiled regex would exceed {limit} bytes; simplify the pattern (large counted repetitions multiply)"
        ),
        other => {
            // The syntax error's last line says what is wrong; the lines
            // above repeat the pattern with a caret.
            let text = other.to_string();
            text.lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map_or(text.clone(), |l| l.trim_start_matches("error: ").to_string())
        }
    }
}

/// A checked scope expression, ready to evaluate against hosts.
///
/// Build one with [`Catalog::compile`] (or [`Scope::parse`] when no named
/// scopes are needed). Evaluate it with [`reference::matches`](crate::reference::matches)
/// for one host, or with [`IndexedFleet::select`](crate::IndexedFleet::select)
/// for many.
#[derive(Debug, Clone)]
pub struct Scope {
    source: Arc<str>,
    expr: Expr,
    pub(crate) root: Node,
    pub(crate) catalog: Catalog,
    name: Option<String>,
}

impl Scope {
    /// Parses and checks an expression with no named scopes available.
    pub fn parse(source: &str) -> Result<Scope, ScopeError> {
        Catalog::default().compile(source)
    }

    /// The expression's source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression's syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The catalog that `@name`s in this scope resolve against.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The named scopes this expression refers to directly (`@name`), in
    /// source order, each once.
    pub fn references(&self) -> Vec<String> {
        let mut refs = Vec::new();
        collect_refs(&self.expr, &mut refs);
        let mut seen = std::collections::BTreeSet::new();
        refs.into_iter()
            .map(|(name, _)| name)
            .filter(|name| seen.insert(name.clone()))
            .collect()
    }

    /// The scope's name, when it came from [`Catalog::get`].
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog_err(scopes: &[(&str, &str)]) -> CatalogError {
        match Catalog::new(scopes.iter().copied()) {
            Ok(_) => panic!("catalog {scopes:?} should be rejected"),
            Err(e) => e,
        }
    }

    #[test]
    fn unknown_scope_lists_known_names_and_suggests() {
        let catalog = Catalog::new([("canary", "tags.ring = 0"), ("web", "role = web")])
            .expect("valid catalog");
        let err = match catalog.compile("role = db or @canry") {
            Ok(_) => panic!("unknown scope accepted"),
            Err(e) => e,
        };
        assert_eq!(err.span(), Span::new(13, 19));
        assert_eq!(
            err.kind().to_string(),
            "unknown scope `@canry`; known scopes: @canary, @web"
        );
        assert_eq!(err.help(), Some("did you mean `@canary`?"));
    }

    #[test]
    fn cycles_name_every_scope_on_them() {
        let err = catalog_err(&[
            ("a", "@b"),
            ("b", "role = x or @c"),
            ("c", "@a"),
            ("d", "@a"),
        ]);
        match &err {
            CatalogError::Scope { name, error, .. } => {
                assert_eq!(name, "c");
                assert_eq!(
                    error.kind().to_string(),
                    "named scopes form a cycle: @a -> @b -> @c -> @a"
                );
                assert_eq!(error.span(), Span::new(0, 2));
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = catalog_err(&[("self", "role = web and @self")]);
        assert!(err.to_string().contains("@self -> @self"), "{err}");
    }

    #[test]
    fn expansion_is_limited_in_size_and_depth() {
        // Each level doubles the expanded size: 2^20 nodes.
        let mut scopes = vec![("s0".to_string(), "role = web".to_string())];
        for i in 1..=20 {
            scopes.push((format!("s{i}"), format!("@s{} or not @s{}", i - 1, i - 1)));
        }
        let err = match Catalog::new(scopes) {
            Ok(_) => panic!("exponential catalog accepted"),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains("nodes; the limit is 100000"),
            "{err}"
        );

        let mut chain = vec![("c0".to_string(), "role = web".to_string())];
        for i in 1..=200 {
            chain.push((format!("c{i}"), format!("not @c{}", i - 1)));
        }
        let err = match Catalog::new(chain) {
            Ok(_) => panic!("deep chain accepted"),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains("deeper than the limit of 128"),
            "{err}"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(matches!(
            catalog_err(&[("bad name", "true")]),
            CatalogError::InvalidName { .. }
        ));
        assert!(matches!(
            catalog_err(&[("x", "true"), ("x", "false")]),
            CatalogError::Duplicate { .. }
        ));
    }

    #[test]
    fn invalid_regex_and_glob_are_errors_with_the_pattern_span() {
        let err = Scope::parse("name matches \"cache-[0-9\"")
            .map(|_| ())
            .expect_err("bad regex");
        assert!(
            matches!(
                err.kind(),
                ScopeErrorKind::Bind(BindErrorKind::InvalidRegex { .. })
            ),
            "{err:?}"
        );
        assert_eq!(err.span(), Span::new(13, 25));
        let err = Scope::parse("name matches \"(a{1000}){1000}\"")
            .map(|_| ())
            .expect_err("huge regex");
        assert!(err.to_string().contains("exceed"), "{err}");
        let err = Scope::parse("name like \"db\\\\\"")
            .map(|_| ())
            .expect_err("bad glob");
        assert!(
            matches!(
                err.kind(),
                ScopeErrorKind::Bind(BindErrorKind::InvalidGlob { .. })
            ),
            "{err:?}"
        );
        assert_eq!(err.span(), Span::new(10, 16));
    }

    #[test]
    fn regexes_match_whole_texts_whatever_their_flags() {
        let host = |name: &str| crate::Host::named(name);
        let now = chrono::DateTime::<chrono::Utc>::MIN_UTC;
        // A `#` comment in verbose mode runs to the end of the pattern.
        let scope =
            Scope::parse("name matches \"(?x)web # a comment\"").expect("valid verbose regex");
        assert!(crate::reference::matches(&scope, &host("web"), now));
        assert!(!crate::reference::matches(&scope, &host("webs"), now));
        // Alternation is anchored as a whole, not per branch.
        let scope = Scope::parse("name matches \"a|ab\"").expect("valid");
        assert!(crate::reference::matches(&scope, &host("ab"), now));
        assert!(!crate::reference::matches(&scope, &host("abc"), now));
        let scope = Scope::parse("name matches \"(?i)WEB-[0-9]+\"").expect("valid");
        assert!(crate::reference::matches(&scope, &host("web-01"), now));
    }

    #[test]
    fn render_names_the_scope() {
        let err = catalog_err(&[("web", "role == web")]);
        let text = err.render("policy.toml");
        assert!(text.contains("--> policy.toml: scope `web`:1:6"), "{text}");
        assert!(
            text.contains("help: `==` is not an operator here; write `=`"),
            "{text}"
        );
    }
}
