//! `imgcluster tutorial`: OpenCV's k-means digits tutorial on the embedded digits.png.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use imgcluster::dataset::{grid, Dataset};
use imgcluster::features::{PipelineParams, Preset};
use imgcluster::Threads;
use serde_json::{json, Value};

use crate::args::TutorialArgs;
use crate::output::{self, Outputs};
use crate::progress::Progress;
use crate::run::{self, ms, RunSpec};
use crate::summary::run_json;
use imgcluster::model::ScoredFit;
use imgcluster::report::{self, Timings};

/// The tutorial's accuracy as its text states it, and what its own matrix sums to.
const TUTORIAL_TEXT_PERCENT: &str = "54.80";

/// The preset's run on the digits with OpenCV's default generator state. The tutorial
/// presets are `cv2.kmeans(data, 10, None, (MAX_ITER + EPS, 10, 1.0), 10,
/// KMEANS_RANDOM_CENTERS)`.
fn run_preset(digits: &Dataset, preset: Preset, progress: &Progress) -> Result<ScoredFit> {
    let spec = RunSpec {
        params: PipelineParams::preset(preset, 10),
        seed: None,
        threads: Threads::Auto,
        train_ratio: None,
        source: "embedded digits.png".into(),
    };
    run::run(digits, &spec, progress)
}

fn write_step(w: &mut impl Write, title: &str, o: &ScoredFit) -> Result<()> {
    writeln!(w, "{title}")?;
    if let Some(e) = &o.train {
        writeln!(
            w,
            "Accuracy: {}% ({}/{} digits in the cluster matched to their class)",
            e.accuracy.format_percent(),
            e.accuracy.correct(),
            e.accuracy.total()
        )?;
        writeln!(
            w,
            "Confusion matrix (rows: true digit, columns: predicted digit):"
        )?;
        writeln!(w, "{}", e.confusion)?;
    }
    Ok(())
}

pub fn run(a: &TutorialArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    output::prepare_dir(&a.out, "--out")?;
    let t = Instant::now();
    let digits = grid::digits();
    let load_ms = ms(t);

    let raw = run_preset(&digits, Preset::TutorialRaw, progress)?;
    let deskewed = run_preset(&digits, Preset::TutorialDeskew, progress)?;

    // The ablation: the tutorial's two runs, then the feature pipelines.
    let mut presets: Vec<Preset> = Vec::new();
    let wanted: Vec<Preset> = if a.pipeline.is_empty() {
        Preset::ALL.to_vec()
    } else {
        a.pipeline.iter().map(|&p| p.preset()).collect()
    };
    for p in wanted {
        if !presets.contains(&p) {
            presets.push(p);
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut pipeline_runs: Vec<ScoredFit> = Vec::new();
    for &p in &presets {
        match p {
            Preset::TutorialRaw => rows.push(Row::of(&raw)),
            Preset::TutorialDeskew => rows.push(Row::of(&deskewed)),
            _ => {
                let r = run_preset(&digits, p, progress)?;
                rows.push(Row::of(&r));
                pipeline_runs.push(r);
            }
        }
    }

    let mut outputs = Outputs::default();
    for (stem, o) in [("raw_", &raw), ("deskew_", &deskewed)] {
        for (name, bytes) in report::fit_figures(o, stem)? {
            outputs.add(a.out.join(name), bytes);
        }
    }
    if let Some(images) = &deskewed.images {
        outputs.add(
            a.out.join("deskew_examples.png"),
            report::deskew_examples(&digits, images)?,
        );
    }
    for r in &pipeline_runs {
        for (name, bytes) in report::fit_figures(r, &format!("{}_", r.pipeline_name()))? {
            outputs.add(a.out.join(name), bytes);
        }
    }
    let raw_percent = raw.train.as_ref().map(|e| e.accuracy.format_percent());
    {
        let _phase = progress.spinner("writing the report…");
        let note = match &raw_percent {
            Some(p) => format!(
                "OpenCV's tutorial text says {TUTORIAL_TEXT_PERCENT}% for the raw pixels, but its own \
                 printed confusion matrix sums to {p}%, the figure reproduced here."
            ),
            None => String::new(),
        };
        // Phases that add up to the total.
        let mut rows: Vec<(String, f64)> = vec![
            ("load".into(), load_ms),
            ("raw pixels: k-means".into(), raw.fit_ms()),
            ("deskewed: deskew and k-means".into(), deskewed.fit_ms()),
        ];
        for r in &pipeline_runs {
            rows.push((format!("{} (ablation)", r.pipeline_name()), r.fit_ms()));
        }
        let total = ms(t0);
        let listed: f64 = rows.iter().map(|(_, v)| v).sum();
        rows.push(("figures and other".into(), (total - listed).max(0.0)));
        rows.push(("total".into(), total));
        let timings = Timings { rows };
        let html = report::tutorial_report(&digits, &raw, &deskewed, &note, &timings)?;
        outputs.add(a.out.join("report.html"), html.into_bytes());
    }
    let figure_paths: Vec<String> = outputs.paths().map(|p| p.display().to_string()).collect();
    outputs.commit()?;
    let total_ms = ms(t0);

    if a.json {
        let v = json!({
            "data": "embedded digits.png",
            "shape": [digits.len(), digits.dims()],
            "raw": run_json(&raw),
            "deskew": run_json(&deskewed),
            "tutorial_text_accuracy_percent": TUTORIAL_TEXT_PERCENT.parse::<f64>().ok(),
            "ablation": rows.iter().map(Row::json).collect::<Vec<_>>(),
            "figures": figure_paths,
            "timings_ms": {
                "load": load_ms,
                "raw": raw.fit_ms(),
                "deskew": deskewed.fit_ms(),
                "total": total_ms,
            },
        });
        writeln!(w, "{v}")?;
        return Ok(());
    }
    writeln!(w, "OpenCV's k-means digits tutorial, reproduced")?;
    writeln!(
        w,
        "Data: embedded digits.png, {} ({} per class)",
        digits.describe(),
        digits.len() / digits.n_classes().unwrap_or(1).max(1)
    )?;
    writeln!(w, "({}, {})", digits.len(), digits.dims())?;
    writeln!(w)?;
    write_step(
        w,
        "1. k-means on the raw pixels: K=10, criteria (MAX_ITER+EPS, 10, 1.0), 10 attempts, random centers",
        &raw,
    )?;
    if let Some(p) = raw_percent {
        writeln!(
            w,
            "Note: the tutorial's text says {TUTORIAL_TEXT_PERCENT}%, but its own printed matrix sums to {p}%, the figure reproduced here."
        )?;
    }
    writeln!(w)?;
    write_step(
        w,
        "2. The same after deskewing every digit (moments, shear, bicubic warp)",
        &deskewed,
    )?;
    writeln!(w)?;
    write_ablation(w, &rows)?;
    writeln!(w)?;
    writeln!(w, "Figures and report in {}:", a.out.display())?;
    for p in &figure_paths {
        writeln!(w, "  {p}")?;
    }
    writeln!(w, "Done in {total_ms:.0} ms.")?;
    Ok(())
}

/// One row of the ablation table.
struct Row {
    preset: Preset,
    accuracy: Option<(String, f64)>,
    nmi: Option<f64>,
    ari: Option<f64>,
    ms: f64,
    extra: Value,
}

impl Row {
    fn of(o: &ScoredFit) -> Self {
        let preset = o.pipeline.preset().unwrap_or(Preset::TutorialRaw);
        let extra = run_json(o)["deskew"].clone();
        Self {
            preset,
            accuracy: o
                .train
                .as_ref()
                .map(|e| (e.accuracy.format_percent(), e.accuracy.percent())),
            nmi: o.train.as_ref().map(|e| e.nmi),
            ari: o.train.as_ref().map(|e| e.ari),
            ms: o.fit_ms(),
            extra,
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "pipeline": self.preset.name(),
            "stages": self.preset.stages(),
            "accuracy_percent": self.accuracy.as_ref().map(|a| a.1),
            "nmi": self.nmi,
            "ari": self.ari,
            "time_ms": self.ms,
        });
        if !self.extra.is_null() {
            v["deskew"] = self.extra.clone();
        }
        v
    }
}

fn write_ablation(w: &mut impl Write, rows: &[Row]) -> Result<()> {
    writeln!(
        w,
        "3. Beyond the tutorial: each pipeline adds stages (same digits, K=10, OpenCV's default RNG state)"
    )?;
    writeln!(
        w,
        "{:<16} {:<62} {:>8} {:>7} {:>9}",
        "pipeline", "stages", "accuracy", "NMI", "time"
    )?;
    for r in rows {
        let acc = r
            .accuracy
            .as_ref()
            .map_or_else(|| "-".to_string(), |a| format!("{}%", a.0));
        let nmi = r.nmi.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        writeln!(
            w,
            "{:<16} {:<62} {:>8} {:>7} {:>6.0} ms",
            r.preset.name(),
            r.preset.stages(),
            acc,
            nmi,
            r.ms
        )?;
    }
    for r in rows {
        if let (Some(d), Some(p)) = (
            r.extra.get("ncut_deskewed").and_then(Value::as_f64),
            r.extra.get("ncut_plain").and_then(Value::as_f64),
        ) {
            writeln!(
                w,
                "{}: deskew decided by the normalised cut, {d:.4} deskewed vs {p:.4} as given -> {}",
                r.preset.name(),
                if d <= p { "deskew" } else { "no deskew" }
            )?;
        }
    }
    Ok(())
}
