//! `imgcluster features`: write preprocessed images to a `.npy` file for other tools.

use std::io::Write;

use anyhow::{Context, Result};
use imgcluster::dataset::{npy, Pixels};

use crate::args::FeaturesArgs;
use crate::classify::{data_source, feature_kind};
use crate::data;
use crate::output;

pub fn run(a: &FeaturesArgs, w: &mut impl Write) -> Result<()> {
    output::prepare_file(&a.out, "--out")?;
    let kind = feature_kind(a.features);
    let loaded = data::load(&data_source(&a.data))?;
    let processed = imgcluster::features::preprocess(&loaded.dataset, &kind, Default::default())
        .with_context(|| format!("--features {}", kind.name()))?;
    let n = processed.len();
    let shape: Vec<usize> = match processed.image_shape() {
        Some((h, wd)) => vec![n, h, wd],
        None => vec![n, processed.dims()],
    };
    let (bytes, kind_name) = match processed.pixels() {
        Pixels::U8(v) => (npy::encode_u8(&shape, v), "u8"),
        Pixels::F32(v) => (npy::encode_f32(&shape, v), "f32"),
    };
    output::write_atomic(&a.out, &bytes)?;
    let dims: Vec<String> = shape[1..].iter().map(|d| d.to_string()).collect();
    writeln!(
        w,
        "Wrote {} ({n} samples of {} {kind_name}, features {})",
        a.out.display(),
        dims.join("x"),
        kind.name()
    )?;
    Ok(())
}
