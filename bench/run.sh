#!/usr/bin/env bash
# Side-by-side k-means benchmark: imgcluster vs OpenCV, FAISS and scikit-learn.
#
#   bench/run.sh                      full run (tutorial, jitter_60k K=10/256, jitter_1m K=256)
#   bench/run.sh --quick              small smoke version (3000 / 10000 samples)
#   bench/run.sh --quick --peers-only without imgcluster (no cargo build)
#
# Options (all passed on to peers.py run):
#   --quick                 small workloads; 3 repeats unless --repeats is given
#   --workloads a,b         pick workloads (see bench/README.md for the names)
#   --repeats N             repeats per tool for every workload (default 5, 3 for jitter_1m)
#   --threads N             threads per tool (default 2)
#   --isa a,b               run imgcluster once per instruction set (IMGCLUSTER_ISA: scalar, neon,
#                           avx2, avx512), each against the same peers; default: the CPU's best
#   --slow-peers            also run OpenCV and scikit-learn on jitter_1m_k256 (slow)
#   --peers-only            skip imgcluster (and the cargo build)
#   --imgcluster PATH       use this imgcluster binary instead of building target/release/imgcluster
#   --python                instead: the in-process benchmark of the Python bindings (installs
#                           crates/imgcluster-py into the venv; bench/python_bindings.py, which
#                           takes --repeats, --threads and --workloads)
# Environment: PYTHON (default python3) creates the venv; BENCH_THREADS / BENCH_REPEATS give
# defaults for --threads / --repeats.
#
# Prints one Markdown table on stdout (progress goes to stderr) and writes
# results.json and results.md in the bench/cache folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

peers_only=0
have_bin=0
python_bench=0
for arg in "$@"; do
  case "$arg" in
    --python) python_bench=1 ;;
    --peers-only) peers_only=1 ;;
    --imgcluster|--imgcluster=*) have_bin=1 ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done
extra=()
[ -n "${BENCH_THREADS:-}" ] && extra+=(--threads "$BENCH_THREADS")
[ -n "${BENCH_REPEATS:-}" ] && extra+=(--repeats "$BENCH_REPEATS")

# The thread count every tool is pinned to (the last --threads given, else BENCH_THREADS, else 2).
threads=2
prev=""
for arg in "${extra[@]}" "$@"; do
  case "$prev" in --threads) threads="$arg" ;; esac
  case "$arg" in --threads=*) threads="${arg#--threads=}" ;; esac
  prev="$arg"
done

# 1. Python environment with the pinned peers (re-installed when requirements.txt changes).
if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  "$py" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing the pinned peers (bench/requirements.txt)" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi

# 2. The Python bindings, for --python: the in-process benchmark instead of the harness below.
if [ "$python_bench" = 1 ]; then
  echo "installing the Python bindings (pip install crates/imgcluster-py)" >&2
  "$venv/bin/python" -m pip install --quiet "$root/crates/imgcluster-py" >&2
  args=()
  for arg in "$@"; do [ "$arg" = --python ] || args+=("$arg"); done
  exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
    "$venv/bin/python" "$here/python_bindings.py" "${extra[@]}" --threads "$threads" "${args[@]}"
fi

# 2. The imgcluster release binary.
if [ "$peers_only" = 0 ] && [ "$have_bin" = 0 ]; then
  echo "building imgcluster (cargo build --release -p imgcluster-cli)" >&2
  (cd "$root" && cargo build --release -p imgcluster-cli >&2) || {
    echo "error: the imgcluster build failed; use --peers-only to measure only the peers" >&2
    exit 1
  }
  extra+=(--imgcluster "$root/target/release/imgcluster")
fi

# 3. Workloads (cached in the bench/cache folder) and the measurements.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine for old OpenBLAS builds; they
# slow the current numpy / scikit-learn wheels, so they are unset for this Python process only.
# Every tool is pinned to the same thread count (OMP_NUM_THREADS here; cv2.setNumThreads,
# faiss.omp_set_num_threads and threadpoolctl inside peers.py).
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
  OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
  "$venv/bin/python" "$here/peers.py" run "${extra[@]}" "$@"
