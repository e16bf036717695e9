"""Input conversion: what is read in place, what is converted once, and the errors."""

from __future__ import annotations

import numbers

import numpy as np

_F32_MAX = float(np.finfo(np.float32).max)


def samples(x, name: str, *, allow_1d: bool = False) -> np.ndarray:
    """``x`` as a C-contiguous ``uint8`` or ``float32`` array of samples × features.

    A C-contiguous ``uint8`` or ``float32`` array is returned as it is (the engine reads
    it in place). Anything else is converted once: integers all within 0..255 to
    ``uint8`` (exact), other numbers to ``float32`` (the precision k-means works in;
    ``float64`` values beyond its range are refused rather than made infinite), other
    layouts (Fortran order, strided views) to a C-contiguous copy.
    """
    a = np.asarray(x)
    if a.ndim == 1 and allow_1d:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array (samples x features), got {a.ndim} "
            f"dimension(s), shape {a.shape}"
        )
    return _narrow(a, name)


def images(x, name: str) -> tuple[np.ndarray, bool]:
    """``x`` as a C-contiguous ``N×H×W`` ``uint8`` stack, and whether it was one image."""
    a = np.asarray(x)
    single = a.ndim == 2
    if single:
        a = a[np.newaxis]
    if a.ndim != 3:
        raise ValueError(
            f"{name}: expected an H x W image or an N x H x W stack, got {a.ndim} "
            f"dimension(s), shape {a.shape}"
        )
    if a.dtype != np.uint8:
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{name}: expected numbers, got dtype {a.dtype}")
        if a.size and (not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 255
                       or not np.array_equal(a, np.round(a))):
            raise ValueError(f"{name}: images must hold whole numbers in 0..255 (uint8)")
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a), single


def _narrow(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype == np.uint8 or a.dtype == np.float32:
        return np.ascontiguousarray(a)
    if a.dtype == np.bool_:
        return np.ascontiguousarray(a, dtype=np.uint8)
    if a.dtype.kind in "iu":
        if a.size and a.min() >= 0 and a.max() <= 255:
            return np.ascontiguousarray(a, dtype=np.uint8)
        return np.ascontiguousarray(a, dtype=np.float32)
    if a.dtype.kind == "f":
        if a.size:
            finite = np.isfinite(a)
            if np.any(np.abs(a[finite]) > _F32_MAX):
                raise ValueError(f"{name}: values beyond the float32 range")
        return np.ascontiguousarray(a, dtype=np.float32)
    try:
        return np.ascontiguousarray(a, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: expected numbers, got dtype {a.dtype} ({e})") from None


def whole(value, name: str, *, minimum: int = 0) -> int:
    """``value`` as a Python int, at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {v}")
    return v


def threads(n_threads) -> int | None:
    """The number of worker threads (``None``: every core)."""
    return None if n_threads is None else whole(n_threads, "n_threads", minimum=1)


def class_indices(y, name: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``y`` (sorted) and the index of each sample's value among them."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels, got shape {y.shape}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name}: {y.shape[0]} labels for {n} samples")
    values, index = np.unique(y, return_inverse=True)
    return values, np.ascontiguousarray(index.reshape(-1), dtype=np.uint32)
