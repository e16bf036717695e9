//! A global allocator that makes `-malloc_limit_mb` hold without a sanitizer: any single
//! allocation above the limit aborts, and libFuzzer saves the input that asked for it.
//!
//! The limit is `FUZZ_MALLOC_LIMIT_MB` (set by `run.sh`), 1024 MiB when unset.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Limited;

static LIMIT: AtomicUsize = AtomicUsize::new(0);

fn limit() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let mb = std::env::var("FUZZ_MALLOC_LIMIT_MB")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(1024);
            let bytes = mb.saturating_mul(1 << 20).max(1);
            LIMIT.store(bytes, Ordering::Relaxed);
            bytes
        }
        n => n,
    }
}

fn check(size: usize) {
    // Reading the environment allocates: only large requests look at the limit.
    if size > 64 << 20 && size > limit() {
        let msg = b"==ERROR: fuzz target: one allocation exceeds FUZZ_MALLOC_LIMIT_MB\n";
        // SAFETY: writes a static buffer to standard error.
        unsafe { libc_write(2, msg.as_ptr(), msg.len()) };
        std::process::abort();
    }
}

extern "C" {
    #[link_name = "write"]
    fn libc_write(fd: i32, buf: *const u8, count: usize) -> isize;
}

// SAFETY: every call is passed on to the system allocator unchanged, after a size check.
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}
