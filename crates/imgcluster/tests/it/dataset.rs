//! Integration tests: data set loaders against the OpenCV fixtures.

use imgcluster::dataset::{grid, npy};

use super::common::read_npy;

#[test]
fn embedded_digits_equal_opencv_cells_and_labels() {
    let (Some(cells), Some(labels)) = (read_npy("digits_cells.npy"), read_npy("digits_labels.npy"))
    else {
        return;
    };
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
    let Some(cells) = read_npy("digits_cells.npy") else {
        return;
    };
    let path = super::common::fixture_dir()
        .unwrap()
        .join("digits_cells.npy");
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
