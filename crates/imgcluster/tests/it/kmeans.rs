//! Integration tests: k-means parity with OpenCV 4.8 fixtures, and properties.

use imgcluster::kmeans::{self, Init, KMeansError, KMeansParams, Reseed, TermCriteria};
use imgcluster::{CvRng, Threads};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::common::{fixture_dir, manifest, read_npy};

const DIMS: usize = 400;

/// One `kmeans` entry of the fixture manifest.
#[derive(Debug)]
struct Case {
    data: String,
    k: usize,
    max_iter: usize,
    epsilon: f64,
    attempts: usize,
    flags: String,
    rng_seed: Option<i32>,
    compactness: f64,
    labels: String,
    centers: String,
}

fn cases() -> Option<Vec<Case>> {
    let text = manifest()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest.json parses");
    let cases = json["kmeans"]
        .as_array()
        .expect("manifest has a kmeans array")
        .iter()
        .map(|c| Case {
            data: c["data"].as_str().unwrap().to_string(),
            k: c["K"].as_u64().unwrap() as usize,
            max_iter: c["max_iter"].as_u64().unwrap() as usize,
            epsilon: c["epsilon"].as_f64().unwrap(),
            attempts: c["attempts"].as_u64().unwrap() as usize,
            flags: c["flags"].as_str().unwrap().to_string(),
            rng_seed: c["rng_seed"].as_i64().map(|s| i32::try_from(s).unwrap()),
            compactness: c["compactness"].as_f64().unwrap(),
            labels: c["labels"].as_str().unwrap().to_string(),
            centers: c["centers"].as_str().unwrap().to_string(),
        })
        .collect();
    Some(cases)
}

/// The 5000 cells (raw or deskewed) as f32 rows of 400 values.
fn cells(kind: &str) -> Option<Vec<f32>> {
    let file = match kind {
        "raw" => "digits_cells.npy",
        "deskewed" => "digits_deskewed.npy",
        other => panic!("unknown data kind {other}"),
    };
    let npy = read_npy(file)?;
    assert_eq!(npy.shape, [5000, 20, 20]);
    Some(npy.as_u8().iter().map(|&v| f32::from(v)).collect())
}

fn run_case(index: usize) {
    let Some(cases) = cases() else { return };
    assert_eq!(cases.len(), 10, "the manifest lists 10 k-means cases");
    let case = &cases[index];
    let Some(data) = cells(&case.data) else {
        return;
    };
    let init = match case.flags.as_str() {
        "KMEANS_RANDOM_CENTERS" => Init::RandomBox,
        "KMEANS_PP_CENTERS" => Init::PlusPlus,
        other => panic!("unexpected flags {other}"),
    };
    let params = KMeansParams::new(case.k)
        .term(
            TermCriteria::new()
                .max_iter(case.max_iter)
                .epsilon(case.epsilon),
        )
        .attempts(case.attempts)
        .init(init)
        .threads(Threads::Auto)
        .check()
        .unwrap();
    let mut rng = match case.rng_seed {
        None => CvRng::opencv_default(),
        Some(seed) => CvRng::from_set_rng_seed(seed),
    };
    let fit = kmeans::fit(&params, &data, DIMS, &mut rng).unwrap();

    let want_labels = read_npy(&case.labels).unwrap().to_i32();
    let centers_npy = read_npy(&case.centers).unwrap();
    assert_eq!(centers_npy.shape, [case.k, DIMS]);
    let want_centers = centers_npy.to_f32();

    let differing = fit
        .labels
        .iter()
        .zip(&want_labels)
        .filter(|(&a, &b)| a as i32 != b)
        .count();
    let rel = (fit.compactness - case.compactness).abs() / case.compactness;
    let max_center_err = fit
        .centers
        .iter()
        .zip(&want_centers)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f32, f32::max);
    eprintln!(
        "case {index:02}: {differing} labels differ, compactness {} vs {} (rel {rel:.3e}), \
         max center error {max_center_err:e}, best attempt {}, {} iterations",
        fit.compactness, case.compactness, fit.best_attempt, fit.iterations
    );
    assert_eq!(differing, 0, "case {index:02}: labels differ");
    assert!(rel <= 1e-9, "case {index:02}: compactness relative error {rel:e}");
    assert!(
        max_center_err <= 1e-4,
        "case {index:02}: center error {max_center_err:e}"
    );
}

macro_rules! fixture_cases {
    ($($name:ident => $index:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case($index);
            }
        )*
    };
}

fixture_cases! {
    opencv_case_00_raw_random_default_rng => 0,
    opencv_case_01_deskewed_random_default_rng => 1,
    opencv_case_02_raw_random_one_attempt => 2,
    opencv_case_03_raw_plus_plus_default_rng => 3,
    opencv_case_04_raw_random_seed_1 => 4,
    opencv_case_05_deskewed_plus_plus_seed_1 => 5,
    opencv_case_06_raw_k25_seed_1 => 6,
    opencv_case_07_raw_random_seed_12345 => 7,
    opencv_case_08_deskewed_plus_plus_seed_12345 => 8,
    opencv_case_09_raw_k25_seed_12345 => 9,
}

#[test]
fn fixtures_are_listed() {
    if fixture_dir().is_none() {
        return;
    }
    let cases = cases().unwrap();
    assert_eq!(cases.len(), 10);
}
