//! `imgcluster features`: write preprocessed images to a `.npy` file for other tools.

use std::io::Write;

use anyhow::{Context, Result};
use imgcluster::dataset::npy;

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
    let (pixels, h, wd) = processed
        .images_u8()
        .with_context(|| format!("--features {}", kind.name()))?;
    let bytes = npy::encode_u8(&[processed.len(), h, wd], pixels);
    output::write_atomic(&a.out, &bytes)?;
    writeln!(
        w,
        "Wrote {} ({} images of {h}x{wd} u8, {})",
        a.out.display(),
        processed.len(),
        kind.name()
    )?;
    Ok(())
}
