//! CSV files: one sample per row, comma-separated numbers.
//!
//! * **Header**: the first row is a header when one of its fields is not a number while the
//!   same column of the second row is (with a single row: when a field is not a number).
//!   Fields may be wrapped in double quotes; quoted commas are not supported.
//! * **Label column** ([`LabelColumn`]): by default the column named `label`, `class` or `y`
//!   (in that order of preference, ignoring case) when the header has one, else none.
//!   Labels that are all non-negative integers are used as they are; otherwise the distinct
//!   label texts, sorted, become the class names and each label is the index of its name.
//! * **Values**: read as `f32`; when every value is a whole number in `0..=255`, the data are
//!   kept as u8. NaN and infinities are errors.
//! * **Shape**: rows of `D` values are `H×W` images when a shape is given (`H·W = D`), or
//!   square `√D×√D` images when `D` is a perfect square, else plain vectors.
//!
//! Empty lines are skipped; a UTF-8 byte-order mark is ignored; every error names its line.

use std::path::Path;

use super::{Dataset, DatasetError, Pixels};

/// Which column holds the class labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LabelColumn {
    /// The header's column named `label`, `class` or `y` (ignoring case), if any; else none.
    #[default]
    Auto,
    /// The first column.
    First,
    /// The last column.
    Last,
    /// No labels: every column is a value.
    None,
    /// The column with this header name (needs a header row).
    Name(String),
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// The label column. Default [`LabelColumn::Auto`].
    pub label_column: LabelColumn,
    /// `(height, width)` of the images the rows hold. Default `None`: square images when the
    /// number of values is a perfect square, else vectors.
    pub shape: Option<(usize, usize)>,
}

fn err(line: usize, reason: impl Into<String>) -> DatasetError {
    DatasetError::Csv {
        line,
        reason: reason.into(),
    }
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .map_or(f, str::trim)
}

fn is_number(field: &str) -> bool {
    unquote(field).parse::<f64>().is_ok()
}

/// The non-empty lines with their 1-based line numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
}

fn square_side(d: usize) -> Option<usize> {
    let s = (d as f64).sqrt().round() as usize;
    (s * s == d).then_some(s)
}

/// Whether the first row of `text` is a header: a field that is not a number above one that
/// is (or, for a single row, any field that is not a number).
fn is_header(text: &str) -> bool {
    let mut rows = lines(text);
    let Some((_, first)) = rows.next() else {
        return false;
    };
    let first: Vec<&str> = first.split(',').collect();
    match rows.next() {
        Some((_, second)) => {
            let second: Vec<&str> = second.split(',').collect();
            first
                .iter()
                .zip(second.iter().chain(std::iter::repeat(&"0")))
                .any(|(a, b)| !is_number(a) && is_number(b))
        }
        None => first.iter().any(|f| !is_number(f)),
    }
}

/// A note for the user when the first row of a CSV file (`head`, its first bytes) is taken
/// as a header although a field of it looks like a number that is not written in decimal
/// (`0x10`, `1,5` with a decimal comma, `12px`): the row is then not data, which the user
/// may not expect. `None` when there is no header or it is plainly made of names.
///
/// # Examples
/// ```
/// use imgcluster::dataset::csv::header_notice;
/// assert!(header_notice(b"0x10,2\n1,2\n").unwrap().contains("0x10"));
/// assert_eq!(header_notice(b"label,a\n1,2\n"), None);
/// assert_eq!(header_notice(b"1,2\n3,4\n"), None);
/// ```
pub fn header_notice(head: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    // Only whole lines: the head may end inside one.
    let text = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => text,
    };
    if !is_header(text) {
        return None;
    }
    let (_, first) = lines(text).next()?;
    let numeric_looking = first.split(',').map(unquote).find(|f| {
        !is_number(f)
            && f.trim_start_matches(['+', '-', '.'])
                .starts_with(|c: char| c.is_ascii_digit())
    })?;
    let shown: String = first.chars().take(60).collect();
    Some(format!(
        "the first row ({shown}) is read as a header of column names, because \
         {numeric_looking} is not a decimal number; if that row is data, write its numbers in \
         decimal"
    ))
}

/// Parses CSV text into a data set (see the module documentation).
///
/// # Errors
/// [`DatasetError::Csv`] naming the line for a row of another length, an empty or
/// non-numeric value, a non-finite value, a bad label, or a label column that does not
/// exist; [`DatasetError::Empty`] when there is no data row;
/// [`DatasetError::InvalidParameter`] for a shape that does not fit the rows.
///
/// # Examples
/// ```
/// use imgcluster::dataset::csv::{parse, CsvOptions};
/// let ds = parse("label,a,b,c,d\n1,0,255,3,4\n0,9,9,9,9\n", &CsvOptions::default())?;
/// assert_eq!(ds.labels(), Some(&[1, 0][..]));
/// assert_eq!(ds.image_shape(), Some((2, 2)));
/// assert_eq!(ds.describe(), "2 images of 2x2 u8");
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
pub fn parse(text: &str, opts: &CsvOptions) -> Result<Dataset, DatasetError> {
    let mut rows = lines(text).peekable();
    let Some(&(first_no, first)) = rows.peek() else {
        return Err(DatasetError::Empty);
    };
    let first_fields: Vec<&str> = first.split(',').collect();
    let header = is_header(text);
    let names: Option<Vec<String>> = header.then(|| {
        rows.next();
        first_fields
            .iter()
            .map(|f| unquote(f).to_string())
            .collect()
    });
    let n_cols = first_fields.len();
    let label_col: Option<usize> =
        match &opts.label_column {
            LabelColumn::None => None,
            LabelColumn::First => Some(0),
            LabelColumn::Last => Some(n_cols - 1),
            LabelColumn::Auto => names.as_ref().and_then(|names| {
                ["label", "class", "y"]
                    .iter()
                    .find_map(|want| names.iter().position(|n| n.eq_ignore_ascii_case(want)))
            }),
            LabelColumn::Name(want) => {
                let Some(names) = &names else {
                    return Err(err(
                        first_no,
                        format!("no header row, so there is no column named '{want}'"),
                    ));
                };
                Some(names.iter().position(|n| n == want).ok_or_else(|| {
                    err(first_no, format!("the header has no column named '{want}'"))
                })?)
            }
        };
    let dims = n_cols - usize::from(label_col.is_some());
    if dims == 0 {
        return Err(err(first_no, "no value columns besides the label column"));
    }

    let mut values: Vec<f32> = Vec::new();
    let mut label_texts: Vec<&str> = Vec::new();
    let mut all_u8 = true;
    let mut n = 0usize;
    for (line, row) in rows {
        let mut count = 0usize;
        for (col, field) in row.split(',').enumerate() {
            count += 1;
            if count > n_cols {
                continue;
            }
            if Some(col) == label_col {
                label_texts.push(unquote(field));
                continue;
            }
            let f = unquote(field);
            if f.is_empty() {
                return Err(err(line, format!("column {} is empty", col + 1)));
            }
            let v: f32 = f
                .parse()
                .map_err(|_| err(line, format!("column {}: '{f}' is not a number", col + 1)))?;
            if !v.is_finite() {
                return Err(err(
                    line,
                    format!("column {}: '{f}' is not a finite number", col + 1),
                ));
            }
            all_u8 &= v.fract() == 0.0 && (0.0..=255.0).contains(&v);
            values.push(v);
        }
        if count != n_cols {
            return Err(err(
                line,
                format!(
                    "{count} fields, but the {} has {n_cols}",
                    if header { "header" } else { "first row" }
                ),
            ));
        }
        n += 1;
    }
    if n == 0 {
        return Err(DatasetError::Empty);
    }
    let shape = match opts.shape {
        Some((h, w)) if h.checked_mul(w) != Some(dims) => {
            return Err(DatasetError::InvalidParameter {
                name: "shape",
                reason: format!("{h}x{w} images do not have the {dims} values of a row"),
            })
        }
        Some(s) => Some(s),
        None => square_side(dims).map(|s| (s, s)),
    };
    let ds = match (all_u8, shape) {
        (true, Some((h, w))) => {
            Dataset::from_images(n, h, w, values.into_iter().map(|v| v as u8).collect())?
        }
        (true, None) => Dataset::from_features(
            n,
            dims,
            None,
            Pixels::U8(values.into_iter().map(|v| v as u8).collect()),
        )?,
        (false, shape) => Dataset::from_features(n, dims, shape, Pixels::F32(values))?,
    };
    if label_col.is_none() {
        return Ok(ds);
    }
    let data_lines: Vec<usize> = lines(text)
        .skip(usize::from(header))
        .map(|(l, _)| l)
        .collect();
    let (labels, class_names) = parse_labels(&label_texts, &data_lines)?;
    let ds = ds.with_labels(labels)?;
    match class_names {
        Some(names) => ds.with_class_names(names),
        None => Ok(ds),
    }
}

/// Integer labels as they are, or text labels as indices into their sorted distinct values.
fn parse_labels(
    texts: &[&str],
    line_of: &[usize],
) -> Result<(Vec<u32>, Option<Vec<String>>), DatasetError> {
    if let Some(i) = texts.iter().position(|t| t.is_empty()) {
        return Err(err(line_of[i], "the label is empty"));
    }
    if texts.iter().all(|t| is_number(t)) {
        let labels = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let x: f64 = t.parse().unwrap_or(f64::NAN);
                if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) {
                    Ok(x as u32)
                } else {
                    Err(err(
                        line_of[i],
                        format!("label '{t}' is not a non-negative whole number"),
                    ))
                }
            })
            .collect::<Result<Vec<u32>, _>>()?;
        return Ok((labels, None));
    }
    let mut names: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    names.sort();
    names.dedup();
    let labels = texts
        .iter()
        .map(|t| names.binary_search_by(|n| n.as_str().cmp(t)).unwrap_or(0) as u32)
        .collect();
    Ok((labels, Some(names)))
}

/// Reads a CSV file (UTF-8 text) and parses it with [`parse`]. The file is read once (a pipe
/// works too), and what is not text — a NUL byte in its first bytes, as in `/dev/zero` or a
/// binary file — is refused before the rest is read.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, else as [`parse`] (or
/// [`DatasetError::Csv`] for bytes that are not UTF-8 text), tagged with the path.
pub fn read(path: &Path, opts: &CsvOptions) -> Result<Dataset, DatasetError> {
    read_input(super::input::Input::open(path)?, opts)
}

/// [`read`] of an opened input.
pub(super) fn read_input(
    input: super::input::Input,
    opts: &CsvOptions,
) -> Result<Dataset, DatasetError> {
    let path = input.path().to_path_buf();
    if let Some(at) = input.head().iter().position(|&b| b == 0) {
        let line = 1 + input.head()[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(err(line, "a NUL byte: this is binary data, not CSV text").in_file(&path));
    }
    let bytes = input.read_all(u64::MAX)?;
    parse_bytes(&bytes, opts).map_err(|e| e.in_file(&path))
}

/// Parses CSV bytes with [`parse`], once they are known to be UTF-8.
///
/// # Errors
/// [`DatasetError::Csv`] naming the line of the first byte that is not UTF-8, else as
/// [`parse`].
pub fn parse_bytes(bytes: &[u8], opts: &CsvOptions) -> Result<Dataset, DatasetError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        err(
            line,
            format!(
                "not UTF-8 text (byte 0x{:02X}); save the file as UTF-8 (Latin-1 and other \
                 encodings are not read)",
                bytes[at]
            ),
        )
    })?;
    parse(text, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(label_column: LabelColumn) -> CsvOptions {
        CsvOptions {
            label_column,
            shape: None,
        }
    }

    fn msg(text: &str, o: &CsvOptions) -> String {
        parse(text, o).unwrap_err().to_string()
    }

    #[test]
    fn headers_are_detected() {
        let no_header = parse("1,2,3,4\n5,6,7,8\n", &CsvOptions::default()).unwrap();
        assert_eq!(no_header.len(), 2);
        assert_eq!(no_header.labels(), None);
        let quoted = parse(
            "\u{feff}\"x\",\"y\"\r\n0.5,1\r\n\r\n",
            &CsvOptions::default(),
        )
        .unwrap();
        assert_eq!(quoted.len(), 1);
        assert_eq!(quoted.describe(), "1 images of 1x1 f32");
        assert_eq!(quoted.labels(), Some(&[1][..]));
    }

    #[test]
    fn label_columns() {
        let t = "a,b,class\n1,2,3\n4,5,6\n";
        let auto = parse(t, &CsvOptions::default()).unwrap();
        assert_eq!(auto.labels(), Some(&[3, 6][..]));
        assert_eq!(auto.dims(), 2);
        let first = parse(t, &opts(LabelColumn::First)).unwrap();
        assert_eq!(first.labels(), Some(&[1, 4][..]));
        let named = parse(t, &opts(LabelColumn::Name("b".into()))).unwrap();
        assert_eq!(named.labels(), Some(&[2, 5][..]));
        let none = parse(t, &opts(LabelColumn::None)).unwrap();
        assert_eq!((none.labels(), none.dims()), (None, 3));
        let last = parse("1,2,0\n3,4,1\n", &opts(LabelColumn::Last)).unwrap();
        assert_eq!(last.labels(), Some(&[0, 1][..]));
        assert!(msg(t, &opts(LabelColumn::Name("z".into()))).contains("no column named 'z'"));
        assert!(msg("1,2\n", &opts(LabelColumn::Name("z".into()))).contains("no header"));
    }

    #[test]
    fn text_labels_become_class_names() {
        let ds = parse("dog,1,2\ncat,3,4\ndog,5,6\n", &opts(LabelColumn::First)).unwrap();
        assert_eq!(ds.class_names().unwrap(), ["cat", "dog"]);
        assert_eq!(ds.labels(), Some(&[1, 0, 1][..]));
        let with_header = parse("species,a\nsetosa,1.5\n", &CsvOptions::default());
        // 'species' is not a recognised label name: no labels, and the text is an error.
        assert!(with_header.unwrap_err().to_string().contains("line 2"));
    }

    #[test]
    fn values_u8_or_f32_and_shapes() {
        let u8s = parse("0,255,7,1\n", &CsvOptions::default()).unwrap();
        assert_eq!(u8s.describe(), "1 images of 2x2 u8");
        let floats = parse("0,256,7\n", &CsvOptions::default()).unwrap();
        assert_eq!(floats.describe(), "1 vectors of 3 f32");
        let shaped = CsvOptions {
            label_column: LabelColumn::None,
            shape: Some((1, 4)),
        };
        assert_eq!(
            parse("1,2,3,4\n", &shaped).unwrap().image_shape(),
            Some((1, 4))
        );
        let bad_shape = CsvOptions {
            shape: Some((3, 3)),
            ..shaped
        };
        assert!(parse("1,2,3,4\n", &bad_shape).is_err());
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let d = CsvOptions::default();
        assert_eq!(
            msg("1,2,3\n4,5\n", &d),
            "line 2: 2 fields, but the first row has 3"
        );
        assert!(msg("a,b\n1,2\n\n3,4,5\n", &d).starts_with("line 4: 3 fields"));
        assert!(msg("1,2\n3,x\n", &d).contains("line 2: column 2: 'x' is not a number"));
        assert!(msg("1,2\n3,\n", &d).contains("line 2: column 2 is empty"));
        assert!(msg("1,2\n3,inf\n", &d).contains("not a finite number"));
        assert!(msg("label,v\n-1,2\n", &d).contains("line 2: label '-1'"));
        assert!(matches!(parse("", &d), Err(DatasetError::Empty)));
        assert!(matches!(parse("a,b\n", &d), Err(DatasetError::Empty)));
        assert!(msg("label\n1\n", &d).contains("no value columns"));
    }
}
