//! `imgcluster features`: write preprocessed images to a `.npy` file for other tools.

use std::io::Write;

use anyhow::{Context, Result};
use imgcluster::dataset::{npy, Dataset, Pixels};

use imgcluster::features::{PipelineParams, Preset};
use imgcluster::CvRng;

use imgcluster::features::FeatureKind;
use imgcluster::imgproc::DeskewValidParams;

use crate::args::{FeaturesArgs, FeaturesOutArg, PartArg};
use crate::data::{self, DataSource};
use crate::output::{self, Outputs};
use crate::progress::{with_stage_spinner, Progress};

/// The data set of `a`, or the part of it `--train-ratio` and `--part` name.
fn load(a: &FeaturesArgs) -> Result<Dataset> {
    let ds = data::load(&DataSource::from_args(&a.data))?.dataset;
    match a.train_ratio {
        Some(r) if r < 1.0 => {
            let split = ds.split(r).with_context(|| format!("--train-ratio {r}"))?;
            Ok(match a.part {
                PartArg::HeldOut => split.test,
                PartArg::Train => split.train,
            })
        }
        _ => Ok(ds),
    }
}

/// Writes `bytes` to `--out` and the labels of `ds` to `--labels-out`, all or nothing.
fn write(a: &FeaturesArgs, ds: &Dataset, bytes: Vec<u8>) -> Result<()> {
    let mut outputs = Outputs::default();
    outputs.add(&a.out, bytes);
    if let Some(p) = &a.labels_out {
        let Some(labels) = ds.labels() else {
            anyhow::bail!("--labels-out {}: the data set has no labels", p.display());
        };
        let labels: Vec<i32> = labels.iter().map(|&l| l as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    outputs.commit()
}

pub fn run(a: &FeaturesArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    output::prepare_file(&a.out, "--out")?;
    if let Some(p) = &a.labels_out {
        output::prepare_file(p, "--labels-out")?;
    }
    let kind = match a.features {
        FeaturesOutArg::Raw => FeatureKind::Raw,
        FeaturesOutArg::Deskew => FeatureKind::Deskew(DeskewValidParams::default()),
        FeaturesOutArg::Hog => return write_pipeline_features(a, Preset::Hog, progress, w),
        FeaturesOutArg::Best => return write_pipeline_features(a, Preset::Best, progress, w),
    };
    let ds = load(a)?;
    let _phase = progress.spinner(format!("{} of {} samples…", kind.name(), ds.len()));
    let processed = imgcluster::features::preprocess(&ds, &kind, Default::default())
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
    write(a, &ds, bytes)?;
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
fn write_pipeline_features(
    a: &FeaturesArgs,
    preset: Preset,
    progress: &Progress,
    w: &mut impl Write,
) -> Result<()> {
    let ds = &load(a)?;
    let k =
        a.k.map_or_else(|| ds.n_classes().unwrap_or(10), |k| k as usize);
    let flag = format!("--features {}", preset.name());
    let title = format!("{} features of {} samples", preset.name(), ds.len());
    with_stage_spinner(progress, title, |watch| {
        let mut params = PipelineParams::preset(preset, k);
        if let Some((display, counter)) = watch {
            let km = params.kmeans_params().clone().progress(counter);
            params = params.kmeans(km).observer(display);
        }
        pipeline_features(a, params, preset, ds, &flag)
    })
    .and_then(|(features, dims, note)| {
        let n = ds.len();
        write(a, ds, npy::encode_f32(&[n, dims], &features))?;
        writeln!(
            w,
            "Wrote {} ({n} samples of {dims} f32, features {}, {note})",
            a.out.display(),
            preset.name()
        )?;
        Ok(())
    })
}

/// What `params`' k-means clusters on `ds` (N × dims) and which variant it is.
fn pipeline_features(
    a: &FeaturesArgs,
    params: PipelineParams,
    preset: Preset,
    ds: &Dataset,
    flag: &str,
) -> Result<(Vec<f32>, usize, &'static str)> {
    let p = params.check().with_context(|| flag.to_string())?;
    Ok(match preset {
        Preset::Best => {
            let rng = a
                .seed
                .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
            let mut m = p.fit(ds, &rng).with_context(|| flag.to_string())?;
            let note = if m.deskewed() {
                "deskewed variant"
            } else {
                "variant without deskew"
            };
            let e = m
                .take_training()
                .context("the fit kept no features")?
                .embedded;
            (e.features_f32().into_owned(), e.dims, note)
        }
        _ => {
            let e = p.embed(ds, true).with_context(|| flag.to_string())?;
            (e.features_f32().into_owned(), e.dims, "deskewed")
        }
    })
}
