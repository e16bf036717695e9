"""In-process benchmark of imgcluster's Python bindings against the peers' Python APIs.

    bench/run.sh --python [--repeats N] [--threads N] [--workloads a,b] [--no-rss]

(run.sh builds and installs the bindings into bench/.venv, then runs this file there.)

Every call is timed in one Python process, on the same arrays, with the same initial centers
and thread count (ik n_threads, cv2.setNumThreads, faiss.omp_set_num_threads, threadpoolctl),
the tools alternating within each repeat; medians are reported:

* tutorial: ``ik.kmeans`` vs ``cv2.kmeans`` (5000x400 float32, K=10, (EPS+MAX_ITER, 10, 1.0),
  10 attempts, random centers, the generator in OpenCV's default state before every call);
  the labels must be identical.
* jitter_60k_k10 / jitter_60k_k256: ``ik.KMeans`` (uint8 data read in place) vs
  ``sklearn.cluster.KMeans`` and ``faiss.Kmeans`` (float32), from the harness's initial
  centers, at most 20 iterations; compared per iteration (imgcluster stops when no label
  changes, the others run all 20).
* rss_1m: in a fresh process each, ``ik.KMeans(256, init="random", n_init=1, max_iter=10,
  tol=0)`` on the harness's 1,000,000x784 uint8 array, read into memory by ``np.load`` and
  memory-mapped by ``np.load(mmap_mode="r")``; the peak resident set (VmHWM) against the
  array's own size and that of a float32 copy.

Writes results_python.json in the bench/cache folder and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workloads as wl  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu() -> dict:
    info = {"model": platform.processor(), "avx512f": False, "logical_cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["model"] = line.split(":", 1)[1].strip()
                break
        info["avx512f"] = " avx512f" in text
    except OSError:
        pass
    return info


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return (time.perf_counter() - t0) * 1e3, out


def tutorial(work: Path, repeats: int, threads: int) -> dict:
    import cv2

    import imgcluster as ik

    cv2.setNumThreads(threads)
    x = np.load(wl.data_path(work, "tutorial")).reshape(5000, -1).astype(np.float32)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, wl.TUTORIAL_EPS)
    times = {"imgcluster": [], "opencv": []}
    same = True
    for _ in range(repeats):
        cv2.setRNGSeed(0)  # OpenCV's default state, as in a fresh process
        t_cv, (c_cv, l_cv, _) = timed(lambda: cv2.kmeans(
            x, 10, None, crit, wl.TUTORIAL_ATTEMPTS, cv2.KMEANS_RANDOM_CENTERS))
        ik.setRNGSeed(0)
        t_ik, (c_ik, l_ik, _) = timed(lambda: ik.kmeans(
            x, 10, None, crit, wl.TUTORIAL_ATTEMPTS, ik.KMEANS_RANDOM_CENTERS, n_threads=threads))
        times["opencv"].append(t_cv)
        times["imgcluster"].append(t_ik)
        same = same and np.array_equal(l_cv.ravel(), l_ik.ravel()) and c_cv == c_ik
    return {"workload": "tutorial", "n": 5000, "d": x.shape[1], "k": 10,
            "labels_identical": bool(same), "versions": {"opencv": cv2.__version__},
            "rows": {t: {"times_ms": v, "median_ms": statistics.median(v)}
                     for t, v in times.items()}}


def lloyd(work: Path, name: str, repeats: int, threads: int) -> dict:
    import faiss
    import sklearn
    from sklearn.cluster import KMeans as SkKMeans
    from threadpoolctl import threadpool_limits

    import imgcluster as ik

    w = wl.WORKLOADS[name]
    faiss.omp_set_num_threads(threads)
    x_u8 = np.load(wl.data_path(work, w.data))
    x_u8 = x_u8.reshape(x_u8.shape[0], -1)
    x_f32 = x_u8.astype(np.float32)
    init = np.load(wl.ensure_init(work, w.data, w.k, log=log)).astype(np.float32)
    n, d = x_u8.shape
    rows = {t: {"times_ms": [], "iterations": []} for t in ("imgcluster", "sklearn", "faiss")}
    inertia = {}
    for _ in range(repeats):
        km = ik.KMeans(w.k, init=init, n_init=1, max_iter=w.iters, tol=0, n_threads=threads)
        t, _ = timed(lambda: km.fit(x_u8))
        rows["imgcluster"]["times_ms"].append(t)
        rows["imgcluster"]["iterations"].append(km.n_iter_)
        inertia["imgcluster"] = km.inertia_
        with threadpool_limits(limits=threads):
            sk = SkKMeans(w.k, init=init, n_init=1, max_iter=w.iters, tol=0, algorithm="lloyd")
            t, _ = timed(lambda: sk.fit(x_f32))
        rows["sklearn"]["times_ms"].append(t)
        rows["sklearn"]["iterations"].append(int(sk.n_iter_))
        inertia["sklearn"] = float(sk.inertia_)
        fk = faiss.Kmeans(d, w.k, niter=w.iters, seed=1234, spherical=False, verbose=False,
                          max_points_per_centroid=10**9, min_points_per_centroid=1,
                          early_stop_threshold=-1.0)
        t, _ = timed(lambda: fk.train(x_f32, init_centroids=init))
        rows["faiss"]["times_ms"].append(t)
        rows["faiss"]["iterations"].append(len(fk.obj))
        inertia["faiss"] = float(fk.obj[-1])
    for tool, r in rows.items():
        r["median_ms"] = statistics.median(r["times_ms"])
        r["ms_per_iter"] = statistics.median(
            t / max(i, 1) for t, i in zip(r["times_ms"], r["iterations"]))
        r["inertia"] = inertia[tool]
    return {"workload": name, "n": n, "d": d, "k": w.k, "max_iter": w.iters, "rows": rows,
            "versions": {"sklearn": sklearn.__version__, "faiss": faiss.__version__}}


def rss_child(path: str, mode: str, threads: int) -> None:
    """One fit in this (fresh) process; prints a JSON line with the peak resident set."""
    import imgcluster as ik

    base = vm_hwm_mb()
    x = np.load(path, mmap_mode="r" if mode == "mmap" else None)
    x = x.reshape(x.shape[0], -1)
    loaded = vm_hwm_mb()
    km = ik.KMeans(256, init="random", n_init=1, max_iter=10, tol=0, random_state=1,
                   n_threads=threads)
    t, _ = timed(lambda: km.fit(x))
    print(json.dumps({"mode": mode, "n": x.shape[0], "d": x.shape[1], "dtype": str(x.dtype),
                      "array_mb": x.nbytes / 2**20, "float32_copy_mb": x.size * 4 / 2**20,
                      "peak_rss_mb": vm_hwm_mb(), "rss_after_import_mb": base,
                      "rss_after_load_mb": loaded, "fit_ms": t, "iterations": km.n_iter_,
                      "inertia": km.inertia_}))


def rss_1m(work: Path, threads: int) -> dict:
    wl.ensure_dataset(work, HERE.parent / "data" / "digits.png", "jitter_1m", log=log)
    path = wl.data_path(work, "jitter_1m")
    out = {"workload": "rss_1m", "runs": []}
    for mode in ("load", "mmap"):
        res = subprocess.run([sys.executable, __file__, "rss-child", str(path), mode,
                              str(threads)], check=True, capture_output=True, text=True)
        out["runs"].append(json.loads(res.stdout.strip().splitlines()[-1]))
        log(f"   1M x 784 uint8, {mode}: peak RSS {out['runs'][-1]['peak_rss_mb']:.0f} MiB")
    return out


def table(results: dict) -> str:
    lines = ["| workload | tool | median ms | ms/iter (iterations) | inertia | speed-up |",
             "|---|---|---:|---:|---:|---:|"]
    for r in results["workloads"]:
        if r["workload"] == "tutorial":
            o, i = r["rows"]["opencv"]["median_ms"], r["rows"]["imgcluster"]["median_ms"]
            lines.append(f"| tutorial 5000x400, K=10 (labels identical: "
                         f"{'yes' if r['labels_identical'] else 'NO'}) | `ik.kmeans` | {i:.1f} "
                         f"| — | — | {o / i:.2f}x vs `cv2.kmeans` |")
            lines.append(f"|  | `cv2.kmeans` | {o:.1f} | — | — | |")
        elif r["workload"] == "rss_1m":
            continue
        else:
            ik_row = r["rows"]["imgcluster"]
            for tool in ("imgcluster", "sklearn", "faiss"):
                row = r["rows"][tool]
                its = statistics.median(row["iterations"])
                speed = "" if tool == "imgcluster" else \
                    f"{row['ms_per_iter'] / ik_row['ms_per_iter']:.2f}x per iteration"
                name = {"imgcluster": "`ik.KMeans`", "sklearn": "`sklearn.cluster.KMeans`",
                        "faiss": "`faiss.Kmeans`"}[tool]
                label = f"{r['n']}x{r['d']}, K={r['k']}" if tool == "imgcluster" else ""
                lines.append(f"| {label} | {name} | {row['median_ms']:.1f} | "
                             f"{row['ms_per_iter']:.2f} ({its:g}) | {row['inertia']:.7e} | "
                             f"{speed} |")
    for r in results["workloads"]:
        if r["workload"] == "rss_1m":
            lines.append("")
            lines.append("| 1,000,000x784 uint8, K=256, 10 it | array (MiB) | a float32 copy (MiB) "
                         "| peak RSS (MiB) | fit |")
            lines.append("|---|---:|---:|---:|---:|")
            for run in r["runs"]:
                how = '"r"' if run["mode"] == "mmap" else "None"
                lines.append(f"| `np.load(..., mmap_mode={how})` "
                             f"| {run['array_mb']:.0f} | {run['float32_copy_mb']:.0f} | "
                             f"{run['peak_rss_mb']:.0f} | {run['fit_ms'] / 1e3:.1f} s |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "rss-child":
        rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workloads", default="tutorial,jitter_60k_k10,jitter_60k_k256,rss_1m")
    ap.add_argument("--work", type=Path, default=HERE / "cache")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    png = HERE.parent / "data" / "digits.png"
    results = {"cpu": cpu(), "threads": a.threads, "repeats": a.repeats,
               "python": sys.version.split()[0], "numpy": np.__version__, "workloads": []}
    import imgcluster

    results["imgcluster"] = imgcluster.__version__
    for name in a.workloads.split(","):
        log(f"== {name}")
        if name == "tutorial":
            wl.ensure_dataset(a.work, png, "tutorial", log=log)
            results["workloads"].append(tutorial(a.work, a.repeats, a.threads))
        elif name == "rss_1m":
            results["workloads"].append(rss_1m(a.work, a.threads))
        else:
            wl.ensure_dataset(a.work, png, wl.WORKLOADS[name].data, log=log)
            results["workloads"].append(lloyd(a.work, name, a.repeats, a.threads))
    (a.work / "results_python.json").write_text(json.dumps(results, indent=1))
    c = results["cpu"]
    print(f"CPU: {c['model']} (avx512f: {'yes' if c['avx512f'] else 'no'}), "
          f"{a.threads} threads, medians of {a.repeats} repeats, Python {results['python']}")
    print()
    print(table(results))


if __name__ == "__main__":
    main()
