//! Command-line arguments as parsed, before validation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Unsupervised image classification with k-means.
#[derive(Debug, Parser)]
#[command(name = "imgcluster", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reproduce OpenCV's k-means digits tutorial on the embedded digits.png.
    Tutorial(TutorialArgs),
    /// Cluster a data set with k-means and score the clusters against its labels.
    Classify(ClassifyArgs),
    /// Write preprocessed images or feature vectors to a .npy file.
    Features(FeaturesArgs),
}

#[derive(Debug, Args)]
pub struct TutorialArgs {
    /// Folder for the figures.
    #[arg(long, value_name = "DIR", default_value = "imgcluster-out")]
    pub out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Which data set to read.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Data set: a grid PNG (cells of --cell pixels, --classes bands of rows) or a .npy
    /// array (N x D or N x H x W; u8, f32 or f64). Default: the embedded digits.png.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Class labels as a .npy array of N non-negative integers.
    #[arg(long, value_name = "PATH")]
    pub labels: Option<PathBuf>,
    /// Cell size in pixels of a grid PNG.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub cell: u32,
    /// Number of classes of a grid PNG, as equal bands of rows from the top.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub classes: u32,
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
}

/// Which k-means to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// OpenCV's cv::kmeans, bit for bit.
    Opencv,
    /// Lloyd to convergence with bounds (--init random then means k random samples).
    Fast,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Preprocessing.
    #[arg(long, value_enum, default_value_t = FeaturesArg::Raw)]
    pub features: FeaturesArg,
    /// Number of clusters.
    #[arg(short = 'k', long = "clusters", value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: u32,
    /// Number of k-means runs; the most compact wins.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: u32,
    /// Iteration limit (OpenCV clamps it to 2..=100).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_iter: u32,
    /// Stop when no center moves more than this.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_epsilon)]
    pub epsilon: f64,
    /// Initial centers.
    #[arg(long, value_enum, default_value_t = InitArg::Random)]
    pub init: InitArg,
    /// k-means flavour.
    #[arg(long, value_enum, default_value_t = ModeArg::Opencv)]
    pub mode: ModeArg,
    /// Initial centers as a .npy of float32, K x D (needs --mode fast).
    #[arg(long, value_name = "FILE.npy")]
    pub init_centers: Option<PathBuf>,
    /// Seed as cv2.setRNGSeed(N); without it, OpenCV's default generator state.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<i32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Cluster the first R of each row (or class) and score the rest by nearest center.
    #[arg(long, value_name = "R", value_parser = parse_ratio)]
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
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Preprocessing.
    #[arg(long, value_enum)]
    pub features: FeaturesArg,
    /// Output .npy file.
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
}

fn parse_epsilon(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s} must be a finite number >= 0"));
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
