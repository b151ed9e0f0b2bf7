//! pest parse tree → owned AST, and pest errors → [`ParseError`]s with help.
//!
//! Recursion here follows parenthesis nesting only, which the pre-scan has
//! already bounded; chains of `not` are counted in a loop.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::{CmpOp, Expr, ExprKind, Instant, InstantBase, Literal, Number, Path, Spanned};
use super::error::{ParseError, ParseErrorKind};
use super::too_deep;
use super::KEYWORDS;
use crate::diagnostic::{closest, Span};
use crate::versions::VersionScheme;

mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/scope.pest"]
    pub(super) struct ScopeParser;
}
use grammar::{Rule, ScopeParser};

pub(super) fn parse(source: &str, max_depth: usize) -> Result<Expr, ParseError> {
    let mut pairs =
        ScopeParser::parse(Rule::scope, source).map_err(|e| syntax_error(source, &e))?;
    let expr = pairs
        .next()
        .and_then(|scope| scope.into_inner().find(|p| p.as_rule() == Rule::expr));
    let Some(expr) = expr else {
        return Err(internal(source, "the parser returned no expression"));
    };
    Builder { source, max_depth }.expr(expr, 0)
}

/// Grammar and builder disagreeing is a bug in this crate, but it still must
/// not panic in an embedder's process.
fn internal(source: &str, what: &str) -> ParseError {
    ParseError::new(
        ParseErrorKind::Syntax {
            expected: "a well-formed expression".into(),
            found: format!("an internal parser error ({what})"),
        },
        Span::new(0, source.len()),
        source,
    )
    .with_help("please report this expression to the fleetscope developers")
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

struct Builder<'s> {
    source: &'s str,
    max_depth: usize,
}

impl<'s> Builder<'s> {
    fn err(&self, kind: ParseErrorKind, span: Span) -> ParseError {
        ParseError::new(kind, span, self.source)
    }

    fn expr(&self, pair: Pair<'s, Rule>, depth: usize) -> Result<Expr, ParseError> {
        let span = span_of(&pair);
        let mut terms = Vec::new();
        for conj in pair.into_inner().filter(|p| p.as_rule() == Rule::conj) {
            terms.push(self.conj(conj, depth)?);
        }
        self.combine(terms, span, ExprKind::Or)
    }

    fn conj(&self, pair: Pair<'s, Rule>, depth: usize) -> Result<Expr, ParseError> {
        let span = span_of(&pair);
        let mut terms = Vec::new();
        for unary in pair.into_inner().filter(|p| p.as_rule() == Rule::unary) {
            terms.push(self.unary(unary, depth)?);
        }
        self.combine(terms, span, ExprKind::And)
    }

    fn combine(
        &self,
        mut terms: Vec<Expr>,
        span: Span,
        make: fn(Vec<Expr>) -> ExprKind,
    ) -> Result<Expr, ParseError> {
        match terms.len() {
            0 => Err(internal(self.source, "an empty and/or")),
            1 => Ok(terms.remove(0)),
            _ => Ok(Spanned::new(make(terms), span)),
        }
    }

    fn unary(&self, pair: Pair<'s, Rule>, depth: usize) -> Result<Expr, ParseError> {
        let mut nots = Vec::new();
        let mut primary = None;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::kw_not {
                nots.push(span_of(&p));
                if depth + nots.len() > self.max_depth {
                    return Err(too_deep(self.source, span_of(&p), self.max_depth));
                }
            } else {
                primary = Some(p);
            }
        }
        let Some(primary) = primary else {
            return Err(internal(self.source, "`not` without an operand"));
        };
        let mut expr = self.primary(primary, depth + nots.len())?;
        for not in nots.into_iter().rev() {
            let span = not.to(expr.span);
            expr = Spanned::new(ExprKind::Not(Box::new(expr)), span);
        }
        Ok(expr)
    }

    fn primary(&self, pair: Pair<'s, Rule>, depth: usize) -> Result<Expr, ParseError> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::group => {
                if depth + 1 > self.max_depth {
                    return Err(too_deep(self.source, span, self.max_depth));
                }
                let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
                let Some(inner) = inner else {
                    return Err(internal(self.source, "an empty group"));
                };
                return self.expr(inner, depth + 1);
            }
            Rule::has_call => ExprKind::Has(self.path(self.child(pair, Rule::path)?)?),
            Rule::scope_ref => {
                ExprKind::ScopeRef(self.child(pair, Rule::scope_name)?.as_str().to_string())
            }
            Rule::constant => {
                let word = pair.as_str().to_ascii_lowercase();
                ExprKind::Const(word != "false")
            }
            Rule::predicate => self.predicate(pair)?,
            _ => return Err(internal(self.source, "an unknown primary")),
        };
        Ok(Spanned::new(kind, span))
    }

    fn child(&self, pair: Pair<'s, Rule>, rule: Rule) -> Result<Pair<'s, Rule>, ParseError> {
        pair.into_inner()
            .find(|p| p.as_rule() == rule)
            .ok_or_else(|| internal(self.source, "a missing part"))
    }

    fn predicate(&self, pair: Pair<'s, Rule>) -> Result<ExprKind, ParseError> {
        let mut inner = pair.into_inner();
        let (Some(path), Some(tail)) = (inner.next(), inner.next()) else {
            return Err(internal(self.source, "a predicate without operator"));
        };
        let path = self.path(path)?;
        let rule = tail.as_rule();
        let negated = tail
            .clone()
            .into_inner()
            .any(|p| p.as_rule() == Rule::negation);
        Ok(match rule {
            Rule::cmp_tail => {
                let mut parts = tail.into_inner();
                let (Some(op), Some(value)) = (parts.next(), parts.next()) else {
                    return Err(internal(self.source, "a comparison without value"));
                };
                let op = match op.as_str() {
                    "=" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    other => {
                        return Err(internal(
                            self.source,
                            &format!("the grammar accepted `{other}` as an operator"),
                        ))
                    }
                };
                let value = self.literal(value)?;
                if op.is_ordering() && matches!(value.node, Literal::Bool(_)) {
                    return Err(self
                        .err(
                            ParseErrorKind::BoolOrdering {
                                op: op.as_str().to_string(),
                            },
                            value.span,
                        )
                        .with_help(
                            "compare booleans with `=`, `!=` or `in`; to order text, quote it: \"true\"",
                        ));
                }
                ExprKind::Compare { path, op, value }
            }
            Rule::in_tail => {
                let values = tail
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::literal)
                    .map(|p| self.literal(p))
                    .collect::<Result<Vec<_>, _>>()?;
                ExprKind::In {
                    path,
                    negated,
                    values,
                }
            }
            Rule::like_tail | Rule::matches_tail => {
                let pattern = self.string(self.child(tail, Rule::string)?, rule)?;
                if rule == Rule::like_tail {
                    ExprKind::Like {
                        path,
                        negated,
                        pattern,
                    }
                } else {
                    ExprKind::Matches {
                        path,
                        negated,
                        pattern,
                    }
                }
            }
            _ => return Err(internal(self.source, "an unknown operator")),
        })
    }

    fn path(&self, pair: Pair<'s, Rule>) -> Result<Spanned<Path>, ParseError> {
        let span = span_of(&pair);
        let Some(root) = pair.into_inner().next() else {
            return Err(internal(self.source, "an empty path"));
        };
        let path = match root.as_rule() {
            Rule::path_name => Path::Name,
            Rule::path_role => Path::Role,
            Rule::path_tag => {
                let key = self.child(root, Rule::key)?;
                Path::Tag(self.key(key)?)
            }
            _ => {
                let keys = root
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::key)
                    .map(|k| self.key(k))
                    .collect::<Result<Vec<_>, _>>()?;
                Path::Fact(keys)
            }
        };
        Ok(Spanned::new(path, span))
    }

    fn key(&self, pair: Pair<'s, Rule>) -> Result<String, ParseError> {
        let Some(inner) = pair.into_inner().next() else {
            return Err(internal(self.source, "an empty key"));
        };
        if inner.as_rule() == Rule::string {
            Ok(self.string(inner, Rule::key)?.node)
        } else {
            Ok(inner.as_str().to_string())
        }
    }

    /// A quoted string with its escapes applied. `context` is the rule the
    /// string belongs to, so that a bad escape in a regex can say so.
    fn string(&self, pair: Pair<'s, Rule>, context: Rule) -> Result<Spanned<String>, ParseError> {
        let span = span_of(&pair);
        let Some(text) = pair.into_inner().next() else {
            return Ok(Spanned::new(String::new(), span));
        };
        let offset = text.as_span().start();
        let raw = text.as_str();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, e)) = chars.next() else {
                return Err(internal(self.source, "a string ending in a backslash"));
            };
            let escape_end = j + e.len_utf8();
            let decoded = match e {
                '"' => Some('"'),
                '\'' => Some('\''),
                '\\' => Some('\\'),
                'n' => Some('\n'),
                't' => Some('\t'),
                'r' => Some('\r'),
                'u' => {
                    let rest = &raw[escape_end..];
                    let close = rest.find('}');
                    match (rest.starts_with('{'), close) {
                        (true, Some(close)) => {
                            let hex = &rest[1..close];
                            let code = if (1..=6).contains(&hex.len()) {
                                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                            } else {
                                None
                            };
                            if code.is_some() {
                                // Skip the `{...}` that was just read.
                                for _ in 0..=close {
                                    chars.next();
                                }
                            }
                            code
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            match decoded {
                Some(d) => out.push(d),
                None => {
                    let end = if e == 'u' {
                        raw[escape_end..]
                            .find('}')
                            .map_or(escape_end, |c| escape_end + c + 1)
                    } else {
                        escape_end
                    };
                    let escape = raw[i..end].to_string();
                    let help = if e == 'u' {
                        "write a Unicode escape as \\u{1F600}: one to six hex digits in braces"
                            .to_string()
                    } else if context == Rule::matches_tail {
                        format!(
                            "strings take the escapes \\\" \\' \\\\ \\n \\t \\r \\u{{..}}; to pass `{escape}` to the regex, write `\\{escape}`"
                        )
                    } else {
                        "strings take the escapes \\\" \\' \\\\ \\n \\t \\r \\u{..}; write \\\\ for a backslash".to_string()
                    };
                    return Err(self
                        .err(
                            ParseErrorKind::BadEscape { escape },
                            Span::new(offset + i, offset + end),
                        )
                        .with_help(help));
                }
            }
        }
        Ok(Spanned::new(out, span))
    }

    fn literal(&self, pair: Pair<'s, Rule>) -> Result<Spanned<Literal>, ParseError> {
        let span = span_of(&pair);
        let Some(inner) = pair.into_inner().next() else {
            return Err(internal(self.source, "an empty literal"));
        };
        let text = inner.as_str();
        let literal = match inner.as_rule() {
            Rule::string => Literal::Str(self.string(inner, Rule::literal)?.node),
            Rule::bare_word => Literal::Str(text.to_string()),
            Rule::boolean => Literal::Bool(text.eq_ignore_ascii_case("true")),
            Rule::version_lit => Literal::Version(
                self.string(self.child(inner, Rule::string)?, Rule::literal)?
                    .node,
            ),
            Rule::package_lit => self.package(inner)?,
            Rule::number => Literal::Number(self.number(text, span)?),
            Rule::instant => Literal::Instant(self.instant(inner)?),
            _ => return Err(internal(self.source, "an unknown literal")),
        };
        Ok(Spanned::new(literal, span))
    }

    /// `dpkg("...")`, `rpm("...")` or `semver("...")`, checked against the
    /// scheme so that an invalid version is an error before evaluation.
    fn package(&self, pair: Pair<'s, Rule>) -> Result<Literal, ParseError> {
        let name = self.child(pair.clone(), Rule::version_scheme)?;
        let Some(scheme) = VersionScheme::from_name(name.as_str()) else {
            return Err(internal(self.source, "an unknown version scheme"));
        };
        let string = self.string(self.child(pair, Rule::string)?, Rule::literal)?;
        if let Err(e) = scheme.parse(&string.node) {
            return Err(self
                .err(
                    ParseErrorKind::InvalidVersion {
                        scheme: scheme.title(),
                        text: string.node.clone(),
                        reason: e.reason().to_string(),
                    },
                    string.span,
                )
                .with_help(scheme.accepts()));
        }
        Ok(Literal::Package {
            scheme,
            text: string.node,
        })
    }

    fn number(&self, text: &str, span: Span) -> Result<Number, ParseError> {
        let out_of_range = || {
            self.err(
                ParseErrorKind::OutOfRange {
                    what: "number",
                    text: text.to_string(),
                },
                span,
            )
        };
        if text.contains('.') {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Number::Float(f)),
                _ => Err(out_of_range()),
            }
        } else {
            text.parse::<i128>()
                .map(Number::Int)
                .map_err(|_| out_of_range())
        }
    }

    fn instant(&self, pair: Pair<'s, Rule>) -> Result<Instant, ParseError> {
        let mut base = InstantBase::Now;
        let mut offset_seconds: i64 = 0;
        for part in pair.into_inner() {
            let span = span_of(&part);
            match part.as_rule() {
                Rule::now_call => base = InstantBase::Now,
                Rule::datetime => base = InstantBase::At(self.datetime(part.as_str(), span)?),
                Rule::offset => {
                    let text = part.as_str();
                    let negative = part
                        .clone()
                        .into_inner()
                        .next()
                        .is_some_and(|s| s.as_str() == "-");
                    let Some(duration) = part.into_inner().find(|p| p.as_rule() == Rule::duration)
                    else {
                        return Err(internal(self.source, "an offset without duration"));
                    };
                    let seconds = duration_seconds(duration.as_str())
                        .map(|s| if negative { -s } else { s })
                        .and_then(|s| offset_seconds.checked_add(s));
                    match seconds {
                        Some(s) => offset_seconds = s,
                        None => {
                            return Err(self.err(
                                ParseErrorKind::OutOfRange {
                                    what: "duration",
                                    text: text.to_string(),
                                },
                                span,
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Instant {
            base,
            offset_seconds,
        })
    }

    fn datetime(&self, text: &str, span: Span) -> Result<DateTime<FixedOffset>, ParseError> {
        let parsed = if text.len() == 10 {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|dt| FixedOffset::east_opt(0)?.from_local_datetime(&dt).single())
        } else {
            DateTime::parse_from_rfc3339(text).ok()
        };
        parsed.ok_or_else(|| {
            self.err(
                ParseErrorKind::BadInstant {
                    text: text.to_string(),
                },
                span,
            )
            .with_help("write a real date as YYYY-MM-DD, or a timestamp as 2026-11-01T02:00:00Z")
        })
    }
}

/// Seconds in a duration such as `30d`; `None` when it overflows.
pub(crate) fn duration_seconds(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let amount: i64 = text.get(..text.len() - 1)?.parse().ok()?;
    let (_, scale) = super::DURATION_UNITS.iter().find(|(u, _)| *u == unit)?;
    amount.checked_mul(*scale)
}

/// What the grammar wanted, grouped into words a policy author knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Want {
    Expression,
    Operator,
    AndOr,
    Comma,
    Close,
    Open,
    Value,
    QuotedString,
    Key,
    Offset,
    ScopeName,
    End,
}

impl Want {
    fn of(rule: Rule) -> Option<Want> {
        use Rule::*;
        Some(match rule {
            expr | conj | unary | group | has_call | scope_ref | constant | predicate | path
            | path_name | path_role | path_tag | path_fact | kw_not | kw_has | kw_true
            | kw_false | kw_all => Want::Expression,
            cmp_tail | cmp_op | in_tail | like_tail | matches_tail | negation | kw_in | kw_like
            | kw_matches => Want::Operator,
            kw_and | kw_or => Want::AndOr,
            comma => Want::Comma,
            close => Want::Close,
            open => Want::Open,
            literal | number | boolean | bare_word | instant | version_lit | now_call
            | datetime | kw_now | kw_version | package_lit | version_scheme => Want::Value,
            string | dq_text | sq_text => Want::QuotedString,
            key | key_ident => Want::Key,
            offset | sign | duration => Want::Offset,
            scope_name => Want::ScopeName,
            EOI => Want::End,
            _ => return None,
        })
    }

    fn words(self) -> &'static str {
        match self {
            Want::Expression => {
                "a predicate (such as `role = web`), `has(...)`, `@scope`, `not` or `(`"
            }
            Want::Operator => {
                "an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `like`, `matches`)"
            }
            Want::AndOr => "`and`, `or`",
            Want::Comma => "`,`",
            Want::Close => "`)`",
            Want::Open => "`(`",
            Want::Value => {
                "a value (a string, a bare word, a number, `true`, `false`, a date, `now()` or `version(\"...\")`)"
            }
            Want::QuotedString => "a quoted string",
            Want::Key => "a key (a name such as `env`, or a quoted string)",
            Want::Offset => "`+` or `-` and a duration such as `30d`",
            Want::ScopeName => "a scope name",
            Want::End => "the end of the expression",
        }
    }
}

fn syntax_error(source: &str, error: &pest::error::Error<Rule>) -> ParseError {
    let pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut wants: Vec<Want> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| Want::of(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // A value is also a quoted string; name the wider class only.
    if wants.contains(&Want::Value) {
        wants.retain(|w| *w != Want::QuotedString);
    }
    // An expression may start with `(`, and its words say so already.
    if wants.contains(&Want::Expression) {
        wants.retain(|w| *w != Want::Open);
    }
    // Inside an unclosed group, `)` can always follow a complete operand.
    let unclosed = unclosed_paren(source, pos);
    if unclosed.is_some() && wants.contains(&Want::AndOr) && !wants.contains(&Want::Close) {
        wants.push(Want::Close);
    }
    if unclosed.is_none() && wants.contains(&Want::AndOr) {
        wants.push(Want::End);
    }
    wants.sort();
    wants.dedup();
    let expected = match wants.as_slice() {
        [] => "a valid expression".to_string(),
        [one] => one.words().to_string(),
        [init @ .., last] => format!(
            "{} or {}",
            init.iter()
                .map(|w| w.words())
                .collect::<Vec<_>>()
                .join(", "),
            last.words()
        ),
    };
    // pest reads the first character of `==`, `<>` and `=~` as an operator
    // and stops at the second; point at both, so the help can name them.
    let pos = if pos > 0
        && ["==", "<>", "=~"]
            .iter()
            .any(|op| source.get(pos - 1..pos + 1) == Some(*op))
    {
        pos - 1
    } else {
        pos
    };
    let (found_span, found) = found_token(source, pos);
    let help = help_for(source, &found, found_span.start, &wants, unclosed);
    let found_text = if found.is_empty() {
        "the end of the expression".to_string()
    } else if found.starts_with('\n') {
        "the end of the line".to_string()
    } else if found.trim().is_empty() {
        "a space".to_string()
    } else if found.starts_with(['"', '\'']) {
        "a string".to_string()
    } else {
        format!("`{found}`")
    };
    let err = ParseError::new(
        ParseErrorKind::Syntax {
            expected,
            found: found_text,
        },
        found_span,
        source,
    );
    match help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

/// The token at `pos`, for "found ..." and the caret: a word, a string's
/// opening quote, or a run of operator characters.
fn found_token(source: &str, pos: usize) -> (Span, String) {
    let rest = source.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return (Span::new(source.len(), source.len()), String::new());
    };
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-');
    let len = if is_word(first) {
        rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
    } else if matches!(first, '"' | '\'') {
        1
    } else {
        let ops = rest
            .find(|c: char| !matches!(c, '=' | '!' | '<' | '>' | '&' | '|' | '~'))
            .unwrap_or(rest.len());
        if ops > 0 {
            ops
        } else {
            first.len_utf8()
        }
    };
    (Span::new(pos, pos + len), rest[..len].to_string())
}

/// The innermost `(` still open at `pos` (outside strings and comments).
fn unclosed_paren(source: &str, pos: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut open = Vec::new();
    let mut i = 0;
    while i < pos {
        let Some(&byte) = bytes.get(i) else {
            break;
        };
        match byte {
            q @ (b'"' | b'\'') => {
                i += 1;
                while let Some(&c) = bytes.get(i).filter(|c| **c != q) {
                    i += if c == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while bytes.get(i).is_some_and(|c| *c != b'\n') {
                    i += 1;
                }
            }
            b'(' => open.push(i),
            b')' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.pop()
}

/// `version`, `dpkg`, `rpm` or `semver` when the text before `pos` is one
/// of them and an opening parenthesis, so a missing quote can be named.
fn version_call_before(source: &str, pos: usize) -> Option<&'static str> {
    let before = source.get(..pos)?.trim_end().strip_suffix('(')?.trim_end();
    ["version", "dpkg", "rpm", "semver"]
        .into_iter()
        .find(|name| {
            before.len() >= name.len()
                && before
                    .get(before.len() - name.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(name))
        })
}

fn help_for(
    source: &str,
    found: &str,
    at: usize,
    wants: &[Want],
    unclosed: Option<usize>,
) -> Option<String> {
    let fixed = match found {
        "==" => Some("`==` is not an operator here; write `=`"),
        "&&" => Some("`&&` is not an operator here; write `and`"),
        "||" => Some("`||` is not an operator here; write `or`"),
        "!" => Some("`!` is not an operator here; write `not`, or `!=` for \"not equal\""),
        "<>" => Some("`<>` is not an operator here; write `!=`"),
        "=~" => Some("write `matches \"regex\"` to match a regex"),
        "!~" => Some("write `not matches \"regex\"`"),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return Some(fixed.to_string());
    }
    let word = found
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    let lower = found.to_lowercase();
    if word && wants.contains(&Want::Expression) {
        let root = lower.split('.').next().unwrap_or("");
        let rest = &found[found.find('.').unwrap_or(found.len())..];
        const ROOTS: [&str; 4] = ["name", "role", "tags", "facts"];
        if found.split('.').next() != Some(root) && ROOTS.contains(&root) {
            return Some(format!("paths are lowercase: write `{root}{rest}`"));
        }
        if let Some(k) = closest(&lower, ["not", "has", "true", "false", "all"]) {
            if !ROOTS.contains(&root) {
                return Some(format!("did you mean `{k}`?"));
            }
        }
        let root_guess = closest(root, ROOTS).or(match root {
            "roles" => Some("role"),
            "tag" => Some("tags"),
            "fact" => Some("facts"),
            "hostname" | "host" => Some("name"),
            _ => None,
        });
        if let Some(r) = root_guess {
            if r != root {
                return Some(format!("did you mean `{r}{rest}`?"));
            }
        }
        if !ROOTS.contains(&root) {
            return Some(format!(
                "a path is `name`, `role`, `tags.KEY` or `facts.PATH`; for a tag write `tags.{found}`"
            ));
        }
    }
    if word && wants.contains(&Want::AndOr) {
        if let Some(k) = closest(&lower, ["and", "or"]) {
            return Some(format!("did you mean `{k}`?"));
        }
    }
    if word && wants.contains(&Want::Operator) {
        if let Some(k) = closest(&lower, ["in", "like", "matches", "not"]) {
            return Some(format!("did you mean `{k}`?"));
        }
    }
    if wants.contains(&Want::Value) {
        if found
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        {
            return Some(format!(
                "a value that starts with a digit but is not a number or a date must be quoted (\"{found}\"), or compared as a version: version(\"{found}\")"
            ));
        }
        if KEYWORDS.contains(&lower.as_str()) {
            return Some(format!(
                "`{found}` is a keyword; quote it to use it as a value: \"{found}\""
            ));
        }
    }
    if wants == [Want::QuotedString] {
        if let Some(call) = version_call_before(source, at) {
            return Some(format!(
                "write the version as a quoted string: {call}(\"{found}\")"
            ));
        }
        return Some(
            "patterns are quoted strings: name like \"db-*\", name matches \"db-[0-9]+\"".into(),
        );
    }
    if wants.contains(&Want::Open) && !wants.contains(&Want::Expression) {
        return Some("write the values in parentheses: role in (web, api)".into());
    }
    if wants.contains(&Want::Comma) && !found.is_empty() && found != ")" {
        return Some("separate the values in the list with `,`".into());
    }
    if found == ")" && unclosed.is_none() {
        return Some("this `)` closes no `(`; remove it or add the `(` it belongs to".into());
    }
    if found.is_empty()
        && wants.contains(&Want::Expression)
        && source
            .lines()
            .all(|l| l.trim_start().is_empty() || l.trim_start().starts_with('#'))
    {
        return Some("write an expression such as `role = web`, or `all` for every host".into());
    }
    if let Some(open) = unclosed {
        if found.is_empty() && wants.contains(&Want::Close) {
            let at = crate::diagnostic::LineCol::of(source, open);
            return Some(format!("add `)` to close the `(` at {at}"));
        }
    }
    None
}
