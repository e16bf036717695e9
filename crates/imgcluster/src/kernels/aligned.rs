//! A growable `f32` buffer whose first value sits on a 64-byte boundary.

/// One cache line of `f32` values.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// `f32` values starting on a 64-byte boundary (a cache line, and one AVX-512
/// register): a row of 16 values at a multiple-of-16 offset is one aligned load that
/// never straddles two lines. `Vec<f32>` only promises 4-byte alignment, and a split
/// load costs the sparse kernels up to half their speed.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::AlignedF32;
///
/// let mut buf = AlignedF32::default();
/// buf.resize_zeroed(20);
/// buf.as_mut_slice()[19] = 1.5;
/// assert_eq!(buf.as_slice().len(), 20);
/// assert_eq!(buf.as_slice().as_ptr() as usize % 64, 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AlignedF32 {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedF32 {
    /// A buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let mut buf = Self::default();
        buf.resize_zeroed(len);
        buf
    }

    /// Makes the buffer `len` values long, all zero.
    pub fn resize_zeroed(&mut self, len: usize) {
        self.lines.clear();
        self.lines.resize(len.div_ceil(16), Line::default());
        self.len = len;
    }

    /// Makes the buffer `len` values long, keeping the values it had and zeroing
    /// any new ones.
    pub fn resize(&mut self, len: usize) {
        let old = self.len;
        self.lines.resize(len.div_ceil(16), Line::default());
        self.len = len;
        if len > old {
            // The tail of the last old line may hold values from a longer past.
            self.as_mut_slice()[old..].fill(0.0);
        }
    }

    /// The values.
    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: `Line` is `repr(C)` around `[f32; 16]`, so the lines are
        // `16 · lines.len() ≥ len` contiguous, initialised `f32` values.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }

    /// The values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_slice`, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}

impl std::ops::Deref for AlignedF32 {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for AlignedF32 {
    fn deref_mut(&mut self) -> &mut [f32] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_aligned_zeroed_and_exact() {
        let mut buf = AlignedF32::default();
        for len in [0, 1, 15, 16, 17, 63, 64, 1000] {
            buf.resize_zeroed(len);
            assert_eq!(buf.as_slice().len(), len);
            assert!(buf.as_slice().iter().all(|&v| v == 0.0));
            assert_eq!(buf.as_slice().as_ptr() as usize % 64, 0);
            buf.as_mut_slice().fill(2.0);
        }
        // Growing keeps the values and zeroes the new ones, even where a longer past
        // left values in the last line.
        buf.resize_zeroed(40);
        buf.as_mut_slice().fill(3.0);
        buf.resize(17);
        buf.resize(33);
        assert_eq!(&buf.as_slice()[..17], &[3.0; 17]);
        assert_eq!(&buf.as_slice()[17..], &[0.0; 16]);
        assert_eq!(buf.as_slice().as_ptr() as usize % 64, 0);
    }
}
