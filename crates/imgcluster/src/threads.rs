//! Parallelism as a value: how many worker threads a computation may use.

/// How many threads a computation may use.
///
/// Results never depend on this value: work is split into fixed-size chunks whose
/// partial results are combined in chunk order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Threads {
    /// Use every available core (the default).
    #[default]
    Auto,
    /// Use exactly this many threads (1 means everything runs sequentially).
    Fixed(usize),
}

impl Threads {
    /// The number of threads this value stands for on this machine (at least 1).
    pub fn count(self) -> usize {
        match self {
            Threads::Auto => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            Threads::Fixed(n) => n.max(1),
        }
    }

    /// Runs `f` inside a thread pool of [`Threads::count`] threads, so that rayon's
    /// parallel iterators in `f` use that many threads (with one, they run sequentially).
    ///
    /// On a worker of a pool of that size already, `f` runs right there.
    pub fn install<R: Send>(self, f: impl FnOnce() -> R + Send) -> R {
        let n = self.count();
        if rayon::current_thread_index().is_some() && rayon::current_num_threads() == n {
            return f();
        }
        match pool(n) {
            Some(pool) => pool.install(f),
            // A pool that cannot be built (no threads left) still gives the same result.
            None => f(),
        }
    }
}

/// The process's pool of `n` worker threads, built on first use and kept: a run that asks
/// for the same count in every stage starts its threads once.
fn pool(n: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    use std::sync::{Arc, Mutex, OnceLock};
    /// The pools built so far, with their thread counts.
    type Pools = Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>>;
    static POOLS: OnceLock<Pools> = OnceLock::new();
    let mut pools = POOLS.get_or_init(|| Mutex::new(Vec::new())).lock().ok()?;
    if let Some((_, p)) = pools.iter().find(|(m, _)| *m == n) {
        return Some(Arc::clone(p));
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .ok()?,
    );
    pools.push((n, Arc::clone(&p)));
    Some(p)
}
