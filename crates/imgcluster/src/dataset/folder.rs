//! A folder of images with one sub-folder per class — the convention of torchvision's
//! `ImageFolder`:
//!
//! ```text
//! root/cat/001.png
//! root/cat/002.jpg
//! root/dog/a.jpeg
//! ```
//!
//! * The classes are the sub-folders' names in sorted order (by Unicode code points, as
//!   Python's `sorted`); the label of an image is the index of its class. Hidden folders and
//!   files (names starting with `.`, such as `.ipynb_checkpoints` or macOS `._x.png`) are
//!   skipped, unlike torchvision.
//! * The images of a class are its files whose names end in `.png`, `.jpg` or `.jpeg` (any
//!   case), also in nested folders, ordered as torchvision orders them: folder by folder
//!   (folders sorted by their path), and by name within a folder. Other files are ignored;
//!   a class with no image is an error (as in torchvision).
//! * Each image is decoded by its content (PNG or JPEG) to gray with OpenCV's weights
//!   ([`rgb_to_gray`](super::pngio::rgb_to_gray)) and brought to one size with
//!   [`resize`] (area averaging when shrinking, bilinear when
//!   enlarging): the size given, or else the size of the first image (first class, first file).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::imageio::read_gray;
use super::resize::resize;
use super::{Dataset, DatasetError};
use crate::image::GrayImage;
use crate::Threads;

/// The file extensions of images, compared without regard to case.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The classes and images of a folder data set, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderListing {
    /// Class names, sorted.
    pub classes: Vec<String>,
    /// Every image file with its class index, in data set order.
    pub files: Vec<(PathBuf, u32)>,
}

fn folder_err(msg: String) -> DatasetError {
    DatasetError::Folder(msg)
}

fn io_err(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// True when `path`'s extension is one of [`IMAGE_EXTENSIONS`].
pub fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The entries of `dir` as (name, path, is a folder), following symbolic links to files and
/// folders alike. Only folders and regular files are listed: a dangling link, a FIFO, a
/// socket or a device is skipped (a FIFO would block the reader forever).
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, DatasetError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() || meta.is_file() {
            out.push((name, path, meta.is_dir()));
        }
    }
    Ok(out)
}

/// What identifies a folder however it is reached: its device and inode (its canonical
/// path where those are not available).
fn folder_identity(path: &Path) -> Option<(u64, u64, PathBuf)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some((m.dev(), m.ino(), PathBuf::new()))
    }
    #[cfg(not(unix))]
    {
        Some((0, 0, std::fs::canonicalize(path).ok()?))
    }
}

/// Image files under `dir`, in torchvision's order: `sorted(os.walk(dir))`, then sorted
/// names within a folder. Nested folders are followed up to `depth` levels, links to folders
/// included, but a folder already visited (by device and inode: a link back to a parent, or
/// two links to one folder) is not entered again, so no image is counted twice.
fn class_files(dir: &Path, depth: usize) -> Result<Vec<PathBuf>, DatasetError> {
    // (folder path relative to the class folder, file name, full path)
    let mut found: Vec<(String, String, PathBuf)> = Vec::new();
    let mut visited: std::collections::HashSet<(u64, u64, PathBuf)> =
        folder_identity(dir).into_iter().collect();
    let mut stack = vec![(String::new(), dir.to_path_buf(), 0usize)];
    while let Some((rel, path, level)) = stack.pop() {
        let mut listed = entries(&path)?;
        // Visit folders in name order, so which of two links to one folder counts is fixed.
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, p, is_dir) in listed {
            if is_dir {
                if level < depth
                    && !name.starts_with('.')
                    && folder_identity(&p).is_some_and(|id| visited.insert(id))
                {
                    let sub = if rel.is_empty() {
                        name
                    } else {
                        format!("{rel}/{name}")
                    };
                    stack.push((sub, p, level + 1));
                }
            } else if is_image_file(&p) && !name.starts_with('.') {
                found.push((rel.clone(), name, p));
            }
        }
    }
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(found.into_iter().map(|(_, _, p)| p).collect())
}

/// Lists the classes and image files of a folder data set, without decoding anything.
///
/// # Errors
/// [`DatasetError::Io`] when a folder cannot be read, [`DatasetError::Folder`] when `root` has
/// no class sub-folder or a class holds no image.
pub fn list(root: &Path) -> Result<FolderListing, DatasetError> {
    let mut classes: Vec<(String, PathBuf)> = entries(root)?
        .into_iter()
        .filter(|(name, _, is_dir)| *is_dir && !name.starts_with('.'))
        .map(|(name, path, _)| (name, path))
        .collect();
    classes.sort();
    if classes.is_empty() {
        return Err(folder_err(
            "it has no sub-folders (expected one sub-folder of PNG/JPEG images per class)"
                .to_string(),
        ));
    }
    let mut files = Vec::new();
    for (label, (name, path)) in classes.iter().enumerate() {
        let found = class_files(path, 16)?;
        if found.is_empty() {
            return Err(folder_err(format!(
                "the class folder '{name}' holds no .png, .jpg or .jpeg file"
            )));
        }
        files.extend(found.into_iter().map(|p| (p, label as u32)));
    }
    Ok(FolderListing {
        classes: classes.into_iter().map(|(n, _)| n).collect(),
        files,
    })
}

fn read_sized(path: &Path, width: usize, height: usize) -> Result<GrayImage, DatasetError> {
    let img = read_gray(path)?;
    if img.width() == 0 || img.height() == 0 {
        return Err(DatasetError::Empty.in_file(path));
    }
    Ok(resize(img.view(), width, height))
}

/// Reads a folder data set (see the module documentation): labels, class names, and every
/// image as 8-bit gray of `size` = `(height, width)`, or of the first image's size when
/// `size` is `None`. Images are decoded in parallel on `threads`; the result does not
/// depend on it.
///
/// # Errors
/// As [`list`]; [`DatasetError::InvalidParameter`] for a zero size; an image that cannot
/// be read or decoded gives its error tagged with the image's path
/// ([`DatasetError::InFile`]) — the first such image in data set order.
///
/// # Examples
/// ```
/// use imgcluster::dataset::folder;
/// use imgcluster::report::encode_gray8;
/// use imgcluster::Threads;
/// let root = std::env::temp_dir().join(format!("imgcluster-doc-folder-{}", std::process::id()));
/// for (class, value) in [("zero", 0u8), ("one", 255)] {
///     std::fs::create_dir_all(root.join(class))?;
///     std::fs::write(root.join(class).join("a.png"), encode_gray8(2, 2, &[value; 4])?)?;
/// }
/// let ds = folder::read(&root, None, Threads::Fixed(1))?;
/// assert_eq!(ds.class_names().unwrap(), ["one", "zero"]);
/// assert_eq!(ds.labels().unwrap(), &[0, 1]);
/// assert_eq!(ds.image(0).unwrap().data(), &[255; 4]);
/// std::fs::remove_dir_all(&root)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read(
    root: &Path,
    size: Option<(usize, usize)>,
    threads: Threads,
) -> Result<Dataset, DatasetError> {
    let listing = list(root)?;
    let (first_path, _) = &listing.files[0];
    let (height, width) = match size {
        Some((h, w)) if h == 0 || w == 0 => {
            return Err(DatasetError::InvalidParameter {
                name: "size",
                reason: format!("{h}x{w} has no pixels"),
            })
        }
        Some(s) => s,
        None => {
            let first = read_gray(first_path)?;
            (first.height(), first.width())
        }
    };
    if height == 0 || width == 0 {
        return Err(DatasetError::Empty.in_file(first_path));
    }
    // Before decoding anything: the images at this size, and their f32 copy for clustering.
    let n = listing.files.len() as u64;
    let values = n.saturating_mul(height as u64).saturating_mul(width as u64);
    super::memory::ensure(values.saturating_mul(5), || {
        format!("loading and clustering {n} images of {height}x{width} ({values} values)")
    })?;
    let images: Vec<Result<GrayImage, DatasetError>> = threads.install(|| {
        listing
            .files
            .par_iter()
            .map(|(p, _)| read_sized(p, width, height))
            .collect()
    });
    let mut pixels = Vec::with_capacity(listing.files.len() * width * height);
    for img in images {
        pixels.extend_from_slice(img?.data());
    }
    let labels = listing.files.iter().map(|&(_, l)| l).collect();
    Dataset::from_images(listing.files.len(), height, width, pixels)?
        .with_labels(labels)?
        .with_class_names(listing.classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::encode_gray8;

    fn write_png(path: &Path, w: usize, h: usize, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, encode_gray8(w, h, &vec![v; w * h]).unwrap()).unwrap();
    }

    #[test]
    fn order_classes_and_nested_files_like_torchvision() {
        let dir = tempfile_dir("order");
        let r = dir.as_path();
        write_png(&r.join("b/z.png"), 2, 2, 1);
        write_png(&r.join("b/a/x.PNG"), 2, 2, 2);
        write_png(&r.join("b/a-b/y.jpg.png"), 2, 2, 3);
        write_png(&r.join("a/2.png"), 2, 2, 4);
        write_png(&r.join("a/10.png"), 2, 2, 5);
        std::fs::write(r.join("a/notes.txt"), "x").unwrap();
        write_png(&r.join(".hidden/q.png"), 2, 2, 6);
        write_png(&r.join("a/._10.png"), 2, 2, 7);
        let l = list(r).unwrap();
        assert_eq!(l.classes, vec!["a", "b"]);
        let rel: Vec<String> = l
            .files
            .iter()
            .map(|(p, c)| format!("{c}:{}", p.strip_prefix(r).unwrap().display()))
            .collect();
        assert_eq!(
            rel,
            [
                "0:a/10.png",
                "0:a/2.png",
                "1:b/z.png",
                "1:b/a/x.PNG",
                "1:b/a-b/y.jpg.png"
            ]
        );
        let ds = read(r, None, Threads::Fixed(2)).unwrap();
        let firsts: Vec<u8> = (0..5).map(|i| ds.image(i).unwrap().data()[0]).collect();
        assert_eq!(firsts, vec![5, 4, 1, 2, 3]);
        std::fs::remove_dir_all(r).unwrap();
    }

    #[test]
    fn sizes_follow_the_first_image_or_the_option() {
        let dir = tempfile_dir("sizes");
        let r = dir.as_path();
        write_png(&r.join("a/1.png"), 4, 2, 10);
        write_png(&r.join("b/1.png"), 8, 8, 20);
        let ds = read(r, None, Threads::Fixed(1)).unwrap();
        assert_eq!(ds.image_shape(), Some((2, 4)));
        assert_eq!(ds.image(1).unwrap().data(), &[20; 8]);
        let ds = read(r, Some((3, 3)), Threads::Fixed(1)).unwrap();
        assert_eq!(ds.image_shape(), Some((3, 3)));
        assert!(read(r, Some((0, 3)), Threads::Fixed(1)).is_err());
        std::fs::remove_dir_all(r).unwrap();
    }

    #[test]
    fn empty_classes_and_bad_images_are_errors() {
        let dir = tempfile_dir("errors");
        let r = dir.as_path();
        assert!(matches!(list(r), Err(DatasetError::Folder(_))));
        write_png(&r.join("a/1.png"), 2, 2, 0);
        std::fs::create_dir_all(r.join("b")).unwrap();
        let e = list(r).unwrap_err().to_string();
        assert!(e.contains("'b' holds no"), "{e}");
        std::fs::write(r.join("b/broken.jpg"), b"\xff\xd8\xff\xe0 nope").unwrap();
        let e = read(r, None, Threads::Fixed(1)).unwrap_err().to_string();
        assert!(e.contains("broken.jpg") && e.contains("JPEG"), "{e}");
        std::fs::remove_dir_all(r).unwrap();
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "imgcluster-folder-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
