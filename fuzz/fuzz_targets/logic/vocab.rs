//! The host names and values the differential checks draw from, shared by
//! the fuzz target and the property test in `tests/engine.rs` so that both
//! explore the same tricky values (numeric strings, booleans as text,
//! versions, package versions, dates, the empty string).

/// Host names, some of which look like numbers, booleans or dates.
pub const NAMES: &[&str] = &[
    "h0",
    "h1",
    "web-01",
    "8",
    "true",
    "db-02",
    "2026-01-01",
    "h7",
];

/// Tag and fact values.
pub const WORDS: &[&str] = &[
    "prod",
    "dev",
    "1",
    "01",
    "true",
    "false",
    "22.04",
    "22.10",
    "2026-01-01",
    "2026-05-30T00:00:00Z",
    "x y",
    "5.15.0-91",
    "",
    "8",
    "-3",
    "2.5",
    "1:2.30-1ubuntu1",
    "1.0~rc1",
    "1.2.3-rc.1",
];
