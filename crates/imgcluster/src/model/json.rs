//! The JSON model format, version 1 (documented in `docs/model-format.md`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pipeline::{InitKind, InputKind, KMeansInfo, Model, ModelSpec, TrainingInfo};
use super::ModelError;
use crate::features::FeatureKind;
use crate::imgproc::{DeskewParams, Interpolation};

/// The value of the `format` field of every model file.
pub const MODEL_FORMAT: &str = "imgcluster-model";
/// The format version this library writes and reads.
pub const MODEL_VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
enum DtypeV1 {
    #[serde(rename = "u8")]
    U8,
    #[serde(rename = "f32")]
    F32,
}

#[derive(Serialize, Deserialize)]
struct InputV1 {
    dtype: DtypeV1,
    height: Option<usize>,
    width: Option<usize>,
    dims: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum InterpolationV1 {
    Nearest,
    Linear,
    Cubic,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FeaturesV1 {
    Raw,
    Deskew {
        factor: f64,
        threshold: f64,
        interpolation: InterpolationV1,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum InitV1 {
    Random,
    Pp,
    Labels,
}

#[derive(Serialize, Deserialize)]
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

#[derive(Serialize, Deserialize, Default)]
struct TrainingV1 {
    source: Option<String>,
    n_samples: usize,
    train_ratio: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct ClassesV1 {
    count: usize,
    names: Option<Vec<String>>,
}

/// The whole file, as read (the writer writes the same fields section by section).
#[derive(Deserialize)]
struct FileV1 {
    input: InputV1,
    features: FeaturesV1,
    kmeans: KMeansV1,
    #[serde(default)]
    training: TrainingV1,
    classes: Option<ClassesV1>,
    mapping: Option<Vec<u32>>,
    centers: Vec<Vec<f64>>,
}

fn compact<T: Serialize>(value: &T) -> String {
    // Plain data (numbers, strings, options) always serialise.
    serde_json::to_string(value).expect("model sections serialise")
}

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

impl Model {
    /// The model as JSON text, format version 1 (see `docs/model-format.md`): one line per
    /// section and one line per center.
    ///
    /// Every center value is the exact value of its `f32`, written as the shortest decimal
    /// that reads back as the same `f64`; [`Model::from_json`] narrows it back to the same
    /// `f32`, bit for bit.
    pub fn to_json(&self) -> String {
        let s = self.spec();
        let input = InputV1 {
            dtype: match s.input {
                InputKind::U8 => DtypeV1::U8,
                InputKind::F32 => DtypeV1::F32,
            },
            height: s.image_shape.map(|(h, _)| h),
            width: s.image_shape.map(|(_, w)| w),
            dims: self.dims(),
        };
        let features = match &s.features {
            FeatureKind::Raw => FeaturesV1::Raw,
            FeatureKind::Deskew(p) => FeaturesV1::Deskew {
                factor: p.factor(),
                threshold: p.threshold(),
                interpolation: match p.interpolation() {
                    Interpolation::Nearest => InterpolationV1::Nearest,
                    Interpolation::Linear => InterpolationV1::Linear,
                    Interpolation::Cubic => InterpolationV1::Cubic,
                },
            },
        };
        let k = &s.kmeans;
        let kmeans = KMeansV1 {
            k: k.k,
            attempts: k.attempts,
            max_iter: k.max_iter,
            epsilon: k.epsilon,
            init: match k.init {
                InitKind::RandomBox => InitV1::Random,
                InitKind::PlusPlus => InitV1::Pp,
                InitKind::Labels => InitV1::Labels,
            },
            seed: k.seed,
            compactness: k.compactness,
            iterations: k.iterations,
        };
        let training = TrainingV1 {
            source: s.training.source.clone(),
            n_samples: s.training.n_samples,
            train_ratio: s.training.train_ratio,
        };
        let classes = s.n_classes.map(|count| ClassesV1 {
            count,
            names: s.class_names.clone(),
        });
        let mut out = String::from("{\n");
        let mut field = |name: &str, value: String| {
            out.push_str(&format!("  \"{name}\": {value},\n"));
        };
        field("format", compact(&MODEL_FORMAT));
        field("version", MODEL_VERSION.to_string());
        field(
            "written_by",
            compact(&format!("imgcluster {}", env!("CARGO_PKG_VERSION"))),
        );
        field("input", compact(&input));
        field("features", compact(&features));
        field("kmeans", compact(&kmeans));
        field("training", compact(&training));
        field("classes", compact(&classes));
        field("mapping", compact(&s.mapping));
        out.push_str("  \"centers\": [\n");
        let rows: Vec<String> = s
            .centers
            .chunks_exact(self.dims())
            .map(|row| {
                let wide: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
                format!("    {}", compact(&wide))
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str("\n  ]\n}\n");
        out
    }

    /// Reads a model from JSON text.
    ///
    /// # Errors
    /// [`ModelError::Json`] for text that is not JSON, [`ModelError::NotAModel`] when the
    /// `format` field is not `"imgcluster-model"`, [`ModelError::Version`] for another format
    /// version, [`ModelError::Invalid`] for missing, malformed or inconsistent fields.
    pub fn from_json(text: &str) -> Result<Model, ModelError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ModelError::Json(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| ModelError::NotAModel("the JSON is not an object".to_string()))?;
        match obj.get("format") {
            Some(Value::String(f)) if f == MODEL_FORMAT => {}
            Some(other) => {
                return Err(ModelError::NotAModel(format!(
                    "\"format\" is {other}, expected \"{MODEL_FORMAT}\""
                )))
            }
            None => {
                return Err(ModelError::NotAModel(format!(
                    "no \"format\": \"{MODEL_FORMAT}\" field"
                )))
            }
        }
        let version = obj
            .get("version")
            .ok_or_else(|| invalid("no \"version\" field"))?;
        match version.as_u64() {
            Some(MODEL_VERSION) => {}
            Some(found) => return Err(ModelError::Version { found }),
            None => {
                return Err(invalid(format!(
                    "\"version\" is {version}, expected a whole number"
                )))
            }
        }
        let file: FileV1 = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        Model::new(spec_of(file)?)
    }

    /// Reads a model file.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the file cannot be read; else as [`Model::from_json`], wrapped
    /// in [`ModelError::InFile`] so that the message names the file (e.g. "model m.json has
    /// format version 7; this imgcluster reads version 1").
    pub fn read(path: &Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ModelError::Json("the file is not UTF-8 text".to_string()).in_file(path)
        })?;
        Model::from_json(&text).map_err(|e| e.in_file(path))
    }
}

fn spec_of(f: FileV1) -> Result<ModelSpec, ModelError> {
    let image_shape = match (f.input.height, f.input.width) {
        (Some(h), Some(w)) => Some((h, w)),
        (None, None) => None,
        _ => return Err(invalid("input: give both height and width, or neither")),
    };
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
    let features = match f.features {
        FeaturesV1::Raw => FeatureKind::Raw,
        FeaturesV1::Deskew {
            factor,
            threshold,
            interpolation,
        } => {
            let params = DeskewParams::new()
                .factor(factor)
                .threshold(threshold)
                .interpolation(match interpolation {
                    InterpolationV1::Nearest => Interpolation::Nearest,
                    InterpolationV1::Linear => Interpolation::Linear,
                    InterpolationV1::Cubic => Interpolation::Cubic,
                })
                .check()
                .map_err(|e| invalid(format!("features: {e}")))?;
            FeatureKind::Deskew(params)
        }
    };
    let k = f.kmeans;
    Ok(ModelSpec {
        input: match f.input.dtype {
            DtypeV1::U8 => InputKind::U8,
            DtypeV1::F32 => InputKind::F32,
        },
        image_shape,
        features,
        kmeans: KMeansInfo {
            k: k.k,
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
        },
        centers,
        mapping: f.mapping,
        n_classes: f.classes.as_ref().map(|c| c.count),
        class_names: f.classes.and_then(|c| c.names),
        training: TrainingInfo {
            source: f.training.source,
            n_samples: f.training.n_samples,
            train_ratio: f.training.train_ratio,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgproc::DeskewValidParams;
    use crate::CvRng;

    fn model(centers: Vec<f32>, dims: usize) -> Model {
        let k = centers.len() / dims;
        Model::new(ModelSpec {
            input: InputKind::F32,
            image_shape: None,
            features: FeatureKind::Raw,
            kmeans: KMeansInfo::new(k),
            centers,
            mapping: None,
            class_names: None,
            n_classes: None,
            training: TrainingInfo::default(),
        })
        .unwrap()
    }

    #[test]
    fn centers_round_trip_bit_for_bit() {
        let mut values: Vec<f32> = vec![
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            -f32::from_bits(0x0040_0001),
            16_777_217.0,
            255.0,
            127.49999,
        ];
        // Random bit patterns over the whole f32 range (finite ones), with a pinned seed.
        let mut rng = CvRng::from_set_rng_seed(20240611);
        while values.len() < 20_000 {
            let v = f32::from_bits(rng.next_u32());
            if v.is_finite() {
                values.push(v);
            }
        }
        let m = model(values.clone(), 4);
        let back = Model::from_json(&m.to_json()).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(back.centers()), bits(&values));
    }

    #[test]
    fn every_part_round_trips() {
        let m = Model::new(ModelSpec {
            input: InputKind::U8,
            image_shape: Some((2, 3)),
            features: FeatureKind::Deskew(
                DeskewParams::new()
                    .factor(0.5)
                    .interpolation(Interpolation::Linear)
                    .check()
                    .unwrap(),
            ),
            kmeans: KMeansInfo {
                k: 2,
                attempts: 3,
                max_iter: Some(7),
                epsilon: Some(0.25),
                init: InitKind::PlusPlus,
                seed: Some(-5),
                compactness: Some(5_269_121_590.875),
                iterations: Some(4),
            },
            centers: (0..12).map(|v| v as f32 * 1.1).collect(),
            mapping: Some(vec![2, 0]),
            class_names: Some(vec!["a \"quoted\" name".into(), "β".into(), "c".into()]),
            n_classes: Some(3),
            training: TrainingInfo {
                source: Some("data/x.npy".into()),
                n_samples: 40,
                train_ratio: Some(0.5),
            },
        })
        .unwrap();
        let text = m.to_json();
        assert!(text.starts_with("{\n  \"format\": \"imgcluster-model\",\n  \"version\": 1,\n"));
        assert_eq!(Model::from_json(&text).unwrap(), m);
        let raw = model(vec![1.0, 2.0], 1);
        assert_eq!(Model::from_json(&raw.to_json()).unwrap(), raw);
        let _ = DeskewValidParams::default();
    }

    #[test]
    fn other_versions_and_broken_files_are_clear_errors() {
        let text = model(vec![1.0], 1).to_json();
        let v7 = text.replace("\"version\": 1,", "\"version\": 7,");
        assert!(matches!(
            Model::from_json(&v7),
            Err(ModelError::Version { found: 7 })
        ));
        let e = Model::from_json(&v7)
            .map_err(|e| e.in_file(Path::new("m.json")))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "model m.json has format version 7; this imgcluster reads version 1"
        );
        let cases = [
            (&text[..text.len() / 2], "not valid JSON"),
            ("[1, 2]", "not an imgcluster model"),
            ("{\"format\": \"other\"}", "not an imgcluster model"),
            ("{\"format\": \"imgcluster-model\"}", "no \"version\""),
            (
                "{\"format\": \"imgcluster-model\", \"version\": \"1\"}",
                "expected a whole number",
            ),
            (
                &text.replace("\"centers\"", "\"centres\""),
                "missing field `centers`",
            ),
            (
                &text.replace("[\n    [1.0]", "[\n    [1.0, 2.0]"),
                "center 0 has 2",
            ),
            (
                &text.replace("[1.0]", "[1e300]"),
                "not a finite 32-bit float",
            ),
            (&text.replace("\"k\":1", "\"k\":2"), "kmeans.k is 2"),
        ];
        for (bad, says) in cases {
            let e = Model::from_json(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{says}: {e}");
        }
    }
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
        assert!(Model::from_json(text).is_err());
    }
}
