//! OpenCV-style grid images: one large PNG holding equal square cells, classes in equal
//! bands of rows — the layout of OpenCV's `digits.png` — and the embedded digits themselves.

use std::path::Path;

use super::{pngio, Dataset, DatasetError};
use crate::image::GrayView;

/// OpenCV's `digits.png` (2000×1000, 5000 digits of 20×20, 500 per class), embedded.
/// Apache-2.0; see `data/NOTICE` in the source distribution.
pub const DIGITS_PNG: &[u8] = include_bytes!("../../../../data/digits.png");

/// How to cut a grid image into samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    /// Side of a square cell in pixels. Default 20.
    pub cell: usize,
    /// Number of classes, laid out as equal bands of cell rows from top to bottom; `None` for
    /// unlabelled data. Default `Some(10)`.
    pub classes: Option<usize>,
}

impl Default for GridLayout {
    /// 20-pixel cells, 10 classes: the layout of `digits.png`.
    fn default() -> Self {
        Self {
            cell: 20,
            classes: Some(10),
        }
    }
}

/// Cuts a gray image into `cell × cell` samples in row-major order.
///
/// # Errors
/// [`DatasetError::NotDivisible`] when the image is not a whole number of cells,
/// [`DatasetError::UnevenClasses`] when the rows of cells cannot be split into equal
/// class bands, [`DatasetError::InvalidParameter`] for a zero cell size or class count.
///
/// # Examples
/// ```
/// use imgcluster::{GrayImage, dataset::grid::{cut_grid, GridLayout}};
/// let img = GrayImage::from_vec(4, 2, vec![1, 1, 2, 2, 1, 1, 2, 2]);
/// let ds = cut_grid(img.view(), GridLayout { cell: 2, classes: Some(1) })?;
/// assert_eq!(ds.len(), 2);
/// assert_eq!(ds.image(1).unwrap().data(), &[2, 2, 2, 2]);
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
pub fn cut_grid(img: GrayView<'_>, layout: GridLayout) -> Result<Dataset, DatasetError> {
    let (w, h) = (img.width(), img.height());
    check_layout(w, h, layout)?;
    let cell = layout.cell;
    let (cols, rows) = (w / cell, h / cell);
    let n = cols * rows;
    let mut pixels = Vec::with_capacity(n * cell * cell);
    for r in 0..rows {
        for c in 0..cols {
            for y in 0..cell {
                let start = (r * cell + y) * w + c * cell;
                pixels.extend_from_slice(&img.data()[start..start + cell]);
            }
        }
    }
    let ds = Dataset::from_images(n, cell, cell, pixels)?.with_grid_cols(cols)?;
    match layout.classes {
        None => Ok(ds),
        Some(k) => {
            let per_class = n / k;
            ds.with_labels((0..n).map(|i| (i / per_class) as u32).collect())
        }
    }
}

/// Checks a grid image from its first bytes `head`, before it is decoded: the size its header
/// states must cut into `layout` ([`check_layout`]) and be decodable
/// ([`check_pixels`](super::imageio::check_pixels)). Nothing to check when the size is not
/// in `head` (the decoder then checks).
///
/// # Errors
/// As [`check_layout`] and [`check_pixels`](super::imageio::check_pixels).
pub fn check_header(head: &[u8], layout: GridLayout) -> Result<(), DatasetError> {
    match super::imageio::image_size(head) {
        Some((w, h)) => {
            check_layout(w, h, layout).and_then(|()| super::imageio::check_pixels(w, h, 1))
        }
        None => Ok(()),
    }
}

/// Checks that a `width × height` image can be cut with `layout`, as [`cut_grid`] does, from
/// the size alone: a grid file's header is checked before the image is decoded.
///
/// # Errors
/// As [`cut_grid`].
///
/// # Examples
/// ```
/// use imgcluster::dataset::grid::{check_layout, GridLayout};
/// assert!(check_layout(2000, 1000, GridLayout::default()).is_ok());
/// assert!(check_layout(32768, 32768, GridLayout::default()).is_err());
/// ```
pub fn check_layout(width: usize, height: usize, layout: GridLayout) -> Result<(), DatasetError> {
    let cell = layout.cell;
    if cell == 0 {
        return Err(DatasetError::InvalidParameter {
            name: "cell",
            reason: "the cell size must be at least 1".into(),
        });
    }
    if !width.is_multiple_of(cell) || !height.is_multiple_of(cell) || width == 0 || height == 0 {
        return Err(DatasetError::NotDivisible {
            width,
            height,
            cell,
        });
    }
    let rows = height / cell;
    match layout.classes {
        Some(0) => Err(DatasetError::InvalidParameter {
            name: "classes",
            reason: "the number of classes must be at least 1".into(),
        }),
        Some(k) if !rows.is_multiple_of(k) => Err(DatasetError::UnevenClasses { rows, classes: k }),
        _ => Ok(()),
    }
}

/// Decodes a grid PNG held in memory and cuts it with [`cut_grid`].
///
/// # Errors
/// [`DatasetError::Png`] for bytes that are not a PNG, else as [`cut_grid`].
pub fn decode_grid(bytes: &[u8], layout: GridLayout) -> Result<Dataset, DatasetError> {
    let img = pngio::decode_gray(bytes)?;
    cut_grid(img.view(), layout)
}

/// Reads a grid PNG file and cuts it with [`cut_grid`].
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, else as [`decode_grid`]; the layout is
/// checked against the PNG's header ([`check_layout`]) before the file is read further.
pub fn read_grid(path: &Path, layout: GridLayout) -> Result<Dataset, DatasetError> {
    let input = super::input::Input::open(path)?;
    check_header(input.head(), layout)?;
    decode_grid(&input.read_all(u64::MAX)?, layout)
}

/// The embedded digits: 5000 images of 20×20, labels 0..9 (500 each), grid split ready.
///
/// # Examples
/// ```
/// let ds = imgcluster::dataset::grid::digits();
/// assert_eq!((ds.len(), ds.dims()), (5000, 400));
/// assert_eq!(ds.labels().unwrap()[4999], 9);
/// ```
pub fn digits() -> Dataset {
    decode_grid(DIGITS_PNG, GridLayout::default()).expect("the embedded digits.png is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::GrayImage;

    #[test]
    fn rejects_indivisible_and_uneven() {
        let img = GrayImage::new(5, 4);
        assert!(matches!(
            cut_grid(
                img.view(),
                GridLayout {
                    cell: 2,
                    classes: None
                }
            ),
            Err(DatasetError::NotDivisible { width: 5, .. })
        ));
        let img = GrayImage::new(4, 6);
        assert!(matches!(
            cut_grid(
                img.view(),
                GridLayout {
                    cell: 2,
                    classes: Some(2)
                }
            ),
            Err(DatasetError::UnevenClasses {
                rows: 3,
                classes: 2
            })
        ));
    }

    #[test]
    fn default_layout_is_digits() {
        assert_eq!(
            GridLayout::default(),
            GridLayout {
                cell: 20,
                classes: Some(10)
            }
        );
    }

    #[test]
    fn not_a_png_is_an_error() {
        assert!(matches!(
            decode_grid(b"GIF89a", GridLayout::default()),
            Err(DatasetError::Png(_))
        ));
    }
}
