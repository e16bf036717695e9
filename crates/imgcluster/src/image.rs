//! 8-bit grayscale images: an owned [`GrayImage`] and a borrowed [`GrayView`].

/// A borrowed 8-bit grayscale image stored row-major without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrayView<'a> {
    width: usize,
    height: usize,
    data: &'a [u8],
}

impl<'a> GrayView<'a> {
    /// Wraps `data` (row-major, `width * height` bytes).
    ///
    /// # Panics
    /// Panics if `data.len() != width * height`.
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Self {
        assert_eq!(data.len(), width * height, "GrayView: data length");
        Self {
            width,
            height,
            data,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixels, row-major.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The pixel at column `x`, row `y`.
    ///
    /// # Panics
    /// Panics if the position is outside the image.
    pub fn get(&self, x: usize, y: usize) -> u8 {
        assert!(x < self.width && y < self.height);
        self.data[y * self.width + x]
    }

    /// An owned copy of this image.
    pub fn to_owned(&self) -> GrayImage {
        GrayImage {
            width: self.width,
            height: self.height,
            data: self.data.to_vec(),
        }
    }
}

/// An owned 8-bit grayscale image stored row-major without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl GrayImage {
    /// A black image of the given size.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0; width * height],
        }
    }

    /// Wraps `data` (row-major, `width * height` bytes).
    ///
    /// # Panics
    /// Panics if `data.len() != width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height, "GrayImage: data length");
        Self {
            width,
            height,
            data,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixels, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixels, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Consumes the image and returns its pixels.
    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }

    /// A borrowed view of this image.
    pub fn view(&self) -> GrayView<'_> {
        GrayView {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}
