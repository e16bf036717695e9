//! The few dense linear-algebra calls the feature stages make, all through `faer` and
//! all sequential (`Par::Seq`): the stages parallelise over fixed blocks themselves, so
//! that results do not depend on the thread count.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::FeaturesError;

/// `dst = lhs · rhs` on the calling thread.
pub(crate) fn gemm<T: faer::traits::ComplexField + From<u8>>(
    dst: MatMut<'_, T>,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) {
    matmul(dst, Accum::Replace, lhs, rhs, T::from(1u8), Par::Seq);
}

/// Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix `a`, whose
/// lower triangle is read.
///
/// Each eigenvector's sign is fixed so that its entry of largest magnitude (the first
/// such entry on ties) is positive, which makes the result reproducible.
pub(crate) fn symmetric_eigen(
    a: MatRef<'_, f64>,
    stage: &'static str,
) -> Result<(Vec<f64>, Mat<f64>), FeaturesError> {
    let n = a.nrows();
    let mut s = Diag::<f64>::zeros(n);
    let mut u = Mat::<f64>::zeros(n, n);
    let req = evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::Yes,
        Par::Seq,
        Default::default(),
    );
    let mut buf = MemBuffer::new(req);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Par::Seq,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| FeaturesError::NotConverged {
        stage,
        found: 0,
        wanted: n,
    })?;
    let values: Vec<f64> = (0..n).map(|i| s[i]).collect();
    for j in 0..n {
        fix_sign(u.col_as_slice_mut(j));
    }
    Ok((values, u))
}

/// Flips `v` so that its entry of largest magnitude (the first on ties) is positive.
pub(crate) fn fix_sign(v: &mut [f64]) {
    let mut best = 0.0f64;
    let mut sign = 1.0;
    for &x in v.iter() {
        if x.abs() > best {
            best = x.abs();
            sign = if x < 0.0 { -1.0 } else { 1.0 };
        }
    }
    if sign < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_2x2() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/√2 and (1, 1)/√2.
        let a = Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 1.0 });
        let (vals, vecs) = symmetric_eigen(a.as_ref(), "test").unwrap();
        assert!((vals[0] - 1.0).abs() < 1e-12 && (vals[1] - 3.0).abs() < 1e-12);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vecs[(0, 1)] - h).abs() < 1e-12 && (vecs[(1, 1)] - h).abs() < 1e-12);
        // Largest-magnitude entry positive: a tie, so the first entry decides.
        assert!(vecs[(0, 0)] > 0.0 && vecs[(1, 0)] < 0.0);
    }

    #[test]
    fn sign_rule() {
        let mut v = [0.1, -0.9, 0.9];
        fix_sign(&mut v);
        assert_eq!(v, [-0.1, 0.9, -0.9]);
    }
}
