"""imgcluster: unsupervised image classification with k-means, compiled from Rust.

* ``kmeans`` / ``setRNGSeed``: ``cv2.kmeans`` and ``cv2.setRNGSeed``, bit for bit as
  OpenCV 4.8 computes them (same generator, same labels, centers and compactness).
* ``KMeans``: a scikit-learn estimator (``sklearn.cluster.KMeans``'s parameters and
  attributes, ``sample_weight`` included) over the fast engine.
* ``Pipeline``: the fitted pipelines of the command line (``tutorial-raw``,
  ``tutorial-deskew``, ``hog``, ``best``), saved and loaded as the same model files.
* ``digits``, ``deskew``, ``hog``, ``load``, ``quantize`` and the scores ``evaluate``,
  ``accuracy``, ``confusion_matrix``, ``nmi``, ``ari``.

Arrays of ``uint8`` or ``float32`` in C order are read in place; other dtypes and
layouts are converted once. The GIL is released while the engine runs. Bad input raises
``ValueError`` with a message that names the argument.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from . import _arrays
from . import _imgcluster as _ext

__version__ = _ext.__version__

#: ``cv2.KMEANS_RANDOM_CENTERS``: centers drawn uniformly in the data's bounding box.
KMEANS_RANDOM_CENTERS = 0
#: ``cv2.KMEANS_USE_INITIAL_LABELS``: the first attempt starts from ``bestLabels``.
KMEANS_USE_INITIAL_LABELS = 1
#: ``cv2.KMEANS_PP_CENTERS``: k-means++ centers (Arthur and Vassilvitskii).
KMEANS_PP_CENTERS = 2
#: ``cv2.TERM_CRITERIA_MAX_ITER`` (also ``TERM_CRITERIA_COUNT``).
TERM_CRITERIA_MAX_ITER = 1
TERM_CRITERIA_COUNT = 1
#: ``cv2.TERM_CRITERIA_EPS``.
TERM_CRITERIA_EPS = 2

__all__ = [
    "KMEANS_PP_CENTERS",
    "KMEANS_RANDOM_CENTERS",
    "KMEANS_USE_INITIAL_LABELS",
    "TERM_CRITERIA_COUNT",
    "TERM_CRITERIA_EPS",
    "TERM_CRITERIA_MAX_ITER",
    "KMeans",
    "Loaded",
    "Pipeline",
    "Quantized",
    "accuracy",
    "ari",
    "confusion_matrix",
    "deskew",
    "digits",
    "evaluate",
    "hog",
    "kmeans",
    "load",
    "nmi",
    "quantize",
    "read_rgb",
    "setRNGSeed",
]


def __getattr__(name):
    # The estimators are imported on first use, so that `import imgcluster` does not
    # import scikit-learn (their base classes) for the functions above.
    if name in ("KMeans", "Pipeline"):
        from . import _estimators

        return getattr(_estimators, name)
    raise AttributeError(f"module 'imgcluster' has no attribute {name!r}")


def setRNGSeed(seed: int) -> None:  # noqa: N802 (OpenCV's name)
    """``cv2.setRNGSeed``: the generator ``kmeans`` draws from starts again from ``seed``.

    Until the first call it is in OpenCV's default state, and every ``kmeans`` call
    advances it as OpenCV's ``theRNG()`` advances, so a sequence of calls gives OpenCV's
    sequence of results. (One generator per process: calls from concurrent threads each
    start from the state at their start.)
    """
    _ext.setRNGSeed(_arrays.whole(seed, "seed", minimum=-(2**31)))


def _criteria(criteria):
    try:
        kind, max_iter, epsilon = criteria
    except (TypeError, ValueError):
        raise ValueError(
            "criteria: expected a tuple (type, max_iter, epsilon), e.g. "
            f"(TERM_CRITERIA_EPS + TERM_CRITERIA_MAX_ITER, 10, 1.0), got {criteria!r}"
        ) from None
    kind = _arrays.whole(kind, "criteria type", minimum=0)
    if kind & ~(TERM_CRITERIA_MAX_ITER | TERM_CRITERIA_EPS):
        raise ValueError(
            f"criteria: type {kind} is not a combination of TERM_CRITERIA_MAX_ITER (1) "
            "and TERM_CRITERIA_EPS (2)"
        )
    it = None
    if kind & TERM_CRITERIA_MAX_ITER:
        it = _arrays.whole(max_iter, "criteria max_iter", minimum=0)
    eps = None
    if kind & TERM_CRITERIA_EPS:
        try:
            eps = float(epsilon)
        except (TypeError, ValueError):
            raise ValueError(f"criteria: epsilon {epsilon!r} is not a number") from None
    return it, eps


def kmeans(data, K, bestLabels, criteria, attempts, flags, centers=None, *,  # noqa: N803
           n_threads: Optional[int] = None):
    """``cv2.kmeans(data, K, bestLabels, criteria, attempts, flags[, centers])``.

    Returns ``(compactness, labels, centers)``: labels N×1 ``int32``, centers K×D
    ``float32``, equal bit for bit to OpenCV 4.8's for the same generator state (see
    ``setRNGSeed``). ``data`` is N×D (``float32`` as OpenCV wants it; ``uint8`` is read in
    place too and gives the same result; anything else is converted once to one of them).
    ``bestLabels`` (N or N×1 integers) is read only with ``KMEANS_USE_INITIAL_LABELS``;
    ``criteria`` is ``(type, max_iter, epsilon)``; ``flags`` is ``KMEANS_RANDOM_CENTERS``
    or ``KMEANS_PP_CENTERS``, plus ``KMEANS_USE_INITIAL_LABELS``. A ``centers`` array of
    K×D ``float32`` is filled and returned, as OpenCV does. ``n_threads`` (not in OpenCV):
    worker threads, every core by default; results never depend on it.
    """
    x = _arrays.samples(data, "data", allow_1d=True)
    k = _arrays.whole(K, "K", minimum=1)
    n_attempts = _arrays.whole(attempts, "attempts", minimum=1)
    f = _arrays.whole(flags, "flags", minimum=0)
    if f & ~(KMEANS_USE_INITIAL_LABELS | KMEANS_PP_CENTERS):
        raise ValueError(
            f"flags: {f} is not KMEANS_RANDOM_CENTERS (0) or KMEANS_PP_CENTERS (2), "
            "optionally plus KMEANS_USE_INITIAL_LABELS (1)"
        )
    max_iter, epsilon = _criteria(criteria)
    labels = None
    if f & KMEANS_USE_INITIAL_LABELS:
        if bestLabels is None:
            raise ValueError("bestLabels: KMEANS_USE_INITIAL_LABELS needs the initial labels")
        bl = np.asarray(bestLabels)
        if bl.dtype.kind not in "iu":
            raise ValueError(f"bestLabels: expected integers, got dtype {bl.dtype}")
        if bl.size and (bl.min() < -(2**31) or bl.max() >= 2**31):
            raise ValueError("bestLabels: labels beyond the int32 range")
        labels = np.ascontiguousarray(bl.reshape(-1), dtype=np.int32)
    compactness, out_labels, out_centers = _ext.cv_kmeans(
        x, k, labels, bool(f & KMEANS_PP_CENTERS), max_iter, epsilon, n_attempts,
        _arrays.threads(n_threads))
    if centers is not None:
        c = centers
        if (isinstance(c, np.ndarray) and c.shape == out_centers.shape
                and c.dtype == np.float32 and c.flags.writeable):
            c[...] = out_centers
            out_centers = c
    return compactness, out_labels, out_centers


def digits():
    """OpenCV's ``digits.png``, embedded: 5000 images of 20×20 (``uint8``, 500 of each
    digit in order) and their digit (``int32``)."""
    return _ext.digits()


def deskew(img, factor: float = 0.6, *, n_threads: Optional[int] = None):
    """The tutorial's deskew, pixel-identical to OpenCV's: moments, shear, bicubic warp.

    ``img`` is one H×W image or an N×H×W stack (``uint8``; whole numbers 0..255 of
    another dtype are converted); returns the same shape. ``factor``: the shift factor,
    0.6 as in OpenCV's tutorial.
    """
    stack, single = _arrays.images(img, "img")
    out = _ext.deskew(stack, float(factor), _arrays.threads(n_threads))
    return out[0] if single else out


def hog(images, *, n_threads: Optional[int] = None):
    """The HOG descriptors the ``hog`` pipeline clusters: N×L ``float32`` for an N×H×W
    stack (L = 432 for 20×20 images), or L values for one H×W image."""
    stack, single = _arrays.images(images, "images")
    out = _ext.hog(stack, _arrays.threads(n_threads))
    return out[0] if single else out


def evaluate(y_true, y_pred, *, mapping: str = "hungarian"):
    """Scores clusters ``y_pred`` against classes ``y_true`` as the command line does.

    Clusters are matched to classes one to one with the Hungarian algorithm
    (``mapping="hungarian"``) or each goes to its most frequent class (``"majority"``).
    Returns a dict: ``accuracy`` (fraction), ``percent`` (as printed, ``"53.18"``),
    ``correct``, ``total``, ``confusion`` (rows: true classes, columns: predicted
    classes after the mapping), ``mapping`` (class index of every cluster), ``classes``
    (the class values, sorted), ``contingency`` (clusters × classes), ``nmi``, ``ari``.
    """
    if mapping not in ("hungarian", "majority"):
        raise ValueError(f"mapping: {mapping!r} is not 'hungarian' or 'majority'")
    classes, truth = _arrays.class_indices(y_true, "y_true")
    _, clusters = _arrays.class_indices(y_pred, "y_pred", truth.shape[0])
    if truth.shape[0] == 0:
        raise ValueError("y_true: no samples")
    k = int(clusters.max()) + 1
    out = _ext.evaluate_clusters(truth, clusters, len(classes), k, mapping == "hungarian")
    out["classes"] = classes
    return out


def accuracy(y_true, y_pred, *, mapping: str = "hungarian") -> float:
    """Clustering accuracy: the share of samples whose cluster is matched to their class
    (Hungarian matching by default), as a fraction."""
    return evaluate(y_true, y_pred, mapping=mapping)["accuracy"]


def confusion_matrix(y_true, y_pred, *, mapping: str = "hungarian"):
    """The confusion matrix after matching clusters to classes (rows: true classes,
    columns: predicted classes, both in sorted order of ``y_true``'s values), ``int64``."""
    return evaluate(y_true, y_pred, mapping=mapping)["confusion"]


def nmi(y_true, y_pred) -> float:
    """Normalised mutual information (arithmetic mean), as scikit-learn's
    ``normalized_mutual_info_score``."""
    return evaluate(y_true, y_pred)["nmi"]


def ari(y_true, y_pred) -> float:
    """Adjusted Rand index, as scikit-learn's ``adjusted_rand_score``."""
    return evaluate(y_true, y_pred)["ari"]


class Loaded(NamedTuple):
    """A data set read by ``load``."""

    #: The samples: N×H×W for images, else N×D (``uint8`` or ``float32``).
    X: np.ndarray
    #: The class of every sample (``int32``, 0..classes-1), or ``None``.
    y: Optional[np.ndarray]
    #: The class names (folder names, CSV label text, label values), or ``None``.
    class_names: Optional[list]


def _pair(value, name):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            h, w = value.lower().split("x")
            return int(h), int(w)
        except ValueError:
            raise ValueError(f"{name}: expected HxW, e.g. '28x28', got {value!r}") from None
    try:
        h, w = value
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected (height, width), got {value!r}") from None
    return _arrays.whole(h, name, minimum=1), _arrays.whole(w, name, minimum=1)


def load(path, *, labels=None, format: str = "auto", shape=None, size=None,  # noqa: A002
         cell: int = 20, classes: Optional[int] = 10, label_column: Optional[str] = None,
         n_threads: Optional[int] = None) -> Loaded:
    """Reads a data set in any format the command line's ``--data`` reads: a grid PNG or
    JPEG (``cell``, ``classes``), ``.npy``, IDX (MNIST, plain or gzipped), a folder of class
    folders (``size``), or CSV (``label_column``: ``"first"``, ``"last"``, ``"none"`` or a
    header name). ``labels``: a ``.npy`` or IDX labels file; ``shape``: ``(H, W)`` to read
    rows of H·W values as images; ``format``: ``grid``, ``npy``, ``idx``, ``folder`` or
    ``csv`` instead of recognising it. Errors are the command line's (``ValueError``).
    """
    import os

    return Loaded(*_ext.load(
        os.fspath(path), format, None if labels is None else os.fspath(labels),
        _pair(shape, "shape"), _pair(size, "size"), _arrays.whole(cell, "cell", minimum=1),
        None if classes is None else _arrays.whole(classes, "classes", minimum=1),
        label_column, _arrays.threads(n_threads)))


def read_rgb(path):
    """A PNG or JPEG file as an H×W×3 RGB ``uint8`` array (gray, palette, 16-bit and
    alpha images made RGB, alpha ignored, as ``cv2.imread`` does, in RGB order)."""
    import os

    return _ext.read_rgb(os.fspath(path))


class Quantized(NamedTuple):
    """The result of ``quantize``."""

    #: The image painted with the palette (H×W×3 ``uint8``, RGB).
    image: np.ndarray
    #: One RGB colour per cluster (K×3 ``uint8``, ``np.uint8(center)`` truncation).
    palette: np.ndarray
    #: The cluster of every pixel (H×W ``int32``).
    labels: np.ndarray
    #: The compactness of the fit (colour units squared).
    compactness: float


def quantize(image, k: int = 8, *, attempts: int = 10, max_iter: int = 10,
             epsilon: float = 1.0, init: str = "random", seed: Optional[int] = None,
             max_samples: int = 262144, n_threads: Optional[int] = None) -> Quantized:
    """Colour quantization as OpenCV's tutorial: k-means on the pixel colours of an H×W×3
    RGB ``uint8`` image, every pixel painted with its center. With the defaults the image
    is pixel-identical to ``cv2.kmeans`` on the same pixels (BGR order, as ``cv2.imread``
    gives them; the generator in OpenCV's default state, or ``cv2.setRNGSeed(seed)``).
    Images of more than ``max_samples`` pixels are fitted on every s-th pixel.
    """
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"image: expected an H x W x 3 RGB array, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise ValueError(f"image: expected uint8 colours, got dtype {a.dtype}")
    if init not in ("random", "k-means++"):
        raise ValueError(f"init: {init!r} is not 'random' or 'k-means++'")
    return Quantized(*_ext.quantize_image(
        np.ascontiguousarray(a), _arrays.whole(k, "k", minimum=1),
        _arrays.whole(attempts, "attempts", minimum=1),
        _arrays.whole(max_iter, "max_iter", minimum=0), float(epsilon), init == "k-means++",
        None if seed is None else _arrays.whole(seed, "seed", minimum=-(2**31)),
        _arrays.whole(max_samples, "max_samples", minimum=1), _arrays.threads(n_threads)))
