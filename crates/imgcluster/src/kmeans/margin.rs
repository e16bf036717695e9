//! Rigorous error margins that let the pruned engines skip distance computations
//! without ever changing a label.
//!
//! Bounds (Hamerly, Yinyang) live in the *true* Euclidean metric `d*` of the `f32`
//! vectors, where the triangle inequality holds. The engines compare computed
//! distances, so these helpers translate in both directions with worst-case rounding
//! error bounds (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1):
//! `γ(m) = m u / (1 - m u)` with `u = 2^-24`, plus an absolute term for underflow
//! (every `f32` operation is off by at most `2^-150` beyond its relative error).
//! All constants are rounded generously; a looser margin only costs a few extra
//! distance computations, never a different label.

use crate::kernels::scalar::BOUND_SHRINK;

/// Unit roundoff of `f32`.
const U32: f64 = 1.0 / 16_777_216.0;

/// Relative slack for the `f64` arithmetic of the margins themselves.
const SLACK: f64 = 1e-9;

/// `γ(m)` with a safety factor.
fn gamma(m: usize) -> f64 {
    let mu = m as f64 * U32;
    mu / (1.0 - mu) * 1.01
}

/// Absolute underflow allowance for `ops` operations (`2^-140` each, far above `2^-150`).
fn eta(ops: usize) -> f64 {
    ops as f64 * (2.0_f64).powi(-140)
}

/// Error model of OpenCV's `normL2Sqr_` (`kernels::l2sq_opencv`) for one dimension:
/// `(1 - γ) d*² - η ≤ D_cv ≤ (1 + γ) d*² + η`, because every term is a non-negative
/// square that passes through at most `blocks + 5 + tail` additions and 3 roundings
/// of its own (difference, square).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpencvMargin {
    gamma: f64,
    eta: f64,
    /// `1 / ((1 − SLACK)(1 − γ))` and `η / (1 − γ)`, for [`lower_cutoff`](Self::lower_cutoff).
    cut_mul: f64,
    cut_add: f64,
}

impl OpencvMargin {
    pub fn new(dims: usize) -> Self {
        let m = dims / 16 + 5 + dims % 16 + 3;
        let (gamma, eta) = (gamma(m), eta(2 * dims + 64));
        Self {
            gamma,
            eta,
            cut_mul: 1.0 / ((1.0 - SLACK) * (1.0 - gamma)),
            cut_add: eta / (1.0 - gamma),
        }
    }

    /// Upper bound on `D_cv` given an upper bound on `d*²`.
    #[inline]
    pub fn cv_upper(&self, true_sq_hi: f64) -> f64 {
        (true_sq_hi * (1.0 + self.gamma) + self.eta) * (1.0 + SLACK)
    }

    /// Lower bound on `D_cv` given a lower bound on `d*²`.
    #[inline]
    pub fn cv_lower(&self, true_sq_lo: f64) -> f64 {
        (true_sq_lo * (1.0 - self.gamma) - self.eta) * (1.0 - SLACK)
    }

    /// A cutoff `c ≥ 0` with `cv_lower(max(v, 0)) ≤ h ⇒ v ≤ c`: the inverse
    /// `(h / (1 − SLACK) + η) / (1 − γ)` of [`cv_lower`](Self::cv_lower), without
    /// divisions and rounded up by far more than the few roundings of either side,
    /// so that a single comparison `v > c` rejects a center.
    #[inline]
    pub fn lower_cutoff(&self, h: f64) -> f64 {
        let c = h * self.cut_mul + self.cut_add;
        c.max(0.0) * (1.0 + 1e-12) + f64::MIN_POSITIVE
    }

    /// Upper bound on `d*` from a computed `D_cv`.
    #[inline]
    pub fn true_upper(&self, dcv: f64) -> f64 {
        ((dcv + self.eta) / (1.0 - self.gamma)).sqrt() * (1.0 + SLACK)
    }

    /// Lower bound on `d*` from a computed `D_cv`.
    #[inline]
    pub fn true_lower(&self, dcv: f64) -> f64 {
        ((dcv - self.eta) / (1.0 + self.gamma)).max(0.0).sqrt() * (1.0 - SLACK)
    }

    /// A gap `w` such that, for squared distances known within `±e` (`a` and `b`
    /// with `|a − d*²(x, c_a)| ≤ e`, the same for `b` and `c_j`) and all at most
    /// `d_max`, `b > a + w` proves `D_cv(x, c_j) > D_cv(x, c_a)`: the test of
    /// [`cv_lower`](Self::cv_lower) against [`cv_upper`](Self::cv_upper), solved for the
    /// gap once for every distance up to `d_max` (`d_max ≥ a + e`).
    pub fn separation(&self, e: f64, d_max: f64) -> f64 {
        // (a + e)(1 + γ)(1 + S) + η(1 + S) < (b − e)(1 − γ)(1 − S) − η(1 − S) holds
        // when (b − a − 2e)(1 − γ)(1 − S) > (a + e)(2γ + 2S) + 2η.
        let spread = d_max * (2.0 * self.gamma + 2.0 * SLACK) + 2.0 * self.eta;
        (2.0 * e + spread / ((1.0 - self.gamma) * (1.0 - SLACK))) * (1.0 + 1e-6) + f64::MIN_POSITIVE
    }

    /// A threshold `t` such that any lower bound `lo > t` on `d*(x, c_j)` proves
    /// `D_cv(x, c_j) > D_cv(x, c_a)` when `d*(x, c_a) ≤ hi`; the same test as
    /// [`surely_farther`](Self::surely_farther), solved for `lo` once per sample.
    #[inline]
    pub fn farther_threshold(&self, hi: f64) -> f64 {
        let need = (self.cv_upper(hi * hi) / (1.0 - SLACK) + self.eta) / (1.0 - self.gamma);
        (need.sqrt() * (1.0 + SLACK)).max(hi)
    }

    /// Whether `d*(x, c_j) ≥ lo` and `d*(x, c_a) ≤ hi` prove `D_cv(x, c_j) > D_cv(x, c_a)`.
    #[cfg(test)]
    pub fn surely_farther(&self, lo: f64, hi: f64) -> bool {
        lo > hi && self.cv_lower(lo * lo) > self.cv_upper(hi * hi)
    }
}

/// Error model of the fast distance `d̃² = (‖x‖² + ‖c‖²) − 2·dot16(x, c)` (in `f64`,
/// the dot in `f32`): `|d̃² − d*²| ≤ E(x, c)` with
/// `E = 2 γ(blocks + 4) ‖x‖ ‖c‖ + 1e-12 (‖x‖² + ‖c‖²) + η`
/// (Cauchy–Schwarz bounds `Σ|x_i c_i|`; the second term covers the `f64` norms and
/// the final `f64` operations).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DotMargin {
    two_gamma: f64,
    eta: f64,
}

impl DotMargin {
    /// For vectors stored with `stride` values (a multiple of 16).
    pub fn new(stride: usize) -> Self {
        Self {
            two_gamma: 2.0 * gamma(stride.div_ceil(16) + 4) * (1.0 + SLACK),
            eta: eta(2 * stride + 64),
        }
    }

    /// For the sparse kernels ([`SparseU8::dot_t16`](crate::kernels::SparseU8::dot_t16)
    /// and [`SparseU8::dot_cols`](crate::kernels::SparseU8::dot_cols)) on vectors of
    /// `dims` coordinates with at most `nnz` nonzeros: a product passes through at most
    /// `⌈nnz / 8⌉ + 3` roundings in the first (eight accumulators) and `⌈nnz / 2⌉ + 1`
    /// in the second (two accumulators).
    pub fn sparse(dims: usize, nnz: usize) -> Self {
        let depth = (nnz.div_ceil(crate::kernels::scalar::SPARSE_ACCS) + 3)
            .max(nnz.div_ceil(crate::kernels::scalar::SPARSE_COLS_ACCS) + 1);
        Self {
            two_gamma: 2.0 * gamma(depth) * (1.0 + SLACK),
            eta: eta(2 * dims + 64),
        }
    }

    /// The sample's share `2 γ ‖x‖` of `E(x, c)`, for [`err_with`](Self::err_with).
    #[inline]
    pub fn x_factor(&self, x_norm: f64) -> f64 {
        self.two_gamma * x_norm
    }

    /// `E(x, c)` from the sample's share `x_factor` (of this margin or of one with the
    /// same `η` and a tighter `γ`, e.g. a sparse sample's own count of nonzeros), the
    /// center's norm and the squared norms.
    #[inline]
    pub fn err_with(&self, x_factor: f64, c_norm: f64, xx: f64, cc: f64) -> f64 {
        x_factor * c_norm + 1e-12 * (xx + cc) + self.eta
    }

    /// `E(x, c)` from the norms and squared norms.
    #[inline]
    pub fn err(&self, x_norm: f64, c_norm: f64, xx: f64, cc: f64) -> f64 {
        self.err_with(self.x_factor(x_norm), c_norm, xx, cc)
    }
}

/// An upper bound on the true distance `‖a − b‖` between two `f32` vectors.
pub(crate) fn true_dist_upper(a: &[f32], b: &[f32]) -> f64 {
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let t = f64::from(x) - f64::from(y);
            t * t
        })
        .sum();
    s.sqrt() * (1.0 + SLACK) + 1e-300
}

/// A lower bound on the true distance `‖a − b‖` between two `f32` vectors.
pub(crate) fn true_dist_lower(a: &[f32], b: &[f32]) -> f64 {
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let t = f64::from(x) - f64::from(y);
            t * t
        })
        .sum();
    s.sqrt() * (1.0 - SLACK)
}

/// An `f32` at most `x` (`x ≥ 0`, a lower bound kept in `f32`), within three units in the
/// last place: `x` rounded to nearest (at most `f32::MAX`), times `1 − 2⁻²³`, minus the
/// smallest normal number (see [`kernels::bounds_shift`](crate::kernels::bounds_shift) for
/// why each step stays below). No branch, so a loop of them vectorises.
#[inline]
pub(crate) fn f32_below(x: f64) -> f32 {
    ((x.min(f64::from(f32::MAX)) as f32) * BOUND_SHRINK) - f32::MIN_POSITIVE
}

/// An `f32` at least `x` (`x ≥ 0`: thresholds and drifts kept in `f32`), within three units
/// in the last place: `x` rounded to nearest, times `1 + 2⁻²³`, plus the smallest normal
/// number (the mirror of [`f32_below`]; beyond `f32::MAX` it is `+∞`).
#[inline]
pub(crate) fn f32_above(x: f64) -> f32 {
    ((x as f32) * (1.0 + f32::EPSILON)) + f32::MIN_POSITIVE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{dot16, l2sq_opencv};

    #[test]
    fn f32_bounds_round_the_right_way() {
        let mut xs = vec![
            0.0,
            1e-310,
            1e-45,
            1e-40,
            1.1754943508222875e-38,
            0.1,
            1.0,
            2.0,
        ];
        xs.extend([3.0e38, f64::from(f32::MAX), 1e39, f64::INFINITY]);
        let mut v = 0.37_f64;
        for _ in 0..10_000 {
            v = (v * 7.31 + 0.123).fract();
            xs.push(v * 10f64.powi((v * 80.0) as i32 - 40));
        }
        for &x in &xs {
            let (lo, hi) = (f64::from(f32_below(x)), f64::from(f32_above(x)));
            assert!(
                lo <= x && (x == f64::INFINITY || lo < f64::INFINITY),
                "below {x}: {lo}"
            );
            assert!(hi >= x, "above {x}: {hi}");
            if x > 1e-30 && x < 1e38 {
                assert!(
                    lo >= x * (1.0 - 4e-7) && hi <= x * (1.0 + 4e-7),
                    "{x}: {lo} {hi}"
                );
            }
        }
    }

    fn pseudo(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.25) * scale
            })
            .collect()
    }

    fn exact_sq(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum()
    }

    #[test]
    fn opencv_kernel_stays_within_its_margin() {
        for (n, scale) in [
            (1, 1.0),
            (15, 3.0),
            (16, 1e-20),
            (400, 255.0),
            (784, 1e6),
            (1000, 1e-3),
        ] {
            let m = OpencvMargin::new(n);
            for seed in 0..20 {
                let a = pseudo(n, seed, scale);
                let b = pseudo(n, seed + 99, scale);
                let d = f64::from(l2sq_opencv(&a, &b));
                let e = exact_sq(&a, &b);
                assert!(
                    m.cv_lower(e) <= d && d <= m.cv_upper(e),
                    "n {n} seed {seed}"
                );
                let t = e.sqrt();
                assert!(m.true_lower(d) <= t && t <= m.true_upper(d));
            }
        }
    }

    #[test]
    fn fast_distance_stays_within_its_margin() {
        for n in [1_usize, 17, 400, 784] {
            let stride = n.div_ceil(16) * 16;
            let m = DotMargin::new(stride);
            for seed in 0..20 {
                let a = pseudo(n, seed, 255.0);
                let b = pseudo(n, seed + 7, 255.0);
                let xx: f64 = a.iter().map(|&v| f64::from(v).powi(2)).sum();
                let cc: f64 = b.iter().map(|&v| f64::from(v).powi(2)).sum();
                let approx = xx + cc - 2.0 * f64::from(dot16(&a, &b));
                let e = m.err(xx.sqrt(), cc.sqrt(), xx, cc);
                assert!((approx - exact_sq(&a, &b)).abs() <= e);
            }
        }
    }

    /// Both sparse kernels, on byte samples with few and many nonzeros, stay within
    /// the margin of the sample's own count of nonzeros.
    #[test]
    fn sparse_fast_distance_stays_within_its_margin() {
        use crate::kernels::SparseU8;
        for (dims, every) in [(1_usize, 1_u64), (17, 3), (400, 4), (400, 1), (784, 5)] {
            let worst = DotMargin::sparse(dims, dims);
            for seed in 0..20 {
                let mut x: u64 = seed * 7 + 3;
                let bytes: Vec<u8> = (0..dims as u64)
                    .map(|p| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(p);
                        if (x >> 40).is_multiple_of(every) {
                            (x >> 56) as u8 | 1
                        } else {
                            0
                        }
                    })
                    .collect();
                let sp = SparseU8::from_bytes(&bytes, dims);
                let nnz = sp.row(0).0.len();
                let c = pseudo(dims, seed + 7, 255.0);
                let mut ct = vec![0.0_f32; dims * 16];
                for (p, &v) in c.iter().enumerate() {
                    ct[p * 16] = v;
                }
                let mut t16 = [0.0_f32; 16];
                sp.dot_t16(0, &ct, &mut t16);
                let mut cols = [0.0_f32; 16];
                sp.dot_cols(0, &ct, 16, 0..16, &mut cols);
                let a: Vec<f32> = bytes.iter().map(|&b| f32::from(b)).collect();
                let xx: f64 = a.iter().map(|&v| f64::from(v).powi(2)).sum();
                let cc: f64 = c.iter().map(|&v| f64::from(v).powi(2)).sum();
                let own = DotMargin::sparse(dims, nnz);
                let e = worst.err_with(own.x_factor(xx.sqrt()), cc.sqrt(), xx, cc);
                assert!(e <= worst.err(xx.sqrt(), cc.sqrt(), xx, cc));
                for dot in [t16[0], cols[0]] {
                    let approx = xx + cc - 2.0 * f64::from(dot);
                    assert!(
                        (approx - exact_sq(&a, &c)).abs() <= e,
                        "dims {dims} seed {seed}"
                    );
                }
            }
        }
    }

    #[test]
    fn lower_cutoff_keeps_every_center_the_full_test_keeps() {
        for dims in [1, 17, 400, 784] {
            let m = OpencvMargin::new(dims);
            for h in [-1e-30, 0.0, 1e-300, 1e-30, 1.0, 2083.5, 6.5e6, 1e30] {
                let c = m.lower_cutoff(h);
                assert!(c >= 0.0);
                for v in [-1.0, 0.0, c, c * (1.0 - 1e-15), c * (1.0 + 1e-11) + 1e-300] {
                    if m.cv_lower(f64::max(v, 0.0)) <= h {
                        assert!(v <= c, "dims {dims} h {h} v {v} c {c}");
                    }
                }
                // The cutoff is tight: values just above it fail the full test.
                let v = c * (1.0 + 1e-11) + 1e-300;
                assert!(m.cv_lower(v) > h, "dims {dims} h {h}");
            }
        }
    }

    /// Distances further apart than the separation are ranked by the bounds: the
    /// lowest OpenCV value the farther one can have exceeds the highest of the nearer.
    #[test]
    fn separation_proves_the_order() {
        for dims in [1, 17, 400, 784] {
            let m = OpencvMargin::new(dims);
            for (a, e, d_max) in [
                (0.0, 0.0, 0.0),
                (0.0, 1e-3, 1.0),
                (4.0e6, 30.0, 2.0e7),
                (1.0, 1e-9, 1e12),
                (-5.0, 10.0, 100.0),
            ] {
                let w = m.separation(e, d_max);
                assert!(w >= 2.0 * e);
                let b = a + w * (1.0 + 1e-12) + 1e-300;
                let (near_hi, far_lo) = ((a + e).max(0.0), (b - e).max(0.0));
                assert!(
                    m.cv_lower(far_lo) > m.cv_upper(near_hi),
                    "dims {dims} a {a} e {e} d_max {d_max}"
                );
            }
        }
    }

    #[test]
    fn surely_farther_needs_a_real_gap() {
        let m = OpencvMargin::new(400);
        assert!(!m.surely_farther(1.0, 1.0));
        assert!(!m.surely_farther(1.0 + 1e-9, 1.0));
        assert!(m.surely_farther(1.001, 1.0));
        assert!(!m.surely_farther(0.0, 0.0));
        for hi in [0.0, 1e-30, 1.0, 2083.5, 1e12] {
            let t = m.farther_threshold(hi);
            assert!(m.surely_farther(t * (1.0 + 1e-12) + 1e-300, hi), "{hi}");
            assert!(t >= hi);
        }
    }
}
