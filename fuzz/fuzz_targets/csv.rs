#![no_main]
//! Any text given to the CSV reader: an error or a data set, never a panic.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::csv::{parse, CsvOptions};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ds) = parse(text, &CsvOptions::default()) {
            assert!(ds.dims() > 0);
            if let Some(labels) = ds.labels() {
                assert_eq!(labels.len(), ds.len());
            }
        }
    }
});
