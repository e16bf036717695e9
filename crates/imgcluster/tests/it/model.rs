//! Fitted pipelines on the embedded digits: prediction of held-out and training samples,
//! save → load → predict, and the version-1 model files of earlier releases.

use imgcluster::dataset::{grid, Dataset, Split};
use imgcluster::features::{PipelineParams, Preset};
use imgcluster::metrics::{ConfusionMatrix, Contingency};
use imgcluster::model::{FittedPipeline, ModelError, Prediction};
use imgcluster::{CvRng, Threads};

/// The digits split like `--train-ratio 0.5`: the first half of every grid row.
fn halves() -> (Dataset, Split) {
    let digits = grid::digits();
    let split = digits.split(0.5).unwrap();
    (digits, split)
}

/// Fits `preset` on the training half (seed 1) and learns the classes.
fn fitted(preset: Preset, split: &Split) -> FittedPipeline {
    let p = PipelineParams::preset(preset, 10)
        .threads(Threads::Fixed(2))
        .check()
        .unwrap();
    let mut m = p.fit(&split.train, &CvRng::from_set_rng_seed(1)).unwrap();
    m.learn_classes(split.train.labels().unwrap(), 10, None)
        .unwrap();
    m
}

fn accuracy(truth: &[u32], preds: &[Prediction]) -> f64 {
    let classes: Vec<u32> = preds.iter().map(|p| p.class.unwrap()).collect();
    ConfusionMatrix::new(truth, &classes, 10)
        .unwrap()
        .accuracy()
        .percent()
}

/// `best` fitted on half the digits: the other half is classified almost as well as the
/// transductive run on all 5000 (97.94%), and the training samples get their clusters back.
#[test]
fn best_predicts_held_out_and_training_samples() {
    let (_, split) = halves();
    let m = fitted(Preset::Best, &split);
    let train = split.train.labels().unwrap();
    let fit_acc = {
        let clusters = m.training_labels().unwrap();
        let t = Contingency::new(train, clusters, 10, 10).unwrap();
        let mapping = m.cluster_mapping().unwrap().unwrap();
        ConfusionMatrix::from_contingency(&t, &mapping)
            .unwrap()
            .accuracy()
            .percent()
    };
    let held_out = m.predict(&split.test, Threads::Fixed(2)).unwrap();
    let acc = accuracy(split.test.labels().unwrap(), &held_out);
    assert!(acc > 97.94 - 1.5, "held-out {acc}% (training {fit_acc}%)");

    let again = m.predict(&split.train, Threads::Fixed(2)).unwrap();
    let same = again
        .iter()
        .zip(m.training_labels().unwrap())
        .filter(|&(p, &c)| p.cluster == c)
        .count();
    let agreement = same as f64 / again.len() as f64;
    assert!(agreement >= 0.99, "{same} of {} clusters back", again.len());
}

/// For every preset, a saved and loaded model predicts the same bits as the model in
/// memory, on 1 and 2 threads.
#[test]
fn save_load_predict_is_bit_identical_for_every_preset() {
    let (_, split) = halves();
    for preset in Preset::ALL {
        let m = fitted(preset, &split);
        let bytes = m.to_bytes();
        let loaded = FittedPipeline::from_bytes(&bytes).unwrap();
        assert_eq!(loaded, m, "{}", preset.name());
        assert!(loaded.training().is_none());
        assert_eq!(loaded.to_bytes(), bytes, "{}", preset.name());
        let want = m.predict(&split.test, Threads::Fixed(2)).unwrap();
        let got = loaded.predict(&split.test, Threads::Fixed(1)).unwrap();
        let bits = |p: &[Prediction]| -> Vec<(u32, u32, Option<u32>)> {
            p.iter()
                .map(|p| (p.cluster, p.squared_distance.to_bits(), p.class))
                .collect()
        };
        assert_eq!(bits(&got), bits(&want), "{}", preset.name());
    }
}

/// A damaged model file is a clear error, never a panic or a silently different model.
#[test]
fn truncated_tampered_and_newer_models_are_refused() {
    let (_, split) = halves();
    let m = fitted(Preset::Hog, &split);
    let bytes = m.to_bytes();
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = FittedPipeline::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(e, ModelError::Invalid(_) | ModelError::NotAModel(_)),
            "cut at {cut}: {e}"
        );
    }
    // One bit of a center flipped.
    let mut tampered = bytes.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 0x10;
    let e = FittedPipeline::from_bytes(&tampered)
        .unwrap_err()
        .to_string();
    assert!(e.contains("checksum"), "{e}");
    // A newer version.
    let key = b"\\\"version\\\":2";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    let mut newer = bytes.clone();
    newer[at + key.len() - 1] = b'3';
    let e = FittedPipeline::from_bytes(&newer).unwrap_err();
    assert!(matches!(e, ModelError::Version { found: 3 }), "{e}");
    assert_eq!(
        e.to_string(),
        "the model has format version 3; this imgcluster reads versions 1 and 2"
    );
}

/// A version-1 JSON model written by the previous release (`classify --features deskew
/// --train-ratio 0.5 --model-out`) still loads and classifies the held-out half as that
/// run did (67.00%, the `test` section of its JSON report).
#[test]
fn version_one_models_still_load_and_predict() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/models/deskew-v1.json"
    );
    let m = FittedPipeline::load(std::path::Path::new(path)).unwrap();
    assert_eq!(m.record().preset.as_deref(), Some("tutorial-deskew"));
    assert!(m.deskewed() && m.hog().is_none());
    let (_, split) = halves();
    let p = m.predict(&split.test, Threads::Fixed(2)).unwrap();
    let acc = accuracy(split.test.labels().unwrap(), &p);
    assert_eq!(format!("{acc:.2}"), "67.00");
    // Written again, it is a version-2 model that predicts the same.
    let again = FittedPipeline::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(again.predict(&split.test, Threads::Fixed(1)).unwrap(), p);
}
