//! Source locations and the rendering of an error under its source line.
//!
//! Every layer that reports a span (expressions, recurrences, policy values)
//! renders it the same way, so this lives apart from any one of them.

use std::fmt;

use crate::syntax::Span;

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
    let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
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
        let text: String = chars[from..to].iter().collect();
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
