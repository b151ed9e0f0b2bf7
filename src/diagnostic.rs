//! Source locations, errors located in a source text, their rendering
//! under the source line, and "did you mean" suggestions.
//!
//! Every layer that reports a span (expressions, recurrences, policy values)
//! locates and renders it the same way, so this lives below all of them and
//! imports none of them.

use std::fmt;

/// A byte range `[start, end)` in the source of an expression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// An error of kind `K` at a span of a source text: what is wrong, where
/// (bytes and line:column), and how to fix it where a fix is known.
///
/// Each phase has its own kinds (`syntax::ParseErrorKind`,
/// `BindErrorKind`); `ScopeError` wraps both. This module names none of
/// them: it sits below every layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<K> {
    kind: K,
    span: Span,
    at: LineCol,
    help: Option<String>,
}

impl<K> Located<K> {
    /// An error of `kind` at `span` of `source`.
    pub fn new(kind: K, span: Span, source: &str) -> Self {
        Located {
            kind,
            span,
            at: LineCol::of(source, span.start),
            help: None,
        }
    }

    /// Adds a sentence that says how to fix the error.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &K {
        &self.kind
    }

    /// The byte span in the source that the error is about.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Line and column of the span's start.
    pub fn line_col(&self) -> LineCol {
        self.at
    }

    /// How to fix it, where a fix is known.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The same error with its kind converted, as a later phase wraps an
    /// earlier one's error.
    pub fn map_kind<J>(self, f: impl FnOnce(K) -> J) -> Located<J> {
        Located {
            kind: f(self.kind),
            span: self.span,
            at: self.at,
            help: self.help,
        }
    }
}

impl<K: fmt::Display> Located<K> {
    /// The error under its source line with a caret, for terminals.
    /// `source` must be the text the error came from; `origin` names it.
    pub fn render(&self, source: &str, origin: &str) -> String {
        render(
            source,
            origin,
            self.span,
            &self.kind.to_string(),
            self.help.as_deref(),
        )
    }
}

impl<K: fmt::Display> fmt::Display for Located<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.kind)
    }
}

impl<K: fmt::Debug + fmt::Display> std::error::Error for Located<K> {}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl LineCol {
    /// The line and column of byte `offset` in `source`. An offset past the
    /// end, or inside a character, is clamped to the nearest boundary before it.
    pub fn of(source: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(source, offset);
        let before = source.get(..offset).unwrap_or(source);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        LineCol {
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).map_or(0, |s| s.chars().count()) + 1,
        }
    }
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), for "did you mean" suggestions. Inputs are short words.
#[expect(
    clippy::indexing_slicing,
    reason = "i and j run over 1..=len, inside the (len + 1)-sized table built above"
)]
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    let allowed = match word.chars().count() {
        0..=1 => 0,
        2..=4 => 1,
        _ => 2,
    };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Renders `message` at `span` of `source` the way compilers do:
///
/// ```text
/// error: expected a value, found `==`
///  --> expr:1:6
///   |
/// 1 | role == web
///   |      ^^
///   = help: `==` is not an operator here; write `=`
/// ```
///
/// `origin` names where the source came from (a file and key, or `expr`).
/// Lines longer than 120 characters are cut around the span so a 10 MB
/// expression does not flood a terminal.
pub fn render(source: &str, origin: &str, span: Span, message: &str, help: Option<&str>) -> String {
    let start = floor_char_boundary(source, span.start);
    let end = floor_char_boundary(source, span.end.max(span.start));
    let at = LineCol::of(source, start);
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = &source[line_start..line_end];

    // Character columns of the caret run inside the line.
    let caret_from = source[line_start..start].chars().count();
    let caret_len = source[start..end.min(line_end)].chars().count().max(1);

    // Keep long lines readable: show a window around the caret.
    const WIDTH: usize = 120;
    let chars: Vec<char> = line.chars().collect();
    let (shown, shift, cut_left) = if chars.len() > WIDTH {
        let from = caret_from.saturating_sub(WIDTH / 3);
        let to = (from + WIDTH).min(chars.len());
        let text: String = chars.get(from..to).unwrap_or_default().iter().collect();
        let left = if from > 0 { "..." } else { "" };
        let right = if to < chars.len() { "..." } else { "" };
        (format!("{left}{text}{right}"), from, left.len())
    } else {
        (line.to_string(), 0, 0)
    };
    let caret_col = caret_from - shift + cut_left;
    let caret_len = caret_len.min(WIDTH);

    let number = at.line.to_string();
    let pad = " ".repeat(number.len());
    let mut out = format!("error: {message}\n{pad}--> {origin}:{at}\n{pad} |\n");
    out.push_str(&format!("{number} | {}\n", shown.replace('\t', " ")));
    out.push_str(&format!(
        "{pad} | {}{}\n",
        " ".repeat(caret_col),
        "^".repeat(caret_len)
    ));
    if let Some(help) = help {
        out.push_str(&format!("{pad} = help: {help}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nnamé = x";
        assert_eq!(LineCol::of(src, 0), LineCol { line: 1, column: 1 });
        assert_eq!(LineCol::of(src, 6), LineCol { line: 2, column: 1 });
        // `=` after "namé " is byte 12 (é is two bytes) but column 6.
        assert_eq!(LineCol::of(src, 12), LineCol { line: 2, column: 6 });
        assert_eq!(LineCol::of(src, 999), LineCol { line: 2, column: 9 });
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("and", "and"), 0);
        assert_eq!(edit_distance("adn", "and"), 1);
        assert_eq!(edit_distance("matchs", "matches"), 1);
        assert_eq!(edit_distance("", "or"), 2);
    }

    #[test]
    fn closest_prefers_the_nearest_and_rejects_far_words() {
        assert_eq!(closest("matchs", ["matches", "like"]), Some("matches"));
        assert_eq!(closest("AMD", ["and", "or"]), Some("and"));
        assert_eq!(closest("banana", ["and", "or"]), None);
    }

    #[test]
    fn render_puts_caret_under_span() {
        let out = render(
            "role == web",
            "expr",
            Span::new(5, 7),
            "bad",
            Some("write `=`"),
        );
        assert_eq!(
            out,
            "error: bad\n --> expr:1:6\n  |\n1 | role == web\n  |      ^^\n  = help: write `=`\n"
        );
    }

    #[test]
    fn render_cuts_long_lines_around_the_span() {
        let src = format!("{}(", "x ".repeat(5000));
        let out = render(&src, "expr", Span::new(10_000, 10_001), "here", None);
        let longest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(longest < 140, "{out}");
        assert!(out.contains("...x x"));
        let caret_line = out.lines().nth(4).unwrap_or("");
        let code_line = out.lines().nth(3).unwrap_or("");
        let caret_at = caret_line.find('^').unwrap_or(0);
        assert_eq!(code_line.as_bytes()[caret_at], b'(');
    }
}
