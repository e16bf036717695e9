//! Engine invariants in both modes (opencv and fast), on random data: labels in range, no
//! NaN center, the reported compactness equals the recomputed one, the same seed gives the
//! same output, 1, 2 and 8 threads agree, and at least K clusters are non-empty whenever
//! there are at least K distinct points (random, k-means++ and, in fast mode, k-means||
//! initialisations). On clustered data, k-means|| seeds K distinct centers and its fits are
//! as compact as k-means++'s.

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
    /// 0: random, 1: k-means++, 2: k-means|| (k-means++ in OpenCV mode).
    init: u8,
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
                0u8..3,
                any::<i32>(),
            )
        })
        .prop_map(|(dims, raw, k, fast, init, seed)| Case {
            data: raw.into_iter().map(f32::from).collect(),
            dims,
            k,
            mode: if fast { Mode::Fast } else { Mode::OpenCv },
            init,
            seed,
        })
}

fn fit(c: &Case, threads: Threads) -> KMeansFit {
    let init = match (c.mode, c.init) {
        (Mode::Fast, 2) => Init::parallel(),
        (_, 1 | 2) => Init::PlusPlus,
        (Mode::OpenCv, _) => Init::RandomBox,
        (_, _) => Init::Samples,
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

/// `k` well separated blobs of `per` points in `dims` dimensions (byte values).
fn clustered() -> impl Strategy<Value = (Vec<u8>, usize, usize)> {
    (2usize..12, 1usize..6, 20usize..60, any::<u64>()).prop_map(|(k, dims, per, seed)| {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Blob centers 20 apart in the first coordinate, the points within ±4 of them.
        let data = (0..k * per)
            .flat_map(|i| {
                let mut row: Vec<u8> = (0..dims).map(|_| 96 + (next() % 9) as u8).collect();
                row[0] = (6 + 20 * (i % k) + (next() % 9) as usize) as u8;
                row
            })
            .collect();
        (data, dims, k)
    })
}

fn fit_bytes(data: &[u8], dims: usize, k: usize, init: Init) -> KMeansFit {
    KMeansParams::new(k)
        .mode(Mode::Fast)
        .init(init)
        .attempts(1)
        .term(TermCriteria::new().max_iter(100).epsilon(0.0))
        .threads(Threads::Fixed(1))
        .check()
        .unwrap()
        .fit(kmeans::Data::u8(data, dims))
        .unwrap()
}

proptest! {
    #![proptest_config(pinned(48))]

    #[test]
    fn parallel_init_gives_k_distinct_centers_and_plus_plus_compactness(
        (data, dims, k) in clustered()
    ) {
        let wide: Vec<f32> = data.iter().map(|&b| f32::from(b)).collect();
        let seeds = kmeans::parallel_centers(&wide, dims, k, &mut CvRng::from_set_rng_seed(5))
            .unwrap();
        let mut rows: Vec<Vec<u32>> = seeds
            .chunks_exact(dims)
            .map(|c| c.iter().map(|v| v.to_bits()).collect())
            .collect();
        rows.sort();
        rows.dedup();
        prop_assert_eq!(rows.len(), k);
        let par = fit_bytes(&data, dims, k, Init::parallel());
        let pp = fit_bytes(&data, dims, k, Init::PlusPlus);
        prop_assert!(
            par.compactness <= 1.1 * pp.compactness,
            "k-means|| {} vs k-means++ {}", par.compactness, pp.compactness
        );
    }
}
