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
    /// Use exactly this many threads (1 means run on the calling thread).
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

    /// Runs `f` inside a thread pool of [`Threads::count`] threads.
    ///
    /// With one thread `f` runs directly on the calling thread.
    pub fn install<R: Send>(self, f: impl FnOnce() -> R + Send) -> R {
        let n = self.count();
        if n == 1 {
            return f();
        }
        match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(f),
            // A pool that cannot be built (no threads left) still gives the same result.
            Err(_) => f(),
        }
    }
}
