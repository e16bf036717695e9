//! `imgcluster predict`: classify new images, or a data set, with a model saved by
//! `classify --model-out`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use imgcluster::dataset::{folder, Dataset, Format};
use imgcluster::metrics::ConfusionMatrix;
use imgcluster::model::{FittedPipeline, ModelError, Prediction};
use serde_json::{json, Value};

use crate::args::{threads, PredictArgs};
use crate::data::{self, DataSource};
use crate::output::{self, Outputs};
use crate::progress::Progress;
use crate::run::ms;
use crate::summary::{matrix_json, write_matrix};
use imgcluster::report::{self, Timings};

/// What to classify, with a name for each sample and the true classes when known.
struct Inputs {
    dataset: Dataset,
    names: Vec<String>,
    /// True class of each sample in the model's class numbering, and the class names
    /// (the model's, extended by classes it does not know).
    truth: Option<(Vec<u32>, Option<Vec<String>>)>,
    /// Labels were asked for with --labels (scoring is then required).
    labels_given: bool,
}

fn image_inputs(model: &FittedPipeline, model_path: &Path, paths: &[PathBuf]) -> Result<Inputs> {
    // The library's errors name the image file; a model that takes no images is the model's.
    let dataset = model.read_images(paths).map_err(|e| match e {
        ModelError::Dataset(e) => anyhow!("{e}"),
        e => anyhow!("--model {}: {e}", model_path.display()),
    })?;
    Ok(Inputs {
        dataset,
        names: paths.iter().map(|p| p.display().to_string()).collect(),
        truth: None,
        labels_given: false,
    })
}

/// The data set's labels in the model's class numbering: by name when both have names
/// (classes the model does not know are numbered after its own), else as they are.
fn translate_labels(
    model: &FittedPipeline,
    ds: &Dataset,
) -> Option<(Vec<u32>, Option<Vec<String>>)> {
    let labels = ds.labels()?;
    match (model.class_names(), ds.class_names()) {
        (Some(known), Some(theirs)) => {
            let mut names = known.to_vec();
            let map: Vec<u32> = theirs
                .iter()
                .map(|n| match names.iter().position(|k| k == n) {
                    Some(i) => i as u32,
                    None => {
                        names.push(n.clone());
                        (names.len() - 1) as u32
                    }
                })
                .collect();
            Some((
                labels.iter().map(|&l| map[l as usize]).collect(),
                Some(names),
            ))
        }
        (known, _) => Some((labels.to_vec(), known.map(<[String]>::to_vec))),
    }
}

fn data_inputs(model: &FittedPipeline, a: &PredictArgs, path: &Path) -> Result<Inputs> {
    let mut src = DataSource {
        threads: threads(a.threads),
        ..DataSource::from_args(&a.data)
    };
    let is_folder = matches!(src.format, Format::Folder) || path.is_dir();
    if is_folder && src.size.is_none() {
        src.size = model.image_shape();
    }
    let loaded = data::load(&src)?;
    let listing = is_folder.then(|| folder::list(path).ok()).flatten();
    let names = match listing {
        Some(l) => l
            .files
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect(),
        None => (0..loaded.dataset.len())
            .map(|i| format!("{}[{i}]", path.display()))
            .collect(),
    };
    Ok(Inputs {
        truth: translate_labels(model, &loaded.dataset),
        dataset: loaded.dataset,
        names,
        labels_given: a.data.labels.is_some(),
    })
}

/// Accuracy and confusion matrix of the predictions against the true classes.
struct Score {
    confusion: ConfusionMatrix,
    class_names: Option<Vec<String>>,
}

fn score(model: &FittedPipeline, inputs: &Inputs, preds: &[Prediction]) -> Result<Option<Score>> {
    let Some((truth, names)) = &inputs.truth else {
        return Ok(None);
    };
    if model.mapping().is_none() {
        if inputs.labels_given {
            bail!(
                "--labels: the model has no cluster -> class mapping (it was trained without \
                 labels), so predictions cannot be scored"
            );
        }
        return Ok(None);
    }
    let predicted: Vec<u32> = preds.iter().map(|p| p.class.unwrap_or(0)).collect();
    let n_classes = truth
        .iter()
        .chain(&predicted)
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0)
        .max(model.n_classes().unwrap_or(0))
        .max(names.as_ref().map_or(0, Vec::len));
    let confusion = ConfusionMatrix::new(truth, &predicted, n_classes)?;
    Ok(Some(Score {
        confusion,
        class_names: names.clone(),
    }))
}

fn class_label(model: &FittedPipeline, p: &Prediction) -> String {
    match p.class {
        Some(c) => model
            .class_name(c)
            .map_or_else(|| c.to_string(), str::to_string),
        None => "-".to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn run(a: &PredictArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    if let Some(p) = &a.report {
        output::prepare_file(p, "--report")?;
    }
    // The library's messages name the model file ("model m.bin has format version 7; …").
    let mut model = FittedPipeline::load(&a.model).map_err(|e| match e {
        e @ (ModelError::Io { .. } | ModelError::InFile { .. }) => anyhow!("{e}"),
        e => anyhow!("--model {}: {e}", a.model.display()),
    })?;
    model.set_conform_polarity(!a.keep_polarity);
    let load_ms = ms(t0);
    let t = Instant::now();
    let (inputs, data_path) = match &a.data.data {
        Some(path) => (data_inputs(&model, a, path)?, Some(path)),
        None => {
            if a.data.labels.is_some() {
                bail!("--labels applies to --data, not to image files");
            }
            if a.images.is_empty() {
                bail!("give image files to classify, or a data set with --data");
            }
            (image_inputs(&model, &a.model, &a.images)?, None)
        }
    };
    let read_ms = ms(t);
    let t = Instant::now();
    let phase = progress.spinner(format!(
        "predicting {} samples with the {} model…",
        inputs.dataset.len(),
        model.record().preset.as_deref().unwrap_or("custom")
    ));
    let preds =
        model
            .predict(&inputs.dataset, threads(a.threads))
            .map_err(|e| match data_path {
                Some(p) => anyhow!("--data {}: {e}", p.display()),
                None => anyhow!("{e}"),
            })?;
    drop(phase);
    let predict_ms = ms(t);
    let scored = score(&model, &inputs, &preds)?;

    let mut outputs = Outputs::default();
    if let Some(p) = &a.report {
        let timings = Timings {
            rows: vec![
                ("model".into(), load_ms),
                ("data".into(), read_ms),
                ("prediction".into(), predict_ms),
                ("total".into(), ms(t0)),
            ],
        };
        let view = report::PredictView {
            model_path: &a.model,
            model: &model,
            data: &inputs.dataset,
            source: data_path.map_or_else(
                || format!("{} image files", inputs.names.len()),
                |p| p.display().to_string(),
            ),
            predictions: &preds,
            confusion: scored.as_ref().map(|s| &s.confusion),
            class_names: scored.as_ref().and_then(|s| s.class_names.as_deref()),
        };
        outputs.add(p, report::predict_report(&view, &timings)?.into_bytes());
    }
    if a.json {
        let mut v = json!({
            "model": a.model.display().to_string(),
            "pipeline": model.record().preset,
            "n_samples": preds.len(),
            "k": model.k(),
            "features": model.features_name(),
            "predictions": preds.iter().zip(&inputs.names).map(|(p, name)| {
                let mut o = json!({
                    "path": name,
                    "cluster": p.cluster,
                    "class": p.class,
                    "distance": p.distance(),
                    "out_of_distribution": p.out_of_distribution,
                });
                if model.class_names().is_some() {
                    o["class_name"] = json!(p.class.and_then(|c| model.class_name(c)));
                }
                o
            }).collect::<Vec<Value>>(),
            "out_of_distribution": preds.iter().filter(|p| p.out_of_distribution).count(),
            "polarity": model.polarity().map(|p| p.name()),
            "timings_ms": {"model": load_ms, "data": read_ms, "predict": predict_ms, "total": ms(t0)},
        });
        if let Some(names) = model.class_names() {
            v["class_names"] = json!(names);
        }
        if let Some(s) = &scored {
            let acc = s.confusion.accuracy();
            v["accuracy_percent"] = json!(acc.percent());
            v["correct"] = json!(acc.correct());
            v["confusion_matrix"] = matrix_json(&s.confusion);
            if let Some(names) = &s.class_names {
                v["confusion_class_names"] = json!(names);
            }
        }
        return outputs.commit_with_json(v, w);
    }
    let written: Vec<String> = outputs.paths().map(|p| p.display().to_string()).collect();
    outputs.commit()?;
    if a.csv {
        writeln!(w, "path,cluster,class,distance,out_of_distribution")?;
        for (p, name) in preds.iter().zip(&inputs.names) {
            writeln!(
                w,
                "{},{},{},{},{}",
                csv_field(name),
                p.cluster,
                csv_field(&class_label(&model, p)),
                p.distance(),
                p.out_of_distribution
            )?;
        }
        return Ok(());
    }
    let width = inputs
        .names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(w, "{:width$}  cluster  class       distance", "path")?;
    for (p, name) in preds.iter().zip(&inputs.names) {
        let note = if p.out_of_distribution {
            "  out of distribution"
        } else {
            ""
        };
        writeln!(
            w,
            "{name:width$}  {:>7}  {:<10}  {:>8.2}{note}",
            p.cluster,
            class_label(&model, p),
            p.distance()
        )?;
    }
    let far = preds.iter().filter(|p| p.out_of_distribution).count();
    if far > 0 {
        writeln!(
            w,
            "{far} of {} samples are out of distribution: farther from every center (or less \
             like every training sample) than 99.9% of the training samples; their class is a guess",
            preds.len()
        )?;
    }
    if let Some(s) = &scored {
        let acc = s.confusion.accuracy();
        writeln!(
            w,
            "Accuracy: {}% ({}/{})",
            acc.format_percent(),
            acc.correct(),
            acc.total()
        )?;
        write_matrix(w, &s.confusion, s.class_names.as_deref())?;
    }
    if !written.is_empty() {
        writeln!(w, "Written: {}", written.join(", "))?;
    }
    Ok(())
}
