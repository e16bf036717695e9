//! NumPy-style text for integer matrices.
//!
//! [`ConfusionMatrix`](super::ConfusionMatrix) and [`Contingency`](super::Contingency) print
//! the way NumPy's `print(array)` prints a 2-D integer array, so that a user coming from
//! Python (scikit-learn's `confusion_matrix` returns such an array) sees the same text.

use std::fmt::{self, Write as _};

/// How a matrix is printed: the subset of NumPy's `np.set_printoptions` that applies to
/// integer matrices.
///
/// [`PrintOptions::new`] (also [`Default`]) gives NumPy's defaults, which is what the
/// [`Display`](fmt::Display) implementations use.
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::{ConfusionMatrix, PrintOptions};
///
/// let cm = ConfusionMatrix::new(&[0, 1, 1], &[0, 1, 1], 2)?;
/// assert_eq!(cm.to_string(), "[[1 0]\n [0 2]]");
/// // A narrow line wraps rows the way NumPy does.
/// let narrow = PrintOptions::new().line_width(6);
/// assert_eq!(cm.display_with(narrow).to_string(), "[[1\n  0]\n [0\n  2]]");
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    line_width: usize,
    threshold: usize,
    edge_items: usize,
}

impl PrintOptions {
    /// NumPy's default print options: line width 75, threshold 1000, edge items 3.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::PrintOptions;
    ///
    /// let o = PrintOptions::new();
    /// assert_eq!((o.get_line_width(), o.get_threshold(), o.get_edge_items()), (75, 1000, 3));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            line_width: 75,
            threshold: 1000,
            edge_items: 3,
        }
    }

    /// Maximum characters per line before a row wraps (NumPy's `linewidth`; default 75).
    /// `usize::MAX` never wraps.
    #[must_use]
    pub const fn line_width(mut self, line_width: usize) -> Self {
        self.line_width = line_width;
        self
    }

    /// Matrices with more entries than this are summarised with `...` (NumPy's
    /// `threshold`; default 1000). `usize::MAX` never summarises.
    #[must_use]
    pub const fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Rows and columns kept at each edge of a summarised matrix (NumPy's `edgeitems`;
    /// default 3).
    #[must_use]
    pub const fn edge_items(mut self, edge_items: usize) -> Self {
        self.edge_items = edge_items;
        self
    }

    /// The line width.
    #[must_use]
    pub const fn get_line_width(&self) -> usize {
        self.line_width
    }

    /// The summarisation threshold.
    #[must_use]
    pub const fn get_threshold(&self) -> usize {
        self.threshold
    }

    /// The number of edge items.
    #[must_use]
    pub const fn get_edge_items(&self) -> usize {
        self.edge_items
    }
}

impl Default for PrintOptions {
    /// Same as [`PrintOptions::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// A row-major matrix of counts borrowed for printing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatrixDisplay<'a> {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: &'a [u64],
    pub(crate) options: PrintOptions,
}

/// Which indices of an axis of length `len` are shown: all of them, or the edges with a
/// `...` in between (NumPy's `show_summary`).
fn shown(len: usize, summarise: bool, edge: usize) -> (Vec<usize>, Option<usize>) {
    if summarise && edge.saturating_mul(2) < len {
        // NumPy prints `edge` leading items, `...`, then `edge` trailing items — but its
        // loop always prints the last item, so with `edge == 0` one item follows `...`.
        let trailing = edge.max(1);
        let mut idx: Vec<usize> = (0..edge).collect();
        idx.extend(len - trailing..len);
        (idx, Some(edge))
    } else {
        ((0..len).collect(), None)
    }
}

/// NumPy's `_extendLine`: appends `word` to `line`, first moving `line` into `out` when
/// the word would pass `width` (unless wrapping would not help).
fn extend_line(out: &mut String, line: &mut String, word: &str, width: usize, prefix: &str) {
    let needs_wrap = line.len() + word.len() > width && line.len() > prefix.len();
    if needs_wrap {
        out.push_str(line.trim_end());
        out.push('\n');
        line.clear();
        line.push_str(prefix);
    }
    line.push_str(word);
}

impl fmt::Display for MatrixDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            rows,
            cols,
            data,
            options,
        } = *self;
        if rows == 0 || cols == 0 {
            return f.write_str("[]");
        }
        let summarise = rows.saturating_mul(cols) > options.threshold;
        let edge = options.edge_items;
        let (row_idx, row_gap) = shown(rows, summarise, edge);
        let (col_idx, col_gap) = shown(cols, summarise, edge);
        // NumPy pads every entry to the width of the widest entry it shows; with
        // `edge_items == 0` its edge selection keeps the whole array.
        let width = if summarise && edge == 0 {
            data.iter().map(|v| digits(*v)).max().unwrap_or(0)
        } else {
            let (r, _) = shown(rows, summarise, edge.max(1));
            let (c, _) = shown(cols, summarise, edge.max(1));
            r.iter()
                .flat_map(|&i| c.iter().map(move |&j| digits(data[i * cols + j])))
                .max()
                .unwrap_or(0)
        };
        // The outer axis has hanging indent " "; each row is formatted with hanging indent
        // "  " and one character less of line width (for the closing bracket).
        let row_prefix = "  ";
        let elem_width = options.line_width.saturating_sub(2);
        let mut text = String::from(" ");
        for (n, &i) in row_idx.iter().enumerate() {
            if row_gap == Some(n) {
                text.push_str("...\n ");
            }
            let mut out = String::new();
            let mut line = String::from(row_prefix);
            let mut word = String::new();
            for (m, &j) in col_idx.iter().enumerate() {
                if col_gap == Some(m) {
                    extend_line(&mut out, &mut line, "...", elem_width, row_prefix);
                    line.push(' ');
                }
                word.clear();
                write!(word, "{:>width$}", data[i * cols + j])?;
                extend_line(&mut out, &mut line, &word, elem_width, row_prefix);
                if m + 1 < col_idx.len() {
                    line.push(' ');
                }
            }
            out.push_str(&line);
            text.push('[');
            text.push_str(&out[row_prefix.len()..]);
            text.push(']');
            if n + 1 < row_idx.len() {
                text.push_str("\n ");
            }
        }
        f.write_char('[')?;
        f.write_str(&text[1..])?;
        f.write_char(']')
    }
}

/// Number of decimal digits of `v`.
fn digits(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |d| d as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(rows: usize, cols: usize, data: &[u64], options: PrintOptions) -> String {
        MatrixDisplay {
            rows,
            cols,
            data,
            options,
        }
        .to_string()
    }

    #[test]
    fn defaults_are_numpys() {
        let o = PrintOptions::default();
        assert_eq!(o, PrintOptions::new());
        assert_eq!(o.get_line_width(), 75);
        assert_eq!(o.get_threshold(), 1000);
        assert_eq!(o.get_edge_items(), 3);
    }

    #[test]
    fn digits_counts_decimal_places() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(453), 3);
        assert_eq!(digits(u64::MAX), 20);
    }

    #[test]
    fn small_matrices() {
        let o = PrintOptions::new();
        assert_eq!(show(1, 1, &[5], o), "[[5]]");
        assert_eq!(show(2, 2, &[1, 0, 0, 12], o), "[[ 1  0]\n [ 0 12]]");
        assert_eq!(show(1, 3, &[1, 2, 3], o), "[[1 2 3]]");
        assert_eq!(show(3, 1, &[1, 2, 3], o), "[[1]\n [2]\n [3]]");
        assert_eq!(show(0, 3, &[], o), "[]");
    }
}
