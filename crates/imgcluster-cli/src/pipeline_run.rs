//! The feature pipelines beyond the tutorial (`--pipeline hog|best`): run, score, report.
//!
//! The tutorial pipelines keep their own path (`run.rs`); this one runs a library
//! [`Pipeline`] and reuses the same JSON keys, adding `pipeline`, the deskew decision and
//! the time of each stage.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use imgcluster::dataset::{npy, Dataset, Pixels};
use imgcluster::features::{FeaturesError, Pipeline, PipelineOutcome, PipelineParams, Preset};
use imgcluster::kmeans::{KMeansError, KMeansParams};
use imgcluster::metrics::{ConfusionMatrix, Contingency, Evaluation};
use imgcluster::{CvRng, Threads};
use serde_json::{json, Value};

use crate::classify::{run_json, write_scores};
use crate::data::Loaded;
use crate::figures;
use crate::output::Outputs;
use crate::run::{mapping_for, ms, HeldOut, RunOutcome, RunSpec};

/// What to run.
pub struct Settings {
    pub preset: Preset,
    /// k-means settings, with the number of clusters settled; `None` for the preset's
    /// own (with 10 clusters).
    pub kmeans: Option<KMeansParams>,
    /// `cv2.setRNGSeed(seed)` before k-means; `None` is OpenCV's default generator state.
    pub seed: Option<i32>,
    pub threads: Threads,
    /// Cluster this part of the data and score the rest (not for `best`).
    pub train_ratio: Option<f64>,
}

/// Files to write.
pub struct Files<'a> {
    pub out: Option<&'a Path>,
    pub labels_out: Option<&'a Path>,
    pub centers_out: Option<&'a Path>,
}

/// A pipeline run, scored.
pub struct PipelineRun {
    /// The library's result on the clustered (training) part.
    pub outcome: PipelineOutcome,
    /// The run in the shape the tutorial path reports (features as vectors).
    pub report: RunOutcome,
    /// The run's settings as the tutorial path describes them.
    pub spec: RunSpec,
    /// Wall time of the whole pipeline (all variants, k-means, held-out part).
    pub run_ms: f64,
}

/// The library pipeline of `s`.
pub fn pipeline(s: &Settings) -> Result<Pipeline> {
    let mut p = PipelineParams::preset(s.preset, 10).threads(s.threads);
    if let Some(k) = &s.kmeans {
        p = p.kmeans(k.clone());
    }
    Ok(p.check()?)
}

/// Error messages that name the flag at fault.
fn explain(e: FeaturesError, preset: Preset) -> anyhow::Error {
    match e {
        FeaturesError::KMeans(KMeansError::TooFewSamples { n, k })
        | FeaturesError::TooFewSamples {
            stage: "spectral embedding",
            n,
            needed: k,
        } => anyhow::anyhow!("-k {k}: more clusters than the {n} samples to cluster"),
        e => anyhow::Error::new(e).context(format!("--pipeline {}", preset.name())),
    }
}

/// Runs the pipeline of `s` on `ds` and scores it against the labels, if any.
pub fn run(ds: &Dataset, s: &Settings) -> Result<PipelineRun> {
    let t = Instant::now();
    let p = pipeline(s)?;
    let rng = s
        .seed
        .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
    let split = match s.train_ratio {
        Some(r) if r < 1.0 => Some(ds.split(r).with_context(|| format!("--train-ratio {r}"))?),
        _ => None,
    };
    let train = split.as_ref().map_or(ds, |sp| &sp.train);
    let outcome = p.run(train, &rng).map_err(|e| explain(e, s.preset))?;
    let fit = outcome.fit.clone();

    let mut clusters = vec![0u32; ds.len()];
    let mut held_out_clusters = Vec::new();
    match &split {
        None => clusters.copy_from_slice(&fit.labels),
        Some(sp) => {
            for (&i, &c) in sp.train_indices.iter().zip(&fit.labels) {
                clusters[i] = c;
            }
            // Per-image features, so the held-out images go through the same stages.
            let test = p
                .embed(&sp.test, outcome.deskewed)
                .map_err(|e| explain(e, s.preset))?;
            held_out_clusters = fit.predict(&test.features, s.threads)?.0;
            for (&i, &c) in sp.test_indices.iter().zip(&held_out_clusters) {
                clusters[i] = c;
            }
        }
    }
    let run_ms = ms(t);

    let (mut train_eval, mut held_out) = (None, None);
    if let (Some(labels), Some(n_classes)) = (ds.labels(), ds.n_classes()) {
        let k = fit.k;
        let idx: Vec<usize> = split
            .as_ref()
            .map_or_else(|| (0..ds.len()).collect(), |sp| sp.train_indices.clone());
        let truth: Vec<u32> = idx.iter().map(|&i| labels[i]).collect();
        let table = Contingency::new(&truth, &fit.labels, n_classes, k)?;
        let eval = Evaluation::from_contingency(table, mapping_for(k, n_classes))?;
        if let Some(sp) = &split {
            let truth: Vec<u32> = sp.test_indices.iter().map(|&i| labels[i]).collect();
            let table = Contingency::new(&truth, &held_out_clusters, n_classes, k)?;
            held_out = Some(HeldOut {
                n: sp.test_indices.len(),
                confusion: ConfusionMatrix::from_contingency(&table, &eval.mapping)?,
                nmi: table.nmi(),
                ari: table.ari(),
            });
        }
        train_eval = Some(eval);
    }
    let emb = &outcome.embedded;
    let mut processed = Dataset::from_features(
        emb.images.len(),
        emb.dims,
        None,
        Pixels::F32(emb.features.clone()),
    )?;
    if let Some(l) = emb.images.labels() {
        processed = processed.with_labels(l.to_vec())?;
    }
    let times = outcome.times;
    let report = RunOutcome {
        processed,
        n_train: fit.labels.len(),
        fit,
        clusters,
        train: train_eval,
        held_out,
        features_ms: (times.deskew + times.features + times.pca + times.knn + times.spectral)
            .as_secs_f64()
            * 1e3,
        kmeans_ms: times.kmeans.as_secs_f64() * 1e3,
        minibatch: None,
    };
    let spec = RunSpec {
        kind: Default::default(),
        params: p.kmeans().clone(),
        seed: s.seed,
        threads: s.threads,
        train_ratio: s.train_ratio,
        minibatch: None,
    };
    Ok(PipelineRun {
        outcome,
        report,
        spec,
        run_ms,
    })
}

/// What k-means clustered in `preset`: `hog` descriptors or the `spectral` embedding.
fn clustered(preset: Preset) -> &'static str {
    match preset {
        Preset::Hog => "hog",
        Preset::Best => "spectral",
        Preset::TutorialRaw => "raw",
        Preset::TutorialDeskew => "deskew",
    }
}

/// The JSON keys the pipelines add to [`run_json`]'s.
pub fn pipeline_json(r: &PipelineRun, preset: Preset) -> Value {
    let mut v = run_json(&r.report, &r.spec);
    v["pipeline"] = json!(preset.name());
    v["features"] = json!(clustered(preset));
    let o = &r.outcome;
    v["deskewed"] = json!(o.deskewed);
    if let Some(n) = o.ncut {
        v["ncut"] = json!(n);
    }
    if let Some(d) = &o.decision {
        v["deskew"] = json!({
            "chosen": if d.deskewed() { "deskew" } else { "none" },
            "ncut_deskewed": d.ncut_deskewed,
            "ncut_plain": d.ncut_plain,
        });
    }
    v
}

/// Wall time of each stage in milliseconds (summed over both variants of `best`).
pub fn stages_json(o: &PipelineOutcome) -> Value {
    let mut m = serde_json::Map::new();
    for (name, d) in o.times.named() {
        m.insert(name.to_string(), json!(d.as_secs_f64() * 1e3));
    }
    Value::Object(m)
}

/// The figures of a pipeline run: cluster mean images and the confusion matrix.
pub fn figures(r: &PipelineRun, stem: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = figures::cluster_means(&r.report, &r.outcome.embedded.images, stem)?;
    out.extend(figures::for_run(&r.report, stem)?);
    Ok(out)
}

/// `classify --pipeline hog|best`.
pub fn classify(
    w: &mut impl Write,
    loaded: &Loaded,
    load_ms: f64,
    s: &Settings,
    files: &Files<'_>,
    as_json: bool,
    t0: Instant,
) -> Result<()> {
    let r = run(&loaded.dataset, s)?;
    let mut outputs = Outputs::default();
    let fit = &r.report.fit;
    if let Some(p) = files.labels_out {
        let labels: Vec<i32> = r.report.clusters.iter().map(|&c| c as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    if let Some(p) = files.centers_out {
        outputs.add(p, npy::encode_f32(&[fit.k, fit.dims], &fit.centers));
    }
    if let Some(dir) = files.out {
        for (name, bytes) in figures(&r, "")? {
            outputs.add(dir.join(name), bytes);
        }
    }
    let total_ms = ms(t0);
    if as_json {
        let mut v = pipeline_json(&r, s.preset);
        v["source"] = json!(loaded.source);
        v["timings_ms"] = json!({
            "load": load_ms,
            "features": r.report.features_ms,
            "kmeans": r.report.kmeans_ms,
            "pipeline": r.run_ms,
            "total": total_ms,
            "stages": stages_json(&r.outcome),
        });
        outputs.commit_with_json(v, w)?;
        return Ok(());
    }
    outputs.commit()?;
    writeln!(w, "Data: {} ({})", loaded.source, loaded.dataset.describe())?;
    write_text(w, &r, s.preset)?;
    writeln!(
        w,
        "Timings: load {load_ms:.1} ms, pipeline {:.1} ms, total {total_ms:.1} ms",
        r.run_ms
    )?;
    if let Some(dir) = files.out {
        writeln!(w, "Figures written to {}", dir.display())?;
    }
    Ok(())
}

/// The human-readable report of a pipeline run.
pub fn write_text(w: &mut impl Write, r: &PipelineRun, preset: Preset) -> Result<()> {
    let o = &r.outcome;
    let fit = &r.report.fit;
    let p = &r.spec.params;
    writeln!(w, "Pipeline: {} ({})", preset.name(), preset.stages())?;
    if let Some(d) = &o.decision {
        writeln!(
            w,
            "Deskew decided by the normalised cut: {:.4} deskewed, {:.4} as given -> {}",
            d.ncut_deskewed,
            d.ncut_plain,
            if d.deskewed() { "deskew" } else { "no deskew" }
        )?;
    }
    writeln!(
        w,
        "Features: {} -> ({}, {})",
        clustered(preset),
        r.report.n_train,
        r.report.processed.dims()
    )?;
    writeln!(
        w,
        "k-means: K={}, {} attempts, at most {} iterations, {} centers, {}",
        fit.k,
        p.attempts(),
        p.max_iter(),
        match p.init() {
            imgcluster::kmeans::Init::RandomBox => "random",
            _ => "k-means++",
        },
        match r.spec.seed {
            Some(s) => format!("seed {s}"),
            None => "OpenCV's default RNG state".to_string(),
        }
    )?;
    if let Some(e) = &r.report.train {
        let part = if r.report.held_out.is_some() {
            "Training"
        } else {
            "All"
        };
        write_scores(w, part, &e.accuracy, e.nmi, e.ari)?;
    }
    if let Some(h) = &r.report.held_out {
        write_scores(w, "Held-out", &h.confusion.accuracy(), h.nmi, h.ari)?;
    }
    if let Some(cm) = r.report.headline() {
        writeln!(
            w,
            "Confusion matrix (rows: true class, columns: predicted class):"
        )?;
        writeln!(w, "{cm}")?;
    }
    Ok(())
}
