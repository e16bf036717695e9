//! The dispatched (SIMD) kernels against the scalar reference on awkward sizes.
//! Tolerance: none — every kernel is specified to return the reference's bits.

use imgcluster::kernels::{self, scalar, Element};

const SIZES: [usize; 18] = [
    0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 399, 400, 784, 1001,
];

fn pseudo(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.3) * scale
        })
        .collect()
}

fn bytes(n: usize, seed: u64) -> Vec<u8> {
    pseudo(n, seed, 1.0)
        .iter()
        .map(|&v| ((v + 0.3) * 255.99) as u8)
        .collect()
}

#[test]
fn l2sq_opencv_is_bit_identical_to_the_reference() {
    for n in SIZES {
        for (seed, scale) in [(1, 1.0), (2, 255.0), (3, 1e-20), (4, 1e15)] {
            let a = pseudo(n, seed, scale);
            let b = pseudo(n, seed + 10, scale);
            let got = kernels::l2sq_opencv(&a, &b);
            assert_eq!(
                got.to_bits(),
                scalar::l2sq_opencv(&a, &b).to_bits(),
                "n {n} seed {seed}"
            );
        }
    }
}

#[test]
fn l2sq_opencv_u8_is_bit_identical_to_the_reference() {
    for n in SIZES {
        let a = bytes(n, 5);
        let b = pseudo(n, 6, 300.0);
        let wide: Vec<f32> = a.iter().map(|&v| f32::from(v)).collect();
        let want = scalar::l2sq_opencv(&wide, &b).to_bits();
        assert_eq!(kernels::l2sq_opencv_u8(&a, &b).to_bits(), want, "n {n}");
        assert_eq!(scalar::l2sq_opencv_u8(&a, &b).to_bits(), want, "n {n}");
        let a2 = bytes(n, 7);
        let b2 = pseudo(n, 8, 300.0);
        let (d0, d1) = u8::l2sq_opencv_x2(&a, &b, &a2, &b2);
        assert_eq!(d0.to_bits(), want);
        assert_eq!(d1.to_bits(), scalar::l2sq_opencv_u8(&a2, &b2).to_bits());
        let (e0, e1) = f32::l2sq_opencv_x2(&wide, &b, &b2, &b);
        assert_eq!(e0.to_bits(), want);
        assert_eq!(e1.to_bits(), scalar::l2sq_opencv(&b2, &b).to_bits());
    }
}

#[test]
fn dot16_is_bit_identical_to_the_reference() {
    for n in SIZES {
        for seed in 0..4 {
            let a = pseudo(n, seed, 255.0);
            let b = pseudo(n, seed + 20, 3.0);
            assert_eq!(
                kernels::dot16(&a, &b).to_bits(),
                scalar::dot16(&a, &b).to_bits(),
                "n {n} seed {seed}"
            );
        }
    }
}

#[test]
fn blocked_dot_products_equal_single_pairs() {
    for dims in [1_usize, 15, 16, 17, 63, 400, 784] {
        let stride = dims.div_ceil(16) * 16;
        for (n_rows, n_cols) in [
            (0, 3),
            (1, 1),
            (2, 3),
            (3, 4),
            (5, 7),
            (13, 13),
            (26, 20),
            (33, 10),
            (4, 0),
        ] {
            let pad = |m: usize, seed: u64| {
                let mut v = vec![0.0_f32; m * stride];
                for (r, row) in v.chunks_exact_mut(stride).enumerate() {
                    row[..dims].copy_from_slice(&pseudo(dims, seed + r as u64, 255.0));
                }
                v
            };
            let rows = pad(n_rows, 100);
            let cols = pad(n_cols, 200);
            let single = |r: usize, c: usize| {
                scalar::dot16(
                    &rows[r * stride..r * stride + dims],
                    &cols[c * stride..c * stride + dims],
                )
            };
            let mut out = vec![f32::NAN; n_rows * n_cols];
            kernels::dot16_panel(&rows, n_rows, &cols, n_cols, stride, &mut out);
            for r in 0..n_rows {
                for c in 0..n_cols {
                    assert_eq!(
                        out[r * n_cols + c].to_bits(),
                        single(r, c).to_bits(),
                        "dims {dims} ({r}, {c})"
                    );
                }
            }
            let idx: Vec<usize> = (0..n_rows).rev().collect();
            let mut gathered = vec![f32::NAN; n_rows * n_cols];
            kernels::dot16_gather(&rows, &idx, &cols, n_cols, stride, &mut gathered);
            for (m, &r) in idx.iter().enumerate() {
                for c in 0..n_cols {
                    assert_eq!(gathered[m * n_cols + c].to_bits(), single(r, c).to_bits());
                }
            }
            if n_rows > 0 {
                let sel: Vec<usize> = (0..n_cols).rev().chain(0..n_cols).collect();
                let mut picked = vec![f32::NAN; sel.len()];
                kernels::dot16_select(&rows[..stride], &cols, &sel, stride, &mut picked);
                for (m, &c) in sel.iter().enumerate() {
                    assert_eq!(picked[m].to_bits(), single(0, c).to_bits());
                }
            }
        }
    }
}

/// Bounds with the values that matter at the edges: NaN, ±∞, zero, subnormal, huge.
fn awkward_bounds(n: usize, seed: u64) -> Vec<f32> {
    let specials = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        1e-40,
        f32::MAX,
    ];
    pseudo(n, seed, 3000.0)
        .into_iter()
        .enumerate()
        .map(|(j, v)| {
            if j % 5 == 3 {
                specials[(j / 5) % specials.len()]
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn bounds_kernels_are_bit_identical_to_the_reference() {
    for n in SIZES {
        for th in [0.0_f32, 500.0, f32::INFINITY, f32::NAN] {
            let lb = awkward_bounds(n, 31);
            let drift: Vec<f32> = pseudo(n, 32, 50.0).iter().map(|d| d.abs()).collect();
            let (mut got, mut want) = (lb.clone(), lb.clone());
            let open = kernels::bounds_shift(&mut got, &drift, th);
            assert_eq!(
                open,
                scalar::bounds_shift(&mut want, &drift, th),
                "n {n} th {th}"
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "n {n} th {th}");
            let (mut a, mut b) = (vec![usize::MAX; n], vec![usize::MAX; n]);
            let m = kernels::bounds_open(&got, th, &mut a);
            assert_eq!(m, scalar::bounds_open(&got, th, &mut b), "n {n} th {th}");
            assert_eq!(a[..m], b[..m], "n {n} th {th}");
            assert_eq!(m, open, "n {n} th {th}: the count and the indices agree");
            assert!(a[..m].windows(2).all(|w| w[0] < w[1]));
            assert!(a[..m].iter().all(|&j| scalar::not_above(got[j], th)));
        }
    }
}

#[test]
fn a_shifted_bound_never_exceeds_the_exact_difference() {
    let lb = awkward_bounds(4096, 41);
    let mut drift: Vec<f32> = pseudo(4096, 42, 2000.0).iter().map(|d| d.abs()).collect();
    // Differences that land on subnormal numbers and on powers of two.
    drift[0] = 0.0;
    let mut lb = lb;
    lb[0] = 1e-39;
    lb[1] = 2.0;
    drift[1] = 1.0;
    lb[2] = 1.5e-38;
    drift[2] = 1.4e-38;
    let mut got = lb.clone();
    kernels::bounds_shift(&mut got, &drift, 0.0);
    for j in 0..lb.len() {
        let exact = f64::from(lb[j]) - f64::from(drift[j]);
        if exact.is_nan() {
            assert!(got[j].is_nan(), "j {j}");
        } else if exact <= 0.0 {
            // Any bound at or below zero holds for a distance.
            assert!(got[j] <= 0.0, "j {j}: {} > 0", got[j]);
        } else {
            assert!(f64::from(got[j]) <= exact, "j {j}: {} > {exact}", got[j]);
            if exact > 1e-30 && exact.is_finite() {
                assert!(f64::from(got[j]) >= exact * (1.0 - 1e-6), "j {j}: loose");
            }
        }
    }
}

#[test]
fn widening_bytes_is_exact() {
    for n in SIZES {
        let a = bytes(n, 9);
        let mut out = vec![f32::NAN; n + 3];
        u8::widen(&a, &mut out);
        assert!(a.iter().zip(&out).all(|(&b, &f)| f32::from(b) == f));
        assert!(out[n..].iter().all(|v| v.is_nan()));
    }
}

/// The instruction set chosen is the one the CPU reports, detected here independently; the
/// test says which one the kernel tests of this run exercised.
#[test]
fn the_instruction_set_is_the_cpus() {
    #[cfg(target_arch = "x86_64")]
    let (want, avx512) = (
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            kernels::Isa::Avx2Fma
        } else {
            kernels::Isa::Scalar
        },
        std::arch::is_x86_feature_detected!("avx512f"),
    );
    #[cfg(target_arch = "aarch64")]
    let (want, avx512) = (
        if std::arch::is_aarch64_feature_detected!("neon") {
            kernels::Isa::Neon
        } else {
            kernels::Isa::Scalar
        },
        false,
    );
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let (want, avx512) = (kernels::Isa::Scalar, false);
    if let Ok(cap) = std::env::var(kernels::ISA_VARIABLE) {
        // Capped: the kernels below ran on the set named, the reference on every one.
        eprintln!(
            "kernel tests ran: scalar reference and {} ({}={cap})",
            kernels::isa_name(),
            kernels::ISA_VARIABLE
        );
        return;
    }
    assert_eq!(kernels::isa(), want);
    let name = match (want, avx512) {
        (kernels::Isa::Scalar, _) => "scalar",
        (kernels::Isa::Neon, _) => "neon",
        (_, false) => "avx2",
        (_, true) => "avx512",
    };
    assert_eq!(kernels::isa_name(), name);
    eprintln!(
        "kernel tests ran: scalar reference and {:?}{}",
        want,
        if avx512 && want == kernels::Isa::Avx2Fma {
            " with its AVX-512F blocks"
        } else if want != kernels::Isa::Avx2Fma {
            ""
        } else {
            " (no AVX-512F on this CPU: its blocks were not run)"
        }
    );
}

/// Shapes whose products overflow `usize` are refused with a message, never wrapped into a
/// small product that would let an unchecked kernel read past a slice.
#[test]
#[should_panic(expected = "dot16_panel: slices shorter than their shapes")]
fn dot16_panel_refuses_an_overflowing_shape() {
    kernels::dot16_panel(&[], 1 << 60, &[0.0; 256], 16, 16, &mut []);
}

#[test]
#[should_panic(expected = "dot16_gather: slices shorter than their shapes")]
fn dot16_gather_refuses_an_overflowing_shape() {
    let idx = [0usize; 16];
    kernels::dot16_gather(&[0.0; 16], &idx, &[0.0; 16], 1 << 60, 16, &mut []);
}

#[test]
#[should_panic(expected = "SparseU8::dot_cols: bad shapes")]
fn sparse_dot_cols_refuses_an_overflowing_shape() {
    let sp = kernels::SparseU8::from_bytes(&[1; 32], 16);
    let cols = 1usize << 61;
    sp.dot_cols(0, &[0.0; 16], cols, 0..16, &mut [0.0; 16]);
}
