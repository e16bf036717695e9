//! Distance kernels (placeholder).
