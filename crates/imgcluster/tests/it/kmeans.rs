//! Integration tests: kmeans.
