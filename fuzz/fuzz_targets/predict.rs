#![no_main]
//! Any bytes given as a model to `predict`: an error, or a model that classifies samples of
//! its own input kind and size into its own clusters, never a panic.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::{Dataset, Pixels};
use imgcluster::model::{FittedPipeline, InputKind};
use imgcluster::Threads;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = FittedPipeline::from_bytes(data) else {
        return;
    };
    let dims = model.input_dims();
    if dims == 0 || dims > 1 << 14 {
        return;
    }
    let n = 3;
    let ds = match (model.image_shape(), model.input_kind()) {
        (Some((h, w)), InputKind::U8) => {
            let pixels = (0..n * h * w).map(|i| (i * 37 % 256) as u8).collect();
            Dataset::from_images(n, h, w, pixels)
        }
        (shape, InputKind::U8) => Dataset::from_features(
            n,
            dims,
            shape,
            Pixels::U8((0..n * dims).map(|i| (i * 37 % 256) as u8).collect()),
        ),
        (shape, _) => Dataset::from_features(
            n,
            dims,
            shape,
            Pixels::F32((0..n * dims).map(|i| (i % 17) as f32).collect()),
        ),
    };
    let Ok(ds) = ds else {
        return;
    };
    if let Ok(predictions) = model.predict(&ds, Threads::Fixed(1)) {
        assert_eq!(predictions.len(), n);
        for p in predictions {
            assert!((p.cluster as usize) < model.k());
            assert!(p.squared_distance >= 0.0 || p.squared_distance.is_nan());
        }
    }
});
