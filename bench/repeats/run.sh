#!/bin/bash
# A stack of llama_block layers compiled as one repeated body against the same layers
# written out and compiled one by one (--unroll): device time per run, interleaved
# rounds in one process each, the ratio of the medians. The repeated body must be no
# slower: its dispatches are the written-out layers' plus a copy in and a copy out.
#   bench/repeats/run.sh [VKATTN] [ROUNDS] [extra vkattn bench flags...]
set -euo pipefail
vkattn=${1:-build/tools/vkattn}
rounds=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
shape=(llama_block --layers 12 --model 512 --heads 8 --kv-heads 2 --ffn 1376 --seq 128 --runs 5 "$@")
median() { python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_median"])'; }
repeated=() unrolled=()
for ((r = 0; r < rounds; ++r)); do
  repeated+=("$("$vkattn" bench "${shape[@]}" --json | median)")
  unrolled+=("$("$vkattn" bench "${shape[@]}" --unroll --json | median)")
done
python3 - "${repeated[*]}" "${unrolled[*]}" <<'PY'
import statistics, sys
repeated = [float(v) for v in sys.argv[1].split()]
unrolled = [float(v) for v in sys.argv[2].split()]
r, u = statistics.median(repeated), statistics.median(unrolled)
print(f"12 llama_block layers (model 512, 8/2 heads, ffn 1376, seq 128), {len(repeated)} interleaved rounds")
print(f"repeated body: {r:.2f} ms   written out (--unroll): {u:.2f} ms   repeated / written out: {r / u:.3f}")
PY
