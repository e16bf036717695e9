#!/usr/bin/env bash
# Distributed k-means under mpirun against one process, on small generated .npy files:
#
#   tests/mpi/distributed.sh BIN [NPYTOOL]
#
# BIN: an imgcluster built with --features mpi; NPYTOOL: the imgcluster-cli example npytool
# (it makes, splits, pokes and compares the .npy files and reads the --json output), by default
# examples/npytool next to BIN, where cargo puts it.
#
# u8 data: labels and centers files byte for byte, compactness and iterations equal, on
# 1, 2, 3 and 4 ranks, for --init random, pp and parallel (k-means||), from one file and from
# one file per rank, and for --algorithm minibatch (steps equal).
# f32 data: the same labels and iterations, centers within 1e-6 relative. A rank with a NaN in
# its rows or a truncated shard: every rank stops with the error, no hang (timeout), and an
# existing --labels-out is left as it was, with no temporary file beside it.
# Prints "N passed, N failed" last; exits non-zero on a failure.
set -euo pipefail
bin="$(realpath "$1")"
tool="$(realpath "${2:-$(dirname "$bin")/examples/npytool}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mpirun=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
field() { "$tool" json "$2" "$1"; }

"$tool" blobs u8.npy 5003 24 u8 1
"$tool" blobs f32.npy 3001 10 f32 2
"$tool" split u8.npy 'u8_{rank}.npy' 3
common=(classify --mode fast -k 13 --seed 7 --attempts 2 --max-iter 40 --epsilon 0 --threads 1 --json)

for data in u8 f32; do
  for init in random pp parallel; do
    "$bin" "${common[@]}" --data $data.npy --init $init --mmap never \
      --labels-out one_l.npy --centers-out one_c.npy > one.json
    for p in 1 2 3 4; do
      name="$data --init $init, $p ranks"
      if ! timeout 120 "${mpirun[@]}" -n $p "$bin" "${common[@]}" --distributed --data $data.npy \
          --init $init --labels-out d_l.npy --centers-out d_c.npy > d.json; then
        bad "$name: the run failed"; continue
      fi
      same_it=$([ "$(field one.json iterations)" = "$(field d.json iterations)" ] && echo 1 || echo 0)
      if [ $data = u8 ]; then
        if cmp -s one_l.npy d_l.npy && cmp -s one_c.npy d_c.npy && [ $same_it = 1 ] &&
           [ "$(field one.json compactness)" = "$(field d.json compactness)" ]; then
          ok "$name: labels, centers, compactness and iterations identical"
        else
          bad "$name: differs from one process"
        fi
      elif cmp -s one_l.npy d_l.npy && [ $same_it = 1 ] && "$tool" close d_c.npy one_c.npy 1e-6 >/dev/null; then
        ok "$name: labels and iterations identical, centers within 1e-6"
      else
        bad "$name: differs from one process beyond the tolerance"
      fi
    done
  done
done

# Mini-batch: u8 data, the same steps, labels and centers for any number of ranks.
mb=(--algorithm minibatch --batch-size 200)
for init in random parallel; do
  "$bin" "${common[@]}" "${mb[@]}" --data u8.npy --init $init --mmap never \
    --labels-out one_l.npy --centers-out one_c.npy > one.json
  for p in 1 2 3 4; do
    name="u8 --algorithm minibatch --init $init, $p ranks"
    if ! timeout 120 "${mpirun[@]}" -n $p "$bin" "${common[@]}" "${mb[@]}" --distributed \
        --data u8.npy --init $init --labels-out d_l.npy --centers-out d_c.npy > d.json; then
      bad "$name: the run failed"; continue
    fi
    if cmp -s one_l.npy d_l.npy && cmp -s one_c.npy d_c.npy &&
       [ "$(field one.json iterations)" = "$(field d.json iterations)" ] &&
       [ "$(field one.json compactness)" = "$(field d.json compactness)" ] &&
       [ "$(field d.json algorithm)" = minibatch ]; then
      ok "$name: labels, centers, compactness and steps identical"
    else
      bad "$name: differs from one process"
    fi
  done
done

# One file per rank.
"$bin" "${common[@]}" --data u8.npy --init pp --mmap never --labels-out one_l.npy \
  --centers-out one_c.npy > one.json
if timeout 120 "${mpirun[@]}" -n 3 "$bin" "${common[@]}" --distributed --data 'u8_{rank}.npy' \
    --init pp --labels-out d_l.npy --centers-out d_c.npy > d.json &&
   cmp -s one_l.npy d_l.npy && cmp -s one_c.npy d_c.npy; then
  ok "one shard per rank (3 ranks): identical"
else
  bad "one shard per rank (3 ranks)"
fi

# Bad input on one rank: every rank stops with an error, none hangs. Each rank prints its
# error ("rank R: …", or "rank R failed: …" with the same message on the others); mpirun ends
# the job as soon as the first rank exits non-zero, so which ranks get to print it varies.
cp f32.npy nan.npy
"$tool" poke nan.npy 2900 3 nan   # in rank 2's rows of 3
mkdir out && echo before > out/l.npy
set +e
timeout 60 "${mpirun[@]}" -n 3 "$bin" "${common[@]}" --distributed --data nan.npy \
  --labels-out out/l.npy 2> err.txt >/dev/null
code=$?
set -e
if [ $code -ne 0 ] && [ $code -ne 124 ] &&
   grep -q "rank 2\( failed\)\?: --data nan.npy: sample 2900, feature 3 is not a finite number" err.txt; then
  ok "NaN in rank 2's rows: every rank exits ($code) with the error"
else
  bad "NaN in rank 2's rows: exit $code"; cat err.txt
fi
if [ "$(cat out/l.npy)" = before ] && [ "$(ls -A out)" = l.npy ]; then
  ok "NaN in rank 2's rows: --labels-out left as it was, no temporary file"
else
  bad "NaN in rank 2's rows: --labels-out changed or files left: $(ls -A out)"
fi
head -c -100 u8_1.npy > cut && mv cut u8_1.npy
set +e
timeout 60 "${mpirun[@]}" -n 3 "$bin" "${common[@]}" --distributed --data 'u8_{rank}.npy' 2> err.txt >/dev/null
code=$?
set -e
if [ $code -ne 0 ] && [ $code -ne 124 ] && grep -q "rank 1\( failed\)\?: --data u8_1.npy: .* holds" err.txt; then
  ok "truncated shard of rank 1: every rank exits ($code) with the error"
else
  bad "truncated shard of rank 1: exit $code"; cat err.txt
fi

echo "distributed: $passed passed, $failed failed"
[ "$failed" = 0 ]
