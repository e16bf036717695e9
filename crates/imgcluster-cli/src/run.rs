//! The one clustering run of `classify` and `tutorial`, whatever the pipeline: split, fit
//! the pipeline, learn the classes, predict the held-out part, score.

use std::time::Instant;

use anyhow::{Context, Result};
use imgcluster::dataset::Dataset;
use imgcluster::features::{Deskew, FeaturesError, Pipeline, PipelineParams, StageTimes};
use imgcluster::kmeans::{self, KMeansError, KMeansFit};
use imgcluster::metrics::{ConfusionMatrix, Contingency, Evaluation};
use imgcluster::model::{
    Classes, FitRecord, FittedPipeline, InitKind, InputKind, KMeansRecord, MiniBatchInfo,
    ModelError, Stages,
};
use imgcluster::{CvRng, Threads};

use crate::progress::{with_fit_bar, Progress};

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

/// Scores of the held-out part, with the mapping learned on the training part.
pub struct HeldOut {
    pub n: usize,
    pub confusion: ConfusionMatrix,
    pub nmi: f64,
    pub ari: f64,
}

/// What a run produced.
pub struct RunOutcome {
    /// The pipeline as checked (its settings).
    pub pipeline: Pipeline,
    /// The fitted pipeline, with its classes when the data have labels.
    pub model: FittedPipeline,
    /// The k-means fit on the training part (its labels are the training clusters).
    pub fit: KMeansFit,
    /// Every sample after the model's image stage (deskewed or not), original order, labels
    /// kept; `None` for a memory-mapped run.
    pub images: Option<Dataset>,
    /// Number of samples, training and held-out.
    pub n_samples: usize,
    /// Cluster of every sample in original order (held-out samples predicted by the model).
    pub clusters: Vec<u32>,
    /// Number of training samples.
    pub n_train: usize,
    /// Scores on the training part, when labels are known.
    pub train: Option<Evaluation>,
    /// Scores on the held-out part, when there is one and labels are known.
    pub held_out: Option<HeldOut>,
    /// Wall time per stage of the fit.
    pub stages: StageTimes,
    /// Wall time of the fit (all stages) and of predicting the held-out part.
    pub fit_ms: f64,
    pub predict_ms: f64,
}

impl RunOutcome {
    /// The confusion matrix to report: held-out when there is one, else training.
    pub fn headline(&self) -> Option<&ConfusionMatrix> {
        match (&self.held_out, &self.train) {
            (Some(h), _) => Some(&h.confusion),
            (None, Some(t)) => Some(&t.confusion),
            _ => None,
        }
    }

    /// The class of cluster `c`, when classes were learned.
    pub fn class_of(&self, c: usize) -> Option<u32> {
        self.model.mapping().and_then(|m| m.get(c).copied())
    }

    /// The name of `class`: its class name, else its number.
    pub fn class_label(&self, class: u32) -> String {
        self.model
            .class_name(class)
            .map_or_else(|| class.to_string(), str::to_string)
    }

    /// A caption per cluster: `c{arrow}class` when classes were learned, else `cluster c`.
    pub fn cluster_captions(&self, arrow: &str) -> Vec<String> {
        (0..self.fit.k)
            .map(|c| match self.class_of(c) {
                Some(class) => format!("{c}{arrow}{}", self.class_label(class)),
                None => format!("cluster {c}"),
            })
            .collect()
    }

    /// Labels of classes `0..n` for tables and figures.
    pub fn class_labels(&self, n: usize) -> Vec<String> {
        (0..n as u32).map(|c| self.class_label(c)).collect()
    }

    /// Wall time of the stages before k-means and of k-means.
    pub fn features_ms(&self) -> f64 {
        let s = &self.stages;
        (s.deskew + s.features + s.pca + s.knn + s.spectral).as_secs_f64() * 1e3
    }

    pub fn kmeans_ms(&self) -> f64 {
        self.stages.kmeans.as_secs_f64() * 1e3
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

/// The checked pipeline of `spec`, its k-means counting passes in `counter` if given.
fn pipeline(
    spec: &RunSpec,
    counter: Option<std::sync::Arc<kmeans::FitProgress>>,
) -> Result<Pipeline> {
    let mut params = spec.params.clone().threads(spec.threads);
    if let Some(c) = counter {
        let k = params.kmeans_params().clone().progress(c);
        params = params.kmeans(k);
    }
    Ok(params.check()?)
}

/// Fits `spec`'s pipeline to `train`, with a bar of the k-means passes (a spinner while
/// both deskew variants run side by side).
fn fit(train: &Dataset, spec: &RunSpec, progress: &Progress) -> Result<(Pipeline, FittedPipeline)> {
    let checked = pipeline(spec, None)?;
    let name = checked.preset().map_or("custom", |p| p.name()).to_string();
    let k = checked.kmeans();
    let message = format!(
        "{name}: K={}, {} attempts on {} samples",
        k.k(),
        k.attempts(),
        train.len()
    );
    let rng = spec.rng();
    let model = if checked.deskew() == Deskew::Auto {
        let _phase = progress.spinner(message);
        checked.fit(train, &rng)
    } else {
        let planned = (k.attempts() * k.max_iter()) as u64;
        with_fit_bar(progress, message, planned, |counter| match counter {
            Some(c) => pipeline(spec, Some(c))
                .map_err(|e| FeaturesError::InvalidParam {
                    name: "pipeline",
                    reason: e.to_string(),
                })
                .and_then(|p| p.fit(train, &rng)),
            None => checked.fit(train, &rng),
        })
    };
    Ok((checked, model.map_err(|e| explain(e, &name))?))
}

/// Names the data set in a model error.
fn model_error(e: ModelError) -> anyhow::Error {
    anyhow::Error::new(e).context("applying the fitted pipeline")
}

/// Runs `spec` on `ds`: fits the pipeline to the training part (all of `ds`, or the first
/// `train_ratio` of each class), learns the classes, predicts the held-out part with the
/// fitted model — exactly as `predict` would — and scores both parts.
pub fn run(ds: &Dataset, spec: &RunSpec, progress: &Progress) -> Result<RunOutcome> {
    let t = Instant::now();
    let split = match spec.train_ratio {
        Some(r) if r < 1.0 => Some(ds.split(r).with_context(|| format!("--train-ratio {r}"))?),
        _ => None,
    };
    let train = split.as_ref().map_or(ds, |s| &s.train);
    let (pipeline, mut model) = fit(train, spec, progress)?;
    let training = model
        .take_training()
        .context("the fit kept no training clusters")?;
    let fit_ms = ms(t);
    {
        let r = model.record_mut();
        r.kmeans.seed = spec.seed;
        r.training.source = Some(spec.source.clone());
        r.training.train_ratio = spec.train_ratio.filter(|&r| r < 1.0);
    }
    let fit = training.fit;
    let mut train_eval = None;
    if let (Some(labels), Some(n_classes)) = (train.labels(), ds.n_classes()) {
        let names = ds.class_names().map(<[String]>::to_vec);
        let (classes, eval) = Classes::learn(labels, &fit.labels, n_classes, fit.k, names)?;
        model.set_classes(Some(classes))?;
        train_eval = Some(eval);
    }

    let t = Instant::now();
    let mut clusters = vec![0u32; ds.len()];
    let mut held_out = None;
    match &split {
        None => clusters.copy_from_slice(&fit.labels),
        Some(s) => {
            for (&i, &c) in s.train_indices.iter().zip(&fit.labels) {
                clusters[i] = c;
            }
            let preds = {
                let _phase =
                    progress.spinner(format!("predicting the {} held-out samples…", s.test.len()));
                model.predict(&s.test, spec.threads).map_err(model_error)?
            };
            for (&i, p) in s.test_indices.iter().zip(&preds) {
                clusters[i] = p.cluster;
            }
            if let (Some(truth), Some(eval)) = (s.test.labels(), &train_eval) {
                let n_classes = eval.mapping.n_classes();
                let held: Vec<u32> = preds.iter().map(|p| p.cluster).collect();
                let table = Contingency::new(truth, &held, n_classes, fit.k)?;
                held_out = Some(HeldOut {
                    n: s.test.len(),
                    confusion: ConfusionMatrix::from_contingency(&table, &eval.mapping)?,
                    nmi: table.nmi(),
                    ari: table.ari(),
                });
            }
        }
    }
    let predict_ms = ms(t);
    let images = model.images(ds, spec.threads).map_err(model_error)?;
    Ok(RunOutcome {
        pipeline,
        model,
        fit,
        images: Some(images),
        n_samples: ds.len(),
        clusters,
        n_train: train.len(),
        train: train_eval,
        held_out,
        stages: training.times,
        fit_ms,
        predict_ms,
    })
}

/// Samples to cluster, borrowed from a memory-mapped file.
#[derive(Clone, Copy)]
pub enum Values<'a> {
    U8(&'a [u8]),
    F32(&'a [f32]),
}

/// Runs k-means on samples read in place (a memory-mapped `.npy`, raw pixels only): the
/// same engine as [`run`]'s, and a model of the raw pixels. `truth` are the classes.
pub fn run_in_place(
    values: Values<'_>,
    dims: usize,
    truth: Option<&[u32]>,
    spec: &RunSpec,
    progress: &Progress,
) -> Result<RunOutcome> {
    let t = Instant::now();
    let checked = pipeline(spec, None)?;
    let p = checked.kmeans();
    let n = match values {
        Values::U8(x) => x.len(),
        Values::F32(x) => x.len(),
    } / dims.max(1);
    let message = format!(
        "k-means: K={}, {} attempts on {n} × {dims}",
        p.k(),
        p.attempts()
    );
    let planned = (p.attempts() * p.max_iter()) as u64;
    let mut rng = spec.rng();
    let result = with_fit_bar(progress, message, planned, |counter| {
        let p = match counter {
            Some(c) => &p.clone().with_progress(c),
            None => p,
        };
        let info = |r: &kmeans::MiniBatchFit| MiniBatchInfo {
            batch_size: r.batch_size,
            steps: r.steps,
            epochs: r.epochs,
            stop: r.stop,
        };
        match (checked.minibatch(), values) {
            (None, Values::U8(x)) => kmeans::fit_u8(p, x, dims, &mut rng).map(|f| (f, None)),
            (None, Values::F32(x)) => kmeans::fit(p, x, dims, &mut rng).map(|f| (f, None)),
            (Some(mb), Values::U8(x)) => {
                kmeans::fit_minibatch_u8(p, mb, x, dims, &mut rng).map(|r| {
                    let i = info(&r);
                    (r.fit, Some(i))
                })
            }
            (Some(mb), Values::F32(x)) => {
                kmeans::fit_minibatch(p, mb, x, dims, &mut rng).map(|r| {
                    let i = info(&r);
                    (r.fit, Some(i))
                })
            }
        }
    });
    let (fit, minibatch) = result.map_err(|e| explain(FeaturesError::KMeans(e), "tutorial-raw"))?;
    let kmeans_ms = ms(t);
    let input = match values {
        Values::U8(_) => InputKind::U8,
        Values::F32(_) => InputKind::F32,
    };
    let mut record = FitRecord::new(fit.k);
    record.preset = checked.preset().map(|p| p.name().to_string());
    record.kmeans = KMeansRecord {
        attempts: p.attempts(),
        max_iter: p.term().max_iter,
        epsilon: p.term().epsilon,
        init: InitKind::of(p.init()),
        mode: p.mode(),
        seed: spec.seed,
        compactness: Some(fit.compactness),
        iterations: Some(fit.iterations),
        minibatch,
        ..KMeansRecord::new(fit.k)
    };
    record.training.source = Some(spec.source.clone());
    record.training.n_samples = n;
    let mut train = None;
    let mut classes = None;
    if let Some(truth) = truth {
        let n_classes = truth.iter().max().map_or(0, |&m| m as usize + 1);
        let (c, eval) = Classes::learn(truth, &fit.labels, n_classes, fit.k, None)?;
        classes = Some(c);
        train = Some(eval);
    }
    let stages = Stages::pixels(input, None, dims);
    let model = FittedPipeline::new(stages, fit.centers.clone(), classes, record)?;
    let stages = StageTimes {
        kmeans: std::time::Duration::from_secs_f64(kmeans_ms / 1e3),
        ..StageTimes::default()
    };
    Ok(RunOutcome {
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
        fit_ms: kmeans_ms,
        predict_ms: 0.0,
    })
}
