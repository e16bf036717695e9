#![no_main]
//! Any bytes given to the image decoders as `predict` (gray, resized to the model's size) and
//! `quantize` (RGB) use them: an error or an image, never a panic or an allocation the file
//! does not justify.

#[path = "limit.rs"]
mod limit;

use imgcluster::dataset::imageio::{decode_gray, image_size};
use imgcluster::dataset::resize::resize;
use imgcluster::quantize::decode_rgb;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fuzz_target!(|data: &[u8]| {
    let gray = decode_gray(data);
    if let Ok(img) = &gray {
        assert_eq!(img.data().len(), img.width() * img.height());
        if let Some((w, h)) = image_size(data) {
            assert_eq!((w, h), (img.width(), img.height()));
        }
        if img.width() > 0 && img.height() > 0 {
            let small = resize(img.view(), 20, 20);
            assert_eq!(small.data().len(), 400);
        }
    }
    if let Ok(rgb) = decode_rgb(data) {
        assert_eq!(rgb.data().len(), 3 * rgb.width() * rgb.height());
        if let Ok(img) = &gray {
            assert_eq!((rgb.width(), rgb.height()), (img.width(), img.height()));
        }
    }
});
