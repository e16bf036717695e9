//! The one clustering run of `classify` and `tutorial`, whatever the pipeline: split, fit
//! the pipeline, learn the classes, predict the held-out part, score.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use imgcluster::dataset::Dataset;
use imgcluster::features::{FeaturesError, Pipeline, PipelineParams, StageTimes};
use imgcluster::kmeans::{self, Data, KMeansError};
use imgcluster::model::{
    Classes, FitRecord, FittedPipeline, InputKind, KMeansRecord, MiniBatchInfo, ScoredFit, Stages,
};
use imgcluster::{CvRng, Threads};

use crate::progress::{with_fit_bar, with_stage_spinner, Progress, StageDisplay};

/// What to run: the pipeline (not yet checked, so that a progress counter can be added to
/// its k-means), the seed, the split and where the data came from.
pub struct RunSpec {
    pub params: PipelineParams,
    /// `cv2.setRNGSeed(seed)`; `None` is OpenCV's default generator state.
    pub seed: Option<i32>,
    pub threads: Threads,
    /// Cluster this part of the data and predict the rest; `None` clusters everything.
    pub train_ratio: Option<f64>,
    /// The data set as the user named it (for the model's record).
    pub source: String,
}

impl RunSpec {
    fn rng(&self) -> CvRng {
        self.seed
            .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed)
    }
}

pub fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Error messages that name the flag at fault.
fn explain(e: FeaturesError, pipeline: &str) -> anyhow::Error {
    match e {
        FeaturesError::KMeans(KMeansError::TooFewSamples { n, k })
        | FeaturesError::TooFewSamples {
            stage: "spectral embedding",
            n,
            needed: k,
        } => anyhow::anyhow!("-k {k}: more clusters than the {n} samples to cluster"),
        e => anyhow::Error::new(e).context(format!("--pipeline {pipeline}")),
    }
}

/// The checked pipeline of `spec`, reporting its stages and k-means passes if asked.
fn pipeline(
    spec: &RunSpec,
    watch: Option<(Arc<StageDisplay>, Arc<kmeans::FitProgress>)>,
) -> Result<Pipeline> {
    let mut params = spec.params.clone().threads(spec.threads);
    if let Some((display, counter)) = watch {
        let k = params.kmeans_params().clone().progress(counter);
        params = params.kmeans(k).observer(display);
    }
    Ok(params.check()?)
}

/// Fits `spec`'s pipeline to `train`, under a spinner that names each stage as it starts
/// (with the k-means passes counted).
fn fit(train: &Dataset, spec: &RunSpec, progress: &Progress) -> Result<(Pipeline, FittedPipeline)> {
    let checked = pipeline(spec, None)?;
    let name = checked.preset().map_or("custom", |p| p.name()).to_string();
    let k = checked.kmeans();
    let title = format!(
        "{name} (K={}, {} attempts, {} samples)",
        k.k(),
        k.attempts(),
        train.len()
    );
    let rng = spec.rng();
    let model = with_stage_spinner(progress, title, |watch| {
        let watched = pipeline(spec, watch).map_err(|e| FeaturesError::InvalidParam {
            name: "pipeline",
            reason: e.to_string(),
        })?;
        watched.fit(train, &rng)
    });
    Ok((checked, model.map_err(|e| explain(e, &name))?))
}

/// Runs `spec` on `ds`: fits the pipeline to the training part (all of `ds`, or the first
/// `train_ratio` of each class) under a progress bar, then scores it
/// ([`ScoredFit::new`]: classes learned, the held-out part predicted by the fitted model
/// exactly as `predict` would, both parts scored).
pub fn run(ds: &Dataset, spec: &RunSpec, progress: &Progress) -> Result<ScoredFit> {
    let t = Instant::now();
    let split = match spec.train_ratio {
        Some(r) if r < 1.0 => Some(ds.split(r).with_context(|| format!("--train-ratio {r}"))?),
        _ => None,
    };
    let train = split.as_ref().map_or(ds, |s| &s.train);
    let (pipeline, mut model) = fit(train, spec, progress)?;
    {
        let r = model.record_mut();
        r.kmeans.seed = spec.seed;
        r.training.source = Some(spec.source.clone());
        r.training.train_ratio = spec.train_ratio.filter(|&r| r < 1.0);
    }
    let _phase = split
        .as_ref()
        .map(|s| progress.spinner(format!("predicting the {} held-out samples…", s.test.len())));
    ScoredFit::new(
        pipeline,
        model,
        ds,
        split.as_ref(),
        t.elapsed(),
        spec.threads,
    )
    .context("scoring the fitted pipeline")
}

/// Runs k-means on samples read in place (a memory-mapped `.npy`, raw pixels only): the
/// same engine as [`run`]'s, and a model of the raw pixels. `truth` are the classes.
pub fn run_in_place(
    data: Data<'_>,
    path: &std::path::Path,
    truth: Option<&[u32]>,
    class_names: Option<Vec<String>>,
    spec: &RunSpec,
    progress: &Progress,
) -> Result<ScoredFit> {
    let t = Instant::now();
    let checked = pipeline(spec, None)?;
    let p = checked.kmeans();
    let (n, dims) = (data.len(), data.dims());
    let message = format!(
        "k-means: K={}, {} attempts on {n} × {dims}",
        p.k(),
        p.attempts()
    );
    let planned = (p.attempts() * p.max_iter()) as u64;
    let result = with_fit_bar(progress, message, planned, |counter| {
        let mut p = p.clone().with_rng(spec.rng());
        if let Some(c) = counter {
            p = p.with_progress(c);
        }
        match checked.minibatch() {
            None => p.fit(data).map(|f| (f, None)),
            Some(mb) => p.fit_minibatch(mb, data).map(|r| {
                let info = MiniBatchInfo::from(&r);
                (r.fit, Some(info))
            }),
        }
    });
    let (fit, minibatch) = result.map_err(|e| match e {
        // The samples are those of the file: name it, as the in-memory loader does.
        KMeansError::NonFinite { row, col } => anyhow::anyhow!(
            "--data {}: sample {row}, feature {col} is not a finite number",
            path.display()
        ),
        e => explain(FeaturesError::KMeans(e), "tutorial-raw"),
    })?;
    let kmeans_time = t.elapsed();
    let input = match data {
        Data::U8 { .. } => InputKind::U8,
        Data::F32 { .. } => InputKind::F32,
    };
    let mut record = FitRecord::new(fit.k);
    record.preset = checked.preset().map(|p| p.name().to_string());
    record.kmeans = KMeansRecord::of_fit(p, &fit, minibatch);
    record.kmeans.seed = spec.seed;
    record.training.source = Some(spec.source.clone());
    record.training.n_samples = n;
    let mut train = None;
    let mut classes = None;
    if let Some(truth) = truth {
        let n_classes = truth.iter().max().map_or(0, |&m| m as usize + 1);
        let (c, eval) = Classes::learn(truth, &fit.labels, n_classes, fit.k, class_names)?;
        classes = Some(c);
        train = Some(eval);
    }
    let stages = Stages::pixels(input, None, dims);
    let model = FittedPipeline::new(stages, fit.centers.clone(), classes, record)?;
    let stages = StageTimes {
        kmeans: kmeans_time,
        ..StageTimes::default()
    };
    Ok(ScoredFit {
        pipeline: checked,
        model,
        clusters: fit.labels.clone(),
        fit,
        images: None,
        n_samples: n,
        n_train: n,
        train,
        held_out: None,
        stages,
        fit_time: kmeans_time,
        predict_time: Duration::ZERO,
    })
}
