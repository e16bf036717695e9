//! The model format of version 2 (`docs/model-format.md`): a safetensors file whose
//! metadata holds the JSON description of the pipeline and whose tensors hold its arrays
//! (centers, PCA, graph extension), little-endian, bit for bit.

use std::borrow::Cow;
use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, View};
use serde::{Deserialize, Serialize};

use super::fitted::{
    invalid, Classes, FitRecord, FittedPipeline, InitKind, KMeansRecord, MiniBatchInfo, OodRule,
    Stages, TrainingInfo,
};
use super::{deskew_params, image_shape, DtypeName, InterpolationName, ModelError};
use super::{MODEL_FORMAT, MODEL_VERSION};
use crate::features::{
    DeskewDecision, GraphExtension, GraphExtensionParts, HogOptions, KnnOptions, Pca, Union, Whiten,
};
use crate::imgproc::Polarity;
use crate::kmeans::{MiniBatchStop, Mode};

/// The metadata key that holds the description.
pub(super) const META_KEY: &str = "imgcluster";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input2 {
    dtype: DtypeName,
    height: Option<usize>,
    width: Option<usize>,
    dims: usize,
    polarity: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ood2 {
    max_distance: f64,
    min_similarity: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deskew2 {
    factor: f64,
    threshold: f64,
    interpolation: InterpolationName,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pca2 {
    components: usize,
    dims: usize,
    /// Full whitening ([`Whiten::Yes`]); `whitening` names the others.
    whiten: bool,
    /// `no`, `half` or `yes`; files without it name their whitening by `whiten`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    whitening: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Graph2 {
    k: usize,
    scale_neighbour: usize,
    /// `fuzzy` or `max`; files without it were made with `max`.
    #[serde(default)]
    union: Option<String>,
    points: usize,
    dims: usize,
    embedding_dims: usize,
    /// The power of the eigenvalue weighting; files without it were made without one.
    #[serde(default)]
    eigen_power: Option<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stages2 {
    deskew: Option<Deskew2>,
    hog: Option<HogOptions>,
    pca: Option<Pca2>,
    graph: Option<Graph2>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MiniBatch2 {
    batch_size: usize,
    steps: usize,
    epochs: usize,
    stopped_by: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KMeans2 {
    k: usize,
    dims: usize,
    mode: String,
    attempts: usize,
    max_iter: Option<usize>,
    epsilon: Option<f64>,
    init: String,
    seed: Option<i32>,
    compactness: Option<f64>,
    iterations: Option<usize>,
    minibatch: Option<MiniBatch2>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Training2 {
    source: Option<String>,
    n_samples: usize,
    train_ratio: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision2 {
    ncut_deskewed: f64,
    ncut_plain: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Classes2 {
    count: usize,
    names: Option<Vec<String>>,
    mapping: Vec<u32>,
}

/// The description in the metadata.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Description {
    format: String,
    version: u64,
    written_by: String,
    preset: Option<String>,
    input: Input2,
    stages: Stages2,
    kmeans: KMeans2,
    training: Training2,
    deskew_decision: Option<Decision2>,
    ncut: Option<f64>,
    classes: Option<Classes2>,
    ood: Option<Ood2>,
    /// CRC-32 of the tensors' bytes, in the order of their names.
    checksum: String,
}

/// A tensor to write: its dtype, shape and little-endian bytes.
struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn f64_tensor(shape: Vec<usize>, v: &[f64]) -> Tensor {
    Tensor {
        dtype: Dtype::F64,
        shape,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn f32_tensor(shape: Vec<usize>, v: &[f32]) -> Tensor {
    Tensor {
        dtype: Dtype::F32,
        shape,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

/// CRC-32 of the tensors' bytes, names in increasing order.
fn checksum<'a>(tensors: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut named: Vec<(&str, &[u8])> = tensors.into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = crc32fast::Hasher::new();
    for (name, bytes) in named {
        h.update(name.as_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    format!("crc32:{:08x}", h.finalize())
}

/// The model as a version-2 file.
pub(super) fn write(m: &FittedPipeline) -> Vec<u8> {
    let mut tensors: Vec<(String, Tensor)> = Vec::new();
    tensors.push(("centers".into(), f32_tensor(vec![m.k, m.dims], &m.centers)));
    if let Some(p) = &m.pca {
        let (d, dims) = (p.n_components(), p.dims());
        tensors.push(("pca.mean".into(), f64_tensor(vec![dims], p.mean())));
        tensors.push((
            "pca.components".into(),
            f64_tensor(vec![d, dims], p.components()),
        ));
        tensors.push(("pca.variances".into(), f64_tensor(vec![d], p.variances())));
    }
    if let Some(g) = &m.graph {
        let p = g.parts();
        let n = p.scales.len();
        let kdim = p.eigenvalues.len();
        for (name, shape, v) in [
            ("graph.points", vec![n, p.dims], &p.points),
            ("graph.scales", vec![n], &p.scales),
            ("graph.kth_similarities", vec![n], &p.kth_similarities),
            ("graph.degrees", vec![n], &p.degrees),
            ("graph.vectors", vec![n, kdim], &p.vectors),
            ("graph.eigenvalues", vec![kdim], &p.eigenvalues),
        ] {
            tensors.push((name.into(), f64_tensor(shape, v)));
        }
    }
    let r = &m.record;
    let k = &r.kmeans;
    let description = Description {
        format: MODEL_FORMAT.into(),
        version: MODEL_VERSION,
        written_by: format!("imgcluster {}", env!("CARGO_PKG_VERSION")),
        preset: r.preset.clone(),
        input: Input2 {
            dtype: DtypeName::of(m.input),
            height: m.image_shape.map(|s| s.0),
            width: m.image_shape.map(|s| s.1),
            dims: m.input_dims,
            polarity: m.polarity.map(|p| p.name().to_string()),
        },
        stages: Stages2 {
            deskew: m.deskew.map(|p| Deskew2 {
                factor: p.factor(),
                threshold: p.threshold(),
                interpolation: p.interpolation().into(),
            }),
            hog: m.hog,
            pca: m.pca.as_ref().map(|p| Pca2 {
                components: p.n_components(),
                dims: p.dims(),
                whiten: p.whiten() == Whiten::Yes,
                whitening: Some(p.whiten().name().into()),
            }),
            graph: m.graph.as_ref().map(|g| Graph2 {
                k: g.knn().k,
                scale_neighbour: g.knn().scale_neighbour,
                union: Some(g.knn().union.name().into()),
                points: g.n_points(),
                dims: g.dims(),
                embedding_dims: g.embedding_dims(),
                eigen_power: Some(g.power()),
            }),
        },
        kmeans: KMeans2 {
            k: m.k,
            dims: m.dims,
            mode: k.mode.name().into(),
            attempts: k.attempts,
            max_iter: k.max_iter,
            epsilon: k.epsilon,
            init: k.init.name().into(),
            seed: k.seed,
            compactness: k.compactness,
            iterations: k.iterations,
            minibatch: k.minibatch.map(|b| MiniBatch2 {
                batch_size: b.batch_size,
                steps: b.steps,
                epochs: b.epochs,
                stopped_by: b.stop.name().into(),
            }),
        },
        training: Training2 {
            source: r.training.source.clone(),
            n_samples: r.training.n_samples,
            train_ratio: r.training.train_ratio,
        },
        deskew_decision: r.deskew_decision.map(|d| Decision2 {
            ncut_deskewed: d.ncut_deskewed,
            ncut_plain: d.ncut_plain,
        }),
        ncut: r.ncut,
        classes: m.classes.as_ref().map(|c| Classes2 {
            count: c.n_classes(),
            names: c.names().map(<[String]>::to_vec),
            mapping: c.mapping().to_vec(),
        }),
        ood: m.ood.map(|o| Ood2 {
            max_distance: o.max_distance,
            min_similarity: o.min_similarity,
        }),
        checksum: checksum(
            tensors
                .iter()
                .map(|(n, t)| (n.as_str(), t.bytes.as_slice())),
        ),
    };
    // Plain data (numbers, strings, options) always serialise.
    let text = serde_json::to_string(&description).expect("model description serialises");
    let meta = HashMap::from([(META_KEY.to_string(), text)]);
    safetensors::tensor::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(meta))
        .expect("tensors of consistent shapes serialise")
}

/// The JSON description in the metadata of a safetensors file.
fn description_text(bytes: &[u8]) -> Result<String, ModelError> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(format!("not a readable model file: {e}")))?;
    meta.metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .cloned()
        .ok_or_else(|| {
            ModelError::NotAModel(format!(
                "a safetensors file without the \"{META_KEY}\" metadata"
            ))
        })
}

/// The version of a safetensors model, before anything else is checked.
pub(super) fn version(bytes: &[u8]) -> Result<u64, ModelError> {
    let text = description_text(bytes)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ModelError::Json(e.to_string()))?;
    super::check_header(&v)
}

/// The array `name` as `f64` values of the given shape.
fn read_f64(st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f64>, ModelError> {
    let t = st
        .tensor(name)
        .map_err(|_| invalid(format!("no tensor \"{name}\"")))?;
    if t.dtype() != Dtype::F64 || t.shape() != shape {
        return Err(invalid(format!(
            "tensor \"{name}\" is {:?} {:?}, expected F64 {shape:?}",
            t.dtype(),
            t.shape()
        )));
    }
    Ok(t.data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect())
}

/// Reads a version-2 file (its version already checked).
pub(super) fn read(bytes: &[u8]) -> Result<FittedPipeline, ModelError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(format!("not a readable model file: {e}")))?;
    let d: Description =
        serde_json::from_str(&description_text(bytes)?).map_err(|e| invalid(e.to_string()))?;
    let tensors = st.tensors();
    let sum = checksum(tensors.iter().map(|(n, t)| (n.as_str(), t.data())));
    if sum != d.checksum {
        return Err(invalid(format!(
            "the arrays do not match their checksum ({sum}, the file says {}): the file was \
             damaged or changed",
            d.checksum
        )));
    }
    let image_shape = image_shape(d.input.height, d.input.width)?;
    // Centers.
    let t = st
        .tensor("centers")
        .map_err(|_| invalid("no tensor \"centers\""))?;
    if t.dtype() != Dtype::F32 || t.shape() != [d.kmeans.k, d.kmeans.dims] {
        return Err(invalid(format!(
            "tensor \"centers\" is {:?} {:?}, expected F32 [{}, {}]",
            t.dtype(),
            t.shape(),
            d.kmeans.k,
            d.kmeans.dims
        )));
    }
    let centers: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
        .collect();
    let deskew = match d.stages.deskew {
        Some(p) => Some(deskew_params(p.factor, p.threshold, p.interpolation)?),
        None => None,
    };
    let pca = match d.stages.pca {
        Some(p) => {
            let mean = read_f64(&st, "pca.mean", &[p.dims])?;
            let comps = read_f64(&st, "pca.components", &[p.components, p.dims])?;
            let vars = read_f64(&st, "pca.variances", &[p.components])?;
            let whiten = match (&p.whitening, p.whiten) {
                (None, true) => Whiten::Yes,
                (None, false) => Whiten::No,
                (Some(name), full) => match Whiten::from_name(name) {
                    Some(w) if (w == Whiten::Yes) == full => w,
                    _ => {
                        return Err(invalid(format!(
                            "stages.pca.whitening \"{name}\" with whiten {full}"
                        )));
                    }
                },
            };
            Some(Pca::from_parts(mean, comps, vars, whiten).map_err(|e| invalid(e.to_string()))?)
        }
        None => None,
    };
    let graph = match d.stages.graph {
        Some(g) => {
            let (n, kd) = (g.points, g.embedding_dims);
            let union = match &g.union {
                None => Union::Max,
                Some(name) => Union::from_name(name)
                    .ok_or_else(|| invalid(format!("stages.graph.union \"{name}\" is unknown")))?,
            };
            let parts = GraphExtensionParts {
                knn: KnnOptions::new()
                    .k(g.k)
                    .scale_neighbour(g.scale_neighbour)
                    .union(union),
                dims: g.dims,
                points: read_f64(&st, "graph.points", &[n, g.dims])?,
                scales: read_f64(&st, "graph.scales", &[n])?,
                kth_similarities: read_f64(&st, "graph.kth_similarities", &[n])?,
                degrees: read_f64(&st, "graph.degrees", &[n])?,
                vectors: read_f64(&st, "graph.vectors", &[n, kd])?,
                eigenvalues: read_f64(&st, "graph.eigenvalues", &[kd])?,
                power: g.eigen_power.unwrap_or(0),
            };
            Some(GraphExtension::from_parts(parts).map_err(|e| invalid(e.to_string()))?)
        }
        None => None,
    };
    let polarity = match &d.input.polarity {
        Some(name) => Some(
            Polarity::from_name(name)
                .ok_or_else(|| invalid(format!("input.polarity \"{name}\" is unknown")))?,
        ),
        None => None,
    };
    let stages = Stages {
        deskew,
        hog: d.stages.hog,
        pca,
        graph,
        polarity,
        ..Stages::pixels(d.input.dtype.kind(), image_shape, d.input.dims)
    };
    let k = d.kmeans;
    let init = [
        InitKind::RandomBox,
        InitKind::PlusPlus,
        InitKind::Labels,
        InitKind::Samples,
        InitKind::Centers,
        InitKind::Parallel,
    ]
    .into_iter()
    .find(|i| i.name() == k.init)
    .ok_or_else(|| invalid(format!("kmeans.init \"{}\" is unknown", k.init)))?;
    let mode = [Mode::OpenCv, Mode::Fast]
        .into_iter()
        .find(|m| m.name() == k.mode)
        .ok_or_else(|| invalid(format!("kmeans.mode \"{}\" is unknown", k.mode)))?;
    let minibatch = match k.minibatch {
        Some(b) => Some(MiniBatchInfo {
            batch_size: b.batch_size,
            steps: b.steps,
            epochs: b.epochs,
            stop: MiniBatchStop::ALL
                .into_iter()
                .find(|s| s.name() == b.stopped_by)
                .ok_or_else(|| {
                    invalid(format!(
                        "kmeans.minibatch.stopped_by \"{}\" is unknown",
                        b.stopped_by
                    ))
                })?,
        }),
        None => None,
    };
    let record = FitRecord {
        preset: d.preset,
        kmeans: KMeansRecord {
            k: k.k,
            attempts: k.attempts,
            max_iter: k.max_iter,
            epsilon: k.epsilon,
            init,
            mode,
            seed: k.seed,
            compactness: k.compactness,
            iterations: k.iterations,
            minibatch,
        },
        training: TrainingInfo {
            source: d.training.source,
            n_samples: d.training.n_samples,
            train_ratio: d.training.train_ratio,
        },
        deskew_decision: d.deskew_decision.map(|x| DeskewDecision {
            ncut_deskewed: x.ncut_deskewed,
            ncut_plain: x.ncut_plain,
        }),
        ncut: d.ncut,
    };
    let classes = match d.classes {
        Some(c) => Some(Classes::new(c.mapping, c.count, c.names)?),
        None => None,
    };
    let mut model = FittedPipeline::new(stages, centers, classes, record)?;
    model.set_ood(d.ood.map(|o| OodRule {
        max_distance: o.max_distance,
        min_similarity: o.min_similarity,
    }))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{grid, Dataset};
    use crate::features::{PipelineParams, Preset};
    use crate::CvRng;

    /// A `best` model of 300 digits (every class), fitted with seed 1.
    fn small_best() -> FittedPipeline {
        let digits = grid::digits();
        let (px, h, w) = digits.images_u8().unwrap();
        let picks: Vec<usize> = (0..300).map(|i| (i * 167) % 5000).collect();
        let pixels: Vec<u8> = picks
            .iter()
            .flat_map(|&i| px[i * h * w..(i + 1) * h * w].to_vec())
            .collect();
        let ds = Dataset::from_images(picks.len(), h, w, pixels).unwrap();
        let p = PipelineParams::preset(Preset::Best, 10).check().unwrap();
        p.fit(&ds, &CvRng::from_set_rng_seed(1)).unwrap()
    }

    /// `bytes` with the description's JSON changed by `edit` (the arrays as they were).
    fn edited(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut d: serde_json::Value =
            serde_json::from_str(&description_text(bytes).unwrap()).unwrap();
        edit(&mut d);
        let st = SafeTensors::deserialize(bytes).unwrap();
        let tensors: Vec<(String, Tensor)> = st
            .tensors()
            .into_iter()
            .map(|(name, t)| {
                let tensor = Tensor {
                    dtype: t.dtype(),
                    shape: t.shape().to_vec(),
                    bytes: t.data().to_vec(),
                };
                (name, tensor)
            })
            .collect();
        let meta = HashMap::from([(META_KEY.to_string(), d.to_string())]);
        safetensors::tensor::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(meta))
            .unwrap()
    }

    /// The rules added to `best` are written to the file and read back; a file written
    /// before they existed (no `min_side`, `whitening`, `union`, `eigen_power`) reads as
    /// the rules of then: no upscale, PCA as projected, the maximum, no weighting.
    #[test]
    fn new_rules_round_trip_and_older_files_read_as_before() {
        let m = small_best();
        let bytes = write(&m);
        let back = read(&bytes).unwrap();
        assert_eq!(back.hog().unwrap().get_min_side(), Some(16));
        assert_eq!(back.pca().unwrap().whiten(), Whiten::Half);
        let g = back.graph().unwrap();
        assert_eq!(
            (g.knn().union, g.power(), g.embedding_dims()),
            (Union::Fuzzy, 10, 20)
        );
        assert_eq!(back, m);

        let older = edited(&bytes, |d| {
            let s = &mut d["stages"];
            s["hog"].as_object_mut().unwrap().remove("min_side");
            s["pca"].as_object_mut().unwrap().remove("whitening");
            s["graph"].as_object_mut().unwrap().remove("union");
            s["graph"].as_object_mut().unwrap().remove("eigen_power");
        });
        let old = read(&older).unwrap();
        assert_eq!(old.hog().unwrap().get_min_side(), None);
        assert_eq!(old.pca().unwrap().whiten(), Whiten::No);
        let g = old.graph().unwrap();
        assert_eq!((g.knn().union, g.power()), (Union::Max, 0));

        let bad = edited(&bytes, |d| d["stages"]["graph"]["union"] = "min".into());
        assert!(read(&bad)
            .unwrap_err()
            .to_string()
            .contains("union \"min\""));
        let bad = edited(&bytes, |d| d["stages"]["pca"]["whitening"] = "yes".into());
        assert!(read(&bad).is_err(), "whitening yes with whiten false");
    }
}
