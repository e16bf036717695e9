//! Integration tests: figures.
//!
//! Set `IMGCLUSTER_FIGURE_DIR` to a folder to also write every figure rendered here
//! as a PNG there, for looking at them.

use crate::common::read_npy;
use imgcluster::report::{
    centers_grid, colormap::lut_index, confusion_heatmap, deskew_strip, image_grid, Colormap,
    GridOptions, HeatmapOptions, ReportError, Rgb, TileStyle, ValueRange,
};
use imgcluster::GrayImage;

/// A decoded PNG: size, colour type and RGB pixels.
struct Decoded {
    width: usize,
    height: usize,
    color: png::ColorType,
    depth: png::BitDepth,
    data: Vec<u8>,
}

impl Decoded {
    fn get(&self, x: usize, y: usize) -> Rgb {
        let i = 3 * (y * self.width + x);
        Rgb::new(self.data[i], self.data[i + 1], self.data[i + 2])
    }

    /// Number of pixels of colour `c` in the rectangle `x0..x1` × `y0..y1`.
    fn count(&self, c: Rgb, (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> usize {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| self.get(x, y) == c)
            .count()
    }

    /// The first pixel of colour `c` in row-major order.
    fn find(&self, c: Rgb) -> Option<(usize, usize)> {
        (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .find(|&(x, y)| self.get(x, y) == c)
    }
}

fn decode(bytes: &[u8]) -> Decoded {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    Decoded {
        width: info.width as usize,
        height: info.height as usize,
        color: info.color_type,
        depth: info.bit_depth,
        data: buf,
    }
}

/// Writes `bytes` to `$IMGCLUSTER_FIGURE_DIR/name` when that variable is set.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("IMGCLUSTER_FIGURE_DIR") {
        let path = std::path::Path::new(&dir).join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// `k` synthetic 20×20 "centers": a diagonal gradient shifted by the center number.
fn synthetic_centers(k: usize) -> Vec<f32> {
    (0..k)
        .flat_map(|i| (0..400).map(move |p| ((p % 20 + p / 20 + 3 * i) % 40) as f32 * 6.25))
        .collect()
}

fn gray(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> GrayImage {
    let data = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| f(x, y))
        .collect();
    GrayImage::from_vec(width, height, data)
}

#[test]
fn viridis_lut_endpoints_and_midpoint_are_matplotlibs() {
    let lut = Colormap::Viridis.lut();
    assert_eq!(lut[0], Rgb::from_hex(0x440154));
    // matplotlib documents the top as #fde725 (rounded floats); its images hold the
    // truncated bytes, #fde724.
    let top = Colormap::Viridis
        .entry(255)
        .map(|v| (v * 255.0).round() as u8);
    assert_eq!(top, [0xfd, 0xe7, 0x25]);
    assert_eq!(lut[255], Rgb::from_hex(0xfde724));
    // cmap(0.5) is entry 128: #21918c as floats, (32, 144, 140) as bytes.
    let mid = Colormap::Viridis
        .entry(128)
        .map(|v| (v * 255.0).round() as u8);
    assert_eq!(mid, [0x21, 0x91, 0x8c]);
    assert_eq!(Colormap::Viridis.at(0.5), Rgb::new(32, 144, 140));
    assert_eq!(Colormap::Viridis.at(0.0), lut[0]);
    assert_eq!(Colormap::Viridis.at(1.0), lut[255]);
    assert_eq!(Colormap::Gray.at(0.0), Rgb::BLACK);
    assert_eq!(Colormap::Gray.at(1.0), Rgb::WHITE);
}

#[test]
fn centers_grid_is_an_rgb_png_of_the_expected_size() {
    let centers = synthetic_centers(10);
    let bytes = centers_grid(&centers, 10, 20, 20, &GridOptions::new()).unwrap();
    let img = decode(&bytes);
    assert_eq!(img.color, png::ColorType::Rgb);
    assert_eq!(img.depth, png::BitDepth::Eight);
    // 2 rows × 5 columns of 100×100 tiles, 10 px apart, 12 px margins.
    assert_eq!(
        (img.width, img.height),
        (12 * 2 + 5 * 100 + 4 * 10, 12 * 2 + 2 * 100 + 10)
    );
    keep("centers_synthetic.png", &bytes);
}

#[test]
fn center_tiles_are_coloured_like_imshow_and_upscaled() {
    // One center whose pixel p has value p: imshow colours it lut[floor(p / 399 * 256)].
    let center: Vec<f32> = (0..400).map(|p| p as f32).collect();
    let scale = 3;
    let bytes = centers_grid(&center, 1, 20, 20, &GridOptions::new().scale(scale)).unwrap();
    let img = decode(&bytes);
    let margin = (img.width - 20 * scale) / 2;
    assert_eq!(img.height, 20 * scale + 2 * margin);
    for p in [0usize, 1, 57, 200, 398, 399] {
        let want = Colormap::Viridis.at(p as f64 / 399.0);
        assert_eq!(
            want,
            Colormap::Viridis.lut()[usize::from(lut_index(p as f64 / 399.0))]
        );
        let (x, y) = (margin + (p % 20) * scale, margin + (p / 20) * scale);
        for (dx, dy) in [
            (0, 0),
            (scale - 1, 0),
            (0, scale - 1),
            (scale - 1, scale - 1),
        ] {
            assert_eq!(img.get(x + dx, y + dy), want, "pixel {p}");
        }
    }
}

#[test]
fn captions_and_title_are_drawn_in_black() {
    let centers = synthetic_centers(3);
    let plain = decode(&centers_grid(&centers, 3, 20, 20, &GridOptions::new()).unwrap());
    // Nothing in a plain grid is black: viridis never is, frames are gray.
    assert_eq!(
        plain.count(Rgb::BLACK, (0, plain.width), (0, plain.height)),
        0
    );

    let opts = GridOptions::new().title("cluster centers").captions([
        "cluster 0 → 3",
        "cluster 1 → 9",
        "cluster 2 → 1",
    ]);
    let bytes = centers_grid(&centers, 3, 20, 20, &opts).unwrap();
    keep("centers_captioned.png", &bytes);
    let img = decode(&bytes);
    assert!(img.height > plain.height && img.width >= plain.width);
    let tile_row = (0..img.height)
        .find(|&y| (0..img.width).any(|x| img.get(x, y) == Colormap::Viridis.lut()[0]))
        .unwrap();
    // Title above the tiles, captions below them.
    assert!(img.count(Rgb::BLACK, (0, img.width), (0, tile_row)) > 50);
    let below = tile_row + 100;
    assert!(img.count(Rgb::BLACK, (0, img.width / 3), (below, img.height)) > 30);
    assert!(
        img.count(
            Rgb::BLACK,
            (2 * img.width / 3, img.width),
            (below, img.height)
        ) > 30
    );
}

#[test]
fn centers_grid_rejects_bad_input() {
    let c = synthetic_centers(2);
    let o = GridOptions::new();
    let zero = |r| matches!(r, Err(ReportError::ZeroSize { .. }));
    assert!(zero(centers_grid(&[], 0, 20, 20, &o)));
    assert!(zero(centers_grid(&c, 2, 0, 20, &o)));
    assert!(zero(centers_grid(&c, 2, 20, 0, &o)));
    assert!(zero(centers_grid(&c, 2, 20, 20, &o.clone().cols(0))));
    assert!(zero(centers_grid(&c, 2, 20, 20, &o.clone().scale(0))));
    assert!(zero(centers_grid(&c, 2, 20, 20, &o.clone().text_scale(0))));
    assert!(matches!(
        centers_grid(&c[1..], 2, 20, 20, &o),
        Err(ReportError::LengthMismatch {
            what: "centers",
            expected: 800,
            actual: 799
        })
    ));
    assert!(matches!(
        centers_grid(&c, 2, 20, 20, &o.clone().captions(["only one"])),
        Err(ReportError::LengthMismatch {
            what: "captions",
            expected: 2,
            actual: 1
        })
    ));
    let mut nan = c.clone();
    nan[400 + 7] = f32::NAN;
    assert!(matches!(
        centers_grid(&nan, 2, 20, 20, &o),
        Err(ReportError::NonFinite { index: 407, .. })
    ));
    assert!(matches!(
        centers_grid(
            &c,
            2,
            20,
            20,
            &o.clone().range(ValueRange::Fixed { min: 1.0, max: 0.0 })
        ),
        Err(ReportError::InvalidRange { .. })
    ));
    assert!(matches!(
        centers_grid(&c, 2, 20, 20, &o.clone().scale(100_000)),
        Err(ReportError::TooLarge { .. })
    ));
    // Errors read well.
    let e = centers_grid(&c[1..], 2, 20, 20, &o).unwrap_err();
    assert_eq!(e.to_string(), "centers has length 799, expected 800");
}

#[test]
fn image_grid_handles_mixed_sizes_and_raw_gray() {
    let images = vec![
        gray(20, 20, |x, _| if x < 10 { 0 } else { 255 }),
        gray(8, 12, |x, y| (x * 30 + y) as u8),
        gray(28, 14, |_, _| 255),
    ];
    let opts = GridOptions::new()
        .cols(2)
        .colormap(Colormap::Gray)
        .range(ValueRange::Fixed {
            min: 0.0,
            max: 255.0,
        })
        .title("misclassified")
        .captions(["3 as 5", "7 as 1", "blank"]);
    let bytes = image_grid(&images, &opts).unwrap();
    keep("image_grid.png", &bytes);
    let img = decode(&bytes);
    assert_eq!(img.color, png::ColorType::Rgb);
    // Two columns of cells as wide as the widest image (28 * 5 = 140).
    assert!(img.width >= 2 * 140 + 10 && img.width < 2 * 140 + 10 + 40);
    // Raw gray: the first image's left half is black, right half white (scale 5).
    assert!(img.count(Rgb::BLACK, (0, img.width), (0, img.height)) > 10 * 20 * 25);

    let bad = vec![GrayImage::new(20, 20), GrayImage::new(0, 3)];
    assert!(matches!(
        image_grid(&bad, &GridOptions::new()),
        Err(ReportError::EmptyImage {
            index: 1,
            width: 0,
            height: 3,
            ..
        })
    ));
    assert!(matches!(
        image_grid(&[], &GridOptions::new()),
        Err(ReportError::Empty { what: "images" })
    ));
}

#[test]
fn deskew_strip_has_two_labelled_rows() {
    let before: Vec<GrayImage> = (0..4)
        .map(|i| gray(20, 20, move |x, y| if (x + i) % 20 > y { 200 } else { 10 }))
        .collect();
    let after: Vec<GrayImage> = (0..4)
        .map(|i| gray(20, 20, move |x, _| if x > 5 + i { 200 } else { 10 }))
        .collect();
    let bytes = deskew_strip(&before, &after, &TileStyle::new()).unwrap();
    keep("deskew_synthetic.png", &bytes);
    let img = decode(&bytes);
    assert_eq!(img.color, png::ColorType::Rgb);
    // Two rows of 100 px tiles with a gap and margins.
    assert_eq!(img.height, 2 * 100 + 10 + 2 * 12);
    // Labels in black on the left of each row.
    let left = (0, img.width - 4 * 110);
    assert!(img.count(Rgb::BLACK, left, (0, img.height / 2)) > 30);
    assert!(img.count(Rgb::BLACK, left, (img.height / 2, img.height)) > 30);

    assert!(matches!(
        deskew_strip(&before, &after[..3], &TileStyle::new()),
        Err(ReportError::LengthMismatch {
            what: "after",
            expected: 4,
            actual: 3
        })
    ));
    assert!(matches!(
        deskew_strip(&[], &[], &TileStyle::new()),
        Err(ReportError::Empty { what: "before" })
    ));
    assert!(matches!(
        deskew_strip(&before, &after, &TileStyle::new().scale(0)),
        Err(ReportError::ZeroSize { what: "scale" })
    ));
}

#[test]
fn heatmap_cells_take_the_colormap_at_their_count() {
    let counts: [u64; 9] = [40, 3, 0, 5, 31, 9, 1, 18, 25];
    let opts = HeatmapOptions::new()
        .title("confusion")
        .row_labels(["a", "b", "c"]);
    let bytes = confusion_heatmap(&counts, 3, 3, &opts).unwrap();
    keep("heatmap_small.png", &bytes);
    let img = decode(&bytes);
    assert_eq!(img.color, png::ColorType::Rgb);
    let color = |c: u64| Colormap::Viridis.at(c as f64 / 40.0);
    // The top-left cell is the first pixel of its colour; its run gives the cell size.
    let (gx, gy) = img.find(color(40)).unwrap();
    assert_eq!(color(40), Colormap::Viridis.lut()[255]);
    let cell = (gx..img.width)
        .take_while(|&x| img.get(x, gy) == color(40))
        .count();
    assert!(cell >= 20, "cell {cell}");
    for (i, &count) in counts.iter().enumerate() {
        let (x, y) = (gx + (i % 3) * cell, gy + (i / 3) * cell);
        assert_eq!(img.get(x + 1, y + 1), color(count), "cell {i}");
        assert_eq!(
            img.get(x + cell - 2, y + cell - 2),
            color(count),
            "cell {i}"
        );
        // The count is written inside in the contrasting colour.
        let ink = color(count).contrasting();
        assert!(
            img.count(ink, (x, x + cell), (y, y + cell)) >= 10,
            "cell {i}"
        );
    }
    // Light (yellow) cells get black text, dark (purple) cells white.
    assert_eq!(color(40).contrasting(), Rgb::BLACK);
    assert_eq!(color(0).contrasting(), Rgb::WHITE);
    // Axis names and tick labels are drawn outside the matrix.
    let right = gx + 3 * cell;
    assert!(img.count(Rgb::BLACK, (0, gx), (gy, gy + 3 * cell)) > 60);
    assert!(img.count(Rgb::BLACK, (gx, right), (gy + 3 * cell, img.height)) > 60);
}

#[test]
fn heatmap_rejects_bad_input() {
    let o = HeatmapOptions::new();
    assert!(matches!(
        confusion_heatmap(&[], 0, 3, &o),
        Err(ReportError::ZeroSize { what: "rows" })
    ));
    assert!(matches!(
        confusion_heatmap(&[], 3, 0, &o),
        Err(ReportError::ZeroSize { what: "cols" })
    ));
    assert!(matches!(
        confusion_heatmap(&[1, 2, 3], 2, 2, &o),
        Err(ReportError::LengthMismatch {
            what: "counts",
            expected: 4,
            actual: 3
        })
    ));
    assert!(matches!(
        confusion_heatmap(&[1, 2, 3, 4], 2, 2, &o.clone().col_labels(["x"])),
        Err(ReportError::LengthMismatch {
            what: "col_labels",
            expected: 2,
            actual: 1
        })
    ));
    assert!(matches!(
        confusion_heatmap(&[1, 2, 3, 4], 2, 2, &o.clone().row_labels(["x", "y", "z"])),
        Err(ReportError::LengthMismatch {
            what: "row_labels",
            expected: 2,
            actual: 3
        })
    ));
    assert!(matches!(
        confusion_heatmap(&[1, 2, 3, 4], 2, 2, &o.clone().text_scale(0)),
        Err(ReportError::ZeroSize { what: "text_scale" })
    ));
}

#[test]
fn degenerate_but_valid_inputs_still_render() {
    // A 1×1 matrix with long axis names, equal counts, a constant center, 1×1 images.
    let o = HeatmapOptions::new()
        .row_axis("true class of the sample")
        .col_axis("cluster");
    decode(&confusion_heatmap(&[7], 1, 1, &o).unwrap());
    decode(&confusion_heatmap(&[0, 0, 0, 0], 2, 2, &HeatmapOptions::new()).unwrap());
    decode(
        &centers_grid(
            &[3.0; 4],
            1,
            2,
            2,
            &GridOptions::new().title("a rather long title"),
        )
        .unwrap(),
    );
    decode(&image_grid(&[GrayImage::new(1, 1)], &GridOptions::new().scale(1)).unwrap());
    decode(
        &deskew_strip(
            &[GrayImage::new(1, 1)],
            &[GrayImage::new(3, 2)],
            &TileStyle::new(),
        )
        .unwrap(),
    );
}

#[test]
fn every_character_inks_only_its_own_box() {
    use imgcluster::report::{canvas::text_size, Canvas};
    let lines: Vec<String> = (0x20u8..0x7f)
        .map(char::from)
        .chain(['→', 'é'])
        .collect::<Vec<_>>()
        .chunks(24)
        .map(|c| c.iter().collect())
        .collect();
    let scale = 3;
    let (w, h) = text_size(&lines[0], scale);
    let mut specimen = Canvas::new(w + 8, lines.len() * (h + 4) + 4, Rgb::WHITE).unwrap();
    for (i, line) in lines.iter().enumerate() {
        specimen.draw_text(4, 4 + i * (h + 4), line, Rgb::BLACK, scale);
    }
    keep("font_specimen.png", &specimen.to_png().unwrap());

    for c in (0x21u8..0x7f).map(char::from).chain(['→']) {
        let text = c.to_string();
        let (w, h) = text_size(&text, 2);
        assert_eq!((w, h), (10, 18));
        let mut canvas = Canvas::new(w + 4, h + 4, Rgb::WHITE).unwrap();
        canvas.draw_text(2, 2, &text, Rgb::BLACK, 2);
        let ink: Vec<(usize, usize)> = (0..h + 4)
            .flat_map(|y| (0..w + 4).map(move |x| (x, y)))
            .filter(|&(x, y)| canvas.get(x, y) == Some(Rgb::BLACK))
            .collect();
        assert!(!ink.is_empty(), "{c:?}");
        assert!(
            ink.iter()
                .all(|&(x, y)| (2..2 + w).contains(&x) && (2..2 + h).contains(&y)),
            "{c:?}"
        );
    }
}

#[test]
fn absurd_scales_are_errors_not_panics() {
    let too_large =
        |r: Result<Vec<u8>, ReportError>| matches!(r, Err(ReportError::TooLarge { .. }));
    let img = [GrayImage::new(2, 2)];
    for s in [usize::MAX, usize::MAX / 2, 1 << 20] {
        let grid = GridOptions::new().title("t").captions(["c"]);
        assert!(too_large(image_grid(&img, &grid.clone().scale(s))));
        assert!(too_large(image_grid(&img, &grid.clone().text_scale(s))));
        assert!(too_large(deskew_strip(
            &img,
            &img,
            &TileStyle::new().scale(s)
        )));
        assert!(too_large(deskew_strip(
            &img,
            &img,
            &TileStyle::new().text_scale(s)
        )));
        let heat = HeatmapOptions::new().title("t").text_scale(s);
        assert!(too_large(confusion_heatmap(&[1, 2, 3, 4], 2, 2, &heat)));
    }
    assert!(too_large(confusion_heatmap(
        &vec![0; 1 << 20],
        1 << 10,
        1 << 10,
        &HeatmapOptions::new()
    )));
}

/// The tutorial's figures from the OpenCV fixtures: centers of case 00 captioned with
/// each cluster's majority digit, its confusion matrix, and deskew examples.
#[test]
fn tutorial_figures_from_fixtures() {
    let (cells, deskewed, truth, labels, centers) = (
        read_npy("digits_cells.npy"),
        read_npy("digits_deskewed.npy"),
        read_npy("digits_labels.npy"),
        read_npy("kmeans_00_labels.npy"),
        read_npy("kmeans_00_centers.npy"),
    );
    let truth = truth.to_i32();
    let labels = labels.to_i32();
    let centers = centers.to_f32();
    let k = centers.len() / 400;

    // counts[t * k + c]: samples of digit t in cluster c.
    let mut counts = vec![0u64; 10 * k];
    for (&t, &c) in truth.iter().zip(&labels) {
        counts[t as usize * k + c as usize] += 1;
    }
    let majority = |c: usize| {
        (0..10)
            .max_by_key(|&t| (counts[t * k + c], usize::MAX - t))
            .unwrap()
    };
    let opts = GridOptions::new()
        .title("k-means centers (raw pixels)")
        .captions((0..k).map(|c| format!("cluster {c} → {}", majority(c))));
    let bytes = centers_grid(&centers, k, 20, 20, &opts).unwrap();
    keep("tutorial_centers.png", &bytes);
    let img = decode(&bytes);
    assert_eq!(img.color, png::ColorType::Rgb);

    let heat_opts = HeatmapOptions::new()
        .title("digits vs clusters")
        .col_axis("cluster");
    let bytes = confusion_heatmap(&counts, 10, k, &heat_opts).unwrap();
    keep("tutorial_confusion.png", &bytes);
    decode(&bytes);

    // One example of each digit (500 per class, in order).
    let cell = |a: &[u8], i: usize| GrayImage::from_vec(20, 20, a[i * 400..(i + 1) * 400].to_vec());
    let picks: Vec<usize> = (0..10).map(|d| d * 500 + 17).collect();
    let before: Vec<GrayImage> = picks.iter().map(|&i| cell(cells.as_u8(), i)).collect();
    let after: Vec<GrayImage> = picks.iter().map(|&i| cell(deskewed.as_u8(), i)).collect();
    let style = TileStyle::new().colormap(Colormap::Gray);
    let bytes = deskew_strip(&before, &after, &style).unwrap();
    keep("tutorial_deskew.png", &bytes);
    decode(&bytes);

    let bytes = image_grid(
        &before,
        &GridOptions::new()
            .colormap(Colormap::Gray)
            .captions((0..10).map(|d| format!("digit {d}"))),
    )
    .unwrap();
    keep("tutorial_samples.png", &bytes);
    decode(&bytes);
}
