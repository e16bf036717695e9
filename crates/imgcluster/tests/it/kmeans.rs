//! Integration tests: k-means parity with OpenCV 4.8 fixtures, and properties.

use imgcluster::kmeans::{self, Init, KMeansError, KMeansParams, Mode, Reseed, TermCriteria};
use imgcluster::{CvRng, Threads};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::common::{manifest, read_npy};

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

fn cases() -> Vec<Case> {
    let text = manifest();
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest.json parses");

    json["kmeans"]
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
        .collect()
}

/// The 5000 cells (raw or deskewed) as f32 rows of 400 values.
fn cells(kind: &str) -> Vec<f32> {
    let file = match kind {
        "raw" => "digits_cells.npy",
        "deskewed" => "digits_deskewed.npy",
        other => panic!("unknown data kind {other}"),
    };
    let npy = read_npy(file);
    assert_eq!(npy.shape, [5000, 20, 20]);
    npy.as_u8().iter().map(|&v| f32::from(v)).collect()
}

fn run_case(index: usize) {
    let cases = cases();
    assert_eq!(cases.len(), 10, "the manifest lists 10 k-means cases");
    let case = &cases[index];
    let data = cells(&case.data);
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

    let want_labels = read_npy(&case.labels).to_i32();
    let centers_npy = read_npy(&case.centers);
    assert_eq!(centers_npy.shape, [case.k, DIMS]);
    let want_centers = centers_npy.to_f32();

    let differing = fit
        .labels
        .iter()
        .zip(&want_labels)
        .filter(|&(&a, &b)| a as i32 != b)
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
    assert!(
        rel <= 1e-9,
        "case {index:02}: compactness relative error {rel:e}"
    );
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
    let cases = cases();
    assert_eq!(cases.len(), 10);
}

/// The fixtures pin the starting state: the default state reproduces case 02, while
/// `setRNGSeed(-1)` (state `u64::MAX`, not `0xffffffff`) does not.
#[test]
fn fixture_pins_the_default_rng_state() {
    let cases = cases();
    let case = &cases[2];
    assert_eq!((case.rng_seed, case.attempts), (None, 1));
    let data = cells(&case.data);
    let want = read_npy(&case.labels).to_i32();
    let params = KMeansParams::new(case.k)
        .term(
            TermCriteria::new()
                .max_iter(case.max_iter)
                .epsilon(case.epsilon),
        )
        .attempts(case.attempts)
        .check()
        .unwrap();
    let other = kmeans::fit(&params, &data, DIMS, &mut CvRng::from_set_rng_seed(-1)).unwrap();
    assert_ne!(other.compactness, case.compactness);
    assert!(other.labels.iter().zip(&want).any(|(&a, &b)| a as i32 != b));
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

#[test]
fn check_rejects_zero_k() {
    assert_eq!(
        KMeansParams::new(0).check().unwrap_err(),
        KMeansError::ZeroClusters
    );
}

#[test]
fn check_rejects_zero_attempts() {
    assert_eq!(
        KMeansParams::new(3).attempts(0).check().unwrap_err(),
        KMeansError::ZeroAttempts
    );
}

#[test]
fn check_rejects_out_of_range_initial_labels() {
    assert_eq!(
        KMeansParams::new(2)
            .init(Init::labels(vec![1, 0, 5]))
            .check()
            .unwrap_err(),
        KMeansError::InitialLabelOutOfRange {
            index: 2,
            label: 5,
            k: 2
        }
    );
}

#[test]
fn check_rejects_nan_epsilon() {
    let err = KMeansParams::new(2)
        .term(TermCriteria::new().epsilon(f64::NAN))
        .check()
        .unwrap_err();
    assert!(matches!(err, KMeansError::InvalidEpsilon { epsilon } if epsilon.is_nan()));
}

#[test]
fn fit_rejects_wrong_number_of_initial_labels() {
    let params = KMeansParams::new(2)
        .init(Init::labels(vec![0, 1, 0]))
        .check()
        .unwrap();
    let data = [0.0_f32, 1.0, 2.0, 3.0];
    assert_eq!(
        kmeans::fit(&params, &data, 1, &mut CvRng::default()).unwrap_err(),
        KMeansError::InitialLabelsLength {
            expected: 4,
            got: 3
        }
    );
}

#[test]
fn fit_rejects_non_finite_data() {
    let params = KMeansParams::new(2).check().unwrap();
    let mut data = vec![0.0_f32; 12];
    data[7] = f32::NAN;
    assert_eq!(
        kmeans::fit(&params, &data, 3, &mut CvRng::default()).unwrap_err(),
        KMeansError::NonFinite { row: 2, col: 1 }
    );
    data[7] = 0.0;
    data[1] = f32::NEG_INFINITY;
    assert_eq!(
        kmeans::fit(&params, &data, 3, &mut CvRng::default()).unwrap_err(),
        KMeansError::NonFinite { row: 0, col: 1 }
    );
}

#[test]
fn fit_rejects_bad_shapes() {
    let params = KMeansParams::new(3).check().unwrap();
    let mut rng = CvRng::default();
    assert_eq!(
        kmeans::fit(&params, &[1.0; 6], 0, &mut rng).unwrap_err(),
        KMeansError::ZeroDims
    );
    assert_eq!(
        kmeans::fit(&params, &[1.0; 7], 2, &mut rng).unwrap_err(),
        KMeansError::RaggedData { len: 7, dims: 2 }
    );
    assert_eq!(
        kmeans::fit(&params, &[1.0; 4], 2, &mut rng).unwrap_err(),
        KMeansError::TooFewSamples { n: 2, k: 3 }
    );
    assert_eq!(
        kmeans::fit(&params, &[], 2, &mut rng).unwrap_err(),
        KMeansError::TooFewSamples { n: 0, k: 3 }
    );
    // Nothing was drawn.
    assert_eq!(rng, CvRng::default());
}

#[test]
fn overflowing_distances_are_an_error_not_a_panic() {
    let data = [-3e38_f32, 3e38, -3e38, 3e38, 0.0, 1.0];
    for init in [Init::RandomBox, Init::PlusPlus] {
        let params = KMeansParams::new(2).init(init).check().unwrap();
        assert_eq!(
            kmeans::fit(&params, &data, 1, &mut CvRng::default()).unwrap_err(),
            KMeansError::DistanceOverflow
        );
    }
}

#[test]
fn errors_fold_into_the_library_error() {
    let err: imgcluster::Error = KMeansParams::new(0).check().unwrap_err().into();
    assert!(matches!(
        err,
        imgcluster::Error::KMeans(KMeansError::ZeroClusters)
    ));
    assert!(err.to_string().contains("at least 1"));
}

// ---------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------

#[test]
fn random_box_draws_one_f32_per_coordinate_per_center_per_attempt() {
    let data: Vec<f32> = (0..60).map(|i| ((i * 37) % 23) as f32).collect();
    let (k, dims, attempts) = (4, 3, 5);
    let params = KMeansParams::new(k).attempts(attempts).check().unwrap();
    let mut rng = CvRng::from_set_rng_seed(7);
    kmeans::fit(&params, &data, dims, &mut rng).unwrap();
    let mut expected = CvRng::from_set_rng_seed(7);
    for _ in 0..k * dims * attempts {
        expected.next_u32();
    }
    assert_eq!(rng, expected);
}

#[test]
fn consecutive_fits_continue_the_stream() {
    let data: Vec<f32> = (0..80).map(|i| ((i * 13) % 17) as f32).collect();
    let params = KMeansParams::new(3)
        .attempts(2)
        .init(Init::PlusPlus)
        .check()
        .unwrap();
    let mut rng = CvRng::opencv_default();
    let first = kmeans::fit(&params, &data, 2, &mut rng).unwrap();
    let state_between = rng.clone();
    let second = kmeans::fit(&params, &data, 2, &mut rng).unwrap();
    let mut replay = state_between.clone();
    assert_eq!(kmeans::fit(&params, &data, 2, &mut replay).unwrap(), second);
    assert_eq!(replay, rng);
    // The second call really started from a later state than the first.
    assert_ne!(state_between, CvRng::opencv_default());
    assert_eq!(
        kmeans::fit(&params, &data, 2, &mut CvRng::opencv_default()).unwrap(),
        first
    );
}

#[test]
fn initial_labels_then_plus_plus_reseeding() {
    let data: Vec<f32> = (0..40).map(|i| ((i * 7) % 11) as f32).collect();
    let labels: Vec<u32> = (0..40).map(|i| (i % 3) as u32).collect();
    let params = KMeansParams::new(3)
        .attempts(3)
        .init(Init::Labels {
            labels,
            reseed: Reseed::PlusPlus,
        })
        .check()
        .unwrap();
    let fit = kmeans::fit(&params, &data, 1, &mut CvRng::default()).unwrap();
    assert!(fit.labels.iter().all(|&l| l < 3));
    assert!(fit.best_attempt < 3);
}

#[test]
fn k_equal_to_one_is_the_mean() {
    let data = [1.0_f32, 2.0, 3.0, 6.0];
    let params = KMeansParams::new(1).attempts(5).check().unwrap();
    let mut rng = CvRng::default();
    let fit = kmeans::fit(&params, &data, 1, &mut rng).unwrap();
    assert_eq!(fit.labels, [0, 0, 0, 0]);
    assert_eq!(fit.centers, [3.0]);
    assert_eq!(fit.compactness, 4.0 + 1.0 + 0.0 + 9.0);
    assert_eq!(fit.iterations, 2);
    // One attempt of one random center in 1-D: a single draw.
    let mut expected = CvRng::default();
    expected.next_u32();
    assert_eq!(rng, expected);
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

/// Deterministic proptest configuration: fixed seed, no persistence files.
fn pinned(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x6b6d_6561_6e73),
        failure_persistence: None,
        ..Config::default()
    }
}

#[derive(Debug, Clone)]
struct Problem {
    data: Vec<f32>,
    dims: usize,
    k: usize,
    init: Init,
    attempts: usize,
    term: TermCriteria,
    seed: i32,
}

fn problem() -> impl Strategy<Value = Problem> {
    (1_usize..5, 1_usize..30)
        .prop_flat_map(|(dims, n)| {
            (
                Just(dims),
                // Small integers and halves: many ties and duplicates, the hard cases.
                prop::collection::vec((-40_i32..40).prop_map(|v| v as f32 * 0.5), n * dims),
                1..=n.min(6),
                0_u8..4,
                prop::collection::vec(any::<u32>(), n),
                1_usize..4,
                (
                    proptest::option::of(0_usize..20),
                    proptest::option::of(0.0_f64..3.0),
                ),
                any::<i32>(),
            )
        })
        .prop_map(
            |(dims, data, k, init, raw_labels, attempts, (max_iter, epsilon), seed)| {
                let labels: Vec<u32> = raw_labels.iter().map(|&l| l % k as u32).collect();
                let init = match init {
                    0 => Init::RandomBox,
                    1 => Init::PlusPlus,
                    2 => Init::labels(labels),
                    _ => Init::Labels {
                        labels,
                        reseed: Reseed::PlusPlus,
                    },
                };
                Problem {
                    data,
                    dims,
                    k,
                    init,
                    attempts,
                    term: TermCriteria { max_iter, epsilon },
                    seed,
                }
            },
        )
}

fn fit_problem(p: &Problem, threads: Threads) -> (kmeans::KMeansFit, CvRng) {
    let params = KMeansParams::new(p.k)
        .init(p.init.clone())
        .attempts(p.attempts)
        .term(p.term)
        .threads(threads)
        .check()
        .unwrap();
    let mut rng = CvRng::from_set_rng_seed(p.seed);
    let fit = kmeans::fit(&params, &p.data, p.dims, &mut rng).unwrap();
    (fit, rng)
}

/// OpenCV's compactness: `normL2Sqr_` of each sample to its center, widened to f64,
/// summed as `cv::sum` sums (blocks of four).
fn recomputed_compactness(fit: &kmeans::KMeansFit, data: &[f32]) -> f64 {
    let d: Vec<f64> = data
        .chunks_exact(fit.dims)
        .zip(&fit.labels)
        .map(|(x, &l)| {
            f64::from(imgcluster::kernels::l2sq_opencv(
                x,
                fit.center(l as usize).unwrap(),
            ))
        })
        .collect();
    let mut s = 0.0;
    let mut blocks = d.chunks_exact(4);
    for b in &mut blocks {
        s += b[0] + b[1] + b[2] + b[3];
    }
    for &v in blocks.remainder() {
        s += v;
    }
    s
}

proptest! {
    #![proptest_config(pinned(64))]

    #[test]
    fn labels_are_below_k_and_shapes_match(p in problem()) {
        let (fit, _) = fit_problem(&p, Threads::Fixed(1));
        let n = p.data.len() / p.dims;
        prop_assert_eq!(fit.labels.len(), n);
        prop_assert_eq!(fit.centers.len(), p.k * p.dims);
        prop_assert!(fit.labels.iter().all(|&l| (l as usize) < p.k));
        prop_assert!(fit.best_attempt < p.attempts);
        prop_assert!(fit.iterations >= 1 && fit.iterations <= 100);
    }

    #[test]
    fn compactness_is_the_sum_of_squared_distances(p in problem()) {
        let (fit, _) = fit_problem(&p, Threads::Fixed(1));
        prop_assert_eq!(fit.compactness, recomputed_compactness(&fit, &p.data));
        // And close to the exact value in f64.
        let exact: f64 = p.data
            .chunks_exact(p.dims)
            .zip(&fit.labels)
            .map(|(x, &l)| {
                x.iter()
                    .zip(fit.center(l as usize).unwrap())
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum::<f64>()
            })
            .sum();
        prop_assert!((fit.compactness - exact).abs() <= 1e-4 * (1.0 + exact));
    }

    #[test]
    fn one_and_two_threads_agree(p in problem()) {
        let (one, rng_one) = fit_problem(&p, Threads::Fixed(1));
        let (two, rng_two) = fit_problem(&p, Threads::Fixed(2));
        prop_assert_eq!(one, two);
        prop_assert_eq!(rng_one, rng_two);
    }

    #[test]
    fn random_box_centers_lie_in_the_widened_box(p in problem()) {
        let mut rng = CvRng::from_set_rng_seed(p.seed);
        let centers = kmeans::random_box_centers(&p.data, p.dims, p.k, &mut rng).unwrap();
        let margin = 1.0 / p.dims as f32;
        for j in 0..p.dims {
            let column = p.data.iter().skip(j).step_by(p.dims);
            let lo = column.clone().copied().fold(f32::INFINITY, f32::min);
            let hi = column.copied().fold(f32::NEG_INFINITY, f32::max);
            let pad = margin * (hi - lo);
            let slack = 1e-4 * (1.0 + lo.abs() + hi.abs());
            for c in centers.chunks_exact(p.dims) {
                prop_assert!(
                    c[j] >= lo - pad - slack && c[j] <= hi + pad + slack,
                    "coordinate {} = {} outside [{}, {}] widened by {}", j, c[j], lo, hi, pad
                );
            }
        }
        // One draw per coordinate.
        let mut expected = CvRng::from_set_rng_seed(p.seed);
        for _ in 0..p.k * p.dims {
            expected.next_u32();
        }
        prop_assert_eq!(rng, expected);
    }

    #[test]
    fn fitted_centers_lie_in_the_bounding_box(p in problem()) {
        let (fit, _) = fit_problem(&p, Threads::Fixed(1));
        for j in 0..p.dims {
            let column = p.data.iter().skip(j).step_by(p.dims);
            let lo = column.clone().copied().fold(f32::INFINITY, f32::min);
            let hi = column.copied().fold(f32::NEG_INFINITY, f32::max);
            let slack = 1e-4 * (1.0 + lo.abs() + hi.abs());
            for c in fit.centers.chunks_exact(p.dims) {
                prop_assert!(c[j] >= lo - slack && c[j] <= hi + slack);
            }
        }
    }

    #[test]
    fn plus_plus_centers_are_samples(p in problem()) {
        let centers = kmeans::plus_plus_centers(
            &p.data, p.dims, p.k, &mut CvRng::from_set_rng_seed(p.seed),
        ).unwrap();
        for c in centers.chunks_exact(p.dims) {
            prop_assert!(p.data.chunks_exact(p.dims).any(|x| x == c));
        }
    }
}

// ---------------------------------------------------------------------------------
// The fast engines against their references
// ---------------------------------------------------------------------------------

/// Random data in `[0, 255]`: integer-valued (read as bytes by the engine) or not.
fn random_data(n: usize, dims: usize, seed: u64, integer: bool) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    // A few blobs so that k-means has structure, plus noise.
    let blobs: Vec<f32> = (0..4 * dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as f32
        })
        .collect();
    (0..n * dims)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = blobs[((i / dims) % 4) * dims + i % dims];
            let noise = ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 120.0;
            let v = (b + noise).clamp(0.0, 255.0);
            if integer {
                v.round()
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn pruned_opencv_engine_matches_the_reference_on_random_data() {
    for (seed, (n, dims, k, attempts, init)) in [
        (300, 1, 3, 2, Init::RandomBox),
        (400, 17, 5, 3, Init::RandomBox),
        (500, 63, 7, 2, Init::PlusPlus),
        (257, 65, 12, 2, Init::RandomBox),
        (600, 40, 30, 1, Init::RandomBox),
        (
            200,
            16,
            4,
            3,
            Init::labels((0..200).map(|i| (i % 4) as u32).collect()),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        for integer in [true, false] {
            let data = random_data(n, dims, seed as u64 + 1, integer);
            let params = KMeansParams::new(k)
                .attempts(attempts)
                .init(init.clone())
                .term(TermCriteria::new().max_iter(30).epsilon(0.01))
                .threads(Threads::Fixed(2))
                .check()
                .unwrap();
            let mut r1 = CvRng::from_set_rng_seed(seed as i32);
            let mut r2 = r1.clone();
            let fast = kmeans::fit(&params, &data, dims, &mut r1).unwrap();
            let reference = kmeans::fit_reference(&params, &data, dims, &mut r2).unwrap();
            assert_eq!(fast, reference, "case {seed}, integer {integer}");
            assert_eq!(r1, r2, "generator state, case {seed}");
        }
    }
}

/// Mostly-zero byte data (like digit images): `random_data` with about 70% of the
/// values set to zero, so the engine's sparse shortlist path runs.
fn sparse_bytes(n: usize, dims: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
    random_data(n, dims, seed, true)
        .into_iter()
        .map(|v| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 10 < 7 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn sparse_byte_data_matches_the_reference_for_any_thread_count() {
    for (seed, (n, dims, k, attempts, init)) in [
        (300, 1, 3, 2, Init::RandomBox),
        (500, 17, 5, 3, Init::RandomBox),
        (700, 64, 10, 3, Init::RandomBox),
        (650, 100, 16, 2, Init::PlusPlus),
        (400, 33, 17, 2, Init::RandomBox),
    ]
    .into_iter()
    .enumerate()
    {
        let data = sparse_bytes(n, dims, seed as u64 + 11);
        let bytes: Vec<u8> = data.iter().map(|&v| v as u8).collect();
        let mut rng = CvRng::from_set_rng_seed(seed as i32);
        let reference = {
            let params = KMeansParams::new(k)
                .attempts(attempts)
                .init(init.clone())
                .term(TermCriteria::new().max_iter(30).epsilon(0.01))
                .check()
                .unwrap();
            kmeans::fit_reference(&params, &data, dims, &mut rng).unwrap()
        };
        for t in [1, 2, 8] {
            let params = KMeansParams::new(k)
                .attempts(attempts)
                .init(init.clone())
                .term(TermCriteria::new().max_iter(30).epsilon(0.01))
                .threads(Threads::Fixed(t))
                .check()
                .unwrap();
            let mut r1 = CvRng::from_set_rng_seed(seed as i32);
            let fit = kmeans::fit_u8(&params, &bytes, dims, &mut r1).unwrap();
            assert_eq!(fit, reference, "case {seed}, {t} threads");
            assert_eq!(r1, rng, "generator state, case {seed}");
        }
    }
}

#[test]
fn byte_input_matches_f32_input() {
    let data = random_data(700, 30, 9, true);
    let bytes: Vec<u8> = data.iter().map(|&v| v as u8).collect();
    let params = KMeansParams::new(6).check().unwrap();
    let a = kmeans::fit(&params, &data, 30, &mut CvRng::default()).unwrap();
    let b = kmeans::fit_u8(&params, &bytes, 30, &mut CvRng::default()).unwrap();
    assert_eq!(a, b);
}

/// Plain Lloyd with fast mode's arithmetic: every distance with the scalar `dot16`,
/// means (exact for integer data, `f64` sums in sample order otherwise), an empty
/// cluster takes the sample farthest from its center (ties to the lowest index, only from
/// clusters that keep a sample), stop when no label changes.
fn naive_fast(
    data: &[f32],
    dims: usize,
    k: usize,
    mut centers: Vec<f32>,
    max_iter: usize,
) -> (Vec<u32>, Vec<f32>, usize) {
    use imgcluster::kernels::scalar::dot16;
    let stride = dims.div_ceil(16) * 16;
    let pad = |v: &[f32]| {
        let mut p = v.to_vec();
        p.resize(stride, 0.0);
        p
    };
    let assign = |centers: &[f32]| -> Vec<u32> {
        data.chunks_exact(dims)
            .map(|x| {
                let xx: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                let xp = pad(x);
                let mut best = (0_u32, f64::INFINITY);
                for (j, c) in centers.chunks_exact(dims).enumerate() {
                    let cc: f64 = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                    let t = (xx + cc) - 2.0 * f64::from(dot16(&xp, &pad(c)));
                    if t < best.1 {
                        best = (j as u32, t);
                    }
                }
                best.0
            })
            .collect()
    };
    let mut labels = assign(&centers);
    let mut iter = 0;
    while iter < max_iter {
        let mut sums = vec![0.0_f64; k * dims];
        let mut counts = vec![0_usize; k];
        for (x, &l) in data.chunks_exact(dims).zip(&labels) {
            counts[l as usize] += 1;
            for (s, &v) in sums[l as usize * dims..].iter_mut().zip(x) {
                *s += f64::from(v);
            }
        }
        for j in 0..k {
            if counts[j] > 0 {
                for d in 0..dims {
                    centers[j * dims + d] = (sums[j * dims + d] / counts[j] as f64) as f32;
                }
            }
        }
        let mut order: Vec<(f64, usize)> = data
            .chunks_exact(dims)
            .zip(&labels)
            .enumerate()
            .map(|(i, (x, &l))| {
                let c = &centers[l as usize * dims..(l as usize + 1) * dims];
                let d: f64 = x
                    .iter()
                    .zip(c)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum();
                (d, i)
            })
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut next = order.into_iter();
        for j in 0..k {
            if counts[j] > 0 {
                continue;
            }
            let Some((_, i)) = next.find(|&(d, i)| d > 0.0 && counts[labels[i] as usize] > 1)
            else {
                break;
            };
            let old = labels[i] as usize;
            let x = &data[i * dims..(i + 1) * dims];
            counts[old] -= 1;
            counts[j] += 1;
            labels[i] = j as u32;
            for d in 0..dims {
                sums[old * dims + d] -= f64::from(x[d]);
                centers[old * dims + d] = (sums[old * dims + d] / counts[old] as f64) as f32;
                centers[j * dims + d] = x[d];
            }
        }
        iter += 1;
        let new = assign(&centers);
        let changed = new.iter().zip(&labels).filter(|(a, b)| a != b).count();
        labels = new;
        if changed == 0 {
            break;
        }
    }
    (labels, centers, iter)
}

fn fast_params(
    k: usize,
    init: Init,
    max_iter: usize,
    threads: Threads,
) -> kmeans::CheckedKMeansParams {
    KMeansParams::new(k)
        .mode(Mode::Fast)
        .attempts(1)
        .init(init)
        .term(TermCriteria::new().max_iter(max_iter))
        .threads(threads)
        .check()
        .unwrap()
}

#[test]
fn fast_mode_equals_naive_lloyd() {
    for (seed, (n, dims, k)) in [
        (300, 2, 3),
        (500, 17, 9),
        (400, 64, 20),
        (257, 33, 13),
        (900, 100, 40),
    ]
    .into_iter()
    .enumerate()
    {
        for integer in [true, false] {
            let data = random_data(n, dims, seed as u64 + 50, integer);
            // Initial centers: k samples spread over the data.
            let c0: Vec<f32> = (0..k)
                .flat_map(|j| data[(j * n / k) * dims..(j * n / k + 1) * dims].to_vec())
                .collect();
            let params = fast_params(k, Init::Centers(c0.clone()), 100, Threads::Fixed(2));
            let fit = kmeans::fit(&params, &data, dims, &mut CvRng::default()).unwrap();
            let (labels, centers, iters) = naive_fast(&data, dims, k, c0, 100);
            assert_eq!(fit.labels, labels, "case {seed} integer {integer}");
            assert_eq!(fit.centers, centers, "case {seed} integer {integer}");
            assert_eq!(fit.iterations, iters, "case {seed} integer {integer}");
        }
    }
}

#[test]
fn fast_mode_relocates_empty_clusters_like_naive_lloyd() {
    // Few distinct values and initial centers that coincide: clusters empty out.
    for (n, dims, k) in [(60, 2, 12), (200, 3, 30), (45, 1, 9)] {
        for integer in [true, false] {
            let data: Vec<f32> = random_data(n, dims, 7 + k as u64, integer)
                .into_iter()
                .map(|v| (v / 64.0).floor())
                .collect();
            let c0: Vec<f32> = (0..k)
                .flat_map(|j| data[(j % 3) * dims..(j % 3 + 1) * dims].to_vec())
                .collect();
            let params = fast_params(k, Init::Centers(c0.clone()), 100, Threads::Fixed(2));
            let fit = kmeans::fit(&params, &data, dims, &mut CvRng::default()).unwrap();
            let (labels, centers, iters) = naive_fast(&data, dims, k, c0, 100);
            assert_eq!(fit.labels, labels, "n {n} k {k} integer {integer}");
            assert_eq!(fit.centers, centers, "n {n} k {k} integer {integer}");
            assert_eq!(fit.iterations, iters, "n {n} k {k} integer {integer}");
        }
    }
}

#[test]
fn fast_mode_is_independent_of_the_thread_count() {
    for init in [Init::PlusPlus, Init::Samples, Init::RandomBox] {
        let data = random_data(3000, 50, 77, true);
        let fits: Vec<_> = [1, 2, 8]
            .iter()
            .map(|&t| {
                let params = KMeansParams::new(24)
                    .mode(Mode::Fast)
                    .attempts(2)
                    .init(init.clone())
                    .term(TermCriteria::new().max_iter(50))
                    .threads(Threads::Fixed(t))
                    .check()
                    .unwrap();
                let mut rng = CvRng::from_set_rng_seed(3);
                let fit = kmeans::fit(&params, &data, 50, &mut rng).unwrap();
                (fit, rng)
            })
            .collect();
        assert_eq!(fits[0], fits[1]);
        assert_eq!(fits[0], fits[2]);
    }
}

#[test]
fn opencv_mode_is_independent_of_the_thread_count() {
    let data = random_data(2000, 40, 5, true);
    let fits: Vec<_> = [1, 2, 8]
        .iter()
        .map(|&t| {
            let params = KMeansParams::new(10)
                .threads(Threads::Fixed(t))
                .check()
                .unwrap();
            kmeans::fit(&params, &data, 40, &mut CvRng::default()).unwrap()
        })
        .collect();
    assert_eq!(fits[0], fits[1]);
    assert_eq!(fits[0], fits[2]);
}

#[test]
fn fast_mode_inertia_is_the_sum_of_squared_distances() {
    let data = random_data(1000, 20, 8, false);
    let params = fast_params(7, Init::PlusPlus, 300, Threads::Fixed(2));
    let fit = kmeans::fit(&params, &data, 20, &mut CvRng::default()).unwrap();
    let exact: f64 = data
        .chunks_exact(20)
        .zip(&fit.labels)
        .map(|(x, &l)| {
            x.iter()
                .zip(fit.center(l as usize).unwrap())
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum::<f64>()
        })
        .sum();
    assert!(
        (fit.compactness - exact).abs() <= 1e-5 * exact,
        "{} vs {exact}",
        fit.compactness
    );
}

#[test]
fn fast_mode_rejects_wrong_initial_centers() {
    let params = fast_params(2, Init::Centers(vec![0.0; 3]), 10, Threads::Fixed(1));
    assert_eq!(
        kmeans::fit(&params, &[0.0; 8], 2, &mut CvRng::default()).unwrap_err(),
        KMeansError::InitialCentersLength {
            expected: 4,
            got: 3
        }
    );
}

proptest! {
    #![proptest_config(pinned(48))]

    #[test]
    fn fast_mode_one_two_and_eight_threads_agree(p in problem()) {
        let run = |t: usize| {
            let params = KMeansParams::new(p.k)
                .mode(Mode::Fast)
                .init(match &p.init { Init::RandomBox => Init::Samples, other => other.clone() })
                .attempts(p.attempts)
                .threads(Threads::Fixed(t))
                .check()
                .unwrap();
            let mut rng = CvRng::from_set_rng_seed(p.seed);
            let fit = kmeans::fit(&params, &p.data, p.dims, &mut rng).unwrap();
            (fit, rng)
        };
        let one = run(1);
        prop_assert_eq!(&one, &run(2));
        prop_assert_eq!(&one, &run(8));
    }

    #[test]
    fn opencv_mode_eight_threads_and_reference_agree(p in problem()) {
        let (one, rng_one) = fit_problem(&p, Threads::Fixed(8));
        let params = KMeansParams::new(p.k)
            .init(p.init.clone())
            .attempts(p.attempts)
            .term(p.term)
            .threads(Threads::Fixed(1))
            .check()
            .unwrap();
        let mut rng = CvRng::from_set_rng_seed(p.seed);
        let reference = kmeans::fit_reference(&params, &p.data, p.dims, &mut rng).unwrap();
        prop_assert_eq!(one, reference);
        prop_assert_eq!(rng_one, rng);
    }
}

/// Every engine counts its passes up to the total it announced, and counting changes
/// no result.
#[test]
fn progress_counts_every_pass_and_changes_nothing() {
    use imgcluster::kmeans::{FitProgress, MiniBatchParams, Mode};
    use std::sync::Arc;
    let dense = random_data(400, 9, 3, false);
    let sparse = sparse_bytes(500, 40, 5);
    for (data, dims, mode, max_iter, attempts) in [
        (&dense, 9, Mode::OpenCv, 10, 3),
        (&sparse, 40, Mode::OpenCv, 30, 4),
        (&dense, 9, Mode::Fast, 50, 2),
    ] {
        let base = KMeansParams::new(6)
            .mode(mode)
            .attempts(attempts)
            .term(TermCriteria::new().max_iter(max_iter).epsilon(0.01));
        let progress = Arc::new(FitProgress::default());
        let counted = base
            .clone()
            .progress(Arc::clone(&progress))
            .check()
            .unwrap();
        let plain = base.check().unwrap();
        let a = kmeans::fit(&counted, data, dims, &mut CvRng::from_set_rng_seed(4)).unwrap();
        let b = kmeans::fit(&plain, data, dims, &mut CvRng::from_set_rng_seed(4)).unwrap();
        assert_eq!(a, b, "{mode:?}");
        assert_eq!(progress.total(), (attempts * max_iter) as u64, "{mode:?}");
        assert_eq!(progress.done(), progress.total(), "{mode:?}");
        if mode == Mode::OpenCv {
            let r = kmeans::fit_reference(&counted, data, dims, &mut CvRng::from_set_rng_seed(4))
                .unwrap();
            assert_eq!(r, b);
            assert_eq!(progress.done(), progress.total());
        }
    }
    let progress = Arc::new(FitProgress::default());
    let params = KMeansParams::new(4)
        .mode(Mode::Fast)
        .term(TermCriteria::new().max_iter(3))
        .progress(Arc::clone(&progress))
        .check()
        .unwrap();
    let mb = MiniBatchParams::new().batch_size(64).check().unwrap();
    kmeans::fit_minibatch(&params, &mb, &dense, 9, &mut CvRng::from_set_rng_seed(2)).unwrap();
    assert_eq!(progress.total(), (3 * 400 / 64) as u64);
    assert_eq!(progress.done(), progress.total());
}
