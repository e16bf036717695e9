//! Distributed fast mode and mini-batch (`kmeans::fit_distributed`,
//! `kmeans::fit_minibatch_distributed`) against one process, with the ranks as threads of this
//! test exchanging bytes through shared memory.

use imgcluster::collective::{Collective, ThreadRank};
use imgcluster::kmeans::{
    fit_distributed, fit_minibatch_distributed, CheckedMiniBatchParams, Data, DistributedFit,
    DistributedMiniBatchFit, Init, KMeansError, KMeansFit, KMeansParams, MiniBatchFit,
    MiniBatchParams, Mode, TermCriteria,
};
use imgcluster::{CvRng, Threads};

/// Runs `fit` on `p` ranks, rank `r` holding rows `[r·n/p, (r+1)·n/p)` of `n`.
fn on_ranks<R: Send>(
    p: usize,
    n: usize,
    fit: impl Fn(&ThreadRank, std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let ranks = ThreadRank::group(p);
    std::thread::scope(|s| {
        let handles: Vec<_> = ranks
            .iter()
            .map(|rank| {
                let fit = &fit;
                let rows = rank.rank() * n / p..(rank.rank() + 1) * n / p;
                // A pool of one thread per rank: the fits run on their calling thread
                // (`Threads::Fixed(1)` inside a pool of one), not queued on one shared pool
                // where a rank waiting for the others would block them.
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap();
                s.spawn(move || pool.install(|| fit(rank, rows)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Clustered bytes: `n` samples of `dims` values around a few blobs, with noise.
fn blobs(n: usize, dims: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let centers: Vec<u8> = (0..7 * dims).map(|_| next() as u8).collect();
    (0..n)
        .flat_map(|i| {
            let c = (i * 7 / n + i) % 7;
            (0..dims)
                .map(|d| centers[c * dims + d].saturating_add((next() % 40) as u8))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The samples `rows` of `data`.
fn part(data: Data<'_>, rows: std::ops::Range<usize>) -> Data<'_> {
    let dims = data.dims();
    match data {
        Data::U8 { values, .. } => Data::u8(&values[rows.start * dims..rows.end * dims], dims),
        Data::F32 { values, .. } => Data::f32(&values[rows.start * dims..rows.end * dims], dims),
    }
}

/// The distributed fits of `data` on `p` ranks, put together: labels concatenated.
fn distributed<'a>(
    params: &imgcluster::kmeans::CheckedKMeansParams,
    data: Data<'a>,
    p: usize,
) -> KMeansFit {
    let n = data.len();
    let parts: Vec<DistributedFit> = on_ranks(p, n, |rank, rows| {
        let local = part(data, rows);
        fit_distributed(params, local, rank).unwrap()
    });
    let mut fit = parts[0].fit.clone();
    fit.labels = parts.iter().flat_map(|d| d.fit.labels.clone()).collect();
    for d in &parts {
        assert_eq!(d.total_rows, n);
        assert_eq!(
            d.fit.centers, fit.centers,
            "every rank has the same centers"
        );
        assert_eq!(d.fit.compactness.to_bits(), fit.compactness.to_bits());
    }
    fit
}

/// Fast mode, 2 attempts, one thread, `term`, from `cv2.setRNGSeed(seed)`.
fn fast_params(
    k: usize,
    init: Init,
    seed: i32,
    term: TermCriteria,
) -> imgcluster::kmeans::CheckedKMeansParams {
    KMeansParams::new(k)
        .mode(Mode::Fast)
        .init(init)
        .attempts(2)
        .term(term)
        .threads(Threads::Fixed(1))
        .rng(CvRng::from_set_rng_seed(seed))
        .check()
        .unwrap()
}

fn params(k: usize, init: Init, seed: i32) -> imgcluster::kmeans::CheckedKMeansParams {
    fast_params(k, init, seed, TermCriteria::new().max_iter(30).epsilon(0.0))
}

#[test]
fn bytes_give_one_process_fit_bit_for_bit_on_1_to_4_ranks() {
    // 1001 rows: rank boundaries fall inside the engine's 256-row chunks.
    let (n, dims) = (1001, 19);
    let x = blobs(n, dims, 7);
    for init in [
        Init::Samples,
        Init::PlusPlus,
        Init::RandomBox,
        Init::parallel(),
    ] {
        for k in [5, 24] {
            let params = params(k, init.clone(), 3);
            let one = params.fit(Data::u8(&x, dims)).unwrap();
            for p in 1..=4 {
                let d = distributed(&params, Data::u8(&x, dims), p);
                assert_eq!(d, one, "{init:?} k {k}, {p} ranks");
                assert_eq!(d.compactness.to_bits(), one.compactness.to_bits());
            }
        }
    }
}

#[test]
fn parallel_init_seeds_the_same_centers_on_1_to_4_ranks() {
    // Max one iteration: the fit's centers are the seeds' clusters' means, so a seeding that
    // depended on the number of ranks would show. Extra rounds (k above the 2·2k candidates
    // of few distinct rows) and f32 samples that are not bytes take the other paths.
    let (n, dims) = (1001, 5);
    let x = blobs(n, dims, 3);
    let xf: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &b)| f32::from(b) * 0.31 + (i % 7) as f32 * 1e-3)
        .collect();
    let few: Vec<u8> = (0..n).flat_map(|i| [(i % 9) as u8 * 20; 5]).collect();
    for (k, rounds, oversampling) in [(5, 2, 2.0), (24, 1, 0.1), (9, 3, 4.0)] {
        let init = Init::Parallel {
            rounds,
            oversampling,
        };
        let params = fast_params(k, init, k as i32, TermCriteria::new().max_iter(1));
        for data in [
            Data::u8(&x, dims),
            Data::f32(&xf, dims),
            Data::u8(&few, dims),
        ] {
            let one = params.fit(data).unwrap();
            for p in 1..=4 {
                let d = distributed(&params, data, p);
                assert_eq!(d.labels, one.labels, "k {k}, {p} ranks");
                // Bytes: the same centers; f32: sums over the ranks within a few ulps.
                for (a, b) in d.centers.iter().zip(&one.centers) {
                    match data {
                        Data::U8 { .. } => assert_eq!(a.to_bits(), b.to_bits(), "k {k}, {p} ranks"),
                        _ => assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}"),
                    }
                }
            }
        }
    }
}

#[test]
fn empty_clusters_are_repaired_as_one_process_does() {
    // Random centers in the box of few distinct rows: most clusters start empty.
    let dims = 3;
    let x: Vec<u8> = (0..600_u32)
        .flat_map(|i| {
            let b = (i % 5) as u8 * 50;
            [b, b.wrapping_add((i % 3) as u8), 255 - b]
        })
        .collect();
    let params = params(12, Init::RandomBox, 11);
    let one = params.fit(Data::u8(&x, dims)).unwrap();
    // Every cluster ends up with samples: the repair ran.
    assert!((0..12).all(|j| one.labels.contains(&j)));
    for p in 1..=4 {
        assert_eq!(
            distributed(&params, Data::u8(&x, dims), p),
            one,
            "{p} ranks"
        );
    }
}

#[test]
fn f32_pixels_are_read_as_bytes_as_one_process_reads_them() {
    let (n, dims) = (700, 8);
    let x: Vec<f32> = blobs(n, dims, 5).iter().map(|&b| f32::from(b)).collect();
    let params = params(6, Init::PlusPlus, 2);
    let one = params.fit(Data::f32(&x, dims)).unwrap();
    for p in 1..=4 {
        assert_eq!(
            distributed(&params, Data::f32(&x, dims), p),
            one,
            "{p} ranks"
        );
    }
}

#[test]
fn f32_centers_within_1e6_relative() {
    let (n, dims) = (900, 11);
    let x: Vec<f32> = blobs(n, dims, 9)
        .iter()
        .enumerate()
        .map(|(i, &b)| f32::from(b) * 0.37 + (i % 13) as f32 * 1e-3)
        .collect();
    for init in [
        Init::Samples,
        Init::PlusPlus,
        Init::RandomBox,
        Init::parallel(),
    ] {
        let params = params(7, init.clone(), 4);
        let one = params.fit(Data::f32(&x, dims)).unwrap();
        for p in 1..=4 {
            let d = distributed(&params, Data::f32(&x, dims), p);
            assert_eq!(d.labels, one.labels, "{init:?}, {p} ranks");
            assert_eq!(d.iterations, one.iterations);
            for (a, b) in d.centers.iter().zip(&one.centers) {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
            }
            let rel = (d.compactness - one.compactness).abs() / one.compactness;
            assert!(
                rel <= 1e-6,
                "compactness {} vs {}",
                d.compactness,
                one.compactness
            );
        }
    }
}

#[test]
fn a_bad_rank_stops_every_rank_with_its_error() {
    let (n, dims) = (400, 4);
    let mut x: Vec<f32> = (0..n * dims).map(|i| (i % 17) as f32 * 0.5).collect();
    // Row 350 lies in rank 3's rows of 4 ranks (300..400).
    x[350 * dims + 2] = f32::NAN;
    let params = params(3, Init::PlusPlus, 1);
    let errs = on_ranks(4, n, |rank, rows| {
        fit_distributed(
            &params,
            Data::f32(&x[rows.start * dims..rows.end * dims], dims),
            rank,
        )
        .unwrap_err()
    });
    assert_eq!(errs[3], KMeansError::NonFinite { row: 350, col: 2 });
    for e in &errs[..3] {
        assert_eq!(*e, KMeansError::RankFailed { rank: 3 });
    }
    // A rank without rows.
    let errs = on_ranks(3, 2, |rank, rows| {
        fit_distributed(
            &params.clone(),
            Data::f32(&x[rows.start * dims..rows.end * dims], dims),
            rank,
        )
        .unwrap_err()
    });
    assert_eq!(errs[0], KMeansError::EmptyRank { rank: 0 });
    assert_eq!(errs[1], KMeansError::RankFailed { rank: 0 });
}

#[test]
fn unsupported_options_are_refused() {
    let x = [0_u8, 1, 2, 3];
    let single = imgcluster::collective::SingleProcess;
    let opencv = KMeansParams::new(2).check().unwrap();
    assert_eq!(
        fit_distributed(&opencv, Data::u8(&x, 1), &single).unwrap_err(),
        KMeansError::NotDistributed {
            what: "OpenCV mode"
        }
    );
    let labels = KMeansParams::new(2)
        .mode(Mode::Fast)
        .init(Init::labels(vec![0, 1, 0, 1]))
        .check()
        .unwrap();
    assert!(matches!(
        fit_distributed(&labels, Data::u8(&x, 1), &single),
        Err(KMeansError::NotDistributed { .. })
    ));
}

/// The distributed mini-batch fits of `data` on `p` ranks, put together: labels concatenated.
fn distributed_minibatch(
    params: &imgcluster::kmeans::CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    data: Data<'_>,
    p: usize,
) -> MiniBatchFit {
    let n = data.len();
    let parts: Vec<DistributedMiniBatchFit> = on_ranks(p, n, |rank, rows| {
        let local = part(data, rows);
        fit_minibatch_distributed(params, mb, local, rank).unwrap()
    });
    let mut fit = parts[0].fit.clone();
    fit.fit.labels = parts
        .iter()
        .flat_map(|d| d.fit.fit.labels.clone())
        .collect();
    for d in &parts {
        assert_eq!(
            (d.total_rows, d.values_per_step()),
            (n, parts[0].values_per_step())
        );
        assert_eq!(
            d.fit.fit.centers, fit.fit.centers,
            "every rank has the same centers"
        );
        assert_eq!(d.fit.steps, fit.steps);
    }
    fit
}

fn minibatch_params(k: usize, init: Init, seed: i32) -> imgcluster::kmeans::CheckedKMeansParams {
    fast_params(k, init, seed, TermCriteria::new().max_iter(4))
}

#[test]
fn minibatch_bytes_give_one_process_fit_bit_for_bit_on_1_to_4_ranks() {
    let (n, dims) = (1001, 19);
    let x = blobs(n, dims, 7);
    let xf: Vec<f32> = x.iter().map(|&b| f32::from(b)).collect();
    // Small batches with early stops; large ones with the center-change stop and a
    // reassignment ratio that moves centers every few steps.
    let settings = [
        MiniBatchParams::new().batch_size(64),
        MiniBatchParams::new()
            .batch_size(300)
            .tol(1e-4)
            .reassignment_ratio(0.6)
            .max_no_improvement(None),
    ];
    for init in [
        Init::Samples,
        Init::PlusPlus,
        Init::RandomBox,
        Init::parallel(),
    ] {
        for mb in &settings {
            let mb = mb.clone().check().unwrap();
            let params = minibatch_params(6, init.clone(), 5);
            let one = params.fit_minibatch(&mb, Data::u8(&x, dims)).unwrap();
            // f32 pixels: the same sums, exactly.
            assert_eq!(
                params.fit_minibatch(&mb, Data::f32(&xf, dims)).unwrap(),
                one
            );
            for p in 1..=4 {
                let d = distributed_minibatch(&params, &mb, Data::u8(&x, dims), p);
                assert_eq!(d, one, "{init:?} {mb:?}, {p} ranks");
                assert_eq!(d.fit.compactness.to_bits(), one.fit.compactness.to_bits());
                let d = distributed_minibatch(&params, &mb, Data::f32(&xf, dims), p);
                assert_eq!(d, one, "f32 pixels, {init:?} {mb:?}, {p} ranks");
            }
        }
    }
}

#[test]
fn minibatch_f32_centers_within_1e5_relative() {
    let (n, dims) = (900, 11);
    let x: Vec<f32> = blobs(n, dims, 9)
        .iter()
        .enumerate()
        .map(|(i, &b)| f32::from(b) * 0.37 + (i % 13) as f32 * 1e-3)
        .collect();
    let mb = MiniBatchParams::new()
        .batch_size(128)
        .max_no_improvement(None)
        .check()
        .unwrap();
    let params = minibatch_params(7, Init::PlusPlus, 4);
    let one = params.fit_minibatch(&mb, Data::f32(&x, dims)).unwrap();
    for p in 1..=4 {
        let d = distributed_minibatch(&params, &mb, Data::f32(&x, dims), p);
        assert_eq!((d.steps, d.stop), (one.steps, one.stop), "{p} ranks");
        for (a, b) in d.fit.centers.iter().zip(&one.fit.centers) {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
        }
        let same = d
            .fit
            .labels
            .iter()
            .zip(&one.fit.labels)
            .filter(|(a, b)| a == b)
            .count();
        assert!(same * 100 >= 99 * n, "{same} of {n} labels agree");
    }
}

#[test]
fn minibatch_a_bad_rank_stops_every_rank_with_its_error() {
    let (n, dims) = (400, 4);
    let mut x: Vec<f32> = (0..n * dims).map(|i| (i % 17) as f32 * 0.5).collect();
    x[120 * dims + 1] = f32::NAN;
    let mb = MiniBatchParams::new().batch_size(32).check().unwrap();
    let params = minibatch_params(3, Init::PlusPlus, 1);
    let errs = on_ranks(3, n, |rank, rows| {
        fit_minibatch_distributed(
            &params,
            &mb,
            Data::f32(&x[rows.start * dims..rows.end * dims], dims),
            rank,
        )
        .unwrap_err()
    });
    assert_eq!(errs[0], KMeansError::NonFinite { row: 120, col: 1 });
    for e in &errs[1..] {
        assert_eq!(*e, KMeansError::RankFailed { rank: 0 });
    }
}
