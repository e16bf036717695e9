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

/// An OpenCV fixture file. The fixtures are part of the repository: a missing one fails the
/// test that needs it, it is never skipped.
fn fixture(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/opencv")
        .join(name);
    assert!(
        p.is_file(),
        "the fixture {} is missing (it is part of the repository)",
        p.display()
    );
    p
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
    let want = fixture("kmeans_00_labels.npy");
    assert_eq!(read_labels(&labels), read_labels(&want));
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
    let want = fixture("kmeans_01_labels.npy");
    assert_eq!(read_labels(&labels), read_labels(&want));
}

#[test]
fn seed_means_set_rng_seed() {
    let want = fixture("kmeans_04_labels.npy");
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
    // Both modes: OpenCV's (k-means++ from a seed) and fast mode as the benchmark runs it
    // (random samples, 20 iterations, no epsilon stop, K=10 and K=64).
    let fast = |k: &'static str| {
        vec![
            "--mode",
            "fast",
            "-k",
            k,
            "--max-iter",
            "20",
            "--epsilon",
            "0",
            "--attempts",
            "1",
            "--init",
            "random",
            "--seed",
            "3",
        ]
    };
    let runs: [(&str, Vec<&str>); 3] = [
        ("opencv", vec!["--init", "pp", "--seed", "7"]),
        ("fast10", fast("10")),
        ("fast64", fast("64")),
    ];
    for (name, args) in runs {
        let mut outs = Vec::new();
        for t in ["1", "2", "5"] {
            let labels = dir.path().join(format!("{name}_l{t}.npy"));
            let centers = dir.path().join(format!("{name}_c{t}.npy"));
            bin()
                .arg("classify")
                .args(&args)
                .args(["--threads", t])
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
        assert_eq!(outs[0], outs[1], "{name}: 1 vs 2 threads");
        assert_eq!(outs[0], outs[2], "{name}: 1 vs 5 threads");
    }
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
    let want = fixture("digits_deskewed.npy");
    assert_eq!(got, npy::read(&want).unwrap());
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
    for (signal, code, name) in [
        ("-INT", 130, "SIGINT"),
        ("-TERM", 143, "SIGTERM"),
        ("-HUP", 129, "SIGHUP"),
    ] {
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
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert!(
            stderr.contains(&format!("interrupted ({name})")),
            "{stderr}"
        );
        assert!(!labels.exists());
        assert!(
            !figs.exists(),
            "the --out folder is made only with the outputs"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// Several outputs whose last cannot be written: none is left, nor any temporary file or
/// the figures folder; the same file named twice is refused; a replaced file keeps its
/// permissions and a symbolic link is written through.
#[test]
fn outputs_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (labels, centers, figs) = (d.join("l.npy"), d.join("c.npy"), d.join("figs"));
    let o = bin()
        .args(["classify", "--labels-out"])
        .arg(&labels)
        .arg("--centers-out")
        .arg(&centers)
        .arg("--out")
        .arg(&figs)
        .args(["--model-out", "/dev/full"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(stderr.contains("/dev/full"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The same file twice.
    bin()
        .args(["classify", "--labels-out"])
        .arg(&labels)
        .arg("--centers-out")
        .arg(d.join(".").join("l.npy"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("is named by two outputs"));
    assert!(!labels.exists());
    // Permissions kept, links written through.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&labels, b"old").unwrap();
        std::fs::set_permissions(&labels, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = d.join("link.npy");
        std::os::unix::fs::symlink(&centers, &link).unwrap();
        bin()
            .args(["classify", "--labels-out"])
            .arg(&labels)
            .arg("--centers-out")
            .arg(&link)
            .assert()
            .success();
        let mode = std::fs::metadata(&labels).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(
            npy::read(&centers).is_ok(),
            "the link's target holds the centers"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Data set loaders, saved models and `predict`.

fn run_json(args: &[&str], paths: &[(&str, &Path)]) -> Value {
    let mut cmd = bin();
    cmd.args(args);
    for (flag, p) in paths {
        if flag.is_empty() {
            cmd.arg(p);
        } else {
            cmd.arg(flag).arg(p);
        }
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    json_of(&out)
}

/// Two well separated classes of 4x4 images (class 0 dark, class 1 bright), alternating.
fn two_class_images(n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let class = (i % 2) as u8;
        pixels.extend((0..16u8).map(|p| {
            if class == 0 {
                p
            } else {
                200 + p + (i % 3) as u8
            }
        }));
        labels.push(class);
    }
    (pixels, labels)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn idx(shape: &[usize], values: &[u8]) -> Vec<u8> {
    imgcluster::dataset::idx::encode(shape, values)
}

#[test]
fn idx_plain_and_gzipped_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, labels) = two_class_images(40);
    let images = idx(&[40, 4, 4], &pixels);
    let label_file = idx(&[40], &labels);
    let plain = (
        dir.path().join("t10k-images-idx3-ubyte"),
        dir.path().join("t10k-labels-idx1-ubyte"),
    );
    let gz = (
        dir.path().join("t10k-images-idx3-ubyte.gz"),
        dir.path().join("t10k-labels-idx1-ubyte.gz"),
    );
    std::fs::write(&plain.0, &images).unwrap();
    std::fs::write(&plain.1, &label_file).unwrap();
    std::fs::write(&gz.0, gzip(&images)).unwrap();
    std::fs::write(&gz.1, gzip(&label_file)).unwrap();
    for (data, labels) in [&plain, &gz] {
        let model = dir.path().join("m.json");
        let v = run_json(
            &["classify", "-k", "2", "--json"],
            &[
                ("--data", data),
                ("--labels", labels),
                ("--model-out", &model),
            ],
        );
        assert_eq!(v["accuracy_percent"].as_f64(), Some(100.0), "{v}");
        assert_eq!(v["n_features"].as_u64(), Some(16));
        let p = run_json(
            &["predict", "--json"],
            &[("--model", &model), ("--data", data), ("--labels", labels)],
        );
        assert_eq!(p["accuracy_percent"].as_f64(), Some(100.0), "{p}");
        assert_eq!(p["n_samples"].as_u64(), Some(40));
    }
    // `features` reads IDX too.
    let out = dir.path().join("f.npy");
    bin()
        .args(["features", "--features", "deskew", "--data"])
        .arg(&gz.0)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(npy::read(&out).unwrap().shape, vec![40, 4, 4]);
}

/// A 2-class folder data set: `horizontal/` (bright rows 3 and 4) and `vertical/` (bright
/// columns 3 and 4) on a dark background, 8x8 gray PNGs plus one larger RGB PNG and one JPEG.
fn bars_folder(root: &Path) {
    for class in ["horizontal", "vertical"] {
        std::fs::create_dir_all(root.join(class)).unwrap();
    }
    for i in 0..6u8 {
        let mut h = vec![10 + i; 64];
        let mut v = vec![10 + 2 * i; 64];
        for band in 3..5 {
            for k in 0..8 {
                h[band * 8 + k] = 200 + 10 * i;
                v[k * 8 + band] = 250 - 10 * i;
            }
        }
        std::fs::write(
            root.join(format!("horizontal/{i}.png")),
            encode_gray8(8, 8, &h).unwrap(),
        )
        .unwrap();
        std::fs::write(
            root.join(format!("vertical/{i}.png")),
            encode_gray8(8, 8, &v).unwrap(),
        )
        .unwrap();
    }
    // A 16x16 colour PNG and a 24x24 JPEG in the training set: resized to 8x8.
    let (rgb, _) = bar_rgb(16, 16, true);
    std::fs::write(
        root.join("horizontal/z-colour.png"),
        imgcluster::report::encode_rgb8(16, 16, &rgb).unwrap(),
    )
    .unwrap();
    let (rgb, _) = bar_rgb(24, 24, false);
    std::fs::write(root.join("vertical/z-photo.jpg"), jpeg(24, 24, &rgb)).unwrap();
    std::fs::write(root.join("vertical/readme.txt"), "not an image").unwrap();
}

/// A yellow bar on a dark blue background (`horizontal` or vertical), as RGB bytes.
fn bar_rgb(w: usize, h: usize, horizontal: bool) -> (Vec<u8>, ()) {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let on = if horizontal {
                (h * 2 / 5..h * 3 / 5).contains(&y)
            } else {
                (w * 2 / 5..w * 3 / 5).contains(&x)
            };
            rgb.extend_from_slice(if on { &[255, 255, 0] } else { &[0, 0, 90] });
        }
    }
    (rgb, ())
}

fn jpeg(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn folder_end_to_end_keeps_class_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bars");
    bars_folder(&root);
    let model = dir.path().join("bars.json");
    let v = run_json(
        &["classify", "-k", "2", "--json", "--seed", "1"],
        &[("--data", &root), ("--model-out", &model)],
    );
    assert_eq!(v["n_samples"].as_u64(), Some(14), "{v}");
    assert_eq!(v["n_features"].as_u64(), Some(64));
    assert_eq!(
        v["class_names"],
        serde_json::json!(["horizontal", "vertical"])
    );
    assert_eq!(v["accuracy_percent"].as_f64(), Some(100.0), "{v}");
    // The text report names the classes.
    bin()
        .args(["classify", "-k", "2", "--seed", "1", "--data"])
        .arg(&root)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("->horizontal").and(predicate::str::contains("->vertical")),
        );
    // --size brings every image to another size.
    let v = run_json(
        &["classify", "-k", "2", "--json", "--size", "4x6"],
        &[("--data", &root)],
    );
    assert_eq!(v["n_features"].as_u64(), Some(24));
    // Predicting the folder with its model: class names in the output, all right.
    let p = run_json(
        &["predict", "--json"],
        &[("--model", &model), ("--data", &root)],
    );
    assert_eq!(p["accuracy_percent"].as_f64(), Some(100.0), "{p}");
    let first = &p["predictions"][0];
    assert_eq!(first["class_name"], "horizontal");
    assert!(first["path"].as_str().unwrap().ends_with("0.png"));
    let saved = imgcluster::model::FittedPipeline::load(&model).unwrap();
    assert_eq!(
        saved.class_names(),
        Some(&["horizontal".to_string(), "vertical".to_string()][..])
    );
}

#[test]
fn predict_png_and_jpeg_of_other_sizes_and_colours() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bars");
    bars_folder(&root);
    let model = dir.path().join("bars.json");
    bin()
        .args(["classify", "-k", "2", "--seed", "1", "--data"])
        .arg(&root)
        .arg("--model-out")
        .arg(&model)
        .assert()
        .success();
    let (h_rgb, _) = bar_rgb(40, 30, true);
    let (v_rgb, _) = bar_rgb(60, 20, false);
    let h_png = dir.path().join("wide, horizontal.png");
    let v_jpg = dir.path().join("vertical.jpeg");
    let v_small = dir.path().join("small.png");
    std::fs::write(
        &h_png,
        imgcluster::report::encode_rgb8(40, 30, &h_rgb).unwrap(),
    )
    .unwrap();
    std::fs::write(&v_jpg, jpeg(60, 20, &v_rgb)).unwrap();
    let mut tiny = vec![10u8; 16];
    for y in 0..4 {
        tiny[y * 4 + 1] = 250;
    }
    std::fs::write(&v_small, encode_gray8(4, 4, &tiny).unwrap()).unwrap();
    // A gray JPEG decodes to its own values (up to compression): the same class.
    let v_gray = dir.path().join("gray.jpg");
    let mut gray_jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut gray_jpeg, 100)
        .encode(&tiny, 4, 4, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let decoded = imgcluster::dataset::imageio::decode_gray(&gray_jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (4, 4));
    for (&got, &want) in decoded.data().iter().zip(&tiny) {
        assert!(got.abs_diff(want) <= 4, "{:?} vs {tiny:?}", decoded.data());
    }
    std::fs::write(&v_gray, gray_jpeg).unwrap();
    // Colour JPEGs are made gray with OpenCV's weights: orange (255, 128, 0) -> 151.
    let orange = jpeg(16, 8, &[255, 128, 0].repeat(128));
    let decoded = imgcluster::dataset::imageio::decode_gray(&orange).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (16, 8));
    assert!(
        decoded.data().iter().all(|v| v.abs_diff(151) <= 3),
        "{:?}",
        decoded.data()
    );
    let p = run_json(
        &["predict", "--json"],
        &[
            ("--model", &model),
            ("", &h_png),
            ("", &v_jpg),
            ("", &v_small),
            ("", &v_gray),
        ],
    );
    let classes: Vec<&str> = p["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["class_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["horizontal", "vertical", "vertical", "vertical"],
        "{p}"
    );
    assert!(p.get("accuracy_percent").is_none());
    // CSV: a header, one row per image, the comma in a name quoted.
    let out = bin()
        .args(["predict", "--csv", "--model"])
        .arg(&model)
        .arg(&h_png)
        .arg(&v_jpg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "path,cluster,class,distance,out_of_distribution");
    assert!(
        lines[1].starts_with('"') && lines[1].contains("horizontal.png\","),
        "{text}"
    );
    assert!(lines[1].contains(",horizontal,"), "{text}");
    assert!(lines[2].contains(",vertical,"), "{text}");
    assert_eq!(lines.len(), 3);
    // The default table.
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg(&v_jpg)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("vertical.jpeg").and(predicate::str::contains("distance")),
        );
    // A broken image is named.
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"\xff\xd8\xff\xe0 no more").unwrap();
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg(&broken)
        .assert()
        .failure()
        .stderr(predicate::str::contains("broken.jpg").and(predicate::str::contains("JPEG")));
}

#[test]
fn csv_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, labels) = two_class_images(20);
    let header: Vec<String> = (0..16).map(|i| format!("p{i}")).collect();
    let mut text = format!("label,{}\n", header.join(","));
    for (row, l) in pixels.chunks(16).zip(&labels) {
        let vals: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        text.push_str(&format!("{l},{}\n", vals.join(",")));
    }
    let csv = dir.path().join("digits.csv");
    std::fs::write(&csv, &text).unwrap();
    let v = run_json(&["classify", "-k", "2", "--json"], &[("--data", &csv)]);
    assert_eq!(v["accuracy_percent"].as_f64(), Some(100.0), "{v}");
    assert_eq!(v["n_samples"].as_u64(), Some(20));
    // u8 values of a perfect-square row length are images: deskew works on them.
    let out = dir.path().join("f.npy");
    bin()
        .args(["features", "--features", "deskew", "--data"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(npy::read(&out).unwrap().shape, vec![20, 4, 4]);
    // Text labels in the last column, no header, --shape: class names.
    let mut text = String::new();
    for (row, l) in pixels.chunks(16).zip(&labels) {
        let vals: Vec<String> = row.iter().map(|v| format!("{}.5", v)).collect();
        let name = if *l == 0 { "dark" } else { "bright" };
        text.push_str(&format!("{},{name}\n", vals.join(",")));
    }
    let named = dir.path().join("named.txt");
    std::fs::write(&named, &text).unwrap();
    let v = run_json(
        &[
            "classify",
            "-k",
            "2",
            "--json",
            "--label-column",
            "last",
            "--shape",
            "2x8",
        ],
        &[("--data", &named)],
    );
    assert_eq!(v["class_names"], serde_json::json!(["bright", "dark"]));
    assert_eq!(v["accuracy_percent"].as_f64(), Some(100.0));
    // --format overrides sniffing.
    let v = run_json(
        &["classify", "-k", "2", "--json", "--format", "csv"],
        &[("--data", &csv)],
    );
    assert_eq!(v["n_samples"].as_u64(), Some(20));
}

#[test]
fn sniffing_and_format_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "1,2,3,4\n5,6,7,8\n9,9,9,9\n").unwrap();
    assert_clean_failure(
        &["classify", "-k", "2", "--format", "idx", "--data"],
        &[&csv],
        "x.csv: not a valid IDX file",
    );
    assert_clean_failure(
        &["classify", "-k", "2", "--size", "4x4", "--data"],
        &[&csv],
        "--size is only for folder data sets",
    );
    assert_clean_failure(
        &["classify", "-k", "2", "--shape", "3x3", "--data"],
        &[&csv],
        "3x3 images do not have the 4 values",
    );
    assert_clean_failure(
        &["classify", "-k", "2", "--label-column", "price", "--data"],
        &[&csv],
        "no column named 'price'",
    );
    let gz = dir.path().join("notes.gz");
    std::fs::write(&gz, gzip(b"hello")).unwrap();
    assert_clean_failure(
        &["classify", "--data"],
        &[&gz],
        "only IDX files may be gzipped",
    );
    let bin_file = dir.path().join("blob");
    std::fs::write(&bin_file, [0xde, 0xad, 0xbe, 0xef, 0]).unwrap();
    assert_clean_failure(
        &["classify", "--data"],
        &[&bin_file],
        "not a recognised data set",
    );
    let empty_class = dir.path().join("set");
    std::fs::create_dir_all(empty_class.join("a")).unwrap();
    std::fs::create_dir_all(empty_class.join("b")).unwrap();
    std::fs::write(
        empty_class.join("a/1.png"),
        encode_gray8(2, 2, &[0; 4]).unwrap(),
    )
    .unwrap();
    assert_clean_failure(&["classify", "--data"], &[&empty_class], "'b' holds no");
}

#[test]
fn bad_idx_and_csv_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = idx(&[10, 3, 3], &[7; 90]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated-idx3-ubyte",
            good[..good.len() - 5].to_vec(),
            "truncated",
        ),
        ("truncated.gz", gzip(&good)[..30].to_vec(), "truncated"),
        (
            "short-idx3-ubyte.gz",
            gzip(&good[..good.len() - 5]),
            "truncated",
        ),
        (
            "magic-idx3-ubyte",
            [&[1u8, 0, 8, 3][..], &good[4..]].concat(),
            "magic",
        ),
        (
            "dims-idx3-ubyte",
            [&[0u8, 0, 8, 9][..], &good[4..]].concat(),
            "overflows",
        ),
        (
            "float-idx3-ubyte",
            [&[0u8, 0, 0x0d, 3][..], &good[4..]].concat(),
            "float",
        ),
        ("huge-idx3-ubyte", huge_idx_header(), "1000000000x1000x1000"),
        (
            "huge-idx3-ubyte.gz",
            gzip(&huge_idx_header()),
            "more than a",
        ),
        (
            "ragged.csv",
            b"1,2,3,4\n5,6,7\n".to_vec(),
            "line 2: 3 fields",
        ),
        (
            "words.csv",
            b"a,b\n1,2\n3,four\n".to_vec(),
            "line 3: column 2: 'four' is not a number",
        ),
        ("nan.csv", b"1,2\nnan,2\n".to_vec(), "not a finite number"),
        ("header-only.csv", b"label,p0\n".to_vec(), "empty"),
    ];
    for (name, bytes, says) in &cases {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        assert_clean_failure(&["classify", "-k", "1", "--data"], &[&path], name);
        assert_clean_failure(&["classify", "-k", "1", "--data"], &[&path], says);
    }
    // A labels file of the wrong kind, and one with a huge header.
    let data = d.join("ok-idx3-ubyte");
    std::fs::write(&data, &good).unwrap();
    let labels = d.join("labels.gz");
    std::fs::write(&labels, gzip(&idx(&[10, 1], &[0; 10]))).unwrap();
    assert_clean_failure(
        &["classify", "-k", "2", "--data"],
        &[&data, Path::new("--labels"), &labels],
        "--labels",
    );
    assert_clean_failure(
        &["classify", "-k", "2", "--data"],
        &[&data, Path::new("--labels"), &labels],
        "labels must have 1 dimension",
    );
}

/// An IDX header claiming 10^9 images of 1000x1000 (10^15 bytes) in a 16-byte file.
fn huge_idx_header() -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for s in [1_000_000_000u32, 1000, 1000] {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b
}

/// The held-out half of the digits as `classify --train-ratio 0.5` holds it out: raw
/// pixels and labels, written by `features`.
fn held_out_half(d: &Path) -> (PathBuf, PathBuf) {
    let (half, labels) = (d.join("half.npy"), d.join("half_labels.npy"));
    bin()
        .args([
            "features",
            "--features",
            "raw",
            "--train-ratio",
            "0.5",
            "--out",
        ])
        .arg(&half)
        .arg("--labels-out")
        .arg(&labels)
        .assert()
        .success()
        .stdout(predicate::str::contains("2500 samples of 20x20 u8"));
    (half, labels)
}

/// For every preset: the model `classify --train-ratio 0.5 --model-out` saves classifies the
/// held-out half exactly as `classify` scored it, and for `hog` and `best` within 1.5
/// points of clustering all 5000 digits at once.
#[test]
fn predict_on_held_out_half_matches_classify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (half, half_labels) = held_out_half(d);
    for (preset, seed, transductive) in [
        ("tutorial-deskew", None, None),
        ("hog", Some("1"), Some(92.54)),
        ("best", Some("1"), Some(98.4)),
    ] {
        let model = d.join(format!("{preset}.bin"));
        let centers = d.join(format!("{preset}_centers.npy"));
        let mut args = vec![
            "classify",
            "--pipeline",
            preset,
            "--train-ratio",
            "0.5",
            "--json",
        ];
        if let Some(s) = seed {
            args.extend(["--seed", s]);
        }
        let v = run_json(
            &args,
            &[("--model-out", &model), ("--centers-out", &centers)],
        );
        let test_acc = v["test"]["accuracy_percent"].as_f64().unwrap();
        if let Some(all) = transductive {
            let mut whole = vec!["--pipeline", preset];
            whole.extend(["--seed", seed.unwrap()]);
            let w = classify_json(&whole);
            assert_eq!(w["accuracy_percent"].as_f64(), Some(all), "{preset}");
            assert!(
                test_acc > all - 1.5,
                "{preset}: held-out {test_acc}% vs {all}%"
            );
        }
        let p = run_json(
            &["predict", "--json"],
            &[
                ("--model", &model),
                ("--data", &half),
                ("--labels", &half_labels),
            ],
        );
        assert_eq!(
            p["accuracy_percent"].as_f64(),
            Some(test_acc),
            "{preset}: {p}"
        );
        assert_eq!(p["confusion_matrix"], v["test"]["confusion_matrix"]);
        assert_eq!(p["n_samples"].as_u64(), Some(2500));
        assert_eq!(p["pipeline"], preset);
        // The model file: safetensors, its description says what it is, centers exact.
        let bytes = std::fs::read(&model).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        let m: Value =
            serde_json::from_str(header["__metadata__"]["imgcluster"].as_str().unwrap()).unwrap();
        assert_eq!(
            (m["format"].as_str(), m["version"].as_u64()),
            (Some("imgcluster-model"), Some(2))
        );
        assert_eq!(m["preset"], preset);
        assert_eq!(m["training"]["n_samples"].as_u64(), Some(2500));
        assert_eq!(m["classes"]["mapping"], v["mapping"]);
        let loaded = imgcluster::model::FittedPipeline::load(&model).unwrap();
        let NpyData::F32(want) = npy::read(&centers).unwrap().data else {
            panic!("centers are f32")
        };
        assert_eq!(loaded.centers(), want.as_slice(), "{preset}");
    }
}

#[test]
fn models_of_other_versions_and_corrupted_models_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (pixels, labels) = two_class_images(20);
    let (data, lab) = (d.join("x.npy"), d.join("y.npy"));
    std::fs::write(&data, npy::encode_u8(&[20, 4, 4], &pixels)).unwrap();
    let labels: Vec<i32> = labels.iter().map(|&l| i32::from(l)).collect();
    std::fs::write(&lab, npy::encode_i32(&[20], &labels)).unwrap();
    let model = d.join("m.bin");
    bin()
        .args(["classify", "-k", "2", "--data"])
        .arg(&data)
        .arg("--labels")
        .arg(&lab)
        .arg("--model-out")
        .arg(&model)
        .assert()
        .success();
    let bytes = std::fs::read(&model).unwrap();
    let predict_fails = |bytes: &[u8], says: &str| {
        let m = d.join("bad-model.bin");
        std::fs::write(&m, bytes).unwrap();
        let o = bin()
            .args(["predict", "--model"])
            .arg(&m)
            .arg("--data")
            .arg(&data)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
        assert!(stderr.contains(says), "{says}: {stderr}");
        assert!(stderr.contains("bad-model.bin"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    // The same bytes with one field of the description changed (same length).
    let edit = |from: &str, to: &str| -> Vec<u8> {
        let (from, to) = (from.as_bytes(), to.as_bytes());
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut b = bytes.clone();
        b[at..at + from.len()].copy_from_slice(to);
        b
    };
    predict_fails(
        &edit("\\\"version\\\":2", "\\\"version\\\":7"),
        "has format version 7; this imgcluster reads versions 1 and 2",
    );
    predict_fails(&bytes[..bytes.len() / 2], "not a readable model file");
    predict_fails(&bytes[..bytes.len() - 1], "not a readable model file");
    predict_fails(b"", "neither a safetensors file nor JSON");
    predict_fails(b"{\"hello\": 1}", "not an imgcluster model");
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    predict_fails(&flipped, "do not match their checksum");
    predict_fails(&edit("\\\"k\\\":2", "\\\"k\\\":3"), "invalid model");
    // Version-1 JSON models of earlier releases are still read; a broken one is refused.
    let v1 = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models/deskew-v1.json"),
    )
    .unwrap();
    predict_fails(
        v1.replace("\"version\": 1,", "\"version\": 7,").as_bytes(),
        "has format version 7",
    );
    predict_fails(&v1.as_bytes()[..v1.len() / 2], "not valid JSON");
    predict_fails(
        v1.replace("\"centers\"", "\"centres\"").as_bytes(),
        "invalid model: missing field `centers`",
    );
    // A model whose images are another size than the data: vectors are refused, image
    // files resized (see predict_png_and_jpeg_of_other_sizes_and_colours).
    let wide = d.join("wide.npy");
    std::fs::write(&wide, npy::encode_u8(&[2, 2, 8], &[0; 32])).unwrap();
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&wide)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("wide.npy").and(predicate::str::contains("4x4 u8 images")),
        );
    // A missing model file.
    bin()
        .args(["predict", "--model"])
        .arg(d.join("missing.bin"))
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("missing.bin"));
    // No image and no --data.
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--data"));
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
        "Pipeline and k-means",
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
        .stdout(predicate::str::contains(format!(
            "Written: {}",
            report2.display()
        )));
    let html = assert_report(&report2, &["Summary", "Cluster centers and mean images"]);
    assert!(!html.contains("<h2>Deskewing</h2>"));
    assert!(html.contains("53.18%"));
}

/// The best pipeline's report, and the report of its model's predictions on the held-out
/// half: self-contained, with the deskew decision, the stages and the scores.
#[test]
fn best_report_and_predict_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (report, model) = (d.join("best.html"), d.join("best.bin"));
    let v = run_json(
        &[
            "classify",
            "--pipeline",
            "best",
            "--seed",
            "1",
            "--train-ratio",
            "0.5",
            "--json",
        ],
        &[("--report", &report), ("--model-out", &model)],
    );
    let html = assert_report(
        &report,
        &[
            "Summary",
            "Data set and parameters",
            "Scores per class (held-out samples)",
            "Cluster centers and mean images",
            "Misclassified samples",
            "Deskewing",
            "Timings",
        ],
    );
    assert!(
        html.contains("chosen by the normalised cut"),
        "deskew decision"
    );
    assert!(html.contains("Nyström"), "the embedding stage");
    let held = format!("{:.2}%", v["test"]["accuracy_percent"].as_f64().unwrap());
    assert!(html.contains(&held), "{held}");
    let (half, half_labels) = held_out_half(d);
    let preport = d.join("predict.html");
    let p = run_json(
        &["predict", "--json"],
        &[
            ("--model", &model),
            ("--data", &half),
            ("--labels", &half_labels),
            ("--report", &preport),
        ],
    );
    assert_eq!(
        p["outputs"],
        serde_json::json!([preport.display().to_string()])
    );
    let html = assert_report(
        &preport,
        &[
            "Summary",
            "Model",
            "Samples per cluster",
            "Scores per class",
            "Timings",
        ],
    );
    assert!(html.contains(&held), "{held}");
    // A report cannot be written: nothing is predicted, nothing written.
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&half)
        .arg("--report")
        .arg(d.join("no/such/folder/p.html"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("--report"));
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
    assert!(
        stderr.contains("tutorial-raw (K=10, 10 attempts, 5000 samples): k-means"),
        "{stderr}"
    );
    assert!(stderr.contains("best (K=10, 10 attempts, 5000 samples): deskewed: "));
    assert!(stderr.contains("kNN graph"), "{stderr}");
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
    let input = fixture("quantize_input.png");
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["-k", "8"][..], "quantize_k8.png"),
        (
            &["-k", "5", "--init", "pp", "--seed", "3"][..],
            "quantize_pp_k5_seed3.png",
        ),
    ] {
        let want = fixture(want);
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
    check(&jpeg, &[], "cannot decode the JPEG");
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
    // A name that says another format: refused, nothing written.
    let as_jpeg = dir.path().join("out.jpg");
    bin()
        .arg("quantize")
        .arg(&tiny)
        .arg("-o")
        .arg(&as_jpeg)
        .assert()
        .failure()
        .stderr(predicate::str::contains("quantize writes PNG images"));
    assert!(!as_jpeg.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "only the four inputs remain"
    );
}

// ---------------------------------------------------------------------------------------
// The bad-input table of docs/bad-inputs.md: one test per row not covered above.

/// Runs `imgcluster args...` expecting failure; returns stderr after the common checks
/// (non-zero exit that is not a panic, no panic message, `names` in the message).
fn fails_naming(args: &[&std::ffi::OsStr], names: &str) -> String {
    let o = bin().args(args).assert().failure().get_output().clone();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        stderr.contains(names),
        "stderr does not name {names}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(o.status.code(), Some(101), "exit code of a panic");
    stderr
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn bad_input_empty_and_truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.npy");
    std::fs::write(&empty, b"").unwrap();
    fails_naming(
        &[os("classify"), os("--data"), empty.as_os_str()],
        "empty.npy",
    );

    let truncated = dir.path().join("truncated.npy");
    let full = npy::encode_u8(&[10, 4, 4], &[3; 160]);
    std::fs::write(&truncated, &full[..full.len() - 7]).unwrap();
    fails_naming(
        &[os("classify"), os("--data"), truncated.as_os_str()],
        "truncated.npy",
    );
}

#[test]
fn bad_input_infinite_values() {
    let dir = tempfile::tempdir().unwrap();
    let inf = dir.path().join("inf.npy");
    let mut values = vec![0.5f32; 20];
    values[7] = f32::INFINITY;
    std::fs::write(&inf, npy::encode_f32(&[5, 4], &values)).unwrap();
    let e = fails_naming(
        &[
            os("classify"),
            os("-k"),
            os("2"),
            os("--data"),
            inf.as_os_str(),
        ],
        "inf.npy",
    );
    assert!(e.contains("sample 1") && e.contains("feature 3"), "{e}");
}

#[test]
fn bad_input_colour_grid_png_is_converted_to_gray() {
    let dir = tempfile::tempdir().unwrap();
    // A 4x2 RGB image of two 2x2 cells (one class band): red, then white.
    let mut rgb = Vec::new();
    for _y in 0..2 {
        rgb.extend_from_slice(&[255, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    }
    let path = dir.path().join("colour.png");
    std::fs::write(&path, imgcluster::report::encode_rgb8(4, 2, &rgb).unwrap()).unwrap();
    let out = dir.path().join("gray.npy");
    bin()
        .args([
            "features",
            "--features",
            "raw",
            "--cell",
            "2",
            "--classes",
            "1",
            "--data",
        ])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let gray = npy::read(&out).unwrap();
    assert_eq!(gray.shape, vec![2, 2, 2]);
    // OpenCV's RGB2GRAY weights: red 255 -> 76, white -> 255.
    assert_eq!(
        gray.data,
        NpyData::U8(vec![76, 76, 76, 76, 255, 255, 255, 255])
    );
}

#[test]
fn bad_input_constant_data_and_fewer_distinct_points_than_k() {
    let dir = tempfile::tempdir().unwrap();
    for (name, values) in [
        ("constant.npy", vec![5u8; 80]),
        (
            "two_points.npy",
            (0..80).map(|i| if i < 40 { 0 } else { 9 }).collect(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, npy::encode_u8(&[20, 4], &values)).unwrap();
        let labels = dir.path().join(format!("{name}.labels.npy"));
        bin()
            .args(["classify", "-k", "4", "--data"])
            .arg(&path)
            .arg("--labels-out")
            .arg(&labels)
            .assert()
            .success();
        let got = read_labels(&labels);
        assert_eq!(got.len(), 20);
        assert!(got.iter().all(|&l| (0..4).contains(&l)), "{name}: {got:?}");
    }
}

#[test]
fn bad_input_max_iter_zero_and_bad_label_types() {
    fails_naming(&[os("classify"), os("--max-iter"), os("0")], "--max-iter");
    let dir = tempfile::tempdir().unwrap();
    let fractional = dir.path().join("fractional.npy");
    std::fs::write(&fractional, npy::encode_f32(&[5000], &vec![0.5; 5000])).unwrap();
    fails_naming(
        &[os("classify"), os("--labels"), fractional.as_os_str()],
        "fractional.npy",
    );
    let matrix = dir.path().join("matrix.npy");
    std::fs::write(&matrix, npy::encode_i32(&[2500, 2], &vec![0; 5000])).unwrap();
    fails_naming(
        &[os("classify"), os("--labels"), matrix.as_os_str()],
        "matrix.npy",
    );
}

#[test]
fn bad_input_unwritable_output_folder_and_full_disk() {
    fails_naming(
        &[os("classify"), os("--out"), os("/proc/imgcluster-figures")],
        "--out /proc/imgcluster-figures",
    );
    if Path::new("/dev/full").exists() {
        let e = fails_naming(
            &[os("classify"), os("--labels-out"), os("/dev/full")],
            "/dev/full",
        );
        assert!(e.contains("No space left"), "{e}");
        let e = fails_naming(
            &[
                os("features"),
                os("--features"),
                os("raw"),
                os("--out"),
                os("/dev/full"),
            ],
            "/dev/full",
        );
        assert!(e.contains("No space left"), "{e}");
    }
}

#[test]
fn bad_input_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.npy");
    std::fs::write(&path, npy::encode_u8(&[4, 2], &[0; 8])).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        eprintln!("skipping: running with permission to read any file (root)");
        return;
    }
    fails_naming(
        &[os("classify"), os("--data"), path.as_os_str()],
        "secret.npy",
    );
}

#[test]
fn quantize_reads_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (40, 30);
    let rgb: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8]
        })
        .collect();
    let input = dir.path().join("photo.jpg");
    std::fs::write(&input, jpeg(w, h, &rgb)).unwrap();
    let out = dir.path().join("photo4.png");
    bin()
        .args(["quantize", "-k", "4", "-o"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let (ow, oh, colour, pixels) = decode_png(&out);
    assert_eq!((ow, oh, colour), (40, 30, png::ColorType::Rgb));
    assert!(distinct(&pixels) <= 4);
}

#[test]
fn bad_input_more_data_than_memory_is_refused_from_the_header() {
    // A sparse file of 200 GB whose .npy header is valid: refused before anything is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.npy");
    let n: usize = 250_000_000;
    let mut dict = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 28, 28), }}");
    dict.push_str(&" ".repeat(63 - (10 + dict.len()) % 64));
    dict.push('\n');
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    let file = std::fs::File::create(&path).unwrap();
    use std::io::Write;
    (&file).write_all(&header).unwrap();
    file.set_len((header.len() + n * 784) as u64).unwrap();
    let e = fails_naming(
        &[os("classify"), os("--data"), path.as_os_str()],
        "huge.npy",
    );
    assert!(
        e.contains("GiB is available") && e.contains("needs about"),
        "{e}"
    );
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
    assert!(acc > 98.0, "best: {acc}");
    assert!(acc > tutorial["accuracy_percent"].as_f64().unwrap());
    assert_eq!(best["pipeline"], "best");
    assert_eq!(best["features"], "spectral");
    assert_eq!(best["k"].as_u64(), Some(10));
    // The embedding has two dimensions per cluster.
    assert_eq!(best["n_features"].as_u64(), Some(20));
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
    assert_clean_failure(&["classify", "--pipeline", "nope"], &[], "--pipeline");
}

#[test]
fn features_writes_hog_and_best_features() {
    let dir = tempfile::tempdir().unwrap();
    for (name, dims) in [("hog", 432), ("best", 20)] {
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

// ---------------------------------------------------------------------------------------
// Scale: memory-mapped data.

/// `n` clustered 4x4 byte images around `k` centers (sample `i` in cluster `i % k`), and their
/// classes.
fn clustered_images(n: usize, k: usize) -> (Vec<u8>, Vec<i32>) {
    let mut state = 12345u32;
    let mut next = move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) as u8
    };
    let centers: Vec<u8> = (0..k * 16).map(|_| next() / 2 + 60).collect();
    let mut pixels = Vec::with_capacity(n * 16);
    for i in 0..n {
        let c = i % k;
        pixels.extend(
            centers[c * 16..(c + 1) * 16]
                .iter()
                .map(|&v| v + next() % 16),
        );
    }
    (pixels, (0..n).map(|i| (i % k) as i32).collect())
}

fn classify_json_os(args: &[&std::ffi::OsStr]) -> Value {
    let out = bin()
        .arg("classify")
        .args(args)
        .arg("--json")
        .assert()
        .success();
    json_of(&out.get_output().stdout)
}

#[test]
fn mapped_and_read_data_give_the_same_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, classes) = clustered_images(400, 5);
    let data = dir.path().join("x.npy");
    let floats = dir.path().join("xf.npy");
    let lab = dir.path().join("y.npy");
    std::fs::write(&data, npy::encode_u8(&[400, 4, 4], &pixels)).unwrap();
    let wide: Vec<f32> = pixels.iter().map(|&v| f32::from(v) / 4.0).collect();
    std::fs::write(&floats, npy::encode_f32(&[400, 16], &wide)).unwrap();
    std::fs::write(&lab, npy::encode_i32(&[400], &classes)).unwrap();
    for (file, mode) in [(&data, "fast"), (&floats, "fast"), (&data, "opencv")] {
        let mut runs = Vec::new();
        for when in ["never", "always", "auto"] {
            let labels_out = dir.path().join(format!("labels-{when}.npy"));
            let v = classify_json_os(&[
                os("--data"),
                file.as_os_str(),
                os("--labels"),
                lab.as_os_str(),
                os("-k"),
                os("5"),
                os("--mode"),
                os(mode),
                os("--seed"),
                os("3"),
                os(&format!("--mmap={when}")),
                os("--labels-out"),
                labels_out.as_os_str(),
            ]);
            let mapped = when == "always" || (when == "auto" && mode == "fast");
            assert_eq!(v["mmap"], Value::Bool(mapped), "{when} {mode}");
            assert!(v["peak_rss_mb"].as_f64().is_some());
            assert_eq!(v["n_samples"], 400);
            runs.push((
                v["compactness"].as_f64(),
                v["accuracy_percent"].as_f64(),
                read_labels(&labels_out),
            ));
        }
        assert_eq!(runs[0], runs[1], "{} {mode}", file.display());
        assert_eq!(runs[0], runs[2], "{} {mode}", file.display());
    }
    // `--mmap` alone means always; the text report says the data were mapped.
    bin()
        .args(["classify", "-k", "5", "--mode", "fast", "--mmap", "--data"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "400 images of 4x4 u8, memory-mapped",
        ));
}

#[test]
fn bad_input_mmap_of_data_that_cannot_be_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, _) = clustered_images(40, 2);
    let data = dir.path().join("x.npy");
    std::fs::write(&data, npy::encode_u8(&[40, 4, 4], &pixels)).unwrap();
    let e = fails_naming(
        &[
            os("classify"),
            os("--mmap"),
            os("--features"),
            os("deskew"),
            os("--data"),
            data.as_os_str(),
        ],
        "--mmap",
    );
    assert!(e.contains("preprocessed copy"), "{e}");
    let ints = dir.path().join("ints.npy");
    std::fs::write(&ints, npy::encode_i32(&[4, 4], &[1; 16])).unwrap();
    let e = fails_naming(
        &[
            os("classify"),
            os("-k"),
            os("2"),
            os("--mmap=always"),
            os("--data"),
            ints.as_os_str(),
        ],
        "ints.npy",
    );
    assert!(e.contains("only u8 and f32"), "{e}");
    // Auto reads what it cannot map.
    let v = classify_json_os(&[
        os("-k"),
        os("2"),
        os("--mode"),
        os("fast"),
        os("--data"),
        ints.as_os_str(),
    ]);
    assert_eq!(v["mmap"], Value::Bool(false));
}

// ---------------------------------------------------------------------------------------
// Scale: mini-batch k-means.

#[test]
fn minibatch_classify_is_reproducible_and_reports_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, classes) = clustered_images(3000, 6);
    let data = dir.path().join("x.npy");
    let lab = dir.path().join("y.npy");
    std::fs::write(&data, npy::encode_u8(&[3000, 16], &pixels)).unwrap();
    std::fs::write(&lab, npy::encode_i32(&[3000], &classes)).unwrap();
    let run = |threads: &str, mmap: &str| {
        let labels_out = dir.path().join(format!("labels-{threads}-{mmap}.npy"));
        let v = classify_json_os(&[
            os("--data"),
            data.as_os_str(),
            os("--labels"),
            lab.as_os_str(),
            os("-k"),
            os("6"),
            os("--mode"),
            os("fast"),
            os("--init"),
            os("pp"),
            os("--algorithm"),
            os("minibatch"),
            os("--batch-size"),
            os("256"),
            os("--max-iter"),
            os("20"),
            os("--seed"),
            os("4"),
            os("--threads"),
            os(threads),
            os(&format!("--mmap={mmap}")),
            os("--labels-out"),
            labels_out.as_os_str(),
        ]);
        (v, read_labels(&labels_out))
    };
    let (v, labels) = run("1", "never");
    assert_eq!(v["algorithm"], "minibatch");
    assert_eq!(v["batch_size"], 256);
    assert_eq!(v["mmap"], false);
    let steps = v["steps"].as_u64().unwrap();
    assert!((1..=20 * 3000 / 256).contains(&steps), "{steps}");
    assert_eq!(v["epochs"].as_u64(), Some((steps * 256).div_ceil(3000)));
    assert!(v["accuracy_percent"].as_f64().unwrap() > 95.0, "{v}");
    for (threads, mmap) in [("2", "never"), ("1", "always"), ("2", "auto")] {
        let (w, other) = run(threads, mmap);
        assert_eq!(other, labels, "--threads {threads} --mmap {mmap}");
        assert_eq!(w["compactness"], v["compactness"]);
        assert_eq!(w["steps"], v["steps"]);
    }
    // Lloyd is the default algorithm.
    let v = classify_json_os(&[
        os("--data"),
        data.as_os_str(),
        os("-k"),
        os("6"),
        os("--mode"),
        os("fast"),
    ]);
    assert_eq!(v["algorithm"], "lloyd");
    assert!(v.get("batch_size").is_none());
}

#[test]
fn bad_input_minibatch_options() {
    let dir = tempfile::tempdir().unwrap();
    let (pixels, _) = clustered_images(100, 2);
    let data = dir.path().join("x.npy");
    std::fs::write(&data, npy::encode_u8(&[100, 16], &pixels)).unwrap();
    // Each case: the flags after `classify --data x.npy`, and what the error names.
    let cases: [(&[&str], &str); 4] = [
        (
            &["--algorithm", "minibatch"],
            "--algorithm minibatch needs --mode fast",
        ),
        (
            &[
                "--mode",
                "fast",
                "--algorithm",
                "minibatch",
                "--batch-size",
                "0",
            ],
            "--batch-size",
        ),
        (
            &["--mode", "fast", "--batch-size", "64"],
            "--batch-size applies to --algorithm minibatch",
        ),
        (
            &[
                "--mode",
                "fast",
                "--algorithm",
                "minibatch",
                "--pipeline",
                "hog",
            ],
            // Mini-batch k-means works with every pipeline; hog needs images.
            "--pipeline hog",
        ),
    ];
    for (i, (flags, names)) in cases.into_iter().enumerate() {
        let mut args = vec![os("classify"), os("--data"), data.as_os_str()];
        args.extend(flags.iter().map(|f| os(f)));
        let e = fails_naming(&args, names);
        // The checks after parsing carry the program's own prefix.
        if i == 0 {
            assert!(e.starts_with("imgcluster: error:"), "{e}");
        }
    }
}

/// A digit drawn with the report font, 100 px square: `ink` on `paper`.
fn rendered_digit(path: &Path, digit: u32, ink: u8, paper: u8) {
    use imgcluster::report::{Canvas, Rgb};
    let mut c = Canvas::new(100, 100, Rgb::new(paper, paper, paper)).unwrap();
    let text = digit.to_string();
    c.draw_text_centered(50, 15, &text, Rgb::new(ink, ink, ink), 10);
    std::fs::write(path, c.to_png().unwrap()).unwrap();
}

/// `n` pseudo-random bytes (xorshift64 from `seed`).
fn noise_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// Noise: every pixel drawn at random.
fn noise_png(path: &Path) {
    let px = noise_bytes(100 * 100, 0x9e37_79b9_7f4a_7c15);
    std::fs::write(path, encode_gray8(100, 100, &px).unwrap()).unwrap();
}

/// Digits drawn black on white and white on black get the same predictions from a deskew
/// model and from a best model (the polarity rule inverts the first to the training
/// images' polarity); random noise is flagged out of distribution by both.
#[test]
fn polarity_is_part_of_the_model_and_noise_is_out_of_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut dark = Vec::new();
    let mut light = Vec::new();
    for digit in 0..10 {
        let (a, b) = (
            d.join(format!("dark{digit}.png")),
            d.join(format!("light{digit}.png")),
        );
        rendered_digit(&a, digit, 255, 0);
        rendered_digit(&b, digit, 0, 255);
        dark.push(a);
        light.push(b);
    }
    let noise = d.join("noise.png");
    noise_png(&noise);
    for (name, args) in [
        ("deskew", vec!["--features", "deskew"]),
        ("best", vec!["--pipeline", "best", "--seed", "1"]),
    ] {
        let model = d.join(format!("{name}.bin"));
        let mut classify = vec!["classify"];
        classify.extend(&args);
        bin()
            .args(&classify)
            .arg("--model-out")
            .arg(&model)
            .assert()
            .success();
        let predict = |images: &[PathBuf], keep: bool| -> Value {
            let mut cmd = bin();
            cmd.args(["predict", "--json", "--model"])
                .arg(&model)
                .args(images);
            if keep {
                cmd.arg("--keep-polarity");
            }
            json_of(&cmd.assert().success().get_output().stdout)
        };
        let classes = |v: &Value| -> Vec<Value> {
            v["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["class"].clone())
                .collect()
        };
        let on_dark = predict(&dark, false);
        let on_light = predict(&light, false);
        assert_eq!(classes(&on_dark), classes(&on_light), "{name}");
        assert_eq!(on_dark["polarity"], "dark-background");
        // The rule can be switched off: the light images then look like nothing trained on.
        let kept = predict(&light, true);
        assert_ne!(classes(&kept), classes(&on_dark), "{name}");
        // Noise is flagged, in JSON and in the table.
        let n = predict(std::slice::from_ref(&noise), false);
        assert_eq!(
            n["predictions"][0]["out_of_distribution"], true,
            "{name}: {n}"
        );
        assert!(
            on_dark["out_of_distribution"].as_u64().unwrap() < 10,
            "{name}: {on_dark}"
        );
        bin()
            .args(["predict", "--model"])
            .arg(&model)
            .arg(&noise)
            .assert()
            .success()
            .stdout(predicate::str::contains("out of distribution"));
    }
}

/// A flat `N × 784` u8 `.npy` (the digits in 28×28 frames, one row each) goes through the
/// image pipelines with `--shape 28x28`; a shape of another size is refused.
#[test]
fn shape_makes_flat_npy_rows_images() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digits = imgcluster::dataset::grid::digits();
    let (px, _, _) = digits.images_u8().unwrap();
    let mut flat = vec![0u8; 5000 * 784];
    for (i, cell) in px.chunks_exact(400).enumerate() {
        for y in 0..20 {
            let at = i * 784 + (y + 4) * 28 + 4;
            flat[at..at + 20].copy_from_slice(&cell[y * 20..(y + 1) * 20]);
        }
    }
    let labels: Vec<i32> = digits.labels().unwrap().iter().map(|&l| l as i32).collect();
    let (data, lab) = (d.join("flat.npy"), d.join("flat_labels.npy"));
    std::fs::write(&data, npy::encode_u8(&[5000, 784], &flat)).unwrap();
    std::fs::write(&lab, npy::encode_i32(&[5000], &labels)).unwrap();
    let v = run_json(
        &[
            "classify",
            "--pipeline",
            "best",
            "--seed",
            "1",
            "--shape",
            "28x28",
            "--json",
        ],
        &[("--data", &data), ("--labels", &lab)],
    );
    assert!(v["accuracy_percent"].as_f64().unwrap() > 95.0, "{v}");
    assert_eq!(v["deskewed"], true);
    // Without --shape the rows are vectors, which HOG cannot read.
    assert_clean_failure(
        &[
            "classify",
            "--pipeline",
            "best",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
        "8-bit images",
    );
    assert_clean_failure(
        &[
            "classify",
            "--features",
            "deskew",
            "--shape",
            "27x27",
            "--data",
            data.to_str().unwrap(),
        ],
        &[],
        "27x27 images have 729 values, but the samples have 784",
    );
}

/// A folder of three classes of shapes, 16×16: filled circles, squares and triangles of
/// a few sizes and positions.
fn shapes_folder(root: &Path) {
    for (class, inside) in [
        (
            "circle",
            (|x: i32, y: i32, r: i32| x * x + y * y <= r * r) as fn(i32, i32, i32) -> bool,
        ),
        ("square", |x: i32, y: i32, r: i32| {
            x.abs() <= r && y.abs() <= r
        }),
        ("triangle", |x: i32, y: i32, r: i32| {
            y <= r && y >= -r && x.abs() * 2 <= y + r
        }),
    ] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..12 {
            let (r, cx, cy) = (3 + i % 3, 7 + i % 2, 7 + (i / 2) % 2);
            let px: Vec<u8> = (0..256)
                .map(|p| {
                    let (x, y) = (p % 16 - cx, p / 16 - cy);
                    if inside(x, y, r) {
                        230
                    } else {
                        10
                    }
                })
                .collect();
            std::fs::write(
                root.join(format!("{class}/{i:02}.png")),
                encode_gray8(16, 16, &px).unwrap(),
            )
            .unwrap();
        }
    }
}

/// Class names of a folder data set in the text matrix, the figures and the HTML report.
#[test]
fn class_names_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shapes");
    shapes_folder(&root);
    let (report, figs) = (dir.path().join("r.html"), dir.path().join("figs"));
    let out = bin()
        .args(["classify", "--pipeline", "hog", "--seed", "1", "--data"])
        .arg(&root)
        .arg("--report")
        .arg(&report)
        .arg("--out")
        .arg(&figs)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let header = text
        .lines()
        .skip_while(|l| !l.starts_with("Confusion matrix"))
        .nth(1)
        .unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["circle", "square", "triangle"],
        "{text}"
    );
    assert!(
        text.contains("numbered in the sorted order of their names: 0=circle 1=square 2=triangle")
    );
    let html = std::fs::read_to_string(&report).unwrap();
    for name in ["circle", "square", "triangle"] {
        assert!(
            html.contains(&format!(">{name}</th>")),
            "{name} in the report"
        );
    }
    assert!(figs.join("confusion.png").is_file());
}

/// `--threads` above 1024 is a usage error; above four per core it is lowered, with one
/// warning, to a count that gives the same result without the overhead.
#[test]
fn thread_counts_are_bounded() {
    let o = bin()
        .args(["classify", "--threads", "1000000"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("from 1 to 1024"));
    let many = bin()
        .args(["classify", "--json", "--threads", "1000"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&many.stderr);
    assert_eq!(
        stderr.matches("warning: --threads 1000").count(),
        1,
        "{stderr}"
    );
    let v = json_of(&many.stdout);
    assert_eq!(v["accuracy_percent"].as_f64(), Some(53.18));
}

/// Labels that skip values are classes by their distinct values (renumbered in increasing
/// order, the values kept as class names), however large the values are.
#[test]
fn sparse_label_values_are_classes_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = d.join("rows.csv");
    std::fs::write(
        &csv,
        "label,a,b\n0,1,2\n0,2,1\n1000000000,50,60\n1000000000,60,50\n7,20,200\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let v = run_json(&["classify", "--json"], &[("--data", &csv)]);
    assert!(start.elapsed().as_secs() < 2, "{:?}", start.elapsed());
    assert_eq!(v["k"].as_u64(), Some(3), "{v}");
    assert_eq!(
        v["class_names"],
        serde_json::json!(["0", "7", "1000000000"])
    );
    // Digit labels times 10^8, in a labels file: the tutorial's run, classes named by value.
    let labels: Vec<i32> = (0..5000).map(|i| (i / 500) * 100_000_000).collect();
    let lab = d.join("huge.npy");
    std::fs::write(&lab, npy::encode_i32(&[5000], &labels)).unwrap();
    let v = run_json(&["classify", "--json"], &[("--labels", &lab)]);
    assert_eq!(v["accuracy_percent"].as_f64(), Some(53.18), "{v}");
    assert_eq!(v["class_names"][9], "900000000");
}

/// Links that loop inside an image folder do not multiply its images, and a FIFO named like
/// an image is skipped, not waited on.
#[cfg(unix)]
#[test]
fn folder_links_and_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bars");
    bars_folder(&root);
    let count = |root: &Path| -> u64 {
        run_json(&["classify", "-k", "2", "--json"], &[("--data", root)])["n_samples"]
            .as_u64()
            .unwrap()
    };
    let before = count(&root);
    std::os::unix::fs::symlink(".", root.join("vertical/self")).unwrap();
    std::os::unix::fs::symlink("..", root.join("horizontal/up")).unwrap();
    std::os::unix::fs::symlink("../vertical", root.join("horizontal/other")).unwrap();
    let fifo = root.join("vertical/pipe.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let start = std::time::Instant::now();
    let after = count(&root);
    assert!(start.elapsed().as_secs() < 5);
    // Each link leads to a folder visited already, or to the other class: only the
    // class folders' own images count, once each.
    assert!(
        after <= before + 7,
        "{before} images before, {after} after the links"
    );
    let looped = after - before;
    assert_eq!(looped, 7, "horizontal/other holds vertical's 7 images once");
}

/// A JPEG cut short, or whose header claims far more pixels than its bytes can hold, is an
/// error naming the file, at once.
#[test]
fn truncated_and_oversized_jpegs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, model) = bars_and_model(d);
    let (rgb, _) = bar_rgb(64, 64, true);
    let whole = jpeg(64, 64, &rgb);
    let half = d.join("half.jpg");
    std::fs::write(&half, &whole[..whole.len() / 2]).unwrap();
    let mut huge = whole.clone();
    let sof = huge.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    huge[sof + 5..sof + 9].copy_from_slice(&[0x3E, 0x80, 0x3E, 0x80]); // 16000 x 16000
    let claims = d.join("claims.jpg");
    std::fs::write(&claims, &huge).unwrap();
    for (file, says) in [(&half, "truncated"), (&claims, "16000x16000")] {
        let start = std::time::Instant::now();
        let o = bin()
            .args(["predict", "--model"])
            .arg(&model)
            .arg(file)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
        assert!(stderr.contains(says), "{says}: {stderr}");
        assert!(
            stderr.contains(file.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
        assert!(start.elapsed().as_secs() < 2);
    }
    // The whole file still reads.
    let ok = d.join("whole.jpg");
    std::fs::write(&ok, &whole).unwrap();
    bin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg(&ok)
        .assert()
        .success();
}

/// The bars folder in `d`, and a model of two clusters fitted on it.
fn bars_and_model(d: &Path) -> (PathBuf, PathBuf) {
    let root = d.join("bars");
    bars_folder(&root);
    let model = d.join("m.bin");
    bin()
        .args(["classify", "-k", "2", "--data"])
        .arg(&root)
        .arg("--model-out")
        .arg(&model)
        .assert()
        .success();
    (root, model)
}

/// A `.npy` header (version 1) for `shape` of `descr`, padded to 64 bytes.
fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    dict.push_str(&" ".repeat(63 - (10 + dict.len()) % 64));
    dict.push('\n');
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header
}

/// The first bytes of a PNG whose header says `w × h` gray (or RGB) pixels; its data are
/// cut short, so only a reader that checks the header first refuses it at once.
fn png_claiming(w: u32, h: u32, rgb: bool) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, if rgb { 2 } else { 0 }, 0, 0, 0]);
    let crc = {
        let mut c = 0xFFFF_FFFFu32;
        for &b in &ihdr {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                };
            }
        }
        !c
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc.to_be_bytes());
    png.extend_from_slice(&[0, 0, 0x10, 0, b'I', b'D', b'A', b'T', 0x78, 0x9c]);
    png
}

/// Runs `script` under bash (for `<(…)`, `ulimit`), with `$B` the binary; returns the output.
fn bash(script: &str) -> std::process::Output {
    let start = std::time::Instant::now();
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("B", assert_cmd::cargo::cargo_bin("imgcluster"))
        .output()
        .unwrap();
    assert!(start.elapsed().as_secs() < 10, "{script} took too long");
    o
}

/// A pipe or FIFO given as --data is read once: every row counts, whatever the format.
#[test]
fn pipes_and_fifos_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..300)
        .map(|i| format!("{},{},{},{}\n", i % 7, (i * 3) % 11, i % 5, (i * 7) % 13))
        .collect();
    std::fs::write(d.join("x.csv"), &rows).unwrap();
    let values: Vec<u8> = (0..300 * 16).map(|i| (i * 37 % 251) as u8).collect();
    std::fs::write(d.join("x.npy"), npy::encode_u8(&[300, 16], &values)).unwrap();
    let n_samples = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        json_of(&o.stdout)["n_samples"].as_u64().unwrap()
    };
    let cd = format!("cd '{}' && ", d.display());
    for file in ["x.csv", "x.npy"] {
        let o = bash(&format!(
            "{cd}\"$B\" classify -k 3 --json --data <(cat {file})"
        ));
        assert_eq!(n_samples(&o), 300, "{file} through a pipe");
    }
    // A named FIFO: the writer gives its bytes once.
    assert!(std::process::Command::new("mkfifo")
        .arg(d.join("f"))
        .status()
        .unwrap()
        .success());
    let o = bash(&format!(
        "{cd}(cat x.csv > f &) ; \"$B\" classify -k 3 --json --data f"
    ));
    assert_eq!(n_samples(&o), 300, "a named FIFO");
    // A pipe cannot be memory-mapped: said so, not waited on.
    let o = bash(&format!(
        "{cd}\"$B\" classify -k 3 --mode fast --mmap always --data <(cat x.npy)"
    ));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("not a regular file"), "{e}");
}

/// Inputs that would take more memory than there is, or an endless device, are refused
/// from their first bytes, naming the file or flag, at once.
#[test]
fn memory_is_bounded_on_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (root, model) = bars_and_model(d);
    let huge = d.join("huge.png");
    std::fs::write(&huge, png_claiming(32768, 32768, false)).unwrap();
    // A labels file whose gzipped IDX header says 10^9 labels (for 5000 samples).
    let mut labels_header = vec![0, 0, 8, 1];
    labels_header.extend_from_slice(&1_000_000_000u32.to_be_bytes());
    labels_header.extend_from_slice(&[0; 1 << 16]);
    let labels_gz = d.join("labels.gz");
    std::fs::write(&labels_gz, gzip(&labels_header)).unwrap();
    let zero = Path::new("/dev/zero");
    let cases: Vec<(Vec<&std::ffi::OsStr>, &str)> = vec![
        (
            vec![
                os("classify"),
                os("--data"),
                root.as_os_str(),
                os("--size"),
                os("100000x100000"),
            ],
            "GiB of memory",
        ),
        (
            vec![os("classify"), os("--data"), huge.as_os_str()],
            "not a whole number of 20x20 cells",
        ),
        (
            vec![
                os("classify"),
                os("--cell"),
                os("32"),
                os("--classes"),
                os("1"),
                os("--data"),
                huge.as_os_str(),
            ],
            "32768x32768",
        ),
        (
            vec![
                os("predict"),
                os("--model"),
                model.as_os_str(),
                huge.as_os_str(),
                huge.as_os_str(),
            ],
            "decompression bomb",
        ),
        (
            vec![
                os("quantize"),
                huge.as_os_str(),
                os("-o"),
                d.join("q.png").into_os_string().leak(),
            ],
            "decompression bomb",
        ),
        (
            vec![os("classify"), os("--labels"), labels_gz.as_os_str()],
            "1000000000 labels for 5000 samples",
        ),
        (
            vec![os("classify"), os("--labels"), zero.as_os_str()],
            "--labels /dev/zero",
        ),
        (
            vec![
                os("predict"),
                os("--model"),
                zero.as_os_str(),
                huge.as_os_str(),
            ],
            "model /dev/zero",
        ),
        (
            vec![
                os("classify"),
                os("--mode"),
                os("fast"),
                os("--init-centers"),
                zero.as_os_str(),
            ],
            "--init-centers /dev/zero",
        ),
        (
            vec![
                os("classify"),
                os("--format"),
                os("csv"),
                os("--data"),
                zero.as_os_str(),
            ],
            "not CSV text",
        ),
        (
            vec![os("classify"), os("--data"), zero.as_os_str()],
            "--data /dev/zero",
        ),
    ];
    for (args, says) in cases {
        let start = std::time::Instant::now();
        let e = fails_naming(&args, says);
        assert!(
            start.elapsed().as_secs() < 2,
            "{args:?} took {:?}",
            start.elapsed()
        );
        assert!(e.lines().count() <= 2, "{e}");
    }
}

/// Under an address-space limit (`ulimit -v`), a data set or image that does not fit is
/// refused with the memory message, naming the limit, instead of an abort.
#[test]
fn address_space_limit_gives_the_memory_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bars_and_model(d);
    // A sparse 1.5 GB .npy: its values, their f32 copy and the file need ~8 GiB.
    let npy_path = d.join("big.npy");
    let header = npy_header("|u1", "(1500000, 1000)");
    std::fs::write(&npy_path, &header).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&npy_path)
        .unwrap()
        .set_len(header.len() as u64 + 1_500_000_000)
        .unwrap();
    std::fs::write(d.join("huge.png"), png_claiming(32768, 32768, false)).unwrap();
    std::fs::write(d.join("rgb.png"), png_claiming(12000, 12000, true)).unwrap();
    let cd = format!("cd '{}' && ", d.display());
    let probe = bash("ulimit -v 2000000 && echo ok");
    if !String::from_utf8_lossy(&probe.stdout).contains("ok") {
        panic!("this platform cannot set an address-space limit: {probe:?}");
    }
    for (limit, cmd, says) in [
        (
            2_000_000,
            "classify --mmap never --data big.npy",
            "--data big.npy: loading and clustering",
        ),
        (
            2_000_000,
            "classify --cell 32 --classes 1 --data huge.png",
            "huge.png",
        ),
        (
            600_000,
            "predict --model m.bin rgb.png",
            "decoding a 12000x12000 image",
        ),
    ] {
        let o = bash(&format!("{cd}ulimit -v {limit} && \"$B\" {cmd}"));
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {e}");
        assert!(e.contains(says), "{cmd}: {e}");
        assert!(
            !e.contains("memory allocation") && !e.contains("panicked"),
            "{cmd}: {e}"
        );
    }
    let o = bash(&format!(
        "{cd}ulimit -v 2000000 && \"$B\" classify --mmap never --data big.npy"
    ));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("address-space limit (ulimit -v)"), "{e}");
}

/// Messages name the flag or file at fault, and show numbers as they were given.
#[test]
fn messages_name_the_flag_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let values: Vec<u8> = (0..300 * 16).map(|i| (i * 37 % 251) as u8).collect();
    std::fs::write(d.join("x.npy"), npy::encode_u8(&[300, 16], &values)).unwrap();
    let mut with_nan: Vec<f32> = values.iter().map(|&v| f32::from(v)).collect();
    with_nan[37] = f32::NAN;
    std::fs::write(d.join("nan.npy"), npy::encode_f32(&[300, 16], &with_nan)).unwrap();
    std::fs::write(d.join("c3.npy"), npy::encode_f32(&[3, 16], &[1.0; 48])).unwrap();
    let mut bad_centers = vec![1.0f32; 48];
    bad_centers[20] = f32::NAN;
    std::fs::write(d.join("cnan.npy"), npy::encode_f32(&[3, 16], &bad_centers)).unwrap();
    let mut u64_labels = npy_header("<u8", "(300,)");
    u64_labels.extend(
        (0..300u64).flat_map(|i| if i == 0 { (1u64 << 63) + 5 } else { i % 3 }.to_le_bytes()),
    );
    std::fs::write(d.join("u64.npy"), u64_labels).unwrap();
    let mut f64s = npy_header("<f8", "(300, 16)");
    f64s.extend((0..300 * 16).flat_map(|i| if i == 5 { 1e300f64 } else { 1.0 }.to_le_bytes()));
    std::fs::write(d.join("f64.npy"), f64s).unwrap();
    std::fs::write(d.join("latin1.csv"), b"a,b\n1,2\n3,\xe9\n").unwrap();
    let model_v1 = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models/deskew-v1.json"),
    )
    .unwrap();
    assert!(model_v1.contains("\"factor\":0.6"));
    std::fs::write(
        d.join("far.json"),
        model_v1.replace("\"factor\":0.6", "\"factor\":1e308"),
    )
    .unwrap();
    std::fs::write(d.join("p.png"), encode_gray8(4, 4, &[9; 16]).unwrap()).unwrap();
    for (cmd, says) in [
        (
            "classify --data nan.npy -k 3 --mode fast --mmap always",
            "--data nan.npy: sample 2, feature 5",
        ),
        (
            "classify --data nan.npy -k 3 --mmap never",
            "--data nan.npy: sample 2, feature 5",
        ),
        (
            "classify --data x.npy --mode fast --init-centers cnan.npy",
            "--init-centers cnan.npy: center 1, value 4 is NaN",
        ),
        (
            "classify --data x.npy -k 3 --labels u64.npy",
            "--labels u64.npy: label 0 is 9223372036854775813;",
        ),
        (
            "classify --data f64.npy -k 3",
            "--data f64.npy: sample 0, feature 5 is 1e300, beyond the range",
        ),
        ("classify --epsilon 1e308", "1e308 is too large"),
        (
            "quantize p.png -o q.png --max-samples 1",
            "--max-samples 1:",
        ),
        (
            "classify --data latin1.csv -k 2",
            "--data latin1.csv: line 3: not UTF-8 text (byte 0xE9)",
        ),
        (
            "predict --model far.json p.png",
            "model far.json: invalid model: deskew: parameter `factor` = 1e308 is invalid",
        ),
    ] {
        let o = bin().current_dir(d).args(cmd.split(' ')).assert().failure();
        let e = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
        assert!(e.contains(says), "{cmd}: {e}");
        assert!(!e.contains("panicked") && e.len() < 400, "{cmd}: {e}");
    }
    assert!(!d.join("q.png").exists());
    let o = bin()
        .current_dir(d)
        .args([
            "classify",
            "--data",
            "x.npy",
            "--mode",
            "fast",
            "--init-centers",
            "c3.npy",
            "--json",
        ])
        .assert()
        .success();
    assert_eq!(
        json_of(&o.get_output().stdout)["k"],
        3,
        "K from the centers file"
    );
    // A first CSV row that looks like hexadecimal numbers is taken as a header, and said.
    std::fs::write(d.join("hex.csv"), "0x10,2\n1,2\n3,4\n5,6\n").unwrap();
    let o = bin()
        .current_dir(d)
        .args(["classify", "--data", "hex.csv", "-k", "2", "--json"])
        .assert()
        .success();
    let out = o.get_output();
    assert_eq!(json_of(&out.stdout)["n_samples"], 3);
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("--data hex.csv: the first row (0x10,2) is read as a header"),
        "{note}"
    );
}

/// A memory-mapped data file truncated during the run: the run stops with an error naming
/// the file and the rule (the file must not change during a `--mmap` run), exit status 1,
/// instead of dying of SIGBUS with no word.
#[cfg(unix)]
#[test]
fn truncating_a_mapped_file_stops_the_run_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapped.npy");
    let (n, d) = (300_000, 64);
    let values = noise_bytes(n * d, 0x2545_f491_4f6c_dd1d);
    std::fs::write(&path, npy::encode_u8(&[n, d], &values)).unwrap();
    // OpenCV's k-means reads every sample on every iteration: minutes of work unless stopped.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgcluster"))
        .args([
            "classify",
            "-k",
            "32",
            "--mmap",
            "always",
            "--epsilon",
            "0",
            "--max-iter",
            "1000",
            "--attempts",
            "10",
            "--data",
        ])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before the truncation"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed().as_secs() > 30 {
            child.kill().unwrap();
            panic!("the run went on after its file was truncated");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("mapped.npy: the file was truncated or changed while it was memory-mapped"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("imgcluster: error").count(), 1, "{stderr}");
}

/// `IMGCLUSTER_ISA` forces each instruction set in turn: the tutorial's labels are OpenCV's
/// on every one (the fixture), fast mode and `best` give the same labels on every one, and
/// `--json` and `--version` name the set that ran. A set the CPU lacks falls back with a
/// warning; an unknown value is named with the accepted ones.
#[test]
fn every_instruction_set_gives_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut fast_labels = Vec::new();
    let mut best_labels = Vec::new();
    for isa in ["scalar", "avx2", "avx512"] {
        let tutorial = dir.path().join(format!("tutorial_{isa}.npy"));
        let o = bin()
            .env("IMGCLUSTER_ISA", isa)
            .args(["classify", "--json", "--labels-out"])
            .arg(&tutorial)
            .assert()
            .success()
            .get_output()
            .clone();
        let v = json_of(&o.stdout);
        let ran = v["isa"].as_str().unwrap().to_string();
        let stderr = String::from_utf8_lossy(&o.stderr);
        if ran == isa {
            assert!(!stderr.contains("IMGCLUSTER_ISA"), "{stderr}");
        } else {
            // This CPU lacks it: the fallback is named.
            assert!(
                stderr.contains(&format!("IMGCLUSTER_ISA={isa}"))
                    && stderr.contains(&format!("using {ran}")),
                "{isa}: {stderr}"
            );
        }
        assert_eq!(
            read_labels(&tutorial),
            read_labels(&fixture("kmeans_00_labels.npy")),
            "{isa}"
        );
        let version = bin()
            .env("IMGCLUSTER_ISA", isa)
            .arg("--version")
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&version.stdout).contains(&format!("(kernels: {ran})")),
            "{isa}"
        );
        for (args, out) in [
            (
                &["--mode", "fast", "--init", "pp", "--seed", "3"][..],
                &mut fast_labels,
            ),
            (&["--pipeline", "best", "--seed", "1"][..], &mut best_labels),
        ] {
            let path = dir.path().join(format!("l{}_{isa}.npy", out.len()));
            bin()
                .env("IMGCLUSTER_ISA", isa)
                .arg("classify")
                .args(args)
                .arg("--labels-out")
                .arg(&path)
                .assert()
                .success();
            out.push(read_labels(&path));
        }
    }
    assert!(fast_labels.windows(2).all(|w| w[0] == w[1]));
    assert!(best_labels.windows(2).all(|w| w[0] == w[1]));
    let o = bin()
        .env("IMGCLUSTER_ISA", "bogus")
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("IMGCLUSTER_ISA=\"bogus\"")
            && stderr.contains("scalar, neon, avx2, avx512"),
        "{stderr}"
    );
}

/// The default build has no MPI: `--distributed` names what it cannot do, or how to build it.
#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_the_mpi_feature_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.npy");
    std::fs::write(
        &data,
        imgcluster::dataset::npy::encode_u8(&[4, 2], &[0, 1, 2, 3, 4, 5, 6, 7]),
    )
    .unwrap();
    bin()
        .args([
            "classify",
            "--distributed",
            "--mode",
            "fast",
            "-k",
            "2",
            "--data",
        ])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--distributed needs a binary built with MPI: cargo build --release -p \
             imgcluster-cli --features mpi",
        ));
    bin()
        .args(["classify", "--distributed", "-k", "2", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--distributed needs --mode fast"));
}

/// `--init parallel` (or `kmeans||`): k-means|| in fast mode, refused where OpenCV's k-means runs.
#[test]
fn init_parallel_is_kmeans_parallel_in_fast_mode_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.npy");
    let values: Vec<u8> = (0..300_u32).map(|i| (i % 3 * 80 + i % 7) as u8).collect();
    std::fs::write(
        &data,
        imgcluster::dataset::npy::encode_u8(&[150, 2], &values),
    )
    .unwrap();
    let run = |init: &str| {
        let out = bin()
            .args([
                "classify", "--mode", "fast", "-k", "3", "--seed", "4", "--json",
            ])
            .args(["--init", init, "--data"])
            .arg(&data)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json_of(&out)
    };
    let v = run("parallel");
    assert_eq!(v["init"], "parallel");
    assert_eq!(v["compactness"], run("kmeans||")["compactness"]);
    bin()
        .args(["classify", "-k", "3", "--init", "parallel", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--init parallel (k-means||) needs --mode fast",
        ));
    let png = dir.path().join("in.png");
    std::fs::write(&png, encode_gray8(4, 4, &[0; 16]).unwrap()).unwrap();
    bin()
        .args(["quantize", "--init", "parallel", "-o"])
        .arg(dir.path().join("out.png"))
        .arg(&png)
        .assert()
        .failure()
        .stderr(predicate::str::contains("quantize runs OpenCV's k-means"));
}
