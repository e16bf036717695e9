//! `imgcluster classify`: fit a pipeline to a data set, score its clusters against the
//! labels, and write what was asked for — one path for every pipeline.

mod distributed;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use imgcluster::dataset::{
    dense_labels, npy, open_labels_for, open_mapped, DatasetError, MappedNpy, MappedValues,
};
use imgcluster::features::{PipelineParams, Preset};
use imgcluster::kmeans::{Data, Init, KMeansParams, MiniBatchParams, Mode, TermCriteria};
use imgcluster::Threads;
use serde_json::json;

use crate::args::{AlgorithmArg, ClassifyArgs, FeaturesArg, InitArg, MmapArg, ModeArg};
use crate::data::{self, DataSource, Loaded};
use crate::output::{self, Outputs};
use crate::progress::Progress;
use crate::run::{self, ms, RunSpec};
use crate::summary;
use imgcluster::model::ScoredFit;
use imgcluster::report::{self, Timings};

/// The validated configuration of a `classify` run.
struct Config {
    source: DataSource,
    preset: Preset,
    /// k-means settings; the number of clusters is settled once the data are loaded.
    kmeans: KMeansParams,
    /// `-k`, if given.
    k: Option<usize>,
    /// `--algorithm minibatch`: its settings.
    minibatch: Option<MiniBatchParams>,
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
    /// The run of the pipeline with `k` clusters on the data set named `source`.
    fn spec(&self, k: usize, source: &str) -> RunSpec {
        RunSpec {
            params: PipelineParams::preset(self.preset, k)
                .kmeans(self.kmeans.clone().k(k))
                .minibatch(self.minibatch.clone()),
            seed: self.seed,
            threads: self.threads,
            train_ratio: self.train_ratio,
            source: source.to_string(),
        }
    }
}

fn config(a: &ClassifyArgs) -> Result<Config> {
    let threads = a.threads();
    let preset = match (a.pipeline, a.features) {
        (Some(p), _) => p.preset(),
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
    // With --init-centers and no -k, K is the number of rows of the file.
    let mut k = a.k.map(|k| k as usize);
    let init = match (&a.init_centers, a.mode, a.init) {
        (Some(path), ModeArg::Fast, _) => {
            let (rows, c) = read_centers(path, k)?;
            k = Some(rows);
            Init::Centers(c)
        }
        (Some(_), ModeArg::Opencv, _) => anyhow::bail!("--init-centers needs --mode fast"),
        (None, ModeArg::Fast, Some(InitArg::Random)) => Init::Samples,
        (None, ModeArg::Fast, None) if tutorial => Init::Samples,
        (None, _, Some(InitArg::Random)) => Init::RandomBox,
        (None, _, Some(InitArg::Pp)) => Init::PlusPlus,
        (None, ModeArg::Fast, Some(InitArg::Parallel)) => Init::parallel(),
        (None, ModeArg::Opencv, Some(InitArg::Parallel)) => {
            anyhow::bail!("--init parallel (k-means||) needs --mode fast")
        }
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
    let kmeans = KMeansParams::new(k.unwrap_or(1))
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
            mb.clone().check()?;
            Some(mb)
        }
    };
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
            ..DataSource::from_args(&a.data)
        },
        preset,
        kmeans,
        k,
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

/// `--init-centers`: a float32 .npy of K rows (`-k`, when given, must agree); returns K and
/// the centers, row by row.
fn read_centers(path: &std::path::Path, k: Option<usize>) -> Result<(usize, Vec<f32>)> {
    use anyhow::Context;
    let name = path.display();
    let arr = npy::read(path).with_context(|| format!("--init-centers {name}"))?;
    let (rows, v) = match (arr.data, &arr.shape[..]) {
        (npy::NpyData::F32(v), &[rows, _]) if rows > 0 && k.is_none_or(|k| rows == k) => (rows, v),
        (npy::NpyData::F32(_), &[rows, _]) if rows > 0 => anyhow::bail!(
            "--init-centers {name}: the file holds {rows} centers but -k is {}",
            k.unwrap_or(0)
        ),
        _ => anyhow::bail!(
            "--init-centers {name}: expected a float32 array of {} rows (K x D), got shape {:?}",
            k.map_or("K".to_string(), |k| k.to_string()),
            arr.shape
        ),
    };
    let dims = v.len() / rows;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        anyhow::bail!(
            "--init-centers {name}: center {}, value {} is {} (centers must be finite)",
            i / dims.max(1),
            i % dims.max(1),
            v[i]
        );
    }
    Ok((rows, v))
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
        Some(path) if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) => Some(format!(
            "--data {} is not a regular file (a folder, pipe or device)",
            path.display()
        )),
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
    // A truncation while mapped ends the run with a message naming the file, not a crash.
    output::report_sigbus_as_changed_file(path);
    // SAFETY: `--mmap` documents (README, `classify --help`) that the data file must not be
    // written to or truncated during the run, the contract of `open_mapped`.
    match unsafe { open_mapped(path) } {
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
            let labels = open_labels_for(lp, mapped.len())
                .map_err(|e| data::flag_error("--labels", lp, e))?;
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
    // Labels that skip values are renumbered densely, their values kept as class names.
    let (truth, names) = match truth.as_deref().map(dense_labels) {
        Some(Some((dense, names))) => (Some(dense), Some(names)),
        _ => (truth, None),
    };
    let n_classes = truth
        .as_ref()
        .map(|l| l.iter().max().map_or(0, |&m| m as usize + 1));
    let k = cfg.k.unwrap_or_else(|| n_classes.unwrap_or(10));
    let source = path.display().to_string();
    let spec = cfg.spec(k, &source);
    let data = match mapped.values() {
        MappedValues::U8(x) => Data::u8(x, mapped.dims()),
        MappedValues::F32(x) => Data::f32(x, mapped.dims()),
    };
    let o = run::run_in_place(data, path, truth.as_deref(), names, &spec, progress)?;
    let description = format!("{} ({})", source, mapped.describe());
    finish(cfg, &o, None, &description, &source, load_ms, true, w, t0)
}

pub fn run(a: &ClassifyArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config(a)?;
    if a.distributed {
        return distributed::run(&cfg, a, w, t0);
    }
    if let Some(mapped) = mapping(&cfg)? {
        return run_mapped(&cfg, &mapped, progress, w, t0);
    }
    let loading = progress.spinner(format!("loading {}…", source_name(&cfg.source)));
    let loaded = data::load(&cfg.source)?;
    drop(loading);
    let load_ms = ms(t0);
    let k = cfg
        .k
        .unwrap_or_else(|| loaded.dataset.n_classes().unwrap_or(10));
    let spec = cfg.spec(k, &loaded.source);
    let o = run::run(&loaded.dataset, &spec, progress)?;
    let description = format!("{} ({})", loaded.source, loaded.dataset.describe());
    finish(
        &cfg,
        &o,
        Some(&loaded),
        &description,
        &loaded.source,
        load_ms,
        false,
        w,
        t0,
    )
}

/// Writes every output of a run at once, then prints the report (JSON or text).
#[allow(clippy::too_many_arguments)]
fn finish(
    cfg: &Config,
    o: &ScoredFit,
    loaded: Option<&Loaded>,
    description: &str,
    source: &str,
    load_ms: f64,
    mmap: bool,
    w: &mut impl Write,
    t0: Instant,
) -> Result<()> {
    let mut outputs = Outputs::default();
    if let Some(p) = &cfg.labels_out {
        let labels: Vec<i32> = o.clusters.iter().map(|&c| c as i32).collect();
        outputs.add(p, npy::encode_i32(&[labels.len()], &labels));
    }
    if let Some(p) = &cfg.centers_out {
        outputs.add(p, npy::encode_f32(&[o.fit.k, o.fit.dims], &o.fit.centers));
    }
    if let Some(p) = &cfg.model_out {
        outputs.add(p, o.model.to_bytes());
    }
    let t = Instant::now();
    if let Some(dir) = &cfg.out {
        for (name, bytes) in report::fit_figures(o, "")? {
            outputs.add(dir.join(name), bytes);
        }
    }
    let figures_ms = ms(t);
    if let (Some(p), Some(loaded)) = (&cfg.report, loaded) {
        // Phases that add up to the total: what is not listed is "other" (scoring, the
        // images after deskew for the report, …).
        let (fit_ms, predict_ms, total) = (o.fit_ms(), o.predict_ms(), ms(t0));
        let listed = load_ms + fit_ms + predict_ms + figures_ms;
        let timings = Timings {
            rows: vec![
                ("load".into(), load_ms),
                ("fit (every stage, k-means included)".into(), fit_ms),
                ("held-out prediction".into(), predict_ms),
                ("figures".into(), figures_ms),
                ("other".into(), (total - listed).max(0.0)),
                ("total".into(), total),
            ],
        };
        let html = report::fit_report(&loaded.source, &loaded.dataset, o, &timings)?;
        outputs.add(p, html.into_bytes());
    }
    let total_ms = ms(t0);
    if cfg.json {
        let mut v = summary::run_json(o);
        v["source"] = json!(source);
        v["mmap"] = json!(mmap);
        v["timings_ms"] = summary::timings_json(o, load_ms, total_ms);
        return outputs.commit_with_json(v, w);
    }
    let written: Vec<String> = outputs.paths().map(|p| p.display().to_string()).collect();
    outputs.commit()?;
    writeln!(w, "Data: {description}")?;
    summary::write_run_text(w, o)?;
    writeln!(
        w,
        "Timings: load {load_ms:.1} ms, features {:.1} ms, k-means {:.1} ms, total {total_ms:.1} ms",
        o.features_ms(),
        o.kmeans_ms()
    )?;
    if !written.is_empty() {
        writeln!(w, "Written: {}", written.join(", "))?;
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
