//! OpenCV-compatible random number generator.
//!
//! [`CvRng`] is OpenCV's `cv::RNG`: a 64-bit multiply-with-carry generator
//! (G. Marsaglia) with multiplier `4164903690`. Each draw updates the state as
//!
//! ```text
//! state = (state mod 2^32) * 4164903690 + (state >> 32)
//! ```
//!
//! and returns the low 32 bits of the new state. The floating-point draws convert
//! those 32-bit words exactly as OpenCV's conversion operators do, so a `CvRng` fed
//! the same seed produces the same numbers, and therefore the same k-means
//! initialisation, as OpenCV.
//!
//! # Which state to start from
//!
//! * [`CvRng::opencv_default`] — the state OpenCV's per-thread generator (`cv::theRNG()`)
//!   has in a fresh process before anything drew from it: a default-constructed
//!   `cv::RNG`, state `0xffffffff`.
//! * [`CvRng::from_set_rng_seed`] — the state after `cv::setRNGSeed(seed)`.
//! * [`CvRng::new`] — `cv::RNG(state)`.
//!
//! Consecutive calls that draw from the same `CvRng` continue one stream, exactly like
//! consecutive OpenCV calls on the same thread continue `cv::theRNG()`.

/// The multiply-with-carry multiplier of `cv::RNG` (`CV_RNG_COEFF`).
const COEFF: u64 = 4_164_903_690;

/// The state OpenCV substitutes for a zero seed, and the state of a default-constructed `cv::RNG`.
const DEFAULT_STATE: u64 = 0xffff_ffff;

/// `2^-32` as OpenCV writes it for `(float)rng`.
const INV_2_32_F32: f32 = 2.328_306_4e-10;

/// `2^-64` as OpenCV writes it for `(double)rng`.
const INV_2_64_F64: f64 = 5.421_010_862_427_522e-20;

/// OpenCV's `cv::RNG`: a 64-bit multiply-with-carry generator.
///
/// See the [module documentation](self) for the recurrence and the seeding rules.
///
/// # Examples
///
/// ```
/// use imgcluster::CvRng;
///
/// // A fresh process: OpenCV's thread generator starts at state 0xffffffff.
/// let mut rng = CvRng::opencv_default();
/// assert_eq!(rng.next_u32(), 130_063_606);
/// assert_eq!(rng.next_u32(), 3_003_295_397);
///
/// // cv::setRNGSeed(1)
/// let mut rng = CvRng::from_set_rng_seed(1);
/// assert_eq!(rng.next_u32(), 4_164_903_690);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CvRng {
    state: u64,
}

impl Default for CvRng {
    /// Same as [`CvRng::opencv_default`].
    fn default() -> Self {
        Self::opencv_default()
    }
}

impl CvRng {
    /// `cv::RNG(state)`: a generator with the given 64-bit state, where `0` (which
    /// would make the generator emit zeros forever) is replaced by `0xffffffff`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// assert_eq!(CvRng::new(0).state(), 0xffff_ffff);
    /// assert_eq!(CvRng::new(42).state(), 42);
    /// ```
    pub const fn new(state: u64) -> Self {
        Self {
            state: if state == 0 { DEFAULT_STATE } else { state },
        }
    }

    /// The state of OpenCV's per-thread generator `cv::theRNG()` in a fresh process.
    ///
    /// OpenCV keeps one `cv::RNG` per thread in its core thread-local data; it is
    /// default-constructed, and `cv::RNG()` sets the state to `0xffffffff`.
    /// Use this to reproduce a `cv::kmeans` run made without any `cv::setRNGSeed` call.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// assert_eq!(CvRng::opencv_default().state(), 0xffff_ffff);
    /// ```
    pub const fn opencv_default() -> Self {
        Self {
            state: DEFAULT_STATE,
        }
    }

    /// The state of `cv::theRNG()` right after `cv::setRNGSeed(seed)`.
    ///
    /// OpenCV converts the `int` seed with `static_cast<uint64>`, which sign-extends:
    /// `-1` becomes `0xffff_ffff_ffff_ffff`, not `0xffff_ffff`. A zero seed becomes
    /// `0xffffffff` as in [`CvRng::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// assert_eq!(CvRng::from_set_rng_seed(12345).state(), 12345);
    /// assert_eq!(CvRng::from_set_rng_seed(-1).state(), u64::MAX);
    /// assert_eq!(CvRng::from_set_rng_seed(0).state(), 0xffff_ffff);
    /// ```
    pub const fn from_set_rng_seed(seed: i32) -> Self {
        // i32 -> i64 sign-extends, i64 -> u64 reinterprets: static_cast<uint64>(int).
        Self::new(seed as i64 as u64)
    }

    /// The generator's 64-bit state.
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The next 32-bit word (`cv::RNG::next()`, `(unsigned)rng`).
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut rng = CvRng::new(1);
    /// assert_eq!(rng.next_u32(), 4_164_903_690);
    /// assert_eq!(rng.state(), 4_164_903_690);
    /// ```
    pub fn next_u32(&mut self) -> u32 {
        self.state = (self.state & 0xffff_ffff) * COEFF + (self.state >> 32);
        self.state as u32
    }

    /// An integer in `[a, b)` (`cv::RNG::uniform(int, int)`); returns `a` when `a == b`.
    ///
    /// OpenCV computes `next() % (unsigned)(b - a) + a` in unsigned 32-bit
    /// arithmetic; this does the same with wrapping arithmetic, so even `b < a`
    /// gives OpenCV's (not very meaningful) answer instead of panicking.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut rng = CvRng::opencv_default();
    /// // 130063606 % 10
    /// assert_eq!(rng.uniform_i32(0, 10), 6);
    /// assert_eq!(rng.uniform_i32(5, 5), 5);
    /// ```
    pub fn uniform_i32(&mut self, a: i32, b: i32) -> i32 {
        if a == b {
            return a;
        }
        let range = b.wrapping_sub(a) as u32;
        (self.next_u32() % range).wrapping_add(a as u32) as i32
    }

    /// A float in `[0, 1]` (`(float)rng`): the next word converted to `f32`
    /// (round to nearest) times `2^-32`.
    ///
    /// Because the conversion rounds, words above `2^32 - 129` give exactly `1.0`,
    /// as in OpenCV.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut rng = CvRng::opencv_default();
    /// assert_eq!(rng.next_f32(), 130_063_606.0_f32 * 2.0_f32.powi(-32));
    /// ```
    pub fn next_f32(&mut self) -> f32 {
        self.next_u32() as f32 * INV_2_32_F32
    }

    /// A double in `[0, 1]` (`(double)rng`): two words `t`, `u` combined into the
    /// 64-bit integer `(t << 32) | u`, converted to `f64` (round to nearest), times `2^-64`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut rng = CvRng::opencv_default();
    /// let expected = ((130_063_606_u64 << 32) | 3_003_295_397) as f64 * 2.0_f64.powi(-64);
    /// assert_eq!(rng.next_f64(), expected);
    /// ```
    pub fn next_f64(&mut self) -> f64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        ((hi << 32) | lo) as f64 * INV_2_64_F64
    }

    /// A float in `[a, b)` (`cv::RNG::uniform(float, float)`): `next_f32() * (b - a) + a`
    /// in `f32` arithmetic.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut a = CvRng::new(7);
    /// let mut b = a.clone();
    /// assert_eq!(a.uniform_f32(-1.0, 3.0), b.next_f32() * 4.0 - 1.0);
    /// ```
    pub fn uniform_f32(&mut self, a: f32, b: f32) -> f32 {
        self.next_f32() * (b - a) + a
    }

    /// A double in `[a, b)` (`cv::RNG::uniform(double, double)`): `next_f64() * (b - a) + a`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::CvRng;
    ///
    /// let mut a = CvRng::new(7);
    /// let mut b = a.clone();
    /// assert_eq!(a.uniform_f64(2.0, 3.0), b.next_f64() + 2.0);
    /// ```
    pub fn uniform_f64(&mut self, a: f64, b: f64) -> f64 {
        self.next_f64() * (b - a) + a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recurrence written out with 128-bit arithmetic, independent of the implementation.
    fn reference_words(mut state: u64, n: usize) -> Vec<u32> {
        (0..n)
            .map(|_| {
                let next = u128::from(state as u32) * 4_164_903_690 + u128::from(state >> 32);
                state = next as u64;
                state as u32
            })
            .collect()
    }

    #[test]
    fn first_draws_from_the_default_state() {
        // Worked by hand: 0xffffffff * 4164903690 = 4164903690 * 2^32 - 4164903690, whose
        // low word is 2^32 - 4164903690 = 130063606 and high word 4164903689.
        let mut rng = CvRng::opencv_default();
        let words: Vec<u32> = (0..5).map(|_| rng.next_u32()).collect();
        assert_eq!(
            words,
            [
                130_063_606,
                3_003_295_397,
                3_870_020_839,
                1_350_273_629,
                4_024_955_497
            ]
        );
        assert_eq!(words, reference_words(0xffff_ffff, 5));
        assert_eq!(rng.state(), 0x4e0b_9b94_efe7_f269);
    }

    #[test]
    fn first_draws_after_set_rng_seed_1() {
        // state 1: 1 * 4164903690 + 0, so the first word is the multiplier itself.
        let mut rng = CvRng::from_set_rng_seed(1);
        let words: Vec<u32> = (0..5).map(|_| rng.next_u32()).collect();
        assert_eq!(
            words,
            [
                4_164_903_690,
                1_161_608_292,
                1_586_554_749,
                236_281_119,
                506_292_918
            ]
        );
        assert_eq!(words, reference_words(1, 5));
    }

    #[test]
    fn seeds_match_opencv_conversion() {
        assert_eq!(CvRng::from_set_rng_seed(12345).state(), 12345);
        assert_eq!(CvRng::from_set_rng_seed(0).state(), 0xffff_ffff);
        assert_eq!(CvRng::from_set_rng_seed(-1).state(), u64::MAX);
        assert_eq!(
            CvRng::from_set_rng_seed(i32::MIN).state(),
            0xffff_ffff_8000_0000
        );
        assert_eq!(CvRng::new(0), CvRng::opencv_default());
        assert_eq!(CvRng::default(), CvRng::opencv_default());
        // -1 sign-extends: the stream differs from the default state's.
        let mut neg = CvRng::from_set_rng_seed(-1);
        assert_eq!(neg.next_u32(), 130_063_605);
        assert_eq!(neg.next_u32(), 3_133_359_004);
    }

    #[test]
    fn long_stream_matches_reference() {
        for seed in [1_u64, 12345, 0xffff_ffff, u64::MAX, 0x8000_0000_0000_0001] {
            let mut rng = CvRng::new(seed);
            let words: Vec<u32> = (0..1000).map(|_| rng.next_u32()).collect();
            assert_eq!(words, reference_words(seed, 1000), "seed {seed}");
        }
    }

    #[test]
    fn float_draws_convert_like_opencv() {
        let mut rng = CvRng::opencv_default();
        let mut words = CvRng::opencv_default();
        let f = rng.next_f32();
        assert_eq!(f, words.next_u32() as f32 / 4_294_967_296.0);
        let d = rng.next_f64();
        let t = u64::from(words.next_u32());
        let u = u64::from(words.next_u32());
        assert_eq!(d, ((t << 32) | u) as f64 / 18_446_744_073_709_551_616.0);
        assert_eq!(rng, words);
    }

    #[test]
    fn float_draw_of_the_largest_words_is_one() {
        // The u32 -> f32 conversion rounds to nearest: words from 2^32 - 128 up map to 2^32.
        assert_eq!(u32::MAX as f32 * INV_2_32_F32, 1.0);
        assert_eq!((u32::MAX - 127) as f32 * INV_2_32_F32, 1.0);
        assert!(((u32::MAX - 128) as f32 * INV_2_32_F32) < 1.0);
    }

    #[test]
    fn uniform_int_wraps_like_unsigned_arithmetic() {
        let mut rng = CvRng::opencv_default();
        assert_eq!(rng.uniform_i32(-5, 5), (130_063_606 % 10) - 5);
        let mut rng = CvRng::opencv_default();
        // b < a: (unsigned)(b - a) is huge, result wraps.
        let w = 130_063_606_u32;
        let expected = (w % (-10_i32) as u32).wrapping_add(10) as i32;
        assert_eq!(rng.uniform_i32(10, 0), expected);
        let mut rng = CvRng::opencv_default();
        assert_eq!(rng.uniform_i32(i32::MIN, i32::MAX), {
            (w % u32::MAX).wrapping_add(i32::MIN as u32) as i32
        });
    }
}
