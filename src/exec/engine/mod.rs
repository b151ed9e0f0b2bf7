//! The indexed engine: selects hosts from large fleets with bitmaps.
//!
//! Three layers, one module each: `program` lowers a checked scope to a
//! flat, normalized instruction table; `index` keeps the fleet as
//! dictionary-encoded columns with a bitmap per distinct value; `eval` runs
//! a program over the index (or over one host). Results are [`Selection`]s
//! of host ids, which stay bitmaps until the caller asks for hosts or names.
//!
//! The engine must select exactly what [`crate::reference`] selects; the
//! differential tests in `tests/engine.rs` and the `differential` fuzz
//! target hold it to that.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fleetscope::{Fleet, IndexedFleet, Scope};
//!
//! let fleet = Fleet::from_json(br#"[
//!     {"name": "web-01", "roles": ["web"], "tags": {"env": "prod"}},
//!     {"name": "web-02", "roles": ["web"]},
//!     {"name": "db-01", "roles": ["db"], "tags": {"env": "prod"}}
//! ]"#)?;
//! let fleet = IndexedFleet::new(fleet);
//! let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
//! let scope = Scope::parse("role = web and tags.env != staging")?;
//! let selected = fleet.select(&scope, now);
//! assert_eq!(selected.len(), 1);
//! assert_eq!(selected.names(&fleet).collect::<Vec<_>>(), ["web-01"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod dict_order;
mod document;
mod eval;
mod index;
mod ingest;
mod load;
mod par;
mod patterns;
mod program;
pub(crate) mod store;

use std::collections::BTreeMap;
use std::ops::{BitAnd, BitOr, Sub};

use chrono::{DateTime, Utc};
use roaring::RoaringBitmap;

use crate::fleet::Host;
use crate::scope::{Catalog, Scope};

pub use index::{HostId, IndexError, IndexedFleet};
pub use load::Progress;

use eval::Evaluator;
use program::Program;

/// Hosts selected from an [`IndexedFleet`], as a set of [`HostId`]s.
///
/// Counting, membership tests and set operations work on the ids; hosts and
/// names are looked up only when asked for. Iteration is in fleet order. A
/// selection is a snapshot: after the fleet changes, ids of removed hosts
/// may still be in it, and [`Selection::names`] and [`Selection::hosts`]
/// skip them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    ids: RoaringBitmap,
}

impl Selection {
    /// How many hosts are selected. O(1) per 65,536 ids; no host is read.
    pub fn len(&self) -> usize {
        self.ids.len() as usize
    }

    /// Whether no host is selected.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the host with this id is selected.
    pub fn contains(&self, id: HostId) -> bool {
        self.ids.contains(id.0)
    }

    /// The selected ids, in fleet order.
    pub fn iter(&self) -> impl Iterator<Item = HostId> + '_ {
        self.ids.iter().map(HostId)
    }

    /// The selected hosts of `fleet`, in fleet order, each rebuilt from the
    /// index as it is reached (see [`IndexedFleet::host`]).
    pub fn hosts<'f>(&'f self, fleet: &'f IndexedFleet) -> impl Iterator<Item = Host> + 'f {
        self.iter().filter_map(|id| fleet.host(id))
    }

    /// The names of the selected hosts of `fleet`, in fleet order. No host
    /// is rebuilt.
    pub fn names<'f>(&'f self, fleet: &'f IndexedFleet) -> impl Iterator<Item = &'f str> + 'f {
        self.iter().filter_map(|id| fleet.name(id))
    }

    /// The ids as a bitmap, giving up the selection. Crate-internal, so
    /// that the bitmap library stays out of the public API.
    pub(crate) fn into_bitmap(self) -> RoaringBitmap {
        self.ids
    }
}

impl BitOr for &Selection {
    type Output = Selection;
    /// Hosts in either selection.
    fn bitor(self, other: &Selection) -> Selection {
        Selection {
            ids: &self.ids | &other.ids,
        }
    }
}

impl BitAnd for &Selection {
    type Output = Selection;
    /// Hosts in both selections.
    fn bitand(self, other: &Selection) -> Selection {
        Selection {
            ids: &self.ids & &other.ids,
        }
    }
}

impl Sub for &Selection {
    type Output = Selection;
    /// Hosts in the first selection and not in the second.
    fn sub(self, other: &Selection) -> Selection {
        Selection {
            ids: &self.ids - &other.ids,
        }
    }
}

impl IndexedFleet {
    /// The hosts that `scope` selects at `now`, equal to what
    /// [`crate::reference::select`] gives on the same hosts.
    ///
    /// Cost: lowering the scope (linear in its expanded size), then per
    /// leaf a bitmap lookup (`=`/`in` on texts and booleans, `has`) or one
    /// test per distinct value of the path (other comparisons, `like`,
    /// `matches`; per host for `name`), or inside a conjunction with few
    /// candidates left, one test per candidate host. Named scopes and
    /// repeated subexpressions are evaluated once. Nothing is rejected: a
    /// checked [`Scope`] always evaluates.
    pub fn select(&self, scope: &Scope, now: DateTime<Utc>) -> Selection {
        let program = Program::for_scope(scope);
        let ids = Evaluator::new(self, &program, now)
            .run()
            .into_iter()
            .next()
            .unwrap_or_default();
        Selection { ids }
    }

    /// Every named scope of `catalog` over the whole fleet at `now`, by
    /// name. Scopes that refer to one another share the work: each named
    /// scope is evaluated once.
    pub fn memberships(
        &self,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> BTreeMap<String, Selection> {
        let program = Program::for_catalog(catalog);
        let sets = Evaluator::new(self, &program, now).run();
        catalog
            .names()
            .map(str::to_string)
            .zip(sets.into_iter().map(|ids| Selection { ids }))
            .collect()
    }

    /// The names of the scopes of `catalog` that contain the host named
    /// `name` at `now`, sorted; `None` when no such host is present.
    ///
    /// Cost: one evaluation of the catalog for that host alone (no bitmap
    /// is read), each named scope once.
    pub fn scopes_of(
        &self,
        name: &str,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> Option<Vec<String>> {
        let host = self.host(self.position(name)?)?;
        let program = Program::for_catalog(catalog);
        let holds = Evaluator::new(self, &program, now).run_host(&host);
        Some(
            catalog
                .names()
                .zip(holds)
                .filter(|(_, h)| *h)
                .map(|(n, _)| n.to_string())
                .collect(),
        )
    }
}
