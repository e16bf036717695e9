//! The rules of the `best` pipeline, one at a time: accuracy on four data sets, and the
//! held-out accuracy of the final rules.
//!
//! `cargo run --release -p imgcluster --example ablation -- DIR` reads the data sets that
//! `scripts/accuracy.py` writes into `DIR` (`mnist5k.npy`, `sklearn_digits.npy`,
//! `shapes.npy`, each with its `_labels.npy`; the digits are embedded) and prints two
//! Markdown tables:
//!
//! 1. **Ablation.** Starting from the rules `best` had before (PCA scores as projected, the
//!    maximum of the two directions of an edge, `K` unweighted eigenvectors, no upscale, no
//!    smoothing), each row adds one rule to the row above; the last of those rows is `best`
//!    itself (checked against [`Preset::Best`]). Then rows of variants that were measured
//!    and not kept. Each cell: mean / min accuracy over seeds 1–5, Hungarian matching of
//!    clusters to classes; time: the median wall time of one fit on the digits (the
//!    images in memory, two variants of the deskew decision included).
//! 2. **Held out.** For every set: `best` fitted on the first 80% of every class (as
//!    `classify --train-ratio 0.8` splits it), then the other 20% predicted by the fitted
//!    model (classes learned from the training part), against the accuracy on the same 20%
//!    when all the samples are clustered at once, with seed 1.

use std::path::Path;
use std::time::Instant;

use imgcluster::dataset::{grid, open, Dataset, OpenOptions};
use imgcluster::features::{
    GraphStage, HogOptions, PcaOptions, PipelineParams, Preset, Union, Whiten,
};
use imgcluster::metrics::{evaluate, Mapping};
use imgcluster::{CvRng, Threads};

const SEEDS: [i32; 5] = [1, 2, 3, 4, 5];

/// One row: its name and the pipeline of `k` clusters.
struct Row {
    name: &'static str,
    make: fn(usize) -> PipelineParams,
}

/// `best` with the rules of the rows up to `level` (0: the rules before any of them).
fn up_to(level: usize, k: usize) -> PipelineParams {
    let mut hog = HogOptions::new();
    let mut pca = PcaOptions::new().whiten(Whiten::Half);
    let mut g = GraphStage::default();
    if level < 1 {
        hog = hog.min_side(None);
    }
    if level < 2 {
        g.knn.union = Union::Max;
    }
    if level < 3 {
        g.dims_per_cluster = 1;
        g.spectral.power = 0;
    }
    if level < 4 {
        pca = pca.whiten(Whiten::No);
    }
    if level < 5 {
        g.smoothing_rounds = 0;
    }
    PipelineParams::preset(Preset::Best, k)
        .hog(Some(hog))
        .pca(Some(pca))
        .graph(Some(g))
}

fn best_with(k: usize, change: impl FnOnce(&mut GraphStage)) -> PipelineParams {
    let mut g = GraphStage::default();
    change(&mut g);
    PipelineParams::preset(Preset::Best, k).graph(Some(g))
}

const ROWS: [Row; 12] = [
    Row {
        name:
            "the rules before (HOG at the given size, max union, K eigenvectors, PCA as projected)",
        make: |k| up_to(0, k),
    },
    Row {
        name: "+ HOG on images upscaled (cubic) to a smaller side of at least 16 px",
        make: |k| up_to(1, k),
    },
    Row {
        name: "+ fuzzy union of the two directions of an edge",
        make: |k| up_to(2, k),
    },
    Row {
        name: "+ 2K eigenvectors weighted by λ¹⁰",
        make: |k| up_to(3, k),
    },
    Row {
        name: "+ PCA scores divided by √σ (half whitening)",
        make: |k| up_to(4, k),
    },
    Row {
        name: "+ one round of label smoothing on the graph = **`best`**",
        make: |k| up_to(5, k),
    },
    Row {
        name: "not kept: `best` with 30 k-means attempts",
        make: |k| {
            let p = PipelineParams::preset(Preset::Best, k);
            let km = p.kmeans_params().clone().attempts(30);
            p.kmeans(km)
        },
    },
    Row {
        name: "not kept: `best` with full whitening",
        make: |k| {
            PipelineParams::preset(Preset::Best, k).pca(Some(PcaOptions::new().whiten(Whiten::Yes)))
        },
    },
    Row {
        name: "not kept: `best` with λ⁵",
        make: |k| best_with(k, |g| g.spectral.power = 5),
    },
    Row {
        name: "not kept: `best` with λ²⁰",
        make: |k| best_with(k, |g| g.spectral.power = 20),
    },
    Row {
        name: "not kept: `best` with 3K eigenvectors",
        make: |k| best_with(k, |g| g.dims_per_cluster = 3),
    },
    Row {
        name: "not kept: `best` with 8 neighbours",
        make: |k| best_with(k, |g| g.knn.k = 8),
    },
];

fn load(dir: &Path, name: &str) -> Dataset {
    let data = dir.join(format!("{name}.npy"));
    let labels = dir.join(format!("{name}_labels.npy"));
    open(&data, &OpenOptions::new().labels(&labels)).unwrap_or_else(|e| {
        panic!("{e} (run scripts/accuracy.sh, which writes the data sets first)")
    })
}

/// Accuracy (percent) of `clusters` against the labels of `ds`, Hungarian matching.
fn accuracy(ds: &Dataset, clusters: &[u32], k: usize) -> f64 {
    let truth = ds.labels().expect("labelled");
    let classes = ds.n_classes().expect("labelled");
    evaluate(truth, clusters, classes, k, Mapping::OneToOne)
        .expect("consistent")
        .accuracy
        .percent()
}

/// Accuracy of one fit of `p` on `ds`, and its wall time in seconds.
fn run(p: &PipelineParams, ds: &Dataset, seed: i32) -> (f64, f64) {
    let p = p.clone().check().expect("valid pipeline");
    let t = Instant::now();
    let m = p.fit(ds, &CvRng::from_set_rng_seed(seed)).expect("fits");
    let secs = t.elapsed().as_secs_f64();
    let k = p.kmeans().k();
    (accuracy(ds, m.training_labels().expect("fitted"), k), secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: ablation DIR (the folder scripts/accuracy.py writes)");
    let dir = Path::new(&dir);
    let sets = [
        ("digits.png", grid::digits()),
        ("MNIST 5k", load(dir, "mnist5k")),
        ("sklearn 8×8", load(dir, "sklearn_digits")),
        ("shapes", load(dir, "shapes")),
    ];
    let best = PipelineParams::preset(Preset::Best, 10);
    assert_eq!((ROWS[5].make)(10), best, "the last rule row is `best`");

    print!("| rules |");
    for (name, _) in &sets {
        print!(" {name} |");
    }
    println!(" time, digits |");
    println!("|---|{}---:|", "---:|".repeat(sets.len()));
    for row in &ROWS {
        print!("| {} |", row.name);
        let mut times = Vec::new();
        for (i, (_, ds)) in sets.iter().enumerate() {
            let k = ds.n_classes().expect("labelled");
            let p = (row.make)(k);
            let runs: Vec<(f64, f64)> = SEEDS.iter().map(|&s| run(&p, ds, s)).collect();
            let accs: Vec<f64> = runs.iter().map(|r| r.0).collect();
            let mean = accs.iter().sum::<f64>() / accs.len() as f64;
            let min = accs.iter().copied().fold(f64::INFINITY, f64::min);
            print!(" {mean:.2} / {min:.2} |");
            if i == 0 {
                times = runs.iter().map(|r| r.1).collect();
            }
        }
        println!(" {:.2} s |", median(times));
    }

    println!();
    println!(
        "| data | `best`, all at once | the same 20%, all at once | the 20%, predicted by a model fitted on the other 80% | difference |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, ds) in &sets {
        let k = ds.n_classes().expect("labelled");
        let p = PipelineParams::preset(Preset::Best, k)
            .check()
            .expect("valid");
        let rng = CvRng::from_set_rng_seed(1);
        let whole = p.fit(ds, &rng).expect("fits");
        let all = whole.training_labels().expect("fitted");
        let split = ds.split(0.8).expect("a ratio in (0, 1)");
        let same: Vec<u32> = split.test_indices.iter().map(|&i| all[i]).collect();
        // Clusters of the 20% matched to classes as on the whole set.
        let truth = ds.labels().expect("labelled");
        let eval = evaluate(truth, all, k, k, Mapping::OneToOne).expect("consistent");
        let map = eval.mapping.as_slice();
        let test_truth = split.test.labels().expect("labelled");
        let hit = |clusters: &[u32], map: &[u32]| {
            let right = clusters
                .iter()
                .zip(test_truth)
                .filter(|(c, t)| map[**c as usize] == **t)
                .count();
            100.0 * right as f64 / clusters.len() as f64
        };
        let transductive = hit(&same, map);
        let mut m = p.fit(&split.train, &rng).expect("fits");
        m.learn_classes(split.train.labels().expect("labelled"), k, None)
            .expect("classes");
        let predicted: Vec<u32> = m
            .predict(&split.test, Threads::Auto)
            .expect("predicts")
            .iter()
            .map(|p| p.class.expect("classes learned"))
            .collect();
        let right = predicted
            .iter()
            .zip(test_truth)
            .filter(|(a, b)| a == b)
            .count();
        let held = 100.0 * right as f64 / predicted.len() as f64;
        println!(
            "| {name} | {:.2}% | {transductive:.2}% | {held:.2}% | {:+.2} |",
            eval.accuracy.percent(),
            held - transductive
        );
    }
}
