//! The `parse` fuzz target's checks, also run on stable over the seed corpus
//! by `tests/fuzz_seeds.rs`.
//!
//! Any input, valid UTF-8 or not (invalid input is read lossily), must parse
//! or fail with an error whose span lies inside the input; whatever parses
//! must print to text that parses to an equal tree.

use fleetscope::syntax::{self, Limits};

/// Runs the checks on raw fuzzer bytes.
pub fn run(data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(text) => check(text),
        Err(_) => check(&String::from_utf8_lossy(data)),
    }
}

/// Runs the checks on one source text. Panics when a check fails.
pub fn check(source: &str) {
    let expr = match syntax::parse(source) {
        Ok(expr) => expr,
        Err(err) => {
            let span = err.span();
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "error span {span} outside the input of {} bytes: {err}",
                source.len()
            );
            // Rendering must not panic either, whatever the span.
            let _ = err.render(source, "fuzz");
            return;
        }
    };
    let printed = expr.to_string();
    // Printing may lengthen the text (escapes), so re-parse without the
    // length limit; depth is unchanged by printing.
    let unbounded = Limits {
        max_len: usize::MAX,
        ..Limits::default()
    };
    let reparsed = match syntax::parse_with(&printed, &unbounded) {
        Ok(reparsed) => reparsed,
        Err(err) => panic!(
            "printed form does not parse\nsource:  {source:?}\nprinted: {printed:?}\nerror: {err}"
        ),
    };
    assert_eq!(
        expr, reparsed,
        "print/parse changed the tree\nsource:  {source:?}\nprinted: {printed:?}"
    );
}
