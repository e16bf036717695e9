//! Polarity: whether an image shows light strokes on a dark background or dark strokes on a
//! light one.

use crate::image::GrayView;

/// The polarity of an image: which side of its range the background is on.
///
/// The rule ([`Polarity::of`]): the background level is the median of the pixels of the
/// image's outer ring (its first and last rows and columns); the background is *dark* when
/// that level is below the middle of the image's range, `(min + max) / 2`, and *light* when
/// above. An image with one value, or whose ring median is exactly the middle, has no
/// polarity. A few stroke pixels touching the border do not move a median, so a digit that
/// reaches the edge keeps its polarity.
///
/// # Examples
/// ```
/// use imgcluster::imgproc::Polarity;
/// use imgcluster::GrayView;
///
/// // A light stroke on black, and the same inverted.
/// let light = [0, 0, 0, 0, 255, 0, 0, 0, 0];
/// let dark: Vec<u8> = light.iter().map(|v| 255 - v).collect();
/// assert_eq!(Polarity::of(GrayView::new(3, 3, &light)), Some(Polarity::DarkBackground));
/// assert_eq!(Polarity::of(GrayView::new(3, 3, &dark)), Some(Polarity::LightBackground));
/// assert_eq!(Polarity::of(GrayView::new(3, 3, &[7; 9])), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Light strokes on a dark background (as `digits.png` and MNIST).
    DarkBackground,
    /// Dark strokes on a light background (ink on paper).
    LightBackground,
}

impl Polarity {
    /// The polarity of `img`, or `None` when it has none (see the type's documentation).
    pub fn of(img: GrayView<'_>) -> Option<Polarity> {
        let (w, h) = (img.width(), img.height());
        if w == 0 || h == 0 {
            return None;
        }
        let data = img.data();
        let (lo, hi) = data
            .iter()
            .fold((u8::MAX, u8::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo == hi {
            return None;
        }
        let mut ring: Vec<u8> = Vec::with_capacity(2 * (w + h));
        for x in 0..w {
            ring.push(img.get(x, 0));
            if h > 1 {
                ring.push(img.get(x, h - 1));
            }
        }
        for y in 1..h.saturating_sub(1) {
            ring.push(img.get(0, y));
            if w > 1 {
                ring.push(img.get(w - 1, y));
            }
        }
        ring.sort_unstable();
        // Twice the median and twice the middle, in integers.
        let n = ring.len();
        let median2 = u32::from(ring[(n - 1) / 2]) + u32::from(ring[n / 2]);
        let middle2 = u32::from(lo) + u32::from(hi);
        match median2.cmp(&middle2) {
            std::cmp::Ordering::Less => Some(Polarity::DarkBackground),
            std::cmp::Ordering::Greater => Some(Polarity::LightBackground),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// The other polarity.
    pub fn flipped(self) -> Polarity {
        match self {
            Polarity::DarkBackground => Polarity::LightBackground,
            Polarity::LightBackground => Polarity::DarkBackground,
        }
    }

    /// `dark-background` or `light-background`.
    pub fn name(self) -> &'static str {
        match self {
            Polarity::DarkBackground => "dark-background",
            Polarity::LightBackground => "light-background",
        }
    }

    /// The polarity named `name` ([`Polarity::name`]).
    pub fn from_name(name: &str) -> Option<Polarity> {
        match name {
            "dark-background" => Some(Polarity::DarkBackground),
            "light-background" => Some(Polarity::LightBackground),
            _ => None,
        }
    }

    /// The polarity most of `images` have (`None` when none has one; ties go to
    /// [`Polarity::DarkBackground`]).
    pub fn majority<'a>(images: impl IntoIterator<Item = GrayView<'a>>) -> Option<Polarity> {
        let (mut dark, mut light) = (0usize, 0usize);
        for img in images {
            match Polarity::of(img) {
                Some(Polarity::DarkBackground) => dark += 1,
                Some(Polarity::LightBackground) => light += 1,
                None => {}
            }
        }
        match (dark, light) {
            (0, 0) => None,
            (d, l) if d >= l => Some(Polarity::DarkBackground),
            _ => Some(Polarity::LightBackground),
        }
    }
}

/// Brings `pixels` (one image of `width × height`) to polarity `want` by the rule of
/// [`Polarity::of`]: inverted (`255 − v`) when its polarity is the other one; unchanged
/// when it has none or the same. Returns whether it was inverted.
pub fn conform_polarity(pixels: &mut [u8], width: usize, height: usize, want: Polarity) -> bool {
    let flip = Polarity::of(GrayView::new(width, height, pixels)) == Some(want.flipped());
    if flip {
        pixels.iter_mut().for_each(|v| *v = 255 - *v);
    }
    flip
}
