//! Integration tests: every loader reads the embedded digits back, written in its format.

use std::io::Write;
use std::path::PathBuf;

use imgcluster::dataset::{self, grid, idx, npy, Format, OpenOptions};
use imgcluster::model::{FitRecord, FittedPipeline, InputKind, Stages};
use imgcluster::Threads;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("imgcluster-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn digits_survive_idx_gzip_csv_and_npy() {
    let digits = grid::digits();
    let (pixels, h, w) = digits.images_u8().unwrap();
    let labels: Vec<u8> = digits.labels().unwrap().iter().map(|&l| l as u8).collect();
    let t = TempDir::new("digits");

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&idx::encode(&[5000, h, w], pixels)).unwrap();
    let images = t.0.join("digits-images-idx3-ubyte.gz");
    std::fs::write(&images, gz.finish().unwrap()).unwrap();
    let label_file = t.0.join("digits-labels-idx1-ubyte");
    std::fs::write(&label_file, idx::encode(&[5000], &labels)).unwrap();
    assert_eq!(dataset::sniff(&images).unwrap(), Format::Idx);
    let from_idx = dataset::open(&images, &OpenOptions::new().labels(&label_file)).unwrap();

    let mut csv = String::from("label");
    for i in 0..h * w {
        csv.push_str(&format!(",pixel{i}"));
    }
    csv.push('\n');
    for (row, l) in pixels.chunks(h * w).zip(&labels) {
        csv.push_str(&l.to_string());
        for v in row {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    let csv_path = t.0.join("digits.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let from_csv = dataset::open(&csv_path, &OpenOptions::new()).unwrap();

    let npy_path = t.0.join("digits.npy");
    std::fs::write(&npy_path, npy::encode_u8(&[5000, h, w], pixels)).unwrap();
    let labels_npy = t.0.join("labels.npy");
    std::fs::write(&labels_npy, npy::encode_u8(&[5000], &labels)).unwrap();
    let from_npy = dataset::open(&npy_path, &OpenOptions::new().labels(&labels_npy)).unwrap();

    for (name, ds) in [("idx", &from_idx), ("csv", &from_csv), ("npy", &from_npy)] {
        assert_eq!(ds.images_u8().unwrap(), (pixels, h, w), "{name}");
        assert_eq!(ds.labels(), digits.labels(), "{name}");
    }
}

#[test]
fn model_predictions_equal_kmeans_predict() {
    use imgcluster::kmeans::{self, KMeansParams, TermCriteria};
    use imgcluster::CvRng;
    let digits = grid::digits();
    let split = digits.split(0.5).unwrap();
    let params = KMeansParams::new(10)
        .term(TermCriteria::new().max_iter(5).epsilon(1.0))
        .attempts(1)
        .check()
        .unwrap();
    let fit = kmeans::fit(
        &params,
        &split.train.to_f32(),
        400,
        &mut CvRng::opencv_default(),
    )
    .unwrap();
    let stages = Stages::pixels(InputKind::U8, Some((20, 20)), 400);
    let model = FittedPipeline::new(stages, fit.centers.clone(), None, FitRecord::new(10)).unwrap();
    let model = FittedPipeline::from_bytes(&model.to_bytes()).unwrap();
    let (want, dists) = fit
        .predict(&split.test.to_f32(), Threads::Fixed(2))
        .unwrap();
    let got = model.predict(&split.test, Threads::Fixed(1)).unwrap();
    assert!(got.iter().map(|p| p.cluster).eq(want.iter().copied()));
    assert!(got
        .iter()
        .map(|p| p.squared_distance)
        .eq(dists.iter().copied()));
}
