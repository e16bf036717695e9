//! Times OpenCV-mode k-means on the tutorial workload: the 5000 raw 20×20 digits,
//! K = 10, 10 iterations, epsilon 1, 10 attempts, random centers.
//!
//! `cargo run --release --example bench_tutorial -- [REPEATS] [THREADS] [deskew]`
//! prints the median wall time of one fit and the compactness (the same on every
//! run); with `deskew` the digits first go through the tutorial's deskew.

use imgcluster::dataset::grid::digits;
use imgcluster::imgproc::{deskew_into, DeskewValidParams};
use imgcluster::kmeans::{self, Init, KMeansParams, TermCriteria};
use imgcluster::{CvRng, GrayView, Threads};

fn main() {
    let mut args = std::env::args().skip(1);
    let repeats: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let ds = digits();
    let (pixels, h, w) = ds.images_u8().expect("the digits are images");
    let mut deskewed = pixels.to_vec();
    if args.next().as_deref() == Some("deskew") {
        let dp = DeskewValidParams::default();
        for (src, dst) in pixels
            .chunks_exact(h * w)
            .zip(deskewed.chunks_exact_mut(h * w))
        {
            deskew_into(GrayView::new(w, h, src), &dp, dst).expect("deskew");
        }
    }
    let pixels = &deskewed[..];
    let params = KMeansParams::new(10)
        .term(TermCriteria::new().max_iter(10).epsilon(1.0))
        .attempts(10)
        .init(Init::RandomBox)
        .threads(Threads::Fixed(threads))
        .check()
        .expect("valid parameters");
    let mut times = Vec::with_capacity(repeats);
    let mut compactness = 0.0;
    for _ in 0..repeats {
        let t = std::time::Instant::now();
        let fit =
            kmeans::fit_u8(&params, pixels, h * w, &mut CvRng::opencv_default()).expect("k-means");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        compactness = fit.compactness;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.2} ms, min {:.2} ms, compactness {compactness}",
        times[times.len() / 2],
        times[0]
    );
}
