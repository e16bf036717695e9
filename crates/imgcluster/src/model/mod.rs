//! A saved classifier: the whole pipeline of a `classify` run — input size, preprocessing,
//! the k-means settings used, the centers, and the cluster → class mapping learned on the
//! training data — that [`Model::predict`] applies to new images.
//!
//! Models are stored as versioned JSON (`{"format": "imgcluster-model", "version": 1, …}`,
//! documented in `docs/model-format.md`) by [`Model::to_json`] and read back by
//! [`Model::from_json`] / [`Model::read`]. Centers are written so that they read back bit
//! for bit, so a saved model predicts exactly what the run that made it predicts.
//!
//! # Examples
//! ```
//! use imgcluster::dataset::Dataset;
//! use imgcluster::features::FeatureKind;
//! use imgcluster::model::{InputKind, KMeansInfo, Model, ModelSpec};
//! use imgcluster::Threads;
//!
//! let spec = ModelSpec {
//!     input: InputKind::U8,
//!     image_shape: Some((1, 2)),
//!     features: FeatureKind::Raw,
//!     kmeans: KMeansInfo::new(2),
//!     centers: vec![0.0, 0.0, 200.0, 200.0],
//!     mapping: Some(vec![1, 0]),
//!     class_names: Some(vec!["dark".into(), "light".into()]),
//!     n_classes: Some(2),
//!     training: Default::default(),
//! };
//! let model = Model::new(spec)?;
//! let again = Model::from_json(&model.to_json())?;
//! assert_eq!(again, model);
//! let ds = Dataset::from_images(1, 1, 2, vec![250, 190])?;
//! let p = again.predict(&ds, Threads::Fixed(1))?;
//! assert_eq!((p[0].cluster, p[0].class), (1, Some(0)));
//! assert_eq!(again.class_name(0), Some("dark"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod json;
mod pipeline;

pub use error::ModelError;
pub use json::{MODEL_FORMAT, MODEL_VERSION};
pub use pipeline::{InitKind, InputKind, KMeansInfo, Model, ModelSpec, Prediction, TrainingInfo};
