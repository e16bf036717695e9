//! Engine invariants in both modes (opencv and fast), on random data: labels in range, no
//! NaN center, the reported compactness equals the recomputed one, the same seed gives the
//! same output, 1, 2 and 8 threads agree, and at least K clusters are non-empty whenever
//! there are at least K distinct points.

use imgcluster::kmeans::{self, Init, KMeansFit, KMeansParams, Mode, TermCriteria};
use imgcluster::{CvRng, Threads};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn pinned(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x7072_6f70_6572),
        failure_persistence: None,
        ..Config::default()
    }
}

#[derive(Debug, Clone)]
struct Case {
    data: Vec<f32>,
    dims: usize,
    k: usize,
    mode: Mode,
    plus_plus: bool,
    seed: i32,
}

/// Small data sets with many repeated points (values from a few levels), so that empty
/// clusters and ties happen often.
fn case() -> impl Strategy<Value = Case> {
    (1usize..6, 2usize..60, 0u8..3)
        .prop_flat_map(|(dims, n, levels)| {
            let levels = [2u8, 4, 255][levels as usize];
            (
                Just(dims),
                proptest::collection::vec(0..=levels, n * dims),
                1usize..=n.min(8),
                any::<bool>(),
                any::<bool>(),
                any::<i32>(),
            )
        })
        .prop_map(|(dims, raw, k, fast, plus_plus, seed)| Case {
            data: raw.into_iter().map(f32::from).collect(),
            dims,
            k,
            mode: if fast { Mode::Fast } else { Mode::OpenCv },
            plus_plus,
            seed,
        })
}

fn fit(c: &Case, threads: Threads) -> KMeansFit {
    let init = match (c.mode, c.plus_plus) {
        (_, true) => Init::PlusPlus,
        (Mode::OpenCv, false) => Init::RandomBox,
        (_, false) => Init::Samples,
    };
    let params = KMeansParams::new(c.k)
        .mode(c.mode)
        .init(init)
        .attempts(2)
        .term(TermCriteria::new().max_iter(30).epsilon(0.0))
        .threads(threads)
        .check()
        .unwrap();
    kmeans::fit(
        &params,
        &c.data,
        c.dims,
        &mut CvRng::from_set_rng_seed(c.seed),
    )
    .unwrap()
}

fn distinct_points(c: &Case) -> usize {
    let mut rows: Vec<Vec<u32>> = c
        .data
        .chunks_exact(c.dims)
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    rows.sort();
    rows.dedup();
    rows.len()
}

proptest! {
    #![proptest_config(pinned(128))]

    #[test]
    fn labels_in_range_and_centers_finite(c in case()) {
        let f = fit(&c, Threads::Fixed(1));
        prop_assert_eq!(f.labels.len(), c.data.len() / c.dims);
        prop_assert!(f.labels.iter().all(|&l| (l as usize) < c.k));
        prop_assert!(f.centers.iter().all(|v| v.is_finite()), "{:?}", f.centers);
    }

    #[test]
    fn compactness_equals_the_recomputed_sum(c in case()) {
        let f = fit(&c, Threads::Fixed(1));
        let exact: f64 = c.data
            .chunks_exact(c.dims)
            .zip(&f.labels)
            .map(|(x, &l)| {
                x.iter()
                    .zip(f.center(l as usize).unwrap())
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum::<f64>()
            })
            .sum();
        prop_assert!(
            (f.compactness - exact).abs() <= 1e-5 * (1.0 + exact),
            "reported {} recomputed {}", f.compactness, exact
        );
    }

    #[test]
    fn same_seed_same_output_for_1_2_and_8_threads(c in case()) {
        let one = fit(&c, Threads::Fixed(1));
        prop_assert_eq!(&one, &fit(&c, Threads::Fixed(1)));
        prop_assert_eq!(&one, &fit(&c, Threads::Fixed(2)));
        prop_assert_eq!(&one, &fit(&c, Threads::Fixed(8)));
    }

    #[test]
    fn at_least_k_nonempty_clusters_when_there_are_k_distinct_points(c in case()) {
        prop_assume!(distinct_points(&c) >= c.k);
        let f = fit(&c, Threads::Fixed(1));
        let mut used = vec![false; c.k];
        for &l in &f.labels {
            used[l as usize] = true;
        }
        prop_assert!(used.iter().all(|&u| u), "{:?} in {:?} mode", used, c.mode);
    }
}
