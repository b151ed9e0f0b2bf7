//! Evaluating scopes over hosts. `reference` is the literal interpreter of
//! the language, kept as the oracle for faster engines.

pub mod engine;
pub mod reference;
