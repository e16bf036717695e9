//! The compiled half of the `imgcluster` Python package (`imgcluster._imgcluster`).
//!
//! Every function here takes arrays the Python half has already brought to a
//! C-contiguous `uint8` or `float32` layout (read in place, never copied), releases the
//! GIL while the engine runs, and turns every error into a Python `ValueError` whose
//! message names the argument at fault. A panic, should one ever happen, becomes a
//! `RuntimeError`, never a crash of the interpreter.

use pyo3::prelude::*;

mod array;
mod cluster;
mod pipeline;
mod toolbox;

/// The module: functions and classes the pure-Python package wraps.
#[pymodule]
fn _imgcluster(m: &Bound<'_, PyModule>) -> PyResult<()> {
    cluster::register(m)?;
    pipeline::register(m)?;
    toolbox::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
