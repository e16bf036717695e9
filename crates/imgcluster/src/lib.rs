//! # imgcluster
//!
//! Unsupervised image classification with k-means.
//!
//! The library reproduces OpenCV's `cv::kmeans` bit for bit (same random number
//! generator, same seeds, same labels), OpenCV's image moments, affine warps and the
//! classic "deskew" preprocessing, and adds the metrics and figures needed to judge
//! a clustering against known classes.
//!
//! The modules are grouped by concept:
//!
//! * [`rng`] — OpenCV-compatible multiply-with-carry random number generator.
//! * [`kmeans`] — k-means: parameters, initialisation, Lloyd iterations, fitting.
//! * [`kernels`] — distance kernels (the only place that owns `unsafe` and SIMD, besides the
//!   memory map of [`dataset::open_mapped`]).
//! * [`imgproc`] — moments, affine warps, deskew.
//! * [`dataset`] — loaders for image data sets (grid PNG, `.npy`, IDX, image folders, CSV).
//! * [`features`] — preprocessing pipelines that turn images into feature vectors.
//! * [`metrics`] — confusion matrix, cluster→class matching, accuracy, NMI, ARI.
//! * [`model`] — a saved classifier (pipeline, centers, cluster→class mapping) and prediction.
//! * [`report`] — figures (PNG) and reports.
//! * [`report`] — figures (PNG) and reports (self-contained HTML).
//! * [`quantize`] — colour quantization of an image with k-means.
#![deny(missing_docs)]

pub mod collective;
pub mod dataset;
pub mod error;
pub mod features;
pub mod image;
pub mod imgproc;
pub mod kernels;
pub mod kmeans;
pub mod metrics;
pub mod model;
pub mod quantize;
pub mod report;
pub mod rng;
pub mod threads;

pub use error::{Error, Result};
pub use image::{GrayImage, GrayView};
pub use rng::CvRng;
pub use threads::Threads;
