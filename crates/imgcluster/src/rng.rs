//! OpenCV-compatible random number generator (placeholder).

/// OpenCV's `cv::RNG` (placeholder).
#[derive(Debug, Clone)]
pub struct CvRng {
    state: u64,
}

impl CvRng {
    /// The generator's 64-bit state.
    pub fn state(&self) -> u64 {
        self.state
    }
}
