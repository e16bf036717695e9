//! `imgcluster classify`: cluster a data set and score the clusters against its labels.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use imgcluster::dataset::npy;
use imgcluster::features::FeatureKind;
use imgcluster::imgproc::DeskewValidParams;
use imgcluster::kmeans::{Init, KMeansParams, Mode, TermCriteria};
use imgcluster::Threads;
use serde_json::{json, Value};

use crate::args::{ClassifyArgs, DataArgs, FeaturesArg, InitArg, ModeArg};
use crate::data::{self, DataSource};
use crate::figures;
use crate::html_report::{self, RunView, Timings};
use crate::output::{self, Outputs};
use crate::progress::Progress;
use crate::run::{self, ms, RunOutcome, RunSpec};

/// `--features` as a library pipeline.
pub fn feature_kind(f: FeaturesArg) -> FeatureKind {
    match f {
        FeaturesArg::Raw => FeatureKind::Raw,
        FeaturesArg::Deskew => FeatureKind::Deskew(DeskewValidParams::default()),
    }
}

pub fn data_source(a: &DataArgs) -> DataSource {
    DataSource::from_args(a)
}

pub fn threads(t: Option<u32>) -> Threads {
    t.map_or(Threads::Auto, |n| Threads::Fixed(n as usize))
}

/// The validated configuration of a `classify` run.
struct Config {
    source: DataSource,
    spec: RunSpec,
    out: Option<PathBuf>,
    labels_out: Option<PathBuf>,
    centers_out: Option<PathBuf>,
    model_out: Option<PathBuf>,
    report: Option<PathBuf>,
    json: bool,
}

fn config(a: &ClassifyArgs) -> Result<Config> {
    let threads = threads(a.threads);
    let mode = match a.mode {
        ModeArg::Opencv => Mode::OpenCv,
        ModeArg::Fast => Mode::Fast,
    };
    let init = match (&a.init_centers, a.mode, a.init) {
        (Some(path), ModeArg::Fast, _) => Init::Centers(read_centers(path, a.k as usize)?),
        (Some(_), ModeArg::Opencv, _) => anyhow::bail!("--init-centers needs --mode fast"),
        (None, ModeArg::Fast, InitArg::Random) => Init::Samples,
        (None, _, InitArg::Random) => Init::RandomBox,
        (None, _, InitArg::Pp) => Init::PlusPlus,
    };
    let params = KMeansParams::new(a.k as usize)
        .term(
            TermCriteria::new()
                .max_iter(a.max_iter as usize)
                .epsilon(a.epsilon),
        )
        .attempts(a.attempts as usize)
        .init(init)
        .mode(mode)
        .threads(threads)
        .check()?;
    if let Some(dir) = &a.out {
        output::prepare_dir(dir, "--out")?;
    }
    for (path, flag) in [
        (&a.labels_out, "--labels-out"),
        (&a.centers_out, "--centers-out"),
        (&a.model_out, "--model-out"),
        (&a.report, "--report"),
    ] {
        if let Some(p) = path {
            output::prepare_file(p, flag)?;
        }
    }
    Ok(Config {
        source: DataSource {
            threads,
            ..data_source(&a.data)
        },
        spec: RunSpec {
            kind: feature_kind(a.features),
            params,
            seed: a.seed,
            threads,
            train_ratio: a.train_ratio,
        },
        out: a.out.clone(),
        labels_out: a.labels_out.clone(),
        centers_out: a.centers_out.clone(),
        model_out: a.model_out.clone(),
        report: a.report.clone(),
        json: a.json,
    })
}

/// `--init-centers`: a float32 .npy of `k` rows.
fn read_centers(path: &std::path::Path, k: usize) -> Result<Vec<f32>> {
    use anyhow::Context;
    let arr = npy::read(path).with_context(|| format!("--init-centers {}", path.display()))?;
    match (arr.data, arr.shape.first()) {
        (npy::NpyData::F32(v), Some(&rows)) if rows == k => Ok(v),
        _ => anyhow::bail!(
            "--init-centers {}: expected a float32 array of {k} rows (K x D)",
            path.display()
        ),
    }
}

/// Peak resident memory of this process in MiB (`VmHWM`), where the OS reports it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(a: &ClassifyArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config(a)?;
    let t = Instant::now();
    let loading = progress.spinner(format!("loading {}…", source_name(&cfg.source)));
    let loaded = data::load(&cfg.source)?;
    drop(loading);
    let load_ms = ms(t);
    let outcome = run::run(&loaded.dataset, &cfg.spec, progress)?;

    let mut outputs = Outputs::default();
    let fit = &outcome.fit;
    if let Some(p) = &cfg.labels_out {
        let labels: Vec<i32> = outcome.clusters.iter().map(|&c| c as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    if let Some(p) = &cfg.centers_out {
        outputs.add(p, npy::encode_f32(&[fit.k, fit.dims], &fit.centers));
    }
    if let Some(p) = &cfg.model_out {
        let model = crate::predict::model_from_run(&outcome, &cfg.spec, &loaded)?;
        outputs.add(p, model.to_json().into_bytes());
    }
    if let Some(dir) = &cfg.out {
        for (name, bytes) in figures::for_run(&outcome, "")? {
            outputs.add(dir.join(name), bytes);
        }
    }
    if let Some(p) = &cfg.report {
        let _phase = progress.spinner("writing the report…");
        let timings = Timings {
            rows: vec![
                ("load".into(), load_ms),
                ("features".into(), outcome.features_ms),
                ("k-means".into(), outcome.kmeans_ms),
                ("total".into(), ms(t0)),
            ],
        };
        let view = RunView {
            outcome: &outcome,
            spec: &cfg.spec,
        };
        let html = html_report::classify_report(&loaded.source, &loaded.dataset, &view, &timings)?;
        outputs.add(p, html.into_bytes());
    }
    let total_ms = ms(t0);
    let timings = json!({
        "load": load_ms,
        "features": outcome.features_ms,
        "kmeans": outcome.kmeans_ms,
        "total": total_ms,
    });
    if cfg.json {
        let mut v = run_json(&outcome, &cfg.spec);
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
        write_run_text(w, &outcome, &cfg.spec)?;
        writeln!(
            w,
            "Timings: load {load_ms:.1} ms, features {:.1} ms, k-means {:.1} ms, total {total_ms:.1} ms",
            outcome.features_ms, outcome.kmeans_ms
        )?;
        if let Some(dir) = &cfg.out {
            writeln!(w, "Figures written to {}", dir.display())?;
        }
        if let Some(p) = &cfg.report {
            writeln!(w, "Report written to {}", p.display())?;
        }
    }
    Ok(())
}

/// The data set as the spinner names it.
fn source_name(src: &DataSource) -> String {
    match &src.data {
        Some(p) => p.display().to_string(),
        None => "the embedded digits".into(),
    }
}

fn init_name(init: &Init) -> &'static str {
    match init {
        Init::RandomBox | Init::Samples => "random",
        Init::PlusPlus => "pp",
        Init::Centers(_) => "centers",
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
        "mode": match p.mode() {
            Mode::Fast => "fast",
            _ => "opencv",
        },
        "peak_rss_mb": peak_rss_mb(),
        "seed": spec.seed,
        "threads": spec.threads.count(),
        "compactness": fit.compactness,
        "iterations": fit.iterations,
        "best_attempt": fit.best_attempt,
        "n_train": o.n_train,
    });
    if let Some(names) = o.processed.class_names() {
        v["class_names"] = json!(names);
    }
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
            .map(|(c, k)| match o.processed.class_name(*k) {
                Some(name) => format!("{c}->{name}"),
                None => format!("{c}->{k}"),
            })
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
