#!/usr/bin/env python3
"""imgcluster's mini-batch k-means against scikit-learn's MiniBatchKMeans, same data and settings.

    bench/.venv/bin/python scripts/minibatch_vs_sklearn.py [--bin target/release/imgcluster]

(`bench/run.sh` creates that venv with the pinned scikit-learn and numpy; any venv with
`scikit-learn numpy` works.) On the digits (5000 x 400) and on MNIST's 5000-image sample
(5000 x 784, as `scripts/accuracy.sh` writes it), for seeds 1..5, both fit K = 10 with batches
of 1024, k-means++ seeding on 3 x 1024 samples (best of 3), up to 100 epochs, stop after 10
steps without improvement of the smoothed batch inertia, reassignment ratio 0.01, tol 0. The
random draws differ (each tool has its own generator), so the fits differ; what must agree is
the quality: the inertia over all samples of the final centers, computed here with numpy from
the centers each tool returns (not taken from either tool). The script prints every run, the
medians and their ratio, and exits with 1 if the medians differ by more than TOLERANCE.
Full Lloyd k-means (scikit-learn's KMeans, 10 k-means++ starts) is printed as the reference
optimum both approach.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

TOLERANCE = 0.02
SEEDS = [1, 2, 3, 4, 5]
K = 10


def inertia(x, centers):
    d = ((x[:, None, :] - centers[None, :, :].astype(np.float64)) ** 2).sum(axis=2)
    return float(d.min(axis=1).sum())


def ours(binary, path, seed, tmp):
    centers = os.path.join(tmp, f"centers_{seed}.npy")
    subprocess.run([binary, "classify", "--data", path, "-k", str(K), "--mode", "fast",
                    "--algorithm", "minibatch", "--batch-size", "1024", "--init", "pp",
                    "--attempts", "3", "--max-iter", "100", "--seed", str(seed),
                    "--centers-out", centers, "--json"],
                   check=True, capture_output=True)
    return np.load(centers)


def theirs(x, seed):
    m = MiniBatchKMeans(n_clusters=K, init="k-means++", n_init=3, batch_size=1024, max_iter=100,
                        max_no_improvement=10, reassignment_ratio=0.01, tol=0.0,
                        random_state=seed).fit(x)
    return m.cluster_centers_


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(root, "target", "release", "imgcluster"))
    ap.add_argument("--mnist", default=os.path.join(root, "target", "accuracy-data", "mnist5k.npy"))
    a = ap.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        digits = os.path.join(tmp, "digits.npy")
        subprocess.run([a.bin, "features", "--features", "raw", "--out", digits], check=True,
                       capture_output=True)
        sets = [("digits.png, 5000 x 400", digits)]
        if os.path.exists(a.mnist):
            sets.append(("MNIST sample, 5000 x 784", a.mnist))
        else:
            print(f"({a.mnist} missing: run scripts/accuracy.sh first to include MNIST)")
        print("| data | seed | imgcluster inertia | scikit-learn inertia |")
        print("|---|---:|---:|---:|")
        summary = []
        for name, path in sets:
            x = np.load(path).reshape(5000, -1).astype(np.float64)
            mine, sk = [], []
            for s in SEEDS:
                mine.append(inertia(x, ours(a.bin, path, s, tmp)))
                sk.append(inertia(x, theirs(x, s)))
                print(f"| {name} | {s} | {mine[-1]:.6e} | {sk[-1]:.6e} |")
            lloyd = KMeans(n_clusters=K, n_init=10, random_state=0).fit(x)
            ratio = statistics.median(mine) / statistics.median(sk)
            failed |= abs(ratio - 1) > TOLERANCE
            summary.append((name, statistics.median(mine), statistics.median(sk), ratio,
                            inertia(x, lloyd.cluster_centers_)))
        print()
        print("| data | imgcluster median | scikit-learn median | ratio | full Lloyd (KMeans) |")
        print("|---|---:|---:|---:|---:|")
        for name, m, s, r, l in summary:
            print(f"| {name} | {m:.6e} | {s:.6e} | {r:.4f} | {l:.6e} |")
    print(f"\ntolerance: medians within {TOLERANCE:.0%}: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
