//! `imgcluster features`: write preprocessed images to a `.npy` file for other tools.

use std::io::Write;

use anyhow::{Context, Result};
use imgcluster::dataset::{npy, Pixels};

use imgcluster::features::{PipelineParams, Preset};
use imgcluster::CvRng;

use crate::args::{FeaturesArg, FeaturesArgs, FeaturesOutArg};
use crate::classify::{data_source, feature_kind};
use crate::data;
use crate::output;

pub fn run(a: &FeaturesArgs, w: &mut impl Write) -> Result<()> {
    output::prepare_file(&a.out, "--out")?;
    let kind = match a.features {
        FeaturesOutArg::Raw => feature_kind(FeaturesArg::Raw),
        FeaturesOutArg::Deskew => feature_kind(FeaturesArg::Deskew),
        FeaturesOutArg::Hog => return write_pipeline_features(a, Preset::Hog, w),
        FeaturesOutArg::Best => return write_pipeline_features(a, Preset::Best, w),
    };
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

/// `--features hog|best`: what the pipeline's k-means clusters, as f32 N x D.
fn write_pipeline_features(a: &FeaturesArgs, preset: Preset, w: &mut impl Write) -> Result<()> {
    let loaded = data::load(&data_source(&a.data))?;
    let ds = &loaded.dataset;
    let k =
        a.k.map_or_else(|| ds.n_classes().unwrap_or(10), |k| k as usize);
    let flag = format!("--features {}", preset.name());
    let p = PipelineParams::preset(preset, k)
        .check()
        .with_context(|| flag.clone())?;
    let (features, dims, note) = match preset {
        Preset::Best => {
            let rng = a
                .seed
                .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
            let o = p.run(ds, &rng).with_context(|| flag.clone())?;
            let note = match o.decision {
                Some(d) if d.deskewed() => "deskewed variant",
                _ => "variant without deskew",
            };
            (o.embedded.features, o.embedded.dims, note)
        }
        _ => {
            let e = p.embed(ds, true).with_context(|| flag.clone())?;
            (e.features, e.dims, "deskewed")
        }
    };
    let n = ds.len();
    output::write_atomic(&a.out, &npy::encode_f32(&[n, dims], &features))?;
    writeln!(
        w,
        "Wrote {} ({n} samples of {dims} f32, features {}, {note})",
        a.out.display(),
        preset.name()
    )?;
    Ok(())
}
