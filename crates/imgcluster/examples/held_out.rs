//! Held-out accuracy of every preset: fit on one part of a data set, predict the other.
//!
//! `cargo run --release -p imgcluster --example held_out` prints, for the embedded digits
//! (split as `classify --train-ratio 0.5` splits them) and for an MNIST-like set of 28×28
//! digits, the accuracy of each preset when it clusters all the images at once
//! (transductive), when it is fitted on the training part, and on the held-out part
//! predicted by the fitted model; how many training samples the model gives back their
//! fitted cluster; and the time to predict 10,000 images with a `best` model.
//!
//! The MNIST-like set, made by MNIST's own rule — a digit of at most 20×20 pixels placed in
//! a 28×28 frame with its centre of mass at the centre: two copies of each 20×20 cell of
//! `digits.png`, each under its own random affine map (rotation ±10°, scale 0.9–1.1, shear
//! ±0.1; bilinear, black border) drawn from `cv2.setRNGSeed(2024)`'s generator, then moved
//! so that its centre of mass falls on the frame's centre. The training part is the copies of the first 50
//! cells of every grid row (5,000 images), the held-out part those of the last 50 (5,000
//! others): no cell has a copy on both sides.
//!
//! `cargo run --release -p imgcluster --example held_out -- --write DIR` also writes the
//! set for the command line: `DIR/mnist_like_{train,test,all}.npy` (u8, N×28×28) and
//! `DIR/mnist_like_{train,test,all}_labels.npy` (int32).

use std::time::Instant;

use imgcluster::dataset::{grid, npy, Dataset};
use imgcluster::features::{PipelineParams, Preset};
use imgcluster::imgproc::{moments, warp_affine, Interpolation, WarpOptions};
use imgcluster::metrics::{ConfusionMatrix, Contingency};
use imgcluster::model::{FittedPipeline, Prediction};
use imgcluster::{CvRng, Threads};

const SIDE: usize = 28;

/// A random affine map taking a `side`-pixel image into the middle of the frame:
/// rotation, scale and shear about the image's centre, which lands on the frame's.
fn jitter(rng: &mut CvRng, side: usize) -> [[f64; 3]; 2] {
    let angle = rng.uniform_f64(-10.0, 10.0).to_radians();
    let scale = rng.uniform_f64(0.9, 1.1);
    let shear = rng.uniform_f64(-0.1, 0.1);
    let (cos, sin) = (angle.cos(), angle.sin());
    let (a00, a01) = (cos * scale, (cos * shear - sin) * scale);
    let (a10, a11) = (sin * scale, (sin * shear + cos) * scale);
    let (c, f) = ((side as f64 - 1.0) / 2.0, (SIDE as f64 - 1.0) / 2.0);
    [
        [a00, a01, f - (a00 * c + a01 * c)],
        [a10, a11, f - (a10 * c + a11 * c)],
    ]
}

/// The MNIST-like set: (training part, held-out part).
fn mnist_like() -> (Dataset, Dataset) {
    let digits = grid::digits();
    let labels = digits.labels().expect("labelled");
    let mut rng = CvRng::from_set_rng_seed(2024);
    let opts = WarpOptions::new(Interpolation::Linear);
    let (mut train, mut test) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for (i, &label) in labels.iter().enumerate() {
        let cell = digits.image(i).expect("an image");
        for _ in 0..2 {
            let mut m = jitter(&mut rng, cell.width());
            // Then moved so that the centre of mass is the frame's centre.
            let first = warp_affine(cell, &m, (SIDE, SIDE), &opts).expect("a finite map");
            let mo = moments(first.view());
            if mo.m00 > 0.0 {
                let f = (SIDE as f64 - 1.0) / 2.0;
                m[0][2] += f - mo.m10 / mo.m00;
                m[1][2] += f - mo.m01 / mo.m00;
            }
            let img = warp_affine(cell, &m, (SIDE, SIDE), &opts).expect("a finite map");
            // Columns 0..50 of each grid row of 100 cells train; 50..100 are held out.
            let part = if i % 100 < 50 { &mut train } else { &mut test };
            part.0.extend_from_slice(img.data());
            part.1.push(label);
        }
    }
    let make = |(px, l): (Vec<u8>, Vec<u32>)| {
        Dataset::from_images(l.len(), SIDE, SIDE, px)
            .and_then(|d| d.with_labels(l))
            .expect("consistent")
    };
    (make(train), make(test))
}

/// `a`'s images then `b`'s, labels kept.
fn concat(a: &Dataset, b: &Dataset) -> Dataset {
    let (pa, h, w) = a.images_u8().expect("images");
    let (pb, _, _) = b.images_u8().expect("images");
    let l = [a.labels().expect("labels"), b.labels().expect("labels")].concat();
    Dataset::from_images(a.len() + b.len(), h, w, [pa, pb].concat())
        .and_then(|d| d.with_labels(l))
        .expect("consistent")
}

fn write(dir: &std::path::Path, name: &str, ds: &Dataset) {
    let (px, h, w) = ds.images_u8().expect("images");
    let labels: Vec<i32> = ds
        .labels()
        .expect("labels")
        .iter()
        .map(|&l| l as i32)
        .collect();
    let x = dir.join(format!("mnist_like_{name}.npy"));
    let y = dir.join(format!("mnist_like_{name}_labels.npy"));
    std::fs::write(&x, npy::encode_u8(&[ds.len(), h, w], px)).expect("writable");
    std::fs::write(&y, npy::encode_i32(&[labels.len()], &labels)).expect("writable");
    println!("wrote {} and {}", x.display(), y.display());
}

fn accuracy(truth: &[u32], clusters: &[u32], m: &FittedPipeline) -> f64 {
    let mapping = m.cluster_mapping().expect("classes").expect("valid");
    let t = Contingency::new(truth, clusters, 10, m.k()).expect("consistent");
    ConfusionMatrix::from_contingency(&t, &mapping)
        .expect("consistent")
        .accuracy()
        .percent()
}

fn fit(preset: Preset, ds: &Dataset) -> FittedPipeline {
    let p = PipelineParams::preset(preset, 10)
        .check()
        .expect("valid preset");
    let mut m = p.fit(ds, &CvRng::from_set_rng_seed(1)).expect("fits");
    m.learn_classes(ds.labels().expect("labelled"), 10, None)
        .expect("classes");
    m
}

fn clusters(p: &[Prediction]) -> Vec<u32> {
    p.iter().map(|p| p.cluster).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (train, test) = mnist_like();
    if let (Some(flag), Some(dir)) = (args.next(), args.next()) {
        assert_eq!(flag, "--write", "usage: held_out [--write DIR]");
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("a folder");
        write(&dir, "train", &train);
        write(&dir, "test", &test);
        write(&dir, "all", &concat(&train, &test));
    }
    let digits = grid::digits();
    let halves = digits.split(0.5).expect("a ratio in (0, 1)");
    println!(
        "| data | preset | transductive (all at once) | fitted on the training part | \
         held-out, predicted | training clusters given back |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let both = concat(&train, &test);
    let sets = [
        (
            "digits.png, 2,500 + 2,500",
            &digits,
            &halves.train,
            &halves.test,
        ),
        ("MNIST-like 28×28, 5,000 + 5,000", &both, &train, &test),
    ];
    for (name, all, tr, te) in sets {
        for preset in Preset::ALL {
            let whole = fit(preset, all);
            let transductive = accuracy(
                all.labels().expect("l"),
                whole.training_labels().expect("fitted"),
                &whole,
            );
            let m = fit(preset, tr);
            let fitted = accuracy(
                tr.labels().expect("l"),
                m.training_labels().expect("fitted"),
                &m,
            );
            let held = clusters(&m.predict(te, Threads::Auto).expect("predicts"));
            let held_out = accuracy(te.labels().expect("l"), &held, &m);
            let again = clusters(&m.predict(tr, Threads::Auto).expect("predicts"));
            let same = again
                .iter()
                .zip(m.training_labels().expect("fitted"))
                .filter(|(a, b)| a == b)
                .count();
            println!(
                "| {name} | `{}` | {transductive:.2}% | {fitted:.2}% | {held_out:.2}% | {:.2}% |",
                preset.name(),
                100.0 * same as f64 / again.len() as f64
            );
        }
    }
    // Prediction time: a best model fitted on the 5,000 MNIST-like training images
    // classifies the 10,000 images of both parts (median of 5).
    let m = fit(Preset::Best, &train);
    let all = &both;
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            m.predict(all, Threads::Auto).expect("predicts");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "\npredict, best model fitted on 5,000 MNIST-like images, 10,000 images: median {:.0} ms \
         of 5 runs on {} threads",
        times[2],
        Threads::Auto.count()
    );
}
