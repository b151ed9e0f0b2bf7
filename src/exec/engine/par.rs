//! The engine's few data-parallel steps, on rayon's pool with the
//! `parallel` feature and on the calling thread without it. Callers say
//! what to compute; whether it runs in parallel is decided only here.

use std::cmp::Ordering;

/// Below this many items a scan stays on the calling thread.
#[cfg(feature = "parallel")]
const PARALLEL_MIN: usize = 16_384;

/// Indices in `0..n` for which `keep` holds, in order; in parallel on
/// large inputs.
pub(crate) fn filter_ids(n: usize, keep: impl Fn(usize) -> bool + Sync + Send) -> Vec<u32> {
    #[cfg(feature = "parallel")]
    if n >= PARALLEL_MIN {
        use rayon::prelude::*;
        return (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .filter(|i| keep(*i))
            .map(|i| i as u32)
            .collect();
    }
    (0..n).filter(|i| keep(*i)).map(|i| i as u32).collect()
}

/// An unstable sort, in parallel with the `parallel` feature.
pub(crate) fn sort_by<T: Send>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering + Sync) {
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        v.par_sort_unstable_by(cmp);
    }
    #[cfg(not(feature = "parallel"))]
    v.sort_unstable_by(cmp);
}

/// Both results; computed side by side with the `parallel` feature.
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// How many threads the parallel steps use (1 without the `parallel`
/// feature).
pub(crate) fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// `f` of each item, in order; in parallel with the `parallel` feature.
pub(crate) fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}
