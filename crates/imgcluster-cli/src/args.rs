//! Command-line arguments as parsed, before validation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use imgcluster::features::Preset;
use imgcluster::Threads;

/// `--threads N` as the library takes it: all cores without it; more than four threads per
/// core only add overhead (results never depend on the count), so larger counts are
/// lowered to that, with a warning.
pub fn threads(t: Option<u32>) -> Threads {
    let Some(n) = t else {
        return Threads::Auto;
    };
    let most = 4 * Threads::Auto.count();
    if n as usize > most {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!(
                "imgcluster: warning: --threads {n} is more than 4 per core on this machine's {} \
             cores; using {most} (the results are the same)",
                Threads::Auto.count()
            );
        }
        return Threads::Fixed(most);
    }
    Threads::Fixed(n as usize)
}

/// Unsupervised image classification with k-means.
#[derive(Debug, Parser)]
#[command(name = "imgcluster", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress bars or spinners on standard error.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "progress",
        display_order = 900
    )]
    pub quiet: bool,
    /// Progress bars on standard error: when it is a terminal (auto), always, or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ProgressArg::Auto, display_order = 901)]
    pub progress: ProgressArg,
}

/// When to draw progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// When standard error is a terminal.
    Auto,
    /// Also when standard error is a file or a pipe.
    Always,
    /// Never (as --quiet).
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reproduce OpenCV's k-means digits tutorial on the embedded digits.png.
    Tutorial(TutorialArgs),
    /// Cluster a data set with k-means and score the clusters against its labels.
    Classify(ClassifyArgs),
    /// Write preprocessed images or feature vectors to a .npy file.
    Features(FeaturesArgs),
    /// Classify new images (or a data set) with a model saved by `classify --model-out`.
    Predict(PredictArgs),
    /// Reduce the colours of a PNG or JPEG image to K with k-means (OpenCV's colour quantization).
    Quantize(QuantizeArgs),
}

#[derive(Debug, Args)]
pub struct TutorialArgs {
    /// Folder for the figures.
    #[arg(long, value_name = "DIR", default_value = "imgcluster-out")]
    pub out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Pipelines of the closing ablation table (repeat the flag or separate by commas).
    /// Default: all four, from tutorial-raw to best.
    #[arg(long, value_enum, value_name = "P", value_delimiter = ',')]
    pub pipeline: Vec<PipelineArg>,
}

/// A named pipeline (see `imgcluster::features::Preset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PipelineArg {
    /// The tutorial: k-means on the raw pixels.
    TutorialRaw,
    /// The tutorial after its deskew.
    TutorialDeskew,
    /// Deskew, HOG descriptors, k-means++.
    Hog,
    /// HOG, PCA, kNN graph, spectral embedding, k-means++; deskew decided by the data.
    Best,
}

impl PipelineArg {
    /// The library preset.
    pub fn preset(self) -> Preset {
        match self {
            PipelineArg::TutorialRaw => Preset::TutorialRaw,
            PipelineArg::TutorialDeskew => Preset::TutorialDeskew,
            PipelineArg::Hog => Preset::Hog,
            PipelineArg::Best => Preset::Best,
        }
    }
}

/// Which data set to read.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Data set: a grid PNG (cells of --cell pixels, --classes bands of rows), a .npy array
    /// (N x D or N x H x W; u8, f32 or f64), an IDX file (MNIST, optionally gzipped), a CSV
    /// file, or a folder with one sub-folder of PNG/JPEG images per class. The format is
    /// recognised from the content. Without it, classify and features use the embedded
    /// digits.png.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Class labels: a .npy array of N non-negative integers, or an IDX labels file.
    #[arg(long, value_name = "PATH")]
    pub labels: Option<PathBuf>,
    /// Format of --data, instead of recognising it from the content.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,
    /// Folder data sets: bring every image to HxW pixels (default: the first image's size).
    #[arg(long, value_name = "HxW", value_parser = parse_hxw)]
    pub size: Option<Hw>,
    /// CSV: the label column: first, last, none, or a header name (default: the column
    /// named label, class or y, if any).
    #[arg(long, value_name = "COLUMN")]
    pub label_column: Option<String>,
    /// CSV, .npy, IDX: rows of H·W values are HxW images (default: CSV square when the row
    /// length is a perfect square; .npy and IDX as the file's shape says).
    #[arg(long, value_name = "HxW", value_parser = parse_hxw)]
    pub shape: Option<Hw>,
    /// Cell size in pixels of a grid PNG.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = parse_count)]
    pub cell: u32,
    /// Number of classes of a grid PNG, as equal bands of rows from the top.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_count)]
    pub classes: u32,
}

/// Data set formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Recognise the format from the content.
    Auto,
    /// Grid PNG (or JPEG) of square cells.
    Grid,
    /// NumPy .npy array.
    Npy,
    /// IDX file (MNIST), plain or gzipped.
    Idx,
    /// Folder with one sub-folder of images per class.
    Folder,
    /// CSV file, one sample per row.
    Csv,
}

/// A size given as HxW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hw {
    pub height: usize,
    pub width: usize,
}

/// Preprocessing applied to each image before clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeaturesArg {
    /// The pixels as they are.
    Raw,
    /// The tutorial's deskew (image moments, affine shear, bicubic).
    Deskew,
}

/// How initial centers are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// Uniformly in the data's bounding box (KMEANS_RANDOM_CENTERS).
    Random,
    /// k-means++ (KMEANS_PP_CENTERS).
    Pp,
    /// k-means|| (Spark's scalable k-means++: 2 rounds of 2K candidates; needs --mode fast).
    #[value(alias = "kmeans||")]
    Parallel,
}

/// Which k-means to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// OpenCV's cv::kmeans, bit for bit.
    Opencv,
    /// Lloyd to convergence with bounds (--init random then means k random samples).
    Fast,
}

/// Which fast-mode algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// Lloyd's iterations over all samples, to convergence.
    Lloyd,
    /// Mini-batch k-means (scikit-learn's MiniBatchKMeans).
    Minibatch,
}

/// When `classify` memory-maps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MmapArg {
    /// When it saves memory: fast mode on a raw u8 or f32 .npy.
    Auto,
    /// Whenever the data and options allow it; an error otherwise.
    Always,
    /// Never: read the data into memory.
    Never,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Preprocessing: shorthand for --pipeline tutorial-raw or tutorial-deskew.
    #[arg(long, value_enum, default_value_t = FeaturesArg::Raw)]
    pub features: FeaturesArg,
    /// Pipeline (default: tutorial-raw, or the one --features names).
    #[arg(long, value_enum, value_name = "P", conflicts_with = "features")]
    pub pipeline: Option<PipelineArg>,
    /// Number of clusters [default: the number of classes when labels are known, else 10].
    #[arg(short = 'k', long = "clusters", value_name = "K", value_parser = parse_count)]
    pub k: Option<u32>,
    /// Number of k-means runs; the most compact wins.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_count)]
    pub attempts: u32,
    /// Iteration limit (OpenCV clamps it to 2..=100) [default: 10; hog, best: 100].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_iter: Option<u32>,
    /// Stop when no center moves more than this [default: 1.0; hog, best: f32::EPSILON].
    #[arg(long, value_name = "X", value_parser = parse_epsilon, allow_negative_numbers = true)]
    pub epsilon: Option<f64>,
    /// Initial centers [default: random; hog, best: pp].
    #[arg(long, value_enum)]
    pub init: Option<InitArg>,
    /// k-means flavour.
    #[arg(long, value_enum, default_value_t = ModeArg::Opencv)]
    pub mode: ModeArg,
    /// Algorithm of --mode fast: Lloyd's iterations over all samples, or mini-batch k-means
    /// (scikit-learn's MiniBatchKMeans: centers move after each random batch; --max-iter
    /// counts epochs, --epsilon is its relative tol [default 0: off], --attempts seeds on
    /// samples of 3 batches and keeps the best).
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Lloyd)]
    pub algorithm: AlgorithmArg,
    /// Samples per batch of --algorithm minibatch [default: 1024].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub batch_size: Option<u32>,
    /// Read a .npy --data in place (memory-mapped) rather than into memory, so a data set
    /// larger than the memory can be clustered: the OS pages the samples in and out, only
    /// labels and bounds are allocated. auto: for a u8 or f32 .npy with --mode fast and no
    /// preprocessing or held-out part (nothing that needs a copy of the samples); always
    /// (or --mmap alone): whenever possible, else an error; never: always read. The file must
    /// not change during the run: a truncation stops it with an error.
    #[arg(long, value_enum, value_name = "WHEN", num_args = 0..=1, default_value_t = MmapArg::Auto, default_missing_value = "always")]
    pub mmap: MmapArg,
    /// Initial centers as a .npy of float32, K x D (needs --mode fast).
    #[arg(long, value_name = "FILE.npy")]
    pub init_centers: Option<PathBuf>,
    /// Seed as cv2.setRNGSeed(N); without it, OpenCV's default generator state.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<i32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u32>,
    /// Cluster the first R of each row (or class) and score the rest by nearest center.
    #[arg(long, value_name = "R", value_parser = parse_ratio, allow_negative_numbers = true)]
    pub train_ratio: Option<f64>,
    /// Folder for figures (centers, confusion matrix).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the cluster of every sample as a .npy of int32.
    #[arg(long, value_name = "FILE.npy")]
    pub labels_out: Option<PathBuf>,
    /// Write the centers as a .npy of float32, K x D.
    #[arg(long, value_name = "FILE.npy")]
    pub centers_out: Option<PathBuf>,
    /// Save the fitted pipeline (every learned stage, the centers, the cluster -> class
    /// mapping) for `predict`: a safetensors file, format version 2.
    #[arg(long, value_name = "FILE")]
    pub model_out: Option<PathBuf>,
    /// Write a self-contained HTML report (scores, confusion matrix, centers, samples).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run as one rank of an MPI job (`mpirun -n P imgcluster classify --distributed …`, a
    /// binary built with `--features mpi`): fast-mode k-means (Lloyd or --algorithm
    /// minibatch) of one u8 or f32 .npy --data, each rank mapping only its own rows (or its
    /// own file, with `{rank}` in the name); labels and centers as one process would find
    /// them. --labels-out is written by all ranks into one file, replaced only when every
    /// rank succeeded. Rank 0 prints the report.
    #[arg(long)]
    pub distributed: bool,
}

impl ClassifyArgs {
    /// `--threads`.
    pub fn threads(&self) -> Threads {
        threads(self.threads)
    }
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// What to write.
    #[arg(long, value_enum)]
    pub features: FeaturesOutArg,
    /// Output .npy file.
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Clusters, for --features best (embedding dimensions) [default: the number of
    /// classes when labels are known, else 10].
    #[arg(short = 'k', long = "clusters", value_name = "K", value_parser = parse_count)]
    pub k: Option<u32>,
    /// Seed as cv2.setRNGSeed(N) for the k-means that decides deskew in --features best.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<i32>,
    /// Keep one part of the data set, split as `classify --train-ratio R` splits it: the
    /// first R of each grid row (or class) is the training part, the rest held out.
    #[arg(long, value_name = "R", value_parser = parse_ratio, allow_negative_numbers = true)]
    pub train_ratio: Option<f64>,
    /// With --train-ratio: the part to write.
    #[arg(long, value_enum, default_value_t = PartArg::HeldOut, requires = "train_ratio")]
    pub part: PartArg,
    /// Also write the class labels of the samples written, as a .npy of int32.
    #[arg(long, value_name = "FILE.npy")]
    pub labels_out: Option<PathBuf>,
}

/// A part of a split data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartArg {
    /// The samples `classify --train-ratio` holds out and scores.
    HeldOut,
    /// The samples `classify --train-ratio` clusters.
    Train,
}

/// What `features` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeaturesOutArg {
    /// The images as they are (u8, N x H x W).
    Raw,
    /// The tutorial's deskewed images (u8, N x H x W).
    Deskew,
    /// HOG descriptors of the deskewed images, as the hog pipeline clusters them (f32, N x D).
    Hog,
    /// The spectral embedding the best pipeline clusters, of its chosen variant (f32, N x K).
    Best,
}

#[derive(Debug, Args)]
#[command(mut_arg("data", |a| a.help(
    "Data set to classify instead of image files: a grid PNG, a .npy array, an IDX file, a CSV \
     file or a folder of class folders, as classify reads them (vectors must have the model's \
     length). Its labels, if any, score the predictions."
)))]
pub struct PredictArgs {
    /// Model saved by `classify --model-out`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// PNG or JPEG files of any size and colour (made gray and resized to the model's size).
    #[arg(value_name = "IMAGE", conflicts_with = "data")]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u32>,
    /// Print CSV (path,cluster,class,distance) instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print one JSON object (with accuracy and confusion matrix when labels are known).
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML report of the predictions (scores when labels are known).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Leave every image as it is. By default an image whose polarity (light strokes on a
    /// dark background, or dark on light: the median of its outer ring against the middle
    /// of its range) is the opposite of the training images' is inverted first.
    #[arg(long)]
    pub keep_polarity: bool,
}

#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// Input image: a PNG (gray, RGB, RGBA or palette; alpha is ignored) or a JPEG.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Number of colours.
    #[arg(short = 'k', long = "colors", value_name = "K", default_value_t = 8, value_parser = parse_count)]
    pub k: u32,
    /// Output PNG (RGB).
    #[arg(short, long, value_name = "OUT.png")]
    pub out: PathBuf,
    /// Number of k-means runs; the most compact wins.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_count)]
    pub attempts: u32,
    /// Iteration limit (OpenCV clamps it to 2..=100).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_count)]
    pub max_iter: u32,
    /// Stop when no center moves more than this (in 0..255 colour units).
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_epsilon, allow_negative_numbers = true)]
    pub epsilon: f64,
    /// Initial centers.
    #[arg(long, value_enum, default_value_t = InitArg::Random)]
    pub init: InitArg,
    /// Seed as cv2.setRNGSeed(N); without it, OpenCV's default generator state.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<i32>,
    /// Fit on at most this many pixels (every s-th pixel of larger images), then give
    /// every pixel its nearest center.
    #[arg(long, value_name = "N", default_value_t = imgcluster::quantize::DEFAULT_MAX_SAMPLES as u32, value_parser = parse_count)]
    pub max_samples: u32,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_hxw(s: &str) -> Result<Hw, String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{s}' is not HxW (e.g. 28x28)"))?;
    match (h.trim().parse::<usize>(), w.trim().parse::<usize>()) {
        (Ok(height), Ok(width)) if height >= 1 && width >= 1 => Ok(Hw { height, width }),
        _ => Err(format!(
            "'{s}' is not HxW with whole numbers of at least 1 (e.g. 28x28)"
        )),
    }
}

fn parse_epsilon(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s} must be a finite number >= 0"));
    }
    if !(v * v).is_finite() {
        return Err(format!(
            "{s} is too large: k-means compares its square, which overflows (at most 1e154)"
        ));
    }
    Ok(v)
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !(v > 0.0 && v <= 1.0) {
        return Err(format!("{s} must be in (0, 1]"));
    }
    Ok(v)
}

/// The most worker threads `--threads` takes.
pub const MAX_THREADS: u32 = 1024;

fn parse_threads(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(v) if (1..=MAX_THREADS).contains(&v) => Ok(v),
        _ => Err(format!(
            "'{s}' must be a whole number from 1 to {MAX_THREADS}"
        )),
    }
}

fn parse_count(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(format!("'{s}' must be a whole number of at least 1")),
    }
}
