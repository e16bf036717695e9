//! Colormaps that reproduce matplotlib's `imshow` pixel for pixel.
//!
//! matplotlib turns a value into a colour in three steps, all reproduced here:
//!
//! 1. normalise: `x = (v - vmin) / (vmax - vmin)`, with `vmin`/`vmax` the data's
//!    minimum and maximum unless given ([`ValueRange`]); when `vmin == vmax` every
//!    value maps to `0`;
//! 2. bin into the 256-entry table: `i = floor(x * 256)`, with `x == 1` going to 255
//!    and values outside `0..=1` clipped to the end entries;
//! 3. convert the table's floats to bytes by truncation, `(c * 255) as u8`, which is
//!    what `Colormap.__call__(..., bytes=True)` and therefore saved figures use.
//!
//! Step 3 is why the last viridis entry, documented as `#fde725` (rounded), appears
//! in matplotlib's PNGs, and here, as `#fde724`; see [`Colormap::entry`] for the floats.

use super::canvas::Rgb;
use super::error::ReportError;
use super::viridis::VIRIDIS_DATA;

/// Number of entries in every colormap's lookup table (matplotlib's default `N`).
pub const LUT_SIZE: usize = 256;

/// A colormap: how normalised values in `0..=1` become colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Colormap {
    /// matplotlib's default, `viridis`: dark purple (`#440154`) through teal to yellow.
    #[default]
    Viridis,
    /// matplotlib's `gray`: black to white.
    Gray,
}

/// Which values map to the two ends of a colormap.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum ValueRange {
    /// The minimum and maximum of the data being drawn (matplotlib's default).
    #[default]
    Auto,
    /// Fixed bounds, like `imshow(..., vmin=min, vmax=max)`; values outside are clipped.
    Fixed {
        /// The value drawn with the first colour.
        min: f64,
        /// The value drawn with the last colour.
        max: f64,
    },
}

const fn to_byte(c: f64) -> u8 {
    // Truncation, as numpy's `(lut * 255).astype(np.uint8)`.
    (c * 255.0) as u8
}

/// matplotlib's `gray` table: a `LinearSegmentedColormap` from 0 to 1, whose entry `i`
/// is computed as `(255 * (i * (1 / 255))) / 255` (`linspace`, then interpolation).
const fn gray_entry(i: usize) -> f64 {
    if i == 0 {
        0.0
    } else if i == LUT_SIZE - 1 {
        1.0
    } else {
        let n = (LUT_SIZE - 1) as f64;
        (n * (i as f64 * (1.0 / n))) / n
    }
}

const fn build_lut(map: Colormap) -> [Rgb; LUT_SIZE] {
    let mut lut = [Rgb::new(0, 0, 0); LUT_SIZE];
    let mut i = 0;
    while i < LUT_SIZE {
        lut[i] = match map {
            Colormap::Viridis => {
                let [r, g, b] = VIRIDIS_DATA[i];
                Rgb::new(to_byte(r), to_byte(g), to_byte(b))
            }
            Colormap::Gray => {
                let v = to_byte(gray_entry(i));
                Rgb::new(v, v, v)
            }
        };
        i += 1;
    }
    lut
}

static VIRIDIS_LUT: [Rgb; LUT_SIZE] = build_lut(Colormap::Viridis);
static GRAY_LUT: [Rgb; LUT_SIZE] = build_lut(Colormap::Gray);

impl Colormap {
    /// The 256 colours as matplotlib writes them into images.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Colormap, Rgb};
    /// let lut = Colormap::Viridis.lut();
    /// assert_eq!(lut[0], Rgb::from_hex(0x440154));
    /// assert_eq!(lut[128], Rgb::new(32, 144, 140));
    /// assert_eq!(lut[255], Rgb::from_hex(0xfde724));
    /// ```
    pub fn lut(self) -> &'static [Rgb; LUT_SIZE] {
        match self {
            Colormap::Viridis => &VIRIDIS_LUT,
            Colormap::Gray => &GRAY_LUT,
        }
    }

    /// Table entry `index` as red, green, blue floats in `0..=1` (matplotlib's
    /// `cmap(index)` before conversion to bytes).
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::Colormap;
    /// assert_eq!(Colormap::Viridis.entry(255), [0.993248, 0.906157, 0.143936]);
    /// assert_eq!(Colormap::Gray.entry(255), [1.0; 3]);
    /// ```
    pub fn entry(self, index: u8) -> [f64; 3] {
        match self {
            Colormap::Viridis => VIRIDIS_DATA[usize::from(index)],
            Colormap::Gray => [gray_entry(usize::from(index)); 3],
        }
    }

    /// The colour of a normalised value `x` (`0` is the first colour, `1` the last),
    /// as matplotlib's `cmap(x, bytes=True)`; values outside `0..=1` are clipped and
    /// NaN is drawn as `0`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Colormap, Rgb};
    /// assert_eq!(Colormap::Viridis.at(0.5), Rgb::new(32, 144, 140));
    /// assert_eq!(Colormap::Viridis.at(7.0), Colormap::Viridis.at(1.0));
    /// ```
    pub fn at(self, x: f64) -> Rgb {
        self.lut()[usize::from(lut_index(x))]
    }

    /// Colours `values` the way `imshow` colours an array with this colormap:
    /// normalised by `range`, binned into the 256 entries.
    ///
    /// # Errors
    /// [`ReportError::NonFinite`] for a NaN or infinite value (matplotlib would draw it
    /// transparent), [`ReportError::InvalidRange`] for a fixed range that is not finite
    /// or has `min > max`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Colormap, ValueRange};
    /// let c = Colormap::Viridis.apply(&[1.0, 2.0, 3.0], ValueRange::Auto)?;
    /// assert_eq!(c[0], Colormap::Viridis.lut()[0]);
    /// assert_eq!(c[1], Colormap::Viridis.lut()[128]);
    /// assert_eq!(c[2], Colormap::Viridis.lut()[255]);
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn apply(self, values: &[f32], range: ValueRange) -> Result<Vec<Rgb>, ReportError> {
        let (lo, hi) = range.resolve(values.iter().map(|&v| f64::from(v)))?;
        Ok(values
            .iter()
            .map(|&v| self.at(normalize(f64::from(v), lo, hi)))
            .collect())
    }

    /// Like [`Colormap::apply`] for 8-bit gray pixels (always finite).
    ///
    /// # Errors
    /// [`ReportError::InvalidRange`] for an invalid fixed range.
    pub fn apply_u8(self, values: &[u8], range: ValueRange) -> Result<Vec<Rgb>, ReportError> {
        let (lo, hi) = range.resolve(values.iter().map(|&v| f64::from(v)))?;
        Ok(values
            .iter()
            .map(|&v| self.at(normalize(f64::from(v), lo, hi)))
            .collect())
    }
}

impl ValueRange {
    /// The `(vmin, vmax)` this range gives for `values`.
    ///
    /// [`ValueRange::Auto`] of no values is `(0, 0)`.
    ///
    /// # Errors
    /// [`ReportError::NonFinite`] if a value is NaN or infinite (checked for both
    /// variants), [`ReportError::InvalidRange`] for a fixed range that is not finite or
    /// has `min > max`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::ValueRange;
    /// let v = [3.0, -1.0, 2.0];
    /// assert_eq!(ValueRange::Auto.resolve(v)?, (-1.0, 3.0));
    /// assert_eq!(ValueRange::Fixed { min: 0.0, max: 1.0 }.resolve(v)?, (0.0, 1.0));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn resolve(self, values: impl IntoIterator<Item = f64>) -> Result<(f64, f64), ReportError> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for (index, value) in values.into_iter().enumerate() {
            if !value.is_finite() {
                return Err(ReportError::NonFinite { index, value });
            }
            lo = lo.min(value);
            hi = hi.max(value);
        }
        match self {
            ValueRange::Auto if lo > hi => Ok((0.0, 0.0)),
            ValueRange::Auto => Ok((lo, hi)),
            ValueRange::Fixed { min, max } => {
                if min.is_finite() && max.is_finite() && min <= max {
                    Ok((min, max))
                } else {
                    Err(ReportError::InvalidRange { min, max })
                }
            }
        }
    }
}

/// matplotlib's `Normalize`: `(v - lo) / (hi - lo)`, or `0` when `lo == hi`.
pub(crate) fn normalize(v: f64, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        (v - lo) / (hi - lo)
    } else {
        0.0
    }
}

/// The table index of a normalised value, as in matplotlib's `Colormap.__call__`:
/// `floor(x * 256)`, `x == 1` to 255, clipped to `0..=255` (NaN to 0).
///
/// # Examples
/// ```
/// use imgcluster::report::colormap::lut_index;
/// assert_eq!(lut_index(0.0), 0);
/// assert_eq!(lut_index(0.5), 128);
/// assert_eq!(lut_index(0.999), 255);
/// assert_eq!(lut_index(1.0), 255);
/// assert_eq!(lut_index(-3.0), 0);
/// ```
pub fn lut_index(x: f64) -> u8 {
    // `as` truncates toward zero, saturates, and maps NaN to 0.
    (x * LUT_SIZE as f64).clamp(0.0, (LUT_SIZE - 1) as f64) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_matches_matplotlib_bytes() {
        // `matplotlib.colormaps["viridis"](i, bytes=True)` (matplotlib 3.11).
        let lut = Colormap::Viridis.lut();
        for (i, rgb) in [
            (0, [68, 1, 84]),
            (1, [68, 2, 85]),
            (64, [58, 82, 139]),
            (128, [32, 144, 140]),
            (192, [94, 201, 97]),
            (254, [250, 230, 34]),
            (255, [253, 231, 36]),
        ] {
            assert_eq!(lut[i], Rgb::new(rgb[0], rgb[1], rgb[2]), "entry {i}");
        }
    }

    #[test]
    fn viridis_hex_endpoints_round_to_the_documented_colours() {
        let hex = |c: [f64; 3]| c.map(|v| (v * 255.0).round() as u8);
        assert_eq!(hex(Colormap::Viridis.entry(0)), [0x44, 0x01, 0x54]);
        assert_eq!(hex(Colormap::Viridis.entry(128)), [0x21, 0x91, 0x8c]);
        assert_eq!(hex(Colormap::Viridis.entry(255)), [0xfd, 0xe7, 0x25]);
    }

    #[test]
    fn gray_matches_matplotlib_including_its_rounding_dips() {
        // Entries where matplotlib's `gray(i, bytes=True)` is `i - 1` rather than `i`.
        let dips = [
            33, 37, 41, 45, 49, 53, 57, 61, 66, 74, 82, 90, 98, 106, 114, 122, 132, 148, 164, 180,
            196, 212, 228, 244,
        ];
        for (i, c) in Colormap::Gray.lut().iter().enumerate() {
            let want = if dips.contains(&i) { i - 1 } else { i } as u8;
            assert_eq!(*c, Rgb::new(want, want, want), "entry {i}");
        }
    }

    #[test]
    fn apply_bins_like_imshow() {
        // 0..=255 over the full range: floor(v / 255 * 256) clipped.
        let values: Vec<u8> = (0..=255).collect();
        let c = Colormap::Viridis
            .apply_u8(&values, ValueRange::Auto)
            .unwrap();
        for (v, color) in c.iter().enumerate() {
            let want = (v * 256 / 255).min(255);
            assert_eq!(*color, Colormap::Viridis.lut()[want], "value {v}");
        }
    }

    #[test]
    fn constant_input_takes_the_first_colour() {
        let c = Colormap::Viridis
            .apply(&[5.0, 5.0], ValueRange::Auto)
            .unwrap();
        assert_eq!(c, vec![Colormap::Viridis.lut()[0]; 2]);
    }

    #[test]
    fn fixed_range_clips() {
        let r = ValueRange::Fixed {
            min: 0.0,
            max: 10.0,
        };
        let c = Colormap::Gray.apply(&[-5.0, 5.0, 50.0], r).unwrap();
        assert_eq!(c[0], Rgb::BLACK);
        assert_eq!(c[1], Colormap::Gray.lut()[128]);
        assert_eq!(c[2], Rgb::WHITE);
    }

    #[test]
    fn bad_values_and_ranges_are_errors() {
        assert!(matches!(
            Colormap::Viridis.apply(&[1.0, f32::NAN], ValueRange::Auto),
            Err(ReportError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Colormap::Viridis.apply(&[1.0], ValueRange::Fixed { min: 2.0, max: 1.0 }),
            Err(ReportError::InvalidRange { .. })
        ));
        assert!(matches!(
            Colormap::Viridis.apply(
                &[1.0],
                ValueRange::Fixed {
                    min: 0.0,
                    max: f64::INFINITY
                }
            ),
            Err(ReportError::InvalidRange { .. })
        ));
    }
}
