//! `imgcluster classify`: cluster a data set and score the clusters against its labels.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use imgcluster::dataset::{npy, open_labels, open_mapped, DatasetError, MappedNpy, MappedValues};
use imgcluster::features::FeatureKind;
use imgcluster::imgproc::DeskewValidParams;
use imgcluster::kmeans::{
    CheckedMiniBatchParams, Init, KMeansFit, KMeansParams, MiniBatchParams, MiniBatchStop, Mode,
    TermCriteria,
};
use imgcluster::metrics::{Accuracy, Evaluation};
use imgcluster::Threads;
use serde_json::{json, Value};

use imgcluster::features::Preset;

use crate::args::{
    AlgorithmArg, ClassifyArgs, DataArgs, FeaturesArg, InitArg, MmapArg, ModeArg, PipelineArg,
};
use crate::data::{self, DataSource};
use crate::figures;
use crate::html_report::{self, RunView, Timings};
use crate::output::{self, Outputs};
use crate::pipeline_run;
use crate::progress::Progress;
use crate::run::{self, ms, HeldOut, MiniBatchRun, RunOutcome, RunSpec};

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
    /// `--algorithm minibatch`: its settings.
    minibatch: Option<CheckedMiniBatchParams>,
    seed: Option<i32>,
    threads: Threads,
    train_ratio: Option<f64>,
    out: Option<PathBuf>,
    labels_out: Option<PathBuf>,
    centers_out: Option<PathBuf>,
    model_out: Option<PathBuf>,
    report: Option<PathBuf>,
    json: bool,
    mmap: MmapArg,
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
            minibatch: self.minibatch.clone(),
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
    let mode = match a.mode {
        ModeArg::Opencv => Mode::OpenCv,
        ModeArg::Fast => Mode::Fast,
    };
    let init = match (&a.init_centers, a.mode, a.init) {
        (Some(path), ModeArg::Fast, _) => {
            let c = read_centers(path, a.k.map(|k| k as usize))?;
            Init::Centers(c)
        }
        (Some(_), ModeArg::Opencv, _) => anyhow::bail!("--init-centers needs --mode fast"),
        (None, ModeArg::Fast, Some(InitArg::Random)) => Init::Samples,
        (None, ModeArg::Fast, None) if tutorial => Init::Samples,
        (None, _, Some(InitArg::Random)) => Init::RandomBox,
        (None, _, Some(InitArg::Pp)) => Init::PlusPlus,
        (None, _, None) if tutorial => Init::RandomBox,
        (None, _, None) => Init::PlusPlus,
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
        .mode(mode)
        .threads(threads);
    kmeans.clone().check()?;
    let minibatch = match (a.algorithm, a.mode) {
        (AlgorithmArg::Lloyd, _) => {
            if a.batch_size.is_some() {
                anyhow::bail!("--batch-size applies to --algorithm minibatch");
            }
            None
        }
        (AlgorithmArg::Minibatch, ModeArg::Opencv) => anyhow::bail!(
            "--algorithm minibatch needs --mode fast (OpenCV has no mini-batch k-means)"
        ),
        (AlgorithmArg::Minibatch, ModeArg::Fast) => {
            let mut mb = MiniBatchParams::new().tol(a.epsilon.unwrap_or(0.0));
            if let Some(b) = a.batch_size {
                mb = mb.batch_size(b as usize);
            }
            Some(mb.check()?)
        }
    };
    if preset == Preset::Best && a.train_ratio.is_some_and(|r| r < 1.0) {
        anyhow::bail!(
            "--train-ratio does not apply to --pipeline best: its spectral embedding places \
             only the samples it was built from"
        );
    }
    if !tutorial {
        for (given, flag) in [
            (a.model_out.is_some(), "--model-out"),
            (a.report.is_some(), "--report"),
            (a.init_centers.is_some(), "--init-centers"),
            (minibatch.is_some(), "--algorithm minibatch"),
        ] {
            if given {
                anyhow::bail!("{flag} works with the tutorial pipelines (--pipeline tutorial-raw or tutorial-deskew), not with --pipeline {}", preset.name());
            }
        }
    }
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
        preset,
        kmeans,
        k: a.k.map(|k| k as usize),
        minibatch,
        seed: a.seed,
        threads,
        train_ratio: a.train_ratio,
        out: a.out.clone(),
        labels_out: a.labels_out.clone(),
        centers_out: a.centers_out.clone(),
        model_out: a.model_out.clone(),
        report: a.report.clone(),
        json: a.json,
        mmap: a.mmap,
    })
}

/// `--init-centers`: a float32 .npy of K rows (`-k`, when given, must agree).
fn read_centers(path: &std::path::Path, k: Option<usize>) -> Result<Vec<f32>> {
    use anyhow::Context;
    let arr = npy::read(path).with_context(|| format!("--init-centers {}", path.display()))?;
    match (arr.data, arr.shape.first()) {
        (npy::NpyData::F32(v), Some(&rows)) if k.is_none_or(|k| rows == k) => Ok(v),
        _ => anyhow::bail!(
            "--init-centers {}: expected a float32 array of {} rows (K x D)",
            path.display(),
            k.map_or("K".to_string(), |k| k.to_string())
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

/// The `.npy` file to memory-map, when `--mmap` and the other options call for it.
///
/// Mapping needs the samples as they are in the file: a u8 or f32 `.npy`, the raw pixels, no
/// held-out part (a gathered copy) and no output that reads the images. `auto` maps only in
/// fast mode, where the per-sample state is smallest, and reads a file it cannot map (another
/// dtype); `always` says why it cannot.
fn mapping(cfg: &Config) -> Result<Option<MappedNpy>> {
    if cfg.mmap == MmapArg::Never {
        return Ok(None);
    }
    let blocker = match &cfg.source.data {
        None => Some("the embedded digits are not a file; give --data FILE.npy".to_string()),
        Some(path) => {
            let format = match cfg.source.format {
                imgcluster::dataset::Format::Auto => imgcluster::dataset::sniff(path)
                    .map_err(|e| data::flag_error("--data", path, e))?,
                f => f,
            };
            if format != imgcluster::dataset::Format::Npy {
                Some(format!(
                    "--data {} is {}; only .npy arrays can be mapped",
                    path.display(),
                    format.name()
                ))
            } else if cfg.preset != Preset::TutorialRaw {
                Some(format!(
                    "the {} pipeline (--features, --pipeline) clusters a preprocessed copy",
                    cfg.preset.name()
                ))
            } else if cfg.train_ratio.is_some_and(|r| r < 1.0) {
                Some("--train-ratio clusters a copy of the training part".to_string())
            } else {
                [
                    (cfg.out.is_some(), "--out"),
                    (cfg.model_out.is_some(), "--model-out"),
                    (cfg.report.is_some(), "--report"),
                ]
                .iter()
                .find_map(|&(given, flag)| given.then_some(flag))
                .map(|flag| format!("{flag} reads the images from memory"))
            }
        }
    };
    let path = match (cfg.mmap, blocker, &cfg.source.data) {
        (MmapArg::Always, Some(why), _) => anyhow::bail!("--mmap: cannot map the data: {why}"),
        (_, None, Some(path)) => path,
        _ => return Ok(None),
    };
    if cfg.mmap == MmapArg::Auto && cfg.kmeans.clone().check()?.mode() != Mode::Fast {
        return Ok(None);
    }
    match open_mapped(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if cfg.mmap == MmapArg::Always => Err(data::flag_error("--data", path, e)),
        // Not mappable (another dtype, say): read it; the loader reports what is wrong.
        Err(_) => Ok(None),
    }
}

/// `classify` over a memory-mapped `.npy`: the samples are never read into memory.
fn run_mapped(
    cfg: &Config,
    mapped: &MappedNpy,
    progress: &Progress,
    w: &mut impl Write,
    t0: Instant,
) -> Result<()> {
    let path = mapped.path();
    let truth = match &cfg.source.labels {
        Some(lp) => {
            let labels = open_labels(lp).map_err(|e| data::flag_error("--labels", lp, e))?;
            if labels.len() != mapped.len() {
                let e = DatasetError::LabelCount {
                    labels: labels.len(),
                    samples: mapped.len(),
                };
                return Err(data::flag_error("--labels", lp, e));
            }
            Some(labels)
        }
        None => None,
    };
    let load_ms = ms(t0);
    let n_classes = truth
        .as_ref()
        .map(|l| l.iter().max().map_or(0, |&m| m as usize + 1));
    let k = cfg.k.unwrap_or_else(|| n_classes.unwrap_or(10));
    let spec = cfg.spec(k)?;
    let values = match mapped.values() {
        MappedValues::U8(x) => run::Values::U8(x),
        MappedValues::F32(x) => run::Values::F32(x),
    };
    let (fit, minibatch, kmeans_ms) = run::fit_values(values, mapped.dims(), &spec, progress)?;
    let train = match (&truth, n_classes) {
        (Some(truth), Some(n_classes)) => Some(run::evaluate(truth, &fit.labels, n_classes, k)?),
        _ => None,
    };
    let mut outputs = Outputs::default();
    if let Some(p) = &cfg.labels_out {
        let labels: Vec<i32> = fit.labels.iter().map(|&c| c as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    if let Some(p) = &cfg.centers_out {
        outputs.add(p, npy::encode_f32(&[fit.k, fit.dims], &fit.centers));
    }
    let total_ms = ms(t0);
    let info = RunInfo {
        fit: &fit,
        n_samples: mapped.len(),
        n_train: mapped.len(),
        dims: mapped.dims(),
        class_names: None,
        train: train.as_ref(),
        held_out: None,
        minibatch: minibatch.as_ref(),
    };
    if cfg.json {
        let mut v = info_json(&info, &spec);
        v["pipeline"] = json!(cfg.preset.name());
        v["source"] = json!(path.display().to_string());
        v["mmap"] = json!(true);
        v["timings_ms"] = json!({
            "load": load_ms,
            "features": 0.0,
            "kmeans": kmeans_ms,
            "total": total_ms,
        });
        outputs.commit_with_json(v, w)?;
    } else {
        outputs.commit()?;
        writeln!(w, "Data: {} ({})", path.display(), mapped.describe())?;
        write_info_text(w, &info, &spec)?;
        writeln!(
            w,
            "Timings: load {load_ms:.1} ms, k-means {kmeans_ms:.1} ms, total {total_ms:.1} ms"
        )?;
    }
    Ok(())
}

pub fn run(a: &ClassifyArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config(a)?;
    if let Some(mapped) = mapping(&cfg)? {
        return run_mapped(&cfg, &mapped, progress, w, t0);
    }
    let t = Instant::now();
    let loading = progress.spinner(format!("loading {}…", source_name(&cfg.source)));
    let loaded = data::load(&cfg.source)?;
    drop(loading);
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
    let outcome = run::run(&loaded.dataset, &spec, progress)?;

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
        let model = crate::predict::model_from_run(&outcome, &spec, &loaded)?;
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
            spec: &spec,
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
        let mut v = run_json(&outcome, &spec);
        v["pipeline"] = json!(cfg.preset.name());
        v["source"] = json!(loaded.source);
        v["mmap"] = json!(false);
        v["timings_ms"] = timings;
        outputs.commit_with_json(v, w)?;
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

/// Why a mini-batch fit stopped, as the reports say it.
fn stop_name(stop: MiniBatchStop) -> &'static str {
    match stop {
        MiniBatchStop::MaxIter => "max-iter",
        MiniBatchStop::NoImprovement => "no-improvement",
        MiniBatchStop::Tol => "tol",
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

/// What the JSON and text reports of one run say, from a data set in memory or mapped.
pub struct RunInfo<'a> {
    pub fit: &'a KMeansFit,
    pub n_samples: usize,
    pub n_train: usize,
    pub dims: usize,
    pub class_names: Option<&'a [String]>,
    pub train: Option<&'a Evaluation>,
    pub held_out: Option<&'a HeldOut>,
    pub minibatch: Option<&'a MiniBatchRun>,
}

impl<'a> RunInfo<'a> {
    fn of(o: &'a RunOutcome) -> Self {
        RunInfo {
            fit: &o.fit,
            n_samples: o.processed.len(),
            n_train: o.n_train,
            dims: o.processed.dims(),
            class_names: o.processed.class_names(),
            train: o.train.as_ref(),
            held_out: o.held_out.as_ref(),
            minibatch: o.minibatch.as_ref(),
        }
    }

    fn class_name(&self, label: u32) -> Option<&str> {
        self.class_names
            .and_then(|n| n.get(label as usize))
            .map(String::as_str)
    }
}

/// The JSON object describing one run (without timings).
pub fn run_json(o: &RunOutcome, spec: &RunSpec) -> Value {
    info_json(&RunInfo::of(o), spec)
}

fn info_json(o: &RunInfo<'_>, spec: &RunSpec) -> Value {
    let p = &spec.params;
    let fit = o.fit;
    let mut v = json!({
        "n_samples": o.n_samples,
        "n_features": o.dims,
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
        "algorithm": if o.minibatch.is_some() { "minibatch" } else { "lloyd" },
    });
    if let Some(mb) = &spec.minibatch {
        // Mini-batch k-means stops on its own criteria: tol replaces epsilon.
        v["epsilon"] = Value::Null;
        v["tol"] = json!(mb.tol());
    }
    if let Some(m) = o.minibatch {
        v["batch_size"] = json!(m.batch_size);
        v["steps"] = json!(m.steps);
        v["epochs"] = json!(m.epochs);
        v["stopped_by"] = json!(stop_name(m.stop));
    }
    if let Some(names) = o.class_names {
        v["class_names"] = json!(names);
    }
    if let Some(e) = o.train {
        v["mapping"] = json!(e.mapping.as_slice());
        v["train"] = json!({
            "accuracy_percent": e.accuracy.percent(),
            "nmi": e.nmi,
            "ari": e.ari,
            "confusion_matrix": matrix_json(&e.confusion),
        });
    }
    let headline = match (o.held_out, o.train) {
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

/// One line of scores: `{part} samples: accuracy …% (correct/total), NMI …, ARI …`.
pub fn write_scores(
    w: &mut impl Write,
    part: &str,
    accuracy: &Accuracy,
    nmi: f64,
    ari: f64,
) -> Result<()> {
    writeln!(
        w,
        "{part} samples: accuracy {}% ({}/{}), NMI {nmi:.4}, ARI {ari:.4}",
        accuracy.format_percent(),
        accuracy.correct(),
        accuracy.total(),
    )?;
    Ok(())
}

/// The human-readable report of one run.
pub fn write_run_text(w: &mut impl Write, o: &RunOutcome, spec: &RunSpec) -> Result<()> {
    write_info_text(w, &RunInfo::of(o), spec)
}

fn write_info_text(w: &mut impl Write, o: &RunInfo<'_>, spec: &RunSpec) -> Result<()> {
    let p = &spec.params;
    let fit = o.fit;
    writeln!(
        w,
        "Features: {} -> ({}, {})",
        spec.kind.name(),
        o.n_train,
        o.dims
    )?;
    let (iterations, tolerance) = match &spec.minibatch {
        Some(mb) => ("epochs", format!("tol {}", mb.tol())),
        None => ("iterations", format!("eps {}", p.epsilon_sq().sqrt())),
    };
    writeln!(
        w,
        "k-means: K={}, {} attempts, at most {} {iterations}, {tolerance}, {} centers, {}",
        fit.k,
        p.attempts(),
        p.max_iter(),
        init_name(p.init()),
        match spec.seed {
            Some(s) => format!("seed {s}"),
            None => "OpenCV's default RNG state".to_string(),
        }
    )?;
    match o.minibatch {
        Some(m) => writeln!(
            w,
            "Mini-batch: compactness {} after {} steps of {} samples ({} epochs, stopped by {}; \
             seeding #{} of {})",
            fit.compactness,
            m.steps,
            m.batch_size,
            m.epochs,
            stop_name(m.stop),
            fit.best_attempt + 1,
            p.attempts()
        )?,
        None => writeln!(
            w,
            "Compactness {} after {} iterations (best of {} attempts: #{})",
            fit.compactness,
            fit.iterations,
            p.attempts(),
            fit.best_attempt + 1
        )?,
    }
    if let Some(e) = o.train {
        let part = if o.held_out.is_some() {
            "Training"
        } else {
            "All"
        };
        write_scores(w, part, &e.accuracy, e.nmi, e.ari)?;
        let map: Vec<String> = e
            .mapping
            .as_slice()
            .iter()
            .enumerate()
            .map(|(c, k)| match o.class_name(*k) {
                Some(name) => format!("{c}->{name}"),
                None => format!("{c}->{k}"),
            })
            .collect();
        writeln!(w, "Cluster -> class: {}", map.join(" "))?;
    }
    if let Some(h) = o.held_out {
        write_scores(w, "Held-out", &h.confusion.accuracy(), h.nmi, h.ari)?;
    }
    let headline = match (o.held_out, o.train) {
        (Some(h), _) => Some(&h.confusion),
        (None, Some(t)) => Some(&t.confusion),
        _ => None,
    };
    if let Some(cm) = headline {
        writeln!(
            w,
            "Confusion matrix (rows: true class, columns: predicted class):"
        )?;
        writeln!(w, "{cm}")?;
    }
    Ok(())
}
