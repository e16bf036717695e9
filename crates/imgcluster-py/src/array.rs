//! Arrays in and out, errors, and running the engine without the GIL.

use std::panic::{self, AssertUnwindSafe};

use imgcluster::kmeans::Data;
use imgcluster::Threads;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use numpy::{PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// Samples as the engine reads them: a borrowed C-contiguous `uint8` or `float32` array
/// of `n × dims` values.
pub enum Samples<'py> {
    /// Bytes (images), read in place.
    U8(PyReadonlyArray2<'py, u8>),
    /// Floats, read in place.
    F32(PyReadonlyArray2<'py, f32>),
}

impl<'py> Samples<'py> {
    /// Reads argument `name`: a 2-D C-contiguous `uint8` or `float32` array (the Python
    /// half converts everything else once before calling).
    pub fn extract(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Self> {
        let samples = if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, u8>>() {
            Samples::U8(a)
        } else if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f32>>() {
            Samples::F32(a)
        } else {
            return Err(PyValueError::new_err(format!(
                "{name}: expected a 2-D uint8 or float32 array"
            )));
        };
        // Fails for a non-contiguous view: the Python half makes every input contiguous.
        samples.data(name)?;
        Ok(samples)
    }

    /// The borrowed values and their row length.
    pub fn data(&self, name: &str) -> PyResult<Data<'_>> {
        let not_contiguous =
            |_| PyValueError::new_err(format!("{name}: the array is not C-contiguous"));
        Ok(match self {
            Samples::U8(a) => Data::u8(a.as_slice().map_err(not_contiguous)?, a.shape()[1]),
            Samples::F32(a) => Data::f32(a.as_slice().map_err(not_contiguous)?, a.shape()[1]),
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Samples::U8(a) => a.shape()[0],
            Samples::F32(a) => a.shape()[0],
        }
    }
}

/// A 1-D array argument as a slice.
pub fn slice<'a, T: numpy::Element>(
    a: &'a PyReadonlyArray1<'_, T>,
    name: &str,
) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name}: the array is not contiguous")))
}

/// `ValueError("{name}: {error}")`: bad input, named as the caller knows it.
pub fn bad(name: &str, error: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{name}: {error}"))
}

/// The number of worker threads: all cores for `None`.
pub fn threads(n: Option<usize>) -> PyResult<Threads> {
    match n {
        None => Ok(Threads::Auto),
        Some(0) => Err(PyValueError::new_err(
            "n_threads: must be at least 1 (or None for every core)",
        )),
        Some(n) => Ok(Threads::Fixed(n)),
    }
}

/// Runs `f` with the GIL released; a panic becomes a `RuntimeError` instead of
/// unwinding into the interpreter.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> PyResult<T> + Send) -> PyResult<T> {
    py.detach(|| panic::catch_unwind(AssertUnwindSafe(f)))
        .unwrap_or_else(|payload| {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!(
                "imgcluster internal error (please report it): {what}"
            )))
        })
}

/// `values` as a `rows × cols` array.
pub fn matrix<'py, T: numpy::Element>(
    py: Python<'py>,
    values: Vec<T>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<T>>> {
    values.into_pyarray(py).reshape([rows, cols])
}

/// Labels (`u32`, each below `i32::MAX` as k-means guarantees) as `int32`.
pub fn labels_i32(labels: &[u32]) -> Vec<i32> {
    labels.iter().map(|&l| l as i32).collect()
}

/// A 1-D array of `values`.
pub fn vector<T: numpy::Element>(py: Python<'_>, values: Vec<T>) -> Bound<'_, PyArray1<T>> {
    values.into_pyarray(py)
}
