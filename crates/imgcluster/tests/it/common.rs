//! Shared helpers: the OpenCV fixtures carried in `tests/fixtures/opencv`.
#![allow(dead_code)]

use std::path::PathBuf;

/// The fixture folder. The fixtures are part of the repository: a missing one fails the
/// test that needs it, it is never skipped.
pub fn fixture_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/opencv");
    assert!(
        dir.join("manifest.json").is_file(),
        "the OpenCV fixtures are missing at {} (they are part of the repository)",
        dir.display()
    );
    dir
}

/// A `.npy` array as read by [`read_npy`].
#[derive(Debug)]
pub struct Npy {
    /// NumPy dtype string, e.g. `|u1`, `<i4`, `<f4`, `<f8`.
    pub descr: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// Raw little-endian payload.
    pub bytes: Vec<u8>,
}

impl Npy {
    pub fn as_u8(&self) -> &[u8] {
        assert_eq!(self.descr, "|u1");
        &self.bytes
    }
    pub fn to_i32(&self) -> Vec<i32> {
        assert_eq!(self.descr, "<i4");
        self.bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
    pub fn to_f32(&self) -> Vec<f32> {
        assert_eq!(self.descr, "<f4");
        self.bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
    pub fn to_f64(&self) -> Vec<f64> {
        assert_eq!(self.descr, "<f8");
        self.bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
}

/// Reads a C-order `.npy` file (version 1 or 2 header) from the fixture folder.
pub fn read_npy(name: &str) -> Npy {
    let path = fixture_dir().join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&raw[..6], b"\x93NUMPY");
    let (hlen, start) = if raw[6] == 1 {
        (u16::from_le_bytes([raw[8], raw[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes(raw[8..12].try_into().unwrap()) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&raw[start..start + hlen]).unwrap();
    let field = |key: &str| {
        let i = header.find(key).unwrap() + key.len();
        header[i..].trim_start_matches([':', ' ', '\'']).to_string()
    };
    let descr = field("'descr'");
    let descr = descr[..descr.find('\'').unwrap()].to_string();
    assert!(field("'fortran_order'").starts_with("False"));
    let shape_s = field("'shape'");
    let shape_s = &shape_s[shape_s.find('(').unwrap() + 1..shape_s.find(')').unwrap()];
    let shape = shape_s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    Npy {
        descr,
        shape,
        bytes: raw[start + hlen..].to_vec(),
    }
}

/// The fixture manifest as text (tests pick the few numbers they need from it).
pub fn manifest() -> String {
    std::fs::read_to_string(fixture_dir().join("manifest.json")).unwrap()
}
