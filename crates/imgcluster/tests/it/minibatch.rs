//! Mini-batch k-means: determinism, thread independence, quality against Lloyd,
//! reassignment and early stopping.

use imgcluster::kmeans::{
    self, CheckedKMeansParams, Init, KMeansError, KMeansParams, MiniBatchParams, MiniBatchStop,
    Mode, TermCriteria,
};
use imgcluster::{CvRng, Threads};

/// `n` byte samples of `dims` values around `k` well separated centers (sample `i` in
/// cluster `i % k`), with noise.
fn blobs(n: usize, dims: usize, k: usize, seed: i32) -> Vec<u8> {
    let mut rng = CvRng::from_set_rng_seed(seed);
    let centers: Vec<u8> = (0..k * dims)
        .map(|_| (rng.next_u32() % 200) as u8)
        .collect();
    (0..n * dims)
        .map(|v| {
            let (i, d) = (v / dims, v % dims);
            centers[(i % k) * dims + d] + (rng.next_u32() % 40) as u8
        })
        .collect()
}

fn params(k: usize, epochs: usize, init: Init, threads: usize) -> CheckedKMeansParams {
    KMeansParams::new(k)
        .mode(Mode::Fast)
        .init(init)
        .term(TermCriteria::new().max_iter(epochs))
        .attempts(3)
        .threads(Threads::Fixed(threads))
        .check()
        .unwrap()
}

#[test]
fn same_seed_same_result_for_any_thread_count() {
    let (n, dims, k) = (3000, 20, 8);
    let data = blobs(n, dims, k, 1);
    let mb = MiniBatchParams::new().batch_size(256).check().unwrap();
    let run = |threads: usize| {
        kmeans::fit_minibatch_u8(
            &params(k, 5, Init::PlusPlus, threads),
            &mb,
            &data,
            dims,
            &mut CvRng::from_set_rng_seed(7),
        )
        .unwrap()
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_eq!(a, run(2));
    assert_eq!(a, run(3));
    // The same data as f32 give the same result.
    let wide: Vec<f32> = data.iter().map(|&b| f32::from(b)).collect();
    let f = kmeans::fit_minibatch(
        &params(k, 5, Init::PlusPlus, 2),
        &mb,
        &wide,
        dims,
        &mut CvRng::from_set_rng_seed(7),
    )
    .unwrap();
    assert_eq!(a, f);
    assert_eq!(a.fit.labels.len(), n);
    assert_eq!(a.epochs, (a.steps * 256).div_ceil(n));
}

#[test]
fn inertia_is_close_to_lloyd() {
    let (n, dims, k) = (6000, 16, 10);
    let data = blobs(n, dims, k, 2);
    let p = params(k, 20, Init::PlusPlus, 2);
    let lloyd = kmeans::fit_u8(&p, &data, dims, &mut CvRng::from_set_rng_seed(3)).unwrap();
    let mb = MiniBatchParams::new().batch_size(512).check().unwrap();
    let mini =
        kmeans::fit_minibatch_u8(&p, &mb, &data, dims, &mut CvRng::from_set_rng_seed(3)).unwrap();
    let ratio = mini.fit.compactness / lloyd.compactness;
    assert!(
        (0.99..1.03).contains(&ratio),
        "mini-batch / Lloyd inertia {ratio}"
    );
    assert!(mini.steps < 20 * n / 512, "{} steps", mini.steps);
}

#[test]
fn an_empty_cluster_is_reassigned() {
    let (n, dims, k) = (2000, 8, 4);
    let data = blobs(n, dims, k, 4);
    let wide: Vec<f32> = data.iter().map(|&b| f32::from(b)).collect();
    // Three centers on samples of three blobs, one far away from every sample: it gets
    // no sample in the first batch, so it moves to a sample of the batch.
    let mut centers: Vec<f32> = (0..3)
        .flat_map(|c| wide[c * dims..(c + 1) * dims].to_vec())
        .collect();
    centers.extend(std::iter::repeat_n(10_000.0, dims));
    let p = KMeansParams::new(k)
        .mode(Mode::Fast)
        .init(Init::Centers(centers))
        .term(TermCriteria::new().max_iter(3))
        .check()
        .unwrap();
    let mb = MiniBatchParams::new().batch_size(200).check().unwrap();
    let r = kmeans::fit_minibatch(&p, &mb, &wide, dims, &mut CvRng::from_set_rng_seed(5)).unwrap();
    let far = r.fit.center(3).unwrap();
    assert!(far.iter().all(|&v| v < 300.0), "{far:?}");
    for c in 0..k as u32 {
        assert!(r.fit.labels.contains(&c), "cluster {c} is empty");
    }
    // Without reassignment the far center stays where it was, empty.
    let off = MiniBatchParams::new()
        .batch_size(200)
        .reassignment_ratio(0.0)
        .check()
        .unwrap();
    let r = kmeans::fit_minibatch(&p, &off, &wide, dims, &mut CvRng::from_set_rng_seed(5)).unwrap();
    assert_eq!(r.fit.center(3).unwrap()[0], 10_000.0);
    assert!(!r.fit.labels.contains(&3));
}

#[test]
fn early_stopping() {
    let (n, dims, k) = (4000, 8, 4);
    let data = blobs(n, dims, k, 6);
    let p = params(k, 100, Init::PlusPlus, 2);
    let run = |mb: MiniBatchParams| {
        kmeans::fit_minibatch_u8(
            &p,
            &mb.check().unwrap(),
            &data,
            dims,
            &mut CvRng::from_set_rng_seed(1),
        )
        .unwrap()
    };
    let n_steps = 100 * n / 100;
    let r = run(MiniBatchParams::new()
        .batch_size(100)
        .max_no_improvement(Some(3)));
    assert_eq!(r.stop, MiniBatchStop::NoImprovement);
    assert!(r.steps < n_steps, "{}", r.steps);
    let r = run(MiniBatchParams::new()
        .batch_size(100)
        .max_no_improvement(None)
        .tol(1e3));
    assert_eq!((r.stop, r.steps), (MiniBatchStop::Tol, 2));
    let r = run(MiniBatchParams::new()
        .batch_size(1000)
        .max_no_improvement(None));
    assert_eq!(
        (r.stop, r.steps, r.epochs),
        (MiniBatchStop::MaxIter, 400, 100)
    );
}

#[test]
fn bad_settings_are_errors() {
    for mb in [
        MiniBatchParams::new().batch_size(0),
        MiniBatchParams::new().init_size(Some(0)),
        MiniBatchParams::new().reassignment_ratio(-1.0),
        MiniBatchParams::new().tol(f64::NAN),
    ] {
        assert!(matches!(
            mb.check(),
            Err(KMeansError::InvalidMiniBatch { .. })
        ));
    }
    let mb = MiniBatchParams::new().check().unwrap();
    let data = [0.0_f32, 1.0, 5.0, 6.0];
    let opencv = KMeansParams::new(2).check().unwrap();
    assert_eq!(
        kmeans::fit_minibatch(&opencv, &mb, &data, 1, &mut CvRng::opencv_default()).unwrap_err(),
        KMeansError::MiniBatchNeedsFastMode
    );
    let labels = KMeansParams::new(2)
        .mode(Mode::Fast)
        .init(Init::labels(vec![0, 0, 1, 1]))
        .check()
        .unwrap();
    assert_eq!(
        kmeans::fit_minibatch(&labels, &mb, &data, 1, &mut CvRng::opencv_default()).unwrap_err(),
        KMeansError::InitNotForMiniBatch
    );
    // A batch larger than the data is the whole data.
    let fast = KMeansParams::new(2).mode(Mode::Fast).check().unwrap();
    let r = kmeans::fit_minibatch(&fast, &mb, &data, 1, &mut CvRng::opencv_default()).unwrap();
    assert_eq!(r.batch_size, 4);
}

/// The README's scale example, on a small file.
#[test]
fn readme_scale_example() -> Result<(), Box<dyn std::error::Error>> {
    use imgcluster::dataset::{npy, open_mapped, MappedValues};

    let dir = std::env::temp_dir().join(format!("imgcluster-it-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("small.npy");
    std::fs::write(&path, npy::encode_u8(&[2000, 12], &blobs(2000, 12, 4, 9)))?;

    // SAFETY: the test's own file, not written while mapped.
    let mapped = unsafe { open_mapped(&path) }?;
    let params = KMeansParams::new(4)
        .mode(Mode::Fast)
        .init(Init::Samples)
        .term(TermCriteria::new().max_iter(10))
        .attempts(1)
        .check()?;
    let MappedValues::U8(x) = mapped.values() else {
        panic!("u8 data");
    };
    let lloyd = kmeans::fit_u8(&params, x, mapped.dims(), &mut CvRng::from_set_rng_seed(1))?;
    let mb = MiniBatchParams::new().batch_size(1024).check()?;
    let mini = kmeans::fit_minibatch_u8(
        &params,
        &mb,
        x,
        mapped.dims(),
        &mut CvRng::from_set_rng_seed(1),
    )?;
    // One random seeding may end in another local minimum than Lloyd's; both label every
    // sample.
    assert_eq!((lloyd.labels.len(), mini.fit.labels.len()), (2000, 2000));
    assert!(mini.steps >= 1);
    drop(mapped);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
