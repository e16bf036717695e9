"""Workload definitions and seeded generation for the peer benchmark.

Everything here is deterministic: the same seeds give byte-identical files, so every tool
(imgcluster and the peers) reads exactly the same samples and the same initial centers.
Files are cached in the work folder; a small JSON stamp beside each data set records the
generator version and parameters, and a mismatch regenerates the file.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 1
CELL = 20  # digits.png cells are 20x20
CELLS_PER_ROW = 100  # 2000 px / 20
JITTER_SIDE = 28
JITTER_CHUNK = 10_000  # samples per seeded chunk (fixed: the chunking is part of the data definition)
BASE_SEED = 20240607


@dataclass(frozen=True)
class DataSet:
    name: str
    kind: str  # "tutorial" or "jitter"
    n: int


@dataclass(frozen=True)
class Workload:
    name: str
    data: str  # DataSet name
    k: int
    iters: int
    kind: str = "lloyd"  # "lloyd" (given initial centers, fixed iterations) or "tutorial"
    slow_peers_optional: bool = False  # OpenCV / scikit-learn only with --slow-peers
    big: bool = False  # fewer default repeats


DATASETS = {
    "tutorial": DataSet("tutorial", "tutorial", 5000),
    "jitter_60k": DataSet("jitter_60k", "jitter", 60_000),
    "jitter_1m": DataSet("jitter_1m", "jitter", 1_000_000),
    # small stand-ins for --quick
    "jitter_3k": DataSet("jitter_3k", "jitter", 3_000),
    "jitter_10k": DataSet("jitter_10k", "jitter", 10_000),
}

WORKLOADS = {
    w.name: w
    for w in [
        Workload("tutorial", "tutorial", 10, 10, kind="tutorial"),
        Workload("jitter_60k_k10", "jitter_60k", 10, 20),
        Workload("jitter_60k_k256", "jitter_60k", 256, 20),
        Workload("jitter_1m_k256", "jitter_1m", 256, 10, slow_peers_optional=True, big=True),
        # --quick
        Workload("jitter_3k_k10", "jitter_3k", 10, 20),
        Workload("jitter_3k_k256", "jitter_3k", 256, 20),
        Workload("jitter_10k_k256", "jitter_10k", 256, 10),
    ]
}

FULL_SET = ["tutorial", "jitter_60k_k10", "jitter_60k_k256", "jitter_1m_k256"]
QUICK_SET = ["tutorial", "jitter_3k_k10", "jitter_3k_k256", "jitter_10k_k256"]

# The tutorial's cv2.kmeans call: criteria MAX_ITER + EPS, 10 iterations, eps 1.0, 10 attempts,
# KMEANS_RANDOM_CENTERS, OpenCV's default RNG state.
TUTORIAL_EPS = 1.0
TUTORIAL_ATTEMPTS = 10


def data_path(work: Path, name: str) -> Path:
    return work / (f"{name}_cells.npy" if name == "tutorial" else f"{name}.npy")


def labels_path(work: Path, name: str) -> Path:
    return work / f"{name}_labels.npy"


def init_path(work: Path, data: str, k: int) -> Path:
    return work / f"init_{data}_k{k}.npy"


def init_labels_path(work: Path, data: str, k: int) -> Path:
    """Index of the nearest initial center of every sample (OpenCV's KMEANS_USE_INITIAL_LABELS input)."""
    return work / f"initlabels_{data}_k{k}.npy"


def _stamp_ok(stamp: Path, meta: dict, *files: Path) -> bool:
    if not stamp.exists() or not all(f.exists() for f in files):
        return False
    try:
        return json.loads(stamp.read_text()) == meta
    except (OSError, ValueError):
        return False


def _write_stamp(stamp: Path, meta: dict) -> None:
    stamp.write_text(json.dumps(meta, sort_keys=True) + "\n")


def load_digit_cells(png: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 5000 20x20 cells of digits.png in row-major order and their class (row_of_cells // 5)."""
    import cv2

    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise SystemExit(f"cannot read {png}")
    if img.shape != (1000, 2000):
        raise SystemExit(f"{png}: expected a 2000x1000 image, got {img.shape[1]}x{img.shape[0]}")
    rows, cols = img.shape[0] // CELL, img.shape[1] // CELL
    cells = img.reshape(rows, CELL, cols, CELL).swapaxes(1, 2).reshape(rows * cols, CELL, CELL)
    labels = (np.arange(rows * cols) // cols // 5).astype(np.int32)
    return np.ascontiguousarray(cells), labels


def _jitter_matrices(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 2x3 affine maps about the image centre: rotation +-10 deg, scale 0.9-1.1,
    shear +-0.1 (x += shear * y), translation +-2 px."""
    angle = np.deg2rad(rng.uniform(-10.0, 10.0, n))
    scale = rng.uniform(0.9, 1.1, n)
    shear = rng.uniform(-0.1, 0.1, n)
    shift = rng.uniform(-2.0, 2.0, (n, 2))
    c = (JITTER_SIDE - 1) / 2.0
    mats = np.empty((n, 2, 3), np.float64)
    cos, sin = np.cos(angle), np.sin(angle)
    # A = R(angle) @ Shear @ diag(scale, scale)
    a00, a01 = cos * scale, (cos * shear - sin) * scale
    a10, a11 = sin * scale, (sin * shear + cos) * scale
    mats[:, 0, 0], mats[:, 0, 1] = a00, a01
    mats[:, 1, 0], mats[:, 1, 1] = a10, a11
    # keep the centre fixed, then translate: t = c - A c + shift
    mats[:, 0, 2] = c - (a00 * c + a01 * c) + shift[:, 0]
    mats[:, 1, 2] = c - (a10 * c + a11 * c) + shift[:, 1]
    return mats


def _jitter_chunk(up: np.ndarray, cell_labels: np.ndarray, seed: int, chunk: int, n: int):
    import cv2

    rng = np.random.default_rng([seed, chunk])
    src = rng.integers(0, len(up), n)
    mats = _jitter_matrices(rng, n)
    out = np.empty((n, JITTER_SIDE * JITTER_SIDE), np.uint8)
    size = (JITTER_SIDE, JITTER_SIDE)
    for i in range(n):
        out[i] = cv2.warpAffine(
            up[src[i]], mats[i], size, flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        ).reshape(-1)
    return out, cell_labels[src]


def ensure_dataset(work: Path, png: Path, name: str, log=print) -> None:
    """Generate one data set (and its labels) into `work` unless the cached copy is current."""
    ds = DATASETS[name]
    x_path, y_path = data_path(work, name), labels_path(work, name)
    stamp = work / f"{name}.stamp.json"
    png_size = png.stat().st_size
    meta = {"version": GENERATOR_VERSION, "name": name, "n": ds.n, "png_bytes": png_size,
            "seed": BASE_SEED, "chunk": JITTER_CHUNK}
    if _stamp_ok(stamp, meta, x_path, y_path):
        return
    work.mkdir(parents=True, exist_ok=True)
    cells, cell_labels = load_digit_cells(png)
    if ds.kind == "tutorial":
        log(f"generating {x_path.name} (5000x400 u8) and {y_path.name}")
        _save_npy(x_path, cells.reshape(len(cells), -1))
        _save_npy(y_path, cell_labels)
    else:
        import cv2
        from numpy.lib.format import open_memmap

        log(f"generating {x_path.name} ({ds.n}x{JITTER_SIDE * JITTER_SIDE} u8), chunks of {JITTER_CHUNK}")
        up = np.stack([cv2.resize(c, (JITTER_SIDE, JITTER_SIDE), interpolation=cv2.INTER_LINEAR)
                       for c in cells])
        tmp_x = x_path.with_suffix(".tmp.npy")
        xs = open_memmap(tmp_x, mode="w+", dtype=np.uint8, shape=(ds.n, JITTER_SIDE * JITTER_SIDE))
        ys = np.empty(ds.n, np.int32)
        for chunk in range(math.ceil(ds.n / JITTER_CHUNK)):
            lo = chunk * JITTER_CHUNK
            hi = min(ds.n, lo + JITTER_CHUNK)
            xs[lo:hi], ys[lo:hi] = _jitter_chunk(up, cell_labels, BASE_SEED, chunk, hi - lo)
        xs.flush()
        del xs
        os.replace(tmp_x, x_path)
        _save_npy(y_path, ys)
    _write_stamp(stamp, meta)


def ensure_init(work: Path, data: str, k: int, log=print) -> Path:
    """K distinct rows of the data set, drawn without replacement with a fixed seed, as float32;
    and the labels of the nearest of those centers (float64 distances, ties to the lowest index)."""
    import evalkm

    path = init_path(work, data, k)
    lab_path = init_labels_path(work, data, k)
    stamp = work / f"init_{data}_k{k}.stamp.json"
    x_path = data_path(work, data)
    meta = {"version": GENERATOR_VERSION, "data": data, "k": k, "seed": BASE_SEED + k,
            "data_stamp": json.loads((work / f"{data}.stamp.json").read_text())}
    if _stamp_ok(stamp, meta, path, lab_path):
        return path
    x = np.load(x_path, mmap_mode="r")
    rng = np.random.default_rng([BASE_SEED + k, len(x)])
    idx = np.sort(rng.choice(len(x), size=k, replace=False))
    log(f"generating {path.name} ({k} random rows of {data}) and {lab_path.name}")
    centers = np.ascontiguousarray(x[idx], dtype=np.float32)
    _save_npy(path, centers)
    _save_npy(lab_path, evalkm.nearest(x, centers)[0])
    _write_stamp(stamp, meta)
    return path


def _save_npy(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
