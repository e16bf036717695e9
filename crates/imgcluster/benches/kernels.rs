//! Micro-benchmarks of the distance kernels (`cargo bench -p imgcluster --bench kernels`).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use imgcluster::kernels::{self, scalar, Element};

fn data(n: usize, seed: u32) -> Vec<f32> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as f32
        })
        .collect()
}

fn distances(c: &mut Criterion) {
    let mut g = c.benchmark_group("pair");
    for dims in [400_usize, 784] {
        let a = data(dims, 1);
        let b = data(dims, 2);
        let bytes: Vec<u8> = a.iter().map(|&v| v as u8).collect();
        g.throughput(Throughput::Elements(dims as u64));
        g.bench_function(format!("l2sq_opencv_scalar/{dims}"), |bn| {
            bn.iter(|| scalar::l2sq_opencv(black_box(&a), black_box(&b)))
        });
        g.bench_function(format!("l2sq_opencv/{dims}"), |bn| {
            bn.iter(|| kernels::l2sq_opencv(black_box(&a), black_box(&b)))
        });
        g.bench_function(format!("l2sq_opencv_u8/{dims}"), |bn| {
            bn.iter(|| kernels::l2sq_opencv_u8(black_box(&bytes), black_box(&b)))
        });
        g.bench_function(format!("l2sq_opencv_u8_x2/{dims}"), |bn| {
            bn.iter(|| u8::l2sq_opencv_x2(black_box(&bytes), &b, black_box(&bytes), &a))
        });
        g.bench_function(format!("dot16/{dims}"), |bn| {
            bn.iter(|| kernels::dot16(black_box(&a), black_box(&b)))
        });
    }
    g.finish();
}

fn panels(c: &mut Criterion) {
    let mut g = c.benchmark_group("panel");
    for (dims, k) in [(400_usize, 10_usize), (784, 256)] {
        let rows = data(32 * dims, 3);
        let cols = data(k * dims, 4);
        let mut out = vec![0.0_f32; 32 * k];
        g.throughput(Throughput::Elements((32 * k * dims) as u64));
        g.bench_function(format!("dot16_panel/32x{k}x{dims}"), |bn| {
            bn.iter(|| {
                kernels::dot16_panel(black_box(&rows), 32, black_box(&cols), k, dims, &mut out)
            })
        });
        // Three columns: the tail of `dot16_select`, one pass of independent chains.
        let few = [k - 1, 0, k / 2];
        let mut picked_few = [0.0_f32; 3];
        g.bench_function(format!("dot16_select/1x3x{dims}"), |bn| {
            bn.iter(|| {
                kernels::dot16_select(black_box(&rows[..dims]), &cols, &few, dims, &mut picked_few)
            })
        });
        let idx: Vec<usize> = (0..k).step_by(3).collect();
        let mut picked = vec![0.0_f32; idx.len()];
        g.bench_function(format!("dot16_select/1x{}x{dims}", idx.len()), |bn| {
            bn.iter(|| {
                kernels::dot16_select(black_box(&rows[..dims]), &cols, &idx, dims, &mut picked)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, distances, panels);
criterion_main!(benches);
