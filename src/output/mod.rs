//! What a plan looks like to the people it concerns: written notices for
//! each tier's contact, an iCalendar file, a timeline picture, and the
//! listing of upcoming windows (`docs/outputs.md`).
//!
//! Each format is a module that takes the library's own types ([`Plan`],
//! [`Policy`]) and returns text, so that an embedding tool produces the
//! same bytes as the command line, which only chooses among them. Nothing
//! here reads the clock or the filesystem.
//!
//! [`Plan`]: crate::rollout::Plan
//! [`Policy`]: crate::rollout::Policy

pub mod ics;
pub mod notice;
pub mod svg;
pub mod windows;
