//! fleetscope: dynamic host scopes and tiered, windowed patch rollouts.
#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod exec;
pub mod fleet;
pub mod rollout;
pub mod scope;
pub mod syntax;
#[doc(hidden)]
pub mod testgen;
pub mod value;

pub use exec::engine::{HostId, IndexedFleet, Selection};
pub use exec::reference;
pub use fleet::{Fleet, FleetError, Host};
pub use scope::{Catalog, CatalogError, Scope};
pub use syntax::{Limits, ScopeError, ScopeErrorKind};
