//! The library's integration tests: parity with OpenCV fixtures, properties, end-to-end pipelines.

mod common;
mod dataset;
mod figures;
mod imgproc;
mod kernels;
mod kmeans;
mod metrics;
