#![no_main]
//! Any files in an image folder: an error or a data set whose labels match its samples,
//! never a panic. The first byte picks the classes and the size; the rest is cut into files
//! (a length byte, then that many bytes) dealt to the class folders in turn.

#[path = "limit.rs"]
mod limit;

use std::path::PathBuf;

use imgcluster::dataset::folder;
use imgcluster::Threads;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: limit::Limited = limit::Limited;

fn root() -> PathBuf {
    std::env::temp_dir().join(format!("imgcluster-fuzz-folder-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let classes = usize::from(first % 3) + 1;
    let size = (first & 0x80 != 0).then(|| {
        let s = usize::from((first >> 2) & 0x1f) + 1;
        (s, s)
    });
    let root = root();
    let _ = std::fs::remove_dir_all(&root);
    for c in 0..classes {
        std::fs::create_dir_all(root.join(format!("class{c}"))).unwrap();
    }
    let mut i = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len()) * 4;
        let len = len.min(tail.len());
        let (file, tail) = tail.split_at(len);
        let ext = if file.starts_with(b"\xff\xd8") { "jpg" } else { "png" };
        let path = root.join(format!("class{}/{i}.{ext}", i % classes));
        std::fs::write(path, file).unwrap();
        rest = tail;
        i += 1;
    }
    if let Ok(ds) = folder::read(&root, size, Threads::Fixed(1)) {
        let labels = ds.labels().expect("a folder has labels");
        assert_eq!(labels.len(), ds.len());
        assert!(labels.iter().all(|&l| (l as usize) < classes));
        if let Some((h, w)) = size {
            assert_eq!(ds.image_shape(), Some((h, w)));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
});
