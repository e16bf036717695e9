//! What a run says: one JSON object or a few lines of text, for every pipeline.

use std::io::Write;

use anyhow::Result;
use imgcluster::kmeans::Init;
use imgcluster::metrics::{Accuracy, ConfusionMatrix};
use serde_json::{json, Value};

use imgcluster::model::ScoredFit;

/// `--init` as the reports name it.
pub fn init_name(init: &Init) -> &'static str {
    match init {
        Init::RandomBox | Init::Samples => "random",
        Init::PlusPlus => "pp",
        Init::Centers(_) => "centers",
        Init::Parallel { .. } => "parallel",
        _ => "labels",
    }
}

/// Peak resident memory of this process in MiB (`VmHWM`), where the OS reports it.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A confusion matrix as a list of rows.
pub fn matrix_json(cm: &ConfusionMatrix) -> Value {
    let n = cm.n_classes();
    json!((0..n)
        .map(|r| cm.row(r).unwrap_or(&[]).to_vec())
        .collect::<Vec<_>>())
}

/// The JSON object describing one run (without timings or outputs).
pub fn run_json(o: &ScoredFit) -> Value {
    let p = o.pipeline.kmeans();
    let fit = &o.fit;
    let record = o.model.record();
    let mut v = json!({
        "pipeline": o.pipeline_name(),
        "n_samples": o.n_samples,
        "n_features": o.model.dims(),
        "features": o.model.features_name(),
        "deskewed": o.model.deskewed(),
        "k": fit.k,
        "attempts": p.attempts(),
        "max_iter": p.max_iter(),
        "epsilon": p.epsilon_sq().sqrt(),
        "init": init_name(p.init()),
        "mode": p.mode().name(),
        "peak_rss_mb": peak_rss_mb(),
        "seed": record.kmeans.seed,
        "threads": o.pipeline.threads().count(),
        "isa": imgcluster::kernels::isa_name(),
        "compactness": fit.compactness,
        "iterations": fit.iterations,
        // Counted from 1, as the text and the HTML report count attempts.
        "best_attempt": fit.best_attempt + 1,
        "n_train": o.n_train,
        "algorithm": if record.kmeans.minibatch.is_some() { "minibatch" } else { "lloyd" },
    });
    if let Some(mb) = o.pipeline.minibatch() {
        // Mini-batch k-means stops on its own criteria: tol replaces epsilon.
        v["epsilon"] = Value::Null;
        v["tol"] = json!(mb.tol());
    }
    if let Some(m) = &record.kmeans.minibatch {
        v["batch_size"] = json!(m.batch_size);
        v["steps"] = json!(m.steps);
        v["epochs"] = json!(m.epochs);
        v["stopped_by"] = json!(m.stop.name());
    }
    if let Some(n) = record.ncut {
        v["ncut"] = json!(n);
    }
    if let Some(d) = &record.deskew_decision {
        v["deskew"] = json!({
            "chosen": if d.deskewed() { "deskew" } else { "none" },
            "ncut_deskewed": d.ncut_deskewed,
            "ncut_plain": d.ncut_plain,
        });
    }
    if let Some(names) = o.model.class_names() {
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

/// Wall time of each phase in milliseconds, with each stage of the fit (summed over both
/// variants of `best`).
pub fn timings_json(o: &ScoredFit, load_ms: f64, total_ms: f64) -> Value {
    let mut stages = serde_json::Map::new();
    for (name, d) in o.stages.named() {
        stages.insert(name.to_string(), json!(d.as_secs_f64() * 1e3));
    }
    json!({
        "load": load_ms,
        "features": o.features_ms(),
        "kmeans": o.kmeans_ms(),
        "fit": o.fit_ms(),
        "predict": o.predict_ms(),
        "total": total_ms,
        "stages": stages,
    })
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
pub fn write_run_text(w: &mut impl Write, o: &ScoredFit) -> Result<()> {
    let p = o.pipeline.kmeans();
    let fit = &o.fit;
    let record = o.model.record();
    if let Some(preset) = o.pipeline.preset() {
        writeln!(w, "Pipeline: {} ({})", preset.name(), preset.stages())?;
    }
    if let Some(d) = &record.deskew_decision {
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
        o.model.features_name(),
        o.n_train,
        o.model.dims()
    )?;
    let (iterations, tolerance) = match o.pipeline.minibatch() {
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
        match record.kmeans.seed {
            Some(s) => format!("seed {s}"),
            None => "OpenCV's default RNG state".to_string(),
        }
    )?;
    match &record.kmeans.minibatch {
        Some(m) => writeln!(
            w,
            "Mini-batch: compactness {} after {} steps of {} samples ({} epochs, stopped by {}; \
             seeding #{} of {})",
            fit.compactness,
            m.steps,
            m.batch_size,
            m.epochs,
            m.stop.name(),
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
    if let Some(e) = &o.train {
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
            .map(|(c, &k)| format!("{c}->{}", o.class_label(k)))
            .collect();
        writeln!(w, "Cluster -> class: {}", map.join(" "))?;
    }
    if let Some(h) = &o.held_out {
        write_scores(w, "Held-out", &h.confusion.accuracy(), h.nmi, h.ari)?;
    }
    if let Some(cm) = o.headline() {
        write_matrix(w, cm, o.model.class_names())?;
    }
    Ok(())
}

/// A confusion matrix as text: with the class names as headers when there are names (and
/// the order they are numbered in), else as NumPy prints it.
pub fn write_matrix(
    w: &mut impl Write,
    cm: &ConfusionMatrix,
    names: Option<&[String]>,
) -> Result<()> {
    writeln!(
        w,
        "Confusion matrix (rows: true class, columns: predicted class):"
    )?;
    match names {
        Some(names) => {
            let list: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i}={n}"))
                .collect();
            writeln!(w, "{}", cm.labelled(names))?;
            writeln!(
                w,
                "Classes, numbered in the sorted order of their names: {}",
                list.join(" ")
            )?;
        }
        None => writeln!(w, "{cm}")?,
    }
    Ok(())
}
