//! Integration tests: data set loaders against the OpenCV fixtures.

use imgcluster::dataset::{grid, npy};

use super::common::read_npy;

#[test]
fn embedded_digits_equal_opencv_cells_and_labels() {
    let (cells, labels) = (read_npy("digits_cells.npy"), read_npy("digits_labels.npy"));
    let ds = grid::digits();
    let (pixels, h, w) = ds.images_u8().unwrap();
    assert_eq!((ds.len(), h, w), (5000, 20, 20));
    assert_eq!(cells.shape, vec![5000, 20, 20]);
    assert_eq!(pixels, cells.as_u8());
    let want: Vec<u32> = labels.to_i32().iter().map(|&l| l as u32).collect();
    assert_eq!(ds.labels().unwrap(), &want[..]);
}

#[test]
fn npy_reader_reads_the_fixture_cells() {
    let cells = read_npy("digits_cells.npy");
    let path = super::common::fixture_dir().join("digits_cells.npy");
    let ds = npy::read(&path).unwrap().into_dataset().unwrap();
    assert_eq!(ds.image_shape(), Some((20, 20)));
    assert_eq!(ds.images_u8().unwrap().0, cells.as_u8());
}

#[test]
fn tutorial_split_takes_half_of_each_row() {
    let ds = grid::digits();
    let s = ds.split(0.5).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (2500, 2500));
    assert_eq!(&s.train_indices[..3], &[0, 1, 2]);
    assert_eq!(s.train_indices[50], 100);
    assert_eq!(s.test_indices[0], 50);
}

/// The library example of the README.
#[test]
fn readme_example() -> Result<(), Box<dyn std::error::Error>> {
    use imgcluster::features::{preprocess, FeatureKind};
    use imgcluster::imgproc::DeskewValidParams;
    use imgcluster::kmeans::{self, Init, KMeansParams, TermCriteria};
    use imgcluster::metrics::{evaluate, Mapping};
    use imgcluster::{CvRng, Threads};

    let digits = grid::digits();
    let deskewed = preprocess(
        &digits,
        &FeatureKind::Deskew(DeskewValidParams::default()),
        Threads::Auto,
    )?;
    let params = KMeansParams::new(10)
        .term(TermCriteria::new().max_iter(10).epsilon(1.0))
        .attempts(10)
        .init(Init::RandomBox)
        .check()?;
    let fit = kmeans::fit(
        &params,
        &deskewed.to_f32(),
        400,
        &mut CvRng::opencv_default(),
    )?;
    let e = evaluate(
        deskewed.labels().unwrap(),
        &fit.labels,
        10,
        10,
        Mapping::OneToOne,
    )?;
    assert_eq!(e.accuracy.format_percent(), "70.92");
    Ok(())
}

/// Clustered samples: `n` rows of `dims` bytes around `k` random centers.
fn clustered_u8(n: usize, dims: usize, k: usize, seed: i32) -> Vec<u8> {
    let mut rng = imgcluster::CvRng::from_set_rng_seed(seed);
    let centers: Vec<u8> = (0..k * dims).map(|_| rng.next_u32() as u8).collect();
    (0..n)
        .flat_map(|i| {
            let c = (i * 7) % k;
            centers[c * dims..(c + 1) * dims].to_vec()
        })
        .map(|v| v.saturating_add((rng.next_u32() % 24) as u8))
        .collect()
}

#[test]
fn mapped_npy_clusters_exactly_as_in_memory() {
    use imgcluster::dataset::{open, open_mapped, MappedValues, OpenOptions, Pixels};
    use imgcluster::kmeans::{self, Init, KMeansParams, Mode, TermCriteria};
    use imgcluster::{CvRng, Threads};

    let dir = std::env::temp_dir().join(format!("imgcluster-it-mapped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (n, dims, k) = (600, 24, 6);
    let bytes = clustered_u8(n, dims, k, 3);
    let floats: Vec<f32> = bytes.iter().map(|&b| f32::from(b) * 0.5 - 3.0).collect();
    let (pu, pf) = (dir.join("u8.npy"), dir.join("f32.npy"));
    std::fs::write(&pu, npy::encode_u8(&[n, 4, 6], &bytes)).unwrap();
    std::fs::write(&pf, npy::encode_f32(&[n, dims], &floats)).unwrap();
    for mode in [Mode::Fast, Mode::OpenCv] {
        let params = KMeansParams::new(k)
            .mode(mode)
            .init(Init::PlusPlus)
            .term(TermCriteria::new().max_iter(20))
            .attempts(2)
            .threads(Threads::Fixed(2))
            .check()
            .unwrap();
        for path in [&pu, &pf] {
            let ds = open(path, &OpenOptions::new()).unwrap();
            // SAFETY: the test's own file, not written while mapped.
            let mapped = unsafe { open_mapped(path) }.unwrap();
            assert_eq!((mapped.len(), mapped.dims()), (ds.len(), ds.dims()));
            let rng = || CvRng::from_set_rng_seed(11);
            let (a, b) = match (ds.pixels(), mapped.values()) {
                (Pixels::U8(v), MappedValues::U8(m)) => (
                    kmeans::fit_u8(&params, v, dims, &mut rng()).unwrap(),
                    kmeans::fit_u8(&params, m, dims, &mut rng()).unwrap(),
                ),
                (Pixels::F32(v), MappedValues::F32(m)) => (
                    kmeans::fit(&params, v, dims, &mut rng()).unwrap(),
                    kmeans::fit(&params, m, dims, &mut rng()).unwrap(),
                ),
                other => panic!("types differ: {other:?}"),
            };
            assert_eq!(a, b, "{mode:?} {}", path.display());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JPEG whose scan uses a Huffman table it never defines (found by the `image` fuzz target)
/// made zune-jpeg 0.5.15 panic inside its inverse DCT: it is an error, for both decoders.
#[test]
fn jpeg_with_an_undefined_huffman_table_is_an_error() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/images/undefined-huffman-table.jpg");
    let bytes = std::fs::read(&path).expect("the fixture is in the repository");
    let e = imgcluster::dataset::imageio::decode_gray(&bytes).unwrap_err();
    assert!(e.to_string().contains("not a valid JPEG image"), "{e}");
    assert!(imgcluster::quantize::decode_rgb(&bytes).is_err());
    let e = imgcluster::dataset::imageio::read_gray(&path).unwrap_err();
    assert!(e.to_string().contains("undefined-huffman-table.jpg"), "{e}");
}
