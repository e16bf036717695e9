//! Writes a synthetic MNIST-sized workload for benchmarks: `N` 28×28 byte images made
//! of randomly shifted, noisy copies of the embedded 20×20 digits, and their labels.
//!
//! `cargo run --release --example make_workload -- N OUT_DIR` writes
//! `OUT_DIR/digits_N.npy` (u8, N×28×28) and `OUT_DIR/digits_N_labels.npy` (int32).

use imgcluster::dataset::{grid::digits, npy};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(60_000);
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let ds = digits();
    let (pixels, h, w) = ds.images_u8().expect("the digits are images");
    let labels = ds.labels().expect("the digits are labelled");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut images = vec![0_u8; n * 28 * 28];
    let mut classes = Vec::with_capacity(n);
    for (i, img) in images.chunks_exact_mut(28 * 28).enumerate() {
        let src = (next() as usize) % labels.len();
        classes.push(labels[src] as i32);
        let (dy, dx) = ((next() % 9) as usize, (next() % 9) as usize);
        let cell = &pixels[src * h * w..(src + 1) * h * w];
        for y in 0..h {
            for x in 0..w {
                let v = i32::from(cell[y * w + x]);
                let noise = if v > 0 { (next() % 41) as i32 - 20 } else { 0 };
                img[(y + dy) * 28 + x + dx] = (v + noise).clamp(0, 255) as u8;
            }
        }
        let _ = i;
    }
    let data_path = out.join(format!("digits_{n}.npy"));
    let label_path = out.join(format!("digits_{n}_labels.npy"));
    std::fs::write(&data_path, npy::encode_u8(&[n, 28, 28], &images)).expect("write data");
    std::fs::write(&label_path, npy::encode_i32(&[n], &classes)).expect("write labels");
    println!("{} {}", data_path.display(), label_path.display());
}
