"""Shared numeric helpers: loading data as float32 and the float64 nearest-center pass
used both for OpenCV's initial labels and for every tool's final inertia."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROWS_PER_CHUNK = 8192


def load_f32(path: Path) -> np.ndarray:
    """The 2-D .npy file as a C-contiguous float32 array.

    Read chunk by chunk with plain file reads (no memory map, whose pages would count in the
    process's resident set), so that the peak memory is the float32 array plus one small chunk."""
    from numpy.lib import format as npf

    with open(path, "rb") as f:
        version = npf.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npf.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = npf.read_array_header_2_0(f)
        else:
            raise ValueError(f"{path}: unsupported .npy version {version}")
        if fortran or len(shape) < 1:
            raise ValueError(f"{path}: expected a C-order array")
        rows = shape[0]
        cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        out = np.empty((rows, cols), np.float32)
        buf = np.empty(ROWS_PER_CHUNK * cols, dtype)
        for lo in range(0, rows, ROWS_PER_CHUNK):
            m = min(ROWS_PER_CHUNK, rows - lo)
            view = buf[: m * cols]
            if f.readinto(memoryview(view).cast("B")) != view.nbytes:
                raise ValueError(f"{path}: file is shorter than its header says")
            out[lo:lo + m] = view.reshape(m, cols)
    return out


def nearest(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, float]:
    """Index of the nearest center for every row of x (ties to the lowest index) and the
    inertia: the sum over rows of the squared distance to that center, all in float64.

    x may be u8 / f32 / a memory map; it is read in chunks."""
    c = np.asarray(centers, np.float64)
    cc = np.einsum("ij,ij->i", c, c)
    x2 = x.reshape(len(x), -1)
    labels = np.empty(len(x2), np.int32)
    total = 0.0
    for lo in range(0, len(x2), ROWS_PER_CHUNK):
        xc = np.asarray(x2[lo:lo + ROWS_PER_CHUNK], np.float64)
        d = xc @ c.T
        d *= -2.0
        d += cc[None, :]
        d += np.einsum("ij,ij->i", xc, xc)[:, None]
        best = np.argmin(d, axis=1)
        labels[lo:lo + len(xc)] = best
        total += float(np.maximum(d[np.arange(len(xc)), best], 0.0).sum())
    return labels, total
