//! The PNG figures of a scored fit: cluster centers, cluster mean images, confusion
//! matrix, and the deskew strip.

use super::{
    centers_grid, confusion_heatmap, deskew_strip, Colormap, GridOptions, HeatmapOptions,
    ReportError, TileStyle,
};
use crate::dataset::Dataset;
use crate::model::ScoredFit;
use crate::GrayImage;

/// Tiles per row in grids of clusters: the tutorial's 2 × 5 for ten clusters.
pub fn grid_cols(k: usize) -> usize {
    if k <= 10 {
        k.div_ceil(2).max(1)
    } else {
        10
    }
}

/// Figures of a scored fit as `(file name, PNG bytes)`, named `<stem>centers.png` and so
/// on: the centers when k-means
/// worked on the pixels, else the cluster mean images; the confusion matrix.
pub fn fit_figures(o: &ScoredFit, stem: &str) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut out = Vec::new();
    let fit = &o.fit;
    let name = o.pipeline_name();
    match o.images.as_ref().and_then(|d| d.image_shape()) {
        Some((h, w)) if fit.dims == h * w => {
            for (suffix, cmap) in [("", Colormap::Viridis), ("_gray", Colormap::Gray)] {
                let opts = GridOptions::new()
                    .cols(grid_cols(fit.k))
                    .colormap(cmap)
                    .scale(5)
                    .title(format!("{name}: {} cluster centers", fit.k))
                    .captions(o.cluster_captions(" -> "));
                out.push((
                    format!("{stem}centers{suffix}.png"),
                    centers_grid(&fit.centers, fit.k, h, w, &opts)?,
                ));
            }
        }
        _ => out.extend(cluster_means(o, stem)?),
    }
    if let Some(cm) = o.headline() {
        let n = cm.n_classes();
        let labels = o.class_labels(n);
        let acc = cm.accuracy();
        let opts = HeatmapOptions::new()
            .title(format!("{name}: accuracy {}%", acc.format_percent()))
            .row_labels(labels.clone())
            .col_labels(labels);
        out.push((
            format!("{stem}confusion.png"),
            confusion_heatmap(cm.as_slice(), n, n, &opts)?,
        ));
    }
    Ok(out)
}

/// The mean image of each cluster, `<stem>means.png` (viridis) and `<stem>means_gray.png`,
/// for pipelines whose k-means centers live in a feature space: the means of the images
/// after the image stage (deskew, if any), every sample in its cluster.
fn cluster_means(o: &ScoredFit, stem: &str) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let Some(images) = &o.images else {
        return Ok(Vec::new());
    };
    let Some((h, w)) = images.image_shape() else {
        return Ok(Vec::new());
    };
    let k = o.fit.k;
    let means = crate::features::cluster_means(images, &o.clusters, k)?;
    let mut out = Vec::new();
    for (suffix, cmap) in [("", Colormap::Viridis), ("_gray", Colormap::Gray)] {
        let opts = GridOptions::new()
            .cols(grid_cols(k))
            .colormap(cmap)
            .scale(5)
            .title(format!("{}: {k} cluster means", o.pipeline_name()))
            .captions(o.cluster_captions(" -> "));
        out.push((
            format!("{stem}means{suffix}.png"),
            centers_grid(&means, k, h, w, &opts)?,
        ));
    }
    Ok(out)
}

/// The samples shown in before/after strips: the first of each class, or the first ten.
pub fn example_indices(ds: &Dataset) -> Vec<usize> {
    match ds.labels() {
        Some(labels) => {
            let mut seen = Vec::new();
            let mut picks = Vec::new();
            for (i, &l) in labels.iter().enumerate() {
                if !seen.contains(&l) {
                    seen.push(l);
                    picks.push(i);
                }
            }
            picks
        }
        None => (0..ds.len().min(10)).collect(),
    }
}

/// Before/after deskew: the first image of each class (or the first ten images).
pub fn deskew_examples(before: &Dataset, after: &Dataset) -> Result<Vec<u8>, ReportError> {
    let picks = example_indices(before);
    let take = |ds: &Dataset| -> Vec<GrayImage> {
        picks
            .iter()
            .filter_map(|&i| ds.image(i).map(|v| v.to_owned()))
            .collect()
    };
    let style = TileStyle::new().colormap(Colormap::Gray).scale(5);
    deskew_strip(&take(before), &take(after), &style)
}
