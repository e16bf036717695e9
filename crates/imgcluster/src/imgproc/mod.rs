//! Image operations on 8-bit grayscale images, equal to OpenCV 4.8: [`moments`]
//! (`cv::moments`), [`warp_affine`] (`cv::warpAffine` with nearest, linear or cubic
//! interpolation and a constant border) and the digits tutorials' [`deskew`].

mod deskew;
mod error;
mod moments;
mod polarity;
mod warp;

pub use deskew::{
    deskew, deskew_into, deskew_matrix, DeskewParams, DeskewValidParams, MAX_DESKEW_FACTOR,
};
pub use error::ImgprocError;
pub use moments::{moments, Moments};
pub use polarity::{conform_polarity, Polarity};
pub use warp::{warp_affine, warp_affine_into, Border, Interpolation, MapDirection, WarpOptions};
