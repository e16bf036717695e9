#![no_main]
//! Any bytes given to the IDX reader (plain or gzipped): an error or an array, never a panic.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::idx;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    if let Ok(arr) = idx::parse(data) {
        assert_eq!(arr.shape.iter().product::<usize>(), arr.data.len());
        let _ = arr.clone().into_labels();
        let _ = arr.into_dataset();
    }
});
