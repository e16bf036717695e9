//! Metrics for judging a clustering against known classes.
//!
//! * [`Contingency`] — clusters × classes counts, from which everything is computed.
//! * [`ClusterMapping`] — cluster→class mappings: [`Mapping::OneToOne`] (optimal matching,
//!   Hungarian algorithm) or [`Mapping::Majority`] (most frequent class).
//! * [`ConfusionMatrix`] — true × predicted classes, printed like NumPy prints an array.
//! * Scores: [`Accuracy`], [`Contingency::nmi`], [`Contingency::ari`] (scikit-learn's
//!   definitions), and [`evaluate`] for all of them at once.
//!
//! Labels are `u32`: true classes in `0..n_classes`, cluster ids in `0..k`.
//!
//! # Examples
//!
//! ```
//! use imgcluster::metrics::{evaluate, Mapping};
//!
//! let truth = [0, 0, 1, 1];
//! let clusters = [1, 1, 0, 0];
//! let e = evaluate(&truth, &clusters, 2, 2, Mapping::OneToOne)?;
//! assert_eq!(e.accuracy.fraction(), 1.0);
//! assert_eq!((e.nmi, e.ari), (1.0, 1.0));
//! # Ok::<(), imgcluster::metrics::MetricsError>(())
//! ```

mod confusion;
mod contingency;
mod error;
mod evaluate;
mod matching;
mod print;
mod scores;

pub use confusion::{ClassStats, ConfusionMatrix};
pub use contingency::{Contingency, MAX_SAMPLES};
pub use error::MetricsError;
pub use evaluate::{evaluate, Evaluation};
pub use matching::{ClusterMapping, Mapping};
pub use print::PrintOptions;
pub use scores::Accuracy;
