//! The clustering run shared by `classify` and `tutorial`: preprocess, split, fit, score.

use std::time::Instant;

use anyhow::{Context, Result};
use imgcluster::dataset::{Dataset, Pixels};
use imgcluster::features::FeatureKind;
use imgcluster::kmeans::{
    self, CheckedKMeansParams, CheckedMiniBatchParams, KMeansError, KMeansFit, MiniBatchStop,
};
use imgcluster::metrics::{ClusterMapping, ConfusionMatrix, Contingency, Evaluation, Mapping};
use imgcluster::{CvRng, Threads};

use crate::progress::{preprocess_with_progress, with_fit_bar, Progress};

/// What to run.
pub struct RunSpec {
    pub kind: FeatureKind,
    pub params: CheckedKMeansParams,
    /// `cv2.setRNGSeed(seed)`; `None` is OpenCV's default generator state.
    pub seed: Option<i32>,
    pub threads: Threads,
    /// Cluster this part of the data and score the rest; `None` clusters everything.
    pub train_ratio: Option<f64>,
    /// Mini-batch k-means with these settings instead of Lloyd.
    pub minibatch: Option<CheckedMiniBatchParams>,
}

/// How far a mini-batch fit went.
pub struct MiniBatchRun {
    pub batch_size: usize,
    pub steps: usize,
    pub epochs: usize,
    pub stop: MiniBatchStop,
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
    /// The data after preprocessing (all samples, original order).
    pub processed: Dataset,
    /// The k-means fit on the training part.
    pub fit: KMeansFit,
    /// Cluster of every sample in original order (held-out samples by nearest center).
    pub clusters: Vec<u32>,
    /// Number of training samples.
    pub n_train: usize,
    /// Scores on the training part, when labels are known.
    pub train: Option<Evaluation>,
    /// Scores on the held-out part, when there is one and labels are known.
    pub held_out: Option<HeldOut>,
    pub features_ms: f64,
    pub kmeans_ms: f64,
    /// The steps of a mini-batch fit, when it was one.
    pub minibatch: Option<MiniBatchRun>,
}

impl RunOutcome {
    /// The mapping cluster → class, when labels are known.
    pub fn mapping(&self) -> Option<&ClusterMapping> {
        self.train.as_ref().map(|e| &e.mapping)
    }

    /// The confusion matrix to report: held-out when there is one, else training.
    pub fn headline(&self) -> Option<&ConfusionMatrix> {
        match (&self.held_out, &self.train) {
            (Some(h), _) => Some(&h.confusion),
            (None, Some(t)) => Some(&t.confusion),
            _ => None,
        }
    }
}

pub fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// One-to-one matching when there are as many clusters as classes, else majority.
pub fn mapping_for(k: usize, n_classes: usize) -> Mapping {
    if k == n_classes {
        Mapping::OneToOne
    } else {
        Mapping::Majority
    }
}

/// Samples to cluster, borrowed (from a data set in memory or a memory-mapped file).
#[derive(Clone, Copy)]
pub enum Values<'a> {
    U8(&'a [u8]),
    F32(&'a [f32]),
}

/// Fits `spec` to `values` (`dims` per sample) with a bar of its passes; returns the fit, the steps of
/// a mini-batch fit and the time. Byte data goes in as bytes: no f32 copy (the results are
/// the same).
pub fn fit_values(
    values: Values<'_>,
    dims: usize,
    spec: &RunSpec,
    progress: &Progress,
) -> Result<(KMeansFit, Option<MiniBatchRun>, f64)> {
    let t = Instant::now();
    let mut rng = spec
        .seed
        .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
    let n = match values {
        Values::U8(x) => x.len(),
        Values::F32(x) => x.len(),
    } / dims.max(1);
    let message = format!(
        "k-means: K={}, {} attempts on {n} × {dims}",
        spec.params.k(),
        spec.params.attempts(),
    );
    let planned = (spec.params.attempts() * spec.params.max_iter()) as u64;
    let fit = with_fit_bar(progress, message, planned, |counter| {
        let p = match counter {
            Some(c) => &spec.params.clone().with_progress(c),
            None => &spec.params,
        };
        fit_engine(p, spec, values, dims, &mut rng)
    });
    let (fit, minibatch) = fit.map_err(|e| match e {
        KMeansError::TooFewSamples { n, k } => {
            anyhow::anyhow!("-k {k}: more clusters than the {n} samples to cluster")
        }
        e => anyhow::Error::new(e).context("k-means"),
    })?;
    Ok((fit, minibatch, ms(t)))
}

/// The fit of `values` with `p` (those of `spec`, perhaps counting progress): Lloyd
/// or mini-batch, bytes or floats.
fn fit_engine(
    p: &CheckedKMeansParams,
    spec: &RunSpec,
    values: Values<'_>,
    dims: usize,
    rng: &mut CvRng,
) -> Result<(KMeansFit, Option<MiniBatchRun>), KMeansError> {
    match (&spec.minibatch, values) {
        (None, Values::U8(x)) => kmeans::fit_u8(p, x, dims, rng).map(|f| (f, None)),
        (None, Values::F32(x)) => kmeans::fit(p, x, dims, rng).map(|f| (f, None)),
        (Some(mb), values) => match values {
            Values::U8(x) => kmeans::fit_minibatch_u8(p, mb, x, dims, rng),
            Values::F32(x) => kmeans::fit_minibatch(p, mb, x, dims, rng),
        }
        .map(|r| {
            let run = MiniBatchRun {
                batch_size: r.batch_size,
                steps: r.steps,
                epochs: r.epochs,
                stop: r.stop,
            };
            (r.fit, Some(run))
        }),
    }
}

/// Scores `clusters` against the true classes `truth`.
pub fn evaluate(truth: &[u32], clusters: &[u32], n_classes: usize, k: usize) -> Result<Evaluation> {
    let table = Contingency::new(truth, clusters, n_classes, k)?;
    Ok(Evaluation::from_contingency(
        table,
        mapping_for(k, n_classes),
    )?)
}

/// Runs `spec` on `ds`, with progress for the feature extraction and the k-means fit.
pub fn run(ds: &Dataset, spec: &RunSpec, progress: &Progress) -> Result<RunOutcome> {
    let t = Instant::now();
    let processed = preprocess_with_progress(ds, &spec.kind, spec.threads, progress)?;
    let features_ms = ms(t);

    let (train_idx, test_idx): (Vec<usize>, Vec<usize>) = match spec.train_ratio {
        Some(r) if r < 1.0 => {
            let s = processed
                .split(r)
                .with_context(|| format!("--train-ratio {r}"))?;
            (s.train_indices, s.test_indices)
        }
        _ => ((0..processed.len()).collect(), Vec::new()),
    };
    let subset;
    let train = if test_idx.is_empty() {
        &processed
    } else {
        subset = processed.subset(&train_idx);
        &subset
    };

    let values = match train.pixels() {
        Pixels::U8(x) => Values::U8(x),
        Pixels::F32(x) => Values::F32(x),
    };
    let (fit, minibatch, kmeans_ms) = fit_values(values, train.dims(), spec, progress)?;

    let mut clusters = vec![0u32; processed.len()];
    for (&i, &c) in train_idx.iter().zip(&fit.labels) {
        clusters[i] = c;
    }
    let mut held_out_clusters = Vec::new();
    if !test_idx.is_empty() {
        let test = processed.subset(&test_idx);
        held_out_clusters = fit.predict(&test.to_f32(), spec.threads)?.0;
        for (&i, &c) in test_idx.iter().zip(&held_out_clusters) {
            clusters[i] = c;
        }
    }

    let (mut train_eval, mut held_out) = (None, None);
    if let (Some(labels), Some(n_classes)) = (processed.labels(), processed.n_classes()) {
        let k = fit.k;
        let truth: Vec<u32> = train_idx.iter().map(|&i| labels[i]).collect();
        let eval = evaluate(&truth, &fit.labels, n_classes, k)?;
        if !test_idx.is_empty() {
            let truth: Vec<u32> = test_idx.iter().map(|&i| labels[i]).collect();
            let table = Contingency::new(&truth, &held_out_clusters, n_classes, k)?;
            held_out = Some(HeldOut {
                n: test_idx.len(),
                confusion: ConfusionMatrix::from_contingency(&table, &eval.mapping)?,
                nmi: table.nmi(),
                ari: table.ari(),
            });
        }
        train_eval = Some(eval);
    }
    Ok(RunOutcome {
        processed,
        fit,
        clusters,
        n_train: train_idx.len(),
        train: train_eval,
        held_out,
        features_ms,
        kmeans_ms,
        minibatch,
    })
}
