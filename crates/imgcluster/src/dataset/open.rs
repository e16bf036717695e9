//! One entry point for every data set format: [`open`] recognises the format from the
//! content ([`sniff`]) unless told ([`Format`]), and [`open_labels`] reads a labels file.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::csv::{CsvOptions, LabelColumn};
use super::grid::{check_header, cut_grid, GridLayout};
use super::idx::{self, GZIP_MAGIC};
use super::imageio::{decode_gray, image_kind};
use super::input::Input;
use super::{folder, memory, npy, Dataset, DatasetError};
use crate::Threads;

/// A data set format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// Recognise the format from the content (see [`sniff`]). The default.
    #[default]
    Auto,
    /// An OpenCV-style grid image (PNG, or JPEG): equal square cells, classes in bands of rows.
    Grid,
    /// A NumPy `.npy` array, N×D or N×H×W.
    Npy,
    /// An IDX file (MNIST), plain or gzipped.
    Idx,
    /// A folder with one sub-folder of PNG/JPEG images per class.
    Folder,
    /// A CSV file, one sample per row.
    Csv,
}

impl Format {
    /// The lower-case name: `auto`, `grid`, `npy`, `idx`, `folder` or `csv`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Grid => "grid",
            Format::Npy => "npy",
            Format::Idx => "idx",
            Format::Folder => "folder",
            Format::Csv => "csv",
        }
    }
}

/// How [`open`] reads a data set. Every setting has a default (see each setter), so
/// `OpenOptions::new()` opens any format with its usual conventions.
///
/// # Examples
/// ```
/// use imgcluster::dataset::{Format, OpenOptions};
/// use imgcluster::dataset::csv::LabelColumn;
/// let o = OpenOptions::new().format(Format::Csv).label_column(LabelColumn::First);
/// assert_eq!(o.get_format(), Format::Csv);
/// assert_eq!(OpenOptions::new().get_format(), Format::Auto);
/// ```
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    format: Format,
    grid: GridLayout,
    labels: Option<PathBuf>,
    size: Option<(usize, usize)>,
    csv: CsvOptions,
    threads: Threads,
}

impl OpenOptions {
    /// The defaults: [`Format::Auto`], [`GridLayout::default`] (20-pixel cells, 10 classes),
    /// no labels file, folder images at the first image's size, [`LabelColumn::Auto`], CSV
    /// shape from a perfect square, [`Threads::Auto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The format; [`Format::Auto`] (the default) sniffs it.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The layout of a grid image. Default [`GridLayout::default`]. When a labels file is
    /// given, the grid's class bands are not used.
    pub fn grid(mut self, layout: GridLayout) -> Self {
        self.grid = layout;
        self
    }

    /// A labels file ([`open_labels`]) to attach to the samples. Default none.
    pub fn labels(mut self, path: impl Into<PathBuf>) -> Self {
        self.labels = Some(path.into());
        self
    }

    /// The `(height, width)` every image of a folder data set is resized to. Default `None`:
    /// the size of the first image.
    pub fn size(mut self, size: Option<(usize, usize)>) -> Self {
        self.size = size;
        self
    }

    /// The label column of a CSV file. Default [`LabelColumn::Auto`].
    pub fn label_column(mut self, column: LabelColumn) -> Self {
        self.csv.label_column = column;
        self
    }

    /// The `(height, width)` of the images held in the rows of a CSV file, or of a `.npy`
    /// or IDX file of flat vectors (N × `height · width`). Default `None`: for CSV, square
    /// when the row length is a perfect square; for `.npy` and IDX, the file's own shape.
    pub fn shape(mut self, shape: Option<(usize, usize)>) -> Self {
        self.csv.shape = shape;
        self
    }

    /// Threads for decoding the images of a folder. Default [`Threads::Auto`]; the result
    /// does not depend on it.
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The format asked for.
    pub fn get_format(&self) -> Format {
        self.format
    }
}

fn io_err(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// True when `head` (the start of a file) looks like text: no NUL byte, and UTF-8 except
/// perhaps for a character cut at the end, or else text in
/// another encoding (no control character but white space, which the CSV reader then
/// refuses as not UTF-8, naming the line).
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) if e.error_len().is_none() => true,
        // Text in an 8-bit encoding has no control character but white space.
        Err(_) => !head
            .iter()
            .any(|&b| (b < 0x20 && !b.is_ascii_whitespace()) || b == 0x7f),
    }
}

/// Recognises the format of a data set from its content: a folder is [`Format::Folder`];
/// a file starting with the PNG or JPEG magic is [`Format::Grid`], with `\x93NUMPY`
/// [`Format::Npy`], with an IDX header (`00 00 08 0N`), or gzip (`1f 8b`) holding one,
/// [`Format::Idx`]; other UTF-8 text is [`Format::Csv`] (unless the file name ends in
/// `.png`, `.jpg`, `.jpeg`, `.npy` or `.gz`, which is then an error). Never returns
/// [`Format::Auto`].
///
/// It reads the file's first bytes, so a pipe or FIFO given here loses them: open such an
/// input once with [`Input::open`], then [`sniff_input`] and [`open_input`].
///
/// # Errors
/// [`DatasetError::Io`] when the path cannot be read; [`DatasetError::Unrecognised`] (tagged
/// with the path) for an empty file, a gzip file without IDX data, or unknown content.
pub fn sniff(path: &Path) -> Result<Format, DatasetError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        return Ok(Format::Folder);
    }
    sniff_head(path, Input::open(path)?.head())
}

/// [`sniff`] of a file's first bytes.
fn sniff_head(path: &Path, head: &[u8]) -> Result<Format, DatasetError> {
    let unrecognised = |msg: &str| DatasetError::Unrecognised(msg.to_string()).in_file(path);
    if head.is_empty() {
        return Err(unrecognised("the file is empty"));
    }
    if image_kind(head).is_some() {
        return Ok(Format::Grid);
    }
    if head.starts_with(b"\x93NUMPY") {
        return Ok(Format::Npy);
    }
    if idx::looks_like_idx(head) {
        return Ok(Format::Idx);
    }
    if head.starts_with(GZIP_MAGIC) {
        let mut inner = [0u8; 4];
        let mut z = flate2::read::GzDecoder::new(head);
        return match z.read_exact(&mut inner) {
            Ok(()) if idx::looks_like_idx(&inner) => Ok(Format::Idx),
            _ => Err(unrecognised(
                "a gzip file that does not start with IDX data (only IDX files may be gzipped)",
            )),
        };
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(kind) = ext.as_deref().and_then(|e| match e {
        "png" => Some("a PNG image"),
        "jpg" | "jpeg" => Some("a JPEG image"),
        "npy" => Some("a .npy array"),
        "gz" => Some("a gzip file"),
        _ => None,
    }) {
        return Err(unrecognised(&format!(
            "the name says {kind} but the content is not one"
        )));
    }
    if looks_like_text(head) {
        return Ok(Format::Csv);
    }
    Err(unrecognised(
        "expected a grid PNG/JPEG, a .npy array, an IDX file (optionally gzipped), a CSV file, \
         or a folder with one sub-folder of images per class",
    ))
}

/// Opens a data set in any supported format (recognised by [`sniff`] unless
/// [`OpenOptions::format`] says), and attaches the labels file if one is given.
///
/// Labels come from the format where it has them (grid bands, folder classes, a CSV label
/// column) unless a labels file is given; a folder, or a CSV file with a label column, cannot
/// also take a labels file. Classes are the distinct label values: labels that skip values
/// are renumbered in increasing order of value, the values kept as class names
/// ([`Dataset::with_dense_labels`]).
///
/// # Errors
/// Every error names the file at fault: [`DatasetError::Io`], or [`DatasetError::InFile`]
/// wrapping the format's own error (the data file's, or the labels file's).
///
/// # Examples
/// ```
/// use imgcluster::dataset::{idx, open, OpenOptions};
/// let dir = std::env::temp_dir().join(format!("imgcluster-doc-open-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let (images, labels) = (dir.join("images-idx3-ubyte"), dir.join("labels-idx1-ubyte"));
/// std::fs::write(&images, idx::encode(&[2, 2, 2], &[0, 0, 0, 0, 9, 9, 9, 9]))?;
/// std::fs::write(&labels, idx::encode(&[2], &[3, 5]))?;
/// let ds = open(&images, &OpenOptions::new().labels(&labels))?;
/// assert_eq!(ds.describe(), "2 images of 2x2 u8");
/// assert_eq!(ds.labels(), Some(&[0, 1][..]));
/// assert_eq!(ds.class_names().unwrap(), ["3", "5"]);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open(path: &Path, opts: &OpenOptions) -> Result<Dataset, DatasetError> {
    let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    if is_dir && matches!(opts.format, Format::Auto | Format::Folder) {
        let ds = folder::read(path, opts.size, opts.threads).map_err(|e| e.in_file(path))?;
        return attach_labels(ds, Format::Folder, opts);
    }
    open_input(Input::open(path)?, opts)
}

/// [`open`] of a file already opened as an [`Input`] (whose head [`sniff_input`] may have
/// looked at): the way to open a pipe whose format the caller needs to know first, since a
/// pipe can be read only once.
///
/// # Errors
/// As [`open`].
pub fn open_input(input: Input, opts: &OpenOptions) -> Result<Dataset, DatasetError> {
    let (ds, format) = open_file(input, opts)?;
    attach_labels(ds, format, opts)
}

/// Recognises the format of an opened file from its head, as [`sniff`] does.
///
/// # Errors
/// As [`sniff`].
pub fn sniff_input(input: &Input) -> Result<Format, DatasetError> {
    sniff_head(input.path(), input.head())
}

/// `ds` (read as `format`) with the labels file of `opts` attached, if one is given, and its
/// classes made dense.
fn attach_labels(ds: Dataset, format: Format, opts: &OpenOptions) -> Result<Dataset, DatasetError> {
    let Some(labels_path) = &opts.labels else {
        return Ok(ds.with_dense_labels());
    };
    if ds.labels().is_some() && format != Format::Grid {
        let why = match format {
            Format::Folder => "a folder data set takes its labels from its class sub-folders",
            _ => "the CSV file has a label column (choose none to use a labels file)",
        };
        return Err(DatasetError::InvalidParameter {
            name: "labels",
            reason: why.to_string(),
        }
        .in_file(labels_path));
    }
    let labels = read_labels(labels_path, Some(ds.len()))?;
    ds.with_labels(labels)
        .map(Dataset::with_dense_labels)
        .map_err(|e| e.in_file(labels_path))
}

/// [`open`] of one file, read once: its format recognised and its header checked (memory,
/// grid layout, image size) from its first bytes, before the rest is read.
fn open_file(input: Input, opts: &OpenOptions) -> Result<(Dataset, Format), DatasetError> {
    let path = input.path().to_path_buf();
    let in_file = |e: DatasetError| e.in_file(&path);
    let format = match opts.format {
        Format::Auto => sniff_head(&path, input.head())?,
        f => f,
    };
    memory::check_head(input.head(), input.len(), format).map_err(in_file)?;
    let ds = match format {
        Format::Grid => {
            let layout = GridLayout {
                classes: opts.labels.is_none().then_some(opts.grid.classes).flatten(),
                ..opts.grid
            };
            check_header(input.head(), layout).map_err(in_file)?;
            let bytes = input.read_all(u64::MAX)?;
            decode_gray(&bytes)
                .and_then(|img| cut_grid(img.view(), layout))
                .map_err(in_file)?
        }
        Format::Npy => {
            let max = npy::stream_bound(input.head()).map_err(in_file)?;
            let bytes = input.read_all(max)?;
            npy::parse(&bytes)
                .and_then(|a| a.into_dataset())
                .and_then(|ds| shaped(ds, opts.csv.shape))
                .map_err(in_file)?
        }
        Format::Idx => {
            let max = idx::stream_bound(input.head()).map_err(in_file)?;
            let bytes = input.read_all(max)?;
            idx::parse(&bytes)
                .and_then(|a| a.into_dataset())
                .and_then(|ds| shaped(ds, opts.csv.shape))
                .map_err(in_file)?
        }
        Format::Csv => super::csv::read_input(input, &opts.csv)?,
        Format::Folder => {
            return Err(in_file(DatasetError::InvalidParameter {
                name: "format",
                reason: "the folder format needs a folder; this is a file".to_string(),
            }))
        }
        Format::Auto => unreachable!("sniff_head never returns Auto"),
    };
    Ok((ds, format))
}

/// Reads a labels file: a `.npy` array of non-negative integers (1-D or N×1), or an IDX
/// labels file (idx1, plain or gzipped), recognised by content.
///
/// # Errors
/// [`DatasetError::Io`] when it cannot be read; else the format's error tagged with the path.
pub fn open_labels(path: &Path) -> Result<Vec<u32>, DatasetError> {
    read_labels(path, None)
}

/// [`open_labels`] for a data set of `samples` samples: a header that states another count is
/// refused from the file's first bytes, before the labels are read (or inflated).
///
/// # Errors
/// As [`open_labels`]; [`DatasetError::LabelCount`] (tagged with the path) for another count.
pub fn open_labels_for(path: &Path, samples: usize) -> Result<Vec<u32>, DatasetError> {
    read_labels(path, Some(samples))
}

fn read_labels(path: &Path, samples: Option<usize>) -> Result<Vec<u32>, DatasetError> {
    let input = Input::open(path)?;
    let in_file = |e: DatasetError| e.in_file(path);
    let head = input.head();
    let npy = head.starts_with(b"\x93NUMPY");
    let (declared, max) = if npy {
        (
            npy::header_shape(head).map(|(n, _)| n),
            npy::stream_bound(head),
        )
    } else if idx::looks_like_idx(head) || head.starts_with(GZIP_MAGIC) {
        (idx::header_values(head), idx::stream_bound(head))
    } else {
        return Err(in_file(DatasetError::Unrecognised(
            "expected labels as a .npy array or an IDX labels file (idx1, optionally gzipped)"
                .to_string(),
        )));
    };
    if let (Some(declared), Some(samples)) = (declared, samples)
        && declared != samples as u64
    {
        return Err(in_file(DatasetError::LabelCount {
            labels: usize::try_from(declared).unwrap_or(usize::MAX),
            samples,
        }));
    }
    let bytes = input.read_all(max.map_err(in_file)?)?;
    if npy {
        npy::parse(&bytes).and_then(|a| a.into_labels())
    } else {
        idx::parse(&bytes).and_then(|a| a.into_labels())
    }
    .map_err(in_file)
}

/// `ds` with its rows read as images of `shape`, when given: flat rows of `h · w` values
/// become `h × w` images (a data set already of that shape is kept).
fn shaped(ds: Dataset, shape: Option<(usize, usize)>) -> Result<Dataset, DatasetError> {
    let Some((h, w)) = shape else {
        return Ok(ds);
    };
    if ds.image_shape() == Some((h, w)) {
        return Ok(ds);
    }
    if h.checked_mul(w) != Some(ds.dims()) {
        return Err(DatasetError::InvalidParameter {
            name: "shape",
            reason: format!(
                "{h}x{w} images have {} values, but the samples have {}",
                h.saturating_mul(w),
                ds.dims()
            ),
        });
    }
    let (n, dims) = (ds.len(), ds.dims());
    let labels = ds.labels().map(<[u32]>::to_vec);
    let names = ds.class_names().map(<[String]>::to_vec);
    let mut out = Dataset::from_features(n, dims, Some((h, w)), ds.into_pixels())?;
    if let Some(l) = labels {
        out = out.with_labels(l)?;
    }
    if let Some(n) = names {
        out = out.with_class_names(n)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::encode_gray8;
    use std::io::Write;

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(name: &str) -> Self {
            let d = std::env::temp_dir().join(format!(
                "imgcluster-open-test-{name}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
        fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sniffs_every_format() {
        let t = TempDir::new("sniff");
        let idx3 = idx::encode(&[1, 2, 2], &[0; 4]);
        let cases = [
            ("g.png", encode_gray8(2, 2, &[0; 4]).unwrap(), Format::Grid),
            ("g.jpg", b"\xff\xd8\xff\xe0".to_vec(), Format::Grid),
            ("a.bin", npy::encode_u8(&[1, 1], &[0]), Format::Npy),
            ("i", idx3.clone(), Format::Idx),
            ("i.gz", gzip(&idx3), Format::Idx),
            ("t.txt", b"1,2\n".to_vec(), Format::Csv),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(sniff(&t.file(name, &bytes)).unwrap(), want, "{name}");
        }
        assert_eq!(sniff(&t.0).unwrap(), Format::Folder);
        for (name, bytes, says) in [
            ("empty", &b""[..], "empty"),
            ("z.gz", &gzip(b"hello")[..], "gzip"),
            ("bin", &[0xde, 0xad, 0, 1][..], "expected a grid"),
            ("notes.png", &b"hello"[..], "name says a PNG image"),
        ] {
            let e = sniff(&t.file(name, bytes)).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(says), "{e}");
        }
        assert!(matches!(
            sniff(&t.0.join("missing")),
            Err(DatasetError::Io { .. })
        ));
    }

    #[test]
    fn open_with_labels_and_errors_name_files() {
        let t = TempDir::new("labels");
        let data = t.file("x.csv", b"1,2,3,4\n5,6,7,8\n");
        let labels = t.file("y.npy", &npy::encode_i32(&[2], &[1, 0]));
        let ds = open(&data, &OpenOptions::new().labels(&labels)).unwrap();
        assert_eq!(ds.labels(), Some(&[1, 0][..]));
        let short = t.file("short.gz", &gzip(&idx::encode(&[1], &[0])));
        let e = open(&data, &OpenOptions::new().labels(&short)).unwrap_err();
        assert_eq!(e.file(), Some(short.as_path()));
        assert!(e.to_string().contains("1 labels for 2 samples"), "{e}");
        let labelled = t.file("l.csv", b"label,a\n0,1\n");
        let e = open(&labelled, &OpenOptions::new().labels(&labels)).unwrap_err();
        assert!(e.to_string().contains("label column"), "{e}");
        let bad = t.file("bad.csv", b"1,2\n3\n");
        let e = open(&bad, &OpenOptions::new()).unwrap_err().to_string();
        assert!(e.contains("bad.csv: line 2"), "{e}");
        let e = open(&bad, &OpenOptions::new().format(Format::Idx))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv: not a valid IDX file"), "{e}");
        let e = open_labels(&data).unwrap_err().to_string();
        assert!(e.contains("x.csv") && e.contains("expected labels"), "{e}");
    }

    #[test]
    fn grid_labels_file_replaces_bands() {
        let t = TempDir::new("grid");
        let png = t.file("g.png", &encode_gray8(4, 2, &[0; 8]).unwrap());
        let grid = GridLayout {
            cell: 2,
            classes: Some(1),
        };
        let ds = open(&png, &OpenOptions::new().grid(grid)).unwrap();
        assert_eq!(ds.labels(), Some(&[0, 0][..]));
        let labels = t.file("l.npy", &npy::encode_u8(&[2], &[4, 2]));
        let ds = open(&png, &OpenOptions::new().grid(grid).labels(&labels)).unwrap();
        // Classes by value: 2 and 4 become classes 0 and 1, named by their values.
        assert_eq!(ds.labels(), Some(&[1, 0][..]));
        assert_eq!(ds.class_names().unwrap(), ["2", "4"]);
    }
}
