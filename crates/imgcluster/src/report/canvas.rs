//! An 8-bit RGB canvas to compose figures on: fill, nearest-neighbour blit, text, PNG.
//!
//! All drawing is clipped to the canvas, so no coordinate can make it panic.

use super::error::ReportError;
use super::font::{self, ADVANCE, GLYPH_WIDTH, LINE_HEIGHT};

/// The largest canvas, in pixels, that [`Canvas::new`] accepts (64 Mi pixels, 192 MiB of RGB).
pub const MAX_PIXELS: usize = 1 << 26;

/// An sRGB colour with 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rgb {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Rgb {
    /// Black, `#000000`.
    pub const BLACK: Rgb = Rgb::new(0, 0, 0);
    /// White, `#ffffff`.
    pub const WHITE: Rgb = Rgb::new(255, 255, 255);

    /// The colour with the given channels.
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }

    /// The colour written `#rrggbb` as the number `0xrrggbb` (higher bits are ignored).
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::Rgb;
    /// assert_eq!(Rgb::from_hex(0x440154), Rgb::new(0x44, 0x01, 0x54));
    /// ```
    pub const fn from_hex(hex: u32) -> Self {
        Self::new((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
    }

    /// Luma (ITU-R BT.601 weights) in `0..=255`, used to pick legible text colours.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::Rgb;
    /// assert_eq!(Rgb::WHITE.luma(), 255);
    /// assert_eq!(Rgb::BLACK.luma(), 0);
    /// ```
    pub fn luma(self) -> u8 {
        let y = 299 * u32::from(self.r) + 587 * u32::from(self.g) + 114 * u32::from(self.b);
        ((y + 500) / 1000) as u8
    }

    /// Black or white, whichever reads better on this colour as a background.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::Rgb;
    /// assert_eq!(Rgb::from_hex(0x440154).contrasting(), Rgb::WHITE);
    /// assert_eq!(Rgb::from_hex(0xfde725).contrasting(), Rgb::BLACK);
    /// ```
    pub fn contrasting(self) -> Rgb {
        if self.luma() < 128 {
            Rgb::WHITE
        } else {
            Rgb::BLACK
        }
    }
}

/// An RGB image being drawn, row-major, three bytes per pixel, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Canvas {
    /// A `width` × `height` canvas filled with `background`.
    ///
    /// # Errors
    /// [`ReportError::ZeroSize`] if a side is zero, [`ReportError::TooLarge`] if the
    /// canvas would have more than [`MAX_PIXELS`] pixels.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Canvas, Rgb};
    /// let c = Canvas::new(3, 2, Rgb::WHITE)?;
    /// assert_eq!((c.width(), c.height()), (3, 2));
    /// assert_eq!(c.get(2, 1), Some(Rgb::WHITE));
    /// assert_eq!(c.get(3, 0), None);
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn new(width: usize, height: usize, background: Rgb) -> Result<Self, ReportError> {
        if width == 0 {
            return Err(ReportError::ZeroSize {
                what: "canvas width",
            });
        }
        if height == 0 {
            return Err(ReportError::ZeroSize {
                what: "canvas height",
            });
        }
        match width.checked_mul(height) {
            Some(n) if n <= MAX_PIXELS => {}
            _ => {
                return Err(ReportError::TooLarge {
                    width,
                    height,
                    max_pixels: MAX_PIXELS,
                })
            }
        }
        let data = [background.r, background.g, background.b].repeat(width * height);
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixels, row-major, as `r, g, b` bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The colour at column `x`, row `y`, or `None` outside the canvas.
    pub fn get(&self, x: usize, y: usize) -> Option<Rgb> {
        if x < self.width && y < self.height {
            let i = 3 * (y * self.width + x);
            Some(Rgb::new(self.data[i], self.data[i + 1], self.data[i + 2]))
        } else {
            None
        }
    }

    /// Sets the pixel at column `x`, row `y`; does nothing outside the canvas.
    pub fn set(&mut self, x: usize, y: usize, color: Rgb) {
        if x < self.width && y < self.height {
            let i = 3 * (y * self.width + x);
            self.data[i..i + 3].copy_from_slice(&[color.r, color.g, color.b]);
        }
    }

    /// Fills the `w` × `h` rectangle whose top-left corner is (`x`, `y`), clipped.
    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, color: Rgb) {
        let x1 = x.saturating_add(w).min(self.width);
        let y1 = y.saturating_add(h).min(self.height);
        for yy in y.min(y1)..y1 {
            for xx in x.min(x1)..x1 {
                self.set(xx, yy, color);
            }
        }
    }

    /// Draws the one-pixel outline of the `w` × `h` rectangle at (`x`, `y`), clipped.
    pub fn stroke_rect(&mut self, x: usize, y: usize, w: usize, h: usize, color: Rgb) {
        if w == 0 || h == 0 {
            return;
        }
        self.fill_rect(x, y, w, 1, color);
        self.fill_rect(x, y.saturating_add(h - 1), w, 1, color);
        self.fill_rect(x, y, 1, h, color);
        self.fill_rect(x.saturating_add(w - 1), y, 1, h, color);
    }

    /// Copies a `src_width`-wide row-major image of colours to (`x`, `y`), each source
    /// pixel becoming a `scale` × `scale` block (nearest-neighbour upscaling), clipped.
    ///
    /// A trailing partial row of `pixels` is ignored.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Canvas, Rgb};
    /// let mut c = Canvas::new(4, 2, Rgb::WHITE)?;
    /// c.blit_scaled(0, 0, 2, &[Rgb::BLACK, Rgb::new(9, 9, 9)], 2);
    /// assert_eq!(c.get(1, 1), Some(Rgb::BLACK));
    /// assert_eq!(c.get(2, 0), Some(Rgb::new(9, 9, 9)));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn blit_scaled(
        &mut self,
        x: usize,
        y: usize,
        src_width: usize,
        pixels: &[Rgb],
        scale: usize,
    ) {
        if src_width == 0 {
            return;
        }
        for (sy, row) in pixels.chunks_exact(src_width).enumerate() {
            for (sx, &color) in row.iter().enumerate() {
                let px = x.saturating_add(sx.saturating_mul(scale));
                let py = y.saturating_add(sy.saturating_mul(scale));
                self.fill_rect(px, py, scale, scale, color);
            }
        }
    }

    /// Writes `text` on one line with its top-left corner at (`x`, `y`), each font
    /// pixel a `scale` × `scale` block, clipped. The line is
    /// [`text_size`]`(text, scale)` pixels; the baseline is `font::ASCENT * scale`
    /// rows below `y`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Canvas, Rgb};
    /// let mut c = Canvas::new(20, 20, Rgb::WHITE)?;
    /// c.draw_text(1, 1, "1", Rgb::BLACK, 2);
    /// assert_eq!(c.get(1 + 2 * 2, 1), Some(Rgb::BLACK)); // top of the stem of "1"
    /// assert_eq!(c.get(1, 1), Some(Rgb::WHITE));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn draw_text(&mut self, x: usize, y: usize, text: &str, color: Rgb, scale: usize) {
        for (px, py) in glyph_blocks(text, scale, |gx, gy| {
            (x.saturating_add(gx), y.saturating_add(gy))
        }) {
            self.fill_rect(px, py, scale, scale, color);
        }
    }

    /// Writes `text` rotated a quarter turn counter-clockwise (reading upwards), for
    /// vertical axis labels. The rotated line occupies the box whose top-left corner
    /// is (`x`, `y`) and whose size is [`text_size`] with width and height swapped.
    pub fn draw_text_up(&mut self, x: usize, y: usize, text: &str, color: Rgb, scale: usize) {
        let (w, _) = text_size(text, scale);
        // Unrotated (gx, gy) goes to (gy, w - 1 - gx) within the rotated box; blocks
        // are anchored at their top-left, so subtract the block size too.
        for (px, py) in glyph_blocks(text, scale, |gx, gy| {
            let ry = w.saturating_sub(gx).saturating_sub(scale);
            (x.saturating_add(gy), y.saturating_add(ry))
        }) {
            self.fill_rect(px, py, scale, scale, color);
        }
    }

    /// Writes `text` horizontally centred on column `cx` with its top at row `y`.
    pub fn draw_text_centered(
        &mut self,
        cx: usize,
        y: usize,
        text: &str,
        color: Rgb,
        scale: usize,
    ) {
        let (w, _) = text_size(text, scale);
        self.draw_text(cx.saturating_sub(w / 2), y, text, color, scale);
    }

    /// Encodes the canvas as an 8-bit RGB PNG.
    ///
    /// # Errors
    /// [`ReportError::Encode`] if the encoder fails (it does not for canvases
    /// [`Canvas::new`] can make).
    pub fn to_png(&self) -> Result<Vec<u8>, ReportError> {
        super::png::encode_rgb8(self.width, self.height, &self.data)
    }
}

/// Positions of the ink blocks of `text`, mapped through `place` from unrotated
/// text coordinates (already multiplied by `scale`) to canvas coordinates.
fn glyph_blocks<F>(text: &str, scale: usize, place: F) -> Vec<(usize, usize)>
where
    F: Fn(usize, usize) -> (usize, usize),
{
    let mut blocks = Vec::new();
    for (i, c) in text.chars().enumerate() {
        let g = font::glyph(c);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..GLYPH_WIDTH {
                if bits & (1 << (GLYPH_WIDTH - 1 - col)) != 0 {
                    let gx = (i * ADVANCE + col).saturating_mul(scale);
                    let gy = row.saturating_mul(scale);
                    blocks.push(place(gx, gy));
                }
            }
        }
    }
    blocks
}

/// Size in pixels (width, height) of `text` drawn on one line at `scale`; the height
/// includes the descender rows, so it is the same for every non-empty text.
///
/// # Examples
/// ```
/// use imgcluster::report::canvas::text_size;
/// assert_eq!(text_size("42", 2), (22, 18));
/// assert_eq!(text_size("", 3), (0, 0));
/// ```
pub fn text_size(text: &str, scale: usize) -> (usize, usize) {
    if text.is_empty() {
        (0, 0)
    } else {
        (
            font::text_width(text).saturating_mul(scale),
            LINE_HEIGHT.saturating_mul(scale),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_huge_canvases_are_errors() {
        assert!(matches!(
            Canvas::new(0, 5, Rgb::WHITE),
            Err(ReportError::ZeroSize { .. })
        ));
        assert!(matches!(
            Canvas::new(5, 0, Rgb::WHITE),
            Err(ReportError::ZeroSize { .. })
        ));
        assert!(matches!(
            Canvas::new(usize::MAX, 2, Rgb::WHITE),
            Err(ReportError::TooLarge { .. })
        ));
        assert!(matches!(
            Canvas::new(MAX_PIXELS, 2, Rgb::WHITE),
            Err(ReportError::TooLarge { .. })
        ));
    }

    #[test]
    fn drawing_off_the_canvas_is_clipped() {
        let mut c = Canvas::new(4, 4, Rgb::WHITE).unwrap();
        c.fill_rect(2, 2, usize::MAX, usize::MAX, Rgb::BLACK);
        c.fill_rect(10, 10, 3, 3, Rgb::BLACK);
        c.draw_text(usize::MAX - 3, 0, "W", Rgb::BLACK, usize::MAX);
        c.draw_text_up(3, 3, "hello", Rgb::BLACK, 3);
        c.blit_scaled(usize::MAX, 1, 1, &[Rgb::BLACK], 4);
        c.stroke_rect(1, 1, usize::MAX, usize::MAX, Rgb::BLACK);
        assert_eq!(c.get(3, 3), Some(Rgb::BLACK));
        assert_eq!(c.get(0, 0), Some(Rgb::WHITE));
    }

    #[test]
    fn rotated_text_is_the_transpose_read_upwards() {
        let text = "Ag";
        let (w, h) = text_size(text, 1);
        let mut flat = Canvas::new(w, h, Rgb::WHITE).unwrap();
        flat.draw_text(0, 0, text, Rgb::BLACK, 1);
        let mut up = Canvas::new(h, w, Rgb::WHITE).unwrap();
        up.draw_text_up(0, 0, text, Rgb::BLACK, 1);
        for y in 0..h {
            for x in 0..w {
                assert_eq!(flat.get(x, y), up.get(y, w - 1 - x), "({x}, {y})");
            }
        }
    }

    #[test]
    fn scaled_text_is_blocky_copy_of_unscaled() {
        let (w, h) = text_size("5%", 1);
        let mut one = Canvas::new(w, h, Rgb::WHITE).unwrap();
        one.draw_text(0, 0, "5%", Rgb::BLACK, 1);
        let mut three = Canvas::new(3 * w, 3 * h, Rgb::WHITE).unwrap();
        three.draw_text(0, 0, "5%", Rgb::BLACK, 3);
        for y in 0..3 * h {
            for x in 0..3 * w {
                assert_eq!(three.get(x, y), one.get(x / 3, y / 3));
            }
        }
    }

    #[test]
    fn contrasting_picks_white_on_dark_and_black_on_light() {
        assert_eq!(Rgb::new(32, 144, 140).contrasting(), Rgb::WHITE);
        assert_eq!(Rgb::new(94, 201, 97).contrasting(), Rgb::BLACK);
    }
}
