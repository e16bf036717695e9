//! The JSON model format of version 1 (`docs/model-format.md`), read for the models that
//! earlier releases wrote: the tutorial pipelines (raw or deskewed pixels, then the
//! nearest center).

use serde::Deserialize;

use super::fitted::{invalid, Classes, FitRecord, FittedPipeline, InitKind, KMeansRecord, Stages};
use super::{deskew_params, image_shape, DtypeName, InterpolationName, ModelError};

#[derive(Deserialize)]
struct InputV1 {
    dtype: DtypeName,
    height: Option<usize>,
    width: Option<usize>,
    dims: usize,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FeaturesV1 {
    Raw,
    Deskew {
        factor: f64,
        threshold: f64,
        interpolation: InterpolationName,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum InitV1 {
    Random,
    Pp,
    Labels,
}

#[derive(Deserialize)]
struct KMeansV1 {
    k: usize,
    attempts: usize,
    max_iter: Option<usize>,
    epsilon: Option<f64>,
    init: InitV1,
    seed: Option<i32>,
    compactness: Option<f64>,
    iterations: Option<usize>,
}

#[derive(Deserialize, Default)]
struct TrainingV1 {
    source: Option<String>,
    n_samples: usize,
    train_ratio: Option<f64>,
}

#[derive(Deserialize)]
struct ClassesV1 {
    count: usize,
    names: Option<Vec<String>>,
}

/// The whole file, as read.
#[derive(Deserialize)]
pub(super) struct FileV1 {
    input: InputV1,
    features: FeaturesV1,
    kmeans: KMeansV1,
    #[serde(default)]
    training: TrainingV1,
    classes: Option<ClassesV1>,
    mapping: Option<Vec<u32>>,
    centers: Vec<Vec<f64>>,
}

/// The fitted pipeline of a version-1 file.
pub(super) fn read(text: &str) -> Result<FittedPipeline, ModelError> {
    let f: FileV1 = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let image_shape = image_shape(f.input.height, f.input.width)?;
    let dims = f.input.dims;
    if f.centers.len() != f.kmeans.k {
        return Err(invalid(format!(
            "kmeans.k is {} but there are {} centers",
            f.kmeans.k,
            f.centers.len()
        )));
    }
    // Sized from the values actually present, never from the (untrusted) declared dims.
    let mut centers = Vec::with_capacity(f.centers.iter().map(Vec::len).sum());
    for (c, row) in f.centers.iter().enumerate() {
        if row.len() != dims {
            return Err(invalid(format!(
                "center {c} has {} values; input.dims is {dims}",
                row.len()
            )));
        }
        for (j, &v) in row.iter().enumerate() {
            let x = v as f32;
            if !x.is_finite() {
                return Err(invalid(format!(
                    "center {c}, value {j} ({v}) is not a finite 32-bit float"
                )));
            }
            centers.push(x);
        }
    }
    let deskew = match f.features {
        FeaturesV1::Raw => None,
        FeaturesV1::Deskew {
            factor,
            threshold,
            interpolation,
        } => Some(deskew_params(factor, threshold, interpolation)?),
    };
    let k = f.kmeans;
    let classes = match (f.classes, f.mapping) {
        (Some(c), Some(m)) => Some(Classes::new(m, c.count, c.names)?),
        (Some(c), None) if c.count == 0 => return Err(invalid("the number of classes is 0")),
        (_, Some(_)) => return Err(invalid("a mapping needs the number of classes")),
        _ => None,
    };
    let stages = Stages {
        deskew,
        ..Stages::pixels(f.input.dtype.kind(), image_shape, dims)
    };
    let mut record = FitRecord::new(k.k);
    record.preset = Some(
        if deskew.is_some() {
            "tutorial-deskew"
        } else {
            "tutorial-raw"
        }
        .into(),
    );
    record.kmeans = KMeansRecord {
        attempts: k.attempts,
        max_iter: k.max_iter,
        epsilon: k.epsilon,
        init: match k.init {
            InitV1::Random => InitKind::RandomBox,
            InitV1::Pp => InitKind::PlusPlus,
            InitV1::Labels => InitKind::Labels,
        },
        seed: k.seed,
        compactness: k.compactness,
        iterations: k.iterations,
        ..KMeansRecord::new(k.k)
    };
    record.training.source = f.training.source;
    record.training.n_samples = f.training.n_samples;
    record.training.train_ratio = f.training.train_ratio;
    FittedPipeline::new(stages, centers, classes, record)
}

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// Found by the `model` fuzz target: a huge declared `dims` must not be allocated.
    #[test]
    fn huge_declared_dims_is_an_error_not_an_allocation() {
        let text = r#"{"format":"imgcluster-model","version":1,
            "input":{"dtype":"u8","height":2,"width":2,"dims":22244444444},
            "features":{"kind":"raw"},
            "kmeans":{"k":1,"attempts":1,"max_iter":10,"epsilon":0.0,"init":"random","seed":null,"compactness":0.0},
            "training":{"source":"x","n_samples":1,"train_ratio":null},
            "classes":{"count":1,"names":null},
            "mapping":[0],
            "centers":[[1.0,2.0,3.0,4.0]]}"#;
        assert!(read(text).is_err());
    }
}
