//! The library's integration tests: parity with OpenCV fixtures, properties, end-to-end pipelines.

mod common;
mod dataset;
mod distributed;
mod features;
mod figures;
mod html;
mod imgproc;
mod kernels;
mod kmeans;
mod loaders;
mod metrics;
mod minibatch;
mod model;
mod properties;
mod weights;
