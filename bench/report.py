"""The Markdown table of a benchmark run (and the per-workload summary behind it)."""

from __future__ import annotations

NAMES = {
    "imgcluster": "imgcluster",
    "opencv": "OpenCV cv2.kmeans",
    "faiss": "FAISS Kmeans",
    "sklearn": "scikit-learn KMeans",
}
PEERS = ["opencv", "faiss", "sklearn"]


def img_keys(rows: dict) -> list[str]:
    """The imgcluster rows of a workload: "imgcluster", or one "imgcluster:<isa>" per
    instruction set of --isa."""
    return [k for k in rows if k == "imgcluster" or k.startswith("imgcluster:")]


def name_of(key: str, row: dict | None = None) -> str:
    """A row's tool name; imgcluster's with the kernels' instruction set it ran."""
    if key == "imgcluster" or key.startswith("imgcluster:"):
        isa = (row or {}).get("isa") or (key.split(":", 1)[1] if ":" in key else None)
        return f"imgcluster ({isa})" if isa else "imgcluster"
    return NAMES[key]


def _ok(row: dict | None) -> bool:
    return bool(row) and "error" not in row and "skipped" not in row and "median_ms" in row


def add_summary(r: dict) -> None:
    """One summary per imgcluster row (r["summaries"][key]); r["summary"] is the first one."""
    r["summaries"] = {key: _summary(r, key) for key in img_keys(r["rows"])}
    r["summary"] = next(iter(r["summaries"].values()), _summary(r, None))


def _summary(r: dict, key: str | None) -> dict:
    rows = r["rows"]
    img = rows.get(key) if key else None
    s: dict = {}
    if r["kind"] == "tutorial":
        o = rows.get("opencv")
        if _ok(o) and _ok(img):
            s["speedup"] = o["median_ms"] / img["median_ms"]
            s["vs"] = "opencv"
            s["inertia_pct"] = _pct(img.get("inertia"), o.get("inertia"))
        s["labels_identical"] = img.get("labels_identical") if img else None
    else:
        peers = [(t, rows[t]) for t in PEERS if _ok(rows.get(t)) and rows[t].get("ms_per_iter")]
        if peers:
            fastest, frow = min(peers, key=lambda p: p[1]["ms_per_iter"])
            s["fastest_peer"] = fastest
            s["fastest_peer_ms_per_iter"] = frow["ms_per_iter"]
            # Reference for the inertia: the peers that run exactly N Lloyd steps from the given
            # centers (OpenCV's centers have one extra update, see README), the lower of the two.
            with_inertia = [p for p in peers if p[1].get("inertia") is not None
                            and p[0] in ("faiss", "sklearn")]
            if with_inertia:
                low, lrow = min(with_inertia, key=lambda p: p[1]["inertia"])
                s["lloyd_ref_peer"] = low
            if _ok(img) and img.get("ms_per_iter"):
                s["speedup"] = frow["ms_per_iter"] / img["ms_per_iter"]
                s["vs"] = fastest
                s["inertia_pct"] = _pct(img.get("inertia"), frow.get("inertia"))
                if with_inertia:
                    s["inertia_pct_vs_lloyd_ref"] = _pct(img.get("inertia"), lrow["inertia"])
    return s


def _pct(a, b):
    if a is None or b is None or b == 0:
        return None
    return (a / b - 1.0) * 100.0


def _f(v, fmt, dash="—"):
    return dash if v is None else format(v, fmt)


def _pct_s(v):
    return "—" if v is None else f"{v:+.4f} %"


def markdown(doc: dict) -> str:
    m = doc["machine"]
    v = m["versions"]
    out = []
    out.append(f"### k-means: imgcluster vs OpenCV {v['opencv']}, FAISS {v['faiss']}, "
               f"scikit-learn {v['scikit-learn']}")
    out.append("")
    out.append(f"{m['cpu']}, {m['logical_cpus']} logical CPUs, {m['mem_gib']} GiB; "
               f"{doc['threads']} threads per tool; numpy {v['numpy']}, Python {m['python']}; "
               f"{m['date']}" + ("; **quick smoke sizes**" if doc.get("quick") else ""))
    busy = [b for b in (m.get("busy_start"), m.get("busy_end")) if b is not None]
    if busy and max(busy) > 0.10:
        out.append("")
        out.append(f"**Machine not quiet**: other processes kept the CPUs {max(busy):.0%} busy "
                   "(sampled for 1 s before and after the run), so these timings are not reliable.")
    out.append("")
    out.append("| workload | tool | iters | median ms | ms/iter | inertia | peak RSS MB |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    notes: list[str] = []
    for r in doc["workloads"]:
        if r["kind"] == "tutorial":
            wdesc = (f"{r['workload']} {r['n']}×{r['d']} K={r['k']}, {r['iters']} it, "
                     "eps 1, 10 attempts")
        else:
            wdesc = f"{r['workload']} {r['n']}×{r['d']} K={r['k']}, {r['iters']} it"
        order = [*img_keys(r["rows"]), *(t for t in PEERS if t in r["rows"])]
        for t in order:
            row = r["rows"][t]
            name = name_of(t, row)
            if "error" in row:
                out.append(f"| {wdesc} | {name} | — | error | — | — | — |")
                notes.append(f"{r['workload']} / {name}: {row['error'].splitlines()[0][:200]}")
                wdesc = ""
                continue
            if "skipped" in row:
                est = row.get("estimate_s")
                out.append(f"| {wdesc} | {name} | — | skipped | — | — | — |")
                notes.append(f"{r['workload']} / {name}: skipped ({row['skipped']})"
                             + (f"; estimated {est:,.0f} s per fit" if est and est >= 10
                                else f"; estimated {est:.2f} s per fit" if est else ""))
                wdesc = ""
                continue
            iters = "—"
            if r["kind"] != "tutorial" and row.get("iterations"):
                lo, hi = row["iters_min"], row["iters_max"]
                iters = str(lo) if lo == hi else f"{lo}–{hi}"
                if t == "sklearn" and lo < r["iters"]:
                    notes.append(f"{r['workload']} / scikit-learn stopped early (labels converged) "
                                 f"after {iters} of {r['iters']} iterations; ms/iter uses its n_iter_. "
                                 "OpenCV also stops once no center moves and does not report its "
                                 "count, so its ms/iter (time ÷ N) may be too low here.")
                if t in img_keys(r["rows"]) and lo < r["iters"]:
                    notes.append(f"{r['workload']} / {name} ran {iters} of {r['iters']} "
                                 "iterations (its reported count); ms/iter uses it.")
            inertia = _f(row.get("inertia"), ".7e")
            if row.get("inertia_source") == "reported" and r["kind"] != "tutorial":
                inertia += " †"
            out.append(f"| {wdesc} | {name} | {iters} | {row['median_ms']:,.1f} | "
                       f"{_f(row.get('ms_per_iter'), ',.2f')} | {inertia} | "
                       f"{row['peak_rss_mb']:,.0f} |")
            wdesc = ""
    out.append("")
    for r in doc["workloads"]:
        if r["kind"] != "tutorial":
            continue
        o = r["rows"].get("opencv", {})
        keys = img_keys(r["rows"])
        if not keys:
            out.append(f"**{r['workload']}** (OpenCV's default RNG): OpenCV "
                       f"{_f(o.get('median_ms'), ',.1f')} ms for the whole cv2.kmeans call "
                       "(10 attempts × up to 10 iterations); imgcluster not run.")
        for key in keys:
            s = r.get("summaries", {}).get(key, {})
            img = r["rows"][key]
            same = s.get("labels_identical")
            same_s = "not checked" if same is None else ("**yes**" if same else "**no**")
            out.append(f"**{r['workload']}** (OpenCV's default RNG, opencv mode), "
                       f"{name_of(key, img)}: labels identical "
                       f"to OpenCV's: {same_s}; OpenCV {_f(o.get('median_ms'), ',.1f')} ms, "
                       f"imgcluster {_f(img.get('median_ms') if _ok(img) else None, ',.1f')} ms, "
                       f"speed-up {_f(s.get('speedup'), '.2f')}{'×' if s.get('speedup') else ''} "
                       "(whole cv2.kmeans call: 10 attempts × up to 10 iterations).")
            out.append("")
    out.append("| workload | fastest peer (per iteration) | its ms/iter | imgcluster | imgcluster ms/iter "
               "| imgcluster speed-up | imgcluster inertia vs it | vs N-step Lloyd (FAISS/sklearn) |")
    out.append("|---|---|---:|---|---:|---:|---:|---:|")
    for r in doc["workloads"]:
        if r["kind"] == "tutorial":
            o = r["rows"].get("opencv", {})
            if o.get("same_as_opencv48_fixture") is not None:
                notes.append("tutorial / OpenCV labels "
                             + ("equal" if o["same_as_opencv48_fixture"] else "differ from")
                             + " the OpenCV 4.8 fixture (tests/fixtures/opencv/kmeans_00_labels.npy)"
                             + ("" if o.get("labels_stable", True)
                                else "; WARNING: OpenCV's labels differed between fresh processes"))
            continue
        for key in img_keys(r["rows"]) or [None]:
            s = r.get("summaries", {}).get(key) or r.get("summary", {})
            img = r["rows"].get(key) if key else None
            fp = s.get("fastest_peer")
            out.append(f"| {r['workload']} | {NAMES.get(fp, '—')} "
                       f"| {_f(s.get('fastest_peer_ms_per_iter'), ',.2f')} | "
                       f"{name_of(key, img) if key else '—'} | "
                       f"{_f(img.get('ms_per_iter') if _ok(img) else None, ',.2f')} | "
                       f"{_f(s.get('speedup'), '.2f')}{'×' if s.get('speedup') else ''} | {_pct_s(s.get('inertia_pct'))} | "
                       f"{_pct_s(s.get('inertia_pct_vs_lloyd_ref'))} |")
    out.append("")
    out.append("Median of the repeats; only the fit call is timed (imgcluster: its `timings_ms.kmeans`). "
               "Same data, initial centers and iteration count for every tool; inertia recomputed in "
               "float64 from each tool's final centers. Speed-up = peer ms/iter ÷ imgcluster ms/iter "
               "(> 1: imgcluster is faster). OpenCV runs N+1 of its iterations (N assignment passes, "
               "N+1 center updates; see bench/README.md).")
    if any(r["rows"][k].get("inertia_source") == "reported"
           for r in doc["workloads"] if r["kind"] != "tutorial" for k in img_keys(r["rows"])):
        notes.append("† imgcluster's own reported compactness (its CLI has no --centers-out).")
    if doc.get("peers_only"):
        notes.append("Run with --peers-only: imgcluster not measured.")
    if notes:
        out.append("")
        out.extend(f"- {n}" for n in dict.fromkeys(notes))
    return "\n".join(out) + "\n"
