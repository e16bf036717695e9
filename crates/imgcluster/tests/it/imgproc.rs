//! Integration tests: imgproc — parity with the OpenCV 4.8 fixtures and properties.

use imgcluster::imgproc::{
    deskew, deskew_into, moments, warp_affine, DeskewValidParams, Interpolation, MapDirection,
    WarpOptions,
};
use imgcluster::GrayView;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::common::{manifest, read_npy};

const SZ: usize = 20;
const CELL: usize = SZ * SZ;

/// Counts differing pixels per image and describes the first few.
fn compare_images(name: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    assert_eq!(got.len(), want.len());
    let mut report = Vec::new();
    let mut total = 0usize;
    let mut images = 0usize;
    for (i, (g, w)) in got.chunks(CELL).zip(want.chunks(CELL)).enumerate() {
        let diffs: Vec<(usize, u8, u8)> = g
            .iter()
            .zip(w)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(k, (&a, &b))| (k, a, b))
            .collect();
        if !diffs.is_empty() {
            images += 1;
            total += diffs.len();
            if report.len() < 5 {
                let shown: Vec<String> = diffs
                    .iter()
                    .take(4)
                    .map(|(k, a, b)| format!("(x={}, y={}) got {a} want {b}", k % SZ, k / SZ))
                    .collect();
                report.push(format!(
                    "  image {i}: {} differ: {}",
                    diffs.len(),
                    shown.join(", ")
                ));
            }
        }
    }
    if total == 0 {
        Ok(())
    } else {
        Err(format!(
            "{name}: {total} pixels differ in {images} of {} images\n{}",
            got.len() / CELL,
            report.join("\n")
        ))
    }
}

#[test]
fn moments_match_opencv_for_all_digit_cells() {
    let (cells, want, manifest) = (
        read_npy("digits_cells.npy"),
        read_npy("digits_moments.npy"),
        manifest(),
    );
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let columns: Vec<&str> = manifest["moments"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let ours = [
        "m00", "m10", "m01", "m20", "m11", "m02", "m30", "m21", "m12", "m03", "mu20", "mu11",
        "mu02", "mu30", "mu21", "mu12", "mu03", "nu20", "nu11", "nu02", "nu30", "nu21", "nu12",
        "nu03",
    ];
    assert_eq!(columns, ours, "column order of digits_moments.npy");
    assert_eq!(cells.shape, [5000, SZ, SZ]);
    assert_eq!(want.shape, [5000, 24]);
    let want = want.to_f64();
    // Spatial and central moments: bit-identical. Normalised moments: IPP's power
    // function is not correctly rounded near rounding boundaries, so a few values may
    // differ by a unit or two in the last place (see the `moments` module documentation).
    let mut not_identical = Vec::new();
    let mut failures = Vec::new();
    for (i, cell) in cells.as_u8().chunks(CELL).enumerate() {
        let got = moments(GrayView::new(SZ, SZ, cell)).to_array();
        for (k, (&g, &w)) in got.iter().zip(&want[i * 24..][..24]).enumerate() {
            if g.to_bits() == w.to_bits() {
                continue;
            }
            let ulps = (g.to_bits() as i64 - w.to_bits() as i64).unsigned_abs();
            let rel = (g - w).abs() / w.abs();
            let note = format!("cell {i} {}: got {g:e} want {w:e} ({ulps} ulp)", ours[k]);
            if k < 17 || ulps > 2 || rel.is_nan() || rel > 1e-9 {
                failures.push(note);
            } else {
                not_identical.push(note);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} values differ: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    eprintln!(
        "moments: {} of 120000 values not bit-identical (nu, at most 2 ulp): {:?}",
        not_identical.len(),
        &not_identical[..not_identical.len().min(3)]
    );
    assert!(
        not_identical.len() <= 40,
        "{} nu values differ",
        not_identical.len()
    );
}

fn warp_case(file: &str, interpolation: Interpolation, direction: MapDirection) {
    let (inputs, matrices, want) = (
        read_npy("warp_inputs.npy"),
        read_npy("warp_matrices.npy"),
        read_npy(file),
    );
    assert_eq!(inputs.shape, [64, SZ, SZ]);
    assert_eq!(matrices.shape, [64, 2, 3]);
    assert_eq!(want.shape, [64, SZ, SZ]);
    let mats = matrices.to_f32();
    let opts = WarpOptions::new(interpolation).direction(direction);
    let mut got = Vec::with_capacity(64 * CELL);
    for (i, cell) in inputs.as_u8().chunks(CELL).enumerate() {
        // OpenCV converts the float32 matrix to float64 before anything else.
        let e = |k: usize| f64::from(mats[i * 6 + k]);
        let m = [[e(0), e(1), e(2)], [e(3), e(4), e(5)]];
        let out = warp_affine(GrayView::new(SZ, SZ, cell), &m, (SZ, SZ), &opts).unwrap();
        got.extend_from_slice(out.data());
    }
    if let Err(msg) = compare_images(file, &got, want.as_u8()) {
        panic!("{msg}");
    }
}

#[test]
fn warp_nearest_matches_opencv() {
    warp_case(
        "warp_nearest.npy",
        Interpolation::Nearest,
        MapDirection::Forward,
    );
}

#[test]
fn warp_nearest_inverse_matches_opencv() {
    warp_case(
        "warp_nearest_inverse.npy",
        Interpolation::Nearest,
        MapDirection::Inverse,
    );
}

#[test]
fn warp_linear_matches_opencv() {
    warp_case(
        "warp_linear.npy",
        Interpolation::Linear,
        MapDirection::Forward,
    );
}

#[test]
fn warp_linear_inverse_matches_opencv() {
    warp_case(
        "warp_linear_inverse.npy",
        Interpolation::Linear,
        MapDirection::Inverse,
    );
}

#[test]
fn warp_cubic_matches_opencv() {
    warp_case(
        "warp_cubic.npy",
        Interpolation::Cubic,
        MapDirection::Forward,
    );
}

#[test]
fn warp_cubic_inverse_matches_opencv() {
    warp_case(
        "warp_cubic_inverse.npy",
        Interpolation::Cubic,
        MapDirection::Inverse,
    );
}

#[test]
fn deskew_matches_opencv_for_all_digit_cells() {
    let (cells, want) = (
        read_npy("digits_cells.npy"),
        read_npy("digits_deskewed.npy"),
    );
    assert_eq!(want.shape, [5000, SZ, SZ]);
    let params = DeskewValidParams::default();
    let mut got = vec![0u8; 5000 * CELL];
    for (cell, out) in cells.as_u8().chunks(CELL).zip(got.chunks_mut(CELL)) {
        deskew_into(GrayView::new(SZ, SZ, cell), &params, out).unwrap();
    }
    if let Err(msg) = compare_images("digits_deskewed.npy", &got, want.as_u8()) {
        panic!("{msg}");
    }
    // The allocating form gives the same image.
    let first = deskew(GrayView::new(SZ, SZ, &cells.as_u8()[..CELL]), &params).unwrap();
    assert_eq!(first.data(), &got[..CELL]);
}

/// Any small image, any interpolation, either direction: the identity matrix returns
/// the input unchanged.
#[test]
fn identity_warp_returns_input() {
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (1usize..12, 1usize..12)
        .prop_flat_map(|(w, h)| (Just(w), Just(h), prop::collection::vec(any::<u8>(), w * h)));
    let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    runner
        .run(&strategy, |(w, h, data)| {
            let src = GrayView::new(w, h, &data);
            for interpolation in [
                Interpolation::Nearest,
                Interpolation::Linear,
                Interpolation::Cubic,
            ] {
                for direction in [MapDirection::Forward, MapDirection::Inverse] {
                    let opts = WarpOptions::new(interpolation).direction(direction);
                    let out = warp_affine(src, &identity, (w, h), &opts).unwrap();
                    prop_assert_eq!(out.data(), &data[..], "{:?} {:?}", interpolation, direction);
                }
            }
            Ok(())
        })
        .unwrap();
}
