//! `imgcluster predict`: classify new images, or a data set, with a saved model; and the
//! model that `classify --model-out` saves.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use imgcluster::dataset::imageio::read_gray;
use imgcluster::dataset::{folder, Dataset, Format, Pixels};
use imgcluster::kmeans::Init;
use imgcluster::metrics::ConfusionMatrix;
use imgcluster::model::{
    InitKind, InputKind, KMeansInfo, Model, ModelError, ModelSpec, Prediction, TrainingInfo,
};
use imgcluster::GrayImage;
use serde_json::{json, Value};

use crate::args::PredictArgs;
use crate::classify::threads;
use crate::data::{self, DataSource, Loaded};
use crate::run::{RunOutcome, RunSpec};

/// The model of a `classify` run: its pipeline, centers and the mapping learned on the
/// training part.
pub fn model_from_run(o: &RunOutcome, spec: &RunSpec, loaded: &Loaded) -> Result<Model> {
    let p = &spec.params;
    let fit = &o.fit;
    let mapping = o.mapping().map(|m| m.as_slice().to_vec());
    let model = Model::new(ModelSpec {
        input: match loaded.dataset.pixels() {
            Pixels::U8(_) => InputKind::U8,
            Pixels::F32(_) => InputKind::F32,
        },
        image_shape: o.processed.image_shape(),
        features: spec.kind,
        kmeans: KMeansInfo {
            k: fit.k,
            attempts: p.attempts(),
            max_iter: p.term().max_iter,
            epsilon: p.term().epsilon,
            init: match p.init() {
                Init::RandomBox => InitKind::RandomBox,
                Init::PlusPlus => InitKind::PlusPlus,
                _ => InitKind::Labels,
            },
            seed: spec.seed,
            compactness: Some(fit.compactness),
            iterations: Some(fit.iterations),
        },
        centers: fit.centers.clone(),
        n_classes: o.mapping().map(|m| m.n_classes()),
        class_names: o
            .processed
            .class_names()
            .filter(|_| mapping.is_some())
            .map(<[String]>::to_vec),
        mapping,
        training: TrainingInfo {
            source: Some(loaded.source.clone()),
            n_samples: o.n_train,
            train_ratio: spec.train_ratio.filter(|&r| r < 1.0),
        },
    })
    .context("--model-out")?;
    Ok(model)
}

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

fn image_inputs(model: &Model, model_path: &Path, paths: &[PathBuf]) -> Result<Inputs> {
    // The library's errors name the image file.
    let images: Vec<GrayImage> = paths
        .iter()
        .map(|p| read_gray(p).map_err(|e| anyhow!("{e}")))
        .collect::<Result<_>>()?;
    let dataset = model
        .prepare_images(images.iter().map(GrayImage::view))
        .map_err(|e| anyhow!("--model {}: {e}", model_path.display()))?;
    Ok(Inputs {
        dataset,
        names: paths.iter().map(|p| p.display().to_string()).collect(),
        truth: None,
        labels_given: false,
    })
}

/// The data set's labels in the model's class numbering: by name when both have names
/// (classes the model does not know are numbered after its own), else as they are.
fn translate_labels(model: &Model, ds: &Dataset) -> Option<(Vec<u32>, Option<Vec<String>>)> {
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

fn data_inputs(model: &Model, a: &PredictArgs, path: &Path) -> Result<Inputs> {
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

fn score(model: &Model, inputs: &Inputs, preds: &[Prediction]) -> Result<Option<Score>> {
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

fn class_label(model: &Model, p: &Prediction) -> String {
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

pub fn run(a: &PredictArgs, w: &mut impl Write) -> Result<()> {
    // The library's messages name the model file ("model m.json has format version 7; …").
    let model = Model::read(&a.model).map_err(|e| match e {
        e @ (ModelError::Io { .. } | ModelError::InFile { .. }) => anyhow!("{e}"),
        e => anyhow!("--model {}: {e}", a.model.display()),
    })?;
    let inputs = match &a.data.data {
        Some(path) => {
            let i = data_inputs(&model, a, path)?;
            (i, Some(path))
        }
        None => {
            if a.data.labels.is_some() {
                bail!("--labels applies to --data, not to image files");
            }
            (image_inputs(&model, &a.model, &a.images)?, None)
        }
    };
    let (inputs, data_path) = inputs;
    let preds =
        model
            .predict(&inputs.dataset, threads(a.threads))
            .map_err(|e| match data_path {
                Some(p) => anyhow!("--data {}: {e}", p.display()),
                None => anyhow!("{e}"),
            })?;
    let scored = score(&model, &inputs, &preds)?;

    if a.json {
        let mut v = json!({
            "model": a.model.display().to_string(),
            "n_samples": preds.len(),
            "k": model.k(),
            "features": model.features().name(),
            "predictions": preds.iter().zip(&inputs.names).map(|(p, name)| {
                let mut o = json!({
                    "path": name,
                    "cluster": p.cluster,
                    "class": p.class,
                    "distance": p.distance(),
                });
                if model.class_names().is_some() {
                    o["class_name"] = json!(p.class.and_then(|c| model.class_name(c)));
                }
                o
            }).collect::<Vec<Value>>(),
        });
        if let Some(names) = model.class_names() {
            v["class_names"] = json!(names);
        }
        if let Some(s) = &scored {
            let acc = s.confusion.accuracy();
            v["accuracy_percent"] = json!(acc.percent());
            v["correct"] = json!(acc.correct());
            let n = s.confusion.n_classes();
            v["confusion_matrix"] = json!((0..n)
                .map(|r| s.confusion.row(r).unwrap_or(&[]).to_vec())
                .collect::<Vec<_>>());
            if let Some(names) = &s.class_names {
                v["confusion_class_names"] = json!(names);
            }
        }
        writeln!(w, "{v}")?;
        return Ok(());
    }
    if a.csv {
        writeln!(w, "path,cluster,class,distance")?;
        for (p, name) in preds.iter().zip(&inputs.names) {
            writeln!(
                w,
                "{},{},{},{}",
                csv_field(name),
                p.cluster,
                csv_field(&class_label(&model, p)),
                p.distance()
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
        writeln!(
            w,
            "{name:width$}  {:>7}  {:<10}  {:>8.2}",
            p.cluster,
            class_label(&model, p),
            p.distance()
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
        if let Some(names) = &s.class_names {
            let list: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i}={n}"))
                .collect();
            writeln!(w, "Classes: {}", list.join(" "))?;
        }
        writeln!(
            w,
            "Confusion matrix (rows: true class, columns: predicted class):"
        )?;
        writeln!(w, "{}", s.confusion)?;
    }
    Ok(())
}
