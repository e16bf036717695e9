//! A synthetic image set of shapes and textures, for measuring a pipeline away from digits.
//!
//! `cargo run --release -p imgcluster --example shapes -- DIR` writes `DIR/shapes.npy` (u8,
//! 2100 × 24 × 24) and `DIR/shapes_labels.npy` (int32): 300 images of each of 7 classes —
//! disc, ring, square, triangle, cross, stripes, checkerboard — in that order of labels 0..6.
//!
//! Every image draws, from `cv2.setRNGSeed(7)`'s generator: a centre within 4 pixels of the
//! frame's, a size (radius 5 to 9 pixels), a rotation, a background (0 to 60) and a
//! foreground (130 to 255) level, a texture period (3 to 6 pixels, for stripes and
//! checkerboards, which fill a disc of radius 10) and a noise level (0 to 20); each pixel is
//! the mean of 4 × 4 sub-samples (anti-aliased), plus noise, rounded and clamped to 0..255.

use imgcluster::dataset::npy;
use imgcluster::CvRng;

const SIDE: usize = 24;
const PER_CLASS: usize = 300;
const CLASSES: [&str; 7] = [
    "disc",
    "ring",
    "square",
    "triangle",
    "cross",
    "stripes",
    "checkerboard",
];

/// Whether the point `(u, v)` of the shape's own frame (centred, unrotated) is inside
/// `class` of radius `r` and texture period `p`.
fn inside(class: usize, u: f64, v: f64, r: f64, p: f64) -> bool {
    let d2 = u * u + v * v;
    match class {
        0 => d2 <= r * r,
        1 => d2 <= r * r && d2 >= (0.55 * r) * (0.55 * r),
        2 => u.abs() <= 0.8 * r && v.abs() <= 0.8 * r,
        3 => {
            // Equilateral, circumradius r, one vertex up: inside the three edges.
            let h = r / 2.0;
            v >= -h && (3f64.sqrt() * u + v) <= r && (-3f64.sqrt() * u + v) <= r
        }
        4 => (u.abs() <= 0.25 * r && v.abs() <= r) || (v.abs() <= 0.25 * r && u.abs() <= r),
        5 => d2 <= 100.0 && (u / p).floor().rem_euclid(2.0) == 0.0,
        _ => d2 <= 100.0 && ((u / p).floor() + (v / p).floor()).rem_euclid(2.0) == 0.0,
    }
}

/// One image of `class`, its parameters drawn from `rng`.
fn draw(class: usize, rng: &mut CvRng) -> Vec<u8> {
    let c = (SIDE as f64 - 1.0) / 2.0;
    let (cx, cy) = (
        c + rng.uniform_f64(-4.0, 4.0),
        c + rng.uniform_f64(-4.0, 4.0),
    );
    let r = rng.uniform_f64(5.0, 9.0);
    let angle = rng.uniform_f64(0.0, std::f64::consts::PI);
    let (bg, fg) = (rng.uniform_f64(0.0, 60.0), rng.uniform_f64(130.0, 255.0));
    let period = rng.uniform_f64(3.0, 6.0);
    let noise = rng.uniform_f64(0.0, 20.0);
    let (cos, sin) = (angle.cos(), angle.sin());
    let mut out = Vec::with_capacity(SIDE * SIDE);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let mut hits = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    let px = x as f64 + (sx as f64 + 0.5) / 4.0 - 0.5 - cx;
                    let py = y as f64 + (sy as f64 + 0.5) / 4.0 - 0.5 - cy;
                    let (u, v) = (cos * px + sin * py, -sin * px + cos * py);
                    hits += usize::from(inside(class, u, -v, r, period));
                }
            }
            let level = bg + (fg - bg) * hits as f64 / 16.0;
            // Noise: the sum of three uniforms, of standard deviation `noise`.
            let e = (0..3).map(|_| rng.uniform_f64(-1.0, 1.0)).sum::<f64>() * noise;
            out.push((level + e).round().clamp(0.0, 255.0) as u8);
        }
    }
    out
}

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: shapes DIR (writes DIR/shapes.npy and DIR/shapes_labels.npy)"),
    );
    std::fs::create_dir_all(&dir).expect("the folder can be made");
    let mut rng = CvRng::from_set_rng_seed(7);
    let mut pixels = Vec::with_capacity(CLASSES.len() * PER_CLASS * SIDE * SIDE);
    let mut labels = Vec::with_capacity(CLASSES.len() * PER_CLASS);
    for class in 0..CLASSES.len() {
        for _ in 0..PER_CLASS {
            pixels.extend(draw(class, &mut rng));
            labels.push(class as i32);
        }
    }
    let n = labels.len();
    std::fs::write(
        dir.join("shapes.npy"),
        npy::encode_u8(&[n, SIDE, SIDE], &pixels),
    )
    .expect("writable");
    std::fs::write(
        dir.join("shapes_labels.npy"),
        npy::encode_i32(&[n], &labels),
    )
    .expect("writable");
    println!(
        "{n} images of {SIDE}x{SIDE} in {} classes ({}) written to {}",
        CLASSES.len(),
        CLASSES.join(", "),
        dir.display()
    );
}
