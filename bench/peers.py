#!/usr/bin/env python3
"""Side-by-side k-means benchmark: imgcluster against OpenCV, FAISS and scikit-learn.

Usually started through run.sh. Sub-commands:
  run     generate the workloads (cached), time every tool, print one Markdown table
  gen     only generate the workloads
  worker  (internal) time one peer on one workload in its own process

Like-for-like rules: every tool gets the same data (float32, C-contiguous, already in memory
for the peers; imgcluster's own `timings_ms.kmeans` excludes loading), the same initial centers,
the same iteration count, the same thread count; only the fit call is timed; the median of the
repeats is reported; the inertia of every tool is recomputed the same way, in float64, from its
final centers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import evalkm  # noqa: E402
import report  # noqa: E402
import workloads as wl  # noqa: E402

PEERS = ["opencv", "faiss", "sklearn"]
# The values of imgcluster's IMGCLUSTER_ISA (crates/imgcluster/src/kernels/dispatch.rs).
ISA_NAMES = ["scalar", "neon", "avx2", "avx512"]
TOOL_NAMES = {
    "imgcluster": "imgcluster",
    "opencv": "OpenCV cv2.kmeans",
    "faiss": "FAISS Kmeans",
    "sklearn": "scikit-learn KMeans",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# worker: one peer, one workload, in its own process
# --------------------------------------------------------------------------------------------


def vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def threadpools() -> list[dict]:
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer",
            "architecture")
    return [{k: p.get(k) for k in keep if k in p} for p in threadpool_info()]


def worker(a: argparse.Namespace) -> None:
    x = evalkm.load_f32(Path(a.data))
    n, d = x.shape
    res: dict = {"tool": a.tool, "n": n, "d": d, "k": a.k}
    times: list[float] = []
    iters: list[int] = []
    if a.tool == "opencv_tutorial":
        import cv2

        cv2.setNumThreads(a.threads)
        res["version"] = cv2.__version__
        res["cv2_threads"] = cv2.getNumThreads()
        # No setRNGSeed: OpenCV's default RNG state of a fresh process, as in the tutorial.
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, a.iters, wl.TUTORIAL_EPS)
        t0 = time.perf_counter()
        compactness, labels, centers = cv2.kmeans(
            x, a.k, None, criteria, wl.TUTORIAL_ATTEMPTS, cv2.KMEANS_RANDOM_CENTERS)
        times.append((time.perf_counter() - t0) * 1e3)
        res["compactness"] = float(compactness)
        np.save(a.labels_out, labels.reshape(-1).astype(np.int32))
    elif a.tool == "opencv":
        import cv2

        cv2.setNumThreads(a.threads)
        res["version"] = cv2.__version__
        res["cv2_threads"] = cv2.getNumThreads()
        labels0 = np.load(a.init_labels).astype(np.int32)  # nearest initial center, precomputed
        # OpenCV's first iteration with KMEANS_USE_INITIAL_LABELS only computes the centers from the
        # labels; each further iteration assigns, then updates. maxCount = N + 1 therefore gives N
        # assignment passes (the same as N Lloyd iterations of the other tools) and N + 1 updates.
        criteria = (cv2.TERM_CRITERIA_MAX_ITER, a.iters + 1, 0.0)
        for _ in range(a.repeats):
            lab = labels0.reshape(-1, 1).copy()
            t0 = time.perf_counter()
            _, lab, centers = cv2.kmeans(x, a.k, lab, criteria, 1, cv2.KMEANS_USE_INITIAL_LABELS)
            times.append((time.perf_counter() - t0) * 1e3)
            iters.append(a.iters)  # OpenCV does not report its count; see README (early stop)
        np.save(a.centers_out, np.asarray(centers, np.float32))
    elif a.tool == "faiss":
        import faiss

        faiss.omp_set_num_threads(a.threads)
        res["version"] = faiss.__version__
        res["omp_max_threads"] = faiss.omp_get_max_threads()
        init = np.load(a.init).astype(np.float32)
        for _ in range(a.repeats):
            km = faiss.Kmeans(
                d, a.k, niter=a.iters, seed=1234, spherical=False, verbose=False,
                max_points_per_centroid=10**9,  # no subsampling: train on all points
                min_points_per_centroid=1,  # only silences the "too few points" warning
                # FAISS >= 1.14 stops when the objective is unchanged (threshold 0); a negative
                # threshold turns that off, so it runs exactly niter iterations like the others.
                early_stop_threshold=-1.0,
            )
            t0 = time.perf_counter()
            km.train(x, init_centroids=init)
            times.append((time.perf_counter() - t0) * 1e3)
            iters.append(len(km.obj))
        np.save(a.centers_out, np.asarray(km.centroids, np.float32))
    elif a.tool == "sklearn":
        import sklearn
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        res["version"] = sklearn.__version__
        init = np.load(a.init).astype(np.float32)
        with threadpool_limits(limits=a.threads):
            res["threadpools_in_fit"] = threadpools()
            for _ in range(a.repeats):
                km = KMeans(n_clusters=a.k, init=init, n_init=1, max_iter=a.iters, tol=0,
                            algorithm="lloyd")
                t0 = time.perf_counter()
                km.fit(x)
                times.append((time.perf_counter() - t0) * 1e3)
                iters.append(int(km.n_iter_))
        np.save(a.centers_out, np.asarray(km.cluster_centers_, np.float32))
    else:
        raise SystemExit(f"unknown tool {a.tool}")
    # VmHWM: this process's own peak resident set (the parent's size does not leak into it).
    res.update(times_ms=times, iterations=iters, peak_rss_mb=vm_hwm_mb(), threadpools=threadpools())
    Path(a.result).write_text(json.dumps(res))


# --------------------------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------------------------


def run_cmd(cmd: list[str], timeout: float | None = None,
            env: dict | None = None) -> tuple[int, str, str]:
    """Run cmd (with env in place of this process's environment, if given); return
    (returncode, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            rc = subprocess.run(cmd, stdout=out, stderr=err, timeout=timeout, env=env).returncode
        except subprocess.TimeoutExpired:
            rc = -9
        out.seek(0)
        err.seek(0)
        return rc, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def run_rss(cmd: list[str], scratch: Path,
            env: dict | None = None) -> tuple[int, str, str, float | None]:
    """Run cmd through the small rss_exec.py launcher; return (returncode, stdout, stderr, peak
    RSS in MB). The launcher forks the command from its own small process, so the peak is the
    command's own and not inflated by this (large) process, which a child inherits at fork."""
    rss_file = scratch / "rss.json"
    rss_file.unlink(missing_ok=True)
    rc, out, err = run_cmd([sys.executable, "-S", str(HERE / "rss_exec.py"), str(rss_file), *cmd],
                           env=env)
    peak = None
    if rss_file.exists():
        peak = json.loads(rss_file.read_text())["maxrss_kb"] / 1024.0
    return rc, out, err, peak


def run_worker(tool: str, data: Path, k: int, iters: int, repeats: int, threads: int,
               scratch: Path, init: Path | None = None, init_labels: Path | None = None) -> dict:
    result = scratch / f"result_{tool}.json"
    centers = scratch / f"centers_{tool}.npy"
    labels = scratch / f"labels_{tool}.npy"
    for f in (result, centers, labels):
        f.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE / "peers.py"), "worker", "--tool", tool, "--data", str(data),
           "--k", str(k), "--iters", str(iters), "--repeats", str(repeats),
           "--threads", str(threads), "--result", str(result), "--centers-out", str(centers),
           "--labels-out", str(labels)]
    if init is not None:
        cmd += ["--init", str(init), "--init-labels", str(init_labels)]
    rc, _, err = run_cmd(cmd)
    if rc != 0 or not result.exists():
        tail = "\n".join(err.strip().splitlines()[-5:])
        return {"error": f"{tool} worker failed (exit {rc}): {tail}"}
    res = json.loads(result.read_text())
    if centers.exists():
        res["centers_file"] = str(centers)
    if labels.exists():
        res["labels_file"] = str(labels)
    return res


def parse_cli_json(text: str) -> dict:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        lo, hi = text.find("{"), text.rfind("}")
        if lo >= 0 and hi > lo:
            return json.loads(text[lo:hi + 1])
        raise


class Imgcluster:
    """The imgcluster binary, run with its kernels capped to `isa` (IMGCLUSTER_ISA) when given;
    `key` names its rows ("imgcluster", or "imgcluster:avx2" for a capped one)."""

    def __init__(self, binary: Path, threads: int, isa: str | None = None):
        self.binary = binary
        self.threads = threads
        self.isa = isa
        self.key = "imgcluster" if isa is None else f"imgcluster:{isa}"
        self.env = None if isa is None else {**os.environ, "IMGCLUSTER_ISA": isa}
        self.centers_out = False
        try:
            rc, out, err = run_cmd([str(binary), "classify", "--help"], timeout=60)
            self.centers_out = "--centers-out" in out + err
        except OSError:
            pass

    def run(self, args: list[str], repeats: int, scratch: Path, want_labels: bool) -> dict:
        times, iters, rss, cli_rss, compact, isas = [], [], [], [], [], []
        first_labels = None
        centers_file = scratch / f"centers_{self.key.replace(':', '_')}.npy"
        labels_file = scratch / f"labels_{self.key.replace(':', '_')}.npy"
        shown = None
        for r in range(repeats):
            cmd = [str(self.binary), "classify", *args, "--threads", str(self.threads), "--json"]
            if want_labels:
                cmd += ["--labels-out", str(labels_file)]
            if self.centers_out:
                cmd += ["--centers-out", str(centers_file)]
            shown = cmd
            rc, out, err, peak = run_rss(cmd, scratch, self.env)
            if rc != 0:
                tail = "\n".join(err.strip().splitlines()[-5:])
                return {"error": f"imgcluster failed (exit {rc}): {tail}", "command": shlex.join(cmd)}
            try:
                j = parse_cli_json(out)
                times.append(float(j["timings_ms"]["kmeans"]))
                iters.append(int(j["iterations"]))
                compact.append(float(j["compactness"]))
                cli_rss.append(j.get("peak_rss_mb"))
                isas.append(j.get("isa"))
            except (ValueError, KeyError, TypeError) as e:
                return {"error": f"cannot read imgcluster's JSON ({e!r}): {out[:300]!r}",
                        "command": shlex.join(cmd)}
            rss.append(peak)
            if want_labels and r == 0:
                first_labels = np.load(labels_file).reshape(-1).astype(np.int32)
        if self.isa is not None and any(i != self.isa for i in isas):
            return {"error": f"IMGCLUSTER_ISA={self.isa} ran the kernels of {sorted(set(map(str, isas)))}"
                             " (this CPU lacks the set asked for)", "command": shlex.join(shown)}
        res = {"times_ms": times, "iterations": iters, "isa": isas[0] if isas else None,
               "peak_rss_mb": max(rss) if None not in rss else None,
               "cli_peak_rss_mb": cli_rss, "compactness": compact, "json": j,
               "command": shlex.join(shown)}
        if self.centers_out and centers_file.exists():
            res["centers_file"] = str(centers_file)
        if first_labels is not None:
            res["labels"] = first_labels
        return res


def merge_runs(runs: list[dict]) -> dict:
    """One row from single-repeat runs of Imgcluster.run: the first error, or the times,
    iterations, compactness and peak memory of all, with the first run's labels and command."""
    for r in runs:
        if "error" in r:
            return r
    row = dict(runs[0])
    for key in ("times_ms", "iterations", "cli_peak_rss_mb", "compactness"):
        row[key] = [v for r in runs for v in r[key]]
    peaks = [r["peak_rss_mb"] for r in runs]
    row["peak_rss_mb"] = max(peaks) if None not in peaks else None
    row["labels_stable"] = all(np.array_equal(r["labels"], runs[0]["labels"]) for r in runs)
    return row


def summarize(row: dict) -> dict:
    """Median time and per-iteration time of one tool's repeats."""
    if "error" in row:
        return row
    t = row["times_ms"]
    row["median_ms"] = statistics.median(t)
    it = row.get("iterations") or []
    if it:
        row["iters_median"] = statistics.median(it)
        row["iters_min"], row["iters_max"] = min(it), max(it)
        row["ms_per_iter"] = row["median_ms"] / row["iters_median"] if row["iters_median"] else None
    return row


BUSY_LIMIT = 0.10


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of all CPUs' time spent busy over `seconds` while this harness sleeps: the load
    from other processes."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])  # idle + iowait, total (without guest columns)

    try:
        i0, t0 = sample()
        time.sleep(seconds)
        i1, t1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def machine_info(threads: int) -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import cv2
    import faiss
    import sklearn
    import threadpoolctl

    return {
        "cpu": cpu, "logical_cpus": os.cpu_count(), "mem_gib": mem_gb,
        "os": platform.platform(), "python": platform.python_version(),
        "threads": threads,
        "versions": {"numpy": np.__version__, "opencv": cv2.__version__,
                     "faiss": faiss.__version__, "scikit-learn": sklearn.__version__,
                     "threadpoolctl": threadpoolctl.__version__},
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                               "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
                                               "OPENBLAS_L2_SIZE")},
        "threadpools": threadpools(),
        "busy_start": cpu_busy(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def inertia_of(row: dict, x_u8, workload: wl.Workload) -> None:
    """Recompute the final inertia from the tool's final centers (float64, nearest center)."""
    if "error" in row:
        return
    if row.get("centers_file"):
        centers = np.load(row["centers_file"])
        _, row["inertia"] = evalkm.nearest(x_u8, centers)
        row["inertia_source"] = "recomputed"
    elif row.get("compactness"):
        c = row["compactness"]
        row["inertia"] = c[-1] if isinstance(c, list) else c
        row["inertia_source"] = "reported"


def bench_workload(w: wl.Workload, a, work: Path, imgs: list[Imgcluster], estimates: dict) -> dict:
    x_path = wl.data_path(work, w.data)
    x_u8 = np.load(x_path, mmap_mode="r")
    n, d = x_u8.shape
    repeats = a.repeats or (a.big_repeats if w.big else a.small_repeats)
    out = {"workload": w.name, "data": w.data, "n": n, "d": d, "k": w.k, "iters": w.iters,
           "kind": w.kind, "repeats": repeats, "rows": {}}
    scratch = work / "runs" / w.name
    scratch.mkdir(parents=True, exist_ok=True)
    log(f"== {w.name}: {n}x{d}, K={w.k}, {w.iters} iterations, {repeats} repeats")

    if w.kind == "tutorial":
        # Each repeat in a fresh process: OpenCV's default RNG state only holds for the first call.
        # OpenCV and imgcluster alternate, one run each per repeat, so that both see the same
        # machine: a shared host's speed drifts by tens of percent within a minute.
        runs, img_runs = [], {img.key: [] for img in imgs}
        args = ["--data", str(x_path), "--labels", str(wl.labels_path(work, w.data)),
                "-k", str(w.k), "--max-iter", str(w.iters), "--epsilon", str(wl.TUTORIAL_EPS),
                "--attempts", str(wl.TUTORIAL_ATTEMPTS)]
        for r in range(repeats):
            res = run_worker("opencv_tutorial", x_path, w.k, w.iters, 1, a.threads, scratch)
            if "error" in res:
                runs = res
                break
            res["labels"] = np.load(res["labels_file"])
            runs.append(res)
            for img in imgs:
                img_runs[img.key].append(img.run(args, 1, scratch, want_labels=True))
        if isinstance(runs, dict):
            row = runs
        else:
            row = {"times_ms": [r["times_ms"][0] for r in runs],
                   "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                   "compactness": runs[0]["compactness"], "version": runs[0]["version"],
                   "threadpools": runs[0]["threadpools"], "labels": runs[0]["labels"],
                   "labels_stable": all(np.array_equal(r["labels"], runs[0]["labels"])
                                        for r in runs)}
            fixture = HERE.parent / "tests" / "fixtures" / "opencv" / "kmeans_00_labels.npy"
            if fixture.exists():
                row["same_as_opencv48_fixture"] = bool(
                    np.array_equal(np.load(fixture).reshape(-1), row["labels"]))
        out["rows"]["opencv"] = summarize(row)
        for key, key_runs in img_runs.items():
            out["rows"][key] = summarize(merge_runs(key_runs))
        for name, row in out["rows"].items():
            if "error" not in row:
                row["inertia"] = row["compactness"][0] if isinstance(row["compactness"], list) \
                    else row["compactness"]
                row["inertia_source"] = "reported"
                row.pop("iters_median", None)
                row["ms_per_iter"] = None
        o = out["rows"].get("opencv", {})
        for img in imgs:
            i = out["rows"][img.key]
            if "labels" in o and "labels" in i:
                i["labels_identical"] = bool(np.array_equal(o["labels"], i["labels"]))
        same = [out["rows"][img.key].get("labels_identical") for img in imgs]
        if same and None not in same:
            out["labels_identical"] = all(same)
        for row in out["rows"].values():
            if "labels" in row:
                row["labels"] = None  # not stored in results.json
    else:
        init = wl.init_path(work, w.data, w.k)
        init_labels = wl.init_labels_path(work, w.data, w.k)
        tools = list(PEERS)
        if w.slow_peers_optional and not a.slow_peers:
            tools = ["faiss"]
        for tool in tools:
            out["rows"][tool] = summarize(
                run_worker(tool, x_path, w.k, w.iters, repeats, a.threads, scratch, init,
                           init_labels))
        for tool in PEERS:
            if tool not in tools:
                est = estimates.get((tool, w.name))
                out["rows"][tool] = {"skipped": "needs --slow-peers", "estimate_s": est}
        args = ["--data", str(x_path), "--mode", "fast", "-k", str(w.k),
                "--max-iter", str(w.iters), "--epsilon", "0", "--attempts", "1",
                "--init-centers", str(init)]
        for img in imgs:
            out["rows"][img.key] = summarize(img.run(args, repeats, scratch, want_labels=False))
        for row in out["rows"].values():
            inertia_of(row, x_u8, w)
    for tool, row in out["rows"].items():
        if "error" in row:
            log(f"   {tool:10s} ERROR {row['error']}")
        elif "skipped" in row:
            est = row.get("estimate_s")
            log(f"   {tool:10s} skipped ({row['skipped']})"
                + (f", estimated {est:.1f} s per fit" if est else ""))
        else:
            log(f"   {tool:10s} median {row['median_ms']:10.1f} ms  runs "
                + " ".join(f"{t:.1f}" for t in row["times_ms"])
                + (f"  iters {row.get('iterations')}" if row.get("iterations") else "")
                + f"  peak RSS {row['peak_rss_mb']:.0f} MB")
    return out


def estimate_slow(results: list[dict]) -> dict:
    """Seconds per fit of the optional slow peers on the optional workloads, scaled (N*K*D*iters)
    from the largest workload already measured for that peer."""
    est = {}
    for w in wl.WORKLOADS.values():
        if not w.slow_peers_optional:
            continue
        ds = wl.DATASETS[w.data]
        for tool in ("opencv", "sklearn"):
            best = None
            for r in results:
                row = r["rows"].get(tool, {})
                if r["kind"] != "lloyd" or not row.get("ms_per_iter"):
                    continue
                size = r["n"] * r["k"] * r["d"]
                if best is None or size > best[0]:
                    best = (size, row["ms_per_iter"], r["d"])
            if best:
                size_w = ds.n * w.k * best[2]
                est[(tool, w.name)] = best[1] * size_w / best[0] * w.iters / 1e3
    return est


def cmd_gen(a) -> list[str]:
    work = Path(a.work)
    names = select_workloads(a)
    png = HERE.parent / "data" / "digits.png"
    for name in names:
        w = wl.WORKLOADS[name]
        wl.ensure_dataset(work, png, w.data, log=log)
        if w.kind == "lloyd":
            wl.ensure_init(work, w.data, w.k, log=log)
    return names


def select_workloads(a) -> list[str]:
    if a.workloads:
        names = [s.strip() for s in a.workloads.split(",") if s.strip()]
        bad = [s for s in names if s not in wl.WORKLOADS]
        if bad:
            raise SystemExit(f"unknown workload(s) {bad}; known: {sorted(wl.WORKLOADS)}")
        return names
    return wl.QUICK_SET if a.quick else wl.FULL_SET


def cmd_run(a) -> None:
    t_start = time.monotonic()
    if a.quick and not a.repeats:
        a.repeats = 3
    names = cmd_gen(a)
    work = Path(a.work)
    imgs = []
    if not a.peers_only:
        binary = Path(a.imgcluster)
        if not binary.exists():
            raise SystemExit(f"imgcluster binary not found at {binary} (build it, or use --peers-only)")
        isas = [s.strip() for s in (a.isa or "").split(",") if s.strip()]
        bad = [s for s in isas if s not in ISA_NAMES]
        if bad:
            raise SystemExit(f"--isa: unknown instruction set(s) {bad}; known: {', '.join(ISA_NAMES)}")
        imgs = [Imgcluster(binary, a.threads, isa) for isa in isas] or [Imgcluster(binary, a.threads)]
    info = machine_info(a.threads)
    log(f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, {info['mem_gib']} GiB; "
        f"threads per tool: {a.threads}")
    log("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    busy = info["busy_start"]
    if busy is not None and busy > BUSY_LIMIT:
        log(f"WARNING: the CPUs were {busy:.0%} busy with other work at the start: the machine is "
            "not quiet, so the timings are not reliable (OpenMP tools such as FAISS and "
            "scikit-learn suffer most)")
    for p in info["threadpools"]:
        log(f"threadpool: {p.get('user_api')}/{p.get('internal_api')} {p.get('prefix')} "
            f"{p.get('version') or ''} threads={p.get('num_threads')} "
            f"{p.get('threading_layer') or ''} {p.get('architecture') or ''}")
    for img in imgs:
        log(f"imgcluster: {img.binary}" + (f" with IMGCLUSTER_ISA={img.isa}" if img.isa else "")
            + f" (--centers-out {'supported' if img.centers_out else 'not supported: inertia is its reported compactness'})")
    results = []
    # run the smaller workloads first so that the slow-peer estimates can use them
    order = sorted(names, key=lambda s: wl.WORKLOADS[s].slow_peers_optional)
    for name in order:
        results.append(bench_workload(wl.WORKLOADS[name], a, work, imgs, estimate_slow(results)))
    results.sort(key=lambda r: names.index(r["workload"]))
    for r in results:
        report.add_summary(r)
    info["busy_end"] = cpu_busy()
    doc = {"machine": info, "threads": a.threads, "peers_only": a.peers_only,
           "quick": a.quick, "elapsed_s": round(time.monotonic() - t_start, 1),
           "workloads": results}
    md = report.markdown(doc)
    (work / "results.json").write_text(json.dumps(doc, indent=1, default=_json_default) + "\n")
    (work / "results.md").write_text(md)
    print(md)
    log(f"wrote {work / 'results.json'} and {work / 'results.md'} "
        f"({doc['elapsed_s']:.0f} s in all)")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "gen"):
        p = sub.add_parser(name)
        p.add_argument("--work", default=str(HERE / "cache"), help="cache and output folder")
        p.add_argument("--quick", action="store_true",
                       help=f"small smoke set: {','.join(wl.QUICK_SET)}")
        p.add_argument("--workloads", help=f"comma list of: {','.join(wl.WORKLOADS)}")
        if name == "run":
            p.add_argument("--peers-only", action="store_true", help="skip imgcluster")
            p.add_argument("--imgcluster", default=str(HERE.parent / "target" / "release" / "imgcluster"),
                           help="imgcluster binary")
            p.add_argument("--threads", type=int, default=2)
            p.add_argument("--repeats", type=int, default=0,
                           help="repeats per tool for every workload (default: 5, 3 for the 1M one)")
            p.add_argument("--small-repeats", type=int, default=5)
            p.add_argument("--big-repeats", type=int, default=3)
            p.add_argument("--isa", help="comma list of instruction sets to run imgcluster on, once each "
                           f"(IMGCLUSTER_ISA): {','.join(ISA_NAMES)}; default: the CPU's best")
            p.add_argument("--slow-peers", action="store_true",
                           help="also run OpenCV and scikit-learn on jitter_1m_k256 (slow)")
    p = sub.add_parser("worker")
    p.add_argument("--tool", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--init")
    p.add_argument("--init-labels")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--iters", type=int, required=True)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--result", required=True)
    p.add_argument("--centers-out")
    p.add_argument("--labels-out")
    a = ap.parse_args()
    if a.cmd == "worker":
        worker(a)
    elif a.cmd == "gen":
        cmd_gen(a)
    else:
        cmd_run(a)


if __name__ == "__main__":
    main()
