#![no_main]
//! Any bytes given to the `.npy` reader: an error or an array, never a panic or a huge allocation.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::npy;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    if let Ok(arr) = npy::parse(data) {
        let count: usize = arr.shape.iter().product();
        let len = match &arr.data {
            npy::NpyData::U8(v) => v.len(),
            npy::NpyData::I64(v) => v.len(),
            npy::NpyData::U64(v) => v.len(),
            npy::NpyData::F32(v) => v.len(),
            npy::NpyData::F64(v) => v.len(),
        };
        assert_eq!(count, len);
        let _ = arr.clone().into_labels();
        let _ = arr.into_dataset();
    }
});
