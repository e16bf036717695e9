#![no_main]
//! Any bytes given to the grid PNG loader: an error or a data set, never a panic.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::grid::{decode_grid, GridLayout};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // The first byte picks the layout, the rest is the file.
    let cell = usize::from(data[0] % 8) + 1;
    let classes = usize::from(data[0] >> 5);
    let layout = GridLayout {
        cell,
        classes: (classes > 0).then_some(classes),
    };
    if let Ok(ds) = decode_grid(&data[1..], layout) {
        assert_eq!(ds.dims(), cell * cell);
        if let Some(labels) = ds.labels() {
            assert_eq!(labels.len(), ds.len());
        }
    }
});
