//! End-to-end tests: the `imgcluster` binary as a user runs it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use imgcluster::dataset::npy::{self, NpyData};
use imgcluster::report::encode_gray8;
use predicates::prelude::*;
use serde_json::Value;

fn bin() -> Command {
    Command::cargo_bin("imgcluster").unwrap()
}

fn fixture(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/opencv")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: fixture {} not found", p.display());
        None
    }
}

fn read_labels(path: &Path) -> Vec<i64> {
    match npy::read(path).unwrap().data {
        NpyData::I64(v) => v,
        other => panic!("unexpected dtype {other:?}"),
    }
}

fn json_of(out: &[u8]) -> Value {
    let text = std::str::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "exactly one JSON line: {text}");
    serde_json::from_str(text).unwrap()
}

fn matrix(v: &Value) -> Vec<Vec<u64>> {
    serde_json::from_value(v.clone()).unwrap()
}

/// The first confusion matrix printed by OpenCV's k-means digits tutorial (raw pixels).
const TUTORIAL_RAW: [[u64; 10]; 10] = [
    [399, 0, 2, 28, 2, 23, 27, 0, 13, 6],
    [0, 351, 0, 1, 0, 1, 0, 0, 1, 146],
    [4, 57, 315, 26, 3, 14, 4, 4, 38, 35],
    [2, 4, 3, 241, 9, 12, 3, 1, 141, 84],
    [0, 8, 58, 0, 261, 27, 3, 93, 0, 50],
    [3, 4, 0, 150, 27, 190, 12, 1, 53, 60],
    [6, 13, 83, 4, 0, 13, 349, 0, 0, 32],
    [0, 22, 3, 1, 178, 10, 0, 228, 0, 58],
    [0, 15, 16, 85, 15, 18, 3, 8, 260, 80],
    [2, 4, 23, 7, 228, 8, 1, 161, 1, 65],
];

/// The second matrix of the tutorial (deskewed digits).
const TUTORIAL_DESKEW: [[u64; 10]; 10] = [
    [400, 1, 5, 1, 2, 58, 27, 1, 1, 4],
    [0, 490, 1, 1, 0, 1, 2, 0, 1, 4],
    [5, 27, 379, 28, 10, 2, 3, 4, 30, 12],
    [1, 27, 7, 360, 7, 44, 2, 9, 31, 12],
    [1, 29, 3, 0, 225, 0, 13, 1, 0, 228],
    [5, 12, 1, 14, 24, 270, 11, 0, 7, 156],
    [8, 40, 6, 0, 6, 8, 431, 0, 0, 1],
    [0, 39, 2, 0, 48, 0, 0, 377, 4, 30],
    [2, 32, 3, 21, 8, 77, 2, 0, 332, 23],
    [5, 13, 1, 5, 158, 5, 2, 28, 1, 282],
];

#[test]
fn classify_reproduces_the_tutorial_raw_run() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.npy");
    let out = bin()
        .args(["classify", "--json", "--labels-out"])
        .arg(&labels)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["accuracy_percent"].as_f64().unwrap(), 53.18);
    assert_eq!(
        matrix(&v["confusion_matrix"]),
        TUTORIAL_RAW.map(|r| r.to_vec()).to_vec()
    );
    assert_eq!(
        (v["n_samples"].as_u64(), v["n_features"].as_u64()),
        (Some(5000), Some(400))
    );
    for key in [
        "nmi",
        "ari",
        "compactness",
        "iterations",
        "mapping",
        "timings_ms",
        "k",
    ] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    for key in ["load", "features", "kmeans", "total"] {
        assert!(
            v["timings_ms"][key].as_f64().is_some(),
            "missing timings_ms.{key}"
        );
    }
    assert_eq!(v["compactness"].as_f64().unwrap(), 5269121590.875);
    if let Some(want) = fixture("kmeans_00_labels.npy") {
        assert_eq!(read_labels(&labels), read_labels(&want));
    }
}

#[test]
fn classify_reproduces_the_tutorial_deskew_run() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.npy");
    let out = bin()
        .args(["classify", "--features", "deskew", "--json", "--labels-out"])
        .arg(&labels)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["accuracy_percent"].as_f64().unwrap(), 70.92);
    assert_eq!(
        matrix(&v["confusion_matrix"]),
        TUTORIAL_DESKEW.map(|r| r.to_vec()).to_vec()
    );
    if let Some(want) = fixture("kmeans_01_labels.npy") {
        assert_eq!(read_labels(&labels), read_labels(&want));
    }
}

#[test]
fn seed_means_set_rng_seed() {
    let Some(want) = fixture("kmeans_04_labels.npy") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.npy");
    bin()
        .args(["classify", "--seed", "1", "--threads", "1", "--labels-out"])
        .arg(&labels)
        .assert()
        .success();
    assert_eq!(read_labels(&labels), read_labels(&want));
}

#[test]
fn thread_count_does_not_change_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for t in ["1", "2", "5"] {
        let labels = dir.path().join(format!("l{t}.npy"));
        let centers = dir.path().join(format!("c{t}.npy"));
        bin()
            .args(["classify", "--init", "pp", "--seed", "7", "--threads", t])
            .arg("--labels-out")
            .arg(&labels)
            .arg("--centers-out")
            .arg(&centers)
            .assert()
            .success();
        outs.push((
            std::fs::read(labels).unwrap(),
            std::fs::read(centers).unwrap(),
        ));
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}

#[test]
fn tutorial_prints_both_runs_and_writes_valid_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figs");
    bin()
        .arg("tutorial")
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("(5000, 400)")
                .and(predicate::str::contains("53.18%"))
                .and(predicate::str::contains("70.92%"))
                .and(predicate::str::contains("54.80%"))
                .and(predicate::str::contains("[[399   0   2  28")),
        );
    let mut pngs = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{}",
            path.display()
        );
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(
            info.width >= 100 && info.height >= 100,
            "{}",
            path.display()
        );
        pngs += 1;
    }
    assert!(pngs >= 5, "only {pngs} figures");
    for name in [
        "raw_centers.png",
        "deskew_centers.png",
        "deskew_examples.png",
        "raw_confusion.png",
    ] {
        assert!(out.join(name).is_file(), "missing {name}");
    }
}

#[test]
fn tutorial_json_is_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["tutorial", "--json", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["raw"]["accuracy_percent"].as_f64(), Some(53.18));
    assert_eq!(v["deskew"]["accuracy_percent"].as_f64(), Some(70.92));
    assert_eq!(v["shape"], serde_json::json!([5000, 400]));
}

#[test]
fn features_writes_opencv_deskewed_cells() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deskewed.npy");
    bin()
        .args(["features", "--features", "deskew", "--out"])
        .arg(&out)
        .assert()
        .success();
    let got = npy::read(&out).unwrap();
    assert_eq!(got.shape, vec![5000, 20, 20]);
    if let Some(want) = fixture("digits_deskewed.npy") {
        assert_eq!(got, npy::read(&want).unwrap());
    }
}

#[test]
fn held_out_scoring_with_train_ratio() {
    let out = bin()
        .args([
            "classify",
            "--features",
            "deskew",
            "--train-ratio",
            "0.5",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["n_train"].as_u64(), Some(2500));
    assert_eq!(v["test"]["n_samples"].as_u64(), Some(2500));
    let acc = v["test"]["accuracy_percent"].as_f64().unwrap();
    assert!(acc > 50.0 && acc <= 100.0, "{acc}");
    assert_eq!(v["accuracy_percent"].as_f64(), Some(acc));
}

#[test]
fn npy_data_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    // Two well separated groups of 4x4 images.
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for i in 0..40u8 {
        let class = i % 2;
        pixels.extend((0..16).map(|p| if class == 0 { p } else { 200 + p + i % 3 }));
        labels.push(i32::from(class));
    }
    let data = dir.path().join("x.npy");
    let lab = dir.path().join("y.npy");
    std::fs::write(&data, npy::encode_u8(&[40, 4, 4], &pixels)).unwrap();
    std::fs::write(&lab, npy::encode_i32(&[40], &labels)).unwrap();
    let out = bin()
        .args(["classify", "-k", "2", "--json", "--data"])
        .arg(&data)
        .arg("--labels")
        .arg(&lab)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["accuracy_percent"].as_f64(), Some(100.0));
}

/// Runs a failing command and checks: non-zero exit, the message names `names`, no panic,
/// and the output file was not created.
fn assert_clean_failure(args: &[&str], extra: &[&Path], names: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labels.npy");
    let assert = bin()
        .args(args)
        .args(extra)
        .arg("--labels-out")
        .arg(&out)
        .assert()
        .failure();
    let o = assert.get_output();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(names),
        "stderr does not name {names}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(o.status.code(), Some(101), "exit code of a panic");
    assert!(!out.exists(), "output left behind");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files left behind"
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.png");
    assert_clean_failure(&["classify", "--data"], &[&missing], "missing.png");

    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, "hello").unwrap();
    assert_clean_failure(&["classify", "--data"], &[&not_image], "notes.png");

    let truncated = dir.path().join("truncated.png");
    let png = encode_gray8(40, 40, &[0; 1600]).unwrap();
    std::fs::write(&truncated, &png[..png.len() / 2]).unwrap();
    assert_clean_failure(&["classify", "--data"], &[&truncated], "truncated.png");

    let odd = dir.path().join("odd.png");
    std::fs::write(&odd, encode_gray8(30, 30, &[7; 900]).unwrap()).unwrap();
    assert_clean_failure(&["classify", "--data"], &[&odd], "odd.png");

    assert_clean_failure(&["classify", "-k", "0"], &[], "--clusters");
    assert_clean_failure(&["classify", "-k", "5001"], &[], "-k 5001");
    assert_clean_failure(&["classify", "--attempts", "0"], &[], "--attempts");
    assert_clean_failure(&["classify", "--epsilon", "-1"], &[], "--epsilon");

    let short_labels = dir.path().join("short.npy");
    std::fs::write(&short_labels, npy::encode_i32(&[3], &[0, 1, 2])).unwrap();
    assert_clean_failure(&["classify", "--labels"], &[&short_labels], "short.npy");

    let nan = dir.path().join("nan.npy");
    let mut values = vec![1.0f32; 40];
    values[13] = f32::NAN;
    std::fs::write(&nan, npy::encode_f32(&[10, 4], &values)).unwrap();
    assert_clean_failure(&["classify", "-k", "2", "--data"], &[&nan], "nan.npy");

    assert_clean_failure(&["classify", "--data"], &[dir.path()], "is a folder");
}

#[test]
fn features_bad_input_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("vectors.npy");
    std::fs::write(&vectors, npy::encode_f32(&[2, 3], &[0.0; 6])).unwrap();
    let out = dir.path().join("out.npy");
    bin()
        .args(["features", "--features", "deskew", "--data"])
        .arg(&vectors)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--features deskew"));
    assert!(!out.exists());
}

#[test]
fn broken_pipe_is_not_an_error() {
    // A reader that closes early: the command still exits 0 (like `imgcluster ... | head`).
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("imgcluster"))
        .args(["classify"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 4];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn interrupt_leaves_no_output_file() {
    use std::process::{Command as Std, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.npy");
    let figs = dir.path().join("figs");
    // A long run: many attempts of k-means++ to convergence.
    let child = Std::new(assert_cmd::cargo::cargo_bin("imgcluster"))
        .args([
            "classify",
            "--init",
            "pp",
            "--attempts",
            "1000",
            "--max-iter",
            "100",
        ])
        .args(["--epsilon", "0", "--threads", "1", "--labels-out"])
        .arg(&labels)
        .arg("--out")
        .arg(&figs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Std::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert!(!labels.exists());
    let left: Vec<_> = std::fs::read_dir(&figs).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

fn classify_json(args: &[&str]) -> Value {
    let out = bin()
        .arg("classify")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}

#[test]
fn best_pipeline_beats_tutorial_deskew() {
    let tutorial = classify_json(&["--features", "deskew"]);
    let preset = classify_json(&["--pipeline", "tutorial-deskew"]);
    assert_eq!(tutorial["accuracy_percent"].as_f64(), Some(70.92));
    assert_eq!(preset["confusion_matrix"], tutorial["confusion_matrix"]);
    assert_eq!(preset["pipeline"], "tutorial-deskew");
    let best = classify_json(&["--pipeline", "best", "--seed", "1"]);
    let acc = best["accuracy_percent"].as_f64().unwrap();
    assert!(acc > 97.0, "best: {acc}");
    assert!(acc > tutorial["accuracy_percent"].as_f64().unwrap());
    assert_eq!(best["pipeline"], "best");
    assert_eq!(best["features"], "spectral");
    assert_eq!(best["k"].as_u64(), Some(10));
    assert_eq!(best["n_features"].as_u64(), Some(10));
    assert_eq!(best["init"], "pp");
    assert_eq!(best["deskew"]["chosen"], "deskew");
    let (d, p) = (
        best["deskew"]["ncut_deskewed"].as_f64().unwrap(),
        best["deskew"]["ncut_plain"].as_f64().unwrap(),
    );
    assert!(d < p && d > 0.0, "{d} {p}");
    assert_eq!(best["ncut"].as_f64(), Some(d));
    for stage in ["deskew", "features", "pca", "knn", "spectral", "kmeans"] {
        assert!(
            best["timings_ms"]["stages"][stage].as_f64().is_some(),
            "{stage}"
        );
    }
}

#[test]
fn best_pipeline_seeds_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut labels = Vec::new();
    for (seed, threads) in [("2", "1"), ("2", "2")] {
        let path = dir.path().join(format!("l{seed}_{threads}.npy"));
        bin()
            .args(["classify", "--pipeline", "best", "--seed", seed])
            .args(["--threads", threads, "--labels-out"])
            .arg(&path)
            .assert()
            .success();
        labels.push(std::fs::read(path).unwrap());
    }
    assert_eq!(labels[0], labels[1]);
}

#[test]
fn pipeline_figures_show_cluster_means() {
    let dir = tempfile::tempdir().unwrap();
    let figs = dir.path().join("figs");
    bin()
        .args(["classify", "--pipeline", "hog", "--seed", "1", "--out"])
        .arg(&figs)
        .assert()
        .success()
        .stdout(predicate::str::contains("Pipeline: hog"));
    for name in ["means.png", "means_gray.png", "confusion.png"] {
        let bytes = std::fs::read(figs.join(name)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
    }
    assert!(!figs.join("centers.png").exists());
}

#[test]
fn hog_pipeline_scores_held_out_images() {
    let v = classify_json(&["--pipeline", "hog", "--train-ratio", "0.5", "--seed", "1"]);
    assert_eq!(v["n_train"].as_u64(), Some(2500));
    assert_eq!(v["test"]["n_samples"].as_u64(), Some(2500));
    let acc = v["test"]["accuracy_percent"].as_f64().unwrap();
    assert!(acc > 85.0, "{acc}");
}

#[test]
fn pipeline_flags_are_checked() {
    let o = bin()
        .args(["classify", "--pipeline", "best", "--features", "deskew"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--features"));
    assert_clean_failure(
        &["classify", "--pipeline", "best", "--train-ratio", "0.5"],
        &[],
        "--train-ratio",
    );
    assert_clean_failure(&["classify", "--pipeline", "nope"], &[], "--pipeline");
}

#[test]
fn features_writes_hog_and_best_features() {
    let dir = tempfile::tempdir().unwrap();
    for (name, dims) in [("hog", 432), ("best", 10)] {
        let out = dir.path().join(format!("{name}.npy"));
        bin()
            .args(["features", "--features", name, "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "5000 samples of {dims} f32"
            )));
        let got = npy::read(&out).unwrap();
        assert_eq!(got.shape, vec![5000, dims]);
        assert!(matches!(got.data, NpyData::F32(_)), "{name}");
    }
}

#[test]
fn tutorial_ends_with_the_ablation() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "tutorial",
            "--json",
            "--pipeline",
            "tutorial-raw,best",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    let rows = v["ablation"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["pipeline"], "tutorial-raw");
    assert_eq!(rows[0]["accuracy_percent"].as_f64(), Some(53.18));
    assert_eq!(rows[1]["pipeline"], "best");
    assert!(rows[1]["accuracy_percent"].as_f64().unwrap() > 97.0);
    assert_eq!(rows[1]["deskew"]["chosen"], "deskew");
    assert!(dir.path().join("best_means.png").is_file());
    assert!(!dir.path().join("hog_means.png").exists());
}
