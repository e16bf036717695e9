//! Sample weights in fast mode: unit weights are no weights, integer weights are copies,
//! zero weights are removed samples, and the seeding draws by weight.

use imgcluster::kmeans::{
    self, Init, KMeansError, KMeansParams, MiniBatchParams, Mode, TermCriteria,
};
use imgcluster::{CvRng, Threads};

/// Blobs plus noise in `[0, 255]`, integer-valued (so every sum is exact) or not.
fn data(n: usize, dims: usize, seed: u64, integer: bool) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let blobs: Vec<f32> = (0..5 * dims).map(|_| (next() >> 56) as f32).collect();
    (0..n * dims)
        .map(|i| {
            let noise = ((next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 90.0;
            let v = (blobs[((i / dims) % 5) * dims + i % dims] + noise).clamp(0.0, 255.0);
            if integer {
                v.round()
            } else {
                v
            }
        })
        .collect()
}

fn params(k: usize, init: Init, weights: Option<Vec<f64>>) -> KMeansParams {
    let p = KMeansParams::new(k)
        .mode(Mode::Fast)
        .attempts(3)
        .init(init)
        .term(TermCriteria::new().max_iter(100))
        .threads(Threads::Fixed(2));
    match weights {
        Some(w) => p.sample_weight(w),
        None => p,
    }
}

fn spread_centers(x: &[f32], dims: usize, k: usize) -> Vec<f32> {
    let n = x.len() / dims;
    (0..k)
        .flat_map(|j| x[(j * n / k) * dims..(j * n / k + 1) * dims].to_vec())
        .collect()
}

#[test]
fn unit_weights_are_no_weights_bit_for_bit() {
    let inits = |x: &[f32], dims, k| {
        [
            Init::PlusPlus,
            Init::Samples,
            Init::RandomBox,
            Init::Centers(spread_centers(x, dims, k)),
        ]
    };
    for (n, dims, k) in [(600, 7, 5), (1000, 40, 16), (300, 3, 30)] {
        for integer in [true, false] {
            let x = data(n, dims, (n + k) as u64, integer);
            for init in inits(&x, dims, k) {
                let plain = params(k, init.clone(), None).check().unwrap();
                let unit = params(k, init.clone(), Some(vec![1.0; n])).check().unwrap();
                let mut r1 = CvRng::from_set_rng_seed(5);
                let mut r2 = CvRng::from_set_rng_seed(5);
                let a = kmeans::fit(&plain, &x, dims, &mut r1).unwrap();
                let b = kmeans::fit(&unit, &x, dims, &mut r2).unwrap();
                assert_eq!(a, b, "n {n} k {k} integer {integer} {init:?}");
                assert_eq!(r1, r2, "the generator advances the same");
                if integer {
                    let bytes: Vec<u8> = x.iter().map(|&v| v as u8).collect();
                    let mut r3 = CvRng::from_set_rng_seed(5);
                    let c = kmeans::fit_u8(&unit, &bytes, dims, &mut r3).unwrap();
                    assert_eq!(a, c, "bytes, n {n} k {k} {init:?}");
                }
            }
        }
    }
}

#[test]
fn integer_weights_are_copies_of_the_sample() {
    // Settings where no cluster empties: an emptied cluster takes the farthest sample
    // whole with its weight, but only one copy of a repeated one.
    for (n, dims, k) in [(400, 5, 4), (900, 30, 5), (700, 12, 3)] {
        let x = data(n, dims, 11 * n as u64, true);
        let w: Vec<f64> = (0..n).map(|i| (1 + (i * 7) % 4) as f64).collect();
        // The data set with each sample repeated `w` times (in place), and where each
        // sample's first copy is.
        let mut rep = Vec::new();
        let mut first = Vec::new();
        for i in 0..n {
            first.push(rep.len() / dims);
            for _ in 0..w[i] as usize {
                rep.extend_from_slice(&x[i * dims..(i + 1) * dims]);
            }
        }
        // Both start from the same centers.
        let c0: Vec<f32> = (0..k)
            .flat_map(|j| {
                let i = j * n / k;
                x[i * dims..(i + 1) * dims].to_vec()
            })
            .collect();
        let weighted = params(k, Init::Centers(c0.clone()), Some(w.clone()))
            .check()
            .unwrap();
        let copies = params(k, Init::Centers(c0), None).check().unwrap();
        let a = kmeans::fit(&weighted, &x, dims, &mut CvRng::default()).unwrap();
        let b = kmeans::fit(&copies, &rep, dims, &mut CvRng::default()).unwrap();
        assert_eq!(a.centers, b.centers, "n {n} k {k}");
        assert_eq!(a.iterations, b.iterations, "n {n} k {k}");
        for (i, &f) in first.iter().enumerate() {
            assert_eq!(a.labels[i], b.labels[f], "sample {i}");
        }
        let rel = (a.compactness - b.compactness).abs() / b.compactness;
        assert!(rel < 1e-12, "{} vs {}", a.compactness, b.compactness);
    }
}

#[test]
fn zero_weights_are_removed_samples_that_still_get_a_label() {
    let (n, dims, k) = (500, 6, 5);
    let x = data(n, dims, 3, false);
    let w: Vec<f64> = (0..n).map(|i| if i % 3 == 1 { 0.0 } else { 1.0 }).collect();
    let kept: Vec<f32> = (0..n)
        .filter(|&i| w[i] > 0.0)
        .flat_map(|i| x[i * dims..(i + 1) * dims].to_vec())
        .collect();
    let c0 = spread_centers(&kept, dims, k);
    let weighted = params(k, Init::Centers(c0.clone()), Some(w.clone()))
        .check()
        .unwrap();
    let removed = params(k, Init::Centers(c0), None).check().unwrap();
    let a = kmeans::fit(&weighted, &x, dims, &mut CvRng::default()).unwrap();
    let b = kmeans::fit(&removed, &kept, dims, &mut CvRng::default()).unwrap();
    assert_eq!(a.centers, b.centers);
    // Summed in other blocks: the last bits may differ.
    assert!((a.compactness - b.compactness).abs() <= 1e-12 * b.compactness);
    let kept_labels: Vec<u32> = (0..n)
        .filter(|&i| w[i] > 0.0)
        .map(|i| a.labels[i])
        .collect();
    assert_eq!(kept_labels, b.labels);
    // The removed samples are labelled with their nearest center.
    let (nearest, _) = a.predict(&x, Threads::Fixed(1)).unwrap();
    assert_eq!(a.labels, nearest);
}

#[test]
fn seeding_never_draws_a_sample_of_weight_zero() {
    // Two groups: near 0 (weight 1) and near 250 (weight 0). Every center seeded from a
    // sample must come from the first group, and weighted means never leave it.
    let (n, dims) = (400, 4);
    let x: Vec<f32> = (0..n * dims)
        .map(|i| {
            let base = if (i / dims) % 2 == 0 { 0.0 } else { 250.0 };
            base + ((i * 37) % 11) as f32
        })
        .collect();
    let w: Vec<f64> = (0..n).map(|i| ((i + 1) % 2) as f64).collect();
    for init in [Init::PlusPlus, Init::Samples] {
        for seed in 1..6 {
            let p = params(6, init.clone(), Some(w.clone())).check().unwrap();
            let fit = kmeans::fit(&p, &x, dims, &mut CvRng::from_set_rng_seed(seed)).unwrap();
            assert!(
                fit.centers.iter().all(|&c| c < 20.0),
                "{init:?} seed {seed}: {:?}",
                fit.centers
            );
            // The weighted samples' compactness only (fast mode's dot products are f32).
            let expect: f64 = (0..n)
                .filter(|&i| w[i] > 0.0)
                .map(|i| {
                    let c = fit.center(fit.labels[i] as usize).unwrap();
                    x[i * dims..(i + 1) * dims]
                        .iter()
                        .zip(c)
                        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                        .sum::<f64>()
                })
                .sum();
            assert!(
                (fit.compactness - expect).abs() <= 1e-5 * expect,
                "{} vs {expect}",
                fit.compactness
            );
        }
    }
}

#[test]
fn weighted_fits_are_independent_of_the_thread_count() {
    let (n, dims) = (3000, 20);
    let x = data(n, dims, 99, false);
    let w: Vec<f64> = (0..n).map(|i| 0.25 + (i % 5) as f64 * 0.75).collect();
    for init in [Init::PlusPlus, Init::Samples] {
        let fits: Vec<_> = [1, 2, 8]
            .iter()
            .map(|&t| {
                let p = params(12, init.clone(), Some(w.clone()))
                    .threads(Threads::Fixed(t))
                    .check()
                    .unwrap();
                kmeans::fit(&p, &x, dims, &mut CvRng::from_set_rng_seed(2)).unwrap()
            })
            .collect();
        assert_eq!(fits[0], fits[1]);
        assert_eq!(fits[0], fits[2]);
    }
}

#[test]
fn bad_weights_are_errors() {
    let x = data(10, 2, 1, false);
    let check = |w: Vec<f64>| params(2, Init::PlusPlus, Some(w)).check();
    assert_eq!(
        KMeansParams::new(2)
            .sample_weight(vec![1.0; 10])
            .check()
            .unwrap_err(),
        KMeansError::WeightsNeedFastMode
    );
    let mut w = vec![1.0; 10];
    w[3] = -1.0;
    assert_eq!(
        check(w).unwrap_err(),
        KMeansError::InvalidWeight {
            index: 3,
            weight: -1.0
        }
    );
    let mut w = vec![1.0; 10];
    w[4] = f64::NAN;
    assert!(matches!(
        check(w).unwrap_err(),
        KMeansError::InvalidWeight { index: 4, .. }
    ));
    let err = check(vec![0.0; 10]).unwrap_err();
    assert_eq!(err, KMeansError::ZeroWeights);
    assert!(err.to_string().contains("weights are all zero"), "{err}");
    let p = check(vec![1.0; 9]).unwrap();
    assert_eq!(
        kmeans::fit(&p, &x, 2, &mut CvRng::default()).unwrap_err(),
        KMeansError::SampleWeightsLength {
            expected: 10,
            got: 9
        }
    );
    let mut w = vec![0.0; 10];
    w[0] = 1.0;
    let p = check(w).unwrap();
    assert_eq!(
        kmeans::fit(&p, &x, 2, &mut CvRng::default()).unwrap_err(),
        KMeansError::TooFewWeighted { n: 1, k: 2 }
    );
    let p = check(vec![1.0; 10]).unwrap();
    let mb = MiniBatchParams::new().check().unwrap();
    assert_eq!(
        kmeans::fit_minibatch(&p, &mb, &x, 2, &mut CvRng::default()).unwrap_err(),
        KMeansError::WeightsNotForMiniBatch
    );
}
