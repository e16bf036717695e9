//! A fitted pipeline scored against the labels: on the part it was fitted on, and on a
//! held-out part that the fitted model predicts.

use std::time::{Duration, Instant};

use super::{Classes, FittedPipeline, ModelError};
use crate::dataset::{Dataset, Split};
use crate::features::{Pipeline, StageTimes};
use crate::kmeans::KMeansFit;
use crate::metrics::{ConfusionMatrix, Contingency, Evaluation};
use crate::{CvRng, Threads};

/// Scores of the held-out part, with the mapping learned on the training part.
#[derive(Debug, Clone)]
pub struct HeldOut {
    /// Number of held-out samples.
    pub n: usize,
    /// True × predicted classes.
    pub confusion: ConfusionMatrix,
    /// Normalized mutual information of the predicted clusters.
    pub nmi: f64,
    /// Adjusted Rand index of the predicted clusters.
    pub ari: f64,
}

/// A pipeline fitted on (part of) a data set and scored: what reports and figures show.
#[derive(Debug, Clone)]
pub struct ScoredFit {
    /// The pipeline as checked (its settings).
    pub pipeline: Pipeline,
    /// The fitted pipeline, with its classes when the data have labels.
    pub model: FittedPipeline,
    /// The k-means fit on the training part (its labels are the training clusters).
    pub fit: KMeansFit,
    /// Every sample after the model's image stage (deskewed or not), original order, labels
    /// kept; `None` when the samples were not in memory (a memory-mapped fit).
    pub images: Option<Dataset>,
    /// Number of samples, training and held-out.
    pub n_samples: usize,
    /// Cluster of every sample in original order (held-out samples predicted by the model).
    pub clusters: Vec<u32>,
    /// Number of training samples.
    pub n_train: usize,
    /// Scores on the training part, when labels are known.
    pub train: Option<Evaluation>,
    /// Scores on the held-out part, when there is one and labels are known.
    pub held_out: Option<HeldOut>,
    /// Wall time per stage of the fit.
    pub stages: StageTimes,
    /// Wall time of the fit (every stage, k-means included).
    pub fit_time: Duration,
    /// Wall time of predicting the held-out part.
    pub predict_time: Duration,
}

impl ScoredFit {
    /// Scores `model`, fitted by `pipeline` on the training part of `ds` (all of `ds`
    /// without a `split`, else `split.train`) and still holding its training clusters:
    /// learns the classes of the clusters from the training labels (when `ds` has labels;
    /// class names kept), predicts the held-out part with the fitted model — exactly as
    /// [`FittedPipeline::predict`] would later — and scores both parts. `fit_time` is the
    /// time the fit took.
    ///
    /// # Errors
    /// [`ModelError::Input`] when the model holds no training clusters or they do not
    /// match the training part; the errors of [`FittedPipeline::predict`]; metrics errors
    /// for labels out of range.
    pub fn new(
        pipeline: Pipeline,
        mut model: FittedPipeline,
        ds: &Dataset,
        split: Option<&Split>,
        fit_time: Duration,
        threads: Threads,
    ) -> Result<ScoredFit, ModelError> {
        let train = split.map_or(ds, |s| &s.train);
        let training = model
            .take_training()
            .ok_or_else(|| ModelError::Input("the model holds no training clusters".into()))?;
        let fit = training.fit;
        if fit.labels.len() != train.len() {
            return Err(ModelError::Input(format!(
                "{} training clusters for {} training samples",
                fit.labels.len(),
                train.len()
            )));
        }
        let mut train_eval = None;
        if let (Some(labels), Some(n_classes)) = (train.labels(), ds.n_classes()) {
            let names = ds.class_names().map(<[String]>::to_vec);
            let (classes, eval) = Classes::learn(labels, &fit.labels, n_classes, fit.k, names)?;
            model.set_classes(Some(classes))?;
            train_eval = Some(eval);
        }
        let t = Instant::now();
        let mut clusters = vec![0u32; ds.len()];
        let mut held_out = None;
        match split {
            None => clusters.copy_from_slice(&fit.labels),
            Some(s) => {
                for (&i, &c) in s.train_indices.iter().zip(&fit.labels) {
                    clusters[i] = c;
                }
                let preds = model.predict(&s.test, threads)?;
                for (&i, p) in s.test_indices.iter().zip(&preds) {
                    clusters[i] = p.cluster;
                }
                if let (Some(truth), Some(eval)) = (s.test.labels(), &train_eval) {
                    let held: Vec<u32> = preds.iter().map(|p| p.cluster).collect();
                    let table = Contingency::new(truth, &held, eval.mapping.n_classes(), fit.k)?;
                    held_out = Some(HeldOut {
                        n: s.test.len(),
                        confusion: ConfusionMatrix::from_contingency(&table, &eval.mapping)?,
                        nmi: table.nmi(),
                        ari: table.ari(),
                    });
                }
            }
        }
        let predict_time = t.elapsed();
        // Fitted on everything: the fit's own images are those of every sample.
        let images = match split {
            None => training.embedded.images,
            Some(_) => model.images(ds, threads)?,
        };
        Ok(ScoredFit {
            pipeline,
            model,
            fit,
            images: Some(images),
            n_samples: ds.len(),
            clusters,
            n_train: train.len(),
            train: train_eval,
            held_out,
            stages: training.times,
            fit_time,
            predict_time,
        })
    }

    /// The confusion matrix to report: held-out when there is one, else training.
    pub fn headline(&self) -> Option<&ConfusionMatrix> {
        match (&self.held_out, &self.train) {
            (Some(h), _) => Some(&h.confusion),
            (None, Some(t)) => Some(&t.confusion),
            _ => None,
        }
    }

    /// The name of the pipeline: its preset's, else `custom`.
    pub fn pipeline_name(&self) -> &str {
        self.model.record().preset.as_deref().unwrap_or("custom")
    }

    /// The class of cluster `c`, when classes were learned.
    pub fn class_of(&self, c: usize) -> Option<u32> {
        self.model.mapping().and_then(|m| m.get(c).copied())
    }

    /// The name of `class`: its class name, else its number.
    pub fn class_label(&self, class: u32) -> String {
        self.model
            .class_name(class)
            .map_or_else(|| class.to_string(), str::to_string)
    }

    /// Labels of classes `0..n` for tables and figures.
    pub fn class_labels(&self, n: usize) -> Vec<String> {
        (0..n as u32).map(|c| self.class_label(c)).collect()
    }

    /// A caption per cluster: `c{arrow}class` when classes were learned, else `cluster c`.
    pub fn cluster_captions(&self, arrow: &str) -> Vec<String> {
        (0..self.fit.k)
            .map(|c| match self.class_of(c) {
                Some(class) => format!("{c}{arrow}{}", self.class_label(class)),
                None => format!("cluster {c}"),
            })
            .collect()
    }

    /// Wall time of the stages before k-means, in milliseconds.
    pub fn features_ms(&self) -> f64 {
        let s = &self.stages;
        (s.deskew + s.features + s.pca + s.knn + s.spectral).as_secs_f64() * 1e3
    }

    /// Wall time of k-means, in milliseconds.
    pub fn kmeans_ms(&self) -> f64 {
        self.stages.kmeans.as_secs_f64() * 1e3
    }

    /// Wall time of the fit, in milliseconds.
    pub fn fit_ms(&self) -> f64 {
        self.fit_time.as_secs_f64() * 1e3
    }

    /// Wall time of predicting the held-out part, in milliseconds.
    pub fn predict_ms(&self) -> f64 {
        self.predict_time.as_secs_f64() * 1e3
    }
}

impl Pipeline {
    /// Fits the pipeline to `ds` — or, with `train_ratio` below 1, to the first
    /// `train_ratio` of each class ([`Dataset::split`]) — and scores it
    /// ([`ScoredFit::new`]): what `imgcluster classify` reports.
    ///
    /// # Errors
    /// [`ModelError::Dataset`] for a ratio outside `(0, 1]` or too few samples to split,
    /// [`ModelError::Features`] when the fit fails, and as [`ScoredFit::new`].
    ///
    /// # Examples
    /// ```
    /// use imgcluster::dataset::grid;
    /// use imgcluster::features::{PipelineParams, Preset};
    /// use imgcluster::CvRng;
    ///
    /// let p = PipelineParams::preset(Preset::TutorialDeskew, 10).check()?;
    /// let s = p.fit_scored(&grid::digits(), &CvRng::opencv_default(), Some(0.5))?;
    /// assert_eq!((s.n_train, s.held_out.as_ref().map(|h| h.n)), (2500, Some(2500)));
    /// assert_eq!(s.headline().unwrap().accuracy().format_percent(), "67.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_scored(
        &self,
        ds: &Dataset,
        rng: &CvRng,
        train_ratio: Option<f64>,
    ) -> Result<ScoredFit, ModelError> {
        let t = Instant::now();
        let split = match train_ratio {
            Some(r) if r < 1.0 => Some(ds.split(r)?),
            _ => None,
        };
        let model = self.fit(split.as_ref().map_or(ds, |s| &s.train), rng)?;
        ScoredFit::new(
            self.clone(),
            model,
            ds,
            split.as_ref(),
            t.elapsed(),
            self.threads(),
        )
    }
}
