//! How far a fit has come, for a progress bar on another thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counts a fit's passes over the samples as they happen: [`done`](Self::done) of at
/// most [`total`](Self::total). Hand it to a fit with [`KMeansParams::progress`]
/// (shared through an `Arc`) and read it from another thread, e.g. to draw a bar. The
/// fit only writes it; it never changes a result.
///
/// A pass is one assignment of every sample in one attempt (Lloyd) or one mini-batch
/// step; the total is the most the fit can take (`attempts · max_iter`, or the steps of
/// `max_iter` epochs), and the count jumps to it when the fit ends early.
///
/// [`KMeansParams::progress`]: super::KMeansParams::progress
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use imgcluster::kmeans::{self, FitProgress, KMeansParams};
/// use imgcluster::CvRng;
///
/// let progress = Arc::new(FitProgress::default());
/// let params = KMeansParams::new(2).progress(Arc::clone(&progress)).check()?;
/// let data = [0.0_f32, 1.0, 10.0, 11.0];
/// kmeans::fit(&params, &data, 1, &mut CvRng::opencv_default())?;
/// assert_eq!(progress.total(), 10 * 10); // attempts · max_iter
/// assert_eq!(progress.done(), progress.total());
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Default)]
pub struct FitProgress {
    done: AtomicU64,
    total: AtomicU64,
}

impl FitProgress {
    /// Passes done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// The most passes the fit can take (0 before it starts).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// The parameters' optional [`FitProgress`]: equal when it is the same counter.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProgressSink(Option<Arc<FitProgress>>);

impl PartialEq for ProgressSink {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl ProgressSink {
    pub fn new(progress: Arc<FitProgress>) -> Self {
        Self(Some(progress))
    }

    /// A fit of at most `total` passes starts.
    pub fn start(&self, total: usize) {
        if let Some(p) = &self.0 {
            p.done.store(0, Ordering::Relaxed);
            p.total.store(total as u64, Ordering::Relaxed);
        }
    }

    /// `n` more passes are done.
    pub fn add(&self, n: usize) {
        if let Some(p) = &self.0 {
            p.done.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// The fit has ended (early stops included).
    pub fn finish(&self) {
        if let Some(p) = &self.0 {
            p.done
                .store(p.total.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}
