//! fleetscope decides *which servers* get an update and *in what order*.
//!
//! Scopes select hosts with a small query language; rollout policies sort
//! hosts into tiers (test → canary → production) and plan dated batches
//! inside maintenance windows.
//!
//! ```
//! use fleetscope::{Catalog, Fleet, IndexedFleet};
//!
//! // Named scopes, usable as @name in any expression.
//! let catalog = Catalog::new([("web", "role in (web, api)")])?;
//! let scope = catalog.compile("@web and tags.env = prod and facts.last_patched < now() - 30d")?;
//!
//! let fleet = Fleet::from_json(br#"[
//!   {"name": "web-01", "roles": ["web"], "tags": {"env": "prod"}, "facts": {"last_patched": "2026-09-01"}},
//!   {"name": "web-02", "roles": ["web"], "tags": {"env": "prod"}, "facts": {"last_patched": "2026-11-20"}},
//!   {"name": "web-03", "roles": ["web"], "facts": {"last_patched": "2026-01-01"}}
//! ]"#)?;
//!
//! // Index once, select many times; results are id sets until asked for names.
//! let fleet = IndexedFleet::new(fleet);
//! let now = "2026-11-21T09:00:00Z".parse()?; // always passed in: reproducible
//! let selected = fleet.select(&scope, now);
//! assert_eq!(selected.len(), 1);
//! assert_eq!(selected.names(&fleet).collect::<Vec<_>>(), ["web-01"]); // web-03 has no env tag: never "prod"
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The layers, each a module with one job, point one way:
//! `diagnostic` → `syntax` → `scope` → `exec`, and within [`rollout`]
//! `calendar` → `policy` → `plan` → `run` → `store`.
//! - [`diagnostic`]: spans, located errors and their rendering.
//! - [`syntax`]: text → AST with spans; limits checked before parsing.
//! - `scope`: named scopes ([`Catalog`]) and checked, compiled [`Scope`]s;
//!   [`ScopeError`] wraps the errors of parsing and of binding.
//! - `exec`: evaluation — the indexed engine ([`IndexedFleet`], returning
//!   [`Selection`]s) and the [`reference`](mod@reference) interpreter it is
//!   proven equal to.
//! - `fleet`: hosts and fleet files ([`Fleet`], [`Host`]); `inventory`:
//!   Ansible, EC2 and PuppetDB inventories as fleets ([`FleetFormat`]);
//!   [`versions`]: the Debian, RPM and SemVer version orders.
//! - [`rollout`]: policies, calendars, plans, running them, storing them.
//! - [`output`]: notices, calendar files, timeline pictures, window listings.
//!
//! The language is described in `docs/language.md`, policies in
//! `docs/policy.md`. Nothing in the library reads the clock, panics on bad
//! input or recurses without a depth limit.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod diagnostic;
mod exec;
mod fleet;
pub mod output;
pub mod rollout;
mod scope;
pub mod syntax;
#[cfg(feature = "testgen")]
#[doc(hidden)]
pub mod testgen;
pub(crate) mod value;
pub mod versions;

pub use exec::engine::{HostId, IndexError, IndexedFleet, Progress, Selection};
pub use exec::reference;
pub use fleet::inventory::{
    detect as detect_fleet_format, FleetFormat, InventoryError, UnknownFleetFormat,
};
pub use fleet::{Fleet, FleetError, Host};
pub use scope::{
    BindError, BindErrorKind, Catalog, CatalogError, Scope, ScopeError, ScopeErrorKind,
};
pub use syntax::Limits;
