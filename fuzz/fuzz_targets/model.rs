#![no_main]
//! Any bytes given to the model reader (version 2 safetensors or version 1 JSON): an error
//! or a consistent model, never a panic.

#[path = "limit.rs"]
mod limit;

use imgcluster::model::FittedPipeline;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = FittedPipeline::from_bytes(data) {
        // A model that loads writes a version-2 file that loads as the same model.
        let bytes = model.to_bytes();
        let again = FittedPipeline::from_bytes(&bytes).expect("round trip");
        assert_eq!(again, model);
        assert_eq!(again.to_bytes(), bytes);
    }
});
