//! Image figures: cluster centers, grids of gray images, before/after deskew strips.
//!
//! All figures are white with dark text, images upscaled by an integer factor
//! (nearest-neighbour) and framed by a thin gray line, each image coloured on its own
//! range like matplotlib's `imshow` unless a fixed [`ValueRange`] is given.

use super::canvas::{text_size, Canvas, Rgb};
use super::colormap::{Colormap, ValueRange};
use super::error::ReportError;
use super::font::ADVANCE;
use crate::image::GrayImage;

/// Blank border around every figure, in pixels.
pub(super) const MARGIN: usize = 12;
/// Space between tiles, and between blocks of a figure, in pixels.
pub(super) const GAP: usize = 10;
/// Space between a tile and its caption, in pixels.
pub(super) const CAPTION_GAP: usize = 5;
/// Figure background.
pub(super) const BACKGROUND: Rgb = Rgb::WHITE;
/// Text colour on the background.
pub(super) const INK: Rgb = Rgb::BLACK;
/// Colour of the one-pixel frame around tiles and plots.
pub(super) const FRAME: Rgb = Rgb::new(0x60, 0x60, 0x60);

/// How each image of a figure is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TileStyle {
    /// Colormap for pixel values. Default: [`Colormap::Viridis`] (matplotlib's default).
    pub colormap: Colormap,
    /// Values mapped to the colormap's ends. Default: [`ValueRange::Auto`], each image
    /// on its own minimum..maximum like `imshow`.
    pub range: ValueRange,
    /// Integer upscaling factor, nearest-neighbour. Default: 5 (a 20×20 digit becomes 100×100).
    pub scale: usize,
    /// Integer scale of the 5×7 font for captions and labels. Default: 2.
    pub text_scale: usize,
}

impl Default for TileStyle {
    fn default() -> Self {
        Self {
            colormap: Colormap::Viridis,
            range: ValueRange::Auto,
            scale: 5,
            text_scale: 2,
        }
    }
}

impl TileStyle {
    /// The default style: viridis, automatic range, scale 5, text scale 2.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the colormap.
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.colormap = colormap;
        self
    }

    /// Sets the value range.
    pub fn range(mut self, range: ValueRange) -> Self {
        self.range = range;
        self
    }

    /// Sets the image upscaling factor.
    pub fn scale(mut self, scale: usize) -> Self {
        self.scale = scale;
        self
    }

    /// Sets the font scale.
    pub fn text_scale(mut self, text_scale: usize) -> Self {
        self.text_scale = text_scale;
        self
    }

    fn check(&self) -> Result<(), ReportError> {
        if self.scale == 0 {
            return Err(ReportError::ZeroSize { what: "scale" });
        }
        if self.text_scale == 0 {
            return Err(ReportError::ZeroSize { what: "text_scale" });
        }
        Ok(())
    }
}

/// Options of the grid figures ([`centers_grid`], [`image_grid`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GridOptions {
    /// How each image is drawn. Default: [`TileStyle::default`].
    pub style: TileStyle,
    /// Images per row. Default: 5 (ten images make the 2 × 5 grid of the classic tutorial).
    pub cols: usize,
    /// Title above the grid. Default: none.
    pub title: Option<String>,
    /// One caption under each image, or none at all when empty. Default: empty.
    pub captions: Vec<String>,
}

impl Default for GridOptions {
    fn default() -> Self {
        Self {
            style: TileStyle::default(),
            cols: 5,
            title: None,
            captions: Vec::new(),
        }
    }
}

impl GridOptions {
    /// The defaults: [`TileStyle::default`], 5 columns, no title, no captions.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Colormap, GridOptions, ValueRange};
    /// let o = GridOptions::new();
    /// assert_eq!(o.cols, 5);
    /// assert_eq!((o.style.scale, o.style.text_scale), (5, 2));
    /// assert_eq!((o.style.colormap, o.style.range), (Colormap::Viridis, ValueRange::Auto));
    /// assert!(o.title.is_none() && o.captions.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the whole tile style.
    pub fn style(mut self, style: TileStyle) -> Self {
        self.style = style;
        self
    }

    /// Sets the number of images per row.
    pub fn cols(mut self, cols: usize) -> Self {
        self.cols = cols;
        self
    }

    /// Sets the colormap.
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.style.colormap = colormap;
        self
    }

    /// Sets the value range.
    pub fn range(mut self, range: ValueRange) -> Self {
        self.style.range = range;
        self
    }

    /// Sets the image upscaling factor.
    pub fn scale(mut self, scale: usize) -> Self {
        self.style.scale = scale;
        self
    }

    /// Sets the font scale.
    pub fn text_scale(mut self, text_scale: usize) -> Self {
        self.style.text_scale = text_scale;
        self
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets one caption per image.
    pub fn captions<I, S>(mut self, captions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.captions = captions.into_iter().map(Into::into).collect();
        self
    }
}

/// One image already coloured, before upscaling.
struct Tile {
    width: usize,
    height: usize,
    pixels: Vec<Rgb>,
}

/// The `k` cluster centers, each a `height` × `width` image stored row-major in
/// `centers` (`k * height * width` values, center after center), drawn in a grid.
///
/// Each center is coloured on its own range unless `opts` fixes one, as
/// `plt.imshow(center.reshape(height, width))` would; captions such as
/// `"cluster 3 → 7"` go under the tiles.
///
/// # Errors
/// [`ReportError::ZeroSize`] if `k`, `height`, `width`, `cols`, `scale` or
/// `text_scale` is zero; [`ReportError::LengthMismatch`] if `centers` or a non-empty
/// `captions` has the wrong length; [`ReportError::NonFinite`] for a NaN or infinite
/// value (its index in `centers`); [`ReportError::InvalidRange`];
/// [`ReportError::TooLarge`] if the figure would be too large.
///
/// # Examples
/// ```
/// use imgcluster::report::{centers_grid, GridOptions};
/// let centers: Vec<f32> = (0..2 * 3 * 4).map(|v| v as f32).collect();
/// let opts = GridOptions::new().captions(["cluster 0 → 1", "cluster 1 → 0"]);
/// let png = centers_grid(&centers, 2, 3, 4, &opts)?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn centers_grid(
    centers: &[f32],
    k: usize,
    height: usize,
    width: usize,
    opts: &GridOptions,
) -> Result<Vec<u8>, ReportError> {
    for (what, n) in [("k", k), ("height", height), ("width", width)] {
        if n == 0 {
            return Err(ReportError::ZeroSize { what });
        }
    }
    let pixels = height.saturating_mul(width);
    let expected = k.saturating_mul(pixels);
    if centers.len() != expected {
        return Err(ReportError::LengthMismatch {
            what: "centers",
            expected,
            actual: centers.len(),
        });
    }
    let tiles = centers
        .chunks_exact(pixels)
        .enumerate()
        .map(|(i, center)| {
            let colored = opts
                .style
                .colormap
                .apply(center, opts.style.range)
                .map_err(|e| match e {
                    ReportError::NonFinite { index, value } => ReportError::NonFinite {
                        index: i * pixels + index,
                        value,
                    },
                    e => e,
                })?;
            Ok(Tile {
                width,
                height,
                pixels: colored,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    render_grid(&tiles, opts)?.to_png()
}

/// Gray images (of any sizes) drawn in a grid, e.g. cluster mean images or
/// misclassified samples, with optional captions and title.
///
/// Cells take the size of the largest image; smaller images are centred in theirs.
/// With [`Colormap::Gray`] and `ValueRange::Fixed { min: 0.0, max: 255.0 }` the pixels
/// are shown as they are; the default colours each image like `imshow`.
///
/// # Errors
/// [`ReportError::Empty`] for no images; [`ReportError::EmptyImage`] for an image
/// without pixels; [`ReportError::ZeroSize`] if `cols`, `scale` or `text_scale` is zero;
/// [`ReportError::LengthMismatch`] if a non-empty `captions` has the wrong length;
/// [`ReportError::InvalidRange`]; [`ReportError::TooLarge`].
///
/// # Examples
/// ```
/// use imgcluster::GrayImage;
/// use imgcluster::report::{image_grid, Colormap, GridOptions};
/// let digits = vec![GrayImage::new(20, 20), GrayImage::from_vec(2, 1, vec![0, 255])];
/// let opts = GridOptions::new().colormap(Colormap::Gray).title("samples");
/// let png = image_grid(&digits, &opts)?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn image_grid(images: &[GrayImage], opts: &GridOptions) -> Result<Vec<u8>, ReportError> {
    let tiles = gray_tiles(images, "images", &opts.style)?;
    render_grid(&tiles, opts)?.to_png()
}

/// Before/after pairs of a preprocessing step such as deskewing, in two rows labelled
/// "before" and "after": column `i` shows `before[i]` above `after[i]`.
///
/// # Errors
/// [`ReportError::Empty`] if `before` is empty; [`ReportError::LengthMismatch`] if
/// `after` does not have as many images as `before`; [`ReportError::EmptyImage`];
/// [`ReportError::ZeroSize`] if `scale` or `text_scale` is zero;
/// [`ReportError::InvalidRange`]; [`ReportError::TooLarge`].
///
/// # Examples
/// ```
/// use imgcluster::GrayImage;
/// use imgcluster::report::{deskew_strip, Colormap, TileStyle};
/// let before = vec![GrayImage::from_vec(2, 2, vec![0, 255, 255, 0])];
/// let after = vec![GrayImage::from_vec(2, 2, vec![0, 255, 0, 255])];
/// let png = deskew_strip(&before, &after, &TileStyle::new().colormap(Colormap::Gray))?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn deskew_strip(
    before: &[GrayImage],
    after: &[GrayImage],
    style: &TileStyle,
) -> Result<Vec<u8>, ReportError> {
    style.check()?;
    if after.len() != before.len() {
        return Err(ReportError::LengthMismatch {
            what: "after",
            expected: before.len(),
            actual: after.len(),
        });
    }
    let rows = [
        ("before", gray_tiles(before, "before", style)?),
        ("after", gray_tiles(after, "after", style)?),
    ];
    let s = style.scale;
    let ts = style.text_scale;
    let n = before.len();
    let all = || rows.iter().flat_map(|(_, tiles)| tiles.iter());
    let col_w = all().map(|t| t.width).max().unwrap_or(0).saturating_mul(s);
    let (_, text_h) = text_size("x", ts);
    // Rows are at least one line of text tall, so labels of tiny images do not collide.
    let row_h = all()
        .map(|t| t.height)
        .max()
        .unwrap_or(0)
        .saturating_mul(s)
        .max(text_h);
    let label_w = rows
        .iter()
        .map(|(l, _)| text_size(l, ts).0)
        .max()
        .unwrap_or(0);
    let tiles_w = col_w
        .saturating_add(GAP)
        .saturating_mul(n)
        .saturating_sub(GAP);
    let width = (2 * MARGIN + GAP)
        .saturating_add(label_w)
        .saturating_add(tiles_w);
    let height = (2 * MARGIN + GAP).saturating_add(row_h.saturating_mul(2));
    let mut canvas = Canvas::new(width, height, BACKGROUND)?;
    for (r, (label, tiles)) in rows.iter().enumerate() {
        let y = MARGIN + r * (row_h + GAP);
        canvas.draw_text(MARGIN, y + row_h.saturating_sub(text_h) / 2, label, INK, ts);
        for (c, tile) in tiles.iter().enumerate() {
            let x = MARGIN + label_w + GAP + c * (col_w + GAP);
            draw_tile(&mut canvas, x, y, col_w, row_h, tile, s);
        }
    }
    canvas.to_png()
}

/// Colours gray images as tiles, checking they are not empty.
fn gray_tiles(
    images: &[GrayImage],
    what: &'static str,
    style: &TileStyle,
) -> Result<Vec<Tile>, ReportError> {
    if images.is_empty() {
        return Err(ReportError::Empty { what });
    }
    images
        .iter()
        .enumerate()
        .map(|(index, img)| {
            let (width, height) = (img.width(), img.height());
            if width == 0 || height == 0 {
                return Err(ReportError::EmptyImage {
                    what,
                    index,
                    width,
                    height,
                });
            }
            Ok(Tile {
                width,
                height,
                pixels: style.colormap.apply_u8(img.data(), style.range)?,
            })
        })
        .collect()
}

/// Draws `tile` upscaled by `scale`, centred in the `cell_w` × `cell_h` box at (`x`, `y`),
/// with a one-pixel frame just outside it.
fn draw_tile(
    canvas: &mut Canvas,
    x: usize,
    y: usize,
    cell_w: usize,
    cell_h: usize,
    tile: &Tile,
    scale: usize,
) {
    let (w, h) = (tile.width * scale, tile.height * scale);
    let tx = x + (cell_w - w) / 2;
    let ty = y + (cell_h - h) / 2;
    canvas.stroke_rect(tx - 1, ty - 1, w + 2, h + 2, FRAME);
    canvas.blit_scaled(tx, ty, tile.width, &tile.pixels, scale);
}

/// Lays out `tiles` in rows of `opts.cols` with captions and title.
fn render_grid(tiles: &[Tile], opts: &GridOptions) -> Result<Canvas, ReportError> {
    opts.style.check()?;
    if opts.cols == 0 {
        return Err(ReportError::ZeroSize { what: "cols" });
    }
    if !opts.captions.is_empty() && opts.captions.len() != tiles.len() {
        return Err(ReportError::LengthMismatch {
            what: "captions",
            expected: tiles.len(),
            actual: opts.captions.len(),
        });
    }
    let s = opts.style.scale;
    let ts = opts.style.text_scale;
    let title_scale = ts.saturating_add(1);
    let n = tiles.len();
    let cols = opts.cols.min(n);
    let rows = n.div_ceil(cols);

    let tile_w = tiles
        .iter()
        .map(|t| t.width)
        .max()
        .unwrap_or(0)
        .saturating_mul(s);
    let tile_h = tiles
        .iter()
        .map(|t| t.height)
        .max()
        .unwrap_or(0)
        .saturating_mul(s);
    let caption_w = opts
        .captions
        .iter()
        .map(|c| text_size(c, ts).0)
        .max()
        .unwrap_or(0);
    let caption_h = opts
        .captions
        .iter()
        .map(|c| text_size(c, ts).1)
        .max()
        .unwrap_or(0);
    let caption_block = if caption_h > 0 {
        caption_h.saturating_add(CAPTION_GAP)
    } else {
        0
    };
    // Frames sit one pixel outside the tiles, inside the gaps; captions wider than
    // the tiles keep two blank characters between them.
    let caption_room = if caption_w > 0 {
        caption_w
            .saturating_add((2 * ADVANCE).saturating_mul(ts))
            .saturating_sub(GAP)
    } else {
        0
    };
    let cell_w = tile_w.max(caption_room);
    let cell_h = tile_h.saturating_add(caption_block);
    let grid_w = cell_w.saturating_add(GAP).saturating_mul(cols) - GAP;
    let grid_h = cell_h.saturating_add(GAP).saturating_mul(rows) - GAP;
    let title = opts.title.as_deref().unwrap_or("");
    let (title_w, title_h) = text_size(title, title_scale);
    let title_block = if title_h > 0 {
        title_h.saturating_add(GAP)
    } else {
        0
    };

    let inner_w = grid_w.max(title_w);
    let width = inner_w.saturating_add(2 * MARGIN);
    let height = grid_h
        .saturating_add(title_block)
        .saturating_add(2 * MARGIN);
    let mut canvas = Canvas::new(width, height, BACKGROUND)?;

    canvas.draw_text_centered(width / 2, MARGIN, title, INK, title_scale);
    let x0 = MARGIN + (inner_w - grid_w) / 2;
    let y0 = MARGIN + title_block;
    for (i, tile) in tiles.iter().enumerate() {
        let x = x0 + (i % cols) * (cell_w + GAP);
        let y = y0 + (i / cols) * (cell_h + GAP);
        draw_tile(&mut canvas, x, y, cell_w, tile_h, tile, s);
        if let Some(caption) = opts.captions.get(i) {
            canvas.draw_text_centered(x + cell_w / 2, y + tile_h + CAPTION_GAP, caption, INK, ts);
        }
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_pinned() {
        let s = TileStyle::default();
        assert_eq!(s, TileStyle::new());
        assert_eq!(s.colormap, Colormap::Viridis);
        assert_eq!(s.range, ValueRange::Auto);
        assert_eq!((s.scale, s.text_scale), (5, 2));
        let g = GridOptions::new();
        assert_eq!(g, GridOptions::default());
        assert_eq!(g.cols, 5);
        assert_eq!(g.style, s);
        assert!(g.title.is_none() && g.captions.is_empty());
    }

    #[test]
    fn grid_without_captions_or_title_is_tight() {
        let tiles: Vec<Tile> = (0..3)
            .map(|_| Tile {
                width: 2,
                height: 3,
                pixels: vec![Rgb::BLACK; 6],
            })
            .collect();
        let opts = GridOptions::new().cols(2).scale(4);
        let c = render_grid(&tiles, &opts).unwrap();
        assert_eq!(c.width(), 2 * MARGIN + 2 * 8 + GAP);
        assert_eq!(c.height(), 2 * MARGIN + 2 * 12 + GAP);
        // Tile 2 is alone on the second row, in the first column.
        assert_eq!(c.get(MARGIN, MARGIN + 12 + GAP), Some(Rgb::BLACK));
        assert_eq!(c.get(MARGIN + 8 + GAP, MARGIN + 12 + GAP), Some(BACKGROUND));
    }
}
