//! The confusion-matrix heat map.

use super::canvas::{text_size, Canvas};
use super::colormap::{normalize, Colormap, ValueRange};
use super::error::ReportError;
use super::figures::{BACKGROUND, FRAME, GAP, INK, MARGIN};
use super::font::ASCENT;

/// Length of tick marks, in pixels.
const TICK: usize = 4;
/// Space between the end of a tick mark and its label, in pixels.
const TICK_PAD: usize = 6;

/// Options of [`confusion_heatmap`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HeatmapOptions {
    /// Colormap of the cells, on the counts' minimum..maximum like `imshow`.
    /// Default: [`Colormap::Viridis`].
    pub colormap: Colormap,
    /// Title above the matrix. Default: none.
    pub title: Option<String>,
    /// One tick label per row, or the row numbers `0, 1, …` when empty. Default: empty.
    pub row_labels: Vec<String>,
    /// One tick label per column, or the column numbers when empty. Default: empty.
    pub col_labels: Vec<String>,
    /// Name of the row axis, written upwards on the left. Default: `"true"`.
    pub row_axis: String,
    /// Name of the column axis, written under the matrix. Default: `"predicted"`.
    pub col_axis: String,
    /// Integer scale of the 5×7 font. Default: 2.
    pub text_scale: usize,
}

impl Default for HeatmapOptions {
    fn default() -> Self {
        Self {
            colormap: Colormap::Viridis,
            title: None,
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            row_axis: "true".to_owned(),
            col_axis: "predicted".to_owned(),
            text_scale: 2,
        }
    }
}

impl HeatmapOptions {
    /// The defaults: viridis, no title, numbered ticks, axes "true" and "predicted",
    /// text scale 2.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{Colormap, HeatmapOptions};
    /// let o = HeatmapOptions::new();
    /// assert_eq!(o.colormap, Colormap::Viridis);
    /// assert_eq!((o.row_axis.as_str(), o.col_axis.as_str()), ("true", "predicted"));
    /// assert_eq!(o.text_scale, 2);
    /// assert!(o.title.is_none() && o.row_labels.is_empty() && o.col_labels.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the colormap.
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.colormap = colormap;
        self
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the row tick labels.
    pub fn row_labels<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.row_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the column tick labels.
    pub fn col_labels<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.col_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the row axis name.
    pub fn row_axis(mut self, name: impl Into<String>) -> Self {
        self.row_axis = name.into();
        self
    }

    /// Sets the column axis name.
    pub fn col_axis(mut self, name: impl Into<String>) -> Self {
        self.col_axis = name.into();
        self
    }

    /// Sets the font scale.
    pub fn text_scale(mut self, text_scale: usize) -> Self {
        self.text_scale = text_scale;
        self
    }
}

/// Tick labels: the given ones, or `0..n` when none are given.
fn tick_labels(given: &[String], n: usize, what: &'static str) -> Result<Vec<String>, ReportError> {
    if given.is_empty() {
        Ok((0..n).map(|i| i.to_string()).collect())
    } else if given.len() == n {
        Ok(given.to_vec())
    } else {
        Err(ReportError::LengthMismatch {
            what,
            expected: n,
            actual: given.len(),
        })
    }
}

/// The smallest side of the grid of cells, per unit of text scale, in pixels.
const MIN_GRID_PER_SCALE: usize = 150;

/// "Nice" tick values (1, 2 or 5 times a power of ten apart) within `lo..=hi`, at most
/// `max_ticks` of them; just `lo` when the range is empty, and `lo, hi` when no two
/// nice values fit.
fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if hi <= lo || max_ticks < 2 {
        return vec![lo];
    }
    let raw = (hi - lo) / (max_ticks - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0); // counts are integers
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last > first {
        (first..=last).map(|i| i as f64 * step).collect()
    } else {
        vec![lo, hi]
    }
}

/// A confusion matrix of `rows` × `cols` counts (row-major: `counts[r * cols + c]` is
/// the number of samples of true class `r` predicted as `c`) drawn as a heat map.
///
/// Cells are coloured like `imshow(counts)`: the colormap over the smallest..largest
/// count. Every cell shows its count, white on dark cells and black on light ones.
/// Rows carry the "true" axis, columns the "predicted" axis (names configurable), and
/// a colour bar with tick values stands on the right.
///
/// # Errors
/// [`ReportError::ZeroSize`] if `rows`, `cols` or `text_scale` is zero;
/// [`ReportError::LengthMismatch`] if `counts` or a non-empty label list has the wrong
/// length; [`ReportError::TooLarge`] if the figure would be too large.
///
/// # Examples
/// ```
/// use imgcluster::report::{confusion_heatmap, HeatmapOptions};
/// let counts = [50, 2, 3, 45];
/// let opts = HeatmapOptions::new().title("k-means").col_labels(["a", "b"]);
/// let png = confusion_heatmap(&counts, 2, 2, &opts)?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn confusion_heatmap(
    counts: &[u64],
    rows: usize,
    cols: usize,
    opts: &HeatmapOptions,
) -> Result<Vec<u8>, ReportError> {
    for (what, n) in [
        ("rows", rows),
        ("cols", cols),
        ("text_scale", opts.text_scale),
    ] {
        if n == 0 {
            return Err(ReportError::ZeroSize { what });
        }
    }
    let expected = rows.saturating_mul(cols);
    if counts.len() != expected {
        return Err(ReportError::LengthMismatch {
            what: "counts",
            expected,
            actual: counts.len(),
        });
    }
    let row_labels = tick_labels(&opts.row_labels, rows, "row_labels")?;
    let col_labels = tick_labels(&opts.col_labels, cols, "col_labels")?;
    draw(counts, rows, cols, &row_labels, &col_labels, opts)?.to_png()
}

fn draw(
    counts: &[u64],
    rows: usize,
    cols: usize,
    row_labels: &[String],
    col_labels: &[String],
    opts: &HeatmapOptions,
) -> Result<Canvas, ReportError> {
    let ts = opts.text_scale;
    let title_scale = ts.saturating_add(1);
    let cap_h = ASCENT.saturating_mul(ts); // height of digits and capitals
    let width_of = |s: &str| text_size(s, ts).0;
    let max_width = |v: &[String]| v.iter().map(|s| width_of(s)).max().unwrap_or(0);
    let line_h = text_size("0", ts).1;

    // Colours from 0 to the largest count: counts are never negative, and a scale that
    // started at the smallest count would paint a few errors like none.
    let (lo, hi) = ValueRange::Auto.resolve(counts.iter().map(|&c| c as f64).chain([0.0]))?;
    let texts: Vec<String> = counts.iter().map(u64::to_string).collect();

    // Square cells that fit the widest count and the widest column label.
    let pad = ts.saturating_mul(3);
    // A few classes get larger cells, so the figure is never a thumbnail.
    let min_grid = ts.saturating_mul(MIN_GRID_PER_SCALE);
    let cell = max_width(&texts)
        .max(max_width(col_labels))
        .max(line_h)
        .saturating_add(pad.saturating_mul(2))
        .max(min_grid / rows.max(cols).max(1));
    let grid_w = cell.saturating_mul(cols);
    let grid_h = cell.saturating_mul(rows);

    let (row_axis_len, _) = text_size(&opts.row_axis, ts);
    let (col_axis_w, col_axis_h) = text_size(&opts.col_axis, ts);
    let title = opts.title.as_deref().unwrap_or("");
    let (title_w, title_h) = text_size(title, title_scale);

    // Colour bar ticks: about one per three lines of text.
    let max_ticks = (grid_h / line_h.saturating_mul(3)).clamp(2, 6);
    let ticks = nice_ticks(lo, hi, max_ticks);
    let tick_texts: Vec<String> = ticks.iter().map(|t| format!("{t}")).collect();
    let bar_w = ts.saturating_mul(8);

    // Horizontal layout, left to right.
    let axis_x = MARGIN;
    let row_labels_right = (axis_x + GAP)
        .saturating_add(line_h)
        .saturating_add(max_width(row_labels));
    let grid_x = row_labels_right.saturating_add(TICK_PAD + TICK + 1);
    let bar_x = grid_x.saturating_add(grid_w).saturating_add(2 * GAP);
    let bar_labels_x = bar_x
        .saturating_add(bar_w)
        .saturating_add(1 + TICK + TICK_PAD);
    let mut width = bar_labels_x
        .saturating_add(max_width(&tick_texts))
        .saturating_add(MARGIN);
    width = width.max(title_w.saturating_add(2 * MARGIN));
    width = width.max(grid_x.saturating_add(col_axis_w).saturating_add(MARGIN));

    // Vertical layout, top to bottom.
    let grid_y = MARGIN.saturating_add(if title_h > 0 {
        title_h.saturating_add(GAP)
    } else {
        0
    });
    let col_labels_y = grid_y
        .saturating_add(grid_h)
        .saturating_add(1 + TICK + TICK_PAD);
    let col_axis_y = col_labels_y.saturating_add(line_h).saturating_add(GAP / 2);
    let mut height = col_axis_y.saturating_add(col_axis_h).saturating_add(MARGIN);
    height = height.max(grid_y.saturating_add(row_axis_len).saturating_add(MARGIN));

    let mut canvas = Canvas::new(width, height, BACKGROUND)?;

    // Title, centred on the matrix but kept inside the figure.
    let centre = grid_x + grid_w / 2;
    let title_x = centre
        .saturating_sub(title_w / 2)
        .clamp(MARGIN, width - MARGIN - title_w);
    canvas.draw_text(title_x, MARGIN, title, INK, title_scale);

    // Cells with their counts.
    for (i, (&count, text)) in counts.iter().zip(&texts).enumerate() {
        let (r, c) = (i / cols, i % cols);
        let (x, y) = (grid_x + c * cell, grid_y + r * cell);
        let color = opts.colormap.at(normalize(count as f64, lo, hi));
        canvas.fill_rect(x, y, cell, cell, color);
        let tx = x + (cell - width_of(text)) / 2;
        let ty = y + (cell - cap_h) / 2;
        canvas.draw_text(tx, ty, text, color.contrasting(), ts);
    }
    canvas.stroke_rect(grid_x - 1, grid_y - 1, grid_w + 2, grid_h + 2, FRAME);

    // Row ticks and labels (right-aligned), then the rotated row axis name.
    for (r, label) in row_labels.iter().enumerate() {
        let cy = grid_y + r * cell + cell / 2;
        canvas.fill_rect(grid_x - 1 - TICK, cy, TICK, 1, FRAME);
        let x = row_labels_right - width_of(label);
        canvas.draw_text(x, cy - cap_h / 2, label, INK, ts);
    }
    let axis_y = (grid_y + grid_h / 2)
        .saturating_sub(row_axis_len / 2)
        .max(grid_y);
    canvas.draw_text_up(axis_x, axis_y, &opts.row_axis, INK, ts);

    // Column ticks and labels, then the column axis name.
    for (c, label) in col_labels.iter().enumerate() {
        let cx = grid_x + c * cell + cell / 2;
        canvas.fill_rect(cx, grid_y + grid_h + 1, 1, TICK, FRAME);
        canvas.draw_text_centered(cx, col_labels_y, label, INK, ts);
    }
    let col_axis_x = centre
        .saturating_sub(col_axis_w / 2)
        .clamp(grid_x, width - MARGIN - col_axis_w);
    canvas.draw_text(col_axis_x, col_axis_y, &opts.col_axis, INK, ts);

    // Colour bar: the colormap from bottom (lowest count) to top, with tick values.
    let span = grid_h.saturating_sub(1).max(1) as f64;
    for j in 0..grid_h {
        let frac = (grid_h - 1 - j) as f64 / span;
        canvas.fill_rect(bar_x, grid_y + j, bar_w, 1, opts.colormap.at(frac));
    }
    canvas.stroke_rect(bar_x - 1, grid_y - 1, bar_w + 2, grid_h + 2, FRAME);
    for (t, text) in ticks.iter().zip(&tick_texts) {
        let frac = normalize(*t, lo, hi);
        let ty = grid_y + ((1.0 - frac) * span).round() as usize;
        canvas.fill_rect(bar_x + bar_w + 1, ty, TICK, 1, FRAME);
        let label_y = ty.saturating_sub(cap_h / 2);
        canvas.draw_text(bar_labels_x, label_y, text, INK, ts);
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_are_round_and_in_range() {
        assert_eq!(
            nice_ticks(0.0, 500.0, 6),
            vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0]
        );
        assert_eq!(nice_ticks(3.0, 47.0, 5), vec![20.0, 40.0]);
        assert_eq!(nice_ticks(0.0, 3.0, 6), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(7.0, 7.0, 6), vec![7.0]);
        assert_eq!(nice_ticks(0.0, 40.0, 2), vec![0.0, 40.0]);
    }

    #[test]
    fn default_labels_are_numbers() {
        assert_eq!(tick_labels(&[], 3, "x").unwrap(), ["0", "1", "2"]);
        assert!(matches!(
            tick_labels(&["a".to_owned()], 3, "x"),
            Err(ReportError::LengthMismatch {
                expected: 3,
                actual: 1,
                ..
            })
        ));
    }
}
