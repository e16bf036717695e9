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
        if path.extension().is_some_and(|e| e == "html") {
            continue; // the report: tutorial_writes_the_html_report_and_json_stays_one_line_with_progress
        }
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

/// Decodes a PNG written by the CLI: width, height, colour type, pixels.
fn decode_png(path: &Path) -> (u32, u32, png::ColorType, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type, buf)
}

/// Checks that an HTML report is one self-contained document with these sections.
fn assert_report(path: &Path, sections: &[&str]) -> String {
    let html = std::fs::read_to_string(path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", path.display());
    assert!(html.trim_end().ends_with("</html>"));
    for s in sections {
        assert!(
            html.contains(&format!("<h2>{s}</h2>")),
            "missing section {s}"
        );
    }
    for bad in ["http://", "https://", "<script", "<link"] {
        assert!(!html.contains(bad), "{bad} in {}", path.display());
    }
    assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    html
}

#[test]
fn classify_report_writes_a_self_contained_html_file() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.html");
    let out = bin()
        .args(["classify", "--features", "deskew", "--json", "--report"])
        .arg(&report)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["accuracy_percent"].as_f64(), Some(70.92));
    assert_eq!(
        v["outputs"],
        serde_json::json!([report.display().to_string()])
    );
    let html = assert_report(
        &report,
        &[
            "Summary",
            "Data set and parameters",
            "Scores per class",
            "Cluster centers and mean images",
            "Misclassified samples",
            "Deskewing",
            "Timings",
        ],
    );
    for h3 in [
        "Data set",
        "k-means",
        "Confusion matrix",
        "Precision and recall",
        "Centers",
        "Mean images",
    ] {
        assert!(html.contains(&format!("<h3>{h3}</h3>")), "missing {h3}");
    }
    assert!(html.contains("70.92%"));
    assert!(html.contains("true 4 → predicted 9"));

    // Text output names the report; raw features have no deskew section.
    let report2 = dir.path().join("raw.html");
    bin()
        .args(["classify", "--report"])
        .arg(&report2)
        .assert()
        .success()
        .stdout(predicate::str::contains("Report written to"));
    let html = assert_report(&report2, &["Summary", "Cluster centers and mean images"]);
    assert!(!html.contains("<h2>Deskewing</h2>"));
    assert!(html.contains("53.18%"));
}

#[test]
fn classify_report_without_labels_or_images() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("v.npy");
    let values: Vec<f32> = (0..40)
        .map(|i| (i % 7) as f32 + (i / 20) as f32 * 50.0)
        .collect();
    std::fs::write(&data, npy::encode_f32(&[20, 2], &values)).unwrap();
    let report = dir.path().join("v & <w>.html");
    bin()
        .args(["classify", "-k", "2", "--data"])
        .arg(&data)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<h2>Summary</h2>") && html.contains("no class labels"));
    assert!(!html.contains("Scores per class"));
    assert!(!html.contains("Cluster centers and mean images"));
    assert!(html.contains("vector of 2 values"));
}

#[test]
fn bad_report_path_fails_before_clustering() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("missing-folder").join("r.html");
    bin()
        .args(["classify", "--report"])
        .arg(&report)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--report"));
    assert!(!report.exists());
}

#[test]
fn tutorial_writes_the_html_report_and_json_stays_one_line_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let assert = bin()
        .args(["tutorial", "--json", "--progress", "always", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let o = assert.get_output();
    let v = json_of(&o.stdout);
    assert_eq!(v["raw"]["accuracy_percent"].as_f64(), Some(53.18));
    let report = dir.path().join("report.html");
    assert!(v["figures"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(report.display().to_string())));
    // The progress went to stderr.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("k-means: K=10, 10 attempts"), "{stderr}");
    let html = assert_report(
        &report,
        &[
            "Summary",
            "Data set and parameters",
            "Confusion matrices",
            "Cluster centers",
            "Cluster mean images",
            "Misclassified samples",
            "Deskewing",
        ],
    );
    assert!(html.contains("<h3>Raw pixels</h3>") && html.contains("<h3>Deskewed</h3>"));
    assert!(html.contains("53.18%") && html.contains("70.92%") && html.contains("54.80%"));
}

#[test]
fn quiet_and_piped_runs_draw_no_progress() {
    for args in [
        &["classify", "--json"][..],
        &["-q", "classify", "--json"][..],
    ] {
        let assert = bin().args(args).assert().success();
        let o = assert.get_output();
        json_of(&o.stdout);
        assert!(
            o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    bin()
        .args(["classify", "--quiet", "--progress", "always"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--quiet"));
}

/// An `w` x `h` RGB gradient PNG with many colours.
fn gradient_png(path: &Path, w: usize, h: usize) {
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x + y) % 256) as u8,
            ]
        })
        .collect();
    std::fs::write(path, imgcluster::report::encode_rgb8(w, h, &rgb).unwrap()).unwrap();
}

fn distinct(rgb: &[u8]) -> usize {
    let mut colours: Vec<&[u8]> = rgb.chunks_exact(3).collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

#[test]
fn quantize_leaves_at_most_k_colours() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    gradient_png(&input, 90, 70);
    let out = dir.path().join("out.png");
    bin()
        .args(["quantize", "-k", "4", "-o"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("-> 4 colours"));
    let (w, h, color, rgb) = decode_png(&out);
    assert_eq!((w, h, color), (90, 70, png::ColorType::Rgb));
    assert_eq!(distinct(&rgb), 4);

    // Subsampled fit (every 7th pixel), k-means++, a seed, JSON.
    let out2 = dir.path().join("out2.png");
    let stdout = bin()
        .args([
            "quantize",
            "--colors",
            "6",
            "--init",
            "pp",
            "--seed",
            "2",
            "--max-samples",
            "1000",
            "--json",
            "--out",
        ])
        .arg(&out2)
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&stdout);
    assert_eq!(v["fitted_pixels"].as_u64(), Some(900));
    let (_, _, _, rgb) = decode_png(&out2);
    assert!(distinct(&rgb) <= 6);
    assert_eq!(
        v["distinct_colors_out"].as_u64(),
        Some(distinct(&rgb) as u64)
    );

    // Gray input: colours stay gray.
    let gray = dir.path().join("gray.png");
    let pixels: Vec<u8> = (0..=255).collect();
    std::fs::write(&gray, encode_gray8(16, 16, &pixels).unwrap()).unwrap();
    let out3 = dir.path().join("out3.png");
    bin()
        .args(["quantize", "-k", "3", "-o"])
        .arg(&out3)
        .arg(&gray)
        .assert()
        .success();
    let (_, _, _, rgb) = decode_png(&out3);
    assert_eq!(distinct(&rgb), 3);
    assert!(rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]));
}

#[test]
fn quantize_reproduces_opencv_colour_quantization() {
    let Some(input) = fixture("quantize_input.png") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["-k", "8"][..], "quantize_k8.png"),
        (
            &["-k", "5", "--init", "pp", "--seed", "3"][..],
            "quantize_pp_k5_seed3.png",
        ),
    ] {
        let Some(want) = fixture(want) else {
            return;
        };
        let out = dir.path().join("out.png");
        bin()
            .arg("quantize")
            .args(args)
            .arg("-o")
            .arg(&out)
            .arg(&input)
            .assert()
            .success();
        assert_eq!(decode_png(&out), decode_png(&want), "{args:?}");
    }
}

#[test]
fn quantize_bad_input_gets_a_clear_error_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let check = |image: &Path, extra: &[&str], names: &str| {
        let assert = bin()
            .arg("quantize")
            .arg(image)
            .args(extra)
            .arg("-o")
            .arg(&out)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(names),
            "stderr does not name {names}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "output left behind");
    };
    check(&dir.path().join("missing.png"), &[], "missing.png");
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "hello").unwrap();
    check(&text, &[], "not a PNG");
    let jpeg = dir.path().join("photo.jpg");
    std::fs::write(&jpeg, [0xff, 0xd8, 0xff, 0xe0, 0, 16]).unwrap();
    check(&jpeg, &[], "JPEG images are not supported");
    let truncated = dir.path().join("truncated.png");
    let png = encode_gray8(40, 40, &[9; 1600]).unwrap();
    std::fs::write(&truncated, &png[..png.len() / 2]).unwrap();
    check(&truncated, &[], "truncated.png");
    let tiny = dir.path().join("tiny.png");
    std::fs::write(&tiny, encode_gray8(2, 1, &[0, 255]).unwrap()).unwrap();
    check(&tiny, &["-k", "0"], "--colors");
    check(&tiny, &["-k", "3"], "-k 3: more colours than the 2 pixels");
    check(&tiny, &["--attempts", "0"], "--attempts");
    check(dir.path(), &[], "is a folder");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "only the four inputs remain"
    );
}
