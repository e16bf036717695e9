//! `imgcluster classify`: cluster a data set and score the clusters against its labels.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use imgcluster::dataset::npy;
use imgcluster::features::FeatureKind;
use imgcluster::imgproc::DeskewValidParams;
use imgcluster::kmeans::{Init, KMeansParams, TermCriteria};
use imgcluster::Threads;
use serde_json::{json, Value};

use imgcluster::features::Preset;

use crate::args::{ClassifyArgs, DataArgs, FeaturesArg, InitArg, PipelineArg};
use crate::data::{self, DataSource};
use crate::figures;
use crate::output::{self, Outputs};
use crate::pipeline_run;
use crate::run::{self, ms, RunOutcome, RunSpec};

/// `--features` as a library pipeline.
pub fn feature_kind(f: FeaturesArg) -> FeatureKind {
    match f {
        FeaturesArg::Raw => FeatureKind::Raw,
        FeaturesArg::Deskew => FeatureKind::Deskew(DeskewValidParams::default()),
    }
}

pub fn data_source(a: &DataArgs) -> DataSource {
    DataSource {
        data: a.data.clone(),
        labels: a.labels.clone(),
        cell: a.cell as usize,
        classes: a.classes as usize,
    }
}

pub fn threads(t: Option<u32>) -> Threads {
    t.map_or(Threads::Auto, |n| Threads::Fixed(n as usize))
}

/// `--pipeline` as a library preset.
pub fn preset(p: PipelineArg) -> Preset {
    match p {
        PipelineArg::TutorialRaw => Preset::TutorialRaw,
        PipelineArg::TutorialDeskew => Preset::TutorialDeskew,
        PipelineArg::Hog => Preset::Hog,
        PipelineArg::Best => Preset::Best,
    }
}

/// The validated configuration of a `classify` run.
struct Config {
    source: DataSource,
    preset: Preset,
    /// k-means settings; the number of clusters is settled once the data are loaded.
    kmeans: KMeansParams,
    /// `-k`, if given.
    k: Option<usize>,
    seed: Option<i32>,
    threads: Threads,
    train_ratio: Option<f64>,
    out: Option<PathBuf>,
    labels_out: Option<PathBuf>,
    centers_out: Option<PathBuf>,
    json: bool,
}

impl Config {
    /// The run of a tutorial pipeline with `k` clusters.
    fn spec(&self, k: usize) -> Result<RunSpec> {
        let kind = match self.preset {
            Preset::TutorialDeskew => feature_kind(FeaturesArg::Deskew),
            _ => feature_kind(FeaturesArg::Raw),
        };
        Ok(RunSpec {
            kind,
            params: self.kmeans.clone().k(k).check()?,
            seed: self.seed,
            threads: self.threads,
            train_ratio: self.train_ratio,
        })
    }
}

fn config(a: &ClassifyArgs) -> Result<Config> {
    let threads = threads(a.threads);
    let preset = match (a.pipeline, a.features) {
        (Some(p), _) => preset(p),
        (None, FeaturesArg::Raw) => Preset::TutorialRaw,
        (None, FeaturesArg::Deskew) => Preset::TutorialDeskew,
    };
    let tutorial = matches!(preset, Preset::TutorialRaw | Preset::TutorialDeskew);
    // The tutorial's k-means settings, or those of the feature pipelines (k-means++,
    // OpenCV's default criteria: 100 iterations, epsilon f32::EPSILON).
    let init = match a.init {
        Some(InitArg::Random) => Init::RandomBox,
        Some(InitArg::Pp) => Init::PlusPlus,
        None if tutorial => Init::RandomBox,
        None => Init::PlusPlus,
    };
    let mut term = TermCriteria::new();
    if let Some(n) = a.max_iter.or(tutorial.then_some(10)) {
        term = term.max_iter(n as usize);
    }
    if let Some(e) = a.epsilon.or(tutorial.then_some(1.0)) {
        term = term.epsilon(e);
    }
    let kmeans = KMeansParams::new(a.k.unwrap_or(1) as usize)
        .term(term)
        .attempts(a.attempts as usize)
        .init(init)
        .threads(threads);
    kmeans.clone().check()?;
    if preset == Preset::Best && a.train_ratio.is_some_and(|r| r < 1.0) {
        anyhow::bail!(
            "--train-ratio does not apply to --pipeline best: its spectral embedding places \
             only the samples it was built from"
        );
    }
    if let Some(dir) = &a.out {
        output::prepare_dir(dir, "--out")?;
    }
    for (path, flag) in [
        (&a.labels_out, "--labels-out"),
        (&a.centers_out, "--centers-out"),
    ] {
        if let Some(p) = path {
            output::prepare_file(p, flag)?;
        }
    }
    Ok(Config {
        source: data_source(&a.data),
        preset,
        kmeans,
        k: a.k.map(|k| k as usize),
        seed: a.seed,
        threads,
        train_ratio: a.train_ratio,
        out: a.out.clone(),
        labels_out: a.labels_out.clone(),
        centers_out: a.centers_out.clone(),
        json: a.json,
    })
}

pub fn run(a: &ClassifyArgs, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config(a)?;
    let t = Instant::now();
    let loaded = data::load(&cfg.source)?;
    let load_ms = ms(t);
    let k = cfg
        .k
        .unwrap_or_else(|| loaded.dataset.n_classes().unwrap_or(10));
    if !matches!(cfg.preset, Preset::TutorialRaw | Preset::TutorialDeskew) {
        let run = pipeline_run::Settings {
            preset: cfg.preset,
            kmeans: Some(cfg.kmeans.clone().k(k)),
            seed: cfg.seed,
            threads: cfg.threads,
            train_ratio: cfg.train_ratio,
        };
        let files = pipeline_run::Files {
            out: cfg.out.as_deref(),
            labels_out: cfg.labels_out.as_deref(),
            centers_out: cfg.centers_out.as_deref(),
        };
        return pipeline_run::classify(w, &loaded, load_ms, &run, &files, cfg.json, t0);
    }
    let spec = cfg.spec(k)?;
    let outcome = run::run(&loaded.dataset, &spec)?;

    let mut outputs = Outputs::default();
    let fit = &outcome.fit;
    if let Some(p) = &cfg.labels_out {
        let labels: Vec<i32> = outcome.clusters.iter().map(|&c| c as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    if let Some(p) = &cfg.centers_out {
        outputs.add(p, npy::encode_f32(&[fit.k, fit.dims], &fit.centers));
    }
    if let Some(dir) = &cfg.out {
        for (name, bytes) in figures::for_run(&outcome, "")? {
            outputs.add(dir.join(name), bytes);
        }
    }
    let total_ms = ms(t0);
    let timings = json!({
        "load": load_ms,
        "features": outcome.features_ms,
        "kmeans": outcome.kmeans_ms,
        "total": total_ms,
    });
    if cfg.json {
        let mut v = run_json(&outcome, &spec);
        v["pipeline"] = json!(cfg.preset.name());
        v["source"] = json!(loaded.source);
        v["timings_ms"] = timings;
        v["outputs"] = json!(outputs
            .paths()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>());
        outputs.commit()?;
        writeln!(w, "{v}")?;
    } else {
        outputs.commit()?;
        writeln!(w, "Data: {} ({})", loaded.source, loaded.dataset.describe())?;
        write_run_text(w, &outcome, &spec)?;
        writeln!(
            w,
            "Timings: load {load_ms:.1} ms, features {:.1} ms, k-means {:.1} ms, total {total_ms:.1} ms",
            outcome.features_ms, outcome.kmeans_ms
        )?;
        if let Some(dir) = &cfg.out {
            writeln!(w, "Figures written to {}", dir.display())?;
        }
    }
    Ok(())
}

fn init_name(init: &Init) -> &'static str {
    match init {
        Init::RandomBox => "random",
        Init::PlusPlus => "pp",
        _ => "labels",
    }
}

/// The JSON object describing one run (without timings).
pub fn run_json(o: &RunOutcome, spec: &RunSpec) -> Value {
    let p = &spec.params;
    let fit = &o.fit;
    let mut v = json!({
        "n_samples": o.processed.len(),
        "n_features": o.processed.dims(),
        "features": spec.kind.name(),
        "k": fit.k,
        "attempts": p.attempts(),
        "max_iter": p.max_iter(),
        "epsilon": p.epsilon_sq().sqrt(),
        "init": init_name(p.init()),
        "seed": spec.seed,
        "threads": spec.threads.count(),
        "compactness": fit.compactness,
        "iterations": fit.iterations,
        "best_attempt": fit.best_attempt,
        "n_train": o.n_train,
    });
    if let Some(e) = &o.train {
        v["mapping"] = json!(e.mapping.as_slice());
        v["train"] = json!({
            "accuracy_percent": e.accuracy.percent(),
            "nmi": e.nmi,
            "ari": e.ari,
            "confusion_matrix": matrix_json(&e.confusion),
        });
    }
    let headline = match (&o.held_out, &o.train) {
        (Some(h), _) => {
            v["test"] = json!({
                "n_samples": h.n,
                "accuracy_percent": h.confusion.accuracy().percent(),
                "nmi": h.nmi,
                "ari": h.ari,
                "confusion_matrix": matrix_json(&h.confusion),
            });
            Some((h.confusion.accuracy().percent(), h.nmi, h.ari, &h.confusion))
        }
        (None, Some(e)) => Some((e.accuracy.percent(), e.nmi, e.ari, &e.confusion)),
        _ => None,
    };
    if let Some((acc, nmi, ari, cm)) = headline {
        v["accuracy_percent"] = json!(acc);
        v["nmi"] = json!(nmi);
        v["ari"] = json!(ari);
        v["confusion_matrix"] = matrix_json(cm);
    }
    v
}

fn matrix_json(cm: &imgcluster::metrics::ConfusionMatrix) -> Value {
    let n = cm.n_classes();
    json!((0..n)
        .map(|r| cm.row(r).unwrap_or(&[]).to_vec())
        .collect::<Vec<_>>())
}

/// The human-readable report of one run.
pub fn write_run_text(w: &mut impl Write, o: &RunOutcome, spec: &RunSpec) -> Result<()> {
    let p = &spec.params;
    let fit = &o.fit;
    writeln!(
        w,
        "Features: {} -> ({}, {})",
        spec.kind.name(),
        o.n_train,
        o.processed.dims()
    )?;
    writeln!(
        w,
        "k-means: K={}, {} attempts, at most {} iterations, eps {}, {} centers, {}",
        fit.k,
        p.attempts(),
        p.max_iter(),
        p.epsilon_sq().sqrt(),
        init_name(p.init()),
        match spec.seed {
            Some(s) => format!("seed {s}"),
            None => "OpenCV's default RNG state".to_string(),
        }
    )?;
    writeln!(
        w,
        "Compactness {} after {} iterations (best of {} attempts: #{})",
        fit.compactness,
        fit.iterations,
        p.attempts(),
        fit.best_attempt + 1
    )?;
    if let Some(e) = &o.train {
        let part = if o.held_out.is_some() {
            "Training"
        } else {
            "All"
        };
        writeln!(
            w,
            "{part} samples: accuracy {}% ({}/{}), NMI {:.4}, ARI {:.4}",
            e.accuracy.format_percent(),
            e.accuracy.correct(),
            e.accuracy.total(),
            e.nmi,
            e.ari
        )?;
        let map: Vec<String> = e
            .mapping
            .as_slice()
            .iter()
            .enumerate()
            .map(|(c, k)| format!("{c}->{k}"))
            .collect();
        writeln!(w, "Cluster -> class: {}", map.join(" "))?;
    }
    if let Some(h) = &o.held_out {
        let a = h.confusion.accuracy();
        writeln!(
            w,
            "Held-out samples: accuracy {}% ({}/{}), NMI {:.4}, ARI {:.4}",
            a.format_percent(),
            a.correct(),
            a.total(),
            h.nmi,
            h.ari
        )?;
    }
    if let Some(cm) = o.headline() {
        writeln!(
            w,
            "Confusion matrix (rows: true class, columns: predicted class):"
        )?;
        writeln!(w, "{cm}")?;
    }
    Ok(())
}
