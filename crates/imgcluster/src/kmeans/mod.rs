//! k-means clustering, reproducing OpenCV 4.8's `cv::kmeans` bit for bit.
//!
//! Given the same data, parameters and random number generator state
//! ([`CvRng`](crate::CvRng)), [`fit`] returns the labels, centers and compactness
//! OpenCV returns: same initial centers (random in the bounding box, or k-means++),
//! same Lloyd iterations in `f32` with OpenCV's distance kernel, same empty-cluster
//! repair, same termination test and the same choice of the best attempt.
//!
//! [`fit_minibatch`] is scikit-learn's `MiniBatchKMeans` for data too large to sweep on
//! every iteration ([`MiniBatchParams`]).
//!
//! The flow follows the library's usual verbs: [`KMeansParams`] (unchecked builder)
//! → [`KMeansParams::check`] → [`CheckedKMeansParams`] → [`CheckedKMeansParams::fit`]
//! (or [`CheckedKMeansParams::fit_minibatch`]) → [`KMeansFit`] →
//! [`KMeansFit::predict`], as in scikit-learn and linfa; the generator state is a
//! parameter ([`KMeansParams::rng`]). The free functions [`fit`], [`fit_u8`],
//! [`fit_with`], [`fit_minibatch`] and [`fit_minibatch_u8`] are the `cv2.kmeans`-shaped
//! layer below: a slice, its `dims`, and OpenCV's generator, which they advance.
//!
//! # Examples
//!
//! ```
//! use imgcluster::kmeans::{self, Init, KMeansParams, TermCriteria};
//! use imgcluster::CvRng;
//!
//! // Two obvious groups on a line.
//! let data = [0.0_f32, 0.5, 1.0, 10.0, 10.5, 11.0];
//! let params = KMeansParams::new(2)
//!     .term(TermCriteria::new().max_iter(10).epsilon(1.0))
//!     .attempts(3)
//!     .init(Init::PlusPlus)
//!     .check()?;
//! let fit = kmeans::fit(&params, &data, 1, &mut CvRng::opencv_default())?;
//! assert_eq!(fit.labels[0], fit.labels[2]);
//! assert_ne!(fit.labels[0], fit.labels[3]);
//! assert_eq!(fit.compactness, 1.0);
//! # Ok::<(), imgcluster::kmeans::KMeansError>(())
//! ```

mod data;
mod distributed;
mod error;
mod fast;
mod fit;
mod init;
mod lloyd;
mod margin;
mod minibatch;
mod nearest;
mod opencv;
mod params;
mod progress;
mod scalable;
mod sums;

pub use data::Data;
pub use distributed::{
    fit_distributed, fit_minibatch_distributed, DistributedFit, DistributedMiniBatchFit,
};
pub use error::KMeansError;
pub(crate) use fast::state_bytes;
pub use fit::{fit, fit_reference, fit_u8, fit_with, KMeansFit, Workspace};
pub use init::{plus_plus_centers, random_box_centers};
pub use minibatch::{
    fit_minibatch, fit_minibatch_u8, CheckedMiniBatchParams, MiniBatchFit, MiniBatchParams,
    MiniBatchStop,
};
pub use nearest::NearestCenter;
pub use params::{CheckedKMeansParams, Init, KMeansParams, Mode, Reseed, TermCriteria};
pub use progress::FitProgress;
pub use scalable::parallel_centers;
