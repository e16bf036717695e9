//! Integration tests: imgproc.
