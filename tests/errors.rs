//! Every error a policy author can make in an expression, as they see it:
//! the exact byte span, line:column, message and help. Then hostile inputs:
//! huge, deep and pathological expressions and fleet files, which must be
//! rejected (or accepted) cleanly, without a crash or a stack overflow.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use chrono::{TimeZone, Utc};
use fleetscope::diagnostic::Span;
use fleetscope::syntax::{self, ExprKind, ParseErrorKind};
use fleetscope::{
    reference, BindErrorKind, Catalog, CatalogError, Fleet, Host, Limits, Scope, ScopeError,
    ScopeErrorKind,
};

const VALUE: &str = "a value (a string, a bare word, a number, `true`, `false`, a date, `now()` or `version(\"...\")`)";
const EXPRESSION: &str = "a predicate (such as `role = web`), `has(...)`, `@scope`, `not` or `(`";
const OPERATOR: &str = "an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `like`, `matches`)";
const AND_OR_END: &str = "`and`, `or` or the end of the expression";

fn catalog() -> Catalog {
    Catalog::new([
        ("canary", "tags.ring = \"0\""),
        ("web", "role = web"),
        ("prod-web", "@web and tags.env = prod"),
    ])
    .expect("valid catalog")
}

#[track_caller]
fn error_in(catalog: &Catalog, source: &str) -> ScopeError {
    match catalog.compile(source) {
        Ok(_) => panic!("{source:?} should be rejected"),
        Err(e) => {
            // Rendering never panics and shows the message.
            let rendered = e.render(source, "expr");
            assert!(rendered.contains(&e.kind().to_string()), "{rendered}");
            e
        }
    }
}

/// Asserts the error's span (byte offsets), line:column, message and help.
#[track_caller]
fn assert_error(
    source: &str,
    span: (usize, usize),
    at: (usize, usize),
    message: &str,
    help: Option<&str>,
) {
    let e = error_in(&catalog(), source);
    assert_eq!(e.span(), Span::new(span.0, span.1), "span of {source:?}");
    assert_eq!(
        (e.line_col().line, e.line_col().column),
        at,
        "line:column of {source:?}"
    );
    assert_eq!(e.kind().to_string(), message, "message of {source:?}");
    assert_eq!(e.help(), help, "help of {source:?}");
    assert_eq!(e.to_string(), format!("{}:{}: {message}", at.0, at.1));
}

fn syntax(expected: &str, found: &str) -> String {
    format!("expected {expected}, found {found}")
}

// ------------------------------------------------------------------ syntax

#[test]
fn double_equals_suggests_single() {
    assert_error(
        "role == web",
        (5, 7),
        (1, 6),
        &syntax(VALUE, "`==`"),
        Some("`==` is not an operator here; write `=`"),
    );
}

#[test]
fn c_style_boolean_operators_suggest_words() {
    assert_error(
        "role = web && tags.env = prod",
        (11, 13),
        (1, 12),
        &syntax(AND_OR_END, "`&&`"),
        Some("`&&` is not an operator here; write `and`"),
    );
    assert_error(
        "role = web || role = db",
        (11, 13),
        (1, 12),
        &syntax(AND_OR_END, "`||`"),
        Some("`||` is not an operator here; write `or`"),
    );
    assert_error(
        "role = web !",
        (11, 12),
        (1, 12),
        &syntax(AND_OR_END, "`!`"),
        Some("`!` is not an operator here; write `not`, or `!=` for \"not equal\""),
    );
}

#[test]
fn other_foreign_operators_get_help() {
    assert_error(
        "role <> web",
        (5, 7),
        (1, 6),
        &syntax(VALUE, "`<>`"),
        Some("`<>` is not an operator here; write `!=`"),
    );
    assert_error(
        "name =~ \"x\"",
        (5, 7),
        (1, 6),
        &syntax(VALUE, "`=~`"),
        Some("write `matches \"regex\"` to match a regex"),
    );
}

#[test]
fn misspelt_keywords_get_a_suggestion() {
    assert_error(
        "role = web adn tags.env = prod",
        (11, 14),
        (1, 12),
        &syntax(AND_OR_END, "`adn`"),
        Some("did you mean `and`?"),
    );
    assert_error(
        "role matchs \"x\"",
        (5, 11),
        (1, 6),
        &syntax(OPERATOR, "`matchs`"),
        Some("did you mean `matches`?"),
    );
    assert_error(
        "role lik \"x\"",
        (5, 8),
        (1, 6),
        &syntax(OPERATOR, "`lik`"),
        Some("did you mean `like`?"),
    );
    assert_error(
        "nto role = web",
        (0, 3),
        (1, 1),
        &syntax(EXPRESSION, "`nto`"),
        Some("did you mean `not`?"),
    );
    assert_error(
        "hsa(tags.env)",
        (0, 3),
        (1, 1),
        &syntax(EXPRESSION, "`hsa`"),
        Some("did you mean `has`?"),
    );
}

#[test]
fn misspelt_path_roots_get_a_suggestion() {
    let cases = [
        ("Role = web", 4, "paths are lowercase: write `role`"),
        (
            "TAGS.env = prod",
            8,
            "paths are lowercase: write `tags.env`",
        ),
        ("roles = web", 5, "did you mean `role`?"),
        ("tag.env = prod", 7, "did you mean `tags.env`?"),
        ("fact.os = x", 7, "did you mean `facts.os`?"),
        ("host = x", 4, "did you mean `name`?"),
        (
            "env = prod",
            3,
            "a path is `name`, `role`, `tags.KEY` or `facts.PATH`; for a tag write `tags.env`",
        ),
    ];
    for (source, end, help) in cases {
        let found = format!("`{}`", &source[..end]);
        assert_error(
            source,
            (0, end),
            (1, 1),
            &syntax(EXPRESSION, &found),
            Some(help),
        );
    }
}

#[test]
fn unclosed_parenthesis_points_at_the_end_and_the_open_one() {
    assert_error(
        "(role = web",
        (11, 11),
        (1, 12),
        &syntax("`and`, `or` or `)`", "the end of the expression"),
        Some("add `)` to close the `(` at 1:1"),
    );
    // Line and column count lines and characters.
    assert_error(
        "(role = web\n  and (tags.env = prod)",
        (35, 35),
        (2, 24),
        &syntax("`and`, `or` or `)`", "the end of the expression"),
        Some("add `)` to close the `(` at 1:1"),
    );
}

#[test]
fn stray_closing_parenthesis() {
    let help = Some("this `)` closes no `(`; remove it or add the `(` it belongs to");
    assert_error(
        "role = web)",
        (10, 11),
        (1, 11),
        &syntax(AND_OR_END, "`)`"),
        help,
    );
    assert_error(")", (0, 1), (1, 1), &syntax(EXPRESSION, "`)`"), help);
}

#[test]
fn empty_input_asks_for_an_expression() {
    let help = Some("write an expression such as `role = web`, or `all` for every host");
    let end = syntax(EXPRESSION, "the end of the expression");
    assert_error("", (0, 0), (1, 1), &end, help);
    assert_error("   ", (3, 3), (1, 4), &end, help);
    assert_error("# only a comment\n", (17, 17), (2, 1), &end, help);
}

#[test]
fn incomplete_expressions() {
    let end = "the end of the expression";
    assert_error("role", (4, 4), (1, 5), &syntax(OPERATOR, end), None);
    assert_error("role =", (6, 6), (1, 7), &syntax(VALUE, end), None);
    assert_error(
        "role = web and",
        (14, 14),
        (1, 15),
        &syntax(EXPRESSION, end),
        None,
    );
    assert_error("not", (3, 3), (1, 4), &syntax(EXPRESSION, end), None);
    assert_error("@", (1, 1), (1, 2), &syntax("a scope name", end), None);
}

#[test]
fn in_needs_parentheses_and_at_least_one_value() {
    assert_error("role in ()", (9, 10), (1, 10), &syntax(VALUE, "`)`"), None);
    assert_error(
        "role in (a b)",
        (11, 12),
        (1, 12),
        &syntax("`,` or `)`", "`b`"),
        Some("separate the values in the list with `,`"),
    );
    assert_error(
        "role in web",
        (8, 11),
        (1, 9),
        &syntax("`(`", "`web`"),
        Some("write the values in parentheses: role in (web, api)"),
    );
    // One trailing comma, not two.
    assert_error(
        "role in (a,,)",
        (11, 12),
        (1, 12),
        &syntax(&format!("`)` or {VALUE}"), "`,`"),
        None,
    );
}

#[test]
fn patterns_must_be_quoted() {
    assert_error(
        "name like db-*",
        (10, 13),
        (1, 11),
        &syntax("a quoted string", "`db-`"),
        Some("patterns are quoted strings: name like \"db-*\", name matches \"db-[0-9]+\""),
    );
}

#[test]
fn keywords_are_not_bare_words() {
    for (source, word) in [
        ("role = all", "all"),
        ("role = and", "and"),
        ("role = NOT", "NOT"),
    ] {
        assert_error(
            source,
            (7, 10),
            (1, 8),
            &syntax(VALUE, &format!("`{word}`")),
            Some(&format!(
                "`{word}` is a keyword; quote it to use it as a value: \"{word}\""
            )),
        );
    }
}

#[test]
fn values_starting_with_a_digit_must_be_numbers_or_dates() {
    for (source, text) in [("facts.x = 1e5", "1e5"), ("facts.x = 22.04.1", "22.04.1")] {
        assert_error(
            source,
            (10, 10 + text.len()),
            (1, 11),
            &syntax(VALUE, &format!("`{text}`")),
            Some(&format!(
                "a value that starts with a digit but is not a number or a date must be quoted (\"{text}\"), or compared as a version: version(\"{text}\")"
            )),
        );
    }
}

// ---------------------------------------------------- patterns and values

#[test]
fn invalid_regex_names_the_pattern() {
    let help = Some("the pattern uses the `regex` crate's syntax and must match a value's whole text; write `.*west.*` to find a part");
    assert_error(
        "name matches \"cache-[0-9\"",
        (13, 25),
        (1, 14),
        "invalid regex: unclosed character class",
        help,
    );
    assert_error(
        "name not matches \"(a\"",
        (17, 21),
        (1, 18),
        "invalid regex: unclosed group",
        help,
    );
    // A regex whose compiled form is too big is rejected, not built.
    let e = error_in(&catalog(), "name matches \"(a{1000}){1000}\"");
    assert!(
        matches!(
            e.kind(),
            ScopeErrorKind::Bind(BindErrorKind::InvalidRegex { .. })
        ),
        "{e:?}"
    );
    assert_eq!(e.span(), Span::new(13, 30));
    assert!(e.to_string().contains("would exceed"), "{e}");
}

#[test]
fn invalid_glob_with_a_trailing_backslash() {
    // The string "db\\" is the glob `db\`: a lone escape at the end.
    assert_error(
        r#"name like "db\\""#,
        (10, 16),
        (1, 11),
        "invalid glob: the pattern ends with a lone `\\`; escape a literal backslash as `\\\\`",
        None,
    );
}

#[test]
fn ordering_with_a_boolean() {
    let help = Some("compare booleans with `=`, `!=` or `in`; to order text, quote it: \"true\"");
    assert_error(
        "facts.a < true",
        (10, 14),
        (1, 11),
        "`<` orders values, but booleans have no order",
        help,
    );
    assert_error(
        "facts.a >= FALSE",
        (11, 16),
        (1, 12),
        "`>=` orders values, but booleans have no order",
        help,
    );
    assert_error(
        "facts.a <= true",
        (11, 15),
        (1, 12),
        "`<=` orders values, but booleans have no order",
        help,
    );
    assert_error(
        "facts.a > false",
        (10, 15),
        (1, 11),
        "`>` orders values, but booleans have no order",
        help,
    );
    // Quoted, it is text and may be ordered.
    assert!(Scope::parse("facts.a < \"true\"").is_ok());
}

#[test]
fn bad_escapes_are_errors() {
    let plain = Some(
        "strings take the escapes \\\" \\' \\\\ \\n \\t \\r \\u{..}; write \\\\ for a backslash",
    );
    let unicode = Some("write a Unicode escape as \\u{1F600}: one to six hex digits in braces");
    assert_error(
        r#"role = "a\d""#,
        (9, 11),
        (1, 10),
        "unknown escape `\\d` in a string",
        plain,
    );
    assert_error(
        r#"role = "\x41""#,
        (8, 10),
        (1, 9),
        "unknown escape `\\x` in a string",
        plain,
    );
    assert_error(
        r#"role = "\u{110000}""#,
        (8, 18),
        (1, 9),
        "unknown escape `\\u{110000}` in a string",
        unicode,
    );
    assert_error(
        r#"role = "\u{}""#,
        (8, 12),
        (1, 9),
        "unknown escape `\\u{}` in a string",
        unicode,
    );
    assert_error(
        r#"role = "\u{D800}""#,
        (8, 16),
        (1, 9),
        "unknown escape `\\u{D800}` in a string",
        unicode,
    );
    // In a regex, the help says how to pass the escape through.
    assert_error(
        r#"name matches "\d+""#,
        (14, 16),
        (1, 15),
        "unknown escape `\\d` in a string",
        Some("strings take the escapes \\\" \\' \\\\ \\n \\t \\r \\u{..}; to pass `\\d` to the regex, write `\\\\d`"),
    );
    // In a quoted key, too.
    let e = error_in(&catalog(), r#"tags."a\qb" = x"#);
    assert_eq!(e.span(), Span::new(7, 9));
}

#[test]
fn unterminated_strings() {
    assert_error(
        "role = 'unterminated",
        (7, 8),
        (1, 8),
        "this string is never closed",
        Some("close the string with a matching '"),
    );
    assert_error(
        "role = \"a\" and name = \"b",
        (22, 23),
        (1, 23),
        "this string is never closed",
        Some("close the string with a matching \""),
    );
    // An escaped quote does not close it.
    assert_error(
        r#"role = "a\""#,
        (7, 8),
        (1, 8),
        "this string is never closed",
        Some("close the string with a matching \""),
    );
}

#[test]
fn out_of_range_numbers_and_durations() {
    assert_error(
        "facts.n = 170141183460469231731687303715884105728",
        (10, 49),
        (1, 11),
        "number `170141183460469231731687303715884105728` is out of range",
        None,
    );
    // One less is the largest integer, and exact.
    assert!(Scope::parse("facts.n = 170141183460469231731687303715884105727").is_ok());
    assert!(Scope::parse("facts.n = -170141183460469231731687303715884105728").is_ok());
    let e = error_in(&catalog(), &format!("facts.n = 1{}.5", "0".repeat(400)));
    assert!(
        matches!(
            e.kind(),
            ScopeErrorKind::Parse(ParseErrorKind::OutOfRange { what: "number", .. })
        ),
        "{e:?}"
    );
    assert_error(
        "facts.t < now() - 99999999999999999999d",
        (16, 39),
        (1, 17),
        "duration `- 99999999999999999999d` is out of range",
        None,
    );
    assert_error(
        "facts.t < now() - 9999999999999999w",
        (16, 35),
        (1, 17),
        "duration `- 9999999999999999w` is out of range",
        None,
    );
}

#[test]
fn invalid_dates_and_timestamps() {
    let help = Some("write a real date as YYYY-MM-DD, or a timestamp as 2026-11-01T02:00:00Z");
    for text in [
        "2026-13-01",
        "2026-02-30",
        "2026-11-01T25:00:00Z",
        "2026-11-01T02:00:00+24:00",
    ] {
        assert_error(
            &format!("facts.t = {text}"),
            (10, 10 + text.len()),
            (1, 11),
            &format!("`{text}` is not a valid date or RFC 3339 timestamp"),
            help,
        );
    }
}

// ------------------------------------------------------------ named scopes

#[test]
fn unknown_scope_lists_the_known_ones_and_suggests() {
    assert_error(
        "role = db or @canry",
        (13, 19),
        (1, 14),
        "unknown scope `@canry`; known scopes: @canary, @prod-web, @web",
        Some("did you mean `@canary`?"),
    );
    assert_error(
        "@nothing or role = web",
        (0, 8),
        (1, 1),
        "unknown scope `@nothing`; known scopes: @canary, @prod-web, @web",
        None,
    );
    // Without a catalog there is nothing to refer to.
    let e = Scope::parse("@web").map(|_| ()).expect_err("no scopes");
    assert_eq!(
        e.kind().to_string(),
        "unknown scope `@web`; known scopes: none (no scopes are defined)"
    );
    assert_eq!(
        e.help(),
        Some("define named scopes in the policy's [scopes] table")
    );
}

#[test]
fn cycles_among_named_scopes_name_the_cycle() {
    let err = Catalog::new([("a", "@b"), ("b", "role = x or @c"), ("c", "@a")]).expect_err("cycle");
    let CatalogError::Scope { name, error, .. } = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(name, "c");
    assert_eq!(
        error.kind().to_string(),
        "named scopes form a cycle: @a -> @b -> @c -> @a"
    );
    assert_eq!(error.span(), Span::new(0, 2));
    assert_eq!(
        error.help(),
        Some("a scope cannot include itself, directly or through others; remove one of these references")
    );
    assert_eq!(
        err.render("policy.toml"),
        "error: named scopes form a cycle: @a -> @b -> @c -> @a\n --> policy.toml: scope `c`:1:1\n  |\n1 | @a\n  | ^^\n  = help: a scope cannot include itself, directly or through others; remove one of these references\n"
    );
    let err = Catalog::new([("loop", "role = web or @loop")]).expect_err("self cycle");
    assert_eq!(
        err.to_string(),
        "scope `loop`: 1:15: named scopes form a cycle: @loop -> @loop"
    );
}

#[test]
fn catalog_errors_name_the_scope() {
    let err = Catalog::new([("web", "role == web")]).expect_err("syntax");
    assert_eq!(
        err.to_string(),
        format!("scope `web`: 1:6: {}", syntax(VALUE, "`==`"))
    );
    assert!(matches!(
        Catalog::new([("bad name", "true")]),
        Err(CatalogError::InvalidName { .. })
    ));
    assert!(matches!(
        Catalog::new([("x", "true"), ("x", "false")]),
        Err(CatalogError::Duplicate { .. })
    ));
}

// ------------------------------------------------------------------ limits

fn parens(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nesting_deeper_than_128_is_rejected() {
    let help =
        Some("remove redundant parentheses or `not`s, or split the expression into named scopes");
    let message = "the expression nests deeper than the limit of 128 levels";
    assert!(syntax::parse(&parens(128, "role = web")).is_ok());
    assert_error(
        &parens(129, "role = web"),
        (128, 129),
        (1, 129),
        message,
        help,
    );
    // `not`s count like parentheses ...
    let nots = |n: usize| format!("{}role = web", "not ".repeat(n));
    assert!(syntax::parse(&nots(128)).is_ok());
    assert_error(&nots(129), (512, 515), (1, 513), message, help);
    // ... and together with them.
    assert!(syntax::parse(&parens(64, &nots(64))).is_ok());
    let e = error_in(&catalog(), &parens(64, &nots(65)));
    assert!(
        matches!(
            e.kind(),
            ScopeErrorKind::Parse(ParseErrorKind::TooDeep { limit: 128 })
        ),
        "{e:?}"
    );
    assert!(syntax::parse(&format!("not {}", parens(127, "role = web"))).is_ok());
    assert!(syntax::parse(&format!("not {}", parens(128, "role = web"))).is_err());
}

#[test]
fn nesting_is_counted_with_named_scopes_expanded() {
    // `deep` nests 127 `not`s; a reference counts one level more, as if its
    // expression were written out in parentheses. Parentheses that group
    // nothing (around a single predicate or reference) leave no trace in
    // the tree, so only `not`s and nested `and`/`or` add depth through a
    // reference.
    let deep =
        Catalog::new([("deep", format!("{}role = web", "not ".repeat(127)))]).expect("127 levels");
    assert!(deep.compile("@deep").is_ok());
    assert!(deep.compile("(@deep)").is_ok());
    for source in [
        "not @deep",
        "role = db or not (@deep)",
        "role = db and (@deep or role = x)",
    ] {
        let e = error_in(&deep, source);
        assert!(
            matches!(
                e.kind(),
                ScopeErrorKind::Bind(BindErrorKind::TooDeep { limit: 128 })
            ),
            "{source}: {e:?}"
        );
        // The error covers the whole expression, which holds the reference.
        assert_eq!(e.span(), Span::new(0, source.len()), "{source}");
    }
    // Expansion also limits size: each level doubles it.
    let mut scopes = vec![("s0".to_string(), "role = web".to_string())];
    for i in 1..=20 {
        scopes.push((format!("s{i}"), format!("@s{} or not @s{}", i - 1, i - 1)));
    }
    let err = Catalog::new(scopes).expect_err("exponential");
    assert!(
        err.to_string().contains("nodes; the limit is 100000"),
        "{err}"
    );
}

#[test]
fn expressions_longer_than_64_kib_are_rejected() {
    let fits = format!("name = \"{}\"", "x".repeat(64 * 1024 - 9));
    assert_eq!(fits.len(), 64 * 1024);
    assert!(syntax::parse(&fits).is_ok());
    let long = format!("name = \"{}\"", "x".repeat(64 * 1024 - 8));
    assert_error(
        &long,
        (65_536, 65_537),
        (1, 65_537),
        "the expression is 65537 bytes long; the limit is 65536 bytes",
        Some("store long expressions as named scopes and combine them with @name"),
    );
}

#[test]
fn limits_are_configurable() {
    let limits = Limits {
        max_len: 16,
        max_depth: 2,
        ..Limits::default()
    };
    let e = syntax::parse_with("role = web or role = db", &limits).expect_err("too long");
    assert_eq!(e.kind(), &ParseErrorKind::TooLong { len: 23, limit: 16 });
    assert_eq!(e.span(), Span::new(16, 23));
    assert!(syntax::parse_with("((role = web))", &limits).is_ok());
    let e = syntax::parse_with("(((role = x)))", &limits).expect_err("too deep");
    assert_eq!(e.kind(), &ParseErrorKind::TooDeep { limit: 2 });
    // A catalog's limits apply to what it compiles.
    let catalog = Catalog::with_limits([("web", "role = web")], limits).expect("valid");
    assert!(catalog.compile("not @web").is_ok());
    let e = catalog
        .compile("not not @web")
        .map(|_| ())
        .expect_err("too deep");
    assert_eq!(
        e.kind(),
        &ScopeErrorKind::Bind(BindErrorKind::TooDeep { limit: 2 })
    );
    assert!(catalog.compile("@web or role = database").is_err());
}

// ------------------------------------------------------- hostile inputs

const MIB: usize = 1024 * 1024;

fn raised() -> Limits {
    Limits {
        max_len: 16 * MIB,
        ..Limits::default()
    }
}

#[test]
fn a_hundred_thousand_parentheses_are_a_clean_error() {
    // Runs on the default test thread stack: the depth check comes before
    // anything recursive.
    let source = parens(100_000, "role = web");
    let e = syntax::parse_with(&source, &raised()).expect_err("too deep");
    assert_eq!(e.kind(), &ParseErrorKind::TooDeep { limit: 128 });
    assert_eq!(e.span(), Span::new(128, 129));
    let e = syntax::parse(&source).expect_err("too long or too deep");
    assert!(matches!(e.kind(), ParseErrorKind::TooLong { .. }), "{e:?}");
    // Unbalanced, too.
    let e = syntax::parse_with(&"(".repeat(100_000), &raised()).expect_err("too deep");
    assert_eq!(e.kind(), &ParseErrorKind::TooDeep { limit: 128 });
}

#[test]
fn a_ten_megabyte_expression_is_too_long() {
    let source = "role = web or ".repeat(10 * MIB / 14) + "role = db";
    let e = syntax::parse(&source).expect_err("too long");
    assert_eq!(
        e.kind(),
        &ParseErrorKind::TooLong {
            len: source.len(),
            limit: 65_536
        }
    );
    assert_eq!(e.span(), Span::new(65_536, source.len()));
    // Rendering stays short.
    assert!(e.render(&source, "expr").len() < 1_000);
}

#[test]
fn a_ten_megabyte_expression_within_a_raised_limit_parses_or_fails_cleanly() {
    let terms = 10 * MIB / 20 + 1_000;
    let source: String = (0..terms)
        .map(|i| format!("role = r{i:08}"))
        .collect::<Vec<_>>()
        .join(" or ");
    assert!(source.len() > 10 * MIB && source.len() < 16 * MIB);
    let expr = syntax::parse_with(&source, &raised()).expect("a flat chain parses");
    match &expr.node {
        ExprKind::Or(t) => assert_eq!(t.len(), terms),
        other => panic!("unexpected {other:?}"),
    }
    // Compiling it exceeds the node limit, cleanly.
    let catalog = Catalog::with_limits(Vec::<(String, String)>::new(), raised()).expect("empty");
    let e = catalog
        .compile(&source)
        .map(|_| ())
        .expect_err("too many nodes");
    assert_eq!(
        e.kind().to_string(),
        format!(
            "with its named scopes expanded the expression has {} nodes; the limit is 100000",
            terms + 1
        )
    );
}

#[test]
fn a_ten_megabyte_chain_of_nots_fails_cleanly() {
    let source = "not ".repeat(10 * MIB / 4) + "role = web";
    let e = syntax::parse_with(&source, &raised()).expect_err("too deep");
    assert_eq!(e.kind(), &ParseErrorKind::TooDeep { limit: 128 });
    assert_eq!(e.span(), Span::new(512, 515));
    let e = syntax::parse(&source).expect_err("too long");
    assert!(matches!(e.kind(), ParseErrorKind::TooLong { .. }), "{e:?}");
}

#[test]
fn an_unterminated_string_at_the_end_of_a_megabyte() {
    let mut source = "role = web and ".repeat(MIB / 15);
    let quote_at = source.len() + 7;
    source.push_str("name = \"never closed");
    let e = syntax::parse_with(&source, &raised()).expect_err("unterminated");
    assert_eq!(e.kind(), &ParseErrorKind::UnterminatedString);
    assert_eq!(e.span(), Span::new(quote_at, quote_at + 1));
    assert_eq!(e.line_col().line, 1);
    assert!(e.render(&source, "expr").len() < 1_000);
}

#[test]
fn catastrophic_looking_regexes_run_in_linear_time() {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let mut host = Host::named("h");
    host.tags.insert("a".into(), "a".repeat(100_000));
    host.tags
        .insert("ab".into(), format!("{}b", "a".repeat(100_000)));
    let fleet = Fleet::new(vec![host]).expect("valid");
    let check = |source: &str, expected: bool| {
        let scope = Scope::parse(source).expect("valid regex");
        let started = std::time::Instant::now();
        assert_eq!(
            reference::matches(&scope, &fleet.hosts()[0], now),
            expected,
            "{source}"
        );
        assert!(
            started.elapsed().as_secs() < 5,
            "{source} took {:?}",
            started.elapsed()
        );
    };
    check(r#"tags.a matches "(a*)*b""#, false);
    check(r#"tags.ab matches "(a*)*b""#, true);
    check(r#"tags.a matches "(a|a)*$""#, true);
    check(r#"tags.a matches "(a|a)*c""#, false);
    check(r#"tags.a matches "(a|aa)+$""#, true);
    check(r#"tags.a not matches "(a*)*b""#, true);
    // Globs backtrack only to the last `*`.
    check(&format!("tags.a like \"{}b\"", "*a".repeat(50)), false);
}

#[test]
fn fleet_files_must_be_utf8() {
    let err = Fleet::from_json(b"[{\"name\": \"caf\xe9\"}]").expect_err("invalid UTF-8");
    let text = err.to_string();
    assert!(text.contains("UTF-8"), "{text}");
    assert!(text.starts_with("record 0, "), "{text}");
}

#[test]
fn fleets_with_duplicate_names_are_rejected() {
    let err = Fleet::from_json(br#"[{"name": "a"}, {"name": "b"}, {"name": "a"}]"#)
        .expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "records 0 and 2 are both named `a`; host names must be unique"
    );
    let err = Fleet::new(vec![Host::named("x"), Host::named("x")]).expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "records 0 and 1 are both named `x`; host names must be unique"
    );
}

#[test]
fn host_records_reject_unknown_fields() {
    let err = Fleet::from_json(br#"[{"name": "a", "role": "web"}]"#).expect_err("typo");
    let text = err.to_string();
    assert!(text.contains("unknown field `role`"), "{text}");
}

#[test]
fn a_ten_megabyte_fleet_file_loads() {
    let host = r#"{"name": "host-NNNNNN", "roles": ["web", "api"], "tags": {"env": "prod", "ring": "1"}, "facts": {"os": {"family": "ubuntu", "version": "22.04"}, "cpus": 8, "pkgs": ["nginx", "openssl"]}}"#;
    let count = 10 * MIB / host.len() + 1;
    let mut json = String::with_capacity(count * (host.len() + 2) + 2);
    json.push('[');
    for i in 0..count {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&host.replace("NNNNNN", &format!("{i:06}")));
    }
    json.push(']');
    assert!(json.len() > 10 * MIB);
    let fleet = Fleet::from_json(json.as_bytes()).expect("loads");
    assert_eq!(fleet.len(), count);
    let scope = Scope::parse("role = api and name like \"host-00000?\"").expect("valid");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid");
    assert_eq!(reference::select(&scope, &fleet, now).len(), 10);
}
