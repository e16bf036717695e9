//! A fitted pipeline — every learned stage of a `classify` run, the k-means centers and the
//! cluster → class mapping learned on the training data — that
//! [`FittedPipeline::predict`] applies to new images, and its file.
//!
//! [`Pipeline::fit`](crate::features::Pipeline::fit) makes one from any pipeline: a
//! tutorial one (raw or deskewed pixels) or a composed one (HOG, PCA, the kNN graph and
//! spectral embedding, whose new samples are placed by the Nyström extension of
//! [`GraphExtension`](crate::features::GraphExtension)).
//!
//! Models are saved in format version 2 by [`FittedPipeline::to_bytes`] /
//! [`FittedPipeline::save`]: a [safetensors](https://github.com/huggingface/safetensors)
//! file whose metadata holds a JSON description (format, version, input, stages, k-means
//! record, classes, a checksum of the arrays) and whose tensors hold the arrays, bit for
//! bit. [`FittedPipeline::from_bytes`] / [`FittedPipeline::load`] read version 2 and the
//! JSON files of version 1 that earlier releases wrote. Both are documented in
//! `docs/model-format.md`. A saved model predicts exactly what the model in memory
//! predicts.
//!
//! # Examples
//! ```
//! use imgcluster::dataset::Dataset;
//! use imgcluster::features::{PipelineParams, Preset};
//! use imgcluster::model::FittedPipeline;
//! use imgcluster::{CvRng, Threads};
//!
//! // Dark and light 1×2 images, labelled 0 and 1.
//! let ds = Dataset::from_images(4, 1, 2, vec![0, 10, 5, 0, 250, 240, 245, 255])?
//!     .with_labels(vec![0, 0, 1, 1])?
//!     .with_class_names(vec!["dark".into(), "light".into()])?;
//! let pipeline = PipelineParams::preset(Preset::TutorialRaw, 2).check()?;
//! let mut model = pipeline.fit(&ds, &CvRng::from_set_rng_seed(1))?;
//! model.learn_classes(ds.labels().unwrap(), 2, ds.class_names().map(<[String]>::to_vec))?;
//! let again = FittedPipeline::from_bytes(&model.to_bytes())?;
//! assert_eq!(again, model);
//! let new = Dataset::from_images(1, 1, 2, vec![230, 250])?;
//! let p = again.predict(&new, Threads::Fixed(1))?;
//! assert_eq!(p[0].class.and_then(|c| again.class_name(c)), Some("light"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod fitted;
mod scored;
mod v1;
mod v2;

use std::path::Path;

use crate::dataset::input::Input;
use crate::dataset::DatasetError;

pub use error::ModelError;
pub(crate) use fitted::quantile;
pub use fitted::{
    Classes, FitRecord, FittedPipeline, InitKind, InputKind, KMeansRecord, MiniBatchInfo, OodRule,
    Prediction, Stages, Training, TrainingInfo,
};
pub use scored::{HeldOut, ScoredFit};

/// The value of the `format` field of every model file.
pub const MODEL_FORMAT: &str = "imgcluster-model";
/// The format version this library writes.
pub const MODEL_VERSION: u64 = 2;
/// The format versions this library reads.
pub const MODEL_VERSIONS_READ: [u64; 2] = [1, 2];

/// Interpolation names in model files.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum InterpolationName {
    Nearest,
    Linear,
    Cubic,
}

impl From<crate::imgproc::Interpolation> for InterpolationName {
    fn from(i: crate::imgproc::Interpolation) -> Self {
        use crate::imgproc::Interpolation as I;
        match i {
            I::Nearest => Self::Nearest,
            I::Linear => Self::Linear,
            I::Cubic => Self::Cubic,
        }
    }
}

/// Value types in model files.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum DtypeName {
    U8,
    F32,
}

impl DtypeName {
    fn of(kind: InputKind) -> Self {
        match kind {
            InputKind::U8 => Self::U8,
            InputKind::F32 => Self::F32,
        }
    }

    fn kind(self) -> InputKind {
        match self {
            Self::U8 => InputKind::U8,
            Self::F32 => InputKind::F32,
        }
    }
}

/// The checked deskew parameters of a model file.
fn deskew_params(
    factor: f64,
    threshold: f64,
    interpolation: InterpolationName,
) -> Result<crate::imgproc::DeskewValidParams, ModelError> {
    use crate::imgproc::Interpolation as I;
    crate::imgproc::DeskewParams::new()
        .factor(factor)
        .threshold(threshold)
        .interpolation(match interpolation {
            InterpolationName::Nearest => I::Nearest,
            InterpolationName::Linear => I::Linear,
            InterpolationName::Cubic => I::Cubic,
        })
        .check()
        .map_err(|e| fitted::invalid(format!("deskew: {e}")))
}

/// The image shape of a model file: both sides or neither.
fn image_shape(
    height: Option<usize>,
    width: Option<usize>,
) -> Result<Option<(usize, usize)>, ModelError> {
    match (height, width) {
        (Some(h), Some(w)) => Ok(Some((h, w))),
        (None, None) => Ok(None),
        _ => Err(fitted::invalid(
            "input: give both height and width, or neither",
        )),
    }
}

/// Checks the `format` and `version` fields of a description; returns the version.
fn check_header(v: &serde_json::Value) -> Result<u64, ModelError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ModelError::NotAModel("the JSON is not an object".to_string()))?;
    match obj.get("format") {
        Some(serde_json::Value::String(f)) if f == MODEL_FORMAT => {}
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
        .ok_or_else(|| fitted::invalid("no \"version\" field"))?;
    match version.as_u64() {
        Some(found) if MODEL_VERSIONS_READ.contains(&found) => Ok(found),
        Some(found) => Err(ModelError::Version { found }),
        None => Err(fitted::invalid(format!(
            "\"version\" is {version}, expected a whole number"
        ))),
    }
}

impl FittedPipeline {
    /// The model as a file of format version 2 (see the [module documentation](self)).
    pub fn to_bytes(&self) -> Vec<u8> {
        v2::write(self)
    }

    /// Reads a model: a version-2 file, or the JSON text of version 1.
    ///
    /// # Errors
    /// [`ModelError::Json`] for a JSON description that is not JSON,
    /// [`ModelError::NotAModel`] when it is not an imgcluster model,
    /// [`ModelError::Version`] for a format version this library does not read,
    /// [`ModelError::Invalid`] for a truncated file, arrays that do not match their
    /// checksum, or missing, malformed or inconsistent fields.
    pub fn from_bytes(bytes: &[u8]) -> Result<FittedPipeline, ModelError> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            // Version 1: JSON text.
            let text = std::str::from_utf8(bytes)
                .map_err(|_| ModelError::Json("the file is not UTF-8 text".to_string()))?;
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| ModelError::Json(e.to_string()))?;
            return match check_header(&v)? {
                1 => v1::read(text),
                found => Err(ModelError::Version { found }),
            };
        }
        if bytes.len() < 8 {
            return Err(ModelError::NotAModel(format!(
                "{} bytes are neither a safetensors file nor JSON",
                bytes.len()
            )));
        }
        match v2::version(bytes)? {
            2 => v2::read(bytes),
            found => Err(ModelError::Version { found }),
        }
    }

    /// Writes the model to `path` (format version 2).
    ///
    /// # Errors
    /// [`ModelError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a model file, once (a pipe works too), within the memory there is.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the file cannot be read; else as
    /// [`FittedPipeline::from_bytes`], wrapped in [`ModelError::InFile`] so that the message
    /// names the file (e.g. "model m.bin has format version 7; this imgcluster reads
    /// versions 1 and 2").
    pub fn load(path: &Path) -> Result<FittedPipeline, ModelError> {
        let io = |e: DatasetError| match e {
            DatasetError::Io { path, source } => ModelError::Io { path, source },
            e => ModelError::Dataset(e),
        };
        let input = Input::open(path).map_err(io)?;
        // Cheap check first: what starts as neither JSON nor a safetensors header (an 8-byte
        // length, then `{`), such as /dev/zero, is refused from its first bytes.
        let head = input.head();
        let json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !json && head.get(8) != Some(&b'{') {
            let e = FittedPipeline::from_bytes(head).err().unwrap_or_else(|| {
                ModelError::NotAModel("neither a safetensors file nor JSON".to_string())
            });
            return Err(e.in_file(path));
        }
        let bytes = input.read_all(u64::MAX).map_err(io)?;
        FittedPipeline::from_bytes(&bytes).map_err(|e| e.in_file(path))
    }
}
